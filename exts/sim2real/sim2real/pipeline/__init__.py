"""The pipeline: one run from randomization to a benchmarked edge model, with a report.

``sim2real run PIPELINE.toml`` (``cli.py``) and ``sim2real demo`` run ``runner.run_pipeline``: stages
generate -> target -> train (one per method) -> gap -> sysid -> export -> quantize -> deploy -> report,
each in its own folder with a ``stage.json`` record, skipped on a re-run when nothing it depends on
changed, resumed when it was interrupted. Format and behaviour: ``exts/sim2real/docs/pipeline.md``.
Importing this package is cheap.
"""
