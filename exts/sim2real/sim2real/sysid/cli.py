"""``sim2real sysid``: excitation command files, surrogate logs, identification with a calibrated profile.

Heavy imports (numpy, scipy, mujoco, torch) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer(help="System identification: excite, simulate, fit, calibrate the simulator.", no_args_is_help=True)

ModelOpt = Annotated[str, typer.Option("--model", "-m", help="MJCF scene (path or shipped name, e.g. arm2), or 'msd'.")]
TopicOpt = Annotated[str | None, typer.Option("--topic", help="Bag topic of the measurements (e.g. /joint_states).")]
CommandTopicOpt = Annotated[str | None, typer.Option("--command-topic", help="Bag topic of the commands sent.")]


def _show(result: dict, json_out: bool, line: str) -> None:
    """The result as JSON (``--json``) or one line for people (plain text: ``[rad]`` is a unit, not markup)."""
    if json_out:
        print_json(result)
    else:
        console().print(line, markup=False)


def _unit(name: str, unit: str) -> str:
    """``name [unit]`` escaped for rich (which would read ``[rad]`` as a style and drop it)."""
    from rich.markup import escape

    return escape(f"{name} [{unit}]" if unit else name)


def _floats(text: str | None, name: str) -> list[float] | None:
    from ..errors import UserError

    if text is None:
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--{name}: expected numbers separated by commas (got {text!r})") from None


def _positions(text: str | None) -> dict[str, float]:
    """``--start joint=value,...`` as a mapping."""
    from ..errors import UserError

    out: dict[str, float] = {}
    for item in filter(str.strip, (text or "").split(",")):
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise UserError(f"--start: expected joint=value pairs separated by commas (got {item.strip()!r})") from None
    return out


@app.command()
def excite(
    out: Annotated[Path, typer.Option("--out", "-o", help="Command file to write (.csv, .parquet, .jsonl).")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model whose actuators (names, ranges) to excite.")] = None,
    actuators: Annotated[str | None, typer.Option("--actuators", help="Actuator names, comma-separated (without --model).")] = None,
    signal: Annotated[str, typer.Option("--signal", help="multisine, chirp or prbs.")] = "multisine",
    duration: Annotated[float, typer.Option("--duration", help="Seconds.")] = 20.0,
    rate: Annotated[float, typer.Option("--rate", help="Command rate, Hz.")] = 100.0,
    amplitude: Annotated[str, typer.Option("--amplitude", help="Peak deviation from the centre, command units (one, or one per actuator).")] = "0.3",
    center: Annotated[str, typer.Option("--center", help="Centre command (one, or one per actuator).")] = "0",
    band: Annotated[str, typer.Option("--band", help="Frequency band low,high in Hz.")] = "0.1,3",
    max_velocity: Annotated[str | None, typer.Option("--max-velocity", help="Largest |du/dt|, command units per second.")] = None,
    hold: Annotated[float | None, typer.Option("--hold", help="PRBS bit length, seconds (default 1 / (2 high)).")] = None,
    settle: Annotated[float, typer.Option("--settle", help="Seconds at the centre before the excitation.")] = 0.5,
    fade: Annotated[float, typer.Option("--fade", help="Seconds of fade-in and fade-out.")] = 1.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    start: Annotated[str | None, typer.Option("--start", help="Joint positions the robot starts at, joint=value,... (with --model; default: the model's initial pose).")] = None,
    limit_margin: Annotated[float, typer.Option("--limit-margin", help="With --model: scale the amplitude down until the nominal model keeps every limited joint this fraction of its range off its limits.")] = 0.1,
    ignore_limits: Annotated[bool, typer.Option("--ignore-limits", help="With --model: do not keep the joints off their limits.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Write an excitation command file (multisine, chirp or PRBS) within amplitude and velocity limits
    and, for a model, off its joint limits."""
    from ..errors import UserError
    from .excite import ExcitationSpec, excitation
    from .logs import write_log

    low_high = _floats(band, "band") or []
    if len(low_high) != 2:
        raise UserError(f"--band: expected two frequencies low,high in Hz (got {band!r})")
    spec = ExcitationSpec(signal, duration, rate, _floats(amplitude, "amplitude") or [], _floats(center, "center") or [],
                          (low_high[0], low_high[1]), _floats(max_velocity, "max-velocity"), hold_s=hold,
                          settle_s=settle, fade_s=fade, seed=seed)
    if model is not None:
        from .limits import designed
        from .simulator import open_simulator

        positions = _positions(start)
        sim = open_simulator(model, nthread=0)
        try:
            names, units = sim.actuators(), sim.command_units()
            ex = designed(spec, sim, positions, None if ignore_limits else limit_margin)
        finally:
            sim.close()
    elif actuators:
        names = [a.strip() for a in actuators.split(",") if a.strip()]
        units = [""] * len(names)
        ex = excitation(spec, len(names))
    else:
        raise UserError("excite: expected --model or --actuators naming what to excite")
    path = write_log(ex.to_log(names, units), out, time_format="t")
    result = {"commands": str(path), "actuators": names, "samples": len(ex.t_s), "notes": ex.notes,
              "peak": (abs(ex.commands - ex.commands[0]).max(axis=0)).tolist()}
    for note in ex.notes if not json_out else []:
        console(stderr=True).print(note, style="yellow", markup=False)
    _show(result, json_out, f"{signal}: {len(ex.t_s)} commands for {', '.join(names)} -> {path}")


@app.command()
def simulate(
    commands: Annotated[Path, typer.Option("--commands", "-c", help="Command file to replay.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Log to write (.csv, .parquet, .jsonl).")],
    surrogate: Annotated[Path | None, typer.Option("--surrogate", help="Surrogate robot spec (TOML): hidden offsets, noise, friction.")] = None,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Scene without a surrogate spec: the nominal model.")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the spec's seed.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Replay a command file on a SURROGATE robot (or the nominal model) and write its log."""
    from ..errors import UserError
    from .logs import read_log, write_log
    from .surrogate import SurrogateSpec, load_spec, open_surrogate

    if surrogate is not None:
        spec = load_spec(surrogate)
    elif model is not None:
        spec = SurrogateSpec(scene=model)
    else:
        raise UserError("simulate: expected --surrogate SPEC.toml or --model SCENE")
    if seed is not None:
        spec.seed = seed
    from ..sim.registry import backend_class

    backend_class("mujoco")
    robot = open_surrogate(spec)
    try:
        lg = robot.run(read_log(commands))
    finally:
        robot.backend.close()
    path = write_log(lg, out)
    result = {"log": str(path), "rows": len(lg.commands), "channels": lg.channels, "surrogate": surrogate is not None}
    _show(result, json_out, f"{'surrogate' if surrogate else 'nominal'} {spec.scene}: {len(lg.commands)} rows, "
                            f"channels {', '.join(lg.channels)} -> {path}")


@app.command()
def convert(
    log: Annotated[Path, typer.Option("--log", "-l", help="A log: table or ROS bag.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Table to write (.csv, .parquet, .jsonl).")],
    rate: Annotated[float, typer.Option("--rate", help="Uniform rate of the table, Hz.")] = 100.0,
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model naming array commands' actuators, and units.")] = None,
    topic: TopicOpt = None,
    command_topic: CommandTopicOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write a log (e.g. a bag's measurement and command topics) as one table on a uniform clock."""
    from .logs import read_log, resampled, to_model_units, write_log

    actuators = None
    if model is not None:
        from .simulator import open_simulator

        sim = open_simulator(model, nthread=0)
        actuators = sim.actuators()
        units = {c.name: c.unit for c in sim.channels()}
        command_units = dict(zip(actuators, sim.command_units(), strict=True))
        sim.close()
    lg = read_log(log, topic, command_topic, actuators)
    if model is not None:
        lg = to_model_units(lg, units, command_units)
    table = resampled(lg, rate)
    path = write_log(table, out)
    result = {"log": str(path), "rows": len(table.commands), "actuators": table.actuators, "channels": table.channels}
    _show(result, json_out, f"{len(table.commands)} rows at {rate:g} Hz, commands {', '.join(table.actuators)}, "
                            f"channels {', '.join(table.channels)} -> {path}")


@app.command()
def params(
    model: ModelOpt,
    json_out: JsonOpt = False,
) -> None:
    """List what can be identified on a model: parameter names, channels, actuators."""
    from .params import IDENTIFIABLE, MODEL_ATTRS
    from .simulator import open_simulator

    sim = open_simulator(model, nthread=0)
    try:
        ent = sim.entities()
        names = sorted(f"{kind}:{e}/{attr}" for kind, attr in IDENTIFIABLE for e in ent.get(kind, [])
                       if (kind, attr) not in MODEL_ATTRS or sim.supports(kind, attr))
        channels = [{"name": c.name, "unit": c.unit, "kind": c.kind} for c in sim.channels()]
        result = {"model": sim.name, "dt": sim.dt, "actuators": sim.actuators(), "command_units": sim.command_units(),
                  "parameters": names, "channels": channels}
    finally:
        sim.close()
    if json_out:
        print_json(result)
        return
    from rich.markup import escape

    c = console()
    c.print(f"[bold]{escape(result['model'])}[/] (physics step {result['dt']:g} s)")
    c.print("actuators: " + ", ".join(_unit(a, u) for a, u in zip(result["actuators"], result["command_units"], strict=True)))
    c.print("channels: " + ", ".join(_unit(ch["name"], ch["unit"]) for ch in channels))
    c.print("parameters:\n  " + "\n  ".join(escape(n) for n in names))


@app.command(name="fit")
def fit_cmd(
    model: ModelOpt,
    log: Annotated[list[Path], typer.Option("--log", "-l", help="Log to fit (repeat for several, fitted jointly).")],
    params_: Annotated[str, typer.Option("--params", "-p", help="Parameters: a .toml file or targets, e.g. 'body:*/mass,actuator:*/latency'.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: runs/sysid-<id>).")] = None,
    holdout: Annotated[list[Path] | None, typer.Option("--holdout", help="Held-out log for validation only (repeatable).")] = None,
    holdout_fraction: Annotated[float, typer.Option("--holdout-fraction", help="Without --holdout: the last share of each log held out.")] = 0.25,
    channels: Annotated[str | None, typer.Option("--channels", help="Channels to fit, comma-separated (default: measured positions/velocities/sensors).")] = None,
    optimizer: Annotated[str, typer.Option("--optimizer", help="lsq (bounded least squares) or cma (CMA-ES).")] = "lsq",
    max_iter: Annotated[int, typer.Option("--max-iter", help="Iterations (lsq: function evaluations; cma: generations).")] = 100,
    intervals: Annotated[str, typer.Option("--intervals", help="jacobian, or population (with --optimizer cma).")] = "jacobian",
    initial_state: Annotated[str, typer.Option("--initial-state", help="fit (each log's initial joint state fitted too) or measured.")] = "fit",
    level: Annotated[float, typer.Option("--level", help="Confidence level of the intervals.")] = 0.95,
    safety: Annotated[float, typer.Option("--safety", help="Profile range = estimate ± safety × half-width (>= 1).")] = 2.0,
    profile: Annotated[Path | None, typer.Option("--profile", help="Base randomization profile to calibrate.")] = None,
    residual: Annotated[bool, typer.Option("--residual", help="Also train the neural residual model (torch).")] = False,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    threads: Annotated[int, typer.Option("--threads", help="Rollout threads.")] = 2,
    topic: TopicOpt = None,
    command_topic: CommandTopicOpt = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Identify parameters from logs; write the calibrated profile, intervals and a validation report."""
    from ..runs import new_run_id
    from .fit import FitOptions, identify_into

    rep = reporter(progress)
    opts = FitOptions(
        model=model, logs=list(log), params=params_, holdout=list(holdout or []),
        channels=[c.strip() for c in channels.split(",") if c.strip()] if channels else None, optimizer=optimizer,
        max_iter=max_iter, seed=seed, level=level, safety=safety, holdout_fraction=holdout_fraction,
        intervals=intervals, initial_state=initial_state, profile=profile, residual=residual, nthread=threads,
        topic=topic, command_topic=command_topic)
    opts.check()
    run_id = new_run_id("sysid")
    out = out or Path("runs") / run_id
    outcome, paths = identify_into(opts, out, rep, run_id)
    s = outcome.summary
    result = {"out": str(out), **{k: str(v) for k, v in paths.items()},
              "parameters": {p.name: float(v) for p, v in zip(outcome.params, outcome.x, strict=True)},
              "half_width": {p.name: float(h) for p, h in zip(outcome.params, outcome.uncertainty.half_width, strict=True)},
              "rmse_ratio_mean": s.get("rmse_ratio_mean"), "rmse_ratio_max": s.get("rmse_ratio_max"),
              "rmse_ratio_worst_channel": s.get("rmse_ratio_worst_channel"), "worse_channels": s.get("worse_channels", {}),
              "converged": outcome.result.success}
    rep.result(result)
    if json_out:
        print_json(result)
    elif rep.mode != "json":
        _print_fit(outcome, paths)


def _print_fit(outcome: Any, paths: dict[str, Path]) -> None:
    """The estimates table and the held-out verdict, worst channel beside the mean (plain text cells)."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(f"sysid {outcome.simulator_name}"))
    for col in ("parameter", "estimate", escape(f"± ({100 * outcome.options.level:g}%)"), "unit"):
        table.add_column(col)
    for p, v, h in zip(outcome.params, outcome.x, outcome.uncertainty.half_width, strict=True):
        table.add_row(escape(p.name), f"{v:.5g}", f"{h:.3g}", escape(p.unit))
    s = outcome.summary
    c = console()
    c.print(table)
    c.print(f"held-out RMSE after / before calibration: {s.get('rmse_ratio_mean', float('nan')):.3g} (mean over "
            f"channels), worst channel {escape(s.get('rmse_ratio_worst_channel', '') or '-')} "
            f"{s.get('rmse_ratio_max', float('nan')):.3g}", highlight=False)
    for channel, ratio in s.get("worse_channels", {}).items():
        c.print(f"worse after calibration: {channel} (held-out RMSE x{ratio:.3g})", style="yellow", markup=False)
    c.print(f"calibrated profile: {paths['profile']}\nreport: {paths['report']}", markup=False)
