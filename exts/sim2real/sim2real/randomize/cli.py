"""``sim2real profile``: validate, sample and show randomization profiles."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import typer

from ..cli_common import JsonOpt, console, print_json

app = typer.Typer(
    name="profile", help="Randomization profiles: validate, sample, show.", no_args_is_help=True
)

ProfileArg = Annotated[Path, typer.Argument(help="A TOML profile, e.g. config/profiles/tabletop.toml.")]
EntitiesOpt = Annotated[
    Optional[Path],
    typer.Option("--entities", help='JSON file {"kind": ["name", ...]} with the scene\'s entity names.'),
]
SceneOpt = Annotated[
    Optional[str], typer.Option("--scene", help="Take entity names from this scene, loaded with --backend.")
]
BackendOpt = Annotated[str, typer.Option("--backend", help="Backend for --scene and capability checks.")]


def _entities(profile: Any, entities: Path | None, scene: str | None, backend: str) -> tuple[dict, str] | None:
    """The entity names selectors resolve against: --entities, else --scene, else the scene the profile
    names (``scene = ...``, checked to exist); None when there is none of them."""
    from . import entities as ent

    if entities is not None:
        return ent.load_entities(entities), str(entities)
    from ..sim.registry import scene_entities

    if scene is not None:
        return scene_entities(scene, backend), f"scene {scene}"
    if profile.scene is not None and profile.source is not None:
        from ..generate.request import profile_scene

        path = profile_scene(Path(profile.source), profile.scene, backend)
        return scene_entities(str(path), backend), f"scene {profile.scene} (the profile's)"
    return None


def _entities_or_stand_ins(profile: Any, entities: Path | None, scene: str | None, backend: str) -> tuple[dict, str]:
    from .entities import placeholder_entities

    found = _entities(profile, entities, scene, backend)
    return found or (placeholder_entities(profile), "stand-ins from the selectors (no --entities, --scene or "
                                                    "profile scene)")


@app.command()
def validate(
    profile: ProfileArg,
    backend: Annotated[
        Optional[str], typer.Option("--backend", help="Also check that this backend can apply every target.")
    ] = None,
    entities: EntitiesOpt = None,
    scene: SceneOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check a profile; exit 2 with one line naming file, term and key if anything is wrong."""
    from ..sim.registry import backend_capabilities
    from .entities import check_capabilities
    from .profile import load_profile, require_randomization
    from .runtime import Randomizer

    p = require_randomization(load_profile(profile))
    if backend is not None:
        check_capabilities(p, backend_capabilities(backend), backend)
    found = _entities(p, entities, scene, backend or "mujoco")
    if found is not None:
        Randomizer(p, 0, found[0])  # resolves every selector against the scene's names
    summary = {
        "profile": str(profile),
        "name": p.name,
        "hash": p.hash,
        "terms": len(p.terms),
        "groups": len(p.groups),
        "curriculum": p.curriculum is not None,
        "adr": p.adr is not None,
        "targets": sorted(f"{k}/{a}" for k, a in p.targets()),
        "entities": found[1] if found else None,
    }
    if json_out:
        print_json({"ok": True, **summary})
    else:
        checked = f", entities of {found[1]}" if found else " (selectors not checked: no scene, --scene or --entities)"
        console().print(
            f"[green]ok[/]: {profile}: {len(p.terms)} terms, {len(p.groups)} groups, "
            f"{len(summary['targets'])} targets, hash {p.hash}{checked}"
        )


Event = Literal["startup", "reset", "interval", "frame"]  # the profile's own `when` names


@app.command()
def sample(
    profile: ProfileArg,
    n: Annotated[int, typer.Option("--n", min=1, max=100_000, help="Number of environments.")] = 1,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed.")] = 0,
    event: Annotated[Event, typer.Option("--event", help="The terms of this `when`.")] = "reset",
    index: Annotated[
        Optional[int],
        typer.Option("--index", min=0, help="Episode (reset), frame (frame) or physics step >= 1 (interval); "
                     "default 0, for interval the first step an interval term fires."),
    ] = None,
    episode: Annotated[int, typer.Option("--episode", min=0, help="The episode of an interval sample.")] = 0,
    entities: EntitiesOpt = None,
    scene: SceneOpt = None,
    backend: BackendOpt = "mujoco",
    json_out: JsonOpt = False,
) -> None:
    """Draw one sample and print every environment's values (a pure function of seed and index)."""
    from ..errors import UserError
    from .profile import load_profile
    from .runtime import Randomizer

    p = load_profile(profile)
    names, origin = _entities_or_stand_ins(p, entities, scene, backend)
    r = Randomizer(p, seed, names, n_envs=n)
    if event == "interval":
        index = min(r.resolved.periods, default=1) if index is None else index
        if index < 1:
            raise UserError(f"--index: expected a physics step >= 1 for --event interval (got {index})")
        r.reset(episode)
        s = r.step(index)
    else:
        index = 0 if index is None else index
        s = r.startup() if event == "startup" else r.reset(index) if event == "reset" else r.frame(index)
    records = [s.record(i) for i in range(n)] if s is not None else []
    ops = dict(s.ops) if s is not None else {}
    if json_out:
        print_json(
            {
                "profile": str(profile),
                "hash": p.hash,
                "seed": seed,
                "event": event,
                "index": index,
                "n_envs": n,
                "entities": origin,
                "ops": ops,
                "envs": records,
            }
        )
        return
    _print_sample(records, ops, f"{profile} · seed {seed} · {event} {index} · entities: {origin}")


def _print_sample(records: list[dict], ops: dict[str, str], title: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    if not records or not records[0]:
        console().print(f"{escape(title)}: nothing is randomized at this event")
        return
    shown = records[:6]
    table = Table(title=escape(title))
    table.add_column("key", overflow="fold")
    table.add_column("op")
    for i in range(len(shown)):
        table.add_column(f"env {i}", overflow="fold")
    for key in records[0]:
        table.add_row(escape(key), ops.get(key, ""), *(escape(_fmt(r[key])) for r in shown))
    console().print(table)
    if len(records) > len(shown):
        console().print(f"({len(records) - len(shown)} more environments; use --json to see all)")


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, str) and "/" in v:
        return Path(v).name  # texture paths: the file name is what a person wants to see
    return str(v)


@app.command()
def show(profile: ProfileArg, json_out: JsonOpt = False) -> None:
    """A table of the profile's terms, groups, curriculum and ADR parameters."""
    from rich.markup import escape
    from rich.table import Table

    from .describe import TERM_COLUMNS, term_rows
    from .profile import load_profile

    p = load_profile(profile)
    if json_out:
        print_json({"profile": str(profile), "hash": p.hash, **p.to_dict()})
        return
    out = console()
    table = Table(title=escape(f"{p.name or profile} · {len(p.terms)} terms · hash {p.hash}"))
    for col in TERM_COLUMNS:
        table.add_column(col, overflow="fold")
    for row in term_rows(p):
        table.add_row(*(escape(cell) for cell in row))
    out.print(table)
    for g in p.groups:
        out.print(_group_table(p, g))
    if p.curriculum is not None:
        c = p.curriculum
        scales = ", ".join(f"{s:.3g}" for s in c.scale_list())
        pace = f"{c.episodes_per_phase} episodes per phase" if c.episodes_per_phase else "phase set by the caller"
        out.print(f"curriculum: scales [{scales}] ({pace}) on {', '.join(c.terms)}")
    if p.adr is not None:
        out.print(_adr_table(p))


def _group_table(p: Any, g: Any) -> Any:
    """One group's members: target, distribution (or derivation) and operation."""
    from rich.markup import escape
    from rich.table import Table

    from .describe import dist_text

    gt = Table(title=escape(f"group {g.name} · {g.when}" + (f" · {', '.join(g.constraints)}" if g.constraints else "")))
    for col in ("member", "target", "distribution", "op"):
        gt.add_column(col, overflow="fold")
    for m in g.members:
        attr = p.checked.targets[f"{g.name}/{m.name}"].attribute
        d = m.derive
        if d:
            text = (f"{d.offset} + {d.scale} × {d.source}" + (f" + N(0, {d.noise_std})" if d.noise_std else "")
                    + (f", clip {d.clip}" if d.clip else ""))
        else:
            text = dist_text(m, p, f"{g.name}/{m.name}")
        gt.add_row(escape(m.name), escape(m.target), escape(text), m.op_for(attr))
    return gt


def _adr_table(p: Any) -> Any:
    """The ADR parameters: each term's initial range, limits and step."""
    from rich.markup import escape
    from rich.table import Table

    a = p.adr
    at = Table(title=f"ADR · boundary {a.boundary_fraction:g} · buffer {a.buffer_size} · "
                     f"thresholds {a.threshold_low:g}/{a.threshold_high:g}")
    for col in ("term", "initial range", "limits", "step"):
        at.add_column(col)
    for prm in a.params:
        t = p.term(prm.term)
        at.add_row(escape(prm.term), f"[{t.low}, {t.high}]", f"{prm.limits}", f"{prm.step:g} ({prm.step_mode})")
    return at


# ---------------------------------------------------------------------- Isaac Lab (sim2real.isaaclab)
ToOpt = Annotated[str, typer.Option("--to", help="The format to write: isaaclab (an EventCfg module).")]
AssetOpt = Annotated[
    str, typer.Option("--asset", help="The Isaac Lab scene entity the body/joint/actuator selectors name.")
]
DtOpt = Annotated[
    Optional[float],
    typer.Option("--physics-dt", min=1e-6, help="Seconds per physics step ('every N steps' <-> seconds)."),
]


@app.command("export")
def export_cmd(
    profile: ProfileArg,
    out: Annotated[Path, typer.Option("-o", "--out", help="The module to write, e.g. events.py.")],
    to: ToOpt = "isaaclab",
    asset: AssetOpt = "robot",
    physics_dt: DtOpt = None,
    truncnormal: Annotated[
        str, typer.Option("--truncnormal", help="Truncated normals as 'uniform' (their interval) or 'gaussian'.")
    ] = "uniform",
    entities: EntitiesOpt = None,
    scene: SceneOpt = None,
    backend: BackendOpt = "mujoco",
    json_out: JsonOpt = False,
) -> None:
    """Write a profile as Isaac Lab event terms (see docs/isaaclab.md); what cannot map is listed."""
    from ..errors import UserError
    from ..isaaclab.export import Options
    from ..isaaclab.files import export_file
    from .profile import load_profile

    if to != "isaaclab":
        raise UserError(f"--to: expected isaaclab (got {to!r})")
    if truncnormal not in ("uniform", "gaussian"):
        raise UserError(f"--truncnormal: expected uniform or gaussian (got {truncnormal!r})")
    found = _entities(load_profile(profile), entities, scene, backend) if entities or scene else None
    names = found[0] if found else None  # the export keeps selectors as patterns unless a scene is named
    opts = Options(asset, physics_dt, truncnormal, names)  # type: ignore[arg-type]
    summary = export_file(profile, out, opts)
    _print_translation(summary, json_out, f"wrote {out}: {len(summary['terms'])} Isaac Lab event terms")


@app.command("import")
def import_cmd(
    module: Annotated[Path, typer.Argument(help="A Python module with an Isaac Lab EventCfg (read, not run).")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The profile to write, e.g. imported.toml.")],
    from_: Annotated[str, typer.Option("--from", help="The format to read: isaaclab.")] = "isaaclab",
    asset: AssetOpt = "robot",
    physics_dt: DtOpt = None,
    class_name: Annotated[Optional[str], typer.Option("--class", help="The config class (default EventCfg).")] = None,
    skip_unsupported: Annotated[
        bool, typer.Option("--skip-unsupported", help="List the terms sim2real cannot express; do not fail.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Read an Isaac Lab event config statically into a profile (to validate, sample, show, run with MuJoCo)."""
    from ..errors import UserError
    from ..isaaclab.files import import_file

    if from_ != "isaaclab":
        raise UserError(f"--from: expected isaaclab (got {from_!r})")
    summary = import_file(module, out, asset=asset, physics_dt=physics_dt, class_name=class_name,
                          skip_unsupported=skip_unsupported)
    _print_translation(summary, json_out,
                       f"wrote {out}: {len(summary['terms'])} terms from {summary['terms_read']} Isaac Lab "
                       f"terms of {summary['class']}")


def _print_translation(summary: dict, json_out: bool, headline: str) -> None:
    from rich.markup import escape

    if json_out:
        print_json(summary)
        return
    out = console()
    out.print(f"[green]ok[/]: {escape(headline)}")
    for heading, key in (("not carried over", "skipped"), ("approximations", "approximations")):
        by_reason: dict[str, list[str]] = {}
        for item in summary[key]:
            by_reason.setdefault(item["reason"], []).append(item["term"])
        if by_reason:
            out.print(f"{heading} ({len(summary[key])}):")
        for reason, terms in by_reason.items():
            out.print(f"  - {escape(', '.join(terms))}: {escape(reason)}")
