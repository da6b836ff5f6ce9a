"""Physics-step callbacks of Isaac Sim 5.x and 6.0: their two signatures, and how to register ours.

Isaac Sim calls a physics callback with a different signature depending on how it was registered:

* 5.x ``World.add_physics_callback(name, fn)`` / ``omni.physx`` ``subscribe_physics_step_events(fn)``:
  ``fn(step_size)`` (``isaacsim.core.api/python/impl/simulation_context/simulation_context.py``);
* 6.0 ``SimulationManager.register_callback(fn, SimulationEvent.PHYSICS_PRE_STEP)`` and
  ``omni.physics.core`` ``subscribe_physics_on_step_events``: ``fn(step_dt, context)``
  (``isaacsim.core.simulation_manager/python/impl/simulation_manager.py``; 6.0's deprecated
  ``add_physics_callback`` wraps it back to one argument).

Our callback accepts both (``step_dt`` below decides); ``subscription`` picks how to register;
``sim.clock.StepClock`` counts the steps.
"""

from __future__ import annotations

from typing import Literal

from ...errors import UnsupportedError

Subscription = Literal["world", "simulation_manager"]


def step_dt(args: tuple[object, ...]) -> float:
    """The physics step (s) from a callback's positional arguments: ``(dt,)`` or ``(dt, context)``."""
    if len(args) not in (1, 2):
        raise UnsupportedError(f"physics callback: expected (step_dt,) or (step_dt, context), got {len(args)} "
                               "arguments")
    dt = float(args[0])  # type: ignore[arg-type]
    if not dt > 0:
        raise UnsupportedError(f"physics callback: expected a positive step (got {dt} s)")
    return dt


def subscription(has_world: bool, has_simulation_event: bool) -> Subscription:
    """How to register the step callback: through an existing ``World`` (5.x and 6.0's deprecated
    API, one argument), else through 6.0's ``SimulationManager`` (two arguments)."""
    if has_world:
        return "world"
    if has_simulation_event:
        return "simulation_manager"
    raise UnsupportedError("no isaacsim.core.api World and no isaacsim.core.simulation_manager SimulationEvent: "
                           "create a World (Isaac Sim 5.x) before attaching a profile")
