"""Semantic labels as Isaac Sim 5.x reads them: ``UsdSemantics.LabelsAPI`` (multiple-apply, one instance
per taxonomy, attribute ``semantics:labels:<taxonomy>``), the schema ``isaacsim.core.utils.semantics.
add_labels`` writes and Replicator's segmentation annotators read. Written through the schema class where
the ``pxr`` has it (OpenUSD 24.08+, Isaac Sim 5.1's 24.05 build), else by its schema and attribute names
(OpenUSD 24.05): the same layer either way."""

from __future__ import annotations

from collections.abc import Sequence

from pxr import Sdf, Usd

from .entities import CLASS_TAXONOMY, LABELS_API, class_labels, labels_attribute

try:
    from pxr import UsdSemantics
except ImportError:  # OpenUSD < 24.08
    UsdSemantics = None


def apply_labels_api(prim: Usd.Prim, taxonomy: str = CLASS_TAXONOMY) -> None:
    """Apply ``UsdSemantics.LabelsAPI:<taxonomy>`` (in the current edit target)."""
    if UsdSemantics is not None:
        UsdSemantics.LabelsAPI.Apply(prim, taxonomy)
    else:
        prim.AddAppliedSchema(f"{LABELS_API}:{taxonomy}")


def labels_attr(prim: Usd.Prim, taxonomy: str = CLASS_TAXONOMY) -> Usd.Attribute:
    """The ``semantics:labels:<taxonomy>`` attribute (token[]), created in the current edit target if missing."""
    return prim.CreateAttribute(labels_attribute(taxonomy), Sdf.ValueTypeNames.TokenArray, custom=False)


def set_class_labels(prim: Usd.Prim, labels: Sequence[str], taxonomy: str = CLASS_TAXONOMY) -> None:
    """Replace the prim's labels of ``taxonomy`` (in the current edit target)."""
    apply_labels_api(prim, taxonomy)
    labels_attr(prim, taxonomy).Set([str(label) for label in labels])


def labelled_prims(stage: Usd.Stage) -> dict[str, list[str]]:
    """Prim path -> class labels of every prim that carries its own class labels."""
    return {str(p.GetPath()): class_labels(p) for p in stage.Traverse() if class_labels(p)}


__all__ = ["apply_labels_api", "class_labels", "labelled_prims", "labels_attr", "set_class_labels"]
