#!/usr/bin/env bash
# A second environment close to Isaac Sim 5.1's Python, for the USD and Kit-side tests:
#   CPython 3.11; OpenUSD 24.05 (usd-core 24.5, tools/setup/usd24-requirements.txt); pydantic, tomli-w, typer
#   and rich installed OFFLINE from exts/sim2real/pip_archive, exactly the wheels Kit installs on enable.
#   tools/setup/usd24.sh PYTHON VENV      (make test-usd24 runs it, then the tests)
set -euo pipefail
PYTHON=${1:?python interpreter}
VENV=${2:?venv dir}
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

[[ -x "$VENV/bin/python" ]] || "$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --quiet --disable-pip-version-check)
mapfile -t KIT_REQUIREMENTS < <("$VENV/bin/python" - "$ROOT/exts/sim2real/config/extension.toml" <<'PY'
import sys, tomllib
print("\n".join(tomllib.load(open(sys.argv[1], "rb"))["python"]["pipapi"]["requirements"]))
PY
)
echo "sim2real: installing ${#KIT_REQUIREMENTS[@]} Kit-side packages from exts/sim2real/pip_archive (no index)"
"${PIP[@]}" install --no-index --find-links "$ROOT/exts/sim2real/pip_archive" "${KIT_REQUIREMENTS[@]}"
echo "sim2real: installing usd-core 24.5 and the test tools into $VENV"
"${PIP[@]}" install -r "$ROOT/tools/setup/usd24-requirements.txt"
if "$VENV/bin/python" -m pip show usd-exchange >/dev/null 2>&1; then
  echo "error: usd-exchange in $VENV: its pxr would shadow usd-core 24.5" >&2
  exit 1
fi
