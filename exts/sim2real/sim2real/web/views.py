"""Rendering the panel's view-models: whole pages, a job's block, fragments htmx swaps in.

One ``Views`` per app (``request.app.state.views``); every router renders through it, so the page
chrome (navigation, work folder) and the job block look the same everywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from .state import FRAMES, WebPanel
from .svgplot import line_plot

HERE = Path(__file__).resolve().parent
NAV = [("profile", "Profile"), *((k, f.title) for k, f in FRAMES.items())]


class Views:
    def __init__(self, panel: WebPanel) -> None:
        self.panel = panel
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters.update(field_text=field_text, num=num)

    def page(self, request: Request, name: str, page_key: str, **ctx: Any) -> HTMLResponse:
        """A whole page with the navigation, ``page_key`` marked as current."""
        return self.templates.TemplateResponse(request, name, {"nav": NAV, "page": page_key,
                                                               "workdir": self.panel.workdir, **ctx})

    def fragment(self, request: Request, name: str, ctx: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        return self.templates.TemplateResponse(request, name, ctx, status_code=status_code)

    def form(self, request: Request, frame: str) -> HTMLResponse:
        """A frame's settings form as it stands (values, errors, the actions it starts)."""
        form = self.panel.form(frame)
        return self.fragment(request, "form.html", {"form": frame, "specs": self.panel.specs(frame),
                                                    "snap": form.snapshot(), "actions": FRAMES[frame].actions})

    def job(self, job_id: int) -> str:
        """A job's block: status, progress, the latest sample image, its report, the loss plot."""
        panel = self.panel
        job = panel.job(job_id)
        snap = job.snapshot()
        images = [i for i, a in enumerate(snap["artifacts"]) if a["kind"] == "sample_image"]
        reports = [i for i, a in enumerate(snap["artifacts"]) if a["kind"] == "report"]
        lines = {f"{series}.{key}": list(zip(line["steps"], line["values"]))
                 for series, keys in snap["series"].items() for key, line in keys.items() if _plotted(key)}
        plot = line_plot(lines, x_label="epoch" if "epoch" in snap["series"] else "step", title="loss") if (
            snap["kind"] == "train") else ""
        extra = ""
        if snap["kind"] == "bench" and job is panel.app.deploy.job("bench"):  # the frame keeps the latest bench
            extra = self.templates.get_template("bench.html").render(bench=panel.app.deploy.bench_results(),
                                                                      job_id=job_id)
        return self.templates.get_template("job.html").render(job=snap, sample=images[-1] if images else None,
                                                              reports=reports[-1:], plot=plot, extra=extra)

    def escape(self, text: str) -> str:
        return str(self.templates.env.filters["e"](text))


def views_of(request: Request) -> Views:
    """The app's ``Views`` (a FastAPI dependency)."""
    return request.app.state.views  # type: ignore[no-any-return]


ViewsDep = Annotated[Views, Depends(views_of)]  # a route's ``views`` parameter


def _plotted(key: str) -> bool:
    """Loss-like values share the training plot; rates and scores have scales of their own."""
    return "loss" in key


def field_text(value: Any) -> str:
    """A profile field as its text input shows it: TOML/JSON for lists, numbers and booleans, strings
    as typed. A plain string, so the template's autoescape makes it safe inside a quoted attribute
    (Jinja's ``tojson`` is marked safe and leaves ``"`` unescaped: a list of strings showed as ``[``)."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def num(value: Any, digits: int = 4) -> Any:
    """A result value for a table: floats to ``digits`` significant digits, integers and text as they are."""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return value
