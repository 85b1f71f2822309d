/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's control socket: the flow manager adds and removes flows over
 * it (proto/driver.proto, framed by proto/rpc.h). Only peers whose
 * SO_PEERCRED uid is the configured flow manager's may connect; every
 * request before Hello is refused; every field is checked before use, and
 * a malformed frame closes the connection. Requests are served from the
 * loop thread between bursts (drv_run() calls drv_ctl_poll()), so a flow
 * added while traffic runs is simply there for the next burst.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "driver/counters.h"
#include "driver/ctl.h"
#include "driver/drv_priv.h"
#include "proto/driver.pb-c.h"
#include "proto/rpc.h"
#include "proto/rpc_chan.h"

#define CTL_MAX_CONN	8
#define CTL_PER_POLL	32 /* requests served per call, so traffic keeps flowing */
#define CTL_DUMP_PAGE	64 /* flows per DumpFlows reply */
#define CTL_EPOLL_TOKEN (UINT32_MAX - 1)

struct conn {
	int fd;
	bool hello;
	struct ucred cred;
};

struct drv_ctl {
	struct drv *d;
	int lfd;
	uid_t uid; /* the flow manager's */
	struct conn conn[CTL_MAX_CONN];
	struct rpc_frame *frame;
	struct rpc_arena arena;
	uint8_t *arena_buf;
	uint64_t session;
	char events[PATH_MAX]; /* told in HelloReply; "" for none */
};

static void
conn_close(struct drv_ctl *c, struct conn *k)
{
	epoll_ctl(drv_epoll_fd(c->d), EPOLL_CTL_DEL, k->fd, NULL);
	close(k->fd);
	k->fd = -1;
	k->hello = false;
}

struct drv_ctl *
drv_ctl_open(struct drv *d, const char *path, uid_t flowmgr_uid)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CTL_EPOLL_TOKEN};
	struct drv_ctl *c = calloc(1, sizeof(*c));
	int e;

	if (!c)
		return NULL;
	c->d = d;
	c->uid = flowmgr_uid;
	for (int i = 0; i < CTL_MAX_CONN; i++)
		c->conn[i].fd = -1;
	c->frame = malloc(sizeof(*c->frame));
	c->arena_buf = malloc(RPC_ARENA_SIZE);
	if (!c->frame || !c->arena_buf) {
		e = ENOMEM;
		goto out_free;
	}
	rpc_arena_init(&c->arena, c->arena_buf, RPC_ARENA_SIZE);
	rpc_frame_init(c->frame);
	/* The socket's mode limits who can connect at all; the uid check on
	 * every connection is what makes it the flow manager's. */
	c->lfd = rpc_listen(path, 0660);
	if (c->lfd < 0) {
		e = -c->lfd;
		goto out_free;
	}
	if (epoll_ctl(drv_epoll_fd(d), EPOLL_CTL_ADD, c->lfd, &ev) < 0) {
		e = errno;
		close(c->lfd);
		goto out_free;
	}
	return c;

out_free:
	free(c->frame);
	free(c->arena_buf);
	free(c);
	errno = e;
	return NULL;
}

void
drv_ctl_set_events(struct drv_ctl *c, const char *addr)
{
	snprintf(c->events, sizeof(c->events), "%s", addr ? addr : "");
}

void
drv_ctl_close(struct drv_ctl *c)
{
	if (!c)
		return;
	for (int i = 0; i < CTL_MAX_CONN; i++)
		if (c->conn[i].fd >= 0)
			conn_close(c, &c->conn[i]);
	epoll_ctl(drv_epoll_fd(c->d), EPOLL_CTL_DEL, c->lfd, NULL);
	close(c->lfd);
	rpc_frame_fini(c->frame);
	free(c->frame);
	free(c->arena_buf);
	free(c);
}

static void
accept_all(struct drv_ctl *c)
{
	for (;;) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = CTL_EPOLL_TOKEN};
		struct ucred cred;
		struct conn *k = NULL;
		int fd = rpc_accept(c->lfd);

		if (fd < 0)
			return;
		if (rpc_peer_cred(fd, &cred) < 0 || cred.uid != c->uid) {
			fprintf(stderr,
			    "driver: control connection from uid %d refused (flow "
			    "manager is uid %d)\n",
			    (int)cred.uid, (int)c->uid);
			close(fd);
			continue;
		}
		for (int i = 0; i < CTL_MAX_CONN && !k; i++)
			if (c->conn[i].fd < 0)
				k = &c->conn[i];
		if (!k || epoll_ctl(drv_epoll_fd(c->d), EPOLL_CTL_ADD, fd, &ev) < 0) {
			close(fd);
			continue;
		}
		k->fd = fd;
		k->hello = false;
		k->cred = cred;
	}
}

/* ---- conversions (proto: host order; filters: network order) ---------------- */

static int
proto_of(Sluice__Proto p, uint8_t *out)
{
	if (p != SLUICE__PROTO__PROTO_UDP && p != SLUICE__PROTO__PROTO_TCP)
		return -EINVAL;
	*out = (uint8_t)p;
	return 0;
}

static int
port_of(uint32_t p, bool may_be_zero, uint16_t *out)
{
	if (p > 65535 || (!may_be_zero && p == 0))
		return -EINVAL;
	*out = htons((uint16_t)p);
	return 0;
}

static int
rx_spec_of(const Sluice__Drv__RxFilter *m, struct flt_flow_spec *s)
{
	memset(s, 0, sizeof(*s));
	if (!m || proto_of(m->proto, &s->proto) < 0)
		return -EINVAL;
	switch (m->kind) {
	case SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED:
		s->kind = FLT_KIND_CONNECTED;
		break;
	case SLUICE__FLOW_KIND__FLOW_KIND_BOUND:
		s->kind = FLT_KIND_BOUND;
		break;
	case SLUICE__FLOW_KIND__FLOW_KIND_LISTENING:
		s->kind = FLT_KIND_LISTENING;
		break;
	default:
		return -EINVAL;
	}
	s->local_addr = htonl(m->local_addr);
	s->remote_addr = htonl(m->remote_addr);
	s->flags = m->inorder_frags ? FLT_FLOW_F_INORDER_FRAGS : 0;
	if (port_of(m->local_port, false, &s->local_port) < 0 ||
	    port_of(m->remote_port, true, &s->remote_port) < 0)
		return -EINVAL;
	return 0;
}

static int
tx_spec_of(const Sluice__Drv__TxTemplate *m, struct flt_tx_spec *t)
{
	memset(t, 0, sizeof(*t));
	if (!m || m->src_mac.len != 6 || proto_of(m->proto, &t->proto) < 0 || m->mtu > 65535)
		return -EINVAL;
	memcpy(t->src_mac, m->src_mac.data, 6);
	t->src_addr = htonl(m->src_addr);
	t->dst_addr = htonl(m->dst_addr);
	t->connected = m->dst_addr != 0;
	t->mtu = (uint16_t)(m->mtu ? m->mtu : 1500);
	t->flags = (uint16_t)((m->ip_options ? FLT_TX_F_IP_OPTIONS : 0) |
			      (m->fragments ? FLT_TX_F_FRAGMENTS : 0));
	if (port_of(m->src_port, false, &t->src_port) < 0 ||
	    port_of(m->dst_port, true, &t->dst_port) < 0)
		return -EINVAL;
	return 0;
}

/*
 * Attach what an AddFlow or SetupException carries. The descriptors are
 * taken from the frame and closed here once the driver holds its own
 * duplicates (or the add failed).
 */
static int
add(struct drv_ctl *c, struct drv_flow_cfg *fc, const Sluice__Chan *rx, const Sluice__Chan *tx)
{
	struct rbuf_chan_fds rf = {-1, -1, -1, -1}, tf = {-1, -1, -1, -1};
	int rc = 0;

	if (rx &&
	    (rpc_chan_geom(rx, RBUF_MODE_RMM, &fc->rx_geom) < 0 ||
		rpc_fds_take_chan(c->frame, rx->fds, &rf.ctrl, &rf.data, &rf.wait, &rf.kick) < 0))
		rc = -EBADMSG;
	if (!rc && tx &&
	    (rpc_chan_geom(tx, RBUF_MODE_TMM, &fc->tx_geom) < 0 ||
		rpc_fds_take_chan(c->frame, tx->fds, &tf.ctrl, &tf.data, &tf.wait, &tf.kick) < 0))
		rc = -EBADMSG;
	if (!rc) {
		fc->rx = rx ? &rf : NULL;
		fc->tx = tx ? &tf : NULL;
		rc = drv_flow_add(c->d, fc);
	}
	rbuf_chan_fds_close(&rf);
	rbuf_chan_fds_close(&tf);
	return rc;
}

/* ---- requests -------------------------------------------------------------------- */

static int
on_add_flow(struct drv_ctl *c, struct conn *k, const Sluice__Drv__AddFlow *m)
{
	Sluice__Drv__AddFlowReply r;
	struct drv_flow_cfg fc = {.id = m->flow_id};
	int rc;

	sluice__drv__add_flow_reply__init(&r);
	if (m->flow_id == DRV_FLOW_EXC || m->port != 0)
		return rpc_reply_error(k->fd, &c->frame->hdr, EINVAL,
		    "flow id 0 is the exception channel; port must be 0 (one port per driver)");
	if (rx_spec_of(m->rx, &fc.rx_spec) < 0 ||
	    (m->tx_chan && tx_spec_of(m->tx, &fc.tx_spec) < 0))
		return rpc_reply_error(k->fd, &c->frame->hdr, EINVAL,
		    "receive filter or transmit template out of range");
	if (m->qos) {
		if (m->qos->slice_ns > m->qos->period_ns)
			return rpc_reply_error(k->fd, &c->frame->hdr, EINVAL, "slice above period");
		fc.period_ns = m->qos->period_ns;
		fc.slice_ns = m->qos->slice_ns;
		fc.extra = m->qos->extra;
	}
	if (m->owner) {
		fc.owner_pid = m->owner->pid;
		fc.owner_uid = m->owner->uid;
		if (m->owner->comm)
			snprintf(fc.owner_comm, sizeof(fc.owner_comm), "%s", m->owner->comm);
	}
	rc = add(c, &fc, m->rx_chan, m->tx_chan);
	if (rc == -EBADMSG)
		return rpc_reply_error(k->fd, &c->frame->hdr, EBADMSG,
		    "channel geometry or descriptor indices missing or wrong");
	if (rc < 0)
		return rpc_reply_error(k->fd, &c->frame->hdr, -rc, "%s", drv_errmsg());
	r.flow_id = m->flow_id;
	return rpc_reply(k->fd, &c->frame->hdr, RPC_T_DRV_ADD_FLOW_REPLY, &r.base, NULL, 0);
}

static int
on_setup_exception(struct drv_ctl *c, struct conn *k, const Sluice__Drv__SetupException *m)
{
	Sluice__Ok ok;
	struct drv_flow_cfg fc = {.id = DRV_FLOW_EXC};
	int rc;

	sluice__ok__init(&ok);
	if (m->port != 0)
		return rpc_reply_error(k->fd, &c->frame->hdr, EINVAL, "port must be 0");
	/* A new flow manager replaces the old one's channels. */
	drv_flow_remove(c->d, DRV_FLOW_EXC);
	rc = add(c, &fc, m->rx_chan, m->tx_chan);
	if (rc < 0)
		return rpc_reply_error(k->fd, &c->frame->hdr, -rc, "%s",
		    rc == -EBADMSG ? "channel geometry or descriptors wrong" : drv_errmsg());
	return rpc_reply(k->fd, &c->frame->hdr, RPC_T_OK, &ok.base, NULL, 0);
}

static int
on_get_counters(struct drv_ctl *c, struct conn *k, const Sluice__Drv__GetCounters *m)
{
	static struct drv_flow_counters_msg fcs[CTL_DUMP_PAGE];
	static Sluice__FlowCounters *fptr[CTL_DUMP_PAGE];
	static struct drv_port_counters_msg pcm;
	static Sluice__PortCounters *pcp = &pcm.pc;
	Sluice__Drv__CountersReply r;
	struct timespec ts;

	sluice__drv__counters_reply__init(&r);
	if (m->n_flow_ids > CTL_DUMP_PAGE)
		return rpc_reply_error(
		    k->fd, &c->frame->hdr, E2BIG, "at most %d flows per request", CTL_DUMP_PAGE);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	for (size_t i = 0; i < m->n_flow_ids; i++) {
		drv_flow_counters_fill(c->d, m->flow_ids[i], &fcs[i]);
		fptr[i] = &fcs[i].fc;
	}
	r.n_flows = m->n_flow_ids;
	r.flows = fptr;
	if (m->ports) {
		drv_port_counters_fill(c->d, &pcm);
		r.n_ports = 1;
		r.ports = &pcp;
	}
	return rpc_reply(k->fd, &c->frame->hdr, RPC_T_DRV_COUNTERS_REPLY, &r.base, NULL, 0);
}

static int
on_dump_flows(struct drv_ctl *c, struct conn *k, const Sluice__Drv__DumpFlows *m)
{
	static Sluice__Drv__FlowEntry ent[CTL_DUMP_PAGE];
	static Sluice__Drv__FlowEntry *eptr[CTL_DUMP_PAGE];
	static Sluice__Drv__AddFlow af[CTL_DUMP_PAGE];
	static Sluice__Drv__RxFilter rxf[CTL_DUMP_PAGE];
	static Sluice__Drv__TxTemplate txt[CTL_DUMP_PAGE];
	static Sluice__Qos qos[CTL_DUMP_PAGE];
	static Sluice__Drv__Owner own[CTL_DUMP_PAGE];
	static char comm[CTL_DUMP_PAGE][16];
	static uint8_t macs[CTL_DUMP_PAGE][6];
	static struct drv_flow_counters_msg fcs[CTL_DUMP_PAGE];
	static Sluice__Chan chans[CTL_DUMP_PAGE][2];
	static Sluice__ChanGeom geoms[CTL_DUMP_PAGE][2];
	static Sluice__ChanFds cfds[CTL_DUMP_PAGE][2];
	int fds[RPC_MAX_FDS];
	Sluice__Drv__DumpFlowsReply r;
	unsigned page = m->with_chans ? RPC_MAX_FDS / 8 : CTL_DUMP_PAGE;
	unsigned max = m->max_flows && m->max_flows < page ? m->max_flows : page;
	unsigned n = 0, n_fds = 0;
	uint32_t id;

	sluice__drv__dump_flows_reply__init(&r);
	for (id = m->after_flow_id + 1; id < c->d->cfg.max_flows && n < max; id++) {
		struct drv_flow_info fi;

		if (drv_flow_info(c->d, id, &fi) < 0 || fi.state != DRV_FLOW_ACTIVE)
			continue;
		sluice__drv__flow_entry__init(&ent[n]);
		sluice__drv__add_flow__init(&af[n]);
		sluice__drv__rx_filter__init(&rxf[n]);
		sluice__drv__tx_template__init(&txt[n]);
		sluice__qos__init(&qos[n]);
		sluice__drv__owner__init(&own[n]);
		af[n].flow_id = id;
		rxf[n].proto = (Sluice__Proto)fi.rx_spec.proto;
		rxf[n].kind = (Sluice__FlowKind)fi.rx_spec.kind;
		rxf[n].local_addr = ntohl(fi.rx_spec.local_addr);
		rxf[n].remote_addr = ntohl(fi.rx_spec.remote_addr);
		rxf[n].local_port = ntohs(fi.rx_spec.local_port);
		rxf[n].remote_port = ntohs(fi.rx_spec.remote_port);
		rxf[n].inorder_frags = !!(fi.rx_spec.flags & FLT_FLOW_F_INORDER_FRAGS);
		af[n].rx = &rxf[n];
		if (fi.has_tx) {
			memcpy(macs[n], fi.tx_spec.src_mac, 6);
			txt[n].src_mac.data = macs[n];
			txt[n].src_mac.len = 6;
			txt[n].src_addr = ntohl(fi.tx_spec.src_addr);
			txt[n].dst_addr = ntohl(fi.tx_spec.dst_addr);
			txt[n].proto = (Sluice__Proto)fi.tx_spec.proto;
			txt[n].src_port = ntohs(fi.tx_spec.src_port);
			txt[n].dst_port = ntohs(fi.tx_spec.dst_port);
			txt[n].mtu = fi.tx_spec.mtu;
			af[n].tx = &txt[n];
		}
		qos[n].period_ns = fi.period_ns;
		qos[n].slice_ns = fi.slice_ns;
		qos[n].extra = fi.extra;
		af[n].qos = &qos[n];
		own[n].pid = fi.owner_pid;
		own[n].uid = fi.owner_uid;
		memcpy(comm[n], fi.owner_comm, 16);
		own[n].comm = comm[n];
		af[n].owner = &own[n];
		/* The geometry always; the descriptors when asked for, so that
		 * the flow manager can install the flow again (driver.proto). */
		if (m->with_chans) {
			struct rbuf_chan_fds rx, tx;

			drv_flow_chan_fds(c->d, id, &rx, &tx);
			if (fi.has_rx && fi.has_tx && rx.ctrl >= 0 && tx.ctrl >= 0) {
				rpc_chan_msg(
				    &chans[n][0], &geoms[n][0], &cfds[n][0], &fi.rx_geom, n_fds);
				rpc_chan_msg(&chans[n][1], &geoms[n][1], &cfds[n][1], &fi.tx_geom,
				    n_fds + 4);
				fds[n_fds++] = rx.ctrl;
				fds[n_fds++] = rx.data;
				fds[n_fds++] = rx.wait;
				fds[n_fds++] = rx.kick;
				fds[n_fds++] = tx.ctrl;
				fds[n_fds++] = tx.data;
				fds[n_fds++] = tx.wait;
				fds[n_fds++] = tx.kick;
				af[n].rx_chan = &chans[n][0];
				af[n].tx_chan = &chans[n][1];
			}
		} else {
			for (int j = 0; j < 2; j++) {
				sluice__chan__init(&chans[n][j]);
				rpc_chan_geom_msg(&geoms[n][j], j ? &fi.tx_geom : &fi.rx_geom);
				chans[n][j].geom = &geoms[n][j];
			}
			if (fi.has_rx)
				af[n].rx_chan = &chans[n][0];
			if (fi.has_tx)
				af[n].tx_chan = &chans[n][1];
		}
		ent[n].flow = &af[n];
		if (m->with_counters) {
			drv_flow_counters_fill(c->d, id, &fcs[n]);
			ent[n].counters = &fcs[n].fc;
		}
		eptr[n] = &ent[n];
		n++;
	}
	for (; id < c->d->cfg.max_flows && !r.more; id++)
		r.more = c->d->flows[id].state == DRV_FLOW_ACTIVE;
	r.n_flows = n;
	r.flows = eptr;
	return rpc_reply(k->fd, &c->frame->hdr, RPC_T_DRV_DUMP_FLOWS_REPLY, &r.base, fds, n_fds);
}

static int
on_get_ports(struct drv_ctl *c, struct conn *k)
{
	Sluice__Drv__PortsReply r;
	Sluice__Drv__PortInfo pi, *pip = &pi;
	struct rte_ether_addr mac;
	struct rte_eth_link link;
	char name[RTE_ETH_NAME_MAX_LEN] = "";
	uint16_t mtu = 0;

	sluice__drv__ports_reply__init(&r);
	sluice__drv__port_info__init(&pi);
	rte_eth_dev_get_name_by_port(drv_port(c->d), name);
	rte_eth_macaddr_get(drv_port(c->d), &mac);
	memset(&link, 0, sizeof(link));
	rte_eth_link_get_nowait(drv_port(c->d), &link);
	rte_eth_dev_get_mtu(drv_port(c->d), &mtu);
	pi.port = 0;
	pi.name = name;
	pi.mac.data = mac.addr_bytes;
	pi.mac.len = 6;
	pi.link_bps = drv_link_bps(c->d);
	pi.reserved_ppm = drv_reserved_ppm(c->d);
	pi.mtu = mtu;
	pi.link_up = link.link_status == RTE_ETH_LINK_UP;
	r.n_ports = 1;
	r.ports = &pip;
	return rpc_reply(k->fd, &c->frame->hdr, RPC_T_DRV_PORTS_REPLY, &r.base, NULL, 0);
}

/* Serve one frame; returns < 0 when the connection must close. */
static int
serve(struct drv_ctl *c, struct conn *k)
{
	const struct rpc_hdr *h = &c->frame->hdr;
	ProtobufCMessage *msg;
	Sluice__Ok ok;
	int rc;

	sluice__ok__init(&ok);
	msg = rpc_unpack(rpc_type_desc(h->type), c->frame, &c->arena);
	if (!msg)
		return rpc_reply_error(k->fd, h, errno, "cannot decode %s: %s",
			   rpc_type_name(h->type), rpc_errmsg()) < 0
			   ? -1
			   : 0;
	if (!k->hello && h->type != RPC_T_HELLO)
		return rpc_reply_error(k->fd, h, EPROTO, "Hello first");
	switch (h->type) {
	case RPC_T_HELLO: {
		Sluice__HelloReply r;

		sluice__hello_reply__init(&r);
		if (rpc_hello_check(((Sluice__Hello *)msg)->major) < 0)
			return rpc_reply_error(k->fd, h, EPROTO,
			    "schema major %u, driver speaks %u", ((Sluice__Hello *)msg)->major,
			    RPC_SCHEMA_MAJOR);
		k->hello = true;
		r.major = RPC_SCHEMA_MAJOR;
		r.minor = RPC_SCHEMA_MINOR;
		r.software = rpc_str("sluice-driver " SLUICE_VERSION);
		r.session = ++c->session;
		r.events = c->events;
		return rpc_reply(k->fd, h, RPC_T_HELLO_REPLY, &r.base, NULL, 0);
	}
	case RPC_T_DRV_ADD_FLOW:
		return on_add_flow(c, k, (Sluice__Drv__AddFlow *)msg);
	case RPC_T_DRV_SETUP_EXCEPTION:
		return on_setup_exception(c, k, (Sluice__Drv__SetupException *)msg);
	case RPC_T_DRV_REMOVE_FLOW:
		rc = drv_flow_remove(c->d, ((Sluice__Drv__RemoveFlow *)msg)->flow_id);
		break;
	case RPC_T_DRV_SET_QOS: {
		Sluice__Drv__SetQos *m = (Sluice__Drv__SetQos *)msg;

		rc = m->qos ? drv_flow_set_qos(c->d, m->flow_id, m->qos->period_ns,
				  m->qos->slice_ns, m->qos->extra)
			    : -EINVAL;
		break;
	}
	case RPC_T_DRV_UPDATE_TEMPLATE: {
		Sluice__Drv__UpdateTemplate *m = (Sluice__Drv__UpdateTemplate *)msg;
		struct flt_tx_spec t;

		rc = tx_spec_of(m->tx, &t) < 0 ? -EINVAL : drv_flow_set_tx(c->d, m->flow_id, &t);
		break;
	}
	case RPC_T_DRV_DUMP_FLOWS:
		return on_dump_flows(c, k, (Sluice__Drv__DumpFlows *)msg);
	case RPC_T_DRV_GET_COUNTERS:
		return on_get_counters(c, k, (Sluice__Drv__GetCounters *)msg);
	case RPC_T_DRV_GET_PORTS:
		return on_get_ports(c, k);
	default:
		return rpc_reply_error(
		    k->fd, h, ENOSYS, "%s is not a driver request", rpc_type_name(h->type));
	}
	if (rc < 0)
		return rpc_reply_error(k->fd, h, -rc, "%s", strerror(-rc));
	return rpc_reply(k->fd, h, RPC_T_OK, &ok.base, NULL, 0);
}

void
drv_ctl_poll(void *arg)
{
	struct drv_ctl *c = arg;
	unsigned served = 0;

	accept_all(c);
	for (int i = 0; i < CTL_MAX_CONN && served < CTL_PER_POLL; i++) {
		struct conn *k = &c->conn[i];

		while (k->fd >= 0 && served < CTL_PER_POLL) {
			int rc = rpc_recv(k->fd, c->frame);

			if (rc == -EAGAIN)
				break;
			served++;
			if (rc == -EMSGSIZE || rc == -ETOOMANYREFS || rc == -ENOMSG) {
				/* Framed well enough to answer, then the end. */
				rpc_reply_error(k->fd, &c->frame->hdr, -rc, "%s", rpc_errmsg());
				rpc_frame_fini(c->frame);
				conn_close(c, k);
				break;
			}
			if (rc < 0) {
				conn_close(c, k);
				break;
			}
			rc = serve(c, k);
			rpc_frame_fini(c->frame); /* closes descriptors nobody took */
			if (rc < 0) {
				conn_close(c, k);
				break;
			}
		}
	}
}
