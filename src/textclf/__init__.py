"""textclf: tell a web page's content lines from its boilerplate, and tag them with topics.

>>> import textclf
>>> clf = textclf.load()  # doctest: +SKIP
>>> clf.extract(page_text)  # doctest: +SKIP

The public names load lazily: ``import textclf`` imports nothing heavy.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> module defining it, imported on first access (PEP 562).
_LAZY = {
    "InputError": "textclf.errors",
    "ModelError": "textclf.errors",
    "ModelNotFoundError": "textclf.errors",
    "TextclfError": "textclf.errors",
    "Classifier": "textclf.predict",
    "LinePrediction": "textclf.predict",
    "PagePrediction": "textclf.predict",
    "load": "textclf.predict",
}

__all__ = [
    "Classifier",
    "InputError",
    "LinePrediction",
    "ModelError",
    "ModelNotFoundError",
    "PagePrediction",
    "TextclfError",
    "__version__",
    "load",
]

if TYPE_CHECKING:
    from textclf.errors import InputError, ModelError, ModelNotFoundError, TextclfError
    from textclf.predict import Classifier, LinePrediction, PagePrediction, load


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'textclf' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
