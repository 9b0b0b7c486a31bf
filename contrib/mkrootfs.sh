#!/bin/sh
# mkrootfs.sh DIR — build a minimal busybox rootfs in DIR from Debian's busybox-static.
set -eu
dir=${1:?usage: mkrootfs.sh DIR}
bb=$(command -v busybox)
mkdir -p "$dir/bin" "$dir/proc" "$dir/dev" "$dir/sys" "$dir/tmp" "$dir/etc" "$dir/root"
cp "$bb" "$dir/bin/busybox"
for app in $("$bb" --list); do
	[ -e "$dir/bin/$app" ] || ln -s busybox "$dir/bin/$app"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$dir/etc/passwd"
echo "root:x:0:" > "$dir/etc/group"
