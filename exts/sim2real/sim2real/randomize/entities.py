"""Where entity names come from when there is no running scene, and the capability check.

A Randomizer needs the scene's entity names (``Backend.entities()``) to expand selectors. Outside a
simulation (``sim2real profile sample``) they come from, in order of preference:

1. a JSON file ``{"light": ["key", "fill"], "geom": [...], ...}`` (``--entities``);
2. a scene loaded through the backend registry (``--scene``; ``sim.registry.scene_entities``);
3. stand-ins derived from the profile itself: each selector's pattern becomes one entity name, with
   ``*`` spelled ``any``, ``?`` spelled ``x`` and ``[abc]`` spelled ``a`` (``object:obj_*/scale``
   samples one entity, ``obj_any``). Exact names (``light:key/intensity``) stay as they are.
"""

from __future__ import annotations

import json
import re
from os import PathLike
from pathlib import Path

from ..errors import ConfigError
from .profile import Profile
from .sample import Capabilities


def load_entities(path: str | PathLike[str]) -> dict[str, list[str]]:
    """Read ``{"kind": ["name", ...]}`` from a JSON file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "an existing JSON file of entity names") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(path, None, f"valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(path, None, 'an object {"kind": ["name", ...]}', type(data).__name__)
    out: dict[str, list[str]] = {}
    for kind, names in data.items():
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(path, kind, "a list of entity names (strings)", names)
        out[kind] = list(names)
    return out


def placeholder_entities(profile: Profile) -> dict[str, list[str]]:
    """One stand-in entity per selector pattern (see the module docstring)."""
    out: dict[str, list[str]] = {}
    for target in profile.checked.targets.values():
        name = _placeholder(target.pattern)
        names = out.setdefault(target.kind, [])
        if name not in names:
            names.append(name)
    return out


def _placeholder(pattern: str) -> str:
    text = re.sub(r"\[!?([^\]])[^\]]*\]", r"\1", pattern)
    return text.replace("*", "any").replace("?", "x")


def check_capabilities(profile: Profile, capabilities: Capabilities, backend: str) -> None:
    """Raise one UnsupportedError listing what ``backend`` supports if the profile asks for more."""
    capabilities.require(backend, profile.targets(), source=str(profile.source or profile.name or "profile"))
