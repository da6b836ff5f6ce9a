"""One quick demo run shared by the pipeline tests (it is the expensive part: about half a minute)."""

from __future__ import annotations

import pytest
from pipeline_helpers import WIDE, Demo, imported_modules
from testlib import cli


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``sim2real demo --quick`` as a user runs it (a fresh process), kept for every test to read; every
    process of it lists the modules it imports (``PYTHONPROFILEIMPORTTIME``, on stderr)."""
    out = tmp_path_factory.mktemp("quick-demo") / "run"
    r = cli("demo", "--quick", "--out", str(out), "--progress", "none", env={**WIDE, "PYTHONPROFILEIMPORTTIME": "1"})
    assert r.returncode == 0, r.stdout + r.stderr[-5000:]
    return Demo(out, r.stdout, imported_modules(r.stderr))
