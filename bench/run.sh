#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Run every benchmark listed in bench/list.txt from a build tree, write
# out/bench/<name>.json each, then print one table of all of them.
# Usage: bench/run.sh BUILD_DIR OUT_DIR [--quick]
set -eu
build=${1:-build/release}
out=${2:-out/bench}
shift 2 || true
here=$(dirname "$0")
mkdir -p "$out"
status=0
while read -r name; do
    case "$name" in ''|'#'*) continue ;; esac
    exe="$build/bench/$name"
    if [ -f "$here/$name.sh" ]; then
        echo "== $name"
        sh "$here/$name.sh" "$build" "$out" "$@" || status=1
        continue
    fi
    if [ ! -x "$exe" ]; then
        echo "bench: $exe is missing" >&2
        status=1
        continue
    fi
    echo "== $name"
    "$exe" --out "$out" "$@" || status=1
done < "$here/list.txt"
/usr/bin/python3 "$here/table.py" "$out"
exit $status
