/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice: the operator's tool (iproute2 style). Options, then an object and
 * its command; objects and commands may be abbreviated when unambiguous
 * (sluice fl, sluice r s). See docs/sluice.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sluice/sluice.h"

int
sl_fail(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("sluice: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

int
sl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("sluice: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\n(sluice help: the commands)\n", stderr);
	return 2;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sluice [OPTIONS] OBJECT [COMMAND [ARGS]]\n"
	    "\n"
	    "  flows                             the flows, one line each\n"
	    "  flow show ID                      one flow: owner, guarantee, FIB, counters\n"
	    "  stats                             port and flow manager counters\n"
	    "  arp [show]                        the flow manager's ARP cache\n"
	    "  route [show]                      the routing table\n"
	    "  route add PREFIX via GATEWAY      PREFIX: A.B.C.D/LEN or default\n"
	    "  route del PREFIX\n"
	    "  qos set ID [period=DUR] [slice=DUR] [extra=yes|no]\n"
	    "                                    a flow's guarantee (DUR: 10ms, 250us, 1s)\n"
	    "  monitor [-n COUNT] [-i INTERVAL]  live per-flow rates; ^C stops it\n"
	    "  version\n"
	    "\n"
	    "options:\n"
	    "  -j, --json              JSON output\n"
	    "  -p, --pretty            indented JSON\n"
	    "  -s, --runtime-dir DIR   the flow manager's runtime directory [%s]\n"
	    "      --admin ADDR        its admin socket [ipc://DIR/admin.ipc]\n"
	    "      --events ADDR       the driver's counters [what the flow manager says]\n"
	    "  -t, --timeout MS        how long to wait for an answer [%d]\n"
	    "  -V, --version           the tool's version\n",
	    SL_DEFAULT_RUN_DIR, SL_TIMEOUT_MS);
}

static int
run(struct sl *s, int argc, char **argv)
{
	const char *obj = argv[0];

	argc--, argv++;
	if (strcmp(obj, "flows") == 0 || sl_matches(obj, "flow")) {
		uint32_t id;

		if (argc == 0 || sl_matches(argv[0], "list"))
			return sl_cmd_flows(s, argc ? argc - 1 : 0, argv + 1);
		if (!sl_matches(argv[0], "show"))
			return sl_usage_error("flow: unknown command %s (list, show ID)", argv[0]);
		if (argc == 1)
			return sl_cmd_flows(s, 0, argv + 1);
		if (argc > 2 || sl_parse_id(argv[1], &id) < 0)
			return sl_usage_error("flow show: expected a flow id, not %s", argv[1]);
		return sl_cmd_flow_show(s, id);
	}
	if (sl_matches(obj, "stats") || strcmp(obj, "statistics") == 0)
		return sl_cmd_stats(s, argc, argv);
	if (sl_matches(obj, "arp") || strcmp(obj, "neighbour") == 0 || strcmp(obj, "neigh") == 0)
		return sl_cmd_arp(s, argc, argv);
	if (sl_matches(obj, "route"))
		return sl_cmd_route(s, argc, argv);
	if (sl_matches(obj, "qos"))
		return sl_cmd_qos(s, argc, argv);
	if (sl_matches(obj, "monitor"))
		return sl_cmd_monitor(s, argc + 1, argv - 1);
	if (sl_matches(obj, "version"))
		return sl_cmd_version(s, argc, argv);
	if (sl_matches(obj, "help")) {
		usage(stdout);
		return 0;
	}
	return sl_usage_error("unknown object %s", obj);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"pretty", no_argument, NULL, 'p'},
	    {"runtime-dir", required_argument, NULL, 's'},
	    {"admin", required_argument, NULL, 'A'},
	    {"events", required_argument, NULL, 'E'},
	    {"timeout", required_argument, NULL, 't'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct sl s = {.run_dir = SL_DEFAULT_RUN_DIR, .timeout_ms = SL_TIMEOUT_MS};
	const char *admin = NULL;
	int ch, rc;

	while ((ch = getopt_long(argc, argv, "+jps:t:Vh", lo, NULL)) != -1) {
		switch (ch) {
		case 'j':
			s.json = true;
			break;
		case 'p':
			s.pretty = s.json = true;
			break;
		case 's':
			s.run_dir = optarg;
			break;
		case 'A':
			admin = optarg;
			break;
		case 'E':
			snprintf(s.events, sizeof(s.events), "%s", optarg);
			break;
		case 't': {
			uint32_t ms;

			if (sl_parse_id(optarg, &ms) < 0 || ms > 3600000)
				return sl_usage_error(
				    "--timeout %s: milliseconds, 1..3600000", optarg);
			s.timeout_ms = (int)ms;
			break;
		}
		case 'V':
			printf("sluice %s (schema %u.%u)\n", SLUICE_VERSION, RPC_SCHEMA_MAJOR,
			    RPC_SCHEMA_MINOR);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (admin)
		snprintf(s.admin, sizeof(s.admin), "%s", admin);
	else if (snprintf(s.admin, sizeof(s.admin), "ipc://%s/admin.ipc", s.run_dir) >=
		 (int)sizeof(s.admin))
		return sl_usage_error("-s %s: too long", s.run_dir);
	signal(SIGPIPE, SIG_IGN);
	if (sl_init(&s) < 0)
		return sl_fail("out of memory");
	rc = run(&s, argc - optind, argv + optind);
	sl_fini(&s);
	return rc;
}
