"""Live sim-vs-real pose validation on a robot: a thin ROS 2 node over ``StreamingPoseValidator``.

Everything the node decides is in ``sim2real.gap.poses`` (matching on full timestamps, geodesic
orientation error, thresholds, rolling accuracy) and ``sim2real.trajectory.rosmsg`` (message fields to
numbers, quaternions converted by name to wxyz), both tested with plain pytest. This module only
subscribes, publishes and keeps time; it imports ``rclpy`` inside functions, so it loads anywhere.

Topics (the seeds' node): subscribes ``/sim_robot_pose`` and ``/real_robot_pose``
(``geometry_msgs/PoseStamped``); publishes ``/pose_error`` and ``/orientation_error``
(``std_msgs/Float32``, metres and radians) and ``/validation_status`` (``std_msgs/Bool``).
"""

from __future__ import annotations

import time
from typing import Any

from ..progress import NullReporter, Reporter
from ..trajectory.rclpy_guard import require_rclpy
from ..trajectory.rosmsg import pose_from_msg
from .poses import PoseThresholds, StreamingPoseValidator


def make_node(validator: StreamingPoseValidator, sim_topic: str, real_topic: str,
              reporter: Reporter, summary_period_s: float = 30.0) -> Any:
    """The rclpy node wiring the topics to ``validator`` (needs rclpy)."""
    from geometry_msgs.msg import PoseStamped
    from rclpy.node import Node
    from std_msgs.msg import Bool, Float32

    class SimRealValidationNode(Node):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__("sim2real_pose_validation")
            self.create_subscription(PoseStamped, sim_topic, self.on_sim, 10)
            self.create_subscription(PoseStamped, real_topic, self.on_real, 10)
            self.pub_pos = self.create_publisher(Float32, "/pose_error", 10)
            self.pub_ori = self.create_publisher(Float32, "/orientation_error", 10)
            self.pub_ok = self.create_publisher(Bool, "/validation_status", 10)
            self.create_timer(summary_period_s, self.on_timer)

        def on_sim(self, msg: Any) -> None:
            stamp, pos, quat = pose_from_msg(msg)
            validator.add_sim(stamp if stamp is not None else self.get_clock().now().nanoseconds, pos, quat)

        def on_real(self, msg: Any) -> None:
            stamp, pos, quat = pose_from_msg(msg)
            check = validator.add_real(stamp if stamp is not None else self.get_clock().now().nanoseconds, pos, quat)
            if check is None:
                return
            self.pub_pos.publish(Float32(data=float(check.position_error_m)))
            self.pub_ori.publish(Float32(data=float(check.orientation_error_rad)))
            self.pub_ok.publish(Bool(data=bool(check.valid)))

        def on_timer(self) -> None:
            s = validator.summary()
            reporter.metric("pose_validation", s.get("n", 0), {k: s[k] for k in ("accuracy",) if k in s}, echo=True)
            self.get_logger().info(f"sim2real pose validation: {s}")

    return SimRealValidationNode()


def run_live(sim_topic: str, real_topic: str, thresholds: PoseThresholds, window: int, tolerance_s: float,
             duration_s: float | None = None, reporter: Reporter | None = None) -> StreamingPoseValidator:
    """Spin the node until ``duration_s`` elapses or Ctrl-C; returns the validator with its history."""
    require_rclpy()
    import rclpy

    rep = reporter or NullReporter()
    validator = StreamingPoseValidator(thresholds, window=window, buffer=window, tolerance_s=tolerance_s)
    rclpy.init()
    node = make_node(validator, sim_topic, real_topic, rep)
    end = None if duration_s is None else time.monotonic() + duration_s
    try:
        while rclpy.ok() and (end is None or time.monotonic() < end):
            rclpy.spin_once(node, timeout_sec=0.2)
    except KeyboardInterrupt:
        pass  # the caller writes the report of what was validated so far
    finally:
        node.destroy_node()
        if rclpy.ok():
            rclpy.shutdown()
    return validator
