#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The application library's dynamic symbol table holds as_* and nothing
# else (AS_API and -fvisibility=hidden; rbuf and proto stay inside).
set -eu
lib="$1"
all=$(nm -D --defined-only "$lib" | awk '{print $3}')
extra=$(printf '%s\n' "$all" | grep -v '^as_' || true)
n=$(printf '%s\n' "$all" | grep -c '^as_' || true)
if [ -n "$extra" ]; then
    echo "exported beyond as_*:"
    printf '%s\n' "$extra"
    exit 1
fi
[ "$n" -gt 20 ] || { echo "only $n as_* symbols: is the library built?"; exit 1; }
echo "ok: $n symbols, all as_*"
