# SPDX-License-Identifier: BSD-3-Clause
# Included by bench/CMakeLists.txt when sched/ exists.
sluice_add_bench(sched_scale SOURCES sched_scale.c LIBS sluice_sched)
