#!/usr/bin/env bash
# deploy/k8s manifests, checked offline:
#   1. kubectl parses every manifest: `kubectl create --dry-run=client --validate=false -f`
#      with an empty kubeconfig; kubectl needs an API server for kind lookup, so when none is
#      reachable it falls back to `kubectl label --local -f` (parses every object, no server);
#   2. structure: each object's kind/apiVersion is the expected one, and the things the deploy
#      depends on are there (StatefulSet PVC template, the oracle's --state-dir claim, Indexed
#      Job with nvidia.com/gpu and --worker-index=$(JOB_COMPLETION_INDEX), Prometheus
#      annotations, loopback overridden);
#   3. the ConfigMap's job spec goes through the real parser (augur-oracle --plan-only: exit 2
#      means the spec was rejected; 1 about the dataset, which does not exist here, means it
#      parsed).
# Skips (exit 0 with a message) when kubectl is not installed.
# usage: k8s_manifests_test.sh BUILD_DIR
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: k8s_manifests_test.sh BUILD_DIR}" && pwd)
k8s=$src/deploy/k8s
if ! command -v kubectl >/dev/null; then
  echo "SKIP: kubectl is not installed; the deploy/k8s manifests were not checked"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/kubeconfig"
export KUBECONFIG=$tmp/kubeconfig
pass=0 fail=0
ok() { echo "ok   $*"; pass=$((pass + 1)); }
bad() { echo "FAIL $*"; fail=$((fail + 1)); }

manifests=("$k8s"/*.yaml)
for m in "${manifests[@]}"; do
  name=$(basename "$m")
  [ "$name" = kustomization.yaml ] && continue
  if kubectl create --dry-run=client --validate=false -f "$m" -o json >"$tmp/$name.json" 2>"$tmp/err"; then
    ok "$name: kubectl create --dry-run=client"
  elif grep -qiE 'connection refused|unable to recognize|couldn.t get current server|no configuration' "$tmp/err"; then
    if kubectl label --local -f "$m" augur.test/checked=yes -o json >"$tmp/$name.json" 2>"$tmp/err"; then
      ok "$name: kubectl parses it (--local; no API server for create --dry-run)"
    else
      bad "$name: kubectl cannot parse it: $(head -n 3 "$tmp/err")"
      continue
    fi
  else
    bad "$name: kubectl create --dry-run=client: $(head -n 3 "$tmp/err")"
    continue
  fi
done
if kubectl kustomize "$k8s" >"$tmp/all.yaml" 2>"$tmp/err"; then
  ok "kustomization.yaml: kubectl kustomize renders $(grep -c '^kind:' "$tmp/all.yaml") objects"
else
  bad "kustomization.yaml: $(head -n 3 "$tmp/err")"
fi

# Structure. Reads every <manifest>.json (a single object or a List) written above.
if python3 - "$tmp" >"$tmp/structure" 2>&1 <<'PY'; then
import glob, json, os, sys
objs = []
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml.json"))):
    text, pos, dec = open(f).read(), 0, json.JSONDecoder()
    while True:  # kubectl prints one JSON document per object, or a List
        while pos < len(text) and text[pos].isspace(): pos += 1
        if pos >= len(text): break
        d, pos = dec.raw_decode(text, pos)
        objs += d.get("items", [d]) if d.get("kind") == "List" else [d]
by = {(o["kind"], o["metadata"]["name"]): o for o in objs}
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
expected = {("ConfigMap", "augur-job"): "v1", ("PersistentVolumeClaim", "augur-data"): "v1",
            ("Service", "augur-shard"): "v1", ("StatefulSet", "augur-shard"): "apps/v1",
            ("Service", "augur-oracle"): "v1", ("Deployment", "augur-oracle"): "apps/v1",
            ("Job", "augur-worker"): "batch/v1",
            ("PersistentVolumeClaim", "augur-oracle-state"): "v1"}
for key, api in expected.items():
    need(key in by, f"missing {key[0]}/{key[1]}")
    if key in by:
        need(by[key]["apiVersion"] == api, f"{key[0]}/{key[1]}: apiVersion {by[key]['apiVersion']}, want {api}")
need(set(by) == set(expected), f"unexpected objects: {sorted(set(by) - set(expected))}")
def pod(o): return o["spec"]["template"]
def args(o):
    c = pod(o)["spec"]["containers"][0]
    return " ".join(c.get("command", []) + c.get("args", []))
# The oracle's job state survives a pod restart: --state-dir on the augur-oracle-state claim.
if ("Deployment", "augur-oracle") in by:
    o = by[("Deployment", "augur-oracle")]
    c = pod(o)["spec"]["containers"][0]
    mounts = {m["name"]: m["mountPath"] for m in c.get("volumeMounts", [])}
    vols = {v["name"]: v.get("persistentVolumeClaim", {}).get("claimName") for v in pod(o)["spec"].get("volumes", [])}
    state = [n for n, claim in vols.items() if claim == "augur-oracle-state"]
    need(len(state) == 1 and state[0] in mounts and f"--state-dir={mounts[state[0]]}" in args(o),
         "oracle: --state-dir must point at the mounted augur-oracle-state claim")
for key in [("StatefulSet", "augur-shard"), ("Deployment", "augur-oracle"), ("Job", "augur-worker")]:
    if key not in by: continue
    a = pod(by[key])["metadata"].get("annotations", {})
    need(a.get("prometheus.io/scrape") == "true" and a.get("prometheus.io/port"), f"{key[1]}: Prometheus annotations")
    port = a.get("prometheus.io/port")
    need(f"0.0.0.0:{port}" in args(by[key]), f"{key[1]}: metrics must listen on 0.0.0.0:{port} (the annotated port)")
    sel = by[key]["spec"].get("selector", {}).get("matchLabels")
    if sel:
        labels = pod(by[key])["metadata"]["labels"]
        need(all(labels.get(k) == v for k, v in sel.items()), f"{key[1]}: selector does not match its pod labels")
if ("StatefulSet", "augur-shard") in by:
    s = by[("StatefulSet", "augur-shard")]
    need(s["spec"].get("volumeClaimTemplates"), "shards: no volumeClaimTemplates (one PVC per shard)")
    need(s["spec"]["serviceName"] == "augur-shard", "shards: serviceName must be the headless Service")
    n = s["spec"]["replicas"]
    need(f"--num-shards {n}" in args(s), f"shards: --num-shards must equal replicas ({n})")
    need("--shard-index" in args(s), "shards: --shard-index missing")
    if ("Deployment", "augur-oracle") in by:
        want = ",".join(f"augur-shard-{i}.augur-shard:7000" for i in range(n))
        need(f"--shards={want}" in args(by[("Deployment", "augur-oracle")]), f"oracle: --shards must list {want}")
if ("Job", "augur-worker") in by:
    j = by[("Job", "augur-worker")]
    need(j["spec"].get("completionMode") == "Indexed", "workers: completionMode must be Indexed")
    need(j["spec"]["completions"] == j["spec"]["parallelism"], "workers: completions != parallelism")
    need("--worker-index=$(JOB_COMPLETION_INDEX)" in args(j), "workers: --worker-index from JOB_COMPLETION_INDEX")
    lim = pod(j)["spec"]["containers"][0]["resources"]["limits"]
    need(str(lim.get("nvidia.com/gpu")) == "1", "workers: limits nvidia.com/gpu: 1")
    if ("ConfigMap", "augur-job") in by:
        spec = by[("ConfigMap", "augur-job")]["data"]["job.yaml"]
        open(os.path.join(sys.argv[1], "job.yaml"), "w").write(spec)
        w = j["spec"]["completions"]
        need(f"workers: {w}" in spec, f"job spec: cluster.workers must equal the worker Job's completions ({w})")
for p in problems: print(p)
sys.exit(1 if problems else 0)
PY
  ok "structure: kinds, PVC per shard, indexed GPU Job, annotations, counts agree"
else
  bad "structure:"; sed 's/^/     /' "$tmp/structure"
fi

oracle=$build/bin/augur-oracle
if [ ! -x "$oracle" ]; then
  bad "job spec: $oracle is not built"
elif [ ! -f "$tmp/job.yaml" ]; then
  bad "job spec: not extracted from the ConfigMap"
else
  set +e
  (cd "$tmp" && "$oracle" --plan-only --job "$tmp/job.yaml") >"$tmp/plan.out" 2>&1
  rc=$?
  set -e
  if [ "$rc" -eq 0 ] || { [ "$rc" -eq 1 ] && grep -q 'dataset' "$tmp/plan.out"; }; then
    ok "job spec in the ConfigMap parses (augur-oracle --plan-only: $(tail -n 1 "$tmp/plan.out"))"
  else
    bad "job spec in the ConfigMap is rejected (exit $rc): $(tail -n 1 "$tmp/plan.out")"
  fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
