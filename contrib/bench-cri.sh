#!/bin/bash
# bench-cri.sh — Corral's CRI figures (docs/cri.md), as root: `make bench-cri`. On cri-harness (see
# contrib/cri-harness.sh; work dir CRITEST_WORK, /var/lib/corral-critest), it starts a private corrald
# and a private containerd 1.6 with its CRI plugin, both with the harness's registry mirrors and CNI
# network, on a temp dir, and prints a table. Goals are targets, not assertions: it exits non-zero only
# if something fails to run. Knobs: BENCH_ITERATIONS (10 paired pod starts), BENCH_PODS (30),
# BENCH_CLIENTS (10).
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
N=${BENCH_ITERATIONS:-10} PODS=${BENCH_PODS:-30} CLIENTS=${BENCH_CLIENTS:-10}
W=${CRITEST_WORK:-/var/lib/corral-critest}
[ "$(id -u)" = 0 ] || { echo "bench-cri.sh: must run as root" >&2; exit 1; }
command -v containerd >/dev/null || { echo "bench-cri.sh: containerd not found" >&2; exit 1; }
# shellcheck source=contrib/cri-harness.sh
. contrib/cri-harness.sh

tmp=$(mktemp -d /tmp/corral-bench-cri.XXXXXX)
corrald_sock=$tmp/corrald.sock ctd_sock=$tmp/containerd.sock daemon= ctd=
crictl() { local s=$1; shift; "$W/bin/crictl" --config /dev/null --runtime-endpoint "unix://$s" --image-endpoint "unix://$s" --timeout 60s "$@"; }
cleanup() {
	rc=$? && set +e
	for s in $corrald_sock $ctd_sock; do
		[ -S "$s" ] || continue
		for id in $(crictl "$s" pods -q 2>/dev/null); do crictl "$s" stopp "$id" >/dev/null 2>&1; crictl "$s" rmp -f "$id" >/dev/null 2>&1; done
	done
	for p in $daemon $ctd; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for pid in $(pgrep -f -- " -address $tmp/"); do kill -KILL "$pid"; done
	grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rmdir /sys/fs/cgroup/*/"${tmp##*/}"/*/* /sys/fs/cgroup/*/"${tmp##*/}"/* /sys/fs/cgroup/*/"${tmp##*/}" 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
# shellcheck source=contrib/bench-lib.sh
. contrib/bench-lib.sh
trap 'exit 130' INT TERM

start_corrald "$tmp" "$corrald_sock" runc
cat >"$tmp/containerd.toml" <<EOF
version = 2
root = "$tmp/ctd-root"
state = "$tmp/ctd-state"
[grpc]
  address = "$ctd_sock"
[ttrpc]
  address = "$ctd_sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.k8s.io/pause:3.9"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$W/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$W/mirrors"
EOF
containerd --config "$tmp/containerd.toml" >"$tmp/containerd.log" 2>&1 &
ctd=$!
wait_sock "$ctd_sock" containerd "$tmp/containerd.log"

image=registry.k8s.io/e2e-test-images/busybox:1.29-2
for s in $corrald_sock $ctd_sock; do
	crictl "$s" pull registry.k8s.io/pause:3.9 >/dev/null
	crictl "$s" pull "$image" >/dev/null
done
pod() { # pod NAME: a pod config
	printf '{"metadata":{"name":"%s","namespace":"bench","uid":"%s","attempt":1},"log_directory":"%s/logs/%s","linux":{"cgroup_parent":"/%s/%s"}}' \
		"$1" "$1" "$tmp" "$1" "${tmp##*/}" "$1" >"$tmp/$1.pod.json"
	printf '{"metadata":{"name":"c"},"image":{"image":"%s"},"command":["sleep","1000"],"log_path":"c.log","linux":{}}' \
		"$image" >"$tmp/$1.ctr.json"
}
start_pod() { # start_pod SOCK NAME: runp, create, start
	local p c
	p=$(crictl "$1" runp "$tmp/$2.pod.json")
	c=$(crictl "$1" create "$p" "$tmp/$2.ctr.json" "$tmp/$2.pod.json")
	crictl "$1" start "$c" >/dev/null
}
remove_pods() { for id in $(crictl "$1" pods -q); do crictl "$1" stopp "$id" >/dev/null; crictl "$1" rmp -f "$id" >/dev/null; done; }
pod_sample() { # pod_sample NAME I SOCK: time one pod start on SOCK
	local t0
	pod "$1-$2"
	t0=$EPOCHREALTIME
	start_pod "$3" "$1-$2"
	record "$1" "$2" "$t0"
	remove_pods "$3"
}

# 1. runp + create + start of a busybox pod, paired, order reversed every iteration; i = 0 warms up.
for i in $(seq 0 "$N"); do
	if [ $((i % 2)) = 0 ]; then pod_sample corrald "$i" "$corrald_sock"; pod_sample containerd "$i" "$ctd_sock"
	else pod_sample containerd "$i" "$ctd_sock"; pod_sample corrald "$i" "$corrald_sock"; fi
done
c_mean=$(ms corrald | mean) d_mean=$(ms containerd | mean)
s_ratio=$(ratio "$c_mean" "$d_mean")

# 2. PODS pods started by CLIENTS parallel clients on each daemon in turn; the daemon's RSS with all
# of them running (its shims and keepers are processes of their own, not counted).
many() { # many SOCK PID: start PODS pods from CLIENTS clients, print the daemon's RSS, remove them
	local k j
	for k in $(seq "$CLIENTS"); do
		(for j in $(seq $(((PODS + CLIENTS - 1) / CLIENTS))); do
			[ $(((k - 1) * ((PODS + CLIENTS - 1) / CLIENTS) + j)) -le "$PODS" ] || break
			pod "many-$k-$j" && start_pod "$1" "many-$k-$j"
		done) &
	done
	wait
	[ "$(crictl "$1" ps -q | wc -l)" = "$PODS" ] || { echo "bench-cri.sh: not $PODS containers running" >&2; exit 1; }
	mib "/proc/$2/status" VmRSS
	remove_pods "$1"
}
c_rss=$(many "$corrald_sock" "$daemon")
d_rss=$(many "$ctd_sock" "$ctd")
m_ratio=$(ratio "$c_rss" "$d_rss")

echo
echo "Corral $(git describe --always --dirty 2>/dev/null || echo dev) CRI bench: $N paired pod starts, $PODS pods from $CLIENTS clients;" \
	"$(nproc) CPUs; $(containerd --version | cut -d' ' -f2-3); runc handler"
printf '%-46s %-44s %-7s %s\n' FIGURE VALUE STATUS GOAL \
	"runp+create+start, corrald" "mean $c_mean ms, median $(ms corrald | median) ms" "" "" \
	"runp+create+start, containerd 1.6 CRI" "mean $d_mean ms, median $(ms containerd | median) ms" "" "" \
	"ratio corrald/containerd (of means)" "$s_ratio" "$(goal "$s_ratio" 0.7)" "≤ 0.7" \
	"daemon RSS with $PODS pods, corrald" "$c_rss MiB" "" "" \
	"daemon RSS with $PODS pods, containerd 1.6" "$d_rss MiB" "" "" \
	"ratio corrald/containerd RSS" "$m_ratio" "$(goal "$m_ratio" 0.5)" "≤ 0.5" | sed 's/ *$//'
