"""Training's process-wide numeric settings are set for a run and given back as the caller had them."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from sim2real.train.numerics import deterministic_algorithms


@pytest.mark.parametrize("before", [(False, False), (True, False), (True, True)])
def test_deterministic_algorithms_are_scoped_to_the_run(before: tuple[bool, bool]) -> None:
    was = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(before[0], warn_only=before[1])
    try:
        with deterministic_algorithms(warn_only=False):
            assert torch.are_deterministic_algorithms_enabled()
            assert not torch.is_deterministic_algorithms_warn_only_enabled()
        assert (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled()) == before
        with pytest.raises(RuntimeError, match="inside"), deterministic_algorithms(warn_only=True):
            raise RuntimeError("inside")  # a failing run gives the setting back too
        assert (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled()) == before
    finally:
        torch.use_deterministic_algorithms(was[0], warn_only=was[1])


def test_the_flag_does_not_import_inductor() -> None:
    """``torch.use_deterministic_algorithms`` imports torch._inductor (and with it dynamo and sympy);
    the run's setting must not (torch.optim's own lazy dynamo import is torch's, and a user's loop pays it too)."""
    code = ("import sys, torch\n"
            "from sim2real.train.numerics import deterministic_algorithms\n"
            "with deterministic_algorithms():\n"
            "    assert torch.are_deterministic_algorithms_enabled()\n"
            "    torch.nn.functional.conv2d(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 3, 3)).sum().item()\n"
            "print(sorted(m for m in ('torch._inductor', 'torch._dynamo', 'sympy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]"
