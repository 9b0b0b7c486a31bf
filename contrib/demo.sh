#!/bin/sh
# demo.sh — start a private corrald on temporary directories, build a busybox rootfs and run
# containers through it with corral and with containerd's ctr. Run from the repository, as root,
# after `make setup build` (`make demo` does all three).
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d /tmp/corral-demo.XXXXXX)
sock=$tmp/corrald.sock
cleanup() {
	[ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

cat > "$tmp/config.toml" <<TOML
root = "$tmp/root"
state = "$tmp/state"
[grpc]
address = "$sock"
[runtimes.runsc]
runtime_args = ["--platform=ptrace", "--network=none"]
[runtimes.my-runc]
path = "/usr/sbin/runc"
TOML
contrib/mkrootfs.sh "$tmp/rootfs"
bin/corrald --config "$tmp/config.toml" > "$tmp/corrald.log" 2>&1 &
pid=$!
i=0; while [ ! -S "$sock" ]; do i=$((i+1)); [ $i -lt 100 ] || { cat "$tmp/corrald.log"; exit 1; }; sleep 0.1; done

corral() { bin/corral --address "$sock" "$@"; }
step() { printf '\n$ corral %s\n' "$*"; corral "$@"; }

step runtimes
for rt in lcr runc runsc my-runc io.containerd.runc.v2; do
	printf '\n$ corral run --rm --runtime %s --rootfs R demo-%s sh -c '\''echo hello from $(uname -r); exit 3'\''\n' "$rt" "$rt"
	corral run --rm --runtime "$rt" --rootfs "$tmp/rootfs" "demo-$rt" sh -c 'echo hello from $(uname -r); exit 3' || echo "(exit code $?)"
done
step run -d --rootfs "$tmp/rootfs" sleeper sleep 1000
step tasks ls
step tasks kill -s KILL sleeper
sleep 0.5
step containers rm sleeper
printf '\n$ ctr run --rm --runtime runc --rootfs R c2 echo hi\n'
ctr --address "$sock" run --rm --runtime runc --rootfs "$tmp/rootfs" c2 echo hi
echo; echo "demo done"
