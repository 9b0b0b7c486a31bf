# bench-lib.sh — sourced by the bench scripts: how they time commands and sum up samples. Samples
# are lines "NAME I MILLISECONDS" in $tmp/samples; GAP (0) is idle seconds before each timed command.
mib() { awk -v k="$2:" '$1 == k { printf "%.1f\n", $2 / 1024 }' "$1"; } # mib FILE FIELD: a kB field in MiB
mean() { awk '{ s += $1 } END { printf "%.1f", s / NR }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.1f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
minmax() { sort -n | awk 'NR == 1 { a = $1 } { b = $1 } END { printf "min %.1f, max %.1f", a, b }'; }
goal() { awk -v v="$1" -v g="$2" 'BEGIN { print (v <= g ? "met" : "MISSED") }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ms() { awk -v n="$1" '$1 == n { print $3 }' "$tmp/samples"; } # ms NAME: NAME's samples
record() { # record NAME I T0: a sample of NAME, from T0 ($EPOCHREALTIME) to now, for I > 0
	[ "$2" -le 0 ] || awk -v a="$3" -v b="$EPOCHREALTIME" -v n="$1" -v i="$2" \
		'BEGIN { printf "%s %d %.3f\n", n, i, (b - a) * 1000 }' >>"$tmp/samples"
}
sample() { # sample NAME I CMD...: run CMD once, recording its time for I > 0
	local name=$1 i=$2 t0
	shift 2
	[ "${GAP:-0}" = 0 ] || sleep "$GAP"
	t0=$EPOCHREALTIME
	"$@" </dev/null >/dev/null
	record "$name" "$i" "$t0"
}
