"""Exceptions raised by textclf. Each subclasses a builtin so callers can catch either."""

from __future__ import annotations

__all__ = [
    "AnnotationError",
    "ConfigError",
    "CorpusError",
    "DownloadError",
    "InputError",
    "ModelError",
    "ModelNotFoundError",
    "TextclfError",
    "UntrustedModelError",
]


class TextclfError(Exception):
    """Base class of every error textclf raises on purpose."""


class ConfigError(TextclfError, ValueError):
    """A configuration value is missing or invalid."""


class AnnotationError(TextclfError, ValueError):
    """A hand annotation does not match its page or is malformed."""


class CorpusError(TextclfError, FileNotFoundError):
    """A corpus folder is missing or does not have the expected layout."""


class DownloadError(TextclfError, OSError):
    """Downloading a public corpus failed (for example: no network)."""


class InputError(TextclfError, ValueError):
    """The input to a prediction is not a page we can classify."""


class ModelError(TextclfError, ValueError):
    """A model file is corrupted, of the wrong task, or otherwise unusable."""


class ModelNotFoundError(TextclfError, FileNotFoundError):
    """No model could be found where we looked."""


class UntrustedModelError(ModelError):
    """A model file needs types that are not on the trusted list."""
