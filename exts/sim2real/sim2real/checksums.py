"""sha256 sidecars for the files we resume from, load and ship: training checkpoints and ``best.pt``,
translator / meta / policy checkpoints and models, sysid fit checkpoints.

``torch.load`` (and ``json.loads`` of a file that still parses) checks nothing: a flipped byte
would be trained on, exported and deployed. So every such file ``NAME`` gets ``NAME.sha256``:

    <sha256 hex>  NAME                 the file as written (``sha256sum -c NAME.sha256`` checks it)
    # previous <sha256 hex>            only while NAME is being replaced (see below)

``write_bytes`` writes the sidecar BEFORE renaming the new file into place: a kill in between
leaves the previous file with a sidecar that names it as ``previous``, so ``verify`` accepts the
previous (complete) version, never a file that matches nothing. ``seal`` records a file another
library wrote (stable-baselines3's zip, ``VecNormalize``'s pickle) after the fact.

``verify(path)`` -> ``True`` (matches), ``False`` (no sidecar: written before sim2real recorded
sums; accepted with a warning), or ``IntegrityError`` naming the file. ``remove`` deletes both.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from os import PathLike
from pathlib import Path

from .errors import IntegrityError
from .fsutil import atomic_write_bytes, atomic_write_text, sha256_file

log = logging.getLogger(__name__)
SUFFIX = ".sha256"
_PREVIOUS = "# previous "


def sidecar(path: str | PathLike[str]) -> Path:
    path = Path(path)
    return path.with_name(path.name + SUFFIX)


def _recorded(path: Path) -> list[str] | None:
    """The sums the sidecar accepts (current first), or None without a sidecar."""
    try:
        lines = sidecar(path).read_text().splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise IntegrityError(f"{sidecar(path)}: unreadable checksum file ({exc})") from None
    sums = [ln.split()[0] for ln in lines[:1] if ln.strip()]
    sums += [ln[len(_PREVIOUS):].strip() for ln in lines[1:] if ln.startswith(_PREVIOUS)]
    return sums


def _sidecar_text(path: Path, digest: str, previous: str | None = None) -> str:
    return f"{digest}  {path.name}\n" + (f"{_PREVIOUS}{previous}\n" if previous and previous != digest else "")


def write_bytes(path: str | PathLike[str], data: bytes, *, fsync: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically with its sidecar (see the module docstring);
    ``fsync=False`` for files rewritten very often (a kill still leaves a checked pair)."""
    path = Path(path)
    digest = hashlib.sha256(data).hexdigest()
    previous: str | None = None
    if path.exists():
        with contextlib.suppress(IntegrityError):
            previous = next(iter(_recorded(path) or []), None)
    atomic_write_text(sidecar(path), _sidecar_text(path, digest, previous), fsync=fsync)
    atomic_write_bytes(path, data, fsync=fsync)
    if previous is not None and previous != digest:  # replaced: the old version is no longer accepted
        atomic_write_text(sidecar(path), _sidecar_text(path, digest), fsync=fsync)
    return path


def seal(path: str | PathLike[str]) -> str:
    """Record the sha256 of a file written by someone else; returns it."""
    path = Path(path)
    digest = sha256_file(path)
    atomic_write_text(sidecar(path), _sidecar_text(path, digest))
    return digest


def verify(path: str | PathLike[str]) -> bool:
    """Does ``path`` match its sidecar? (see the module docstring)"""
    path = Path(path)
    sums = _recorded(path)
    if sums is None:
        log.warning("%s: no recorded sha256 (%s); loading it unchecked", path, sidecar(path).name)
        return False
    digest = sha256_file(path)
    if digest not in sums:
        raise IntegrityError(f"{path}: sha256 {digest[:12]} does not match the one recorded in {sidecar(path).name} "
                             f"({sums[0][:12] if sums else 'none'}); the file is corrupt or was changed")
    if digest != sums[0]:
        log.info("%s: the previous version (its replacement was interrupted)", path)
    return True


def remove(path: str | PathLike[str]) -> None:
    """Delete ``path`` and its sidecar (either may be absent)."""
    for p in (Path(path), sidecar(path)):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(p)
