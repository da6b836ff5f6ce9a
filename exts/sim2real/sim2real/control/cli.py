"""``sim2real policy``: train, validate on a robot, transfer progressively, export to ONNX.

Heavy imports (gymnasium, stable-baselines3, torch, mujoco) happen inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ..cli_common import JsonOpt, ProgressOpt, console, print_json, reporter

app = typer.Typer(help="Control policies: randomized training, transfer to a robot, ONNX export.", no_args_is_help=True)

PolicyOpt = Annotated[Path, typer.Option("--policy", "-p", help="A training run folder (sim2real policy train --out).")]
SurrogateOpt = Annotated[Path | None, typer.Option("--surrogate", help="A SURROGATE robot spec (TOML), e.g. data/control/inverted_pendulum_surrogate.toml.")]
Ros2Opt = Annotated[Path | None, typer.Option("--ros2", help="A ROS 2 robot spec (TOML: topics, actuators, channels); needs rclpy.")]
SafetyOpt = Annotated[Path | None, typer.Option("--safety", help="Safety limits (TOML), e.g. data/control/inverted_pendulum_safety.toml.")]
EpisodesOpt = Annotated[int, typer.Option("--episodes", help="Episodes on the robot (and in simulation).")]


def _show(result: dict[str, Any], json_out: bool, line: str) -> None:
    if json_out:
        print_json(result)
    else:
        console().print(line)


@app.command()
def train(
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (created; an interrupted run there resumes).")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Training configuration (TOML).")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Environment id, e.g. InvertedPendulum-v5, sim2real/Arm2Reach-v0.")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Randomization profile (TOML); 'none' for none.")] = None,
    algo: Annotated[str | None, typer.Option("--algo", help="ppo or sac.")] = None,
    steps: Annotated[int | None, typer.Option("--steps", help="Environment steps.")] = None,
    seed: Annotated[int | None, typer.Option("--seed")] = None,
    checkpoint_every: Annotated[int | None, typer.Option("--checkpoint-every", help="Steps between checkpoints.")] = None,
    init: Annotated[Path | None, typer.Option("--init", help="Start from the weights of this training run (fine-tuning).")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Train a policy with stable-baselines3 under a randomization profile (checkpoints; rerun to resume)."""
    from ..errors import UserError
    from .config import ALGOS, config_from, load_config
    from .train import train as run_training

    cfg = load_config(config) if config is not None else config_from({})
    data = cfg.resolved()
    overrides = {"env": env, "algo": algo, "steps": steps, "seed": seed, "checkpoint_every": checkpoint_every}
    if algo is not None and algo not in ALGOS:
        raise UserError(f"--algo: expected one of {', '.join(ALGOS)} (got {algo!r})")
    data.update({k: v for k, v in overrides.items() if v is not None})
    if profile is not None:
        data["profile"] = None if profile == "none" else str(Path(profile).resolve())
    cfg = config_from(data)
    rep = reporter(progress)
    result = run_training(cfg, out, rep, init=init)
    summary = {"run": str(out), **result.summary, "resumed_from": result.resumed_from}
    rep.result(summary)
    ret = summary.get("recent_return_mean")
    _show(summary, json_out, f"trained {cfg.algo} on {cfg.env} for {summary['steps']} steps -> {out}"
                             + (f" (recent return {ret:.4g})" if ret is not None else ""))


def _robot(surrogate: Path | None, ros2: Path | None, replay: list[Path] | None, period_s: float) -> Any:
    from ..errors import UserError

    chosen = [x for x in (surrogate, ros2, replay) if x]
    if len(chosen) != 1:
        raise UserError("robot: expected exactly one of --surrogate SPEC, --ros2 SPEC or --replay LOG")
    if surrogate is not None:
        from ..sysid.surrogate import load_spec
        from .robots import SurrogateRobotInterface

        return SurrogateRobotInterface(load_spec(surrogate), period_s)
    if ros2 is not None:
        from .ros2 import load_ros2

        return load_ros2(ros2)
    from .robots import ReplayRobot, read_logs

    return ReplayRobot(read_logs(replay or []), name=f"replay {', '.join(p.name for p in replay or [])}")


@app.command()
def validate(
    policy: PolicyOpt,
    surrogate: SurrogateOpt = None,
    ros2: Ros2Opt = None,
    replay: Annotated[list[Path] | None, typer.Option("--replay", help="Recorded robot logs to play back.")] = None,
    safety: SafetyOpt = None,
    episodes: EpisodesOpt = 10,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Report folder (default: runs/policy-validate-<id>).")] = None,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Transfer ratio, gap and success rate of a policy: episodes in simulation and on a robot."""
    import json

    from ..fsutil import atomic_write_json, locked_dir
    from ..runs import new_run_id, write_run_info
    from ..sysid.logs import write_log
    from .config import config_from
    from .policy import Policy
    from .safety import load_safety
    from .validate import assess, write_report

    rep = reporter(progress)
    pol = Policy.load(policy)
    cfg = config_from(json.loads((policy / "config.json").read_text()))
    robot = _robot(surrogate, ros2, replay, pol.contract.control_period_s)
    limits = load_safety(safety) if safety is not None else None
    run_id = new_run_id("policy-validate")
    out = out or Path("runs") / run_id
    with locked_dir(out, purpose="policy validation"):
        robot.connect()
        try:
            t = assess(pol, cfg, robot, episodes, seed, limits, rep, out / "safety.jsonl")
        finally:
            robot.disconnect()
        (out / "logs").mkdir(exist_ok=True)
        for k, lg in enumerate(t.logs):
            write_log(lg, out / "logs" / f"episode-{k:03d}.csv")
        html, _ = write_report(t, out, "Policy transfer", {"run": run_id, "policy": str(policy), "robot": robot.name,
                                                           "episodes": episodes})
        atomic_write_json(out / "result.json", t.to_dict())
        write_run_info(out, "policy-validate", run_id, inputs={"policy": str(policy.resolve()), "robot": robot.name,
                                                               "episodes": episodes, "seed": seed})
    rep.artifact("report", html)
    m = t.metrics
    rep.result({"report": str(html), **m})
    ratio = m["transfer_ratio"]
    _show({"report": str(html), **m}, json_out,
          f"{m['assessment']} transfer ratio {'undefined' if ratio is None else f'{ratio:.3f}'}, "
          f"robot return {m['real']['mean']:.4g} vs sim {m['sim']['mean']:.4g}, "
          f"{m['safety_stops']} safety stops -> {html}")


@app.command()
def transfer(
    policy: PolicyOpt,
    params: Annotated[str, typer.Option("--params", help="Parameters to identify (TOML or targets), e.g. data/control/inverted_pendulum_params.toml.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder of the rounds (rerun to resume).")],
    surrogate: SurrogateOpt = None,
    ros2: Ros2Opt = None,
    safety: SafetyOpt = None,
    rounds: Annotated[int, typer.Option("--rounds", help="Rounds of identify + narrow + fine-tune.")] = 1,
    episodes: EpisodesOpt = 10,
    finetune_steps: Annotated[int, typer.Option("--finetune-steps", help="Training steps per round.")] = 30_000,
    window: Annotated[float, typer.Option("--window", help="Seconds per identification window.")] = 1.0,
    narrow: Annotated[float, typer.Option("--narrow", help="Scale of the ranges identification does not set.")] = 0.5,
    safety_start: Annotated[float, typer.Option("--safety-start", help="Safety limits x this in round 0 (rising to 1).")] = 1.0,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Progressive transfer: evaluate on the robot, identify, narrow the randomization, fine-tune; repeat."""
    from .policy import Policy
    from .safety import load_safety
    from .transfer import ProgressiveTransfer, TransferOptions

    rep = reporter(progress)
    period = Policy.load(policy).contract.control_period_s
    robot = _robot(surrogate, ros2, None, period)
    opts = TransferOptions(rounds, episodes, finetune_steps, params, window, narrow, safety_start, seed=seed)
    truth = getattr(robot, "truth", None)
    loop = ProgressiveTransfer(policy, robot, load_safety(safety) if safety else None, opts, out, rep, truth)
    history = loop.run()
    result = {"history": history, "report": str(out / "report.html")}
    rep.result(result)
    ratios = ", ".join("undefined" if h["transfer_ratio"] is None else f"{h['transfer_ratio']:.3f}" for h in history)
    _show(result, json_out, f"transfer ratio per round: {ratios} -> {out / 'report.html'}")


@app.command()
def export(
    policy: PolicyOpt,
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for policy.onnx, contract.json, replay.json.")],
    episodes: Annotated[int, typer.Option("--episodes", help="Episodes of the replay check.")] = 2,
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="Steps per replay episode (default: whole episodes).")] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    json_out: JsonOpt = False,
    progress: ProgressOpt = "rich",
) -> None:
    """Export a policy to ONNX with its observation/action contract; check it replays MuJoCo as PyTorch does."""
    from ..errors import Sim2RealError
    from .export import export_policy

    rep = reporter(progress)
    result = export_policy(policy, out, episodes, seed, max_steps, rep)
    rep.result(result)
    r = result["replay"]
    _show(result, json_out, f"{result['onnx']}: replay {'passed' if r['passed'] else 'FAILED'} "
                            f"(max action diff {r['max_action_diff']:.2g}, max state diff {r['max_observation_diff']:.2g} "
                            f"over {r['steps']} steps)")
    if not r["passed"]:
        raise Sim2RealError(f"{result['onnx']}: the exported policy does not replay as the PyTorch one "
                            f"(see {out / 'replay.json'})")
