"""Flowlearn HTTP API gateway."""

__version__ = "0.1.0"
