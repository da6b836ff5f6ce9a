"""What a training run is asked to do: the task, the method, the model, the schedule, the validators.

``TrainConfig`` is plain data (pydantic, strict): it comes from defaults, an optional TOML file
(``sim2real train --config FILE``; keys as below, sections ``[model]`` and ``[augment]``) and
command-line options, in that order. It is stored in the run folder (``config.json``); resuming a
run with a different configuration is refused, so a run folder always holds one experiment.
"""

from __future__ import annotations

from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ..config import StrictModel, parse_model, read_toml

Task = Literal["segment", "classify", "detect", "state"]
MethodName = Literal["source-only", "dann", "coral", "mmd", "adabn"]
ValidatorName = Literal["source", "entropy", "snd", "dev", "iwv", "im"]
TASKS: tuple[str, ...] = ("segment", "classify", "detect", "state")
METHODS: tuple[str, ...] = ("source-only", "dann", "coral", "mmd", "adabn")
VALIDATORS: tuple[str, ...] = ("source", "entropy", "snd", "dev", "iwv", "im")
STATE_VALIDATORS: tuple[str, ...] = ("source", "dev", "iwv")  # regression: no class probabilities
# detect: per-location sigmoid heatmaps, not one softmax per sample or pixel, so no entropy/SND/IM either
TASK_VALIDATORS = {"state": STATE_VALIDATORS, "detect": STATE_VALIDATORS}
Arch = Literal["segnet", "lenet", "edge-classifier", "centernet", "state-mlp"]
# segment: a small U-Net; classify: Ganin et al.'s digit network with batch norm (the seeds' edge
# classifier's source-only accuracy on MNIST -> MNIST-M was half of it: see models.LeNet); state: the seeds' MLP
# detect: CenterNet-style heads on the segmentation net's encoder-decoder, stopped at stride 4
DEFAULT_ARCH = {"segment": "segnet", "classify": "lenet", "detect": "centernet", "state": "state-mlp"}
TASK_ARCHES = {"segment": ("segnet",), "classify": ("lenet", "edge-classifier"), "detect": ("centernet",),
               "state": ("state-mlp",)}
DEFAULT_WIDTHS = {"segnet": [16, 32, 64], "lenet": [32, 48], "edge-classifier": [32, 64, 128, 256],
                  "centernet": [16, 32, 64, 128], "state-mlp": [256, 256, 256]}
LENET_KERNEL = 5  # LeNet: 5x5 convolutions without padding, each followed by a 2x2 max pool
LENET_GRID = 4  # LeNet: the last map is max-pooled down to at most this many cells a side
# segment: 0.3 (at 1.0 DANN collapsed to all-background in one of three benchmark seeds); classify and
# state: the seeds' 1.0 (label loss + domain loss)
# detect: as segment (a patch discriminator on a feature map; not yet benchmarked for detection)
DEFAULT_ADAPT_WEIGHT = {"segment": 0.3, "classify": 1.0, "detect": 0.3, "state": 1.0}
DEFAULT_OPTIMIZER = {"segment": "adamw", "classify": "sgd", "detect": "adamw", "state": "adamw"}
# classify, measured on MNIST -> MNIST-M (3 seeds, docs/training.md "What each change bought"): with
# augmentation AdamW gained on every seed for the methods whose loss trains on target batches (without
# it DANN is level with SGD, at half the spread) and lost for source-only and AdaBN, where SGD stays
METHOD_OPTIMIZER = {("classify", "dann"): "adamw", ("classify", "coral"): "adamw", ("classify", "mmd"): "adamw"}
# classify: off (MNIST -> MNIST-M, 3 seeds: the colour jitter, noise and blur of the grey source cost
# source-only 0.11 and DANN 0.08 of target accuracy); segment: on (see docs/training.md); state: no images
# detect: colour, noise and blur on (as segment; flips off: the boxes do not follow them yet)
DEFAULT_AUGMENT = {"segment": True, "classify": False, "detect": True, "state": False}
DEFAULT_LR = {"sgd": 0.01, "adamw": 2e-3}  # sgd: Ganin et al.'s mu_0
# which way is better, per validator: +1 higher, -1 lower
VALIDATOR_SIGN = {"source": 1, "entropy": -1, "snd": 1, "dev": -1, "iwv": -1, "im": 1}


def lenet_map(side: int, stages: int) -> int:
    """The side of LeNet's last feature map for an input side (below 1: the input is too small)."""
    for _ in range(stages):
        side = (side - LENET_KERNEL + 1) // 2
    return side


def edge_map(side: int, stages: int) -> int:
    """The side of the edge classifier's last feature map (stride 2 on every other 3x3 stage)."""
    for i in range(stages):
        side = (side - 1) // 2 + 1 if i % 2 == 0 else side
    return side


def lenet_min_side(stages: int) -> int:
    """The smallest input side that leaves LeNet a 1-pixel map after ``stages`` stages."""
    side = 1
    for _ in range(stages):
        side = 2 * side + LENET_KERNEL - 1
    return side


class ModelConfig(StrictModel):
    """Architecture knobs. ``arch``: classify ``lenet`` (default) or ``edge-classifier``; the other
    tasks have one each. ``widths``: channels per encoder stage (segment, classify) or hidden sizes
    (state). The segmentation net halves the resolution at each stage after the first."""

    arch: Arch | None = None  # default per task: see DEFAULT_ARCH
    widths: list[int] | None = None  # default per architecture: see DEFAULT_WIDTHS
    skips: bool = True  # segment: U-Net skip connections from encoder to decoder
    dropout: float = Field(0.2, ge=0.0, lt=1.0)  # classify, state: before each head layer
    batch_norm: bool = True  # state: BatchNorm1d in the feature extractor (AdaBN needs it)

    @field_validator("widths")
    @classmethod
    def _widths(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (not v or any(w < 1 for w in v)):
            raise ValueError("expected a non-empty list of positive channel counts")
        return v


class AugmentConfig(StrictModel):
    """Image-space augmentation of the source images (the seeds' colour jitter plus noise and blur).

    Each value is the half-width of a uniform draw per image: brightness 0.3 multiplies by 0.7..1.3.
    """

    enabled: bool | None = None  # default per task: see DEFAULT_AUGMENT
    brightness: float = Field(0.3, ge=0.0, lt=1.0)
    contrast: float = Field(0.3, ge=0.0, lt=1.0)
    saturation: float = Field(0.3, ge=0.0, lt=1.0)
    hue_deg: float = Field(10.0, ge=0.0, le=180.0)
    noise_std: float = Field(0.03, ge=0.0, le=0.5)  # of full scale
    blur_sigma_px: float = Field(1.0, ge=0.0, le=5.0)
    hflip: bool | None = None  # default per task: segment yes (masks follow), classify no (digits, text, left/right)
    target: bool = False  # also augment the target images the adaptation loss sees


class TranslateOption(StrictModel):
    """Source images passed through a trained sim->target translator (``sim2real translate train``),
    labels unchanged: a ``share`` of the training images (drawn with the seed) is replaced by its
    translation, once, when the data are read."""

    run: str  # a translator run folder (or its translator.pt)
    share: float = Field(1.0, gt=0.0, le=1.0)


class TrainConfig(StrictModel):
    task: Task = "segment"
    method: MethodName = "dann"
    epochs: int = Field(10, ge=1)
    batch_size: int = Field(16, ge=2)
    lr: float | None = Field(None, gt=0.0)  # default per optimizer: see DEFAULT_LR
    weight_decay: float = Field(1e-4, ge=0.0)
    optimizer: Literal["sgd", "adamw"] | None = None  # default per task: see DEFAULT_OPTIMIZER
    momentum: float = Field(0.9, ge=0.0, lt=1.0)  # sgd
    lr_schedule: Literal["dann", "cosine", "constant"] = "dann"
    seed: int = 0
    resolution: tuple[int, int] = (128, 96)  # model input, pixels (width, height); classify: crop size
    depth: bool = False  # RGB-D input: depth (metres) as a fourth channel
    class_balance: Literal["none", "sqrt", "inverse"] = "sqrt"  # class weights of the loss: freq^-1/2, freq^-1
    class_map: dict[str, str] = Field(default_factory=dict)  # rename/merge classes: {"*": "object"} (fnmatch)
    adapt_weight: float | None = Field(None, ge=0.0)  # lambda: task loss + lambda * adaptation loss (see DEFAULT_ADAPT_WEIGHT)
    dann_input: Literal["features", "output"] = "features"  # what DANN's domain classifier sees
    dann_hidden: int = Field(1024, ge=1)  # DANN's domain classifier on vectors: x -> h -> h -> 1 (Ganin et al.)
    input_norm: Literal["source", "both"] = "both"  # image standardisation: source pixels, or source and target
    domain_bn: Literal["shared", "separate"] = "separate"  # batch-norm statistics of source and target batches
    adapt_schedule: Literal["dann", "constant"] = "dann"  # lambda ramp: 2 / (1 + exp(-10 p)) - 1
    val_fraction: float = Field(0.1, ge=0.0, lt=0.9)  # source frames held out for the validators
    validators: list[ValidatorName] | None = None  # default: all that apply to the task
    select: Literal["last"] | ValidatorName = "last"  # the epoch best.pt ships: the last, or a validator's best
    validator_images: int = Field(96, ge=8)  # target images the validators look at each epoch
    max_target_images: int | None = Field(None, ge=2)
    min_object_pixels: int = Field(64, ge=1)  # classify from a dataset: smallest instance cropped
    device: Literal["auto", "cpu", "cuda"] = "auto"
    keep_checkpoints: int = Field(2, ge=0)  # the last N epochs' checkpoints and the shipped one (0: every epoch)
    model: ModelConfig = Field(default_factory=ModelConfig)
    augment: AugmentConfig = Field(default_factory=AugmentConfig)
    translate: TranslateOption | None = None  # sim->target translation of the source (image tasks)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] < 8 or v[1] < 8:
            raise ValueError("expected a width and height of at least 8 pixels")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        usable = TASK_VALIDATORS.get(self.task, VALIDATORS)
        if self.validators is None:
            self.validators = list(usable)
        wrong = [v for v in self.validators if v not in usable]
        if wrong:
            raise ValueError(f"validators {wrong} need class probabilities per sample or pixel; the {self.task} task has "
                             f"{list(usable)}")
        if self.select != "last" and self.select not in self.validators:
            raise ValueError(f"select = {self.select!r} must be one of the validators {self.validators}")
        if self.adapt_weight is None:
            self.adapt_weight = DEFAULT_ADAPT_WEIGHT[self.task]
        self._model_defaults()
        if self.optimizer is None:
            self.optimizer = METHOD_OPTIMIZER.get((self.task, self.method), DEFAULT_OPTIMIZER[self.task])
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        if self.augment.enabled is None:
            self.augment.enabled = DEFAULT_AUGMENT[self.task]
        if self.augment.hflip is None:
            self.augment.hflip = self.task == "segment"
        if self.task == "detect" and self.augment.hflip:
            raise ValueError("augment.hflip: the detect task does not flip its boxes yet; expected hflip = false")
        if self.task in ("segment", "detect"):
            stride = 2 ** len(self.model.widths)
            w, h = self.resolution
            if w % stride or h % stride:
                raise ValueError(
                    f"resolution {w}x{h} must be divisible by {stride} (the {self.task} net's encoder stride with "
                    f"{len(self.model.widths)} stages)")
        if self.task == "detect" and len(self.model.widths) < 2:
            raise ValueError("model.widths: the detect net needs at least 2 stages (its heads read stride 4)")
        if self.task == "detect" and self.dann_input == "output":
            raise ValueError("dann_input = 'output' applies to segment and classify (softmax outputs), not detect")
        if self.task == "state" and self.depth:
            raise ValueError("depth applies to image tasks only")
        if self.task == "state" and self.translate is not None:
            raise ValueError("translate applies to image tasks only")
        return self

    def _model_defaults(self) -> None:
        m = self.model
        m.arch = m.arch or DEFAULT_ARCH[self.task]
        if m.arch not in TASK_ARCHES[self.task]:
            raise ValueError(f"model.arch one of {list(TASK_ARCHES[self.task])} for the {self.task} task, not {m.arch!r}")
        if m.widths is None:
            m.widths = list(DEFAULT_WIDTHS[m.arch])
        if m.arch == "lenet" and min(lenet_map(v, len(m.widths)) for v in self.resolution) < 1:
            raise ValueError(f"a resolution of at least {lenet_min_side(len(m.widths))} pixels a side for lenet with "
                             f"{len(m.widths)} stages (5x5 convolution and 2x2 pooling each), not "
                             f"{self.resolution[0]}x{self.resolution[1]}")
        if m.arch == "edge-classifier" and any(edge_map(v, len(m.widths)) % 2 for v in self.resolution):
            # its 2x2 adaptive average pool exports to ONNX only from a map of even sides
            sides = "x".join(str(edge_map(v, len(m.widths))) for v in self.resolution)
            raise ValueError(f"a resolution that leaves edge-classifier an even-sided last map (ONNX export of its "
                             f"2x2 pooling), not {self.resolution[0]}x{self.resolution[1]} (a {sides} map)")

    @property
    def uses_target(self) -> bool:
        return self.method != "source-only"


def load_config(path: str | PathLike[str] | None, overrides: dict[str, Any], dotted: Sequence[str] = ()) -> TrainConfig:
    """Defaults, then the TOML file (if any), then ``overrides`` (options given on the command line), then
    ``dotted`` ``key=value`` overrides of any key (``model.width=32``; ``sim2real.overrides``)."""
    base: dict[str, Any] = {}
    if path is not None:
        base = read_toml(path)
        parse_model(base, TrainConfig, source=path)  # the file alone must be valid: errors name it
    for key, value in overrides.items():
        if value is None:
            continue
        if isinstance(value, dict):
            base[key] = {**base.get(key, {}), **value}
        else:
            base[key] = value
    if dotted:
        from ..overrides import apply_overrides, parse_overrides

        base = apply_overrides(base, parse_overrides(dotted, TrainConfig))
    return parse_model(base, TrainConfig, source=path or "command line")


def config_file(value: str) -> Path:
    """A TOML path as given, else a shipped configuration by name (``config/train/<name>.toml``)."""
    from ..generate.request import resolve_file
    from ..paths import config_path

    return resolve_file(value, "config", config_path("train"), ".toml")
