"""The report builder: sections of blocks rendered to one self-contained HTML page and to JSON.

The HTML has no external assets (inline CSS, images as ``data:image/png;base64`` URIs) and no
script. Rendering is deterministic: the same report gives the same bytes (no clock in the page;
put a date in ``facts`` if you want one).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Any, Literal

from .. import __version__
from ..errors import InputError
from ..fsutil import atomic_write_text, to_jsonable

Status = Literal["good", "warn", "bad", "info"]
STATUSES: tuple[str, ...] = ("good", "warn", "bad", "info")
SCHEMA = "sim2real.report/1"
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


def grade(value: float | None, good: float, warn: float, higher_is_better: bool = False) -> Status:
    """``good`` if value is better than ``good``, ``warn`` if better than ``warn``, else ``bad``.

    "Better" means smaller, or larger with ``higher_is_better``; a missing or NaN value is ``info``.
    """
    if value is None or not math.isfinite(float(value)):
        return "info"
    v = float(value)
    if higher_is_better:
        return "good" if v > good else "warn" if v > warn else "bad"
    return "good" if v < good else "warn" if v < warn else "bad"


@dataclass(frozen=True)
class Metric:
    """One row of a metric table. ``key`` names it in the JSON (defaults to ``name``)."""

    name: str
    value: Any
    unit: str = ""
    status: Status = "info"
    threshold: str = ""
    note: str = ""
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key or self.name, "name": self.name, "value": _json_value(self.value),
            "unit": self.unit, "status": self.status, "threshold": self.threshold, "note": self.note,
        }


@dataclass(frozen=True)
class Assessment:
    """A verdict shown prominently: ``label`` is the wording, ``detail`` where it comes from."""

    label: str
    status: Status
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "status": self.status, "detail": self.detail}


@dataclass
class _Block:
    kind: str
    payload: dict[str, Any]
    html: str


@dataclass
class Section:
    """A titled part of a report; its methods append blocks and return the section for chaining."""

    id: str
    title: str
    blocks: list[_Block] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not _ID.match(self.id):
            raise InputError(f"report section id {self.id!r}: expected a letter then letters, digits, '-' or '_'")

    def text(self, text: str) -> Section:
        """A paragraph (plain text; blank lines separate paragraphs)."""
        paras = [p.strip() for p in text.strip().split("\n\n") if p.strip()]
        body = "".join(f"<p>{_e(p)}</p>" for p in paras)
        self.blocks.append(_Block("text", {"text": text}, body))
        return self

    def assessment(self, assessment: Assessment) -> Section:
        body = (
            f'<div class="assessment {assessment.status}"><strong>{_e(assessment.label)}</strong>'
            + (f"<span>{_e(assessment.detail)}</span>" if assessment.detail else "")
            + "</div>"
        )
        self.blocks.append(_Block("assessment", assessment.to_dict(), body))
        return self

    def metrics(self, rows: Sequence[Metric], title: str = "") -> Section:
        """A metric table: name, value with unit, threshold, assessment (coloured), note."""
        head = "<tr><th>metric</th><th>value</th><th>threshold</th><th>assessment</th><th>note</th></tr>"
        body = "".join(
            f"<tr><td>{_e(m.name)}</td><td class=num>{_e(_fmt(m.value))}{(' ' + _e(m.unit)) if m.unit else ''}</td>"
            f"<td>{_e(m.threshold)}</td><td><span class='pill {m.status}'>{m.status}</span></td>"
            f"<td>{_e(m.note)}</td></tr>"
            for m in rows
        )
        caption = f"<caption>{_e(title)}</caption>" if title else ""
        self.blocks.append(_Block(
            "metrics", {"title": title, "rows": [m.to_dict() for m in rows]},
            f"<table class=metrics>{caption}<thead>{head}</thead><tbody>{body}</tbody></table>",
        ))
        return self

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "") -> Section:
        """A plain table of values (numbers formatted to 4 significant digits)."""
        rows = [list(r) for r in rows]
        for r in rows:
            if len(r) != len(columns):
                raise InputError(f"report table {title!r}: expected {len(columns)} cells per row (got {len(r)})")
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)
        body = "".join(
            "<tr>" + "".join(
                f"<td class=num>{_e(_fmt(v))}</td>" if _is_number(v) else f"<td>{_e(_fmt(v))}</td>" for v in r
            ) + "</tr>"
            for r in rows
        )
        caption = f"<caption>{_e(title)}</caption>" if title else ""
        self.blocks.append(_Block(
            "table", {"title": title, "columns": list(columns), "rows": [[_json_value(v) for v in r] for r in rows]},
            f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>",
        ))
        return self

    def figure(self, figure: Any, caption: str = "", alt: str = "") -> Section:
        """A matplotlib Figure (rendered to PNG with its own Agg canvas) or PNG bytes."""
        png = figure if isinstance(figure, bytes | bytearray) else figure_png(figure)
        self.blocks.append(_Block(
            "figure", {"caption": caption, "png_sha256": hashlib.sha256(png).hexdigest()},
            f"<figure>{_img(png, alt or caption)}"
            + (f"<figcaption>{_e(caption)}</figcaption>" if caption else "") + "</figure>",
        ))
        return self

    def image_grid(
        self, images: Sequence[Any], captions: Sequence[str] | None = None, title: str = "",
        columns: int = 4, max_side: int = 256,
    ) -> Section:
        """Thumbnails of images: ``(H, W, 3)`` or ``(H, W)`` uint8 arrays, or PNG bytes."""
        captions = list(captions or [""] * len(images))
        if len(captions) != len(images):
            raise InputError(f"image grid {title!r}: expected one caption per image")
        cells = []
        digests = []
        for img, cap in zip(images, captions, strict=True):
            png = img if isinstance(img, bytes | bytearray) else array_png(img, max_side)
            digests.append(hashlib.sha256(png).hexdigest())
            cells.append(f"<figure>{_img(png, cap)}<figcaption>{_e(cap)}</figcaption></figure>")
        head = f"<h3>{_e(title)}</h3>" if title else ""
        self.blocks.append(_Block(
            "image_grid", {"title": title, "captions": captions, "png_sha256": digests},
            f'{head}<div class=grid style="grid-template-columns:repeat({max(1, int(columns))},minmax(0,{max_side}px))">'
            + "".join(cells) + "</div>",
        ))
        return self

    def heading(self, text: str) -> Section:
        """A sub-heading inside the section."""
        self.blocks.append(_Block("heading", {"text": text}, f"<h3>{_e(text)}</h3>"))
        return self

    def include(self, other: Section, heading: bool = True) -> Section:
        """Append ``other``'s blocks (under its title as a sub-heading): one section made of several."""
        if heading:
            self.heading(other.title)
        self.blocks.extend(other.blocks)
        return self

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "blocks": [{"type": b.kind, **b.payload} for b in self.blocks]}

    def to_state(self) -> dict[str, Any]:
        """Everything needed to rebuild the section later (``from_state``), rendered HTML included:
        a stage can make its section while it has its results, and a report assemble it afterwards."""
        return {"id": self.id, "title": self.title,
                "blocks": [{"kind": b.kind, "payload": b.payload, "html": b.html} for b in self.blocks]}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Section:
        try:
            blocks = [_Block(str(b["kind"]), dict(b["payload"]), str(b["html"])) for b in state["blocks"]]
            return cls(str(state["id"]), str(state["title"]), blocks)
        except (KeyError, TypeError) as exc:
            raise InputError(f"report section state: expected id, title and blocks ({type(exc).__name__}: {exc})") from None

    def to_html(self) -> str:
        return (f'<section id="{_e(self.id)}"><h2>{_e(self.title)}</h2>'
                + "".join(b.html for b in self.blocks) + "</section>")


class Report:
    """A page: title, ``facts`` (shown in a small table: inputs, run id, version), sections, ``data``.

    ``data`` is any JSON-able payload stored in ``report.json`` (e.g. the full metric results).
    """

    def __init__(self, title: str, subtitle: str = "", facts: Mapping[str, Any] | None = None,
                 kind: str = "", data: Any = None) -> None:
        self.title = title
        self.subtitle = subtitle
        self.kind = kind
        self.facts: dict[str, Any] = dict(facts or {})
        self.sections: list[Section] = []
        self.data = data

    def section(self, id: str, title: str) -> Section:
        """A new section appended to the report."""
        return self.add(Section(id, title))

    def add(self, section: Section) -> Section:
        if any(s.id == section.id for s in self.sections):
            raise InputError(f"report {self.title!r}: section id {section.id!r} is used twice")
        self.sections.append(section)
        return section

    def extend(self, other: Report, prefix: str = "") -> None:
        """Append another report's sections (ids prefixed with ``prefix-``), e.g. one stage each."""
        for s in other.sections:
            self.add(Section(f"{prefix}-{s.id}" if prefix else s.id, s.title, list(s.blocks)))

    def to_dict(self) -> dict[str, Any]:
        return to_jsonable({
            "schema": SCHEMA, "kind": self.kind, "title": self.title, "subtitle": self.subtitle,
            "sim2real_version": __version__, "facts": {k: _json_value(v) for k, v in self.facts.items()},
            "sections": [s.to_dict() for s in self.sections], "data": json_safe(self.data),
        })

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False) + "\n"

    def to_html(self) -> str:
        facts = "".join(f"<tr><th>{_e(k)}</th><td>{_e(_fmt(v))}</td></tr>" for k, v in self.facts.items() if v is not None)
        nav = "".join(f'<a href="#{_e(s.id)}">{_e(s.title)}</a>' for s in self.sections)
        return (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<meta name=\"generator\" content=\"sim2real {__version__}\">"
            f"<title>{_e(self.title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{_e(self.title)}</h1>"
            + (f"<p class=subtitle>{_e(self.subtitle)}</p>" if self.subtitle else "")
            + (f"<table class=facts>{facts}</table>" if facts else "")
            + (f"<nav>{nav}</nav>" if nav else "")
            + "</header><main>" + "".join(s.to_html() for s in self.sections) + "</main>"
            f"<footer>sim2real {__version__}</footer></body></html>\n"
        )

    def write(self, directory: str | PathLike[str], stem: str = "report") -> tuple[Path, Path]:
        """Write ``STEM.html`` and ``STEM.json`` atomically; returns both paths."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        json_path = atomic_write_text(directory / f"{stem}.json", self.to_json())
        html_path = atomic_write_text(directory / f"{stem}.html", self.to_html())
        return html_path, json_path


def figure_png(figure: Any, dpi: int = 100) -> bytes:
    """Render a matplotlib Figure to PNG bytes without pyplot (its own Agg canvas), deterministically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if figure.canvas is None or not isinstance(figure.canvas, FigureCanvasAgg):
        FigureCanvasAgg(figure)
    buf = io.BytesIO()
    figure.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def array_png(image: Any, max_side: int = 0) -> bytes:
    """PNG bytes of a uint8 ``(H, W)`` or ``(H, W, 3|4)`` array, shrunk to ``max_side`` if given."""
    import numpy as np
    from PIL import Image

    arr = np.asarray(image)
    if arr.dtype != np.uint8 or arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise InputError(f"image: expected a uint8 (H, W) or (H, W, 3) array (got {arr.dtype} {arr.shape})")
    img = Image.fromarray(arr)
    if max_side and max(img.size) > max_side:
        scale = max_side / max(img.size)
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=False)
    return buf.getvalue()


def _img(png: bytes, alt: str) -> str:
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode("ascii")}">'


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) or type(v).__module__ == "numpy"


def _fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if _is_number(v):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        if isinstance(v, int) or getattr(getattr(v, "dtype", None), "kind", "") in ("i", "u"):
            return str(int(v))
        return f"{f:.4g}"
    return str(v)


def json_safe(obj: Any) -> Any:
    """``obj`` as plain JSON types with NaN and infinities replaced by null (JSON has neither)."""
    obj = to_jsonable(obj)
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_safe(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def _json_value(v: Any) -> Any:
    """JSON has no NaN/inf: store them as null (the HTML shows them as text)."""
    v = to_jsonable(v)
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


_CSS = """
:root{--good:#1a7f37;--warn:#b26b00;--bad:#c62828;--info:#57606a;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header{padding:24px 32px 8px;border-bottom:1px solid var(--line)}h1{margin:0 0 4px;font-size:26px}
.subtitle{margin:0 0 12px;color:var(--muted)}nav{display:flex;flex-wrap:wrap;gap:6px 16px;margin:12px 0}
nav a{color:#0969da;text-decoration:none}nav a:hover{text-decoration:underline}
main{padding:8px 32px 32px;max-width:1400px}section{margin:28px 0;padding-top:4px}h2{font-size:20px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:16px;margin:16px 0 8px}table{border-collapse:collapse;margin:12px 0;font-size:14px}
caption{text-align:left;font-weight:600;padding:4px 0}th,td{border:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
table.facts th{font-weight:500;color:var(--muted);background:none}table.facts td,table.facts th{border:none;padding:1px 12px 1px 0}
.pill{display:inline-block;padding:0 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.pill.good{background:var(--good)}.pill.warn{background:var(--warn)}.pill.bad{background:var(--bad)}.pill.info{background:var(--info)}
.assessment{border-left:6px solid var(--info);background:#f6f8fa;padding:10px 14px;margin:12px 0;font-size:16px}
.assessment span{display:block;color:var(--muted);font-size:13px;margin-top:2px}
.assessment.good{border-color:var(--good)}.assessment.warn{border-color:var(--warn)}.assessment.bad{border-color:var(--bad)}
figure{margin:12px 0}figure img{max-width:100%;height:auto;border:1px solid var(--line)}figcaption{color:var(--muted);font-size:13px}
.grid{display:grid;gap:10px}.grid figure{margin:0}.grid img{width:100%;image-rendering:pixelated}
footer{padding:16px 32px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
"""
