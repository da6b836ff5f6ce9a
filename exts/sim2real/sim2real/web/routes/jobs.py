"""Jobs: start one from a frame's form, poll its block (htmx stops polling when it finished), cancel
it, and serve its artefacts (images and reports inside its output folder only)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from ...errors import Sim2RealError
from ..paths import IMAGE_TYPES, REPORT_TYPES, served_file
from ..views import ViewsDep

router = APIRouter()
STOP_POLLING = 286  # htmx stops an `every` poll on this status
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; sandbox"


@router.post("/jobs/{action}", response_class=HTMLResponse)
async def start_job(request: Request, action: str, views: ViewsDep) -> HTMLResponse:
    job = views.panel.start(action, await request.form())
    return HTMLResponse(views.job(job.ident))


@router.get("/jobs/{job_id}", response_class=HTMLResponse)
async def job_view(job_id: int, views: ViewsDep) -> HTMLResponse:
    finished = views.panel.job(job_id).finished
    return HTMLResponse(views.job(job_id), status_code=STOP_POLLING if finished else 200)


@router.post("/jobs/{job_id}/cancel", response_class=HTMLResponse)
async def job_cancel(job_id: int, views: ViewsDep) -> HTMLResponse:
    views.panel.job(job_id).cancel()
    return HTMLResponse(views.job(job_id))


@router.get("/jobs/{job_id}/artifacts/{index}")
async def artifact(job_id: int, index: int, views: ViewsDep) -> Response:
    panel = views.panel
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
