"""The interval machinery on inputs whose answer is known: a linear model (the sandwich is the textbook
covariance), a Jacobian with one exploded column (a finite difference across a joint-limit impact), and a
cost that jumps beside the estimate."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import numpy as np
import pytest
from sim2real.sysid.fit import _checked_jacobian
from sim2real.sysid.uncertainty import jacobian_intervals


def _linear(seed: int = 0, n: int = 4000) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Jacobian (n, 3) of one channel and white unit-variance residuals."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 10, n)
    J = np.column_stack([np.sin(t), np.cos(2.3 * t), np.sin(0.7 * t + 1)])
    return J, rng.normal(size=n)


def test_white_residuals_give_the_textbook_covariance() -> None:
    J, r = _linear()
    unc = jacobian_intervals(J, r, [(0, len(r))], np.ones(1))
    textbook = np.sqrt(np.diag(np.linalg.inv(J.T @ J)) * (r @ r) / (len(r) - 3))
    assert np.allclose(unc.std, textbook, rtol=0.1)  # long-run estimate of white scores: about the variance


def test_one_exploded_column_does_not_make_the_others_unidentifiable() -> None:
    J, r = _linear()
    base = jacobian_intervals(J, r, [(0, len(r))], np.ones(1))
    blown = J.copy()
    blown[:, 0] *= 1e9  # the scale of a forward difference across a jump (issue #29, pusher)
    unc = jacobian_intervals(blown, r, [(0, len(r))], np.ones(1))
    # it used to flag every parameter "not identifiable" (eigenvalues tested against the largest)
    assert np.all(np.isfinite(unc.std))
    assert unc.std[0] == pytest.approx(base.std[0] * 1e-9, rel=1e-6)
    assert np.allclose(unc.std[1:], base.std[1:], rtol=1e-6)
    dead = J.copy()
    dead[:, 2] = 0.0  # a parameter the logs do not touch
    unc = jacobian_intervals(dead, r, [(0, len(r))], np.ones(1))
    assert np.isinf(unc.std[2]) and np.all(np.isfinite(unc.std[:2]))


class _Jumping:
    """Residuals ``r(x) = x0·a + x1·b + 1e3·[x1 > edge]·c``: smooth in ``x0``, a jump just above ``x1``."""

    def __init__(self, edge: float) -> None:
        rng = np.random.default_rng(1)
        self.a, self.b, self.c = rng.normal(size=(3, 500))
        self.edge = edge
        self.params = [SimpleNamespace(name="smooth"), SimpleNamespace(name="jumpy")]
        self.n_params = 2

    def residuals(self, x: np.ndarray) -> np.ndarray:
        return x[0] * self.a + x[1] * self.b + 1e3 * (x[1] > self.edge) * self.c

    def jacobian(self, x: np.ndarray, r0: np.ndarray, rel_step: float = 1e-6) -> np.ndarray:
        cols = []
        for i in range(2):
            h = rel_step * max(abs(x[i]), 1.0)
            step = x.copy()
            step[i] += h
            cols.append((self.residuals(step) - r0) / h)
        return np.column_stack(cols)


def test_a_cost_that_jumps_beside_the_estimate_uses_the_smooth_side_and_says_so(caplog) -> None:
    x = np.array([1.0, 2.0])
    jumping = _Jumping(edge=2.0 + 5e-7)  # within a forward step of x1, beyond a backward one
    with caplog.at_level(logging.WARNING, logger="sim2real.sysid.fit"):
        J, rough = _checked_jacobian(jumping, x, jumping.residuals(x))
    assert rough.tolist() == [False, True]
    assert np.allclose(J[:, 0], jumping.a, atol=1e-6) and np.allclose(J[:, 1], jumping.b, atol=1e-6)
    assert "the cost jumps within a finite-difference step of the estimate in jumpy" in caplog.text
    smooth = _Jumping(edge=10.0)
    caplog.clear()
    J, rough = _checked_jacobian(smooth, x, smooth.residuals(x))
    assert not rough.any() and not caplog.text
