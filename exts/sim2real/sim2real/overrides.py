"""Dotted ``key=value`` overrides of a configuration on the command line, as Hydra and draccus users type
them: ``sim2real train ... model.width=32 lr=3e-4``, ``sim2real run demo.toml train.epochs=2``.

A value is read as a TOML value (``3e-4``, ``true``, ``[64, 48]``, ``"x"``), else as a bare string
(``method=dann``). An item of a list of tables is picked by its ``name``, else its ``target``, else its
index: ``sim2real generate ... terms.object_position.high=[0.1,0.1,0]`` (a profile's terms). Every key is checked against the configuration's schema before anything runs: an
unknown one is a one-line ``ConfigError`` listing the keys there with "did you mean"; the merged document
is then validated as a whole, so a wrong type names the dotted key too.
"""

from __future__ import annotations

import copy
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


def _check_path(path: tuple[str, ...], model: type[BaseModel], start: int = 0) -> None:
    """Each part of ``path`` from ``start`` a field of ``model`` or of the table it names."""
    current: Any = model
    for i in range(start, len(path)):
        part, where = path[i], ".".join(path[:i + 1])
        fields = getattr(current, "model_fields", None)
        if fields is None:  # a table of free keys (class_map) or a value: nothing more to check
            return
        if part not in fields:
            known = sorted(fields)
            raise ConfigError(SOURCE, where, f"a known key ({', '.join(known)})", hint=did_you_mean(part, known))
        annotation = fields[part].annotation
        sub = _model_of(annotation)
        if sub is None and i < len(path) - 1 and not _is_table(annotation):
            raise ConfigError(SOURCE, where, f"a table to set {'.'.join(path[i + 1:])} in; {where} is a value")
        if _is_list(annotation) and sub is not None:  # the next part picks an item (apply_overrides checks it)
            return _check_path(path, sub, i + 2)
        current = sub


def _is_list(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list or any(
        _is_list(a) for a in getattr(annotation, "__args__", ()) or ())


def _is_table(annotation: Any) -> bool:
    return annotation is dict or getattr(annotation, "__origin__", None) is dict or any(
        _is_table(a) for a in getattr(annotation, "__args__", ()) or ())


def apply_overrides(data: dict[str, Any], overrides: list[tuple[tuple[str, ...], Any]]) -> dict[str, Any]:
    """``data`` with each override set at its path (tables made where missing); ``data`` is not changed."""
    out = copy.deepcopy(data)
    for path, value in overrides:
        node: Any = out
        for i, part in enumerate(path[:-1]):
            if isinstance(node, list):
                node = _item(node, part, path[:i + 1])
                continue
            child = node.get(part)
            if not isinstance(child, dict | list):
                node[part] = child = {}
            node = child
        if isinstance(node, list):
            raise ConfigError(SOURCE, ".".join(path), f"a key of one item of {path[-2]} ({'.'.join(path)}.KEY=VALUE)")
        node[path[-1]] = value
    return out


def _item(items: list[Any], part: str, path: tuple[str, ...]) -> dict[str, Any]:
    """The item of a list of tables that ``part`` names: its ``name``, else its ``target``, else an index."""
    ids = [str(t.get("name") or t.get("target") or i) if isinstance(t, dict) else str(i) for i, t in enumerate(items)]
    if part in ids:
        return items[ids.index(part)]
    if part.isdigit() and int(part) < len(items):
        return items[int(part)]
    raise ConfigError(SOURCE, ".".join(path), f"one of the {len(items)} items of {path[-2]} by name or index "
                      f"({', '.join(ids) or 'none'})", hint=did_you_mean(part, ids))
