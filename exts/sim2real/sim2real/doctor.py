"""``sim2real doctor``: what is available on this machine, and does the embedded default render?

Each row is a ``Check``. The command fails (exit 1) only when the embedded default cannot work:
mujoco missing or no headless OpenGL platform rendering a correct frame.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from . import __version__
from .errors import Sim2RealError, UserError

OK, WARN, MISSING, FAIL = "ok", "warn", "missing", "fail"

# Every distribution of every extra (pyproject's [project.optional-dependencies]; a test keeps them
# equal), reported by version only (importing them all would be slow). A distribution of several
# extras is listed under the first.
EXTRAS: dict[str, tuple[str, ...]] = {
    "mujoco": ("mujoco",),
    "data": ("pycocotools",),
    "ros": ("rosbags",),
    "logs": ("pyarrow", "pandas"),
    "train": ("torch", "onnx", "onnxruntime", "tensorboard", "opencv-python-headless"),
    "deploy": ("asyncssh", "onnxconverter-common"),
    "gap": ("scipy", "matplotlib"),
    "sysid": ("cma", "threadpoolctl"),
    "control": ("gymnasium", "stable-baselines3", "onnxscript"),
    "ray": ("ray",),
    "usd": ("mujoco-usd-converter",),
    "web": ("fastapi", "uvicorn", "jinja2", "python-multipart"),
}
OWN_ROWS = ("mujoco", "torch", "onnxruntime")  # checked more closely by a function of their own
OPTIONAL = {dist: extra for extra, dists in EXTRAS.items() for dist in dists if dist not in OWN_ROWS}


@dataclass
class Check:
    name: str
    status: str
    detail: str = ""
    hint: str = ""
    critical: bool = False


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _pip_hint(extra: str) -> str:
    return f"pip install 'sim2real[{extra}]'"


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("Python", OK if ok else FAIL, f"{platform.python_version()} ({sys.executable})",
                 "" if ok else "sim2real needs Python >= 3.11", critical=not ok)


def check_resources() -> Check:
    from .paths import resource_root

    try:
        return Check(f"sim2real {__version__}", OK, f"resources in {resource_root()}")
    except Sim2RealError as exc:
        return Check(f"sim2real {__version__}", WARN, str(exc))


def check_mujoco() -> Check:
    version = _version("mujoco")
    if version is None:
        return Check("mujoco", MISSING, "", _pip_hint("mujoco"), critical=True)
    return Check("mujoco", OK, version)


def check_gl(candidates: list[str]) -> list[Check]:
    """Probe each GL platform in a subprocess; mark the one sim2real will use."""
    from .backends import glplatform as gl

    explicit = os.environ.get("MUJOCO_GL")
    names = [explicit] if explicit and explicit not in candidates else []
    names += candidates
    results = {name: gl.probe(name) for name in names}
    chosen = explicit if explicit else next((n for n in candidates if results[n].ok), None)
    rows = []
    for name, res in results.items():
        used = " [in use]" if name == chosen and res.ok else ""
        if res.ok:
            rows.append(Check(f"GL: {name}{used}", OK, res.renderer or "renders"))
        else:
            rows.append(Check(f"GL: {name}", FAIL, res.error))
    if chosen is None or not results[chosen].ok:
        working = [n for n, r in results.items() if r.ok]
        if explicit and working:
            hint = f"MUJOCO_GL={explicit} does not render; unset it or set MUJOCO_GL={working[0]}"
        else:
            hint = gl.INSTALL_HINT
        rows.append(Check("embedded renderer", FAIL, "no headless OpenGL platform renders", hint, critical=True))
    elif not explicit:
        gl.write_cache(results[chosen])
    return rows


def check_torch() -> Check:
    if importlib.util.find_spec("torch") is None:
        return Check("torch", MISSING, "", "pip install torch==2.13.0 (CPU) then " + _pip_hint("train"))
    import torch

    if torch.cuda.is_available():
        device = f"cuda ({torch.cuda.get_device_name(0)}, {torch.cuda.device_count()} device(s))"
    else:
        device = f"cpu ({torch.get_num_threads()} threads)"
    return Check("torch", OK, f"{torch.__version__}, device {device}")


def check_onnxruntime() -> Check:
    if importlib.util.find_spec("onnxruntime") is None:
        return Check("onnxruntime", MISSING, "", _pip_hint("deploy"))
    import onnxruntime

    return Check("onnxruntime", OK, f"{onnxruntime.__version__}, providers {', '.join(onnxruntime.get_available_providers())}")


def check_usd() -> Check:
    exchange, core = _version("usd-exchange"), _version("usd-core")
    if exchange and core:
        return Check("pxr (USD)", WARN, f"usd-exchange {exchange} and usd-core {core} both installed",
                     "both ship `pxr`; pip uninstall usd-core && pip install --force-reinstall --no-deps usd-exchange")
    if importlib.util.find_spec("pxr") is None:
        return Check("pxr (USD)", MISSING, "", _pip_hint("usd"))
    from pxr import Usd

    source = f"usd-exchange {exchange}" if exchange else f"usd-core {core}" if core else "unknown package"
    return Check("pxr (USD)", OK, f"{'.'.join(map(str, Usd.GetVersion()))} from {source}")


def check_isaac() -> Check:
    version = _version("isaacsim")
    if version:
        return Check("Isaac Sim", OK, f"{version} (pip)")
    for var in ("ISAAC_SIM_PATH", "ISAAC_PATH"):  # a binary install (what `--backend isaac` runs)
        isaac_path = os.environ.get(var)
        if isaac_path and (Path(isaac_path) / "VERSION").is_file():
            return Check("Isaac Sim", OK, f"{(Path(isaac_path) / 'VERSION').read_text().strip()} at {isaac_path}")
    return Check("Isaac Sim / Kit", MISSING, "optional: the Kit extensions run inside Isaac Sim 5.1",
                 "see README, 'Inside Isaac Sim'")


def check_optional() -> list[Check]:
    rows = []
    for dist, extra in OPTIONAL.items():
        version = _version(dist)
        rows.append(Check(f"{dist} [{extra}]", OK, version) if version else
                    Check(f"{dist} [{extra}]", MISSING, "", _pip_hint(extra)))
    return rows


def parse_gl_list(text: str | None) -> list[str]:
    from .backends.glplatform import CANDIDATES, default_candidates

    if not text:
        return default_candidates()
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in CANDIDATES]
    if bad or not names:
        raise UserError(f"--gl: expected a comma-separated list of {', '.join(CANDIDATES)} (got {text!r})")
    return names


def run_checks(gl_candidates: list[str]) -> list[Check]:
    rows = [check_python(), check_resources(), check_mujoco()]
    if rows[-1].status == OK:
        rows += check_gl(gl_candidates)
    rows += [check_torch(), check_onnxruntime(), check_usd(), check_isaac()]
    rows += check_optional()
    return rows


def failed(rows: list[Check]) -> bool:
    return any(r.critical and r.status in (FAIL, MISSING) for r in rows)


def as_dicts(rows: list[Check]) -> list[dict]:
    return [asdict(r) for r in rows]
