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

import isaacsim.core.simulation_manager as simulation_manager
from isaacsim.core.simulation_manager import SimulationManager
from sim2real.backends.isaac.buckets import FrictionBuckets
from sim2real.backends.isaac.backend import IsaacBackend, required_targets
from sim2real.backends.isaac.steps import events, subscription, unique_callback_name
from sim2real.randomize.profile import Profile, load_profile
from sim2real.randomize.runtime import Randomizer
from sim2real.randomize.sample import Sample
from sim2real.sim.driver import RandomizedSim

from . import services

DEFAULT_CALLBACK = "sim2real_randomizer"


class Sim2RealRandomizer:
    def __init__(self, profile: str | PathLike[str] | Profile, *, seed: int = 0,
                 env_roots: Sequence[str] | None = None, resolution: tuple[int, int] = (640, 480),
                 buckets: FrictionBuckets | None = None, callback_name: str | None = None) -> None:
        """``profile``: a TOML file or a loaded ``Profile``; ``env_roots``: root prims of cloned
        environments (default: the whole stage is one environment); ``resolution``: of the render
        products (camera intrinsics); ``callback_name``: the World physics callback's name (made unique
        per randomizer: ``_2``, ``_3``... when taken)."""
        self.profile = profile if isinstance(profile, Profile) else load_profile(profile)
        self.seed = seed
        self.env_roots = env_roots
        self.resolution = resolution
        self.buckets = buckets
        self.callback_base = callback_name or carb.settings.get_settings().get(
            "/exts/sim2real_isaac/callback_name") or DEFAULT_CALLBACK
        self.callback_name: str | None = None  # the World callback this randomizer holds, while attached
        self.backend: IsaacBackend | None = None
        self.randomizer: Randomizer | None = None
        self.driver: RandomizedSim | None = None
        self._world: Any = None
        self._callback_ids: list[int] = []

    # ------------------------------------------------------------------ attaching
    def attach(self, world: Any = None, stage: Any = None, physics: bool = True) -> Sim2RealRandomizer:
        """Apply the start-up terms to the stage and, with ``physics``, subscribe to physics steps (through
        ``world.add_physics_callback``, else the SimulationManager's pre-step event) and to the simulation
        view's life (ready: tensor views from now on; stopped: USD again)."""
        usd_stage = stage or (world.stage if world is not None else omni.usd.get_context().get_stage())
        dt = world.get_physics_dt() if world is not None else SimulationManager.get_physics_dt()
        self.backend = IsaacBackend(usd_stage, dt=dt, env_roots=self.env_roots, resolution=self.resolution,
                                    buckets=self.buckets)
        self.randomizer = Randomizer(self.profile, self.seed, self.backend.entities(), n_envs=self.backend.n_envs,
                                     dt=self.backend.dt)
        self.backend.capabilities.require("isaac", required_targets(self.randomizer), source=str(self.profile.source))
        self.driver = RandomizedSim(self.backend, self.randomizer, env=None)
        self.driver.start()
        if physics:
            self._subscribe(world)
            self._on_physics_ready()  # the simulation may be running already
        services.track(self)
        return self

    def _subscribe(self, world: Any) -> None:
        names = events(hasattr(simulation_manager, "SimulationEvent"))

        def event(name: tuple[str, str]) -> Any:
            return getattr(getattr(simulation_manager, name[0]), name[1])

        if subscription(world is not None) == "world":
            self._world = world
            self.callback_name = unique_callback_name(self.callback_base, world.physics_callback_exists)
            world.add_physics_callback(self.callback_name, self._on_physics_step)
        else:
            self._callback_ids.append(SimulationManager.register_callback(self._on_physics_step, event(names.step)))
        self._callback_ids.append(SimulationManager.register_callback(self._on_physics_ready, event(names.ready)))
        self._callback_ids.append(SimulationManager.register_callback(self._on_stopped, event(names.stopped)))

    def detach(self) -> None:
        """Unsubscribe and restore the stage exactly as it was before ``attach``."""
        if self._world is not None and self._world.physics_callback_exists(self.callback_name):
            self._world.remove_physics_callback(self.callback_name)
        for callback_id in self._callback_ids:
            try:
                SimulationManager.deregister_callback(callback_id)
            except Exception:  # noqa: BLE001 - 5.1 raises a bare Exception for ids a new stage already dropped
                pass
        self._world, self.callback_name, self._callback_ids = None, None, []
        if self.driver is not None:
            self.driver.close()
        if self.backend is not None:
            self.backend.close()
        self.backend = self.randomizer = self.driver = None
        services.untrack(self)

    # ------------------------------------------------------------------ events
    def _on_physics_step(self, *args: Any) -> None:
        self.backend.on_physics_step(*args)  # type: ignore[union-attr]

    def _on_physics_ready(self, *_event: Any) -> None:
        """The PhysX simulation view exists (or was recreated): its buffers are the tensor defaults."""
        self.backend.sync_view(SimulationManager.get_physics_sim_view(), carb.Float3)  # type: ignore[union-attr]

    def _on_stopped(self, *_event: Any) -> None:
        self.backend.detach_tensors()  # type: ignore[union-attr]

    def reset(self, episode: int) -> Sample:
        """Restore the defaults, then apply episode ``episode``'s reset terms."""
        return self.driver.reset(episode)  # type: ignore[union-attr]

    def frame(self, index: int) -> Sample:
        """Apply frame ``index``'s terms (per-frame jitter, sensor effects)."""
        sample = self.randomizer.frame(index)  # type: ignore[union-attr]
        self.backend.apply(sample)  # type: ignore[union-attr]
        return sample

    def prepare(self, index: int) -> None:
        """Frame ``index`` of a dataset: reset to episode ``index`` and apply its frame terms, so the frame
        is a pure function of (profile, stage, seed, index), as in every sim2real backend."""
        self.reset(index)
        self.frame(index)

    def record(self, env: int = 0) -> dict[str, Any]:
        return self.backend.record(env)  # type: ignore[union-attr]
