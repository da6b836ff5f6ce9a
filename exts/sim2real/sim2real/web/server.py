"""The web panel: FastAPI routes rendering ``sim2real.app``'s view-models as HTML (htmx for updates).

Every behaviour lives in the view-models (forms, profile editor, deploy targets, jobs): a route reads
a request, calls one view-model method and renders its ``snapshot()``. Jobs are ``sim2real ...
--progress json`` subprocesses of the ``JobRunner``, so closing the browser leaves them running and
reopening it shows them again; stopping the server cancels them (SIGINT: finished work is kept).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from ..errors import Sim2RealError, UserError
from . import fields
from .paths import IMAGE_TYPES, REPORT_TYPES, served_file
from .state import FRAMES, WebPanel
from .svgplot import line_plot

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STOP_POLLING = 286  # htmx stops an `every` poll on this status
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"
NAV = [("profile", "Profile"), *((k, f.title) for k, f in FRAMES.items())]
FIELD_OF = {"load": "path", "save": "name"}  # profile actions that take a file name, and its form field


def create_app(panel: WebPanel) -> FastAPI:
    app = FastAPI(title="sim2real", docs_url=None, redoc_url=None, openapi_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.panel = panel

    def page(request: Request, name: str, page_key: str, **ctx: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {"nav": NAV, "page": page_key, "workdir": panel.workdir,
                                                          **ctx})

    def job_html(request: Request, job_id: int) -> str:
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
            extra = templates.get_template("bench.html").render(bench=panel.app.deploy.bench_results(), job_id=job_id)
        return templates.get_template("job.html").render(job=snap, sample=images[-1] if images else None,
                                                         reports=reports[-1:], plot=plot, extra=extra)

    @app.exception_handler(Sim2RealError)
    async def _user_error(request: Request, exc: Sim2RealError) -> HTMLResponse:
        # a refused action is shown where its result would have gone
        text = templates.env.filters["e"](str(exc))
        return HTMLResponse(f'<div class="banner bad user-error">{text}</div>', status_code=200)

    @app.middleware("http")
    async def _log_requests(request: Request, call_next: Any) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # the path only: a query string could hold the token
        log.info("%s %s -> %d (%.0f ms)", request.method, request.url.path, response.status_code,
                 (time.perf_counter() - started) * 1000)
        return response

    @app.get("/")
    async def home() -> RedirectResponse:
        return RedirectResponse("/profile", status_code=303)

    # ------------------------------------------------------------------ profile editor
    @app.get("/profile", response_class=HTMLResponse)
    async def profile_page(request: Request) -> HTMLResponse:
        return page(request, "profile.html", "profile", title="Profile", **panel.profile_view())

    edits: dict[str, Any] = {  # POST /profile/ACTION: one ProfileEditor call each
        "load": lambda f: panel.load_profile(str(f.get("path", ""))),
        "category": lambda f: panel.profile.set_category(str(f.get("category")), f.get("enabled") == "true"),
        "field": lambda f: panel.profile.set_text(str(f.get("term")), str(f.get("field")), str(f.get("value", ""))),
        "save": lambda f: panel.save_profile(str(f.get("name", ""))),
    }

    @app.post("/profile/{action}", response_class=HTMLResponse)
    async def profile_edit(request: Request, action: str) -> HTMLResponse:
        if action not in edits:
            return HTMLResponse("not found", status_code=404)
        form = await request.form()
        try:
            edits[action](form)
        except KeyError as exc:  # an unknown term, field or category: the editor names it
            raise UserError(str(exc.args[0]) if exc.args else "unknown key") from None
        except UserError as exc:
            if action not in FIELD_OF:
                raise
            # a refused file name: 422, the editor as it was, the message beside the field typed into
            field = FIELD_OF[action]
            view = {**panel.profile_view(), "refused": {action: str(exc)}, "typed": {action: str(form.get(field, ""))}}
            return _fragment(templates, request, "profile_editor.html", view, status_code=422)
        return _fragment(templates, request, "profile_editor.html", panel.profile_view())

    # ------------------------------------------------------------------ frames: a form and its jobs
    @app.get("/{frame}", response_class=HTMLResponse)
    async def frame_page(request: Request, frame: str) -> Response:
        spec = FRAMES.get(frame)
        if spec is None:
            return HTMLResponse("not found", status_code=404)
        jobs = [job_html(request, j.ident) for j in panel.jobs_of(frame)]
        return page(request, spec.template, frame, title=spec.title, intro=spec.intro, form=frame,
                    specs=fields.input_specs(panel.form(frame).model), snap=panel.form(frame).snapshot(),
                    actions=spec.actions, jobs=jobs, **panel.frame_extra(frame))

    @app.post("/forms/{frame}", response_class=HTMLResponse)
    async def form_update(request: Request, frame: str) -> HTMLResponse:
        if frame not in FRAMES:
            return HTMLResponse("not found", status_code=404)
        panel.update_form(frame, await request.form())
        return _form_fragment(templates, request, panel, frame)

    @app.post("/jobs/{action}", response_class=HTMLResponse)
    async def start_job(request: Request, action: str) -> HTMLResponse:
        job = panel.start(action, await request.form())
        return HTMLResponse(job_html(request, job.ident))

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    async def job_view(request: Request, job_id: int) -> HTMLResponse:
        finished = panel.job(job_id).finished
        return HTMLResponse(job_html(request, job_id), status_code=STOP_POLLING if finished else 200)

    @app.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
    async def job_cancel(request: Request, job_id: int) -> HTMLResponse:
        panel.job(job_id).cancel()
        return HTMLResponse(job_html(request, job_id))

    @app.get("/jobs/{job_id}/artifacts/{index}")
    async def artifact(job_id: int, index: int) -> Response:
        job = panel.job(job_id)
        artefacts = job.snapshot()["artifacts"]
        if not 0 <= index < len(artefacts):
            return HTMLResponse("no such artefact", status_code=404)
        try:
            path, media = served_file(panel.output_folder(job), artefacts[index]["path"],
                                      {**IMAGE_TYPES, **REPORT_TYPES}, cwd=panel.workdir)
        except Sim2RealError:
            return HTMLResponse("not a file of this job", status_code=404)
        headers = {"Content-Security-Policy": REPORT_CSP, "X-Content-Type-Options": "nosniff"}
        return FileResponse(path, media_type=media, headers=headers)

    @app.post("/sysid/use-calibrated", response_class=HTMLResponse)
    async def use_calibrated() -> HTMLResponse:
        panel.app.sysid.use_calibrated()
        return HTMLResponse("", headers={"HX-Redirect": "/profile"})

    # ------------------------------------------------------------------ deploy targets
    @app.post("/targets", response_class=HTMLResponse)
    async def target_put(request: Request) -> HTMLResponse:
        form = await request.form()
        panel.targets.put({k: v for k, v in form.items()})
        return _fragment(templates, request, "targets.html", panel.frame_extra("deploy"))

    @app.post("/targets/{name}/delete", response_class=HTMLResponse)
    async def target_delete(request: Request, name: str) -> HTMLResponse:
        panel.targets.remove(name)
        return _fragment(templates, request, "targets.html", panel.frame_extra("deploy"))

    return app


def _plotted(key: str) -> bool:
    """Loss-like values share the training plot; rates and scores have scales of their own."""
    return "loss" in key


def _fragment(templates: Jinja2Templates, request: Request, name: str, ctx: dict[str, Any],
              status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)


def _form_fragment(templates: Jinja2Templates, request: Request, panel: WebPanel, frame: str) -> HTMLResponse:
    spec = FRAMES[frame]
    return templates.TemplateResponse(request, "form.html", {
        "form": frame, "specs": fields.input_specs(panel.form(frame).model), "snap": panel.form(frame).snapshot(),
        "actions": spec.actions})
