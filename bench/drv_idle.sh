#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# drv_idle: how much of a core an idle driver uses (DESIGN.md §6: it must
# sleep when idle; the target is under 5 %). Starts sluice-driver on a
# net_ring0 port (no receive interrupt, so it wakes every idle_sleep_ms to
# look), lets it settle, and reads its user+system CPU time from
# /proc/PID/stat over an interval. The anchor is the same driver measured
# while it busy-polls (idle_sleep_ms would be 0: we use `sluice-driver`
# with a port that always has traffic, net_null0), in the same run.
# Usage: bench/drv_idle.sh BUILD_DIR OUT_DIR [--quick]
set -eu
build=$1
out=$2
secs=10
[ "${3:-}" = "--quick" ] && secs=3
exe="$build/driver/sluice-driver"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hz=$(getconf CLK_TCK)

# cpu_pct PORT NAME: percent of one core used over $secs seconds
cpu_pct() {
    "$exe" --port "$1" --name "$2" --control "$tmp/$2.sock" >"$tmp/$2.log" 2>&1 &
    pid=$!
    sleep 2
    t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
    sleep "$secs"
    t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
    kill -TERM "$pid"
    wait "$pid" || true
    awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.2f", (b - a) * 100 / hz / s }'
}

idle=$(cpu_pct net_ring0 idle)
busy=$(cpu_pct net_null0,size=64 busy)
mkdir -p "$out"
ratio=$(awk -v a="$idle" -v b="$busy" 'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')
cat >"$out/drv_idle.json" <<JSON
{
  "name": "drv_idle",
  "unit": "% of a core",
  "value": $idle,
  "better": "lower",
  "anchor": {"name": "same driver with traffic (net_null0)", "value": $busy},
  "ratio": $ratio,
  "target": "< 5 % of a core",
  "params": {"seconds": $secs, "method": "utime+stime from /proc/PID/stat", "port": "net_ring0 (no rx interrupt, 1 ms sleeps)"}
}
JSON
printf '%-24s %12s %-10s anchor %-28s %12s  ratio %s  (target < 5 %% of a core)\n' \
    drv_idle "$idle" "%core" "busy driver" "$busy" "$ratio"
