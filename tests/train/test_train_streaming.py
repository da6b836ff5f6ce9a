"""#26 item 10: training on a dataset larger than memory streams frames from disk through a
``torch.utils.data.Dataset`` over the native reader; its batches are the in-memory loader's, byte for byte."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
import torch
from train_helpers import TINY, make_dataset

from sim2real.errors import InputError
from sim2real.train import runfolder as rf
from sim2real.train import sources
from sim2real.train.config import load_config
from sim2real.train.data import Inputs
from sim2real.train.streaming import FrameDataset, StreamedArray
from sim2real.train.trainer import TrainRequest, train

SIZE = (32, 24)


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stream-data")
    (root / "tiny.toml").write_text(TINY)
    return {"src": make_dataset(root / "src", 20), "tgt": make_dataset(root / "tgt", 8, seed=1, real=True),
            "cfg": root / "tiny.toml"}


def _read(path: Path, stream: bool | None, depth: bool = False) -> sources.ImageData:
    classes = sources.Classes.from_inputs(sources.dataset_class_names(path))
    return sources.read_segment_dataset(path, SIZE, depth, classes, stream=stream)


def test_streamed_frames_equal_the_in_memory_arrays(data: dict[str, Path]) -> None:
    memory, streamed = _read(data["src"], False, depth=True), _read(data["src"], True, depth=True)
    assert not memory.streamed and streamed.streamed and isinstance(streamed.images, StreamedArray)
    assert streamed.images.shape == memory.images.shape and len(streamed) == len(memory)
    pick = np.array([7, 0, 19, 3])
    view_m, view_s = memory.subset(pick), streamed.subset(pick)  # a subset view decodes nothing yet
    assert isinstance(view_s.labels, StreamedArray) and view_s.names == view_m.names
    for a, b in ((view_m.images, view_s.images), (view_m.labels, view_s.labels), (view_m.depth, view_s.depth)):
        assert np.array_equal(a[np.array([2, 0])], b[np.array([2, 0])])
        assert np.array_equal(a[1], b[1]) and np.array_equal(a[1:3], b[1:3])
    frames = streamed.images.frames
    loader = torch.utils.data.DataLoader(frames, batch_size=8, num_workers=2)  # pickled into worker processes
    batches = list(loader)
    assert torch.equal(torch.cat([b["rgb"] for b in batches]), torch.from_numpy(memory.images))
    assert torch.equal(torch.cat([b["mask"] for b in batches]), torch.from_numpy(memory.labels))


def test_the_switch_follows_the_decoded_size(data: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    need = sources.decoded_bytes(20, SIZE, False, True)
    assert need == 20 * 32 * 24 * 4
    monkeypatch.setenv(sources.STREAM_ENV, str((need + 1) / 2**20))
    assert not _read(data["src"], None).streamed
    monkeypatch.setenv(sources.STREAM_ENV, str((need - 1) / 2**20))
    assert _read(data["src"], None).streamed
    monkeypatch.setenv(sources.STREAM_ENV, "lots")
    with pytest.raises(InputError, match=sources.STREAM_ENV):
        _read(data["src"], None)
    monkeypatch.delenv(sources.STREAM_ENV)
    assert sources.stream_threshold() > 2**20  # half the available memory: this one is held in memory
    assert not _read(data["src"], None).streamed


def test_train_streams_a_dataset_above_the_threshold_to_the_same_model(
        data: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    """Two 1-epoch runs of the tiny model, each writing its report (~20 s on 2 busy cores: the run is the test)."""
    cfg = load_config(data["cfg"], {"epochs": 1, "method": "dann", "validators": ["entropy"]})
    inputs = Inputs(data["src"], data["tgt"])
    in_memory = train(TrainRequest(cfg, inputs, tmp_path / "memory"))
    monkeypatch.setenv(sources.STREAM_ENV, "0")  # every dataset streams
    with caplog.at_level(logging.INFO, logger="sim2real.train.sources"):
        streamed = train(TrainRequest(cfg, inputs, tmp_path / "streamed"))
    assert sum("streamed from disk" in r.getMessage() for r in caplog.records) == 2  # source and target
    assert streamed["epochs_done"] == in_memory["epochs_done"] == 1
    (m_mem, _), (m_str, _) = rf.load_model(tmp_path / "memory"), rf.load_model(tmp_path / "streamed")
    for (name, a), b in zip(m_mem.state_dict().items(), m_str.state_dict().values(), strict=True):
        # the same batches; the input standardisation is summed in another order (float64, ~1e-16)
        assert torch.allclose(a.float(), b.float(), atol=1e-4), name
