"""Loading TOML configuration into pydantic models with one-line errors.

Every configuration file of sim2real (profiles, pipelines, deploy targets) is read through
``load_model``: a syntax error, an unknown key, a wrong type or a NaN becomes a ``ConfigError``
naming the file, the dotted key and what was expected.
"""

from __future__ import annotations

import math
import re
import tomllib
from os import PathLike
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import ConfigError, did_you_mean

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base of every config model: unknown keys and non-finite numbers are errors."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, validate_default=True)


def read_toml(path: str | PathLike[str]) -> dict[str, Any]:
    """Parse a TOML file; a missing file or a syntax error becomes a ConfigError."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(path, None, "an existing TOML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, None, f"a readable UTF-8 TOML file ({exc})") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, None, f"valid TOML: {exc}") from None


def load_model(path: str | PathLike[str], model: type[M]) -> M:
    """Read ``path`` and validate it as ``model``."""
    return parse_model(read_toml(path), model, source=path)


def parse_model(data: Any, model: type[M], source: str | PathLike[str] | None = None) -> M:
    """Validate an already-parsed document, reporting the first problem as a ConfigError."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_to_config_error(exc, model, source) from None


def validation_to_config_error(
    exc: ValidationError, model: type[BaseModel], source: str | PathLike[str] | None
) -> ConfigError:
    """Turn the first pydantic error into our one-line form."""
    err = exc.errors(include_url=False)[0]
    loc = tuple(err.get("loc", ()))
    key = dotted_key(loc)
    kind = err.get("type", "")
    got = err.get("input", ...)
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        expected = f"a known key; '{loc[-1]}' is not one" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
        return ConfigError(source, key, expected, hint=did_you_mean(loc[-1], allowed))
    if kind == "missing":
        return ConfigError(source, key, "this required key to be set")
    if isinstance(got, float) and not math.isfinite(got):
        return ConfigError(source, key, "a finite number", got)
    msg = err.get("msg", "a valid value")
    # pydantic prefixes custom errors with "Value error, "; our validators already phrase "expected ..."
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    msg = msg.removeprefix("expected ").removeprefix("Input should be ")
    if isinstance(got, dict | list) and len(repr(got)) > 60:
        got = ...
    hint = did_you_mean(got, re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))) if (
        kind == "literal_error" and isinstance(got, str)) else ""
    return ConfigError(source, key, _lower_first(msg), got, hint=hint)


def dotted_key(loc: tuple[Any, ...]) -> str:
    """('terms', 3, 'low') -> 'terms[3].low'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Best effort: the field names of the (possibly nested) model at ``loc``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        fields = getattr(current, "model_fields", None)
        if not fields or part not in fields:
            return []
        current = _model_of(fields[part].annotation)
        if current is None:
            return []
    fields = getattr(current, "model_fields", None)
    return sorted(fields) if fields else []


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text
