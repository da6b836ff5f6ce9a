"""Labelled frames from the scene's cameras: the renderer's lifetime, what it must upload again,
segmentation labels (instances, semantic classes), boxes, object poses, occlusion and image effects.

The renderer is made at the first ``render`` (physics-only users never open a GL context). It holds
its own copies of textures and meshes; ``sync`` uploads the ones the appliers changed, right before a
draw (once each, however many resets and samples changed them in between). Image effects are applied
here, or left to the frame's consumer (``defer_effects``: the writer threads, off the render thread).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mujoco
import numpy as np

from ...errors import UserError
from ...sim.rendered_frame import Frame, Instance, Pose
from ...sim.labels import instance_boxes, pose_in_camera
from ..effects import PendingEffects, effect_seed
from .loader import Appliers
from .occlusion import unoccluded_pixels
from .render import FrameRenderer, Passes
from .scene import LabelledObject


class CameraFrames:
    """Renders ``parts``' world at ``resolution`` into Frames, numbered from the reset."""

    def __init__(self, parts: Appliers, resolution: tuple[int, int], occlusion: bool, backend: str) -> None:
        self.parts, self.resolution, self.occlusion, self.backend = parts, resolution, occlusion, backend
        scene = parts.world.scene
        names = scene.library if scene.slots else [o.name for o in scene.objects]
        self.classes = {name: i + 1 for i, name in enumerate(names)}  # semantic ids: assets, else objects
        self.renderer: FrameRenderer | None = None
        self.count = 0  # frames rendered since the reset

    def reset(self) -> None:
        self.count = 0

    def sync(self) -> None:
        """Upload the textures and meshes changed since the last sync (if the renderer exists)."""
        materials, objects = self.parts.materials, self.parts.objects
        if self.renderer is not None:
            for tex in sorted(materials.textures_changed):
                self.renderer.upload_texture(tex)
            for mesh in sorted(objects.meshes_changed):
                self.renderer.upload_mesh(mesh)
        materials.textures_changed.clear()
        objects.meshes_changed.clear()

    def _renderer(self) -> FrameRenderer:
        if self.renderer is None:  # (its context uploads every texture and mesh of the model as it is now)
            self.renderer = FrameRenderer(self.parts.world.model, *self.resolution)
            self.parts.materials.textures_changed.clear()
            self.parts.objects.meshes_changed.clear()
        self.sync()
        return self.renderer

    def camera_id(self, camera: str | None) -> int:
        """Model id of a named camera; None: the first camera, or MuJoCo's free camera (-1) if none."""
        names = self.parts.world.scene.names["mjOBJ_CAMERA"]
        if camera is None:
            return 0 if names else -1
        if camera not in names:
            raise UserError(f"camera: no camera named {camera!r}; known: {', '.join(n for n in names if n) or 'none'}")
        return names.index(camera)

    def render(self, camera: str | None, sample: dict[str, Any], noise_key: tuple[int, int], step: int, *,
               defer_effects: bool = False) -> Frame:
        """One Frame from ``camera``; ``sample`` is recorded in it, ``noise_key`` (seed, index of the
        latest sample) keys the image noise, ``step`` is the physics step since the reset;
        ``defer_effects``: the image effects are left in ``Frame.effects`` for the consumer to apply."""
        world, scene = self.parts.world, self.parts.world.scene
        cam = self.camera_id(camera)
        cam_name = scene.names["mjOBJ_CAMERA"][cam] if cam >= 0 else "free"
        renderer = self._renderer()
        model, data = world.model, world.data
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        mujoco.mj_camlight(model, data)
        passes = renderer.render(data, cam)
        shown = [o for o in scene.objects if self.parts.objects.is_shown(o.name)]
        instance, semantic, instances = self._labels(renderer, passes, shown)
        rgb, depth, pending = passes.rgb, passes.depth, None
        effect = self.parts.signals.effects.get(cam_name)
        if effect is not None and not effect.neutral:
            pending = PendingEffects(effect, effect_seed(*noise_key, cam_name, self.count))
            if not defer_effects:
                rgb, depth = pending.apply(rgb, depth)
                pending = None
        labels = {0: "background", **{v: k for k, v in self.classes.items()}}
        extent = model.stat.extent
        frame = Frame(rgb, depth, instance, semantic, labels, instances, passes.K, passes.cam_to_world,
                      camera=cam_name, index=self.count, sample=sample,
                      meta={"backend": self.backend, "scene": scene.path.name, "time_s": float(data.time),
                            "step": step, "znear_m": float(model.vis.map.znear * extent),
                            "zfar_m": float(model.vis.map.zfar * extent)}, effects=pending)
        self.count += 1
        return frame

    def _labels(self, renderer: FrameRenderer, passes: Passes,
                shown: Sequence[LabelledObject]) -> tuple[np.ndarray, np.ndarray, list[Instance]]:
        """Instance and semantic images and each shown object's Instance (box, visibility, poses)."""
        model, data, objs = renderer.model, self.parts.world.data, self.parts.objects
        n_inst = len(self.parts.world.scene.objects)
        geom_inst = np.zeros(model.ngeom + 1, dtype=np.int32)  # index -1 (non-geom segments) stays 0
        for o in shown:
            geom_inst[o.geoms] = o.instance_id
        instance = geom_inst[passes.geom_of_segment][passes.segment]
        inst_class = np.zeros(n_inst + 1, dtype=np.int32)
        class_names = {}
        for o in shown:
            class_names[o.instance_id] = objs.active_asset(o.name) or o.name
            inst_class[o.instance_id] = self.classes[class_names[o.instance_id]]
        boxes, counts = instance_boxes(instance, n_inst)
        full = counts
        if self.occlusion and shown:
            full = unoccluded_pixels(renderer, data, shown, passes, geom_inst, n_inst)
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
        return instance.astype(np.int32), inst_class[instance], instances

    def close(self) -> None:
        """Release the renderer (explicitly: EGL complains when contexts die at interpreter exit)."""
        if self.renderer is not None:
            self.renderer.close()
            self.renderer = None
