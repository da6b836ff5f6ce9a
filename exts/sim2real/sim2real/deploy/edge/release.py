"""The device side of ``sim2real deploy``: releases, the ``current`` link, rollback, status.

Layout under the deploy root (default ``~/sim2real``):

    releases/<bundle id>/    one unpacked, verified bundle per release
    current -> releases/<id> the release that serves (a relative symlink)
    incoming/<sha256>.tar.part  an upload in progress (resumed by the next push)
    state.json               deployment history: [{"release", "action", "at"}], newest last
    .lock                    flock: one deploy operation at a time

``activate`` is the only writer of ``current`` and does, in order: check the uploaded archive's
sha256; check every member header and that the disk has room (``archive.scan``: no links, no
traversal, bounded); unpack it into a temporary folder (``archive.extract``); verify every file
against the manifest and that nothing else is there; rename the folder to ``releases/<id>`` (the
id is a checked NAME, ``schema.check_release_id``); make a temporary symlink, check that it
resolves inside ``releases/``, and rename it over ``current`` (``rename(2)`` is atomic: a reader
sees the old or the new release, never none); record the history; remove old releases beyond
``keep``. Anything failing before the rename leaves the previous release serving; a refused
upload is removed (it cannot become valid) and so is its temporary folder.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import shutil
from typing import Any, Dict, Iterator, List, Optional

from . import archive as tar_archive
from .archive import UnsafeArchive
from .bundle import BundleError, read_manifest, sha256_file, verify
from .schema import RELEASE_ID, check_release_id

__all__ = ["DeployError", "UnsafeArchive", "activate", "rollback", "status", "current_release", "switch", "prune"]

RELEASES, CURRENT, INCOMING, STATE, LOCK = "releases", "current", "incoming", "state.json", ".lock"
TMP = ".tmp-"


class DeployError(RuntimeError):
    """A deploy operation that cannot proceed (checksum mismatch, nothing to roll back to, busy)."""


# ---------------------------------------------------------------- state


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _atomic_json(path: str, obj: Any) -> None:
    tmp = "{}{}{}".format(path, TMP, os.getpid())
    with open(tmp, "w") as fh:
        json.dump(obj, fh, indent=2, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(os.path.dirname(path))


def _fsync_dir(path: str) -> None:
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


def read_state(root: str) -> Dict[str, Any]:
    path = os.path.join(root, STATE)
    try:
        with open(path) as fh:
            state = json.load(fh)
    except FileNotFoundError:
        return {"history": []}
    except (OSError, ValueError) as exc:
        raise DeployError("{}: unreadable deployment history ({}); move it aside to start a new one".format(
            path, exc)) from None
    if not isinstance(state, dict) or not isinstance(state.get("history"), list):
        raise DeployError("{}: expected {{\"history\": [...]}}; move it aside to start a new one".format(path))
    return state


@contextlib.contextmanager
def locked(root: str) -> Iterator[None]:
    """One deploy operation at a time on a device (the kernel drops the lock if we die)."""
    os.makedirs(root, exist_ok=True)
    fd = os.open(os.path.join(root, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise DeployError("{}: another deploy operation is running on this device".format(root)) from None
            raise
        yield
    finally:
        os.close(fd)


def current_link(root: str) -> Optional[str]:
    """What ``current`` points at, as written (None when there is no link)."""
    try:
        return os.readlink(os.path.join(root, CURRENT))
    except OSError:
        return None


def current_release(root: str) -> Optional[str]:
    """The serving release id: only when ``current`` is ``releases/<id>`` resolving inside
    ``releases/``; None otherwise (no link, or one we did not write)."""
    target = current_link(root)
    if target is None:
        return None
    release = target[len(RELEASES) + 1:] if target.startswith(RELEASES + "/") else ""
    if not RELEASE_ID.match(release) or not _in_releases(root, os.path.join(root, CURRENT)):
        return None
    return release


def _in_releases(root: str, path: str) -> bool:
    """Does ``path`` resolve to a folder directly inside ``root/releases``?"""
    real = os.path.realpath(path)
    return os.path.dirname(real) == os.path.realpath(os.path.join(root, RELEASES)) and os.path.isdir(real)


def switch(root: str, release: str) -> None:
    """Point ``current`` at ``releases/<release>`` atomically (symlink, check that it resolves
    inside ``releases/``, then rename over)."""
    check_release_id(release)
    tmp = os.path.join(root, "{}{}{}".format(CURRENT, TMP, os.getpid()))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(RELEASES + "/" + release, tmp)
    if not _in_releases(root, tmp):
        os.unlink(tmp)
        raise DeployError("{}: {}/{} does not resolve to a release folder inside {}/; not switching".format(
            root, RELEASES, release, RELEASES))
    os.replace(tmp, os.path.join(root, CURRENT))
    _fsync_dir(root)


def _record(root: str, release: str, action: str, keep: int) -> List[str]:
    state = read_state(root)
    state["history"].append({"release": release, "action": action, "at": _now()})
    state["history"] = state["history"][-200:]
    _atomic_json(os.path.join(root, STATE), state)
    return prune(root, keep, state)


def releases_by_recency(root: str, state: Optional[Dict[str, Any]] = None) -> List[str]:
    """Release folders, most recently activated first (unrecorded ones last, by name)."""
    state = state or read_state(root)
    present = sorted(d for d in _listdir(os.path.join(root, RELEASES)) if TMP not in d and RELEASE_ID.match(d))
    order: List[str] = []
    for entry in reversed(state["history"]):
        rel = entry.get("release") if isinstance(entry, dict) else None
        if rel in present and rel not in order:
            order.append(rel)
    return order + [d for d in present if d not in order]


def _listdir(path: str) -> List[str]:
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def prune(root: str, keep: int, state: Optional[Dict[str, Any]] = None) -> List[str]:
    """Remove all but the ``keep`` most recent releases (never the current one) and stale
    temporary folders; returns the removed release ids."""
    current = current_release(root)
    removed = []
    for i, rel in enumerate(releases_by_recency(root, state)):
        if i >= max(keep, 1) and rel != current:
            shutil.rmtree(os.path.join(root, RELEASES, rel), ignore_errors=True)
            removed.append(rel)
    for name in _listdir(os.path.join(root, RELEASES)):
        if TMP in name:
            shutil.rmtree(os.path.join(root, RELEASES, name), ignore_errors=True)
    return removed


# ---------------------------------------------------------------- operations


def activate(root: str, archive: str, sha256: str, keep: int = 3) -> Dict[str, Any]:
    """Verify, unpack and switch to the uploaded bundle ``archive`` (see the module docstring)."""
    root = os.path.abspath(root)
    with locked(root):
        got = sha256_file(archive)
        if got != sha256:
            os.unlink(archive)  # a corrupt upload must not be resumed
            raise DeployError("{}: sha256 {} does not match the bundle's {}; the upload was removed, push again"
                              .format(archive, got[:12], sha256[:12]))
        releases = os.path.join(root, RELEASES)
        os.makedirs(releases, exist_ok=True)
        try:
            release, manifest, reused = _install(releases, archive, sha256)
        except BundleError:
            os.unlink(archive)  # complete and refused: it cannot become valid
            raise
        previous = current_release(root)
        switch(root, release)
        removed = _record(root, release, "push", keep)
        os.unlink(archive)
        return {"release": release, "previous": previous, "reused": reused, "removed": removed,
                "path": os.path.join(releases, release), "files": len(manifest["files"])}


def _install(releases: str, archive: str, sha256: str) -> Any:
    """Unpack and verify ``archive`` as ``releases/<id>``; (id, manifest, reused an existing copy)."""
    with tar_archive.open_archive(archive) as tar:
        need = tar_archive.unpacked_size(tar_archive.scan(tar))
    free = shutil.disk_usage(releases).free
    if need > free:
        raise DeployError("{}: the bundle unpacks to {} bytes but {} has only {} free".format(archive, need, releases,
                                                                                            free))
    tmp = os.path.join(releases, "{}{}{}".format(sha256[:12], TMP, os.getpid()))
    shutil.rmtree(tmp, ignore_errors=True)
    tar_archive.extract(archive, tmp)
    try:
        manifest = read_manifest(tmp)
        verify(tmp, manifest, shipped=True)
        release = manifest["id"]
        final = os.path.join(releases, release)
        if os.path.isdir(final):  # the same bundle again: keep the verified copy (it may hold engines)
            verify(final)
            shutil.rmtree(tmp, ignore_errors=True)
            return release, manifest, True
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _fsync_dir(releases)
    return release, manifest, False


def rollback(root: str, to: Optional[str] = None, keep: int = 3) -> Dict[str, Any]:
    """Switch ``current`` back to the release active before it (or to the release ``to``)."""
    root = os.path.abspath(root)
    if to is not None:
        check_release_id(to, "--to")
    with locked(root):
        current = current_release(root)
        if to is None:
            candidates = [r for r in releases_by_recency(root) if r != current]
            if not candidates:
                raise DeployError("{}: no earlier release to roll back to".format(root))
            to = candidates[0]
        elif to not in releases_by_recency(root):
            raise DeployError("{}: no release {!r} (have: {})".format(root, to, ", ".join(releases_by_recency(root))))
        verify(os.path.join(root, RELEASES, to))
        switch(root, to)
        _record(root, to, "rollback", max(keep, len(releases_by_recency(root))))
        return {"release": to, "previous": current}


def status(root: str) -> Dict[str, Any]:
    """The releases, the current one, the last operations, uploads in progress, the device; a
    ``current`` link that is not ``releases/<id>`` is reported, not followed."""
    from . import PROTOCOL
    from .jetson import probe

    root = os.path.abspath(root)
    state = read_state(root)
    current = current_release(root)
    releases = []
    for rel in releases_by_recency(root, state):
        when = [e.get("at") for e in state["history"] if isinstance(e, dict) and e.get("release") == rel]
        releases.append({"release": rel, "current": rel == current, "last_activated": when[-1] if when else None})
    incoming = [{"file": n, "bytes": os.path.getsize(os.path.join(root, INCOMING, n))}
                for n in sorted(_listdir(os.path.join(root, INCOMING)))]
    out = {"protocol": PROTOCOL, "root": root, "current": current, "releases": releases,
           "history": state["history"][-10:], "incoming": incoming, "device": probe()}
    link = current_link(root)
    if current is None and link is not None:
        out["current_refused"] = "{} -> {!r} is not a release under {}/".format(CURRENT, link[:200], RELEASES)
    return out
