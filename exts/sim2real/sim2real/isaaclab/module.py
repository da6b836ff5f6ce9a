"""Writing Isaac Lab event terms as a Python module, in Isaac Lab's own idiom::

    import isaaclab.envs.mdp as mdp
    from isaaclab.managers import EventTermCfg as EventTerm
    from isaaclab.managers import SceneEntityCfg
    from isaaclab.utils import configclass

    @configclass
    class EventCfg:
        object_mass = EventTerm(func=mdp.randomize_rigid_body_mass, mode="reset", params={...})

Values are Python literals (tuples, lists, dicts, floats, strings) and ``SceneEntityCfg(...)`` calls,
which is what the importer reads back.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from . import names
from .terms import Entity, IsaacTerm, Left

HEADER_IMPORTS = (
    "import isaaclab.envs.mdp as mdp\n"
    "from isaaclab.managers import EventTermCfg as EventTerm\n"
    "from isaaclab.managers import SceneEntityCfg\n"
    "from isaaclab.utils import configclass\n"
)


def literal(value: Any) -> str:
    """Python source for a parameter value."""
    if isinstance(value, Entity):
        parts = [literal(value.asset)]
        if value.body_names is not None:
            parts.append(f"body_names={literal(list(value.body_names))}")
        if value.joint_names is not None:
            parts.append(f"joint_names={literal(list(value.joint_names))}")
        return f"SceneEntityCfg({', '.join(parts)})"
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # double quotes, as Isaac Lab's code; a valid Python literal too
    return repr(value)


def _param_line(key: str, value: Any, indent: str) -> list[str]:
    """``"key": value,`` — a dict too long for one line is written one entry a line."""
    line = f"{indent}{literal(key)}: {literal(value)},"
    if len(line) <= 110 or not isinstance(value, dict):
        return [line]
    inner = indent + "    "
    return (
        [f"{indent}{literal(key)}: {{"]
        + [f"{inner}{literal(k)}: {literal(v)}," for k, v in value.items()]
        + [f"{indent}}},"]
    )


def term_source(term: IsaacTerm, comment: str) -> str:
    lines = [f"    # {comment}"] if comment else []
    lines.append(f"    {term.name} = EventTerm(")
    lines.append(f"        func=mdp.{term.func},")
    lines.append(f"        mode={literal(term.mode)},")
    if term.interval_range_s is not None:
        lines.append(f"        interval_range_s={literal(tuple(term.interval_range_s))},")
    lines.append("        params={")
    for key, value in term.params.items():
        lines += _param_line(key, value, " " * 12)
    lines.append("        },")
    lines.append("    )")
    return "\n".join(lines)


def module_source(
    terms: list[IsaacTerm],
    title: str,
    skipped: list[Left],
    approximations: list[Left],
    class_name: str = "EventCfg",
) -> str:
    doc = [
        f"Isaac Lab event terms {title}.",
        "",
        f"Made by `sim2real profile export --to isaaclab` for Isaac Lab {names.version()} (isaaclab.envs.mdp).",
        f"Use it in a manager-based environment config: ``events: {class_name} = {class_name}()``.",
    ]
    for heading, items in (
        ("Not exported (Isaac Lab cannot express them)", skipped),
        ("Approximations", approximations),
    ):
        if items:
            doc += ["", f"{heading}:", ""]
            doc += [
                line
                for item in items
                for line in textwrap.wrap(f"- {item.text()}", 100, subsequent_indent="  ")
            ]
    body = [
        term_source(t, ", ".join(t.sources) if len(t.sources) > 1 or t.sources[0] != t.name else "")
        for t in terms
    ] or ["    pass"]
    return (
        '"""' + "\n".join(_escape(line) for line in doc).rstrip() + '\n"""\n\n' + HEADER_IMPORTS + "\n\n"
        f"@configclass\nclass {class_name}:\n"
        + f'    """Event terms {_escape(title)}."""\n\n'
        + "\n\n".join(body)
        + "\n"
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
