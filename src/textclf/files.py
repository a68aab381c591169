"""File-system helpers shared by the writers of datasets, annotations and the gold set."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

__all__ = ["current_umask", "make_public", "write_atomically"]

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux reports it
    in /proc/self/status); elsewhere it is set and restored under a lock."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o077)
        os.umask(mask)
    return mask


def make_public(path: Path | str, *, directory: bool = False) -> None:
    """Give a file (or folder) made by ``mkstemp`` (``mkdtemp``), which are private, the mode a
    plain ``open`` (``mkdir``) would have given it under the current umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~current_umask())


def write_atomically(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing: a temporary file beside it, synced to disk,
    given the permissions a plain ``open`` would give, then renamed over ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        make_public(tmp)  # mkstemp makes it private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
