"""What test modules import: the repository's paths and the real CLI in a subprocess.

Test modules import these from here, never from ``conftest``: with several ``conftest.py`` files
(tests/, tests/deploy/, ...) the module named ``conftest`` is whichever pytest loaded last.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "exts" / "sim2real" / "sim2real"


def cli(*args: str, env: dict[str, str] | None = None, timeout: float = 600, cwd: Path | None = None,
        input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``sim2real ARGS`` as a user would, in a fresh interpreter."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sim2real.cli", *args],
        capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd, input=input,
    )


def flip_stored_byte(path: Path) -> int:
    """Flip one byte inside the largest tensor storage of a ``torch.save`` file (a member under
    ``data/``, not the pickle) so that it still loads, as bit rot would leave it; the file offset.
    ``torch.load`` reads stored members without checking their CRC."""
    import zipfile

    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if "/data/" in i.filename and i.compress_type == zipfile.ZIP_STORED]
        info = max(infos, key=lambda i: i.file_size)
    with open(path, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(fh.read(2), "little"), int.from_bytes(fh.read(2), "little")
        offset = info.header_offset + 30 + name_len + extra_len + info.file_size // 2
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x10]))
    return offset


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (children first), from /proc: launchers such as torchrun and
    ``ray start`` put their children in sessions of their own, out of reach of a process-group kill."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ``proc`` and everything it started (collected first: orphans would be reparented)."""
    import signal

    for pid in [*descendants(proc.pid), proc.pid]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=60)
