"""`sim2real gap ...` end to end in a subprocess: real files in, report.html + report.json + run.json out."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from gap_helpers import (
    EPOCH_S,
    NS,
    jittered_stamps,
    pose_msg,
    realistic,
    scene_image,
    signal,
    typestore,
    write_bag,
    write_csv,
    write_images,
    yaw_quat_wxyz,
)


class _Sections(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "section":
            self.ids.append(dict(attrs)["id"] or "")
        if tag == "img":
            assert (dict(attrs)["src"] or "").startswith("data:image/png;base64,")
            self.images += 1


def _sections(path: Path) -> tuple[list[str], int]:
    p = _Sections()
    p.feed(path.read_text())
    return p.ids, p.images


def _ok(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_trajectories_csv_vs_parquet(tmp_path: Path, run_cli, artifacts_dir: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    sim_ns = jittered_stamps(rng, 0.0, 8.0, 100.0, 1e-3)  # simulator clock from 0
    real_ns = jittered_stamps(rng, EPOCH_S, 8.0, 50.0, 2e-3)  # robot clock: epoch
    sim_v = signal(sim_ns / NS)
    real_v = 1.1 * signal((real_ns - EPOCH_S * NS) / NS - 0.05) + rng.normal(0, 0.01, (len(real_ns), 2))
    write_csv(tmp_path / "sim.csv", sim_ns, {"j1 [rad]": sim_v[:, 0], "j2 [rad]": sim_v[:, 1]})
    pq.write_table(pa.table({"sec": real_ns // NS, "nanosec": real_ns % NS, "j1 [rad]": real_v[:, 0],
                             "j2 [rad]": real_v[:, 1]}), tmp_path / "real.parquet")
    out = tmp_path / "report"
    res = _ok(run_cli("gap", "trajectories", str(tmp_path / "sim.csv"), str(tmp_path / "real.parquet"),
                      "--out", str(out), "--offset", "start", "--json", "--progress", "none"))
    assert res["delay"]["seconds"] == pytest.approx(0.05, abs=0.01)
    assert res["assessment"] in {"Excellent - Minimal reality gap", "Good - Manageable reality gap"}
    assert res["overlap"]["offset_s"] == pytest.approx(EPOCH_S, abs=1.0)  # added to sim time
    ids, n_img = _sections(out / "report.html")
    assert ids == ["summary", "channels", "alignment", "plots"] and n_img == 3
    report = json.loads((out / "report.json").read_text())
    assert report["data"]["gap_score"] == res["gap_score"] and report["kind"] == "gap.trajectories"
    run = json.loads((out / "run.json").read_text())
    assert run["kind"] == "gap" and len(run["inputs"]["sim"]["sha256"]) == 64
    (artifacts_dir / "gap-trajectories.html").write_text((out / "report.html").read_text())


def test_poses_from_one_bag_and_json_progress(tmp_path: Path, run_cli, artifacts_dir: Path) -> None:
    ts = typestore()
    t = np.arange(300) * 0.02
    stamps = EPOCH_S * NS + np.round(t * NS).astype(np.int64)
    pos = np.c_[np.cos(t), np.sin(t), np.zeros_like(t)]
    yaw = 0.3 * t
    sim = [(int(s), pose_msg(ts, int(s), p, q)) for s, p, q in zip(stamps, pos, yaw_quat_wxyz(yaw), strict=True)]
    real = [(int(s) + 3_000_000, pose_msg(ts, int(s) + 1_000_000, p + [0.03, 0, 0], q))
            for s, p, q in zip(stamps, pos, yaw_quat_wxyz(yaw + 0.05), strict=True)]
    bag = write_bag(tmp_path / "run1", {"/sim_robot_pose": sim, "/real_robot_pose": real})
    out = tmp_path / "poses"
    proc = run_cli("gap", "poses", str(bag), "--out", str(out), "--progress", "json")
    assert proc.returncode == 0, proc.stderr
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    result = next(e for e in events if e["event"] == "result")["payload"]
    s = result["summary"]
    assert s["passed"] and s["accuracy"] == 1.0
    assert s["position_error_m"]["mean"] == pytest.approx(0.03, abs=1e-3)
    assert s["orientation_error_rad"]["mean"] == pytest.approx(0.05, abs=1e-3)
    assert any(e["event"] == "artifact" and e["path"].endswith("report.html") for e in events)
    ids, n_img = _sections(out / "report.html")
    assert ids == ["summary", "plots"] and n_img == 6
    (artifacts_dir / "gap-poses.html").write_text((out / "report.html").read_text())
    strict = _ok(run_cli("gap", "poses", str(bag), "--out", str(tmp_path / "p2"), "--position-threshold", "0.02",
                         "--match", "nearest", "--tolerance", "0.005", "--json", "--progress", "none"))
    assert not strict["summary"]["passed"] and strict["summary"]["accuracy_position"] == 0.0
    assert strict["match"] == "nearest"


def test_images_folders(tmp_path: Path, run_cli, artifacts_dir: Path) -> None:
    rng = np.random.default_rng(1)
    clean = [scene_image(rng, 40) for _ in range(8)]
    names = [f"{i:02d}" for i in range(8)]
    write_images(tmp_path / "sim", clean, names)
    write_images(tmp_path / "real", [realistic(c, rng) for c in clean], names)
    out = tmp_path / "img"
    res = _ok(run_cli("gap", "images", str(tmp_path / "sim"), str(tmp_path / "real"), "--out", str(out), "--size", "32",
                      "--kid-subsets", "5", "--kid-subset-size", "6", "--permutations", "19", "--pair", "name", "--json",
                      "--progress", "none"))
    assert res["n_sim"] == 8 and res["pair_summary"]["n"] == 8 and res["features"].startswith("random-conv(seed=0")
    ids, n_img = _sections(out / "report.html")
    assert ids == ["summary", "samples", "statistics", "pairs"] and n_img >= 8 + 8 + 4 + 3
    (artifacts_dir / "gap-images.html").write_text((out / "report.html").read_text())


def test_policy_returns(tmp_path: Path, run_cli) -> None:
    (tmp_path / "sim.csv").write_text("return,success\n10,true\n12,true\n8,false\n10,true\n")
    (tmp_path / "real.json").write_text(json.dumps([7, 9, 5, 7]))
    res = _ok(run_cli("gap", "policy", str(tmp_path / "sim.csv"), str(tmp_path / "real.json"), "--out",
                      str(tmp_path / "pol"), "--success-threshold", "9", "--json", "--progress", "none"))
    assert res["transfer_ratio"] == pytest.approx(0.7)
    assert res["assessment"] == "Good transfer - Policy adapts reasonably to reality."
    assert res["success_rate_real"] == 0.25 and res["success_rate_sim"] == 0.75  # flags override the threshold
    assert _sections(tmp_path / "pol" / "report.html")[0] == ["transfer"]


def test_user_errors_and_missing_rclpy(tmp_path: Path, run_cli) -> None:
    proc = run_cli("gap", "live", "--out", str(tmp_path / "live"))
    assert proc.returncode == 2 and "rclpy" in proc.stderr and "source /opt/ros" in proc.stderr
    assert "Traceback" not in proc.stderr
    write_csv(tmp_path / "a.csv", np.array([1, 2, 3]) * NS, {"x": np.zeros(3)})
    write_csv(tmp_path / "b.csv", np.array([10, 11, 12]) * NS, {"x": np.zeros(3)})
    proc = run_cli("gap", "trajectories", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--progress", "none",
                   cwd=tmp_path)
    assert proc.returncode == 2 and "--offset start" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "runs").exists()
    # a constant real channel: no scale, so correlation and the gap score are undefined (null), not a crash
    res = _ok(run_cli("gap", "trajectories", str(tmp_path / "a.csv"), str(tmp_path / "b.csv"), "--offset", "start",
                      "--json", "--progress", "none", cwd=tmp_path))
    assert res["overall"]["correlation"] is None and res["gap_score"] is None
    assert res["assessment"].startswith("Unknown") and len(list((tmp_path / "runs").iterdir())) == 1


def test_images_pairs_only_paired_captures_and_prints_the_report_once(tmp_path: Path, run_cli) -> None:
    """#26: two unrelated sets whose frames are both numbered 000000... got a frame-by-frame SSIM table
    with a pass threshold; now they get set distances only, unless --pair name says they are paired."""
    rng = np.random.default_rng(3)
    counters = [f"{i:06d}" for i in range(6)]
    write_images(tmp_path / "a", [scene_image(rng, 40) for _ in counters], counters)
    write_images(tmp_path / "b", [scene_image(rng, 40) for _ in counters], counters)
    args = ("--size", "32", "--kid-subsets", "5", "--kid-subset-size", "4", "--permutations", "9")
    out = tmp_path / "unpaired"
    proc = run_cli("gap", "images", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out), *args,
                   env={"COLUMNS": "250"})
    assert proc.returncode == 0, proc.stderr
    report = out / "report.html"
    assert (proc.stdout + proc.stderr).count(str(report)) == 1  # the path once
    assert "frame counters" in proc.stdout and "SSIM" not in proc.stdout
    data = json.loads((out / "report.json").read_text())["data"]
    assert data["pair_summary"]["n"] == 0 and data["pair_mode"] == "none" and data["pairs"] == []
    assert "pairs" not in _sections(report)[0] and "SSIM" not in report.read_text()
    explicit = _ok(run_cli("gap", "images", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "e"),
                           *args, "--pair", "name", "--json", "--progress", "none"))
    assert explicit["pair_summary"]["n"] == 6 and explicit["pair_mode"] == "name"
    captures = ["kitchen_day", "kitchen_night", "desk_lamp", "desk_window", "shelf", "floor"]
    clean = [scene_image(rng, 40) for _ in captures]
    write_images(tmp_path / "sim", clean, captures)
    write_images(tmp_path / "real", [realistic(c, rng) for c in clean], captures)
    paired = _ok(run_cli("gap", "images", str(tmp_path / "sim"), str(tmp_path / "real"), "--out", str(tmp_path / "p"),
                         *args, "--json", "--progress", "none"))
    assert paired["pair_summary"]["n"] == 6 and paired["pair_mode"] == "name" and "capture names" in paired["pair_why"]
