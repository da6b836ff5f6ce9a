"""Hostile bundle archives: a real bundle re-packed as a hostile author (who re-lists every file with
its right checksum, so that only the checks under test can refuse it) or a broken copy would make.

Written without sim2real's own helpers (tar layout, checksums, the manifest's self digest), so that
the boundary tests also run against older code and show what it let through.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

SELF_KEY = "manifest_sha256"
Extra = tuple[tarfile.TarInfo, bytes | None, bool]  # member, data (regular files), listed in the manifest


def read_members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar if m.isfile()}  # type: ignore[union-attr]


def entry(data: bytes) -> dict[str, Any]:
    return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def seal(manifest: dict[str, Any]) -> dict[str, Any]:
    """Recompute the manifest's own checksum when it carries one (as its author would)."""
    if SELF_KEY in manifest:
        body = {k: v for k, v in manifest.items() if k != SELF_KEY}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
        manifest[SELF_KEY] = hashlib.sha256(text.encode()).hexdigest()
    return manifest


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, link, size, 0o644
    return info


def regular(name: str, data: bytes, listed: bool = True) -> Extra:
    return member(name, size=len(data)), data, listed


def repack(bundle: Path, out: Path, edit: Callable[[dict[str, Any]], Any] | None = None,
           extra: Iterable[Extra] = (), first: bool = False, seal_it: bool = True) -> Path:
    """``bundle`` with ``extra`` members (before the others when ``first``), the manifest listing
    every listed regular file with its checksum, then ``edit``ed and (``seal_it``) sealed."""
    files = read_members(bundle)
    manifest = json.loads(files.pop("manifest.json"))
    extra = list(extra)
    for info, data, listed in extra:
        if listed and data is not None:
            manifest["files"][info.name] = entry(data)
    if edit is not None:
        edit(manifest)
    if seal_it:
        seal(manifest)
    body = json.dumps(manifest).encode()
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        own = [(member(name, size=len(data)), data) for name, data in sorted(files.items())]
        added = [(info, data) for info, data, _ in extra]
        for info, data in [*(added if first else []), *own, *([] if first else added)]:
            tar.addfile(info, None if data is None else io.BytesIO(data))
        tar.addfile(member("manifest.json", size=len(body)), io.BytesIO(body))
    return out
