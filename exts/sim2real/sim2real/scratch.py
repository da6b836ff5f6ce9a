"""Scratch folders that a killed run does not leave behind for good.

``tempfile.TemporaryDirectory`` removes its folder on exit, but a SIGKILL, an OOM kill or a power
cut skips the exit and the folder (INT8 calibration copies of a model, a half-built bundle) stays
forever. ``scratch_dir(prefix)`` is a ``TemporaryDirectory`` that also holds an ``flock`` on a lock
file inside its folder while in use (``fsutil.DirLock``; the kernel drops it when the holder dies)
and, before making its own, removes every ``PREFIX*`` folder in the same parent that

* belongs to this user,
* no live process holds (its lock can be taken), and
* has not changed for ``GRACE_S`` (a folder made a moment ago may not be locked yet).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import glob
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from os import PathLike
from pathlib import Path

from .fsutil import LOCK_NAME, DirLock

log = logging.getLogger(__name__)
GRACE_S = 60.0


@contextlib.contextmanager
def scratch_dir(prefix: str, parent: str | PathLike[str] | None = None) -> Iterator[Path]:
    """A new empty folder ``PARENT/PREFIX<random>/work`` (default PARENT: the system temp folder);
    ``PREFIX<random>`` is locked while in use and removed on exit; abandoned ones of the same prefix
    are removed first."""
    where = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    reclaim(prefix, where)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=where))
    lock = DirLock(path, "using").acquire()
    try:
        work = path / "work"  # empty: the lock file stays out of what the caller writes (an archive)
        work.mkdir()
        yield work
    finally:
        lock.release()
        shutil.rmtree(path, ignore_errors=True)


def reclaim(prefix: str, parent: Path, grace_s: float = GRACE_S) -> int:
    """Remove the abandoned ``PREFIX*`` folders in ``parent`` (see the module docstring); how many."""
    removed = 0
    now = time.time()
    for path in parent.glob(f"{glob.escape(prefix)}*"):  # a bundle name may hold "["
        try:
            st = path.lstat()
        except FileNotFoundError:
            continue
        if not path.is_dir() or path.is_symlink() or st.st_uid != os.getuid() or now - st.st_mtime < grace_s:
            continue
        if _abandoned(path):
            shutil.rmtree(path, ignore_errors=True)
            log.info("removed %s (left by a run that was killed)", path)
            removed += 1
    return removed


def _abandoned(path: Path) -> bool:
    """No live process holds the folder's lock (or it never got one)."""
    try:
        fd = os.open(path / LOCK_NAME, os.O_RDWR)
    except FileNotFoundError:
        return True  # killed between making the folder and locking it (older than the grace time)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
            raise
        return False
    finally:
        os.close(fd)  # closing drops our lock too
