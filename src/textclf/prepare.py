"""``make data``: build the line-level datasets from the seed pages and the public corpora.

python -m textclf.prepare                      # everything, as configured in conf/prepare.yaml
python -m textclf.prepare data.limit=50        # a quick debug build
python -m textclf.prepare data.force=true      # rebuild even if nothing changed
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path

import hydra
from omegaconf import DictConfig

from textclf.config import PrepareConfig, exit_on_error, to_config
from textclf.dataset import BuildResult, build_dataset
from textclf.topics import TopicRules

__all__ = ["main", "prepare"]

log = logging.getLogger(__name__)


def prepare(cfg: PrepareConfig, *, progress: bool = True) -> BuildResult:
    """Build (or reuse) the dataset described by ``cfg``."""
    download = None
    if cfg.data.download.enabled:
        from textclf.download import ensure_corpora

        def download(corpora_dir: Path) -> None:
            ensure_corpora(
                corpora_dir,
                base_url=cfg.data.download.base_url,
                timeout=cfg.data.download.timeout,
                progress=progress,
            )

    return build_dataset(
        out_dir=Path(cfg.paths.dataset_dir),
        seeds_dir=Path(cfg.paths.seeds_dir),
        train_pages_dir=Path(cfg.paths.train_pages_dir),
        corpora_dir=Path(cfg.paths.corpora_dir),
        sources=cfg.data.sources,
        rules=TopicRules.from_config(cfg.topics),
        topics_settings=asdict(cfg.topics),
        render=cfg.data.render,
        align=cfg.data.align,
        validation_fraction=cfg.data.split.validation_fraction,
        split_seed=cfg.data.split.seed,
        limit=cfg.data.limit,
        n_jobs=cfg.data.n_jobs,
        force=cfg.data.force,
        download=download,
        progress=progress,
    )


@hydra.main(version_base="1.3", config_path="../../conf", config_name="prepare")
@exit_on_error
def main(dcfg: DictConfig) -> None:
    cfg = to_config(dcfg, PrepareConfig)
    result = prepare(cfg)
    if not result.rebuilt:
        log.info("dataset %s is up to date (fingerprint %s)", result.path, result.fingerprint)
    else:
        log.info(
            "built %s in %.1f s (fingerprint %s)", result.path, result.seconds, result.fingerprint
        )
    for split, info in result.card["splits"].items():
        oracle = info.get("oracle", {})
        log.info(
            "%-12s pages %5d lines %7d content %.3f oracle page_f1 %s shingle_f1 %s",
            split,
            info["pages"],
            info["lines"],
            info["content_share"] or 0.0,
            _fmt(oracle.get("page_f1")),
            _fmt(oracle.get("shingle_f1")),
        )
    dev = result.card.get("oracle_wcxb_dev", {})
    log.info("oracle over all of WCXB dev: page_f1 %s", _fmt(dev.get("page_f1")))
    log.info("dataset card: %s", Path(result.path) / "card.md")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


if __name__ == "__main__":
    main()
