#!/bin/bash
# bench.sh — Corral's performance figures (docs/performance.md), as root: `make bench`.
# Starts a private corrald on a temp dir and prints a table. The goals are targets, not assertions:
# the script exits 0 whether or not they are met, and non-zero only if something fails to run.
# Knobs: BENCH_ITERATIONS (20), BENCH_WARMUP (2), BENCH_CONTAINERS (50), BENCH_EXITS (20),
# BENCH_IDLE (5 seconds), BENCH_GAP (0 seconds of sleep before each timed command).
set -eu
export LC_ALL=C # EPOCHREALTIME and awk must agree on the decimal point
cd "$(dirname "$0")/.."
N=${BENCH_ITERATIONS:-20} WARMUP=${BENCH_WARMUP:-2} SHIMS=${BENCH_CONTAINERS:-50} EXITS=${BENCH_EXITS:-20} IDLE=${BENCH_IDLE:-5} GAP=${BENCH_GAP:-0}
[ "$(id -u)" = 0 ] || { echo "bench.sh: must run as root" >&2; exit 1; }
for c in runc jq pgrep ctr containerd containerd-shim-runc-v2 lxc-execute; do command -v $c >/dev/null || { echo "bench.sh: $c not found" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/corral-bench.XXXXXX)
# A namespace of our own: containers' cgroups are /<namespace>/<id>, so they cannot meet those of
# another run on this machine, and the cleanup can remove the parent cgroup it created.
ns=bench-${tmp##*.}
sock=$tmp/corrald.sock daemon= ctd= evctr= stamper=
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
corral() { bin/corral --address "$sock" --namespace "$ns" "$@"; }
run_flags=(--fifo-dir "$tmp/fifo" --rootfs "$tmp/rootfs")
remove() { # remove ID: kill the task, then delete the container once the task has stopped
	corral tasks kill -s KILL "$1" || true
	for _ in $(seq 50); do corral containers rm "$1" 2>/dev/null && return; sleep 0.1; done
	corral containers rm "$1"
}
shim_delete() { # shim_delete BUNDLE ADDRESS: the delete bootstrap of the bundle's shim (keeper or shim v2)
	local b=$1 bin
	bin=$(cat "$b/shim-binary-path" 2>/dev/null) || return 0
	(cd "$b" && "$bin" -namespace "$ns" -id "$(basename "$b")" -address "$2" -bundle "$b" delete >/dev/null 2>&1)
}

cleanup() {
	rc=$? && set +e
	[ -n "$evctr" ] && kill "$evctr" 2>/dev/null
	[ -n "$stamper" ] && wait "$stamper" 2>/dev/null
	if [ -n "$daemon" ] && [ -S "$sock" ]; then
		for id in $(corral containers ls 2>/dev/null | awk 'NR > 1 { print $1 }'); do remove "$id" >/dev/null 2>&1; done
	fi
	if [ -n "$ctd" ] && [ -S "$tmp/containerd.sock" ]; then
		for id in $(ctr -a "$tmp/containerd.sock" -n "$ns" containers ls -q 2>/dev/null); do
			ctr -a "$tmp/containerd.sock" -n "$ns" tasks rm -f "$id" >/dev/null 2>&1
			ctr -a "$tmp/containerd.sock" -n "$ns" containers rm "$id" >/dev/null 2>&1
		done
	fi
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	[ -n "$ctd" ] && kill "$ctd" 2>/dev/null && wait "$ctd" 2>/dev/null
	# Whatever is left: every keeper and shim of ours has " -address $tmp/" on its command line. The
	# delete bootstrap kills a keeper, its container and cgroups, and removes the runtime's state.
	for b in "$tmp"/root/bundles/"$ns"/*; do [ -d "$b" ] && shim_delete "$b" "$sock"; done
	for b in "$tmp"/ctd-state/io.containerd.runtime.v2.task/"$ns"/*; do [ -d "$b" ] && shim_delete "$b" "$tmp/containerd.sock"; done
	for pid in $(pgrep -f -- " -address $tmp/"); do kill -KILL "$pid"; done
	for id in $(runc --root "$tmp/runc" list -q 2>/dev/null); do runc --root "$tmp/runc" delete -f "$id"; done
	for pid in $(pgrep -f "lxc-execute -n bench-bare -P $tmp/"); do kill -KILL "$pid"; done
	sleep 0.1
	rmdir /sys/fs/cgroup/*/"$ns"/* /sys/fs/cgroup/*/"$ns" 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
# shellcheck source=contrib/bench-lib.sh
. contrib/bench-lib.sh
trap 'exit 130' INT TERM

# A busybox rootfs, a runc bundle around it, and a private corrald.
contrib/mkrootfs.sh "$tmp/rootfs"
mkdir "$tmp/bundle" && runc spec --bundle "$tmp/bundle"
jq --arg root "$tmp/rootfs" --arg cg "/$ns/runc-bare" \
	'.root.path = $root | .process.args = ["/bin/true"] | .process.terminal = false | .linux.cgroupsPath = $cg' \
	"$tmp/bundle/config.json" >"$tmp/config.json" && mv "$tmp/config.json" "$tmp/bundle/config.json"
printf 'root = "%s/root"\nstate = "%s/state"\n[grpc]\naddress = "%s"\n' "$tmp" "$tmp" "$sock" >"$tmp/corrald.toml"
bin/corrald --config "$tmp/corrald.toml" >"$tmp/corrald.log" 2>&1 &
daemon=$!
for _ in $(seq 100); do [ -S "$sock" ] && break; kill -0 $daemon 2>/dev/null && sleep 0.1 || break; done
[ -S "$sock" ] || { echo "bench.sh: corrald did not start:" >&2; cat "$tmp/corrald.log" >&2; exit 1; }
sleep "$IDLE"
fresh_rss=$(mib /proc/$daemon/status VmRSS)

# 1. Start-to-exit wall time of /bin/true: corral on runc, bare `runc run`, and the floor of the
# create/start/delete model (bare runc create, start, delete), paired: each iteration runs all three,
# in an order that reverses every iteration, so machine noise hits them alike. Warm-ups (i <= 0) are
# not recorded. A foreground run keeps no log. With BENCH_GAP, each timed command starts after that
# much idle time instead of right after the previous one (docs/performance.md says why it matters).
# The floor deletes with --force: the init may not have been reaped yet when start returns, and
# nothing here is its parent to wait for it.
runc_csd() { runc --root "$tmp/runc" create --bundle "$tmp/bundle" "$1" && runc --root "$tmp/runc" start "$1" &&
	runc --root "$tmp/runc" delete --force "$1"; }
run_corral() { sample corral "$1" corral run --rm --runtime runc "${run_flags[@]}" "bench-c$1" /bin/true; }
run_runc() { sample runc "$1" runc --root "$tmp/runc" run --bundle "$tmp/bundle" "bench-r$1"; }
run_floor() { sample floor "$1" runc_csd "bench-f$1"; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then run_corral "$i"; run_runc "$i"; run_floor "$i"; else run_floor "$i"; run_runc "$i"; run_corral "$i"; fi
done
c_mean=$(ms corral | mean) c_median=$(ms corral | median)
r_mean=$(ms runc | mean) r_median=$(ms runc | median)
f_mean=$(ms floor | mean) f_median=$(ms floor | median)
c_ratio=$(ratio "$c_mean" "$r_mean") f_ratio=$(ratio "$f_mean" "$r_mean")

# 2. The same for lcr: corral run --rm on lcr vs bare lxc-execute, paired. The bare container runs the
# LXC config corral writes for that rootfs, copied from a container corral created (it is in the
# task's bundle), with cgroups of its own.
corral run -d --log-driver none --runtime lcr "${run_flags[@]}" bench-lcfg sleep 1000
mkdir -p "$tmp/lxc/bench-bare"
sed -e "s#^lxc.cgroup.dir.container = .*#lxc.cgroup.dir.container = \"$ns/lxc-bare\"#" \
	-e "s#^lxc.cgroup.dir.monitor = .*#lxc.cgroup.dir.monitor = \"$ns/lxc-bare.monitor\"#" \
	"$tmp/root/bundles/$ns/bench-lcfg/lxc/bench-lcfg/config" >"$tmp/lxc/bench-bare/config"
remove bench-lcfg
run_lcr() { sample lcr "$1" corral run --rm --runtime lcr "${run_flags[@]}" "bench-l$1" /bin/true; }
run_lxc() { sample lxc "$1" lxc-execute -n bench-bare -P "$tmp/lxc" -- /bin/true; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then run_lcr "$i"; run_lxc "$i"; else run_lxc "$i"; run_lcr "$i"; fi
done
l_mean=$(ms lcr | mean) l_median=$(ms lcr | median)
x_mean=$(ms lxc | mean) x_median=$(ms lxc | median)
l_ratio=$(ratio "$l_mean" "$x_mean")

# 3. Keeper memory with SHIMS running runc containers: RSS and its anonymous and file-backed parts,
# threads, and PSS from smaps_rollup, which splits the pages the keepers share (the corral-shim binary)
# among them. --log-driver none: a log would be part of the container's cost, not of the keeper's.
: >"$tmp/mem"
for k in $(seq "$SHIMS"); do corral run -d --log-driver none --runtime runc "${run_flags[@]}" "bench-d$k" sleep 1000; done
sleep 1
for k in $(seq "$SHIMS"); do
	pid=$(pgrep -f "corral-shim -namespace $ns -id bench-d$k -address $sock\$")
	[ "$(echo "$pid" | wc -w)" = 1 ] || { echo "bench.sh: no single keeper for bench-d$k: '$pid'" >&2; exit 1; }
	echo "$(mib /proc/$pid/status VmRSS) $(mib /proc/$pid/status RssAnon) $(mib /proc/$pid/status RssFile)" \
		"$(mib /proc/$pid/smaps_rollup Pss) $(awk '$1 == "Threads:" { print $2 }' /proc/$pid/status)" >>"$tmp/mem"
done
col() { awk -v c="$1" '{ print $c }' "$tmp/mem" | mean; }
shim_rss=$(col 1) shim_anon=$(col 2) shim_file=$(col 3) shim_pss=$(col 4) shim_threads=$(col 5)
for k in $(seq "$SHIMS"); do remove "bench-d$k"; done
[ -z "$(corral containers ls | awk 'NR > 1')" ] || { echo "bench.sh: containers left behind" >&2; exit 1; }

# 4. Exit latency: from `kill -9` of a container's init to the /tasks/exit event reaching a
# subscriber (`ctr events`, each line stamped with EPOCHREALTIME as it arrives), for EXITS running
# containers per family, killed one at a time. --log-driver none, as above.
mkfifo "$tmp/events.fifo"
stamp() { while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done; }
stamp <"$tmp/events.fifo" >"$tmp/events" &
stamper=$!
ctr --address "$sock" events >"$tmp/events.fifo" &
evctr=$!
exit_latency() { # exit_latency FAMILY RUNTIME
	local fam=$1 rt=$2 k id pid t0 t1
	for k in $(seq "$EXITS"); do corral run -d --log-driver none --runtime "$rt" "${run_flags[@]}" "bench-e$fam$k" sleep 1000; done
	sleep 1
	for k in $(seq "$EXITS"); do
		id=bench-e$fam$k
		pid=$(corral tasks ls | awk -v id="$id" '$1 == id { print $2 }')
		[ -n "$pid" ] && [ "$pid" != 0 ] || { echo "bench.sh: no pid for $id" >&2; exit 1; }
		t0=$EPOCHREALTIME
		kill -KILL "$pid"
		sleep 0.2 # no polling while the exit is on its way
		for _ in $(seq 100); do
			t1=$(awk -v m="/tasks/exit {\"container_id\":\"$id\",\"id\":\"$id\"" 'index($0, m) { print $1; exit }' "$tmp/events")
			[ -n "$t1" ] && break
			sleep 0.05
		done
		[ -n "$t1" ] || { echo "bench.sh: no exit event for $id" >&2; exit 1; }
		awk -v a="$t0" -v b="$t1" -v n="exit-$fam" -v i="$k" 'BEGIN { printf "%s %d %.3f\n", n, i, (b - a) * 1000 }' >>"$tmp/samples"
		corral containers rm "$id"
	done
}
exit_latency runc runc
exit_latency lcr lcr
kill "$evctr" && wait "$evctr" 2>/dev/null || true
wait "$stamper" || true
evctr= stamper=
e_runc=$(ms exit-runc | median) e_runc_range=$(ms exit-runc | minmax)
e_lcr=$(ms exit-lcr | median) e_lcr_range=$(ms exit-lcr | minmax)

# 5. ctr run --rm through the same shim v2 (containerd-shim-runc-v2), corrald vs containerd, paired.
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
ctr_run() { sample "$1" "$3" ctr --address "$2" --namespace "$ns" run --rm --rootfs "$tmp/rootfs" "bench-v$3" /bin/true; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then ctr_run v2corral "$sock" "$i"; ctr_run v2containerd "$tmp/containerd.sock" "$i"
	else ctr_run v2containerd "$tmp/containerd.sock" "$i"; ctr_run v2corral "$sock" "$i"; fi
done
v_mean=$(ms v2corral | mean) v_median=$(ms v2corral | median)
d_mean=$(ms v2containerd | mean) d_median=$(ms v2containerd | median)
v_ratio=$(ratio "$v_mean" "$d_mean")

# 6. 50 sequential execs into one running shim v2 container: the last ten must be no slower than the
# first ten (the events endpoint must never stall the shim). --log-driver none: with a log, shim v2
# runs a corral-shim logger process beside the shim.
corral run -d --log-driver none --runtime io.containerd.runc.v2 "${run_flags[@]}" bench-x sleep 1000
for i in $(seq 50); do sample exec "$i" ctr --address "$sock" --namespace "$ns" tasks exec --exec-id "x$i" bench-x /bin/true; done
remove bench-x
x_first=$(awk '$1 == "exec" && $2 <= 10 { print $3 }' "$tmp/samples" | mean)
x_last=$(awk '$1 == "exec" && $2 > 40 { print $3 }' "$tmp/samples" | mean)
x_ratio=$(ratio "$x_last" "$x_first")

# 7. corrald's RSS once idle again, with no containers, after the work above.
sleep "$IDLE"
idle_rss=$(mib /proc/$daemon/status VmRSS)

echo
echo "Corral $(git describe --always --dirty 2>/dev/null || echo dev) bench: $N paired iterations after $WARMUP warm-ups," \
	"$GAP s idle before each;" \
	"$(nproc) CPUs; $(runc --version | head -1); LXC $(lxc-execute --version)"
echo "Load average (1, 5, 15 min): $load_start at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end"
printf '%-46s %-44s %-7s %s\n' FIGURE VALUE STATUS GOAL \
	"corral run --rm /bin/true (runc)" "mean $c_mean ms, median $c_median ms" "" "" \
	"runc run /bin/true" "mean $r_mean ms, median $r_median ms" "" "" \
	"runc create+start+delete /bin/true" "mean $f_mean ms, median $f_median ms" "" "" \
	"ratio corral/runc run (of means)" "$c_ratio" "$(goal "$c_ratio" 1.75)" "≤ 1.75" \
	"ratio create+start+delete/runc run (floor)" "$f_ratio" "" "" \
	"corral run --rm --runtime lcr /bin/true" "mean $l_mean ms, median $l_median ms" "" "" \
	"lxc-execute /bin/true" "mean $x_mean ms, median $x_median ms" "" "" \
	"ratio corral lcr/lxc-execute (of means)" "$l_ratio" "$(goal "$l_ratio" 1.5)" "≤ 1.5" \
	"corral-shim keeper PSS (mean of $SHIMS)" "$shim_pss MiB" "$(goal "$shim_pss" 2)" "≤ 2 MiB" \
	"corral-shim keeper RSS (mean of $SHIMS)" "$shim_rss MiB (anon $shim_anon, file $shim_file)" "$(goal "$shim_rss" 6)" "≤ 6 MiB" \
	"corral-shim keeper threads (mean of $SHIMS)" "$shim_threads" "" "" \
	"exit latency, kill -9 to event, runc ($EXITS)" "median $e_runc ms ($e_runc_range)" "$(goal "$e_runc" 50)" "≤ 50 ms" \
	"exit latency, kill -9 to event, lcr ($EXITS)" "median $e_lcr ms ($e_lcr_range)" "$(goal "$e_lcr" 50)" "≤ 50 ms" \
	"ctr run --rm via corrald, shim v2" "mean $v_mean ms, median $v_median ms" "" "" \
	"ctr run --rm via containerd, shim v2" "mean $d_mean ms, median $d_median ms" "" "" \
	"ratio corrald/containerd (of means)" "$v_ratio" "$(goal "$v_ratio" 0.8)" "≤ 0.8" \
	"v2 exec: first 10 / last 10 of 50" "mean $x_first ms / $x_last ms" "" "" \
	"ratio last/first exec (of means)" "$x_ratio" "$(goal "$x_ratio" 1.2)" "≤ 1.2" \
	"corrald RSS, idle ${IDLE}s after start" "$fresh_rss MiB" "$(goal "$fresh_rss" 20)" "≤ 20 MiB" \
	"corrald RSS, idle ${IDLE}s after the runs" "$idle_rss MiB" "$(goal "$idle_rss" 20)" "≤ 20 MiB" | sed 's/ *$//'
