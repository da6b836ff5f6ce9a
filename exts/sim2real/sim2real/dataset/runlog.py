"""``runtime.jsonl``: one line per generator run, killed runs included.

A run's line is written when it opens the dataset (``status: "running"``, no duration yet) and
replaced when it closes (``"finished"``, ``"interrupted"`` on Ctrl-C, ``"failed"`` on an error) with
its duration, frames written and rate. A run killed outright (SIGKILL, a power cut) cannot replace
its line: the next run, which holds the directory lock and so knows that no other writer is alive,
marks every line still ``"running"`` as ``"killed"``. The file is small and rewritten atomically.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..fsutil import atomic_write_text
from .layout import RUNTIME_LOG

STATUSES = ("running", "finished", "interrupted", "failed", "killed")


def begin(directory: Path, line: dict[str, Any]) -> None:
    """Append this run's ``running`` line; earlier ``running`` ones become ``killed`` (call under the lock)."""
    lines = [{**old, "status": "killed"} if old.get("status") == "running" else old for old in _read(directory)]
    _write(directory, [*lines, {**line, "seconds": None, "frames_per_s": None, "status": "running"}])


def end(directory: Path, line: dict[str, Any], status: str) -> None:
    """Replace this run's line (the same ``run`` id) with the final one."""
    lines = [old for old in _read(directory) if old.get("run") != line["run"]]
    _write(directory, [*lines, {**line, "status": status}])


def _read(directory: Path) -> list[dict[str, Any]]:
    try:
        text = (directory / RUNTIME_LOG).read_text()
    except FileNotFoundError:
        return []
    out = []
    for raw in text.splitlines():
        try:
            value = json.loads(raw)
        except ValueError:
            continue  # a torn line of an older sim2real (it appended): dropped, the log is informative only
        if isinstance(value, dict):
            out.append(value)
    return out


def _write(directory: Path, lines: list[dict[str, Any]]) -> None:
    atomic_write_text(directory / RUNTIME_LOG, "".join(json.dumps(x, sort_keys=True, default=str) + "\n" for x in lines))
