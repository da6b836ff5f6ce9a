"""Is the output folder the same folder on every node? Checked with a probe file, never assumed.

Ray actors write their frames straight into ``--out``, so the folder must be on a filesystem every
node mounts at the same path. The driver writes a probe file holding a random token into the
folder; each worker, on its own node, reads it back and writes (then removes) a file of its own
there. A worker that cannot, answers with what went wrong, and the driver refuses the job in one
line before any frame is rendered, instead of leaving frames on a disk the manifest never sees.
"""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from ..errors import UserError

PROBE_PREFIX = ".sim2real-probe-"


def write_probe(out: Path) -> tuple[Path, str]:
    """The probe file in ``out`` and the token it holds."""
    token = secrets.token_hex(16)
    path = Path(out) / f"{PROBE_PREFIX}{token[:12]}"
    path.write_text(token)
    return path, token


def check_probe(path: str, token: str) -> str | None:
    """Run on a worker: None when this node sees the driver's ``path`` holding ``token`` and can
    write beside it, else what it saw instead."""
    try:
        seen = Path(path).read_text()
    except OSError as exc:
        return f"cannot read the probe file {Path(path).name} ({exc.strerror or type(exc).__name__})"
    if seen != token:
        return f"the probe file {Path(path).name} holds another token (another folder at the same path)"
    mine = Path(f"{path}.{socket.gethostname()}.{os.getpid()}")
    try:
        mine.write_text(token)
        mine.unlink()
    except OSError as exc:
        return f"cannot write into the folder ({exc.strerror or type(exc).__name__})"
    return None


def refuse_unshared(out: Path, node: str, problem: str) -> UserError:
    return UserError(f"--out {out}: not shared with the Ray node {node}: {problem}; every node must mount the "
                     "output folder at the same path (NFS, Lustre, ...); no frame was rendered")
