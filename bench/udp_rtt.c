/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_rtt: the two ends of the UDP round-trip benchmark (bench/udp_rtt.py
 * runs them on netlab). The same program is the Linux side and the Sluice
 * side, so that only the stack differs between the figure and its anchor.
 *
 *   udp_rtt server PORT [--sluice [--socket PATH]]
 *       echo every datagram back to its sender, until SIGTERM
 *   udp_rtt client ADDR PORT [--count N] [--size B] [--warmup N]
 *                  [--sluice [--socket PATH]] [--spin]
 *       send N datagrams one at a time, each after the previous reply,
 *       and print each round trip in nanoseconds, one per line
 *
 * --sluice uses the application stack (a connected flow for the client, a
 * bound one for the server); without it, a Linux UDP socket. --spin waits
 * for a reply by polling instead of sleeping (both stacks): a core for
 * latency, as a DPDK application would. A reply that does not come within
 * a second is a loss, printed as "lost SEQ" on stderr.
 *
 * Exit status: 0; 1 on failure; 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
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

#define MAX_SIZE 1472
#define WAIT_NS	 1000000000ull

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	bool server, sluice, spin;
	uint32_t addr;
	uint16_t port;
	uint64_t count, warmup, size;
	const char *socket;
};

/* One transport: a Linux socket or a Sluice flow. */
struct end {
	int fd;
	struct as_ctx *ctx;
	struct as_flow *f;
};

static int
end_open(struct end *e, const struct opts *o)
{
	memset(e, 0, sizeof(*e));
	e->fd = -1;
	if (o->sluice) {
		struct as_ctx_cfg cc = {.socket = o->socket, .software = "udp_rtt"};
		struct as_flow_cfg fc = {.kind = o->server ? AS_UDP_BOUND : AS_UDP_CONNECTED,
		    .local = {.port = o->server ? o->port : 0},
		    .remote = {.addr = o->server ? 0 : o->addr, .port = o->server ? 0 : o->port}};

		e->ctx = as_ctx_create(&cc);
		if (!e->ctx || !(e->f = as_udp_open(e->ctx, &fc))) {
			fprintf(stderr, "udp_rtt: %s\n", as_errmsg());
			return -1;
		}
		return 0;
	}
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(o->server ? o->port : 0)};
	struct sockaddr_in to = {
	    .sin_family = AF_INET, .sin_port = htons(o->port), .sin_addr.s_addr = htonl(o->addr)};

	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&me, sizeof(me)) < 0 ||
	    (!o->server && connect(e->fd, (struct sockaddr *)&to, sizeof(to)) < 0)) {
		fprintf(stderr, "udp_rtt: socket: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static void
end_close(struct end *e)
{
	if (e->f)
		as_flow_close(e->f);
	if (e->ctx)
		as_ctx_destroy(e->ctx);
	if (e->fd >= 0)
		close(e->fd);
}

/* Receive one datagram within @timeout_ms (0: look once). Returns its
 * length, -EAGAIN, or another -errno. */
static int
end_recv(struct end *e, void *buf, size_t cap, struct as_sap *from, int timeout_ms)
{
	if (e->f)
		return as_recvfrom(e->f, buf, cap, from, timeout_ms);
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	ssize_t n;

	if (timeout_ms != 0) {
		struct pollfd p = {.fd = e->fd, .events = POLLIN};

		if (poll(&p, 1, timeout_ms) == 0)
			return -EAGAIN;
	}
	n = recvfrom(e->fd, buf, cap, MSG_DONTWAIT, (struct sockaddr *)&sa, &sl);
	if (n < 0)
		return -errno;
	from->addr = ntohl(sa.sin_addr.s_addr);
	from->port = ntohs(sa.sin_port);
	return (int)n;
}

static int
end_send(struct end *e, const void *buf, size_t len, const struct as_sap *to)
{
	if (e->f)
		return to ? as_sendto(e->f, buf, len, to, 1000) : as_send(e->f, buf, len, 1000);
	if (!to)
		return send(e->fd, buf, len, 0) < 0 ? -errno : (int)len;
	struct sockaddr_in sa = {
	    .sin_family = AF_INET, .sin_port = htons(to->port), .sin_addr.s_addr = htonl(to->addr)};

	return sendto(e->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno
										  : (int)len;
}

static int
serve(struct end *e)
{
	static uint8_t buf[65536];

	while (!stop) {
		struct as_sap from;
		int n = end_recv(e, buf, sizeof(buf), &from, 200);

		if (n == -EAGAIN || n == -EINTR || n == -ECONNREFUSED)
			continue;
		if (n < 0) {
			fprintf(stderr, "udp_rtt: receive: %s\n", strerror(-n));
			return 1;
		}
		end_send(e, buf, (size_t)n, &from);
	}
	return 0;
}

/* Wait for the reply carrying @seq; older ones (late replies) are skipped. */
static int
await_reply(struct end *e, uint64_t seq, bool spin, uint64_t deadline)
{
	uint8_t buf[MAX_SIZE];

	for (;;) {
		struct as_sap from;
		uint64_t now = ex_now_ns(), got;
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = end_recv(
		    e, buf, sizeof(buf), &from, spin ? 0 : (int)((deadline - now) / 1000000u) + 1);
		if (n == -EAGAIN || n == -EINTR)
			continue;
		if (n < 0)
			return n;
		if (n < 8)
			continue;
		memcpy(&got, buf, 8);
		if (got == seq)
			return 0;
	}
}

static int
client(struct end *e, const struct opts *o)
{
	uint8_t buf[MAX_SIZE] = {0};
	uint64_t *rtt = calloc(o->count ? o->count : 1, sizeof(*rtt));
	uint64_t n = 0;

	if (!rtt)
		return 1;
	for (uint64_t seq = 0; seq < o->warmup + o->count && !stop; seq++) {
		uint64_t t0 = ex_now_ns();
		int rc;

		memcpy(buf, &seq, 8);
		rc = end_send(e, buf, o->size, NULL);
		if (rc < 0) {
			fprintf(stderr, "udp_rtt: send: %s\n", strerror(-rc));
			free(rtt);
			return 1;
		}
		rc = await_reply(e, seq, o->spin, t0 + WAIT_NS);
		if (rc == -ETIMEDOUT) {
			fprintf(stderr, "lost %" PRIu64 "\n", seq);
			continue;
		}
		if (rc < 0) {
			fprintf(stderr, "udp_rtt: receive: %s\n", strerror(-rc));
			free(rtt);
			return 1;
		}
		if (seq >= o->warmup)
			rtt[n++] = ex_now_ns() - t0;
	}
	/* Printed at the end, so that printing never sits inside a round trip. */
	for (uint64_t i = 0; i < n; i++)
		printf("%" PRIu64 "\n", rtt[i]);
	free(rtt);
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"size", required_argument, NULL, 's'},
	    {"warmup", required_argument, NULL, 'w'},
	    {"sluice", no_argument, NULL, 'S'},
	    {"socket", required_argument, NULL, 'k'},
	    {"spin", no_argument, NULL, 'p'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.count = 1000, .size = 64, .warmup = 100};
	struct end e;
	uint64_t v;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (ex_parse_u64(optarg, 1, 10000000, &o.count) < 0)
				goto bad;
			break;
		case 's':
			if (ex_parse_u64(optarg, 8, MAX_SIZE, &o.size) < 0)
				goto bad;
			break;
		case 'w':
			if (ex_parse_u64(optarg, 0, 1000000, &o.warmup) < 0)
				goto bad;
			break;
		case 'S':
			o.sluice = true;
			break;
		case 'k':
			o.socket = optarg;
			break;
		case 'p':
			o.spin = true;
			break;
		default:
			goto bad;
		}
	}
	if (argc - optind == 2 && strcmp(argv[optind], "server") == 0) {
		o.server = true;
		if (ex_parse_u64(argv[optind + 1], 1, 65535, &v) < 0)
			goto bad;
	} else if (argc - optind == 3 && strcmp(argv[optind], "client") == 0) {
		if (ex_parse_ip(argv[optind + 1], &o.addr) < 0 ||
		    ex_parse_u64(argv[optind + 2], 1, 65535, &v) < 0)
			goto bad;
	} else {
		goto bad;
	}
	o.port = (uint16_t)v;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (end_open(&e, &o) < 0) {
		end_close(&e);
		return 1;
	}
	rc = o.server ? serve(&e) : client(&e, &o);
	end_close(&e);
	return rc;
bad:
	fprintf(stderr, "usage: udp_rtt server PORT [--sluice [--socket PATH]]\n"
			"       udp_rtt client ADDR PORT [--count N] [--size B] [--warmup N]\n"
			"                      [--sluice [--socket PATH]] [--spin]\n");
	return 2;
}
