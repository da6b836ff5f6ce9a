"""``sim2real generate``: the one generation loop (render -> encode -> commit) and its executors.

``loop.py`` renders frame ``i`` as a pure function of (profile, scene, seed, i); ``local.py`` runs it
in this process or in N worker processes; ``ray_executor.py`` spreads shards over a Ray cluster.
Every executor commits through ``sim2real.dataset.writer.DatasetWriter``. Importing this package is
cheap.
"""
