"""The ``sim2real`` command.

Sub-command groups live next to the code they drive (``sim2real/<package>/cli.py``) and are added
here. Each command imports its heavy dependencies inside its body, so ``sim2real --help`` is quick.
"""

from __future__ import annotations

import sys
import traceback
from typing import Annotated, Optional

import typer

from . import __version__, progress
from .cli_common import JsonOpt, console, print_json
from .errors import Sim2RealError, UserError

app = typer.Typer(
    name="sim2real",
    help="Take a robot task from simulation to a real robot.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


class _State:
    debug = False


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"sim2real {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version.")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and debug logs.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show informational logs.")] = False,
) -> None:
    """sim2real: randomize, generate, adapt, identify, measure the gap, deploy."""
    import os

    from . import logsetup

    # torch's OpenMP threads spin while they wait for each other; on a CPU shared with other work a
    # small convolution then takes over 20x longer (measured on 2 busy cores: 0.9 s instead of 0.035 s
    # for a batch of 32 64x48 images). Passive waiting changes no result. OpenMP reads this once, when
    # torch loads it, so it is set before any command imports torch; a user's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    _State.debug = debug
    logsetup.configure(debug=debug, verbose=verbose)


@app.command()
def doctor(
    json_out: JsonOpt = False,
    gl: Annotated[
        Optional[str], typer.Option("--gl", help="GL platforms to probe, comma-separated (default: egl,osmesa).")
    ] = None,
) -> None:
    """Report what is available; exit 1 with a fix hint when the embedded default cannot render."""
    from . import doctor as doc

    rows = doc.run_checks(doc.parse_gl_list(gl))
    if json_out:
        print_json({"ok": not doc.failed(rows), "checks": doc.as_dicts(rows)})
    else:
        _print_checks(rows)
    if doc.failed(rows):
        raise typer.Exit(1)


def _print_checks(rows: list) -> None:
    from rich.markup import escape
    from rich.table import Table

    style = {"ok": "green", "warn": "yellow", "missing": "dim", "fail": "bold red"}
    table = Table(title="sim2real doctor", show_lines=False)
    for col in ("component", "status", "detail", "fix"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(escape(r.name), f"[{style[r.status]}]{r.status}[/]", escape(r.detail), escape(r.hint))
    console().print(table)


# Command groups live next to the code they drive; their modules import heavy libraries lazily.
from .control.cli import app as policy_app  # noqa: E402
from .dataset.cli import app as dataset_app  # noqa: E402
from .deploy.cli import app as deploy_app  # noqa: E402
from .gap.cli import app as gap_app  # noqa: E402
from .meta.cli import app as meta_app  # noqa: E402
from .generate.cli import app as generate_app  # noqa: E402
from .pipeline.cli import app as pipeline_app  # noqa: E402
from .randomize.cli import app as profile_app  # noqa: E402
from .sim.cli import app as scene_app  # noqa: E402
from .sysid.cli import app as sysid_app  # noqa: E402
from .train.cli import app as train_app  # noqa: E402
from .translate.cli import app as translate_app  # noqa: E402
from .web.cli import app as web_app  # noqa: E402

app.add_typer(profile_app, name="profile")
app.add_typer(scene_app, name="scene")
app.add_typer(generate_app)  # `sim2real generate`
app.add_typer(dataset_app, name="dataset")
app.add_typer(gap_app, name="gap")
app.add_typer(sysid_app, name="sysid")
app.add_typer(train_app)  # `sim2real train`
app.add_typer(deploy_app)  # `sim2real export`, `sim2real deploy ...`
app.add_typer(pipeline_app)  # `sim2real run`, `sim2real demo`
app.add_typer(policy_app, name="policy")
app.add_typer(meta_app, name="meta")
app.add_typer(translate_app, name="translate")
app.add_typer(web_app)  # `sim2real ui`


def _click_exception_types() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """Usage-error and abort classes: typer >= 0.20 vendors click, older typer uses click itself."""
    usage: list[type[BaseException]] = []
    aborts: list[type[BaseException]] = [typer.Abort]
    if hasattr(typer, "TyperException"):
        usage.append(typer.TyperException)
    try:
        import click

        usage.append(click.exceptions.ClickException)
        aborts.append(click.exceptions.Abort)
    except ImportError:
        pass
    return tuple(usage), tuple(aborts)


INTERRUPTED = 130


def _interrupted(err: object) -> None:
    message = "interrupted: finished results are kept; run the same command again to resume"
    progress.active().error(message, "interrupted")
    err.print(f"[yellow]{message}[/]")  # type: ignore[attr-defined]


def run(argv: list[str] | None = None) -> None:
    """Console entry point: maps errors to exit codes (2 user mistake, 1 failure, 130 interrupted)."""
    from rich.text import Text

    usage_errors, aborts = _click_exception_types()

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    err = console(stderr=True)
    code = 0
    try:
        rv = app(args=args, prog_name="sim2real", standalone_mode=False)
        code = rv if isinstance(rv, int) else 0
        if code == INTERRUPTED:  # typer >= 0.20 turns Ctrl-C into Exit(130) instead of raising
            _interrupted(err)
    except usage_errors as exc:
        exc.show()
        code = exc.exit_code
    except (*aborts, KeyboardInterrupt):
        _interrupted(err)
        code = INTERRUPTED
    except Sim2RealError as exc:
        if debug:
            traceback.print_exc()
        kind = "user" if isinstance(exc, UserError) else "failure"
        progress.active().error(str(exc), kind)
        err.print(Text.assemble(("error: ", "bold red"), str(exc)), soft_wrap=True)
        code = exc.exit_code
    except Exception as exc:  # a bug: keep the traceback, it is what a report needs
        progress.active().error(f"{type(exc).__name__}: {exc}", "bug")
        traceback.print_exc()
        err.print("[bold red]internal error[/]: this is a bug in sim2real; please report it with the traceback above")
        code = 1
    finally:
        progress.active().close()
    sys.exit(code)


if __name__ == "__main__":
    run()
