"""Training a CycleGAN-style sim->target translator: the run folder, the loop, checkpoints, resume.

Losses (Zhu et al. 2017), ``G: sim -> target``, ``F: target -> sim``, discriminators ``D_t``, ``D_s``:

* generators: LSGAN ``(D_t(G(s)) - 1)² + (D_s(F(t)) - 1)²``, cycle ``λc (|F(G(s)) - s| + |G(F(t)) - t|)``,
  identity ``λi λc (|G(t) - t| + |F(s) - s|)`` (keeps colours where nothing needs to change);
* discriminators: ``½ [(D(real) - 1)² + D(fake)²]`` on fakes drawn from an image pool of past
  generator outputs, *detached* (the seeds' snippet trained its discriminator through the generator's
  output and updated it on the generator's loss).

Adam (lr, betas 0.5/0.999), the lr constant for ``decay_from`` of the run and then linearly to 0.
Determinism: weights from ``torch.manual_seed(seed)``, every draw (batches, flips, pool) from one
``torch.Generator``; its state, the pools and the optimisers are in each checkpoint, so a run killed
at any moment resumes to the same bytes as an uninterrupted run (same machine and thread count).

The folder: ``run.json`` (kind ``translate``), ``config.json``, ``checkpoint.pt`` (every
``checkpoint_every`` iterations), ``translator.pt`` (the sim->target generator: ``Translator``),
``metrics.json`` (loss history per checkpoint interval; image-set distance sim->target before and after
translation on ``eval_images`` images per side), ``samples.png`` (sim, translated, reconstructed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import __version__
from ..errors import InputError, IntegrityError
from ..fsutil import atomic_write_bytes, atomic_write_json, content_hash, locked_dir, remove_stale_tmp
from ..progress import NullReporter, Reporter
from ..runs import claim_run_folder
from ..train.numerics import denormals_flushed, deterministic_algorithms
from ..train.runfolder import CHECKPOINT_FORMAT, load_torch, save_torch
from .apply import TRANSLATOR, TRANSLATOR_KIND, Translator, set_distance, to_tensor
from .config import TranslateConfig
from .models import Generator, ImagePool, PatchDiscriminator

log = logging.getLogger(__name__)

CONFIG, CHECKPOINT, METRICS, SAMPLES = "config.json", "checkpoint.pt", "metrics.json", "samples.png"
LOSSES = ("g_gan", "cycle", "identity", "d")
NETS = ("g", "f", "d_t", "d_s")


@dataclass
class TranslateRequest:
    config: TranslateConfig
    source: Path  # sim images: a sim2real dataset, an image folder or a bag
    target: Path  # unlabelled target images: a folder, a dataset or a bag
    out: Path
    source_topic: str | None = None
    target_topic: str | None = None

    def inputs(self) -> dict[str, Any]:
        return {"source": str(self.source), "target": str(self.target), "source_topic": self.source_topic,
                "target_topic": self.target_topic}


def read_domain(path: Path, size: tuple[int, int], topic: str | None, limit: int | None,
                reporter: Reporter) -> tuple[np.ndarray, dict[str, Any]]:
    """uint8 images of one domain at ``size`` (``sim2real.train``'s image-set reader) and its fingerprint."""
    from ..train.sources import read_image_set

    data = read_image_set(Path(path), size, False, topic, limit, reporter=reporter)
    if len(data) < 2:
        raise InputError(f"{path}: {len(data)} image; expected at least 2")
    return data.images, data.fingerprint


class Cycle:
    """The four networks and their optimisers."""

    def __init__(self, cfg: TranslateConfig) -> None:
        torch.manual_seed(cfg.seed)
        self.nets = {"g": Generator(cfg.width, cfg.blocks), "f": Generator(cfg.width, cfg.blocks),
                     "d_t": PatchDiscriminator(cfg.disc_width, cfg.disc_layers),
                     "d_s": PatchDiscriminator(cfg.disc_width, cfg.disc_layers)}
        betas = (0.5, 0.999)
        gen = list(self.nets["g"].parameters()) + list(self.nets["f"].parameters())
        dis = list(self.nets["d_t"].parameters()) + list(self.nets["d_s"].parameters())
        self.opt_g = torch.optim.Adam(gen, lr=cfg.lr, betas=betas)
        self.opt_d = torch.optim.Adam(dis, lr=cfg.lr, betas=betas)
        self.pools = {"t": ImagePool(cfg.pool_size), "s": ImagePool(cfg.pool_size)}

    def state(self) -> dict[str, Any]:
        return {**{k: n.state_dict() for k, n in self.nets.items()}, "opt_g": self.opt_g.state_dict(),
                "opt_d": self.opt_d.state_dict(), "pools": {k: p.state() for k, p in self.pools.items()}}

    def load(self, state: dict[str, Any]) -> None:
        for k, n in self.nets.items():
            n.load_state_dict(state[k])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        for k, p in self.pools.items():
            p.load(state["pools"][k])

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr

    def step(self, s: torch.Tensor, t: torch.Tensor, cfg: TranslateConfig, g: torch.Generator) -> dict[str, float]:
        G, Fn, Dt, Ds = (self.nets[k] for k in NETS)
        # generators (the discriminators' gradients are computed but discarded: opt_d zeroes them)
        fake_t, fake_s = G(s), Fn(t)
        g_gan = _lsgan(Dt(fake_t), 1.0) + _lsgan(Ds(fake_s), 1.0)
        cycle = F.l1_loss(Fn(fake_t), s) + F.l1_loss(G(fake_s), t)
        identity = F.l1_loss(G(t), t) + F.l1_loss(Fn(s), s) if cfg.lambda_identity > 0 else torch.zeros(())
        loss_g = g_gan + cfg.lambda_cycle * cycle + cfg.lambda_identity * cfg.lambda_cycle * identity
        self.opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.opt_g.step()
        # discriminators, on detached fakes from the pools
        pt, ps = self.pools["t"].query(fake_t, g), self.pools["s"].query(fake_s, g)
        loss_d = 0.5 * (_lsgan(Dt(t), 1.0) + _lsgan(Dt(pt.detach()), 0.0)) + \
            0.5 * (_lsgan(Ds(s), 1.0) + _lsgan(Ds(ps.detach()), 0.0))
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()
        return {"g_gan": g_gan.item(), "cycle": cycle.item(), "identity": identity.item(), "d": loss_d.item()}


def _lsgan(pred: torch.Tensor, label: float) -> torch.Tensor:
    return torch.mean((pred - label) ** 2)


def train(req: TranslateRequest, reporter: Reporter | None = None) -> dict[str, Any]:
    """Train (or resume) the translator in ``req.out``; returns the summary written to metrics.json."""
    rep = reporter or NullReporter()
    cfg, out = req.config, Path(req.out)
    with locked_dir(out, purpose="translator training"), denormals_flushed(), deterministic_algorithms():
        remove_stale_tmp(out)
        src, src_fp = read_domain(req.source, cfg.resolution, req.source_topic, cfg.max_images, rep)
        tgt, tgt_fp = read_domain(req.target, cfg.resolution, req.target_topic, cfg.max_images, rep)
        record = {"config": cfg.model_dump(mode="json"), "inputs": req.inputs(), "fingerprints": {"source": src_fp, "target": tgt_fp}}
        _identity(out, record)
        cycle = Cycle(cfg)
        g = torch.Generator().manual_seed(cfg.seed)
        history = _resume(out, record, cycle, g, rep)
        _loop(cfg, out, record, cycle, g, src, tgt, history, rep)
        save_torch(out / TRANSLATOR, {
            "format": CHECKPOINT_FORMAT, "kind": TRANSLATOR_KIND, "version": 1,
            "resolution": list(cfg.resolution), "width": cfg.width, "blocks": cfg.blocks,
            "model": cycle.nets["g"].state_dict(), "direction": "source -> target"})
        summary = {"iterations": cfg.iterations, "iterations_done": int(history[-1]["iteration"]) if history else 0,
                   "history": history,
                   "distance": _distance(cfg, out, src, tgt, rep)}
        atomic_write_json(out / METRICS, summary)
        rep.artifact("translator", out / TRANSLATOR)
        return summary


def _identity(out: Path, record: dict[str, Any]) -> None:
    parents = {k: v["id"] for k, v in record["fingerprints"].items() if v.get("kind") == "dataset" and "id" in v}
    claim_run_folder(out, "translate", record, parents=parents, config_name=CONFIG)


def _resume(out: Path, record: dict[str, Any], cycle: Cycle, g: torch.Generator, rep: Reporter) -> list[dict[str, float]]:
    path = out / CHECKPOINT
    if not path.is_file():
        return []
    try:
        ckpt = load_torch(path)
    except IntegrityError as exc:  # the only checkpoint: nothing older to fall back to
        log.warning("%s; starting again from iteration 0", exc)
        return []
    if ckpt.get("config_hash") != content_hash(record):
        raise InputError(f"{path}: made with other settings or data; expected a checkpoint of this run")
    cycle.load(ckpt["state"])
    g.set_state(ckpt["generator"])
    torch.set_rng_state(ckpt["torch_rng"])
    rep.message(f"resuming {out} after iteration {ckpt['iteration']}")
    # rebuilt with the code's own key strings: pickle memoises strings by identity, and the bytes of
    # the next checkpoint must not depend on whether its history came from a file
    return [{"iteration": int(h["iteration"]), **{k: float(h[k]) for k in LOSSES}} for h in ckpt["history"]]


def _batch(images: np.ndarray, n: int, g: torch.Generator, hflip: bool) -> torch.Tensor:
    idx = torch.randint(len(images), (n,), generator=g).numpy()
    x = to_tensor(images[idx])
    if hflip:
        flip = torch.rand(n, generator=g) < 0.5
        x[flip] = x[flip].flip(-1)
    return x


def _loop(cfg: TranslateConfig, out: Path, record: dict[str, Any], cycle: Cycle, g: torch.Generator,
          src: np.ndarray, tgt: np.ndarray, history: list[dict[str, float]], rep: Reporter) -> None:
    done = int(history[-1]["iteration"]) if history else 0
    sums = dict.fromkeys(LOSSES, 0.0)
    count = 0
    with rep.task("translate-train", total=cfg.iterations, unit="iter", done=done) as bar:
        for it in range(done, cfg.iterations):
            p = it / cfg.iterations
            decay = 1.0 if p < cfg.decay_from else max(0.0, (1.0 - p) / max(1.0 - cfg.decay_from, 1e-9))
            cycle.set_lr(cfg.lr * decay)
            s = _batch(src, cfg.batch_size, g, cfg.hflip)
            t = _batch(tgt, cfg.batch_size, g, cfg.hflip)
            losses = cycle.step(s, t, cfg, g)
            for k, v in losses.items():
                sums[k] += v
            count += 1
            bar.advance(cycle=round(losses["cycle"], 4))
            n = it + 1
            if n % cfg.checkpoint_every == 0 or n == cfg.iterations:
                history.append({"iteration": n, **{k: v / count for k, v in sums.items()}})
                save_torch(out / CHECKPOINT, {
                    "format": CHECKPOINT_FORMAT, "version": 1, "sim2real_version": __version__,
                    "config_hash": content_hash(record), "iteration": n, "state": cycle.state(),
                    "generator": g.get_state(), "torch_rng": torch.get_rng_state(), "history": list(history)})
                rep.metric("iteration", n, {k: v for k, v in history[-1].items() if k != "iteration"})  # after: on disk
                sums, count = dict.fromkeys(LOSSES, 0.0), 0


def _distance(cfg: TranslateConfig, out: Path, src: np.ndarray, tgt: np.ndarray, rep: Reporter) -> dict[str, Any]:
    """Image-set distance source->target before and after translation, and a sample strip."""
    rng = np.random.default_rng([cfg.seed, 0xD15])
    a = src[rng.permutation(len(src))[: cfg.eval_images]]
    b = tgt[rng.permutation(len(tgt))[: cfg.eval_images]]
    translated = Translator(out / TRANSLATOR)(a)
    before, after = set_distance(a, b, cfg.seed), set_distance(translated, b, cfg.seed)
    _write_samples(out, a[:6], translated[:6])
    rep.metric("distance", cfg.iterations, {f"kid_{k}": v["kid"] for k, v in (("before", before), ("after", after))})
    return {"images": [len(a), len(b)], "features": f"random-conv seed {cfg.seed}", "before": before, "after": after,
            "kid_ratio": after["kid"] / before["kid"] if before["kid"] > 0 else None}


def _write_samples(out: Path, sims: np.ndarray, translated: np.ndarray) -> None:
    import cv2

    strip = np.concatenate([np.concatenate(list(sims), 1), np.concatenate(list(translated), 1)], 0)
    ok, png = cv2.imencode(".png", cv2.cvtColor(strip, cv2.COLOR_RGB2BGR))
    if ok:
        atomic_write_bytes(out / SAMPLES, png.tobytes())
