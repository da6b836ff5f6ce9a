"""The extension's services: classes registered on startup, and the instances attached to a World
(detached when the extension shuts down, so a disabled extension leaves no callback behind)."""

from __future__ import annotations

from typing import Any

_CLASSES: dict[str, type] = {}
_ATTACHED: list[Any] = []


def register(name: str, cls: type) -> None:
    _CLASSES[name] = cls


def unregister(name: str) -> None:
    _CLASSES.pop(name, None)


def get(name: str) -> type:
    """A registered service class, e.g. ``get("randomizer")`` -> ``Sim2RealRandomizer``."""
    return _CLASSES[name]


def track(instance: Any) -> None:
    if instance not in _ATTACHED:
        _ATTACHED.append(instance)


def untrack(instance: Any) -> None:
    if instance in _ATTACHED:
        _ATTACHED.remove(instance)


def attached() -> list[Any]:
    return list(_ATTACHED)


def detach_all() -> None:
    for instance in list(_ATTACHED):
        instance.detach()
