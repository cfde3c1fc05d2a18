#!/usr/bin/env bash
# deploy/jobs/criteo-kaggle.yaml goes through the real job-spec parser and planner: its data
# paths are pointed at a small generated criteo-kaggle dataset and `augur-oracle --plan-only`
# must plan it (exit 0, JSON with the file's capacity and lookahead). Also checks that the
# example mentions every key of common/job/job_spec.h's JobSpec (by name) and that a typo in
# it is rejected with the parser's hint, so the test would notice a lenient parser.
# usage: job_spec_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: job_spec_test.sh BUILD_DIR}" && pwd)
bin=$build/bin
spec=$src/deploy/jobs/criteo-kaggle.yaml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
for b in augur augur-oracle; do
  [ -x "$bin/$b" ] || { echo "FAIL $bin/$b is not built"; echo "0 passed, 1 failed"; exit 1; }
done

"$bin/augur" data gen --profile criteo-kaggle --samples 8192 --seed 1 --out "$tmp/train" >/dev/null
"$bin/augur" data gen --profile criteo-kaggle --samples 1024 --seed 2 --out "$tmp/eval" >/dev/null
sed -E "s|^(  train:) [^ ]+|\1 $tmp/train|; s|^(  eval:) [^ ]+|\1 $tmp/eval|" "$spec" >"$tmp/job.yaml"
grep -q "train: $tmp/train" "$tmp/job.yaml" || bad "could not point data.train at the test dataset"
if (cd "$tmp" && "$bin/augur-oracle" --plan-only --job "$tmp/job.yaml") >"$tmp/plan.json" 2>"$tmp/err"; then
  cap=$(sed -nE 's/^ *capacity: *([0-9]+).*/\1/p' "$spec")
  la=$(sed -nE 's/^ *lookahead: *([0-9]+).*/\1/p' "$spec")
  if grep -q "\"capacity\":$cap" "$tmp/plan.json" && grep -q "\"lookahead\":$la" "$tmp/plan.json"; then
    ok "criteo-kaggle.yaml parses and plans: $(cat "$tmp/plan.json" | cut -c1-120)..."
  else
    bad "plan output does not carry the file's capacity $cap / lookahead $la: $(cat "$tmp/plan.json")"
  fi
else
  bad "augur-oracle --plan-only rejected criteo-kaggle.yaml: $(cat "$tmp/err")"
fi

# The other examples plan too: dlrmv2.yaml on a multi-hot dataset (MLPerf DLRMv2 bags),
# avazu.yaml on the Avazu sample prepared through its built-in schema (when ../shared is here).
"$bin/augur" data gen --profile criteo-kaggle --samples 8192 --seed 1 --multi-hot mlperf \
  --out "$tmp/v2" >/dev/null
sed -E "s|^(  train:) [^ ]+|\1 $tmp/v2|; s|^(  eval:) [^ ]+|\1 $tmp/v2|; s|^(  batch_size:) [0-9]+|\1 256|" \
  "$src/deploy/jobs/dlrmv2.yaml" >"$tmp/v2.yaml"
if (cd "$tmp" && "$bin/augur-oracle" --plan-only --job "$tmp/v2.yaml") >"$tmp/v2.json" 2>"$tmp/err"; then
  ok "dlrmv2.yaml plans a multi-hot dataset: $(cut -c1-100 "$tmp/v2.json")..."
else
  bad "augur-oracle --plan-only rejected dlrmv2.yaml: $(cat "$tmp/err")"
fi
avazu=$src/../shared/data/avazu/wideresdnn_train.csv
if [ -f "$avazu" ]; then
  "$bin/augur" data prep "$avazu" --schema avazu --max-rows 100000 --out "$tmp/avazu" >/dev/null
  sed -E "s|^(  train:) [^ ]+|\1 $tmp/avazu|; s|^(  eval:) [^ ]+|\1 $tmp/avazu|; s|^(  batch_size:) [0-9]+|\1 128|" \
    "$src/deploy/jobs/avazu.yaml" >"$tmp/avazu.yaml"
  if (cd "$tmp" && "$bin/augur-oracle" --plan-only --job "$tmp/avazu.yaml") >"$tmp/avazu.json" 2>"$tmp/err"; then
    ok "avazu.yaml plans the prepared Avazu sample"
  else
    bad "augur-oracle --plan-only rejected avazu.yaml: $(cat "$tmp/err")"
  fi
else
  echo "skip avazu.yaml: ../shared/data/avazu is absent"
fi

# Every field of every spec struct in job_spec.h appears as a key in the example.
missing=()
keys=$(python3 - "$src/common/job/job_spec.h" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
for body in re.findall(r"^struct \w+Spec \{(.*?)^\};", text, re.S | re.M):
    for m in re.finditer(r"^  [\w:<>]+ ([\w, ]+?)\s*(?:=[^;]*|\{[^;]*\})?;", body, re.M):
        for name in m.group(1).split(","):
            print(name.strip())
PY
)
[ "$(wc -w <<<"$keys")" -ge 25 ] || bad "found only $(wc -w <<<"$keys") keys in job_spec.h"
for key in $keys; do
  grep -qE "^ *$key:" "$spec" || missing+=("$key")
done
if [ "${#missing[@]}" -eq 0 ]; then ok "criteo-kaggle.yaml has every job_spec.h key"; else bad "criteo-kaggle.yaml lacks keys: ${missing[*]}"; fi

sed 's/^  capacity:/  capasity:/' "$tmp/job.yaml" >"$tmp/typo.yaml"
if "$bin/augur-oracle" --plan-only --job "$tmp/typo.yaml" >/dev/null 2>"$tmp/err"; then
  bad "a misspelt key was accepted"
elif grep -q "did you mean 'capacity'" "$tmp/err"; then
  ok "a misspelt key is rejected with a hint"
else
  bad "misspelt key: $(cat "$tmp/err")"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
