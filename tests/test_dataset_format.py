"""The native dataset format and the BasicWriter layout: round trips through the reader, PNG
encoding, determinism, resume bookkeeping, locks and spec checks (Frames built from numpy arrays)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from dataset_helpers import make_frame
from PIL import Image

from sim2real.dataset import basic
from sim2real.dataset.encode import Outputs
from sim2real.dataset.layouts import get_layout
from sim2real.dataset.manifest import DatasetSpec, load_manifest
from sim2real.dataset.png import decode_png, encode_png
from sim2real.dataset.reader import Dataset
from sim2real.dataset.store import dataset_files, shard_dir, write_frame
from sim2real.dataset.writer import DatasetWriter
from sim2real.errors import InputError, IntegrityError, LockedError

VERSIONS = {"sim2real": "test", "numpy": np.__version__}


def spec(seed: int = 0, **outputs: object) -> DatasetSpec:
    return DatasetSpec(
        profile={"name": "unit", "hash": "0123456789abcdef", "config": {"terms": []}},
        scene={"name": "synthetic", "sha256": "0" * 64},
        backend="numpy-frames",
        camera="main",
        resolution=(64, 48),
        seed=seed,
        outputs=Outputs(**outputs),  # type: ignore[arg-type]
    )


def generate(out: Path, frames: int, *, order: list[int] | None = None, threads: int = 2, per_shard: int = 4,
             seed: int = 0, **outputs: object) -> Dataset:
    with DatasetWriter(out, spec(seed, **outputs), frames, VERSIONS, threads=threads,
                       frames_per_shard=per_shard) as writer:
        for i in order if order is not None else writer.missing():
            writer.write(i, make_frame(i, seed))
    return Dataset(out)


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in dataset_files(root)}


# ----------------------------------------------------------------------------------------- PNG
@pytest.mark.parametrize(
    "array",
    [
        np.arange(48 * 64, dtype=np.uint32).reshape(48, 64).astype(np.uint8),
        np.random.default_rng(1).integers(0, 256, (31, 17, 3), dtype=np.uint8),
        np.random.default_rng(2).integers(0, 256, (5, 9, 4), dtype=np.uint8),
        np.random.default_rng(3).integers(0, 65536, (23, 41), dtype=np.uint16),
    ],
    ids=["grey8", "rgb8", "rgba8", "grey16"],
)
def test_png_round_trips_through_pillow_and_is_deterministic(array: np.ndarray) -> None:
    data = encode_png(array)
    assert data == encode_png(array.copy())
    assert np.array_equal(decode_png(data), array)
    with Image.open(__import__("io").BytesIO(data)) as im:  # a standard PNG: Pillow verifies the CRCs
        im.verify()


def test_png_rejects_what_it_cannot_store() -> None:
    with pytest.raises(TypeError):
        encode_png(np.zeros((4, 4), dtype=np.float32))
    with pytest.raises(ValueError):
        encode_png(np.zeros((4, 4, 2), dtype=np.uint8))


# -------------------------------------------------------------------------------- round trips
def assert_same_frame(got, want, depth_atol: float) -> None:
    assert np.array_equal(got.rgb, want.rgb)
    assert np.array_equal(got.instance, want.instance)
    assert np.array_equal(got.semantic, want.semantic)
    assert np.allclose(got.depth, want.depth, atol=depth_atol, rtol=0)
    assert np.array_equal(got.depth == 0, want.depth == 0)  # "no measurement" survives exactly
    assert got.labels == want.labels
    assert np.array_equal(got.K, want.K) and np.array_equal(got.cam_to_world, want.cam_to_world)
    assert got.sample == want.sample and got.index == want.index and got.camera == want.camera
    assert len(got.instances) == len(want.instances)
    for a, b in zip(got.instances, want.instances):
        assert (a.id, a.name, a.class_id, a.class_name, a.box, a.visible_pixels) == (
            b.id, b.name, b.class_id, b.class_name, b.box, b.visible_pixels)
        assert a.visible_fraction == b.visible_fraction
        assert np.array_equal(a.pose_world.position, b.pose_world.position)
        assert np.array_equal(a.pose_camera.quat_wxyz, b.pose_camera.quat_wxyz)


def test_native_round_trip_and_random_access(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 10)
    assert len(ds) == 10 and ds.manifest.complete
    assert [f.index for f in ds] == list(range(10))
    for i in (0, 5, 9):
        assert_same_frame(ds[i], make_frame(i), depth_atol=0.0005)  # 16-bit millimetre PNG
    assert ds[-1].index == 9 and [f.index for f in ds[2:4]] == [2, 3]
    with pytest.raises(IndexError):
        ds[10]
    assert ds.labels[0] == "background" and set(ds.labels.values()) <= {"background", "cube", "sphere", "mug"}
    assert ds.get(3, channels=("semantic",)).depth is None
    files = ds.record(3)["files"]
    assert set(files) == {"rgb", "depth", "instance", "semantic"}
    assert (ds.folder(3) / files["depth"]["name"]).name == "000003.depth.png"


def test_float_depth_is_exact_with_npy(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 3, depth_npy=True)
    assert_same_frame(ds[1], make_frame(1), depth_atol=0.0)
    assert ds[1].depth.dtype == np.float32


def test_depth_png_holds_millimetres(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 1)
    record = ds.record(0)
    raw = decode_png((ds.folder(0) / record["files"]["depth"]["name"]).read_bytes())
    want = make_frame(0).depth
    assert raw.dtype == np.uint16
    assert np.array_equal(raw, np.rint(want * 1000).astype(np.uint16))


def test_basic_layout_round_trip(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 6, layout="basic")
    for i in range(6):
        assert_same_frame(ds[i], make_frame(i), depth_atol=0.0)


def test_basic_layout_is_what_basicwriter_tools_read(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 4, layout="basic")
    folder = ds.folder(1)
    frame = make_frame(1)
    names = sorted(p.name for p in folder.iterdir())
    for expected in ("rgb_0001.png", "distance_to_image_plane_0001.npy", "semantic_segmentation_0001.png",
                     "semantic_segmentation_labels_0001.json", "bounding_box_2d_tight_0001.npy",
                     "bounding_box_2d_tight_labels_0001.json", "bounding_box_2d_tight_prim_paths_0001.json",
                     "camera_params_0001.json", "instance_id_segmentation_0001.png"):
        assert expected in names
    rgba = np.asarray(Image.open(folder / "rgb_0001.png"))
    assert rgba.shape == (48, 64, 4) and np.all(rgba[..., 3] == 255)
    depth = np.load(folder / "distance_to_image_plane_0001.npy")
    assert depth.dtype == np.float32 and np.all(np.isinf(depth[frame.depth == 0]))
    # bounding boxes: Replicator's structured dtype, inclusive x_max/y_max
    boxes = np.load(folder / "bounding_box_2d_tight_0001.npy")
    assert boxes.dtype == np.dtype([("semanticId", "<u4"), ("x_min", "<i4"), ("y_min", "<i4"), ("x_max", "<i4"),
                                    ("y_max", "<i4"), ("occlusionRatio", "<f4")])
    visible = [inst for inst in frame.instances if inst.box is not None]
    assert len(boxes) == len(visible)
    labels = json.loads((folder / "bounding_box_2d_tight_labels_0001.json").read_text())
    paths = json.loads((folder / "bounding_box_2d_tight_prim_paths_0001.json").read_text())
    for row, inst, path in zip(boxes, visible, paths):
        mask = frame.instance == inst.id
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        assert (row["x_min"], row["y_min"], row["x_max"], row["y_max"]) == (cols[0], rows[0], cols[-1], rows[-1])
        assert basic.half_open_box(row) == inst.box
        assert labels[str(row["semanticId"])] == {"class": inst.class_name}
        assert path == f"/World/{inst.name}"
        assert row["occlusionRatio"] == pytest.approx(1 - inst.visible_fraction)
    # colourised semantic segmentation + its labels JSON give back every pixel's class name
    seg = np.asarray(Image.open(folder / "semantic_segmentation_0001.png"))
    seg_labels = json.loads((folder / "semantic_segmentation_labels_0001.json").read_text())
    assert seg_labels["(0, 0, 0, 0)"] == {"class": "BACKGROUND"}
    for key, value in seg_labels.items():
        colour = tuple(int(c) for c in key.strip("()").split(", "))
        pixels = np.all(seg == colour, axis=-1)
        cls = value["class"]
        want = frame.semantic == (0 if cls == "BACKGROUND" else next(k for k, v in frame.labels.items() if v == cls))
        assert np.array_equal(pixels, want)


def test_basic_camera_params_project_like_K(tmp_path: Path) -> None:
    """A point projected the way Replicator tools do (row-vector view @ projection, NDC -> screen)
    lands where K puts it, half a pixel over (pixel centres at .5 in Replicator's screen space)."""
    ds = generate(tmp_path / "ds", 1, layout="basic")
    frame = make_frame(0)
    params = json.loads((ds.folder(0) / "camera_params_0000.json").read_text())
    assert params["renderProductResolution"] == [64, 48] and params["cameraModel"] == "pinhole"
    assert params["cameraNearFar"] == [0.05, 10.0]
    rng = np.random.default_rng(0)
    for _ in range(5):
        p_cam = np.array([rng.uniform(-0.5, 0.5), rng.uniform(-0.4, 0.4), rng.uniform(1, 5)])
        p_world = (frame.cam_to_world @ np.append(p_cam, 1.0))[:3]
        u, v = basic.project_with_camera_params(params, p_world)
        uv = frame.K @ p_cam
        assert (u, v) == pytest.approx((uv[0] / uv[2] + 0.5, uv[1] / uv[2] + 0.5), abs=1e-9)


def test_palette_is_a_bijection_and_inverts() -> None:
    ids = np.arange(0, 70000)
    colours = basic.palette(ids)
    keys = {tuple(c) for c in colours}
    assert len(keys) == len(ids) and tuple(colours[0]) == (0, 0, 0, 0)
    img = np.random.default_rng(0).integers(0, 300, (20, 30))
    assert np.array_equal(basic.uncolorize(basic.colorize(img), list(range(300))), img)


# ------------------------------------------------------------------------ determinism, resume
def test_bytes_do_not_depend_on_order_or_threads(tmp_path: Path) -> None:
    generate(tmp_path / "a", 10, threads=1)
    order = list(np.random.default_rng(5).permutation(10))
    generate(tmp_path / "b", 10, threads=4, order=[int(i) for i in order])
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a.keys() == b.keys() and a == b
    assert len(a) == 2 + 3 + 10 * 5  # manifest, run.json, 3 shard indexes, 5 files per frame


def test_resume_writes_only_missing_frames_and_extends(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 6, order=[0, 1, 4])
    with DatasetWriter(out, spec(), 6, VERSIONS, frames_per_shard=4) as writer:
        assert writer.missing() == [2, 3, 5]
    generate(out, 6)
    generate(tmp_path / "ref", 9)
    generate(out, 9)  # extending an existing dataset is allowed (append-only)
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")


def test_recovery_after_a_crash_mid_frame(tmp_path: Path) -> None:
    """Leftovers of a killed writer: a temporary file, a frame with files but no record, a committed
    frame the shard index does not list yet, and one whose file was damaged after its record."""
    out = tmp_path / "ds"
    generate(out, 8, order=[0, 1, 2])
    folder = shard_dir(out, "00000")
    layout = get_layout("native")
    (folder / "000003.rgb.png.tmp-123-456").write_bytes(b"partial")
    from sim2real.dataset.encode import encode_frame

    enc = encode_frame(make_frame(3), 3, Outputs())
    for f in enc.files[:2]:
        (folder / f.name).write_bytes(f.data)  # frame 3: files but no record
    shard_dir(out, "00001").mkdir()
    write_frame(shard_dir(out, "00001"), encode_frame(make_frame(5), 5, Outputs()))  # committed, unindexed
    write_frame(shard_dir(out, "00001"), encode_frame(make_frame(6), 6, Outputs()))
    (shard_dir(out, "00001") / layout.file(6, "rgb", "png")).write_bytes(b"damaged")
    with DatasetWriter(out, spec(), 8, VERSIONS, frames_per_shard=4) as writer:
        assert (writer.recovery.adopted, writer.recovery.discarded) == (1, 2)
        assert writer.missing() == [3, 4, 6, 7]
        assert not any("tmp" in p.name for p in folder.iterdir())
        for i in writer.missing():
            writer.write(i, make_frame(i))
    generate(tmp_path / "ref", 8)
    assert tree_bytes(out) == tree_bytes(tmp_path / "ref")


def test_a_run_killed_while_saving_the_manifest_leaves_nothing_in_the_way(tmp_path: Path) -> None:
    """A SIGKILL inside the manifest's atomic write leaves ``manifest.json.tmp-*`` at the top level:
    on the very first start that made the folder "not a sim2real dataset", later it stayed forever."""
    first = tmp_path / "first"
    first.mkdir()
    (first / "manifest.json.tmp-123-456").write_bytes(b'{"half')
    generate(first, 5)
    generate(tmp_path / "ref", 5)
    assert tree_bytes(first) == tree_bytes(tmp_path / "ref")
    resumed = tmp_path / "resumed"
    generate(resumed, 5, order=[0, 3])
    (resumed / "manifest.json.tmp-77-88").write_bytes(b"{")
    (resumed / "run.json.tmp-77-89").write_bytes(b"")
    generate(resumed, 5)
    assert not [p.name for p in resumed.rglob("*") if ".tmp-" in p.name]
    assert tree_bytes(resumed) == tree_bytes(tmp_path / "ref")


# ------------------------------------------------------------------------------- refusals
def _point_outside(folder: Path, index: int, target: Path) -> Path:
    """Rewrite frame ``index``'s record so that its rgb entry names ``target`` (a real PNG elsewhere)."""
    record_path = folder / get_layout("native").record(index)
    record = json.loads(record_path.read_bytes())
    record["files"]["rgb"].update(name=f"../../../{target.name}", bytes=target.stat().st_size)
    record_path.write_text(json.dumps(record))
    return record_path


def test_a_record_never_makes_the_reader_open_a_file_outside_its_shard(tmp_path: Path) -> None:
    ds = generate(tmp_path / "ds", 2)
    secret = tmp_path / "secret.png"
    secret.write_bytes(encode_png(np.zeros((48, 64, 3), np.uint8)))
    record_path = _point_outside(shard_dir(ds.directory, "00000"), 1, secret)
    with pytest.raises(IntegrityError, match=rf"{record_path.name}: files: '\.\./\.\./\.\./secret\.png' is not a file name"):
        ds.get(1)
    with pytest.raises(IntegrityError, match="is not a file name of the shard folder"):
        ds.checked_file(1, "rgb")
    assert ds.get(0).rgb.shape == (48, 64, 3)


def test_recovery_does_not_adopt_a_record_that_points_outside(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 3, order=[0, 1])
    folder = shard_dir(out, "00000")
    index = folder / "index.json"
    index.unlink()  # as after a crash before the index was written: both frames are recovered from records
    secret = tmp_path / "secret.png"
    secret.write_bytes((folder / get_layout("native").file(1, "rgb", "png")).read_bytes())
    _point_outside(folder, 1, secret)
    with DatasetWriter(out, spec(), 3, VERSIONS, frames_per_shard=4) as writer:
        assert (writer.recovery.adopted, writer.recovery.discarded) == (1, 1)
        assert writer.missing() == [1, 2]


def test_second_writer_is_refused(tmp_path: Path) -> None:
    with DatasetWriter(tmp_path / "ds", spec(), 2, VERSIONS):
        with pytest.raises(LockedError, match=r"another sim2real process is generating it \(pid \d+\)"):
            DatasetWriter(tmp_path / "ds", spec(), 2, VERSIONS).open()


def test_different_settings_on_an_existing_dataset_are_one_line_errors(tmp_path: Path) -> None:
    out = tmp_path / "ds"
    generate(out, 4)
    with pytest.raises(InputError) as err:
        generate(out, 4, seed=1)
    assert "seed 0 vs 1" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="layout native vs basic"):
        generate(out, 4, layout="basic")
    with pytest.raises(InputError, match="would drop frames"):
        generate(out, 3)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not a sim2real dataset"):
        generate(tmp_path / "other", 2)
    assert load_manifest(out).spec.seed == 0
