"""ncrepro: reproduce the figures of neural-collapse papers."""

from .version import __version__

__all__ = ["__version__"]
