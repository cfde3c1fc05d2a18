#!/usr/bin/env bash
# The README's test command: installs what is missing, configures, builds and runs every test.
# Works on a fresh Debian 12 machine; fails loudly (non-zero exit, the failing test named).
#   tests/run.sh              everything
#   tests/run.sh -R shard     only tests whose name matches (passed to ctest)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${AUGUR_BUILD_DIR:-$root/build}
jobs=${AUGUR_JOBS:-$(nproc)}

bash deploy/install-deps.sh
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=${AUGUR_BUILD_TYPE:-RelWithDebInfo}
cmake --build "$build" -j "$jobs"
(cd "$build" && ctest --output-on-failure --timeout 900 -j "${AUGUR_TEST_JOBS:-2}" "$@")
# The unit tests again under ASan + UBSan (tests/sanitize.sh, build-asan/). Skipped when ctest
# was filtered.
if [ $# -eq 0 ] && [ "${AUGUR_SKIP_SANITIZE:-0}" != 1 ]; then
  tests/sanitize.sh
fi
# The libFuzzer targets (tests/fuzz): where clang exists, build them instrumented and run every
# seed once; fuzzing for longer is `tests/fuzz/run.sh SECONDS`. Skipped when ctest was filtered.
if [ $# -eq 0 ] && command -v clang++ >/dev/null && [ "${AUGUR_SKIP_FUZZ:-0}" != 1 ]; then
  tests/fuzz/run.sh 0
fi
