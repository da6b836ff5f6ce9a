"""Tasks by name (``TrainConfig.task``): one map, above the modules that define them."""

from __future__ import annotations

from .config import TrainConfig
from .detect import DetectTask
from .tasks import ClassifyTask, SegmentTask, StateTask, Task

TASKS: dict[str, type[Task]] = {t.name: t for t in (SegmentTask, ClassifyTask, DetectTask, StateTask)}


def make_task(cfg: TrainConfig, classes: list[str]) -> Task:
    return TASKS[cfg.task](cfg, classes)
