"""Other tools' spellings of our distributions and operations, in one table.

Isaac Lab's event functions (``isaaclab.envs.mdp``, release 2.3) name their distributions
``"uniform" | "log_uniform" | "gaussian"`` and their operations ``"add" | "scale" | "abs"``
(``_randomize_prop_by_op``); ``gaussian`` takes ``(mean, std)``. The Isaac Lab bridge
(``sim2real.isaaclab``) translates through these tables both ways; a profile schema that accepts the
foreign spellings as aliases can read them from here too.
"""

from __future__ import annotations

# ours -> Isaac Lab's
ISAACLAB_DIST: dict[str, str] = {"uniform": "uniform", "loguniform": "log_uniform", "normal": "gaussian"}
ISAACLAB_OP: dict[str, str] = {"set": "abs", "scale": "scale", "add": "add"}

# Isaac Lab's -> ours
FROM_ISAACLAB_DIST: dict[str, str] = {v: k for k, v in ISAACLAB_DIST.items()}
FROM_ISAACLAB_OP: dict[str, str] = {v: k for k, v in ISAACLAB_OP.items()}
