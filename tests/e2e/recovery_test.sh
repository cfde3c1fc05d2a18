#!/usr/bin/env bash
# Jobs survive SIGKILL of any process, all real processes: bench/chaos/run.sh with a fixed plan
# runs a 2-shard, 2-worker job with a checkpoint every 40 iterations uninterrupted, then again
# on a cluster started with deploy/local/up.sh --supervise while it kill -9s a worker, a shard
# and the oracle, one after the other, each after the job recovered from the last. The job must
# recover by itself each time (3 recoveries), end SUCCEEDED, and export a model identical to the
# uninterrupted run's, file for file; then `augur resume --from` a middle checkpoint trains the
# second half again, and that model must be identical too.
#   tests/e2e/recovery_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
fail() { echo "FAIL: $*" >&2; exit 1; }

out=$("$root/bench/chaos/run.sh" --bin-dir "$bin_dir" --plan worker,shard,oracle --seed 1 \
  --iterations 430 --every 40) || fail "the chaos run did not end identical: $out"
line=$(grep '^{"bench":"chaos"' <<<"$out") || fail "no result line: $out"
for want in '"kills":3' '"killed":"worker,shard,oracle"' '"recoveries":3' '"identical":true' \
  '"resume_identical":true' '"state":"SUCCEEDED"'; do
  grep -qF "$want" <<<"$line" || fail "want $want in $line"
done
echo "PASS: $line"
