"""Type stubs of the Isaac Lab API we emit, generated from ``names.json``, and the calls to check.

A type checker (mypy) cannot see whether ``params={...}`` fits the function it is given: ``params``
is a ``dict[str, Any]``. So two files are checked against the stubs, without Isaac Lab installed:

* the exported module itself (imports, ``EventTermCfg`` fields, ``SceneEntityCfg`` arguments);
* ``calls_source(module)``: for each term, the call Isaac Lab's event manager makes,
  ``mdp.<func>(env, env_ids, **params)`` (for a class term ``mdp.<func>(cfg, env)(env, env_ids,
  **params)``), written out with the module's own parameter texts as keyword arguments: a parameter
  name the function lacks, a missing required one or a value of the wrong type (``operation="abs "``
  against ``Literal["add", "scale", "abs"]``) is a type error.
"""

from __future__ import annotations

from pathlib import Path

from . import names
from .reader import read_module

_TYPES = "from typing import Any, Callable, Literal, TypeVar\n\nimport torch\n"


def write_stubs(directory: str | Path) -> Path:
    """Write ``isaaclab`` (and a minimal ``torch``) stub packages into ``directory``; returns it."""
    root = Path(directory)
    files = {
        "torch/__init__.pyi": "class Tensor: ...\n",
        "isaaclab/__init__.pyi": "",
        "isaaclab/envs/__init__.pyi": "class ManagerBasedEnv: ...\n",
        "isaaclab/utils/__init__.pyi": "from typing import TypeVar\n\n_T = TypeVar('_T')\n\n"
        "def configclass(cls: type[_T], **kwargs: object) -> type[_T]: ...\n",
        "isaaclab/managers/__init__.pyi": _managers(),
        "isaaclab/envs/mdp/__init__.pyi": _mdp(),
    }
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# Isaac Lab annotates EventTermCfg.func as Callable[..., None] yet takes ManagerTermBase classes there
# (EventManager instantiates a class term: ``inspect.isclass(term_cfg.func)``); the stub says both.
_ANNOTATIONS = {("EventTermCfg", "func"): "Callable[..., None] | type[ManagerTermBase]"}


def _fields(cls: str, skip: tuple[str, ...] = ()) -> str:
    """``def __init__(self, *, field: annotation [= ...], ...)`` of a config class."""
    params = []
    for p in names.class_fields(cls):
        if p.name in skip:
            continue
        annotation = _ANNOTATIONS.get((cls, p.name), p.annotation)
        params.append(f"{p.name}: {annotation}" + ("" if p.required else " = ..."))
    return "    def __init__(self, *, " + ", ".join(params) + ") -> None: ...\n"


def _managers() -> str:
    entity = _fields("SceneEntityCfg", skip=("name",)).replace("(self, *, ", "(self, name: str, *, ")
    return (
        _TYPES + "from isaaclab.envs import ManagerBasedEnv\n\n\n"
        "class SceneEntityCfg:\n" + entity + "\n\n"
        "class ManagerTermBase:\n    def __init__(self, cfg: Any, env: ManagerBasedEnv) -> None: ...\n\n\n"
        "class EventTermCfg:\n" + _fields("EventTermCfg") + "\n"
    )


def _mdp() -> str:
    out = [
        _TYPES,
        "from isaaclab.envs import ManagerBasedEnv\n"
        + "from isaaclab.managers import EventTermCfg, ManagerTermBase, SceneEntityCfg\n",
    ]
    for func, entry in names.table()["functions"].items():
        params = ", ".join(
            f"{p['name']}: {p['annotation'] or 'Any'}" + (" = ..." if "default" in p else "")
            for p in entry["params"]
        )
        if entry["kind"] == "class":
            out.append(
                f"\nclass {func}(ManagerTermBase):\n"
                "    def __init__(self, cfg: EventTermCfg, env: ManagerBasedEnv) -> None: ...\n"
                f"    def __call__(self, {params}) -> None: ...\n"
            )
        else:
            out.append(f"\ndef {func}({params}) -> None: ...\n")
    return "\n".join(out)


def calls_source(module: str | Path) -> str:
    """The event manager's calls of every term of ``module`` (see the module docstring)."""
    _, terms = read_module(module)
    lines = [
        "import isaaclab.envs.mdp as mdp",
        "import torch",
        "from isaaclab.envs import ManagerBasedEnv",
        "from isaaclab.managers import EventTermCfg, SceneEntityCfg",
        "",
        "",
    ]
    for item in terms:
        kind = names.table()["functions"].get(item.term.func, {}).get("kind")
        call = f"mdp.{item.term.func}(cfg, env)" if kind == "class" else f"mdp.{item.term.func}"
        kwargs = "".join(f"        {key}={src},\n" for key, src in item.sources.items())
        lines.append(
            f"def check_{item.term.name}(env: ManagerBasedEnv, env_ids: torch.Tensor, cfg: EventTermCfg) "
            f"-> None:\n    {call}(\n        env,\n        env_ids,\n{kwargs}    )\n\n"
        )
    return "\n".join(lines)
