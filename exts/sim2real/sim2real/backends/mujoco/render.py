"""Rendering a Frame with ``mujoco.Renderer``: RGB, depth, instance/semantic segmentation, boxes and
the occlusion of every labelled object.

Passes per frame (MuJoCo's Renderer would need three for RGB, depth and segmentation):

1. the lit RGB image;
2. segmentation (flat id colours, no lighting, no skybox) whose depth buffer is read in the same call,
   so depth holds real surfaces only; the reversed-Z buffer is linearised to metres along the optical
   axis with MuJoCo's own formula (float64), background = 0;
3. occlusion: for groups of objects whose projected bounds do not overlap, a segmentation pass that
   draws only that group (other geoms get ``segid = -1``, which MuJoCo's segmentation pass skips),
   giving the pixels each object would cover with nothing in front of it.

This module reaches two attributes of ``mujoco.Renderer`` that are not public (``_mjr_context``,
``_gl_context``) to upload textures and meshes and to read colour and depth in one call; ``open``
checks they exist so a MuJoCo upgrade that renames them fails with one clear line.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import mujoco
import numpy as np

from ...errors import RenderError
from . import gl
from .gl import INSTALL_HINT
from .scene import HIDDEN_GROUP

log = logging.getLogger(__name__)
FLAGS = mujoco.mjtRndFlag


@dataclass
class Passes:
    rgb: np.ndarray  # (H, W, 3) uint8
    depth: np.ndarray  # (H, W) float32 metres, 0 = background
    segment: np.ndarray  # (H, W) int32: index + 1 of the scene geom seen, 0 = background
    geom_of_segment: np.ndarray  # (ngeom_scene + 1,) model geom id per segment (-1: not a geom)
    K: np.ndarray
    cam_to_world: np.ndarray


class FrameRenderer:
    def __init__(self, model: mujoco.MjModel, width: int, height: int, max_geom: int = 4000) -> None:
        self.model, self.width, self.height = model, width, height
        if gl.SELECTION_ERROR:
            raise RenderError(gl.SELECTION_ERROR)
        try:
            self.renderer = mujoco.Renderer(model, height, width, max_geom=max_geom)
        except Exception as exc:  # MuJoCo raises whatever its GL platform raises
            raise RenderError(f"MUJOCO_GL={os.environ.get('MUJOCO_GL', '')}: cannot create an OpenGL context "
                              f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); {INSTALL_HINT}") from exc
        if not hasattr(self.renderer, "_mjr_context") or not hasattr(self.renderer, "_gl_context"):
            self.renderer.close()
            raise RenderError(f"mujoco {mujoco.__version__}: mujoco.Renderer changed its internals; "
                              "sim2real needs a mujoco release it supports (see pyproject.toml)")
        self.option = mujoco.MjvOption()
        self.option.geomgroup[HIDDEN_GROUP] = 0
        self.rect = mujoco.MjrRect(0, 0, width, height)
        self._rgb = np.empty((height, width, 3), np.uint8)
        self._seg = np.empty((height, width, 3), np.uint8)
        self._zbuf = np.empty((height, width), np.float32)

    # ------------------------------------------------------------------ GL resources
    def _current(self) -> mujoco.MjrContext:
        gl = self.renderer._gl_context
        if gl is not None:
            gl.make_current()
        ctx = self.renderer._mjr_context
        if ctx is None:
            raise RenderError("the renderer was closed")
        return ctx

    def upload_texture(self, texture: int) -> None:
        mujoco.mjr_uploadTexture(self.model, self._current(), texture)

    def upload_mesh(self, mesh: int) -> None:
        mujoco.mjr_uploadMesh(self.model, self._current(), mesh)

    def close(self) -> None:
        self.renderer.close()

    # ------------------------------------------------------------------ passes
    @property
    def scene(self) -> mujoco.MjvScene:
        return self.renderer.scene

    def update(self, data: mujoco.MjData, camera: int) -> None:
        self.renderer.update_scene(data, camera, self.option)

    def _draw(self, segment: bool, rgb: np.ndarray, depth: np.ndarray | None, rect: mujoco.MjrRect) -> None:
        ctx, flags = self._current(), self.scene.flags
        flags[FLAGS.mjRND_SEGMENT] = flags[FLAGS.mjRND_IDCOLOR] = segment
        mujoco.mjr_render(self.rect, self.scene, ctx)
        mujoco.mjr_readPixels(rgb, depth, rect, ctx)
        flags[FLAGS.mjRND_SEGMENT] = flags[FLAGS.mjRND_IDCOLOR] = False

    def render(self, data: mujoco.MjData, camera: int) -> Passes:
        from .cameras import extrinsics, intrinsics

        self.update(data, camera)
        self._draw(False, self._rgb, None, self.rect)
        rgb = np.flipud(self._rgb).copy()
        self._draw(True, self._seg, self._zbuf, self.rect)
        segment = _decode(np.flipud(self._seg))
        depth = self._linear_depth(np.flipud(self._zbuf))
        depth[segment == 0] = 0.0
        lut = np.full(self.scene.ngeom + 1, -1, dtype=np.int32)
        for i, g in enumerate(self.scene.geoms[: self.scene.ngeom]):
            if g.objtype == mujoco.mjtObj.mjOBJ_GEOM:
                lut[i + 1] = g.objid
        return Passes(rgb, depth, segment, lut, intrinsics(self.scene, self.width, self.height),
                      extrinsics(self.scene))

    def _linear_depth(self, zbuf: np.ndarray) -> np.ndarray:
        """Reversed-Z depth buffer → metres along the optical axis (as mujoco.Renderer computes it)."""
        extent = self.model.stat.extent
        znear = np.float32(self.model.vis.map.znear * extent)
        zfar = np.float32(self.model.vis.map.zfar * extent)
        z = zbuf.astype(np.float64)
        if self.scene.camera[0].orthographic:
            return (zfar - z * (zfar - znear)).astype(np.float32)
        c_coef = -(zfar + znear) / (zfar - znear)
        d_coef = -(np.float32(2) * zfar * znear) / (zfar - znear)
        c_coef = np.float32(-0.5) * c_coef - np.float32(0.5)
        d_coef = np.float32(-0.5) * d_coef
        with np.errstate(divide="ignore"):
            return (d_coef / (z + c_coef)).astype(np.float32)

    def silhouettes(self, groups: list[list[np.ndarray]], rects: list[tuple[int, int, int, int]],
                    geom_to_instance: np.ndarray, n_instances: int) -> np.ndarray:
        """Pixels each instance covers when drawn without the rest of the scene.

        ``groups[k]`` lists the model geom ids of the instances drawn together in pass ``k`` (their
        projected bounds do not overlap); ``rects[k]`` the pixel box (x0, y0, x1, y1) to read back.
        The scene must hold the frame's main view (``render`` was just called). Returns counts per
        instance id (index 0 unused)."""
        counts = np.zeros(n_instances + 1, dtype=np.int64)
        geoms = self.scene.geoms[: self.scene.ngeom]
        objids = [g.objid if g.objtype == mujoco.mjtObj.mjOBJ_GEOM else -1 for g in geoms]
        try:
            for members, (x0, y0, x1, y1) in zip(groups, rects, strict=True):
                if x1 <= x0 or y1 <= y0:
                    continue
                keep = set(np.concatenate(members).tolist())
                for i, g in enumerate(geoms):
                    g.segid = i if objids[i] in keep else -1
                out = np.empty((y1 - y0, x1 - x0, 3), np.uint8)
                self._draw(True, out, None, mujoco.MjrRect(x0, self.height - y1, x1 - x0, y1 - y0))
                seg = _decode(np.flipud(out))
                lut = np.zeros(len(geoms) + 1, dtype=np.int64)
                lut[1:] = [geom_to_instance[o] if o >= 0 else 0 for o in objids]
                counts += np.bincount(lut[seg].ravel(), minlength=n_instances + 1)[: n_instances + 1]
        finally:
            for i, g in enumerate(geoms):
                g.segid = i
        counts[0] = 0
        return counts


def _decode(seg_rgb: np.ndarray) -> np.ndarray:
    """Id colours → scene geom index + 1 (0 = background)."""
    seg = seg_rgb.astype(np.int32)
    return seg[..., 0] | (seg[..., 1] << 8) | (seg[..., 2] << 16)
