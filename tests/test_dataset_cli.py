"""The `sim2real dataset` commands, run as a user runs them (subprocess)."""

from __future__ import annotations

import json
from pathlib import Path

from test_dataset_format import generate


def test_verify_stats_and_export_from_the_command_line(tmp_path: Path, run_cli) -> None:
    out = tmp_path / "ds"
    generate(out, 5)
    ok = run_cli("dataset", "verify", str(out), "--progress", "none")
    assert ok.returncode == 0, ok.stderr
    assert "ok: 5 frames, 25 files checked (complete)" in ok.stdout

    stats = run_cli("dataset", "stats", str(out), "--json")
    assert stats.returncode == 0, stats.stderr
    data = json.loads(stats.stdout)
    assert data["frames"] == 5 and "background" in data["classes"]

    coco = run_cli("dataset", "export-coco", str(out), "--progress", "json")
    assert coco.returncode == 0, coco.stderr
    events = [json.loads(line) for line in coco.stdout.splitlines()]
    assert events[-1]["event"] == "result" and Path(events[-1]["payload"]["coco"]).is_file()

    rgb = out / "shards" / "00001" / "000004.rgb.png"
    rgb.write_bytes(b"not a png")
    bad = run_cli("dataset", "verify", str(out), "--json")
    assert bad.returncode == 1
    report = json.loads(bad.stdout)
    assert report["ok"] is False
    assert report["problems"] == [{"path": "shards/00001/000004.rgb.png", "severity": "error",
                                   "message": "checksum mismatch (file changed or corrupt)"}]
    assert "1 problem(s) found" in bad.stderr


def test_dataset_commands_on_a_folder_that_is_no_dataset(tmp_path: Path, run_cli) -> None:
    res = run_cli("dataset", "stats", str(tmp_path))
    assert res.returncode == 2
    assert "not a sim2real dataset (no manifest.json)" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
