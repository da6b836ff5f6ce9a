"""A stage's page (Capture, Train, Gap, Sysid, Deploy): its settings form and the jobs it started.

``/{frame}`` matches any single path segment, so this router is included after every other page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ..state import FRAMES
from ..views import ViewsDep

router = APIRouter()


@router.post("/forms/{frame}", response_class=HTMLResponse)
async def form_update(request: Request, frame: str, views: ViewsDep) -> HTMLResponse:
    if frame not in FRAMES:
        return HTMLResponse("not found", status_code=404)
    views.panel.update_form(frame, await request.form())
    return views.form(request, frame)


@router.post("/sysid/use-calibrated", response_class=HTMLResponse)
async def use_calibrated(views: ViewsDep) -> HTMLResponse:
    views.panel.app.sysid.use_calibrated()
    return HTMLResponse("", headers={"HX-Redirect": "/profile"})


@router.get("/{frame}", response_class=HTMLResponse)
async def frame_page(request: Request, frame: str, views: ViewsDep) -> Response:
    spec = FRAMES.get(frame)
    if spec is None:
        return HTMLResponse("not found", status_code=404)
    panel = views.panel
    jobs = [views.job(j.ident) for j in panel.jobs_of(frame)]
    return views.page(request, spec.template, frame, title=spec.title, intro=spec.intro, form=frame,
                      specs=panel.specs(frame), snap=panel.form(frame).snapshot(),
                      actions=spec.actions, jobs=jobs, **panel.frame_extra(frame))
