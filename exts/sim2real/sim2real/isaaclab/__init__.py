"""The Isaac Lab bridge: profiles to Isaac Lab event terms and back, and rollout logs for the gap.

* ``export_file(profile, out)``: a profile (a calibrated one from ``sysid fit`` too) as a Python
  module with an ``@configclass EventCfg`` whose terms call ``isaaclab.envs.mdp``'s own event
  functions (``sim2real profile export --to isaaclab``);
* ``import_file(module, out)``: such a module, read statically (no Isaac Lab import), as a profile
  (``sim2real profile import --from isaaclab``);
* ``RolloutLog``: logs an Isaac Lab environment's joint states and root poses in sim2real's
  trajectory format, for ``sim2real gap trajectories`` and ``sysid``.

Nothing here imports Isaac Lab. The names it emits are those of Isaac Lab 2.3.2 (``names.json``,
generated from Isaac Lab's source by ``tools/isaaclab/make_names.py``). Documentation:
``exts/sim2real/docs/isaaclab.md``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "export_file": "files",
    "import_file": "files",
    "export_profile": "export",
    "import_module": "importer",
    "RolloutLog": "rollout",
    "write_stubs": "stubs",
    "calls_source": "stubs",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
