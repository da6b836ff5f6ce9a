"""Time series on the ground floor: the ``Trajectory`` type, log and ROS-bag readers, time alignment.

Every stage that handles logs uses them (``sysid``, ``control``, ``gap``, ``train``), so they sit below
all of them and import only ``sim2real.errors``:

* ``series``: ``Trajectory`` (timestamps as integer nanoseconds = sec * 1e9 + nanosec);
* ``readers``: CSV, Parquet, JSON lines and ROS 2 / ROS 1 bags and MCAP (via ``rosbags``);
* ``rosmsg``: ROS message fields to numbers (joint states, poses as wxyz, images);
* ``align``: overlap, interpolation to a common clock, nearest matching on full timestamps;
* ``measures``: per-channel errors between aligned series (RMSE, MAE, max error, correlation, VAF, NRMSE);
* ``rclpy_guard``: whether ROS 2's ``rclpy`` is here, and how to get it.
"""
