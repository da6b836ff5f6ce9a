"""HTML input descriptions of a view-model form's fields, read from its pydantic model.

A ``Form`` of ``sim2real.app`` knows its values and errors; the page needs, per field, the kind of
input (number, text, check box, choice list), its bounds and its choices. They come from the
model's annotations and ``Field`` constraints, so a field added to a settings model shows up in the
web panel with no change here.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel


@dataclass
class InputSpec:
    name: str
    kind: Literal["number", "text", "checkbox", "select", "list"]
    required: bool
    step: str = "any"
    minimum: float | None = None
    maximum: float | None = None
    choices: list[str] = field(default_factory=list)
    help: str = ""
    label: str = ""  # the field's title (with its unit), else its name in words
    optional: bool = False  # None is a value: "(default)", the command's own default


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0], True
    return annotation, False


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    lo = hi = None
    for m in metadata:
        for attr in ("ge", "gt"):
            if getattr(m, attr, None) is not None:
                lo = getattr(m, attr)
        for attr in ("le", "lt"):
            if getattr(m, attr, None) is not None:
                hi = getattr(m, attr)
    return lo, hi


def input_specs(model: type[BaseModel], choices: dict[str, list[str]] | None = None) -> list[InputSpec]:
    """One ``InputSpec`` per field of ``model``, in declaration order; ``choices`` makes a text field a
    choice list of those values (names known only at run time: backends, cameras, stored targets)."""
    specs = [_spec(name, info, (choices or {}).get(name)) for name, info in model.model_fields.items()]
    for spec, info in zip(specs, model.model_fields.values()):
        spec.label = info.title or spec.name.replace("_", " ").capitalize()
        spec.optional = _strip_optional(info.annotation)[1]
    return specs


def _spec(name: str, info: Any, choices: list[str] | None) -> InputSpec:
    annotation, optional = _strip_optional(info.annotation)
    required = info.is_required() and not optional
    help_text = info.description or ""
    if choices and annotation is str:
        return InputSpec(name, "select", required, choices=list(choices), help=help_text)
    if typing.get_origin(annotation) is Literal:
        return InputSpec(name, "select", required, choices=[str(c) for c in typing.get_args(annotation)],
                         help=help_text)
    if annotation is bool:
        return InputSpec(name, "checkbox", False, help=help_text)
    if annotation in (int, float):
        lo, hi = _bounds(list(info.metadata))
        return InputSpec(name, "number", required, "1" if annotation is int else "any", lo, hi, help=help_text)
    if typing.get_origin(annotation) is list:
        return InputSpec(name, "list", required, help=help_text or "one per line")
    return InputSpec(name, "text", required, help=help_text)


def coerce(spec: InputSpec, raw: Any) -> Any:
    """A submitted form value as the model expects it: numbers parsed (a bad number stays a string so
    validation names it), check boxes as bools, lists one item a line, '' as unset."""
    if spec.kind == "checkbox":
        return raw not in (None, "", "false", "off", "0")
    if raw is None:
        return None
    text = str(raw).strip()
    if spec.kind == "list":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if text == "":
        return None
    if spec.kind == "number":
        try:
            return int(text) if spec.step == "1" else float(text)
        except ValueError:
            return text
    return text
