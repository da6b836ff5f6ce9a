"""CMA-ES with population intervals, and the neural residual on top of a calibrated simulator (on the
analytic mass-spring-damper: fast, and its answers are known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sim2real.errors import UserError
from sim2real.sysid.fit import FitOptions, identify
from sysid_helpers import MSD_TRUTH, write_msd_logs

FACTORS = np.array(MSD_TRUTH) / np.array([1.0, 0.5, 4.0])
PARAMS = "body:mass/mass,joint:x/damping,joint:x/stiffness"


def test_cma_es_finds_the_truth_with_population_intervals(tmp_path: Path) -> None:
    from sim2real.sysid.analytic import MassSpringDamper

    logs = write_msd_logs(tmp_path, [1], noise=0.001, duration_s=4.0)
    sim = MassSpringDamper(dt=0.01)  # exact for commands held over 10 ms samples
    outcome = identify(FitOptions("msd", logs, PARAMS, optimizer="cma", intervals="population", max_iter=150, seed=3),
                       sim=sim)
    np.testing.assert_allclose(outcome.x, FACTORS, rtol=0.01)
    assert outcome.uncertainty.method == "population" and outcome.result.population is not None
    assert np.all(np.isfinite(outcome.uncertainty.half_width)) and np.all(outcome.uncertainty.half_width > 0)
    again = identify(FitOptions("msd", logs, PARAMS, optimizer="cma", intervals="population", max_iter=150, seed=3),
                     sim=sim)
    np.testing.assert_array_equal(again.x, outcome.x)  # seeded
    with pytest.raises(UserError, match="--intervals population needs --optimizer cma"):
        identify(FitOptions("msd", logs, PARAMS, intervals="population"))


def test_neural_residual_learns_what_the_model_lacks(tmp_path: Path) -> None:
    """The data have a stiff cubic spring the linear model cannot represent. The calibrated simulator
    predicts each held-out sample from the one before; the residual MLP (trained on fitted rows only)
    removes a good part of what it misses. Saved and loaded, it predicts the same."""
    from sim2real.sysid.analytic import MassSpringDamper
    from sim2real.sysid.neural import ResidualModel

    logs = write_msd_logs(tmp_path, [1, 2, 3], cubic=1000.0, duration_s=6.0, noise=0.0002)
    outcome = identify(FitOptions("msd", logs, PARAMS, residual=True, seed=0), sim=MassSpringDamper(dt=0.01))
    per = outcome.one_step_summary["per_channel"]
    assert per["one-step+residual"]["x.velocity"]["rmse"] < 0.8 * per["one-step"]["x.velocity"]["rmse"]
    assert outcome.one_step and outcome.one_step[0].predicted.keys() == {"one-step", "one-step+residual"}
    model = outcome.residual_model
    assert len(model.history["val"]) >= 2 and min(model.history["val"]) < model.history["val"][0]
    path = model.save(tmp_path / "residual.pt")
    loaded = ResidualModel.load(path)
    rng = np.random.default_rng(0)
    cmd, out = rng.normal(size=(50, 1)), rng.normal(size=(50, 2))
    np.testing.assert_array_equal(loaded.predict(cmd, out), model.predict(cmd, out))
