#!/usr/bin/env bash
# deploy/local end to end: up.sh starts 2 shards, the oracle and 2 workers; status.sh sees them
# alive; cluster.yaml has exactly the contracted shape and its endpoints answer; a second
# cluster runs beside the first; a tiny job goes through `augur submit --follow` (skipped, with
# a message, only when the CLI has no submit command); up.sh refuses a run dir that is in use;
# down.sh leaves none of the pids alive; a process that fails to start makes up.sh stop what it
# had started. Cleans up on any exit.
# usage: local_cluster_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: local_cluster_test.sh BUILD_DIR}" && pwd)
bin=$build/bin
local_dir=$src/deploy/local
tmp=$(mktemp -d)
cleanup() {
  for d in "$tmp/a" "$tmp/b" "$tmp/fail"; do
    [ -f "$d/pids" ] && bash "$local_dir/down.sh" --run-dir "$d" --grace 3 >/dev/null 2>&1 || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }
for b in augur-shard augur-oracle augur-worker; do
  [ -x "$bin/$b" ] || { bad "$bin/$b is not built"; finish; }
done

# alive PID: running and not a zombie.
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null; }
healthz() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" &&
    printf "GET /healthz HTTP/1.0\r\n\r\n" >&3 && head -n 1 <&3' _ "$1" 2>/dev/null | grep -q ' 200'
}

# 1. up
if bash "$local_dir/up.sh" --run-dir "$tmp/a" --shards 2 --workers 2 --bin-dir "$bin" --timeout 30 >"$tmp/up.out" 2>&1; then
  ok "up.sh started 2 shards, oracle, 2 workers"
else
  bad "up.sh failed:"; sed 's/^/     /' "$tmp/up.out"; finish
fi

# 2. status
if bash "$local_dir/status.sh" --run-dir "$tmp/a" >"$tmp/status.out" 2>&1 &&
  [ "$(grep -c ' alive ' "$tmp/status.out")" -eq 5 ] && [ "$(grep -c ' ok$' "$tmp/status.out")" -eq 5 ]; then
  ok "status.sh: 5 processes alive, /healthz ok"
else
  bad "status.sh:"; sed 's/^/     /' "$tmp/status.out"
fi

# 3. cluster.yaml: exactly the shape the CLI reads, pids match, endpoints on loopback answer.
cy=$tmp/a/cluster.yaml
ep='"127\.0\.0\.1:[0-9]+"'
shape_ok=1
mapfile -t lines < <(grep -v '^#' "$cy")
[[ ${lines[0]} == "run_dir: $tmp/a" ]] || shape_ok=0
[[ ${lines[1]} =~ ^oracle:\ \{grpc:\ $ep,\ metrics:\ $ep,\ pid:\ [0-9]+\}$ ]] || shape_ok=0
[[ ${lines[2]} == "shards:" ]] || shape_ok=0
for i in 3 4; do [[ ${lines[i]} =~ ^\ \ -\ \{grpc:\ $ep,\ metrics:\ $ep,\ pid:\ [0-9]+\}$ ]] || shape_ok=0; done
[[ ${lines[5]} == "workers:" ]] || shape_ok=0
for i in 6 7; do
  [[ ${lines[i]} =~ ^\ \ -\ \{index:\ $((i - 6)),\ metrics:\ $ep,\ pid:\ [0-9]+\}$ ]] || shape_ok=0
done
[ "${#lines[@]}" -eq 8 ] || shape_ok=0
if [ "$shape_ok" = 1 ]; then ok "cluster.yaml has the contracted shape"; else bad "cluster.yaml shape:"; sed 's/^/     /' "$cy"; fi
mapfile -t ypids < <(grep -oE 'pid: [0-9]+' "$cy" | awk '{print $2}' | sort -n)
mapfile -t fpids < <(awk '{print $2}' "$tmp/a/pids" | sort -n)
if [ "${ypids[*]}" = "${fpids[*]}" ] && [ "${#ypids[@]}" -eq 5 ]; then
  ok "cluster.yaml pids = RUN_DIR/pids"
else
  bad "cluster.yaml pids (${ypids[*]}) != pids file (${fpids[*]})"
fi
all_pids=("${fpids[@]}")
down_ep=0
for hp in $(grep -oE 'metrics: "[^"]+"' "$cy" | cut -d'"' -f2); do healthz "$hp" || down_ep=1; done
for hp in $(grep -oE 'grpc: "[^"]+"' "$cy" | cut -d'"' -f2); do
  timeout 2 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}"' _ "$hp" 2>/dev/null || down_ep=1
done
if [ "$down_ep" = 0 ]; then ok "every endpoint in cluster.yaml answers"; else bad "an endpoint in cluster.yaml does not answer"; fi

# 4. A second cluster beside the first: its own ports.
if bash "$local_dir/up.sh" --run-dir "$tmp/b" --shards 1 --workers 1 --bin-dir "$bin" --timeout 30 >"$tmp/up-b.out" 2>&1; then
  a_ports=$(grep -oE '127\.0\.0\.1:[0-9]+' "$cy" | sort)
  b_ports=$(grep -oE '127\.0\.0\.1:[0-9]+' "$tmp/b/cluster.yaml" | sort)
  if [ -z "$(comm -12 <(echo "$a_ports") <(echo "$b_ports"))" ]; then
    ok "a second cluster runs beside the first on other ports"
  else
    bad "two clusters share a port: $(comm -12 <(echo "$a_ports") <(echo "$b_ports") | tr '\n' ' ')"
  fi
  bash "$local_dir/down.sh" --run-dir "$tmp/b" --grace 5 >/dev/null
else
  bad "second up.sh failed:"; sed 's/^/     /' "$tmp/up-b.out"
fi

# 5. up.sh refuses a run dir whose cluster is running.
if bash "$local_dir/up.sh" --run-dir "$tmp/a" --bin-dir "$bin" >"$tmp/up2.out" 2>&1; then
  bad "up.sh started a second cluster in a run dir in use"
elif grep -q 'already running' "$tmp/up2.out"; then
  ok "up.sh refuses a run dir in use"
else
  bad "up.sh on a busy run dir: $(cat "$tmp/up2.out")"
fi

# 6. A tiny job through the CLI.
if [ -x "$bin/augur" ] && "$bin/augur" --help 2>/dev/null | grep -qE '^ +submit( |$)'; then
  "$bin/augur" data gen --profile criteo-kaggle --samples 4096 --seed 1 --out "$tmp/train" >/dev/null
  "$bin/augur" data gen --profile criteo-kaggle --samples 1024 --seed 2 --out "$tmp/eval" >/dev/null
  cat >"$tmp/job.yaml" <<JOB
name: deploy-test
model: {preset: kaggle}
data: {train: "$tmp/train", eval: "$tmp/eval"}
training: {batch_size: 64, iterations: 20, eval_samples: 1024}
cache: {policy: oracle, capacity: 8192, lookahead: 8, prefetch_distance: 2}
cluster: {workers: 2}
JOB
  set +e
  timeout 45 "$bin/augur" submit "$tmp/job.yaml" --cluster "$cy" --follow >"$tmp/submit.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] && grep -qE '^job-[^ ]+ SUCCEEDED' "$tmp/submit.out"; then
    ok "augur submit --follow: $(grep -E '^job-[^ ]+ SUCCEEDED' "$tmp/submit.out" | tail -n 1)"
  else
    bad "augur submit --follow exit $rc:"; tail -n 10 "$tmp/submit.out" | sed 's/^/     /'
    tail -n 5 "$tmp/a/logs/oracle.log" | sed 's/^/     oracle| /'
  fi
else
  echo "SKIP augur submit: $bin/augur has no 'submit' command yet; the job part was not run"
fi

# 7. down: every pid gone, pids and cluster.yaml removed.
bash "$local_dir/down.sh" --run-dir "$tmp/a" --grace 10 >"$tmp/down.out" 2>&1 || true
left=()
for p in "${all_pids[@]}"; do alive "$p" && left+=("$p"); done
if [ "${#left[@]}" -eq 0 ] && [ ! -e "$tmp/a/pids" ] && [ ! -e "$cy" ]; then
  ok "down.sh stopped all ${#all_pids[@]} pids and removed pids and cluster.yaml"
else
  bad "down.sh left pids ${left[*]:-none} alive:"; sed 's/^/     /' "$tmp/down.out"
fi
set +e
bash "$local_dir/status.sh" --run-dir "$tmp/a" >/dev/null 2>&1
rc=$?
set -e
if [ "$rc" -eq 2 ]; then ok "status.sh after down: no cluster (exit 2)"; else bad "status.sh after down: exit $rc"; fi

# 8. A process that fails to start: up.sh says which, shows its log, stops the shards it started.
mkdir -p "$tmp/fakebin"
ln -s "$bin/augur-shard" "$tmp/fakebin/augur-shard"
ln -s "$bin/augur-worker" "$tmp/fakebin/augur-worker"
printf '#!/bin/sh\necho "augur-oracle: simulated start failure" >&2\nexit 1\n' >"$tmp/fakebin/augur-oracle"
chmod +x "$tmp/fakebin/augur-oracle"
set +e
bash "$local_dir/up.sh" --run-dir "$tmp/fail" --shards 2 --workers 1 --bin-dir "$tmp/fakebin" --timeout 10 >"$tmp/fail.out" 2>&1
rc=$?
set -e
shard_left=0
for p in $(grep -oE '\(pid [0-9]+\)' "$tmp/fail.out" | tr -dc '0-9\n'); do alive "$p" && shard_left=1; done
if [ "$rc" -ne 0 ] && grep -q 'oracle (pid [0-9]*) exited before it was listening' "$tmp/fail.out" &&
  grep -q 'simulated start failure' "$tmp/fail.out" && [ "$(grep -c 'shard-[01] (pid [0-9]*) stopped' "$tmp/fail.out")" -eq 2 ] &&
  [ "$shard_left" = 0 ] && [ ! -e "$tmp/fail/pids" ]; then
  ok "a failed start names the process, prints its log tail and stops what was started"
else
  bad "failed start (exit $rc):"; sed 's/^/     /' "$tmp/fail.out"
fi
finish
