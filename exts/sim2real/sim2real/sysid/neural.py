"""Neural identification: the seeds' MLP on the input and the previous output
(``NeuralSystemIdentifier``), used as a one-step residual on top of the calibrated simulator.

The seeds train an MLP from ``[input, previous real output]`` to the next real output, on all the data,
and judge it on the data it learned. Here:

* the calibrated simulator predicts each sample from the state measured one sample earlier
  (``Problem.one_step``); the MLP predicts what it still gets wrong, from the last ``lags`` samples of
  the commands and of the measured outputs (the seeds' "input + previous output"). Simulator + MLP is a
  one-step-ahead model, as the seeds' is, whose physics are the calibrated simulator's: the MLP only
  learns what the physical parameters cannot represent (unmodelled friction, a cubic spring...);
* inputs and targets are standardised with the training rows' statistics;
* train/validation split by log (the last fitted log validates when there are several), otherwise by
  time (the last ``val_fraction`` of each log) — never by shuffled rows, which would leak neighbouring
  samples into validation; early stopping keeps the weights with the best validation loss;
* the held-out rows of ``sysid fit`` (a third set) are what the report shows, next to the simulator's
  own one-step predictions;
* seeded (``torch.Generator``), CPU, deterministic for a seed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .. import checksums
from ..errors import InputError
from ..progress import NullReporter, Reporter

log = logging.getLogger(__name__)


class ResidualMLP(nn.Module):
    """The seeds' network: three hidden ReLU layers."""

    def __init__(self, n_in: int, n_out: int, hidden: int = 64) -> None:
        super().__init__()
        self.network = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, n_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.network(x)


def features(commands: np.ndarray, outputs: np.ndarray, lags: int) -> np.ndarray:
    """Per row: the commands and measured outputs of that row and the ``lags`` before it (the first
    row repeated before the start). ``(N, (A + C) * (lags + 1))``."""
    x = np.concatenate([commands, outputs], axis=1)
    padded = np.concatenate([np.repeat(x[:1], lags, axis=0), x])
    return np.concatenate([padded[lags - k: lags - k + len(x)] for k in range(lags + 1)], axis=1)


@dataclass
class Segment:
    """Consecutive rows of one log: the command held and the outputs measured at each row, and what the
    simulator's prediction of the *next* row missed (``target``)."""

    commands: np.ndarray  # (N, A)
    outputs: np.ndarray  # (N, C)
    target: np.ndarray  # (N, C)


@dataclass
class ResidualModel:
    net: ResidualMLP
    lags: int
    x_mean: np.ndarray
    x_std: np.ndarray
    y_mean: np.ndarray
    y_std: np.ndarray
    channels: list[str]
    history: dict[str, list[float]] = field(default_factory=dict)

    def predict(self, commands: np.ndarray, outputs: np.ndarray) -> np.ndarray:
        """For each row, the predicted error of the simulator's prediction of the next row, ``(N, C)``."""
        x = (features(commands, outputs, self.lags) - self.x_mean) / self.x_std
        with torch.no_grad():
            y = self.net(torch.as_tensor(x, dtype=torch.float32)).numpy().astype(np.float64)
        return y * self.y_std + self.y_mean

    _ARRAYS = ("x_mean", "x_std", "y_mean", "y_std")

    def save(self, path: str | PathLike[str]) -> Path:
        """Tensors and plain values only (``torch.load(weights_only=True)`` reads it back: no pickle
        of ours is executed), with a sha256 sidecar (``checksums``)."""
        import io

        buf = io.BytesIO()
        torch.save({"state_dict": self.net.state_dict(), "lags": self.lags, "channels": self.channels,
                    **{k: torch.from_numpy(np.asarray(getattr(self, k))) for k in self._ARRAYS},
                    "hidden": self.net.network[0].out_features, "history": self.history}, buf)
        return checksums.write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: str | PathLike[str]) -> ResidualModel:
        checksums.verify(path)
        try:
            d: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
            arrays = {k: d[k].numpy() for k in cls._ARRAYS}
            net = ResidualMLP(len(arrays["x_mean"]), len(arrays["y_mean"]), d["hidden"])
            net.load_state_dict(d["state_dict"])
        except Exception as exc:  # torch raises many types for a foreign or corrupt file
            raise InputError(f"{path}: not a residual model saved by sim2real sysid "
                             f"({type(exc).__name__}: {str(exc)[:120]})") from None
        return cls(net, d["lags"], **arrays, channels=d["channels"], history=d["history"])


def _split(segments: Sequence[Segment], val_fraction: float) -> tuple[list[Segment], list[Segment]]:
    if len(segments) >= 2:
        return list(segments[:-1]), [segments[-1]]
    train, val = [], []
    for s in segments:
        cut = int(len(s.commands) * (1 - val_fraction))
        train.append(Segment(s.commands[:cut], s.outputs[:cut], s.target[:cut]))
        val.append(Segment(s.commands[cut:], s.outputs[cut:], s.target[cut:]))
    return train, val


def _arrays(segments: Sequence[Segment], lags: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([features(s.commands, s.outputs, lags) for s in segments])
    y = np.concatenate([s.target for s in segments])
    return x, y


def train_residual(segments: Sequence[Segment], channels: Sequence[str], lags: int = 5, hidden: int = 64,
                   epochs: int = 300, lr: float = 2e-3, batch: int = 64, patience: int = 30,
                   val_fraction: float = 0.2, seed: int = 0, reporter: Reporter | None = None) -> ResidualModel:
    """Fit the residual MLP on the fitted rows (split as the module docstring says)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a network this small only loses time synchronising threads
    try:
        return _train(segments, channels, lags, hidden, epochs, lr, batch, patience, val_fraction, seed,
                      reporter or NullReporter())
    finally:
        torch.set_num_threads(threads)


def _train(segments: Sequence[Segment], channels: Sequence[str], lags: int, hidden: int, epochs: int, lr: float,
           batch: int, patience: int, val_fraction: float, seed: int, reporter: Reporter) -> ResidualModel:
    train, val = _split(segments, val_fraction)
    xt, yt = _arrays(train, lags)
    xv, yv = _arrays(val, lags)
    if len(xt) < 10 * (lags + 1) or len(xv) < lags + 1:
        raise InputError(f"neural residual: {len(xt)} training and {len(xv)} validation rows; expected longer logs")
    x_mean, x_std = xt.mean(0), np.where(xt.std(0) > 0, xt.std(0), 1.0)
    y_mean, y_std = yt.mean(0), np.where(yt.std(0) > 0, yt.std(0), 1.0)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # layer initialisation draws from the global generator
    net = ResidualMLP(xt.shape[1], yt.shape[1], hidden)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    loss_fn = nn.MSELoss()
    Xt = torch.as_tensor((xt - x_mean) / x_std, dtype=torch.float32)
    Yt = torch.as_tensor((yt - y_mean) / y_std, dtype=torch.float32)
    Xv = torch.as_tensor((xv - x_mean) / x_std, dtype=torch.float32)
    Yv = torch.as_tensor((yv - y_mean) / y_std, dtype=torch.float32)
    best, best_state, since = float("inf"), None, 0
    history: dict[str, list[float]] = {"train": [], "val": []}
    with reporter.task("neural residual", total=epochs, unit="epoch") as task:
        for epoch in range(epochs):
            net.train()
            order = torch.randperm(len(Xt), generator=gen)
            total = 0.0
            for i in range(0, len(Xt), batch):
                idx = order[i:i + batch]
                opt.zero_grad()
                loss = loss_fn(net(Xt[idx]), Yt[idx])
                loss.backward()
                opt.step()
                total += float(loss.detach()) * len(idx)
            net.eval()
            with torch.no_grad():
                v = float(loss_fn(net(Xv), Yv))
            history["train"].append(total / len(Xt))
            history["val"].append(v)
            reporter.metric("neural", epoch, {"train": total / len(Xt), "val": v})
            task.advance(val_loss=round(v, 5))
            if v < best - 1e-6:
                best, best_state, since = v, {k: t.clone() for k, t in net.state_dict().items()}, 0
            else:
                since += 1
                if since >= patience:
                    break
    if best_state is not None:
        net.load_state_dict(best_state)
    log.info("neural residual: best validation loss %.4g (standardised) after %d epochs", best, len(history["val"]))
    return ResidualModel(net, lags, x_mean, x_std, y_mean, y_std, list(channels), history)
