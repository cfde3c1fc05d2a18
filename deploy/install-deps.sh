#!/usr/bin/env bash
# Installs every system package augur needs to build, test and run, from Debian 12's archive.
# This file is the only place the dependency list lives; tests/run.sh and deploy/quickstart.sh
# call it. Idempotent: packages already present are left alone, and apt is not touched at all
# when nothing is missing.
#
# Why each package is here:
#   build-essential cmake ninja-build pkg-config  the C++20 toolchain and the Ninja build
#   libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler   gRPC 1.51 / protobuf 3.21
#   librocksdb-dev          RocksDB 7.8, the shard store
#   libabsl-dev             abseil 20220623: Status/StatusOr, synchronization, hashing
#   libspdlog-dev           logging
#   catch2                  Catch2 v2 unit tests
#   libcpp-httplib-dev      the /metrics HTTP endpoint and its scrapers
#   libssl-dev              checks TLS certificates and keys at startup (--tls-*); https /metrics
#   libyaml-cpp-dev         job specs
#   libcli11-dev            command-line flags
#   nlohmann-json3-dev      manifests, --json output
#   libopenblas-dev         CPU GEMMs for the dense model
#   libgloo-dev             CPU all-reduce between workers
#   zlib1g-dev              gzip-compressed Criteo input
#   gnuplot-nox             `augur data analyze --plot` (hit rate against capacity)
#   python3-numpy           the export test loads the exported model with numpy
#   iproute2                netns/tbf slow-link benchmarks (ip, tc)
#   jq curl                 bench/e2e assembles its JSON lines (jq) and scrapes the workers'
#                           step breakdown from their /metrics (curl; bench/chaos and
#                           tests/e2e/recovery_test.sh the step times)
set -euo pipefail

PKGS=(
  build-essential cmake ninja-build pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libspdlog-dev catch2 libcpp-httplib-dev
  libyaml-cpp-dev libcli11-dev nlohmann-json3-dev
  libopenblas-dev libgloo-dev zlib1g-dev libssl-dev
  gnuplot-nox python3-numpy iproute2 jq curl
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
