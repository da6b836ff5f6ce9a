"""``sim2real scene``: entity names and a rendered frame from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from testlib import REPO
from PIL import Image


def test_scene_info_lists_entities_and_targets(run_cli) -> None:
    proc = run_cli("scene", "info", "arm2", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["entities"]["joint"] == ["shoulder", "elbow"]
    assert "light/intensity" in info["targets"] and "geom/static_friction" not in info["targets"]


@pytest.mark.render
def test_scene_render_writes_the_image_and_labels(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "frame.png"
    proc = run_cli("scene", "render", "tabletop", "--profile", str(REPO / "config/profiles/tabletop.toml"),
                   "--seed", "2", "--steps", "20", "--resolution", "96x72", "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    image = np.asarray(Image.open(out))
    assert image.shape == (72, 96, 3) and image.std() > 5
    assert result["camera"] == "main" and result["objects"]
    assert "scene:scene/object_count" in result["sample"]


def test_scene_render_bad_input_is_one_line(run_cli) -> None:
    proc = run_cli("scene", "render", "tabletop", "--resolution", "big")
    assert proc.returncode == 2 and "--resolution: expected WIDTHxHEIGHT" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("scene", "info", "no_such_scene")
    assert proc.returncode == 2 and "no_such_scene" in proc.stderr
