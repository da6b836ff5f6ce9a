"""Crash-safe writes and output-directory locks, checked with real processes killed by SIGKILL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from sim2real.errors import LockedError
from sim2real.fsutil import DirLock, atomic_write_json, content_hash, is_tmp_name, remove_stale_tmp


def test_atomic_write_survives_sigkill_at_random_points(tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    writer = textwrap.dedent(
        f"""
        import sys
        from sim2real.fsutil import atomic_write_json
        i = 0
        while True:
            i += 1
            atomic_write_json({str(target)!r}, {{"i": i, "payload": [i] * 200000}})
            print(i, flush=True)
        """
    )
    rng = random.Random(7)
    seen = set()
    for _ in range(5):
        proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True)
        wanted = rng.randint(1, 6)  # let a random number of writes complete, whatever the machine speed
        while int(proc.stdout.readline()) < wanted:
            pass
        time.sleep(rng.random() * 0.05)  # then kill somewhere inside a following write
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        data = json.loads(target.read_text())  # never torn: always one complete document
        assert data["i"] >= wanted
        assert data["payload"] == [data["i"]] * 200000
        seen.add(data["i"])
    assert remove_stale_tmp(tmp_path) >= 0
    assert not [p for p in tmp_path.iterdir() if is_tmp_name(p)]
    assert len(seen) >= 2  # the writer really was interrupted at different points


def test_atomic_write_error_keeps_old_file(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(ValueError):
        atomic_write_json(target, {"v": float("nan")})
    assert json.loads(target.read_text()) == {"v": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_second_writer_is_refused_and_lock_dies_with_holder(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"from sim2real.fsutil import DirLock; import time, sys; l = DirLock({str(tmp_path)!r}, 'generating').acquire();"
         " print('locked', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockedError) as info:
        DirLock(tmp_path).acquire()
    assert f"pid {holder.pid}" in str(info.value) and "generating" in str(info.value)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    with DirLock(tmp_path):  # the kernel released the flock of the killed holder
        pass


def test_content_hash_is_key_order_independent() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_read_json_names_what_is_missing_and_what_is_corrupt(tmp_path: Path) -> None:
    from sim2real.errors import InputError, IntegrityError
    from sim2real.fsutil import read_json

    path = tmp_path / "run.json"
    with pytest.raises(InputError, match="^not a run$"):
        read_json(path, "not a run")
    path.write_text("{broken")
    with pytest.raises(IntegrityError, match=r"run\.json: unreadable"):
        read_json(path, "not a run", corrupt=IntegrityError)
    path.write_text('{"id": 1}')
    assert read_json(path, "not a run") == {"id": 1}
