"""Failed runs leave nothing that blocks the fixed rerun (issue 22): a profile that does not bind
to the scene fails before ``--out`` exists; a skeleton an older failed run left is replaced; an empty
profile is refused; ``runtime.jsonl`` holds one line per run, killed runs included."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from dataset_helpers import make_frame
from test_dataset_format import VERSIONS, spec
from testlib import REPO

from sim2real.dataset.writer import DatasetWriter

UNBOUND = """version = 1
name = "typo"
scene = "tabletop"

[[terms]]
name = "key_intensity"
target = "light:{light}/intensity"
dist = "uniform"
low = 0.6
high = 1.4
"""


def _generate(run_cli, profile: Path, out: Path, *extra: str):
    return run_cli("generate", "--profile", str(profile), "--frames", "2", "--out", str(out),
                   "--resolution", "32x24", "--progress", "none", *extra)


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_profile_that_does_not_bind_leaves_no_output(tmp_path: Path, run_cli, workers: str) -> None:
    profile, out = tmp_path / "typo.toml", tmp_path / "out"
    profile.write_text(UNBOUND.format(light="keyy"))
    bad = _generate(run_cli, profile, out, "--workers", workers)
    assert bad.returncode == 2 and "expected a selector matching at least one light" in bad.stderr, bad.stderr
    assert not out.exists()  # nothing to hold "a different dataset" against the fixed command
    profile.write_text(UNBOUND.format(light="key"))
    good = _generate(run_cli, profile, out, "--workers", workers)
    assert good.returncode == 0, good.stderr


def test_an_empty_skeleton_is_replaced_not_held_against_the_rerun(tmp_path: Path, caplog) -> None:
    out = tmp_path / "ds"
    DatasetWriter(out, spec(seed=0), 4, VERSIONS).open().close()  # a run that failed before its first frame
    assert (out / "manifest.json").is_file()
    with caplog.at_level(logging.WARNING), DatasetWriter(out, spec(seed=1), 4, VERSIONS) as w:
        for i in w.missing():
            w.write(i, make_frame(i, 1))
    assert "replacing the empty dataset an earlier run left (seed 0 vs 1)" in caplog.text
    with pytest.raises(Exception, match="holds a different dataset"):  # one with frames is never replaced
        DatasetWriter(out, spec(seed=2), 4, VERSIONS).open()


def test_an_empty_profile_is_refused(tmp_path: Path, run_cli) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing yet\nversion = 1\n")
    for r in (run_cli("profile", "validate", str(empty)), _generate(run_cli, empty, tmp_path / "out")):
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2 and len(lines) == 1, r.stderr
        assert "empty.toml: terms: expected at least one [[terms]] or [[groups]] entry" in lines[0]
    assert not (tmp_path / "out").exists()


KILLED = """
import os, signal, sys
sys.path.insert(0, sys.argv[2])
from dataset_helpers import make_frame
from test_dataset_format import VERSIONS, spec
from sim2real.dataset.writer import DatasetWriter
w = DatasetWriter(sys.argv[1], spec(), 6, VERSIONS).open()
w.write(0, make_frame(0))
w.drain()
os.kill(os.getpid(), signal.SIGKILL)
"""


def _runtime(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "runtime.jsonl").read_text().splitlines()]


def test_runtime_log_has_one_line_per_run_killed_ones_included(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    child = subprocess.run([sys.executable, "-c", KILLED, str(out), str(REPO / "tests")], capture_output=True,
                           text=True, timeout=120, env={**os.environ})
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert [x["status"] for x in _runtime(out)] == ["running"]
    with pytest.raises(KeyboardInterrupt), DatasetWriter(out, spec(), 6, VERSIONS) as w:
        w.write(1, make_frame(1))
        raise KeyboardInterrupt
    with DatasetWriter(out, spec(), 6, VERSIONS) as w:
        for i in w.missing():
            w.write(i, make_frame(i))
    lines = _runtime(out)
    assert [x["status"] for x in lines] == ["killed", "interrupted", "finished"]
    assert lines[0]["seconds"] is None and lines[0]["frames_done"] == 0  # as much as the killed run could say
    assert lines[1]["recovered"]["adopted"] == 1  # the killed run's committed frame, adopted
    assert [x["frames_written"] for x in lines[1:]] == [1, 4] and lines[2]["frames_done"] == 6
    assert len({x["run"] for x in lines}) == 3
