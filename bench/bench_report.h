/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One benchmark figure as DESIGN.md section 9 defines it:
 *
 *   {"name", "unit", "value", "better": "higher"|"lower",
 *    "anchor": {"name", "value"}, "ratio": value/anchor, "target", "params"}
 *
 * written to <dir>/<name>.json. The anchor is measured in the same run.
 */
#ifndef SLUICE_BENCH_REPORT_H
#define SLUICE_BENCH_REPORT_H

#include <jansson.h>
#include <stdint.h>

struct bench_report {
	const char *name;
	const char *unit;
	double value;
	const char *better; /* "higher" or "lower" */
	const char *anchor_name;
	double anchor_value;
	/* The target as a human reads it, e.g. ">= 0.8x anchor". */
	const char *target;
	/* Extra measurements and settings, or NULL; borrowed: the caller drops its reference. */
	json_t *params;
};

/*
 * Write the report to <dir>/<name>.json (creating dir) and print one line.
 * Returns 0 or -errno.
 */
int bench_report_write(const char *dir, const struct bench_report *r);

/* Sort @v (n > 0 values) and return its median: the figures of a run. */
double bench_median(double *v, unsigned n);

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);

/* Pin the calling thread or process to one CPU; returns 0 or -errno. */
int bench_pin_cpu(int cpu);

/* The output directory from "--out DIR" in argv, or "out/bench". */
const char *bench_out_dir(int argc, char **argv);

/* Nonzero when "--quick" was given (a short run, for smoke tests). */
int bench_quick(int argc, char **argv);

#endif /* SLUICE_BENCH_REPORT_H */
