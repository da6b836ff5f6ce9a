"""Units of log columns: what a bracketed unit (``shoulder_pos [deg]``) means and how it converts.

A log column may name its unit (``name [unit]``). sysid compares logs with a model in the model's SI
units; a column whose unit measures the same quantity in other units (degrees, millimetres) is
converted, one whose unit measures another quantity (metres for a joint angle) is refused. A
column without a unit is taken to be in the model's unit; ``rad|m`` (what ``sim2real.gap`` labels ROS
``JointState`` positions, hinge or slide) is whichever of the two the model expects.
"""

from __future__ import annotations

import math

# unit spelling -> (quantity, factor to the SI unit of that quantity)
_UNITS: dict[str, tuple[str, float]] = {
    "rad": ("angle", 1.0), "deg": ("angle", math.pi / 180), "°": ("angle", math.pi / 180),
    "rad/s": ("angular velocity", 1.0), "deg/s": ("angular velocity", math.pi / 180),
    "rad/s^2": ("angular acceleration", 1.0), "deg/s^2": ("angular acceleration", math.pi / 180),
    "m": ("length", 1.0), "cm": ("length", 0.01), "mm": ("length", 0.001),
    "m/s": ("velocity", 1.0), "cm/s": ("velocity", 0.01), "mm/s": ("velocity", 0.001),
    "m/s^2": ("acceleration", 1.0),
    "N.m": ("torque", 1.0), "N·m": ("torque", 1.0), "Nm": ("torque", 1.0), "N m": ("torque", 1.0),
    "N": ("force", 1.0), "kN": ("force", 1000.0),
    "s": ("time", 1.0), "ms": ("time", 0.001),
}
QUANTITY_SI = {"angle": "rad", "angular velocity": "rad/s", "angular acceleration": "rad/s^2", "length": "m",
               "velocity": "m/s", "acceleration": "m/s^2", "torque": "N.m", "force": "N", "time": "s"}


def normalise(unit: str) -> str:
    """The canonical spelling of ``unit`` (``"N m"`` and ``"Nm"`` are ``"N.m"``); unknown units unchanged."""
    u = unit.strip()
    if u in _UNITS:
        quantity, factor = _UNITS[u]
        if factor == 1.0:
            return QUANTITY_SI[quantity]
    return u


def factor(unit: str, expected: str) -> float | None:
    """The factor turning values in ``unit`` into ``expected`` units, or None if the two measure
    different quantities (or one of them is unknown and they differ). An empty ``unit`` (the
    column named none) or an empty ``expected`` (the model does not know) gives 1."""
    unit, expected = unit.strip(), expected.strip()
    if not unit or not expected or unit == expected:
        return 1.0
    if "|" in unit:  # "rad|m": one of these, as ROS JointState positions (hinge or slide) are labelled
        options = [factor(u, expected) for u in unit.split("|")]
        return 1.0 if 1.0 in options else None
    a, b = _UNITS.get(unit), _UNITS.get(expected)
    if a is None or b is None or a[0] != b[0]:
        return None
    return a[1] / b[1]


def quantity(unit: str) -> str:
    """What a unit measures ("angle", "torque", ...), or the unit itself when unknown."""
    known = _UNITS.get(unit.strip())
    return known[0] if known else unit
