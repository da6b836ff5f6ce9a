"""Physics-step callbacks of Isaac Sim 5.1 and 6.0: their signatures, which events to subscribe, and the
names the callbacks get.

Isaac Sim calls a physics callback with a different signature depending on how it was registered:

* ``World.add_physics_callback(name, fn)`` (5.1, and 6.0's deprecated API): ``fn(step_size)``
  (5.1 ``isaacsim.core.api/python/impl/simulation_context/simulation_context.py:997``);
* 5.1 ``SimulationManager.register_callback(fn, IsaacEvents.PRE_PHYSICS_STEP)``: ``fn(step_dt)``, only
  once the simulation view exists (5.1 ``isaacsim.core.simulation_manager/python/impl/simulation_manager.py:773``);
* 6.0 ``SimulationManager.register_callback(fn, SimulationEvent.PHYSICS_PRE_STEP)``: ``fn(step_dt, context)``
  (6.0 ``simulation_manager.py:1172``).

So a stage can be randomized without a ``World`` on both: ``subscription`` picks the World when there is one,
else the SimulationManager event of that release (``Events``). The lifecycle events (the PhysX simulation view
is ready / the simulation stopped) are 5.1's ``IsaacEvents.PHYSICS_READY`` / ``TIMELINE_STOP`` and 6.0's
``SimulationEvent.SIMULATION_STARTED`` / ``SIMULATION_STOPPED`` (6.0 deprecates ``IsaacEvents``); their
callbacks get one event argument.

``World.add_physics_callback`` refuses a name it already holds (it logs an error and never calls the second
function: ``simulation_context.py:1016``), so every randomizer takes its own name (``unique_callback_name``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from ...errors import UnsupportedError

Subscription = Literal["world", "simulation_manager"]


@dataclass(frozen=True)
class Events:
    """Names of the SimulationManager events to subscribe: ``(enum class, member)`` pairs."""

    step: tuple[str, str]
    ready: tuple[str, str]
    stopped: tuple[str, str]


ISAAC_SIM_5 = Events(step=("IsaacEvents", "PRE_PHYSICS_STEP"), ready=("IsaacEvents", "PHYSICS_READY"),
                     stopped=("IsaacEvents", "TIMELINE_STOP"))
ISAAC_SIM_6 = Events(step=("SimulationEvent", "PHYSICS_PRE_STEP"), ready=("SimulationEvent", "SIMULATION_STARTED"),
                     stopped=("SimulationEvent", "SIMULATION_STOPPED"))


def step_dt(args: tuple[object, ...]) -> float:
    """The physics step (s) from a callback's positional arguments: ``(dt,)`` or ``(dt, context)``."""
    if len(args) not in (1, 2):
        raise UnsupportedError(f"physics callback: expected (step_dt,) or (step_dt, context), got {len(args)} "
                               "arguments")
    dt = float(args[0])  # type: ignore[arg-type]
    if not dt > 0:
        raise UnsupportedError(f"physics callback: expected a positive step (got {dt} s)")
    return dt


def subscription(has_world: bool) -> Subscription:
    """How to register the step callback: through the ``World`` the user passed (its callbacks are what the
    World's own ``step`` drives), else through the SimulationManager (5.1 and 6.0 alike)."""
    return "world" if has_world else "simulation_manager"


def events(has_simulation_event: bool) -> Events:
    """The SimulationManager events of this Isaac Sim: 6.0 has ``SimulationEvent``, 5.1 only ``IsaacEvents``."""
    return ISAAC_SIM_6 if has_simulation_event else ISAAC_SIM_5


def unique_callback_name(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, else ``base_2``, ``base_3``...: the first name ``taken`` (e.g. ``World.physics_callback_exists``)
    says is free, so a second randomizer on one World gets its own callback."""
    name, n = base, 1
    while taken(name):
        n += 1
        name = f"{base}_{n}"
    return name
