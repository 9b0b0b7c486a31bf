#!/bin/sh
# setup.sh — install what Corral needs on Debian 12, as root: the runtimes and tools its tests use,
# and the Go modules. Safe to run again.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends runc runsc lxc containerd busybox-static procps jq ca-certificates git make
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
cd "$(dirname "$0")/.."
go mod download
