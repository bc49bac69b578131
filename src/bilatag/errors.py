"""Exceptions raised by bilatag."""

from __future__ import annotations

__all__ = ["BilatagError", "ModelError", "CorpusError"]


class BilatagError(Exception):
    """Base class of bilatag's own errors."""


class ModelError(BilatagError):
    """A model file is missing, corrupted, does not match its manifest or this environment."""


class CorpusError(BilatagError, ValueError):
    """A corpus file does not follow the corpus format (see ``data/README.md``)."""
