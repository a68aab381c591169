"""Save and load fitted models as skops files, trusting only an explicit list of types.

Loading a model never executes arbitrary code: skops refuses every type that is neither one of
its defaults nor listed here, and we name the offending types in the error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textclf.errors import ModelError, UntrustedModelError

__all__ = ["TRUSTED_TYPES", "dump_model", "load_model_file"]

# Types of our pipelines that skops does not trust by default. Nothing else is ever trusted.
TRUSTED_TYPES: tuple[str, ...] = (
    "textclf.features.LineFeaturizer",
    "textclf.models.StackedLineClassifier",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
)


def trusted_types() -> list[str]:
    """Our trusted types plus those of the topic model, when that module is installed."""
    types = list(TRUSTED_TYPES)
    try:
        from textclf.topic_model import TRUSTED_TYPES as topic_types
    except ImportError:
        return types
    return types + [t for t in topic_types if t not in types]


def dump_model(model: Any, path: Path) -> Path:
    """Write ``model`` to ``path`` as a skops file, atomically, with the permissions a plain
    ``open`` would give it."""
    import skops.io as sio

    from textclf.files import write_atomically

    return write_atomically(path, sio.dumps(model))


def load_model_file(path: Path) -> Any:
    """Load a skops model file, refusing any type outside :data:`TRUSTED_TYPES`."""
    import skops.io as sio

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    try:
        untrusted = sio.get_untrusted_types(file=path)
    except Exception as exc:  # skops raises a variety of errors on a corrupted file
        raise ModelError(f"{path} is not a readable skops model file: {exc}") from exc
    allowed = set(trusted_types())
    refused = sorted(t for t in untrusted if t not in allowed)
    if refused:
        raise UntrustedModelError(
            f"{path} needs types that are not trusted: {', '.join(refused)}. "
            "Refusing to load it: only models trained by textclf are accepted."
        )
    try:
        return sio.load(path, trusted=sorted(allowed & set(untrusted)))
    except Exception as exc:
        raise ModelError(f"could not load model {path}: {exc}") from exc
