/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_probe: an application in a few lines, for the flow manager's
 * integration tests: it asks for a UDP flow over the flow manager's RPC
 * (its own sealed channels, as an application would make them), prints
 * what it got, and then holds the flow, or echoes datagrams on it.
 *
 *   fm_probe SOCKET PORT hold        open UDP PORT (0: ephemeral), print
 *                                    "flow ID port P", wait for SIGTERM
 *   fm_probe SOCKET PORT echo N      ... and send the first N datagrams back
 *   fm_probe SOCKET PORT qos P S     ... with slice S ns per period P ns
 *   fm_probe SOCKET 0 reattach ID    try to take flow ID back (Reattach) as
 *                                    this process: "reattached ID" (exit 0)
 *                                    or "reattach error ERRNO MESSAGE" (2)
 *   fm_probe SOCKET PORT resolve ADDR...
 *                                    a bound flow; Resolve each ADDR in turn
 *                                    and print "resolve A.B.C.D nexthop
 *                                    N.N.N.N mac M" or "resolve A.B.C.D error
 *                                    ERRNO MESSAGE", then exit 0; an ADDR
 *                                    "id=N" asks for flow N from then on
 *   fm_probe SOCKET PORT connect A.B.C.D RPORT
 *                                    a connected flow to A.B.C.D:RPORT; prints
 *                                    "flow ID port P nexthop A.B.C.D", then holds
 *
 * While it holds, it prints the flow manager's callbacks as they come:
 * "fib ID generation G nexthop A.B.C.D" (FibChanged) and "revoked ID ERRNO
 * REASON" (FlowRevoked, after which it exits with status 3). When the flow
 * manager goes away it prints "flowmgr gone", keeps its flow running, and
 * tries every 100 ms to connect again and take the flow back (Reattach):
 * "reattached ID" or "reattach error ERRNO MESSAGE" (then it gives up).
 *
 * Exit status: 0, or 2 with "error ERRNO MESSAGE" on stdout when the flow
 * manager refused (so scripts can check the reason), 1 on other failures.
 * The appstack library (issue 6) is the real client; this is deliberately
 * bare so that it tests the flow manager, not a stack.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"
#include "proto/flowmgr.pb-c.h"
#include "proto/rpc.h"
#include "proto/rpc_chan.h"
#include "rbuf/rbuf.h"

#define N_RECS 64
#define BUF    2048

static volatile int stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
print_ip(const char *what, uint32_t a)
{
	printf(" %s %u.%u.%u.%u", what, a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
}

/* The flow manager's callbacks, printed; returns 1 once the flow is
 * revoked, 2 when the flow manager has gone. */
static int
callbacks(int fd, struct rpc_frame *f, struct rpc_arena *a)
{
	for (;;) {
		ProtobufCMessage *m;
		int rc;

		rpc_frame_fini(f);
		rc = rpc_recv(fd, f);
		if (rc == -EAGAIN)
			return 0;
		if (rc < 0)
			return 2;
		m = rpc_unpack(NULL, f, a);
		if (m && f->hdr.type == RPC_T_FM_FIB_CHANGED) {
			Sluice__Fm__FibChanged *fc = (Sluice__Fm__FibChanged *)m;

			if (!fc->fib)
				continue;
			printf("fib %u generation %llu", fc->fib->flow_id,
			    (unsigned long long)fc->fib->generation);
			print_ip("nexthop", fc->fib->nexthop_addr);
			printf(" slice %llu\n",
			    (unsigned long long)(fc->fib->qos ? fc->fib->qos->slice_ns : 0));
			fflush(stdout);
		} else if (m && f->hdr.type == RPC_T_FM_FLOW_REVOKED) {
			Sluice__Fm__FlowRevoked *fr = (Sluice__Fm__FlowRevoked *)m;

			printf("revoked %u %d %s\n", fr->flow_id, fr->errnum, fr->reason);
			fflush(stdout);
			return 1;
		}
	}
}

/*
 * Connect to the flow manager again and take flow @id back. Returns the
 * connected socket (non-blocking), -EAGAIN when the flow manager is not
 * there yet, or another -errno when it refused (printed).
 */
static int
reattach(const char *path, uint32_t id, struct rpc_frame *reply)
{
	struct rpc_client cl;
	Sluice__Hello h;
	Sluice__Fm__Reattach m;
	int fd = rpc_connect(path), rc;

	if (fd < 0)
		return -EAGAIN;
	rpc_client_init(&cl, fd, NULL, NULL);
	rpc_hello_init(&h, "fm_probe");
	rc = rpc_call(&cl, RPC_T_HELLO, &h.base, NULL, 0, reply, 2000);
	rpc_frame_fini(reply);
	if (rc < 0) {
		close(fd);
		return -EAGAIN;
	}
	sluice__fm__reattach__init(&m);
	m.flow_id = id;
	rc = rpc_call(&cl, RPC_T_FM_REATTACH, &m.base, NULL, 0, reply, 2000);
	rpc_frame_fini(reply);
	if (rc < 0) {
		printf("reattach error %d %s\n", cl.err ? cl.err : -rc,
		    cl.err ? cl.errmsg : strerror(-rc));
		fflush(stdout);
		close(fd);
		return rc == -EAGAIN ? -EIO : rc;
	}
	printf("reattached %u\n", id);
	fflush(stdout);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Send the datagram in @in back where it came from, through @tx. */
static int
echo(struct rbuf_chan *tx, uint32_t *next, const uint8_t *in, uint32_t len)
{
	uint8_t *out = rbuf_data(tx) + (*next % N_RECS) * BUF;
	struct eth_hdr *e = (struct eth_hdr *)out;
	struct ip4_hdr *ip = (struct ip4_hdr *)(out + ETH_HDR_LEN);
	struct udp_hdr *u;
	struct rbuf_iorec r = {.n_pieces = 1};
	struct eth_addr m;
	uint32_t a;
	uint16_t p;

	if (len < ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN || len > BUF)
		return -1;
	memcpy(out, in, len);
	if ((ip->ver_ihl & 0x0f) != 5)
		return -1; /* keep the probe simple: no options */
	u = (struct udp_hdr *)(ip + 1);
	m = e->dst;
	e->dst = e->src;
	e->src = m;
	a = ip->src;
	ip->src = ip->dst;
	ip->dst = a;
	ip->ttl = 64;
	ip->csum = wire_ip4_csum(ip);
	p = u->src_port;
	u->src_port = u->dst_port;
	u->dst_port = p;
	u->csum = 0; /* optional over IPv4 */
	r.piece[0].off = (*next % N_RECS) * BUF;
	r.piece[0].len = len;
	(*next)++;
	return rbuf_put_burst(tx, &r, 1) == 1 ? 0 : -1;
}

static void
resolve_all(struct rpc_client *cl, uint32_t id, char **addrs, int n, struct rpc_frame *reply,
    struct rpc_arena *arena)
{
	for (int i = 0; i < n; i++) {
		Sluice__Fm__ResolveReply *r;
		Sluice__Fm__Resolve m;
		struct in_addr in;
		int rc;

		if (strncmp(addrs[i], "id=", 3) == 0) {
			id = (uint32_t)strtoul(addrs[i] + 3, NULL, 10);
			continue;
		}
		if (inet_pton(AF_INET, addrs[i], &in) != 1) {
			printf("resolve %s error %d not an address\n", addrs[i], EINVAL);
			continue;
		}
		sluice__fm__resolve__init(&m);
		m.flow_id = id;
		m.addr = ntohl(in.s_addr);
		cl->err = 0;
		rc = rpc_call(cl, RPC_T_FM_RESOLVE, &m.base, NULL, 0, reply, 5000);
		if (rc < 0) {
			printf("resolve %s error %d %s\n", addrs[i], cl->err ? cl->err : -rc,
			    cl->err ? cl->errmsg : strerror(-rc));
		} else {
			r = (Sluice__Fm__ResolveReply *)rpc_unpack(NULL, reply, arena);
			if (!r || r->nexthop_mac.len != 6) {
				printf("resolve %s error %d bad reply\n", addrs[i], EBADMSG);
			} else {
				const uint8_t *e = r->nexthop_mac.data;

				printf("resolve %s", addrs[i]);
				print_ip("nexthop", r->nexthop_addr);
				printf(" mac %02x:%02x:%02x:%02x:%02x:%02x\n", e[0], e[1], e[2],
				    e[3], e[4], e[5]);
			}
		}
		rpc_frame_fini(reply);
		fflush(stdout);
	}
}

int
main(int argc, char **argv)
{
	struct rbuf_chan_cfg rg = {.mode = RBUF_MODE_RMM,
	    .n_recs = N_RECS,
	    .max_pieces = 1,
	    .align = 8,
	    .data_size = (uint64_t)N_RECS * BUF};
	struct rbuf_chan_cfg tg = {.mode = RBUF_MODE_TMM,
	    .n_recs = N_RECS,
	    .max_pieces = 3,
	    .align = 1,
	    .data_size = (uint64_t)N_RECS * BUF};
	struct rpc_client cl;
	struct rpc_frame *reply = malloc(sizeof(*reply));
	static uint8_t arena_buf[RPC_ARENA_SIZE];
	struct rpc_arena arena;
	struct rbuf_chan *rx, *tx;
	struct rbuf_chan_fds rf, tf;
	Sluice__Hello h;
	Sluice__Fm__OpenFlow of;
	Sluice__Fm__OpenFlowReply *r;
	Sluice__Chan rc_, tc;
	Sluice__ChanGeom rgm, tgm;
	Sluice__ChanFds rfm, tfm;
	Sluice__Qos q;
	int fds[8], fd, rc, w;
	unsigned echoes = 0;
	uint64_t retry_ms = 0;
	uint32_t next = 0, id;

	if (argc < 4 || !reply) {
		fprintf(stderr, "usage: fm_probe SOCKET PORT hold|echo N|qos PERIOD SLICE\n");
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rpc_arena_init(&arena, arena_buf, sizeof(arena_buf));
	rpc_frame_init(reply);
	if (strcmp(argv[3], "reattach") == 0 && argc >= 5) {
		fd = reattach(argv[1], (uint32_t)atoi(argv[4]), reply);
		free(reply);
		if (fd == -EAGAIN)
			printf("error %d connect: no flow manager\n", EAGAIN);
		if (fd < 0)
			return fd == -EAGAIN ? 1 : 2;
		close(fd);
		return 0;
	}
	fd = rpc_connect(argv[1]);
	if (fd < 0) {
		printf("error %d connect: %s\n", -fd, strerror(-fd));
		return 1;
	}
	rpc_client_init(&cl, fd, NULL, NULL);
	rpc_hello_init(&h, "fm_probe");
	if (rpc_call(&cl, RPC_T_HELLO, &h.base, NULL, 0, reply, 2000) < 0) {
		printf("error %d hello: %s\n", cl.err, cl.errmsg);
		return 1;
	}
	rpc_frame_fini(reply);

	rx = rbuf_chan_create(&rg, RBUF_SIDE_RECEIVER);
	tx = rbuf_chan_create(&tg, RBUF_SIDE_SENDER);
	if (!rx || !tx || rbuf_chan_peer_fds(rx, &rf) < 0 || rbuf_chan_peer_fds(tx, &tf) < 0) {
		printf("error %d channels: %s\n", errno, rbuf_errmsg());
		return 1;
	}
	fds[0] = rf.ctrl, fds[1] = rf.data, fds[2] = rf.wait, fds[3] = rf.kick;
	fds[4] = tf.ctrl, fds[5] = tf.data, fds[6] = tf.wait, fds[7] = tf.kick;
	/* Every receive buffer goes to the driver. */
	for (uint32_t i = 0; i < N_RECS; i++) {
		struct rbuf_iorec e = {.n_pieces = 1, .tag = i};

		e.piece[0].off = i * BUF;
		e.piece[0].len = BUF;
		rbuf_put_burst(rx, &e, 1);
	}
	sluice__fm__open_flow__init(&of);
	of.proto = SLUICE__PROTO__PROTO_UDP;
	of.kind = SLUICE__FLOW_KIND__FLOW_KIND_BOUND;
	of.local_port = (uint32_t)atoi(argv[2]);
	if (strcmp(argv[3], "connect") == 0 && argc >= 6) {
		struct in_addr in;

		if (inet_pton(AF_INET, argv[4], &in) != 1) {
			printf("error %d bad address %s\n", EINVAL, argv[4]);
			return 1;
		}
		of.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
		of.remote_addr = ntohl(in.s_addr);
		of.remote_port = (uint32_t)atoi(argv[5]);
	}
	if (strcmp(argv[3], "qos") == 0 && argc >= 6) {
		sluice__qos__init(&q);
		q.period_ns = strtoull(argv[4], NULL, 10);
		q.slice_ns = strtoull(argv[5], NULL, 10);
		of.qos = &q;
	}
	rpc_chan_msg(&rc_, &rgm, &rfm, &rg, 0);
	rpc_chan_msg(&tc, &tgm, &tfm, &tg, 4);
	of.rx_chan = &rc_;
	of.tx_chan = &tc;
	rc = rpc_call(&cl, RPC_T_FM_OPEN_FLOW, &of.base, fds, 8, reply, 5000);
	rbuf_chan_peer_fds_close(rx);
	rbuf_chan_peer_fds_close(tx);
	if (rc < 0) {
		printf("error %d %s\n", cl.err ? cl.err : -rc, cl.err ? cl.errmsg : strerror(-rc));
		fflush(stdout);
		rbuf_chan_destroy(rx);
		rbuf_chan_destroy(tx);
		close(fd);
		rpc_frame_fini(reply);
		free(reply);
		return 2;
	}
	r = (Sluice__Fm__OpenFlowReply *)rpc_unpack(NULL, reply, &arena);
	if (!r || !r->fib || !r->fib->local) {
		printf("error %d bad reply\n", EBADMSG);
		return 1;
	}
	id = r->fib->flow_id;
	printf("flow %u port %u", r->fib->flow_id, r->fib->local->port);
	if (r->fib->nexthop_addr)
		print_ip("nexthop", r->fib->nexthop_addr);
	printf("\n");
	fflush(stdout);
	if (strcmp(argv[3], "resolve") == 0) {
		resolve_all(&cl, id, argv + 4, argc - 4, reply, &arena);
		rbuf_chan_destroy(rx);
		rbuf_chan_destroy(tx);
		close(fd);
		free(reply);
		return 0;
	}
	/* From here on the socket only brings callbacks: look without waiting. */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (strcmp(argv[3], "echo") == 0 && argc >= 5)
		echoes = (unsigned)atoi(argv[4]);
	while (!stop) {
		struct rbuf_iorec in[16], back[N_RECS];
		unsigned n;

		if (echoes == 0 && strcmp(argv[3], "echo") == 0)
			break;
		while (rbuf_get_burst(tx, back, N_RECS)) /* sent ones come back */
			;
		n = rbuf_get_burst(rx, in, 16);
		for (unsigned i = 0; i < n; i++) {
			if (echoes && echo(tx, &next, rbuf_piece_ptr(rx, &in[i].piece[0]),
					  in[i].piece[0].len) == 0)
				echoes--;
			in[i].piece[0].off = in[i].tag * BUF;
			in[i].piece[0].len = BUF;
		}
		rbuf_put_burst(rx, in, n);
		w = n ? 0 : rbuf_ec_await(rx, 100);
		/* A revoked flow's channel closes too: the reason first. */
		if (fd >= 0) {
			int cb = callbacks(fd, reply, &arena);

			if (cb == 1) {
				rc = 3;
				break;
			}
			if (cb == 2) {
				printf("flowmgr gone\n");
				fflush(stdout);
				close(fd);
				fd = -1;
			}
		} else if (mono_ms() >= retry_ms) {
			/* The flow keeps running meanwhile: only the lease is gone. */
			retry_ms = mono_ms() + 100;
			fd = reattach(argv[1], id, reply);
			if (fd < 0 && fd != -EAGAIN) {
				rc = 3;
				break;
			}
		}
		if (w == -EPIPE)
			break;
	}
	/* Let the last echoes leave before the flow goes with the connection. */
	usleep(100000);
	rbuf_chan_destroy(rx);
	rbuf_chan_destroy(tx);
	if (fd >= 0)
		close(fd);
	rpc_frame_fini(reply);
	free(reply);
	return rc == 3 ? 3 : 0;
}
