"""The package's version (what every output's provenance names)."""

__version__ = "0.1.0"
