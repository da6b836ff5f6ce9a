"""The deploy stage against a REAL OpenSSH server on 127.0.0.1 standing in for the Jetson: the quick
demo's run folder with a ``[deploy]`` section added re-runs only deploy and report; the bundle is
pushed, installed and benchmarked by its own runner (onnxruntime) on the "device"."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from pipeline_helpers import QUICK, REPO, Demo, sim2real

from sim2real.fsutil import content_hash

sys.path.insert(0, str(REPO / "tests" / "deploy"))
from sshd import start_sshd  # noqa: E402  (the deploy tests' real OpenSSH server)

pytestmark = pytest.mark.ssh


@pytest.fixture
def device(tmp_path: Path):
    server = start_sshd(tmp_path / "sshd")
    yield server
    server.stop()


def test_deploy_stage_pushes_and_benchmarks_on_the_device(quick_demo: Demo, device, tmp_path: Path) -> None:
    out = tmp_path / "run"
    shutil.copytree(quick_demo.out, out)
    root = tmp_path / "device-root"
    pipeline = tmp_path / "with_device.toml"
    pipeline.write_text(QUICK.read_text() + f"""
[deploy]
target = "{device.target}"
identity = "{device.user_key}"
known_hosts = "{tmp_path / 'known_hosts'}"
accept_new_host_key = true
root = "{root}"
python = "{sys.executable}"  # the "device" runs the bundle's runner with this venv's onnxruntime
iterations = 20
warmup = 2
""")
    r = sim2real("run", str(pipeline), "--out", str(out), "--progress", "json")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr
    payload = next(json.loads(line) for line in r.stdout.splitlines()
                   if line.startswith('{"event": "result"') and '"stages"' in line)["payload"]
    assert {k for k, v in payload["stages"].items() if v != "skipped"} == {"deploy", "report"}

    rec = json.loads((out / "deploy" / "stage.json").read_text())
    assert rec["status"] == "done" and rec["inputs_hash"] == content_hash(rec["inputs"])
    dep = rec["outputs"]
    assert (root / "current").resolve().name == dep["release"] == dep["id"]  # installed and switched on the device
    assert (tmp_path / "known_hosts").read_text().strip()  # first contact recorded
    quantized = json.loads((out / "quantize" / "stage.json").read_text())["outputs"]["models"]
    bench = {row["precision"]: row for row in dep["bench"]}
    assert set(bench) == {"fp32", "int8"}
    for precision, row in bench.items():
        assert row["p50_ms"] > 0 and row["fps"] > 0 and "onnxruntime" in row["engine"]
        # the device runs the same model on the same evaluation images: the host's score, exactly
        assert row["score"] == pytest.approx(quantized[precision]["score"], abs=1e-9), precision
    html = (out / "report" / "report.html").read_text()
    assert '<section id="deploy">' in html and device.target.split("@")[1] in html
    assert json.loads((out / "run.json").read_text())["parents"]["deploy"] == dep["id"]
