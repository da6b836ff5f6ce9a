"""Deploy targets (host, user, key and known_hosts paths; never secrets): add or replace, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ..views import ViewsDep

router = APIRouter()


@router.post("/targets", response_class=HTMLResponse)
async def target_put(request: Request, views: ViewsDep) -> HTMLResponse:
    form = await request.form()
    views.panel.targets.put({k: v for k, v in form.items()})
    return views.fragment(request, "targets.html", views.panel.frame_extra("deploy"))


@router.post("/targets/{name}/delete", response_class=HTMLResponse)
async def target_delete(request: Request, name: str, views: ViewsDep) -> HTMLResponse:
    views.panel.targets.remove(name)
    return views.fragment(request, "targets.html", views.panel.frame_extra("deploy"))
