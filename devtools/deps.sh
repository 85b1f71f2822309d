#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Install the Debian 12 packages Sluice needs. Idempotent and quiet when
# everything is present; on a fresh machine (no package lists) it runs
# apt-get update first. Needs root when something is missing.
set -eu

PKGS="
cmake ninja-build pkg-config gcc make
clang libclang-rt-14-dev clang-format
libdpdk-dev dpdk
libbpf-dev libxdp-dev libpcap-dev
libprotobuf-c-dev protobuf-c-compiler
libnanomsg-dev libcmocka-dev
libinih-dev libjansson-dev libcap-ng-dev libsystemd-dev
gnuplot-nox iproute2 python3
ethtool iputils-ping iputils-arping procps tcpdump
"

missing=""
for p in $PKGS; do
    st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$st" = "installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
echo "deps: done"
