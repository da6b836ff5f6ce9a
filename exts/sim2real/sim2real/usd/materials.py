"""Material targets on a material's surface shader: UsdPreviewSurface or the OmniPBR MDL.

==================  =====================================  ==============================================
attribute           UsdPreviewSurface                      OmniPBR (``OmniPBR.mdl``, sub-identifier OmniPBR)
==================  =====================================  ==============================================
``base_color``      ``inputs:diffuseColor``; with a        ``inputs:diffuse_color_constant``; with a
                    texture, the texture's ``inputs:scale``  texture, ``inputs:diffuse_tint``
``texture``         ``inputs:file`` of the UsdUVTexture    ``inputs:diffuse_texture``
                    feeding ``diffuseColor`` (created in
                    the edit layer, with its ``st`` reader,
                    when the material has none)
``texture_scale``   ``inputs:scale`` of a UsdTransform2d   ``inputs:texture_scale``
                    on the texture coordinates
``roughness``       ``inputs:roughness``                   ``inputs:reflection_roughness_constant``
``metallic``        ``inputs:metallic``                    ``inputs:metallic_constant``
``specular``        ``inputs:ior`` with F0 = 0.08 x specular  ``inputs:specular_level``
                    (the convention of OmniPBR's specular
                    level: 0.5 -> F0 0.04, ior 1.5)
==================  =====================================  ==============================================

As in the MuJoCo backend, while a texture is set the colour is white unless ``base_color`` is set too
(then it tints the image). Inputs a shader does not author take the defaults of its definition
(UsdPreviewSurface specification; OmniPBR.mdl parameter defaults). Other shaders (OmniSurface, glass,
custom MDL) are an error naming the shader.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from pxr import Sdf, UsdShade

from ..errors import UnsupportedError
from ..sim.ops import as_vector, combine, require_set
from .context import Context, cast
from .entities import surface_shader
from .shading import value_attr, write_input

TARGETS = {"material": frozenset({"base_color", "texture", "texture_scale", "roughness", "metallic", "specular"})}

PREVIEW = "UsdPreviewSurface"
OMNIPBR = "OmniPBR"
# input -> (name, type, default when not authored)
_PREVIEW_INPUTS = {
    "base_color": ("diffuseColor", Sdf.ValueTypeNames.Color3f, (0.18, 0.18, 0.18)),
    "roughness": ("roughness", Sdf.ValueTypeNames.Float, 0.5),
    "metallic": ("metallic", Sdf.ValueTypeNames.Float, 0.0),
    "ior": ("ior", Sdf.ValueTypeNames.Float, 1.5),
}
_OMNIPBR_INPUTS = {
    "base_color": ("diffuse_color_constant", Sdf.ValueTypeNames.Color3f, (0.2, 0.2, 0.2)),
    "tint": ("diffuse_tint", Sdf.ValueTypeNames.Color3f, (1.0, 1.0, 1.0)),
    "texture": ("diffuse_texture", Sdf.ValueTypeNames.Asset, ""),
    "texture_scale": ("texture_scale", Sdf.ValueTypeNames.Float2, (1.0, 1.0)),
    "roughness": ("reflection_roughness_constant", Sdf.ValueTypeNames.Float, 0.5),
    "metallic": ("metallic_constant", Sdf.ValueTypeNames.Float, 0.0),
    "specular": ("specular_level", Sdf.ValueTypeNames.Float, 0.5),
}
F0_PER_SPECULAR = 0.08  # reflectance at normal incidence per unit of specular level


def shader_kind(shader: UsdShade.Shader) -> str:
    """``UsdPreviewSurface`` or ``OmniPBR``; raises for other shaders."""
    ident = shader.GetIdAttr().Get() if shader.GetIdAttr() else None
    if ident == PREVIEW:
        return PREVIEW
    sub = shader.GetPrim().GetAttribute("info:mdl:sourceAsset:subIdentifier").Get()
    asset = shader.GetPrim().GetAttribute("info:mdl:sourceAsset").Get()
    if sub == OMNIPBR or (sub is None and asset is not None and asset.path.endswith("OmniPBR.mdl")):
        return OMNIPBR
    what = ident or (f"{asset.path}:{sub}" if asset is not None else "an unknown shader")
    raise UnsupportedError(f"material {shader.GetPrim().GetParent().GetName()!r}: shader {what} is neither "
                           f"UsdPreviewSurface nor OmniPBR")


def specular_to_ior(specular: float) -> float:
    root = math.sqrt(max(0.0, min(F0_PER_SPECULAR * specular, 0.99)))
    return (1.0 + root) / (1.0 - root)


def ior_to_specular(ior: float) -> float:
    return ((ior - 1.0) / (ior + 1.0)) ** 2 / F0_PER_SPECULAR


class Materials:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.params: dict[Sdf.Path, dict[str, Any]] = {}
        self.dirty: dict[Sdf.Path, UsdShade.Shader] = {}

    def reset(self) -> None:
        self.params.clear()
        self.dirty.clear()

    def _shader(self, entity: str, env: int) -> UsdShade.Shader:
        material = UsdShade.Material(self.ctx.prim("material", entity, env))
        shader = surface_shader(material)
        if shader is None:
            raise UnsupportedError(f"material:{entity}: has no surface shader")
        return shader

    def _default(self, shader: UsdShade.Shader, table: dict[str, tuple], name: str) -> Any:
        """The input's value without randomization: on its value-producing attribute (a Material interface
        input, for a connected one), else the shader definition's default."""
        usd_name, _, fallback = table[name]
        attr = value_attr(shader, usd_name)
        value = self.ctx.default(attr) if attr else None
        return fallback if value is None else value

    def apply(self, kind: str, entity: str, attr: str, value: Any, op: str, key: str, env: int) -> None:
        shader = self._shader(entity, env)
        pbr = shader_kind(shader) == OMNIPBR
        table = _OMNIPBR_INPUTS if pbr else _PREVIEW_INPUTS
        p = self.params.setdefault(shader.GetPath(), {})
        if attr == "base_color":
            p[attr] = np.clip(combine(np.array(self._default(shader, table, "base_color"), dtype=float),
                                      as_vector(value, 3, key), op, key), 0.0, 1.0)
        elif attr == "texture":
            require_set(op, key)
            p[attr] = str(value)
        elif attr == "texture_scale":
            scale0 = self._default(shader, _OMNIPBR_INPUTS, "texture_scale") if pbr else (1.0, 1.0)
            p[attr] = combine(np.array(scale0, dtype=float), as_vector(value, 2, key), op, key)
        elif attr == "specular":
            level0 = (float(self._default(shader, table, "specular")) if pbr
                      else ior_to_specular(float(self._default(shader, table, "ior"))))
            p[attr] = float(np.clip(combine(level0, value, op, key), 0.0, 1.0))
        else:
            p[attr] = float(np.clip(combine(float(self._default(shader, table, attr)), value, op, key), 0.0, 1.0))
        self.dirty[shader.GetPath()] = shader

    def flush(self) -> None:
        dirty, self.dirty = self.dirty, {}  # a refused write leaves nothing half-pending for the next apply
        for path, shader in dirty.items():
            p = self.params[path]
            if shader_kind(shader) == OMNIPBR:
                self._write_omnipbr(shader, p)
            else:
                self._write_preview(shader, p)

    def _put(self, shader: UsdShade.Shader, table: dict[str, tuple], name: str, value: Any) -> None:
        usd_name, type_name, _ = table[name]
        key = f"material:{shader.GetPrim().GetParent().GetName()}/{name}"
        write_input(self.ctx, shader, usd_name, type_name, _as(value, type_name), key)

    def _write_omnipbr(self, shader: UsdShade.Shader, p: dict[str, Any]) -> None:
        def put(name: str, value: Any) -> None:
            self._put(shader, _OMNIPBR_INPUTS, name, value)

        textured = "texture" in p
        if textured:
            put("texture", Sdf.AssetPath(p["texture"]))
            put("tint", p.get("base_color", (1.0, 1.0, 1.0)))
        elif "base_color" in p:
            put("base_color", p["base_color"])
        for name in ("texture_scale", "roughness", "metallic", "specular"):
            if name in p:
                put(name, p[name])

    def _write_preview(self, shader: UsdShade.Shader, p: dict[str, Any]) -> None:
        def put(name: str, value: Any) -> None:
            self._put(shader, _PREVIEW_INPUTS, name, value)

        if "texture" in p or "texture_scale" in p:
            if "texture" in p:  # the texture network is authored beside the shader: not inside an instance
                material = self.ctx.writable(shader.GetPrim().GetParent(), children=True)
                shader = UsdShade.Shader(self.ctx.stage.GetPrimAtPath(shader.GetPath()))
                del material
            texture = self._texture_node(shader, create="texture" in p)
            if texture is not None:
                if "texture" in p:
                    texture.CreateInput("file", Sdf.ValueTypeNames.Asset).Set(Sdf.AssetPath(p["texture"]))
                    tint = p.get("base_color", (1.0, 1.0, 1.0))
                    texture.CreateInput("scale", Sdf.ValueTypeNames.Float4).Set(_as([*tint, 1.0],
                                                                                    Sdf.ValueTypeNames.Float4))
                if "texture_scale" in p:
                    transform = _st_transform(texture)
                    transform.CreateInput("scale", Sdf.ValueTypeNames.Float2).Set(
                        _as(p["texture_scale"], Sdf.ValueTypeNames.Float2))
        if "texture" not in p and "base_color" in p:
            put("base_color", p["base_color"])
        for name in ("roughness", "metallic"):
            if name in p:
                put(name, p[name])
        if "specular" in p:
            put("ior", specular_to_ior(p["specular"]))

    def _texture_node(self, shader: UsdShade.Shader, create: bool) -> UsdShade.Shader | None:
        """The UsdUVTexture feeding ``diffuseColor``; created (with an ``st`` reader and a transform)
        beside the material's shader when there is none and ``create``."""
        diffuse = shader.GetInput("diffuseColor")
        if diffuse and diffuse.HasConnectedSource():
            source = diffuse.GetConnectedSources()[0][0].source
            node = UsdShade.Shader(source.GetPrim())
            if node.GetIdAttr().Get() == "UsdUVTexture":
                return node
        if not create:
            return None
        material_path = shader.GetPath().GetParentPath()
        stage = shader.GetPrim().GetStage()
        reader = UsdShade.Shader.Define(stage, material_path.AppendChild("sim2real_st"))
        reader.CreateIdAttr("UsdPrimvarReader_float2")
        reader.CreateInput("varname", Sdf.ValueTypeNames.Token).Set("st")
        transform = UsdShade.Shader.Define(stage, material_path.AppendChild("sim2real_st_transform"))
        transform.CreateIdAttr("UsdTransform2d")
        transform.CreateInput("in", Sdf.ValueTypeNames.Float2).ConnectToSource(
            reader.CreateOutput("result", Sdf.ValueTypeNames.Float2))
        texture = UsdShade.Shader.Define(stage, material_path.AppendChild("sim2real_texture"))
        texture.CreateIdAttr("UsdUVTexture")
        texture.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(
            transform.CreateOutput("result", Sdf.ValueTypeNames.Float2))
        texture.CreateInput("wrapS", Sdf.ValueTypeNames.Token).Set("repeat")
        texture.CreateInput("wrapT", Sdf.ValueTypeNames.Token).Set("repeat")
        texture.CreateInput("sourceColorSpace", Sdf.ValueTypeNames.Token).Set("sRGB")
        shader.CreateInput("diffuseColor", Sdf.ValueTypeNames.Color3f).ConnectToSource(
            texture.CreateOutput("rgb", Sdf.ValueTypeNames.Float3))
        return texture


def _st_transform(texture: UsdShade.Shader) -> UsdShade.Shader:
    """The UsdTransform2d on a texture's coordinates (inserted when the network has none)."""
    st = texture.GetInput("st")
    if st and st.HasConnectedSource():
        source = UsdShade.Shader(st.GetConnectedSources()[0][0].source.GetPrim())
        if source.GetIdAttr().Get() == "UsdTransform2d":
            return source
        upstream = source
    else:
        upstream = None
    stage = texture.GetPrim().GetStage()
    transform = UsdShade.Shader.Define(stage, texture.GetPath().GetParentPath().AppendChild(
        f"{texture.GetPrim().GetName()}_st_transform"))
    transform.CreateIdAttr("UsdTransform2d")
    if upstream is not None:
        transform.CreateInput("in", Sdf.ValueTypeNames.Float2).ConnectToSource(
            upstream.CreateOutput("result", Sdf.ValueTypeNames.Float2))
    texture.CreateInput("st", Sdf.ValueTypeNames.Float2).ConnectToSource(
        transform.CreateOutput("result", Sdf.ValueTypeNames.Float2))
    return transform


def _as(value: Any, type_name: Sdf.ValueTypeName) -> Any:
    return value if isinstance(value, Sdf.AssetPath) else cast(value, type_name)
