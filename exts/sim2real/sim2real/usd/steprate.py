"""The physics step of a USD stage, and which attribute it came from.

Isaac Sim 5.1 steps PhysX at the physics scene's ``physxScene:timeStepsPerSecond`` (``PhysxSceneAPI``; its
fallback, 60 Hz, when unauthored: ``SimulationManager.get_physics_dt``). Stages made for other simulators
author their own rate, which PhysX ignores: ``newton:timeStepsPerSecond`` (Newton; mujoco-usd-converter
writes the MJCF timestep there) and ``mjc:option:timestep`` (seconds; MuJoCo's schema). Only authored values
count (the Newton schema's fallback is 1000 Hz). ``step_rate`` gives the step Isaac Sim will take, its
source, and the other rates the stage asks for, so a caller can say when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pxr import Usd, UsdPhysics

PHYSX_RATE = "physxScene:timeStepsPerSecond"
PHYSX_DEFAULT_HZ = 60.0  # PhysxSceneAPI's fallback: what Isaac Sim steps at when the stage says nothing
OTHER_RATES = ("newton:timeStepsPerSecond", "mjc:option:timestep")  # Hz, s


@dataclass(frozen=True)
class StepRate:
    dt: float  # seconds
    source: str  # the attribute, or "PhysX default (physxScene:timeStepsPerSecond unauthored)"
    others: dict[str, float] = field(default_factory=dict)  # other authored rates: attribute -> step (s)

    def differs(self) -> dict[str, float]:
        """The other simulators' steps that are not the one Isaac Sim takes."""
        return {name: dt for name, dt in self.others.items() if abs(dt - self.dt) > 1e-12}

    def describe(self) -> str:
        text = f"{self.dt:.6g} s ({1.0 / self.dt:.6g} Hz) from {self.source}"
        other = self.differs()
        if other:
            text += "; the stage also asks for " + ", ".join(f"{n} = {1.0 / dt:.6g} Hz" for n, dt in other.items())
            text += f", which Isaac Sim's PhysX ignores (author {PHYSX_RATE} to step at that rate)"
        return text


def step_rate(stage: Usd.Stage) -> StepRate:
    scene = next((p for p in stage.Traverse() if p.IsA(UsdPhysics.Scene)), None)
    if scene is None:
        return StepRate(1.0 / PHYSX_DEFAULT_HZ, "PhysX default (the stage has no physics scene)")
    others = {}
    for name in OTHER_RATES:
        value = _authored(scene, name)
        if value is not None and value > 0:
            others[name] = value if name.endswith("timestep") else 1.0 / value
    hz = _authored(scene, PHYSX_RATE)
    if hz is not None and hz > 0:
        return StepRate(1.0 / hz, PHYSX_RATE, others)
    return StepRate(1.0 / PHYSX_DEFAULT_HZ, f"PhysX default ({PHYSX_RATE} unauthored)", others)


def _authored(prim: Usd.Prim, name: str) -> float | None:
    attr = prim.GetAttribute(name)
    return float(attr.Get()) if attr and attr.HasAuthoredValue() else None
