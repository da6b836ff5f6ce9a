"""gymnasium's MuJoCo environments (and our arm) randomized through the MuJoCo backend."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from control_helpers import PENDULUM, balance, write_profile
from sim2real.backends.mujoco.gym_env import attach_env
from sim2real.control.envs import make_env
from sim2real.control.tasks import Arm2Geometry, task_for
from sim2real.control.wrappers import DomainRandomization
from sim2real.errors import UnsupportedError, UserError
from sim2real.randomize.profile import load_profile


def _run(env: gym.Env, actions: np.ndarray, seed: int = 0) -> np.ndarray:
    obs, _ = env.reset(seed=seed)
    out = [obs]
    for a in actions:
        obs, *_ = env.step(a)
        out.append(obs)
    return np.array(out)


@pytest.mark.parametrize("env_id", [PENDULUM, "Reacher-v5", "Pusher-v5"])
def test_attached_env_moves_exactly_like_gymnasiums(env_id: str) -> None:
    actions = np.random.default_rng(1).uniform(-1, 1, (40, *gym.make(env_id).action_space.shape))
    plain = _run(gym.make(env_id), actions)
    env = gym.make(env_id)
    backend = attach_env(env)
    assert backend.entities()["body"] and backend.dt == env.unwrapped.model.opt.timestep
    assert np.array_equal(_run(env, actions), plain)  # bit for bit: the hook is mj_step(nstep=frame_skip)


def test_attach_refuses_a_model_of_another_file() -> None:
    from sim2real.backends.mujoco.backend import MujocoBackend

    env = gym.make("Reacher-v5")
    with pytest.raises(UnsupportedError, match="not this file's own compilation"):
        MujocoBackend().attach(gym.make(PENDULUM).unwrapped.fullpath, env.unwrapped.model, env.unwrapped.data)
    with pytest.raises(UserError, match="no environment"):
        make_env("NoSuchEnv-v0")


def test_the_randomizer_changes_the_model_between_episodes(tmp_path) -> None:
    profile = load_profile(write_profile(tmp_path / "p.toml", [
        {"target": "body:pole/mass", "dist": "uniform", "low": 0.5, "high": 2.0},
        {"target": "joint:*/damping", "dist": "loguniform", "low": 0.3, "high": 3.0},
    ]))
    env = DomainRandomization(gym.make(PENDULUM), profile, seed=5, task=task_for(PENDULUM))
    model, defaults = env.backend.model, env.backend.world.defaults
    pole = env.backend.physics.bodies["pole"]
    masses, records = [], []
    for _ in range(3):
        _, info = env.reset(seed=0)
        factor = info["randomization"]["body:pole/mass"]
        assert model.body_mass[pole] == pytest.approx(defaults["body_mass"][pole] * factor)
        assert np.allclose(model.body_inertia[pole], defaults["body_inertia"][pole] * factor)
        masses.append(float(model.body_mass[pole]))
        records.append(info["randomization"])
        env.step(env.action_space.sample())
    assert len(set(masses)) == 3  # a new pole every episode
    again = DomainRandomization(gym.make(PENDULUM), profile, seed=5, task=task_for(PENDULUM))
    assert [again.reset(seed=0)[1]["randomization"] for _ in range(3)] == records  # same seed, same episodes


def test_latency_in_physics_steps_acts_inside_the_control_period(tmp_path) -> None:
    """Two physics steps of latency = one control period of InvertedPendulum (frame_skip 2): the
    randomized env fed u_k moves exactly like the plain env fed u_{k-1} (0 before the first)."""
    profile = load_profile(write_profile(tmp_path / "p.toml", [
        {"target": "actuator:slide/latency", "dist": "constant", "value": 2, "op": "set"}]))
    actions = np.random.default_rng(2).uniform(-1, 1, (30, 1))
    delayed = _run(DomainRandomization(gym.make(PENDULUM), profile, 0, task_for(PENDULUM)), actions)
    plain = _run(gym.make(PENDULUM), np.concatenate([np.zeros((1, 1)), actions[:-1]]))
    assert np.allclose(delayed, plain, atol=1e-12)
    assert not np.allclose(delayed, _run(gym.make(PENDULUM), actions))


def test_interval_and_time_varying_terms_fire_between_physics_steps(tmp_path) -> None:
    profile = load_profile(write_profile(tmp_path / "p.toml", [
        {"target": "world:gravity", "dist": "uniform", "low": [0.0, 0.0, -11.0], "high": [0.0, 0.0, -8.0],
         "when": "interval", "every": 4},
        {"name": "wobble", "target": "joint:hinge/damping", "dist": "constant", "value": 1.0,
         "signal": {"kind": "sinusoid", "amplitude": 0.5, "frequency_hz": 2.0, "every": 1}},
    ]))
    env = DomainRandomization(gym.make(PENDULUM), profile, 0, task_for(PENDULUM))
    env.reset(seed=0)
    model = env.backend.model
    gravity, damping = [], []
    for _ in range(6):
        env.step(np.zeros(1))  # 2 physics steps each
        gravity.append(float(model.opt.gravity[2]))
        damping.append(float(model.dof_damping[1]))
    assert len(set(gravity[1::2])) == 3 and gravity[0] == -9.81 and gravity[1] != -9.81  # every 4 steps
    assert len(set(np.round(damping, 9))) == 6  # a new value at every step


def test_adr_is_fed_episode_success_and_widens(tmp_path) -> None:
    profile = load_profile(write_profile(tmp_path / "p.toml", [
        {"name": "pole", "target": "body:pole/mass", "dist": "uniform", "low": 0.9, "high": 1.1}],
        adr={"boundary_fraction": 1.0, "buffer_size": 2, "threshold_low": 0.2, "threshold_high": 0.8,
             "params": [{"term": "pole", "limits": [0.5, 2.0], "step": 0.1}]}))
    env = DomainRandomization(gym.make(PENDULUM, max_episode_steps=5), profile, 0, task_for(PENDULUM))
    for _ in range(12):  # the PD controller survives 5 steps: every episode succeeds
        obs, _ = env.reset(seed=0)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(balance(obs))
            done = terminated or truncated
        assert info["is_success"]
    lo, hi = env.randomizer.adr.range("pole")
    assert lo < 0.9 and hi > 1.1 and env.adr_changes
    env.save_state(tmp_path)
    fresh = DomainRandomization(gym.make(PENDULUM), profile, 0, task_for(PENDULUM))
    assert fresh.load_state(tmp_path) and fresh.randomizer.adr.range("pole") == (lo, hi)
    assert fresh.episode == env.episode  # the episode counter continues: no episode is drawn twice


def test_our_arm_is_a_gymnasium_env_with_randomizable_servos(tmp_path) -> None:
    env = make_env("sim2real/Arm2Reach-v0")
    obs, _ = env.reset(seed=3)
    task = task_for("sim2real/Arm2Reach-v0")
    assert obs.shape == (len(task.observation),) and env.unwrapped.dt == pytest.approx(0.02)
    assert (obs[4], obs[5]) == pytest.approx(Arm2Geometry().tip(obs[0], obs[1]), abs=1e-9)  # the tip sensor = FK
    profile = load_profile(write_profile(tmp_path / "p.toml", [
        {"target": "actuator:*/kp", "dist": "constant", "value": 0.3}]))
    soft = DomainRandomization(make_env("sim2real/Arm2Reach-v0"), profile, 0, task)
    target = np.array([0.6, -0.4])
    stiff_run, soft_run = _run(env, np.tile(target, (10, 1)), 3), _run(soft, np.tile(target, (10, 1)), 3)
    assert abs(stiff_run[-1, 0] - 0.6) < abs(soft_run[-1, 0] - 0.6)  # weaker servos lag behind
