"""The transfer validator (the seeds' TransferValidator): a policy's episodes in simulation and on a
robot, compared with ``gap.policy.transfer_metrics`` (transfer ratio = mean robot return / mean sim
return, performance gap, success rates from each episode's success flag) and reported with #7's
policy sections plus the safety stops.

The simulation side is the policy's environment as configured, without randomization, delay or noise:
the simulator the policy was trained for, as shipped. The robot runs under the safety monitor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

from ..progress import NullReporter, Reporter
from .config import TrainConfig
from .contract import Contract
from .policy import Policy
from .robot import Robot, RobotEnv
from .rollout import Episodes, run_episodes
from .safety import SafetyMonitor, SafetyShield, SafetySpec
from .tasks import task_for


@dataclass
class Transfer:
    sim: Episodes
    real: Episodes
    metrics: dict[str, Any]
    logs: list[Any]  # the robot episodes as logs (commands + measurements)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "sim": self.sim.to_dict(), "real": self.real.to_dict()}


def robot_env(robot: Robot, contract: Contract, safety: SafetySpec | None, seed: int, record: bool = True,
              safety_log: str | PathLike[str] | None = None, source: str = "safety") -> Any:
    """A robot as the policy's environment: the task of the contract, commands bounded as in training,
    under the safety monitor (emergency stop: the robot's)."""
    task = task_for(contract.env, len(contract.observation))
    env: Any = RobotEnv(robot, task, [s.low for s in contract.action], [s.high for s in contract.action],
                        seed=seed, record=record)
    if safety is not None:
        monitor = SafetyMonitor(safety, robot.channels, contract.effort_per_command(), source)
        env = SafetyShield(env, monitor, task.observation, contract.action_names,
                           estop=lambda violations: robot.emergency_stop(), log_path=safety_log)
    return env


def sim_episodes(policy: Policy, cfg: TrainConfig, episodes: int, seed: int, reporter: Reporter) -> Episodes:
    from .train import build_env

    sim = build_env(cfg, seed, profile=None, noise=False)
    try:
        return run_episodes(policy.act, sim.env, episodes, seed, reporter, "simulation episodes")
    finally:
        sim.env.close()


def assess(policy: Policy, cfg: TrainConfig, robot: Robot, episodes: int, seed: int = 0,
           safety: SafetySpec | None = None, reporter: Reporter | None = None,
           safety_log: str | PathLike[str] | None = None, sim: Episodes | None = None) -> Transfer:
    """Episodes in simulation (unless given) and on ``robot`` (connected), and the transfer metrics."""
    from ..gap.policy import transfer_metrics

    reporter = reporter or NullReporter()
    sim = sim if sim is not None else sim_episodes(policy, cfg, episodes, seed, reporter)
    if hasattr(robot, "restart"):  # a surrogate replays its hidden robots from the first
        robot.restart()
    env = robot_env(robot, policy.contract, safety, seed, record=True, safety_log=safety_log)
    real = run_episodes(policy.act, env, episodes, seed, reporter, "robot episodes")
    env.close()
    metrics = transfer_metrics(sim.returns, real.returns, sim_success=sim.successes, real_success=real.successes)
    metrics["safety_stops"] = real.stopped
    return Transfer(sim, real, metrics, list(env.unwrapped.logs))


def transfer_sections(t: Transfer, robot_name: str) -> list[Any]:
    """#7's policy sections, plus what the safety monitor stopped."""
    import numpy as np

    from ..gap.report_sections import policy_sections
    from ..report import Metric, Section

    sections = policy_sections(t.metrics, np.array(t.sim.returns), np.array(t.real.returns))
    stops = [(k, v) for k, vs in enumerate(t.real.safety_stops) for v in vs]
    sec = Section("safety", "Safety monitor").metrics([
        Metric("episodes stopped", t.real.stopped, status="good" if not t.real.stopped else "warn",
               note=f"of {t.real.n} on {robot_name}"),
    ])
    if stops:
        sec.table(["episode", "kind", "channel", "value", "limit", "when"],
                  [[k, v["kind"], v["channel"], v["value"], v["limit"], v["when"]] for k, v in stops[:200]])
    return [*sections, sec]


def write_report(t: Transfer, out: str | PathLike[str], title: str, facts: dict[str, Any],
                 extra: Sequence[Any] = ()) -> tuple[Path, Path]:
    from ..report import Report, json_safe

    report = Report(title, subtitle="sim2real policy transfer report", facts=facts, kind="control.validate",
                    data=json_safe(t.to_dict()))
    for s in [*transfer_sections(t, str(facts.get("robot", "robot"))), *extra]:
        report.add(s)
    return report.write(Path(out))
