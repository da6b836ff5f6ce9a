"""Policy export to ONNX with its contract, and a sim-to-sim replay check.

``export_policy(run, out)`` writes ``policy.onnx`` (input ``observation``: float32 ``(batch, n)`` raw, in
the contract's units; output ``action``: float32 ``(batch, m)`` in actuator command units, within the
bounds), ``contract.json`` (order, units, bounds, effort per command, control period, the latency the
policy was trained with) and ``replay.json``.

What the graph holds, so that a robot needs nothing but onnxruntime: the observation normalisation of
VecNormalize (if trained with it), the deterministic action (PPO: the Gaussian's mean, clipped to the
bounds as stable-baselines3's ``predict`` does; SAC: the tanh-squashed mean rescaled to the bounds).

The replay check drives the MuJoCo environment with the ONNX model through onnxruntime and with the
PyTorch policy (stable-baselines3's ``predict``) from the same initial states, and compares the two
trajectories step by step: the largest action and observation differences and whether they are within
``tolerance`` (float32 arithmetic orders differ between the runtimes; 1e-4 is far below what moves a
robot and far above what rounding produces over an episode of a stabilised system).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import NotInstalledError
from ..fsutil import atomic_write_bytes, atomic_write_json
from ..progress import NullReporter, Reporter
from .policy import Policy

log = logging.getLogger(__name__)

ONNX = "policy.onnx"
REPLAY = "replay.json"
OPSET = 18


def _module(policy: Policy) -> Any:
    """The deterministic policy as one torch module: raw observation → bounded command."""
    import torch
    from torch import nn

    contract, sb3 = policy.contract, policy.model.policy
    low = torch.tensor([s.low for s in contract.action], dtype=torch.float32)
    high = torch.tensor([s.high for s in contract.action], dtype=torch.float32)
    norm = contract.normalization
    mean = torch.tensor(norm["mean"] if norm else [0.0] * len(contract.observation), dtype=torch.float32)
    std = torch.tensor(norm["std"] if norm else [1.0] * len(contract.observation), dtype=torch.float32)
    clip = float(norm["clip"]) if norm else float("inf")
    squashed = bool(getattr(sb3, "squash_output", False)) or contract.algo == "sac"

    class Exported(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.sb3 = sb3
            self.register_buffer("mean", mean)
            self.register_buffer("std", std)
            self.register_buffer("low", low)
            self.register_buffer("high", high)

        def forward(self, observation: torch.Tensor) -> torch.Tensor:
            x = (observation - self.mean) / self.std
            if clip != float("inf"):
                x = torch.clamp(x, -clip, clip)
            if squashed:  # SAC: the deterministic action is tanh(mean), in [-1, 1]
                mean_actions, _, _ = self.sb3.actor.get_action_dist_params(x)
                return self.low + 0.5 * (torch.tanh(mean_actions) + 1.0) * (self.high - self.low)
            # PPO: the Gaussian's mean (the actor's path of ActorCriticPolicy, without the value head)
            features = self.sb3.extract_features(x, self.sb3.pi_features_extractor)
            a = self.sb3.action_net(self.sb3.mlp_extractor.forward_actor(features))
            return torch.clamp(a, self.low, self.high)

    return Exported().eval()


def to_onnx(policy: Policy) -> bytes:
    """The ONNX model of ``policy`` (torch.onnx, dynamic batch)."""
    try:
        import onnx  # noqa: F401
        import torch
    except ImportError:
        raise NotInstalledError("onnx and torch", "pip install 'sim2real[control]'") from None
    import warnings

    module = _module(policy)
    n = len(policy.contract.observation)
    example = (torch.zeros(1, n, dtype=torch.float32),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.export's deprecation chatter about internals
        program = torch.onnx.export(module, example, dynamo=True, input_names=["observation"],
                                    output_names=["action"], dynamic_shapes=({0: torch.export.Dim("batch")},),
                                    opset_version=OPSET, verbose=False)
    return program.model_proto.SerializeToString()


class OnnxPolicy:
    """A policy from ``policy.onnx`` run by onnxruntime (what a robot runs)."""

    def __init__(self, path: str | PathLike[str]) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise NotInstalledError("onnxruntime", "pip install 'sim2real[control]'") from None
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        self.session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def act(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, dtype=np.float32).reshape(1, -1)
        return self.session.run(["action"], {"observation": x})[0][0].astype(np.float64)


@dataclass
class ReplayCheck:
    episodes: int
    steps: int
    max_action_diff: float  # same observation: |ONNX - PyTorch| over every step
    max_observation_diff: float  # each runtime driving its own episode from the same initial state
    tolerance: float

    @property
    def passed(self) -> bool:
        return self.max_action_diff <= self.tolerance and self.max_observation_diff <= self.tolerance

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "passed": self.passed}


def replay_check(policy: Policy, onnx_policy: OnnxPolicy, cfg: Any, episodes: int = 2, seed: int = 0,
                 max_steps: int | None = None, tolerance: float = 1e-4) -> ReplayCheck:
    """Drive the nominal simulator with each runtime from the same initial states and compare."""
    from .train import build_env

    steps, worst_action, worst_obs = 0, 0.0, 0.0
    for k in range(episodes):
        runs = []
        for act in (policy.act, onnx_policy.act):
            sim = build_env(cfg, seed, profile=None, noise=False)
            obs, _ = sim.env.reset(seed=seed + k)
            trajectory, done, t = [obs], False, 0
            while not done and (max_steps is None or t < max_steps):
                a = act(obs)
                worst_action = max(worst_action, float(np.max(np.abs(onnx_policy.act(obs) - policy.act(obs)))))
                obs, _, terminated, truncated, _ = sim.env.step(a)
                trajectory.append(obs)
                done, t = terminated or truncated, t + 1
            sim.env.close()
            runs.append(np.array(trajectory))
        torch_run, onnx_run = runs
        n = min(len(torch_run), len(onnx_run))
        worst_obs = max(worst_obs, float(np.max(np.abs(torch_run[:n] - onnx_run[:n]))))
        if len(torch_run) != len(onnx_run):
            worst_obs = float("inf")  # one episode ended earlier: the trajectories parted
        steps += n - 1
    return ReplayCheck(episodes, steps, worst_action, worst_obs, tolerance)


def export_policy(run: str | PathLike[str], out: str | PathLike[str], episodes: int = 2, seed: int = 0,
                  max_steps: int | None = None, reporter: Reporter | None = None) -> dict[str, Any]:
    """Write policy.onnx, contract.json and replay.json into ``out`` (see the module docstring)."""
    from .config import config_from

    reporter = reporter or NullReporter()
    run, out = Path(run), Path(out)
    policy = Policy.load(run)
    out.mkdir(parents=True, exist_ok=True)
    with reporter.task("export", total=2, unit="step") as task:
        onnx_path = atomic_write_bytes(out / ONNX, to_onnx(policy))
        policy.contract.save(out)
        task.advance()
        cfg = config_from(json.loads((run / "config.json").read_text()))
        check = replay_check(policy, OnnxPolicy(onnx_path), cfg, episodes, seed, max_steps)
        atomic_write_json(out / REPLAY, check.to_dict())
        task.advance()
    reporter.artifact("onnx", onnx_path)
    return {"onnx": str(onnx_path), "contract": str(out / "contract.json"), "replay": check.to_dict()}
