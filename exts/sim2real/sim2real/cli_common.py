"""Shared pieces of the command line: option types, the output console, printing tables."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from . import progress

ProgressOpt = Annotated[
    str,
    typer.Option("--progress", help="How to show progress: rich (people), json (JSON lines for UIs), none."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr)


def reporter(mode: str) -> progress.Reporter:
    return progress.make_reporter(mode)


def print_json(obj: Any) -> None:
    import json
    import sys

    from .fsutil import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(obj), indent=2, sort_keys=True, allow_nan=False, default=str) + "\n")


def parse_resolution(text: str) -> tuple[int, int]:
    """``WIDTHxHEIGHT`` (pixels) -> ``(width, height)``; a one-line ``UserError`` otherwise."""
    from .errors import UserError

    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        width = height = 0
    if width <= 0 or height <= 0:
        raise UserError(f"--resolution: expected WIDTHxHEIGHT in pixels such as 640x480 (got {text!r})")
    return width, height
