"""Fixtures of the sysid tests, imported by the modules that use them: the arm2 simulator, surrogate logs."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim2real.sysid.surrogate import SurrogateSpec
from sim2real.sysid.logs import write_log
from sysid_helpers import arm2_commands, arm2_truth_terms


def _arm2_logs(folder: Path, noisy: bool) -> list[Path]:
    from sim2real.sysid.surrogate import open_surrogate

    noise = [{"channels": "*_pos", "std": 0.001}, {"channels": "*_vel", "std": 0.01}] if noisy else []
    spec = SurrogateSpec(scene="arm2", seed=3, truth={"terms": arm2_truth_terms()}, noise=noise)
    robot = open_surrogate(spec)
    try:
        return [write_log(robot.run(arm2_commands(seed), episode=i), folder / f"arm2_{'noisy' if noisy else 'clean'}_{i}.csv")
                for i, seed in enumerate((1, 2))]
    finally:
        robot.backend.close()


@pytest.fixture(scope="session", name="arm2_sim")
def arm2_sim_fixture():
    """One MuJoCo simulator of arm2 for the session (2 rollout threads)."""
    from sim2real.backends.mujoco.rollout import MujocoSimulator

    sim = MujocoSimulator("arm2", nthread=2)
    yield sim
    sim.close()


@pytest.fixture(scope="session", name="arm2_clean_logs")
def arm2_clean_logs_fixture(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _arm2_logs(tmp_path_factory.mktemp("arm2_clean"), noisy=False)


@pytest.fixture(scope="session", name="arm2_noisy_logs")
def arm2_noisy_logs_fixture(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _arm2_logs(tmp_path_factory.mktemp("arm2_noisy"), noisy=True)
