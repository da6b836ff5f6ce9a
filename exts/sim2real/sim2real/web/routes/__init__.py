"""The web panel's routers, one per page: ``profile`` (the profile editor), ``frames`` (a stage's form
and its jobs), ``jobs`` (a job's block, cancel, artefacts), ``targets`` (deploy targets)."""
