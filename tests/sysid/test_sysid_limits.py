"""Excitation kept off the joint limits, on a robot we did not model (gymnasium's pusher, torque motors).

The oracle is a plain ``mujoco.mj_step`` loop on the unmodified model, not ``sim2real``'s batched
rollouts; the unlimited excitation of the same spec drives the wrist into its limit (so the
assertions can fail).
"""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest
from sim2real.errors import UserError
from sim2real.sysid.cli import _positions
from sim2real.sysid.excite import ExcitationSpec
from sim2real.sysid.limits import designed
from sim2real.sysid.logs import read_log
from sim2real.sysid.simulator import open_simulator

PUSHER = "pkg:gymnasium/envs/mujoco/assets/pusher_v5.xml"
ARM = ["r_shoulder_pan_joint", "r_shoulder_lift_joint", "r_upper_arm_roll_joint", "r_elbow_flex_joint",
       "r_forearm_roll_joint", "r_wrist_flex_joint", "r_wrist_roll_joint"]
START = dict(zip(ARM, [0.0, 0.3, 0.0, -1.1, 0.0, -0.5, 0.0], strict=True))  # qpos0 sits on two limits
SPEC = ExcitationSpec("multisine", 10.0, 100.0, [0.6], [0.0], (0.3, 3.0), seed=0, settle_s=0.3, fade_s=0.5)


@pytest.fixture(scope="module")
def pusher():
    sim = open_simulator(PUSHER, nthread=0)
    yield sim
    sim.close()


def replay(sim, commands: np.ndarray) -> tuple[np.ndarray, int]:
    """Arm joint positions of the nominal pusher replaying ``commands`` (one per 10 ms step), and the
    steps with an active joint-limit constraint."""
    model = sim.model
    data = mujoco.MjData(model)
    for name, q in START.items():
        data.qpos[model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)]] = q
    mujoco.mj_forward(model, data)
    q, on_limit = np.zeros((len(commands), 7)), 0
    for k, u in enumerate(commands):
        data.ctrl[:] = u
        mujoco.mj_step(model, data)
        q[k] = data.qpos[:7]
        on_limit += int(np.any(data.efc_type[:data.nefc] == mujoco.mjtConstraint.mjCNSTR_LIMIT_JOINT))
    return q, on_limit


def test_the_designed_excitation_keeps_every_joint_inside_its_safe_band(pusher) -> None:
    free = designed(SPEC, pusher, START, margin=None)
    q_free, hits_free = replay(pusher, free.commands)
    ex = designed(SPEC, pusher, START)  # the default margin: 0.1 of each joint's range
    q, hits = replay(pusher, ex.commands)
    ranges = np.array([pusher.joint_ranges()[j] for j in ARM])
    pad = 0.1 * (ranges[:, 1] - ranges[:, 0])
    assert hits_free > 0 and q_free[:, 5].max() > ranges[5, 1] - pad[5]  # unlimited: the wrist hits its stop
    assert hits == 0
    assert np.all(q.min(0) >= ranges[:, 0] + pad - 1e-6) and np.all(q.max(0) <= ranges[:, 1] - pad + 1e-6)
    # only the actuators whose joints needed it lost amplitude; the wrist keeps a useful share
    peak, free_peak = np.abs(ex.commands).max(0), np.abs(free.commands).max(0)
    scaled = peak < free_peak - 1e-12
    assert scaled[5] and 0.2 < peak[5] / free_peak[5] < 1.0
    np.testing.assert_array_equal(ex.commands[:, ~scaled], free.commands[:, ~scaled])
    assert any("r_wrist_flex_joint: amplitude scaled" in n for n in ex.notes)
    np.testing.assert_array_equal(ex.commands, designed(SPEC, pusher, START).commands)  # deterministic


def test_a_start_on_a_limit_is_reported_not_hidden(pusher) -> None:
    ex = designed(SPEC, pusher, {})  # pusher's qpos0: elbow and wrist flex at their upper limits (0)
    assert any("joint r_wrist_flex_joint: starts at 0" in n and "--start" in n for n in ex.notes)
    with pytest.raises(UserError, match="--start: unknown joints nose"):
        designed(SPEC, pusher, {"nose": 1.0})
    with pytest.raises(UserError, match="--limit-margin"):
        designed(SPEC, pusher, START, margin=0.5)


def test_cli_excites_off_the_limits_by_default(tmp_path: Path, run_cli, pusher) -> None:
    """One CLI run (~10 s: the process imports the CLI and MuJoCo): what a user gets by default."""
    out = tmp_path / "cmd.csv"
    start = ",".join(f"{j}={v:g}" for j, v in START.items())
    proc = run_cli("sysid", "excite", "--model", PUSHER, "--amplitude", "0.6", "--band", "0.3,3", "--duration", "10",
                   "--settle", "0.3", "--fade", "0.5", "--start", start, "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_allclose(read_log(out).commands.values, designed(SPEC, pusher, START).commands, atol=1e-9)
    with pytest.raises(UserError, match="--start: expected joint=value pairs"):
        _positions("r_wrist_flex_joint")  # in process: a second CLI run would cost ~10 s of imports
