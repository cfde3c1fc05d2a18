#!/usr/bin/env bash
# Every deploy script (deploy/netns included) parses with bash -n. The scripts this test's
# owners keep (deploy/local, quickstart, slurm, tests/deploy) also use `set -euo pipefail`,
# answer --help with exit 0, reject unknown flags, and pass shellcheck -S error when it is
# installed. The Grafana
# dashboard is valid JSON, queries every metric it must, and matches make_dashboard.py.
# usage: scripts_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mapfile -t scripts < <(cd "$src" && find deploy tests/deploy -type f \( -name '*.sh' -o -name '*.sbatch' \) | sort)
[ "${#scripts[@]}" -ge 8 ] || bad "found only ${#scripts[@]} scripts under deploy/ and tests/deploy/"
for s in "${scripts[@]}"; do
  if bash -n "$src/$s" 2>"$tmp/err"; then ok "bash -n $s"; else bad "bash -n $s: $(cat "$tmp/err")"; fi
done
mapfile -t own < <(printf '%s\n' "${scripts[@]}" | grep -E '^(deploy/local/|deploy/quickstart|deploy/slurm/|tests/deploy/)')
for s in "${own[@]}"; do
  [ "$s" = deploy/local/lib.sh ] && continue  # sourced: runs under its caller's options
  grep -q '^set -euo pipefail' "$src/$s" || bad "$s does not set -euo pipefail"
done
for s in deploy/local/up.sh deploy/local/down.sh deploy/local/status.sh deploy/quickstart.sh deploy/slurm/augur.sbatch; do
  if out=$(bash "$src/$s" --help 2>&1) && grep -qi 'usage\|augur' <<<"$out"; then
    ok "$s --help"
  else
    bad "$s --help: $out"
  fi
  if bash "$src/$s" --no-such-flag >/dev/null 2>"$tmp/err"; then
    [ "$s" = deploy/slurm/augur.sbatch ] || bad "$s accepts an unknown flag"
  fi
done
if command -v shellcheck >/dev/null; then
  if (cd "$src" && shellcheck -S error -x "${own[@]}") >"$tmp/sc" 2>&1; then
    ok "shellcheck -S error (${#own[@]} scripts)"
  else
    bad "shellcheck:"; sed 's/^/     /' "$tmp/sc"
  fi
else
  echo "SKIP shellcheck: not installed"
fi

dash=$src/deploy/grafana/augur-dashboard.json
if python3 - "$dash" <<'PY'; then
import json, sys
d = json.load(open(sys.argv[1]))
exprs = " ".join(t["expr"] for p in d["panels"] for t in p.get("targets", []))
need = ["augur_worker_cache_hits_total", "augur_worker_cache_misses_total",
        "augur_worker_stall_seconds_total", "augur_worker_iteration_seconds",
        "augur_worker_samples_total", "augur_worker_loss", "augur_shard_request_seconds_bucket",
        "augur_worker_step_seconds_total",
        "by (le, method)", "augur_oracle_planned_hit_ratio", "augur_oracle_window_ids",
        "augur_oracle_plan_lag_iterations", "augur_oracle_planned_late_fill_ratio"]
missing = [n for n in need if n not in exprs]
ids = [p["id"] for p in d["panels"]]
if missing: print("dashboard does not query:", missing)
if len(ids) != len(set(ids)): print("duplicate panel ids")
sys.exit(1 if missing or len(ids) != len(set(ids)) else 0)
PY
  ok "grafana dashboard: valid JSON, queries every required metric"
else
  bad "grafana dashboard"
fi
if python3 "$src/deploy/grafana/make_dashboard.py" --check; then
  ok "grafana dashboard matches make_dashboard.py"
else
  bad "augur-dashboard.json differs from make_dashboard.py's output (rerun it)"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
