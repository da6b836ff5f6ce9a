"""The ROS 2 node (rclpy, when ROS 2 is installed on the device), as the seeds' Jetson node does:

    source /opt/ros/humble/setup.bash
    PYTHONPATH=~/sim2real/current/runner python3 -m s2r_edge ros --ros-args \\
        -p bundle:=$HOME/sim2real/current -p image_topic:=/camera/rgb/image_raw

* subscribes ``image_topic`` (``sensor_msgs/Image``: rgb8, bgr8, rgba8, bgra8, mono8);
* publishes ``predictions_topic`` (default ``/edge_predictions``, ``std_msgs/Float32MultiArray``):
  the class probabilities (classify) or each class's pixel fraction (segment), by class index;
* publishes ``mask_topic`` (segment, ``sensor_msgs/Image`` mono8: class index per pixel at the
  model's input size, the input's header);
* publishes ``detections_topic`` (detect, default ``/edge_detections``, ``vision_msgs/Detection2DArray``):
  one ``Detection2D`` per box scoring ``score_threshold`` (default 0.3) or more, its centre and size
  in the input image's pixels, one hypothesis (``class_id`` the class name, ``score``), the input's
  header; ``predictions_topic`` then holds each class's best box score;
* publishes ``latency_topic`` (``std_msgs/String``, JSON) every ``stats_every`` frames: mean, p50,
  p95 latency (ms) and FPS over the last frames, and logs the same line (the seeds' node logs it
  every 30 frames);
* labels: parameter ``labels`` is not needed, the bundle names the classes (logged at start).

The node is thin: decoding (``image_to_rgb``) and prediction (``predict.Predictor``) are plain
functions tested without ROS; rclpy is imported only by ``main``. No cv_bridge needed.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional

import numpy as np

CHANNELS = {"rgb8": 3, "bgr8": 3, "rgba8": 4, "bgra8": 4, "mono8": 1, "8UC1": 1, "8UC3": 3}


def image_to_rgb(encoding: str, height: int, width: int, step: int, data: Any) -> np.ndarray:
    """A ``sensor_msgs/Image``'s fields -> RGB uint8 ``(height, width, 3)`` (rows may be padded:
    ``step`` bytes each)."""
    if encoding not in CHANNELS:
        raise ValueError("image encoding {!r} is not supported (expected one of {})".format(
            encoding, ", ".join(sorted(CHANNELS))))
    c = CHANNELS[encoding]
    buf = np.frombuffer(bytes(data) if not isinstance(data, np.ndarray) else data.tobytes(), dtype=np.uint8)
    if step < width * c or buf.size < step * height:
        raise ValueError("image of {}x{} {} needs {} bytes per row and {} rows; got step {} and {} bytes".format(
            width, height, encoding, width * c, height, step, buf.size))
    img = buf[: step * height].reshape(height, step)[:, : width * c].reshape(height, width, c)
    if c == 1:
        return np.repeat(img, 3, axis=2)
    if encoding.startswith("bgr"):
        img = img[..., 2::-1] if c == 3 else img[..., [2, 1, 0]]
    return np.ascontiguousarray(img[..., :3])


def detection_array(header: Any, pred: Any, make: Callable[..., Any]) -> Any:
    """The ``vision_msgs/Detection2DArray`` of a detect prediction (``predict.Detections``).
    ``make(type_name, **fields)`` builds one message (rclpy's classes on the device, rosbags' in the
    tests); every field is given, so builders without defaults work too."""
    detections = []
    for (x0, y0, x1, y1), score, cls in zip(pred.boxes, pred.box_scores, pred.box_classes):
        centre = make("vision_msgs/msg/Pose2D", position=make("vision_msgs/msg/Point2D", x=float(x0 + x1) / 2,
                                                              y=float(y0 + y1) / 2), theta=0.0)
        hypothesis = make("vision_msgs/msg/ObjectHypothesis", class_id=pred.classes[int(cls)], score=float(score))
        pose = make("geometry_msgs/msg/PoseWithCovariance", pose=make(
            "geometry_msgs/msg/Pose", position=make("geometry_msgs/msg/Point", x=0.0, y=0.0, z=0.0),
            orientation=make("geometry_msgs/msg/Quaternion", x=0.0, y=0.0, z=0.0, w=1.0)),
            covariance=np.zeros(36, dtype=np.float64))
        detections.append(make("vision_msgs/msg/Detection2D", header=header, results=[make(
            "vision_msgs/msg/ObjectHypothesisWithPose", hypothesis=hypothesis, pose=pose)],
            bbox=make("vision_msgs/msg/BoundingBox2D", center=centre, size_x=float(x1 - x0), size_y=float(y1 - y0)),
            id=""))
    return make("vision_msgs/msg/Detection2DArray", header=header, detections=detections)


def rclpy_maker(name: str, **fields: Any) -> Any:  # pragma: no cover - needs ROS 2
    """``make`` for ``detection_array`` from the installed ROS 2 message packages."""
    import importlib

    package, _, cls = name.split("/")
    return getattr(importlib.import_module(package + ".msg"), cls)(**fields)


def main(args: Optional[list] = None) -> None:  # pragma: no cover - needs ROS 2 (rclpy is not on PyPI)
    import rclpy
    from rclpy.node import Node
    from sensor_msgs.msg import Image
    from std_msgs.msg import Float32MultiArray, String

    from .predict import LatencyWindow, Predictor

    class EdgeNode(Node):
        def __init__(self) -> None:
            super().__init__("sim2real_edge")
            p = {name: self.declare_parameter(name, default).value for name, default in (
                ("bundle", "."), ("precision", "fp32"), ("backend", "auto"),
                ("image_topic", "/camera/rgb/image_raw"), ("predictions_topic", "/edge_predictions"),
                ("mask_topic", "/edge_mask"), ("latency_topic", "/edge_latency"), ("stats_every", 30),
                ("detections_topic", "/edge_detections"), ("score_threshold", 0.3))}
            self.predictor = Predictor(p["bundle"], p["precision"], p["backend"],
                                       threshold=float(p["score_threshold"]))
            self.window = LatencyWindow(int(p["stats_every"]))
            self.every = int(p["stats_every"])
            self.pred_pub = self.create_publisher(Float32MultiArray, p["predictions_topic"], 10)
            self.mask_pub = self.create_publisher(Image, p["mask_topic"], 10)
            self.lat_pub = self.create_publisher(String, p["latency_topic"], 10)
            if self.predictor.bundle.task == "detect":
                from vision_msgs.msg import Detection2DArray

                self.det_pub = self.create_publisher(Detection2DArray, p["detections_topic"], 10)
            self.create_subscription(Image, p["image_topic"], self.on_image, 10)
            self.get_logger().info("bundle {} ({}), classes {}, engine {}".format(
                self.predictor.bundle.id, self.predictor.bundle.task, self.predictor.bundle.classes,
                self.predictor.engine.describe()))

        def on_image(self, msg: Any) -> None:
            try:
                rgb = image_to_rgb(msg.encoding, msg.height, msg.width, msg.step, msg.data)
                pred = self.predictor(rgb)
            except Exception as exc:  # one bad frame must not stop the node
                self.get_logger().error("inference failed: {}".format(exc))
                return
            self.pred_pub.publish(Float32MultiArray(data=[float(s) for s in pred.scores]))
            if pred.mask is not None:
                h, w = pred.mask.shape
                self.mask_pub.publish(Image(header=msg.header, height=h, width=w, encoding="mono8", is_bigendian=0,
                                            step=w, data=pred.mask.tobytes()))
            if pred.boxes is not None:
                self.det_pub.publish(detection_array(msg.header, pred, rclpy_maker))
            self.window.add(pred.latency_ms)
            if self.window.count % self.every == 0:
                text = json.dumps(self.window.summary())
                self.lat_pub.publish(String(data=text))
                self.get_logger().info("edge inference: {}".format(text))

    rclpy.init(args=args)
    node = EdgeNode()
    try:
        rclpy.spin(node)
    except KeyboardInterrupt:
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown() if hasattr(rclpy, "try_shutdown") else rclpy.shutdown()
