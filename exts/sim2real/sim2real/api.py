"""The public face of sim2real: ten verbs, one per step of the loop, each a thin call into the package
that owns the step. Importing this module is cheap (no numpy, no simulator, no torch): each verb
imports what it needs when called.

========================  =====================================================================
verb                      what it does (the package that does it)
========================  =====================================================================
``load_profile``          read and check a randomization profile (``randomize.profile``)
``make_backend``          a simulator by name, optionally with a scene loaded (``sim.registry``)
``randomize``             a backend driven by a profile on its physics steps (``sim.driver``)
``generate``              a labelled synthetic dataset, resumable (``generate.api``)
``open_dataset``          a dataset as a sequence of Frames (``dataset.reader``)
``train``                 a perception model adapted to unlabelled real images (``train.trainer``)
``identify``              physical parameters from real logs, a calibrated profile (``sysid.fit``)
``measure_gap``           the reality gap of trajectories or image sets (``gap``)
``export``                ONNX (and INT8 / FP16) with parity and scores (``deploy.prepare``)
``run_pipeline``          the whole loop from one TOML file, resumable (``pipeline.runner``)
========================  =====================================================================

Each verb takes paths or the objects the previous one returned, reports progress to an optional
``reporter`` (``sim2real.progress``), and raises one-line ``sim2real.errors.UserError``s on bad input.

    >>> from sim2real import api
    >>> profile = api.load_profile("tabletop")
    >>> with api.make_backend("mujoco", scene="tabletop", resolution=(160, 120)) as backend:
    ...     sim = api.randomize(backend, profile, seed=0)
    ...     sim.reset(0)
    ...     frame = sim.render("main")
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dataset.reader import Dataset
    from .pipeline.runner import RunResult
    from .progress import Reporter
    from .randomize.profile import Profile
    from .sim.backend import Backend
    from .sim.driver import RandomizedSim
    from .sysid.fit import Outcome

PathArg = str | PathLike[str]

__all__ = ["export", "generate", "identify", "load_profile", "make_backend", "measure_gap", "open_dataset",
           "randomize", "run_pipeline", "train"]


def load_profile(profile: PathArg) -> Profile:
    """Read and check a randomization profile: a TOML file, or the name of a shipped one
    (``config/profiles/<name>.toml``). Every mistake is one ``ConfigError`` naming file, term and key.

        >>> profile = api.load_profile("tabletop")
        >>> ("light", "intensity") in profile.targets()
        True
    """
    from .generate.request import resolve_file
    from .paths import config_path
    from .randomize.profile import load_profile as load

    return load(resolve_file(str(profile), "profile", config_path("profiles"), ".toml"))


def make_backend(name: str = "mujoco", scene: PathArg | None = None, **load_options: Any) -> Backend:
    """A registered backend (``mujoco``, ``isaac``), with ``scene`` loaded if given (a path or a shipped
    scene name); ``load_options`` go to its ``load`` (MuJoCo: ``resolution=(w, h)``, ``occlusion``). A
    backend that is not installed is one line saying what to install. Close it (or use ``with``).

        >>> with api.make_backend("mujoco", scene="arm2") as backend:
        ...     backend.step(10)
        ...     state = backend.state()
    """
    from .sim.registry import create

    backend = create(name)
    if scene is not None:
        backend.load(scene, **load_options)
    return backend  # type: ignore[no-any-return]


def randomize(backend: Backend, profile: Profile | PathArg, seed: int = 0) -> RandomizedSim:
    """Drive a loaded ``backend`` with ``profile`` (a ``Profile`` or what ``load_profile`` takes): start-up
    terms applied now, reset terms at ``reset(episode)``, interval and time-varying terms while it
    steps, frame terms before each ``render``. Refuses targets the backend cannot apply, in one line.

        >>> sim = api.randomize(backend, "tabletop", seed=3)
        >>> sim.reset(0)
        >>> sim.step(100)
        >>> frame = sim.render("main")
    """
    from .randomize.profile import Profile as ProfileType
    from .randomize.runtime import Randomizer
    from .sim.driver import RandomizedSim

    prof = profile if isinstance(profile, ProfileType) else load_profile(profile)
    backend.capabilities.require(backend.name, prof.targets())
    sim = RandomizedSim(backend, Randomizer(prof, seed=seed, entities=backend.entities(), dt=backend.dt))
    sim.start()
    return sim


def generate(profile: PathArg, frames: int, out: PathArg, *, reporter: Reporter | None = None,
             **options: Any) -> dict[str, Any]:
    """Render ``frames`` randomized, labelled frames into the dataset folder ``out`` (resuming what an
    earlier run left there). ``options`` are those of ``generate.request.GenerateRequest``: ``scene``,
    ``seed``, ``resolution``, ``camera``, ``backend``, ``workers``, ``executor``, ... Returns the run's
    summary (dataset id, frames made, frames per second).

        >>> result = api.generate("tabletop", 8, "datasets/demo", resolution=(160, 120), seed=1)
        >>> result["frames"]
        8
    """
    from .generate.api import generate as run
    from .generate.request import GenerateRequest

    return run(GenerateRequest(profile=str(profile), frames=frames, out=Path(out), **options), reporter)


def open_dataset(path: PathArg) -> Dataset:
    """A dataset folder (native layout or Isaac Sim's BasicWriter) as a sequence of ``Frame``s, with
    its manifest, labels and spec; frames still being written are not in it.

        >>> ds = api.open_dataset("datasets/demo")
        >>> frame = ds[0]
        >>> frame.rgb.shape, ds.labels[0]
        ((120, 160, 3), 'background')
    """
    from .dataset.reader import Dataset

    return Dataset(path)


def train(data: PathArg, out: PathArg, *, target: PathArg | None = None, eval_set: PathArg | None = None,
          config: PathArg | None = None, reporter: Reporter | None = None, **settings: Any) -> dict[str, Any]:
    """Train a model on the labelled ``data`` (a dataset), adapting it to the unlabelled real images of
    ``target`` (a folder, dataset or ROS bag); ``eval_set`` is labelled real data used for metrics
    only. ``config`` is a TOML file of settings or a shipped one by name (``quick``); ``settings``
    override it (``task``, ``method``, ``epochs``, ``seed``, ``batch_size``, ``resolution``, ...).
    Resumes a run folder that exists. Returns the summary also written to ``out/metrics.json``.

        >>> summary = api.train("datasets/demo", "runs/demo-train", target="real_images/", config="quick",
        ...                     method="dann", epochs=2)
        >>> summary["epochs_done"], summary["best"]["validator"]
    """
    from .train.config import config_file, load_config
    from .train.data import Inputs
    from .train.trainer import TrainRequest
    from .train.trainer import train as run
    from .translate.augment import source_translation

    cfg = load_config(config_file(str(config)) if config is not None else None, settings)
    inputs = Inputs(Path(data), Path(target) if target is not None else None,
                    eval=Path(eval_set) if eval_set is not None else None)
    return run(TrainRequest(cfg, inputs, Path(out), source_translation(cfg)), reporter)


def identify(model: str, logs: Sequence[PathArg], params: str, *, out: PathArg | None = None,
             reporter: Reporter | None = None, **options: Any) -> Outcome:
    """Identify the ``params`` of the simulator ``model`` (a scene, or a surrogate's TOML) from real
    ``logs`` (CSV, Parquet, JSON lines, ROS bags): ``params`` is a parameter TOML or targets such as
    ``"body:*/mass,joint:*/damping"``. ``options`` are those of ``sysid.fit.FitOptions`` (``holdout``,
    ``optimizer``, ``max_iter``, ``profile``, ``seed``, ...). With ``out``, the calibrated profile,
    intervals and report are written there (resumable). Returns the estimates, intervals and validation.

        >>> outcome = api.identify("arm2", ["logs/arm_run1.csv"], "body:*/mass", out="runs/sysid-arm")
        >>> estimates = dict(zip([p.name for p in outcome.params], outcome.x))
        >>> outcome.uncertainty.half_width, outcome.summary["rmse_ratio_mean"]
    """
    from .sysid.fit import FitOptions, identify_into
    from .sysid.fit import identify as run

    opts = FitOptions(model=model, logs=[Path(p) for p in logs], params=params, **options)
    if out is None:
        return run(opts, reporter)
    return identify_into(opts, Path(out), reporter)[0]


def measure_gap(sim: Any, real: Any, kind: str = "trajectories", *, reporter: Reporter | None = None,
                **options: Any) -> Any:
    """The reality gap between ``sim`` and ``real``:

    * ``kind="trajectories"``: two trajectory files (or ``trajectory.Trajectory`` objects); options of
      ``gap.metrics.trajectory_gap`` (``channels``, ``clock``, ``compensate_delay``, ...). Returns a
      ``TrajectoryGap`` (per-channel errors, delay, DTW, the gap score and its assessment).
    * ``kind="images"``: two image sets (folders, datasets or ROS bags); options ``features``
      (``random`` or ``model:RUN``), ``size``, ``seed``, ``pair``, ``max_images``, and those of
      ``gap.image_gap.image_gap``. Returns an ``ImageGap`` (KID, MMD test, colour, spectra, SSIM/NCC).

        >>> gap = api.measure_gap("logs/sim.csv", "logs/real.csv", compensate_delay=True)
        >>> gap.delay_s, gap.gap_score, gap.assessment
        >>> images = api.measure_gap("datasets/demo", "real_images/", kind="images", pair="none")
        >>> images.kid["mean"], images.mmd["p_value"]
    """
    if kind == "trajectories":
        from .gap.metrics import trajectory_gap
        from .trajectory.readers import read_trajectory

        s, r = (read_trajectory(x) if isinstance(x, str | PathLike) else x for x in (sim, real))
        return trajectory_gap(s, r, **options)
    if kind == "images":
        from .dataset.imagesets import open_image_set
        from .gap.image_gap import image_gap
        from .train.features import extractor_from_spec

        extractor = extractor_from_spec(options.pop("features", "random"), seed=options.get("seed", 0),
                                        size=options.pop("size", 64))
        limit = options.pop("max_images", None)
        return image_gap(open_image_set(sim, limit), open_image_set(real, limit), extractor,
                         options.pop("pair", "auto"), reporter=reporter, **options)
    from .errors import UserError

    raise UserError(f"kind: expected 'trajectories' or 'images' (got {kind!r})")


def export(run: PathArg, onnx: PathArg, precisions: Sequence[str] = ("fp32",), *, reporter: Reporter | None = None,
           **options: Any) -> dict[str, Any]:
    """Export the model of the training ``run`` to the ONNX file ``onnx`` (checked, metadata inside,
    parity with PyTorch), plus INT8 (static QDQ) and FP16 beside it when asked; each is scored and
    timed against FP32 on an evaluation set. ``options`` are those of ``deploy.prepare.ExportRequest``
    (``eval_path``, ``eval_count``, ``calib_count``, ``calib_method``, ``checkpoint``). Returns the
    summary also written to ``<name>.export.json``.

        >>> summary = api.export("runs/demo-train", "model.onnx", ["fp32", "int8"])
        >>> sorted(summary["models"])
        ['fp32', 'int8']
    """
    from .deploy.prepare import ExportRequest, export_models

    return export_models(ExportRequest(Path(run), tuple(precisions), **options), Path(onnx), reporter)[1]


def run_pipeline(path: PathArg, out: PathArg | None = None, *, reporter: Reporter | None = None) -> RunResult:
    """Run the pipeline described in the TOML file ``path`` (generate, train, gap, sysid, export,
    deploy, report) in the folder ``out`` (default ``runs/<name>``); a second call continues it, and
    stages whose inputs did not change are not run again.

        >>> result = api.run_pipeline("config/pipelines/demo.toml", "runs/demo")
        >>> result.report.name
        'report.html'
    """
    from .pipeline.runner import run_pipeline as run

    return run(path, out, reporter)
