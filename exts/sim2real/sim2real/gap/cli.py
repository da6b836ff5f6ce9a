"""``sim2real gap``: measure the reality gap and write ``report.html`` + ``report.json`` (+ ``run.json``).

Heavy imports (numpy, scipy, matplotlib) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer(help="Measure the reality gap: trajectories, poses, images, policies.", no_args_is_help=True)

PairMode = Literal["auto", "name", "order", "none"]  # gap.images.PAIR_MODES
OutOpt = Annotated[Path | None, typer.Option("--out", "-o", help="Output folder (default: runs/gap-<kind>-<id>).")]
OffsetOpt = Annotated[str, typer.Option(
    "--offset", help="Seconds added to sim timestamps, or 'start' to start both recordings together.")]
SimTopicOpt = Annotated[str | None, typer.Option("--sim-topic", help="Bag topic of the sim side.")]
RealTopicOpt = Annotated[str | None, typer.Option("--real-topic", help="Bag topic of the real side.")]
StampOpt = Annotated[str, typer.Option("--stamp", help="Bag time source: 'header' (header.stamp) or 'receive'.")]


def _offset(value: str) -> Any:
    from ..errors import InputError

    if value == "start":
        return "start"
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--offset: expected 'start' or a number of seconds (got {value!r})") from None


def _clock(value: str) -> Any:
    from ..errors import InputError

    if value in ("real", "sim"):
        return value
    try:
        return float(value)
    except ValueError:
        raise InputError(f"--clock: expected 'real', 'sim' or a rate in Hz (got {value!r})") from None


def _inputs(**paths: Any) -> dict[str, Any]:
    from ..fsutil import sha256_file

    out: dict[str, Any] = {}
    for key, value in paths.items():
        if isinstance(value, Path):
            out[key] = {"path": str(value.resolve())}
            if value.is_file():
                out[key]["sha256"] = sha256_file(value)
        else:
            out[key] = value
    return out


def _publish(kind: str, title: str, sections: list[Any], data: dict[str, Any], inputs: dict[str, Any],
             out: Path | None, rep: Any, summary: list[tuple[str, str]], json_out: bool) -> None:
    """Write the report and run.json under a writer lock, then show the summary."""
    from ..fsutil import locked_dir
    from ..report import Report, json_safe
    from ..runs import new_run_id, write_run_info

    data = json_safe(data)  # NaN (e.g. the correlation of a constant channel) becomes null
    run_id = new_run_id(f"gap-{kind}")
    out = out or Path("runs") / run_id
    facts = {"run": run_id, **{k: (v["path"] if isinstance(v, dict) else v) for k, v in inputs.items()}}
    report = Report(title, subtitle="sim2real reality-gap report", facts=facts, kind=f"gap.{kind}", data=data)
    for s in sections:
        report.add(s)
    with locked_dir(out, purpose=f"gap {kind} report"):
        html_path, json_path = report.write(out)
        write_run_info(out, "gap", run_id, inputs=inputs)
    rep.artifact("report", html_path)
    rep.result({"report": str(html_path), "json": str(json_path), **data})
    if json_out:
        print_json({"report": str(html_path), "json": str(json_path), **data})
    elif rep.mode != "json":
        from rich.table import Table

        table = Table(title=title, show_header=False)
        for k, v in summary:
            table.add_row(k, v)
        c = console()
        c.print(table)
        if rep.mode != "rich":  # the rich reporter printed the report's path when it was written
            c.print(f"report: {html_path}")


def _pick_topics(sim: Path, real: Path | None, sim_topic: str | None, real_topic: str | None,
                 defaults: tuple[str, str] | None = None) -> tuple[Path, Path, str | None, str | None]:
    """One bag holding both sides (REAL omitted) or two inputs."""
    from ..errors import InputError
    from ..trajectory.readers import bag_topics, is_bag

    if real is not None:
        return sim, real, sim_topic, real_topic
    if not is_bag(sim):
        raise InputError(f"{sim}: expected a REAL input too (only a bag can hold both sides)")
    if defaults and not (sim_topic and real_topic):
        topics = bag_topics(sim)
        sim_topic = sim_topic or (defaults[0] if defaults[0] in topics else None)
        real_topic = real_topic or (defaults[1] if defaults[1] in topics else None)
    if not (sim_topic and real_topic):
        raise InputError(f"{sim}: one bag for both sides needs --sim-topic and --real-topic")
    return sim, sim, sim_topic, real_topic


@app.command()
def trajectories(
    sim: Annotated[Path, typer.Argument(help="Sim trajectory: .csv, .parquet, .jsonl, or a ROS bag / .mcap.")],
    real: Annotated[Path | None, typer.Argument(help="Real trajectory (omit when one bag holds both topics).")] = None,
    out: OutOpt = None,
    sim_topic: SimTopicOpt = None,
    real_topic: RealTopicOpt = None,
    channels: Annotated[str | None, typer.Option("--channels", help="Channels to compare, comma-separated (default: common names).")] = None,
    clock: Annotated[str, typer.Option("--clock", help="Common clock: 'real', 'sim', or a uniform rate in Hz.")] = "real",
    offset: OffsetOpt = "0",
    compensate_delay: Annotated[bool, typer.Option("--compensate-delay", help="Shift sim by the estimated delay before the metrics.")] = False,
    max_lag: Annotated[float | None, typer.Option("--max-lag", help="Largest delay searched, seconds (default: a quarter of the overlap).")] = None,
    normalize: Annotated[str, typer.Option("--normalize", help="Gap score on 'range'-normalised errors or 'none' (the seeds' raw formula).")] = "range",
    stamp: StampOpt = "header",
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Compare a simulated and a real trajectory: metrics per channel, delay, DTW, gap score, report."""
    from .metrics import trajectory_gap
    from ..trajectory.readers import read_trajectory
    from .report_sections import trajectory_sections

    rep = reporter(progress)
    sim, real_path, sim_topic, real_topic = _pick_topics(sim, real, sim_topic, real_topic)
    with rep.task("read", total=2, unit="file") as task:
        s = read_trajectory(sim, sim_topic, stamp)
        task.advance()
        r = read_trajectory(real_path, real_topic, stamp)
        task.advance()
    gap = trajectory_gap(s, r, channels.split(",") if channels else None, clock=_clock(clock), offset=_offset(offset),
                         compensate_delay=compensate_delay, max_lag_s=max_lag, normalize=normalize)  # type: ignore[arg-type]
    data = gap.to_dict()
    _publish("trajectories", "Reality gap: trajectories", trajectory_sections(gap), data,
             _inputs(sim=sim, real=real_path, sim_topic=sim_topic, real_topic=real_topic), out, rep,
             [("assessment", gap.assessment), ("gap score", f"{gap.gap_score:.4g}"),
              ("NRMSE (mean)", f"{gap.overall['nrmse']:.4g}"), ("delay", f"{gap.delay_s:.4g} s"),
              ("overlap", f"{gap.overlap['duration_s']:.4g} s, {gap.overlap['n_samples']} samples")], json_out)


@app.command()
def poses(
    sim: Annotated[Path, typer.Argument(help="Sim poses (x, y, z, qw, qx, qy, qz columns) or a bag.")],
    real: Annotated[Path | None, typer.Argument(help="Real poses (omit when one bag holds both topics).")] = None,
    out: OutOpt = None,
    sim_topic: Annotated[str | None, typer.Option("--sim-topic", help="Default in a shared bag: /sim_robot_pose.")] = None,
    real_topic: Annotated[str | None, typer.Option("--real-topic", help="Default in a shared bag: /real_robot_pose.")] = None,
    match: Annotated[str, typer.Option("--match", help="'interpolate' sim at real times, or 'nearest' as the live node.")] = "interpolate",
    tolerance: Annotated[float, typer.Option("--tolerance", help="Largest time difference for 'nearest', seconds.")] = 0.05,
    position_threshold: Annotated[float, typer.Option("--position-threshold", help="Metres.")] = 0.1,
    orientation_threshold: Annotated[float, typer.Option("--orientation-threshold", help="Radians.")] = 0.2,
    pass_share: Annotated[float, typer.Option("--pass-share", help="Share of valid poses needed to pass.")] = 0.95,
    window: Annotated[int, typer.Option("--window", help="Rolling-statistics window, samples.")] = 100,
    offset: OffsetOpt = "0",
    stamp: StampOpt = "header",
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Validate real poses against simulated ones: position and orientation errors, accuracy, report."""
    from ..trajectory.align import start_offset_s
    from .poses import PoseThresholds, PoseTrack, validate_poses
    from ..trajectory.readers import read_trajectory
    from .report_sections import pose_sections

    rep = reporter(progress)
    sim, real_path, sim_topic, real_topic = _pick_topics(sim, real, sim_topic, real_topic,
                                                         ("/sim_robot_pose", "/real_robot_pose"))
    s_traj = read_trajectory(sim, sim_topic, stamp)
    r_traj = read_trajectory(real_path, real_topic, stamp)
    off = _offset(offset)
    off_s = start_offset_s(s_traj, r_traj) if off == "start" else off
    th = PoseThresholds(position_threshold, orientation_threshold, pass_share)
    v = validate_poses(PoseTrack.from_trajectory(s_traj), PoseTrack.from_trajectory(r_traj), th, window,
                       match, tolerance, off_s)  # type: ignore[arg-type]
    s = v.summary
    _publish("poses", "Reality gap: poses", pose_sections(v), v.to_dict(),
             _inputs(sim=sim, real=real_path, sim_topic=sim_topic, real_topic=real_topic), out, rep,
             [("result", "PASS" if s["passed"] else "FAIL"), ("accuracy", f"{s['accuracy']:.3f}"),
              ("position error mean", f"{s['position_error_m']['mean']:.4g} m"),
              ("orientation error mean", f"{s['orientation_error_rad']['mean']:.4g} rad"), ("poses", str(s["n"]))],
             json_out)


@app.command()
def images(
    sim_dir: Annotated[Path, typer.Argument(help="Sim images: a folder (png/jpg; sub-folders = classes), a sim2real dataset or a ROS bag.")],
    real_dir: Annotated[Path, typer.Argument(help="Real images: a folder, a sim2real dataset or a ROS bag.")],
    out: OutOpt = None,
    sim_topic: SimTopicOpt = None,
    real_topic: RealTopicOpt = None,
    features: Annotated[str, typer.Option("--features", help="'random' (seeded random conv net) or 'model:RUN' (a trained model's encoder).")] = "random",
    size: Annotated[int, typer.Option("--size", help="Side of the square images fed to the features, pixels.")] = 64,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random features, subsets and permutations.")] = 0,
    pair: Annotated[PairMode, typer.Option("--pair", help="Compare images pair by pair: 'auto' (by name, only when both sides are folders of paired captures), 'name', 'order' or 'none'.")] = "auto",
    max_images: Annotated[int | None, typer.Option("--max-images", help="Use at most N images per side.")] = None,
    kid_subsets: Annotated[int, typer.Option("--kid-subsets")] = 100,
    kid_subset_size: Annotated[int, typer.Option("--kid-subset-size")] = 1000,
    permutations: Annotated[int, typer.Option("--permutations", help="Permutations of the MMD test.")] = 200,
    translator: Annotated[Path | None, typer.Option("--translator", help="A `translate train` run: also measure the gap after translating the sim images.")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Compare a sim and a real image set: KID/MMD on features, colour, frequency, SSIM/NCC per pair."""
    from ..train.features import extractor_from_spec
    from .image_gap import image_gap
    from ..dataset.imagesets import open_image_set
    from .report_sections import image_sections

    rep = reporter(progress)
    extractor = extractor_from_spec(features, seed=seed, size=size)
    g = image_gap(open_image_set(sim_dir, max_images, sim_topic), open_image_set(real_dir, max_images, real_topic), extractor, pair,
                  kid_subsets, kid_subset_size, permutations, seed, rep)
    data = g.to_dict()
    ps = g.pair_summary()
    sections = image_sections(g)
    if translator is not None:  # the same measures on the translated sim images
        from ..translate.apply import Translator, translated_image_set
        from ..translate.report_section import translation_section

        tr = Translator(translator)
        after = image_gap(translated_image_set(open_image_set(sim_dir, max_images, sim_topic), tr),
                          open_image_set(real_dir, max_images, real_topic), extractor, pair, kid_subsets,
                          kid_subset_size, permutations, seed, rep)
        data["translated"] = {"translator": str(tr.path), **after.to_dict()}
        sections.insert(1, translation_section(g, after, str(tr.path)))
    _publish("images", "Reality gap: images", sections, data,
             _inputs(sim=sim_dir, real=real_dir, features=extractor.name, seed=seed,
                     **({"translator": translator} if translator is not None else {})), out, rep,
             [("KID", f"{g.kid['mean']:.4g} ± {g.kid['std']:.2g}"), ("MMD p-value", f"{g.mmd['p_value']:.3g}"),
              ("colour mean |diff|", f"{g.stats['colour']['mean_abs_diff']:.3g}"),
              ("pairs", f"{ps['n']}, SSIM mean {ps['ssim_mean']:.3f}" if ps["n"] else f"not compared ({g.pair_why})")],
             json_out)


@app.command()
def policy(
    sim_returns: Annotated[Path, typer.Argument(help="Sim episode returns: .csv/.jsonl with a 'return' column, or .json list.")],
    real_returns: Annotated[Path, typer.Argument(help="Real episode returns, same format.")],
    out: OutOpt = None,
    success_threshold: Annotated[float | None, typer.Option("--success-threshold", help="Return counted as a success.")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Compare sim and real episode returns: transfer ratio, performance gap, success rate."""
    from .policy import read_returns, transfer_metrics
    from .report_sections import policy_sections

    rep = reporter(progress)
    s, s_ok = read_returns(sim_returns)
    r, r_ok = read_returns(real_returns)
    m = transfer_metrics(s, r, success_threshold, s_ok, r_ok)
    ratio = m["transfer_ratio"]
    _publish("policy", "Reality gap: policy transfer", policy_sections(m, s, r), m,
             _inputs(sim=sim_returns, real=real_returns), out, rep,
             [("assessment", m["assessment"]), ("transfer ratio", "undefined" if ratio is None else f"{ratio:.3f}"),
              ("performance gap", f"{m['performance_gap']:.4g}")], json_out)


@app.command()
def live(
    out: OutOpt = None,
    sim_topic: Annotated[str, typer.Option("--sim-topic")] = "/sim_robot_pose",
    real_topic: Annotated[str, typer.Option("--real-topic")] = "/real_robot_pose",
    duration: Annotated[float | None, typer.Option("--duration", help="Seconds to run (default: until Ctrl-C).")] = None,
    tolerance: Annotated[float, typer.Option("--tolerance", help="Largest sim/real time difference, seconds.")] = 0.05,
    position_threshold: Annotated[float, typer.Option("--position-threshold", help="Metres.")] = 0.1,
    orientation_threshold: Annotated[float, typer.Option("--orientation-threshold", help="Radians.")] = 0.2,
    pass_share: Annotated[float, typer.Option("--pass-share")] = 0.95,
    window: Annotated[int, typer.Option("--window", help="Buffer and rolling window, samples.")] = 100,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Validate poses live on a robot (ROS 2 with rclpy); writes the report when stopped."""
    from ..trajectory.rclpy_guard import require_rclpy
    from .live import run_live
    from .poses import PoseThresholds
    from .report_sections import pose_sections

    require_rclpy()
    rep = reporter(progress)
    th = PoseThresholds(position_threshold, orientation_threshold, pass_share)
    validator = run_live(sim_topic, real_topic, th, window, tolerance, duration, rep)
    v = validator.validation(window)
    s = v.summary
    _publish("poses", "Reality gap: live pose validation", pose_sections(v), {**v.to_dict(), "live": validator.summary()},
             _inputs(sim_topic=sim_topic, real_topic=real_topic), out, rep,
             [("result", "PASS" if s["passed"] else "FAIL"), ("accuracy", f"{s['accuracy']:.3f}"), ("poses", str(s["n"]))],
             json_out)
