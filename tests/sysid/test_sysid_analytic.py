"""The seeds' mass-spring-damper, kept as the simple case and as an oracle: its exact solution checks
MuJoCo rollouts, its closed-form estimate checks the nonlinear identification."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real.sysid.analytic import MassSpringDamper, closed_form_estimate, simulate
from sim2real.sysid.fit import FitOptions, identify
from sysid_helpers import MSD_TRUTH, msd_log, write_msd_logs

MSD_MJCF = """<mujoco model="msd">
  <option timestep="0.001" integrator="RK4" gravity="0 0 0"/>
  <worldbody>
    <body name="mass">
      <joint name="x" type="slide" axis="1 0 0" damping="0.5" stiffness="4"/>
      <geom type="sphere" size="0.05" mass="1" contype="0" conaffinity="0"/>
    </body>
  </worldbody>
  <actuator><motor name="force" joint="x" gear="1"/></actuator>
</mujoco>
"""
MSD_PARAMS = "body:mass/mass,joint:x/damping,joint:x/stiffness"
FACTORS = np.array(MSD_TRUTH) / np.array([1.0, 0.5, 4.0])  # truth relative to both models' defaults


def test_the_seeds_euler_update_converges_to_the_exact_solution() -> None:
    force = np.sin(np.linspace(0, 20, 2000))
    exact = simulate(*MSD_TRUTH, force, 0.001, np.zeros(2))
    coarse = simulate(*MSD_TRUTH, force[::10].repeat(10)[:2000], 0.001, np.zeros(2))  # same force, held
    errors = []
    for sub in (1, 10):
        fine = simulate(*MSD_TRUTH, np.repeat(force, sub), 0.001 / sub, np.zeros(2), method="euler")[::sub]
        errors.append(np.abs(fine - exact).max())
    assert errors[1] < errors[0] / 5 and errors[1] < 2e-4  # first order: 10x smaller steps, ~10x smaller error
    assert np.abs(coarse - exact).max() > 1e-3  # the comparison can tell forces apart


def test_closed_form_estimate_recovers_the_truth() -> None:
    log = msd_log(0, rate_hz=1000.0)  # dense samples: central differences are accurate
    force = log.commands.values[:, 0]
    m, c, k = closed_form_estimate(log.measurements.values[:, 0], force, 0.001)
    np.testing.assert_allclose([m, c, k], MSD_TRUTH, rtol=0.02)


def test_identification_matches_the_truth_and_its_intervals_cover_it(tmp_path: Path) -> None:
    sim = MassSpringDamper(dt=0.01)  # exact for forces held over the 10 ms samples
    clean = identify(FitOptions("msd", write_msd_logs(tmp_path, [1, 2]), MSD_PARAMS + ",actuator:force/latency"),
                     sim=sim)
    np.testing.assert_allclose(clean.x[:3], FACTORS, rtol=1e-6)
    assert clean.x[3] == pytest.approx(0.0, abs=1e-6)
    assert clean.summary["rmse_ratio_mean"] < 1e-4  # the held-out quarter is predicted exactly
    noisy_dir = tmp_path / "noisy"
    noisy_dir.mkdir()
    noisy = identify(FitOptions("msd", write_msd_logs(noisy_dir, [1, 2], noise=0.002), MSD_PARAMS), sim=sim)
    err = np.abs(noisy.x - FACTORS)
    # one noise draw: within 3 standard errors (how often 95 % intervals cover: test_sysid_coverage.py)
    assert np.all(err < 3 * noisy.uncertainty.std) and np.all(err / FACTORS < 0.02)
    assert np.all(noisy.uncertainty.half_width / FACTORS < 0.05)
    noise = dict(zip(noisy.channels, noisy.uncertainty.noise_std, strict=True))
    assert noise["x.position"] == pytest.approx(0.002, rel=0.15) and noise["x.velocity"] == pytest.approx(0.02, rel=0.15)


def test_mujoco_rollouts_match_the_exact_solution_and_identify_alike(tmp_path: Path) -> None:
    from sim2real.backends.mujoco.rollout import MujocoSimulator

    scene = tmp_path / "msd.xml"
    scene.write_text(MSD_MJCF)
    with MujocoSimulator(scene, nthread=2) as sim:
        force = np.sin(np.linspace(0, 12, 3000))[None, :, None]
        values = [{"body:mass/mass": (FACTORS[0], "scale"), "joint:x/damping": (FACTORS[1], "scale"),
                   "joint:x/stiffness": (FACTORS[2], "scale")}]
        got = sim.rollout(values, sim.initial_state({"x.position": 0.1})[None], force, ["x.position", "x.velocity"])
        analytic = MassSpringDamper().rollout(values, np.array([[0.1, 0.0]]), force, ["x.position", "x.velocity"])
        np.testing.assert_allclose(got, analytic, atol=1e-7)
        outcome = identify(FitOptions(str(scene), write_msd_logs(tmp_path, [3]), MSD_PARAMS), sim=sim)
    np.testing.assert_allclose(outcome.x, FACTORS, rtol=1e-5)
