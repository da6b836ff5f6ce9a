"""Push, roll back, inspect and benchmark bundles on a device over SSH.

The device needs ``sshd``, a POSIX shell, ``python3`` >= 3.8 with numpy and onnxruntime (or
TensorRT). Nothing is installed system-wide: everything lives under the deploy root (default
``sim2real``, relative to the login's home):

    <root>/.tools/<hash>/s2r_edge/   the device helper (the edge package), uploaded once per version
    <root>/incoming/<sha256>.tar.part  the upload (appended to: a new push resumes it)
    <root>/releases/<id>/, current, state.json   see ``edge.release``

``push``: check the archive on the host (``bundle.inspect_archive``), upload it over SFTP to
``incoming/`` continuing any partial upload of the same archive (named by its sha256), then run
``s2r_edge activate`` on the device, which checks the sha256, unpacks safely, verifies every
file, and switches ``current`` with an atomic rename. A push cut at any point before that rename
leaves the previous release serving, and the next push resumes the upload where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import posixpath
import secrets
import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import RemoteError, UserError
from ..fsutil import sha256_file
from ..progress import NullReporter, Reporter
from .bundle import EDGE_DIR, inspect_archive
from .edge import PROTOCOL
from .edge.schema import BundleError, check_release_id
from .ssh import Auth, Target, connect, import_asyncssh

log = logging.getLogger(__name__)
DEFAULT_ROOT = "sim2real"
CHUNK = 256 * 1024
TOOL_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Remote:
    """Where and how: the target, the credentials policy, the deploy root, the device's python."""

    target: Target
    auth: Auth
    root: str = DEFAULT_ROOT
    python: str = "python3"


def tools_hash() -> str:
    """Version of the device helper: a hash of the edge package's sources."""
    h = hashlib.sha256()
    for path in sorted(EDGE_DIR.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


class Device:
    """An open SSH connection with SFTP, the absolute deploy root and the helper's folder."""

    def __init__(self, remote: Remote, conn: Any, sftp: Any, root: str) -> None:
        self.remote, self.conn, self.sftp, self.root = remote, conn, sftp, root
        self.tools: str | None = None

    async def exists(self, path: str) -> bool:
        return bool(await self.sftp.exists(path))

    async def makedirs(self, path: str) -> None:
        await self.sftp.makedirs(path, exist_ok=True)

    async def shell(self, command: str, timeout: float = TOOL_TIMEOUT_S) -> Any:
        asyncssh = import_asyncssh()
        try:
            return await self.conn.run(command, check=False, timeout=timeout)
        except asyncssh.TimeoutError:
            raise RemoteError(f"{self.remote.target}: no answer within {timeout:.0f} s from: {command[:120]}") from None

    async def python_module(self, pythonpath: str, args: list[str], timeout: float = TOOL_TIMEOUT_S) -> dict[str, Any]:
        """Run ``python -m s2r_edge ARGS`` with ``pythonpath`` on the device; its JSON answer."""
        proc = await self.shell(self.command(pythonpath, args), timeout)
        if proc.exit_status != 0:
            lines = [ln for ln in str(proc.stderr or "").strip().splitlines() if ln.strip()]
            last = lines[-1] if lines else f"exit status {proc.exit_status}"
            if proc.exit_status == 127 or "No module named" in last:
                last += f" (the device needs {self.remote.python} >= 3.8 with numpy and onnxruntime; see --python)"
            raise RemoteError(f"{self.remote.target}: {args[0]} failed on the device: {last}")
        try:
            return json.loads(str(proc.stdout).strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RemoteError(f"{self.remote.target}: {args[0]} gave no JSON answer: {str(proc.stdout)[:200]!r}") from None

    def command(self, pythonpath: str, args: list[str]) -> str:
        """The shell command running ``python -m s2r_edge ARGS`` with ``pythonpath``."""
        return (f"PYTHONPATH={shlex.quote(pythonpath)} PYTHONDONTWRITEBYTECODE=1 "
                f"{shlex.quote(self.remote.python)} -m s2r_edge " + " ".join(shlex.quote(a) for a in args))

    async def tool(self, *args: str, timeout: float = TOOL_TIMEOUT_S) -> dict[str, Any]:
        """The device helper (uploaded by ``ensure_tools``)."""
        assert self.tools is not None
        return await self.python_module(self.tools, list(args), timeout)

    async def ensure_tools(self) -> str:
        """Upload the edge package to ``<root>/.tools/<hash>/`` unless that version is there."""
        final = posixpath.join(self.root, ".tools", tools_hash())
        if not await self.exists(final):
            tmp = f"{final}.tmp-{secrets.token_hex(4)}"
            await self.makedirs(posixpath.join(tmp, "s2r_edge"))
            for path in sorted(EDGE_DIR.glob("*.py")):
                await self.sftp.put(str(path), posixpath.join(tmp, "s2r_edge", path.name))
            try:
                await self.sftp.rename(tmp, final)
            except Exception:  # another push installed the same version meanwhile
                if not await self.exists(final):
                    raise
                await self.sftp.rmtree(tmp)
        self.tools = final
        return final


@contextlib.asynccontextmanager
async def open_device(remote: Remote) -> AsyncIterator[Device]:
    conn = await connect(remote.target, remote.auth)
    try:
        async with conn.start_sftp_client() as sftp:
            root = remote.root if remote.root.startswith("/") else posixpath.join(await sftp.realpath("."), remote.root)
            device = Device(remote, conn, sftp, root)
            await device.makedirs(root)
            await device.ensure_tools()
            yield device
    finally:
        conn.close()
        with contextlib.suppress(Exception):
            await conn.wait_closed()


async def upload(device: Device, archive: Path, sha256: str, reporter: Reporter, chunk: int = CHUNK) -> tuple[str, int]:
    """Append ``archive`` to ``incoming/<sha256>.tar.part`` from where a previous upload stopped;
    returns (remote path, bytes that were already there)."""
    asyncssh = import_asyncssh()

    incoming = posixpath.join(device.root, "incoming")
    await device.makedirs(incoming)
    part = posixpath.join(incoming, f"{sha256}.tar.part")
    total = archive.stat().st_size
    have = (await device.sftp.stat(part)).size if await device.exists(part) else 0
    if have > total:  # not a prefix of this archive: start again
        await device.sftp.remove(part)
        have = 0
    if have:
        log.info("resuming the upload of %s at %d of %d bytes", archive.name, have, total)
    done = have
    try:
        with reporter.task("upload", total=total, unit="B", done=have) as task, open(archive, "rb") as src:
            src.seek(have)
            async with device.sftp.open(part, "ab") as dst:
                while block := src.read(chunk):
                    await dst.write(block)
                    done += len(block)
                    task.update(done=done)
    except (asyncssh.Error, OSError) as exc:
        raise RemoteError(f"{device.remote.target}: connection lost after {done} of {total} bytes ({type(exc).__name__}); "
                          "the previous release is still serving; run the same push again to resume") from None
    return part, have


async def push_async(remote: Remote, archive: Path, keep: int = 3, reporter: Reporter | None = None,
                     chunk: int = CHUNK) -> dict[str, Any]:
    reporter = reporter or NullReporter()
    manifest = inspect_archive(archive)
    sha = sha256_file(archive)
    async with open_device(remote) as device:
        part, resumed = await upload(device, archive, sha, reporter, chunk)
        result = await device.tool("activate", "--root", device.root, "--archive", part, "--sha256", sha,
                                   "--keep", str(keep))
    return {"target": str(remote.target), "root": device.root, "bundle": manifest["id"], "archive_sha256": sha,
            "bytes": archive.stat().st_size, "resumed_from": resumed, **result}


async def rollback_async(remote: Remote, to: str | None = None) -> dict[str, Any]:
    if to is not None:
        try:
            check_release_id(to, "--to")
        except BundleError as exc:
            raise UserError(str(exc)) from None
    async with open_device(remote) as device:
        args = ["rollback", "--root", device.root] + (["--to", to] if to else [])
        return {"target": str(remote.target), **await device.tool(*args)}


async def status_async(remote: Remote) -> dict[str, Any]:
    async with open_device(remote) as device:
        result = await device.tool("status", "--root", device.root)
    if result.get("protocol") != PROTOCOL:
        log.warning("device helper protocol %s differs from ours (%s)", result.get("protocol"), PROTOCOL)
    return {"target": str(remote.target), **result}


async def bench_async(remote: Remote, precisions: list[str] | None = None, backend: str = "auto", warmup: int = 10,
                      iterations: int = 100, batch: int = 1) -> dict[str, Any]:
    """Run the CURRENT release's own runner on the device (its ``runner/`` on PYTHONPATH)."""
    async with open_device(remote) as device:
        current = posixpath.join(device.root, "current")
        if not await device.exists(current):
            raise RemoteError(f"{remote.target}: nothing deployed under {device.root}; run sim2real deploy push first")
        args = ["bench", "--bundle", current, "--backend", backend, "--warmup", str(warmup),
                "--iterations", str(iterations), "--batch", str(batch)]
        for p in precisions or []:
            args += ["--precision", p]
        result = await device.python_module(posixpath.join(current, "runner"), args)
    return {"target": str(remote.target), **result}


class _QuietLostConnection(logging.Filter):
    """Drops asyncio's "socket.send() raised exception." lines: asyncssh keeps writing for a
    moment after a cut connection, and the push already says in one line that it was lost."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "socket.send() raised exception."


_QUIET = _QuietLostConnection()


def run(coro: Any) -> Any:
    """Run one of the ``*_async`` operations from synchronous code."""
    asyncio_log = logging.getLogger("asyncio")
    asyncio_log.addFilter(_QUIET)
    try:
        return asyncio.run(coro)
    finally:
        asyncio_log.removeFilter(_QUIET)
