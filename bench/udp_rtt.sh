#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# udp_rtt: see bench/udp_rtt.py (netlab, needs root).
# Usage: bench/udp_rtt.sh BUILD_DIR OUT_DIR [--quick]
exec /usr/bin/python3 "$(dirname "$0")/udp_rtt.py" "$@"
