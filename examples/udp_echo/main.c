/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp_echo: the first application on Sluice's own stack (appstack/as.h).
 *
 *   udp_echo server [--port P] [--socket PATH]
 *       A bound UDP flow on port P (default 7): every datagram goes back to
 *       its sender. Zero copy on both sides, except the one copy from the
 *       receive channel to the transmit channel, which are different memory.
 *       Prints "serving A.B.C.D:P flow ID" once the flow is open; on SIGINT
 *       or SIGTERM prints its counters and exits 0. It posts the stack's
 *       default receive buffers (2 KB): a datagram larger than one arrives
 *       in fragments (the driver cuts what net_af_packet joins) and the
 *       stack reassembles it, up to 16384 bytes (max_dgram).
 *
 *   udp_echo client ADDR PORT [--count N] [--size S] [--sizes A-B|A,B,...]
 *                   [--step K] [--timeout MS] [--bound [--nonblock]]
 *                   [--socket PATH]
 *       A connected flow to ADDR:PORT (--bound: a bound flow on an
 *       ephemeral port that sends to ADDR:PORT, asking the flow manager for
 *       the next hop's MAC first, and takes only replies from there;
 *       --nonblock: its sends do not wait, the stack holds the first
 *       datagram until the flow manager answers): sends
 *       N datagrams (sizes cycling
 *       through A..B in steps of K, or through the list A,B,..., or all of
 *       size S) one at a time and checks that each comes back intact within
 *       MS ms (default 1000). Prints one line of results, and an error line
 *       for each ICMP error the stack reports (e.g. "recv: Connection
 *       refused" when nothing listens there); exits 0 only if every one came
 *       back.
 *
 * The flow manager's socket: --socket, else $SLUICE_FLOWMGR, else
 * /run/sluice/flowmgr.sock. Only the public API is used.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "appstack/as.h"

#define BURST 32

/* Most sizes --sizes A,B,... takes. */
#define MAX_LIST 64

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: udp_echo server [--port P] [--socket PATH]\n"
	    "       udp_echo client ADDR PORT [--count N] [--size S] [--sizes A-B|A,B,...]\n"
	    "                       [--step K] [--timeout MS] [--bound [--nonblock]]\n"
	    "                       [--socket PATH]\n");
	exit(2);
}

static const char *
ip_str(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

static void
print_stats(struct as_flow *f)
{
	struct as_flow_stats st;

	as_flow_stats(f, &st);
	for (unsigned i = 0; i < AS_STAT_MAX; i++)
		if (st.c[i])
			fprintf(stderr, "  %-20s %llu\n", as_stat_name((enum as_stat)i),
			    (unsigned long long)st.c[i]);
}

static int
server(struct as_ctx *ctx, uint16_t port)
{
	struct as_flow_cfg cfg = {.kind = AS_UDP_BOUND, .local.port = port};
	struct as_flow_info info;
	struct as_flow *f;
	unsigned long long echoed = 0;
	char a[16];

	f = as_udp_open(ctx, &cfg);
	if (!f) {
		fprintf(stderr, "udp_echo: open: %s (%s)\n", strerror(errno), as_errmsg());
		return 1;
	}
	as_flow_info(f, &info);
	printf("serving %s:%u flow %u\n", ip_str(info.local.addr, a, sizeof(a)), info.local.port,
	    info.flow_id);
	fflush(stdout);
	while (!stop) {
		struct as_rxbuf in[BURST];
		struct as_txbuf out[BURST];
		unsigned n = as_rx_get_burst(f, in, BURST), k = 0, sent;
		int rc;

		if (n == 0) {
			rc = as_flow_wait(f, AS_EV_RX, 200);
			if (rc < 0 && rc != -EINTR) {
				fprintf(stderr, "udp_echo: %s\n", strerror(-rc));
				break;
			}
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			if (in[i].err)
				continue; /* an ICMP error about an earlier reply */
			/* Waits for a buffer only if every one is on the wire. */
			if (as_tx_alloc(f, &out[k], 1000) < 0)
				break;
			memcpy(out[k].data, in[i].data, in[i].len);
			out[k].len = in[i].len;
			out[k].peer = in[i].peer;
			k++;
		}
		as_rx_put_burst(f, in, n);
		for (unsigned i = 0; i < k; i += sent) {
			sent = as_tx_send_burst(f, out + i, k - i);
			if (sent == 0) {
				/* No room now, or a peer with no known MAC. */
				rc = as_tx_send(f, &out[i], 1000);
				if (rc < 0)
					as_tx_free(f, &out[i]);
				else
					echoed++;
				sent = 1;
			} else {
				echoed += sent;
			}
		}
	}
	fprintf(stderr, "udp_echo server: %llu echoed\n", echoed);
	print_stats(f);
	as_flow_close(f);
	return 0;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
fill(uint8_t *p, uint32_t len, uint32_t seq)
{
	for (uint32_t k = 0; k < len; k++)
		p[k] = (uint8_t)((seq + k) % 251);
	if (len >= 4)
		memcpy(p, &seq, 4); /* so that a late reply is told apart */
}

/* The sizes to send: lo..hi in steps of step, or, if n_list > 0, list[]. */
struct sizes {
	uint32_t lo, hi, step;
	const uint32_t *list;
	unsigned n_list;
};

static int
client(struct as_ctx *ctx, uint32_t addr, uint16_t port, unsigned count, const struct sizes *sz,
    int timeout_ms, bool bound, bool nonblock)
{
	uint32_t lo = sz->lo, hi = sz->hi, step = sz->step;
	struct as_flow_cfg cfg = {.kind = AS_UDP_CONNECTED, .remote = {addr, port}};
	const struct as_sap peer = {addr, port};
	struct as_sap from;
	static uint8_t out[AS_MAX_DGRAM], in[AS_MAX_DGRAM];
	unsigned ok = 0, lost = 0, bad = 0, errs = 0;
	double t0, rtt = 0;
	uint32_t size = lo;
	struct as_flow *f;

	if (hi > AS_MAX_DGRAM)
		hi = AS_MAX_DGRAM;
	cfg.max_dgram = hi > 16384 ? hi : 0;
	if (bound)
		cfg = (struct as_flow_cfg){.kind = AS_UDP_BOUND, .max_dgram = cfg.max_dgram};
	f = as_udp_open(ctx, &cfg);
	if (!f) {
		fprintf(stderr, "udp_echo: open: %s (%s)\n", strerror(errno), as_errmsg());
		return 1;
	}
	t0 = now_s();
	for (unsigned i = 0; i < count && !stop; i++) {
		double t = now_s(), deadline = t + timeout_ms / 1000.0;
		int rc;

		if (sz->n_list)
			size = sz->list[i % sz->n_list];
		fill(out, size, i);
		rc = bound ? as_sendto(f, out, size, &peer, nonblock ? 0 : timeout_ms)
			   : as_send(f, out, size, timeout_ms);
		if (rc < 0) {
			fprintf(stderr, "udp_echo: send %u bytes: %s\n", size, strerror(-rc));
			errs++;
		} else {
			for (;;) {
				int left = (int)((deadline - now_s()) * 1000);

				rc = as_recvfrom(f, in, sizeof(in), &from, left > 0 ? left : 0);
				if (rc >= 0 && bound && (from.addr != addr || from.port != port))
					continue; /* not from the server */
				if (rc == (int)size && memcmp(in, out, size) == 0) {
					ok++;
					rtt += now_s() - t;
					break;
				}
				if (rc == -EAGAIN) {
					lost++;
					break;
				}
				if (rc < 0) {
					fprintf(stderr, "udp_echo: recv: %s\n", strerror(-rc));
					errs++;
					break;
				}
				/* Another reply (a late one): not ours; keep waiting. */
				if (now_s() >= deadline) {
					bad++;
					break;
				}
			}
		}
		size = size + step > hi ? lo : size + step;
		if (as_flow_error(f))
			break;
	}
	printf("sent %u ok %u lost %u mismatch %u errors %u avg_rtt_us %.1f time_s %.2f\n", count,
	    ok, lost, bad, errs, ok ? rtt / ok * 1e6 : 0.0, now_s() - t0);
	fflush(stdout);
	if (ok != count)
		print_stats(f);
	as_flow_close(f);
	return ok == count ? 0 : 1;
}

static uint32_t
num(const char *s, uint32_t max)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v > max)
		usage();
	return (uint32_t)v;
}

int
main(int argc, char **argv)
{
	struct as_ctx_cfg cc = {.software = "udp_echo"};
	uint32_t port = 7, addr = 0, lo = 64, hi = 64, step = 1, count = 0;
	uint32_t list[MAX_LIST];
	struct sizes sz = {.list = list};
	int timeout_ms = 1000, rc;
	bool is_server, bound = false, nonblock = false;
	struct as_ctx *ctx;
	int i = 2;

	if (argc < 2)
		usage();
	is_server = strcmp(argv[1], "server") == 0;
	if (!is_server) {
		struct in_addr in;

		if (strcmp(argv[1], "client") != 0 || argc < 4 ||
		    inet_pton(AF_INET, argv[2], &in) != 1)
			usage();
		addr = ntohl(in.s_addr);
		port = num(argv[3], 65535);
		i = 4;
	}
	for (; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--bound") == 0 && !is_server) {
			bound = true;
			i--; /* a flag: no value follows */
			continue;
		}
		if (strcmp(argv[i], "--nonblock") == 0 && !is_server) {
			nonblock = true;
			i--;
			continue;
		}
		if (!v)
			usage();
		if (strcmp(argv[i], "--port") == 0)
			port = num(v, 65535);
		else if (strcmp(argv[i], "--socket") == 0)
			cc.socket = v;
		else if (strcmp(argv[i], "--count") == 0)
			count = num(v, 100000000);
		else if (strcmp(argv[i], "--size") == 0) {
			lo = hi = num(v, AS_MAX_DGRAM);
			sz.n_list = 0;
		} else if (strcmp(argv[i], "--step") == 0)
			step = num(v, AS_MAX_DGRAM);
		else if (strcmp(argv[i], "--timeout") == 0)
			timeout_ms = (int)num(v, 600000);
		else if (strcmp(argv[i], "--sizes") == 0 && strchr(v, ',')) {
			char a[16];

			lo = AS_MAX_DGRAM;
			hi = 0;
			sz.n_list = 0;
			for (const char *p = v; *p; p += *p == ',') {
				size_t n = strcspn(p, ",");

				if (n == 0 || n >= sizeof(a) || sz.n_list == MAX_LIST)
					usage();
				memcpy(a, p, n);
				a[n] = '\0';
				list[sz.n_list] = num(a, AS_MAX_DGRAM);
				lo = list[sz.n_list] < lo ? list[sz.n_list] : lo;
				hi = list[sz.n_list] > hi ? list[sz.n_list] : hi;
				sz.n_list++;
				p += n;
			}
		} else if (strcmp(argv[i], "--sizes") == 0) {
			char a[16];
			const char *dash = strchr(v, '-');

			if (!dash || (size_t)(dash - v) >= sizeof(a))
				usage();
			memcpy(a, v, (size_t)(dash - v));
			a[dash - v] = '\0';
			lo = num(a, AS_MAX_DGRAM);
			hi = num(dash + 1, AS_MAX_DGRAM);
			sz.n_list = 0;
		} else
			usage();
	}
	if (lo == 0 || lo > hi || step == 0)
		usage();
	if (count == 0)
		count = sz.n_list ? sz.n_list : (hi - lo) / step + 1;
	sz.lo = lo;
	sz.hi = hi;
	sz.step = step;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ctx = as_ctx_create(&cc);
	if (!ctx) {
		fprintf(stderr, "udp_echo: flow manager: %s (%s)\n", strerror(errno), as_errmsg());
		return 1;
	}
	if (is_server)
		rc = server(ctx, (uint16_t)port);
	else
		rc = client(ctx, addr, (uint16_t)port, count, &sz, timeout_ms, bound, nonblock);
	as_ctx_destroy(ctx);
	return rc;
}
