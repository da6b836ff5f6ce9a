"""#26: the report's ONNX metadata table showed Python reprs (``{'mean': [0.485...], ...}``)."""

from __future__ import annotations

from sim2real.pipeline.deploy import metadata_rows


def test_onnx_metadata_reads_as_a_table() -> None:
    meta = {"input": {"name": "image", "shape": [1, 3, 96, 128], "layout": "NCHW", "channels": ["r", "g", "b"]},
            "output": {"name": "logits", "shape": [1, 4, 96, 128], "kind": "segment"},
            "classes": ["background", "cube"], "normalization": {"mean": [0.48512345, 0.456, 0.406],
                                                                 "std": [0.229, 0.224, 0.225]},
            "run_id": "train-1", "dataset_id": "ds-2"}
    rows = dict(metadata_rows(meta))
    assert rows["input"] == "image 1×3×96×128 (NCHW, r, g, b)" and rows["output"] == "logits 1×4×96×128 (segment)"
    assert rows["normalisation mean"] == "0.4851, 0.456, 0.406" and rows["normalisation std"] == "0.229, 0.224, 0.225"
    assert not any(ch in str(v) for v in rows.values() for ch in "{}[]'")
