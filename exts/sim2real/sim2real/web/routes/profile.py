"""The profile page: the editor, and its edits (one ``ProfileEditor`` call each)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ...errors import UserError
from ..views import ViewsDep

router = APIRouter()

EDITS: dict[str, Any] = {  # POST /profile/ACTION: (panel, form) -> one editor call
    "load": lambda p, f: p.load_profile(str(f.get("path", ""))),
    "category": lambda p, f: p.profile.set_category(str(f.get("category")), f.get("enabled") == "true"),
    "field": lambda p, f: p.profile.set_text(str(f.get("term")), str(f.get("field")), str(f.get("value", ""))),
    "save": lambda p, f: p.save_profile(str(f.get("name", ""))),
}


@router.get("/profile", response_class=HTMLResponse)
async def profile_page(request: Request, views: ViewsDep) -> HTMLResponse:
    return views.page(request, "profile.html", "profile", title="Profile", **views.panel.profile_view())


@router.post("/profile/{action}", response_class=HTMLResponse)
async def profile_edit(request: Request, action: str, views: ViewsDep) -> HTMLResponse:
    if action not in EDITS:
        return HTMLResponse("not found", status_code=404)
    try:
        EDITS[action](views.panel, await request.form())
    except KeyError as exc:  # an unknown term, field or category: the editor names it
        raise UserError(str(exc.args[0]) if exc.args else "unknown key") from None
    return views.fragment(request, "profile_editor.html", views.panel.profile_view())
