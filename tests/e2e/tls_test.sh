#!/usr/bin/env bash
# End to end over TLS with a bearer token, all real processes: deploy/local/up.sh starts 2
# shards, the oracle and 2 workers with the test certificate (tests/support/tls) and a token;
# `augur submit --cluster` (which takes the CA and token from cluster.yaml) trains a tiny job
# to SUCCEEDED; a plaintext client, a client without the token and one with a wrong token are
# each refused with one line saying why; `augur top` scrapes every /metrics endpoint over
# HTTPS with the token, and sees them all down with a wrong one. Stops exactly the pids it
# started.
#   tests/e2e/tls_test.sh [BIN_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=${1:-${AUGUR_BIN_DIR:-$root/build/bin}}
tls=$root/tests/support/tls
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"
e2e_init "$bin_dir" tls "$root/deploy/local/down.sh"

echo "e2e-test-token-$RANDOM$RANDOM" >"$tmp/token"
echo "not-the-token" >"$tmp/wrong"
"$bin_dir/augur" data gen --profile criteo-kaggle --samples 4096 --seed 1 --out "$tmp/train" >/dev/null
cat >"$tmp/job.yaml" <<YAML
name: e2e-tls
seed: 1
model: {preset: kaggle}
data: {train: $tmp/train}
training: {batch_size: 128, iterations: 12, threads: 1}
cache: {policy: oracle, capacity: 65536, lookahead: 8, prefetch_distance: 2}
cluster: {workers: 2}
YAML

"$root/deploy/local/up.sh" --shards 2 --workers 2 --run-dir "$cluster" --bin-dir "$bin_dir" \
  --tls-cert "$tls/server.pem" --tls-key "$tls/server.key.pem" --tls-ca "$tls/ca.pem" \
  --token-file "$tmp/token" --timeout 30 >/dev/null
grep -q '^security: {tls_ca: ' "$cluster/cluster.yaml" || fail "cluster.yaml names no CA"
oracle=$(e2e_oracle)
case "$oracle" in 127.0.0.1:*) ;; *) fail "oracle bound '$oracle', not loopback" ;; esac

out=$(timeout 120 "$bin_dir/augur" submit "$tmp/job.yaml" --cluster "$cluster/cluster.yaml" \
  --follow --interval 0.2) || fail "submit over TLS failed: $out"
grep -q '^job-1 SUCCEEDED' <<<"$out" || fail "job did not succeed: $out"

# refused CMD... EXPECT: the command exits 1 with one error line matching EXPECT.
refused() {
  local expect=$1 err rc
  shift
  set +e
  err=$("$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "'$*' exited $rc, want 1"
  [ "$(wc -l <<<"$err")" = 1 ] || fail "'$*' printed more than one line: $err"
  grep -qE "$expect" <<<"$err" || fail "'$*' said '$err', want /$expect/"
}
refused "cannot reach the oracle" "$bin_dir/augur" list --oracle "$oracle"
refused "requires a bearer token" "$bin_dir/augur" list --oracle "$oracle" --tls-ca "$tls/ca.pem"
refused "does not match" "$bin_dir/augur" list --oracle "$oracle" --tls-ca "$tls/ca.pem" \
  --token-file "$tmp/wrong"
"$bin_dir/augur" list --oracle "$oracle" --tls-ca "$tls/ca.pem" --token-file "$tmp/token" |
  grep -q 'job-1' || fail "list with the CA and token does not show job-1"
# /metrics over HTTPS: up for top with the cluster's CA and token, refused with a wrong token.
view=$("$bin_dir/augur" top --once --json --interval 2 --cluster "$cluster/cluster.yaml")
ups=$(grep -o '"up":true' <<<"$view" | wc -l)
[ "$ups" = 5 ] || fail "top saw $ups of 5 endpoints up over HTTPS: $view"
view=$("$bin_dir/augur" top --once --json --interval 2 --cluster "$cluster/cluster.yaml" \
  --tls-ca "$tls/ca.pem" --token-file "$tmp/wrong")
grep -q '"up":true' <<<"$view" && fail "top with a wrong token still read metrics: $view"
grep -q 'bearer token' <<<"$view" || fail "top's errors do not name the bearer token: $view"
grep -q 'scheme: https' "$cluster/prometheus.yml" || fail "prometheus.yml does not scrape https"
echo "PASS: TLS + token cluster trained job-1; plaintext, tokenless and wrong-token clients refused; /metrics over HTTPS with the token"
