"""sim2real: take a robot task from simulation to a real robot.

Importing this package is deliberately cheap (no numpy, no simulator, no torch); import the
sub-package you need, e.g. ``sim2real.randomize`` or ``sim2real.backends.mujoco``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
