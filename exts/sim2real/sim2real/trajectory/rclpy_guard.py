"""Whether ROS 2's Python client (``rclpy``) is here, and the one-line error saying how to get it.

``rclpy`` ships with ROS 2, not with PyPI, so the live nodes (``gap.live``, ``control.ros2``) check
before they import it; everything offline (bags, logs) works without it.
"""

from __future__ import annotations

import importlib.util

from ..errors import NotInstalledError

RCLPY_HINT = (
    "rclpy ships with ROS 2, not with PyPI: install ROS 2 (Humble, Jazzy or newer) and run "
    "`source /opt/ros/$ROS_DISTRO/setup.bash` in this shell before sim2real. Without ROS, record the topics "
    "(`ros2 bag record /sim_robot_pose /real_robot_pose`) and run `sim2real gap poses BAG` offline"
)


def rclpy_available() -> bool:
    return importlib.util.find_spec("rclpy") is not None


def require_rclpy() -> None:
    if not rclpy_available():
        raise NotInstalledError("rclpy (the ROS 2 Python client library)", RCLPY_HINT)
