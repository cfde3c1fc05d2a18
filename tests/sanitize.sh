#!/usr/bin/env bash
# The unit tests under AddressSanitizer + UndefinedBehaviorSanitizer (g++), in build-asan/:
# memory errors, leaks and undefined behaviour in the planner, the data pipeline, the shard
# core, the model math and the CLI's pure parts fail the run. tests/run.sh calls it; on its own:
#   tests/sanitize.sh [TARGET...]
# The multi-process and gRPC-heavy tests are left to the normal build: they are slow under ASan,
# and the system gRPC/abseil/RocksDB libraries are not instrumented. ThreadSanitizer is not run:
# it needs every library instrumented (Debian's libabsl and libgrpc are not, so absl::Mutex and
# gRPC's own locking would be reported as races).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
build=${AUGUR_ASAN_DIR:-$root/build-asan}
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(common_test data_test planner_test server_core_test model_test cli_unit_test)
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAUGUR_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "${AUGUR_JOBS:-$(nproc)}" --target "${targets[@]}"
failed=0
for t in "${targets[@]}"; do
  start=$(date +%s)
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    AUGUR_BIN_DIR="$root/build/bin" "$build/tests/$t" >"$build/$t.log" 2>&1; then
    echo "sanitize: $t passed ($(( $(date +%s) - start )) s)"
  else
    echo "sanitize: $t FAILED ($(( $(date +%s) - start )) s); last lines of $build/$t.log:" >&2
    tail -n 40 "$build/$t.log" >&2
    failed=1
  fi
done
exit $failed
