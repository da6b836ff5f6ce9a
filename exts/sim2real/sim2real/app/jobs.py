"""Jobs: ``sim2real`` commands run as subprocesses, read through the JSON-lines progress protocol.

A UI never runs long work in its own process: it starts ``python -m sim2real.cli <command> ...
--progress json`` and reads the events ``sim2real.progress.JsonReporter`` writes on stdout (one JSON
object a line: ``hello``, ``progress``, ``metric``, ``artifact``, ``message``, ``result``, ``error``).
A ``Job`` turns them into observable state: per-task progress, live ``Series``, artefacts (sample
images, reports), the result payload, and the error. stderr is kept as a log tail.

Cancelling is what Ctrl-C in a terminal does: SIGINT to the job's process group (the command and
its worker processes), after which every sim2real command keeps what it finished and exits 130; a
command still alive after ``grace_s`` gets SIGTERM, then SIGKILL. Re-running the same command
resumes (datasets, training runs, uploads and fits all resume from what is on disk).

Exit codes follow the CLI: 0 done, 2 a user mistake (the ``error`` event's message names the file
and key), 1 a failure, 130 interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from .observable import Observable
from .series import Series

log = logging.getLogger(__name__)

State = Literal["pending", "running", "succeeded", "failed", "cancelled"]
USER_ERROR = 2
INTERRUPTED = 130
LOG_LINES = 200
MESSAGES = 50


def package_root() -> Path:
    """The folder holding the ``sim2real`` package (put on the job's PYTHONPATH: inside Kit the package
    is on ``sys.path`` through the extension, not installed in the interpreter)."""
    return Path(__file__).resolve().parents[2]


def cli_argv(args: Sequence[str], python: str | None = None) -> list[str]:
    """The command line of ``sim2real ARGS`` run by ``python`` (default: this interpreter)."""
    return [python or sys.executable, "-m", "sim2real.cli", *map(str, args)]


class Job(Observable):
    """One subprocess and what its JSON lines said. Start it with ``start()``; ``cancel()`` stops it."""

    def __init__(self, argv: Sequence[str], *, kind: str = "job", cwd: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None, grace_s: float = 10.0, log_lines: int = LOG_LINES,
                 ident: int = 0) -> None:
        super().__init__()
        self.argv = [str(a) for a in argv]
        self.kind = kind
        self.ident = ident
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(env) if env is not None else None
        self.grace_s = grace_s
        self.state: State = "pending"
        self.returncode: int | None = None
        self.tasks: dict[str, dict[str, Any]] = {}  # task name -> latest progress event
        self.current_task: str | None = None
        self.series = Series()
        self.artifacts: list[dict[str, str]] = []
        self.messages: deque[dict[str, str]] = deque(maxlen=MESSAGES)
        self.result: dict[str, Any] | None = None
        self.error: dict[str, str] | None = None  # {"kind": user|failure|interrupted|bug, "message": ...}
        self.log_tail: deque[str] = deque(maxlen=log_lines)
        self.stdout_text: list[str] = []  # lines that are not events (a command's --json output)
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self.cancel_requested = False
        self._proc: subprocess.Popen[str] | None = None
        self._done = threading.Event()
        self._readers: list[threading.Thread] = []

    # ------------------------------------------------------------------ life cycle
    def start(self) -> Job:
        if self.state != "pending":
            raise RuntimeError(f"job {self.ident} was already started")
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONUNBUFFERED"] = "1"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(package_root()), env.get("PYTHONPATH")) if p)
        log.info("job %d: %s", self.ident, " ".join(self.argv))
        # a session of its own: cancel() signals the command and its workers together, as a terminal does
        self._proc = subprocess.Popen(self.argv, cwd=self.cwd, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                                      encoding="utf-8", errors="replace", start_new_session=True)
        with self._lock:
            self.state = "running"
            self.started_at = time.time()
        self._readers = [threading.Thread(target=self._read, args=(self._proc.stdout, self._on_stdout), daemon=True),
                         threading.Thread(target=self._read, args=(self._proc.stderr, self._on_stderr), daemon=True)]
        for t in self._readers:
            t.start()
        threading.Thread(target=self._wait, daemon=True, name=f"sim2real-job-{self.ident}").start()
        self._changed()
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self.state == "running"

    @property
    def finished(self) -> bool:
        return self.state in ("succeeded", "failed", "cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ended and its output was read; False on timeout."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """SIGINT now (finished work is kept, the command exits 130), SIGTERM after ``grace_s``, then
        SIGKILL after another ``grace_s``."""
        with self._lock:
            if self.state != "running" or self.cancel_requested:
                return
            self.cancel_requested = True
        self._changed()
        threading.Thread(target=self._escalate, daemon=True).start()

    def _escalate(self) -> None:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
            self._signal(sig)
            if self._done.wait(self.grace_s):
                return

    def _signal(self, sig: int) -> None:
        assert self._proc is not None
        if self._proc.poll() is not None and sig != signal.SIGKILL:
            return
        try:
            os.killpg(self._proc.pid, sig)
            log.info("job %d: sent %s", self.ident, signal.Signals(sig).name)
        except (ProcessLookupError, PermissionError):
            pass  # the whole group is gone already

    # ------------------------------------------------------------------ reading
    @staticmethod
    def _read(stream: Any, handle: Any) -> None:
        for line in stream:
            handle(line.rstrip("\n"))
        stream.close()

    def _wait(self) -> None:
        assert self._proc is not None
        code = self._proc.wait()
        for t in self._readers:
            t.join()
        with self._lock:
            self.returncode = code
            self.ended_at = time.time()
            self.state = self._final_state(code)
            if self.state == "failed" and self.error is None:
                last = next((line for line in reversed(self.log_tail) if line.strip()), "")
                self.error = {"kind": "user" if code == USER_ERROR else "failure",
                              "message": last or f"exited with code {code}"}
        log.info("job %d: %s (exit %s)", self.ident, self.state, code)
        self._changed()
        self._done.set()

    def _final_state(self, code: int) -> State:
        if code == 0:
            return "succeeded"
        if self.cancel_requested:  # 130, a signal, or Ctrl-C caught while the interpreter was starting (1)
            return "cancelled"
        return "failed"

    def _on_stderr(self, line: str) -> None:
        with self._lock:
            self.log_tail.append(line)
        self._changed()

    def _on_stdout(self, line: str) -> None:
        event = _parse_event(line)
        with self._lock:
            if event is None:
                self.stdout_text.append(line)
                self.log_tail.append(line)
            else:
                self._apply(event)
        if event is not None and event["event"] == "metric":
            self.series.add(str(event.get("series", "")), event.get("step") or 0, event.get("values") or {})
        self._changed()

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event["event"]
        if kind == "progress":
            name = str(event.get("task", ""))
            self.tasks[name] = event
            if not event.get("final"):
                self.current_task = name
        elif kind == "artifact":
            self.artifacts.append({"kind": str(event.get("kind", "")), "path": str(event.get("path", ""))})
        elif kind == "message":
            self.messages.append({"level": str(event.get("level", "info")), "text": str(event.get("text", ""))})
        elif kind == "result":
            self.result = dict(event.get("payload") or {})
        elif kind == "error":
            self.error = {"kind": str(event.get("kind", "failure")), "message": str(event.get("message", ""))}

    # ------------------------------------------------------------------ reading the state
    @property
    def user_error(self) -> str | None:
        """The one-line message of a user mistake (exit 2), to show next to the job's form."""
        with self._lock:
            if self.state == "failed" and self.error and self.error["kind"] == "user":
                return self.error["message"]
            return None

    def progress(self, task: str | None = None) -> dict[str, Any] | None:
        """The latest progress event of ``task`` (default: the task being worked on, else the last)."""
        with self._lock:
            name = task or self.current_task or (next(reversed(self.tasks)) if self.tasks else None)
            return dict(self.tasks[name]) if name in self.tasks else None

    @property
    def fraction(self) -> float | None:
        """0..1 of the current task (1 once the job succeeded); None while its total is unknown."""
        if self.state == "succeeded":
            return 1.0
        event = self.progress()
        if not event or not event.get("total"):
            return None
        return max(0.0, min(1.0, float(event.get("done") or 0) / float(event["total"])))

    def artifact(self, kind: str) -> str | None:
        """The path of the newest artefact of ``kind`` (e.g. ``sample_image``, ``report``)."""
        with self._lock:
            return next((a["path"] for a in reversed(self.artifacts) if a["kind"] == kind), None)

    def output_json(self) -> Any:
        """The command's ``--json`` output (the non-event lines of stdout) parsed; None when absent."""
        with self._lock:
            text = "\n".join(self.stdout_text).strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return None

    def snapshot(self) -> dict[str, Any]:
        fraction = self.fraction
        with self._lock:
            return {
                "id": self.ident, "kind": self.kind, "argv": self.argv[1:], "state": self.state,
                "returncode": self.returncode, "cancel_requested": self.cancel_requested,
                "current_task": self.current_task, "fraction": fraction,
                "tasks": [_task_view(e) for e in self.tasks.values()],
                "artifacts": list(self.artifacts), "messages": list(self.messages), "result": self.result,
                "error": self.error, "log_tail": list(self.log_tail)[-40:],
                "started_at": self.started_at, "ended_at": self.ended_at,
                "series": self.series.snapshot()["series"],
            }


def _parse_event(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) and isinstance(obj.get("event"), str) else None


def _task_view(event: Mapping[str, Any]) -> dict[str, Any]:
    base = ("task", "done", "total", "unit", "rate", "eta_s", "final")
    view = {k: event.get(k) for k in base}
    view["info"] = {k: v for k, v in event.items() if k not in base and k not in ("event", "t")}
    return view


class JobRunner(Observable):
    """Starts ``sim2real`` commands as jobs and keeps them; one running job per kind.

    ``python``: the interpreter of the jobs (default: this one; inside Kit, Isaac Sim's Python: see
    ``Panel``). ``cwd``: where relative paths of the jobs resolve. ``path``: folders put on the jobs'
    PYTHONPATH after the package's (inside Kit: Kit's ``sys.path``, so a job sees the packages Kit sees).
    """

    def __init__(self, python: str | None = None, cwd: str | os.PathLike[str] | None = None,
                 env: Mapping[str, str] | None = None, grace_s: float = 10.0, path: Sequence[str] = ()) -> None:
        super().__init__()
        self.python = python
        self.cwd = Path(cwd) if cwd is not None else None
        self.env = env
        self.grace_s = grace_s
        self.path = [str(p) for p in path]
        self.jobs: list[Job] = []

    def start(self, kind: str, args: Sequence[str], progress: bool = True,
              program: Sequence[str] | None = None) -> Job:
        """Run ``sim2real ARGS`` (with ``--progress json`` unless ``progress`` is False: the few commands
        without long work take ``--json`` instead), or ``PROGRAM ARGS`` (a script speaking the same
        protocol, e.g. Isaac Sim's ``python.sh tools/isaac/generate.py``; it sets up its own environment).
        A second job of a running ``kind`` is refused."""
        from ..errors import UserError

        with self._lock:
            busy = self.active(kind)
            if busy is not None:
                raise UserError(f"a {kind} job is running already (job {busy.ident}); wait for it or cancel it")
            tail = [*args, *(("--progress", "json") if progress else ())]
            argv = [*program, *map(str, tail)] if program else cli_argv(tail, self.python)
            held = next((a for a in argv if "\x00" in a), None)
            if held is not None:  # no command line can carry one (exec refuses it)
                raise UserError(f"{kind}: the argument {held[:80]!r} holds a NUL byte")
            job = Job(argv, kind=kind, cwd=self.cwd, env=self._environment(program is None), grace_s=self.grace_s,
                      ident=len(self.jobs) + 1)
            self.jobs.append(job)
        job.subscribe(lambda _job: self._changed())
        try:
            job.start()
        except OSError as exc:  # the interpreter is missing or not executable: no job was started
            with self._lock:
                self.jobs.remove(job)
            raise UserError(f"{kind}: cannot start {argv[0]} ({exc.strerror or exc})") from None
        return job

    def _environment(self, cli: bool) -> dict[str, str] | None:
        if not (cli and self.path):
            return dict(self.env) if self.env is not None else None
        env = dict(os.environ if self.env is None else self.env)
        env["PYTHONPATH"] = os.pathsep.join([*self.path, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
        return env

    def active(self, kind: str | None = None) -> Job | None:
        with self._lock:
            return next((j for j in reversed(self.jobs) if j.running and kind in (None, j.kind)), None)

    def latest(self, kind: str) -> Job | None:
        with self._lock:
            return next((j for j in reversed(self.jobs) if j.kind == kind), None)

    def cancel_all(self) -> None:
        for job in list(self.jobs):
            job.cancel()

    def shutdown(self, timeout: float | None = None) -> None:
        """Cancel every running job and wait for them (a closing UI leaves no orphan behind)."""
        self.cancel_all()
        for job in list(self.jobs):
            if job.state == "running":
                job.wait(timeout)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            jobs = list(self.jobs)
        return {"revision": self.revision, "jobs": [j.snapshot() for j in jobs]}
