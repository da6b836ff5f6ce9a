"""Crash-safe file writing, checksums, canonical JSON and output-directory locks.

Anything that must survive a crash is written to a temporary name in the same directory, flushed,
and renamed into place (``os.replace`` is atomic on POSIX), so a reader sees either the old file or
the complete new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from os import PathLike
from pathlib import Path
from typing import Any

from .errors import InputError, LockedError, Sim2RealError

TMP_MARKER = ".tmp-"
LOCK_NAME = ".sim2real.lock"


def tmp_name(path: Path) -> Path:
    """A temporary sibling of ``path`` unique to this process and call."""
    return path.with_name(f"{path.name}{TMP_MARKER}{os.getpid()}-{time.monotonic_ns()}")


def is_tmp_name(path: str | PathLike[str]) -> bool:
    return TMP_MARKER in Path(path).name


def atomic_write_bytes(path: str | PathLike[str], data: bytes, *, fsync: bool = True, sync_dir: bool = True) -> Path:
    """Write ``data`` to ``path`` so that the file is either absent/old or complete.

    ``sync_dir=False`` skips the directory fsync, for callers that write many files into one folder
    and fsync it once afterwards."""
    path = Path(path)
    tmp = tmp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    if fsync and sync_dir:
        fsync_dir(path.parent)
    return path


def atomic_write_text(path: str | PathLike[str], text: str, *, fsync: bool = True) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"), fsync=fsync)


def atomic_write_json(path: str | PathLike[str], obj: Any, *, indent: int | None = 2, fsync: bool = True) -> Path:
    text = json.dumps(to_jsonable(obj), indent=indent, sort_keys=True, allow_nan=False) + "\n"
    return atomic_write_text(path, text, fsync=fsync)


def read_json(path: str | PathLike[str], missing: str, corrupt: type[Sim2RealError] = InputError) -> Any:
    """The JSON document at ``path``. A missing file is the user's mistake: ``InputError(missing)``
    (say what the folder is not); an unreadable or invalid one raises ``corrupt`` naming the file."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise InputError(missing) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise corrupt(f"{path}: unreadable ({exc})") from None


def fsync_dir(path: str | PathLike[str]) -> None:
    """Make a rename durable: fsync the directory entry (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_tmp(directory: str | PathLike[str]) -> int:
    """Delete temporary files left by a crashed writer; returns how many were removed."""
    removed = 0
    for p in Path(directory).rglob(f"*{TMP_MARKER}*"):
        if p.is_file():
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
                removed += 1
    return removed


def sha256_file(path: str | PathLike[str], chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths, tuples and sets into plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, set | frozenset):
        return sorted(to_jsonable(v) for v in obj)
    if isinstance(obj, PathLike):
        return os.fspath(obj)
    if "numpy" in sys.modules:  # avoid importing numpy just to check
        import numpy as np

        if isinstance(obj, np.ndarray):
            return obj.tolist()
        if isinstance(obj, np.generic):
            return obj.item()
    return obj


def canonical_json(obj: Any) -> str:
    """Stable JSON text for hashing: sorted keys, no whitespace, no NaN."""
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(obj: Any, length: int = 16) -> str:
    """sha256 of the canonical JSON of ``obj``, truncated to ``length`` hex digits."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()[:length]


class DirLock:
    """Exclusive writer lock on a directory, refusing a second writer with a clear message.

    Uses ``flock`` on ``DIR/.sim2real.lock``: the kernel drops it when the holder dies, even on
    SIGKILL, so a crashed run never leaves a stale lock behind. The file records who holds it.
    """

    def __init__(self, directory: str | PathLike[str], purpose: str = "writing") -> None:
        self.directory = Path(directory)
        self.path = self.directory / LOCK_NAME
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> DirLock:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            raise LockedError(
                f"{self.directory}: another sim2real process is {self._holder()}; "
                "wait for it to finish or choose another output directory"
            ) from None
        info = f"pid={os.getpid()} host={socket.gethostname()} purpose={self.purpose} cmd={' '.join(sys.argv)[:200]}\n"
        os.ftruncate(fd, 0)
        os.pwrite(fd, info.encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def _holder(self) -> str:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return "writing it"
        fields = dict(part.split("=", 1) for part in text.split(" ") if "=" in part)
        purpose = fields.get("purpose", "writing")
        pid = fields.get("pid", "?")
        return f"{purpose} it (pid {pid})"

    def __enter__(self) -> DirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked_dir(directory: str | PathLike[str], purpose: str = "writing") -> Iterator[Path]:
    with DirLock(directory, purpose):
        yield Path(directory)
