"""The panel's Kit layer (exts/sim2real_ui) checked without Kit: every Kit symbol it uses is documented
with its source, it holds glue only, its extension file declares what it needs, its Kit UI tests are
discoverable, and every widget those tests look for is built by the window. (The Kit UI tests themselves
run where Isaac Sim exists: tools/run_kit_tests.sh.)"""

from __future__ import annotations

import ast
import re
import tomllib

from testlib import REPO
from test_isaac_kit_layer import absolute_imports, kit_symbols

EXT = REPO / "exts" / "sim2real_ui"
PKG = EXT / "sim2real_ui"
KIT_FILES = sorted(PKG.rglob("*.py"))


def test_every_kit_symbol_is_documented_with_its_source() -> None:
    doc = (EXT / "docs" / "kit-api-usage.md").read_text()
    missing = []
    for path in KIT_FILES:
        for symbol in sorted(kit_symbols(path)):
            parts = symbol.split(".")
            short = {"omni.ui": "ui", "omni.kit.ui_test": "ui_test"}.get(".".join(parts[:-1]), parts[-2])
            if f"{short}.{parts[-1]}" not in doc and f"{parts[-2]}.{parts[-1]}" not in doc:
                missing.append(f"{path.relative_to(REPO)}: {symbol}")
    assert not missing, "document these in exts/sim2real_ui/docs/kit-api-usage.md:\n" + "\n".join(missing)
    used = set().union(*(kit_symbols(p) for p in KIT_FILES))
    assert {"omni.ext.IExt", "omni.kit.menu.utils.add_menu_items", "omni.ui.Plot", "omni.ui.ProgressBar",
            "omni.ui.FloatSlider", "omni.ui.CheckBox", "omni.ui.ComboBox", "omni.kit.ui_test.find"} <= used


def test_the_panel_holds_glue_only() -> None:
    """Jobs, validation and state belong to sim2real.app: the Kit layer starts no process itself."""
    for path in KIT_FILES:
        for name in absolute_imports(path):
            root = name.split(".")[0]
            assert root not in ("mujoco", "torch", "scipy", "numpy", "subprocess", "pydantic"), f"{path}: {name}"
            if root == "sim2real":
                assert name.startswith(("sim2real.app", "sim2real.errors", "sim2real.paths")), f"{path}: {name}"


def test_extension_declares_its_kit_dependencies_and_tests() -> None:
    toml = tomllib.loads((EXT / "config" / "extension.toml").read_text())
    for dep in ("sim2real", "sim2real_isaac", "omni.kit.uiapp", "omni.kit.menu.utils", "omni.kit.actions.core",
                "omni.usd"):
        assert dep in toml["dependencies"], dep
    assert [m["name"] for m in toml["python"]["module"]] == ["sim2real_ui", "sim2real_ui.tests"]
    (test,) = toml["test"]
    assert {"omni.kit.test", "omni.kit.ui_test"} <= set(test["dependencies"]) and "--no-window" in test["args"]
    assert set(toml["settings"]["exts"]["sim2real_ui"]) == {"workdir", "python", "targets", "profile"}
    init = (PKG / "tests" / "__init__.py").read_text()
    modules = sorted((PKG / "tests").glob("test_*.py"))
    assert modules
    for module in modules:
        assert f"from .{module.stem} import *" in init, f"Kit's runner would not see {module.name}"
        classes = [n for n in ast.parse(module.read_text()).body if isinstance(n, ast.ClassDef)]
        assert classes and all(any(ast.unparse(b) == "omni.kit.test.AsyncTestCase" for b in c.bases) for c in classes)
    script = (REPO / "tools" / "run_kit_tests.sh").read_text()
    assert "testExts/1=sim2real_ui" in script


def test_every_widget_the_kit_tests_find_is_built_by_the_window() -> None:
    """A renamed identifier would only fail inside Kit; check the tests' queries against the window code."""
    window = (PKG / "window.py").read_text() + (PKG / "widgets.py").read_text()
    forms = {}  # local name -> panel frame, from `c, r = self.panel.capture, self.refresher`
    for node in ast.walk(ast.parse((PKG / "window.py").read_text())):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and isinstance(node.value, ast.Tuple):
            for name, value in zip(node.targets[0].elts, node.value.elts, strict=True):
                if isinstance(value, ast.Attribute) and ast.unparse(value.value) == "self.panel":
                    forms[name.id] = value.attr
    built_fields = {(frame, field) for short, field in re.findall(r'form_field\((\w)\.form, "(\w+)"', window)
                    for frame in [forms.get(short, short)]}
    statuses = set(re.findall(r'job_status\(\w, "(\w+)"', window))
    literals = set(re.findall(r'"([\w.]+)"', window))
    queries = re.findall(r'_find\("(\w+)", f?"([^"]+)"\)', (PKG / "tests" / "test_window.py").read_text())
    assert len(queries) >= 10
    for kind, ident in queries:
        head, _, rest = ident.partition(".")
        if ident in literals or head == "term" or "{" in ident:
            continue
        if rest in ("progress", "state", "cancel", "error", "log") and head in statuses:
            continue
        field = rest.removesuffix(".error")
        assert (head, field) in built_fields, f"the window builds no widget {ident!r} ({kind})"
