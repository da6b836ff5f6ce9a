"""``sim2real generate``: the one generation loop (render -> encode -> commit) and its executors.

``loop.py`` renders frame ``i`` as a pure function of (profile, scene, seed, i); ``local.py`` runs it
in this process or in N worker processes; ``ray_executor.py`` spreads shards over a Ray cluster;
``isaac_launcher.py`` runs Isaac Sim's own Python on ``tools/isaac/generate.py`` (one process per GPU),
whose command line and main are ``isaac_script.py``. Every executor commits through
``sim2real.dataset.writer.DatasetWriter``. Importing this package is cheap.
"""
