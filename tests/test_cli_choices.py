"""#26: choice options are typed, so `--help` and shell completion list their values, and every flag
of `sim2real train` shows its default (the training config's)."""

from __future__ import annotations

import typing

from sim2real.dataset import layouts
from sim2real.generate import cli as generate_cli
from sim2real.generate.request import EXECUTORS
from sim2real.progress import MODES
from sim2real.sim import registry


def test_typed_choices_match_the_registries() -> None:
    assert sorted(typing.get_args(generate_cli.BackendName)) == registry.names()
    assert typing.get_args(generate_cli.ExecutorName) == EXECUTORS
    assert list(typing.get_args(generate_cli.LayoutName)) == layouts.names()


def test_help_lists_choices_and_defaults(run_cli) -> None:
    text = run_cli("train", "--help", env={"COLUMNS": "250"}).stdout
    for choices in ("segment|classify|detect|state", "source-only|dann|coral|mmd|adabn", "last|source|entropy|snd|dev|iwv|im",
                    "sgd|adamw", "auto|cpu|cuda", "|".join(MODES)):
        assert f"<{choices}>" in text, choices
    for flag, default in (("--method", "dann"), ("--epochs", "10"), ("--batch-size", "16"), ("--select", "last")):
        line = next(ln for ln in text.splitlines() if f" {flag} " in ln)
        assert f"[default: ({default}, or the --config file's)]" in line, line
    lr = next(ln for ln in text.splitlines() if " --lr " in ln)  # per optimizer, measured (#23)
    assert "[default: (sgd 0.01, adamw 0.002)]" in lr, lr
    gen = run_cli("generate", "--help", env={"COLUMNS": "250"}).stdout
    assert "<mujoco|isaac>" in gen and "<local|ray>" in gen and "<native|basic>" in gen
    bad = run_cli("train", "--data", "x", "--out", "y", "--method", "dan")
    assert bad.returncode == 2 and "'dan' is not one of" in bad.stderr
