"""Readers on damaged inputs: a corrupt, truncated, emptied, missing or resized image in a dataset or
an image folder, and a ROS 2 bag whose metadata.yaml is broken, give one line naming the file and
what is wrong (exit 2), never a traceback. An unlabelled image-folder target skips what it cannot
read with one warning that counts it. Datasets and bags are real ones (our writer, rosbags)."""

from __future__ import annotations

import io
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent / "train"))  # train_helpers: tiny datasets
sys.path.insert(0, str(Path(__file__).resolve().parent / "gap"))  # gap_helpers: real rosbag2 bags

from dataset_helpers import make_frame  # noqa: E402
from gap_helpers import pose_msg, typestore, write_bag  # noqa: E402
from train_helpers import TINY, make_dataset, write_pngs  # noqa: E402

from sim2real.dataset.reader import Dataset  # noqa: E402
from sim2real.errors import InputError  # noqa: E402

KINDS = ("corrupt", "truncated", "empty", "missing", "resized")
# what the one line says about each kind of damage
SAYS = {"corrupt": "not a readable image", "truncated": "the record says", "empty": "empty file",
        "missing": "missing (no such file)", "resized": "decodes to an array of shape"}
FOLDER_SAYS = {"corrupt": "not a readable image", "truncated": "damaged image data", "empty": "empty file"}


def damage(path: Path, kind: str) -> None:
    data = path.read_bytes()
    if kind == "corrupt":  # every byte after the signature flipped: the header no longer parses
        path.write_bytes(data[:8] + bytes(b ^ 0x5A for b in data[8:]))
    elif kind == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "missing":
        path.unlink()
    elif kind == "resized":  # a valid PNG of another size, padded to the recorded byte count
        small = io.BytesIO()
        Image.fromarray(np.zeros((5, 7, 3), np.uint8)).save(small, format="PNG")
        path.write_bytes(small.getvalue().ljust(len(data), b"\0"))
    else:
        raise AssertionError(kind)


def one_error_line(proc, *needles: str) -> str:
    """The single ``error:`` line of a failed command (exit 2, no traceback), checked for ``needles``."""
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("clean")
    (root / "tiny.toml").write_text(TINY)
    return {"ds": make_dataset(root / "ds", 8), "real": make_dataset(root / "real", 8, seed=1, real=True),
            "folder": write_pngs(root / "folder", [make_frame(i, 3).rgb for i in range(6)]),
            "config": root / "tiny.toml"}


def damaged_copy(src: Path, dst: Path, member: str, kind: str) -> tuple[Path, Path]:
    shutil.copytree(src, dst)
    damage(dst / member, kind)
    return dst, dst / member


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("channel", ["rgb", "semantic", "instance", "depth"])
def test_dataset_reader_names_the_damaged_file(clean, tmp_path: Path, kind: str, channel: str) -> None:
    ds_dir, bad = damaged_copy(clean["ds"], tmp_path / "ds", f"shards/00000/000003.{channel}.png", kind)
    ds = Dataset(ds_dir)
    with pytest.raises(InputError) as err:
        ds.get(3)
    message = str(err.value)
    assert message.startswith(f"{bad}: ") and SAYS[kind] in message and "\n" not in message
    assert "sim2real dataset verify" in message
    assert ds.get(2).rgb.shape == (48, 64, 3)  # the other frames still read


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "missing"])
def test_train_on_a_damaged_source_dataset_is_one_line(clean, tmp_path: Path, run_cli, kind: str) -> None:
    ds_dir, bad = damaged_copy(clean["ds"], tmp_path / "ds", "shards/00000/000005.rgb.png", kind)
    proc = run_cli("train", "--data", str(ds_dir), "--target", str(clean["real"]), "--out", str(tmp_path / "run"),
                   "-c", str(clean["config"]), "-e", "1", "--progress", "none")
    one_error_line(proc, str(bad), SAYS[kind])


@pytest.mark.parametrize("kind", KINDS)
def test_export_coco_checks_the_masks_it_reads_and_the_images_it_names(clean, tmp_path: Path, run_cli,
                                                                       kind: str) -> None:
    member = "shards/00000/000004.instance.png" if kind in ("corrupt", "resized") else "shards/00000/000004.rgb.png"
    ds_dir, bad = damaged_copy(clean["ds"], tmp_path / "ds", member, kind)
    proc = run_cli("dataset", "export-coco", str(ds_dir), "--progress", "none")
    one_error_line(proc, str(bad), SAYS[kind])
    assert not (ds_dir / "coco" / "instances.json").exists()


def test_export_coco_of_a_dataset_without_instance_ids_is_one_line(clean, tmp_path: Path, run_cli) -> None:
    ds_dir = Path(shutil.copytree(clean["ds"], tmp_path / "ds"))
    rec_path = ds_dir / "shards/00000/000000.json"
    record = json.loads(rec_path.read_text())
    del record["files"]["instance"]
    rec_path.write_text(json.dumps(record))
    one_error_line(run_cli("dataset", "export-coco", str(ds_dir), "--progress", "none"),
                   "frame 0 has no instance segmentation")


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty"])
def test_gap_images_on_a_damaged_folder_or_dataset_is_one_line(clean, tmp_path: Path, run_cli, kind: str) -> None:
    folder, bad = damaged_copy(clean["folder"], tmp_path / "folder", "0002.png", kind)
    proc = run_cli("gap", "images", str(clean["ds"]), str(folder), "--out", str(tmp_path / "g1"), "--progress", "none")
    one_error_line(proc, str(bad), FOLDER_SAYS[kind])
    real, bad = damaged_copy(clean["real"], tmp_path / "real", "shards/00000/000001.rgb.png", kind)
    proc = run_cli("gap", "images", str(clean["ds"]), str(real), "--out", str(tmp_path / "g2"), "--progress", "none")
    one_error_line(proc, str(bad))


def test_a_folder_target_skips_unreadable_images_for_training_and_calibration(clean, tmp_path: Path,
                                                                               run_cli) -> None:
    """Train with a camera folder holding an emptied and a truncated file: both are left out with one
    counted warning; INT8 calibration on the same target does the same; a damaged image in the
    (labelled, checksummed) source dataset then stops the export with one line."""
    folder, _ = damaged_copy(clean["folder"], tmp_path / "target", "0001.png", "empty")
    damage(folder / "0004.png", "truncated")
    src = Path(shutil.copytree(clean["ds"], tmp_path / "src"))
    run = tmp_path / "run"
    proc = run_cli("train", "--data", str(src), "--target", str(folder), "--out", str(run), "-c", str(clean["config"]),
                   "-e", "1", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    warning = " ".join(proc.stderr.split())
    assert warning.count("skipped 2 unreadable image(s) of 6") == 1 and "0001.png: empty file" in warning
    record = json.loads((run / "run.json").read_text())
    assert record["target"]["count"] == 4  # what was used, not what was listed
    onnx = tmp_path / "m.onnx"
    proc = run_cli("export", str(run), "--onnx", str(onnx), "--precision", "fp32,int8", "--eval-count", "4",
                   "--calib-count", "8", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    assert "skipped 2 unreadable image(s)" in " ".join(proc.stderr.split()) and (tmp_path / "m.int8.onnx").exists()
    damage(src / "shards/00000/000006.rgb.png", "corrupt")
    proc = run_cli("export", str(run), "--onnx", str(tmp_path / "n.onnx"), "--precision", "fp32,int8",
                   "--eval-count", "4", "--calib-count", "8", "--progress", "none")
    one_error_line(proc, str(src / "shards/00000/000006.rgb.png"), "not a readable image")


def test_a_folder_target_with_nothing_readable_is_one_line(clean, tmp_path: Path) -> None:
    from sim2real.train.sources import read_image_set

    folder = write_pngs(tmp_path / "t", [make_frame(i).rgb for i in range(2)])
    for p in folder.iterdir():
        damage(p, "corrupt")
    with pytest.raises(InputError, match=r"none of its 2 images is readable \(first: .*0000.png: not a readable"):
        read_image_set(folder, (32, 24), skip_unreadable=True)
    with pytest.raises(InputError, match="0000.png: not a readable image"):  # labelled/strict callers fail
        read_image_set(folder, (32, 24))


@pytest.mark.parametrize("what", ["mask", "depth"])
def test_a_damaged_mask_or_depth_png_of_a_labelled_folder_is_one_line(tmp_path: Path, what: str) -> None:
    from sim2real.train.sources import Classes, read_mask_folder

    root = tmp_path / "eval"
    frames = [make_frame(i) for i in range(2)]
    write_pngs(root / "images", [f.rgb for f in frames])
    write_pngs(root / "masks", [f.semantic.astype(np.uint8) for f in frames])
    write_pngs(root / "depth", [(f.depth * 1000).astype(np.uint16) for f in frames])
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "cube", "2": "sphere", "3": "mug"}))
    bad = root / ("masks" if what == "mask" else "depth") / "0001.png"
    damage(bad, "truncated")
    classes = Classes(("background", "cube", "sphere", "mug"))
    with pytest.raises(InputError) as err:
        read_mask_folder(root, (32, 24), what == "depth", classes)
    assert str(err.value).startswith(f"{bad}: damaged image data")


def _bag(path: Path) -> Path:
    ts = typestore()
    return write_bag(path, {"/pose": [(i * 10**8, pose_msg(ts, i * 10**8, [i, 0, 0], [1, 0, 0, 0])) for i in range(4)]})


@pytest.mark.parametrize(("edit", "says"), [
    (lambda t: t.replace("  files:", "files:\n\t- x", 1), "metadata.yaml line 8, column 1: found character"),
    (lambda t: t.replace("  duration:", "  duration: [", 1), "metadata.yaml line"),
    (lambda t: t[:150], "not a readable ROS bag"),
    (lambda t: "", "not a readable ROS bag"),
], ids=["tab", "unclosed-list", "cut", "empty"])
def test_a_bag_with_broken_metadata_yaml_is_one_line(tmp_path: Path, run_cli, edit, says: str) -> None:
    good, broken = _bag(tmp_path / "good"), _bag(tmp_path / "broken")
    meta = broken / "metadata.yaml"
    meta.write_text(edit(meta.read_text()))
    proc = run_cli("gap", "trajectories", str(broken), str(good), "--progress", "none", cwd=tmp_path)
    one_error_line(proc, f"{broken}: not a readable ROS bag", says)


def _image_bytes(fmt: str) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(7).integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(buf, format=fmt)
    return buf.getvalue()


IMAGES = {fmt: _image_bytes(fmt) for fmt in ("PNG", "JPEG", "BMP", "GIF", "TIFF")}


@st.composite
def damaged_image(draw: st.DrawFn) -> bytes:
    """An image file with a random cut, random bit flips and random bytes spliced in."""
    data = bytearray(IMAGES[draw(st.sampled_from(sorted(IMAGES)))])
    for _ in range(draw(st.integers(0, 4))):
        data[draw(st.integers(0, len(data) - 1))] ^= 1 << draw(st.integers(0, 7))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.binary(max_size=16))
    return bytes(data[: draw(st.integers(0, len(data)))])


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_image())
def test_any_damaged_image_decodes_or_is_one_input_error(data: bytes) -> None:
    from sim2real.imagefile import load_image

    try:
        image = load_image(data, "cam.png", mode="RGB")
    except InputError as exc:
        assert str(exc).startswith("cam.png: ") and "\n" not in str(exc) and "0x" not in str(exc)
    else:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
