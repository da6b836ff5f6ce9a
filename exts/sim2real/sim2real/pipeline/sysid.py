"""Stage ``sysid``: identify the simulator's physics from the robot's logs (``sim2real.sysid``).

With ``[sysid.surrogate]`` (the demo) the logs are recorded here on a SURROGATE robot, a simulated
robot with hidden differences (``sim2real.sysid.surrogate``), from excitation signals made here; the
last ``holdout`` logs are held out. Its hidden values are known, so the report also gives each
estimate's error against them - which no real robot can give. The calibrated profile
(``fit/calibrated.toml``) is the stage's product for randomization.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..fsutil import sha256_file
from ..paths import data_path
from ..report import Metric, Section, grade
from .generate import resource
from .stage_sections import save_section
from .spec import resolve_path
from .stage import Context

LOGS, FIT = "logs", "fit"
ERROR_BANDS = (0.05, 0.2)  # relative error against the surrogate's truth: good below 5 %, warn below 20 %


def _sysid_file(value: str, base_dir: Path) -> Path | None:
    """A file next to the pipeline, else a shipped one by name (``data/sysid/<name>.toml``)."""
    found = resource(value, base_dir)
    if Path(found).is_file():
        return Path(found)
    shipped = data_path("sysid", f"{value}.toml")
    return shipped if shipped.is_file() else None


def _model_file(value: str, base_dir: Path) -> Path | None:
    """The robot's MJCF: next to the pipeline, else a shipped scene (``data/scenes/<name>.xml``)."""
    found = Path(resource(value, base_dir))
    shipped = data_path("scenes", f"{value}.xml")
    return found if found.is_file() else shipped if shipped.is_file() else None


def _file_id(path: Path | None, value: str) -> Any:
    return {"sha256": sha256_file(path)} if path is not None else value


class SysidStage:
    name = "sysid"
    title = "System identification"
    needs: tuple[str, ...] = ()

    def _params(self, ctx: Context) -> str:
        s = ctx.spec.sysid
        path = _sysid_file(s.params, ctx.base_dir)
        return str(path) if path is not None else s.params  # else: targets such as 'body:*/mass'

    def _surrogate(self, ctx: Context) -> Path:
        from ..errors import ConfigError

        s = ctx.spec.sysid.surrogate
        path = _sysid_file(s.spec, ctx.base_dir)
        if path is None:
            raise ConfigError(None, "sysid.surrogate.spec", "a surrogate spec file or a name in data/sysid/", s.spec)
        return path

    def _logs(self, ctx: Context, names: list[str]) -> list[Path]:
        return [resolve_path(v, ctx.base_dir).resolve() for v in names]

    def inputs(self, ctx: Context) -> dict[str, Any]:
        s = ctx.spec.sysid
        params = self._params(ctx)
        out: dict[str, Any] = {"settings": s.model_dump(mode="json", exclude={"logs", "holdout", "params", "model"}),
                               "model": _file_id(_model_file(s.model, ctx.base_dir), s.model),
                               "params": _file_id(Path(params) if params.endswith(".toml") else None, params)}
        if s.surrogate is not None:
            out["surrogate"] = {"sha256": sha256_file(self._surrogate(ctx))}
        else:
            out["logs"] = [_file_id(p, str(p)) for p in self._logs(ctx, s.logs)]
            out["holdout"] = [_file_id(p, str(p)) for p in self._logs(ctx, s.holdout)]
        if s.profile:
            out["profile"] = _file_id(resolve_path(s.profile, ctx.base_dir), s.profile)
        return out

    def run(self, ctx: Context, folder: Path) -> dict[str, Any]:
        from ..fsutil import locked_dir
        from ..runs import new_run_id
        from ..sysid.fit import CHECKPOINT, FitOptions, identify, report_sections, write_outputs

        s = ctx.spec.sysid
        truth: dict[str, Any] | None = None
        if s.surrogate is not None:
            logs, truth = surrogate_logs(self._surrogate(ctx), s.surrogate, folder / LOGS, ctx)
            n_fit = len(logs) - s.surrogate.holdout
            fit_logs, held = logs[:n_fit], logs[n_fit:]
        else:
            fit_logs, held = self._logs(ctx, s.logs), self._logs(ctx, s.holdout)
        opts = FitOptions(model=resource(s.model, ctx.base_dir), logs=fit_logs, params=self._params(ctx), holdout=held,
                          optimizer=s.optimizer, max_iter=s.max_iter, seed=s.seed, safety=s.safety,
                          holdout_fraction=s.holdout_fraction, nthread=s.threads, topic=s.topic,
                          command_topic=s.command_topic,
                          profile=resolve_path(s.profile, ctx.base_dir) if s.profile else None)
        out = folder / FIT
        run_id = new_run_id("sysid")
        with locked_dir(out, purpose="sysid fit"):
            outcome = identify(opts, ctx.reporter, checkpoint=out / CHECKPOINT)  # resumes from its checkpoint
            sections = report_sections(outcome)
            paths = write_outputs(outcome, out, run_id, ctx.reporter, sections)
        params = []
        for p, v, hw in zip(outcome.params, outcome.x, outcome.uncertainty.half_width, strict=True):
            row: dict[str, Any] = {"name": p.name, "unit": p.unit, "op": p.op, "estimate": float(v), "half_width": float(hw)}
            if truth is not None:
                row["truth"] = truth_of(p, truth)
                row["error"] = relative_error(float(v), row["truth"])
            params.append(row)
        summary = outcome.summary
        result = {"id": run_id, "fit": ctx.rel(out), "model": outcome.simulator_name,
                  "calibrated_profile": ctx.rel(paths["profile"]), "report": ctx.rel(paths["report"]),
                  "surrogate": truth is not None, "parameters": params,
                  "worst_error": max((r["error"] for r in params), default=None) if truth is not None else None,
                  "rmse_ratio_mean": summary.get("rmse_ratio_mean"), "converged": outcome.result.success,
                  "logs": [ctx.rel(p) for p in fit_logs], "holdout": [ctx.rel(p) for p in held]}
        sec = _section(self.title, result)
        for sub in sections:
            sec.include(sub)
        result["section"] = ctx.rel(folder / save_section(folder, sec))
        return result


def surrogate_logs(spec_path: Path, cfg: Any, folder: Path, ctx: Context) -> tuple[list[Path], dict[str, Any]]:
    """Excitation signals replayed on the surrogate robot: one log per signal (CSV), and its truth."""
    from ..sim.registry import backend_class
    from ..sysid.excite import ExcitationSpec, excitation
    from ..sysid.logs import write_log
    from ..sysid.surrogate import load_spec, open_surrogate

    backend_class("mujoco")  # one line saying what to install when MuJoCo is missing
    robot = open_surrogate(load_spec(spec_path))
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    try:
        with ctx.reporter.task("surrogate logs", total=len(cfg.signals), unit="log") as task:
            for i, signal in enumerate(cfg.signals):
                ex = excitation(ExcitationSpec(signal, cfg.duration_s, cfg.rate_hz, cfg.amplitude, cfg.center,
                                               tuple(cfg.band_hz), cfg.max_velocity, seed=cfg.seed + i),
                                len(robot.actuators), [None] * len(robot.actuators))
                log = robot.run(ex.to_log(robot.actuators, robot.plant.command_units), episode=i)
                paths.append(write_log(log, folder / f"{i:02d}_{signal}.csv"))
                task.advance()
        return paths, robot.truth()
    finally:
        robot.backend.close()


def truth_of(param: Any, truth: dict[str, Any]) -> float:
    """The surrogate's hidden value of a parameter, in the parameter's own terms (a factor for
    ``scale``, an offset for ``add``): keys it does not change keep the model's value (factor 1,
    offset 0). The shipped surrogate specs state their hidden values in the same operations as the
    parameter files."""
    values = {float(truth[k]) for k in param.keys if k in truth}
    if not values:
        return {"scale": 1.0, "add": 0.0}.get(param.op, float(param.defaults[0]) if param.defaults else 0.0)
    return float(sum(values) / len(values))


def relative_error(estimate: float, truth: float) -> float:
    """|estimate - truth| / |truth| (absolute error when the truth is 0)."""
    return abs(estimate - truth) / abs(truth) if truth != 0 else abs(estimate - truth)


def _section(title: str, r: dict[str, Any]) -> Section:
    sec = Section("sysid", title)
    rows = [Metric("held-out RMSE after / before calibration", r["rmse_ratio_mean"], key="rmse_ratio_mean",
                   status=grade(r["rmse_ratio_mean"], 0.2, 0.5), threshold="<= 0.2"),
            Metric("calibrated profile", r["calibrated_profile"], key="calibrated_profile",
                   note="estimates as nominal values, ranges from the confidence intervals")]
    if r["surrogate"]:
        rows.insert(0, Metric("worst parameter error vs the surrogate's hidden values", 100 * r["worst_error"], unit="%",
                              key="worst_error_pct", status=grade(r["worst_error"], *ERROR_BANDS),
                              threshold=f"< {100 * ERROR_BANDS[0]:g} %", note="known only because the robot is a SURROGATE"))
    sec.metrics(rows)
    if r["surrogate"]:
        sec.table(["parameter", "unit", "op", "hidden value", "estimate", "± (95%)", "relative error"],
                  [[p["name"], p["unit"], p["op"], p["truth"], p["estimate"], p["half_width"], f"{100 * p['error']:.2f} %"]
                   for p in r["parameters"]], title="Estimates against the SURROGATE robot's hidden values")
        sec.text(f"Logs recorded on the SURROGATE robot: {', '.join(Path(p).name for p in r['logs'])} fitted, "
                 f"{', '.join(Path(p).name for p in r['holdout']) or 'none'} held out.")
    return sec
