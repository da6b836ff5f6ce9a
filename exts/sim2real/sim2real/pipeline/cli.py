"""``sim2real run PIPELINE.toml`` and ``sim2real demo`` (merged into the top-level app)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer()

OutOpt = Annotated[Optional[Path], typer.Option("--out", "-o", help="Run folder (default: runs/<pipeline name>); "
                                                                     "run again to resume or update it.")]
DEMO, DEMO_QUICK = "demo", "demo_quick"


@app.command(name="run")
def run_cmd(
    pipeline: Annotated[Path, typer.Argument(help="Pipeline file (TOML), e.g. config/pipelines/demo.toml.")],
    overrides: Annotated[Optional[list[str]], typer.Argument(
        help="Dotted KEY=VALUE overrides of the file's keys, e.g. train.epochs=2 generate.frames=100.",
        show_default=False)] = None,
    out: OutOpt = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Run a pipeline: generate -> target -> train -> gap -> sysid -> export -> quantize -> deploy -> report."""
    _run(pipeline, out, progress, json_out, overrides or ())


@app.command()
def demo(
    quick: Annotated[bool, typer.Option("--quick", help="The short version (under a minute; used by the tests).")] = False,
    out: OutOpt = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Run the demo pipeline on the tabletop scene (config/pipelines/demo.toml) and print its summary."""
    from ..paths import config_path

    name = DEMO_QUICK if quick else DEMO
    _run(config_path("pipelines", f"{name}.toml"), out or Path("runs") / name, progress, json_out)


def _run(pipeline: Path, out: Path | None, progress: str, json_out: bool, overrides: Sequence[str] = ()) -> None:
    from .runner import run_pipeline

    rep = reporter(progress)
    result = run_pipeline(pipeline, out, rep, overrides)
    if json_out:
        print_json(_as_json(result))
    elif progress != "json":
        _print_summary(result)


def _as_json(result: Any) -> dict[str, Any]:
    return {"run": result.run_id, "out": str(result.out), "report": str(result.report), "stages": result.actions,
            "summary": {row[0]: row[1] for row in result.summary}}


def _print_summary(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    done = ", ".join(f"{name} {action}" for name, action in result.actions.items())
    table = Table(title=escape(f"sim2real run {result.run_id} ({result.spec.name})"), show_header=False)
    table.add_column("result", style="bold")
    table.add_column("value")
    for label, value in result.summary:
        if label != "report":
            table.add_row(escape(label), escape(value))
    c = console()
    c.print(table)
    c.print(escape(f"stages: {done}"), style="dim")
    c.print(f"report: {escape(str(result.report.resolve()))}" if result.report else "no report")
    for line in next_steps(result.report):
        c.print(escape(line), soft_wrap=True)  # one line each, whatever the width: a URL to copy


def next_steps(report: Path | None) -> list[str]:
    """Where to click after a run: the report in a browser, and the panel (when its extra is installed)."""
    from importlib.util import find_spec

    lines = [f"open {report.resolve().as_uri()} in a browser (one file, no network)"] if report else []
    if find_spec("fastapi") is not None and find_spec("uvicorn") is not None:
        lines.append("or run `sim2real ui` and open http://127.0.0.1:8765 (the panel: profile, generate, train, "
                     "gap, deploy)")
    return lines
