"""Reading a bundle archive without trusting it: on the host before upload, on the device before unpacking.

A bundle is an uncompressed tar of regular files (folders allowed) as ``sim2real deploy bundle``
writes it. ``scan`` reads every header first and refuses, before anything is written:

* a symlink or a hard link of any kind (our writer never writes one; a link checked against the
  folder at check time can be redirected by a later member, so none is allowed);
* a device, FIFO or other special member;
* a name ``schema.check_name`` refuses (absolute, ``..``, hidden, under ``engines/``);
* the same name twice, or a file where another member needs a folder;
* more than ``MAX_MEMBERS`` members or more than ``MAX_BYTES`` unpacked bytes (a tar bomb).

``extract`` unpacks into a NEW folder member by member (``O_EXCL | O_NOFOLLOW``, 0o644/0o755
files, streamed), after ``scan``. ``member_digest`` hashes a member by streaming it. A truncated
or non-tar file is a ``BundleError`` naming it; nothing here raises a ``tarfile`` exception.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tarfile
from typing import Dict, Iterator, Tuple

from .schema import BundleError, check_name

MAX_MEMBERS = 10000  # a bundle has a few dozen
MAX_BYTES = 16 << 30  # unpacked; the largest model a Jetson runs is a few GiB
CHUNK = 1 << 20


class UnsafeArchive(BundleError):
    """An archive member that is not a plain file or folder inside the archive, or too much data."""


@contextlib.contextmanager
def open_archive(path: str) -> Iterator[tarfile.TarFile]:
    """The tar at ``path``; a truncated or foreign file (here or while reading it) is a ``BundleError``."""
    try:
        with tarfile.open(path, "r:") as tar:
            yield tar
    except (tarfile.TarError, EOFError) as exc:
        raise BundleError("{}: not a readable bundle archive (an uncompressed tar): {}".format(path, exc)) from None


def check_member(member: tarfile.TarInfo) -> None:
    """One member on its own: a plain file or folder with an acceptable name."""
    if member.issym() or member.islnk():
        kind = "symlink" if member.issym() else "hard link"
        raise UnsafeArchive("member {!r}: a {} (to {!r}); a bundle holds no links".format(
            member.name[:80], kind, member.linkname[:80]))
    if not (member.isfile() or member.isdir()):
        raise UnsafeArchive("member {!r}: a device, FIFO or other special file".format(member.name[:80]))
    try:
        check_name(member.name)
    except BundleError as exc:
        raise UnsafeArchive(str(exc)) from None


def scan(tar: tarfile.TarFile, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_BYTES) -> Dict[str, tarfile.TarInfo]:
    """Check every member (see the module docstring); the regular files by name."""
    files: Dict[str, tarfile.TarInfo] = {}
    folders = set()
    total = 0
    for count, member in enumerate(tar, 1):
        if count > max_members:
            raise UnsafeArchive("more than {} members (a bundle has a few dozen)".format(max_members))
        check_member(member)
        name = member.name
        parents = ["/".join(name.split("/")[:i]) for i in range(1, name.count("/") + 1)]
        clash = next((p for p in parents if p in files), None)
        if clash is None and (name in files or (member.isfile() and name in folders)):
            clash = name
        if clash is not None:
            raise UnsafeArchive("member {!r}: clashes with another member named {!r}".format(name, clash))
        folders.update(parents)
        if member.isdir():
            folders.add(name)
            continue
        files[name] = member
        total += member.size
        if total > max_bytes:
            raise UnsafeArchive("unpacks to more than {} bytes (at member {!r})".format(max_bytes, name))
    return files


def unpacked_size(files: Dict[str, tarfile.TarInfo]) -> int:
    return sum(m.size for m in files.values())


def member_digest(tar: tarfile.TarFile, member: tarfile.TarInfo) -> Tuple[int, str]:
    """(bytes read, sha256) of a regular member, streamed in ``CHUNK`` blocks."""
    h, size = hashlib.sha256(), 0
    src = tar.extractfile(member)
    assert src is not None  # a regular file (``scan``)
    block = src.read(CHUNK)
    while block:
        h.update(block)
        size += len(block)
        block = src.read(CHUNK)
    return size, h.hexdigest()


def extract(archive: str, dest: str, max_members: int = MAX_MEMBERS, max_bytes: int = MAX_BYTES) -> Dict[str, int]:
    """Unpack ``archive`` into the new folder ``dest`` after ``scan``; the file sizes by name. On any
    failure ``dest`` is removed."""
    os.makedirs(dest)
    try:
        with open_archive(archive) as tar:
            files = scan(tar, max_members, max_bytes)
            for member in tar.getmembers():  # the headers ``scan`` read and checked
                target = os.path.join(dest, *member.name.split("/"))
                if member.isdir():
                    os.makedirs(target, exist_ok=True)
                    continue
                os.makedirs(os.path.dirname(target), exist_ok=True)
                _write(tar, member, target)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    return {name: m.size for name, m in files.items()}


def _write(tar: tarfile.TarFile, member: tarfile.TarInfo, target: str) -> None:
    src = tar.extractfile(member)
    assert src is not None
    mode = 0o755 if member.mode & stat.S_IXUSR else 0o644
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), mode)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(src, out, CHUNK)
        out.flush()
        os.fsync(out.fileno())
