#!/bin/bash
# critest.sh [RUNTIME] — Kubernetes' CRI validation suite (critest v1.37.0) against a private corrald
# whose default runtime (the CRI's empty handler) is RUNTIME (runc), as root: `make critest`.
# It sets up ../shared/cri-harness in CRITEST_WORK (/var/lib/corral-critest): critest, crictl, a local
# registry on 127.0.0.1:5000 with the test images, registry mirrors and a CNI config. corrald pulls
# through those mirrors; any other registry is sent to a closed port of 127.0.0.1, so nothing leaves
# the machine. Prints passed/failed/skipped and the failed specs; exits non-zero if a spec failed that
# contrib/critest-expected does not list for RUNTIME. CRITEST_ARGS adds critest flags (e.g.
# --ginkgo.focus=...). The report stays in CRITEST_WORK/report-RUNTIME.json.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."
rt=${1:-runc}
W=${CRITEST_WORK:-/var/lib/corral-critest}
[ "$(id -u)" = 0 ] || { echo "critest.sh: must run as root" >&2; exit 1; }
# shellcheck source=contrib/cri-harness.sh
. contrib/cri-harness.sh

tmp=$(mktemp -d /tmp/corral-critest.XXXXXX)
chmod 711 "$tmp" # a user namespace pod's root (host uid 1000) must reach the rootfs under it
sock=$tmp/corrald.sock daemon=
crictl() { "$W/bin/crictl" --config /dev/null --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" "$@"; }
cleanup() {
	rc=$? && set +e
	if [ -n "$daemon" ]; then
		for id in $(crictl pods -q 2>/dev/null); do crictl stopp "$id" >/dev/null 2>&1; crictl rmp -f "$id" >/dev/null 2>&1; done
		kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null
	fi
	for pid in $(pgrep -f -- " -address $tmp/"); do kill -KILL "$pid"; done
	grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_corrald "$tmp" "$sock" "$rt"

report=$W/report-$rt.json
set +e
# shellcheck disable=SC2086
"$W/bin/critest" --runtime-endpoint "unix://$sock" --image-endpoint "unix://$sock" --ginkgo.no-color \
	--ginkgo.json-report="$report" ${CRITEST_ARGS:-} >"$W/critest-$rt.log" 2>&1
set -e
cp "$tmp/corrald.log" "$W/corrald-$rt.log"
count() { jq "[.[].SpecReports[]? | select(.LeafNodeType == \"It\" and .State == \"$1\")] | length" "$report"; }
echo "critest v1.37.0, default runtime $rt: $(count passed) passed, $(count failed) failed, $(count skipped) skipped"
jq -r '.[].SpecReports[]? | select(.LeafNodeType == "It" and .State == "failed") |
	(.ContainerHierarchyTexts | join(" ")) + " " + .LeafNodeText' "$report" | sort >"$W/failed-$rt.txt"
sed 's/^/FAILED: /' "$W/failed-$rt.txt"
expected=$(awk -v rt="$rt" -F'\t' '$1 == rt || $1 == "*" { print $2 }' contrib/critest-expected 2>/dev/null | sort)
unexpected=$(comm -23 "$W/failed-$rt.txt" <(echo "$expected"))
[ -z "$unexpected" ] || { echo "critest.sh: unexpected failures (logs in $W):" >&2; echo "$unexpected" >&2; exit 1; }
