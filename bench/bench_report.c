/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
#include "bench/bench_report.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, n + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int
bench_report_write(const char *dir, const struct bench_report *r)
{
	char path[PATH_MAX];
	double ratio = r->anchor_value != 0.0 ? r->value / r->anchor_value : 0.0;
	json_t *o;
	int rc;

	rc = mkdir_p(dir);
	if (rc < 0)
		return rc;
	if (snprintf(path, sizeof(path), "%s/%s.json", dir, r->name) >= (int)sizeof(path))
		return -ENAMETOOLONG;

	o = json_pack("{s:s, s:s, s:f, s:s, s:{s:s, s:f}, s:f, s:s}", "name", r->name, "unit",
	    r->unit, "value", r->value, "better", r->better, "anchor", "name", r->anchor_name,
	    "value", r->anchor_value, "ratio", ratio, "target", r->target);
	if (!o)
		return -ENOMEM;
	/* The caller keeps its reference to params. */
	if (r->params)
		json_object_set(o, "params", r->params);
	else
		json_object_set_new(o, "params", json_object());
	rc = json_dump_file(o, path, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
	json_decref(o);
	if (rc < 0)
		return -EIO;
	printf("%-24s %12.3f %-10s anchor %-28s %12.3f  ratio %.3f  (target %s)\n", r->name,
	    r->value, r->unit, r->anchor_name, r->anchor_value, ratio, r->target);
	return 0;
}

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int
bench_pin_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) < 0 ? -errno : 0;
}

const char *
bench_out_dir(int argc, char **argv)
{
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--out") == 0)
			return argv[i + 1];
	return "out/bench";
}

int
bench_quick(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--quick") == 0)
			return 1;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double
bench_median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[n / 2];
}
