"""Names on both sides: our shell-style entity patterns and Isaac Lab's regular expressions, term
names and Python identifiers, and the table of Isaac Lab's API (``names.json``, made from Isaac Lab's
source by ``tools/isaaclab/make_names.py``).

Isaac Lab matches ``SceneEntityCfg`` ``body_names`` / ``joint_names`` with ``re.fullmatch``; we match
entity patterns with ``fnmatch`` (``*``, ``?``, ``[ab]``, ``[!ab]``). ``glob_to_regex`` and
``regex_to_glob`` translate the common subset both ways exactly; a regular expression outside it
(alternation, repetition of other than ``.``) has no glob and is refused by name.
"""

from __future__ import annotations

import functools
import json
import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("names.json")
_REGEX_META = set(".^$*+?{}[]\\|()")


@dataclass(frozen=True)
class Param:
    name: str
    annotation: str
    default: str | None  # the default's source text; None: required

    @property
    def required(self) -> bool:
        return self.default is None


@functools.cache
def table() -> dict[str, Any]:
    return json.loads(TABLE.read_text(encoding="utf-8"))


def version() -> str:
    return str(table()["isaaclab"]["version"])


def signature(func: str) -> list[Param] | None:
    """The parameters of an ``isaaclab.envs.mdp`` event function (after ``env, env_ids``); None if unknown."""
    entry = table()["functions"].get(func)
    if entry is None:
        return None
    return [Param(p["name"], p["annotation"], p.get("default")) for p in entry["params"][2:]]


def class_fields(name: str) -> list[Param]:
    return [
        Param(p["name"], p["annotation"], None if p.get("default") == "MISSING" else p.get("default"))
        for p in table()["classes"][name]
    ]


# ---------------------------------------------------------------------- patterns
def glob_to_regex(pattern: str) -> str:
    """``obj_*`` -> ``obj_.*``; ``link?`` -> ``link.``; ``[!ab]`` -> ``[^ab]``; other characters escaped."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[" and _class_end(pattern, i) > 0:
            end = _class_end(pattern, i)
            body = pattern[i + 1 : end]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
            i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def _class_end(pattern: str, i: int) -> int:
    """Where the ``[...]`` class opened at ``i`` closes (fnmatch's rules: ``!`` and a first ``]`` belong
    to it), or -1 when it does not (then ``[`` is a literal)."""
    j = i + 1
    j += pattern[j : j + 1] == "!"
    j += pattern[j : j + 1] == "]"
    return pattern.find("]", j)


def regex_to_glob(regex: str) -> str | None:
    """The glob matching exactly what ``re.fullmatch(regex)`` matches, or None outside the common subset."""
    out, i = [], 0
    while i < len(regex):
        c = regex[i]
        if c == "." and regex[i + 1 : i + 2] == "*":
            out.append("*")
            i += 2
            continue
        if c == ".":
            out.append("?")
        elif c == "\\" and i + 1 < len(regex) and not regex[i + 1].isalnum():
            i += 1
            out.append(_glob_literal(regex[i]))
        elif c == "[":
            end = regex.find("]", i + 2)
            if end < 0:
                return None
            body = regex[i + 1 : end]
            out.append("[" + ("!" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        elif c in _REGEX_META:
            return None
        else:
            out.append(_glob_literal(c))
        i += 1
    return "".join(out)


def _glob_literal(c: str) -> str:
    return f"[{c}]" if c in "*?[" else c


def is_literal(pattern: str) -> bool:
    return not any(c in pattern for c in "*?[")


# ---------------------------------------------------------------------- term names
def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a term name (``calibrated joint:elbow/damping`` ->
    ``calibrated_joint_elbow_damping``), unique among ``taken`` (which it joins)."""
    ident = re.sub(r"\W", "_", name, flags=re.ASCII).strip("_") or "term"
    if ident[0].isdigit() or keyword.iskeyword(ident):
        ident = f"term_{ident}"
    base, n = ident, 2
    while ident in taken:
        ident, n = f"{base}_{n}", n + 1
    taken.add(ident)
    return ident
