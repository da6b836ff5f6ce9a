"""The sim2real window: frames Randomize / Capture / Train / Gap / Deploy over one ``sim2real.app.Panel``.

Every widget reads or writes a view-model; what a button does is a method of the core
(``panel.capture.start()``, ``panel.editor.set_range(...)``), tested with pytest. Identifiers
(``capture.start``, ``term.<name>.low``) are what the Kit UI tests find.
"""

from __future__ import annotations

from typing import Any, get_args

import omni.ui as ui

from sim2real.app import texts
from sim2real.app.profile_editor import CATEGORIES
from sim2real.app.settings import TrainMethod, TrainTask

from .stage_preview import StagePreview
from .widgets import (DIM_STYLE, LABEL_WIDTH, Refresher, button, error_label, form_field, ident, job_status,
                      rebuild_on_change)

TITLE = "sim2real"


class Sim2RealWindow:
    def __init__(self, panel: Any, preview: StagePreview) -> None:
        self.panel = panel
        self.preview = preview
        self.refresher = Refresher()
        for model in (panel.editor, panel.preview, panel.capture, panel.train, panel.gap, panel.sysid,
                      panel.deploy, panel.targets):
            self.refresher.watch(model)
        self.window = ui.Window(TITLE, width=520, height=820, visible=True)
        with self.window.frame:
            with ui.ScrollingFrame():
                with ui.VStack(spacing=6, height=0):
                    self._randomize()
                    self._capture()
                    self._train()
                    self._gap()
                    self._deploy()

    @property
    def visible(self) -> bool:
        return bool(self.window.visible)

    def show(self) -> None:
        self.window.visible = True

    def destroy(self) -> None:
        self.refresher.close()
        self.window.destroy()

    # ------------------------------------------------------------------ Randomize
    def _randomize(self) -> None:
        editor, r = self.panel.editor, self.refresher
        with ui.CollapsableFrame("Randomize", identifier="frame.randomize", height=0):
            with ui.VStack(spacing=4, height=0):
                path = ui.SimpleStringModel(str(editor.path or ""))
                with ui.HStack(height=0, spacing=4):
                    ui.Label("Profile (TOML)", width=LABEL_WIDTH)
                    ui.StringField(model=path, identifier="profile.path")
                    button("Load", "profile.load", lambda: editor.load(path.as_string), width=60)
                    button("Save", "profile.save", lambda: editor.save(path.as_string or None), width=60)
                error_label("profile.error", r, lambda: (editor.errors.get("") or {}).get("") or editor.first_error())
                with ui.HStack(height=0, spacing=2):
                    for category in CATEGORIES:
                        model = ui.SimpleBoolModel(category in editor.enabled)
                        ui.CheckBox(model=model, identifier=ident("category", category), width=16)
                        ui.Label(category, width=0)
                        ui.Spacer(width=6)
                        model.add_value_changed_fn(lambda m, c=category: editor.set_category(c, m.as_bool))
                rebuild_on_change(r, ui.Frame(build_fn=self._build_terms, height=0), editor)
                with ui.HStack(height=0, spacing=4):
                    ui.Label("Preview seed", width=LABEL_WIDTH)
                    seed = ui.SimpleIntModel(self.panel.preview.seed)
                    ui.IntField(model=seed, identifier="preview.seed", width=80)
                    seed.add_end_edit_fn(lambda m: self.panel.preview.set_seed(max(0, m.as_int)))
                    button("Randomize now", "preview.apply", self.preview.randomize_now)
                    button("Restore stage", "preview.restore", self.preview.restore)
                status = ui.Label("", identifier="preview.state", style=DIM_STYLE, word_wrap=True)
                error_label("preview.error", r, lambda: self.panel.preview.error)
                r.add(lambda: setattr(status, "text", texts.preview_status(self.panel.preview)))

    def _build_terms(self) -> None:
        editor = self.panel.editor
        with ui.VStack(spacing=2, height=0):
            for row in editor.rows():
                name = row["id"]
                with ui.HStack(height=0, spacing=4, enabled=row["enabled"]):
                    ui.Label(name, width=LABEL_WIDTH, tooltip=f"{row['target']} ({row['dist']}, {row['op']}, "
                                                              f"{row['when']}) {row['unit']}",
                             style={} if row["enabled"] else DIM_STYLE)
                    if row["range"]:
                        lo, hi = row["slider"]
                        for key in ("low", "high"):
                            model = ui.SimpleFloatModel(float(row["fields"][key]))
                            ui.FloatField(model=model, identifier=ident("term", name, key), width=70)
                            ui.FloatSlider(model=model, min=lo, max=hi, identifier=ident("term", name, key, "slider"))
                            model.add_end_edit_fn(lambda m, n=name, k=key: editor.set_field(n, k, m.as_float))
                    else:
                        text = ", ".join(f"{k}={v}" for k, v in row["fields"].items() if k != "dist")
                        ui.Label(f"{row['dist']}: {text}", style=DIM_STYLE, elided_text=True)
                if row["errors"]:
                    ui.Label("; ".join(f"{k}: {v}" for k, v in row["errors"].items()),
                             identifier=ident("term", name, "error"), style={"color": 0xFF4040FF}, word_wrap=True)

    # ------------------------------------------------------------------ Capture
    def _capture(self) -> None:
        c, r = self.panel.capture, self.refresher
        with ui.CollapsableFrame("Capture", identifier="frame.capture", height=0):
            with ui.VStack(spacing=4, height=0):
                form_field(c.form, "frames", "Frames", r, "int")
                form_field(c.form, "out", "Dataset folder", r)
                form_field(c.form, "seed", "Seed", r, "int")
                form_field(c.form, "width", "Width (px)", r, "int")
                form_field(c.form, "height", "Height (px)", r, "int")
                form_field(c.form, "camera", "Camera", r)
                form_field(c.form, "backend", "Backend", r, "combo", ("isaac", "mujoco"), blank=False,
                           tooltip="isaac: Isaac Sim's headless script renders; mujoco: the embedded backend")
                form_field(c.form, "workers", "Renderers", r, "int")
                form_field(c.form, "layout", "Layout", r, "combo", ("native", "basic"))
                form_field(c.form, "depth_npy", "Depth as .npy", r, "bool")
                button("Start capture", "capture.start", lambda: c.start(scene=self.preview.stage_file()))
                job_status(c, "capture", r)
                image = ui.Image("", identifier="capture.sample", height=160)
                r.add(lambda: setattr(image, "source_url", c.state()["sample_image"] or ""))

    # ------------------------------------------------------------------ Train
    def _train(self) -> None:
        t, r = self.panel.train, self.refresher
        with ui.CollapsableFrame("Train", identifier="frame.train", height=0):
            with ui.VStack(spacing=4, height=0):
                form_field(t.form, "data", "Synthetic dataset", r)
                form_field(t.form, "target", "Real images", r)
                form_field(t.form, "eval", "Labelled real set", r)
                form_field(t.form, "out", "Run folder", r)
                form_field(t.form, "task", "Task", r, "combo", get_args(TrainTask))
                form_field(t.form, "method", "Adaptation", r, "combo", get_args(TrainMethod))
                form_field(t.form, "config", "Config", r, tooltip="a TOML file, or 'quick'")
                form_field(t.form, "epochs", "Epochs", r)
                button("Start training", "train.start", t.start)
                job_status(t, "train", r)
                plot = ui.Plot(ui.Type.LINE, 0.0, 1.0, 0.0, identifier="train.loss", height=120,
                               style={"color": 0xFF66CCFF})
                last = ui.Label("", identifier="train.metrics", style=DIM_STYLE)

                def redraw() -> None:
                    loss = t.loss()
                    if loss:
                        plot.set_data(*loss)
                        plot.scale_min, plot.scale_max = min(loss + [0.0]), max(loss) * 1.05 or 1.0
                    last.text = texts.last_metrics(t.job())

                r.add(redraw)

    # ------------------------------------------------------------------ Gap (and sysid)
    def _gap(self) -> None:
        g, s, r = self.panel.gap, self.panel.sysid, self.refresher
        with ui.CollapsableFrame("Gap", identifier="frame.gap", height=0):
            with ui.VStack(spacing=4, height=0):
                form_field(g.form, "sim", "Sim images", r)
                form_field(g.form, "real", "Real images", r)
                form_field(g.form, "features", "Features", r, tooltip="random, or model:RUN")
                form_field(g.form, "out", "Report folder", r)
                button("Measure the gap", "gap.start", g.start)
                job_status(g, "gap", r)
                summary = ui.Label("", identifier="gap.summary", word_wrap=True)
                r.add(lambda: setattr(summary, "text", texts.gap_summary(g.summary())))
                with ui.CollapsableFrame("Identify physics (sysid fit)", collapsed=True, height=0):
                    with ui.VStack(spacing=4, height=0):
                        form_field(s.form, "model", "Model", r)
                        form_field(s.form, "logs", "Logs (comma-separated)", r, "list")
                        form_field(s.form, "params", "Parameters", r, tooltip="a .toml file or targets")
                        form_field(s.form, "profile", "Base profile", r)
                        form_field(s.form, "optimizer", "Optimizer", r, "combo", ("lsq", "cma"))
                        button("Fit", "sysid.start", s.start)
                        job_status(s, "sysid", r)
                        button("Open the calibrated profile", "sysid.use", s.use_calibrated)

    # ------------------------------------------------------------------ Deploy
    def _deploy(self) -> None:
        d, targets, r = self.panel.deploy, self.panel.targets, self.refresher
        with ui.CollapsableFrame("Deploy", identifier="frame.deploy", height=0):
            with ui.VStack(spacing=4, height=0):
                with ui.CollapsableFrame("Targets (no secrets: key and known_hosts paths only)", collapsed=True,
                                         height=0):
                    with ui.VStack(spacing=4, height=0):
                        models = {}
                        for key, label in (("name", "Name"), ("host", "Host"), ("user", "User"), ("port", "Port"),
                                           ("identity_file", "Identity file"), ("known_hosts", "known_hosts")):
                            with ui.HStack(height=0, spacing=4):
                                ui.Label(label, width=LABEL_WIDTH)
                                models[key] = ui.SimpleStringModel("22" if key == "port" else "")
                                ui.StringField(model=models[key], identifier=ident("targets", key))
                        button("Save target", "targets.save",
                               lambda: targets.put({k: m.as_string for k, m in models.items()}))
                        error_label("targets.error", r,
                                    lambda: "; ".join(f"{k}: {v}" for k, v in targets.errors.items()))
                form_field(d.form, "run", "Training run", r)
                rebuild_on_change(r, ui.Frame(build_fn=self._build_target_combo, height=0), targets)
                error_label(ident("deploy", "target", "error"), r, lambda: d.form.errors.get("target"))
                form_field(d.form, "precision", "Precisions", r, tooltip="fp32,int8,fp16")
                form_field(d.form, "onnx", "ONNX file", r)
                form_field(d.form, "bundle", "Bundle", r)
                form_field(d.form, "root", "Device folder", r)
                form_field(d.form, "iterations", "Bench iterations", r, "int")
                with ui.HStack(height=0, spacing=4):
                    button("Export", "deploy.export", d.export)
                    button("Bundle", "deploy.bundle", d.bundle)
                    button("Push", "deploy.push", d.push)
                    button("Bench", "deploy.bench", d.bench)
                job_status(d, "deploy", r)
                bench = ui.Label("", identifier="deploy.bench_results", word_wrap=True)
                r.add(lambda: setattr(bench, "text", texts.bench_table(d.bench_results())))

    def _build_target_combo(self) -> None:
        d = self.panel.deploy
        targets = self.panel.targets.names()
        names = texts.combo_options(targets)
        with ui.HStack(height=0, spacing=4):
            ui.Label("Target", width=LABEL_WIDTH)
            box = ui.ComboBox(texts.combo_index(d.form.values.get("target"), targets), *names, identifier="deploy.target")
            box.model.add_item_changed_fn(lambda m, _i: d.form.set("target", names[m.get_item_value_model().as_int]))
