"""The training loop: one epoch at a time, a checkpoint after each, resumable after a kill.

Determinism: the model is initialised from ``torch.manual_seed(seed)``, every random draw of the
loop (data order, augmentation, target batches, CORAL/MMD subsampling) comes from one
``torch.Generator`` seeded with ``seed``, dropout uses torch's global generator, and
``torch.use_deterministic_algorithms(True)`` is on (for the run only: ``numerics.py``). Both generators' states are saved with each
checkpoint, so a run killed at any moment and started again with the same command continues from
the last finished epoch and ends with the same weights, bit for bit (same machine and thread
count). There are no data-loader worker processes: the inputs are decoded once into memory.

Multi-GPU: see ``distributed.py``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from torch import nn

from .. import __version__, checksums
from ..errors import InputError, IntegrityError, UnsupportedError
from ..fsutil import atomic_write_json, content_hash, locked_dir, remove_stale_tmp
from ..progress import NullReporter, Reporter
from ..runs import new_run_id, read_run_info, write_run_info
from . import data as data_mod
from . import runfolder as rf
from .augment import Augment
from .numerics import denormals_flushed, deterministic_algorithms
from .config import VALIDATOR_SIGN, TrainConfig
from .methods import Method, dann_alpha, make_method
from .models import has_batch_norm
from .optim import make_optimizer, make_schedule
from .selection import LAST, Choice, choose, prune
from .distributed import Dist
from .evaluation import Models, domain_models, epoch_scores
from .taskmap import make_task
from .tasks import Task

log = logging.getLogger(__name__)
T = TypeVar("T")

LOG_EVERY = 5  # TensorBoard: a point every few steps
PREFETCH = 2  # batches assembled ahead of the model
AUGMENT_SEED_OFFSET = 0x5EED


SourceTransform = Callable[[Any, Reporter], Any]  # the source ImageData -> the ImageData trained on


@dataclass
class TrainRequest:
    config: TrainConfig
    inputs: data_mod.Inputs
    out: Path
    # what ``config.translate`` asks for, handed in by the caller (training never imports a translator):
    # ``sim2real.translate.augment.source_translation(config)``
    translate_source: SourceTransform | None = None


class Step(nn.Module):
    """One training step's forward, as a module (so DistributedDataParallel can wrap it)."""

    def __init__(self, model: nn.Module, method: Method, task: Task, on_output: bool = False,
                 separate_bn: bool = False) -> None:
        super().__init__()
        self.model = model
        self.method = method
        self.task = task
        self.on_output = on_output
        self.separate_bn = separate_bn

    def forward(self, xs: torch.Tensor, ys: torch.Tensor, xt: torch.Tensor | None, p: float, lam: float,
                g: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
        n = len(xs)
        if xt is not None and self.separate_bn:  # each domain's batch normalised by its own statistics
            feats = torch.cat([self.model.represent(xs), self.model.represent(xt)])
        else:
            feats = self.model.represent(xs if xt is None else torch.cat([xs, xt]))
        task_loss = self.task.loss(self.model.predict(feats[:n]), ys)
        logs: dict[str, float] = {"task_loss": task_loss.item()}
        if xt is None:
            return task_loss, logs
        if self.on_output:  # adversarial on the predictions (Tsai et al. 2018) instead of the features
            feats = torch.softmax(self.model.predict(feats), dim=1)
        adapt, extra = self.method.loss(feats[:n], feats[n:], p, g)
        logs.update(extra, adapt_loss=adapt.item())
        logs["lambda"] = lam
        return task_loss + lam * adapt, logs


def train(request: TrainRequest, reporter: Reporter | None = None) -> dict[str, Any]:
    """Train (or resume) the run in ``request.out``; returns the summary also written to metrics.json."""
    reporter = reporter or NullReporter()
    dist = Dist(request.config.device)
    try:
        if not dist.main:
            return Run(request, reporter, dist).run()
        with locked_dir(request.out, purpose="training"):
            remove_stale_tmp(request.out)
            return Run(request, reporter, dist).run()
    finally:
        dist.close()


class Run:
    def __init__(self, request: TrainRequest, reporter: Reporter, dist: Dist) -> None:
        self.req = request
        self.cfg = request.config
        self.out = Path(request.out)
        self.rep = reporter
        self.dist = dist
        self.device = dist.device

    # ------------------------------------------------------------------ set-up
    def run(self) -> dict[str, Any]:
        with denormals_flushed(), deterministic_algorithms(warn_only=self.device.type == "cuda"):
            summary = self._loop(self.setup())
            if self.dist.main and summary["epochs_done"]:
                from .report import write_train_report

                self.rep.artifact("report", write_train_report(self.out, summary, self.data))
            return summary

    def setup(self) -> int:
        """Read the data, build everything, resume; returns the last finished epoch."""
        cfg = self.cfg
        self.dist.check_batch(cfg.batch_size)
        self._check_config()
        if cfg.translate is not None and self.req.translate_source is None:
            raise UnsupportedError("translate: this caller gave training no translator; pass TrainRequest("
                                   "translate_source=sim2real.translate.augment.source_translation(config))")
        self.data = data_mod.load(cfg, self.req.inputs, self.rep)
        if self.req.translate_source is not None:  # sim->target translation of the source (labels unchanged)
            self.data.train = self.req.translate_source(self.data.train, self.rep)
        self.task = make_task(cfg, self.data.classes)
        self.norm = self.task.input_norm(self.data.train, self.data.target)
        self.class_weights = self.task.set_class_weights(self.data.train)
        torch.manual_seed(cfg.seed)
        self.model, model_config = self.task.build_model(self.data.train)
        self.model.to(self.device)
        on_output = cfg.dann_input == "output" and cfg.method == "dann"
        self.method = make_method(cfg.method, len(self.data.classes) if on_output else self.model.feature_dim,
                                  maps=self.model.feature_maps, hidden=cfg.dann_hidden).to(self.device)
        if cfg.method == "adabn":
            if not has_batch_norm(self.model):
                raise UnsupportedError("--method adabn: the model has no batch-norm layers (state task: model.batch_norm = true)")
        self.step_module = self.dist.wrap(Step(self.model, self.method, self.task, on_output,
                                               separate_bn=cfg.domain_bn == "separate"))
        self.opt = make_optimizer(cfg, list(self.model.parameters()) + list(self.method.parameters()))
        self.steps_per_epoch = len(self.data.train) // cfg.batch_size
        self.total_steps = self.steps_per_epoch * cfg.epochs
        self.sched = make_schedule(cfg, self.opt, self.total_steps)
        self.g = torch.Generator().manual_seed(cfg.seed)
        self.g_aug = torch.Generator().manual_seed(self.dist.seed(cfg.seed + AUGMENT_SEED_OFFSET))
        self.augment = Augment(cfg.augment)
        self.history: list[dict[str, Any]] = []
        self.spec = self._spec(model_config)
        self._check_fingerprints()
        if self.dist.main:
            self._write_identity()
        start = self._resume()
        self.validators = [v for v in (cfg.validators or []) if v == "source" or self.data.target is not None]
        self.select = cfg.select if cfg.select == LAST or cfg.select in self.validators else "source"
        if self.select != cfg.select:
            self.rep.message(f"validator {cfg.select} needs --target images; best.pt is chosen by 'source' instead",
                             "warning")
        if start and self.dist.main:
            self._reconcile()
        return start

    def _check_config(self) -> None:
        """A run folder holds one experiment: resuming with other settings or data is refused."""
        wanted = self._config_record()
        path = self.out / rf.CONFIG
        if not path.is_file():
            return
        try:
            have = json.loads(path.read_text())
            have.pop("fingerprints", None)
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: unreadable ({exc}); remove the run folder or choose another --out") from None
        diffs = _differences(have, wanted)
        if diffs:
            raise InputError(f"{self.out}: holds a run with other settings ({'; '.join(diffs[:4])}); "
                             "expected the same command to resume, or choose another --out")

    def _check_fingerprints(self) -> None:
        """The data must be what the run started with (a dataset that grew is other data)."""
        path = self.out / rf.CONFIG
        if not path.is_file():
            return
        have = json.loads(path.read_text()).get("fingerprints", {})
        diffs = _differences(have, self.data.fingerprints())
        if diffs:
            raise InputError(f"{self.out}: the run started on other data ({'; '.join(diffs[:3])}); "
                             "expected the same inputs to resume, or choose another --out")

    def _config_record(self) -> dict[str, Any]:
        return {"config": self.cfg.model_dump(mode="json"), "inputs": self.req.inputs.to_dict()}

    def _spec(self, model_config: dict[str, Any]) -> rf.ModelSpec:
        cfg = self.cfg
        if cfg.task == "state":
            tr = self.data.train
            assert self.task.target_norm is not None  # type: ignore[attr-defined]
            tn = self.task.target_norm  # type: ignore[attr-defined]
            inp: dict[str, Any] = {"features": tr.feature_names}
            outputs = {"mean": tn.mean, "std": tn.std, "note": "outputs are standardised: y = out * std + mean"}
        else:
            w, h = cfg.resolution
            inp = {"width": w, "height": h, "channels": ["r", "g", "b"] + (["depth"] if cfg.depth else []),
                   "range": "rgb / 255 (0..1), depth in metres", "layout": "NCHW",
                   "resize": "centre crop to the aspect ratio, then area resize"}
            outputs = self.task.output_spec()
        return rf.ModelSpec(
            arch=self.model.arch, config=model_config, task=cfg.task, classes=list(self.data.classes), input=inp,
            normalization={"mean": self.norm.mean, "std": self.norm.std},
            depth_units="m" if cfg.depth else None, outputs=outputs, method=cfg.method)

    def _write_identity(self) -> None:
        """run.json (kept from the first start), config.json and model.json."""
        fps = self.data.fingerprints()
        try:
            run_id = read_run_info(self.out, "train")["id"]
        except InputError:
            run_id = new_run_id("train")
        self.spec.run_id = run_id
        parents = {k: v["id"] for k, v in fps.items() if v and v.get("kind") == "dataset"}
        extra = {"profile_hash": (fps["source"] or {}).get("profile_hash"), "target": fps["target"],
                 "source": fps["source"], "eval": fps["eval"], "config_hash": content_hash(self._config_record())}
        self.out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.out / rf.CONFIG, {**self._config_record(), "fingerprints": fps})
        rf.write_spec(self.out, self.spec)
        write_run_info(self.out, "train", run_id, inputs=self._config_record(), parents=parents, extra=extra)

    def _resume(self) -> int:
        epochs = rf.checkpoint_epochs(self.out)
        for epoch in reversed(epochs):
            path = rf.checkpoint_path(self.out, epoch)
            try:
                ckpt = rf.load_torch(path)
            except (InputError, IntegrityError) as exc:  # corrupt or torn by something else: fall back one epoch
                log.warning("%s; falling back to the checkpoint before it", exc)
                continue
            rf.check_same_model(ckpt, self.spec, path)
            if ckpt.get("config_hash") != content_hash(self._config_record()):
                raise InputError(f"{path}: made with other settings; expected a checkpoint of this run")
            rf.load_weights(self.model, ckpt["model"], path)
            try:
                self.method.load_state_dict(ckpt["method"])
                self.opt.load_state_dict(ckpt["optimizer"])
            except (RuntimeError, ValueError, KeyError):  # e.g. an older DANN held both discriminators
                raise InputError(f"{path}: its {self.cfg.method} state does not fit this version's; expected a "
                                 "checkpoint of this sim2real version, or choose another --out") from None
            self.sched.load_state_dict(ckpt["scheduler"])
            torch.set_rng_state(ckpt["rng"]["torch"])
            self.g.set_state(ckpt["rng"]["generator"])
            self.g_aug.set_state(_rank_state(ckpt["rng"], self.dist.rank, self.dist.world, self.g_aug.get_state()))
            self.history = list(ckpt["history"])
            self.rep.message(f"resuming {self.out} after epoch {epoch} of {self.cfg.epochs}")
            return epoch
        return 0

    # ------------------------------------------------------------------ the loop
    def _loop(self, start: int) -> dict[str, Any]:
        cfg = self.cfg
        tb = self._tensorboard(start)
        n_img = self.steps_per_epoch * cfg.batch_size
        task = self.rep.task("train", total=cfg.epochs * n_img, unit="img", done=start * n_img)
        try:
            for epoch in range(start + 1, cfg.epochs + 1):
                train_logs = self._epoch(epoch, task, tb)
                self.augment_states = self.dist.gather(self.g_aug.get_state())  # also a barrier
                if self.dist.main:
                    self._end_epoch(epoch, train_logs, tb)
                self.dist.barrier()
        finally:
            task.close()
            if tb is not None:
                tb.close()
        return self._summary()

    def _tensorboard(self, start: int) -> Any:
        if not self.dist.main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            from ..errors import NotInstalledError

            raise NotInstalledError("TensorBoard logging (tensorboard)", "pip install 'sim2real[train]'") from None
        # purge_step: TensorBoard drops points a killed run logged after its last checkpoint
        return SummaryWriter(str(self.out / rf.TB), purge_step=start * self.steps_per_epoch if start else None)

    def _epoch(self, epoch: int, task: Any, tb: Any) -> dict[str, float]:
        cfg = self.cfg
        self.model.train()
        self.method.train()
        sums: dict[str, float] = {}
        started = time.perf_counter()
        for i, (xs, ys, xt) in enumerate(self._batches()):
            step = (epoch - 1) * self.steps_per_epoch + i
            p = step / max(self.total_steps, 1)
            lam = cfg.adapt_weight * (1.0 if cfg.method == "dann" or cfg.adapt_schedule == "constant" else dann_alpha(p))
            loss, logs = self.step_module(xs, ys, xt, p, lam, self.g)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            self.sched.step()
            logs["loss"] = loss.item()
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            task.advance(cfg.batch_size, epoch=epoch, loss=round(logs["loss"], 4))
            if tb is not None and step % LOG_EVERY == 0:
                for k, v in logs.items():
                    tb.add_scalar(f"train/{k}", v, step)
                tb.add_scalar("train/lr", self.sched.get_last_lr()[0], step)
        seconds = time.perf_counter() - started
        out = {k: v / max(self.steps_per_epoch, 1) for k, v in sums.items()}
        out["images_per_s"] = self.steps_per_epoch * cfg.batch_size / seconds if seconds > 0 else 0.0
        out["seconds"] = seconds
        return out

    def _batches(self) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """One epoch of ``(source x, source y, target x or None)``, assembled (indexing, scaling,
        augmentation, standardisation) a batch or two ahead on a helper thread while the model
        computes. The data order comes from the run generator, drawn here, before the thread
        starts; augmentation has its own generator, used by that one thread only, in batch order."""
        cfg, b = self.cfg, self.cfg.batch_size
        order = torch.randperm(len(self.data.train), generator=self.g).numpy()
        target = self.data.target if self.method.uses_target and cfg.method != "adabn" else None
        t_order = self._target_order(target)

        def make(i: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
            idx = self.dist.share(order[i * b : (i + 1) * b])
            xs, ys = self.task.batch(self.data.train, idx, self.norm, self.device, self.augment, self.g_aug)
            xt = None
            if target is not None:
                t_idx = self.dist.share(t_order[i * b : (i + 1) * b])
                xt, _ = self.task.batch(target, t_idx, self.norm, self.device,
                                        self.augment if cfg.augment.target else None, self.g_aug, labels=False)
            assert ys is not None
            return xs, ys, xt

        return prefetched(make, range(self.steps_per_epoch))

    def _target_order(self, target: Any) -> np.ndarray:
        """Target indices for a whole epoch: permutations of the target set, end to end."""
        if target is None:
            return np.zeros(0, dtype=np.int64)
        need = self.steps_per_epoch * self.cfg.batch_size
        parts, have = [], 0
        while have < need:
            parts.append(torch.randperm(len(target), generator=self.g).numpy())
            have += len(target)
        return np.concatenate(parts)[:need]

    # ------------------------------------------------------------------ end of an epoch
    def _end_epoch(self, epoch: int, train_logs: dict[str, float], tb: Any) -> None:
        started = time.perf_counter()
        models = self._models()
        inference = models.target
        record = {"epoch": epoch, "train": train_logs, **self._evaluate(models, epoch)}
        record["eval_seconds"] = time.perf_counter() - started
        self.history.append(record)
        self._save_checkpoint(epoch, inference)
        self._write_metrics()
        self._update_best(epoch, inference)
        self._prune()
        if tb is not None:
            # the step of the epoch's last batch: a resume after this epoch purges from the next
            # epoch's first step (``_tensorboard``), which must not take this epoch's point with it
            step = epoch * self.steps_per_epoch - 1
            for k, v in record["validators"].items():
                tb.add_scalar(f"validators/{k}", v, step)
            for side in ("source", "target", "alignment"):
                for k, v in record.get(side, {}).items():
                    if isinstance(v, int | float):
                        tb.add_scalar(f"{side}/{k}", v, step)
            tb.flush()
        values = {"loss": train_logs.get("loss", float("nan")), **{f"val.{k}": v for k, v in record["validators"].items()}}
        if record.get("target"):
            values[f"target.{self.task.metric}"] = record["target"][self.task.metric]
        if record.get("alignment"):
            values["align.mmd2"] = record["alignment"]["mmd2"]
        values["images_per_s"] = train_logs["images_per_s"]
        self.rep.metric("epoch", epoch, values, echo=True)

    def _models(self) -> Models:
        return domain_models(self.model, self.cfg, self.data, self.task, self.norm, self.device)

    def _evaluate(self, models: Models, epoch: int) -> dict[str, Any]:
        return epoch_scores(models, self.data, self.task, self.norm, self.device, self.cfg, self.validators, epoch)

    def _save_checkpoint(self, epoch: int, inference: nn.Module) -> None:
        ckpt = {
            "format": rf.CHECKPOINT_FORMAT, "version": rf.FORMAT_VERSION, "sim2real_version": __version__,
            "epoch": epoch, "arch": self.spec.arch, "model_config": self.spec.config,
            "config_hash": content_hash(self._config_record()),
            "model": self.model.state_dict(),
            "inference": None if inference is self.model else inference.state_dict(),
            "method": self.method.state_dict(), "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "rng": {"torch": torch.get_rng_state(), "generator": self.g.get_state(), "augment": self.g_aug.get_state(),
                    "augment_ranks": self.augment_states},
            "history": self.history,
        }
        (self.out / rf.CHECKPOINTS).mkdir(parents=True, exist_ok=True)
        rf.save_torch(rf.checkpoint_path(self.out, epoch), ckpt)

    def _choice(self) -> Choice | None:
        return choose(self.history, self.select)

    def _update_best(self, epoch: int, inference: nn.Module) -> None:
        choice = self._choice()
        if choice is not None and choice.epoch == epoch:
            self._write_best(choice, inference.state_dict())

    def _write_best(self, choice: Choice, weights: dict[str, Any]) -> None:
        rf.save_torch(self.out / rf.BEST, {
            "format": rf.CHECKPOINT_FORMAT, "version": rf.FORMAT_VERSION, "epoch": choice.epoch, "arch": self.spec.arch,
            "model_config": self.spec.config, "model": weights, "inference": None, **choice.to_dict()})
        atomic_write_json(self.out / rf.BEST_INFO, {
            **choice.to_dict(), "checkpoint": str(rf.checkpoint_path(self.out, choice.epoch).relative_to(self.out))})

    def _reconcile(self) -> None:
        """After a resume: metrics.json and best.pt as the checkpointed history says (a kill between
        writing a checkpoint and them leaves them one epoch behind)."""
        self._write_metrics()
        choice = self._choice()
        if choice is None:
            return
        try:
            have = json.loads((self.out / rf.BEST_INFO).read_text()).get("epoch")
        except (OSError, ValueError):
            have = None
        if have != choice.epoch or not self._best_is_intact():
            ckpt = rf.load_torch(rf.checkpoint_path(self.out, choice.epoch))
            self._write_best(choice, ckpt["inference"] or ckpt["model"])

    def _best_is_intact(self) -> bool:
        best = self.out / rf.BEST
        if not best.is_file():
            return False
        try:
            checksums.verify(best)
        except IntegrityError as exc:
            log.warning("%s; writing it again from its epoch's checkpoint", exc)
            return False
        return True

    def _prune(self) -> None:
        choice = self._choice()
        prune(self.out, self.cfg.keep_checkpoints, None if choice is None else choice.epoch)

    def _write_metrics(self) -> None:
        atomic_write_json(self.out / rf.METRICS, self._summary())

    def _summary(self) -> dict[str, Any]:
        choice = self._choice()
        last = self.history[-1] if self.history else {}
        return {
            "task": self.cfg.task, "method": self.cfg.method, "metric": self.task.metric,
            "epochs": self.cfg.epochs, "epochs_done": len(self.history), "classes": self.data.classes,
            "class_weights": self.class_weights,
            "select": self.select, "validator_signs": {k: VALIDATOR_SIGN[k] for k in self.validators},
            "best": None if choice is None else choice.to_dict(),
            "final": {k: last.get(k) for k in ("validators", "source", "target")},
            # the scores of the checkpoint best.pt holds (its own epoch's), beside the last epoch's ("final")
            "shipped": None if choice is None else {k: self.history[choice.epoch - 1].get(k) for k in ("source", "target")},
            "history": self.history,
        }


def prefetched(make: Callable[[int], T], steps: Iterable[int], depth: int = PREFETCH) -> Iterator[T]:
    """``make(i)`` for each step, computed up to ``depth`` steps ahead on one helper thread (so in
    order: whatever generator ``make`` uses is used sequentially, as without the thread)."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    it = iter(steps)
    with ThreadPoolExecutor(1, thread_name_prefix="sim2real-batches", initializer=torch.set_flush_denormal,
                            initargs=(True,)) as pool:
        pending = deque(pool.submit(make, i) for _, i in zip(range(depth), it, strict=False))
        while pending:
            result = pending.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                pending.append(pool.submit(make, nxt))
            yield result


def _rank_state(rng: dict[str, Any], rank: int, world: int, fresh: torch.Tensor) -> torch.Tensor:
    """This rank's saved augmentation state; a rank the checkpoint did not have (another process
    count) starts its stream afresh."""
    if rank == 0:
        return rng["augment"]
    states = rng.get("augment_ranks") or []
    return states[rank] if len(states) == world else fresh


def _differences(have: dict[str, Any], wanted: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for key in sorted(set(have) | set(wanted)):
        a, b = have.get(key), wanted.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}: {a!r} then, {b!r} now")
    return out
