"""Semantic labels as Isaac Sim 5.x reads them: ``UsdSemantics.LabelsAPI`` (multiple-apply, one instance
per taxonomy, attribute ``semantics:labels:<taxonomy>``), the schema ``isaacsim.core.utils.semantics.
add_labels`` writes and Replicator's segmentation annotators read."""

from __future__ import annotations

from collections.abc import Sequence

from pxr import Usd, UsdSemantics

from .entities import CLASS_TAXONOMY, class_labels


def set_class_labels(prim: Usd.Prim, labels: Sequence[str], taxonomy: str = CLASS_TAXONOMY) -> None:
    """Replace the prim's labels of ``taxonomy`` (in the current edit target)."""
    api = UsdSemantics.LabelsAPI.Apply(prim, taxonomy)
    api.CreateLabelsAttr().Set([str(label) for label in labels])


def labelled_prims(stage: Usd.Stage) -> dict[str, list[str]]:
    """Prim path -> class labels of every prim that carries its own class labels."""
    return {str(p.GetPath()): class_labels(p) for p in stage.Traverse() if class_labels(p)}


__all__ = ["class_labels", "labelled_prims", "set_class_labels"]
