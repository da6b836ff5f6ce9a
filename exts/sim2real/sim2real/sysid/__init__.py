"""System identification: make the simulator match a real robot's logs, and hand the result to
randomization (exts/sim2real/docs/sysid.md).

* ``logs``: the documented log format (commands + measurements, full timestamps; CSV, Parquet, JSON
  lines, ROS 2 bags), unit checks and conversion;
* ``excite``: multisine, chirp and PRBS command files within amplitude and velocity limits;
* ``params``: parameters named as randomization targets (``body:*/mass``, ``actuator:*/latency``);
* ``problem`` / ``optimize`` / ``uncertainty``: batched residuals, bounded least squares and CMA-ES,
  confidence intervals;
* ``calibrate``: estimates and intervals → a calibrated profile ``sim2real.randomize`` loads;
* ``validate`` / ``report_sections``: held-out RMSE / NRMSE / VAF before and after, report sections;
* ``analytic``: the seeds' mass-spring-damper (simple case and test oracle); ``neural``: the residual MLP;
* ``fit``: the pipeline behind ``sim2real sysid fit``.

Engine-neutral: simulators come through ``simulator.open_simulator`` (MuJoCo's lives in
``sim2real.backends.mujoco.rollout``). The public names load lazily.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "RobotLog": "logs",
    "read_log": "logs",
    "write_log": "logs",
    "ExcitationSpec": "excite",
    "excitation": "excite",
    "FitOptions": "fit",
    "identify": "fit",
    "write_outputs": "fit",
    "open_simulator": "simulator",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
