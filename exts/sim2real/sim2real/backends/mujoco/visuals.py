"""Lighting and material targets, and textures loaded from image files.

Lights (``light_*`` fields of the named light):

* ``intensity`` is the light's level: the largest channel of its default diffuse colour (``scale``
  multiplies it). Diffuse, ambient and specular all follow it, so dimming a light dims all of it.
* ``color`` (linear RGB) and ``temperature`` (kelvin → RGB, largest channel 1) are multiplied, like a
  gel in front of a tinted lamp; their defaults are the light's own tint and white.
* ``ambient``, ``specular`` (RGB), ``position`` (m), ``direction`` (normalised), ``enabled``
  (``light_active``), ``shadows`` (``light_castshadow``).

Materials (a named ``<material>``, or a named geom without one, whose ``rgba`` is then used):

* ``base_color`` → ``mat_rgba[:3]`` (``geom_rgba[:3]``).
* ``texture``: an image file (PNG/JPG, loaded with Pillow) shown by the material's 2D texture: switched
  to the texture library's copy of it when the backend was loaded with it (``load(textures=...)``,
  textures.py), else copied into the material's texture and uploaded to the renderer. The texture's
  size is fixed by the scene (``<texture width height>``): images are resized to it (bilinear); alpha
  is dropped for RGB textures. While an image is set the material's colour is white unless
  ``base_color`` is also set (then it tints the image), like OmniPBR's diffuse texture and tint. The
  material must reference a 2D texture.
* ``texture_scale`` multiplies ``mat_texrepeat``; ``specular`` → ``mat_specular``; ``roughness`` →
  ``mat_roughness`` and ``mat_shininess = 1 - roughness`` (the classic renderer's gloss);
  ``metallic`` → ``mat_metallic`` and ``mat_reflectance`` (the classic renderer mirrors planes only).
"""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from ...errors import UnsupportedError
from ...sim.ops import as_vector, combine, require_set
from .textures import RGB_ROLE, ImageCache, shape_of
from .world import World

TARGETS: dict[str, frozenset[str]] = {
    "light": frozenset({"intensity", "color", "temperature", "position", "direction", "enabled", "shadows",
                        "ambient", "specular"}),
    "material": frozenset({"base_color", "texture", "texture_scale", "roughness", "metallic", "specular"}),
}


def _kelvin_to_rgb(kelvin: float) -> np.ndarray:
    from ...randomize.color import kelvin_to_rgb  # the engine-neutral conversion lives with the profiles

    return np.asarray(kelvin_to_rgb(kelvin), dtype=float)


class Lights:
    def __init__(self, world: World) -> None:
        self.world = world
        self.ids = {n: i for i, n in enumerate(world.scene.names["mjOBJ_LIGHT"]) if n}
        self.params: dict[str, dict[str, Any]] = {}
        self.dirty: set[str] = set()

    def entities(self) -> dict[str, list[str]]:
        return {"light": list(self.ids)}

    def reset(self) -> None:
        self.params.clear()
        self.dirty.clear()

    def _level0(self, i: int) -> float:
        return float(self.world.default("light_diffuse")[i].max())

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        i, d = self.ids[entity], self.world.default
        p = self.params.setdefault(entity, {})
        if attr in ("enabled", "shadows"):
            require_set(op, key)
            p[attr] = bool(value)
        elif attr == "intensity":
            p[attr] = max(float(combine(self._level0(i), value, op, key)), 0.0)
        elif attr == "temperature":
            p[attr] = float(combine(6500.0, value, op, key))
        elif attr == "color":
            level = self._level0(i)
            tint0 = d("light_diffuse")[i] / level if level > 0 else np.ones(3)
            p[attr] = np.maximum(combine(tint0, as_vector(value, 3, key), op, key), 0.0)
        elif attr in ("ambient", "specular"):
            p[attr] = np.maximum(combine(d(f"light_{attr}")[i], as_vector(value, 3, key), op, key), 0.0)
        elif attr == "position":
            p[attr] = combine(d("light_pos")[i], as_vector(value, 3, key), op, key)
        else:  # direction
            direction = combine(d("light_dir")[i], as_vector(value, 3, key), op, key)
            norm = float(np.linalg.norm(direction))
            if norm < 1e-9:
                raise UnsupportedError(f"{key}: expected a non-zero direction vector")
            p[attr] = direction / norm
        self.dirty.add(entity)

    def flush(self) -> None:
        model, d = self.world.model, self.world.default
        for name in self.dirty:
            i, p = self.ids[name], self.params[name]
            level0 = self._level0(i)
            level = p.get("intensity", level0)
            ratio = level / level0 if level0 > 0 else level
            tint = p.get("color", d("light_diffuse")[i] / level0 if level0 > 0 else np.ones(3))
            if "temperature" in p:
                tint = tint * _kelvin_to_rgb(p["temperature"])
            model.light_diffuse[i] = tint * level
            model.light_ambient[i] = p.get("ambient", d("light_ambient")[i]) * ratio
            model.light_specular[i] = p.get("specular", d("light_specular")[i]) * ratio
            model.light_pos[i] = p.get("position", d("light_pos")[i])
            model.light_dir[i] = p.get("direction", d("light_dir")[i])
            model.light_active[i] = p.get("enabled", bool(d("light_active")[i]))
            model.light_castshadow[i] = p.get("shadows", bool(d("light_castshadow")[i]))
        if self.dirty:
            self.world.forward_dirty = True  # light_xpos/xdir are computed from light_pos/dir
        self.dirty.clear()


class Materials:
    def __init__(self, world: World, exclude_geoms: set[int]) -> None:
        self.world = world
        names = world.scene.names
        model = world.model
        self.mats = {n: i for i, n in enumerate(names["mjOBJ_MATERIAL"]) if n}
        self.geoms = {n: i for i, n in enumerate(names["mjOBJ_GEOM"])
                      if n and n not in self.mats and model.geom_matid[i] < 0 and i not in exclude_geoms}
        self.params: dict[str, dict[str, Any]] = {}
        self.color0: dict[int, np.ndarray] = {}  # material id -> default rgba, when it differs from the model's
        self.dirty: set[str] = set()
        self.textures_changed: set[int] = set()  # texture ids to upload to the renderer
        self.textures_modified: set[int] = set()  # texture ids that differ from the defaults
        self.images = ImageCache()  # for images outside the texture library (copied into the textures)
        self.library = world.scene.texture_library  # (path, shape) -> texture holding that image

    def entities(self) -> dict[str, list[str]]:
        return {"material": [*self.mats, *self.geoms]}

    def reset(self) -> None:
        self.params.clear()
        self.color0.clear()
        self.dirty.clear()
        self.textures_changed |= self.textures_modified  # the defaults are back in tex_data
        self.textures_modified.clear()

    def set_default_color(self, material: int, rgba: np.ndarray) -> None:
        """A slot's material takes the colour of the asset that fills the slot."""
        if material < 0:
            return
        self.color0[material] = np.asarray(rgba, dtype=float)
        name = self.world.scene.names["mjOBJ_MATERIAL"][material]
        self.params.setdefault(name, {})
        self.dirty.add(name)

    def _rgba0(self, entity: str) -> np.ndarray:
        if entity in self.mats:
            m = self.mats[entity]
            return self.color0.get(m, self.world.default("mat_rgba")[m])
        return self.world.default("geom_rgba")[self.geoms[entity]]

    def apply(self, kind: str, entity: str, attr: str, value: object, op: str, key: str) -> None:
        p = self.params.setdefault(entity, {})
        if entity in self.geoms and attr != "base_color":
            raise UnsupportedError(f"{key}: geom {entity!r} has no material; only base_color applies to it")
        m, d = self.mats.get(entity, -1), self.world.default
        if attr == "base_color":
            p[attr] = np.clip(combine(self._rgba0(entity)[:3], as_vector(value, 3, key), op, key), 0.0, 1.0)
        elif attr == "texture":
            require_set(op, key)
            p[attr], p["texture_id"] = str(value), self._texture(entity, m, str(value), key)
        elif attr == "texture_scale":
            p[attr] = combine(d("mat_texrepeat")[m], as_vector(value, 2, key), op, key)
        else:
            field = {"roughness": "mat_roughness", "metallic": "mat_metallic", "specular": "mat_specular"}[attr]
            p[attr] = float(np.clip(combine(d(field)[m], value, op, key), 0.0, 1.0))
        self.dirty.add(entity)

    def _texture(self, entity: str, m: int, path: str, key: str) -> int:
        """The texture that shows image ``path`` on material ``m``: the library's (a switch), else the
        material's own with the image copied into it (uploaded to the renderer after the apply)."""
        model = self.world.model
        tex = int(self.world.default("mat_texid")[m, RGB_ROLE])
        if tex < 0 or model.tex_type[tex] != mujoco.mjtTexture.mjTEXTURE_2D:
            raise UnsupportedError(f"{key}: material {entity!r} has no 2D texture to fill; declare "
                                   f"<texture type=\"2d\" width=... height=...> and reference it")
        shape = shape_of(model, tex)
        held = self.library.get((path, shape))
        if held is not None:
            return held
        w, h, c, _ = shape
        pixels = self.images.get(path, w, h, c, key)
        start = int(model.tex_adr[tex])
        model.tex_data[start:start + pixels.size] = pixels
        self.textures_changed.add(tex)
        self.textures_modified.add(tex)
        return tex

    def flush(self) -> None:
        model, d = self.world.model, self.world.default
        for name in self.dirty:
            p = self.params[name]
            if name in self.geoms:
                g = self.geoms[name]
                model.geom_rgba[g, :3] = p.get("base_color", d("geom_rgba")[g, :3])
                continue
            m = self.mats[name]
            rgba0 = self._rgba0(name)
            white = np.ones(3) if "texture" in p else rgba0[:3]
            model.mat_rgba[m, :3] = p.get("base_color", white)
            model.mat_rgba[m, 3] = rgba0[3]
            model.mat_texid[m, RGB_ROLE] = p.get("texture_id", d("mat_texid")[m, RGB_ROLE])
            model.mat_texrepeat[m] = p.get("texture_scale", d("mat_texrepeat")[m])
            model.mat_specular[m] = p.get("specular", d("mat_specular")[m])
            roughness = p.get("roughness")
            model.mat_roughness[m] = d("mat_roughness")[m] if roughness is None else roughness
            model.mat_shininess[m] = d("mat_shininess")[m] if roughness is None else 1.0 - roughness
            metallic = p.get("metallic")
            model.mat_metallic[m] = d("mat_metallic")[m] if metallic is None else metallic
            model.mat_reflectance[m] = d("mat_reflectance")[m] if metallic is None else metallic
        self.dirty.clear()
