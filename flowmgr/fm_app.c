/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Applications' requests (proto/flowmgr.proto) on the flow manager's socket.
 *
 * Who is asking comes from SO_PEERCRED, never from a message. Every request
 * before Hello is refused; every field is checked before use; a malformed
 * frame closes the connection. The connection is the lease: when it
 * closes, every flow it opened is removed from the driver and its port
 * freed before the loop turns again.
 *
 * OpenFlow, in order: check the request, choose the local address (the
 * route's source) and port (fm_ports), admit the guarantee, check the
 * application's channel memfds, install the flow in the driver, and reply
 * with the FIB. A connected flow whose next hop's MAC is not yet known is
 * installed at once and answered when ARP resolves it (or refused with
 * EHOSTUNREACH after FM_RESOLVE_MS).
 *
 * Resolve (bound flows): the MAC for a peer's next hop, answered the same
 * way: at once from the ARP cache, or when ARP answers or fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flowmgr/fm_priv.h"
#include "proto/rpc_chan.h"

#define PROTO_UDP   SLUICE__PROTO__PROTO_UDP
#define PROTO_TCP   SLUICE__PROTO__PROTO_TCP
#define KIND_CONN   SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED
#define KIND_BOUND  SLUICE__FLOW_KIND__FLOW_KIND_BOUND
#define KIND_LISTEN SLUICE__FLOW_KIND__FLOW_KIND_LISTENING

static void
read_comm(pid_t pid, char comm[16])
{
	char path[64];
	FILE *fp;

	snprintf(comm, 16, "?");
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return;
	if (fgets(comm, 16, fp))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(fp);
}

void
fm_app_accept(struct fm *fm)
{
	for (;;) {
		struct ucred cred;
		int fd = rpc_accept(fm->lfd), ci;

		if (fd < 0)
			return;
		for (ci = 0; ci < FM_MAX_CONNS && fm->conns[ci].fd >= 0; ci++)
			;
		if (ci == FM_MAX_CONNS || rpc_peer_cred(fd, &cred) < 0) {
			rpc_reply_error(fd, NULL, EMFILE, "too many applications connected");
			close(fd);
			continue;
		}
		memset(&fm->conns[ci], 0, sizeof(fm->conns[ci]));
		fm->conns[ci].fd = fd;
		fm->conns[ci].pid = cred.pid;
		fm->conns[ci].uid = cred.uid;
		fm->conns[ci].session = ++fm->session;
		read_comm(cred.pid, fm->conns[ci].comm);
		fm_epoll_add(fm, fd, (uint32_t)ci);
	}
}

void
fm_app_close(struct fm *fm, int ci)
{
	struct fm_conn *k = &fm->conns[ci];

	if (k->fd < 0)
		return;
	for (uint32_t i = 1; i < FM_MAX_FLOWS && k->n_flows; i++)
		if (fm->flows[i].state != FM_FLOW_FREE && fm->flows[i].conn == ci)
			fm_flow_close(fm, &fm->flows[i], "its application closed the connection");
	for (unsigned i = 0; i < FM_MAX_RESOLVES; i++)
		if (fm->resolves[i].conn == ci)
			fm->resolves[i].conn = -1;
	fm_epoll_del(fm, k->fd);
	close(k->fd);
	k->fd = -1;
}

/* ---- error replies with details -------------------------------------------------- */

static int
reply_clash(struct fm *fm, int fd, const struct rpc_hdr *h, const struct fm_port_info *ci)
{
	const struct fm_flow *holder = fm_flow_get(fm, ci->flow);
	Sluice__Error e;
	Sluice__PortClash pc;
	char msg[FM_MAX_ERRLINE];

	sluice__error__init(&e);
	sluice__port_clash__init(&pc);
	pc.proto = (Sluice__Proto)ci->proto;
	pc.addr = ci->addr;
	pc.port = ci->port;
	pc.flow_id = ci->flow;
	if (holder) {
		pc.holder_pid = (uint32_t)holder->owner_pid;
		pc.holder_uid = (uint32_t)holder->owner_uid;
		pc.holder_comm = rpc_str(holder->owner_comm);
	}
	snprintf(msg, sizeof(msg), "%s port %u is held by flow %u (%s, pid %u, uid %u)",
	    ci->proto == PROTO_TCP ? "TCP" : "UDP", ci->port, ci->flow,
	    holder ? holder->owner_comm : "?", pc.holder_pid, pc.holder_uid);
	e.errnum = EADDRINUSE;
	e.message = msg;
	e.request_type = h->type;
	e.detail_case = SLUICE__ERROR__DETAIL_PORT_CLASH;
	e.port_clash = &pc;
	return rpc_reply(fd, h, RPC_T_ERROR, &e.base, NULL, 0);
}

static int
reply_err(int fd, const struct rpc_hdr *h, struct fm_err *r)
{
	r->e.request_type = h->type;
	return rpc_reply(fd, h, RPC_T_ERROR, &r->e.base, NULL, 0);
}

static int
reply_admission(struct fm *fm, int fd, const struct rpc_hdr *h, uint64_t req_ppb)
{
	struct fm_err r;

	fm_err_admission(fm, &r, req_ppb);
	return reply_err(fd, h, &r);
}

/* ---- channels ---------------------------------------------------------------------- */

/*
 * The application's memory: both memfds sealed against shrinking and
 * growing, the seals sealed. The driver checks the sizes and the layout
 * again when it attaches; this is the flow manager's own look, so that a
 * refusal names the problem before anything is installed.
 */
static int
seals_ok(int fd, const char *what, char *why, size_t n)
{
	const int need = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	int s = fcntl(fd, F_GET_SEALS);

	if (s < 0 || (s & need) != need) {
		snprintf(why, n, "%s is not a memfd sealed against shrinking and growing", what);
		return -EPERM;
	}
	return 0;
}

static int
take_chans(struct fm *fm, struct fm_flow *f, const Sluice__Chan *rx, const Sluice__Chan *tx,
    char *why, size_t n)
{
	int rc;

	f->rx_fds = (struct rbuf_chan_fds){-1, -1, -1, -1};
	f->tx_fds = (struct rbuf_chan_fds){-1, -1, -1, -1};
	if (rpc_chan_geom(rx, RBUF_MODE_RMM, &f->rx_geom) < 0 ||
	    rpc_chan_geom(tx, RBUF_MODE_TMM, &f->tx_geom) < 0) {
		snprintf(why, n, "both channels (rx_chan, tx_chan) are needed");
		return -EINVAL;
	}
	if (f->rx_geom.max_pieces > 1) {
		snprintf(why, n, "the receive channel takes one piece per record");
		return -EINVAL;
	}
	if (rpc_fds_take_chan(fm->frame, rx->fds, &f->rx_fds.ctrl, &f->rx_fds.data, &f->rx_fds.wait,
		&f->rx_fds.kick) < 0 ||
	    rpc_fds_take_chan(fm->frame, tx->fds, &f->tx_fds.ctrl, &f->tx_fds.data, &f->tx_fds.wait,
		&f->tx_fds.kick) < 0) {
		rbuf_chan_fds_close(&f->rx_fds);
		snprintf(why, n, "channel descriptors missing or named twice");
		return -EBADMSG;
	}
	if ((rc = seals_ok(f->rx_fds.ctrl, "rx_chan.ctrl", why, n)) < 0 ||
	    (rc = seals_ok(f->rx_fds.data, "rx_chan.data", why, n)) < 0 ||
	    (rc = seals_ok(f->tx_fds.ctrl, "tx_chan.ctrl", why, n)) < 0 ||
	    (rc = seals_ok(f->tx_fds.data, "tx_chan.data", why, n)) < 0) {
		rbuf_chan_fds_close(&f->rx_fds);
		rbuf_chan_fds_close(&f->tx_fds);
		return rc;
	}
	return 0;
}

/* ---- requests ------------------------------------------------------------------------ */

static bool
may_privileged(const struct fm *fm, uid_t uid)
{
	if (uid == 0)
		return true;
	for (unsigned i = 0; i < fm->cfg.n_priv_uids; i++)
		if (fm->cfg.priv_uids[i] == uid)
			return true;
	return false;
}

static uint32_t
alloc_id(struct fm *fm)
{
	/* Round robin, so that an id just closed (maybe still dying in the
	 * driver) is not handed out again at once. */
	for (uint32_t n = 1; n < FM_MAX_FLOWS; n++) {
		uint32_t id = fm->next_id++;

		if (fm->next_id >= FM_MAX_FLOWS)
			fm->next_id = 1;
		if (id && fm->flows[id].state == FM_FLOW_FREE)
			return id;
	}
	return 0;
}

struct open_req {
	uint8_t proto, kind;
	uint32_t laddr, raddr;
	uint32_t lport, rport;
	const Sluice__Qos *qos;
	const Sluice__Chan *rx, *tx;
	bool inorder;
	uint32_t listener;
};

static int
open_flow(struct fm *fm, int ci, const struct rpc_hdr *h, const struct open_req *o)
{
	struct fm_conn *k = &fm->conns[ci];
	struct fm_flow *f, *lf = NULL;
	struct fm_port_info clash;
	struct fm_nexthop nh = {0};
	uint64_t ppb = 0, period = 0, slice = 0;
	bool extra = true;
	char why[FM_MAX_ERRLINE];
	struct timespec ts;
	uint16_t port;
	uint32_t id;
	int rc;

	if (!fm->drv_up)
		return rpc_reply_error(k->fd, h, EAGAIN, "the driver is not connected; try again");
	if (o->proto != PROTO_UDP && o->proto != PROTO_TCP)
		return rpc_reply_error(k->fd, h, EPROTONOSUPPORT, "proto must be UDP or TCP");
	if (o->kind == KIND_BOUND && o->proto != PROTO_UDP)
		return rpc_reply_error(k->fd, h, EINVAL, "a TCP flow is connected or listening");
	if (o->kind != KIND_CONN && o->kind != KIND_BOUND && o->kind != KIND_LISTEN)
		return rpc_reply_error(k->fd, h, EINVAL, "kind must be CONNECTED or BOUND");
	if (o->lport > 65535 || o->rport > 65535)
		return rpc_reply_error(k->fd, h, EINVAL, "ports are 1..65535");
	if (o->kind == KIND_CONN) {
		if (!o->raddr || !o->rport)
			return rpc_reply_error(
			    k->fd, h, EINVAL, "a connected flow needs remote_addr and remote_port");
		if (fm_route_lookup(fm->routes, o->raddr, &nh) < 0)
			return rpc_reply_error(k->fd, h, ENETUNREACH, "no route to %u.%u.%u.%u",
			    o->raddr >> 24, (o->raddr >> 16) & 255, (o->raddr >> 8) & 255,
			    o->raddr & 255);
	} else if (o->raddr || o->rport) {
		return rpc_reply_error(k->fd, h, EINVAL, "only connected flows have a remote");
	}
	if (o->laddr && !fm_route_is_local(fm->routes, o->laddr, NULL))
		return rpc_reply_error(k->fd, h, EADDRNOTAVAIL, "local_addr is not ours");
	if (o->qos) {
		period = o->qos->period_ns;
		slice = o->qos->slice_ns;
		extra = o->qos->extra || slice == 0;
	}
	rc = fm_admit(fm, period, slice, &ppb);
	if (rc == -EINVAL)
		return rpc_reply_error(k->fd, h, EINVAL,
		    "qos: slice %llu ns per period %llu ns is not a guarantee",
		    (unsigned long long)slice, (unsigned long long)period);
	if (rc == -ENOSPC)
		return reply_admission(fm, k->fd, h, ppb);
	if (o->listener) {
		lf = fm_flow_get(fm, o->listener);
		if (!lf || lf->conn != ci || lf->kind != KIND_LISTEN || o->kind != KIND_CONN)
			return rpc_reply_error(k->fd, h, EINVAL,
			    "listener_flow_id: not a listening flow of this connection");
	}
	id = alloc_id(fm);
	if (!id)
		return rpc_reply_error(k->fd, h, ENFILE, "no flow ids left");
	f = &fm->flows[id];
	memset(f, 0, sizeof(*f));
	f->nh = nh;
	f->id = id;
	f->conn = ci;
	f->proto = o->proto;
	f->kind = o->kind;
	f->laddr = o->laddr ? o->laddr : o->kind == KIND_CONN ? f->nh.src : fm->cfg.addr;
	f->raddr = o->raddr;
	f->rport = (uint16_t)o->rport;
	f->inorder_frags = o->inorder;
	f->period_ns = slice ? period : 0;
	f->slice_ns = slice;
	f->extra = extra;
	f->owner_pid = k->pid;
	f->owner_uid = k->uid;
	memcpy(f->owner_comm, k->comm, sizeof(f->owner_comm));
	clock_gettime(CLOCK_REALTIME, &ts);
	f->opened_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (lf) {
		f->lport = lf->lport; /* an accepted connection shares its listener's port */
		f->listener = lf->id;
	} else {
		port = (uint16_t)o->lport;
		rc = fm_port_alloc(fm->ports, f->proto, f->laddr, &port, id,
		    may_privileged(fm, k->uid) ? FM_PORT_F_PRIVILEGED : 0, &clash);
		if (rc == -EADDRINUSE)
			return reply_clash(fm, k->fd, h, &clash);
		if (rc < 0)
			return rpc_reply_error(k->fd, h, -rc, "port %u: %s", o->lport,
			    rc == -EACCES	   ? "ports below 1024 need privilege"
			    : rc == -EADDRNOTAVAIL ? "no ephemeral port left"
						   : strerror(-rc));
		f->lport = port;
		f->port_held = true;
	}
	rc = take_chans(fm, f, o->rx, o->tx, why, sizeof(why));
	if (rc < 0)
		goto refuse;
	f->state = FM_FLOW_OPEN;
	k->n_flows++;
	f->reserved_ppb = ppb;
	fm->reserved_ppb += ppb;
	f->generation = 1;
	rc = fm_drv_add_flow(fm, f);
	if (rc < 0) {
		snprintf(why, sizeof(why), "the driver refused the flow: %.200s",
		    rc == -fm->drv.err ? fm->drv.errmsg : strerror(-rc));
		fm_flow_close(fm, f, NULL);
		return rpc_reply_error(k->fd, h, -rc, "%s", why);
	}
	if (f->kind == KIND_CONN) {
		rc = fm_exc_resolve(fm, f->nh.addr, f->nh_mac);
		if (rc == 0 || rc == -EAGAIN)
			f->arp_ref = fm_arp_ref(fm->arp, f->nh.addr) == 0;
		if (rc == -EAGAIN) {
			f->state = FM_FLOW_RESOLVING;
			f->pending = *h;
			f->resolve_deadline_ns = fm->now_ns + FM_RESOLVE_MS * 1000000ull;
			return 0;
		}
		if (rc < 0) {
			fm_flow_close(fm, f, NULL);
			return rpc_reply_error(
			    k->fd, h, EHOSTUNREACH, "next hop does not answer ARP");
		}
		f->nh_known = true;
	}
	f->pending = *h;
	fm_app_reply_open(fm, f);
	return 0;

refuse:
	if (f->port_held)
		fm_port_free(fm->ports, f->proto, f->laddr, f->lport, f->id);
	memset(f, 0, sizeof(*f));
	return rpc_reply_error(k->fd, h, -rc, "%s", why);
}

/* The FIB, as the reply to f->pending (OpenFlow, Listen or Reattach). */
static void
reply_fib(struct fm *fm, struct fm_flow *f)
{
	Sluice__Fm__OpenFlowReply r;
	Sluice__Fm__Fib fib;
	Sluice__Sap l, rm;
	Sluice__Qos q;
	Sluice__ChanGeom rg, tg;
	uint8_t hdr[64];
	int fd = fm->conns[f->conn].fd;

	sluice__fm__open_flow_reply__init(&r);
	fm_fib_fill(fm, f, &fib, &l, &rm, &q, &rg, &tg, hdr, sizeof(hdr));
	r.fib = &fib;
	if (rpc_reply(fd, &f->pending, RPC_T_FM_OPEN_FLOW_REPLY, &r.base, NULL, 0) < 0)
		fm_log("flow %u: reply to %s lost", f->id, fm->conns[f->conn].comm);
}

void
fm_app_reply_open(struct fm *fm, struct fm_flow *f)
{
	f->state = FM_FLOW_OPEN;
	reply_fib(fm, f);
	fm_log("flow %u open: %s %s %u.%u.%u.%u:%u for %s (pid %d), slice %llu/%llu ns%s", f->id,
	    f->proto == PROTO_TCP ? "TCP" : "UDP",
	    f->kind == KIND_CONN     ? "connected"
	    : f->kind == KIND_LISTEN ? "listening"
				     : "bound",
	    f->laddr >> 24, (f->laddr >> 16) & 255, (f->laddr >> 8) & 255, f->laddr & 255, f->lport,
	    f->owner_comm, (int)f->owner_pid, (unsigned long long)f->slice_ns,
	    (unsigned long long)f->period_ns, f->extra ? " + slack" : "");
	f->announced = true;
	fm_admin_flow_event(fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_OPENED, "opened");
}

void
fm_app_fail_open(struct fm *fm, struct fm_flow *f, int err, const char *msg)
{
	int fd = fm->conns[f->conn].fd;

	rpc_reply_error(fd, &f->pending, err, "%s", msg);
	fm_flow_close(fm, f, NULL);
}

void
fm_app_fib_changed(struct fm *fm, struct fm_flow *f, const char *reason)
{
	Sluice__Fm__FibChanged m;
	Sluice__Fm__Fib fib;
	Sluice__Sap l, rm;
	Sluice__Qos q;
	Sluice__ChanGeom rg, tg;
	uint8_t hdr[64];

	f->generation++;
	if (f->announced)
		fm_admin_flow_event(
		    fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_FIB_CHANGED, reason);
	if (f->conn < 0 || fm->conns[f->conn].fd < 0)
		return;
	sluice__fm__fib_changed__init(&m);
	fm_fib_fill(fm, f, &fib, &l, &rm, &q, &rg, &tg, hdr, sizeof(hdr));
	m.fib = &fib;
	m.reason = rpc_str(reason);
	rpc_send(fm->conns[f->conn].fd, RPC_T_FM_FIB_CHANGED, 0, &m.base, NULL, 0);
}

static struct fm_flow *
own_flow(struct fm *fm, int ci, uint32_t id)
{
	struct fm_flow *f = fm_flow_get(fm, id);

	return f && f->conn == ci ? f : NULL;
}

static int
set_qos(struct fm *fm, int ci, const struct rpc_hdr *h, const Sluice__Fm__SetQos *m)
{
	int fd = fm->conns[ci].fd;
	struct fm_flow *f = own_flow(fm, ci, m->flow_id);
	Sluice__Fm__SetQosReply r;
	Sluice__Qos q;
	struct fm_err err;

	if (!f)
		return rpc_reply_error(fd, h, ENOENT, "no flow %u on this connection", m->flow_id);
	if (!m->qos)
		return rpc_reply_error(fd, h, EINVAL, "qos missing");
	if (fm_flow_set_qos(fm, f, m->qos, "asked by its application", &err) < 0)
		return reply_err(fd, h, &err);
	sluice__fm__set_qos_reply__init(&r);
	sluice__qos__init(&q);
	q.period_ns = f->period_ns;
	q.slice_ns = f->slice_ns;
	q.extra = f->extra;
	r.granted = &q;
	return rpc_reply(fd, h, RPC_T_FM_SET_QOS_REPLY, &r.base, NULL, 0);
}

static int
counters(struct fm *fm, int ci, const struct rpc_hdr *h, const Sluice__Fm__GetCounters *m)
{
	int fd = fm->conns[ci].fd;
	uint32_t ids[64];
	unsigned n = 0;
	Sluice__Fm__CountersReply r;
	Sluice__FlowCounters **out = NULL;
	size_t n_out = 0;
	struct timespec ts;
	int rc;

	if (m->n_flow_ids > 64)
		return rpc_reply_error(fd, h, E2BIG, "at most 64 flows per request");
	if (m->n_flow_ids) {
		for (size_t i = 0; i < m->n_flow_ids; i++) {
			if (!own_flow(fm, ci, m->flow_ids[i]))
				return rpc_reply_error(
				    fd, h, ENOENT, "no flow %u on this connection", m->flow_ids[i]);
			ids[n++] = m->flow_ids[i];
		}
	} else {
		for (uint32_t i = 1; i < FM_MAX_FLOWS && n < 64; i++)
			if (fm->flows[i].state != FM_FLOW_FREE && fm->flows[i].conn == ci)
				ids[n++] = i;
	}
	if (n) {
		rc = fm_drv_counters(fm, ids, n, &out, &n_out);
		if (rc < 0)
			return rpc_reply_error(fd, h, -rc, "counters: %s", strerror(-rc));
	}
	sluice__fm__counters_reply__init(&r);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	r.flows = out;
	r.n_flows = n_out;
	return rpc_reply(fd, h, RPC_T_FM_COUNTERS_REPLY, &r.base, NULL, 0);
}

/* ---- Resolve: a bound flow's next hop for a peer ------------------------------ */

static int
reply_resolve(int fd, const struct rpc_hdr *h, uint32_t addr, uint32_t nh, const uint8_t *mac)
{
	Sluice__Fm__ResolveReply r;

	sluice__fm__resolve_reply__init(&r);
	r.addr = addr;
	r.nexthop_addr = nh;
	r.nexthop_mac.data = (uint8_t *)(uintptr_t)mac;
	r.nexthop_mac.len = 6;
	return rpc_reply(fd, h, RPC_T_FM_RESOLVE_REPLY, &r.base, NULL, 0);
}

static int
reply_unreachable(int fd, const struct rpc_hdr *h, uint32_t addr, uint32_t nh)
{
	if (addr == nh)
		return rpc_reply_error(fd, h, EHOSTUNREACH, "%u.%u.%u.%u does not answer ARP",
		    addr >> 24, (addr >> 16) & 255, (addr >> 8) & 255, addr & 255);
	return rpc_reply_error(fd, h, EHOSTUNREACH,
	    "the gateway %u.%u.%u.%u to %u.%u.%u.%u does not answer ARP", nh >> 24,
	    (nh >> 16) & 255, (nh >> 8) & 255, nh & 255, addr >> 24, (addr >> 16) & 255,
	    (addr >> 8) & 255, addr & 255);
}

/*
 * Only for bound flows: a connected flow's FIB names its next hop, and a
 * bound flow may send anywhere (the transmit filter checks its source, not
 * its destination), so telling it a MAC gives away nothing the wire would
 * not. Whatever ARP is asked to resolve counts against the cache like any
 * lookup; a connection holds at most FM_CONN_RESOLVES requests waiting.
 */
static int
resolve(struct fm *fm, int ci, const struct rpc_hdr *h, const Sluice__Fm__Resolve *m)
{
	int fd = fm->conns[ci].fd;
	struct fm_flow *f = own_flow(fm, ci, m->flow_id);
	struct fm_resolve *slot = NULL;
	struct fm_nexthop nh;
	unsigned mine = 0;
	uint8_t mac[6];
	uint32_t a = m->addr;
	int rc;

	if (!f || f->state != FM_FLOW_OPEN)
		return rpc_reply_error(fd, h, ENOENT, "no flow %u on this connection", m->flow_id);
	if (f->kind != KIND_BOUND)
		return rpc_reply_error(
		    fd, h, EINVAL, "flow %u is not bound: its FIB has its next hop", f->id);
	if (a == 0 || a >> 24 == 127 || a >= 0xe0000000u || fm_route_is_local(fm->routes, a, NULL))
		return rpc_reply_error(fd, h, EINVAL, "%u.%u.%u.%u is not a peer's unicast address",
		    a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	if (fm_route_lookup(fm->routes, a, &nh) < 0)
		return rpc_reply_error(fd, h, ENETUNREACH, "no route to %u.%u.%u.%u", a >> 24,
		    (a >> 16) & 255, (a >> 8) & 255, a & 255);
	rc = fm_exc_resolve(fm, nh.addr, mac);
	if (rc == 0)
		return reply_resolve(fd, h, a, nh.addr, mac);
	if (rc == -EHOSTUNREACH)
		return reply_unreachable(fd, h, a, nh.addr);
	if (rc != -EAGAIN)
		return rpc_reply_error(fd, h, -rc, "ARP for %u.%u.%u.%u: %s", nh.addr >> 24,
		    (nh.addr >> 16) & 255, (nh.addr >> 8) & 255, nh.addr & 255, strerror(-rc));
	for (unsigned i = 0; i < FM_MAX_RESOLVES; i++) {
		if (fm->resolves[i].conn == ci)
			mine++;
		else if (fm->resolves[i].conn < 0 && !slot)
			slot = &fm->resolves[i];
	}
	if (!slot || mine >= FM_CONN_RESOLVES)
		return rpc_reply_error(fd, h, EAGAIN,
		    "ARP for %u.%u.%u.%u started, but no room to wait for it: ask again",
		    nh.addr >> 24, (nh.addr >> 16) & 255, (nh.addr >> 8) & 255, nh.addr & 255);
	*slot = (struct fm_resolve){.conn = ci,
	    .h = *h,
	    .addr = a,
	    .nh = nh.addr,
	    .deadline_ns = fm->now_ns + FM_RESOLVE_MS * 1000000ull};
	return 0;
}

void
fm_app_resolved(struct fm *fm, uint32_t ip, const uint8_t *mac)
{
	for (unsigned i = 0; i < FM_MAX_RESOLVES; i++) {
		struct fm_resolve *r = &fm->resolves[i];

		if (r->conn < 0 || r->nh != ip)
			continue;
		if (mac)
			reply_resolve(fm->conns[r->conn].fd, &r->h, r->addr, r->nh, mac);
		else
			reply_unreachable(fm->conns[r->conn].fd, &r->h, r->addr, r->nh);
		r->conn = -1;
	}
}

void
fm_app_resolve_timeouts(struct fm *fm)
{
	for (unsigned i = 0; i < FM_MAX_RESOLVES; i++) {
		struct fm_resolve *r = &fm->resolves[i];

		if (r->conn >= 0 && fm->now_ns >= r->deadline_ns) {
			reply_unreachable(fm->conns[r->conn].fd, &r->h, r->addr, r->nh);
			r->conn = -1;
		}
	}
}

/*
 * Reattach: the process that opened f before our restart takes it back.
 * Only that process may (pid and uid from SO_PEERCRED against the owner the
 * driver kept): a flow is not a capability that others can pick up. Its
 * FIB may lack the next hop's MAC while ARP answers (the application keeps
 * the one it has; FibChanged follows).
 */
static int
reattach(struct fm *fm, int ci, const struct rpc_hdr *h, const Sluice__Fm__Reattach *m)
{
	struct fm_conn *k = &fm->conns[ci];
	struct fm_flow *f = fm_flow_get(fm, m->flow_id);

	if (f && f->conn == ci) { /* asked twice: the same answer */
		f->pending = *h;
		reply_fib(fm, f);
		return 0;
	}
	if (!f || f->conn >= 0 || !f->orphan_deadline_ns)
		return rpc_reply_error(
		    k->fd, h, ENOENT, "no flow %u waits for its application", m->flow_id);
	if (f->owner_pid != k->pid || f->owner_uid != k->uid)
		return rpc_reply_error(k->fd, h, EPERM, "flow %u belongs to %s (pid %d, uid %u)",
		    f->id, f->owner_comm, (int)f->owner_pid, (unsigned)f->owner_uid);
	f->conn = ci;
	f->orphan_deadline_ns = 0;
	fm->n_orphans--;
	k->n_flows++;
	f->pending = *h;
	reply_fib(fm, f);
	fm_log("flow %u: re-attached by %s (pid %d)", f->id, k->comm, (int)k->pid);
	fm_admin_flow_event(fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_REATTACHED,
	    "its application is back");
	return 0;
}

/* Serve one decoded frame; < 0: close the connection. */
static int
serve(struct fm *fm, int ci)
{
	struct fm_conn *k = &fm->conns[ci];
	const struct rpc_hdr *h = &fm->frame->hdr;
	ProtobufCMessage *msg;
	Sluice__Ok ok;

	if (rpc_type_kind(h->type) != RPC_K_REQ)
		return -1;
	msg = rpc_unpack(NULL, fm->frame, &fm->arena);
	if (!msg)
		return rpc_reply_error(
			   k->fd, h, EBADMSG, "%s: undecodable", rpc_type_name(h->type)) < 0
			   ? -1
			   : 0;
	if (!k->hello && h->type != RPC_T_HELLO)
		return rpc_reply_error(k->fd, h, EPROTO, "Hello first");
	switch (h->type) {
	case RPC_T_HELLO: {
		Sluice__HelloReply r;

		if (rpc_hello_check(((Sluice__Hello *)msg)->major) < 0)
			return rpc_reply_error(k->fd, h, EPROTONOSUPPORT,
			    "schema major %u, the flow manager speaks %u",
			    ((Sluice__Hello *)msg)->major, RPC_SCHEMA_MAJOR);
		sluice__hello_reply__init(&r);
		k->hello = true;
		r.major = RPC_SCHEMA_MAJOR;
		r.minor = RPC_SCHEMA_MINOR;
		r.software = rpc_str("sluice-flowmgr " SLUICE_VERSION);
		r.session = k->session;
		r.events = fm->ev_addr;
		return rpc_reply(k->fd, h, RPC_T_HELLO_REPLY, &r.base, NULL, 0);
	}
	case RPC_T_FM_OPEN_FLOW: {
		const Sluice__Fm__OpenFlow *m = (const Sluice__Fm__OpenFlow *)msg;
		struct open_req o = {.proto = (uint8_t)m->proto,
		    .kind = (uint8_t)m->kind,
		    .laddr = m->local_addr,
		    .raddr = m->remote_addr,
		    .lport = m->local_port,
		    .rport = m->remote_port,
		    .qos = m->qos,
		    .rx = m->rx_chan,
		    .tx = m->tx_chan,
		    .inorder = m->inorder_frags,
		    .listener = m->listener_flow_id};

		if (m->kind == KIND_LISTEN)
			return rpc_reply_error(k->fd, h, EINVAL, "use Listen for a listening flow");
		if ((unsigned)m->proto > 255 || (unsigned)m->kind > 255)
			return rpc_reply_error(k->fd, h, EINVAL, "bad proto or kind");
		return open_flow(fm, ci, h, &o);
	}
	case RPC_T_FM_LISTEN: {
		const Sluice__Fm__Listen *m = (const Sluice__Fm__Listen *)msg;
		struct open_req o = {.proto = PROTO_TCP,
		    .kind = KIND_LISTEN,
		    .laddr = m->local_addr,
		    .lport = m->local_port,
		    .qos = m->qos,
		    .rx = m->rx_chan,
		    .tx = m->tx_chan};

		return open_flow(fm, ci, h, &o);
	}
	case RPC_T_FM_CLOSE_FLOW: {
		struct fm_flow *f = own_flow(fm, ci, ((Sluice__Fm__CloseFlow *)msg)->flow_id);

		if (!f)
			return rpc_reply_error(k->fd, h, ENOENT, "no flow %u on this connection",
			    ((Sluice__Fm__CloseFlow *)msg)->flow_id);
		fm_flow_close(fm, f, "closed by its application");
		sluice__ok__init(&ok);
		return rpc_reply(k->fd, h, RPC_T_OK, &ok.base, NULL, 0);
	}
	case RPC_T_FM_SET_QOS:
		return set_qos(fm, ci, h, (Sluice__Fm__SetQos *)msg);
	case RPC_T_FM_GET_COUNTERS:
		return counters(fm, ci, h, (Sluice__Fm__GetCounters *)msg);
	case RPC_T_FM_REATTACH:
		return reattach(fm, ci, h, (Sluice__Fm__Reattach *)msg);
	case RPC_T_FM_RESOLVE:
		return resolve(fm, ci, h, (Sluice__Fm__Resolve *)msg);
	default:
		return rpc_reply_error(
		    k->fd, h, ENOSYS, "%s is not a flow manager request", rpc_type_name(h->type));
	}
}

void
fm_app_serve(struct fm *fm, int ci)
{
	for (unsigned served = 0; served < 32 && fm->conns[ci].fd >= 0; served++) {
		int rc = rpc_recv(fm->conns[ci].fd, fm->frame);

		if (rc == -EAGAIN)
			return;
		if (rc == -EMSGSIZE || rc == -ETOOMANYREFS || rc == -ENOMSG) {
			/* Framed well enough to answer, then the end. */
			rpc_reply_error(fm->conns[ci].fd, &fm->frame->hdr, -rc, "%s", rpc_errmsg());
			rpc_frame_fini(fm->frame);
			fm_app_close(fm, ci);
			return;
		}
		if (rc < 0) {
			fm_app_close(fm, ci);
			return;
		}
		rc = serve(fm, ci);
		rpc_frame_fini(fm->frame); /* closes descriptors nobody took */
		if (rc < 0) {
			fm_app_close(fm, ci);
			return;
		}
	}
}
