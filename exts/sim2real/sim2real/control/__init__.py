"""Control policies that transfer: randomized training, a robot interface, progressive transfer with a
safety monitor, the transfer ratio, ONNX export (exts/sim2real/docs/control.md).

* ``envs`` / ``tasks``: gymnasium's MuJoCo environments and our arm; what each observation component is;
* ``wrappers``: domain randomization from a profile (through the MuJoCo backend), command delay,
  observation noise; ``safety``: limits, the monitor, the emergency stop;
* ``train``: stable-baselines3 PPO / SAC with progress, checkpoints and resume; ``policy``, ``contract``;
* ``robot``: connect / reset / step / observe / disconnect, with ``surrogate`` (a SURROGATE "real"
  robot), ``replay`` (recorded logs) and ``ros2`` (rclpy) implementations;
* ``rollout`` / ``validate``: episodes, returns and the transfer ratio; ``transfer``: the progressive
  transfer loop with system identification; ``export``: ONNX with its contract and a replay check.

The public names load lazily (importing ``sim2real.control`` imports neither torch nor gymnasium);
our environment ids join gymnasium's registry once both are imported (``gym_registration``).
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "TrainConfig": "config",
    "load_config": "config",
    "train": "train",
    "Policy": "policy",
    "Contract": "contract",
    "DomainRandomization": "wrappers",
    "ActionDelay": "wrappers",
    "ObservationNoise": "wrappers",
    "SafetyMonitor": "safety",
    "SafetyShield": "safety",
    "SafetySpec": "safety",
    "make_env": "envs",
    "task_for": "tasks",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)

from .gym_registration import register_when_imported  # noqa: E402  (after the lazy names: it may import .envs)

register_when_imported()
