#!/usr/bin/env bash
# Create the virtual environment and install sim2real (editable) with the extras named (default all,dev):
#   venv.sh PYTHON VENV [EXTRAS]    `make demo` passes "demo" (what `sim2real demo` needs), `make test` "all,dev"
# On a machine without an NVIDIA GPU, torch is pinned to the CPU build first so that no
# CUDA wheels are pulled; set TORCH_SPEC to override (e.g. TORCH_SPEC="torch==2.13.0").
set -euo pipefail
PYTHON=${1:?python interpreter}
VENV=${2:?venv dir}
EXTRAS=${3:-all,dev}

"$PYTHON" - <<'PY' || { echo "sim2real needs Python >= 3.11 (found $("$PYTHON" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2; exit 1; }
import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)

if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    TORCH_SPEC=${TORCH_SPEC:-torch}
  else
    TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
  fi
  echo "sim2real: installing $TORCH_SPEC"
  "${PIP[@]}" install "$TORCH_SPEC"
fi

echo "sim2real: installing sim2real[$EXTRAS] into $VENV"
"${PIP[@]}" install -e ".[$EXTRAS]"

# usd-core and usd-exchange both ship a `pxr` package; keep only usd-exchange (used by mujoco-usd-converter).
if "$VENV/bin/python" -m pip show usd-core >/dev/null 2>&1; then
  echo "sim2real: removing usd-core (clashes with usd-exchange's pxr)"
  "${PIP[@]}" uninstall -y usd-core
  "${PIP[@]}" install --force-reinstall --no-deps usd-exchange
fi
