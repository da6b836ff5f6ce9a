#!/usr/bin/env bash
# Install the Debian/Ubuntu packages sim2real needs, only those missing.
#   render: headless OpenGL for MuJoCo (EGL through Mesa, and OSMesa as a fallback)
#   test:   what the test suite drives for real (an OpenSSH server, headless Chromium)
# As root it installs them; with password-less sudo it uses sudo; otherwise it explains and fails.
set -euo pipefail

declare -A SETS=(
  [render]="libegl1 libegl-mesa0 libgl1-mesa-dri libosmesa6"
  [test]="openssh-server openssh-client chromium"
)

wanted=()
for set in "$@"; do
  [[ -n "${SETS[$set]:-}" ]] || { echo "system-deps.sh: unknown set '$set' (expected: ${!SETS[*]})" >&2; exit 2; }
  wanted+=(${SETS[$set]})
done

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "sim2real: not a Debian/Ubuntu system; make sure these (or your distribution's equivalents) are installed: ${wanted[*]}" >&2
  exit 0
fi

missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -eq 0 ]]; then
  SUDO=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  SUDO=(sudo -n)
else
  cat >&2 <<MSG
sim2real needs these system packages, which are not installed: ${missing[*]}
Install them, then re-run make:
    sudo apt-get update && sudo apt-get install -y ${missing[*]}
(They provide headless OpenGL for MuJoCo rendering and, for the tests, sshd and Chromium.)
MSG
  exit 1
fi

echo "sim2real: installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
