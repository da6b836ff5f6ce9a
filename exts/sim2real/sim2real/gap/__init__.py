"""Measuring the reality gap (the last stage): trajectories, poses, images and policies.

* ``metrics``: the trajectory gap (on ``sim2real.trajectory``): KS, delay, DTW, the gap score;
* ``poses``: quaternion geodesic error (wxyz), pose validation, rolling statistics, the streaming
  validator behind the live ROS 2 node (``live``);
* ``images``: SSIM, normalised cross-correlation, colour and frequency statistics of image sets
  (``sim2real.dataset.imagesets``); ``image_gap``: every image metric between two sets, with KID and
  MMD on features (``sim2real.train.features``);
* ``policy``: sim vs real returns, transfer ratio, success rate (the seeds' TransferValidator);
* ``report_sections``: report sections for each kind of result (used by the CLI, the pipeline, control).

Thresholds and wording are documented in ``exts/sim2real/docs/gap.md``.
"""
