"""omni.ui widgets bound to sim2real.app view-models: form fields with their error beside them, the
status row of a job (progress bar, state, cancel), and the refresher that redraws from the models.

Models change on job reader threads; ``Refresher.schedule`` (thread-safe, coalescing) hands the redraw
to Kit's main loop, where every ``add``ed function re-reads its view-model. No logic lives here.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any

import omni.ui as ui

from sim2real.app import texts

LABEL_WIDTH = 130
ERROR_STYLE = {"color": 0xFF4040FF}  # ABGR: red
DIM_STYLE = {"color": 0xFF9A9A9A}


class Refresher:
    """Runs the registered redraw functions on the main loop after any subscribed model changed."""

    def __init__(self) -> None:
        self._loop = asyncio.get_event_loop()  # Kit's main loop (on_startup runs on the main thread)
        self._functions: list[Callable[[], None]] = []
        self._pending = threading.Event()
        self._unsubscribe: list[Callable[[], None]] = []

    def watch(self, model: Any) -> None:
        self._unsubscribe.append(model.subscribe(lambda _m: self.schedule()))

    def add(self, fn: Callable[[], None]) -> None:
        self._functions.append(fn)
        fn()

    def schedule(self) -> None:
        if not self._pending.is_set():
            self._pending.set()
            self._loop.call_soon_threadsafe(self.refresh)

    def refresh(self) -> None:
        self._pending.clear()
        for fn in list(self._functions):
            fn()

    def close(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self._functions.clear()


def rebuild_on_change(refresher: Refresher, frame: ui.Frame, model: Any) -> None:
    """Rebuild ``frame`` (its ``build_fn``) when ``model``'s revision moved: lists whose rows change."""
    seen = [-1]

    def check() -> None:
        if model.revision != seen[0]:
            seen[0] = model.revision
            frame.rebuild()

    refresher.add(check)


def ident(*parts: str) -> str:
    """Widget identifiers (what ``omni.kit.ui_test`` finds): ``capture.frames``, ``train.start``."""
    return ".".join(parts)


def error_label(identifier: str, refresher: Refresher, message: Callable[[], str | None]) -> ui.Label:
    label = ui.Label("", identifier=identifier, style=ERROR_STYLE, word_wrap=True)
    refresher.add(lambda: setattr(label, "text", message() or ""))
    return label


def form_field(form: Any, field: str, label: str, refresher: Refresher, kind: str = "string",
               choices: Sequence[str] = (), tooltip: str = "", blank: bool = True) -> None:
    """One settings field: label, editor of ``kind`` (string, int, float, bool, combo; ``blank``: the combo
    offers "" for the command's default), error text."""
    value = form.values.get(field)
    name = ident(form.name, field)
    with ui.HStack(height=0, spacing=4):
        ui.Label(label, width=LABEL_WIDTH, tooltip=tooltip)
        if kind == "bool":
            model = ui.SimpleBoolModel(bool(value))
            ui.CheckBox(model=model, identifier=name, width=20)
            model.add_value_changed_fn(lambda m: form.set(field, m.as_bool))
        elif kind == "combo":
            options = texts.combo_options(choices, blank)
            box = ui.ComboBox(texts.combo_index(value, choices, blank), *options, identifier=name)
            box.model.add_item_changed_fn(
                lambda m, _item: form.set(field, options[m.get_item_value_model().as_int]))
        elif kind == "list":  # comma-separated text <-> a list of strings
            model = ui.SimpleStringModel(texts.join_list(value))
            ui.StringField(model=model, identifier=name)
            model.add_end_edit_fn(lambda m: form.set(field, texts.split_list(m.as_string)))
        elif kind == "int":
            model = ui.SimpleIntModel(int(value or 0))
            ui.IntField(model=model, identifier=name)
            model.add_end_edit_fn(lambda m: form.set(field, m.as_int))
        elif kind == "float":
            model = ui.SimpleFloatModel(float(value or 0.0))
            ui.FloatField(model=model, identifier=name)
            model.add_end_edit_fn(lambda m: form.set(field, m.as_float))
        else:
            model = ui.SimpleStringModel("" if value is None else str(value))
            ui.StringField(model=model, identifier=name)
            model.add_end_edit_fn(lambda m: form.set(field, m.as_string))
    error_label(ident(name, "error"), refresher, lambda: form.errors.get(field))


def button(text: str, identifier: str, fn: Callable[[], Any], width: Any = 0) -> ui.Button:
    """A button whose click runs ``fn``; a refused action is already kept in its view-model."""
    def clicked() -> None:
        try:
            fn()
        except Exception as exc:  # a UserError is shown by the frame; anything else goes to Kit's log
            from sim2real.errors import UserError

            if not isinstance(exc, UserError):
                raise

    return ui.Button(text, identifier=identifier, clicked_fn=clicked, width=width, height=24)


def job_status(frame: Any, name: str, refresher: Refresher) -> None:
    """Progress bar, state line, error, the log tail of the frame's latest job, and Cancel."""
    progress = ui.SimpleFloatModel(0.0)
    with ui.HStack(height=0, spacing=4):
        ui.ProgressBar(model=progress, identifier=ident(name, "progress"), height=20)
        button("Cancel", ident(name, "cancel"), frame.cancel, width=70)
    state = ui.Label("", identifier=ident(name, "state"), style=DIM_STYLE, word_wrap=True)
    error_label(ident(name, "error"), refresher,
                lambda: frame.error or ((frame.job() and frame.job().error or {}).get("message")))
    with ui.CollapsableFrame("Log", collapsed=True, height=0):
        log = ui.Label("", identifier=ident(name, "log"), word_wrap=True, style=DIM_STYLE)

    def redraw() -> None:
        job = frame.job()
        progress.set_value(float(job.fraction or 0.0) if job is not None else 0.0)
        state.text = texts.job_status_line(job)
        log.text = texts.log_tail(job)

    refresher.add(redraw)
