/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The context: the application's connection to the flow manager, the
 * client side of proto/flowmgr.proto.
 *
 *   as_ctx_create   connect, Hello (blocking)             state UP
 *   as_udp_open     OpenFlow with 8 descriptors (blocking): the FIB
 *   as_flow_close   CloseFlow (blocking)
 *   as__resolve     Resolve (blocking, bounded by the send's timeout): a
 *                   bound flow's first datagram to a peer it knows no MAC for
 *   as__resolve_start
 *                   Resolve without waiting, for a non-blocking send: the
 *                   answer, read with everything else, releases the
 *                   datagrams held for that peer (api.c)
 *   as_flow_set_qos SetQos (blocking): a new guarantee, admitted or refused
 *   as_flow_drv_counters
 *                   GetCounters (blocking): the driver's counters of a flow
 *   as_ctx_poll     FibChanged, FlowRevoked; and after the connection is
 *                   lost (the flow manager restarted):
 *
 *     UP --EOF--> DOWN --every reconnect_ms: connect--> HELLO --HelloReply-->
 *        REATTACH (one Reattach{flow_id} per live flow, all at once)
 *        --every reply (OpenFlowReply: new FIB; Error: that flow dies)--> UP
 *
 * The flows' channels go to the driver, not through here, so they keep
 * working while the context is DOWN; only opening and closing flows wait
 * (EAGAIN). Nothing here blocks except the calls marked blocking.
 *
 * The requests of the blocking calls are answered in order; a reply that
 * comes too late (after ETIMEDOUT) is recognised by its id and dropped, and
 * a flow that was opened that late is closed at once, so a timeout never
 * leaves a flow behind nor breaks the connection (which is the lease on
 * every other flow).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "appstack/as_priv.h"
#include "proto/flowmgr.pb-c.h"
#include "proto/rpc.h"
#include "proto/rpc_chan.h"

#define CTX_TIMEOUT_MS	  5000
#define CTX_RECONNECT_MS  50
#define CTX_MAX_STALE	  16
#define CTX_POLL_MAX	  64 /* frames handled per as_ctx_poll() */
#define CTX_MAX_RESOLVING 16 /* Resolves in flight without a caller waiting */

enum ctx_state {
	CTX_UP = 0,
	CTX_DOWN,
	CTX_HELLO,
	CTX_REATTACH,
};

struct as_ctx {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char software[64];
	int timeout_ms;
	unsigned reconnect_ms;
	int fd;	   /* the connection; -1 while DOWN */
	int ep;	   /* as_ctx_fd(): fd and timer */
	int timer; /* timerfd: the next reconnection attempt */
	enum ctx_state state;
	uint64_t retry_ns;	       /* DOWN: when to try again */
	uint32_t next_id;	       /* request ids, never 0 */
	uint32_t hello_id;	       /* HELLO: the Hello in flight */
	unsigned n_pending;	       /* REATTACH: replies still awaited */
	uint32_t stale[CTX_MAX_STALE]; /* requests given up on (timed out) */
	unsigned n_stale;
	struct rpc_frame *frame;
	struct rpc_arena arena;
	uint8_t *arena_buf;
	struct as_flow *flows;
	struct {
		uint32_t id; /* the Resolve's request id */
		struct as_flow *f;
		uint32_t addr;
		uint64_t sent_ns;
	} resolving[CTX_MAX_RESOLVING];
	unsigned n_resolving;
};

static uint32_t
next_id(struct as_ctx *c)
{
	uint32_t id = c->next_id++;

	if (c->next_id == 0)
		c->next_id = 1;
	return id;
}

static void
stale_add(struct as_ctx *c, uint32_t id)
{
	if (c->n_stale == CTX_MAX_STALE) /* forget the oldest */
		memmove(c->stale, c->stale + 1, (CTX_MAX_STALE - 1) * sizeof(c->stale[0]));
	else
		c->n_stale++;
	c->stale[c->n_stale - 1] = id;
}

static bool
stale_take(struct as_ctx *c, uint32_t id)
{
	for (unsigned i = 0; i < c->n_stale; i++)
		if (c->stale[i] == id) {
			c->stale[i] = c->stale[--c->n_stale];
			return true;
		}
	return false;
}

static struct as_flow *
flow_by_id(struct as_ctx *c, uint32_t flow_id)
{
	for (struct as_flow *f = c->flows; f; f = f->next)
		if (f->fib.flow_id == flow_id)
			return f;
	return NULL;
}

static void
arm_timer(struct as_ctx *c)
{
	struct itimerspec its = {0};
	uint64_t ns = (uint64_t)c->reconnect_ms * 1000000u;

	c->retry_ns = as__now_ns() + ns;
	its.it_value.tv_sec = (time_t)(ns / 1000000000u);
	its.it_value.tv_nsec = (long)(ns % 1000000000u);
	timerfd_settime(c->timer, 0, &its, NULL);
}

/* The connection is gone or unusable: drop it and try again later. */
static void
lost(struct as_ctx *c)
{
	if (c->fd >= 0) {
		epoll_ctl(c->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
	c->state = CTX_DOWN;
	c->n_pending = 0;
	c->n_stale = 0;
	/* Their answers will never come: what waits for them is dropped. */
	while (c->n_resolving) {
		unsigned i = --c->n_resolving;

		as__park_drop(c->resolving[i].f, c->resolving[i].addr);
	}
	for (struct as_flow *f = c->flows; f; f = f->next)
		f->reattach_id = 0;
	arm_timer(c);
}

static int
send_req(struct as_ctx *c, unsigned type, const ProtobufCMessage *m, uint32_t *id)
{
	int rc;

	*id = next_id(c);
	rc = rpc_send(c->fd, type, *id, m, NULL, 0);
	if (rc < 0) {
		as__seterr("flow manager: %s", rpc_errmsg());
		lost(c);
	}
	return rc;
}

static void
send_close(struct as_ctx *c, uint32_t flow_id)
{
	Sluice__Fm__CloseFlow m;
	uint32_t id;

	sluice__fm__close_flow__init(&m);
	m.flow_id = flow_id;
	if (send_req(c, RPC_T_FM_CLOSE_FLOW, &m.base, &id) == 0)
		stale_add(c, id); /* its Ok is of no interest */
}

/* The errno an Error frame carries (negative), its message in as_errmsg(). */
static int
error_of(struct as_ctx *c, const struct rpc_frame *fr)
{
	Sluice__Error *e = (Sluice__Error *)rpc_unpack(&sluice__error__descriptor, fr, &c->arena);

	if (!e || e->errnum <= 0 || e->errnum > 4095) {
		as__seterr("flow manager: an Error reply that makes no sense");
		return -EPROTO;
	}
	as__seterr("flow manager: %s", e->message ? e->message : "");
	return -e->errnum;
}

/* ---- callbacks and asynchronous replies ----------------------------------- */

static void
on_callback(struct as_ctx *c, const struct rpc_frame *fr)
{
	ProtobufCMessage *m = rpc_unpack(NULL, fr, &c->arena);
	struct as__fib fib;
	struct as_flow *f;

	if (!m)
		return;
	if (fr->hdr.type == RPC_T_FM_FIB_CHANGED) {
		Sluice__Fm__FibChanged *fc = (Sluice__Fm__FibChanged *)m;

		if (as__fib_parse(fc->fib, &fib) < 0)
			return;
		f = flow_by_id(c, fib.flow_id);
		/* An older FIB than the one we have arrived late: keep ours. */
		if (f && !f->dead && fib.generation >= f->fib.generation)
			(void)as__flow_bind(f, &fib);
	} else if (fr->hdr.type == RPC_T_FM_FLOW_REVOKED) {
		Sluice__Fm__FlowRevoked *fr_ = (Sluice__Fm__FlowRevoked *)m;

		f = flow_by_id(c, fr_->flow_id);
		if (f)
			as__flow_kill(
			    f, fr_->errnum > 0 && fr_->errnum < 4096 ? -fr_->errnum : -ECONNRESET);
	}
}

static void
reattach_all(struct as_ctx *c)
{
	c->n_pending = 0;
	for (struct as_flow *f = c->flows; f; f = f->next) {
		Sluice__Fm__Reattach m;

		if (f->dead)
			continue;
		sluice__fm__reattach__init(&m);
		m.flow_id = f->fib.flow_id;
		if (send_req(c, RPC_T_FM_REATTACH, &m.base, &f->reattach_id) < 0)
			return; /* lost: everything starts again */
		c->n_pending++;
	}
	c->state = c->n_pending ? CTX_REATTACH : CTX_UP;
}

static void
on_reattached(struct as_ctx *c, struct as_flow *f, const struct rpc_frame *fr)
{
	Sluice__Fm__OpenFlowReply *r;
	struct as__fib fib;

	f->reattach_id = 0;
	if (fr->hdr.type == RPC_T_ERROR) {
		as__flow_kill(f, error_of(c, fr));
	} else {
		r = (Sluice__Fm__OpenFlowReply *)rpc_unpack(
		    &sluice__fm__open_flow_reply__descriptor, fr, &c->arena);
		if (!r || as__fib_parse(r->fib, &fib) < 0 || as__flow_bind(f, &fib) < 0)
			as__flow_kill(f, -EPROTO);
	}
	if (--c->n_pending == 0 && c->state == CTX_REATTACH)
		c->state = CTX_UP;
}

/* Reply @fr decoded, if it is of @type; NULL otherwise or undecodable. */
static void *
reply_as(struct as_ctx *c, const struct rpc_frame *fr, unsigned type,
    const ProtobufCMessageDescriptor *d)
{
	return fr->hdr.type == type ? rpc_unpack(d, fr, &c->arena) : NULL;
}

/* The MAC a ResolveReply for @addr gives, or NULL if it makes no sense. */
static const uint8_t *
resolve_reply_mac(struct as_ctx *c, const struct rpc_frame *fr, uint32_t addr)
{
	Sluice__Fm__ResolveReply *r =
	    reply_as(c, fr, RPC_T_FM_RESOLVE_REPLY, &sluice__fm__resolve_reply__descriptor);

	if (!r || r->addr != addr || r->nexthop_mac.len != 6 || !r->nexthop_mac.data ||
	    (r->nexthop_mac.data[0] & 1) || !memcmp(r->nexthop_mac.data, "\0\0\0\0\0\0", 6)) {
		as__seterr("flow manager: a ResolveReply that makes no sense");
		return NULL;
	}
	return r->nexthop_mac.data;
}

/* The answer to question @i of as__resolve_start(). */
static void
on_resolved(struct as_ctx *c, unsigned i, const struct rpc_frame *fr)
{
	struct as_flow *f = c->resolving[i].f;
	uint32_t addr = c->resolving[i].addr;
	const uint8_t *mac = NULL;

	c->resolving[i] = c->resolving[--c->n_resolving];
	if (fr->hdr.type == RPC_T_ERROR)
		error_of(c, fr); /* for as_errmsg(); the datagrams go */
	else
		mac = resolve_reply_mac(c, fr, addr);
	if (!mac || f->dead) {
		as__park_drop(f, addr);
		return;
	}
	as__peer_resolved(f, addr, mac);
	as__park_flush(f);
}

static void
on_reply(struct as_ctx *c, const struct rpc_frame *fr)
{
	uint32_t id = fr->hdr.id;

	if (stale_take(c, id)) {
		/* A late OpenFlowReply: the caller has gone; close the flow. */
		if (fr->hdr.type == RPC_T_FM_OPEN_FLOW_REPLY) {
			Sluice__Fm__OpenFlowReply *r = (Sluice__Fm__OpenFlowReply *)rpc_unpack(
			    &sluice__fm__open_flow_reply__descriptor, fr, &c->arena);

			if (r && r->fib && r->fib->flow_id)
				send_close(c, r->fib->flow_id);
		}
		return;
	}
	if (c->state == CTX_HELLO && id == c->hello_id) {
		Sluice__HelloReply *h = NULL;

		if (fr->hdr.type == RPC_T_HELLO_REPLY)
			h = (Sluice__HelloReply *)rpc_unpack(
			    &sluice__hello_reply__descriptor, fr, &c->arena);
		if (!h || rpc_hello_check(h->major) < 0) {
			lost(c);
			return;
		}
		reattach_all(c);
		return;
	}
	for (unsigned i = 0; i < c->n_resolving; i++)
		if (c->resolving[i].id == id) {
			on_resolved(c, i, fr);
			return;
		}
	if (c->state == CTX_REATTACH)
		for (struct as_flow *f = c->flows; f; f = f->next)
			if (f->reattach_id && f->reattach_id == id) {
				on_reattached(c, f, fr);
				return;
			}
	/* A reply to nothing we asked: ignored. Dropping the connection for
	 * it would cost every flow its lease. */
}

/* One received frame, not an answer to a blocking call. */
static void
dispatch(struct as_ctx *c, const struct rpc_frame *fr)
{
	switch (rpc_type_kind(fr->hdr.type)) {
	case RPC_K_CALLBACK:
		on_callback(c, fr);
		break;
	case RPC_K_REPLY:
	case RPC_K_ERROR:
		on_reply(c, fr);
		break;
	default:
		break; /* a request or event from the server: not for us */
	}
}

/* rpc_recv() errors after which the connection is still usable. */
static bool
recv_survivable(int rc)
{
	return rc == -ENOMSG || rc == -EMSGSIZE || rc == -ETOOMANYREFS;
}

/* ---- blocking requests ------------------------------------------------------ */

/*
 * Send a request and wait up to @timeout_ms (-1: the context's) for its
 * reply, serving callbacks meanwhile. On 0 the reply is in c->frame
 * (rpc_frame_fini() it). Otherwise: -errnum of an Error reply, -EAGAIN (not
 * UP), -ETIMEDOUT, or what broke the connection.
 */
static int
ctx_call_for(struct as_ctx *c, unsigned type, const ProtobufCMessage *m, const int *fds,
    unsigned n_fds, int timeout_ms)
{
	uint64_t t0 = as__now_ns();
	uint32_t id;
	int rc;

	if (timeout_ms < 0 || timeout_ms > c->timeout_ms)
		timeout_ms = c->timeout_ms;

	if (c->state != CTX_UP) {
		as__seterr("the flow manager is not connected (reconnecting)");
		return -EAGAIN;
	}
	id = next_id(c);
	rc = rpc_send(c->fd, type, id, m, fds, n_fds);
	if (rc < 0) {
		as__seterr("flow manager: %s", rpc_errmsg());
		lost(c);
		return rc;
	}
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int left = as__left_ms(timeout_ms, t0);

		if (left == 0 || (rc = poll(&p, 1, left)) == 0) {
			stale_add(c, id);
			as__seterr("flow manager: no answer in %d ms", timeout_ms);
			return -ETIMEDOUT;
		}
		if (rc < 0 && errno == EINTR)
			continue;
		rc = rpc_recv(c->fd, c->frame);
		if (rc == -EAGAIN || recv_survivable(rc))
			continue;
		if (rc < 0) {
			as__seterr("flow manager: %s", rpc_errmsg());
			lost(c);
			return rc;
		}
		if (rpc_type_kind(c->frame->hdr.type) != RPC_K_CALLBACK && c->frame->hdr.id == id) {
			if (c->frame->hdr.type == RPC_T_ERROR) {
				rc = error_of(c, c->frame);
				rpc_frame_fini(c->frame);
			}
			return rc;
		}
		dispatch(c, c->frame);
		rpc_frame_fini(c->frame);
	}
}

static int
ctx_call(struct as_ctx *c, unsigned type, const ProtobufCMessage *m, const int *fds, unsigned n_fds)
{
	return ctx_call_for(c, type, m, fds, n_fds, -1);
}

int
as__resolve(struct as_flow *f, uint32_t addr, int timeout_ms)
{
	struct as_ctx *c = f->ctx;
	const uint8_t *mac;
	Sluice__Fm__Resolve m;
	int rc;

	if (!c) {
		as__seterr("no MAC known for the peer, and no flow manager to ask");
		return -EHOSTUNREACH;
	}
	sluice__fm__resolve__init(&m);
	m.flow_id = f->fib.flow_id;
	m.addr = addr;
	rc = ctx_call_for(c, RPC_T_FM_RESOLVE, &m.base, NULL, 0, timeout_ms);
	if (rc == -ETIMEDOUT)
		return -EAGAIN; /* still resolving: the next send asks again */
	if (rc < 0)
		return rc;
	mac = resolve_reply_mac(c, c->frame, addr);
	if (!mac)
		rc = -EPROTO;
	else
		as__peer_resolved(f, addr, mac);
	rpc_frame_fini(c->frame);
	return rc;
}

/* Questions the flow manager left unanswered as long as a datagram may be
 * held: given up, with what waits for them, so that their slots free. */
static void
resolving_expire(struct as_ctx *c)
{
	uint64_t now = as__now_ns();

	for (unsigned i = 0; i < c->n_resolving;) {
		if (now - c->resolving[i].sent_ns >= AS_PARK_TMO_MS * 1000000ull) {
			stale_add(c, c->resolving[i].id);
			as__park_drop(c->resolving[i].f, c->resolving[i].addr);
			c->resolving[i] = c->resolving[--c->n_resolving];
		} else {
			i++;
		}
	}
}

int
as__resolve_start(struct as_flow *f, uint32_t addr)
{
	struct as_ctx *c = f->ctx;
	Sluice__Fm__Resolve m;
	uint32_t id;

	if (!c) {
		as__seterr("no MAC known for the peer, and no flow manager to ask");
		return -EHOSTUNREACH;
	}
	resolving_expire(c);
	if (as__resolving(f, addr))
		return 0;
	if (c->state != CTX_UP || c->n_resolving == CTX_MAX_RESOLVING) {
		as__seterr(c->state != CTX_UP ? "the flow manager is not connected (reconnecting)"
					      : "too many peers being resolved");
		return -EAGAIN;
	}
	sluice__fm__resolve__init(&m);
	m.flow_id = f->fib.flow_id;
	m.addr = addr;
	if (send_req(c, RPC_T_FM_RESOLVE, &m.base, &id) < 0)
		return -EAGAIN; /* lost: reconnecting */
	c->resolving[c->n_resolving].id = id;
	c->resolving[c->n_resolving].f = f;
	c->resolving[c->n_resolving].addr = addr;
	c->resolving[c->n_resolving++].sent_ns = as__now_ns();
	return 0;
}

bool
as__resolving(const struct as_flow *f, uint32_t addr)
{
	const struct as_ctx *c = f->ctx;

	for (unsigned i = 0; c && i < c->n_resolving; i++)
		if (c->resolving[i].f == f && c->resolving[i].addr == addr)
			return true;
	return false;
}

void
as__resolve_forget(struct as_flow *f)
{
	struct as_ctx *c = f->ctx;

	for (unsigned i = 0; c && i < c->n_resolving;) {
		if (c->resolving[i].f == f) {
			stale_add(c, c->resolving[i].id); /* its answer is of no use */
			c->resolving[i] = c->resolving[--c->n_resolving];
		} else {
			i++;
		}
	}
}

/* A blocking call about a live flow: -ECONNRESET once it is dead. */
static int
flow_call(struct as_flow *f, unsigned type, const ProtobufCMessage *m)
{
	if (f->dead) {
		as__seterr("the flow is dead");
		return -ECONNRESET;
	}
	if (!f->ctx) {
		as__seterr("no flow manager");
		return -ENOTCONN;
	}
	return ctx_call(f->ctx, type, m, NULL, 0);
}

AS_API int
as_flow_set_qos(struct as_flow *f, const struct as_qos *qos, struct as_qos *granted)
{
	struct as_ctx *c = f->ctx;
	Sluice__Fm__SetQosReply *r;
	Sluice__Fm__SetQos m;
	Sluice__Qos q;
	int rc;

	if (!qos || (qos->slice_ns && (!qos->period_ns || qos->slice_ns > qos->period_ns))) {
		as__seterr("qos: a slice needs a period at least as long");
		return -EINVAL;
	}
	sluice__fm__set_qos__init(&m);
	sluice__qos__init(&q);
	q.period_ns = qos->period_ns;
	q.slice_ns = qos->slice_ns;
	q.extra = qos->extra;
	m.flow_id = f->fib.flow_id;
	m.qos = &q;
	rc = flow_call(f, RPC_T_FM_SET_QOS, &m.base);
	if (rc < 0)
		return rc;
	r = reply_as(c, c->frame, RPC_T_FM_SET_QOS_REPLY, &sluice__fm__set_qos_reply__descriptor);
	/* The flow manager may widen "no slice" to best effort with slack,
	 * never grant more than was asked. */
	if (!r || !r->granted || r->granted->slice_ns != qos->slice_ns ||
	    (r->granted->slice_ns && r->granted->period_ns != qos->period_ns)) {
		as__seterr("flow manager: a SetQosReply that makes no sense");
		rc = -EPROTO;
	} else {
		f->fib.qos.period_ns = r->granted->period_ns;
		f->fib.qos.slice_ns = r->granted->slice_ns;
		f->fib.qos.extra = r->granted->extra;
		if (granted)
			*granted = f->fib.qos;
	}
	rpc_frame_fini(c->frame);
	return rc;
}

/* The value of the counter @name in @v, 0 if absent. */
static uint64_t
counter_of(Sluice__Counter **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && v[i]->name && !strcmp(v[i]->name, name))
			return v[i]->value;
	return 0;
}

AS_API int
as_flow_drv_counters(struct as_flow *f, struct as_drv_counters *out)
{
	struct as_ctx *c = f->ctx;
	Sluice__Fm__CountersReply *r;
	Sluice__Fm__GetCounters m;
	Sluice__FlowCounters *fc;
	uint32_t id = f->fib.flow_id;
	int rc;

	sluice__fm__get_counters__init(&m);
	m.flow_ids = &id;
	m.n_flow_ids = 1;
	rc = flow_call(f, RPC_T_FM_GET_COUNTERS, &m.base);
	if (rc < 0)
		return rc;
	r = reply_as(c, c->frame, RPC_T_FM_COUNTERS_REPLY, &sluice__fm__counters_reply__descriptor);
	if (!r || r->n_flows != 1 || !r->flows[0] || r->flows[0]->flow_id != id) {
		as__seterr("flow manager: a CountersReply that makes no sense");
		rpc_frame_fini(c->frame);
		return -EPROTO;
	}
	fc = r->flows[0];
	memset(out, 0, sizeof(*out));
	out->rx_pkts = fc->rx_pkts;
	out->rx_bytes = fc->rx_bytes;
	out->rx_no_buf = counter_of(fc->rx_drops, fc->n_rx_drops, "NO_BUFFER");
	out->rx_too_big = counter_of(fc->rx_drops, fc->n_rx_drops, "TOO_BIG");
	out->rx_ring_full = counter_of(fc->rx_drops, fc->n_rx_drops, "RING_FULL");
	out->tx_pkts = fc->tx_pkts;
	out->tx_bytes = fc->tx_bytes;
	out->tx_refused = fc->tx_refused;
	out->chan_errors = fc->chan_errors;
	out->sched_wait_ns = fc->sched_wait_ns;
	out->sched_periods = fc->sched_periods;
	out->sched_missed = fc->sched_missed;
	out->sched_slack_ns = fc->sched_slack_ns;
	rpc_frame_fini(c->frame);
	return 0;
}

/* ---- connecting ------------------------------------------------------------- */

/* A non-blocking connect: AF_UNIX connects at once or not at all. */
static int
connect_nb(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int
attach_fd(struct as_ctx *c, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN};

	if (epoll_ctl(c->ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	c->fd = fd;
	return 0;
}

static void
try_reconnect(struct as_ctx *c)
{
	Sluice__Hello h;
	int fd = connect_nb(c->path);

	if (fd < 0 || attach_fd(c, fd) < 0) {
		if (fd >= 0)
			close(fd);
		arm_timer(c);
		return;
	}
	rpc_hello_init(&h, c->software);
	if (send_req(c, RPC_T_HELLO, &h.base, &c->hello_id) < 0)
		return;
	c->state = CTX_HELLO;
}

AS_API int
as_ctx_poll(struct as_ctx *c)
{
	uint64_t exp;
	int n = 0;

	if (read(c->timer, &exp, sizeof(exp)) < 0) {
		/* Not expired yet (EAGAIN): nothing to clear. */
	}
	if (c->state == CTX_DOWN && as__now_ns() >= c->retry_ns)
		try_reconnect(c);
	if (c->n_resolving)
		resolving_expire(c);
	while (c->fd >= 0 && n < CTX_POLL_MAX) {
		int rc = rpc_recv(c->fd, c->frame);

		if (rc == -EAGAIN)
			break;
		if (recv_survivable(rc))
			continue;
		if (rc < 0) {
			lost(c);
			break;
		}
		dispatch(c, c->frame);
		rpc_frame_fini(c->frame);
		n++;
	}
	return n;
}

AS_API int
as_ctx_fd(const struct as_ctx *c)
{
	return c->ep;
}

AS_API bool
as_ctx_connected(const struct as_ctx *c)
{
	return c->state == CTX_UP;
}

AS_API struct as_ctx *
as_ctx_create(const struct as_ctx_cfg *cfg)
{
	static const struct as_ctx_cfg none;
	struct epoll_event ev = {.events = EPOLLIN};
	const char *path;
	struct as_ctx *c;
	Sluice__Hello h;
	Sluice__HelloReply *hr;
	int rc = -ENOMEM;

	if (!cfg)
		cfg = &none;
	path = cfg->socket ? cfg->socket : getenv(AS_ENV_SOCKET);
	if (!path || !*path)
		path = AS_DEFAULT_SOCKET;
	c = calloc(1, sizeof(*c));
	if (!c) {
		as__seterr("out of memory");
		errno = ENOMEM;
		return NULL;
	}
	c->fd = c->ep = c->timer = -1;
	c->next_id = 1;
	c->state = CTX_DOWN;
	if (strlen(path) >= sizeof(c->path)) {
		as__seterr("socket path too long: %s", path);
		rc = -ENAMETOOLONG;
		goto out_destroy;
	}
	memcpy(c->path, path, strlen(path) + 1);
	snprintf(c->software, sizeof(c->software), "%s",
	    cfg->software ? cfg->software : "sluice-appstack");
	c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : CTX_TIMEOUT_MS;
	c->reconnect_ms = cfg->reconnect_ms ? cfg->reconnect_ms : CTX_RECONNECT_MS;
	c->frame = malloc(sizeof(*c->frame));
	c->arena_buf = malloc(RPC_ARENA_SIZE);
	if (!c->frame || !c->arena_buf) {
		as__seterr("out of memory");
		goto out_destroy;
	}
	rpc_frame_init(c->frame);
	rpc_arena_init(&c->arena, c->arena_buf, RPC_ARENA_SIZE);
	c->ep = epoll_create1(EPOLL_CLOEXEC);
	c->timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->ep < 0 || c->timer < 0 || epoll_ctl(c->ep, EPOLL_CTL_ADD, c->timer, &ev) < 0) {
		rc = -errno;
		as__seterr("epoll/timerfd: %s", strerror(errno));
		goto out_destroy;
	}
	rc = rpc_connect(c->path);
	if (rc < 0) {
		as__seterr("connect %s: %s", c->path, strerror(-rc));
		goto out_destroy;
	}
	fcntl(rc, F_SETFL, fcntl(rc, F_GETFL) | O_NONBLOCK);
	if (attach_fd(c, rc) < 0) {
		close(rc);
		rc = -errno;
		goto out_destroy;
	}
	c->state = CTX_UP;
	rpc_hello_init(&h, c->software);
	rc = ctx_call(c, RPC_T_HELLO, &h.base, NULL, 0);
	if (rc < 0)
		goto out_destroy;
	hr =
	    (Sluice__HelloReply *)rpc_unpack(&sluice__hello_reply__descriptor, c->frame, &c->arena);
	rpc_frame_fini(c->frame);
	if (!hr) {
		as__seterr(
		    "flow manager: Hello answered with %s", rpc_type_name(c->frame->hdr.type));
		rc = -EPROTO;
		goto out_destroy;
	}
	rc = rpc_hello_check(hr->major);
	if (rc < 0) {
		as__seterr(
		    "flow manager speaks schema %u.x, we speak %u.x", hr->major, RPC_SCHEMA_MAJOR);
		goto out_destroy;
	}
	return c;

out_destroy:
	as_ctx_destroy(c);
	errno = -rc;
	return NULL;
}

AS_API void
as_ctx_destroy(struct as_ctx *c)
{
	if (!c)
		return;
	while (c->flows)
		as_flow_close(c->flows);
	if (c->fd >= 0)
		close(c->fd);
	if (c->ep >= 0)
		close(c->ep);
	if (c->timer >= 0)
		close(c->timer);
	if (c->frame)
		rpc_frame_fini(c->frame);
	free(c->frame);
	free(c->arena_buf);
	free(c);
}

/* ---- flows -------------------------------------------------------------------- */

/* The FIB of a new flow must be the flow we asked for. */
static int
fib_fits(const struct as_flow_cfg *cfg, const struct as__fib *fib)
{
	if (fib->kind != cfg->kind || (cfg->local.port && fib->local.port != cfg->local.port) ||
	    (cfg->local.addr && fib->local.addr != cfg->local.addr) ||
	    (cfg->kind == AS_UDP_CONNECTED &&
		(fib->remote.addr != cfg->remote.addr || fib->remote.port != cfg->remote.port))) {
		as__seterr("flow manager: the FIB is not the flow asked for");
		return -EPROTO;
	}
	return 0;
}

AS_API struct as_flow *
as_udp_open(struct as_ctx *c, const struct as_flow_cfg *cfg)
{
	struct rbuf_chan_cfg rg, tg;
	struct rbuf_chan_fds rf, tf;
	Sluice__Fm__OpenFlow of;
	Sluice__Fm__OpenFlowReply *r;
	Sluice__Chan rc_, tc;
	Sluice__ChanGeom rgm, tgm;
	Sluice__ChanFds rfm, tfm;
	Sluice__Qos q;
	struct as__fib fib;
	struct as_flow *f;
	int fds[8], rc;

	if (!c || !cfg) {
		as__seterr("no context or configuration");
		errno = EINVAL;
		return NULL;
	}
	if (c->state != CTX_UP) {
		as__seterr("the flow manager is not connected (reconnecting)");
		errno = EAGAIN;
		return NULL;
	}
	f = as__flow_alloc(cfg);
	if (!f)
		return NULL;
	f->ctx = c;
	rbuf_chan_geometry(f->rx, &rg);
	rbuf_chan_geometry(f->tx, &tg);
	if (rbuf_chan_peer_fds(f->rx, &rf) < 0 || rbuf_chan_peer_fds(f->tx, &tf) < 0) {
		rc = -EBADF;
		goto out_free;
	}
	fds[0] = rf.ctrl, fds[1] = rf.data, fds[2] = rf.wait, fds[3] = rf.kick;
	fds[4] = tf.ctrl, fds[5] = tf.data, fds[6] = tf.wait, fds[7] = tf.kick;
	sluice__fm__open_flow__init(&of);
	of.proto = SLUICE__PROTO__PROTO_UDP;
	of.kind = cfg->kind == AS_UDP_CONNECTED ? SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED
						: SLUICE__FLOW_KIND__FLOW_KIND_BOUND;
	of.local_addr = cfg->local.addr;
	of.local_port = cfg->local.port;
	of.remote_addr = cfg->remote.addr;
	of.remote_port = cfg->remote.port;
	if (cfg->qos.period_ns || cfg->qos.slice_ns || cfg->qos.extra) {
		sluice__qos__init(&q);
		q.period_ns = cfg->qos.period_ns;
		q.slice_ns = cfg->qos.slice_ns;
		q.extra = cfg->qos.extra;
		of.qos = &q;
	}
	rpc_chan_msg(&rc_, &rgm, &rfm, &rg, 0);
	rpc_chan_msg(&tc, &tgm, &tfm, &tg, 4);
	of.rx_chan = &rc_;
	of.tx_chan = &tc;
	of.inorder_frags = cfg->inorder_frags;
	rc = ctx_call(c, RPC_T_FM_OPEN_FLOW, &of.base, fds, 8);
	/* Sent (or not): the peer's ends are the flow manager's now, and ours
	 * must go so that its death shows as a hang-up on our wait fds. */
	rbuf_chan_peer_fds_close(f->rx);
	rbuf_chan_peer_fds_close(f->tx);
	if (rc < 0)
		goto out_free;
	r = (Sluice__Fm__OpenFlowReply *)rpc_unpack(
	    &sluice__fm__open_flow_reply__descriptor, c->frame, &c->arena);
	rpc_frame_fini(c->frame);
	rc = -EPROTO;
	if (!r) {
		as__seterr(
		    "flow manager: OpenFlow answered with %s", rpc_type_name(c->frame->hdr.type));
		goto out_free;
	}
	if (as__fib_parse(r->fib, &fib) < 0 || fib_fits(&f->cfg, &fib) < 0 ||
	    as__flow_bind(f, &fib) < 0) {
		if (r->fib && r->fib->flow_id && c->state == CTX_UP)
			send_close(c, r->fib->flow_id);
		goto out_free;
	}
	f->next = c->flows;
	c->flows = f;
	return f;

out_free:
	as__flow_free(f);
	errno = -rc;
	return NULL;
}

AS_API void
as_flow_close(struct as_flow *f)
{
	struct as_ctx *c;

	if (!f)
		return;
	c = f->ctx;
	if (c) {
		for (struct as_flow **pp = &c->flows; *pp; pp = &(*pp)->next)
			if (*pp == f) {
				*pp = f->next;
				break;
			}
		as__resolve_forget(f);
		if (f->reattach_id) {
			stale_add(c, f->reattach_id);
			if (--c->n_pending == 0 && c->state == CTX_REATTACH)
				c->state = CTX_UP;
		}
		if (!f->dead && c->state == CTX_UP) {
			Sluice__Fm__CloseFlow m;

			sluice__fm__close_flow__init(&m);
			m.flow_id = f->fib.flow_id;
			if (ctx_call(c, RPC_T_FM_CLOSE_FLOW, &m.base, NULL, 0) == 0)
				rpc_frame_fini(c->frame);
		}
	}
	as__flow_free(f);
}
