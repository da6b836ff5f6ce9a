"""Shared pieces of the command line: option types, the output console, printing tables."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from . import progress

ProgressOpt = Annotated[
    progress.Mode,
    typer.Option("--progress", help="How to show progress: rich (people), json (JSON lines for UIs), none."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON on stdout.")]
F = TypeVar("F", bound=Callable[..., Any])


def console(stderr: bool = False) -> Any:
    """Where a command prints (``progress.text_console``: whole lines when not on a terminal)."""
    return progress.text_console(stderr)


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


def option_group(group: type, into: str) -> Callable[[F], F]:
    """Options several commands share, declared once as a dataclass whose fields are typer options with
    defaults: the decorated command declares ``<into>: <group>`` where the options go (in ``--help`` and on
    the command line they are ordinary options) and receives them as one instance of ``group``."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn, eval_str=True)
        hints = typing.get_type_hints(group, include_extras=True)
        names = [f.name for f in dataclasses.fields(group)]
        options = [inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=f.default, annotation=hints[f.name])
                   for f in dataclasses.fields(group)]
        params: list[inspect.Parameter] = []
        for p in signature.parameters.values():
            params += options if p.name == into else [p.replace(kind=inspect.Parameter.KEYWORD_ONLY)]

        @functools.wraps(fn)
        def command(**kwargs: Any) -> Any:
            values = {name: kwargs.pop(name) for name in names}
            return fn(**kwargs, **{into: group(**values)})

        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in params} | {"return": signature.return_annotation}
        return command  # type: ignore[return-value]

    return decorate
