"""A settings form: values edited field by field, validated by a pydantic model, errors per field.

The panel's Capture, Train, Gap, Sysid and Deploy settings are each a ``StrictModel``; a ``Form``
holds the values as the user typed them, validates the whole model after every edit with the same
``parse_model`` the config files go through, and files the (first) problem under the field it names,
so a UI shows it next to that field. ``settings`` is the last valid model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from ..config import parse_model
from ..errors import ConfigError, UserError
from .observable import Observable

M = TypeVar("M", bound=BaseModel)


def field_message(err: ConfigError) -> str:
    """'expected WHAT (got VALUE)': the error without its file and key, for display beside the field."""
    return str(ConfigError(None, None, err.expected, err.got, err.hint))


class Form(Observable, Generic[M]):
    def __init__(self, model: type[M], values: Mapping[str, Any] | None = None, name: str = "settings") -> None:
        super().__init__()
        self.model = model
        self.name = name
        # the fields' defaults, unvalidated: a required value left empty shows as an error at once
        self.values: dict[str, Any] = {name: f.get_default(call_default_factory=True)
                                       for name, f in model.model_fields.items()}
        self.values.update(values or {})
        self.errors: dict[str, str] = {}
        self.settings: M | None = None
        self._validate()

    @property
    def valid(self) -> bool:
        return not self.errors

    def set(self, field: str, value: Any) -> bool:
        """Set one field ('' means unset); True when the form is valid afterwards."""
        return self.update({field: value})

    def update(self, values: Mapping[str, Any]) -> bool:
        with self._lock:
            for field, value in values.items():
                if field not in self.model.model_fields:
                    raise KeyError(f"{self.name} has no field {field!r} ({', '.join(self.model.model_fields)})")
                self.values[field] = None if isinstance(value, str) and not value.strip() else value
            ok = self._validate()
        self._changed()
        return ok

    def _validate(self) -> bool:
        held = next((k for k, v in self.values.items() if _holds_nul(v)), None)
        if held is not None:  # every value ends up in a command line or a path, where NUL cannot go
            self.settings, self.errors = None, {held: "expected text without NUL bytes"}
            return False
        try:
            self.settings = parse_model({k: v for k, v in self.values.items() if v is not None}, self.model)
            self.errors = {}
        except ConfigError as err:
            field = (err.key or "").split(".")[0].split("[")[0]
            self.errors = {field: field_message(err)}
        return not self.errors

    def require(self) -> M:
        """The valid settings, or a ``UserError`` naming the field to fix."""
        with self._lock:
            if self.settings is None or self.errors:
                field, message = next(iter(self.errors.items()))
                raise UserError(f"{self.name}.{field}: {message}")
            return self.settings

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"revision": self.revision, "values": dict(self.values), "errors": dict(self.errors),
                    "valid": self.valid}


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    return isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value)
