"""A stage of a pipeline run: what defines it (its inputs), what it made (its outputs), its record.

Each stage owns ``RUN/<stage>/`` and records itself in ``RUN/<stage>/stage.json``:

    {"stage": "train-dann", "status": "done", "inputs": {...}, "inputs_hash": "...",
     "outputs": {"id": "train-...", ...}, "digest": "...", "attempts": 1, "seconds": 12.3, ...}

``inputs`` holds everything that decides the stage's result: its settings, the content of the
files it reads (hashes), and the ``digest`` of every stage it reads from. A stage is skipped when
its record says ``done`` with the same ``inputs_hash``; it is resumed (its own resume: generation
and training continue where they stopped) when the record says ``running`` (a killed run),
``interrupted`` or ``failed`` with the same hash; and it is started afresh in an emptied folder when
its inputs changed. Because a stage's digest enters its readers' inputs, a change re-runs every
stage downstream of it and nothing else.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import resource
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .. import __version__
from ..errors import IntegrityError
from ..fsutil import atomic_write_json, content_hash
from ..progress import Reporter

log = logging.getLogger(__name__)

STAGE_FILE = "stage.json"
SECTION_FILE = "section.json"  # the stage's part of the run report (``Section.to_state``)
DONE, RUNNING, FAILED, INTERRUPTED = "done", "running", "failed", "interrupted"


@dataclass
class Context:
    """What a stage sees: the pipeline, where its files are, the progress reporter, and the outputs
    of the stages before it (by stage name; paths in them are relative to ``run_dir``)."""

    spec: Any  # PipelineSpec
    base_dir: Path  # the pipeline file's folder: relative paths in it start here
    run_dir: Path
    reporter: Reporter
    run_id: str = ""
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def path(self, relative: str) -> Path:
        """A path recorded in a stage's outputs, on this machine (absolute ones stay as they are)."""
        p = Path(relative)
        return p if p.is_absolute() else self.run_dir / p

    def rel(self, path: Path) -> str:
        """``path`` as recorded in outputs: relative to the run folder when inside it (a moved run
        folder stays valid), else absolute (the user's own files)."""
        path = Path(path).resolve()
        try:
            return path.relative_to(self.run_dir.resolve()).as_posix()
        except ValueError:
            return str(path)


class Stage(Protocol):
    name: str
    needs: tuple[str, ...]  # stages whose outputs this one reads
    title: str

    def inputs(self, ctx: Context) -> dict[str, Any]:
        """What decides this stage's result (settings, file hashes); upstream digests are added."""
        ...

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        """Make (or finish making) the result in ``folder``; returns the outputs (JSON-able, with an
        ``id`` naming the artefact). Must resume what an interrupted run of the same inputs left."""
        ...


@dataclass
class StageRecord:
    stage: str
    status: str
    inputs: dict[str, Any]
    inputs_hash: str
    outputs: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    started: str | None = None
    finished: str | None = None
    seconds: float | None = None
    cpu_seconds: float | None = None  # user + system CPU of this process and its children (wall vs CPU: load)
    error: str | None = None

    @property
    def digest(self) -> str:
        """What readers of this stage hash: its inputs and the id of what it made."""
        return content_hash({"inputs": self.inputs_hash, "id": self.outputs.get("id")})

    def to_dict(self) -> dict[str, Any]:
        return {"stage": self.stage, "status": self.status, "inputs": self.inputs, "inputs_hash": self.inputs_hash,
                "outputs": self.outputs, "digest": self.digest if self.status == DONE else None,
                "attempts": self.attempts, "started": self.started, "finished": self.finished,
                "seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "error": self.error, "sim2real_version": __version__}

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_json(folder / STAGE_FILE, self.to_dict())


def read_record(folder: Path) -> StageRecord | None:
    """The stage's record, or None when it never started (or its record is unreadable)."""
    path = folder / STAGE_FILE
    try:
        data = json.loads(path.read_text())
        return StageRecord(data["stage"], data["status"], data["inputs"], data["inputs_hash"], data.get("outputs") or {},
                           int(data.get("attempts", 0)), data.get("started"), data.get("finished"),
                           data.get("seconds"), data.get("cpu_seconds"), data.get("error"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("%s: unreadable stage record (%s); the stage runs again", path, exc)
        return None


def load_done(folder: Path, name: str) -> StageRecord:
    """The record of a finished stage (for reports and summaries), or an ``IntegrityError``."""
    record = read_record(folder)
    if record is None or record.status != DONE:
        raise IntegrityError(f"{folder}: stage {name} has not finished (run the pipeline again)")
    return record


def inputs_hash(inputs: Mapping[str, Any]) -> str:
    return content_hash(inputs)


def cpu_seconds() -> float:
    """User + system CPU seconds used so far by this process and its waited-for children."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def now() -> str:
    return _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")
