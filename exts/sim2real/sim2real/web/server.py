"""The web panel: FastAPI routes rendering ``sim2real.app``'s view-models as HTML (htmx for updates).

Every behaviour lives in the view-models (forms, profile editor, deploy targets, jobs): a route reads
a request, calls one view-model method and renders its ``snapshot()`` (``views.Views``). The routes
are one router per page (``routes/``). Jobs are ``sim2real ... --progress json`` subprocesses of the
``JobRunner``, so closing the browser leaves them running and reopening it shows them again; stopping
the server cancels them (SIGINT: finished work is kept).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from ..errors import Sim2RealError
from .routes import frames, jobs, profile, targets
from .state import WebPanel
from .views import HERE, Views

log = logging.getLogger(__name__)


def create_app(panel: WebPanel) -> FastAPI:
    app = FastAPI(title="sim2real", docs_url=None, redoc_url=None, openapi_url=None)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.state.panel = panel
    app.state.views = views = Views(panel)

    @app.exception_handler(Sim2RealError)
    async def _user_error(request: Request, exc: Sim2RealError) -> HTMLResponse:
        # a refused action is shown where its result would have gone
        return HTMLResponse(f'<div class="banner bad user-error">{views.escape(str(exc))}</div>', status_code=200)

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

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:  # what browsers ask for before they read the page's <link rel="icon">
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    for module in (profile, jobs, targets, frames):  # frames last: its /{frame} matches any page name
        app.include_router(module.router)
    return app
