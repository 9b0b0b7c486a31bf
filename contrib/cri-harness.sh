# cri-harness.sh — sourced by critest.sh and bench-cri.sh: sets up ../shared/cri-harness in $W (the
# caller sets W) and sets H to the harness. The harness is CRI_HARNESS, else ../shared/cri-harness
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
