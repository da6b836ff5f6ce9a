"""The command-line contract: version, exit codes, one-line user errors, tracebacks only with --debug."""

from __future__ import annotations

import sim2real


def test_version(run_cli) -> None:
    proc = run_cli("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"sim2real {sim2real.__version__}"


def test_user_error_is_one_line_exit_2_without_traceback(run_cli) -> None:
    proc = run_cli("doctor", "--gl", "nope")
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:")
    assert "Traceback" not in proc.stderr


def test_debug_shows_the_traceback(run_cli) -> None:
    proc = run_cli("--debug", "doctor", "--gl", "nope")
    assert proc.returncode == 2
    assert "Traceback" in proc.stderr and "UserError" in proc.stderr


def test_usage_error_exits_2(run_cli) -> None:
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    assert "No such command" in proc.stderr
