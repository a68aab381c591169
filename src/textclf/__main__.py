"""``python -m textclf``: the same as the ``textclf`` command."""

from __future__ import annotations

import sys

from textclf.cli import main

if __name__ == "__main__":
    sys.exit(main())
