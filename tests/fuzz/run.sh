#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz in a clang tree instrumented for fuzzing (ASan +
# UBSan + coverage on every library they reach: -DAUGUR_FUZZ=ON) and runs each one.
#
#   tests/fuzz/run.sh SECONDS [TARGET...]
#
# SECONDS > 0: fuzz each target that long, growing its corpus in $AUGUR_FUZZ_DIR/corpus/TARGET
# (default build-fuzz/corpus), seeded from tests/fuzz/seeds/TARGET, deploy/jobs/*.yaml (job spec)
# and lines of ../shared/data/criteo-kaggle (line parser) when present.
# SECONDS = 0: run every seed and corpus input once (what CI does where clang exists).
# Prints one JSON line per target: runs, seconds, execs/s, and crashed (a crash, leak or
# sanitizer report; its reproducer lands in $AUGUR_FUZZ_DIR/crashes). Exits 1 if any crashed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=${1:?usage: tests/fuzz/run.sh SECONDS [TARGET...]}
shift
[[ $seconds =~ ^[0-9]+$ ]] || { echo "run.sh: SECONDS must be a whole number" >&2; exit 2; }
command -v clang++ >/dev/null || { echo "run.sh: clang++ is needed for libFuzzer" >&2; exit 2; }
build=${AUGUR_FUZZ_DIR:-$root/build-fuzz}
targets=("$@")
[ ${#targets[@]} -gt 0 ] ||
  targets=(criteo_line_fuzz job_spec_fuzz cluster_file_fuzz manifest_fuzz dataset_fuzz schema_fuzz plan_decode_fuzz
           shard_rpc_fuzz oracle_rpc_fuzz)

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DAUGUR_FUZZ=ON -DAUGUR_CUDA=OFF >/dev/null
cmake --build "$build" -j "${AUGUR_JOBS:-$(nproc)}" --target "${targets[@]}"

shared=$root/../shared/data/criteo-kaggle
failed=0
for t in "${targets[@]}"; do
  corpus=$build/corpus/$t
  mkdir -p "$corpus" "$build/crashes/$t"
  dirs=("$corpus")
  # Seeds live under the target's name without the _fuzz suffix (seeds/manifest, ...).
  [ -d "$root/tests/fuzz/seeds/${t%_fuzz}" ] && dirs+=("$root/tests/fuzz/seeds/${t%_fuzz}")
  case $t in
    job_spec_fuzz) dirs+=("$root/deploy/jobs") ;;
    criteo_line_fuzz)
      if [ -d "$shared" ] && [ -z "$(ls -A "$corpus")" ]; then
        n=0
        for f in "$shared"/*.tsv; do
          while IFS= read -r line && [ $n -lt 64 ]; do
            printf '%s' "$line" >"$corpus/seed-$n"
            n=$((n + 1))
          done < <(head -n 16 "$f")
        done
      fi ;;
  esac
  if [ "$seconds" -gt 0 ]; then limit=(-max_total_time="$seconds"); else limit=(-runs=0); fi
  log=$build/crashes/$t/last.log
  set +e
  ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    LSAN_OPTIONS="suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0" \
    "$build/fuzz/$t" "${limit[@]}" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/crashes/$t/" -print_final_stats=1 "${dirs[@]}" >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -n 1)
  secs=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE 'in [0-9]+' | grep -oE '[0-9]+' | tail -n 1)
  runs=${runs:-0} secs=${secs:-0}
  crashed=false
  if [ $rc -ne 0 ]; then crashed=true failed=1; tail -n 40 "$log" >&2; fi
  printf '{"fuzz":"%s","runs":%s,"seconds":%s,"execs_per_s":%s,"crashed":%s}\n' "$t" "$runs" \
    "$secs" "$((runs / (secs > 0 ? secs : 1)))" "$crashed"
done
exit $failed
