"""`sim2real doctor`: exit 0 with a working renderer named, exit 1 with a fix hint when none renders."""

from __future__ import annotations

import json

import pytest


def _doctor(run_cli, *args, env=None):
    proc = run_cli("doctor", "--json", *args, env=env)
    return proc, (json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else None)


@pytest.mark.render
def test_doctor_reports_a_rendering_gl_platform(run_cli) -> None:
    proc, report = _doctor(run_cli, env={"MUJOCO_GL": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert report["ok"] is True
    in_use = [c for c in report["checks"] if c["name"].startswith("GL:") and "[in use]" in c["name"]]
    assert len(in_use) == 1 and in_use[0]["status"] == "ok"
    names = {c["name"].split(" ")[0] for c in report["checks"]}
    assert {"Python", "mujoco", "torch", "onnxruntime", "pxr"} <= names


@pytest.mark.render
def test_doctor_fails_with_hint_when_no_platform_renders(run_cli) -> None:
    # Point glvnd at no EGL vendor: EGL really cannot create a context in the probe subprocess.
    env = {"MUJOCO_GL": "", "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}
    proc, report = _doctor(run_cli, "--gl", "egl", env=env)
    assert proc.returncode == 1
    egl = next(c for c in report["checks"] if c["name"].startswith("GL: egl"))
    assert egl["status"] == "fail" and egl["detail"]
    renderer = next(c for c in report["checks"] if c["name"] == "embedded renderer")
    assert renderer["status"] == "fail" and "apt-get install" in renderer["hint"]


@pytest.mark.render
def test_doctor_probes_afresh_whatever_the_cache_says(run_cli, tmp_path, monkeypatch) -> None:
    # A cache naming a platform that rendered before must not make doctor pass when it fails now.
    from sim2real.backends import glplatform

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    glplatform.write_cache(glplatform.ProbeResult("osmesa", True, "cached"))
    env = {"MUJOCO_GL": "", "XDG_CACHE_HOME": str(tmp_path),
           "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}
    proc, report = _doctor(run_cli, "--gl", "egl", env=env)
    assert proc.returncode == 1, proc.stdout
    assert not any(c["name"].startswith("GL: osmesa") for c in report["checks"])


@pytest.mark.render
def test_doctor_names_the_working_platform_when_mujoco_gl_is_wrong(run_cli) -> None:
    env = {"MUJOCO_GL": "egl", "__EGL_VENDOR_LIBRARY_FILENAMES": "/nonexistent/egl_vendor.json"}
    proc, report = _doctor(run_cli, "--gl", "osmesa", env=env)
    assert proc.returncode == 1
    renderer = next(c for c in report["checks"] if c["name"] == "embedded renderer")
    assert "MUJOCO_GL=osmesa" in renderer["hint"]


def test_doctor_rejects_unknown_gl_platform_in_one_line(run_cli) -> None:
    proc = run_cli("doctor", "--gl", "vulkan")
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--gl" in lines[0] and "vulkan" in lines[0]
    assert "Traceback" not in proc.stderr


def test_doctor_checks_every_extra(run_cli) -> None:
    """#26: `sim2real doctor` left out whole extras (web, onnxconverter-common, ray's peers): its table is
    pyproject's extras, each distribution named with its extra."""
    import tomllib
    from pathlib import Path

    from sim2real import doctor

    extras = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    wanted: dict[str, str] = {}
    for extra, reqs in extras.items():
        for req in reqs:
            name = req.split(";")[0].split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip()
            if not name.startswith("sim2real") and extra != "dev":  # dev: the test tools, not a feature
                wanted.setdefault(name, extra)
    assert {d: e for e, dists in doctor.EXTRAS.items() for d in dists} == wanted
    assert doctor.OPTIONAL == {d: e for d, e in wanted.items() if d not in doctor.OWN_ROWS}
    names = [c["name"] for c in json.loads(run_cli("doctor", "--json").stdout)["checks"]]
    for dist in ("fastapi [web]", "onnxconverter-common [deploy]", "ray [ray]", "python-multipart [web]"):
        assert dist in names, names
