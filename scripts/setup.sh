#!/usr/bin/env bash
# Installs every Debian package grod needs to build, run and test.
# Idempotent: runs `apt-get update` at most once and installs only what is absent,
# so it is slow on a fresh machine and takes about a second on a warm one.
set -euo pipefail

PACKAGES=(
  # build
  bazel-bootstrap bazel-rules-java g++ pkg-config clang-14 libclang-rt-14-dev clang-format
  # libraries (dpdk-dev also ships dpdk-testpmd, the peer scripts/bench_process.sh runs)
  libdpdk-dev dpdk-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev prometheus-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev libpcap-dev
  # google/rpc/status.proto and error_details.proto (status details), libyaml (YAML configs, grocli apply)
  golang-github-gogo-googleapis-dev libyaml-dev
  # tests: metrics, wire, independent gRPC client, deployment checks, grocli's
  # zsh completion
  prometheus python3-grpcio python3-protobuf python3-scapy python3-yaml iperf3 iproute2
  tcpdump systemd curl ethtool zsh
)
# `scripts/setup.sh --analysis` also installs what the benchmark documents use
# to explain their numbers (callgrind instruction counts, perf profiles); the
# build, the tests and the benchmark scripts themselves do not need them.
if [ "${1:-}" = --analysis ]; then
  PACKAGES+=(valgrind linux-perf)
elif [ $# -gt 0 ]; then
  echo "setup: unknown option $1 (only --analysis: also valgrind and linux-perf)" >&2
  exit 2
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${#missing[@]} missing packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "setup: done"
