/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_sink: receive UDP datagrams on one port and count what arrives per
 * flow in bins (200 ms), writing the CSV of DESIGN.md section 9:
 *
 *   t_s,flow,guarantee_mbps,mbps,drops
 *
 * one row per flow per bin: t_s is the end of the bin in seconds since the
 * sink started, flow the sender's label (udp_blast --flow; a datagram
 * without the blast header counts under its sender's port), mbps the wire
 * rate of what arrived (ex_wire_bytes(), the unit guarantees are in),
 * drops the datagrams missing from the flow's sequence in that bin.
 *
 * It can be told to slow down as the paper's overloaded receiver: with
 * --slow EVERY,FOR,WORK it spends WORK of busy time on each datagram during
 * the first FOR of every EVERY (e.g. 4s,2s,50us). On Sluice the driver then
 * finds this flow's receive channel without buffers and drops its packets
 * early, counted against this flow only.
 *
 *   udp_sink [--port P] [--bin DUR] [--duration DUR] [--csv FILE]
 *            [--slow EVERY,FOR,WORK] [--rx-bufs N] [--socket PATH] [--kernel]
 *
 * --kernel receives on a Linux UDP socket instead (the same counting, for
 * the same experiment without Sluice). Stops at --duration or SIGINT/SIGTERM,
 * then prints a line per flow (average wire Mbit/s, datagrams, drops) and,
 * on Sluice, the stack's nonzero counters, on stderr.
 *
 * Exit status: 0; 1 on a failure; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "appstack/as.h"
#include "examples/common/ex.h"

#define BURST	  32
#define MAX_FLOWS 64
#define RECV_MAX  65536

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	uint16_t port;
	uint64_t bin_ns, duration_ns;
	uint64_t slow_every, slow_for, slow_work;
	uint32_t rx_bufs;
	const char *csv, *socket;
	bool kernel;
};

/* One flow as the sink sees it. */
struct flow {
	uint32_t label;
	bool blast; /* its datagrams carry the blast header */
	double guarantee_mbps;
	uint64_t next_seq;
	uint64_t bin_wire, bin_drops;		 /* this bin */
	uint64_t wire, dgrams, drops, reordered; /* the whole run */
};

struct sink {
	const struct opts *o;
	FILE *csv;
	uint64_t t0, bin_end;
	struct flow f[MAX_FLOWS];
	unsigned n;
	uint64_t unknown; /* datagrams from flows beyond MAX_FLOWS */
};

static struct flow *
flow_of(struct sink *s, uint32_t label, bool blast)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->f[i].label == label && s->f[i].blast == blast)
			return &s->f[i];
	if (s->n == MAX_FLOWS)
		return NULL;
	s->f[s->n] = (struct flow){.label = label, .blast = blast};
	return &s->f[s->n++];
}

/* Busy work, as a receiver that cannot keep up would do. */
static void
slow_down(const struct sink *s, uint64_t now)
{
	const struct opts *o = s->o;

	if (!o->slow_every || (now - s->t0) % o->slow_every >= o->slow_for)
		return;
	while (ex_now_ns() < now + o->slow_work)
		;
}

/* Count one datagram of @len payload bytes from @sport. */
static void
count(struct sink *s, const uint8_t *p, uint32_t len, uint16_t sport)
{
	struct ex_hdr h;
	struct flow *f;
	uint64_t seq;
	bool blast = false;

	if (len >= sizeof(h)) {
		memcpy(&h, p, sizeof(h)); /* the bytes are the peer's: copy, then read */
		blast = ntohl(h.magic) == EX_MAGIC;
	}
	f = flow_of(s, blast ? ntohl(h.flow) : sport, blast);
	if (!f) {
		s->unknown++;
		return;
	}
	f->dgrams++;
	f->wire += ex_wire_bytes(len);
	f->bin_wire += ex_wire_bytes(len);
	if (!blast)
		return;
	f->guarantee_mbps = ntohl(h.guarantee_kbps) / 1000.0;
	seq = be64toh(h.seq);
	if (seq >= f->next_seq) {
		f->bin_drops += seq - f->next_seq;
		f->drops += seq - f->next_seq;
		f->next_seq = seq + 1;
	} else {
		f->reordered++; /* late or repeated: not a loss after all */
	}
}

/* Write every bin that ended by @now, one row per flow. */
static void
bins(struct sink *s, uint64_t now)
{
	while (now >= s->bin_end) {
		double t = (double)(s->bin_end - s->t0) / 1e9;

		for (unsigned i = 0; i < s->n; i++) {
			struct flow *f = &s->f[i];

			fprintf(s->csv, "%.3f,%u,%.3f,%.3f,%" PRIu64 "\n", t, f->label,
			    f->guarantee_mbps,
			    (double)f->bin_wire * 8 / ((double)s->o->bin_ns / 1e9) / 1e6,
			    f->bin_drops);
			f->bin_wire = f->bin_drops = 0;
		}
		s->bin_end += s->o->bin_ns;
	}
	fflush(s->csv);
}

static int
sink_kernel(struct sink *s)
{
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(s->o->port)};
	static uint8_t buf[BURST][RECV_MAX];
	struct mmsghdr m[BURST];
	struct iovec iov[BURST];
	struct sockaddr_in from[BURST];
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rcvbuf = 4 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
		fprintf(stderr, "udp_sink: port %u: %s\n", s->o->port, strerror(errno));
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	while (!stop) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		uint64_t now = ex_now_ns();
		int n;

		bins(s, now);
		if (s->o->duration_ns && now - s->t0 >= s->o->duration_ns)
			break;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		for (int i = 0; i < BURST; i++) {
			iov[i] = (struct iovec){.iov_base = buf[i], .iov_len = RECV_MAX};
			m[i].msg_hdr = (struct msghdr){.msg_name = &from[i],
			    .msg_namelen = sizeof(from[i]),
			    .msg_iov = &iov[i],
			    .msg_iovlen = 1};
		}
		n = recvmmsg(fd, m, BURST, MSG_DONTWAIT, NULL);
		for (int i = 0; i < n; i++) {
			now = ex_now_ns();
			slow_down(s, now);
			count(s, buf[i], m[i].msg_len, ntohs(from[i].sin_port));
		}
	}
	close(fd);
	return 0;
}

static int
sink_sluice(struct sink *s)
{
	struct as_ctx_cfg cc = {.socket = s->o->socket, .software = "udp_sink"};
	struct as_flow_cfg fc = {
	    .kind = AS_UDP_BOUND, .local = {.port = s->o->port}, .rx_bufs = s->o->rx_bufs};
	struct as_flow_stats st;
	struct as_ctx *ctx;
	struct as_flow *f;
	uint64_t last_poll = 0;
	int rc = 0;

	ctx = as_ctx_create(&cc);
	if (!ctx) {
		fprintf(stderr, "udp_sink: flow manager: %s\n", as_errmsg());
		return 1;
	}
	f = as_udp_open(ctx, &fc);
	if (!f) {
		fprintf(stderr, "udp_sink: open port %u: %s\n", s->o->port, as_errmsg());
		as_ctx_destroy(ctx);
		return 1;
	}
	while (!stop) {
		struct as_rxbuf b[BURST];
		uint64_t now = ex_now_ns();
		unsigned n;

		bins(s, now);
		if (s->o->duration_ns && now - s->t0 >= s->o->duration_ns)
			break;
		if (now - last_poll > 50000000u) {
			as_ctx_poll(ctx);
			last_poll = now;
		}
		n = as_rx_get_burst(f, b, BURST);
		if (n == 0) {
			rc = as_flow_wait(f, AS_EV_RX, 20);
			if (rc < 0 && rc != -EINTR) {
				fprintf(stderr, "udp_sink: %s\n", strerror(-rc));
				rc = 1;
				break;
			}
			rc = 0;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			slow_down(s, ex_now_ns());
			if (b[i].err == 0)
				count(s, b[i].data, b[i].len, b[i].peer.port);
		}
		as_rx_put_burst(f, b, n);
	}
	as_flow_stats(f, &st);
	for (int i = 0; i < AS_STAT_MAX; i++)
		if (st.c[i])
			fprintf(stderr, "udp_sink: stack %-20s %" PRIu64 "\n",
			    as_stat_name((enum as_stat)i), st.c[i]);
	as_flow_close(f);
	as_ctx_destroy(ctx);
	return rc;
}

static int
parse_slow(const char *arg, struct opts *o)
{
	char buf[96], *a, *b, *c;

	snprintf(buf, sizeof(buf), "%s", arg);
	a = strtok(buf, ",");
	b = strtok(NULL, ",");
	c = strtok(NULL, ",");
	if (!a || !b || !c || ex_parse_dur(a, &o->slow_every) < 0 ||
	    ex_parse_dur(b, &o->slow_for) < 0 || ex_parse_dur(c, &o->slow_work) < 0 ||
	    o->slow_every == 0 || o->slow_for > o->slow_every)
		return -EINVAL;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"port", required_argument, NULL, 'p'},
	    {"bin", required_argument, NULL, 'b'},
	    {"duration", required_argument, NULL, 'd'},
	    {"csv", required_argument, NULL, 'c'},
	    {"slow", required_argument, NULL, 'w'},
	    {"rx-bufs", required_argument, NULL, 'n'},
	    {"socket", required_argument, NULL, 'k'},
	    {"kernel", no_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.port = 9000, .bin_ns = 200000000u};
	static struct sink s;
	uint64_t v, end;
	double secs;
	int c, rc;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (ex_parse_u64(optarg, 1, 65535, &v) < 0)
				goto bad;
			o.port = (uint16_t)v;
			break;
		case 'b':
			if (ex_parse_dur(optarg, &o.bin_ns) < 0 || o.bin_ns < 1000000)
				goto bad;
			break;
		case 'd':
			if (ex_parse_dur(optarg, &o.duration_ns) < 0)
				goto bad;
			break;
		case 'c':
			o.csv = optarg;
			break;
		case 'w':
			if (parse_slow(optarg, &o) < 0)
				goto bad;
			break;
		case 'n':
			if (ex_parse_u64(optarg, 2, 65536, &v) < 0)
				goto bad;
			o.rx_bufs = (uint32_t)v;
			break;
		case 'k':
			o.socket = optarg;
			break;
		case 'K':
			o.kernel = true;
			break;
		case 'h':
			printf(
			    "usage: udp_sink [--port P] [--bin DUR] [--duration DUR] [--csv FILE]\n"
			    "                [--slow EVERY,FOR,WORK] [--rx-bufs N] [--socket PATH] "
			    "[--kernel]\n");
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc)
		goto bad;
	s.o = &o;
	s.csv = o.csv ? fopen(o.csv, "w") : stdout;
	if (!s.csv) {
		fprintf(stderr, "udp_sink: %s: %s\n", o.csv, strerror(errno));
		return 1;
	}
	fprintf(s.csv, "t_s,flow,guarantee_mbps,mbps,drops\n");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	s.t0 = ex_now_ns();
	s.bin_end = s.t0 + o.bin_ns;
	rc = o.kernel ? sink_kernel(&s) : sink_sluice(&s);
	end = ex_now_ns();
	secs = (double)(end - s.t0) / 1e9;
	for (unsigned i = 0; i < s.n; i++)
		fprintf(stderr,
		    "udp_sink: flow %u: %.3f Mbit/s wire, %" PRIu64 " datagrams, %" PRIu64
		    " dropped, %" PRIu64 " late\n",
		    s.f[i].label, secs > 0 ? (double)s.f[i].wire * 8 / secs / 1e6 : 0.0,
		    s.f[i].dgrams, s.f[i].drops, s.f[i].reordered);
	if (s.unknown)
		fprintf(stderr, "udp_sink: %" PRIu64 " datagrams from flows beyond %d\n", s.unknown,
		    MAX_FLOWS);
	if (o.csv)
		fclose(s.csv);
	return rc;
bad:
	fprintf(stderr, "udp_sink: bad arguments (--help)\n");
	return 2;
}
