"""cli_common.option_group: options declared once as a dataclass, used by several commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import typer
from sim2real.cli_common import option_group
from typer.testing import CliRunner

RootOpt = Annotated[str, typer.Option("--root", help="Where.")]
KeepOpt = Annotated[int, typer.Option("--keep", help="How many.")]


@dataclass(frozen=True)
class Place:
    root: RootOpt = "home"
    keep: KeepOpt = 3


def _app(seen: list) -> typer.Typer:
    app = typer.Typer()

    @app.command("a")
    @option_group(Place, "place")
    def a(name: Annotated[str, typer.Argument()], place: Place = Place(), loud: bool = False) -> None:
        seen.append((name, place, loud))

    @app.command("b")
    @option_group(Place, "place")
    def b(place: Place = Place()) -> None:
        seen.append(place)

    return app


def test_the_command_gets_one_instance_of_the_group_with_the_options_given() -> None:
    seen: list = []
    app = _app(seen)
    runner = CliRunner()
    assert runner.invoke(app, ["a", "x", "--keep", "5", "--loud"]).exit_code == 0
    assert runner.invoke(app, ["b", "--root", "/srv"]).exit_code == 0
    assert seen == [("x", Place("home", 5), True), Place("/srv", 3)]


def test_the_options_are_ordinary_options_in_their_place() -> None:
    result = CliRunner().invoke(_app([]), ["a", "--help"], env={"COLUMNS": "200"})
    text = result.output
    assert result.exit_code == 0
    assert text.index("--root") < text.index("--keep") < text.index("--loud")
    assert "--place" not in text
    bad = CliRunner().invoke(_app([]), ["b", "--keep", "many"])
    assert bad.exit_code == 2  # typer checks the type as for any option
