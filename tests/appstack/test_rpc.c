/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow manager RPC of appstack against a fake flow manager on a UNIX
 * socket: Hello and OpenFlow (the fake takes the application's channels
 * and plays the driver on them), FibChanged changes the next-hop MAC of the
 * next frame, the connection's end leaves the flows running, reconnection
 * sends Hello and Reattach for each live flow (one answered with a new FIB,
 * one refused), and FlowRevoked makes the flow's calls fail; SetQos and
 * GetCounters, answered well, refused, and with replies that make no sense.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "proto/flowmgr.pb-c.h"
#include "proto/rpc.h"
#include "proto/rpc_chan.h"
#include "tests/appstack/as_test.h"

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0xa};
static const uint8_t mac_b[6] = {2, 0, 0, 0, 0, 0xb};
static const uint8_t mac_c[6] = {2, 0, 0, 0, 0, 0xc};

/* The fake flow manager. */
struct fake {
	int lfd, conn;
	struct rpc_frame *fr;
	struct rpc_arena arena;
	uint8_t *arena_buf;
	struct t_drv drv[2]; /* the driver's ends of flows 5 and 6 */
	unsigned n_open;
	char err[256]; /* what went wrong in the thread, for the main one */
};

static struct fake fk;
static char sock_path[108];
static uint8_t frame[T_FRAME];

/* Wait up to 2 s for a frame on the connection. */
static int
srv_recv(struct fake *k)
{
	struct pollfd p = {.fd = k->conn, .events = POLLIN};

	rpc_frame_fini(k->fr);
	if (poll(&p, 1, 2000) != 1)
		return -ETIMEDOUT;
	return rpc_recv(k->conn, k->fr);
}

static void
fib_msg(Sluice__Fm__Fib *m, Sluice__Sap *l, Sluice__Sap *r, uint32_t id, uint64_t gen,
    const uint8_t *nh)
{
	if (!nh) { /* a bound flow: no remote, no next hop */
		fib_msg(m, l, r, id, gen, mac_a);
		m->kind = SLUICE__FLOW_KIND__FLOW_KIND_BOUND;
		m->nexthop_mac = (ProtobufCBinaryData){0, NULL};
		m->nexthop_addr = 0;
		m->remote = NULL;
		return;
	}
	sluice__fm__fib__init(m);
	sluice__sap__init(l);
	sluice__sap__init(r);
	m->flow_id = id;
	m->generation = gen;
	m->proto = SLUICE__PROTO__PROTO_UDP;
	m->kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	m->local_mac = (ProtobufCBinaryData){6, (uint8_t *)(uintptr_t)t_lmac};
	m->nexthop_mac = (ProtobufCBinaryData){6, (uint8_t *)(uintptr_t)nh};
	l->addr = T_LADDR;
	l->port = T_LPORT + id;
	r->addr = T_RADDR;
	r->port = T_RPORT;
	m->local = l;
	m->remote = r;
	m->nexthop_addr = T_RADDR;
	m->mtu = 1500;
	m->headroom = 42;
}

/* Answer the request in k->fr with an OpenFlowReply for flow @id. */
static int
reply_fib(struct fake *k, uint32_t id, uint64_t gen, const uint8_t *nh)
{
	Sluice__Fm__OpenFlowReply r;
	Sluice__Fm__Fib m;
	Sluice__Sap l, rs;

	fib_msg(&m, &l, &rs, id, gen, nh);
	sluice__fm__open_flow_reply__init(&r);
	r.fib = &m;
	return rpc_reply(k->conn, &k->fr->hdr, RPC_T_FM_OPEN_FLOW_REPLY, &r.base, NULL, 0);
}

/* Hello on the connection; the first one is accepted here. */
static int
serve_hello(struct fake *k)
{
	struct pollfd p = {.fd = k->lfd, .events = POLLIN};
	Sluice__HelloReply hr;

	if (k->conn < 0 && (poll(&p, 1, 2000) != 1 || (k->conn = rpc_accept(k->lfd)) < 0)) {
		snprintf(k->err, sizeof(k->err), "no connection");
		return -1;
	}

	if (srv_recv(k) < 0 || k->fr->hdr.type != RPC_T_HELLO) {
		snprintf(k->err, sizeof(k->err), "no Hello");
		return -1;
	}
	sluice__hello_reply__init(&hr);
	hr.major = RPC_SCHEMA_MAJOR;
	hr.minor = RPC_SCHEMA_MINOR;
	return rpc_reply(k->conn, &k->fr->hdr, RPC_T_HELLO_REPLY, &hr.base, NULL, 0);
}

/* OpenFlow: check it, take the channels and attach as the driver; a bound
 * flow if @nh is NULL, else a connected one to T_RADDR via @nh. */
static int
serve_open_nh(struct fake *k, uint32_t id, const uint8_t *nh)
{
	Sluice__Fm__OpenFlow *o;
	struct rbuf_chan_cfg rg, tg;
	struct rbuf_chan_fds rf, tf;
	struct t_drv *d = &k->drv[k->n_open];

	if (srv_recv(k) < 0 || k->fr->hdr.type != RPC_T_FM_OPEN_FLOW || k->fr->n_fds != 8) {
		snprintf(k->err, sizeof(k->err), "no OpenFlow with 8 descriptors");
		return -1;
	}
	o = (Sluice__Fm__OpenFlow *)rpc_unpack(NULL, k->fr, &k->arena);
	if (!o || o->proto != SLUICE__PROTO__PROTO_UDP ||
	    o->kind != (nh ? SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED
			   : SLUICE__FLOW_KIND__FLOW_KIND_BOUND) ||
	    o->remote_addr != (nh ? T_RADDR : 0) || o->remote_port != (nh ? T_RPORT : 0) ||
	    rpc_chan_geom(o->rx_chan, RBUF_MODE_RMM, &rg) < 0 ||
	    rpc_chan_geom(o->tx_chan, RBUF_MODE_TMM, &tg) < 0 || rg.max_pieces != 1) {
		snprintf(k->err, sizeof(k->err), "OpenFlow is not what was asked");
		return -1;
	}
	if (rpc_fds_take_chan(k->fr, o->rx_chan->fds, &rf.ctrl, &rf.data, &rf.wait, &rf.kick) < 0 ||
	    rpc_fds_take_chan(k->fr, o->tx_chan->fds, &tf.ctrl, &tf.data, &tf.wait, &tf.kick) < 0) {
		snprintf(k->err, sizeof(k->err), "channel descriptors");
		return -1;
	}
	d->rx = rbuf_chan_attach(&rg, RBUF_SIDE_SENDER, &rf);
	d->tx = rbuf_chan_attach(&tg, RBUF_SIDE_RECEIVER, &tf);
	rbuf_chan_fds_close(&rf);
	rbuf_chan_fds_close(&tf);
	if (!d->rx || !d->tx) {
		snprintf(k->err, sizeof(k->err), "attach: %s", rbuf_errmsg());
		return -1;
	}
	k->n_open++;
	return reply_fib(k, id, 1, nh);
}

static int
serve_open(struct fake *k, uint32_t id)
{
	return serve_open_nh(k, id, mac_a);
}

/* The CloseFlow that ends a test: answered Ok. */
static void
serve_close(struct fake *k)
{
	Sluice__Ok ok;

	if (srv_recv(k) < 0 || k->fr->hdr.type != RPC_T_FM_CLOSE_FLOW) {
		snprintf(k->err, sizeof(k->err), "no CloseFlow after the last step");
		return;
	}
	sluice__ok__init(&ok);
	rpc_reply(k->conn, &k->fr->hdr, RPC_T_OK, &ok.base, NULL, 0);
}

static void *
server(void *arg)
{
	struct fake *k = arg;

	if (serve_hello(k) < 0 || serve_open(k, 5) < 0 || serve_open(k, 6) < 0)
		return NULL;
	return NULL;
}

/* Poll the context until @cond or a second passes. */
#define POLL_UNTIL(ctx, cond)                                  \
	do {                                                   \
		for (int i_ = 0; i_ < 1000 && !(cond); i_++) { \
			as_ctx_poll(ctx);                      \
			if (!(cond))                           \
				usleep(1000);                  \
		}                                              \
	} while (0)

/* Send one datagram on @f and return the next-hop MAC the driver saw. */
static const uint8_t *
send_one(struct as_flow *f, struct t_drv *d)
{
	struct rbuf_iorec r;

	assert_int_equal(as_send(f, "ping", 4, 0), 4);
	assert_int_equal(t_take(d, &r, frame, sizeof(frame)), 46);
	t_give_back(d, &r, 0);
	return frame;
}

static int
setup(void **state)
{
	char dir[] = "/tmp/as-rpc-XXXXXX";
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(sock_path, sizeof(sock_path), "%s/fm.sock", dir);
	memset(&fk, 0, sizeof(fk));
	fk.conn = -1;
	fk.fr = malloc(sizeof(*fk.fr));
	fk.arena_buf = malloc(RPC_ARENA_SIZE);
	assert_non_null(fk.fr);
	assert_non_null(fk.arena_buf);
	rpc_frame_init(fk.fr);
	rpc_arena_init(&fk.arena, fk.arena_buf, RPC_ARENA_SIZE);
	fk.lfd = rpc_listen(sock_path, 0600);
	assert_true(fk.lfd >= 0);
	return 0;
}

static int
teardown(void **state)
{
	char *slash;
	(void)state;

	rpc_frame_fini(fk.fr);
	free(fk.fr);
	free(fk.arena_buf);
	if (fk.conn >= 0)
		close(fk.conn);
	close(fk.lfd);
	for (int i = 0; i < 2; i++) {
		rbuf_chan_destroy(fk.drv[i].rx);
		rbuf_chan_destroy(fk.drv[i].tx);
	}
	unlink(sock_path);
	slash = strrchr(sock_path, '/');
	*slash = '\0';
	rmdir(sock_path);
	return 0;
}

static void
test_no_flow_manager(void **state)
{
	struct as_ctx_cfg c = {.socket = "/nonexistent/flowmgr.sock"};
	(void)state;

	assert_null(as_ctx_create(&c));
	assert_int_equal(errno, ENOENT);
	assert_non_null(strstr(as_errmsg(), "/nonexistent/flowmgr.sock"));
}

static void
test_open_fib_changed_restart_reattach_revoked(void **state)
{
	struct as_flow_cfg fc = {.kind = AS_UDP_CONNECTED, .remote = {T_RADDR, T_RPORT}};
	struct as_flow *f5, *f6;
	struct as_flow_info info;
	struct as_ctx *ctx;
	pthread_t th;
	(void)state;

	/* Hello and two OpenFlows, the socket named by the environment. */
	setenv(AS_ENV_SOCKET, sock_path, 1);
	assert_int_equal(pthread_create(&th, NULL, server, &fk), 0);
	ctx = as_ctx_create(NULL);
	if (!ctx)
		fail_msg("create: %s", as_errmsg());
	f5 = as_udp_open(ctx, &fc);
	f6 = as_udp_open(ctx, &fc);
	pthread_join(th, NULL);
	if (fk.err[0])
		fail_msg("fake flow manager: %s", fk.err);
	assert_non_null(f5);
	assert_non_null(f6);
	as_flow_info(f5, &info);
	assert_int_equal(info.flow_id, 5);
	assert_int_equal(info.local.port, T_LPORT + 5);
	assert_true(as_ctx_connected(ctx));
	assert_memory_equal(send_one(f5, &fk.drv[0]), mac_a, 6);

	/* FibChanged: the next frame goes to the new next hop. */
	{
		Sluice__Fm__FibChanged m;
		Sluice__Fm__Fib fib;
		Sluice__Sap l, r;

		fib_msg(&fib, &l, &r, 5, 2, mac_b);
		sluice__fm__fib_changed__init(&m);
		m.fib = &fib;
		assert_int_equal(rpc_send(fk.conn, RPC_T_FM_FIB_CHANGED, 1, &m.base, NULL, 0), 0);
		/* An old FIB arriving late is ignored. */
		fib.generation = 1;
		fib.nexthop_mac.data = (uint8_t *)(uintptr_t)mac_c;
		assert_int_equal(rpc_send(fk.conn, RPC_T_FM_FIB_CHANGED, 2, &m.base, NULL, 0), 0);
	}
	POLL_UNTIL(ctx, (as_flow_info(f5, &info), info.generation == 2));
	assert_int_equal(info.generation, 2);
	assert_int_equal(as_ctx_poll(ctx) >= 0, 1);
	assert_memory_equal(send_one(f5, &fk.drv[0]), mac_b, 6);

	/* The flow manager goes away: flows keep running, opens wait. */
	close(fk.conn);
	fk.conn = -1;
	POLL_UNTIL(ctx, !as_ctx_connected(ctx));
	assert_false(as_ctx_connected(ctx));
	assert_memory_equal(send_one(f5, &fk.drv[0]), mac_b, 6);
	assert_null(as_udp_open(ctx, &fc));
	assert_int_equal(errno, EAGAIN);

	/* It is back: Hello, then Reattach for each live flow. */
	{
		struct pollfd p = {.fd = fk.lfd, .events = POLLIN};
		Sluice__Fm__Reattach *ra;
		uint32_t seen[2] = {0, 0};

		for (int i = 0; i < 1000 && poll(&p, 1, 0) == 0; i++) {
			as_ctx_poll(ctx);
			usleep(1000);
		}
		fk.conn = rpc_accept(fk.lfd);
		assert_true(fk.conn >= 0);
		/* The context sent Hello; answer it (then it sends Reattach). */
		assert_int_equal(serve_hello(&fk), 0);
		for (int n = 0; n < 2; n++) {
			int rc = -1;

			for (int i = 0; i < 1000 && rc < 0; i++) {
				struct pollfd q = {.fd = fk.conn, .events = POLLIN};

				as_ctx_poll(ctx);
				if (poll(&q, 1, 1) == 1)
					rc = srv_recv(&fk);
			}
			assert_int_equal(rc, 0);
			assert_int_equal(fk.fr->hdr.type, RPC_T_FM_REATTACH);
			ra = (Sluice__Fm__Reattach *)rpc_unpack(NULL, fk.fr, &fk.arena);
			assert_non_null(ra);
			seen[n] = ra->flow_id;
			if (ra->flow_id == 5)
				assert_int_equal(reply_fib(&fk, 5, 3, mac_c), 0);
			else
				assert_int_equal(rpc_reply_error(fk.conn, &fk.fr->hdr, ENOENT,
						     "flow %u is not held", ra->flow_id),
				    0);
		}
		assert_int_equal(seen[0] + seen[1], 11);
	}
	POLL_UNTIL(ctx, as_ctx_connected(ctx));
	assert_true(as_ctx_connected(ctx));
	as_flow_info(f5, &info);
	assert_int_equal(info.generation, 3);
	assert_memory_equal(send_one(f5, &fk.drv[0]), mac_c, 6);
	assert_int_equal(as_flow_error(f6), -ENOENT);
	assert_int_equal(as_send(f6, "x", 1, 0), -ECONNRESET);

	/* FlowRevoked: the flow is dead. */
	{
		Sluice__Fm__FlowRevoked m;

		sluice__fm__flow_revoked__init(&m);
		m.flow_id = 5;
		m.errnum = ENETUNREACH;
		m.reason = rpc_str("no route");
		assert_int_equal(rpc_send(fk.conn, RPC_T_FM_FLOW_REVOKED, 3, &m.base, NULL, 0), 0);
	}
	POLL_UNTIL(ctx, as_flow_error(f5) != 0);
	assert_int_equal(as_flow_error(f5), -ENETUNREACH);
	assert_int_equal(as_send(f5, "x", 1, 0), -ECONNRESET);
	assert_int_equal(as_recv(f5, frame, sizeof(frame), -1), -ECONNRESET);
	/* Both dead: closing sends nothing, so nothing waits here. */
	as_ctx_destroy(ctx);
	unsetenv(AS_ENV_SOCKET);
}

/* ---- Resolve ------------------------------------------------------------------ */

#define P(n) (0x0a000010u + (n)) /* peers 10.0.0.16 + n, never heard from */

enum step_do { ANSWER, REFUSE, WRONG_ADDR, LATE };

/* What the fake does with each Resolve, in order. */
static const struct step {
	uint32_t addr;
	enum step_do what;
	const uint8_t *mac;
} steps[] = {
    {P(1), ANSWER, mac_b},
    {P(2), REFUSE, NULL},
    {P(3), WRONG_ADDR, mac_b},
    {P(4), ANSWER, (const uint8_t[6]){1, 0, 0x5e, 0, 0, 1}}, /* multicast */
    {P(5), LATE, mac_c},   /* a non-blocking send: held, sent on the answer */
    {P(6), REFUSE, NULL},  /* a non-blocking send: held, then dropped */
    {P(1), ANSWER, mac_a}, /* after FibChanged: asked again */
    {P(7), ANSWER, mac_b}, /* a burst: P7, P7, P8 */
    {P(8), ANSWER, mac_c},
};
static unsigned steps_done; /* written by the fake before it answers */

static void *
resolver(void *arg)
{
	struct fake *k = arg;

	if (serve_hello(k) < 0 || serve_open_nh(k, 7, NULL) < 0)
		return NULL;
	for (unsigned i = 0; i < ARRAY_SIZE(steps); i++) {
		const struct step *st = &steps[i];
		Sluice__Fm__ResolveReply r;
		Sluice__Fm__Resolve *q;

		if (srv_recv(k) < 0 || k->fr->hdr.type != RPC_T_FM_RESOLVE ||
		    !(q = (Sluice__Fm__Resolve *)rpc_unpack(NULL, k->fr, &k->arena)) ||
		    q->flow_id != 7 || q->addr != st->addr) {
			snprintf(k->err, sizeof(k->err), "step %u: not the Resolve expected", i);
			return NULL;
		}
		__atomic_store_n(&steps_done, i + 1, __ATOMIC_RELEASE);
		if (st->what == REFUSE) {
			rpc_reply_error(k->conn, &k->fr->hdr, EHOSTUNREACH, "no answer to ARP");
		} else {
			if (st->what == LATE)
				usleep(200 * 1000);
			sluice__fm__resolve_reply__init(&r);
			r.addr = st->what == WRONG_ADDR ? st->addr + 1 : st->addr;
			r.nexthop_addr = st->addr;
			r.nexthop_mac = (ProtobufCBinaryData){6, (uint8_t *)(uintptr_t)st->mac};
			rpc_reply(k->conn, &k->fr->hdr, RPC_T_FM_RESOLVE_REPLY, &r.base, NULL, 0);
		}
	}
	serve_close(k);
	return NULL;
}

static uint64_t
stat_of(struct as_flow *f, enum as_stat s)
{
	struct as_flow_stats st;

	as_flow_stats(f, &st);
	return st.c[s];
}

/* Send one datagram to @to; 0 and the frame's destination MAC in @mac, or
 * the send's error. */
static int
sendto_one(struct as_flow *f, uint32_t to, int timeout_ms, uint8_t mac[6])
{
	struct as_sap peer = {to, 9};
	struct rbuf_iorec r;
	int rc = as_sendto(f, "ping", 4, &peer, timeout_ms);

	if (rc < 0)
		return rc;
	assert_int_equal(t_take(&fk.drv[0], &r, frame, sizeof(frame)), 46);
	t_give_back(&fk.drv[0], &r, 0);
	memcpy(mac, frame, 6);
	return 0;
}

static void
test_bound_flow_resolves_peers(void **state)
{
	struct as_flow_cfg fc = {.kind = AS_UDP_BOUND, .local.port = T_LPORT + 7};
	uint8_t mac[6];
	struct as_ctx *ctx;
	struct as_flow *f;
	pthread_t th;
	uint64_t t0;
	(void)state;

	setenv(AS_ENV_SOCKET, sock_path, 1);
	assert_int_equal(pthread_create(&th, NULL, resolver, &fk), 0);
	ctx = as_ctx_create(NULL);
	if (!ctx)
		fail_msg("create: %s", as_errmsg());
	f = as_udp_open(ctx, &fc);
	if (!f)
		fail_msg("open: %s (fake: %s)", as_errmsg(), fk.err);

	/* The first datagram to a peer asks; the second does not. */
	assert_int_equal(sendto_one(f, P(1), 1000, mac), 0);
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(sendto_one(f, P(1), 0, mac), 0);
	assert_memory_equal(mac, mac_b, 6);
	assert_int_equal(__atomic_load_n(&steps_done, __ATOMIC_ACQUIRE), 1);

	/* Refused, and answers that make no sense: nothing is sent. */
	assert_int_equal(sendto_one(f, P(2), 1000, mac), -EHOSTUNREACH);
	assert_int_equal(sendto_one(f, P(3), 1000, mac), -EPROTO);
	assert_int_equal(sendto_one(f, P(4), 1000, mac), -EPROTO);
	assert_int_equal(rbuf_avail(fk.drv[0].tx), 0);

	/* A non-blocking send does not wait for the answer: the datagram is
	 * held, and a second one to the same peer behind it, and both leave
	 * when the answer (200 ms later) has been read. */
	{
		struct as_sap peer = {P(5), 9};
		struct rbuf_iorec r;

		t0 = as__now_ns();
		assert_int_equal(as_sendto(f, "ping", 4, &peer, 0), 4);
		assert_int_equal(as_sendto(f, "pong", 4, &peer, 1000), 4); /* held too */
		assert_true(as__now_ns() - t0 < 100 * 1000000ull);
		assert_int_equal(rbuf_avail(fk.drv[0].tx), 0);
		POLL_UNTIL(ctx, rbuf_avail(fk.drv[0].tx) == 2);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(t_take(&fk.drv[0], &r, frame, sizeof(frame)), 46);
			assert_memory_equal(frame, mac_c, 6);
			assert_memory_equal(frame + 42, i ? "pong" : "ping", 4);
			t_give_back(&fk.drv[0], &r, 0);
		}
		/* Refused: the held datagram is dropped and counted. */
		peer.addr = P(6);
		assert_int_equal(as_sendto(f, "ping", 4, &peer, 0), 4);
		POLL_UNTIL(ctx, stat_of(f, AS_STAT_DROP_UNRESOLVED) == 1);
		assert_int_equal(stat_of(f, AS_STAT_DROP_UNRESOLVED), 1);
		assert_int_equal(rbuf_avail(fk.drv[0].tx), 0);
	}

	/* FibChanged: resolved peers are forgotten. */
	{
		Sluice__Fm__FibChanged m;
		Sluice__Fm__Fib fib;
		Sluice__Sap l, r;
		struct as_flow_info info;

		fib_msg(&fib, &l, &r, 7, 2, NULL);
		sluice__fm__fib_changed__init(&m);
		m.fib = &fib;
		assert_int_equal(rpc_send(fk.conn, RPC_T_FM_FIB_CHANGED, 4, &m.base, NULL, 0), 0);
		POLL_UNTIL(ctx, (as_flow_info(f, &info), info.generation == 2));
		assert_int_equal(info.generation, 2);
	}
	assert_int_equal(sendto_one(f, P(1), 1000, mac), 0);
	assert_memory_equal(mac, mac_a, 6);

	/* A burst never waits: datagrams to peers being resolved are held,
	 * in order, and leave as the answers come. */
	{
		static char abc[] = "abc";
		const struct as_msg m[3] = {{.buf = abc, .len = 1, .peer = {P(7), 9}},
		    {.buf = abc + 1, .len = 1, .peer = {P(7), 9}},
		    {.buf = abc + 2, .len = 1, .peer = {P(8), 9}}};
		const uint8_t *want[3] = {mac_b, mac_b, mac_c};
		struct rbuf_iorec r;

		assert_int_equal(as_send_burst(f, m, 3), 3);
		POLL_UNTIL(ctx, rbuf_avail(fk.drv[0].tx) == 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(t_take(&fk.drv[0], &r, frame, sizeof(frame)), 43);
			assert_memory_equal(frame, want[i], 6);
			t_give_back(&fk.drv[0], &r, 0);
		}
	}
	assert_int_equal(__atomic_load_n(&steps_done, __ATOMIC_ACQUIRE), ARRAY_SIZE(steps));
	as_flow_close(f);
	pthread_join(th, NULL);
	if (fk.err[0])
		fail_msg("fake flow manager: %s", fk.err);
	as_ctx_destroy(ctx);
	unsetenv(AS_ENV_SOCKET);
}

/* ---- SetQos and GetCounters ------------------------------------------------- */

/* What the fake answers to each request, in order. */
enum qos_step {
	QOS_GRANT,	 /* SetQos: granted as asked */
	QOS_REFUSE,	 /* SetQos: Error ENOSPC */
	QOS_MORE,	 /* SetQos: a "grant" of another slice than asked */
	QOS_EMPTY,	 /* SetQos: a reply without the guarantee */
	CTR_GOOD,	 /* GetCounters: this flow's counters */
	CTR_OTHER_FLOW,	 /* GetCounters: another flow's */
	CTR_TWO,	 /* GetCounters: two flows */
	CTR_WRONG_REPLY, /* GetCounters: answered with a SetQosReply */
};

static const enum qos_step qos_steps[] = {
    QOS_GRANT, QOS_REFUSE, QOS_MORE, QOS_EMPTY, CTR_GOOD, CTR_OTHER_FLOW, CTR_TWO, CTR_WRONG_REPLY};

static void
reply_qos(struct fake *k, const Sluice__Qos *asked, enum qos_step st)
{
	Sluice__Fm__SetQosReply r;
	Sluice__Qos g = *asked;

	if (st == QOS_REFUSE) {
		rpc_reply_error(k->conn, &k->fr->hdr, ENOSPC, "does not fit");
		return;
	}
	sluice__fm__set_qos_reply__init(&r);
	if (st == QOS_MORE)
		g.slice_ns *= 2;
	r.granted = st == QOS_EMPTY ? NULL : &g;
	rpc_reply(k->conn, &k->fr->hdr, RPC_T_FM_SET_QOS_REPLY, &r.base, NULL, 0);
}

static void
reply_counters(struct fake *k, uint32_t id, enum qos_step st)
{
	Sluice__Fm__CountersReply r;
	Sluice__FlowCounters fc[2], *pfc[2] = {&fc[0], &fc[1]};
	Sluice__Counter c[2], *pc[2] = {&c[0], &c[1]};
	static char no_buf[] = "NO_BUFFER", ring_full[] = "RING_FULL";

	if (st == CTR_WRONG_REPLY) {
		Sluice__Fm__SetQosReply q;

		sluice__fm__set_qos_reply__init(&q);
		rpc_reply(k->conn, &k->fr->hdr, RPC_T_FM_SET_QOS_REPLY, &q.base, NULL, 0);
		return;
	}
	for (int i = 0; i < 2; i++) {
		sluice__flow_counters__init(&fc[i]);
		sluice__counter__init(&c[i]);
	}
	c[0].name = no_buf;
	c[0].value = 7;
	c[1].name = ring_full;
	c[1].value = 2;
	fc[0].flow_id = st == CTR_OTHER_FLOW ? id + 1 : id;
	fc[0].rx_pkts = 100;
	fc[0].rx_drops = pc;
	fc[0].n_rx_drops = 2;
	fc[0].tx_pkts = 50;
	fc[0].tx_refused = 3;
	fc[0].sched_periods = 9;
	fc[1].flow_id = id;
	sluice__fm__counters_reply__init(&r);
	r.flows = pfc;
	r.n_flows = st == CTR_TWO ? 2 : 1;
	rpc_reply(k->conn, &k->fr->hdr, RPC_T_FM_COUNTERS_REPLY, &r.base, NULL, 0);
}

static void *
qos_server(void *arg)
{
	struct fake *k = arg;

	if (serve_hello(k) < 0 || serve_open(k, 5) < 0)
		return NULL;
	for (unsigned i = 0; i < ARRAY_SIZE(qos_steps); i++) {
		ProtobufCMessage *m;

		if (srv_recv(k) < 0 || !(m = rpc_unpack(NULL, k->fr, &k->arena))) {
			snprintf(k->err, sizeof(k->err), "step %u: no request", i);
			return NULL;
		}
		if (qos_steps[i] < CTR_GOOD) {
			Sluice__Fm__SetQos *q = (Sluice__Fm__SetQos *)m;

			if (k->fr->hdr.type != RPC_T_FM_SET_QOS || q->flow_id != 5 || !q->qos) {
				snprintf(
				    k->err, sizeof(k->err), "step %u: not a SetQos of flow 5", i);
				return NULL;
			}
			reply_qos(k, q->qos, qos_steps[i]);
		} else {
			Sluice__Fm__GetCounters *g = (Sluice__Fm__GetCounters *)m;

			if (k->fr->hdr.type != RPC_T_FM_GET_COUNTERS || g->n_flow_ids != 1 ||
			    g->flow_ids[0] != 5) {
				snprintf(
				    k->err, sizeof(k->err), "step %u: not a GetCounters of 5", i);
				return NULL;
			}
			reply_counters(k, 5, qos_steps[i]);
		}
	}
	serve_close(k);
	return NULL;
}

static void
test_set_qos_and_driver_counters(void **state)
{
	struct as_flow_cfg fc = {.kind = AS_UDP_CONNECTED,
	    .remote = {T_RADDR, T_RPORT},
	    .qos = {.period_ns = 10000000, .slice_ns = 1000000}};
	struct as_qos want = {.period_ns = 10000000, .slice_ns = 3000000}, got = {0};
	struct as_qos bad = {.period_ns = 1000000, .slice_ns = 2000000};
	struct as_drv_counters dc;
	struct as_flow_info info;
	struct as_ctx *ctx;
	struct as_flow *f;
	pthread_t th;
	(void)state;

	setenv(AS_ENV_SOCKET, sock_path, 1);
	assert_int_equal(pthread_create(&th, NULL, qos_server, &fk), 0);
	ctx = as_ctx_create(NULL);
	if (!ctx)
		fail_msg("create: %s", as_errmsg());
	f = as_udp_open(ctx, &fc);
	if (!f)
		fail_msg("open: %s (fake: %s)", as_errmsg(), fk.err);

	/* Refused here, without asking: a slice longer than its period. */
	assert_int_equal(as_flow_set_qos(f, &bad, NULL), -EINVAL);
	/* Granted: the flow's info follows. */
	assert_int_equal(as_flow_set_qos(f, &want, &got), 0);
	assert_int_equal(got.slice_ns, 3000000);
	as_flow_info(f, &info);
	assert_int_equal(info.qos.slice_ns, 3000000);
	assert_int_equal(info.qos.period_ns, 10000000);
	/* Refused by the flow manager; then replies that make no sense: the
	 * flow keeps what it was granted. */
	want.slice_ns = 9000000;
	assert_int_equal(as_flow_set_qos(f, &want, NULL), -ENOSPC);
	assert_int_equal(as_flow_set_qos(f, &want, NULL), -EPROTO);
	assert_int_equal(as_flow_set_qos(f, &want, NULL), -EPROTO);
	as_flow_info(f, &info);
	assert_int_equal(info.qos.slice_ns, 3000000);

	/* The driver's counters, by name; then replies about other flows. */
	memset(&dc, 0xff, sizeof(dc));
	assert_int_equal(as_flow_drv_counters(f, &dc), 0);
	assert_int_equal(dc.rx_pkts, 100);
	assert_int_equal(dc.rx_no_buf, 7);
	assert_int_equal(dc.rx_too_big, 0);
	assert_int_equal(dc.rx_ring_full, 2);
	assert_int_equal(dc.tx_pkts, 50);
	assert_int_equal(dc.tx_refused, 3);
	assert_int_equal(dc.sched_periods, 9);
	assert_int_equal(dc.sched_missed, 0);
	assert_int_equal(as_flow_drv_counters(f, &dc), -EPROTO);
	assert_int_equal(as_flow_drv_counters(f, &dc), -EPROTO);
	assert_int_equal(as_flow_drv_counters(f, &dc), -EPROTO);

	/* The connection survived every one of them. */
	assert_int_equal(as_flow_error(f), 0);
	as_flow_close(f);
	pthread_join(th, NULL);
	if (fk.err[0])
		fail_msg("fake flow manager: %s", fk.err);
	as_ctx_destroy(ctx);
	unsetenv(AS_ENV_SOCKET);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_no_flow_manager),
	    cmocka_unit_test_setup_teardown(
		test_open_fib_changed_restart_reattach_revoked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bound_flow_resolves_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_set_qos_and_driver_counters, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
