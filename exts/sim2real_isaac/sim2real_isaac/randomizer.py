"""``Sim2RealRandomizer``: a randomization profile attached to an Isaac Sim stage and World.

    from isaacsim.core.api import World
    from sim2real_isaac import Sim2RealRandomizer

    world = World(stage_units_in_meters=1.0)
    randomizer = Sim2RealRandomizer("config/profiles/tabletop.toml", seed=0).attach(world)
    world.reset()
    for episode in range(10):
        randomizer.reset(episode)       # stage defaults + the episode's reset terms
        for _ in range(500):
            world.step(render=True)     # interval and time-varying terms fire from the physics callback

The start-up terms are applied on ``attach``. Interval and time-varying terms fire from the physics
step callback on their schedule (``sim2real.sim.driver.RandomizedSim``). Visual and USD terms go through
``sim2real.usd``; physics terms through PhysX tensor views once the simulation view exists, through
USD before (``sim2real.backends.isaac.backend``). Every decision is made there; this class only wires Kit to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from typing import Any

import carb
import omni.usd
from isaacsim.core.simulation_manager import SimulationManager

import isaacsim.core.simulation_manager as simulation_manager
from sim2real.backends.isaac.buckets import FrictionBuckets
from sim2real.backends.isaac.backend import IsaacBackend, required_targets
from sim2real.backends.isaac.steps import subscription
from sim2real.randomize.profile import Profile, load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.randomize.sample import Sample
from sim2real.sim.driver import RandomizedSim

from . import services

DEFAULT_CALLBACK = "sim2real_randomizer"


class Sim2RealRandomizer:
    def __init__(self, profile: str | PathLike[str] | Profile, *, seed: int = 0,
                 env_roots: Sequence[str] | None = None, resolution: tuple[int, int] = (640, 480), buckets: FrictionBuckets | None = None,
                 callback_name: str | None = None) -> None:
        """``profile``: a TOML file or a loaded ``Profile``; ``env_roots``: root prims of cloned
        environments (default: the whole stage is one environment); ``resolution``: of the render
        products (camera intrinsics)."""
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.seed = seed
        self.env_roots = env_roots
        self.resolution = resolution
        self.buckets = buckets
        self.callback_name = callback_name or carb.settings.get_settings().get(
            "/exts/sim2real_isaac/callback_name") or DEFAULT_CALLBACK
        self.backend: IsaacBackend | None = None
        self.randomizer: Randomizer | None = None
        self.driver: RandomizedSim | None = None
        self.frame_index: int | None = None  # the frame whose terms are applied now (Sim2RealWriter reads it)
        self._world: Any = None
        self._callback_id: int | None = None
        self._sim_view: Any = None

    # ------------------------------------------------------------------ attaching
    def attach(self, world: Any = None, stage: Any = None, physics: bool = True) -> Sim2RealRandomizer:
        """Apply the start-up terms to the stage and, with ``physics``, subscribe to physics steps
        (through ``world.add_physics_callback``, else 6.0's ``SimulationManager``)."""
        usd_stage = stage or (world.stage if world is not None else omni.usd.get_context().get_stage())
        dt = world.get_physics_dt() if world is not None else None
        self.backend = IsaacBackend(usd_stage, dt=dt, env_roots=self.env_roots, resolution=self.resolution,
                                buckets=self.buckets)
        self.randomizer = Randomizer(self.profile, self.seed, self.backend.entities(), n_envs=self.backend.n_envs,
                                     dt=self.backend.dt)
        self.backend.capabilities.require("isaac", required_targets(self.randomizer), source=str(self.profile.source))
        self.driver = RandomizedSim(self.backend, self.randomizer, env=None)
        self.driver.start()
        if physics:
            self._subscribe(world)
        services.track(self)
        return self

    def _subscribe(self, world: Any) -> None:
        how = subscription(world is not None, hasattr(simulation_manager, "SimulationEvent"))
        if how == "world":
            self._world = world
            world.add_physics_callback(self.callback_name, self._on_physics_step)
        else:  # Isaac Sim 6.0 without a World: callbacks get (step_dt, context)
            event = simulation_manager.SimulationEvent.PHYSICS_PRE_STEP
            self._callback_id = SimulationManager.register_callback(self._on_physics_step, event)

    def detach(self) -> None:
        """Unsubscribe and restore the stage exactly as it was before ``attach``."""
        if self._world is not None and self._world.physics_callback_exists(self.callback_name):
            self._world.remove_physics_callback(self.callback_name)
        if self._callback_id is not None:
            SimulationManager.deregister_callback(self._callback_id)
        self._world = self._callback_id = self._sim_view = None
        if self.driver is not None:
            self.driver.close()
        if self.backend is not None:
            self.backend.close()
        self.backend = self.randomizer = self.driver = None
        services.untrack(self)

    # ------------------------------------------------------------------ events
    def _on_physics_step(self, *args: Any) -> None:
        self._sync_tensors()
        self.backend.on_physics_step(*args)  # type: ignore[union-attr]

    def _sync_tensors(self) -> None:
        """Use the PhysX simulation view while it is valid (it is recreated on every play)."""
        view = SimulationManager.get_physics_sim_view()
        if view is self._sim_view:
            return
        self._sim_view = view
        if view is not None and view.is_valid:
            self.backend.attach_tensors(view, carb.Float3)  # type: ignore[union-attr]
        else:
            self.backend.detach_tensors()  # type: ignore[union-attr]

    def reset(self, episode: int) -> Sample:
        """Restore the defaults, then apply episode ``episode``'s reset terms."""
        self._sync_tensors()
        return self.driver.reset(episode)  # type: ignore[union-attr]

    def frame(self, index: int) -> Sample:
        """Apply frame ``index``'s terms (per-frame jitter, sensor effects)."""
        sample = self.randomizer.frame(index)  # type: ignore[union-attr]
        self.backend.apply(sample)  # type: ignore[union-attr]
        self.frame_index = index
        return sample

    def prepare(self, index: int) -> None:
        """Frame ``index`` of a dataset: reset to episode ``index`` and apply its frame terms, so the frame
        is a pure function of (profile, stage, seed, index), as in every sim2real backend."""
        self.reset(index)
        self.frame(index)

    def record(self, env: int = 0) -> dict[str, Any]:
        return self.backend.record(env)  # type: ignore[union-attr]
