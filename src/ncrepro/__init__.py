"""ncrepro: reproduce the figures of neural-collapse papers."""

__version__ = "0.1.0"
