"""The core never imports Kit; heavy libraries are imported only where DESIGN.md allows.

Two checks:
* dynamic: every module of the package is imported in a subprocess whose import system refuses
  ``omni``, ``carb`` and ``isaacsim``; any attempt fails the test;
* static: the module-level (eager) imports of every module, followed through the package's own
  imports, may reach ``mujoco``, ``pxr`` and ``torch`` only from the sub-packages that own them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from functools import cache
from pathlib import Path

from testlib import PACKAGE

KIT = ("omni", "carb", "isaacsim", "pxr.Kit", "isaaclab")  # Isaac Lab too: the bridge only reads its code
# library -> module prefixes allowed to import it eagerly
OWNERS = {
    "mujoco": ("sim2real.backends.mujoco",),
    "pxr": ("sim2real.usd",),
    "torch": ("sim2real.train", "sim2real.deploy", "sim2real.control", "sim2real.meta", "sim2real.translate",
              "sim2real.sysid.neural"),
}
HEAVY_FOR_CLI = ("numpy", "mujoco", "torch", "pxr", "ray", "scipy", "matplotlib", "onnx", "onnxruntime", "cv2")


def all_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        names.append(".".join(parts))
    return names


def module_file(name: str) -> Path:
    base = PACKAGE.parent.joinpath(*name.split("."))
    return base / "__init__.py" if base.is_dir() else base.with_suffix(".py")


def test_no_module_imports_kit() -> None:
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, json, sys
        BLOCKED = {KIT!r}
        attempts = []
        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                    attempts.append(name)
                    raise ImportError("blocked Kit module " + name)
                return None
        sys.meta_path.insert(0, Block())
        failures = {{}}
        for mod in {all_modules()!r}:
            try:
                importlib.import_module(mod)
            except Exception as exc:
                failures[mod] = f"{{type(exc).__name__}}: {{exc}}"
        print(json.dumps({{"attempts": attempts, "failures": failures}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["attempts"] == [], f"core modules tried to import Kit: {report['attempts']}"
    assert report["failures"] == {}, f"modules failed to import: {report['failures']}"


def _eager_imports(name: str) -> set[str]:
    """Absolute names imported at module level (not inside functions) by module ``name``."""
    tree = ast.parse(module_file(name).read_text(), filename=str(module_file(name)))
    is_pkg = module_file(name).name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                found.add(mod)
                found.update(f"{mod}.{alias.name}" for alias in node.names)
            if isinstance(node, ast.If) and _is_type_checking(node.test):
                visit(node.orelse)
                continue
            for field in ("body", "orelse", "finalbody"):
                visit(getattr(node, field, None) or [])
            for handler in getattr(node, "handlers", None) or []:
                visit(handler.body)

    visit(tree.body)
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


@cache
def _import_graph() -> dict[str, tuple[set[str], set[tuple[str, str]]]]:
    """Per module: the package modules it runs when imported, and the (external package, importer) pairs."""
    modules = set(all_modules())
    graph: dict[str, tuple[set[str], set[tuple[str, str]]]] = {}
    for name in modules:
        internal: set[str] = set()
        external: set[tuple[str, str]] = set()
        for imp in _eager_imports(name):
            if imp.startswith("sim2real"):
                parts = imp.split(".")  # importing a.b.c also runs a/__init__ and a/b/__init__
                internal |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)} & modules
            else:
                external.add((imp.split(".")[0], name))
        internal.discard(name)
        graph[name] = (internal, external)
    return graph


def _reachable_external(name: str) -> set[tuple[str, str]]:
    """(external top-level package, module that imports it) reachable through eager imports."""
    graph = _import_graph()
    seen, todo, out = {name}, [name], set()
    while todo:
        internal, external = graph[todo.pop()]
        out |= external
        todo += [m for m in internal if m not in seen]
        seen |= internal
    return out


def test_heavy_libraries_only_where_owned() -> None:
    problems = []
    for name in all_modules():
        for lib, importer in _reachable_external(name):
            if lib in KIT or lib == "omni":
                problems.append(f"{name} reaches {lib} (via {importer})")
            owners = OWNERS.get(lib)
            if owners and not any(name == o or name.startswith(o + ".") for o in owners):
                problems.append(f"{name} eagerly imports {lib} (via {importer}); only {owners} may")
    assert not problems, "\n".join(sorted(problems))


def test_importing_sim2real_and_its_cli_stays_light() -> None:
    script = (
        "import sys, json; import sim2real; a = sorted(sys.modules); import sim2real.cli; "
        "print(json.dumps([a, sorted(sys.modules)]))"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    after_pkg, after_cli = json.loads(proc.stdout)
    assert [m for m in after_pkg if m.startswith("sim2real")] == ["sim2real"]
    assert "numpy" not in after_pkg and "pydantic" not in after_pkg
    heavy = sorted({m.split(".")[0] for m in after_cli} & set(HEAVY_FOR_CLI))
    assert heavy == [], f"`import sim2real.cli` loads {heavy}; import them inside the commands"


def test_static_checker_sees_eager_and_ignores_lazy(tmp_path: Path) -> None:
    """The static check itself: a module-level import counts, one inside a function does not."""
    eager = _eager_imports("sim2real.backends.glplatform")
    assert "sim2real.errors" in eager and "subprocess" in eager
    assert not any(i.startswith("mujoco") for i in eager)  # probing must not import mujoco eagerly
    probe = _eager_imports("sim2real.backends.mujoco._glprobe")
    assert "mujoco" not in probe  # imported inside main()
