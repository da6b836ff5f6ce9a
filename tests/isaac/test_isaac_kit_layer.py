"""The Kit layer (exts/sim2real_isaac, tools/isaac, config/*.kit) checked without Kit: every Kit symbol it
uses is documented with its source, its extension and experience files declare what it needs, and its
Kit tests are discoverable by Kit's test runner. (The Kit tests themselves run where Isaac Sim exists.)"""

from __future__ import annotations

import ast
import subprocess
import tomllib
from pathlib import Path

from testlib import REPO

EXT = REPO / "exts" / "sim2real_isaac"
KIT_ROOTS = ("omni", "carb", "isaacsim", "pxr")
KIT_FILES = sorted(EXT.rglob("*.py")) + [REPO / "tools" / "isaac" / "generate.py"]


def absolute_imports(path: Path) -> list[str]:
    """The modules a file imports by absolute name (``import a.b``, ``from a.b import c``)."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names.append(node.module or "")
    return names


def kit_symbols(path: Path) -> set[str]:
    """Dotted Kit names a module uses: its imports and the attribute chains on them."""
    tree = ast.parse(path.read_text())
    alias: dict[str, str] = {}
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in KIT_ROOTS:
                    alias[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
                    used.add(a.name)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in KIT_ROOTS:
            for a in node.names:
                alias[a.asname or a.name] = f"{node.module}.{a.name}"
                used.add(f"{node.module}.{a.name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            parts, n = [], node
            while isinstance(n, ast.Attribute):
                parts.append(n.attr)
                n = n.value
            if isinstance(n, ast.Name) and n.id in alias:
                used.add(".".join([alias[n.id], *reversed(parts)]))
    return {s for s in used if not any(o.startswith(s + ".") for o in used)}


def test_every_kit_symbol_is_documented_with_its_source() -> None:
    doc = (EXT / "docs" / "kit-api-usage.md").read_text()
    missing = []
    for path in KIT_FILES:
        for symbol in sorted(kit_symbols(path)):
            parts = symbol.split(".")
            if f"{parts[-2]}.{parts[-1]}" not in doc and not (parts[-1] in doc and parts[-2] in doc):
                missing.append(f"{path.relative_to(REPO)}: {symbol}")
    assert not missing, "document these in exts/sim2real_isaac/docs/kit-api-usage.md:\n" + "\n".join(missing)
    assert kit_symbols(EXT / "sim2real_isaac" / "extension.py") >= {"omni.ext.IExt",
                                                                    "omni.replicator.core.WriterRegistry.register"}


def test_kit_layer_holds_glue_only() -> None:
    """The Kit modules import the core and Kit, nothing the core would own (numpy math lives there)."""
    for path in KIT_FILES:
        for name in absolute_imports(path):
            assert name.split(".")[0] not in ("mujoco", "torch", "scipy"), f"{path}: imports {name}"


def test_extension_declares_its_kit_dependencies_and_tests() -> None:
    toml = tomllib.loads((EXT / "config" / "extension.toml").read_text())
    deps = toml["dependencies"]
    for dep in ("sim2real", "isaacsim.core.api", "isaacsim.core.simulation_manager", "omni.physx",
                "omni.physics.tensors", "omni.replicator.core", "omni.usd", "omni.timeline"):
        assert dep in deps, dep
    assert [m["name"] for m in toml["python"]["module"]] == ["sim2real_isaac", "sim2real_isaac.tests"]
    (test,) = toml["test"]
    assert "omni.kit.test" in test["dependencies"] and "--no-window" in test["args"]
    tests = EXT / "sim2real_isaac" / "tests"
    init = (tests / "__init__.py").read_text()
    for module in sorted(tests.glob("test_*.py")):
        assert f"from .{module.stem} import *" in init, f"Kit's runner would not see {module.name}"
        tree = ast.parse(module.read_text())
        classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
        assert classes and all(any(ast.unparse(b) == "omni.kit.test.AsyncTestCase" for b in c.bases) for c in classes)


# What Isaac Sim 5.1's SDG extensions run their tests with (isaacsim.replicator.writers' [[test]]): without
# enableSemanticSchema the segmentation annotators see no UsdSemantics labels.
ISAAC_SDG_TEST_ARGS = ("--/rtx/hydra/enableSemanticSchema=1", "--/rtx/hydra/materialSyncLoads=1",
                       "--/rtx/materialDb/syncLoads=1", "--/omni/kit/plugin/syncUsdLoads=1",
                       "--/app/asyncRendering=0", "--/omni/replicator/asyncRendering=0",
                       "--/app/runLoops/main/manualModeEnabled=true", '--/persistent/app/stage/upAxis="Z"',
                       "--/persistent/simulation/defaultMetersPerUnit=1.0")


def test_kit_tests_run_with_isaac_sims_sdg_test_arguments() -> None:
    for ext in ("sim2real_isaac", "sim2real_ui"):
        (test,) = tomllib.loads((REPO / "exts" / ext / "config" / "extension.toml").read_text())["test"]
        missing = [a for a in ISAAC_SDG_TEST_ARGS if a not in test["args"]]
        assert not missing, f"{ext}: [[test]] args lack {missing}"
        assert "--/persistent/omni/replicator/captureOnPlay=0" in test["args"]  # the tests step Replicator


def test_experience_files_load_our_extensions() -> None:
    for name, needs in (("sim2real.kit", ("isaacsim.exp.full", "sim2real_isaac", "sim2real_ui")),
                        ("sim2real.headless.kit", ("isaacsim.exp.base.python", "omni.replicator.core",
                                                   "sim2real_isaac"))):
        kit = tomllib.loads((REPO / "config" / name).read_text())
        assert set(needs) <= set(kit["dependencies"]), name
        assert "${app}/../exts" in kit["settings"]["app"]["exts"]["folders"], name
    headless = tomllib.loads((REPO / "config" / "sim2real.headless.kit").read_text())
    assert headless["settings"]["app"]["enableStdoutOutput"] is False  # stdout carries the JSON progress


def test_kit_test_runner_script() -> None:
    script = REPO / "tools" / "run_kit_tests.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    proc = subprocess.run([str(script), "/nonexistent/isaac"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("error: no Kit executable at /nonexistent/isaac/kit/kit; expected "
                                   "ISAAC_SIM_PATH to be an Isaac Sim 5.1 install")
    text = script.read_text()
    for flag in ("--enable omni.kit.test", "testExts/0=sim2real_isaac", "runTestsAndQuit=true", '"$REPO/exts"'):
        assert flag in text
