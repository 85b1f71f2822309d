#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# `make demo`: the paper's QoS experiments (figures 5a, 5b and 7) on netlab,
# Sluice and Linux side by side; docs/demo.md says what it shows.
# Usage: examples/demo.sh BUILD_DIR OUT_DIR [demo.py options: --gbit, --short]
set -eu
build=${1:-build/release}
out=${2:-out/demo}
shift 2 2>/dev/null || shift $#
if [ "$(id -u)" != 0 ]; then
	echo "demo: needs root (it creates network namespaces)" >&2
	exit 1
fi
mkdir -p "$out"
# Debian's own interpreter, whatever else is first on the PATH.
exec /usr/bin/python3 "$(dirname "$0")/demo/demo.py" "$build" "$out" "$@"
