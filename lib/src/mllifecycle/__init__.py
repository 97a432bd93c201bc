"""The library behind this repository's pipeline, service and tools (see README.md)."""

__version__ = "0.1.0"
