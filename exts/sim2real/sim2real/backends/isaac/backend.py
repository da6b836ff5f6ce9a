"""``IsaacBackend``: an Isaac Sim stage seen through the ``Backend`` protocol, so that the one driver
(``sim.driver.RandomizedSim``) fires a profile's terms there exactly as it does on MuJoCo.

The Kit layer (``exts/sim2real_isaac``) owns the stage, the timeline and the Replicator graph; it
forwards Isaac Sim's physics-step callback to ``on_physics_step`` and hands over the PhysX simulation
view while the simulation runs. Where each sampled value goes:

=================================================  =========================================
key                                                path
=================================================  =========================================
``image:*`` (sensor effects)                       kept for the frames (``image_effects``)
``geom`` friction/restitution of rigid bodies,     PhysX tensor views (``tensors.py``) while the
``body`` mass/com, ``world:gravity``               simulation runs, USD before it starts
everything else (lights, materials, objects,       USD (``sim2real.usd``)
cameras, static colliders' friction)
=================================================  =========================================

Before the simulation starts, physics goes through USD, which PhysX parses when it starts; physics
values written to USD that way are the tensor path's defaults until the next reset (as Isaac Lab's
``prestartup`` events). ``reset`` restores the stage and the tensor defaults, then re-applies the
start-up samples (``when = "startup"`` values last for the scene's lifetime).

Several environments: give ``env_roots``; ``apply(sample)`` applies every environment of a sample,
and all environments reset together.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ...errors import UnsupportedError, UserError
from ...paths import data_path
from ...randomize.sample import Sample
from ...randomize.targets import CATALOGUE, split_key
from ...randomize.sample import Capabilities
from ...sim.backend import Backend, StepCallback
from ...sim.clock import StepClock
from ...sim.record import AppliedRecord
from ...sim.rendered_frame import Frame, Pose
from ...sim.ops import combine
from ..effects import NEUTRAL, ImageEffects, PendingEffects, effect_seed
from .buckets import FrictionBuckets
from .annotators import SceneObject, frame_from_annotators
from .capture import FrameState
from .steps import step_dt
from .tensors import TARGETS as TENSOR_TARGETS
from .tensors import TensorPhysics

log = logging.getLogger(__name__)

IMAGE_TARGETS = frozenset((a.kind, a.name) for a in CATALOGUE if a.kind == "image")


def isaac_targets() -> frozenset[tuple[str, str]]:
    from ...usd.scene import TARGETS

    return TARGETS | IMAGE_TARGETS


def _capabilities(n_envs: int) -> Capabilities:
    return Capabilities(targets=isaac_targets(), rgb=True, depth=True, segmentation=True, boxes=True, physics=True,
                        max_envs=n_envs)


class IsaacBackend:
    name = "isaac"

    def __init__(self, stage: Any = None, *, dt: float | None = None, env_roots: Sequence[str] | None = None,
                 resolution: tuple[int, int] = (640, 480), buckets: FrictionBuckets | None = None) -> None:
        """``stage``: a ``pxr.Usd.Stage`` to attach now (in Kit: ``omni.usd.get_context().get_stage()``), or
        None to ``load`` a USD file later; the other arguments as ``attach``'s."""
        self.clock = StepClock()
        self.buckets = buckets or FrictionBuckets()
        self.tensors: TensorPhysics | None = None
        self._sim_view: Any = None  # the PhysX simulation view the tensors were made from
        self.scene: Any = None
        self._dt = math.nan
        self.step_rate: Any = None  # usd.steprate.StepRate of the attached stage
        self.capabilities = _capabilities(1)
        self.applied = AppliedRecord()  # start-up samples to replay, the latest values
        self._usd_physics: set[tuple[str, str, str, int]] = set()  # physics keys USD holds since the reset
        self._effects: dict[tuple[str, int], dict[str, float]] = {}
        if stage is not None:
            self.attach(stage, dt=dt, env_roots=env_roots, resolution=resolution)

    def load(self, scene: str | PathLike[str], *, resolution: tuple[int, int] = (640, 480),
             **options: Any) -> None:
        """Open a USD stage (a path, or a shipped scene name: ``tabletop`` is data/scenes/tabletop.usda) and
        attach it; ``options``: ``dt`` and ``env_roots`` as ``attach`` takes them."""
        from ...usd.scene import open_stage

        unknown = sorted(set(options) - {"dt", "env_roots"})
        if unknown:
            raise UserError(f"isaac backend: unknown load options {unknown}; known: resolution, dt, env_roots")
        path = Path(scene)
        if not path.suffix and not path.exists():
            path = data_path("scenes", f"{scene}.usda")
        self.attach(open_stage(path), resolution=resolution, **options)

    def attach(self, stage: Any, *, dt: float | None = None, env_roots: Sequence[str] | None = None,
               resolution: tuple[int, int] = (640, 480)) -> None:
        """Drive ``stage`` (a ``pxr.Usd.Stage``): ``dt`` is the physics step (s; inside Kit, what Isaac Sim
        steps at; default: the stage's, ``usd.steprate``); ``env_roots`` the root prims of cloned environments
        (default: the stage is one); ``resolution`` the (width, height) of the render products."""
        from ...usd.scene import UsdScene
        from ...usd.steprate import StepRate, step_rate

        rate = step_rate(stage)
        if dt is not None:
            rate = StepRate(float(dt), "Isaac Sim (the World or SimulationManager)", rate.others)
        if not rate.dt > 0:
            raise UserError(f"dt: expected a positive physics step (got {rate.dt} s)")
        self.close()
        self.scene = UsdScene(stage, env_roots=env_roots, resolution=resolution)
        self.step_rate = rate
        if rate.differs():
            self.scene.ctx.notice("physics:step", f"physics step: {rate.describe()}")
        self.capabilities = _capabilities(self.scene.n_envs)
        self.applied = AppliedRecord(self.scene.n_envs)
        self._dt = rate.dt
        self._usd_physics.clear()
        self._effects.clear()
        self.clock.reset()

    @property
    def dt(self) -> float:
        """The physics step, seconds (NaN before a stage is attached)."""
        return self._dt

    @property
    def n_envs(self) -> int:
        return self._scene().n_envs

    def _scene(self) -> Any:
        if self.scene is None:
            raise UserError("isaac backend: no stage attached; call load(scene) or attach(stage) first")
        return self.scene

    @property
    def simulating(self) -> bool:
        return self.tensors is not None

    def entities(self) -> dict[str, list[str]]:
        return self._scene().entities()

    def describe(self) -> dict[str, Any]:
        """What ``sim2real scene info`` shows beyond the entities: the physics step and where it came from,
        the entities named by their paths (their names are shared), and what is written differently here."""
        scene, rate = self._scene(), self.step_rate
        return {"physics_step": {"dt_s": rate.dt, "source": rate.source, "others_s": dict(rate.others),
                                 "text": rate.describe()},
                "renamed": {k: dict(v) for k, v in scene.table.renamed.items()},
                "notices": list(scene.ctx.notices.values())}

    # ------------------------------------------------------------------ applying
    def apply(self, sample: Sample, env: int | None = None) -> None:
        """Apply row ``env`` of ``sample`` to environment ``env`` of the stage (None: each environment its
        own row)."""
        if env is not None and not 0 <= env < min(self.n_envs, sample.n_envs):
            raise UserError(f"env: expected 0..{min(self.n_envs, sample.n_envs) - 1} (got {env})")
        envs = range(min(self.n_envs, sample.n_envs)) if env is None else [env]
        usd_keys: list[str] = []
        tensor_keys: list[tuple[str, str, str, str]] = []
        for key in sample.values:
            kind, entity, attr = split_key(key)
            if kind == "image":
                continue
            if self.tensors is not None and self.tensors.handles(kind, entity, attr):
                tensor_keys.append((key, kind, entity, attr))
            else:
                usd_keys.append(key)
        for e in envs:
            self._apply_effects(sample, e)
            if usd_keys:
                self.scene.apply(sample, e, usd_keys)
                self._usd_physics |= {(*split_key(k), e) for k in usd_keys
                                      if split_key(k)[::2] in TENSOR_TARGETS}
            for key, kind, entity, attr in tensor_keys:
                value = sample.values[key][e]
                value = value.item() if isinstance(value, np.generic) else value
                self.tensors.apply(kind, entity, attr, value, sample.ops.get(key, "set"), key, e)  # type: ignore[union-attr]
        if self.tensors is not None:
            self.tensors.flush()
        self.applied.applied(sample, env)

    def _apply_effects(self, sample: Sample, env: int) -> None:
        for key, values in sample.values.items():
            kind, camera, attr = split_key(key)
            if kind == "image":
                effects = self._effects.setdefault((camera, env), {})
                effects[attr] = float(combine(NEUTRAL[attr], float(values[env]), sample.ops.get(key, "set"), key))

    def image_effects(self, camera: str, env: int = 0) -> ImageEffects:
        """The sensor effects of ``camera`` in environment ``env`` now (neutral when none were sampled)."""
        return ImageEffects.from_values(self._effects.get((camera, env), {}))

    def frame_state(self, env: int = 0) -> FrameState:
        """What a frame of environment ``env`` shows now besides its pixels (taken when it is captured)."""
        classes = {name: i + 1 for i, name in enumerate(self.scene.class_names())}
        objects = tuple(SceneObject(o["name"], o["path"], o["instance_id"], o["class"],
                                    Pose(o["position"], o["quat_wxyz"])) for o in self.scene.labelled_objects(env))
        effects = {camera: self.image_effects(camera, env) for camera in self.entities().get("camera", [])}
        return FrameState(objects, classes, self.record(env), effects, self.applied.last[0],
                          {"step": self.clock.steps, "time_s": self.clock.time_s})

    def make_frame(self, annotators: Mapping[str, Any], *, camera: str, index: int, env: int = 0,
                   state: FrameState | None = None) -> Frame:
        """The Frame of one render product's annotator outputs (``annotators.py``), labelled with the objects
        of ``state`` (default: shown now), carrying its randomization record, with the camera's sensor effects
        applied (noise drawn from ``effect_seed(seed, index, camera, env)``: the same frame gets the same noise)."""
        state = state or self.frame_state(env)
        frame = frame_from_annotators(annotators, objects=state.objects, classes=state.classes, camera=camera,
                                      index=index, sample=dict(state.record), meta=dict(state.meta))
        effects = state.effects.get(camera) or ImageEffects()
        if not effects.neutral:
            pending = PendingEffects(effects, effect_seed(state.seed, index, camera, env))
            frame.rgb, frame.depth = pending.apply(frame.rgb, frame.depth)
        return frame

    def camera_paths(self) -> dict[tuple[str, int], str]:
        """(camera entity, environment) -> its prim path: what a render product's camera is matched against."""
        return {(name, env): str(self.scene.ctx.path("camera", name, env))
                for name in self.entities().get("camera", []) for env in range(self.n_envs)}

    def record(self, env: int = 0) -> dict[str, Any]:
        """Every value applied to environment ``env`` since the reset (the latest of each), flat and JSON-ready."""
        return self.applied.record(env)

    # ------------------------------------------------------------------ reset and stepping
    def reset(self) -> None:
        """Restore the stage and the physics defaults, then re-apply the start-up samples."""
        self._scene().restore()
        if self.tensors is not None:
            self.tensors.restore()
        self._usd_physics.clear()
        self._effects.clear()
        self.clock.reset()
        for sample, env in self.applied.reset():
            self.apply(sample, env)

    def add_step_callback(self, callback: StepCallback, every: int = 1) -> None:
        self.clock.add(callback, every)

    def remove_step_callback(self, callback: StepCallback) -> None:
        self.clock.remove(callback)

    def on_physics_step(self, *args: object) -> None:
        """Isaac Sim's physics callback: ``(step_size)`` on 5.x, ``(step_dt, context)`` on 6.0."""
        self.clock.tick(step_dt(args))

    def step(self, n: int = 1) -> None:
        raise UserError("isaac: Isaac Sim steps the physics (World.step / the timeline); it calls on_physics_step")

    # ------------------------------------------------------------------ the simulation's lifetime
    def attach_tensors(self, sim_view: Any, float3: Callable[[float, float, float], Any]) -> TensorPhysics:
        """The simulation started: write physics through ``sim_view`` (an ``omni.physics.tensors``
        SimulationView) from now on."""
        bodies = {name: [str(self.scene.ctx.path("body", name, e)) for e in range(self.n_envs)]
                  for name in self.scene.table.names.get("body", {})}
        gravity = self.scene.physics.gravity_default() if "world" in self.scene.table.names else (0.0, 0.0, -9.81)
        self.tensors = TensorPhysics(sim_view, bodies, gravity=gravity, float3=float3, buckets=self.buckets,
                                     overrides=self.scene.physics.authored_defaults(self._usd_physics))
        return self.tensors

    def detach_tensors(self) -> None:
        """The simulation stopped: its views are invalid; physics goes through USD again."""
        self.tensors = None
        self._sim_view = None

    def sync_view(self, sim_view: Any, float3: Callable[[float, float, float], Any]) -> str:
        """Follow Isaac Sim's PhysX simulation view (``SimulationManager.get_physics_sim_view()``, recreated on
        every play): ``"attached"`` to a new valid view (its buffers are the defaults, so call this when physics
        is ready, not from inside a step), ``"detached"`` when there is none or it was invalidated (a stop),
        ``"kept"`` when it is the view already in use."""
        valid = sim_view is not None and bool(getattr(sim_view, "is_valid", True))
        if valid and sim_view is self._sim_view and self.tensors is not None:
            return "kept"
        if not valid:
            was = self.tensors is not None
            self.detach_tensors()
            return "detached" if was else "kept"
        self.attach_tensors(sim_view, float3)
        self._sim_view = sim_view
        return "attached"

    def render(self, camera: str | None = None) -> Frame:
        """Isaac Sim renders with Replicator inside Kit: its annotators become Frames through ``make_frame``."""
        raise UnsupportedError("isaac: frames come from Replicator's annotators inside Isaac Sim; "
                               "make_frame(annotators, camera=..., index=...) turns them into a Frame")

    def set_control(self, ctrl: Mapping[str, float] | Sequence[float] | np.ndarray) -> None:
        raise UnsupportedError("isaac: actuators are commanded through Isaac Sim's articulation views "
                               "(capabilities.control is False)")

    def state(self) -> dict[str, np.ndarray]:
        """The clock only (``time``, s; ``step``): joint state lives in PhysX, read through Isaac Sim's views."""
        return {"time": np.array(self.clock.time_s), "step": np.array(self.clock.steps)}

    def close(self) -> None:
        self.detach_tensors()
        if self.scene is not None:
            self.scene.close()
            self.scene = None


def required_targets(randomizer: Any) -> set[tuple[str, str]]:
    """The (kind, attribute) pairs a Randomizer will sample on this scene (optional terms that
    matched nothing are not among them)."""
    out: set[tuple[str, str]] = set()
    for keys in randomizer.keys.values():
        for key in keys:
            kind, _, attr = split_key(key)
            out.add((kind, attr))
    return out


if TYPE_CHECKING:  # a type checker verifies the protocol as well (pytest: sim.backend.conformance)
    def _is_a_backend(backend: IsaacBackend) -> Backend:
        return backend

