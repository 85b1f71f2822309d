/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_hostile: an application that attacks the flow manager over its RPC
 * socket, for test_fm_netlab. Every request a malicious or broken
 * application can make must get an Error with the right errno, or a closed
 * connection, and leave the flow manager serving everyone else:
 *
 *   frames    garbage before Hello; a reply sent as a request; a payload
 *             that does not decode; a datagram above the frame limit;
 *   protocol  a request before Hello; the driver's and the administrators'
 *             requests on the applications' socket;
 *   fields    protocol, kind, ports, a remote for a bound flow or none for a
 *             connected one, a local address that is not ours, a slice
 *             longer than its period, a listener that is not one;
 *   memory    no descriptors, indices out of range or named twice, pipes
 *             and unsealed memfds where sealed memfds belong, sealed memfds
 *             too small for the geometry they claim (the driver refuses:
 *             the port must be free again);
 *   others    closing, re-tuning, reading and taking back (Reattach) a flow
 *             that another connection holds.
 * Then it opens a good flow on the port every refused request asked for,
 * which proves that no refusal left the port held.
 *
 *   fm_hostile SOCKET PORT PEER
 *
 * PORT is the UDP port the requests ask for, PEER an address on the flow
 * manager's link (a connected flow to it has a route).
 *
 * Prints "ok CASE" or "FAIL CASE: why" per case; exits 0 if all passed.
 * The test compares the flow manager's open descriptors before and after:
 * every descriptor a refused request carried must have been closed.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/admin.pb-c.h"
#include "proto/driver.pb-c.h"
#include "proto/flowmgr.pb-c.h"
#include "proto/rpc.h"
#include "proto/rpc_chan.h"
#include "rbuf/rbuf.h"

#define N_RECS 64
#define BUF    2048

static const char *sock_path;
static uint32_t port;
static uint32_t peer; /* host order, as in the messages */
static int failures;
static struct rpc_frame *reply;

static const struct rbuf_chan_cfg rg = {.mode = RBUF_MODE_RMM,
    .n_recs = N_RECS,
    .max_pieces = 1,
    .align = 8,
    .data_size = (uint64_t)N_RECS * BUF};
static const struct rbuf_chan_cfg tg = {.mode = RBUF_MODE_TMM,
    .n_recs = N_RECS,
    .max_pieces = 3,
    .align = 1,
    .data_size = (uint64_t)N_RECS * BUF};

static void __attribute__((format(printf, 3, 4)))
verdict(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("ok %s\n", name);
	} else {
		failures++;
		printf("FAIL %s: ", name);
		va_start(ap, fmt);
		vprintf(fmt, ap);
		va_end(ap);
		printf("\n");
	}
	fflush(stdout);
}

/* A connection, said Hello on unless @hello is false. Exits if it cannot. */
static int
conn(struct rpc_client *cl, bool hello)
{
	Sluice__Hello h;
	int fd = rpc_connect(sock_path);

	if (fd < 0) {
		printf("FAIL connect: %s\n", strerror(-fd));
		exit(1);
	}
	rpc_client_init(cl, fd, NULL, NULL);
	if (hello) {
		rpc_hello_init(&h, "fm_hostile");
		if (rpc_call(cl, RPC_T_HELLO, &h.base, NULL, 0, reply, 2000) < 0) {
			printf("FAIL hello: %s\n", cl->errmsg);
			exit(1);
		}
		rpc_frame_fini(reply);
	}
	return fd;
}

/* The errno of the Error in @f, 0 if it is no Error, -1 if it does not decode. */
static int
error_of(const struct rpc_frame *f)
{
	static uint8_t buf[64 * 1024];
	struct rpc_arena a;
	Sluice__Error *e;

	if (!(f->hdr.flags & RPC_F_ERROR))
		return 0;
	rpc_arena_init(&a, buf, sizeof(buf));
	e = (Sluice__Error *)rpc_unpack(NULL, f, &a);
	return e ? e->errnum : -1;
}

/*
 * Whether the flow manager closes @fd within 2 s; an Error it sends first
 * is allowed (its errno in *err, else 0).
 */
static bool
closed(int fd, int *err)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	*err = 0;
	while (poll(&p, 1, 2000) == 1) {
		int rc = rpc_recv(fd, reply);

		if (rc == -EPIPE)
			return true;
		if (rc < 0)
			return false;
		*err = error_of(reply);
		rpc_frame_fini(reply);
	}
	return false;
}

/* Send @len raw bytes as one datagram. */
static void
send_raw(int fd, const void *buf, size_t len)
{
	if (send(fd, buf, len, MSG_NOSIGNAL) != (ssize_t)len)
		perror("fm_hostile: send");
}

/* Call and expect an Error of @want (0: any errno); says what came. */
static void
expect_err(const char *name, struct rpc_client *cl, unsigned type, const ProtobufCMessage *m,
    const int *fds, unsigned n_fds, int want)
{
	int rc = rpc_call(cl, type, m, fds, n_fds, reply, 5000);

	rpc_frame_fini(reply);
	verdict(name, rc < 0 && cl->err > 0 && (want == 0 || cl->err == want),
	    "want Error %d, got %d (err %d: %s)", want, rc, cl->err, cl->errmsg);
	cl->err = 0;
	cl->errmsg[0] = '\0';
}

/* A valid request for a bound UDP flow on the test's port, channels at fds 0..7. */
static void
open_msg(Sluice__Fm__OpenFlow *of, Sluice__Chan *c, Sluice__ChanGeom *g, Sluice__ChanFds *f)
{
	sluice__fm__open_flow__init(of);
	of->proto = SLUICE__PROTO__PROTO_UDP;
	of->kind = SLUICE__FLOW_KIND__FLOW_KIND_BOUND;
	of->local_port = port;
	rpc_chan_msg(&c[0], &g[0], &f[0], &rg, 0);
	rpc_chan_msg(&c[1], &g[1], &f[1], &tg, 4);
	of->rx_chan = &c[0];
	of->tx_chan = &c[1];
}

/* Real, sealed channels: their application ends and the eight descriptors to send. */
struct chans {
	struct rbuf_chan *rx, *tx;
	int fds[8];
};

static void
chans_make(struct chans *ch)
{
	struct rbuf_chan_fds rf, tf;

	ch->rx = rbuf_chan_create(&rg, RBUF_SIDE_RECEIVER);
	ch->tx = rbuf_chan_create(&tg, RBUF_SIDE_SENDER);
	if (!ch->rx || !ch->tx || rbuf_chan_peer_fds(ch->rx, &rf) < 0 ||
	    rbuf_chan_peer_fds(ch->tx, &tf) < 0) {
		printf("FAIL channels: %s\n", rbuf_errmsg());
		exit(1);
	}
	ch->fds[0] = rf.ctrl, ch->fds[1] = rf.data, ch->fds[2] = rf.wait, ch->fds[3] = rf.kick;
	ch->fds[4] = tf.ctrl, ch->fds[5] = tf.data, ch->fds[6] = tf.wait, ch->fds[7] = tf.kick;
}

static void
chans_free(struct chans *ch)
{
	rbuf_chan_peer_fds_close(ch->rx);
	rbuf_chan_peer_fds_close(ch->tx);
	rbuf_chan_destroy(ch->rx);
	rbuf_chan_destroy(ch->tx);
}

/* A memfd of @size bytes, sealed (against shrinking and growing, and the seals) or not. */
static int
memfd(size_t size, bool sealed)
{
	int fd = memfd_create("fm_hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0 ||
	    (sealed && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)) {
		perror("fm_hostile: memfd");
		exit(1);
	}
	return fd;
}

static void
cases_frames(void)
{
	static uint8_t big[70 * 1024];
	uint8_t buf[RPC_MAX_MSG];
	struct rpc_client cl;
	Sluice__Fm__OpenFlow of;
	Sluice__HelloReply hr;
	int fd, n, err;

	fd = conn(&cl, false);
	send_raw(fd, "garbage, not a frame; garbage, not a frame", 42);
	verdict("garbage closes the connection", closed(fd, &err), "still open");
	close(fd);

	fd = conn(&cl, true);
	sluice__hello_reply__init(&hr);
	rpc_send(fd, RPC_T_HELLO_REPLY, 7, &hr.base, NULL, 0);
	verdict("a reply sent as a request closes the connection", closed(fd, &err), "still open");
	close(fd);

	fd = conn(&cl, true);
	sluice__fm__open_flow__init(&of);
	n = rpc_frame_pack(buf, sizeof(buf), RPC_T_FM_OPEN_FLOW, 9, &of.base, 0);
	if (n > 0 && (size_t)n + 8 <= sizeof(buf)) {
		struct rpc_hdr h;

		/* A field 1 varint that never ends. */
		memset(buf + n, 0xff, 8);
		buf[n] = 0x08;
		memcpy(&h, buf, sizeof(h));
		h.len += 8;
		memcpy(buf, &h, sizeof(h));
		send_raw(fd, buf, (size_t)n + 8);
	}
	n = rpc_recv(fd, reply);
	err = n == 0 && reply->hdr.id == 9 ? error_of(reply) : n;
	verdict("an undecodable OpenFlow gets EBADMSG", err == EBADMSG, "got %d", err);
	rpc_frame_fini(reply);
	close(fd);

	fd = conn(&cl, true);
	n = rpc_frame_pack(buf, sizeof(buf), RPC_T_FM_OPEN_FLOW, 11, &of.base, 0);
	memcpy(big, buf, (size_t)(n > 0 ? n : 0));
	send_raw(fd, big, sizeof(big));
	verdict("a frame above the limit is refused and the connection closed",
	    closed(fd, &err) && err == EMSGSIZE, "err %d", err);
	close(fd);
}

static void
cases_protocol(void)
{
	struct rpc_client cl;
	Sluice__Fm__OpenFlow of;
	Sluice__Chan c[2];
	Sluice__ChanGeom g[2];
	Sluice__ChanFds f[2];
	Sluice__Drv__DumpFlows dump;
	Sluice__Admin__RouteAdd ra;
	int fd = conn(&cl, false);

	open_msg(&of, c, g, f);
	expect_err("OpenFlow before Hello gets EPROTO", &cl, RPC_T_FM_OPEN_FLOW, &of.base, NULL, 0,
	    EPROTO);
	close(fd);

	fd = conn(&cl, true);
	sluice__drv__dump_flows__init(&dump);
	expect_err("a driver request on the applications' socket gets ENOSYS", &cl,
	    RPC_T_DRV_DUMP_FLOWS, &dump.base, NULL, 0, ENOSYS);
	sluice__admin__route_add__init(&ra);
	expect_err("an administrator's request on the applications' socket gets ENOSYS", &cl,
	    RPC_T_ADM_ROUTE_ADD, &ra.base, NULL, 0, ENOSYS);
	close(fd);
}

static void
cases_fields(void)
{
	struct rpc_client cl;
	Sluice__Fm__OpenFlow of;
	Sluice__Chan c[2];
	Sluice__ChanGeom g[2];
	Sluice__ChanFds f[2];
	Sluice__Qos q;
	struct chans ch;
	int fd = conn(&cl, true);

	chans_make(&ch);
	open_msg(&of, c, g, f);
	of.proto = 99;
	expect_err("protocol 99 gets EPROTONOSUPPORT", &cl, RPC_T_FM_OPEN_FLOW, &of.base, ch.fds, 8,
	    EPROTONOSUPPORT);
	open_msg(&of, c, g, f);
	of.kind = 7;
	expect_err("kind 7 gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW, &of.base, ch.fds, 8, EINVAL);
	open_msg(&of, c, g, f);
	of.local_port = 70000;
	expect_err("port 70000 gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW, &of.base, ch.fds, 8, EINVAL);
	open_msg(&of, c, g, f);
	of.remote_addr = peer;
	of.remote_port = 9;
	expect_err("a bound flow with a remote gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    ch.fds, 8, EINVAL);
	open_msg(&of, c, g, f);
	of.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	expect_err("a connected flow without a remote gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW,
	    &of.base, ch.fds, 8, EINVAL);
	open_msg(&of, c, g, f);
	of.local_addr = 0x01020304;
	expect_err("a local address not ours gets EADDRNOTAVAIL", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    ch.fds, 8, EADDRNOTAVAIL);
	open_msg(&of, c, g, f);
	sluice__qos__init(&q);
	q.period_ns = 1000000;
	q.slice_ns = 2000000;
	of.qos = &q;
	expect_err("a slice longer than its period gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    ch.fds, 8, EINVAL);
	open_msg(&of, c, g, f);
	of.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	of.remote_addr = peer;
	of.remote_port = 9;
	of.listener_flow_id = 12345;
	expect_err("a listener that is not one gets EINVAL", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    ch.fds, 8, EINVAL);
	chans_free(&ch);
	close(fd);
}

static void
cases_memory(void)
{
	struct rpc_client cl;
	Sluice__Fm__OpenFlow of;
	Sluice__Chan c[2];
	Sluice__ChanGeom g[2];
	Sluice__ChanFds f[2];
	struct chans ch;
	int fd = conn(&cl, true), bad[8], p[2];

	chans_make(&ch);
	open_msg(&of, c, g, f);
	expect_err("channels without descriptors get EBADMSG", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    NULL, 0, EBADMSG);
	f[1].kick = 8;
	expect_err("a descriptor index out of range gets EBADMSG", &cl, RPC_T_FM_OPEN_FLOW,
	    &of.base, ch.fds, 8, EBADMSG);
	f[1].kick = 7;
	f[1].ctrl = 0;
	expect_err("a descriptor named twice gets EBADMSG", &cl, RPC_T_FM_OPEN_FLOW, &of.base,
	    ch.fds, 8, EBADMSG);

	/* Pipes and unsealed memfds where sealed memfds belong. */
	open_msg(&of, c, g, f);
	if (pipe(p) < 0) {
		perror("fm_hostile: pipe");
		exit(1);
	}
	memcpy(bad, ch.fds, sizeof(bad));
	bad[0] = p[0];
	bad[1] = p[1];
	expect_err("pipes for a channel's memory get EPERM", &cl, RPC_T_FM_OPEN_FLOW, &of.base, bad,
	    8, EPERM);
	close(p[0]);
	close(p[1]);
	memcpy(bad, ch.fds, sizeof(bad));
	bad[4] = memfd(4096, false);
	bad[5] = memfd(tg.data_size, false);
	expect_err("unsealed memfds get EPERM", &cl, RPC_T_FM_OPEN_FLOW, &of.base, bad, 8, EPERM);
	close(bad[4]);
	close(bad[5]);
	/* Sealed, but smaller than the rings and buffers they claim to hold. */
	bad[4] = memfd(4096, true);
	bad[5] = memfd(4096, true);
	expect_err("sealed memfds too small for their geometry get EINVAL (from the driver)", &cl,
	    RPC_T_FM_OPEN_FLOW, &of.base, bad, 8, EINVAL);
	close(bad[4]);
	close(bad[5]);
	chans_free(&ch);
	close(fd);
}

/* A good flow on the test's port over @cl; its id, or 0. */
static uint32_t
open_good(struct rpc_client *cl, struct chans *ch)
{
	static uint8_t buf[RPC_ARENA_SIZE];
	struct rpc_arena a;
	Sluice__Fm__OpenFlow of;
	Sluice__Chan c[2];
	Sluice__ChanGeom g[2];
	Sluice__ChanFds f[2];
	Sluice__Fm__OpenFlowReply *r;
	uint32_t id = 0;

	chans_make(ch);
	open_msg(&of, c, g, f);
	rpc_arena_init(&a, buf, sizeof(buf));
	if (rpc_call(cl, RPC_T_FM_OPEN_FLOW, &of.base, ch->fds, 8, reply, 5000) == 0) {
		r = (Sluice__Fm__OpenFlowReply *)rpc_unpack(NULL, reply, &a);
		if (r && r->fib && r->fib->local && r->fib->local->port == port)
			id = r->fib->flow_id;
	}
	rpc_frame_fini(reply);
	rbuf_chan_peer_fds_close(ch->rx);
	rbuf_chan_peer_fds_close(ch->tx);
	return id;
}

static void
cases_others(void)
{
	struct rpc_client owner, thief;
	struct chans ch;
	Sluice__Fm__CloseFlow cf;
	Sluice__Fm__SetQos sq;
	Sluice__Fm__GetCounters gc;
	Sluice__Fm__Reattach re;
	Sluice__Qos q;
	int ofd = conn(&owner, true), tfd = conn(&thief, true);
	uint32_t id = open_good(&owner, &ch);

	verdict("after every refusal, the port is free for a good flow", id != 0,
	    "OpenFlow on port %u: %s", port, owner.errmsg);
	if (id != 0) {
		sluice__fm__close_flow__init(&cf);
		cf.flow_id = id;
		expect_err("closing another connection's flow gets ENOENT", &thief,
		    RPC_T_FM_CLOSE_FLOW, &cf.base, NULL, 0, ENOENT);
		sluice__fm__set_qos__init(&sq);
		sluice__qos__init(&q);
		q.period_ns = 100000000;
		q.slice_ns = 1000000;
		sq.flow_id = id;
		sq.qos = &q;
		expect_err("re-tuning another connection's flow gets ENOENT", &thief,
		    RPC_T_FM_SET_QOS, &sq.base, NULL, 0, ENOENT);
		sluice__fm__get_counters__init(&gc);
		gc.n_flow_ids = 1;
		gc.flow_ids = &id;
		expect_err("reading another connection's counters gets ENOENT", &thief,
		    RPC_T_FM_GET_COUNTERS, &gc.base, NULL, 0, ENOENT);
		sluice__fm__reattach__init(&re);
		re.flow_id = id;
		expect_err("taking a live flow of another connection gets ENOENT", &thief,
		    RPC_T_FM_REATTACH, &re.base, NULL, 0, ENOENT);
		/* Still the owner's: it can close it. */
		verdict("the owner still closes its flow",
		    rpc_call(&owner, RPC_T_FM_CLOSE_FLOW, &cf.base, NULL, 0, reply, 5000) == 0,
		    "%s", owner.errmsg);
		rpc_frame_fini(reply);
	}
	rbuf_chan_destroy(ch.rx);
	rbuf_chan_destroy(ch.tx);
	close(tfd);
	close(ofd);
}

int
main(int argc, char **argv)
{
	struct in_addr in;

	if (argc != 4 || inet_pton(AF_INET, argv[3], &in) != 1) {
		fprintf(stderr, "usage: fm_hostile SOCKET PORT PEER\n");
		return 2;
	}
	sock_path = argv[1];
	port = (uint32_t)atoi(argv[2]);
	peer = ntohl(in.s_addr);
	reply = malloc(sizeof(*reply));
	if (!reply)
		return 1;
	rpc_frame_init(reply);
	cases_frames();
	cases_protocol();
	cases_fields();
	cases_memory();
	cases_others();
	free(reply);
	return failures ? 1 : 0;
}
