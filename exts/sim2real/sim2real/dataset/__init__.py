"""Synthetic datasets: the native format, writers, the reader, COCO/BasicWriter layouts, verification.

Writers take ``sim2real.sim.rendered_frame.Frame`` objects and never import an engine, so the MuJoCo loop
and Isaac Sim's Replicator writer share them. See ``exts/sim2real/docs/dataset-format.md``.
Importing this package is cheap; its modules import numpy when used.
"""
