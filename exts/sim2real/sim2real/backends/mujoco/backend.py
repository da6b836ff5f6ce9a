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
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from typing import TYPE_CHECKING, Any, Self

import mujoco
import numpy as np

from ...errors import UnsupportedError, UserError
from ...randomize.interval import IntervalChunk
from ...randomize.sample import Sample
from ...randomize.targets import CATALOGUE, split_key
from ...randomize.sample import Capabilities
from ...sim.backend import Backend, StepCallback
from ...sim.clock import StepClock
from ...sim.record import AppliedRecord
from ..effects import PendingEffects, effect_seed
from ...sim.frame import Frame, Instance, Pose
from ...sim.labels import instance_boxes, pose_in_camera
from . import cameras, objects, physics, signals, visuals
from . import state as state_targets
from .render import FrameRenderer
from .scene import VISUAL_GROUPS, Scene
from .scene import load as load_scene
from .snapshot import ModelSnapshot
from .tables import FieldTables
from .world import World

log = logging.getLogger(__name__)

_TABLES = (physics.TARGETS, objects.TARGETS, visuals.TARGETS, cameras.TARGETS, signals.TARGETS,
           state_targets.TARGETS)
_CATALOGUE = {(a.kind, a.name) for a in CATALOGUE}


def _supported() -> frozenset[tuple[str, str]]:
    pairs = {(kind, attr) for table in _TABLES for kind, attrs in table.items() for attr in attrs}
    return frozenset(pairs & _CATALOGUE)  # only what profiles can name


class MujocoBackend:
    """The embedded MuJoCo backend: ``load`` a scene, then ``apply``, ``step``, ``render``, ``reset``."""

    name = "mujoco"
    capabilities = Capabilities(
        targets=_supported(), rgb=True, depth=True, segmentation=True, boxes=True, physics=True, max_envs=1,
        occlusion=True, control=True,
    )
    preloads_textures = True  # sim.backend.PreloadsTextures: load(textures=...) makes a texture library

    def __init__(self) -> None:
        self.world: World | None = None
        self._renderer: FrameRenderer | None = None
        self.clock = StepClock()
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
        self._adopt(sc, sc.model, mujoco.MjData(sc.model), (width, height), occlusion)

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
        sizes = ("nq", "nv", "nu", "na", "nbody", "njnt", "ngeom", "nsite", "nsensor", "nmesh", "ntex", "nmat",
                 "ncam", "nlight", "nsensordata")
        differ = [f"{k} {getattr(model, k)} != {getattr(sc.model, k)}" for k in sizes
                  if getattr(model, k) != getattr(sc.model, k)]
        if differ or sc.slots:
            raise UnsupportedError(f"{sc.path}: cannot attach a model that is not this file's own compilation "
                                   f"({'; '.join(differ) or 'the scene has object slots'})")
        self._adopt(sc, model, data, (width, height), occlusion=False)

    def _adopt(self, sc: Any, model: mujoco.MjModel, data: mujoco.MjData, resolution: tuple[int, int],
               occlusion: bool) -> None:
        """Build the appliers on ``model``/``data`` and capture the defaults."""
        width, height = resolution
        compiled = ModelSnapshot(model)
        world = World(sc, model, data, compiled, compiled)
        self.resolution, self.occlusion = (width, height), occlusion
        slot_geoms = {s.name: np.concatenate([v.geoms for v in s.variants.values()]) for s in sc.slots}
        self.objects = objects.Objects(world)
        self.physics = physics.Physics(world, slot_geoms)
        self.lights = visuals.Lights(world)
        self.materials = visuals.Materials(world, {int(g) for ids in slot_geoms.values() for g in ids})
        self.cameras = cameras.Cameras(world, (width, height))
        self.sensors = {n: i for i, n in enumerate(sc.names["mjOBJ_SENSOR"]) if n}
        self.signals = signals.Signals(model.nu, self.physics.actuators, list(self.sensors))
        self.dynamic_state = state_targets.State(world, self.physics.joints, self.physics.bodies,
                                 {name: o.body for name, o in self.objects.objects.items()})
        self.objects.on_asset.append(lambda slot, colour: self.materials.set_default_color(slot.material, colour))
        # the default assets rest on the table, dressed in their colours: that is the default state
        self.objects.write_defaults()
        self.materials.flush()
        world.const_dirty = True
        world.refresh_constants()
        world.defaults = ModelSnapshot(model)
        self.world = world
        for part in (self.objects, self.lights, self.materials, self.cameras):
            part.reset()
        self._routes = self._routing()
        self._plans: dict[tuple[tuple[str, ...], tuple[str, ...]], _Plan] = {}
        self._classes = self._class_table()
        self.applied = AppliedRecord()  # start-up samples to replay, the latest value of every key
        self._reset_state()
        log.info("loaded %s: %d bodies, %d geoms, %d object slots", sc.path, model.nbody, model.ngeom, len(sc.slots))

    def _routing(self) -> dict[tuple[str, str], Any]:
        """(kind, attribute) -> the applier that owns it (body mass/com of slots: re-routed in _plan)."""
        owners = [(physics.TARGETS, self.physics), (objects.TARGETS, self.objects), (cameras.TARGETS, self.cameras),
                  (signals.TARGETS, self.signals), (state_targets.TARGETS, self.dynamic_state),
                  ({"light": visuals.TARGETS["light"]}, self.lights),
                  ({"material": visuals.TARGETS["material"]}, self.materials)]
        return {(kind, attr): owner for table, owner in owners for kind, attrs in table.items() for attr in attrs}

    def _class_table(self) -> dict[str, int]:
        """Semantic class ids: the library's assets (or, without a library, each object's name)."""
        sc = self._world().scene
        names = sc.library if sc.slots else [o.name for o in sc.objects]
        return {name: i + 1 for i, name in enumerate(names)}

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
        out: dict[str, list[str]] = {}
        for part in (self.lights, self.materials, self.cameras, self.physics, self.objects):
            out.update(part.entities())
        out["sensor"] = list(self.sensors)
        return {k: v for k, v in out.items() if v}

    def control_names(self) -> list[str]:
        """Actuator names in control-vector order (``set_control`` takes a vector in this order)."""
        return self._world().scene.actuator_names()

    # ------------------------------------------------------------------ applying
    def apply(self, sample: Sample, env: int | None = None) -> None:
        """Apply environment ``env`` of ``sample`` (None: 0, this backend's one environment); every value is
        relative to the loaded defaults."""
        world = self._world()
        env = 0 if env is None else env
        _check_env(env, sample.n_envs)
        plan = self._plan(tuple(sample.values), sample.ops)
        tables = self._tables(plan)
        if tables is not None:
            tables.write(tables.tables({k: sample.values[k][env:env + 1] for k in tables.keys}), 0)
        for write in plan.writes:
            write(sample.values, sample.ops, env)
        if plan.sensors:
            self.signals.noise.rng = np.random.default_rng([sample.seed % 2**63, sample.index % 2**63, env, 0x5E])
        self._flush()
        world.refresh_constants()
        if not self.signals.pipe.delays:
            world.data.ctrl[:] = self.signals.pipe.current()
        self.applied.applied(sample, env)

    def prepare_interval(self, chunk: IntervalChunk, env: int | None = None) -> Callable[[int], None]:
        """Turn a chunk of interval firings (``sim.schedule.IntervalSchedule``) into model writes once;
        returns ``fire(k)``, which applies row ``k`` as ``apply(chunk.sample(k), env)`` would — the same
        bytes — with one store through the model buffer for the physics targets."""
        world = self._world()
        env = 0 if env is None else env
        _check_env(env, chunk.n_envs)
        plan = self._plan(tuple(chunk.values), chunk.ops)
        tables = self._tables(plan)
        if tables is None:
            return lambda k: self.apply(chunk.sample(k), env)
        rows = tables.tables({k: chunk.values[k][env] for k in tables.keys})
        tabulated = set(tables.keys)
        rest = [k for k in chunk.values if k not in tabulated]
        generation = self.objects.generation

        def fire(k: int) -> None:
            if plan.slot_bound and self.objects.generation != generation:  # a slot changed asset or scale
                self.apply(chunk.sample(k), env)
                return
            tables.write(rows, k)
            if rest:
                self.apply(chunk.sample(k, rest), env)  # (refreshes the constants too)
            else:
                world.refresh_constants()
            self.applied.fired(chunk, k, env)

        return fire

    def record(self, env: int = 0) -> dict[str, Any]:
        """The value of every key applied since the reset (the latest of each): what the world is now
        (``env``: 0, this backend's one environment)."""
        if env != 0:
            raise UserError(f"env: the mujoco backend simulates one environment, 0 (got {env})")
        return self.applied.record(0)

    def _plan(self, keys: tuple[str, ...], ops: Mapping[str, str]) -> _Plan:
        """Where each key goes, validated once per distinct key set and operations (the samples of an
        event share them). Physics keys are written through field tables (``_tables``); so are the
        bodies of object slots, unless the sample also changes objects (then, in key order: a mass
        drawn with a new asset belongs to that asset)."""
        signature = (keys, tuple([ops.get(k, "set") for k in keys]))
        plan = self._plans.get(signature)
        if plan is not None:
            return plan
        entities = self.entities()
        routed = []
        for key in keys:
            try:
                kind, entity, attr = split_key(key)
            except ValueError:
                raise UserError(f"{key}: expected a resolved key kind:entity/attribute") from None
            self.capabilities.require(self.name, [(kind, attr)], source=key)
            owner = self._routes[(kind, attr)]
            if kind == "body" and entity in self.objects.slots and attr in objects.SLOT_BODY_ATTRS:
                owner = self.objects
            known = entities.get(kind, [])
            if entity not in known:
                raise UnsupportedError(f"{key}: no {kind} named {entity!r} in {self.scene.path.name}; "
                                       f"known: {', '.join(known) or 'none'}")
            routed.append((owner, kind, entity, attr, ops.get(key, "set"), key))
        objects_change = any(r[0] is self.objects and r[1] != "body" for r in routed)
        tabular = [r for r in routed if r[0] is self.physics or (r[0] is self.objects and r[1] == "body"
                                                                  and not objects_change)]
        writes = [_single(owner, kind, entity, attr, key) for owner, kind, entity, attr, _, key in routed
                  if (owner, kind, entity, attr, _, key) not in tabular]
        plan = _Plan(tabular, writes, any(r[1] == "sensor" for r in routed),
                     any(r[0] is self.objects for r in tabular))
        self._plans[signature] = plan
        return plan

    def _tables(self, plan: _Plan) -> FieldTables | None:
        """The plan's field tables, made again when they hold slot bodies and a slot changed asset or scale."""
        if not plan.tabular:
            return None
        generation = self.objects.generation if plan.slot_bound else 0
        if plan.tables is None or plan.tables[0] != generation:
            elements = [(key, owner.elements(kind, entity, attr, op, key))
                        for owner, kind, entity, attr, op, key in plan.tabular]
            plan.tables = (generation, FieldTables(self._world(), elements))
        return plan.tables[1]

    def _flush(self) -> None:
        self.objects.flush()
        self.dynamic_state.flush()  # after the object poses, whose write re-initialises qpos
        self.materials.flush()
        self.lights.flush()
        self.cameras.flush()

    def _sync_renderer(self) -> None:
        """Hand the renderer the textures and meshes that changed since it last drew (once each, however
        many resets and samples changed them in between)."""
        if self._renderer is not None:
            for tex in sorted(self.materials.textures_changed):
                self._renderer.upload_texture(tex)
            for mesh in sorted(self.objects.meshes_changed):
                self._renderer.upload_mesh(mesh)
        self.materials.textures_changed.clear()
        self.objects.meshes_changed.clear()

    # ------------------------------------------------------------------ reset
    def reset(self) -> None:
        """Restore every default exactly, reset the physical state, re-apply the start-up samples."""
        world = self._world()
        world.defaults.restore(world.model)
        for part in (self.objects, self.lights, self.materials, self.cameras, self.dynamic_state):
            part.reset()
        self._reset_state()
        for sample, env in self.applied.reset():
            self.apply(sample, env)

    def restore_defaults(self) -> None:
        """Back to exactly what was loaded: ``reset`` after forgetting the start-up samples."""
        self.applied.forget_startup()
        self.reset()

    def _reset_state(self) -> None:
        world = self._world()
        mujoco.mj_resetData(world.model, world.data)
        mujoco.mj_forward(world.model, world.data)
        self.signals.reset(np.zeros(world.model.nu), np.random.default_rng(0))
        self.clock.reset()
        self._frames = 0
        world.forward_dirty = False

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
        model = self.model
        if isinstance(ctrl, Mapping):
            u = self.signals.pipe.commanded
            for name, value in ctrl.items():
                if name not in self.physics.actuators:
                    raise UserError(f"control: no actuator named {name!r}; known: {', '.join(self.physics.actuators)}")
                u[self.physics.actuators[name]] = float(value)
        else:
            u = np.asarray(ctrl, dtype=float).reshape(-1)
            if u.size != model.nu:
                raise UserError(f"control: expected {model.nu} values, one per actuator (got {u.size})")
        self.signals.pipe.command(u)
        if not self.signals.pipe.delays:
            self.data.ctrl[:] = self.signals.pipe.current()

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps, calling the step callbacks that are due after each.

        Steps between callbacks run in one MuJoCo call unless an actuator is delayed (then the
        command pipe is fed every step)."""
        world = self._world()
        model, data, pipe = world.model, world.data, self.signals.pipe
        left = int(n)
        while left > 0:
            if pipe.delays:
                data.ctrl[:] = pipe.output()
                chunk = 1
            else:
                chunk = self.clock.steps_until_due(left)
            mujoco.mj_step(model, data, nstep=chunk)
            left -= chunk
            self.clock.advance(chunk, float(data.time))
        world.forward_dirty = True

    def state(self) -> dict[str, np.ndarray]:
        """Time (s), qpos, qvel, act, ctrl (what the actuators receive), the commands sent, and each
        named sensor as ``sensor:<name>`` (with its noise and bias)."""
        world = self._world()
        model, data = world.model, world.data
        if world.forward_dirty:
            mujoco.mj_forward(model, data)  # sensors describe the current state, not the last step's
            world.forward_dirty = False
        out = {"time": np.array(data.time), "qpos": data.qpos.copy(), "qvel": data.qvel.copy(),
               "act": data.act.copy(), "ctrl": data.ctrl.copy(), "command": self.signals.pipe.commanded}
        readings = {name: data.sensordata[model.sensor_adr[i]:model.sensor_adr[i] + model.sensor_dim[i]]
                    for name, i in self.sensors.items()}
        out.update({f"sensor:{k}": v for k, v in self.signals.noise.apply(readings).items()})
        return out

    # ------------------------------------------------------------------ rendering
    def _frame_renderer(self) -> FrameRenderer:
        if self._renderer is None:  # (its context uploads every texture and mesh of the model as it is now)
            self._renderer = FrameRenderer(self.model, *self.resolution)
            self.materials.textures_changed.clear()
            self.objects.meshes_changed.clear()
        self._sync_renderer()
        return self._renderer

    def camera_id(self, camera: str | None) -> int:
        """Model id of a named camera; None: the first camera, or MuJoCo's free camera (-1) if none."""
        names = self.scene.names["mjOBJ_CAMERA"]
        if camera is None:
            return 0 if names else -1
        if camera not in names:
            raise UserError(f"camera: no camera named {camera!r}; known: {', '.join(n for n in names if n) or 'none'}")
        return names.index(camera)

    def render(self, camera: str | None = None) -> Frame:
        """Render one Frame from ``camera`` (default: the scene's first camera)."""
        world = self._world()
        cam = self.camera_id(camera)
        cam_name = self.scene.names["mjOBJ_CAMERA"][cam] if cam >= 0 else "free"
        renderer = self._frame_renderer()
        model, data = world.model, world.data
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        mujoco.mj_camlight(model, data)
        passes = renderer.render(data, cam)
        shown = [o for o in self.scene.objects if self.objects.is_shown(o.name)]
        geom_inst = np.zeros(model.ngeom + 1, dtype=np.int32)  # index -1 (non-geom segments) stays 0
        for o in shown:
            geom_inst[o.geoms] = o.instance_id
        n_inst = len(self.scene.objects)
        instance = geom_inst[passes.geom_of_segment][passes.segment]
        inst_class = np.zeros(n_inst + 1, dtype=np.int32)
        class_names = {}
        for o in shown:
            class_names[o.instance_id] = self.objects.active_asset(o.name) or o.name
            inst_class[o.instance_id] = self._classes[class_names[o.instance_id]]
        semantic = inst_class[instance]
        boxes, counts = instance_boxes(instance, n_inst)
        full = counts
        if self.occlusion and shown:
            full = self._unoccluded(renderer, shown, passes, geom_inst, n_inst)
        instances = []
        for o in shown:
            i = o.instance_id
            pose = Pose(data.xpos[o.body].copy(), data.xquat[o.body].copy())
            visible = int(counts[i])
            fraction = min(1.0, visible / float(full[i])) if full[i] > 0 else 0.0
            box = tuple(int(v) for v in boxes[i]) if visible else None
            instances.append(Instance(i, o.name, int(inst_class[i]), class_names[i], box, visible, fraction,
                                      pose, pose_in_camera(pose, passes.cam_to_world),
                                      {"unoccluded_pixels": int(full[i])}))
        rgb, depth, pending = passes.rgb, passes.depth, None
        effect = self.signals.effects.get(cam_name)
        if effect is not None and not effect.neutral:
            seed, index = self.applied.last  # the image noise is keyed by the latest sample
            pending = PendingEffects(effect, effect_seed(seed, index, cam_name, self._frames))
            if not self.defer_effects:
                rgb, depth = pending.apply(rgb, depth)
                pending = None
        labels = {0: "background", **{v: k for k, v in self._classes.items()}}
        extent = model.stat.extent
        frame = Frame(rgb, depth, instance.astype(np.int32), semantic, labels, instances, passes.K,
                      passes.cam_to_world, camera=cam_name, index=self._frames, sample=self.record(),
                      meta={"backend": self.name, "scene": self.scene.path.name, "time_s": float(data.time),
                            "step": self.clock.steps, "znear_m": float(model.vis.map.znear * extent),
                            "zfar_m": float(model.vis.map.zfar * extent)}, effects=pending)
        self._frames += 1
        return frame

    def _unoccluded(self, renderer: FrameRenderer, shown: list, passes: Any, geom_inst: np.ndarray,
                    n_inst: int) -> np.ndarray:
        """Pixels each shown object would cover with nothing in front of it (grouped render passes)."""
        model, data = self.model, self.data
        width, height = self.resolution
        world_to_cam = np.linalg.inv(passes.cam_to_world)
        K = passes.K
        rects = {}
        for o in shown:
            geoms = o.geoms[np.isin(model.geom_group[o.geoms], VISUAL_GROUPS)]
            rects[o.instance_id] = _projected_rect(model, data, geoms, world_to_cam, K, width, height)
        groups: list[list[int]] = []
        bounds: list[tuple[int, int, int, int]] = []
        for i, r in rects.items():
            if r[2] <= r[0] or r[3] <= r[1]:
                continue
            for k, members in enumerate(groups):
                if all(not _overlap(r, rects[j]) for j in members):
                    members.append(i)
                    b = bounds[k]
                    bounds[k] = (min(b[0], r[0]), min(b[1], r[1]), max(b[2], r[2]), max(b[3], r[3]))
                    break
            else:
                groups.append([i])
                bounds.append(r)
        by_id = {o.instance_id: o for o in shown}
        member_geoms = [[by_id[i].geoms for i in members] for members in groups]
        return renderer.silhouettes(member_geoms, bounds, geom_inst, n_inst)

    def close(self) -> None:
        """Release the renderer (explicitly: EGL complains when contexts die at interpreter exit)."""
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class _Plan:
    tabular: list[tuple[Any, str, str, str, str, str]]  # (owner, kind, entity, attr, op, key) written via tables
    writes: list[Callable[[Mapping[str, np.ndarray], Mapping[str, str], int], None]]  # the others, in key order
    sensors: bool  # the sample sets sensor noise: reseed its generator
    slot_bound: bool  # tables hold object slots' bodies: they follow the slots' assets and scales
    tables: tuple[int, FieldTables] | None = None  # (Objects.generation they were made for, tables)


def _check_env(env: int, n_envs: int) -> None:
    if not 0 <= env < n_envs:
        raise UserError(f"env: expected 0..{n_envs - 1} for a sample of {n_envs} envs (got {env})")


def _single(owner: Any, kind: str, entity: str, attr: str, key: str) -> Callable[..., None]:
    def write(values: Mapping[str, np.ndarray], ops: Mapping[str, str], env: int) -> None:
        value = values[key][env]
        owner.apply(kind, entity, attr, value.item() if isinstance(value, np.generic) else value,
                    ops.get(key, "set"), key)
    return write


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


_CORNERS = np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1], indexing="ij")).reshape(3, -1).T  # of a box


def _projected_rect(model: mujoco.MjModel, data: mujoco.MjData, geoms: np.ndarray, world_to_cam: np.ndarray,
                    K: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel box (half-open) that surely contains the geoms' image: their bounding boxes' corners
    projected; the whole image when a corner is behind the camera."""
    if len(geoms) == 0:
        return (0, 0, 0, 0)
    aabb = model.geom_aabb[geoms]
    local = aabb[:, None, :3] + _CORNERS[None] * aabb[:, None, 3:]
    rot = data.geom_xmat[geoms].reshape(-1, 3, 3)
    world = np.einsum("gij,gkj->gki", rot, local) + data.geom_xpos[geoms][:, None]
    cam = world.reshape(-1, 3) @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    if (cam[:, 2] <= 1e-6).any():
        return (0, 0, width, height)
    uv = cam @ K.T
    u, v = uv[:, 0] / uv[:, 2], uv[:, 1] / uv[:, 2]
    x0, y0 = max(0, math.floor(u.min() - 1)), max(0, math.floor(v.min() - 1))
    x1, y1 = min(width, math.ceil(u.max() + 2)), min(height, math.ceil(v.max() + 2))
    return (x0, y0, x1, y1)


if TYPE_CHECKING:  # a type checker verifies the protocol as well (pytest: sim.backend.conformance)
    def _is_a_backend(backend: MujocoBackend) -> Backend:
        return backend

