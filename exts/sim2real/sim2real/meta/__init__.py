"""Meta-learning for fast adaptation: MAML, first-order MAML and Reptile over a family of randomized
tasks, for a dynamics model (MuJoCo scenes under per-task physics) and a policy (randomized control
environments). ``adapt_to_new_task(model, x, y, steps, lr)`` returns an adapted copy.

The public names load lazily (``import sim2real.meta`` does not import torch)::

    from sim2real.meta import train, load_meta_model, adapt_to_new_task

Documentation: ``exts/sim2real/docs/meta.md``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "MetaConfig": "config",
    "load_config": "config",
    "MetaModel": "learn",
    "MetaLearner": "learn",
    "adapt_to_new_task": "learn",
    "train": "run",
    "evaluate": "run",
    "load_meta_model": "run",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
