"""The edge runner: what runs on the device, shipped inside every deploy bundle as ``runner/s2r_edge``.

It must run WITHOUT sim2real installed, on the Python of a Jetson (3.8 on JetPack 5, 3.10 on
JetPack 6), with only the standard library, numpy and an inference engine (onnxruntime, or
TensorRT's Python bindings); OpenCV for camera/video input, rclpy for the ROS 2 node. So:

* the modules import nothing from sim2real and only each other (relative imports);
* heavy libraries (numpy aside) are imported inside functions;
* syntax and typing stay Python 3.8 compatible (``from __future__ import annotations``; no
  ``X | Y`` outside annotations, no ``match``). A test checks all three.

Modules: ``meta`` (the model's metadata and preprocessing), ``metrics`` (scores), ``engines``
(onnxruntime / TensorRT sessions), ``tensorrt_tools`` (trtexec commands, output parsing, version checks),
``bench`` (latency and accuracy on the bundled evaluation set), ``jetson`` (module, L4T, JetPack and
TensorRT detection), ``release`` (device side of ``sim2real deploy``: safe unpacking, atomic switch,
rollback), ``camera`` (the OpenCV runner), ``ros_node`` (the ROS 2 node), ``__main__`` (commands).
"""

PROTOCOL = 1  # version of the runner's command line and JSON output, checked by the host
