/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_blast: send UDP datagrams of one size to one peer, as fast as the
 * flow's guarantee allows (the driver's scheduler paces it: the program
 * only keeps its transmit channel full) or at a given rate (paced here).
 * Every datagram starts with the header of examples/common/ex.h, so that
 * udp_sink can count it per flow, spot losses and know the guarantee.
 *
 *   udp_blast ADDR PORT [--size BYTES] [--rate MBPS] [--duration DUR]
 *             [--period DUR --slice DUR] [--extra] [--flow N]
 *             [--guarantee-mbps X] [--local-port P] [--socket PATH] [--kernel]
 *             [--change-at DUR --new-period DUR --new-slice DUR [--new-extra]]
 *
 * --period/--slice ask the flow manager for that guarantee (no slack unless
 * --extra; without a slice the flow is best effort and lives on slack).
 * --change-at asks, that long after the start, for the new guarantee
 * (as_flow_set_qos) and says on stderr whether it was granted; the header's
 * guarantee_kbps stays as given. At the end, besides the stack's counters,
 * what the driver counted for the flow (as_flow_drv_counters).
 * --rate paces to MBPS of wire rate (ex_wire_bytes()). --kernel sends from
 * a Linux UDP socket instead, for the same experiment without Sluice (tc
 * shapes it then). At the end one line: datagrams, bytes, seconds, wire
 * Mbit/s, and what the stack counted.
 *
 * Exit status: 0; 1 on a failure (the reason on stderr); 2 on a usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appstack/as.h"
#include "examples/common/ex.h"

#define BURST 32

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	uint32_t addr;
	uint16_t port, local_port;
	uint32_t size;
	double rate_mbps;
	uint64_t duration_ns, period_ns, slice_ns;
	bool extra, kernel;
	uint64_t change_at_ns; /* 0: never */
	struct as_qos change;
	uint32_t flow;
	bool flow_set;
	double guarantee_mbps;
	const char *socket;
};

struct tally {
	uint64_t dgrams, bytes, wire;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: udp_blast ADDR PORT [--size BYTES] [--rate MBPS] [--duration DUR]\n"
		   "                 [--period DUR --slice DUR] [--extra] [--flow N]\n"
		   "                 [--guarantee-mbps X] [--local-port P] [--socket PATH] "
		   "[--kernel]\n"
		   "                 [--change-at DUR --new-period DUR --new-slice DUR "
		   "[--new-extra]]\n");
}

/* The header of datagram @seq, at the front of @p. */
static void
stamp(uint8_t *p, const struct opts *o, uint64_t seq)
{
	struct ex_hdr h = {
	    .magic = htonl(EX_MAGIC),
	    .flow = htonl(o->flow),
	    .seq = htobe64(seq),
	    .guarantee_kbps = htonl((uint32_t)(o->guarantee_mbps * 1000.0)),
	};

	memcpy(p, &h, sizeof(h) <= o->size ? sizeof(h) : o->size);
}

/* Wait until @t (monotonic ns): sleep for long gaps, spin for short ones. */
static void
until(uint64_t t)
{
	uint64_t now = ex_now_ns();

	if (t > now + 100000) {
		struct timespec ts = {.tv_sec = (time_t)((t - 50000) / 1000000000u),
		    .tv_nsec = (long)((t - 50000) % 1000000000u)};

		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	}
	while (ex_now_ns() < t && !stop)
		;
}

static int
blast_kernel(const struct opts *o, struct tally *t)
{
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(o->port), .sin_addr.s_addr = htonl(o->addr)};
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(o->local_port)};
	uint64_t gap =
	    o->rate_mbps > 0 ? (uint64_t)(ex_wire_bytes(o->size) * 8e3 / o->rate_mbps) : 0;
	uint64_t end = ex_now_ns() + o->duration_ns, next = ex_now_ns();
	uint8_t *buf = calloc(1, o->size ? o->size : 1);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (!buf || fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		fprintf(stderr, "udp_blast: socket: %s\n", strerror(errno));
		free(buf);
		return 1;
	}
	while (!stop && ex_now_ns() < end) {
		if (gap) {
			until(next);
			next += gap;
		}
		stamp(buf, o, t->dgrams);
		if (send(fd, buf, o->size, 0) < 0) {
			if (errno == EINTR || errno == ENOBUFS || errno == ECONNREFUSED)
				continue;
			fprintf(stderr, "udp_blast: send: %s\n", strerror(errno));
			break;
		}
		t->dgrams++;
		t->bytes += o->size;
		t->wire += ex_wire_bytes(o->size);
	}
	close(fd);
	free(buf);
	return 0;
}

/* --change-at: ask for the new guarantee, say what came of it. */
static void
change(struct as_flow *f, const struct as_qos *q, double at_s)
{
	struct as_qos g;
	int rc = as_flow_set_qos(f, q, &g);

	if (rc == 0)
		fprintf(stderr,
		    "udp_blast: at %.3f s: guarantee now %" PRIu64 "/%" PRIu64 " ns%s\n", at_s,
		    g.slice_ns, g.period_ns, g.extra ? " + slack" : "");
	else
		fprintf(stderr, "udp_blast: at %.3f s: new guarantee refused: %s (%s)\n", at_s,
		    strerror(-rc), as_errmsg());
}

static int
blast_sluice(const struct opts *o, struct tally *t)
{
	struct as_ctx_cfg cc = {.socket = o->socket, .software = "udp_blast"};
	struct as_flow_cfg fc = {.kind = AS_UDP_CONNECTED,
	    .local = {.port = o->local_port},
	    .remote = {.addr = o->addr, .port = o->port},
	    .qos = {.period_ns = o->period_ns, .slice_ns = o->slice_ns, .extra = o->extra},
	    .max_dgram = o->size > 1472 ? o->size : 1472,
	    .tx_bufs = 256};
	uint64_t gap =
	    o->rate_mbps > 0 ? (uint64_t)(ex_wire_bytes(o->size) * 8e3 / o->rate_mbps) : 0;
	uint64_t start, end, next, last_poll = 0, change_at = UINT64_MAX;
	struct as_drv_counters dc;
	struct as_flow_info fi;
	struct as_flow_stats st;
	struct as_ctx *ctx;
	struct as_flow *f;
	int rc = 0;

	if (!o->slice_ns)
		fc.qos.extra = true; /* best effort: slack is all it has */
	ctx = as_ctx_create(&cc);
	if (!ctx) {
		fprintf(stderr, "udp_blast: flow manager: %s\n", as_errmsg());
		return 1;
	}
	f = as_udp_open(ctx, &fc);
	if (!f) {
		fprintf(stderr, "udp_blast: open: %s\n", as_errmsg());
		as_ctx_destroy(ctx);
		return 1;
	}
	as_flow_info(f, &fi);
	fprintf(stderr, "udp_blast: flow %u from port %u, guarantee %" PRIu64 "/%" PRIu64 " ns%s\n",
	    fi.flow_id, fi.local.port, fi.qos.slice_ns, fi.qos.period_ns,
	    fi.qos.extra ? " + slack" : "");
	start = next = ex_now_ns();
	end = start + o->duration_ns;
	if (o->change_at_ns)
		change_at = start + o->change_at_ns;
	while (!stop) {
		struct as_txbuf b[BURST];
		uint64_t now = ex_now_ns();
		unsigned n, sent;

		if (now >= end)
			break;
		if (now - last_poll > 50000000u) { /* flow manager callbacks */
			as_ctx_poll(ctx);
			last_poll = now;
		}
		if (now >= change_at) {
			change(f, &o->change, (double)(now - start) / 1e9);
			change_at = UINT64_MAX;
		}
		/* Paced: one datagram at its time. Else as many as the stack lends. */
		n = as_tx_alloc_burst(f, b, gap ? 1 : BURST);
		if (n == 0) {
			rc = as_flow_wait(f, AS_EV_TX, 50);
			if (rc < 0 && rc != -EINTR) {
				fprintf(stderr, "udp_blast: %s\n", strerror(-rc));
				break;
			}
			rc = 0;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			stamp(b[i].data, o, t->dgrams + i);
			b[i].len = o->size;
		}
		if (gap) {
			until(next);
			next += gap;
		}
		sent = as_tx_send_burst(f, b, n);
		for (unsigned i = sent; i < n; i++)
			as_tx_free(f, &b[i]); /* no room now; the same seq goes next time */
		t->dgrams += sent;
		t->bytes += (uint64_t)sent * o->size;
		t->wire += sent * ex_wire_bytes(o->size);
		if (sent < n && as_flow_error(f)) {
			fprintf(
			    stderr, "udp_blast: the flow died: %s\n", strerror(-as_flow_error(f)));
			rc = 1;
			break;
		}
	}
	as_flow_stats(f, &st);
	fprintf(stderr, "udp_blast: stack: frames %" PRIu64 " refused %" PRIu64 "\n",
	    st.c[AS_STAT_TX_FRAMES], st.c[AS_STAT_TX_REFUSED]);
	/* Frames still queued in the driver are not in its count yet. */
	if (as_flow_drv_counters(f, &dc) == 0)
		fprintf(stderr,
		    "udp_blast: driver: frames %" PRIu64 " bytes %" PRIu64 " refused %" PRIu64
		    " chan_errors %" PRIu64 " waited_ms %.1f periods %" PRIu64 " missed %" PRIu64
		    " slack_ms %.1f\n",
		    dc.tx_pkts, dc.tx_bytes, dc.tx_refused, dc.chan_errors, dc.sched_wait_ns / 1e6,
		    dc.sched_periods, dc.sched_missed, dc.sched_slack_ns / 1e6);
	else
		fprintf(stderr, "udp_blast: driver's counters: %s\n", as_errmsg());
	as_flow_close(f);
	as_ctx_destroy(ctx);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"size", required_argument, NULL, 's'},
	    {"rate", required_argument, NULL, 'r'},
	    {"duration", required_argument, NULL, 'd'},
	    {"period", required_argument, NULL, 'P'},
	    {"slice", required_argument, NULL, 'S'},
	    {"extra", no_argument, NULL, 'x'},
	    {"flow", required_argument, NULL, 'f'},
	    {"guarantee-mbps", required_argument, NULL, 'g'},
	    {"local-port", required_argument, NULL, 'l'},
	    {"socket", required_argument, NULL, 'k'},
	    {"kernel", no_argument, NULL, 'K'},
	    {"change-at", required_argument, NULL, 'c'},
	    {"new-period", required_argument, NULL, 'p'},
	    {"new-slice", required_argument, NULL, 'q'},
	    {"new-extra", no_argument, NULL, 'X'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.size = 1472, .duration_ns = 10000000000ull};
	struct tally t = {0};
	uint64_t v, t0;
	double secs;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			if (ex_parse_u64(optarg, 1, AS_MAX_DGRAM, &v) < 0)
				goto bad;
			o.size = (uint32_t)v;
			break;
		case 'r':
			o.rate_mbps = strtod(optarg, NULL);
			if (o.rate_mbps <= 0)
				goto bad;
			break;
		case 'd':
			if (ex_parse_dur(optarg, &o.duration_ns) < 0)
				goto bad;
			break;
		case 'P':
			if (ex_parse_dur(optarg, &o.period_ns) < 0)
				goto bad;
			break;
		case 'S':
			if (ex_parse_dur(optarg, &o.slice_ns) < 0)
				goto bad;
			break;
		case 'x':
			o.extra = true;
			break;
		case 'f':
			if (ex_parse_u64(optarg, 0, UINT32_MAX, &v) < 0)
				goto bad;
			o.flow = (uint32_t)v;
			o.flow_set = true;
			break;
		case 'g':
			o.guarantee_mbps = strtod(optarg, NULL);
			if (o.guarantee_mbps < 0 || o.guarantee_mbps > 4e6)
				goto bad;
			break;
		case 'l':
			if (ex_parse_u64(optarg, 0, 65535, &v) < 0)
				goto bad;
			o.local_port = (uint16_t)v;
			break;
		case 'k':
			o.socket = optarg;
			break;
		case 'K':
			o.kernel = true;
			break;
		case 'c':
			if (ex_parse_dur(optarg, &o.change_at_ns) < 0 || !o.change_at_ns)
				goto bad;
			break;
		case 'p':
			if (ex_parse_dur(optarg, &o.change.period_ns) < 0)
				goto bad;
			break;
		case 'q':
			if (ex_parse_dur(optarg, &o.change.slice_ns) < 0)
				goto bad;
			break;
		case 'X':
			o.change.extra = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (argc - optind != 2 || ex_parse_ip(argv[optind], &o.addr) < 0 ||
	    ex_parse_u64(argv[optind + 1], 1, 65535, &v) < 0)
		goto bad;
	o.port = (uint16_t)v;
	if ((o.slice_ns == 0) != (o.period_ns == 0) || o.slice_ns > o.period_ns) {
		fprintf(stderr, "udp_blast: --slice and --period go together, slice <= period\n");
		return 2;
	}
	if (o.change_at_ns && ((o.change.slice_ns == 0) != (o.change.period_ns == 0) ||
				  o.change.slice_ns > o.change.period_ns || o.kernel)) {
		fprintf(stderr, "udp_blast: --change-at needs --new-slice <= --new-period, and "
				"Sluice\n");
		return 2;
	}
	if (o.change_at_ns && !o.change.slice_ns)
		o.change.extra = true; /* best effort: slack is all it has */
	if (!o.flow_set)
		o.flow = o.local_port ? o.local_port : (uint32_t)getpid();
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = ex_now_ns();
	rc = o.kernel ? blast_kernel(&o, &t) : blast_sluice(&o, &t);
	secs = (double)(ex_now_ns() - t0) / 1e9;
	printf("flow %u sent %" PRIu64 " datagrams %" PRIu64 " bytes in %.3f s: %.3f Mbit/s wire\n",
	    o.flow, t.dgrams, t.bytes, secs, secs > 0 ? (double)t.wire * 8 / secs / 1e6 : 0.0);
	return rc;
bad:
	usage(stderr);
	return 2;
}
