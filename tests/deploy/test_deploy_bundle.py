"""The bundle: deterministic archive, manifest with sha256 of every file, checks before upload
and on the device (no path traversal), releases with an atomic switch, the standalone runner
executed for real (onnxruntime, sim2real unimportable), the OpenCV runner, the ROS 2 node's logic."""

from __future__ import annotations

import ast
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest

from sim2real.deploy.bundle import inspect_archive, make_bundle
from sim2real.deploy.edge import bundle as layout
from sim2real.deploy.edge import archive as edge_archive
from sim2real.deploy.edge import release
from sim2real.deploy.edge.predict import LatencyWindow, Predictor
from sim2real.deploy.edge.ros_node import image_to_rgb
from sim2real.deploy.prepare import ExportRequest
from sim2real.errors import InputError, IntegrityError

EDGE = Path(__file__).resolve().parents[2] / "exts" / "sim2real" / "sim2real" / "deploy" / "edge"
BLOCK_SIM2REAL = """
import importlib.abc, runpy, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "sim2real" or name.startswith("sim2real.") or name == "torch" or name.startswith("torch."):
            raise ImportError("the device has no " + name)
sys.meta_path.insert(0, Block())
sys.argv = ["s2r_edge"] + sys.argv[1:]
runpy.run_module("s2r_edge", run_name="__main__")
"""


def unpack(archive: Path, dest: Path) -> Path:
    edge_archive.extract(str(archive), str(dest))
    return dest


def edge_cli(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m s2r_edge ARGS`` from the bundle's own runner, with sim2real and torch unimportable."""
    env = {**os.environ, "PYTHONPATH": str(bundle / "runner"), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run([sys.executable, "-c", BLOCK_SIM2REAL, *args], capture_output=True, text=True, env=env,
                          cwd=bundle, timeout=300)


def test_bundle_is_deterministic_and_lists_every_file(bundle_a: Path, tiny_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.tar"
    make_bundle(ExportRequest(tiny_run, ("fp32", "int8"), eval_count=6, calib_count=16, iterations=5), again)
    assert again.read_bytes() == bundle_a.read_bytes()
    manifest = inspect_archive(bundle_a)
    with tarfile.open(bundle_a) as tar:
        names = sorted(m.name for m in tar)
        assert all(m.mtime == 0 and m.uid == 0 and m.isfile() for m in tar)
    assert names == sorted([*manifest["files"], "manifest.json"])
    assert {"models/model.fp32.onnx", "models/model.int8.onnx", "preprocess.json", "labels.json", "eval/eval.npz",
            "calib/calib.npz", "runner/s2r_edge/__main__.py", "runner/s2r_edge/ros_node.py", "README.md"} <= set(names)
    assert manifest["format"] == "sim2real-bundle" and manifest["version"] == layout.VERSION
    assert manifest["id"].startswith("bundle-") and manifest["task"] == "segment"
    run = json.loads((tiny_run / "run.json").read_text())
    assert manifest["parents"]["run"] == run["id"] and manifest["parents"]["source"] == run["parents"]["source"]
    assert manifest["eval"]["count"] == 6 and manifest["eval"]["role"] == "eval"
    assert manifest["calibration"]["parts"]["target"] > 0 and set(manifest["host"]) == {"torch", "fp32", "int8"}


def test_unpacked_bundle_verifies_and_tampering_is_caught(bundle_a: Path, tmp_path: Path) -> None:
    root = unpack(bundle_a, tmp_path / "b")
    assert "models/model.fp32.onnx" in layout.verify(str(root))
    (root / "labels.json").write_text('{"0": "evil"}')
    with pytest.raises(layout.BundleError, match="labels.json does not match its sha256"):
        layout.verify(str(root))
    root2 = unpack(bundle_a, tmp_path / "c")
    (root2 / "runner" / "s2r_edge" / "extra.py").write_text("import os")
    with pytest.raises(layout.BundleError, match="extra.py is not listed"):
        layout.verify(str(root2))


def _evil(path: Path, name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> Path:
    with tarfile.open(path, "w") as tar:
        data = b'{"format": "sim2real-bundle", "files": {}}'
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(name)
        info.type = kind
        info.linkname = linkname
        info.size = 0 if kind != tarfile.REGTYPE else 4
        tar.addfile(info, io.BytesIO(b"evil") if kind == tarfile.REGTYPE else None)
    return path


@pytest.mark.parametrize("name, kind, link, why", [
    ("../escape.txt", tarfile.REGTYPE, "", "'..'"),
    ("models/../../escape.txt", tarfile.REGTYPE, "", "'..'"),
    ("/etc/evil", tarfile.REGTYPE, "", "absolute"),
    ("link", tarfile.SYMTYPE, "../../outside", "symlink"),
    ("link", tarfile.SYMTYPE, "/etc/passwd", "symlink"),
    ("hard", tarfile.LNKTYPE, "../outside", "hard link"),
    ("dev", tarfile.CHRTYPE, "", "device"),
    ("fifo", tarfile.FIFOTYPE, "", "device, FIFO"),
])
def test_traversal_and_special_members_are_refused(tmp_path: Path, name: str, kind: bytes, link: str, why: str) -> None:
    evil = _evil(tmp_path / "evil.tar", name, kind, link)
    with pytest.raises(InputError, match="refused"):
        inspect_archive(evil)  # on the host, before upload
    with pytest.raises(release.UnsafeArchive, match=why):
        edge_archive.extract(str(evil), str(tmp_path / "dest"))  # on the device
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path.parent / "escape.txt").exists()


def test_inspect_archive_checks_checksums(bundle_b: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.tar"
    with tarfile.open(bundle_b) as src, tarfile.open(bad, "w") as dst:
        for m in src:
            data = src.extractfile(m).read()
            if m.name == "labels.json":
                data = data.replace(b"mug", b"bug")
            dst.addfile(m, io.BytesIO(data))
    with pytest.raises(IntegrityError, match="labels.json does not match its sha256"):
        inspect_archive(bad)
    with pytest.raises(InputError, match="no such bundle"):
        inspect_archive(tmp_path / "none.tar")


def test_releases_switch_roll_back_and_prune(bundle_a: Path, bundle_b: Path, tmp_path: Path) -> None:
    root = tmp_path / "device"
    ids = []
    for archive in (bundle_a, bundle_b, bundle_a):
        part = root / "incoming" / "x.tar.part"
        part.parent.mkdir(parents=True, exist_ok=True)
        part.write_bytes(archive.read_bytes())
        out = release.activate(str(root), str(part), layout.sha256_file(str(archive)), keep=3)
        ids.append(out["release"])
        assert not part.exists() and os.readlink(root / "current") == f"releases/{out['release']}"
    a, b = ids[0], ids[1]
    assert ids[2] == a and a != b
    assert release.rollback(str(root)) == {"release": b, "previous": a}
    assert release.current_release(str(root)) == b
    assert release.rollback(str(root), to=a)["release"] == a
    with pytest.raises(release.DeployError, match="no release 'nope'"):
        release.rollback(str(root), to="nope")
    st = release.status(str(root))
    assert st["current"] == a and [r["release"] for r in st["releases"]] == [a, b]
    assert st["device"]["jetson"] is False and [h["action"] for h in st["history"]][-2:] == ["rollback", "rollback"]
    assert release.prune(str(root), keep=1) == [b] and not (root / "releases" / b).exists()
    part = root / "incoming" / "bad.tar.part"
    part.write_bytes(bundle_b.read_bytes()[:-10])
    with pytest.raises(release.DeployError, match="does not match the bundle"):
        release.activate(str(root), str(part), layout.sha256_file(str(bundle_b)))
    assert not part.exists() and release.current_release(str(root)) == a  # the old release still serves


def test_runner_runs_without_sim2real(bundle_a: Path, tmp_path: Path) -> None:
    root = unpack(bundle_a, tmp_path / "b")
    r = edge_cli(root, "bench", "--bundle", str(root), "--warmup", "2", "--iterations", "5")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["bundle"] == inspect_archive(bundle_a)["id"] and out["device"]["jetson"] is False
    rows = {row["precision"]: row for row in out["results"]}
    assert set(rows) == {"fp32", "int8"} and rows["fp32"]["engine"]["backend"] == "onnxruntime"
    manifest = json.loads((root / "manifest.json").read_text())
    for p, row in rows.items():
        assert row["latency"]["iterations"] == 5 and row["latency"]["p50_ms"] <= row["latency"]["p99_ms"]
        assert row["accuracy"]["miou"] == pytest.approx(manifest["host"][p]["miou"], abs=1e-9)  # the host's answer
    assert rows["fp32"]["accuracy"]["agreement"] == 1.0 and rows["fp32"]["change_vs_host"] == pytest.approx(0, abs=1e-9)
    assert edge_cli(root, "verify").returncode == 0
    r = edge_cli(root, "bench", "--bundle", str(root), "--precision", "fp16")
    assert r.returncode == 2 and "no fp16 model in this bundle" in r.stderr


def test_opencv_runner_on_a_folder_and_a_video(bundle_b: Path, tmp_path: Path) -> None:
    import cv2

    root = unpack(bundle_b, tmp_path / "b")
    frames = tmp_path / "frames"
    frames.mkdir()
    rng = np.random.default_rng(0)
    imgs = [rng.integers(0, 256, (48, 80, 3), dtype=np.uint8) for _ in range(3)]  # another size: crop + resize
    for i, img in enumerate(imgs):
        cv2.imwrite(str(frames / f"{i}.png"), img)
    r = edge_cli(root, "run", "--bundle", str(root), "--source", str(frames), "--out", str(tmp_path / "pred"),
                 "--every", "2")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    preds = [x for x in lines if "frame" in x]
    assert [p["source"] for p in preds] == ["0.png", "1.png", "2.png"]
    assert sum(preds[0]["fractions"].values()) == pytest.approx(1.0, abs=1e-4)
    assert any("latency" in x for x in lines) and lines[-1]["summary"]["frames"] == 3
    mask = cv2.imread(str(tmp_path / "pred" / "0.png"), cv2.IMREAD_UNCHANGED)
    assert mask.shape == (24, 32) and mask.max() < 4
    predictor = Predictor(str(root))
    direct = predictor(cv2.cvtColor(cv2.imread(str(frames / "0.png")), cv2.COLOR_BGR2RGB))
    np.testing.assert_array_equal(direct.mask, mask)  # the runner wrote what the predictor says
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (80, 48))
    for img in imgs + imgs:
        writer.write(img)
    writer.release()
    r = edge_cli(root, "run", "--bundle", str(root), "--source", str(video), "--max-frames", "4")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.splitlines()[-1])["summary"]["frames"] == 4


def test_ros_node_logic_without_ros() -> None:
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    np.testing.assert_array_equal(image_to_rgb("rgb8", 2, 3, 9, rgb.tobytes()), rgb)
    np.testing.assert_array_equal(image_to_rgb("bgr8", 2, 3, 9, rgb[..., ::-1].tobytes()), rgb)
    padded = np.zeros((2, 12), np.uint8)
    padded[:, :9] = rgb.reshape(2, 9)
    np.testing.assert_array_equal(image_to_rgb("rgb8", 2, 3, 12, padded.tobytes()), rgb)  # row padding
    rgba = np.concatenate([rgb, np.full((2, 3, 1), 255, np.uint8)], axis=2)
    np.testing.assert_array_equal(image_to_rgb("bgra8", 2, 3, 12, rgba[..., [2, 1, 0, 3]].tobytes()), rgb)
    mono = image_to_rgb("mono8", 2, 3, 3, bytes(range(6)))
    assert mono.shape == (2, 3, 3) and (mono[..., 0] == mono[..., 2]).all()
    with pytest.raises(ValueError, match="not supported"):
        image_to_rgb("yuv422", 2, 3, 6, bytes(12))
    with pytest.raises(ValueError, match="needs 9 bytes per row"):
        image_to_rgb("rgb8", 2, 3, 9, bytes(10))
    w = LatencyWindow(3)
    for ms in (10, 20, 30, 40):
        w.add(ms)
    s = w.summary()
    assert s["frames"] == 4 and s["window"] == 3 and s["mean_ms"] == 30 and s["fps"] == pytest.approx(1000 / 30)


def test_edge_package_is_standalone_and_python38() -> None:
    """Only stdlib + numpy at module level, nothing from sim2real, Python 3.8 syntax."""
    stdlib = set(sys.stdlib_module_names)
    for path in sorted(EDGE.glob("*.py")):
        tree = ast.parse(path.read_text(), feature_version=(3, 8))
        assert "from __future__ import annotations" in path.read_text(), path.name
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level <= 1 and not (node.module or "").startswith("sim2real"), (path.name, node.module)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("sim2real") for a in node.names), path.name
        for node in tree.body:  # module-level imports only
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                assert name.split(".")[0] in stdlib | {"numpy", "__future__"}, (path.name, name)
