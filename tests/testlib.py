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
