"""The Kit-free Isaac Sim backend: a USD stage (``sim2real.usd``) and PhysX tensor views seen through the
Backend protocol (no ``omni``/``carb``/``isaacsim``; plain Python runs and tests it).

The Kit extension ``exts/sim2real_isaac`` is thin glue around these:

* ``backend.IsaacBackend``: routes each sampled value to USD (``sim2real.usd``), to PhysX tensor views
  (``tensors.py``) or to the image effects;
* ``steps``: Isaac Sim 5.x / 6.0 physics-callback signatures, step counting;
* ``buckets``: friction buckets under PhysX's 64k-material limit;
* ``annotators``: Replicator annotator outputs -> ``Frame``.

Launching Isaac Sim for ``sim2real generate --backend isaac`` is ``sim2real.generate.isaac_launcher``; the
headless run it starts is ``sim2real.generate.isaac_script``.
"""
