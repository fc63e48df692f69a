"""Locality Desk: a desktop tool for the integrated locality teams of LLR."""

__version__ = "0.1.0"
