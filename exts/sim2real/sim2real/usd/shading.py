"""Where a shader input's value lives, on stages we did not make.

A shader input may be connected to its Material's interface input (mujoco-usd-converter connects every
UsdPreviewSurface input so): the renderer then reads the Material's ``inputs:<name>``, and a value written
on the shader's own input would be ignored. So the value of an input is read from, and written to, its
value-producing attribute (``UsdShade.Input.GetValueProducingAttributes``): the interface input when there
is one, else the input itself. An input driven by another shader's output (a texture) has no value to
write: refused, one line. Authoring on a prim inside an instanceable prim goes through ``Context.writable``.
"""

from __future__ import annotations

from typing import Any

from pxr import Sdf, Usd, UsdShade

from ..errors import UnsupportedError
from .context import Context


def value_attr(shader: UsdShade.Shader, name: str) -> Usd.Attribute | None:
    """The attribute holding input ``name``'s value (None: not authored, or produced by a shader output)."""
    inp = shader.GetInput(name)
    if not inp:
        return None
    inputs = [a for a in inp.GetValueProducingAttributes() if UsdShade.Input.IsInput(a)]
    return inputs[0] if inputs else None


def writable_input(ctx: Context, shader: UsdShade.Shader, name: str, type_name: Sdf.ValueTypeName,
                   key: str) -> Usd.Attribute:
    """The attribute to author input ``name``'s value on: its value-producing input (on an editable prim),
    else the shader's own input, created."""
    inp = shader.GetInput(name)
    if inp:
        produced = inp.GetValueProducingAttributes()
        inputs = [a for a in produced if UsdShade.Input.IsInput(a)]
        if produced and not inputs:
            raise UnsupportedError(f"{key}: {inp.GetAttr().GetPath()} is driven by {produced[0].GetPath()} (another "
                                   "shader's output), so it has no value of its own to randomize")
        if inputs:
            prim = ctx.writable(inputs[0].GetPrim())
            return prim.GetAttribute(inputs[0].GetName())
    prim = ctx.writable(shader.GetPrim())
    return UsdShade.Shader(prim).CreateInput(name, type_name).GetAttr()


def write_input(ctx: Context, shader: UsdShade.Shader, name: str, type_name: Sdf.ValueTypeName, value: Any,
                key: str) -> None:
    from .context import cast

    attr = writable_input(ctx, shader, name, type_name, key)
    attr.Set(value if isinstance(value, Sdf.AssetPath) else cast(value, attr.GetTypeName()))
