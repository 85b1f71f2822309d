/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow manager's side of the driver's control socket (proto/driver.proto).
 * We are the client: every request waits for its reply (the driver answers
 * between bursts, within milliseconds), with FM_DRV_TIMEOUT as the limit.
 *
 * On connecting: Hello, GetPorts (our MAC, link rate, MTU, what the driver
 * keeps for itself), SetupException (our own channels), then what the
 * driver has is reconciled with what we know (DumpFlows with the channels'
 * descriptors, reconcile()), and every live flow it lacks is installed
 * again: this is how flows survive a driver restart, and how they survive
 * ours (recovered as orphans until their applications re-attach). When the
 * connection breaks, the driver is marked down and the loop tries again
 * every tick.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flowmgr/fm_priv.h"
#include "proto/rpc_chan.h"

static int
call(struct fm *fm, unsigned type, const ProtobufCMessage *m, const int *fds, unsigned n_fds)
{
	int rc;

	if (!fm->drv_up && type != RPC_T_HELLO)
		return -ENOTCONN;
	rpc_frame_fini(fm->dframe);
	rc = rpc_call(&fm->drv, type, m, fds, n_fds, fm->dframe, FM_DRV_TIMEOUT);
	if (rc < 0 && rc != -fm->drv.err) {
		/* Not an Error reply: the connection is broken or confused. */
		fm_drv_down(fm, rpc_errmsg());
	} else if (rc < 0) {
		fm_log("driver refused %s: %s", rpc_type_name(type), fm->drv.errmsg);
	}
	return rc;
}

static void *
reply(struct fm *fm, const ProtobufCMessageDescriptor *desc)
{
	void *m = rpc_unpack(desc, fm->dframe, &fm->darena);

	if (!m)
		fm_drv_down(fm, "undecodable reply");
	return m;
}

/* A driver callback arrived while we waited, or on its own. */
static void
on_callback(void *arg, struct rpc_frame *f)
{
	struct fm *fm = arg;
	Sluice__Drv__ChannelClosed *m;

	if (f->hdr.type != RPC_T_DRV_CHANNEL_CLOSED)
		return;
	m = (Sluice__Drv__ChannelClosed *)rpc_unpack(NULL, f, &fm->darena);
	if (m)
		fm_log("driver: flow %u: the application closed its %s channel", m->flow_id,
		    m->rx ? "receive" : "transmit");
	/* The application's RPC connection is the lease; it closes too. */
}

void
fm_drv_callbacks(struct fm *fm)
{
	for (;;) {
		int rc;

		rpc_frame_fini(fm->dframe);
		rc = rpc_recv(fm->drv.fd, fm->dframe);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			fm_drv_down(fm, rc == -EPIPE ? "connection closed" : rpc_errmsg());
			return;
		}
		if (rpc_type_kind(fm->dframe->hdr.type) != RPC_K_CALLBACK) {
			fm_drv_down(fm, "unexpected frame");
			return;
		}
		on_callback(fm, fm->dframe);
	}
}

void
fm_drv_down(struct fm *fm, const char *why)
{
	if (fm->drv.fd < 0)
		return;
	fm_log("driver %s: %s; reconnecting", fm->cfg.driver, why);
	fm_epoll_del(fm, fm->drv.fd);
	close(fm->drv.fd);
	fm->drv.fd = -1;
	fm->drv_up = false;
	fm_exc_close(fm);
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++)
		fm->flows[i].installed = false;
}

static int
ports(struct fm *fm)
{
	Sluice__Drv__GetPorts gp;
	Sluice__Drv__PortsReply *r;
	int rc;

	sluice__drv__get_ports__init(&gp);
	rc = call(fm, RPC_T_DRV_GET_PORTS, &gp.base, NULL, 0);
	if (rc < 0)
		return rc;
	r = reply(fm, &sluice__drv__ports_reply__descriptor);
	if (!r)
		return -EPROTO;
	for (size_t i = 0; i < r->n_ports; i++) {
		Sluice__Drv__PortInfo *p = r->ports[i];

		if (p->port != fm->cfg.port)
			continue;
		if (p->mac.len != 6) {
			fm_log("driver: port %u has no MAC address", p->port);
			return -EPROTO;
		}
		memcpy(fm->mac, p->mac.data, 6);
		snprintf(fm->port_name, sizeof(fm->port_name), "%s", p->name ? p->name : "");
		fm->link_bps = p->link_bps;
		fm->mtu = p->mtu ? p->mtu : 1500;
		fm->drv_reserved_ppm = p->reserved_ppm;
		if (fm->cfg.link_mbps && fm->cfg.link_mbps * 1000000u != p->link_bps)
			fm_log("note: link_mbps = %llu here, but the driver paces port %u to %llu "
			       "bit/s; admission uses shares of the driver's rate",
			    (unsigned long long)fm->cfg.link_mbps, p->port,
			    (unsigned long long)p->link_bps);
		return 0;
	}
	fm_log("driver has no port %u", fm->cfg.port);
	return -ENODEV;
}

static int
setup_exception(struct fm *fm)
{
	Sluice__Drv__SetupException m;
	Sluice__Chan rc_, tc;
	Sluice__ChanGeom rg, tg;
	Sluice__ChanFds rf, tf;
	struct rbuf_chan_cfg rgeom, tgeom;
	int fds[8], rc;

	rc = fm_exc_open(fm, fds);
	if (rc < 0)
		return rc;
	rbuf_chan_geometry(fm->exc_rx, &rgeom);
	rbuf_chan_geometry(fm->exc_tx, &tgeom);
	sluice__drv__setup_exception__init(&m);
	m.port = fm->cfg.port;
	rpc_chan_msg(&rc_, &rg, &rf, &rgeom, 0);
	rpc_chan_msg(&tc, &tg, &tf, &tgeom, 4);
	m.rx_chan = &rc_;
	m.tx_chan = &tc;
	rc = call(fm, RPC_T_DRV_SETUP_EXCEPTION, &m.base, fds, 8);
	/* The driver has its own copies now (or refused): close our copies of
	 * its ends, so that its death shows as a hang-up on ours. */
	rbuf_chan_peer_fds_close(fm->exc_rx);
	rbuf_chan_peer_fds_close(fm->exc_tx);
	if (rc < 0)
		fm_exc_close(fm);
	return rc;
}

/* ---- reconciling with the driver's flow table -------------------------------------- */

#define PROTO_TCP   SLUICE__PROTO__PROTO_TCP
#define PROTO_UDP   SLUICE__PROTO__PROTO_UDP
#define KIND_CONN   SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED
#define KIND_BOUND  SLUICE__FLOW_KIND__FLOW_KIND_BOUND
#define KIND_LISTEN SLUICE__FLOW_KIND__FLOW_KIND_LISTENING

/*
 * Take a flow the driver has and we do not know, after our own restart: an
 * orphan (conn -1) until the process that opened it re-attaches (Reattach)
 * or grace_ms passes. Its channel descriptors come with the dump, so that it
 * can be installed again if the driver restarts meanwhile. The port, the
 * admission share and the next hop are claimed later (claim()), once every
 * flow is in: an accepted TCP connection shares its listener's port.
 * Returns 0, or -EINVAL for an entry we cannot make sense of (the caller
 * removes it from the driver).
 */
static int
adopt(struct fm *fm, const Sluice__Drv__AddFlow *af)
{
	const Sluice__Drv__RxFilter *rx = af->rx;
	struct fm_flow *f;
	struct timespec ts;
	uint32_t id = af->flow_id;

	if (id == 0 || id >= FM_MAX_FLOWS || fm->flows[id].state != FM_FLOW_FREE || !rx)
		return -EINVAL;
	if ((rx->proto != PROTO_UDP && rx->proto != PROTO_TCP) ||
	    (rx->kind != KIND_CONN && rx->kind != KIND_BOUND && rx->kind != KIND_LISTEN) ||
	    rx->local_port == 0 || rx->local_port > 65535 || rx->remote_port > 65535)
		return -EINVAL;
	f = &fm->flows[id];
	memset(f, 0, sizeof(*f));
	f->rx_fds = (struct rbuf_chan_fds){-1, -1, -1, -1};
	f->tx_fds = f->rx_fds;
	if (rpc_chan_geom(af->rx_chan, RBUF_MODE_RMM, &f->rx_geom) < 0 ||
	    rpc_chan_geom(af->tx_chan, RBUF_MODE_TMM, &f->tx_geom) < 0 ||
	    rpc_fds_take_chan(fm->dframe, af->rx_chan->fds, &f->rx_fds.ctrl, &f->rx_fds.data,
		&f->rx_fds.wait, &f->rx_fds.kick) < 0 ||
	    rpc_fds_take_chan(fm->dframe, af->tx_chan->fds, &f->tx_fds.ctrl, &f->tx_fds.data,
		&f->tx_fds.wait, &f->tx_fds.kick) < 0) {
		rbuf_chan_fds_close(&f->rx_fds);
		rbuf_chan_fds_close(&f->tx_fds);
		memset(f, 0, sizeof(*f));
		return -EINVAL;
	}
	f->id = id;
	f->conn = -1;
	f->proto = (uint8_t)rx->proto;
	f->kind = (uint8_t)rx->kind;
	f->laddr = rx->local_addr;
	f->lport = (uint16_t)rx->local_port;
	if (f->kind == KIND_CONN) {
		f->raddr = rx->remote_addr;
		f->rport = (uint16_t)rx->remote_port;
	}
	f->inorder_frags = rx->inorder_frags;
	if (af->qos && af->qos->slice_ns) {
		f->period_ns = af->qos->period_ns;
		f->slice_ns = af->qos->slice_ns;
		f->extra = af->qos->extra;
	} else {
		f->extra = true;
	}
	if (af->owner) {
		f->owner_pid = (pid_t)af->owner->pid;
		f->owner_uid = (uid_t)af->owner->uid;
		snprintf(f->owner_comm, sizeof(f->owner_comm), "%s",
		    af->owner->comm ? af->owner->comm : "");
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	f->opened_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	f->generation = 1;
	f->state = FM_FLOW_OPEN;
	f->installed = true;
	/* At least one tick, so that a grace of 0 still lets the loop run. */
	f->orphan_deadline_ns = fm->now_ns + (fm->cfg.grace_ms ? fm->cfg.grace_ms : 1) * 1000000ull;
	fm->n_orphans++;
	return 0;
}

/*
 * An adopted flow's port (or its listener's), its share of the link and its
 * next hop. The driver admitted the share already: it is counted even if the
 * link is now smaller. Returns 0 or -errno (the caller closes the flow).
 */
static int
claim(struct fm *fm, struct fm_flow *f)
{
	struct fm_port_info clash;
	uint16_t port = f->lport;
	uint64_t ppb;
	int rc;

	rc = fm_port_alloc(
	    fm->ports, f->proto, f->laddr, &port, f->id, FM_PORT_F_PRIVILEGED, &clash);
	if (rc == -EADDRINUSE && f->kind == KIND_CONN && f->proto == PROTO_TCP) {
		struct fm_flow *lf = fm_flow_get(fm, clash.flow);

		if (lf && lf->kind == KIND_LISTEN && lf->lport == f->lport) {
			f->listener = lf->id;
			rc = 0;
		}
	} else if (rc == 0) {
		f->port_held = true;
	}
	if (rc < 0)
		return rc;
	if (f->kind == KIND_CONN) {
		if (fm_route_lookup(fm->routes, f->raddr, &f->nh) < 0)
			return -ENETUNREACH;
		/* Its application has the MAC in its FIB; ours comes from ARP, and
		 * a change reaches the application as FibChanged. */
		rc = fm_exc_resolve(fm, f->nh.addr, f->nh_mac);
		if (rc == 0 || rc == -EAGAIN)
			f->arp_ref = fm_arp_ref(fm->arp, f->nh.addr) == 0;
		f->nh_known = rc == 0;
	}
	fm_admit(fm, f->period_ns, f->slice_ns, &ppb);
	f->reserved_ppb = ppb;
	fm->reserved_ppb += ppb;
	return 0;
}

/* Does the driver's entry describe our flow f (the same filter)? */
static bool
same_flow(const struct fm_flow *f, const Sluice__Drv__AddFlow *af)
{
	const Sluice__Drv__RxFilter *rx = af->rx;

	return rx && (unsigned)rx->proto == f->proto && (unsigned)rx->kind == f->kind &&
	       rx->local_addr == f->laddr && rx->local_port == f->lport &&
	       (f->kind != KIND_CONN ||
		   (rx->remote_addr == f->raddr && rx->remote_port == f->rport));
}

/*
 * Walk the driver's flows (DumpFlows, a page at a time). One we know is
 * installed already (our connection broke, the driver did not restart). One
 * we do not know is adopted if this is our first connection since we
 * started (we restarted, its application will re-attach), else removed: it
 * outlived its owner. Returns 0 or -errno (the driver went away).
 */
static int
reconcile(struct fm *fm)
{
	static uint32_t adopted[FM_MAX_FLOWS];
	Sluice__Drv__DumpFlows m;
	unsigned n_adopted = 0, n_stale = 0;
	uint32_t after = 0;
	bool more = true;
	int rc;

	while (more && fm->drv_up) {
		Sluice__Drv__DumpFlowsReply *r;
		uint32_t remove[64];
		unsigned n_remove = 0;

		sluice__drv__dump_flows__init(&m);
		m.after_flow_id = after;
		m.with_chans = !fm->drv_seen;
		rc = call(fm, RPC_T_DRV_DUMP_FLOWS, &m.base, NULL, 0);
		if (rc < 0)
			return rc;
		r = reply(fm, &sluice__drv__dump_flows_reply__descriptor);
		if (!r)
			return -EPROTO;
		more = r->more && r->n_flows > 0;
		for (size_t i = 0; i < r->n_flows; i++) {
			const Sluice__Drv__AddFlow *af = r->flows[i]->flow;
			struct fm_flow *f;

			if (n_remove == sizeof(remove) / sizeof(remove[0])) {
				more = true; /* the rest on the next page */
				break;
			}
			if (!af || af->flow_id <= after) {
				fm_drv_down(fm, "DumpFlows out of order");
				return -EPROTO;
			}
			after = af->flow_id;
			f = fm_flow_get(fm, af->flow_id);
			if (f && same_flow(f, af))
				f->installed = true;
			else if (!f && !fm->drv_seen && adopt(fm, af) == 0)
				adopted[n_adopted++] = af->flow_id;
			else
				remove[n_remove++] = af->flow_id;
		}
		/* The reply's frame is reused by the next call. */
		for (unsigned i = 0; i < n_remove; i++) {
			fm_log("driver: flow %u is not ours; removed", remove[i]);
			fm_drv_remove_flow(fm, remove[i]);
			n_stale++;
		}
	}
	if (!fm->drv_up)
		return -ENOTCONN;
	/* Listeners first, so that their accepted connections find them. */
	for (int pass = 0; pass < 2; pass++)
		for (unsigned i = 0; i < n_adopted; i++) {
			struct fm_flow *f = &fm->flows[adopted[i]];

			if (f->state == FM_FLOW_FREE || (f->kind == KIND_CONN) != (pass == 1))
				continue;
			rc = claim(fm, f);
			if (rc < 0) {
				fm_log("flow %u (%s, pid %d): cannot be recovered: %s", f->id,
				    f->owner_comm, (int)f->owner_pid, strerror(-rc));
				fm_flow_close(fm, f, NULL);
				continue;
			}
			f->announced = true;
			fm_admin_flow_event(fm, f,
			    SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_RECOVERED,
			    "recovered from the driver; waiting for its application");
		}
	if (n_adopted)
		fm_log("recovered %u flows from the driver; their applications have %u ms to "
		       "re-attach",
		    fm->n_orphans, fm->cfg.grace_ms);
	if (n_stale)
		fm_log("removed %u flows the driver had and we did not", n_stale);
	fm->drv_seen = true;
	return 0;
}

int
fm_drv_connect(struct fm *fm)
{
	Sluice__Hello h;
	Sluice__HelloReply *hr;
	int fd, rc;

	fd = rpc_connect(fm->cfg.driver);
	if (fd < 0)
		return fd;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	rpc_client_init(&fm->drv, fd, on_callback, fm);
	rpc_hello_init(&h, "sluice-flowmgr " SLUICE_VERSION);
	rc = call(fm, RPC_T_HELLO, &h.base, NULL, 0);
	if (rc < 0 || !(hr = reply(fm, &sluice__hello_reply__descriptor))) {
		fm_drv_down(fm, "no hello");
		return rc < 0 ? rc : -EPROTO;
	}
	/* Who it is and where it publishes counters, for the administrator. */
	snprintf(
	    fm->drv_software, sizeof(fm->drv_software), "%s", hr->software ? hr->software : "");
	snprintf(fm->drv_events, sizeof(fm->drv_events), "%s", hr->events ? hr->events : "");
	fm->drv_up = true;
	rc = ports(fm);
	if (rc == 0)
		rc = setup_exception(fm);
	if (rc < 0) {
		fm_drv_down(fm, "set-up failed");
		return rc;
	}
	fm_epoll_add(fm, fd, FM_TOK_DRIVER);
	fm_log("driver %s: connected, port %u, link %llu Mbit/s, MTU %u", fm->cfg.driver,
	    fm->cfg.port, (unsigned long long)(fm->link_bps / 1000000u), fm->mtu);
	rc = reconcile(fm);
	if (rc < 0)
		return rc;
	/* Every live flow the driver lacks (a driver that restarted has none). */
	for (uint32_t i = 1; i < FM_MAX_FLOWS && fm->drv_up; i++) {
		struct fm_flow *f = &fm->flows[i];

		if (f->state == FM_FLOW_FREE || f->installed)
			continue;
		rc = fm_drv_add_flow(fm, f);
		if (rc < 0 && fm->drv_up)
			fm_flow_revoke(
			    fm, f, -rc, "could not be installed again after a driver restart");
	}
	return 0;
}

int
fm_drv_add_flow(struct fm *fm, struct fm_flow *f)
{
	Sluice__Drv__AddFlow m;
	Sluice__Drv__RxFilter rx;
	Sluice__Drv__TxTemplate tx;
	Sluice__Drv__Owner ow;
	Sluice__Qos q;
	Sluice__Chan rc_, tc;
	Sluice__ChanGeom rg, tg;
	Sluice__ChanFds rf, tf;
	int fds[8] = {f->rx_fds.ctrl, f->rx_fds.data, f->rx_fds.wait, f->rx_fds.kick,
	    f->tx_fds.ctrl, f->tx_fds.data, f->tx_fds.wait, f->tx_fds.kick};
	int rc;

	sluice__drv__add_flow__init(&m);
	sluice__drv__rx_filter__init(&rx);
	sluice__drv__tx_template__init(&tx);
	sluice__drv__owner__init(&ow);
	sluice__qos__init(&q);
	m.flow_id = f->id;
	m.port = fm->cfg.port;
	rx.proto = (Sluice__Proto)f->proto;
	rx.kind = (Sluice__FlowKind)f->kind;
	rx.local_addr = f->laddr;
	rx.local_port = f->lport;
	rx.inorder_frags = f->inorder_frags;
	if (f->kind == SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED) {
		rx.remote_addr = f->raddr;
		rx.remote_port = f->rport;
		tx.dst_addr = f->raddr;
		tx.dst_port = f->rport;
	}
	tx.src_mac.data = fm->mac;
	tx.src_mac.len = 6;
	if (f->nh_known) {
		tx.dst_mac.data = f->nh_mac;
		tx.dst_mac.len = 6;
	}
	tx.src_addr = f->laddr;
	tx.proto = (Sluice__Proto)f->proto;
	tx.src_port = f->lport;
	tx.mtu = fm->mtu;
	tx.fragments = true; /* the application's stack fragments (DESIGN.md section 3) */
	q.period_ns = f->period_ns;
	q.slice_ns = f->slice_ns;
	q.extra = f->extra;
	ow.pid = (uint32_t)f->owner_pid;
	ow.uid = (uint32_t)f->owner_uid;
	ow.comm = f->owner_comm;
	m.rx = &rx;
	m.tx = &tx;
	m.qos = &q;
	m.owner = &ow;
	rpc_chan_msg(&rc_, &rg, &rf, &f->rx_geom, 0);
	rpc_chan_msg(&tc, &tg, &tf, &f->tx_geom, 4);
	m.rx_chan = &rc_;
	m.tx_chan = &tc;
	rc = call(fm, RPC_T_DRV_ADD_FLOW, &m.base, fds, 8);
	if (rc == 0)
		f->installed = true;
	return rc;
}

int
fm_drv_remove_flow(struct fm *fm, uint32_t id)
{
	Sluice__Drv__RemoveFlow m;

	sluice__drv__remove_flow__init(&m);
	m.flow_id = id;
	return call(fm, RPC_T_DRV_REMOVE_FLOW, &m.base, NULL, 0);
}

int
fm_drv_set_qos(struct fm *fm, uint32_t id, uint64_t period_ns, uint64_t slice_ns, bool extra)
{
	Sluice__Drv__SetQos m;
	Sluice__Qos q;

	sluice__drv__set_qos__init(&m);
	sluice__qos__init(&q);
	q.period_ns = period_ns;
	q.slice_ns = slice_ns;
	q.extra = extra;
	m.flow_id = id;
	m.qos = &q;
	return call(fm, RPC_T_DRV_SET_QOS, &m.base, NULL, 0);
}

int
fm_drv_counters(
    struct fm *fm, const uint32_t *ids, unsigned n, Sluice__FlowCounters ***out, size_t *n_out)
{
	Sluice__Drv__GetCounters m;
	Sluice__Drv__CountersReply *r;
	uint32_t idv[64];
	int rc;

	if (n > 64)
		return -E2BIG;
	memcpy(idv, ids, n * sizeof(*ids));
	sluice__drv__get_counters__init(&m);
	m.flow_ids = idv;
	m.n_flow_ids = n;
	rc = call(fm, RPC_T_DRV_GET_COUNTERS, &m.base, NULL, 0);
	if (rc < 0)
		return rc;
	r = reply(fm, &sluice__drv__counters_reply__descriptor);
	if (!r)
		return -EPROTO;
	*out = r->flows;
	*n_out = r->n_flows;
	return 0;
}

int
fm_drv_port_counters(struct fm *fm, Sluice__PortCounters ***out, size_t *n_out)
{
	Sluice__Drv__GetCounters m;
	Sluice__Drv__CountersReply *r;
	int rc;

	sluice__drv__get_counters__init(&m);
	m.ports = true;
	rc = call(fm, RPC_T_DRV_GET_COUNTERS, &m.base, NULL, 0);
	if (rc < 0)
		return rc;
	r = reply(fm, &sluice__drv__counters_reply__descriptor);
	if (!r)
		return -EPROTO;
	*out = r->ports;
	*n_out = r->n_ports;
	return 0;
}
