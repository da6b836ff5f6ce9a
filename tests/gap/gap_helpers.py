"""Test data for the gap tests: signals on jittered clocks, CSV files, real ROS 2 bags, image folders."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from PIL import Image

NS = 1_000_000_000
EPOCH_S = 1_700_000_000  # real robot clocks are epoch-sized; float seconds would lose nanoseconds there


def jittered_stamps(rng: np.random.Generator, start_s: float, duration_s: float, rate_hz: float,
                    jitter_s: float) -> np.ndarray:
    """int64 ns stamps at ``rate_hz`` with uniform jitter, strictly increasing."""
    n = int(duration_s * rate_hz)
    t = np.arange(n) / rate_hz + rng.uniform(-jitter_s, jitter_s, n)
    ns = np.int64(round(start_s * NS)) + np.round(t * NS).astype(np.int64)
    return np.unique(ns)


def signal(t_s: np.ndarray) -> np.ndarray:
    """Two smooth channels (radians) with several frequencies, so that delays are identifiable."""
    return np.stack([0.5 * np.sin(1.3 * t_s) + 0.2 * np.sin(4.1 * t_s + 0.3),
                     0.3 * np.cos(0.7 * t_s) + 0.1 * np.sin(6.3 * t_s)], axis=1)


def write_csv(path: Path, stamp_ns: np.ndarray, columns: dict[str, np.ndarray]) -> Path:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["sec", "nanosec", *columns])
        for i, s in enumerate(stamp_ns):
            w.writerow([int(s) // NS, int(s) % NS, *(repr(float(c[i])) for c in columns.values())])
    return path


def yaw_quat_wxyz(yaw: np.ndarray) -> np.ndarray:
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.cos(yaw / 2), np.zeros_like(yaw), np.zeros_like(yaw), np.sin(yaw / 2)], axis=-1)


def typestore():
    from rosbags.typesys import Stores, get_typestore

    return get_typestore(Stores.ROS2_HUMBLE)


def pose_msg(ts, stamp_ns: int, pos, quat_wxyz):
    T = ts.types
    header = T["std_msgs/msg/Header"](stamp=T["builtin_interfaces/msg/Time"](sec=int(stamp_ns // NS), nanosec=int(stamp_ns % NS)),
                                       frame_id="world")
    w, x, y, z = (float(v) for v in quat_wxyz)
    pose = T["geometry_msgs/msg/Pose"](position=T["geometry_msgs/msg/Point"](x=float(pos[0]), y=float(pos[1]), z=float(pos[2])),
                                       orientation=T["geometry_msgs/msg/Quaternion"](x=x, y=y, z=z, w=w))
    return T["geometry_msgs/msg/PoseStamped"](header=header, pose=pose)


def write_bag(path: Path, topics: dict[str, list[tuple[int, int, object]]], storage: str = "mcap") -> Path:
    """A real rosbag2 written with rosbags: ``topics[name] = [(receive_ns, msg), ...]`` (msgtype from the msg)."""
    from rosbags.rosbag2 import StoragePlugin, Writer

    ts = typestore()
    plugin = StoragePlugin.MCAP if storage == "mcap" else StoragePlugin.SQLITE3
    with Writer(path, version=9, storage_plugin=plugin) as writer:
        conns = {name: writer.add_connection(name, msgs[0][1].__msgtype__, typestore=ts) for name, msgs in topics.items()}
        events = sorted((t, name, msg) for name, msgs in topics.items() for t, msg in msgs)
        for t, name, msg in events:
            writer.write(conns[name], t, ts.serialize_cdr(msg, msg.__msgtype__))
    return path


def scene_image(rng: np.random.Generator, size: int = 48) -> np.ndarray:
    """A clean 'rendered' image: a smooth gradient background and a flat-coloured rectangle."""
    y, x = np.mgrid[0:size, 0:size] / size
    base = np.stack([0.3 + 0.4 * x, 0.35 + 0.3 * y, 0.5 - 0.2 * x], axis=-1)
    x0, y0 = rng.integers(4, size // 2, 2)
    w, h = rng.integers(8, size // 2, 2)
    base[y0 : y0 + h, x0 : x0 + w] = rng.uniform(0.1, 0.9, 3)
    return (np.clip(base, 0, 1) * 255).astype(np.uint8)


def realistic(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same view as a camera would give it: warm colour cast, gain, sensor noise."""
    img = image.astype(np.float64) * np.array([1.15, 1.0, 0.85]) + rng.normal(0, 12, image.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_images(folder: Path, images: list[np.ndarray], names: list[str]) -> Path:
    for img, name in zip(images, names, strict=True):
        p = folder / f"{name}.png"
        p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(p)
    return folder
