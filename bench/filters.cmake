# SPDX-License-Identifier: BSD-3-Clause
# Benchmarks of filters/ (included by bench/CMakeLists.txt when present).
sluice_add_bench(demux_scale SOURCES demux_scale.c LIBS sluice_filters PkgConfig::DPDK)
