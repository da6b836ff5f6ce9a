"""A ROS 2 robot: joint states in, commands out (``rclpy``, imported only when connecting).

* readings: ``sensor_msgs/JointState`` on ``state_topic`` → ``<joint>.position|velocity|effort``
  (``trajectory.rosmsg``, the converter of bag logs), stamped with ``header.stamp`` (the receive time if it is
  zero);
* commands: ``std_msgs/Float64MultiArray`` (the actuators in order, ros2_control's forward command
  controllers) or ``sensor_msgs/JointState`` (``name`` = actuators, the command in ``command_field``)
  on ``command_topic``;
* ``step`` publishes, then spins until one control period has passed and returns the newest reading; a
  reading older than ``stale_periods`` control periods is an error (a stopped driver must not look like
  a robot standing still);
* ``emergency_stop`` publishes ``std_msgs/Bool(True)`` on ``estop_topic`` when one is given, and holds
  the zero command;
* ``reset`` sends the initial command and waits ``settle_s`` (a real robot is homed by its own driver).

Everything that decides something (message conversion, staleness) is a plain function tested without
ROS; this class only wires them to rclpy.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pydantic import Field, StrictStr

from ..config import StrictModel, load_model
from ..errors import RemoteError
from ..randomize.schema import Num
from ..trajectory.rclpy_guard import require_rclpy
from ..trajectory.rosmsg import channels_of, stamp_ns, values_of
from .robot import Reading

JOINT_STATE = "sensor_msgs/msg/JointState"
COMMAND_TYPES = ("Float64MultiArray", "JointState")


def reading_from_joint_state(msg: Any, received_ns: int) -> Reading:
    """A ``JointState`` message as a reading (its header stamp, or the receive time when zero)."""
    names, _ = channels_of(JOINT_STATE, msg)
    values = values_of(JOINT_STATE, msg)
    return Reading(stamp_ns(msg) or int(received_ns), dict(zip(names, values, strict=True)))


def fill_command(msg: Any, kind: str, actuators: Sequence[str], command: Sequence[float],
                 field: str = "position") -> Any:
    """Fill a command message in place: ``Float64MultiArray.data`` or ``JointState.name`` + ``field``."""
    values = [float(v) for v in command]
    if len(values) != len(actuators):
        raise ValueError(f"expected {len(actuators)} commands ({', '.join(actuators)}), got {len(values)}")
    if kind == "Float64MultiArray":
        msg.data = values
    elif kind == "JointState":
        msg.name = list(actuators)
        setattr(msg, field, values)
    else:
        raise ValueError(f"command type: expected one of {', '.join(COMMAND_TYPES)} (got {kind!r})")
    return msg


def check_fresh(reading: Reading | None, now_ns: int, max_age_s: float, topic: str) -> Reading:
    """The reading, unless there is none or it is older than ``max_age_s``."""
    if reading is None:
        raise RemoteError(f"{topic}: no joint state received; is the robot driver running?")
    age = (now_ns - reading.stamp_ns) / 1e9
    if age > max_age_s:
        raise RemoteError(f"{topic}: the newest joint state is {age:.3f} s old (more than {max_age_s:.3f} s); "
                          "the driver stopped publishing or the clocks differ")
    return reading


class Ros2Robot:
    def __init__(self, actuators: Sequence[str], channels: Sequence[str], units: Sequence[str],
                 control_period_s: float, state_topic: str = "/joint_states", command_topic: str = "/commands",
                 command_type: str = "Float64MultiArray", command_field: str = "position",
                 estop_topic: str | None = None, settle_s: float = 1.0, stale_periods: float = 3.0,
                 command_units: Sequence[str] | None = None, clock: Callable[[], int] = time.time_ns) -> None:
        if command_type not in COMMAND_TYPES:
            raise ValueError(f"command type: expected one of {', '.join(COMMAND_TYPES)} (got {command_type!r})")
        self.name = f"ros2 {state_topic}"
        self._actuators, self._channels, self._units = list(actuators), list(channels), list(units)
        self._command_units = list(command_units) if command_units is not None else [""] * len(self._actuators)
        self.period, self.settle_s, self.stale_periods = float(control_period_s), float(settle_s), float(stale_periods)
        self.state_topic, self.command_topic, self.estop_topic = state_topic, command_topic, estop_topic
        self.command_type, self.command_field = command_type, command_field
        self.clock = clock
        self.latest: Reading | None = None
        self._node: Any = None
        self._pub: Any = None
        self._estop: Any = None
        self._msg: Any = None

    @property
    def actuators(self) -> list[str]:
        return list(self._actuators)

    @property
    def command_units(self) -> list[str]:
        return list(self._command_units)

    @property
    def channels(self) -> list[str]:
        return list(self._channels)

    @property
    def units(self) -> list[str]:
        return list(self._units)

    @property
    def control_period_s(self) -> float:
        return self.period

    def on_joint_state(self, msg: Any) -> None:
        self.latest = reading_from_joint_state(msg, self.clock())

    def connect(self) -> None:
        require_rclpy()
        import rclpy
        from sensor_msgs.msg import JointState
        from std_msgs.msg import Bool, Float64MultiArray

        if not rclpy.ok():
            rclpy.init()
        self._node = rclpy.create_node("sim2real_policy")
        self._node.create_subscription(JointState, self.state_topic, self.on_joint_state, 10)
        self._msg = Float64MultiArray if self.command_type == "Float64MultiArray" else JointState
        self._pub = self._node.create_publisher(self._msg, self.command_topic, 10)
        if self.estop_topic:
            self._estop = (self._node.create_publisher(Bool, self.estop_topic, 10), Bool)

    def _send(self, command: Sequence[float]) -> None:
        self._pub.publish(fill_command(self._msg(), self.command_type, self._actuators, command, self.command_field))

    def _spin_for(self, seconds: float) -> None:
        import rclpy

        end = time.monotonic() + seconds
        while (left := end - time.monotonic()) > 0:
            rclpy.spin_once(self._node, timeout_sec=left)

    def reset(self, command: Sequence[float]) -> Reading:
        self._send(command)
        self._spin_for(self.settle_s)
        return self.observe()

    def step(self, command: Sequence[float]) -> Reading:
        self._send(command)
        self._spin_for(self.period)
        return self.observe()

    def observe(self) -> Reading:
        reading = check_fresh(self.latest, self.clock(), self.stale_periods * self.period, self.state_topic)
        missing = [c for c in self._channels if c not in reading.values]
        if missing:
            raise RemoteError(f"{self.state_topic}: joint states lack {', '.join(missing)}")
        return reading

    def emergency_stop(self) -> None:
        if self._estop is not None:
            pub, bool_msg = self._estop
            pub.publish(bool_msg(data=True))
        self._send(np.zeros(len(self._actuators)))

    def disconnect(self) -> None:
        if self._node is not None:
            self._node.destroy_node()
            self._node = None


class Ros2Spec(StrictModel):
    """A ROS 2 robot (TOML)::

        actuators = ["slide"]
        channels = ["slider.position", "hinge.position", "slider.velocity", "hinge.velocity"]
        units = ["m", "rad", "m/s", "rad/s"]
        control_period_s = 0.04
        state_topic = "/joint_states"
        command_topic = "/slide_controller/commands"
        command_type = "Float64MultiArray"
        estop_topic = "/emergency_stop"
    """

    actuators: list[StrictStr] = Field(min_length=1)
    channels: list[StrictStr] = Field(min_length=1)
    units: list[StrictStr] = []
    control_period_s: Num = Field(gt=0)
    state_topic: StrictStr = "/joint_states"
    command_topic: StrictStr = "/commands"
    command_type: StrictStr = "Float64MultiArray"
    command_field: StrictStr = "position"
    estop_topic: StrictStr | None = None
    settle_s: Num = Field(1.0, ge=0)
    stale_periods: Num = Field(3.0, gt=0)


def load_ros2(path: Any) -> Ros2Robot:
    spec = load_model(path, Ros2Spec)
    return Ros2Robot(spec.actuators, spec.channels, spec.units or [""] * len(spec.channels), spec.control_period_s,
                     spec.state_topic, spec.command_topic, spec.command_type, spec.command_field, spec.estop_topic,
                     spec.settle_s, spec.stale_periods)
