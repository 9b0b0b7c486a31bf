#!/bin/sh
# setup.sh — install what Corral needs on Debian 12, as root: the runtimes and tools its tests use
# (contrib/debian-packages), and the Go modules. Safe to run again.
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends $(cat contrib/debian-packages)
command -v go >/dev/null || export PATH="/usr/local/go/bin:$PATH"
go mod download
# crictl, for the CRI tests and for users of corrald's CRI; the version critest's harness uses.
command -v crictl >/dev/null || GOBIN=/usr/local/bin CGO_ENABLED=0 go install sigs.k8s.io/cri-tools/cmd/crictl@v1.37.0
