"""A discrete-time LQR gain of a MuJoCo model about its reset state (``mujoco.mjd_transitionFD``).

Used as the expert of a control task whose physics is known in simulation (meta-learning's policy
family demonstrates each task with the controller designed for that task's own model).
"""

from __future__ import annotations

import copy

import mujoco
import numpy as np


def linearize(model: mujoco.MjModel, frame_skip: int = 1, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """``(A, B)`` of ``x' = A x + B u`` over ``frame_skip`` physics steps about the model's reset state
    with zero command; ``x = [qpos, qvel]`` in tangent coordinates (``2 nv + na`` values). A model
    integrated with RK4 (which ``mjd_transitionFD`` does not support) is linearised with Euler."""
    if model.opt.integrator == mujoco.mjtIntegrator.mjINT_RK4:
        model = copy.copy(model)
        model.opt.integrator = mujoco.mjtIntegrator.mjINT_EULER
    data = mujoco.MjData(model)
    mujoco.mj_resetData(model, data)
    mujoco.mj_forward(model, data)
    nx = 2 * model.nv + model.na
    a1, b1 = np.zeros((nx, nx)), np.zeros((nx, model.nu))
    mujoco.mjd_transitionFD(model, data, eps, True, a1, b1, None, None)
    a, b = a1.copy(), b1.copy()
    for _ in range(frame_skip - 1):  # the command holds: x_n = A^n x + (A^(n-1) + ... + I) B u
        a, b = a1 @ a, a1 @ b + b1
    return a, b


def lqr_gain(model: mujoco.MjModel, q_diag: np.ndarray, r_diag: np.ndarray, frame_skip: int = 1) -> np.ndarray:
    """The gain ``K`` of ``u = -K x`` minimising ``sum x'Qx + u'Ru`` for the linearised model."""
    from scipy.linalg import solve_discrete_are

    a, b = linearize(model, frame_skip)
    q, r = np.diag(np.asarray(q_diag, float)), np.diag(np.asarray(r_diag, float))
    p = solve_discrete_are(a, b, q, r)
    return np.linalg.solve(r + b.T @ p @ b, b.T @ p @ a)
