"""View-models and the job runner shared by every sim2real UI (the omni.ui panel, the web panel).

Plain Python objects with observable state (``subscribe``) and JSON-serialisable ``snapshot()``s;
no Kit or web types. Long work runs as ``sim2real`` subprocesses read through the JSON-lines
progress protocol (``sim2real.progress``). See README.md ("The panel") and
``exts/sim2real_ui/docs/README.md``.
"""

from __future__ import annotations

from ..lazy import exports

_PUBLIC = {
    "Panel": "panel",
    "Job": "jobs",
    "JobRunner": "jobs",
    "Series": "series",
    "Form": "forms",
    "ProfileEditor": "profile_editor",
    "TargetsStore": "targets",
    "DeployTarget": "targets",
    "CaptureFrame": "stage_views",
    "TrainFrame": "stage_views",
    "GapFrame": "stage_views",
    "SysidFrame": "stage_views",
    "DeployFrame": "stage_views",
    "RandomizePreview": "stage_views",
}
__all__, __getattr__ = exports(__name__, _PUBLIC)
