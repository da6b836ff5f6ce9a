#!/usr/bin/env bash
# Run the Kit tests of exts/sim2real_isaac and exts/sim2real_ui (omni.kit.test AsyncTestCase, omni.kit.ui_test)
# with Kit's test runner.
#
#   tools/run_kit_tests.sh ISAAC_SIM_PATH [extra kit arguments]
#
# ISAAC_SIM_PATH is an Isaac Sim 5.1 install (the folder holding kit/kit, python.sh, exts/). As Isaac Sim's
# own generated tests-*.sh scripts do, an outer kit hosts omni.kit.test, which starts one child kit per
# tested extension with that extension, its dependencies and its [[test]] arguments enabled. Results and
# logs go to _testoutput/ (override with KIT_TEST_OUTPUT). Exit status: 0 when every test passed.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
    echo "usage: tools/run_kit_tests.sh ISAAC_SIM_PATH [extra kit arguments]" >&2
    exit 2
fi
ISAAC="$1"
shift
KIT="$ISAAC/kit/kit"
if [[ ! -x "$KIT" ]]; then
    echo "error: no Kit executable at $KIT; expected ISAAC_SIM_PATH to be an Isaac Sim 5.1 install" >&2
    exit 2
fi
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${KIT_TEST_OUTPUT:-$REPO/_testoutput}"
mkdir -p "$OUT"

folders=(--ext-folder "$REPO/exts")
for sub in exts extscache extsDeprecated extsPhysics apps; do
    if [[ -d "$ISAAC/$sub" ]]; then
        folders+=(--ext-folder "$ISAAC/$sub")
    fi
done

exec "$KIT" --empty --enable omni.kit.test \
    --/exts/omni.kit.test/testExtEnableProfiler=0 \
    --/exts/omni.kit.test/testExtArgs/0="--no-window" \
    --/exts/omni.kit.test/testExtArgs/1="--allow-root" \
    --/exts/omni.kit.test/runTestsAndQuit=true \
    --/exts/omni.kit.test/testExts/0=sim2real_isaac \
    --/exts/omni.kit.test/testExts/1=sim2real_ui \
    --/exts/omni.kit.test/testExtOutputPath="$OUT" \
    "${folders[@]}" \
    --/app/enableStdoutOutput=0 --no-window --allow-root \
    "$@"
