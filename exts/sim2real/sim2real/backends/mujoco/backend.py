"""``MujocoBackend``: the embedded default implementation of the Backend protocol (``sim/backend.py``).

One scene, one environment. ``apply`` writes each sampled value relative to the defaults captured at
load (never to the current value), through the applier that owns its kind of target:

=====================  ================================================================
target kinds           applier
=====================  ================================================================
light, material        visuals.Lights, visuals.Materials (textures uploaded to the renderer)
object, scene          objects.Objects (library assets in slots, pose, scale, visibility)
camera                 cameras.Cameras
geom, body, joint,     physics.Physics (body mass/com of object slots: objects.Objects)
actuator, world
joint position and     state.State (mjData: qpos, qvel, xfrc_applied)
velocity, object
velocity, body force
and torque
actuator latency and   signals.Signals (sim.wrappers and backends.effects, outside the model)
gain_error, sensor,
image
=====================  ================================================================

``reset`` restores every model field from the snapshot taken at load (snapshot.py), resets the
physical state and re-applies the start-up samples (``when = "startup"`` terms last for the scene's lifetime, as in Isaac Lab).

This class is a façade over what it owns: ``loader`` (the appliers of a loaded scene and their
defaults), ``router`` (which applier each key goes to, planned once per key set), ``stepping``
(control, physics steps, state) and ``camera_frames`` (labelled frames; ``occlusion``). The
renderer gets the textures and meshes that changed once, right before it draws.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from os import PathLike
from typing import TYPE_CHECKING, Any, Self

import mujoco
import numpy as np

from ...errors import UserError
from ...randomize.interval import IntervalChunk
from ...randomize.sample import Capabilities, Sample
from ...sim.backend import Backend, StepCallback
from ...sim.clock import StepClock
from ...sim.rendered_frame import Frame
from ...sim.record import AppliedRecord
from .camera_frames import CameraFrames
from .loader import Appliers, check_attachable, load_appliers
from .router import Router, supported_targets
from .scene import Scene
from .scene import load as load_scene
from .stepping import Stepper
from .world import World

log = logging.getLogger(__name__)


class MujocoBackend:
    """The embedded MuJoCo backend: ``load`` a scene, then ``apply``, ``step``, ``render``, ``reset``."""

    name = "mujoco"
    capabilities = Capabilities(
        targets=supported_targets(), rgb=True, depth=True, segmentation=True, boxes=True, physics=True, max_envs=1,
        occlusion=True, control=True,
    )
    preloads_textures = True  # sim.backend.PreloadsTextures: load(textures=...) makes a texture library

    def __init__(self) -> None:
        self.world: World | None = None
        self.clock = StepClock()  # outlives loads: step callbacks may be added before one
        self._frames: CameraFrames | None = None
        self.defer_effects = False  # sim.backend.DefersEffects: leave image effects to the frame's consumer

    # ------------------------------------------------------------------ loading
    @staticmethod
    def prepare_scene(scene: str | PathLike[str], *, resolution: tuple[int, int] = (640, 480),
                      textures: Sequence[str] = ()) -> Scene:
        """``sim.backend.PreparesScene``: the scene loaded and compiled once, picklable, for ``load``."""
        return load_scene(scene, (int(resolution[0]), int(resolution[1])), textures)

    def load(self, scene: str | PathLike[str] | Scene, *, resolution: tuple[int, int] = (640, 480),
             occlusion: bool = True, textures: Sequence[str] = (), **options: Any) -> None:
        """Load an MJCF scene (a path or a shipped scene name such as ``tabletop``), or a scene made by
        ``prepare_scene`` (then ``textures`` are the ones it was prepared with).

        ``resolution`` is (width, height) in pixels; ``occlusion`` computes how much of each object is
        hidden (extra render passes; without it ``visible_fraction`` is 1 for every visible object);
        ``textures``: image files that ``material:*/texture`` may choose, each made a texture of its own
        now, so that choosing one is a switch (``textures.py``; others are copied when chosen)."""
        if options:
            raise UserError(f"mujoco backend: unknown load options {sorted(options)}; known: resolution, "
                            "occlusion, textures")
        width, height = int(resolution[0]), int(resolution[1])
        if width < 1 or height < 1:
            raise UserError(f"resolution: expected positive (width, height) in pixels (got {resolution})")
        self.close()
        sc = scene.fresh() if isinstance(scene, Scene) else load_scene(scene, (width, height), textures)
        glob = sc.model.vis.global_
        glob.offwidth, glob.offheight = max(glob.offwidth, width), max(glob.offheight, height)
        self._adopt(load_appliers(sc, sc.model, mujoco.MjData(sc.model), (width, height)), occlusion)

    def attach(self, scene: str | PathLike[str], model: mujoco.MjModel, data: mujoco.MjData, *,
               resolution: tuple[int, int] = (640, 480)) -> None:
        """Adopt a model and data made elsewhere from the MJCF file ``scene`` (gymnasium's ``MujocoEnv``
        compiles its own): names and entities come from the file, every applier writes into ``model``
        and ``data`` in place, and their defaults are captured now. The owner keeps stepping them (or
        routes its steps through ``step``; ``sim2real.backends.mujoco.gym_env`` does for gymnasium).

        The model must be the file's own compilation: same sizes (scenes with object slots, which the
        backend expands at load, cannot be attached)."""
        width, height = int(resolution[0]), int(resolution[1])
        self.close()
        sc = load_scene(scene, (width, height))
        check_attachable(sc, model)
        self._adopt(load_appliers(sc, model, data, (width, height)), occlusion=False)

    def _adopt(self, parts: Appliers, occlusion: bool) -> None:
        self.parts, self.world = parts, parts.world
        # the appliers by name, as tests and wrappers reach them
        self.objects, self.physics, self.signals, self.lights = parts.objects, parts.physics, parts.signals, parts.lights
        self.router = Router(parts, self.capabilities, self.name)
        self.stepper = Stepper(parts, self.clock)
        self._frames = CameraFrames(parts, parts.cameras.resolution, occlusion, self.name)
        self.applied = AppliedRecord()  # start-up samples to replay, the latest value of every key
        self._reset_state()
        sc, model = parts.world.scene, parts.world.model
        log.info("loaded %s: %d bodies, %d geoms, %d object slots", sc.path, model.nbody, model.ngeom, len(sc.slots))

    @property
    def model(self) -> mujoco.MjModel:
        return self._world().model

    @property
    def data(self) -> mujoco.MjData:
        return self._world().data

    @property
    def dt(self) -> float:
        """Physics step, seconds (NaN before a scene is loaded)."""
        return float(self.world.model.opt.timestep) if self.world is not None else math.nan

    @property
    def scene(self) -> Any:
        return self._world().scene

    def _world(self) -> World:
        if self.world is None:
            raise UserError("mujoco backend: no scene loaded; call load(scene) first")
        return self.world

    def entities(self) -> dict[str, list[str]]:
        self._world()
        return self.parts.entities()

    def footprints(self) -> dict[str, Any]:
        """``sim.placement.DescribesFootprints``: the object slots' shapes, so objects are placed apart."""
        self._world()
        return self.objects.footprints()

    def control_names(self) -> list[str]:
        """Actuator names in control-vector order (``set_control`` takes a vector in this order)."""
        return self._world().scene.actuator_names()

    # ------------------------------------------------------------------ applying
    def apply(self, sample: Sample, env: int | None = None) -> None:
        """Apply environment ``env`` of ``sample`` (None: 0, this backend's one environment); every value is
        relative to the loaded defaults."""
        world = self._world()
        env = _env(env, sample.n_envs)
        self.router.write(sample, env)
        self.parts.flush()
        world.refresh_constants()
        self.stepper.pass_through()
        self.applied.applied(sample, env)

    def prepare_interval(self, chunk: IntervalChunk, env: int | None = None) -> Callable[[int], None]:
        """Turn a chunk of interval firings (``sim.schedule.IntervalSchedule``) into model writes once;
        returns ``fire(k)``, which applies row ``k`` as ``apply(chunk.sample(k), env)`` would — the same
        bytes — with one store through the model buffer for the physics targets."""
        self._world()
        return self.router.prepare(chunk, _env(env, chunk.n_envs), self.apply, self.applied.fired)

    def record(self, env: int = 0) -> dict[str, Any]:
        """The value of every key applied since the reset (the latest of each): what the world is now
        (``env``: 0, this backend's one environment)."""
        if env != 0:
            raise UserError(f"env: the mujoco backend simulates one environment, 0 (got {env})")
        return self.applied.record(0)

    # ------------------------------------------------------------------ reset
    def reset(self) -> None:
        """Restore every default exactly, reset the physical state, re-apply the start-up samples."""
        self._world()
        self.parts.reset()
        self._reset_state()
        for sample, env in self.applied.reset():
            self.apply(sample, env)

    def restore_defaults(self) -> None:
        """Back to exactly what was loaded: ``reset`` after forgetting the start-up samples."""
        self.applied.forget_startup()
        self.reset()

    def _reset_state(self) -> None:
        self.stepper.reset()
        self._camera().reset()

    # ------------------------------------------------------------------ stepping
    def add_step_callback(self, callback: StepCallback, every: int = 1) -> None:
        """Call ``callback(step, time_s)`` after every ``every``-th physics step since the reset."""
        if every < 1:
            raise UserError(f"every: expected a positive number of physics steps (got {every})")
        self.clock.add(callback, every)

    def remove_step_callback(self, callback: StepCallback) -> None:
        self.clock.remove(callback)

    def set_control(self, ctrl: Mapping[str, float] | Sequence[float] | np.ndarray) -> None:
        """Command the actuators: a vector in ``control_names()`` order or ``{actuator name: value}``."""
        self._world()
        self.stepper.set_control(ctrl)

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, calling the step callbacks that are due after each (stepping.py)."""
        self._world()
        self.stepper.step(n)

    def state(self) -> dict[str, np.ndarray]:
        """Time (s), qpos, qvel, act, ctrl (what the actuators receive), the commands sent, and each
        named sensor as ``sensor:<name>`` (with its noise and bias)."""
        self._world()
        return self.stepper.state()

    # ------------------------------------------------------------------ rendering
    def _camera(self) -> CameraFrames:
        self._world()
        assert self._frames is not None  # made with the world
        return self._frames

    def camera_id(self, camera: str | None) -> int:
        """Model id of a named camera; None: the first camera, or MuJoCo's free camera (-1) if none."""
        return self._camera().camera_id(camera)

    def render(self, camera: str | None = None) -> Frame:
        """Render one Frame from ``camera`` (default: the scene's first camera)."""
        return self._camera().render(camera, self.record(), self.applied.last, self.clock.steps,
                                     defer_effects=self.defer_effects)

    def close(self) -> None:
        """Release the renderer (explicitly: EGL complains when contexts die at interpreter exit)."""
        if self._frames is not None:
            self._frames.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _env(env: int | None, n_envs: int) -> int:
    """The environment of a sample to apply (None: 0), checked against the sample's count."""
    env = 0 if env is None else env
    if not 0 <= env < n_envs:
        raise UserError(f"env: expected 0..{n_envs - 1} for a sample of {n_envs} envs (got {env})")
    return env


if TYPE_CHECKING:  # a type checker verifies the protocol as well (pytest: sim.backend.conformance)
    def _is_a_backend(backend: MujocoBackend) -> Backend:
        return backend
