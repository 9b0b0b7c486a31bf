#!/bin/bash
# bench.sh — Corral's performance figures (docs/performance.md), as root: `make bench`.
# Starts a private corrald on a temp dir and prints a table. The goals are targets, not assertions:
# the script exits 0 whether or not they are met, and non-zero only if something fails to run.
# Knobs: BENCH_ITERATIONS (20), BENCH_WARMUP (2), BENCH_CONTAINERS (5), BENCH_IDLE (5 seconds).
set -eu
export LC_ALL=C # EPOCHREALTIME and awk must agree on the decimal point
cd "$(dirname "$0")/.."
N=${BENCH_ITERATIONS:-20} WARMUP=${BENCH_WARMUP:-2} SHIMS=${BENCH_CONTAINERS:-5} IDLE=${BENCH_IDLE:-5}
[ "$(id -u)" = 0 ] || { echo "bench.sh: must run as root" >&2; exit 1; }
for c in runc jq pgrep ctr containerd containerd-shim-runc-v2 lxc-execute; do command -v $c >/dev/null || { echo "bench.sh: $c not found" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/corral-bench.XXXXXX)
sock=$tmp/corrald.sock daemon= ctd=
corral() { bin/corral --address "$sock" "$@"; }
remove() { # remove ID: kill the task, then delete the container once the task has stopped
	corral tasks kill -s KILL "$1" || true
	for _ in $(seq 50); do corral containers rm "$1" 2>/dev/null && return; sleep 0.1; done
	corral containers rm "$1"
}

cleanup() {
	rc=$? && set +e
	if [ -n "$daemon" ] && [ -S "$sock" ]; then
		for id in $(corral containers ls 2>/dev/null | awk 'NR > 1 { print $1 }'); do remove "$id" >/dev/null 2>&1; done
	fi
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$ctd" ] && kill "$ctd" 2>/dev/null && wait "$ctd" 2>/dev/null
	for pid in $(pgrep -f "corral-shim keep $tmp/"); do kill -KILL "$pid"; done # keepers left behind, if any
	for id in $(runc --root "$tmp/runc" list -q 2>/dev/null); do runc --root "$tmp/runc" delete -f "$id"; done
	for pid in $(pgrep -f "lxc-execute -n bench-bare -P $tmp/"); do kill -KILL "$pid"; done
	rmdir /sys/fs/cgroup/*/corral-bench/bare* /sys/fs/cgroup/corral-bench/bare* /sys/fs/cgroup/*/corral-bench /sys/fs/cgroup/corral-bench 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mib() { awk -v k="$2:" '$1 == k { printf "%.1f\n", $2 / 1024 }' "$1"; } # mib FILE FIELD: a kB field in MiB
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g ? "met" : "MISSED") }'; }

# A busybox rootfs, a runc bundle around it, and a private corrald.
contrib/mkrootfs.sh "$tmp/rootfs"
mkdir "$tmp/bundle" && runc spec --bundle "$tmp/bundle"
jq --arg root "$tmp/rootfs" '.root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false' \
	"$tmp/bundle/config.json" >"$tmp/config.json" && mv "$tmp/config.json" "$tmp/bundle/config.json"
printf 'root = "%s/root"\nstate = "%s/state"\n[grpc]\naddress = "%s"\n' "$tmp" "$tmp" "$sock" >"$tmp/corrald.toml"
bin/corrald --config "$tmp/corrald.toml" >"$tmp/corrald.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; kill -0 $daemon 2>/dev/null && sleep 0.1 || break; done
[ -S "$sock" ] || { echo "bench.sh: corrald did not start:" >&2; cat "$tmp/corrald.log" >&2; exit 1; }
sleep "$IDLE"
fresh_rss=$(mib /proc/$daemon/status VmRSS)

# 1. Start-to-exit wall time of /bin/true, corral vs bare runc, paired: each iteration runs both,
# in alternating order, so machine noise hits both alike. Warm-ups (i <= 0) are not recorded.
sample() { # sample NAME I CMD...: run CMD once, recording "NAME I milliseconds" for I > 0
	local name=$1 i=$2 t0
	shift 2
	t0=$EPOCHREALTIME
	"$@" </dev/null >/dev/null
	[ "$i" -le 0 ] || awk -v a="$t0" -v b="$EPOCHREALTIME" -v n="$name" -v i="$i" \
		'BEGIN { printf "%s %d %.3f\n", n, i, (b - a) * 1000 }' >>"$tmp/samples"
}
run_corral() { sample corral "$1" corral run --rm --runtime runc --rootfs "$tmp/rootfs" "bench-c$1" /bin/true; }
run_runc() { sample runc "$1" runc --root "$tmp/runc" run --bundle "$tmp/bundle" "bench-r$1"; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then run_corral "$i"; run_runc "$i"; else run_runc "$i"; run_corral "$i"; fi
done
ms() { awk -v n="$1" '$1 == n { print $3 }' "$tmp/samples"; }
c_mean=$(ms corral | mean) c_median=$(ms corral | median)
r_mean=$(ms runc | mean) r_median=$(ms runc | median)
ratio=$(awk -v c="$c_mean" -v r="$r_mean" 'BEGIN { printf "%.2f", c / r }')

# 2. The same for lcr: corral run --rm on lcr vs bare lxc-execute, paired. The bare container runs the
# LXC config corral writes for that rootfs, copied from a container corral created, with cgroups of its own.
corral run -d --runtime lcr --rootfs "$tmp/rootfs" bench-lcfg sleep 1000
mkdir -p "$tmp/lxc/bench-bare"
sed -e 's#^lxc.cgroup.dir.container = .*#lxc.cgroup.dir.container = "corral-bench/bare"#' \
	-e 's#^lxc.cgroup.dir.monitor = .*#lxc.cgroup.dir.monitor = "corral-bench/bare.monitor"#' \
	"$tmp/state/default/bench-lcfg/lxc/bench-lcfg/config" >"$tmp/lxc/bench-bare/config"
remove bench-lcfg
run_lcr() { sample lcr "$1" corral run --rm --runtime lcr --rootfs "$tmp/rootfs" "bench-l$1" /bin/true; }
run_lxc() { sample lxc "$1" lxc-execute -n bench-bare -P "$tmp/lxc" -- /bin/true; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then run_lcr "$i"; run_lxc "$i"; else run_lxc "$i"; run_lcr "$i"; fi
done
l_mean=$(ms lcr | mean) l_median=$(ms lcr | median)
x_mean=$(ms lxc | mean) x_median=$(ms lxc | median)
l_ratio=$(awk -v c="$l_mean" -v r="$x_mean" 'BEGIN { printf "%.2f", c / r }')

# 3. Keeper RSS (and PSS, which splits shared pages among the keepers) per running container.
: >"$tmp/rss" && : >"$tmp/pss"
for k in $(seq "$SHIMS"); do corral run -d --runtime runc --rootfs "$tmp/rootfs" "bench-d$k" sleep 1000; done
sleep 1
for k in $(seq "$SHIMS"); do
	pid=$(pgrep -f "corral-shim keep $tmp/state/default/bench-d$k\$")
	[ "$(echo "$pid" | wc -w)" = 1 ] || { echo "bench.sh: no single keeper for bench-d$k: '$pid'" >&2; exit 1; }
	mib /proc/$pid/status VmRSS >>"$tmp/rss"
	[ ! -r /proc/$pid/smaps_rollup ] || mib /proc/$pid/smaps_rollup Pss >>"$tmp/pss"
done
shim_rss=$(mean <"$tmp/rss") shim_pss=$([ -s "$tmp/pss" ] && mean <"$tmp/pss" || echo n/a)
for k in $(seq "$SHIMS"); do remove "bench-d$k"; done
[ -z "$(corral containers ls | awk 'NR > 1')" ] || { echo "bench.sh: containers left behind" >&2; exit 1; }

# 4. ctr run --rm through the same shim v2 (containerd-shim-runc-v2), corrald vs containerd, paired.
cat >"$tmp/containerd.toml" <<TOML
version = 2
root = "$tmp/ctd-root"
state = "$tmp/ctd-state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$tmp/containerd.sock"
[ttrpc]
  address = "$tmp/containerd.sock.ttrpc"
TOML
containerd --config "$tmp/containerd.toml" >"$tmp/containerd.log" 2>&1 &
ctd=$!
for _ in $(seq 100); do [ -S "$tmp/containerd.sock" ] && break; sleep 0.1; done
[ -S "$tmp/containerd.sock" ] || { echo "bench.sh: containerd did not start:" >&2; cat "$tmp/containerd.log" >&2; exit 1; }
ctr_run() { sample "$1" "$3" ctr --address "$2" run --rm --rootfs "$tmp/rootfs" "bench-v$3" /bin/true; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then ctr_run v2corral "$sock" "$i"; ctr_run v2containerd "$tmp/containerd.sock" "$i"
	else ctr_run v2containerd "$tmp/containerd.sock" "$i"; ctr_run v2corral "$sock" "$i"; fi
done
v_mean=$(ms v2corral | mean) v_median=$(ms v2corral | median)
d_mean=$(ms v2containerd | mean) d_median=$(ms v2containerd | median)
v_ratio=$(awk -v c="$v_mean" -v r="$d_mean" 'BEGIN { printf "%.2f", c / r }')

# 5. 50 sequential execs into one running shim v2 container: the last ten must be no slower than the
# first ten (the events endpoint must never stall the shim).
corral run -d --runtime io.containerd.runc.v2 --rootfs "$tmp/rootfs" bench-x sleep 1000
for i in $(seq 50); do sample exec "$i" ctr --address "$sock" tasks exec --exec-id "x$i" bench-x /bin/true; done
remove bench-x
x_first=$(awk '$1 == "exec" && $2 <= 10 { print $3 }' "$tmp/samples" | mean)
x_last=$(awk '$1 == "exec" && $2 > 40 { print $3 }' "$tmp/samples" | mean)
x_ratio=$(awk -v a="$x_last" -v b="$x_first" 'BEGIN { printf "%.2f", a / b }')

# 5. corrald's RSS once idle again, with no containers, after the work above.
sleep "$IDLE"
idle_rss=$(mib /proc/$daemon/status VmRSS)

echo
echo "Corral $(git describe --always --dirty 2>/dev/null || echo dev) bench: $N paired iterations after $WARMUP warm-ups;" \
	"$(nproc) CPUs; $(runc --version | head -1); LXC $(lxc-execute --version)"
printf '%-40s %-32s %-7s %s\n' FIGURE VALUE STATUS GOAL \
	"corral run --rm /bin/true" "mean $c_mean ms, median $c_median ms" "" "" \
	"runc run /bin/true" "mean $r_mean ms, median $r_median ms" "" "" \
	"ratio corral/runc (of means)" "$ratio" "$(goal "$ratio" 1.3)" "≤ 1.3" \
	"corral run --rm --runtime lcr /bin/true" "mean $l_mean ms, median $l_median ms" "" "" \
	"lxc-execute /bin/true" "mean $x_mean ms, median $x_median ms" "" "" \
	"ratio corral lcr/lxc-execute (of means)" "$l_ratio" "$(goal "$l_ratio" 1.3)" "≤ 1.3" \
	"ctr run --rm via corrald, shim v2" "mean $v_mean ms, median $v_median ms" "" "" \
	"ctr run --rm via containerd, shim v2" "mean $d_mean ms, median $d_median ms" "" "" \
	"ratio corrald/containerd (of means)" "$v_ratio" "$(goal "$v_ratio" 0.8)" "≤ 0.8" \
	"v2 exec: first 10 / last 10 of 50" "mean $x_first ms / $x_last ms" "" "" \
	"ratio last/first exec (of means)" "$x_ratio" "$(goal "$x_ratio" 1.2)" "≤ 1.2" \
	"corral-shim keeper RSS (mean of $SHIMS)" "$shim_rss MiB (PSS $shim_pss MiB)" "$(goal "$shim_rss" 4)" "≤ 4 MiB" \
	"corrald RSS, idle ${IDLE}s after start" "$fresh_rss MiB" "$(goal "$fresh_rss" 20)" "≤ 20 MiB" \
	"corrald RSS, idle ${IDLE}s after the runs" "$idle_rss MiB" "$(goal "$idle_rss" 20)" "≤ 20 MiB" | sed 's/ *$//'
