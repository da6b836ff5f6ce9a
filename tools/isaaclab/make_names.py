"""Regenerate ``exts/sim2real/sim2real/isaaclab/names.json``: the names and signatures of the Isaac Lab
API that ``sim2real profile export --to isaaclab`` emits, read from Isaac Lab's own source.

What it records (names, parameter names, annotation and default texts; no code):

* every public event function of ``isaaclab/envs/mdp/events.py`` (functions: their signature; classes
  deriving ``ManagerTermBase``: their ``__call__`` without ``self``), i.e. what ``isaaclab.envs.mdp``
  re-exports (``from .events import *``);
* the fields of ``EventTermCfg`` (with those of its base ``ManagerTermBaseCfg``) and ``SceneEntityCfg``;
* that ``isaaclab.managers`` exports both and ``isaaclab.utils`` exports ``configclass``.

Sources (either):

* a git snapshot of github.com/isaac-sim/IsaacLab and a tag::

      python tools/isaaclab/make_names.py --git-dir /path/IsaacLab.git --tag v2.3.2

* a directory holding ``source/isaaclab/isaaclab`` (a checkout, or the ``isaaclab`` wheel from PyPI
  unpacked: ``pip download --no-deps isaaclab==2.3.2; unzip isaaclab-2.3.2-*.whl -d whl``; the wheel
  ships the release's source tree under ``isaaclab/``)::

      python tools/isaaclab/make_names.py --source whl/isaaclab --version 2.3.2

The shipped table was made from the isaaclab 2.3.2 wheel (Isaac Lab release v2.3.2, for Isaac Sim 5.1);
``--check`` compares a fresh reading with the shipped file instead of writing it.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "exts" / "sim2real" / "sim2real" / "isaaclab" / "names.json"
ROOT = "source/isaaclab/isaaclab"
FILES = {
    "events": f"{ROOT}/envs/mdp/events.py",
    "mdp": f"{ROOT}/envs/mdp/__init__.py",
    "term_cfg": f"{ROOT}/managers/manager_term_cfg.py",
    "entity_cfg": f"{ROOT}/managers/scene_entity_cfg.py",
    "managers": f"{ROOT}/managers/__init__.py",
    "utils": f"{ROOT}/utils/__init__.py",
}


def reader(args: argparse.Namespace) -> Callable[[str], str]:
    if args.git_dir:

        def read_git(path: str) -> str:
            return subprocess.run(
                ["git", f"--git-dir={args.git_dir}", "show", f"{args.tag}:{path}"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout

        return read_git
    base = Path(args.source)
    return lambda path: (base / path).read_text(encoding="utf-8")


def _param(arg: ast.arg, default: ast.expr | None) -> dict[str, str]:
    out = {"name": arg.arg, "annotation": ast.unparse(arg.annotation) if arg.annotation else ""}
    if default is not None:
        out["default"] = ast.unparse(default)
    return out


def signature(fn: ast.FunctionDef, drop_self: bool) -> list[dict[str, str]]:
    args = fn.args.posonlyargs + fn.args.args
    defaults: list[ast.expr | None] = [None] * (len(args) - len(fn.args.defaults)) + list(fn.args.defaults)
    params = [_param(a, d) for a, d in zip(args, defaults, strict=True)]
    params += [_param(a, d) for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True)]
    return params[1:] if drop_self else params


def event_functions(source: str) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
            out[node.name] = {"kind": "function", "params": signature(node, drop_self=False)}
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            if not any(ast.unparse(b).endswith("ManagerTermBase") for b in node.bases):
                continue
            call = next(n for n in node.body if isinstance(n, ast.FunctionDef) and n.name == "__call__")
            out[node.name] = {"kind": "class", "params": signature(call, drop_self=True)}
    return dict(sorted(out.items()))


def class_fields(source: str, name: str) -> tuple[list[str], list[dict[str, str]]]:
    """(base class names, annotated fields with their default texts) of class ``name``."""
    node = next(n for n in ast.parse(source).body if isinstance(n, ast.ClassDef) and n.name == name)
    fields = []
    for item in node.body:
        if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
            field = {"name": item.target.id, "annotation": ast.unparse(item.annotation)}
            if item.value is not None:
                field["default"] = ast.unparse(item.value)
            fields.append(field)
    return [ast.unparse(b) for b in node.bases], fields


def exported(source: str, module: str) -> set[str]:
    """Names a package ``__init__`` imports from ``module`` (relative), e.g. EventTermCfg."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module == module:
            names |= {a.asname or a.name for a in node.names}
    return names


def build(read: Callable[[str], str], version: str, origin: str) -> dict:
    events = read(FILES["events"])
    if "from .events import *" not in read(FILES["mdp"]):
        sys.exit("isaaclab.envs.mdp does not re-export events: this table's layout does not fit that release")
    term_cfg, entity_cfg = read(FILES["term_cfg"]), read(FILES["entity_cfg"])
    bases, event_fields = class_fields(term_cfg, "EventTermCfg")
    base_fields = class_fields(term_cfg, bases[0])[1] if bases == ["ManagerTermBaseCfg"] else []
    managers = exported(read(FILES["managers"]), "manager_term_cfg") | exported(
        read(FILES["managers"]), "scene_entity_cfg"
    )
    if not {"EventTermCfg", "SceneEntityCfg"} <= managers or "configclass" not in exported(
        read(FILES["utils"]), "configclass"
    ):
        sys.exit("isaaclab.managers / isaaclab.utils do not export EventTermCfg, SceneEntityCfg, configclass")
    return {
        "isaaclab": {
            "version": version,
            "source": origin,
            "events_sha256": hashlib.sha256(events.encode()).hexdigest(),
            "files": FILES,
        },
        "modules": {"mdp": "isaaclab.envs.mdp", "managers": "isaaclab.managers", "utils": "isaaclab.utils"},
        "functions": event_functions(events),
        "classes": {
            "EventTermCfg": list(
                {f["name"]: f for f in base_fields + event_fields}.values()
            ),  # overrides win
            "SceneEntityCfg": class_fields(entity_cfg, "SceneEntityCfg")[1],
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--git-dir", help="a git snapshot of isaac-sim/IsaacLab")
    ap.add_argument("--tag", default="v2.3.2", help="the release tag to read (with --git-dir)")
    ap.add_argument("--source", help="a directory holding source/isaaclab/isaaclab")
    ap.add_argument("--version", default="2.3.2", help="the release's version, recorded in the table")
    ap.add_argument(
        "--check", action="store_true", help="compare with the shipped table instead of writing it"
    )
    args = ap.parse_args()
    if bool(args.git_dir) == bool(args.source):
        ap.error("give one of --git-dir (with --tag) or --source")
    origin = (
        f"github.com/isaac-sim/IsaacLab tag {args.tag}"
        if args.git_dir
        else f"isaaclab {args.version} release source (source/isaaclab)"
    )
    table = build(reader(args), args.version, origin)
    text = json.dumps(table, indent=1, sort_keys=False) + "\n"
    if args.check:
        shipped = json.loads(OUT.read_text())
        same = {k: shipped[k] == table[k] for k in ("functions", "classes", "modules")}
        print(
            json.dumps(
                {
                    "same": same,
                    "events_sha256": [
                        shipped["isaaclab"]["events_sha256"],
                        table["isaaclab"]["events_sha256"],
                    ],
                }
            )
        )
        sys.exit(0 if all(same.values()) else 1)
    OUT.write_text(text)
    print(f"wrote {OUT.relative_to(REPO)}: {len(table['functions'])} event functions")


if __name__ == "__main__":
    main()
