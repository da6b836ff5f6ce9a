"""``sim2real ui``: the web panel (FastAPI + htmx) over ``sim2real.app``'s view-models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer()


@app.command("ui")
def ui(
    host: Annotated[str, typer.Option("--host", help="Address to bind. Anything but loopback requires the printed token.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port (0: a free one, printed).", min=0, max=65535)] = 8765,
    workdir: Annotated[Path, typer.Option("--workdir", help="Folder of the panel's outputs (datasets, runs, reports, bundles).")] = Path("runs/ui"),
    targets_file: Annotated[Optional[Path], typer.Option("--targets-file", help="Deploy targets (default: ~/.config/sim2real/targets.toml).")] = None,
    python: Annotated[Optional[str], typer.Option("--python", help="Interpreter of the jobs (default: this one).")] = None,
    log_file: Annotated[Optional[Path], typer.Option("--log-file", help="Also write the server's log here (never holds the token).")] = None,
) -> None:
    """Serve the sim2real panel in a browser: profile, generate, train, gap, deploy."""
    from .serve import serve

    serve(host, port, workdir, targets_file, python, log_file)
