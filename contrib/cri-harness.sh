# cri-harness.sh — sourced by critest.sh and bench-cri.sh: sets up ../shared/cri-harness in $W (the
# caller sets W), sets H to the harness, and defines start_corrald and wait_sock. The harness is CRI_HARNESS, else ../shared/cri-harness
# beside this tree or beside the tree it was cloned from (CI runs a clean clone of the project).
# Registries the harness's mirrors do not name are sent to a closed port of 127.0.0.1, so that nothing
# leaves the machine.
H=${CRI_HARNESS:-}
for d in ../shared/cri-harness "$(git config --get remote.origin.url 2>/dev/null)/../shared/cri-harness"; do
	[ -n "$H" ] || { [ -x "$d/setup.sh" ] && H=$(cd "$d" && pwd); }
done
[ -x "$H/setup.sh" ] || { echo "$0: no cri-harness: set CRI_HARNESS to ../shared/cri-harness" >&2; exit 1; }
mkdir -p "$W"
"$H/setup.sh" "$W" >"$W/setup.log" 2>&1 || { cat "$W/setup.log" >&2; exit 1; }
mkdir -p "$W/mirrors/_default"
echo 'server = "http://127.0.0.1:1"' >"$W/mirrors/_default/hosts.toml"

# wait_sock SOCK NAME LOG: wait up to 10 s for NAME's socket SOCK, else print its LOG and exit 1.
wait_sock() {
	for _ in $(seq 100); do [ -S "$1" ] && return; sleep 0.1; done
	echo "$0: $2 did not start" >&2
	cat "$3" >&2
	exit 1
}

# start_corrald DIR SOCK RUNTIME: start a private corrald on DIR (its root, state, corrald.toml and
# corrald.log) serving SOCK, with RUNTIME as default_runtime and the harness's CNI network and
# mirrors, and wait for it; its pid is in $daemon.
start_corrald() {
	cat >"$1/corrald.toml" <<EOF
root = "$1/root"
state = "$1/state"
default_runtime = "$3"
[grpc]
address = "$2"
[cri.cni]
conf_dir = "$W/net.d"
[cri.registry]
config_path = "$W/mirrors"
EOF
	bin/corrald --config "$1/corrald.toml" >"$1/corrald.log" 2>&1 &
	daemon=$!
	wait_sock "$2" corrald "$1/corrald.log"
}
