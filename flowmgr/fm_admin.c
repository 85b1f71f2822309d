/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Administration and events (DESIGN.md section 5; proto/admin.proto), on
 * two nanomsg sockets in the runtime directory:
 *
 *   admin.ipc   REP, service Admin: ListFlows (paged), FlowShow, Stats,
 *               ArpShow, RouteAdd, RouteDel, RouteShow, QosSet, Version.
 *   events.ipc  PUB: a FlowEvent at every open, close, revocation, QoS
 *               change and FIB change of a flow.
 *
 * Who may: nanomsg knows no peer credentials, so the socket files'
 * permissions are the access control. Both are bound under umask 077, then
 * made mode 0660 and given to admin_group: only root and that group can
 * connect at all, and every request from them is an administrator's.
 *
 * Each message is one frame of proto/rpc.h without descriptors
 * (rpc_frame_pack(), rpc_frame_parse()). admin.ipc's NN_RCVFD is in the
 * loop's epoll set (FM_TOK_ADMIN), and requests are served in the loop
 * thread, FM_ADMIN_BURST per turn, like applications' requests. Every
 * request gets exactly one reply, as REP requires: the answer, or a
 * sluice.Error (EBADMSG, EPROTO, ENOMSG for what is not a frame or not a
 * request, with id 0 when not even the header could be read). A client can
 * make the flow manager answer, never stop it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>

#include "flowmgr/fm_priv.h"

#define ADM_MAX_ARP 512 /* entries in one ArpTable (the cache holds 256 by default) */
#define ADM_MAX_RT  256 /* routes in one RouteTable (the table's default size) */

static uint64_t
clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- sockets --------------------------------------------------------------------------- */

/*
 * Bind @sock at ipc://@path, mode 0660, group admin_group; the address goes
 * into @addr only once it is ours (fm_admin_close() removes that file).
 */
static int
bind_ipc(struct fm *fm, int sock, const char *path, char *addr, size_t addr_cap)
{
	const struct fm_cfg *c = &fm->cfg;
	gid_t gid = c->admin_group[0] ? c->admin_gid : 0;
	char a[PATH_MAX + 8];
	struct stat st;
	mode_t um;
	int rc, e;

	if (snprintf(a, sizeof(a), "ipc://%s", path) >= (int)addr_cap) {
		fm_log("%s: path too long", path);
		return -ENAMETOOLONG;
	}
	/* Nobody but us may connect before the mode and group are right. */
	um = umask(077);
	rc = nn_bind(sock, a);
	e = errno;
	umask(um);
	if (rc < 0) {
		fm_log("%s: %s", a, nn_strerror(e));
		return -e;
	}
	snprintf(addr, addr_cap, "%s", a);
	if (chmod(path, 0660) < 0 || stat(path, &st) < 0) {
		e = errno;
		fm_log("%s: %s", path, strerror(e));
		return -e;
	}
	if (st.st_gid != gid && chown(path, (uid_t)-1, gid) < 0) {
		e = errno;
		if (c->admin_group[0]) {
			fm_log("%s: group %s: %s", path, c->admin_group, strerror(e));
			return -e;
		}
		/* Not root: the file stays our group's, which is no wider. */
		fm_log("note: %s stays in group %u (%s)", path, (unsigned)st.st_gid, strerror(e));
	}
	return 0;
}

int
fm_admin_open(struct fm *fm)
{
	char path[PATH_MAX];
	int max = RPC_MAX_MSG, rc;
	size_t sz = sizeof(fm->adm_fd);

	fm->adm_buf = malloc(RPC_MAX_MSG);
	fm->adm_sock = nn_socket(AF_SP, NN_REP);
	fm->ev_sock = nn_socket(AF_SP, NN_PUB);
	if (!fm->adm_buf || fm->adm_sock < 0 || fm->ev_sock < 0) {
		rc = fm->adm_buf ? -errno : -ENOMEM;
		fm_log("admin sockets: %s", nn_strerror(-rc));
		goto fail;
	}
	/* Larger messages are dropped by nanomsg, before we see them. */
	nn_setsockopt(fm->adm_sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof(max));
	snprintf(path, sizeof(path), "%s/admin.ipc", fm->cfg.runtime_dir);
	rc = bind_ipc(fm, fm->adm_sock, path, fm->adm_addr, sizeof(fm->adm_addr));
	if (rc < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/events.ipc", fm->cfg.runtime_dir);
	rc = bind_ipc(fm, fm->ev_sock, path, fm->ev_addr, sizeof(fm->ev_addr));
	if (rc < 0)
		goto fail;
	if (nn_getsockopt(fm->adm_sock, NN_SOL_SOCKET, NN_RCVFD, &fm->adm_fd, &sz) < 0) {
		rc = -errno;
		goto fail;
	}
	fm_epoll_add(fm, fm->adm_fd, FM_TOK_ADMIN);
	return 0;

fail:
	fm_admin_close(fm);
	errno = -rc;
	return rc;
}

void
fm_admin_close(struct fm *fm)
{
	if (fm->adm_fd >= 0)
		fm_epoll_del(fm, fm->adm_fd);
	fm->adm_fd = -1;
	if (fm->adm_sock >= 0)
		nn_close(fm->adm_sock);
	if (fm->ev_sock >= 0)
		nn_close(fm->ev_sock);
	fm->adm_sock = fm->ev_sock = -1;
	/* nanomsg leaves the files behind. */
	if (fm->adm_addr[0])
		unlink(fm->adm_addr + 6);
	if (fm->ev_addr[0])
		unlink(fm->ev_addr + 6);
	fm->adm_addr[0] = fm->ev_addr[0] = '\0';
	free(fm->adm_buf);
	fm->adm_buf = NULL;
}

/* ---- messages -------------------------------------------------------------------------- */

/* A FlowInfo and what it points to. */
struct info_msg {
	Sluice__Admin__FlowInfo fi;
	Sluice__Sap l, r;
	Sluice__Qos q;
};

static void
info_fill(const struct fm *fm, const struct fm_flow *f, struct info_msg *m)
{
	Sluice__Admin__FlowInfo *fi = &m->fi;

	sluice__admin__flow_info__init(fi);
	sluice__sap__init(&m->l);
	sluice__sap__init(&m->r);
	sluice__qos__init(&m->q);
	fi->flow_id = f->id;
	fi->proto = (Sluice__Proto)f->proto;
	fi->kind = (Sluice__FlowKind)f->kind;
	m->l.addr = f->laddr;
	m->l.port = f->lport;
	fi->local = &m->l;
	if (f->kind == SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED) {
		m->r.addr = f->raddr;
		m->r.port = f->rport;
		fi->remote = &m->r;
	}
	m->q.period_ns = f->period_ns;
	m->q.slice_ns = f->slice_ns;
	m->q.extra = f->extra;
	fi->qos = &m->q;
	fi->iface = rpc_str(fm_ifname(fm));
	fi->owner_pid = (uint32_t)f->owner_pid;
	fi->owner_uid = (uint32_t)f->owner_uid;
	fi->owner_comm = rpc_str(f->owner_comm);
	fi->opened_ns = f->opened_ns;
	fi->orphan = f->conn < 0 && f->orphan_deadline_ns != 0;
}

void
fm_admin_flow_event(struct fm *fm, const struct fm_flow *f, int kind, const char *reason)
{
	Sluice__Admin__FlowEvent m;
	struct info_msg im;
	int len;

	if (fm->ev_sock < 0)
		return;
	sluice__admin__flow_event__init(&m);
	info_fill(fm, f, &im);
	m.timestamp_ns = clock_ns(CLOCK_REALTIME);
	m.seq = ++fm->ev_seq;
	m.kind = (Sluice__Admin__FlowEventKind)kind;
	m.flow = &im.fi;
	m.reason = rpc_str(reason ? reason : "");
	len = rpc_frame_pack(fm->adm_buf, RPC_MAX_MSG, RPC_T_EV_FLOW, (uint32_t)m.seq, &m.base, 0);
	/* A PUB socket never blocks: a subscriber that cannot keep up misses
	 * events, and sees the gap in seq. */
	if (len < 0 || nn_send(fm->ev_sock, fm->adm_buf, (size_t)len, NN_DONTWAIT) < 0)
		fm->ctr_ev_failed++;
	else
		fm->ctr_ev++;
}

/* ---- replies --------------------------------------------------------------------------- */

static int
send_reply(struct fm *fm, const struct rpc_hdr *h, unsigned type, const ProtobufCMessage *m)
{
	int len = rpc_frame_pack(fm->adm_buf, RPC_MAX_MSG, type, h->id, m, 0);

	if (len < 0) {
		/* Only a reply too large for a frame: say so instead. */
		Sluice__Error e;
		char msg[FM_MAX_ERRLINE];

		snprintf(msg, sizeof(msg), "%s", rpc_errmsg());
		sluice__error__init(&e);
		e.errnum = -len;
		e.message = msg;
		e.request_type = h->type;
		len = rpc_frame_pack(fm->adm_buf, RPC_MAX_MSG, RPC_T_ERROR, h->id, &e.base, 0);
		fm->ctr_adm_err++;
		if (len < 0)
			return 0;
	}
	if (nn_send(fm->adm_sock, fm->adm_buf, (size_t)len, NN_DONTWAIT) < 0)
		fm_log("admin: reply to %s lost: %s", rpc_type_name(h->type), nn_strerror(errno));
	return 0;
}

static int
reply_err(struct fm *fm, const struct rpc_hdr *h, struct fm_err *r)
{
	r->e.request_type = h->type;
	fm->ctr_adm_err++;
	return send_reply(fm, h, RPC_T_ERROR, &r->e.base);
}

static int __attribute__((format(printf, 4, 5)))
reply_error(struct fm *fm, const struct rpc_hdr *h, int err, const char *fmt, ...)
{
	struct fm_err r;
	va_list ap;

	fm_err_set(&r, err, "%s", "");
	va_start(ap, fmt);
	vsnprintf(r.msg, sizeof(r.msg), fmt, ap);
	va_end(ap);
	return reply_err(fm, h, &r);
}

static int
reply_ok(struct fm *fm, const struct rpc_hdr *h)
{
	Sluice__Ok ok;

	sluice__ok__init(&ok);
	return send_reply(fm, h, RPC_T_OK, &ok.base);
}

static const char *
ip_str(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

/* ---- requests -------------------------------------------------------------------------- */

static int
list_flows(struct fm *fm, const struct rpc_hdr *h, const Sluice__Admin__ListFlows *m)
{
	static struct info_msg im[FM_ADMIN_PAGE];
	static Sluice__Admin__FlowInfo *ptr[FM_ADMIN_PAGE];
	Sluice__Admin__FlowList r;
	uint32_t id = m->after_flow_id < FM_MAX_FLOWS ? m->after_flow_id + 1 : FM_MAX_FLOWS;
	unsigned n = 0;

	sluice__admin__flow_list__init(&r);
	for (; id < FM_MAX_FLOWS; id++) {
		if (fm->flows[id].state == FM_FLOW_FREE)
			continue;
		if (n == FM_ADMIN_PAGE) {
			r.more = true;
			break;
		}
		info_fill(fm, &fm->flows[id], &im[n]);
		ptr[n] = &im[n].fi;
		n++;
	}
	r.flows = ptr;
	r.n_flows = n;
	return send_reply(fm, h, RPC_T_ADM_FLOW_LIST, &r.base);
}

static int
flow_show(struct fm *fm, const struct rpc_hdr *h, const Sluice__Admin__FlowShow *m)
{
	struct fm_flow *f = fm_flow_get(fm, m->flow_id);
	Sluice__Admin__FlowDetail r;
	struct info_msg im;
	Sluice__Fm__Fib fib;
	Sluice__Sap l, rm;
	Sluice__Qos q;
	Sluice__ChanGeom rg, tg;
	Sluice__FlowCounters **ctr = NULL;
	size_t n_ctr = 0;
	uint8_t hdr[64];
	uint32_t id;

	if (!f)
		return reply_error(fm, h, ENOENT, "no flow %u", m->flow_id);
	id = f->id;
	sluice__admin__flow_detail__init(&r);
	info_fill(fm, f, &im);
	fm_fib_fill(fm, f, &fib, &l, &rm, &q, &rg, &tg, hdr, sizeof(hdr));
	r.info = &im.fi;
	r.fib = &fib;
	/* Counters when the driver can say; the rest stands without them. */
	if (fm->drv_up && f->installed && fm_drv_counters(fm, &id, 1, &ctr, &n_ctr) == 0 &&
	    n_ctr == 1)
		r.counters = ctr[0];
	return send_reply(fm, h, RPC_T_ADM_FLOW_DETAIL, &r.base);
}

/* The flow manager's own counters, by name. */
#define ADM_MAX_CTRS (FM_PKT_ACT__COUNT + FM_PKT_DROP__COUNT + 16)

static int
stats(struct fm *fm, const struct rpc_hdr *h)
{
	static Sluice__Counter ctr[ADM_MAX_CTRS];
	static Sluice__Counter *ptr[ADM_MAX_CTRS];
	static char names[FM_PKT_DROP__COUNT][32];
	Sluice__Admin__StatsReply r;
	Sluice__PortCounters **ports = NULL;
	size_t n_ports = 0;
	struct fm_pkt_stats ps;
	struct fm_arp_stats as;
	unsigned n = 0;

#define CTR(nm, v)                              \
	do {                                    \
		sluice__counter__init(&ctr[n]); \
		ctr[n].name = rpc_str(nm);      \
		ctr[n].value = (v);             \
		ptr[n] = &ctr[n];               \
		n++;                            \
	} while (0)
	sluice__admin__stats_reply__init(&r);
	fm_pkt_stats_get(fm->pkt, &ps);
	fm_arp_stats_get(fm->arp, &as);
	for (unsigned a = 0; a < FM_PKT_ACT__COUNT; a++)
		if (strcmp(fm_pkt_action_name(a), "?") != 0)
			CTR(fm_pkt_action_name(a), ps.action[a]);
	for (unsigned d = 1; d < FM_PKT_DROP__COUNT; d++) {
		snprintf(names[d], sizeof(names[d]), "DROP_%s", fm_pkt_drop_name(d));
		CTR(names[d], ps.drop[d]);
	}
	CTR("ARP_REQUESTS", as.requests);
	CTR("ARP_PROBES", as.probes);
	CTR("ARP_RESOLVED", as.resolved);
	CTR("ARP_CHANGED", as.changed);
	CTR("ARP_FAILED", as.failed);
	CTR("ARP_EXPIRED", as.expired);
	CTR("ARP_EVICTED", as.evicted);
	CTR("ARP_FULL", as.full);
	CTR("EXC_RX", fm->ctr_exc_rx);
	CTR("EXC_TX", fm->ctr_exc_tx);
	CTR("EXC_TX_FULL", fm->ctr_exc_tx_full);
	CTR("ADMIN_REQUESTS", fm->ctr_adm_req);
	CTR("ADMIN_ERRORS", fm->ctr_adm_err);
	CTR("EVENTS", fm->ctr_ev);
	CTR("EVENTS_LOST", fm->ctr_ev_failed);
#undef CTR
	r.timestamp_ns = clock_ns(CLOCK_MONOTONIC);
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++)
		r.flows += fm->flows[i].state != FM_FLOW_FREE;
	r.manager_rx = ps.rx;
	r.manager = ptr;
	r.n_manager = n;
	if (fm->drv_up && fm_drv_port_counters(fm, &ports, &n_ports) == 0) {
		r.ports = ports;
		r.n_ports = n_ports;
	}
	return send_reply(fm, h, RPC_T_ADM_STATS_REPLY, &r.base);
}

static int
arp_show(struct fm *fm, const struct rpc_hdr *h)
{
	static struct fm_arp_info info[ADM_MAX_ARP];
	static Sluice__Admin__ArpEntry ent[ADM_MAX_ARP];
	static Sluice__Admin__ArpEntry *ptr[ADM_MAX_ARP];
	static const uint8_t zero[6];
	Sluice__Admin__ArpTable r;
	unsigned n = fm_arp_list(fm->arp, fm->now_ns, info, ADM_MAX_ARP);

	sluice__admin__arp_table__init(&r);
	for (unsigned i = 0; i < n; i++) {
		sluice__admin__arp_entry__init(&ent[i]);
		ent[i].addr = info[i].ip;
		if (memcmp(info[i].mac, zero, 6) != 0) {
			ent[i].mac.data = info[i].mac;
			ent[i].mac.len = 6;
		}
		ent[i].iface = rpc_str(fm_ifname(fm));
		ent[i].state = (Sluice__Admin__ArpState)info[i].state;
		ent[i].age_ms = info[i].age_ns / 1000000u;
		ptr[i] = &ent[i];
	}
	r.entries = ptr;
	r.n_entries = n;
	return send_reply(fm, h, RPC_T_ADM_ARP_TABLE, &r.base);
}

static int
route_show(struct fm *fm, const struct rpc_hdr *h)
{
	static struct fm_route rt[ADM_MAX_RT];
	static Sluice__Admin__Route msg[ADM_MAX_RT];
	static Sluice__Admin__Route *ptr[ADM_MAX_RT];
	Sluice__Admin__RouteTable r;
	unsigned n = fm_route_list(fm->routes, rt, ADM_MAX_RT);

	sluice__admin__route_table__init(&r);
	for (unsigned i = 0; i < n; i++) {
		sluice__admin__route__init(&msg[i]);
		msg[i].dst = rt[i].dst;
		msg[i].prefix_len = rt[i].prefix_len;
		msg[i].gateway = rt[i].gateway;
		msg[i].iface = rpc_str(fm_ifname(fm));
		msg[i].is_static = rt[i].type == FM_ROUTE_STATIC;
		ptr[i] = &msg[i];
	}
	r.routes = ptr;
	r.n_routes = n;
	return send_reply(fm, h, RPC_T_ADM_ROUTE_TABLE, &r.base);
}

static int
route_add(struct fm *fm, const struct rpc_hdr *h, const Sluice__Admin__RouteAdd *m)
{
	const Sluice__Admin__Route *rt = m->route;
	char d[16], g[16];
	int rc;

	if (!rt)
		return reply_error(fm, h, EINVAL, "route missing");
	if (rt->prefix_len > 32)
		return reply_error(fm, h, EINVAL, "prefix length %u is above 32", rt->prefix_len);
	if (!rt->gateway)
		return reply_error(fm, h, EINVAL,
		    "a route needs a gateway: the connected route comes from the interface's "
		    "address");
	if (rt->iface && rt->iface[0] && strcmp(rt->iface, fm_ifname(fm)) != 0)
		return reply_error(
		    fm, h, ENODEV, "no interface %s (there is %s)", rt->iface, fm_ifname(fm));
	ip_str(rt->dst, d, sizeof(d));
	ip_str(rt->gateway, g, sizeof(g));
	rc = fm_route_add_static(fm->routes, rt->dst, rt->prefix_len, rt->gateway);
	switch (rc) {
	case 0:
		break;
	case -EINVAL:
		return reply_error(fm, h, EINVAL,
		    "%s/%u via %s: host bits set in the prefix, or the gateway is our address", d,
		    rt->prefix_len, g);
	case -ENETUNREACH:
		return reply_error(fm, h, ENETUNREACH, "gateway %s is on no connected network", g);
	case -EEXIST:
		return reply_error(
		    fm, h, EEXIST, "a route to %s/%u exists; delete it first", d, rt->prefix_len);
	default:
		return reply_error(fm, h, -rc, "%s/%u: %s", d, rt->prefix_len, strerror(-rc));
	}
	fm_log("route %s/%u via %s added by the administrator", d, rt->prefix_len, g);
	fm_routes_changed(fm);
	return reply_ok(fm, h);
}

static int
route_del(struct fm *fm, const struct rpc_hdr *h, const Sluice__Admin__RouteDel *m)
{
	static struct fm_route rt[ADM_MAX_RT];
	unsigned n = fm_route_list(fm->routes, rt, ADM_MAX_RT);
	char d[16];
	int rc;

	if (m->prefix_len > 32)
		return reply_error(fm, h, EINVAL, "prefix length %u is above 32", m->prefix_len);
	ip_str(m->dst, d, sizeof(d));
	for (unsigned i = 0; i < n; i++)
		if (rt[i].dst == m->dst && rt[i].prefix_len == m->prefix_len &&
		    rt[i].type == FM_ROUTE_CONNECTED)
			return reply_error(fm, h, EPERM,
			    "%s/%u is the interface's connected route; change [interface] address "
			    "instead",
			    d, m->prefix_len);
	rc = fm_route_del(fm->routes, m->dst, m->prefix_len);
	if (rc == -ENOENT)
		return reply_error(fm, h, ENOENT, "no route to %s/%u", d, m->prefix_len);
	if (rc < 0)
		return reply_error(fm, h, -rc, "%s/%u: %s", d, m->prefix_len, strerror(-rc));
	fm_log("route %s/%u deleted by the administrator", d, m->prefix_len);
	fm_routes_changed(fm);
	return reply_ok(fm, h);
}

static int
qos_set(struct fm *fm, const struct rpc_hdr *h, const Sluice__Admin__QosSet *m)
{
	struct fm_flow *f = fm_flow_get(fm, m->flow_id);
	Sluice__Admin__QosSetReply r;
	Sluice__Qos q;
	struct fm_err err;

	if (!f)
		return reply_error(fm, h, ENOENT, "no flow %u", m->flow_id);
	if (!m->qos)
		return reply_error(fm, h, EINVAL, "qos missing");
	if (fm_flow_set_qos(fm, f, m->qos, "set by the administrator", &err) < 0)
		return reply_err(fm, h, &err);
	/* The FIB carries the guarantee: the application hears of it. */
	if (f->state == FM_FLOW_OPEN)
		fm_app_fib_changed(fm, f, "the administrator changed the flow's guarantee");
	sluice__admin__qos_set_reply__init(&r);
	sluice__qos__init(&q);
	q.period_ns = f->period_ns;
	q.slice_ns = f->slice_ns;
	q.extra = f->extra;
	r.granted = &q;
	return send_reply(fm, h, RPC_T_ADM_QOS_SET_REPLY, &r.base);
}

static int
version(struct fm *fm, const struct rpc_hdr *h)
{
	Sluice__Admin__VersionReply r;

	sluice__admin__version_reply__init(&r);
	r.software = rpc_str("sluice-flowmgr " SLUICE_VERSION);
	r.major = RPC_SCHEMA_MAJOR;
	r.minor = RPC_SCHEMA_MINOR;
	r.driver_software = fm->drv_up ? fm->drv_software : rpc_str("");
	r.driver_events = fm->drv_up ? fm->drv_events : rpc_str("");
	r.events = fm->ev_addr;
	return send_reply(fm, h, RPC_T_ADM_VERSION_REPLY, &r.base);
}

/* One frame in fm->frame, checked: answer it. */
static int
serve(struct fm *fm)
{
	const struct rpc_hdr *h = &fm->frame->hdr;
	ProtobufCMessage *msg;

	if (rpc_type_kind(h->type) != RPC_K_REQ || rpc_type_schema(h->type) != RPC_SCHEMA_ADMIN)
		return reply_error(
		    fm, h, ENOSYS, "%s is not an admin request", rpc_type_name(h->type));
	msg = rpc_unpack(NULL, fm->frame, &fm->arena);
	if (!msg)
		return reply_error(
		    fm, h, EBADMSG, "%s: undecodable: %s", rpc_type_name(h->type), rpc_errmsg());
	switch (h->type) {
	case RPC_T_ADM_LIST_FLOWS:
		return list_flows(fm, h, (Sluice__Admin__ListFlows *)msg);
	case RPC_T_ADM_FLOW_SHOW:
		return flow_show(fm, h, (Sluice__Admin__FlowShow *)msg);
	case RPC_T_ADM_STATS:
		return stats(fm, h);
	case RPC_T_ADM_ARP_SHOW:
		return arp_show(fm, h);
	case RPC_T_ADM_ROUTE_ADD:
		return route_add(fm, h, (Sluice__Admin__RouteAdd *)msg);
	case RPC_T_ADM_ROUTE_DEL:
		return route_del(fm, h, (Sluice__Admin__RouteDel *)msg);
	case RPC_T_ADM_ROUTE_SHOW:
		return route_show(fm, h);
	case RPC_T_ADM_QOS_SET:
		return qos_set(fm, h, (Sluice__Admin__QosSet *)msg);
	case RPC_T_ADM_VERSION:
		return version(fm, h);
	default:
		return reply_error(fm, h, ENOSYS, "%s is not served here", rpc_type_name(h->type));
	}
}

void
fm_admin_serve(struct fm *fm)
{
	for (unsigned i = 0; i < FM_ADMIN_BURST; i++) {
		struct rpc_frame *f = fm->frame;
		int n, rc;

		rpc_frame_init(f);
		n = nn_recv(fm->adm_sock, f->buf, sizeof(f->buf), NN_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				fm_log("admin: %s", nn_strerror(errno));
			return;
		}
		fm->ctr_adm_req++;
		/* nanomsg says how long the message was, even when it was cut. */
		rc = rpc_frame_parse(f, (size_t)n);
		if (rc < 0)
			reply_error(fm, &f->hdr, -rc, "%s", rpc_errmsg());
		else
			serve(fm);
	}
}
