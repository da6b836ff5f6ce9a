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
FIELD_OF = {"load": "path", "save": "name"}  # profile actions that take a file name, and its form field


@router.get("/profile", response_class=HTMLResponse)
async def profile_page(request: Request, views: ViewsDep) -> HTMLResponse:
    return views.page(request, "profile.html", "profile", title="Profile", **views.panel.profile_view())


@router.post("/profile/{action}", response_class=HTMLResponse)
async def profile_edit(request: Request, action: str, views: ViewsDep) -> HTMLResponse:
    if action not in EDITS:
        return HTMLResponse("not found", status_code=404)
    form = await request.form()
    try:
        EDITS[action](views.panel, form)
    except KeyError as exc:  # an unknown term, field or category: the editor names it
        raise UserError(str(exc.args[0]) if exc.args else "unknown key") from None
    except UserError as exc:
        if action not in FIELD_OF:
            raise
        # a refused file name: 422, the editor as it was, the message beside the field typed into
        typed = str(form.get(FIELD_OF[action], ""))
        view = {**views.panel.profile_view(), "refused": {action: str(exc)}, "typed": {action: typed}}
        return views.fragment(request, "profile_editor.html", view, status_code=422)
    return views.fragment(request, "profile_editor.html", views.panel.profile_view())
