"""The device side of ``sim2real deploy``: releases, the ``current`` link, rollback, status.

Layout under the deploy root (default ``~/sim2real``):

    releases/<bundle id>/    one unpacked, verified bundle per release
    current -> releases/<id> the release that serves (a relative symlink)
    incoming/<sha256>.tar.part  an upload in progress (resumed by the next push)
    state.json               deployment history: [{"release", "action", "at"}], newest last
    .lock                    flock: one deploy operation at a time

``activate`` is the only writer of ``current`` and does, in order: check the uploaded archive's
sha256; unpack it into a temporary folder WITHOUT path traversal (``safe_extract``); verify every
file against the manifest; rename the folder to ``releases/<id>``; make a temporary symlink and
rename it over ``current`` (``rename(2)`` is atomic: a reader sees the old or the new release,
never none); record the history; remove old releases beyond ``keep``. Anything failing before the
rename leaves the previous release serving.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import fcntl
import json
import os
import shutil
import stat
import tarfile
from typing import Any, Dict, Iterator, List, Optional

from .bundle import BundleError, read_manifest, sha256_file, verify

RELEASES, CURRENT, INCOMING, STATE, LOCK = "releases", "current", "incoming", "state.json", ".lock"
TMP = ".tmp-"


class UnsafeArchive(ValueError):
    """An archive member that would land outside the destination, or is not a plain file/folder."""


class DeployError(RuntimeError):
    """A deploy operation that cannot proceed (checksum mismatch, nothing to roll back to, busy)."""


# ---------------------------------------------------------------- safe unpacking


def _inside(base: str, target: str) -> bool:
    base = os.path.realpath(base)
    target = os.path.realpath(target)
    return target == base or target.startswith(base + os.sep)


def check_member(member: tarfile.TarInfo, dest: str) -> None:
    """Refuse absolute names, ``..`` components, links leaving ``dest``, devices, FIFOs."""
    name = member.name
    if not name or name.startswith("/") or name.startswith("\\") or os.path.isabs(name) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive("member {!r}: absolute path".format(name))
    parts = name.replace("\\", "/").split("/")
    if ".." in parts:
        raise UnsafeArchive("member {!r}: '..' in the path".format(name))
    target = os.path.join(dest, name)
    if not _inside(dest, target):
        raise UnsafeArchive("member {!r}: lands outside the destination".format(name))
    if member.issym():
        link = member.linkname
        if os.path.isabs(link) or not _inside(dest, os.path.join(os.path.dirname(target), link)):
            raise UnsafeArchive("member {!r}: symlink to {!r} leaves the destination".format(name, link))
    elif member.islnk():
        link = member.linkname
        if os.path.isabs(link) or ".." in link.replace("\\", "/").split("/") or not _inside(dest, os.path.join(dest, link)):
            raise UnsafeArchive("member {!r}: hard link to {!r} leaves the destination".format(name, link))
    elif not (member.isfile() or member.isdir()):
        raise UnsafeArchive("member {!r}: a device, FIFO or other special file".format(name))


def check_archive(path: str) -> List[str]:
    """Every member of the tar at ``path`` is safe (``check_member`` against a notional root)."""
    names = []
    with tarfile.open(path, "r:*") as tar:
        for member in tar:
            check_member(member, "/nonexistent-root")
            names.append(member.name)
    return names


def safe_extract(archive: str, dest: str) -> List[str]:
    """Unpack ``archive`` into the new folder ``dest`` member by member, checking each one first
    and never writing through a symlink. Permissions: 0o644 files (0o755 if executable), 0o755 dirs."""
    os.makedirs(dest)
    names = []
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            check_member(member, dest)
            target = os.path.join(dest, member.name)
            parent = os.path.dirname(target)
            if not _inside(dest, parent):
                raise UnsafeArchive("member {!r}: its folder leaves the destination".format(member.name))
            os.makedirs(parent, exist_ok=True)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
            elif member.issym():
                os.symlink(member.linkname, target)
            elif member.islnk():
                os.link(os.path.join(dest, member.linkname), target)
            else:
                src = tar.extractfile(member)
                mode = 0o755 if member.mode & stat.S_IXUSR else 0o644
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
                with os.fdopen(fd, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                    out.flush()
                    os.fsync(out.fileno())
            names.append(member.name)
    return names


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
    try:
        with open(os.path.join(root, STATE)) as fh:
            return json.load(fh)
    except FileNotFoundError:
        return {"history": []}


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


def current_release(root: str) -> Optional[str]:
    link = os.path.join(root, CURRENT)
    try:
        target = os.readlink(link)
    except OSError:
        return None
    return os.path.basename(os.path.normpath(target))


def switch(root: str, release: str) -> None:
    """Point ``current`` at ``releases/<release>`` atomically (symlink, then rename over)."""
    tmp = os.path.join(root, "{}{}{}".format(CURRENT, TMP, os.getpid()))
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    os.symlink(os.path.join(RELEASES, release), tmp)
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
    present = sorted(d for d in _listdir(os.path.join(root, RELEASES)) if TMP not in d)
    order: List[str] = []
    for entry in reversed(state["history"]):
        rel = entry["release"]
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
        check_archive(archive)
        releases = os.path.join(root, RELEASES)
        os.makedirs(releases, exist_ok=True)
        tmp = os.path.join(releases, "{}{}{}".format(sha256[:12], TMP, os.getpid()))
        shutil.rmtree(tmp, ignore_errors=True)
        safe_extract(archive, tmp)
        try:
            manifest = read_manifest(tmp)
            verify(tmp, manifest)
        except BundleError:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        release = str(manifest["id"])
        final = os.path.join(releases, release)
        if os.path.isdir(final):  # the same bundle again: keep the verified copy (it may hold engines)
            verify(final)
            shutil.rmtree(tmp, ignore_errors=True)
            reused = True
        else:
            os.rename(tmp, final)
            _fsync_dir(releases)
            reused = False
        previous = current_release(root)
        switch(root, release)
        removed = _record(root, release, "push", keep)
        os.unlink(archive)
        return {"release": release, "previous": previous, "reused": reused, "removed": removed,
                "path": final, "files": len(manifest.get("files", {}))}


def rollback(root: str, to: Optional[str] = None, keep: int = 3) -> Dict[str, Any]:
    """Switch ``current`` back to the release active before it (or to the release ``to``)."""
    root = os.path.abspath(root)
    with locked(root):
        current = current_release(root)
        if to is None:
            candidates = [r for r in releases_by_recency(root) if r != current]
            if not candidates:
                raise DeployError("{}: no earlier release to roll back to".format(root))
            to = candidates[0]
        elif not os.path.isdir(os.path.join(root, RELEASES, to)):
            raise DeployError("{}: no release {!r} (have: {})".format(root, to, ", ".join(releases_by_recency(root))))
        verify(os.path.join(root, RELEASES, to))
        switch(root, to)
        _record(root, to, "rollback", max(keep, len(releases_by_recency(root))))
        return {"release": to, "previous": current}


def status(root: str) -> Dict[str, Any]:
    """The releases, the current one, the last operations, uploads in progress, the device."""
    from . import PROTOCOL
    from .jetson import probe

    root = os.path.abspath(root)
    state = read_state(root)
    current = current_release(root)
    releases = []
    for rel in releases_by_recency(root, state):
        when = [e["at"] for e in state["history"] if e["release"] == rel]
        releases.append({"release": rel, "current": rel == current, "last_activated": when[-1] if when else None})
    incoming = [{"file": n, "bytes": os.path.getsize(os.path.join(root, INCOMING, n))}
                for n in sorted(_listdir(os.path.join(root, INCOMING)))]
    return {"protocol": PROTOCOL, "root": root, "current": current, "releases": releases,
            "history": state["history"][-10:], "incoming": incoming, "device": probe()}
