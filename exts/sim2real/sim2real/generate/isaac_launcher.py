"""``--backend isaac`` from outside Isaac Sim: run ``tools/isaac/generate.py`` with Isaac Sim's Python.

Isaac Sim renders in its own Kit process, with its own Python (``python.sh`` of a binary install, or a
Python where ``pip install isaacsim`` put the ``isaacsim`` package). ``IsaacLauncher`` finds it:

1. ``ISAAC_SIM_PATH`` (or ``ISAAC_PATH``, which Isaac Sim's own ``python.sh`` sets): the install folder
   holding ``python.sh``;
2. else this interpreter, when it can import ``isaacsim`` (pip install).

``generate(request)`` starts one Isaac Sim process per worker (``--workers N``: GPUs 0..N-1, each
``--gpu k --num-shards N --shard-index k``), relays their JSON-lines progress to the caller's reporter,
and merges their parts into ``--out`` (``sim2real.dataset.merge``). Without Isaac Sim it raises the
one-line ``NotInstalledError`` saying how to install it.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import NotInstalledError, Sim2RealError, UserError
from ..paths import resource_root
from ..progress import NullReporter, Reporter

log = logging.getLogger(__name__)
ENV_VARS = ("ISAAC_SIM_PATH", "ISAAC_PATH")
SCRIPT = Path("tools") / "isaac" / "generate.py"
STOP_GRACE_S = 20.0  # Kit needs a moment to shut down after SIGINT


INSTALL_HINT = ("Isaac Sim 5.1 (pip install 'isaacsim[all,extscache]==5.1.0' --extra-index-url https://pypi.nvidia.com, "
                "or set ISAAC_SIM_PATH to a binary install); see README 'Inside Isaac Sim'")



PYTHON_SCRIPTS = ("python.sh", "python.bat")  # at the top of a binary install (Linux, Windows)


def isaac_python(environ: Mapping[str, str] | None = None, *, app_folder: str | None = None,
                 executable: str | None = None) -> list[str] | None:
    """The command that runs Isaac Sim's Python, or None when Isaac Sim is not found.

    1. ``ISAAC_SIM_PATH`` / ``ISAAC_PATH`` (``python.sh`` sets the latter): the install folder's ``python.sh``;
    2. ``app_folder``: inside Kit, the app folder (``/app/folder`` or the ``${app}`` token, as Isaac Sim's own
       ``isaacsim.app.selector`` resolves it); its parent holds ``python.sh`` in a binary install;
    3. ``executable`` (default: this interpreter) when it is a Python that imports ``isaacsim`` (a pip
       install, where Kit runs inside the venv's ``python``). Inside a binary install's Kit ``sys.executable``
       is the ``kit`` binary, which is never returned."""
    env = os.environ if environ is None else environ
    roots = [Path(env[v]) for v in ENV_VARS if env.get(v)]
    if app_folder:
        roots.append(Path(app_folder).resolve().parent)
    for root in roots:
        for script in PYTHON_SCRIPTS:
            if (root / script).is_file():
                return [str(root / script)]
    exe = Path(executable or sys.executable)
    if exe.name.lower().startswith("python") and importlib.util.find_spec("isaacsim") is not None:
        return [str(exe)]
    return None


def worker_command(python: Sequence[str], script: Path, request: Any, worker: int, workers: int) -> list[str]:
    """The command line of Isaac Sim worker ``worker`` of ``workers`` for a ``GenerateRequest``."""
    o = request.outputs
    cmd = [*python, str(script),
           "--profile", str(request.profile), "--frames", str(request.frames), "--out", str(request.out),
           "--seed", str(request.seed), "--resolution", f"{request.resolution[0]}x{request.resolution[1]}",
           "--camera", request.camera, "--layout", o.layout, "--threads", str(request.threads),
           "--frames-per-shard", str(request.frames_per_shard), "--progress", "json"]
    if request.scene is not None:
        cmd += ["--scene", str(request.scene)]
    if o.depth_npy:
        cmd.append("--depth-npy")
    if workers > 1:
        cmd += ["--gpu", str(worker), "--num-shards", str(workers), "--shard-index", str(worker)]
    return [*cmd, *request.overrides]


@dataclass
class _Worker:
    proc: subprocess.Popen[str]
    done: int = 0
    total: int | None = None
    error: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    tail: list[str] = field(default_factory=list)


def run_workers(commands: Sequence[Sequence[str]], reporter: Reporter | None = None, *,
                env: Mapping[str, str] | None = None, task: str = "generate") -> list[dict[str, Any]]:
    """Run generator processes that speak the JSON-lines protocol (``--progress json``) side by side;
    their progress adds up in ``reporter``. Returns each one's result; raises with the first error
    (``UserError`` for the user's mistakes). Ctrl-C stops them (SIGINT, then SIGKILL after a grace
    period): what they committed stays and a new run resumes it."""
    reporter = reporter or NullReporter()
    lines: queue.Queue[tuple[int, str | None]] = queue.Queue()
    workers = []
    for i, cmd in enumerate(commands):
        proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=dict(env) if env is not None else None, start_new_session=True)
        workers.append(_Worker(proc))
        threading.Thread(target=_pump, args=(i, proc, lines), daemon=True).start()
    bar = reporter.task(task, total=None, unit="frame")
    running = len(workers)
    try:
        while running:
            i, line = lines.get()
            if line is None:
                running -= 1
                continue
            _handle(workers[i], i, line, reporter)
            totals = [w.total for w in workers]
            bar.update(done=sum(w.done for w in workers),
                       total=sum(t for t in totals if t is not None) if all(t is not None for t in totals) else None)
        for w in workers:
            w.proc.wait()
    except BaseException:
        _stop(workers)
        raise
    finally:
        bar.close()
    for i, w in enumerate(workers):
        if w.proc.returncode != 0 or w.error is not None:
            message = (w.error or {}).get("message") or (w.tail[-1] if w.tail else "no output")
            cls = UserError if (w.error or {}).get("kind") == "user" else Sim2RealError
            raise cls(f"worker {i}: {message}" if len(workers) > 1 else str(message))
    return [w.result or {} for w in workers]


def _pump(i: int, proc: subprocess.Popen[str], lines: queue.Queue[tuple[int, str | None]]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put((i, line.rstrip("\n")))
    lines.put((i, None))


def _handle(worker: _Worker, i: int, line: str, reporter: Reporter) -> None:
    """One output line of a worker: our JSON events are relayed; anything else (Kit's log) is kept
    for the error message and logged at debug level."""
    event = None
    if line.startswith("{"):
        try:
            event = json.loads(line)
        except ValueError:
            event = None
    if not isinstance(event, dict) or "event" not in event:
        worker.tail = (worker.tail + [line])[-20:]
        log.debug("worker %d: %s", i, line)
        return
    kind = event["event"]
    if kind == "progress" and event.get("task") == "generate":
        worker.done = int(event.get("done") or 0)
        worker.total = event.get("total")
    elif kind == "message":
        reporter.message(f"worker {i}: {event.get('text', '')}", event.get("level", "info"))
    elif kind == "artifact":
        reporter.artifact(event.get("kind", "file"), event.get("path", ""))
    elif kind == "result":
        worker.result = event.get("payload") or {}
    elif kind == "error":
        worker.error = event


def _stop(workers: list[_Worker]) -> None:
    for w in workers:
        if w.proc.poll() is None:
            os.killpg(w.proc.pid, signal.SIGINT)
    for w in workers:
        try:
            w.proc.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            os.killpg(w.proc.pid, signal.SIGKILL)
            w.proc.wait()


class IsaacLauncher:
    """What ``sim2real generate --backend isaac`` runs outside Isaac Sim: Isaac Sim renders in its own process."""

    name = "isaac"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        python = isaac_python(environ)
        if python is None:
            raise NotInstalledError("Isaac Sim (isaacsim)", INSTALL_HINT)
        self.python = python

    def load(self, *args: Any, **kwargs: Any) -> None:
        raise UserError("the isaac backend renders inside Isaac Sim: use `sim2real generate --backend isaac`, "
                        "tools/isaac/generate.py, or the sim2real_isaac extension (README 'Inside Isaac Sim')")

    def generate(self, request: Any, reporter: Reporter | None = None) -> dict[str, Any]:
        from ..dataset.merge import merge_parts, part_path

        reporter = reporter or NullReporter()
        script = resource_root() / SCRIPT
        n = request.workers
        if request.executor != "local":
            raise UserError("--executor: the isaac backend runs one Isaac Sim process per GPU (--workers N); "
                            "use the local executor")
        commands = [worker_command(self.python, script, request, k, n) for k in range(n)]
        results = run_workers(commands, reporter)
        if n == 1:
            return results[0]
        merged = merge_parts(request.out, [part_path(request.out, k, n) for k in range(n)], reporter)
        return {**merged, "workers": results}
