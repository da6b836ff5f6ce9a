"""The sysid fit checkpoint carries a sha256 (issue 22): a changed digit of ``x`` still parses as
JSON and would be resumed from; now the fit warns and starts again."""

from __future__ import annotations

import json
import logging
from pathlib import Path
import numpy as np

from sim2real.sysid.fit import CHECKPOINT, FitOptions, identify
from sysid_fixtures import arm2_clean_logs_fixture, arm2_sim_fixture  # noqa: F401 (fixtures by name)
from sysid_helpers import ARM2_PARAMS


def test_a_changed_checkpoint_is_not_resumed_from(arm2_sim, arm2_clean_logs, tmp_path: Path, caplog) -> None:
    checkpoint = tmp_path / CHECKPOINT
    identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, max_iter=2), checkpoint=checkpoint, sim=arm2_sim)
    assert (tmp_path / f"{CHECKPOINT}.sha256").is_file()
    saved = json.loads(checkpoint.read_text())
    text = checkpoint.read_text()
    first = repr(saved["x"][0])
    checkpoint.write_text(text.replace(first, repr(saved["x"][0] * 3.0), 1))  # bit rot that still parses
    assert json.loads(checkpoint.read_text())["x"][0] != saved["x"][0]
    with caplog.at_level(logging.WARNING):
        again = identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, max_iter=2), checkpoint=checkpoint,
                         sim=arm2_sim)
    assert again.resumed_from is None and "checkpoint.json: sha256" in caplog.text and "starting the fit again" in caplog.text
    resumed = identify(FitOptions("arm2", arm2_clean_logs, ARM2_PARAMS, max_iter=2), checkpoint=checkpoint, sim=arm2_sim)
    assert resumed.resumed_from is not None  # the rewritten checkpoint verifies


class _Payload:
    """What a hostile residual.pt would carry: unpickling it runs code (here: touches a file)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_residual_model_is_checked_and_never_unpickles_code(tmp_path: Path) -> None:
    """``residual.pt`` was read with ``torch.load(weights_only=False)``: a file handed over as a model
    ran code on load, and a flipped byte went unnoticed. Now tensors only, and a sha256 sidecar."""
    import pytest
    import torch

    from sim2real.errors import InputError, IntegrityError
    from sim2real.sysid.neural import ResidualMLP, ResidualModel
    from testlib import flip_stored_byte

    marker = tmp_path / "ran"
    hostile = tmp_path / "hostile.pt"
    torch.save({"payload": _Payload(marker)}, hostile)
    with pytest.raises(InputError, match="hostile.pt: not a residual model"):
        ResidualModel.load(hostile)
    assert not marker.exists()

    torch.manual_seed(0)
    model = ResidualModel(ResidualMLP(6, 2, 8), 2, *(np.arange(n, dtype=np.float64) + 1 for n in (6, 6, 2, 2)),
                          ["a", "b"], {"val": [1.0]})
    path = model.save(tmp_path / "residual.pt")
    loaded = ResidualModel.load(path)
    np.testing.assert_array_equal(loaded.x_std, model.x_std)
    flip_stored_byte(path)
    with pytest.raises(IntegrityError, match="residual.pt: sha256"):
        ResidualModel.load(path)


def test_one_log_splits_by_time() -> None:
    """With a single log the residual's validation rows are its last ones (``Segment`` has no
    ``measured``: this raised AttributeError, so ``--residual`` on one log crashed)."""
    from sim2real.sysid.neural import Segment, _split

    seg = Segment(np.zeros((10, 1)), np.arange(20.0).reshape(10, 2), np.zeros((10, 2)))
    (train,), (val,) = _split([seg], 0.3)
    assert len(train.commands) == 7 and np.array_equal(val.outputs, seg.outputs[7:])
