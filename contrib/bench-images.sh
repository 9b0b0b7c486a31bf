#!/bin/bash
# bench-images.sh — Corral's image figures (docs/performance.md), as root: `make bench` runs it after
# bench.sh. Starts a private corrald, a private containerd (Debian's 1.6) and Debian's docker-registry on
# 127.0.0.1, all on a temp dir, and prints a table. The goals are targets, not assertions: the script
# exits 0 whether or not they are met, and non-zero only if something fails to run.
# Knobs: BENCH_PULLS (5 paired pulls), BENCH_ITERATIONS (20 paired runs), BENCH_WARMUP (2),
# BENCH_IMAGE_MB (100, the size of the pulled image's incompressible file).
set -eu
export LC_ALL=C
cd "$(dirname "$0")/.."
P=${BENCH_PULLS:-5} N=${BENCH_ITERATIONS:-20} WARMUP=${BENCH_WARMUP:-2} MB=${BENCH_IMAGE_MB:-100}
[ "$(id -u)" = 0 ] || { echo "bench-images.sh: must run as root" >&2; exit 1; }
for c in runc ctr containerd docker-registry sha256sum dpkg shuf; do command -v $c >/dev/null || { echo "bench-images.sh: $c not found" >&2; exit 1; }; done

tmp=$(mktemp -d /tmp/corral-bench-img.XXXXXX)
ns=bench-${tmp##*.}
sock=$tmp/corrald.sock csock=$tmp/containerd.sock daemon= ctd= reg=
corral() { bin/corral --address "$sock" --namespace "$ns" "$@"; }
cctr() { ctr --address "$1" --namespace "$ns" "${@:2}"; }

cleanup() {
	rc=$? && set +e
	if [ -n "$daemon" ] && [ -S "$sock" ]; then
		for id in $(corral containers ls 2>/dev/null | awk 'NR > 1 { print $1 }'); do corral rm -f "$id" >/dev/null 2>&1; done
	fi
	for p in $daemon $ctd $reg; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	for pid in $(pgrep -f -- " -address $tmp/"); do kill -KILL "$pid"; done
	sleep 0.1
	umount -R "$tmp"/*/ 2>/dev/null
	grep -o " $tmp/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rmdir /sys/fs/cgroup/*/"$ns"/* /sys/fs/cgroup/*/"$ns" 2>/dev/null
	rm -rf "$tmp"
	exit $rc
}
trap cleanup EXIT
# shellcheck source=contrib/bench-lib.sh
. contrib/bench-lib.sh
trap 'exit 130' INT TERM

blob() { # blob LAYOUT FILE MEDIATYPE: store FILE as a blob of the OCI layout, print its descriptor
	local d s
	d=$(sha256sum "$2" | cut -d' ' -f1) s=$(stat -c %s "$2")
	mv "$2" "$1/blobs/sha256/$d"
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$3" "$d" "$s"
}
mkimage() { # mkimage ROOTFS REF OUT: an OCI layout tarball of ROOTFS as one uncompressed layer
	local l=$tmp/layout-${RANDOM} diff config layer manifest
	mkdir -p "$l/blobs/sha256"
	tar -C "$1" -cf "$l/layer.tar" .
	diff=$(sha256sum "$l/layer.tar" | cut -d' ' -f1)
	printf '{"architecture":"%s","os":"linux","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$(dpkg --print-architecture)" "$diff" >"$l/config.json"
	layer=$(blob "$l" "$l/layer.tar" application/vnd.oci.image.layer.v1.tar)
	config=$(blob "$l" "$l/config.json" application/vnd.oci.image.config.v1+json)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' "$config" "$layer" >"$l/manifest.json"
	manifest=$(blob "$l" "$l/manifest.json" application/vnd.oci.image.manifest.v1+json)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' \
		"${manifest%\}},\"annotations\":{\"io.containerd.image.name\":\"$2\",\"org.opencontainers.image.ref.name\":\"${2##*:}\"}}" >"$l/index.json"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$l/oci-layout"
	tar -C "$l" -cf "$3" oci-layout index.json blobs
	rm -rf "$l"
}
wait_sock() { for _ in $(seq 100); do [ -S "$1" ] && return; sleep 0.1; done; echo "bench-images.sh: $2 did not start" >&2; cat "$3" >&2; exit 1; }

# A registry on a free port of 127.0.0.1, a private corrald and a private containerd.
port=
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $(shuf -i 20000-40000 -n 20); do listening "$p" || { port=$p && break; }; done
[ -n "$port" ] || { echo "bench-images.sh: no free port" >&2; exit 1; }
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$tmp/registry" "$port" >"$tmp/registry.yml"
docker-registry serve "$tmp/registry.yml" >"$tmp/registry.log" 2>&1 &
reg=$!
printf 'root = "%s/root"\nstate = "%s/state"\n[grpc]\naddress = "%s"\n' "$tmp" "$tmp" "$sock" >"$tmp/corrald.toml"
bin/corrald --config "$tmp/corrald.toml" >"$tmp/corrald.log" 2>&1 &
daemon=$!
printf 'version = 2\nroot = "%s/ctd-root"\nstate = "%s/ctd-state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "%s"\n[ttrpc]\n  address = "%s.ttrpc"\n' \
	"$tmp" "$tmp" "$csock" "$csock" >"$tmp/containerd.toml"
containerd --config "$tmp/containerd.toml" >"$tmp/containerd.log" 2>&1 &
ctd=$!
wait_sock "$sock" corrald "$tmp/corrald.log"
wait_sock "$csock" containerd "$tmp/containerd.log"
for _ in $(seq 100); do listening "$port" && break; sleep 0.1; done

# Images: busybox, and busybox with an incompressible file of MB MiB, pushed to the registry.
contrib/mkrootfs.sh "$tmp/rootfs"
cp -a "$tmp/rootfs" "$tmp/big"
head -c "${MB}M" /dev/urandom >"$tmp/big/data"
small=localhost:$port/bench/busybox:1 big=localhost:$port/bench/big:1
mkimage "$tmp/rootfs" "$small" "$tmp/small.tar"
mkimage "$tmp/big" "$big" "$tmp/big.tar"
rm -rf "$tmp/big"
cctr "$sock" images import "$tmp/big.tar" >/dev/null
cctr "$sock" images push --plain-http "$big" >/dev/null
cctr "$sock" images rm --sync "$big" >/dev/null
corral images import "$tmp/small.tar" >/dev/null

# 1. Pull and unpack of the big image, ctr 1.6 against corrald and against containerd, paired; each
# pull starts from an empty store (rm --sync collects content and snapshots).
pull() { # pull NAME SOCK I
	sample "$1" "$3" cctr "$2" images pull --plain-http "$big"
	cctr "$2" images rm --sync "$big" >/dev/null
}
for i in $(seq 0 "$P"); do
	if [ $((i % 2)) = 0 ]; then pull pull-corrald "$sock" "$i"; pull pull-containerd "$csock" "$i"
	else pull pull-containerd "$csock" "$i"; pull pull-corrald "$sock" "$i"; fi
	sample corral-pull "$i" corral images pull --plain-http "$big"
	corral images rm "$big" >/dev/null
done
pc_mean=$(ms pull-corrald | mean) pd_mean=$(ms pull-containerd | mean) pp_mean=$(ms corral-pull | mean)
p_ratio=$(ratio "$pc_mean" "$pd_mean") pp_ratio=$(ratio "$pp_mean" "$pd_mean")

# 2. corral run --rm /bin/true from the image vs from a rootfs directory, runc, paired.
run_img() { sample image "$1" corral run --rm --runtime runc "$small" "bench-i$1" /bin/true; }
run_dir() { sample rootfs "$1" corral run --rm --runtime runc --rootfs "$tmp/rootfs" "bench-r$1" /bin/true; }
for i in $(seq $((1 - WARMUP)) "$N"); do
	if [ $((i % 2)) = 0 ]; then run_img "$i"; run_dir "$i"; else run_dir "$i"; run_img "$i"; fi
done
i_mean=$(ms image | mean) r_mean=$(ms rootfs | mean)
i_ratio=$(ratio "$i_mean" "$r_mean")

echo
echo "Corral $(git describe --always --dirty 2>/dev/null || echo dev) image bench: $P paired pulls of a" \
	"$MB MiB image, $N paired runs after $WARMUP warm-ups; $(nproc) CPUs; $(containerd --version | cut -d' ' -f2-3)"
printf '%-46s %-44s %-7s %s\n' FIGURE VALUE STATUS GOAL \
	"ctr pull + unpack via corrald" "mean $pc_mean ms, median $(ms pull-corrald | median) ms" "" "" \
	"ctr pull + unpack via containerd 1.6" "mean $pd_mean ms, median $(ms pull-containerd | median) ms" "" "" \
	"ratio corrald/containerd pull (of means)" "$p_ratio" "$(goal "$p_ratio" 1.0)" "≤ 1.0" \
	"corral images pull + unpack" "mean $pp_mean ms, median $(ms corral-pull | median) ms" "" "" \
	"ratio corral pull/containerd ctr pull" "$pp_ratio" "$(goal "$pp_ratio" 1.0)" "≤ 1.0" \
	"corral run --rm /bin/true from an image" "mean $i_mean ms, median $(ms image | median) ms" "" "" \
	"corral run --rm /bin/true from a rootfs dir" "mean $r_mean ms, median $(ms rootfs | median) ms" "" "" \
	"ratio image/rootfs (of means)" "$i_ratio" "$(goal "$i_ratio" 1.1)" "≤ 1.1" | sed 's/ *$//'
