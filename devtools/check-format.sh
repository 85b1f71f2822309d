#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# clang-format every tracked C file; --fix rewrites, otherwise only checks.
set -eu
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build/*')
[ -n "$files" ] || exit 0
if [ "${1:-}" = "--fix" ]; then
    # shellcheck disable=SC2086
    clang-format -i $files
else
    # shellcheck disable=SC2086
    clang-format --dry-run -Werror $files
    echo "check-format: $(echo "$files" | wc -w) files clean"
fi
