"""Measuring the reality gap: trajectories, poses, images and policies.

* ``trajectory``: the ``Trajectory`` type (timestamps as integer nanoseconds = sec * 1e9 + nanosec);
* ``readers``: CSV, Parquet, JSON lines and ROS 2 / ROS 1 bags and MCAP (via ``rosbags``);
* ``align``: overlap, interpolation to a common clock, nearest matching on full timestamps;
* ``metrics``: RMSE, MAE, max error, correlation, KS, VAF, NRMSE, delay, DTW, the gap score;
* ``poses``: quaternion geodesic error (wxyz), pose validation, rolling statistics, the streaming
  validator behind the live ROS 2 node (``live``);
* ``images``: image sets, SSIM, normalised cross-correlation, colour and frequency statistics;
* ``features``: the feature-extractor interface, a seeded random-feature network, KID and MMD;
* ``policy``: sim vs real returns, transfer ratio, success rate (the seeds' TransferValidator);
* ``sections``: report sections for each kind of result (used by the CLI, the pipeline, control).

Thresholds and wording are documented in ``exts/sim2real/docs/gap.md``.
"""
