"""Which Jetson is this, and which JetPack, L4T and TensorRT it runs.

Sources, all plain files (pure parsers, tested with sample files):

* ``/proc/device-tree/model``: the module, e.g. ``NVIDIA Jetson AGX Orin Developer Kit`` (NUL-terminated);
* ``/etc/nv_tegra_release``: the L4T (Jetson Linux) release, e.g.
  ``# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: ...``
  -> L4T 35.4.1, which NVIDIA ships as JetPack 5.1.2 (table below);
* ``/usr/include/aarch64-linux-gnu/NvInferVersion.h``: the TensorRT headers' version
  (``#define NV_TENSORRT_MAJOR 8`` ...; TensorRT 10 defines them through ``TRT_MAJOR_ENTERPRISE``);
* ``dpkg-query -W nvidia-jetpack tensorrt`` output when dpkg is there (``nvidia-jetpack\t6.0+b106``).

Not a Jetson (no device-tree model naming one and no ``nv_tegra_release``): ``{"jetson": False}``.
Guessing from ``aarch64`` alone (as the seeds do) would call every ARM server a Jetson.
"""

from __future__ import annotations

import os
import re
import subprocess
from typing import Any, Dict, Optional, Tuple

# L4T release -> JetPack (NVIDIA's JetPack archive); the TensorRT each JetPack ships.
L4T_JETPACK = {
    "32.4.3": "4.4", "32.4.4": "4.4.1", "32.5.0": "4.5", "32.5.1": "4.5.1", "32.5.2": "4.5.1", "32.6.1": "4.6",
    "32.7.1": "4.6.1", "32.7.2": "4.6.2", "32.7.3": "4.6.3", "32.7.4": "4.6.4", "32.7.5": "4.6.5",
    "32.7.6": "4.6.6", "34.1.0": "5.0 DP", "34.1.1": "5.0.1 DP", "35.1.0": "5.0.2", "35.2.1": "5.1",
    "35.3.1": "5.1.1", "35.4.1": "5.1.2", "35.5.0": "5.1.3", "35.6.0": "5.1.4", "36.2.0": "6.0 DP",
    "36.3.0": "6.0", "36.4.0": "6.1", "36.4.3": "6.2", "36.4.4": "6.2.1",
}
JETPACK_TENSORRT = {
    "4.4": "7.1.3", "4.4.1": "7.1.3", "4.5": "7.1.3", "4.5.1": "7.1.3", "4.6": "8.0.1", "4.6.1": "8.2.1",
    "4.6.2": "8.2.1", "4.6.3": "8.2.1", "4.6.4": "8.2.1", "4.6.5": "8.2.1", "4.6.6": "8.2.1",
    "5.0.2": "8.4.1", "5.1": "8.5.2", "5.1.1": "8.5.2", "5.1.2": "8.5.2", "5.1.3": "8.5.2", "5.1.4": "8.5.2",
    "6.0 DP": "8.6.2", "6.0": "8.6.2", "6.1": "10.3.0", "6.2": "10.3.0", "6.2.1": "10.3.0",
}
HEADER_PATHS = ("usr/include/aarch64-linux-gnu/NvInferVersion.h", "usr/include/x86_64-linux-gnu/NvInferVersion.h",
                "usr/include/NvInferVersion.h")


def parse_model(raw: bytes) -> Optional[str]:
    """``/proc/device-tree/model`` (NUL-terminated bytes) -> the module name, or None if empty."""
    text = raw.split(b"\x00", 1)[0].decode("utf-8", "replace").strip()
    return text or None


def is_jetson_model(model: Optional[str]) -> bool:
    return bool(model) and "jetson" in str(model).lower()


def parse_tegra_release(text: str) -> Optional[Dict[str, str]]:
    """``# R35 (release), REVISION: 4.1, GCID: ..., BOARD: t186ref, EABI: aarch64, DATE: ...`` ->
    ``{"l4t": "35.4.1", "board": "t186ref", ...}``; None if the text is not one."""
    m = re.search(r"#\s*R(\d+)\s*\(release\),\s*REVISION:\s*([0-9.]+)", text)
    if not m:
        return None
    major, revision = m.group(1), m.group(2)
    parts = revision.split(".") + ["0"]
    out = {"l4t": "{}.{}.{}".format(major, parts[0], parts[1])}
    for key in ("GCID", "BOARD", "EABI", "DATE"):
        f = re.search(r"{}:\s*([^,]+)".format(key), text)
        if f:
            out[key.lower()] = f.group(1).strip()
    return out


def jetpack_for(l4t: Optional[str]) -> Optional[str]:
    return L4T_JETPACK.get(l4t or "")


def parse_nvinfer_header(text: str) -> Optional[str]:
    """``NvInferVersion.h`` -> ``"8.6.2"``; follows one level of macro indirection (TensorRT 10)."""
    defines = dict(re.findall(r"^\s*#define\s+(\w+)\s+(\w+)", text, flags=re.M))

    def value(name: str) -> Optional[int]:
        v = defines.get(name)
        if v is not None and not v.isdigit():
            v = defines.get(v)
        return int(v) if v is not None and v.isdigit() else None

    parts = [value("NV_TENSORRT_" + p) for p in ("MAJOR", "MINOR", "PATCH")]
    if any(p is None for p in parts):
        return None
    return "{}.{}.{}".format(*parts)


def parse_dpkg(text: str) -> Dict[str, str]:
    """``dpkg-query -W`` lines (``name<TAB>version``) -> {name: version}."""
    out = {}
    for line in text.splitlines():
        name, _, version = line.partition("\t")
        if name.strip() and version.strip():
            out[name.strip()] = version.strip()
    return out


def jetpack_from_dpkg(version: Optional[str]) -> Optional[str]:
    """``6.0+b106`` -> ``6.0``; ``5.1.2-b104`` -> ``5.1.2``."""
    if not version:
        return None
    m = re.match(r"^(\d+(?:\.\d+)*)", version)
    return m.group(1) if m else None


def describe(model_raw: Optional[bytes], tegra_text: Optional[str], header_text: Optional[str] = None,
             dpkg_text: Optional[str] = None, tensorrt_python: Optional[str] = None) -> Dict[str, Any]:
    """Everything we know from the files' contents (None = file absent)."""
    model = parse_model(model_raw) if model_raw else None
    release = parse_tegra_release(tegra_text) if tegra_text else None
    jetson = is_jetson_model(model) or release is not None
    out: Dict[str, Any] = {"jetson": jetson, "model": model}
    packages = parse_dpkg(dpkg_text or "")
    if release:
        out["l4t"] = release["l4t"]
        out["board"] = release.get("board")
    jetpack = jetpack_from_dpkg(packages.get("nvidia-jetpack")) or jetpack_for(out.get("l4t"))
    if jetson:
        out["jetpack"] = jetpack
    trt, source = _tensorrt(header_text, packages, tensorrt_python)
    if trt is None and jetpack in JETPACK_TENSORRT:
        trt, source = JETPACK_TENSORRT[jetpack], "jetpack table"
    out["tensorrt"] = trt
    out["tensorrt_source"] = source
    return out


def _tensorrt(header_text: Optional[str], packages: Dict[str, str], python: Optional[str]) -> Tuple[Optional[str], Optional[str]]:
    if python:
        return python, "python"
    version = parse_nvinfer_header(header_text) if header_text else None
    if version:
        return version, "NvInferVersion.h"
    for name in ("tensorrt", "libnvinfer8", "libnvinfer10", "libnvinfer-bin"):
        if name in packages:
            m = re.match(r"^(\d+\.\d+\.\d+)", packages[name])
            if m:
                return m.group(1), "dpkg " + name
    return None, None


def _read(path: str, binary: bool = False) -> Any:
    try:
        with open(path, "rb" if binary else "r") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError):
        return None


def probe(root: str = "/") -> Dict[str, Any]:
    """``describe`` this machine (``root`` lets tests point it at a folder of sample files)."""
    from .engines import tensorrt_version

    header = None
    for rel in HEADER_PATHS:
        header = _read(os.path.join(root, rel))
        if header:
            break
    dpkg = None
    if root == "/":
        try:
            dpkg = subprocess.run(["dpkg-query", "-W", "nvidia-jetpack", "tensorrt"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, universal_newlines=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            dpkg = None
    return describe(_read(os.path.join(root, "proc/device-tree/model"), binary=True),
                    _read(os.path.join(root, "etc/nv_tegra_release")), header, dpkg,
                    tensorrt_version() if root == "/" else None)
