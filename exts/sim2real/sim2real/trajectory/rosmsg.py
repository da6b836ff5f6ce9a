"""ROS 2 messages to numbers, duck-typed on field names.

The same functions serve messages deserialised by ``rosbags`` (offline, no ROS install) and live
``rclpy`` messages (the validation node), because both expose the ROS field names. Quaternions in
ROS messages are fields ``x, y, z, w``; sim2real uses ``(w, x, y, z)`` everywhere, and the
conversion happens here, by name, never by position.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .series import NS_PER_S

POSE_CHANNELS = ["x", "y", "z", "qw", "qx", "qy", "qz"]
POSE_UNITS = ["m", "m", "m", "", "", "", ""]
TWIST_CHANNELS = ["vx", "vy", "vz", "wx", "wy", "wz"]
TWIST_UNITS = ["m/s", "m/s", "m/s", "rad/s", "rad/s", "rad/s"]

SUPPORTED = (
    "geometry_msgs/msg/PoseStamped", "geometry_msgs/msg/PoseWithCovarianceStamped",
    "geometry_msgs/msg/TransformStamped", "geometry_msgs/msg/TwistStamped", "nav_msgs/msg/Odometry",
    "sensor_msgs/msg/JointState", "sensor_msgs/msg/Imu", "std_msgs/msg/Float64", "std_msgs/msg/Float32",
    "std_msgs/msg/Float64MultiArray", "std_msgs/msg/Float32MultiArray",
)


def stamp_ns(msg: Any) -> int | None:
    """``header.stamp`` as int64 nanoseconds (sec and nanosec joined); None if absent or zero."""
    header = getattr(msg, "header", None)
    stamp = getattr(header, "stamp", None)
    if stamp is None:
        return None
    value = int(stamp.sec) * NS_PER_S + int(stamp.nanosec)
    return value or None


def quat_wxyz(q: Any) -> list[float]:
    """A ROS ``geometry_msgs/Quaternion`` (fields x, y, z, w) as ``[w, x, y, z]``."""
    return [float(q.w), float(q.x), float(q.y), float(q.z)]


def pose_values(pose: Any) -> list[float]:
    """A ROS ``geometry_msgs/Pose``: ``[x, y, z, qw, qx, qy, qz]`` (metres, unit quaternion wxyz)."""
    p = pose.position
    return [float(p.x), float(p.y), float(p.z), *quat_wxyz(pose.orientation)]


def _vec(v: Any) -> list[float]:
    return [float(v.x), float(v.y), float(v.z)]


def channels_of(msgtype: str, msg: Any) -> tuple[list[str], list[str]]:
    """Channel names and units a message of this type yields (JointState names come from the message)."""
    short = msgtype.rsplit("/", 1)[-1]
    if short in ("PoseStamped", "PoseWithCovarianceStamped", "TransformStamped"):
        return list(POSE_CHANNELS), list(POSE_UNITS)
    if short == "Odometry":
        return POSE_CHANNELS + TWIST_CHANNELS, POSE_UNITS + TWIST_UNITS
    if short == "TwistStamped":
        return list(TWIST_CHANNELS), list(TWIST_UNITS)
    if short == "Imu":
        return (["qw", "qx", "qy", "qz", "wx", "wy", "wz", "ax", "ay", "az"],
                ["", "", "", "", "rad/s", "rad/s", "rad/s", "m/s^2", "m/s^2", "m/s^2"])
    if short == "JointState":
        names, units = [], []
        for field, unit in (("position", "rad|m"), ("velocity", "rad/s|m/s"), ("effort", "N.m|N")):
            if len(getattr(msg, field)):
                names += [f"{n}.{field}" for n in msg.name]
                units += [unit] * len(msg.name)
        return names, units
    if short in ("Float64", "Float32"):
        return ["data"], [""]
    if short in ("Float64MultiArray", "Float32MultiArray"):
        return [f"data{i}" for i in range(len(msg.data))], [""] * len(msg.data)
    raise KeyError(msgtype)


def values_of(msgtype: str, msg: Any) -> list[float]:
    """The numbers of one message, in the order ``channels_of`` names them."""
    short = msgtype.rsplit("/", 1)[-1]
    if short == "PoseStamped":
        return pose_values(msg.pose)
    if short == "PoseWithCovarianceStamped":
        return pose_values(msg.pose.pose)
    if short == "TransformStamped":
        t = msg.transform
        return [*_vec(t.translation), *quat_wxyz(t.rotation)]
    if short == "Odometry":
        tw = msg.twist.twist
        return pose_values(msg.pose.pose) + _vec(tw.linear) + _vec(tw.angular)
    if short == "TwistStamped":
        return _vec(msg.twist.linear) + _vec(msg.twist.angular)
    if short == "Imu":
        return quat_wxyz(msg.orientation) + _vec(msg.angular_velocity) + _vec(msg.linear_acceleration)
    if short == "JointState":
        out: list[float] = []
        for field in ("position", "velocity", "effort"):
            arr = np.asarray(getattr(msg, field), dtype=np.float64)
            if arr.size:
                out += arr.tolist()
        return out
    if short in ("Float64", "Float32"):
        return [float(msg.data)]
    if short in ("Float64MultiArray", "Float32MultiArray"):
        return np.asarray(msg.data, dtype=np.float64).tolist()
    raise KeyError(msgtype)


def pose_from_msg(msg: Any) -> tuple[int | None, np.ndarray, np.ndarray]:
    """A ``PoseStamped`` (or anything with ``header`` and ``pose``): (stamp ns, position m, quat wxyz)."""
    pose = msg.pose.pose if hasattr(msg.pose, "pose") else msg.pose
    v = pose_values(pose)
    return stamp_ns(msg), np.array(v[:3]), np.array(v[3:])


# ---------------------------------------------------------------- images

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")
# sensor_msgs/Image encodings we decode: channel count, dtype, and the order of colour channels
_RAW_ENCODINGS = {
    "rgb8": (3, np.uint8, (0, 1, 2)), "bgr8": (3, np.uint8, (2, 1, 0)),
    "rgba8": (4, np.uint8, (0, 1, 2)), "bgra8": (4, np.uint8, (2, 1, 0)),
    "mono8": (1, np.uint8, None), "8uc1": (1, np.uint8, None), "8uc3": (3, np.uint8, (2, 1, 0)),
    "mono16": (1, np.uint16, None), "16uc1": (1, np.uint16, None),
}


def image_of(msgtype: str, msg: Any) -> np.ndarray:
    """A ``sensor_msgs/Image`` or ``CompressedImage`` as an ``(H, W, 3)`` uint8 RGB array.

    Raw encodings: rgb8, bgr8, rgba8, bgra8, mono8, mono16 (scaled to 8 bits by its maximum) and
    8UC1/8UC3 (OpenCV's BGR order); compressed: whatever Pillow reads (jpeg, png).
    Raises ``ValueError`` naming the encoding it cannot read.
    """
    short = msgtype.rsplit("/", 1)[-1]
    if short == "CompressedImage":
        from ..errors import InputError
        from ..imagefile import load_image

        try:
            return load_image(bytes(msg.data), f"compressed image (format {msg.format!r})", mode="RGB")
        except InputError as exc:
            raise ValueError(str(exc)) from None
    if short != "Image":
        raise KeyError(msgtype)
    spec = _RAW_ENCODINGS.get(str(msg.encoding).lower())
    if spec is None:
        raise ValueError(f"image encoding {msg.encoding!r} (expected one of {', '.join(_RAW_ENCODINGS)})")
    channels, dtype, order = spec
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    item = np.dtype(dtype).newbyteorder(">" if msg.is_bigendian else "<")
    raw = np.frombuffer(bytes(msg.data), dtype=np.uint8)
    if step < w * channels * item.itemsize or len(raw) < h * step:
        raise ValueError(f"image {w}x{h} {msg.encoding}: step {step} and {len(raw)} data bytes do not fit")
    rows = raw[: h * step].reshape(h, step)[:, : w * channels * item.itemsize]
    pixels = np.ascontiguousarray(rows).view(item).reshape(h, w, channels)
    if dtype == np.uint16:
        top = int(pixels.max()) or 1
        pixels = (pixels.astype(np.float64) * (255.0 / top)).round().astype(np.uint8)
    if order is None:
        return np.repeat(pixels.astype(np.uint8), 3, axis=2)
    return np.ascontiguousarray(pixels[..., list(order)].astype(np.uint8))
