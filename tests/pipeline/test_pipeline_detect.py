"""``task = "detect"`` in a pipeline: rendered tabletop frames -> a detector per method adapted to the
surrogate target camera -> export + INT8 scored by COCOeval -> a report with the AP table and true vs
predicted boxes on labelled target images."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DETECT = """
version = 1
name = "detect_quick"

[generate]
profile = "tabletop_plain"
frames = 32
resolution = [64, 48]
seed = 0

[target]
source = "surrogate"
profile = "tabletop_target"
frames = 8
eval_frames = 8
seed = 1

[train]
methods = ["source-only", "dann"]
task = "detect"
class_map = { "*" = "object" }
resolution = [64, 48]
batch_size = 8
epochs = 2
validators = ["source"]
validator_images = 8
model = { widths = [8, 16, 32] }

[export]
eval_images = 8

[quantize]
int8 = true
calibration_images = 8
latency_runs = 5
"""


def test_a_detect_pipeline_reports_ap_and_boxes(tmp_path: Path) -> None:
    """Renders 48 small frames and trains two detectors for 2 epochs (300 s at load 12 with 76 frames,
    so about 30 s on 2 idle cores: over the budget as the one whole detect pipeline of the suite)."""
    from sim2real import api

    (tmp_path / "detect.toml").write_text(DETECT)
    result = api.run_pipeline(tmp_path / "detect.toml", tmp_path / "run")
    html = result.report.read_text()
    assert "COCOeval on the labelled target set" in html and "AP50 object" in html
    assert "True vs predicted boxes" in html and "true boxes (" in html and "dann (" in html and "source-only (" in html
    metrics = json.loads((tmp_path / "run" / result.outputs["train-dann"]["run"] / "metrics.json").read_text())
    assert metrics["task"] == "detect" and metrics["history"][-1]["target"]["images"] == 8
    quantized = result.outputs["quantize"]
    assert quantized["metric"] == "ap" and set(quantized["models"]) == {"fp32", "int8"}
    assert quantized["models"]["fp32"]["score"] == pytest.approx(quantized["torch"], abs=1e-3)
