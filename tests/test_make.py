"""The Makefile documents itself and refuses nothing it advertises."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_help_lists_the_targets():
    out = subprocess.run(
        ["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)
    for target in ("install", "data", "train", "eval", "test", "lint", "ui", "bench"):
        assert f" {target} " in out
