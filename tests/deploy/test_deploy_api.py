"""sim2real.api.train and api.export: the verbs a user calls, on the deploy tests' tiny datasets; the
same settings train the same weights as the trainer called by hand (the tiny_run fixture)."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import torch
from sim2real import api


def test_train_by_the_verb_gives_the_fixture_run_and_export_writes_scored_models(tiny_run: Path,
                                                                                 tmp_path: Path) -> None:
    root = tiny_run.parent  # the fixture's tiny.toml and datasets
    summary = api.train(root / "src", tmp_path / "run", target=root / "tgt", eval_set=root / "tev",
                        config=root / "tiny.toml", epochs=1)
    assert summary["epochs_done"] == 1
    mine, theirs = (torch.load(p / "checkpoints" / "epoch_001.pt", map_location="cpu", weights_only=False)["model"]
                    for p in (tmp_path / "run", tiny_run))
    assert mine.keys() == theirs.keys() and all(torch.equal(mine[k], theirs[k]) for k in mine)

    out = api.export(tmp_path / "run", tmp_path / "m.onnx", ["fp32", "fp16"], eval_count=4, iterations=3)
    assert sorted(out["models"]) == ["fp16", "fp32"] and out["parity_max_abs"] < 1e-4
    onnx.checker.check_model(onnx.load(str(tmp_path / "m.onnx")))
    assert (tmp_path / "m.fp16.onnx").is_file()
    assert json.loads(Path(out["report"]).read_text())["models"].keys() == {"fp32", "fp16"}
