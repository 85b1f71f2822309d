#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# `make demo`: for now, the Rbuf channel demonstration (examples/rbuf_demo).
# Later issues replace it with the whole system at work (DESIGN.md section 6).
# Usage: examples/demo.sh BUILD_DIR OUT_DIR
set -eu
build=${1:-build/release}
out=${2:-out/demo}
mkdir -p "$out"
"$build/examples/rbuf_demo" | tee "$out/rbuf_demo.txt"
echo
echo "demo: output saved in $out/rbuf_demo.txt"
