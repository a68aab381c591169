"""The only module that talks to MLflow: store, runs, logged models, registry and the UI.

The embedded default store is SQLite at ``<project>/mlflow.db`` (an absolute URI) with artifacts
in ``<project>/mlartifacts``; ``MLFLOW_TRACKING_URI`` points everything at a server instead.

    python -m textclf.tracking init     # create the store (once, before parallel jobs)
    python -m textclf.tracking ui       # serve the MLflow UI on 127.0.0.1
"""

from __future__ import annotations

import argparse
import json
import os
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from textclf.config import project_root

__all__ = [
    "artifact_root",
    "best_is_better",
    "champion_metric",
    "champion_tag",
    "flatten",
    "init_store",
    "log_dict_artifact",
    "log_sklearn_model",
    "promote_if_better",
    "start_run",
    "tracking_uri",
]

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


def tracking_uri(uri: str | None = None) -> str:
    """The tracking URI: explicit, else ``$MLFLOW_TRACKING_URI``, else the project's SQLite file."""
    if uri:
        return uri
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{project_root() / 'mlflow.db'}"


def artifact_root(uri: str) -> str | None:
    """Where local stores keep artifacts: ``<folder of the db>/mlartifacts``; None for servers."""
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///") :])
        return (db.parent / "mlartifacts").resolve().as_uri()
    return None


def init_store(uri: str | None = None) -> str:
    """Create (or migrate) the tracking store once; safe to call again."""
    import mlflow

    uri = tracking_uri(uri)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    mlflow.MlflowClient(uri).search_experiments(max_results=1)
    return uri


def experiment_id(name: str, uri: str) -> str:
    import mlflow

    client = mlflow.MlflowClient(uri)
    exp = client.get_experiment_by_name(name)
    if exp is not None:
        return exp.experiment_id
    return client.create_experiment(name, artifact_location=_experiment_artifacts(uri, name))


def _experiment_artifacts(uri: str, name: str) -> str | None:
    root = artifact_root(uri)
    return f"{root}/{name}" if root else None


@contextmanager
def start_run(
    experiment: str, run_name: str, uri: str | None = None, tags: Mapping[str, str] | None = None
) -> Iterator[Any]:
    """Start an MLflow run in ``experiment`` on the project's store."""
    import mlflow

    uri = init_store(uri)
    exp_id = experiment_id(experiment, uri)
    with mlflow.start_run(experiment_id=exp_id, run_name=run_name, tags=dict(tags or {})) as run:
        yield run


def flatten(cfg: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flatten a nested mapping into ``a.b.c`` keys, as MLflow params."""
    out: dict[str, Any] = {}
    for key, value in cfg.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            text = json.dumps(value) if isinstance(value, list | tuple) else str(value)
            out[name] = text[:6000]
    return out


def log_params(params: Mapping[str, Any]) -> None:
    import mlflow

    items = list(params.items())
    for i in range(0, len(items), 90):
        mlflow.log_params(dict(items[i : i + 90]))


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, model_id: str | None = None
) -> None:
    """Log metrics to the active run (non-finite values are left out); with ``model_id`` they
    are linked to that logged model too, and show on its page in the MLflow UI."""
    import math

    import mlflow

    clean = {k: float(v) for k, v in metrics.items() if v is not None and math.isfinite(float(v))}
    mlflow.log_metrics(clean, step=step, model_id=model_id)


def evaluated_model(model_uri: str, uri: str | None = None) -> dict[str, str]:
    """Who a ``models:/`` URI names: ``model_version``, and when the registry has them
    ``model_id`` (the logged model) and ``model_run_id`` (its training run); empty for other
    URIs or when it cannot be resolved."""
    import mlflow
    from mlflow.exceptions import MlflowException

    version = model_version_of(model_uri, uri)
    if version is None:
        return {}
    found = {"model_version": str(version)}
    name = model_uri[len("models:/") :].split("@", 1)[0].split("/", 1)[0]
    try:
        mv = mlflow.MlflowClient(tracking_uri(uri)).get_model_version(name, version)
    except MlflowException:
        return found
    # The version's model_id, else the logged model its source names (models:/m-<id>).
    model_id = getattr(mv, "model_id", None) or ""
    if not model_id and str(mv.source or "").startswith("models:/m-"):
        model_id = str(mv.source)[len("models:/") :]
    if model_id:
        found["model_id"] = str(model_id)
    if mv.run_id:
        found["model_run_id"] = str(mv.run_id)
    return found


def log_dict_artifact(data: Any, name: str) -> None:
    import mlflow

    if name.endswith((".yaml", ".yml", ".json")):
        mlflow.log_dict(data, name)
    else:
        mlflow.log_text(str(data), name)


def log_text_artifact(text: str, name: str) -> None:
    import mlflow

    mlflow.log_text(text, name)


def log_figure(fig: Any, name: str) -> None:
    import mlflow

    mlflow.log_figure(fig, name)


def log_dataset_input(frame: Any, *, name: str, source: str, digest: str, context: str) -> None:
    """Record the dataset a run used (``mlflow.data``), named by its build fingerprint."""
    import mlflow
    from mlflow.data.pandas_dataset import from_pandas

    with warnings.catch_warnings():
        # A local folder "can be interpreted in multiple ways" (two equal local sources).
        warnings.filterwarnings(
            "ignore", message="The specified dataset source", category=UserWarning
        )
        # Integer columns (line position, blank flags, labels) are never missing.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        ds = from_pandas(frame, source=source, name=name, digest=digest[:36])
        mlflow.log_input(ds, context=context)


def pip_requirements() -> list[str]:
    """What serving the model needs, pinned to the versions that trained it."""
    from importlib.metadata import version

    pkgs = ["scikit-learn", "skops", "numpy", "pandas", "scipy"]
    return [f"{p}=={version(p)}" for p in pkgs] + [f"textclf=={version('textclf')}"]


def log_sklearn_model(
    model: Any,
    *,
    input_example: Any,
    registered_name: str | None,
    trusted_types: list[str],
) -> Any:
    """Log a fitted pipeline with skops, its signature and input example; register it."""
    import mlflow
    from mlflow.models import infer_signature

    # The signature describes what the logged model's pyfunc flavour returns: ``predict``
    # (0/1 per line for the boilerplate pipeline, a lines x topics 0/1 matrix for topics).
    with warnings.catch_warnings():
        # Integer input columns (line position, blank flags) are never missing.
        warnings.filterwarnings("ignore", message="Hint: Inferred schema contains integer")
        signature = infer_signature(input_example, model.predict(input_example))
        return mlflow.sklearn.log_model(
            sk_model=model,
            name="model",
            serialization_format="skops",
            skops_trusted_types=trusted_types,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements(),
            registered_model_name=registered_name,
        )


def champion_metric(
    model_name: str, metric: str, uri: str | None = None
) -> tuple[str | None, float | None]:
    """The champion's version and its value of ``metric`` (from its training run)."""
    version, run = _champion_run(model_name, uri)
    return version, None if run is None else run.data.metrics.get(metric)


def champion_tag(model_name: str, tag: str, uri: str | None = None) -> str | None:
    """The value of ``tag`` on the champion's training run, or None (no champion, no tag)."""
    _, run = _champion_run(model_name, uri)
    return None if run is None else run.data.tags.get(tag)


def _champion_run(model_name: str, uri: str | None) -> tuple[str | None, Any]:
    """The champion's version and its training run (``None`` for either that is missing)."""
    import mlflow
    from mlflow.exceptions import MlflowException

    client = mlflow.MlflowClient(tracking_uri(uri))
    try:
        mv = client.get_model_version_by_alias(model_name, "champion")
    except MlflowException:
        return None, None
    return mv.version, client.get_run(mv.run_id) if mv.run_id else None


def _set_champion(model_name: str, version: str, uri: str | None) -> None:
    import mlflow

    mlflow.MlflowClient(tracking_uri(uri)).set_registered_model_alias(
        model_name, "champion", version
    )


def best_is_better(new: float, old: float | None, higher_is_better: bool = True) -> bool:
    if old is None:
        return True
    return new > old if higher_is_better else new < old


def promote_if_better(
    model_name: str,
    version: str,
    metric: str,
    value: float,
    uri: str | None = None,
    champion_value: float | None = None,
) -> bool:
    """Move the ``champion`` alias to ``version`` only when it beats the current champion.

    ``champion_value``: the champion's ``metric`` measured now, on the same data as ``value``
    (default: the value its training run logged).
    """
    import logging

    current = champion_value
    if current is None:
        champion, current = champion_metric(model_name, metric, uri)
        if champion is not None and current is None:
            # E.g. a model fitted on all of dev and promoted by hand: nothing to compare with.
            logging.getLogger("textclf.tracking").warning(
                "the champion (version %s) has no %s to compare with, so it stays; move the "
                "alias by hand to replace it",
                champion,
                metric,
            )
            return False
    if not best_is_better(value, current):
        return False
    _set_champion(model_name, version, uri)
    return True


def register_and_promote(
    model_info: Any,
    model_name: str,
    metric: str,
    metrics: Mapping[str, float],
    uri: str | None,
    champion_value: float | None = None,
    policy: str = "compare",
) -> tuple[str | None, bool]:
    """The registered version of a logged model, and whether it became the champion.

    With ``policy="compare"`` the alias moves only when ``metrics[metric]`` was computed and
    beats the champion's (``champion_value`` when given, else the value its training run
    logged); ``"keep"`` never moves it, ``"replace"`` always does.
    """
    import logging
    import math

    log = logging.getLogger("textclf.tracking")
    version = registered_version(model_info)
    if version is None:
        return None, False
    value = metrics.get(metric)
    promoted = False
    if policy not in ("compare", "keep", "replace"):
        raise ValueError(f"policy must be compare, keep or replace, not {policy!r}")
    if policy == "replace":
        _set_champion(model_name, version, uri)
        promoted = True
    elif policy == "keep":
        pass
    elif value is None or not math.isfinite(value):
        log.warning("champion metric %s was not computed; alias not moved", metric)
    else:
        promoted = promote_if_better(model_name, version, metric, value, uri, champion_value)
    log.info(
        "registered %s version %s%s",
        model_name,
        version,
        " (new champion)" if promoted else " (champion unchanged)",
    )
    return version, promoted


def publish_summary(summary: str, reports_dir: str | Path, name: str) -> None:
    """Log a run's summary as ``summary.md``, write it to ``reports/<name>`` and print it."""
    log_text_artifact(summary, "summary.md")
    reports = Path(reports_dir)
    reports.mkdir(parents=True, exist_ok=True)
    (reports / name).write_text(summary)
    print(summary)


def registered_version(model_info: Any) -> str | None:
    version = getattr(model_info, "registered_model_version", None)
    return None if version is None else str(version)


def download_model_dir(model_uri: str, dst: str | Path, uri: str | None = None) -> Path:
    """Download a logged model's files (``models:/...`` or ``runs:/...``) into ``dst``."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(uri))
    mlflow.set_registry_uri(tracking_uri(uri))
    with no_progress_bars():  # a few small files
        return Path(mlflow.artifacts.download_artifacts(artifact_uri=model_uri, dst_path=str(dst)))


@contextmanager
def no_progress_bars() -> Iterator[None]:
    """No MLflow download progress bars on stderr inside the block, unless the caller set
    ``MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR`` themselves; the environment is restored after."""
    name = "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"
    if name in os.environ:
        yield
        return
    os.environ[name] = "false"
    try:
        yield
    finally:
        os.environ.pop(name, None)


def model_version_of(model_uri: str, uri: str | None = None) -> str | None:
    """The registry version a ``models:/name@alias`` or ``models:/name/N`` URI points at."""
    import mlflow
    from mlflow.exceptions import MlflowException

    if not model_uri.startswith("models:/"):
        return None
    ref = model_uri[len("models:/") :]
    client = mlflow.MlflowClient(tracking_uri(uri))
    try:
        if "@" in ref:
            name, alias = ref.split("@", 1)
            return str(client.get_model_version_by_alias(name, alias).version)
        name, _, version = ref.partition("/")
        return version or None
    except MlflowException:
        return None


def serve_ui(host: str = "127.0.0.1", port: int = 5000) -> None:
    """Serve the MLflow UI on the project's store."""
    import subprocess
    import sys

    uri = init_store()
    print(f"MLflow UI for {uri} at http://{host}:{port}  (Ctrl-C to stop)", flush=True)
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", host]
    cmd += ["--port", str(port), "--workers", "1"]
    root = artifact_root(uri)
    if root:
        cmd += ["--default-artifact-root", root]
    raise SystemExit(subprocess.call(cmd))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m textclf.tracking")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("init", help="create the tracking store")
    ui = sub.add_parser("ui", help="serve the MLflow UI on 127.0.0.1")
    ui.add_argument("--port", type=int, default=int(os.environ.get("MLFLOW_PORT", "5000")))
    args = parser.parse_args(argv)
    if args.command == "init":
        print(f"tracking store ready: {init_store()}")
    else:
        serve_ui(port=args.port)


if __name__ == "__main__":
    main()
