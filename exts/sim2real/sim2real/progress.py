"""Progress, metrics and results for long work, for people (rich) and for UIs (JSON lines).

Every long command takes ``--progress rich|json|none``. Library code receives a ``Reporter`` and
never prints. The JSON-lines protocol (one object per line on stdout) is what ``sim2real.app``'s
job runner and the web panel read:

    {"event": "progress", "task": "generate", "done": 10, "total": 100, "unit": "frame",
     "rate": 12.5, "eta_s": 7.2, "t": 1732180000.0, ...extra fields}
    {"event": "metric", "series": "train", "step": 3, "values": {"loss": 0.41}, "t": ...}
    {"event": "artifact", "kind": "sample_image", "path": "/abs/path.png", "t": ...}
    {"event": "message", "level": "info", "text": "...", "t": ...}
    {"event": "result", "payload": {...}, "t": ...}
    {"event": "error", "kind": "user" | "failure" | "interrupted" | "bug", "message": "...", "t": ...}

``protocol_version`` is sent once in a ``hello`` event.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from os import PathLike
from typing import IO, Any, Literal

from .fsutil import to_jsonable

PROTOCOL_VERSION = 1
Mode = Literal["rich", "json", "none"]
MODES: tuple[str, ...] = ("rich", "json", "none")


# the width tables are laid out at when output goes to a pipe or a file: wide enough for any summary
# row, so a table keeps its natural width instead of rich's 80-column guess for a non-terminal
_UNWRAPPED_WIDTH = 4096


def text_console(stderr: bool = False) -> Any:
    """The rich console a command prints its summaries (stdout) or progress (stderr) on. On a terminal,
    rich's own width and word wrapping. On a pipe or a file (a CI log, ``| grep``, a UI reading lines)
    rich would wrap every line at 80 columns, splitting paths and phrases a reader copies or greps:
    there lines are whole and tables take their natural width, unless ``COLUMNS`` asks for a width."""
    from rich.console import Console

    out = Console(stderr=stderr)
    if out.is_terminal or os.environ.get("COLUMNS", "").strip().isdigit():
        return out
    return Console(stderr=stderr, soft_wrap=True, width=_UNWRAPPED_WIDTH)


class Task:
    """One unit of long work with a known or unknown total."""

    def __init__(self, reporter: Reporter, name: str, total: int | None, unit: str, done: int) -> None:
        self.reporter = reporter
        self.name = name
        self.total = total
        self.unit = unit
        self.done = done
        self.start_done = done  # work found already finished (resume) does not count toward the rate
        self.started = time.monotonic()
        self.info: dict[str, Any] = {}
        self.closed = False
        self.failed = False  # closed by an exception (Ctrl-C, an error): never shown as complete

    @property
    def rate(self) -> float | None:
        elapsed = time.monotonic() - self.started
        worked = self.done - self.start_done
        return worked / elapsed if elapsed > 0 and worked > 0 else None

    @property
    def eta_s(self) -> float | None:
        rate = self.rate
        if rate is None or self.total is None:
            return None
        return max(self.total - self.done, 0) / rate

    def advance(self, n: int = 1, **info: Any) -> None:
        self.update(done=self.done + n, **info)

    def update(self, done: int | None = None, total: int | None = None, **info: Any) -> None:
        if done is not None:
            self.done = done
        if total is not None:
            self.total = total
        self.info.update(info)
        self.reporter._on_task(self, final=False)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.reporter._on_task(self, final=True)

    def __enter__(self) -> Task:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        self.failed = exc_type is not None
        self.close()


class Reporter:
    """Base reporter: records nothing. Subclasses render events."""

    mode: Mode = "none"

    def task(self, name: str, total: int | None = None, unit: str = "it", done: int = 0) -> Task:
        task = Task(self, name, total, unit, done)
        self._on_task(task, final=False, force=True)
        return task

    def metric(self, series: str, step: int | float, values: Mapping[str, float], echo: bool = False) -> None:
        """A point of a live series (loss per step, metrics per epoch). ``echo`` shows it to people."""

    def artifact(self, kind: str, path: str | PathLike[str]) -> None:
        """A file worth showing while work runs (a sample image, a report)."""

    def message(self, text: str, level: str = "info") -> None:
        """A short note for the user."""

    def result(self, payload: Mapping[str, Any]) -> None:
        """The final summary of a command."""

    def error(self, message: str, kind: str) -> None:
        """An error ending the command (emitted by the CLI wrapper)."""

    def close(self) -> None:
        """Release the display."""

    def _on_task(self, task: Task, final: bool, force: bool = False) -> None:
        pass


class NullReporter(Reporter):
    mode: Mode = "none"


class JsonReporter(Reporter):
    """JSON lines on a stream; progress is throttled to ``interval`` seconds per task."""

    mode: Mode = "json"

    def __init__(self, stream: IO[str] | None = None, interval: float = 0.25) -> None:
        self.stream = stream or sys.stdout
        self.interval = interval
        self._last: dict[int, float] = {}
        self._emit({"event": "hello", "protocol_version": PROTOCOL_VERSION})

    def _emit(self, obj: dict[str, Any]) -> None:
        obj["t"] = time.time()
        self.stream.write(json.dumps(to_jsonable(obj), allow_nan=False, default=str) + "\n")
        self.stream.flush()

    def _on_task(self, task: Task, final: bool, force: bool = False) -> None:
        now = time.monotonic()
        key = id(task)
        if not (final or force) and now - self._last.get(key, 0.0) < self.interval:
            return
        self._last[key] = now
        event = {
            "event": "progress",
            "task": task.name,
            "done": task.done,
            "total": task.total,
            "unit": task.unit,
            "rate": _finite(task.rate),
            "eta_s": _finite(task.eta_s),
            "final": final,
        }
        event.update(task.info)
        self._emit(event)
        if final:
            self._last.pop(key, None)

    def metric(self, series: str, step: int | float, values: Mapping[str, float], echo: bool = False) -> None:
        self._emit({"event": "metric", "series": series, "step": step, "values": {k: _finite(v) for k, v in values.items()}})

    def artifact(self, kind: str, path: str | PathLike[str]) -> None:
        self._emit({"event": "artifact", "kind": kind, "path": str(path)})

    def message(self, text: str, level: str = "info") -> None:
        self._emit({"event": "message", "level": level, "text": text})

    def result(self, payload: Mapping[str, Any]) -> None:
        self._emit({"event": "result", "payload": dict(payload)})

    def error(self, message: str, kind: str) -> None:
        self._emit({"event": "error", "kind": kind, "message": message})


class RichReporter(Reporter):
    """Progress bars with rate and ETA on stderr, for people."""

    mode: Mode = "rich"

    def __init__(self, console: Any = None) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.console = console or text_console(stderr=True)
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[info]}"),
            console=self.console,
            transient=False,
        )
        self._ids: dict[int, Any] = {}
        self._started = False

    def _on_task(self, task: Task, final: bool, force: bool = False) -> None:
        if not self._started:
            self.progress.start()
            self._started = True
        rate = task.rate
        fields = {
            "rate": f"{rate:.1f} {task.unit}/s" if rate else "",
            "info": " ".join(f"{k}={_fmt(v)}" for k, v in task.info.items()),
        }
        key = id(task)
        # work that ended early (a fit that converged at 8 of 100 iterations) closes as complete, with
        # no ETA; a bar with nothing to do (pairs 0/0) is never shown
        early = final and not task.failed and task.total is not None and task.done < task.total
        total = task.done if early else task.total
        visible = total != 0
        if key not in self._ids:
            self._ids[key] = self.progress.add_task(task.name, total=total, completed=task.done, visible=visible,
                                                    **fields)
        else:
            self.progress.update(self._ids[key], total=total, completed=task.done, visible=visible, **fields)
        if final:
            self.progress.stop_task(self._ids.pop(key))

    def metric(self, series: str, step: int | float, values: Mapping[str, float], echo: bool = False) -> None:
        if echo:
            # one line each, however narrow the console (80 columns when stderr is not a terminal)
            self.console.print(f"[dim]{series} {step}:[/] " + "  ".join(f"{k}={_fmt(v)}" for k, v in values.items()),
                               soft_wrap=True)

    def artifact(self, kind: str, path: str | PathLike[str]) -> None:
        if kind not in ("sample_image",):
            self.console.print(f"{kind}: {path}", soft_wrap=True)  # a path is copied whole, never wrapped

    def message(self, text: str, level: str = "info") -> None:
        style = {"warning": "yellow", "error": "red"}.get(level, "")
        self.console.print(f"[{style}]{text}[/]" if style else text)

    def close(self) -> None:
        if self._started:
            self.progress.stop()
            self._started = False


_active: Reporter = NullReporter()


def make_reporter(mode: str, stream: IO[str] | None = None) -> Reporter:
    """Create the reporter for ``--progress MODE`` and make it the active one (for error events)."""
    global _active
    if mode == "json":
        _active = JsonReporter(stream)
    elif mode == "rich":
        _active = RichReporter()
    elif mode == "none":
        _active = NullReporter()
    else:
        from .errors import UserError

        raise UserError(f"--progress: expected one of {', '.join(MODES)} (got {mode!r})")
    return _active


def active() -> Reporter:
    return _active


def _finite(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return x if x == x and abs(x) != float("inf") else None


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)
