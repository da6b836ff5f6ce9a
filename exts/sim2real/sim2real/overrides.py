"""Dotted ``key=value`` overrides of a configuration on the command line, as Hydra and draccus users type
them: ``sim2real train ... model.width=32 lr=3e-4``, ``sim2real run demo.toml train.epochs=2``.

A value is read as a TOML value (``3e-4``, ``true``, ``[64, 48]``, ``"x"``), else as a bare string
(``method=dann``). Every key is checked against the configuration's schema before anything runs: an
unknown one is a one-line ``ConfigError`` listing the keys there with "did you mean"; the merged document
is then validated as a whole, so a wrong type names the dotted key too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from .config import _model_of
from .errors import ConfigError, did_you_mean

SOURCE = "command line"


def parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_overrides(items: Sequence[str], model: type[BaseModel]) -> list[tuple[tuple[str, ...], Any]]:
    """``["a.b=1", ...]`` -> ``[(("a", "b"), 1), ...]``, each key a field path of ``model``."""
    out = []
    for item in items:
        key, eq, text = item.partition("=")
        path = tuple(key.strip().split("."))
        if not eq or not all(path):
            raise ConfigError(SOURCE, item, "an override KEY=VALUE with a dotted KEY (e.g. model.width=32)")
        _check_path(path, model)
        out.append((path, parse_value(text.strip())))
    return out


def _check_path(path: tuple[str, ...], model: type[BaseModel]) -> None:
    current: Any = model
    for i, part in enumerate(path):
        fields = getattr(current, "model_fields", None)
        where = ".".join(path[:i + 1])
        if fields is None:  # a table of free keys (class_map) or a value: nothing more to check
            return
        if part not in fields:
            known = sorted(fields)
            raise ConfigError(SOURCE, where, f"a known key ({', '.join(known)})", hint=did_you_mean(part, known))
        sub = _model_of(fields[part].annotation)
        if sub is None and i < len(path) - 1 and not _is_table(fields[part].annotation):
            raise ConfigError(SOURCE, where, f"a table to set {'.'.join(path[i + 1:])} in; {where} is a value")
        current = sub


def _is_table(annotation: Any) -> bool:
    return annotation is dict or getattr(annotation, "__origin__", None) is dict or any(
        _is_table(a) for a in getattr(annotation, "__args__", ()) or ())


def apply_overrides(data: dict[str, Any], overrides: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """``data`` with each override set at its path (tables made where missing); ``data`` is not changed."""
    out = _copy(data)
    for path, value in overrides:
        node = out
        for part in path[:-1]:
            child = node.get(part)
            node[part] = child = dict(child) if isinstance(child, dict) else {}
            node = child
        node[path[-1]] = value
    return out


def _copy(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in data.items()}
