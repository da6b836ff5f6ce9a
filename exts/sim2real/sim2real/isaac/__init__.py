"""The Isaac Sim side of sim2real that plain Python can run and test (no ``omni``/``carb``/``isaacsim``).

The Kit extension ``exts/sim2real_isaac`` is thin glue around these:

* ``stage.IsaacStage``: a stage seen through the Backend protocol; routes each sampled value to USD
  (``sim2real.usd``), to PhysX tensor views (``tensors.py``) or to the image effects;
* ``steps``: Isaac Sim 5.x / 6.0 physics-callback signatures, step counting;
* ``buckets``: friction buckets under PhysX's 64k-material limit;
* ``frames``: Replicator annotator outputs -> ``Frame``;
* ``generate``: the headless generation run (``tools/isaac/generate.py``) on top of ``sim2real.generate``.
"""
