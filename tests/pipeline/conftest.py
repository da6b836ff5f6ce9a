"""One quick demo run shared by the pipeline tests (it is the expensive part: about half a minute)."""

from __future__ import annotations

import pytest
from pipeline_helpers import Demo, sim2real


@pytest.fixture(scope="session")
def quick_demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    """``sim2real demo --quick`` as a user runs it (a fresh process), kept for every test to read."""
    out = tmp_path_factory.mktemp("quick-demo") / "run"
    r = sim2real("demo", "--quick", "--out", str(out), "--progress", "none")
    assert r.returncode == 0, r.stdout + r.stderr
    return Demo(out, r.stdout)
