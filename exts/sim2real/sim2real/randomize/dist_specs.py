"""The distributions a profile can name, one spec each: the keys it takes, the attribute values it can
produce, what its fields must satisfy (``check``), its sampler-ready form (``compile``, ``dists.py``)
and the least value it can draw (``lowest``, for attributes that cannot be negative).

``DIST_SPECS`` is the registry, in the order error messages list them. A new distribution is a spec
here and a class in ``dists.py``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import dists
from .targets import Attribute

if TYPE_CHECKING:
    from .check_context import CheckContext
    from .schema import DistFields

ALL_VALUES = ("float", "int", "bool", "choice")


class DistSpec:
    name = ""
    keys: tuple[str, ...] = ()  # the fields it takes (the others must be absent)
    values: tuple[str, ...] = ("float",)  # attribute value types it can produce
    lowest_key = "low"  # the field to name when its values would go below zero

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        raise NotImplementedError

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        raise NotImplementedError

    def lowest(self, dist: Any) -> float:
        """The smallest value the compiled ``dist`` can produce."""
        return float(np.min(dist.low))


class UniformSpec(DistSpec):
    name, keys, values = "uniform", ("low", "high"), ("float", "int")

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        _range(spec, attr, key, ctx)

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        if attr.value == "int":
            return dists.IntUniform(int(spec.low), int(spec.high), attr.shape)  # type: ignore[arg-type]
        return dists.Uniform(_arr(spec.low), _arr(spec.high), attr.shape)


class LogUniformSpec(DistSpec):
    name, keys = "loguniform", ("low", "high")

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        _range(spec, attr, key, ctx)
        if np.any(np.asarray(spec.low, dtype=float) <= 0):
            raise ctx.fail(f"{key}.low", "low > 0 for a log-uniform distribution", spec.low)

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        return dists.LogUniform(_arr(spec.low), _arr(spec.high), attr.shape)


class NormalSpec(DistSpec):
    name, keys, lowest_key = "normal", ("mean", "std"), "dist"

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        _spread(spec, attr, key, ctx)

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        return dists.Normal(_arr(spec.mean), _arr(spec.std), attr.shape)

    def lowest(self, dist: Any) -> float:
        return -math.inf if np.any(np.asarray(dist.std) > 0) else float(np.min(dist.mean))


class TruncNormalSpec(DistSpec):
    name, keys = "truncnormal", ("mean", "std", "low", "high")

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        _spread(spec, attr, key, ctx)
        if np.any(np.asarray(spec.std, dtype=float) <= 0):
            raise ctx.fail(f"{key}.std", "std > 0", spec.std)
        _range(spec, attr, key, ctx)  # the mean may lie outside [low, high]: a one-sided tail

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        return dists.TruncNormal(_arr(spec.mean), _arr(spec.std), _arr(spec.low), _arr(spec.high), attr.shape)


class ChoiceSpec(DistSpec):
    name, keys, values, lowest_key = "choice", ("values", "weights", "folder"), ALL_VALUES, "values"

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        texture = (attr.kind, attr.name) == ("material", "texture")
        if spec.folder is not None:
            if spec.values is not None:
                raise ctx.fail(f"{key}.values", "either 'values' or 'folder', not both")
            if not texture:
                raise ctx.fail(f"{key}.folder", "a folder only for material/texture targets")
            n = len(ctx.folder(spec.folder, ident, f"{key}.folder"))
        else:
            if not spec.values:
                raise ctx.fail(f"{key}.values", "a non-empty list of values to choose from")
            for j, v in enumerate(spec.values):
                ctx.value(v, attr, f"{key}.values[{j}]")
            if texture:
                ctx.out.files[ident] = [str(ctx.image(v, f"{key}.values[{j}]")) for j, v in enumerate(spec.values)]
            n = len(spec.values)
        if spec.weights is not None:
            if len(spec.weights) != n:
                raise ctx.fail(f"{key}.weights", f"one weight per value ({n})", len(spec.weights))
            if min(spec.weights) < 0 or sum(spec.weights) <= 0:
                raise ctx.fail(f"{key}.weights", "non-negative weights with a positive sum", spec.weights)

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        values = files if spec.folder is not None else spec.values
        return dists.Choice(_choice_values(values or [], attr), spec.weights, attr.shape)

    def lowest(self, dist: Any) -> float:
        return float(min(np.min(np.asarray(v, dtype=float)) for v in dist.values))


class ConstantSpec(DistSpec):
    name, keys, values, lowest_key = "constant", ("value",), ALL_VALUES, "value"

    def check(self, spec: DistFields, attr: Attribute, ident: str, key: str, ctx: CheckContext) -> None:
        _need(spec, key, ctx, "value")
        ctx.value(spec.value, attr, f"{key}.value")
        if (attr.kind, attr.name) == ("material", "texture"):
            ctx.out.files[ident] = [str(ctx.image(spec.value, f"{key}.value"))]

    def compile(self, spec: DistFields, attr: Attribute, files: list[str] | None) -> dists.Dist:
        return dists.Constant(_choice_values([spec.value], attr)[0], attr.shape)

    def lowest(self, dist: Any) -> float:
        return float(np.min(np.asarray(dist.value, dtype=float)))


DIST_SPECS: dict[str, DistSpec] = {s.name: s for s in (UniformSpec(), LogUniformSpec(), NormalSpec(),
                                                        TruncNormalSpec(), ChoiceSpec(), ConstantSpec())}


def _need(spec: DistFields, key: str, ctx: CheckContext, *names: str) -> None:
    for name in names:
        if getattr(spec, name) is None:
            raise ctx.fail(f"{key}.{name}", f"'{name}' to be set for dist = {spec.dist!r}")


def _range(spec: DistFields, attr: Attribute, key: str, ctx: CheckContext) -> None:
    """``low`` and ``high`` set, of the attribute's shape and type, and ordered."""
    _need(spec, key, ctx, "low", "high")
    low, high = ctx.numeric(spec.low, attr, f"{key}.low"), ctx.numeric(spec.high, attr, f"{key}.high")
    if np.any(low > high):
        raise ctx.fail(f"{key}.low", "low <= high", f"low={spec.low}, high={spec.high}")


def _spread(spec: DistFields, attr: Attribute, key: str, ctx: CheckContext) -> None:
    """``mean`` and ``std`` set, of the attribute's shape; std >= 0 per component, not all 0."""
    _need(spec, key, ctx, "mean", "std")
    ctx.numeric(spec.mean, attr, f"{key}.mean")
    std = ctx.numeric(spec.std, attr, f"{key}.std")
    # a vector component of std 0 stays at its mean (Isaac Lab's gaussian gravity ([0,0,0], [0,0,0.4]))
    if np.any(std < 0) or np.all(std == 0):
        raise ctx.fail(f"{key}.std", "std > 0 (per component: std >= 0, not all 0)", spec.std)


def _arr(v: Any) -> Any:
    return np.asarray(v, dtype=np.float64) if isinstance(v, list) else float(v)


def _choice_values(values: list[Any], attr: Attribute) -> list[Any]:
    """Vectors are broadcast to the attribute's shape so every row of the table has one shape."""
    if attr.value == "float" and attr.shape:
        return [list(np.broadcast_to(np.asarray(v, dtype=np.float64), attr.shape)) for v in values]
    if attr.value == "float":
        return [float(v) for v in values]
    return list(values)
