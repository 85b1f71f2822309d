/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow manager's loop and its flow table. One thread; the loop reads as
 * the list of what can happen:
 *
 *   an application connects        -> fm_app_accept
 *   an application sends a request -> fm_app_serve (or closes: its flows go)
 *   a frame on the exception channel -> fm_exc_poll (ARP, ICMP, RST)
 *   the driver calls back or hangs up -> fm_drv_callbacks
 *   an administrator asks           -> fm_admin_serve (admin.ipc)
 *   the tick (FM_TICK_MS)          -> reconnect the driver, ARP timers,
 *                                     next hops that never answered
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"
#include "flowmgr/fm_priv.h"
#include "proto/rpc_chan.h"

#define PPB 1000000000ull

void
fm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("sluice-flowmgr: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
fm_epoll_add(struct fm *fm, int fd, uint32_t token)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = token};

	if (epoll_ctl(fm->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		fm_log("epoll add: %s", strerror(errno));
}

void
fm_epoll_del(struct fm *fm, int fd)
{
	epoll_ctl(fm->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* ---- flows ------------------------------------------------------------------------- */

struct fm_flow *
fm_flow_get(struct fm *fm, uint32_t id)
{
	if (id == 0 || id >= FM_MAX_FLOWS || fm->flows[id].state == FM_FLOW_FREE)
		return NULL;
	return &fm->flows[id];
}

void
fm_flow_close(struct fm *fm, struct fm_flow *f, const char *why)
{
	if (f->state == FM_FLOW_FREE)
		return;
	if (f->announced)
		fm_admin_flow_event(fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_CLOSED, why);
	if (f->installed && fm->drv_up)
		fm_drv_remove_flow(fm, f->id);
	if (f->port_held)
		fm_port_free(fm->ports, f->proto, f->laddr, f->lport, f->id);
	if (f->arp_ref)
		fm_arp_unref(fm->arp, f->nh.addr);
	fm->reserved_ppb -= f->reserved_ppb;
	if (f->conn >= 0)
		fm->conns[f->conn].n_flows--;
	else if (f->orphan_deadline_ns)
		fm->n_orphans--;
	rbuf_chan_fds_close(&f->rx_fds);
	rbuf_chan_fds_close(&f->tx_fds);
	if (why)
		fm_log("flow %u closed: %s", f->id, why);
	memset(f, 0, sizeof(*f));
}

void
fm_flow_revoke(struct fm *fm, struct fm_flow *f, int err, const char *why)
{
	Sluice__Fm__FlowRevoked m;

	if (f->state == FM_FLOW_FREE)
		return;
	if (f->conn >= 0 && fm->conns[f->conn].fd >= 0) {
		sluice__fm__flow_revoked__init(&m);
		m.flow_id = f->id;
		m.errnum = err;
		m.reason = rpc_str(why);
		rpc_send(fm->conns[f->conn].fd, RPC_T_FM_FLOW_REVOKED, 0, &m.base, NULL, 0);
	}
	if (f->announced)
		fm_admin_flow_event(fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_REVOKED, why);
	f->announced = false; /* revoked, not closed as well */
	fm_flow_close(fm, f, why);
}

/* ---- errors ---------------------------------------------------------------------------- */

void
fm_err_set(struct fm_err *r, int err, const char *fmt, ...)
{
	va_list ap;

	sluice__error__init(&r->e);
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	r->e.errnum = err;
	r->e.message = r->msg;
}

/* ---- admission ----------------------------------------------------------------------- */

static uint64_t
capacity_ppb(const struct fm *fm)
{
	return PPB - (uint64_t)fm->drv_reserved_ppm * 1000u;
}

uint32_t
fm_free_ppm(const struct fm *fm)
{
	uint64_t cap = capacity_ppb(fm);

	return cap > fm->reserved_ppb ? (uint32_t)((cap - fm->reserved_ppb) / 1000u) : 0;
}

/*
 * Would slice per period fit beside what is granted? The share is rounded
 * up to parts per 1e9, which is coarser than the driver's own test, so the
 * driver never refuses what is admitted here.
 */
int
fm_admit(const struct fm *fm, uint64_t period_ns, uint64_t slice_ns, uint64_t *ppb)
{
	*ppb = 0;
	if (slice_ns == 0)
		return 0; /* best effort takes nothing */
	if (period_ns == 0 || slice_ns > period_ns)
		return -EINVAL;
	*ppb = (uint64_t)(((unsigned __int128)slice_ns * PPB + period_ns - 1) / period_ns);
	return fm->reserved_ppb + *ppb > capacity_ppb(fm) ? -ENOSPC : 0;
}

/* ENOSPC from admission, with how much is left (AdmissionRefused). */
void
fm_err_admission(const struct fm *fm, struct fm_err *r, uint64_t req_ppb)
{
	sluice__admission_refused__init(&r->ar);
	r->ar.iface = rpc_str(fm->cfg.name);
	r->ar.link_bps = fm->link_bps;
	r->ar.requested_ppm = (uint32_t)((req_ppb + 999) / 1000);
	r->ar.free_ppm = fm_free_ppm(fm);
	fm_err_set(r, ENOSPC,
	    "guarantee of %.2f%% of the link does not fit: %.2f%% of %llu Mbit/s is free",
	    r->ar.requested_ppm / 1e4, r->ar.free_ppm / 1e4,
	    (unsigned long long)(fm->link_bps / 1000000u));
	r->e.detail_case = SLUICE__ERROR__DETAIL_ADMISSION;
	r->e.admission = &r->ar;
}

int
fm_flow_set_qos(
    struct fm *fm, struct fm_flow *f, const Sluice__Qos *q, const char *who, struct fm_err *err)
{
	uint64_t period = q ? q->period_ns : 0, slice = q ? q->slice_ns : 0, ppb;
	bool extra = (q && q->extra) || slice == 0;
	char why[FM_MAX_ERRLINE];
	int rc;

	/* Admit the new guarantee as if the old one were gone. */
	fm->reserved_ppb -= f->reserved_ppb;
	rc = fm_admit(fm, period, slice, &ppb);
	if (rc == -ENOSPC)
		fm_err_admission(fm, err, ppb);
	fm->reserved_ppb += f->reserved_ppb;
	if (rc == -EINVAL)
		fm_err_set(err, EINVAL, "qos: slice %llu ns per period %llu ns is not a guarantee",
		    (unsigned long long)slice, (unsigned long long)period);
	if (rc < 0)
		return rc;
	rc = fm_drv_set_qos(fm, f->id, slice ? period : 0, slice, extra);
	if (rc < 0) {
		fm_err_set(err, -rc, "the driver refused: %.200s",
		    rc == -fm->drv.err ? fm->drv.errmsg : strerror(-rc));
		return rc;
	}
	fm->reserved_ppb = fm->reserved_ppb - f->reserved_ppb + ppb;
	f->reserved_ppb = ppb;
	f->period_ns = slice ? period : 0;
	f->slice_ns = slice;
	f->extra = extra;
	snprintf(why, sizeof(why), "slice %llu ns per period %llu ns%s, %s",
	    (unsigned long long)f->slice_ns, (unsigned long long)f->period_ns,
	    f->extra ? " + slack" : "", who);
	fm_log("flow %u: qos %s", f->id, why);
	fm_admin_flow_event(fm, f, SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_QOS_CHANGED, why);
	return 0;
}

/* ---- the FIB ------------------------------------------------------------------------- */

static size_t
hdr_template(const struct fm *fm, const struct fm_flow *f, uint8_t *p, size_t cap)
{
	struct eth_hdr *e = (struct eth_hdr *)p;
	struct ip4_hdr *ip = (struct ip4_hdr *)(p + ETH_HDR_LEN);
	size_t n = ETH_HDR_LEN + IP4_HDR_LEN + (f->proto == IP4_PROTO_UDP ? UDP_HDR_LEN : 0);

	if (cap < n)
		return 0;
	memset(p, 0, n);
	if (f->nh_known)
		memcpy(&e->dst, f->nh_mac, 6);
	memcpy(&e->src, fm->mac, 6);
	e->type = htons(ETH_TYPE_IPV4);
	ip->ver_ihl = 0x45;
	ip->ttl = 64;
	ip->proto = f->proto;
	ip->src = htonl(f->laddr);
	ip->dst = htonl(f->raddr);
	if (f->proto == IP4_PROTO_UDP) {
		struct udp_hdr *u = (struct udp_hdr *)(ip + 1);

		u->src_port = htons(f->lport);
		u->dst_port = htons(f->rport);
	}
	return n;
}

void
fm_fib_fill(const struct fm *fm, const struct fm_flow *f, Sluice__Fm__Fib *fib, Sluice__Sap *l,
    Sluice__Sap *r, Sluice__Qos *q, Sluice__ChanGeom *rg, Sluice__ChanGeom *tg, uint8_t *hdr,
    size_t hdr_cap)
{
	sluice__fm__fib__init(fib);
	sluice__sap__init(l);
	sluice__sap__init(r);
	sluice__qos__init(q);
	fib->flow_id = f->id;
	fib->generation = f->generation;
	fib->proto = (Sluice__Proto)f->proto;
	fib->kind = (Sluice__FlowKind)f->kind;
	fib->local_mac.data = (uint8_t *)(uintptr_t)fm->mac;
	fib->local_mac.len = 6;
	if (f->nh_known) {
		fib->nexthop_mac.data = (uint8_t *)(uintptr_t)f->nh_mac;
		fib->nexthop_mac.len = 6;
		fib->nexthop_addr = f->nh.addr;
	}
	l->addr = f->laddr;
	l->port = f->lport;
	fib->local = l;
	if (f->kind == SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED) {
		r->addr = f->raddr;
		r->port = f->rport;
		fib->remote = r;
	}
	fib->mtu = fm->mtu;
	fib->hdr_template.data = hdr;
	fib->hdr_template.len = hdr_template(fm, f, hdr, hdr_cap);
	fib->headroom =
	    ETH_HDR_LEN + IP4_HDR_LEN + (f->proto == IP4_PROTO_UDP ? UDP_HDR_LEN : TCP_HDR_MAX_LEN);
	q->period_ns = f->period_ns;
	q->slice_ns = f->slice_ns;
	q->extra = f->extra;
	fib->qos = q;
	rpc_chan_geom_msg(rg, &f->rx_geom);
	rpc_chan_geom_msg(tg, &f->tx_geom);
	fib->rx_geom = rg;
	fib->tx_geom = tg;
}

/*
 * ARP learnt (or changed) the MAC of ip: the flows whose next hop it is, the
 * Resolve requests waiting for it, and, if it changed, every bound flow (it
 * may have cached the old MAC from a Resolve: FibChanged makes it forget).
 */
void
fm_on_neighbour(struct fm *fm, uint32_t ip, const uint8_t mac[6], bool changed)
{
	fm_app_resolved(fm, ip, mac);
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++) {
		struct fm_flow *f = &fm->flows[i];

		if (changed && f->state == FM_FLOW_OPEN &&
		    f->kind == SLUICE__FLOW_KIND__FLOW_KIND_BOUND) {
			fm_app_fib_changed(fm, f, "a neighbour's MAC address changed");
			continue;
		}
		if (f->state == FM_FLOW_FREE || f->kind != SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED ||
		    f->nh.addr != ip)
			continue;
		if (f->state == FM_FLOW_RESOLVING) {
			memcpy(f->nh_mac, mac, 6);
			f->nh_known = true;
			fm_app_reply_open(fm, f);
		} else if (changed || !f->nh_known) {
			memcpy(f->nh_mac, mac, 6);
			f->nh_known = true;
			fm_app_fib_changed(fm, f, "the next hop's MAC address changed");
		}
	}
}

/*
 * f's next hop is now nh's: swap the ARP references and take the MAC from
 * the cache if it has it; otherwise resolution has started, and the FIB
 * changes when ARP answers (fm_on_neighbour(), as nh_known is false).
 */
static void
next_hop_set(struct fm *fm, struct fm_flow *f, const struct fm_nexthop *nh)
{
	char why[96];
	uint32_t a = nh->addr;
	int rc;

	if (f->arp_ref)
		fm_arp_unref(fm->arp, f->nh.addr);
	f->arp_ref = false;
	f->nh = *nh;
	f->nh_known = false;
	rc = fm_exc_resolve(fm, a, f->nh_mac);
	if (rc == 0 || rc == -EAGAIN)
		f->arp_ref = fm_arp_ref(fm->arp, a) == 0;
	fm_log("flow %u: next hop now %u.%u.%u.%u%s", f->id, a >> 24, (a >> 16) & 255,
	    (a >> 8) & 255, a & 255, rc == 0 ? "" : ", resolving");
	if (rc < 0)
		return;
	f->nh_known = true;
	if (f->state == FM_FLOW_RESOLVING) {
		fm_app_reply_open(fm, f); /* it was waiting for the old next hop */
		return;
	}
	snprintf(why, sizeof(why), "a route changed: the next hop is %u.%u.%u.%u", a >> 24,
	    (a >> 16) & 255, (a >> 8) & 255, a & 255);
	fm_app_fib_changed(fm, f, why);
}

void
fm_routes_changed(struct fm *fm)
{
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++) {
		struct fm_flow *f = &fm->flows[i];
		struct fm_nexthop nh;

		if (f->state == FM_FLOW_OPEN && f->kind == SLUICE__FLOW_KIND__FLOW_KIND_BOUND) {
			/* Its peers' next hops may have moved: forget what it resolved. */
			fm_app_fib_changed(fm, f, "the routing table changed");
			continue;
		}
		if (f->state == FM_FLOW_FREE || f->kind != SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED)
			continue;
		if (fm_route_lookup(fm->routes, f->raddr, &nh) < 0) {
			if (f->state == FM_FLOW_RESOLVING)
				fm_app_fail_open(
				    fm, f, ENETUNREACH, "no route to the remote any more");
			else
				fm_flow_revoke(
				    fm, f, ENETUNREACH, "no route to its remote any more");
			continue;
		}
		if (nh.addr == f->nh.addr)
			f->nh = nh; /* another route, the same next hop: nothing to tell */
		else
			next_hop_set(fm, f, &nh);
	}
}

/* Our interface's name for the administrator: the driver's port. */
const char *
fm_ifname(const struct fm *fm)
{
	return fm->port_name[0] ? fm->port_name : fm->cfg.name;
}

/* Next hops that did not answer in time. */
static void
resolve_timeouts(struct fm *fm)
{
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++) {
		struct fm_flow *f = &fm->flows[i];

		if (f->state == FM_FLOW_RESOLVING && fm->now_ns >= f->resolve_deadline_ns)
			fm_app_fail_open(fm, f, EHOSTUNREACH, "the next hop does not answer ARP");
	}
}

/* Recovered flows whose application did not come back within grace_ms. */
void
fm_orphan_timeouts(struct fm *fm)
{
	for (uint32_t i = 1; i < FM_MAX_FLOWS && fm->n_orphans; i++) {
		struct fm_flow *f = &fm->flows[i];

		if (f->state != FM_FLOW_FREE && f->conn < 0 && f->orphan_deadline_ns &&
		    fm->now_ns >= f->orphan_deadline_ns)
			fm_flow_close(fm, f, "its application did not re-attach in time");
	}
}

/* ---- set-up and the loop ----------------------------------------------------------- */

static int
routes_init(struct fm *fm)
{
	const struct fm_cfg *c = &fm->cfg;
	int rc = fm_route_add_connected(fm->routes, FM_IFINDEX, c->addr, c->prefix_len);

	if (rc < 0) {
		fm_log("address %u.%u.%u.%u/%u: %s", c->addr >> 24, (c->addr >> 16) & 255,
		    (c->addr >> 8) & 255, c->addr & 255, c->prefix_len, strerror(-rc));
		return rc;
	}
	if (c->gateway && (rc = fm_route_add_static(fm->routes, 0, 0, c->gateway)) < 0) {
		fm_log("gateway: %s", strerror(-rc));
		return rc;
	}
	for (unsigned i = 0; i < c->n_routes; i++) {
		rc = fm_route_add_static(
		    fm->routes, c->routes[i].prefix, c->routes[i].len, c->routes[i].via);
		if (rc < 0) {
			fm_log("route %u: %s", i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct fm *
fm_create(const struct fm_cfg *cfg)
{
	struct fm_ports_cfg pc = {.eph_lo = cfg->eph_lo, .eph_hi = cfg->eph_hi};
	struct itimerspec its = {
	    .it_interval = {.tv_nsec = FM_TICK_MS * 1000000L},
	    .it_value = {.tv_nsec = FM_TICK_MS * 1000000L},
	};
	char path[PATH_MAX];
	struct fm *fm = calloc(1, sizeof(*fm));
	int e = ENOMEM;

	if (!fm)
		return NULL;
	fm->cfg = *cfg;
	fm->epfd = fm->lfd = fm->tfd = -1;
	fm->adm_sock = fm->ev_sock = fm->adm_fd = -1;
	fm->drv.fd = -1;
	fm->next_id = 1;
	fm->mtu = ETH_MTU;
	for (int i = 0; i < FM_MAX_CONNS; i++)
		fm->conns[i].fd = -1;
	for (unsigned i = 0; i < FM_MAX_RESOLVES; i++)
		fm->resolves[i].conn = -1;
	fm->frame = malloc(sizeof(*fm->frame));
	fm->dframe = malloc(sizeof(*fm->dframe));
	fm->arena_buf = malloc(RPC_ARENA_SIZE);
	fm->darena_buf = malloc(RPC_ARENA_SIZE);
	fm->ports = fm_ports_create(&pc);
	fm->routes = fm_routes_create(NULL);
	fm->arp = fm_arp_create(NULL);
	fm->pkt = fm_pkt_create(NULL);
	if (!fm->frame || !fm->dframe || !fm->arena_buf || !fm->darena_buf || !fm->ports ||
	    !fm->routes || !fm->arp || !fm->pkt)
		goto fail;
	rpc_frame_init(fm->frame);
	rpc_frame_init(fm->dframe);
	rpc_arena_init(&fm->arena, fm->arena_buf, RPC_ARENA_SIZE);
	rpc_arena_init(&fm->darena, fm->darena_buf, RPC_ARENA_SIZE);
	fm->pif.n_addrs = 1;
	fm->pif.addrs = &fm->cfg.addr;
	if (routes_init(fm) < 0) {
		e = EINVAL;
		goto fail;
	}
	fm->epfd = epoll_create1(EPOLL_CLOEXEC);
	fm->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fm->epfd < 0 || fm->tfd < 0 || timerfd_settime(fm->tfd, 0, &its, NULL) < 0) {
		e = errno;
		goto fail;
	}
	fm_epoll_add(fm, fm->tfd, FM_TOK_TIMER);
	if (mkdir(cfg->runtime_dir, 0755) < 0 && errno != EEXIST) {
		e = errno;
		fm_log("runtime directory %s: %s", cfg->runtime_dir, strerror(e));
		goto fail;
	}
	/* Any local user may ask for flows: ports, privileges and admission
	 * decide what they get. */
	snprintf(path, sizeof(path), "%s/flowmgr.sock", cfg->runtime_dir);
	fm->lfd = rpc_listen(path, 0666);
	if (fm->lfd < 0) {
		e = -fm->lfd;
		fm_log("%s: %s", path, strerror(e));
		goto fail;
	}
	fm_epoll_add(fm, fm->lfd, FM_TOK_LISTEN);
	if (fm_admin_open(fm) < 0) {
		e = errno;
		goto fail;
	}
	fm->now_ns = mono_ns();
	if (fm_drv_connect(fm) < 0)
		fm_log("driver %s not there yet; trying every %d ms", cfg->driver, FM_TICK_MS);
	return fm;

fail:
	fm_destroy(fm);
	errno = e;
	return NULL;
}

void
fm_destroy(struct fm *fm)
{
	char path[PATH_MAX];

	if (!fm)
		return;
	/* Stopping is not closing: the flows stay in the driver, which goes on
	 * carrying their traffic, and a flow manager started again recovers
	 * them (fm_drv.c) for their applications to re-attach. So the driver
	 * goes first, and the flows are only forgotten here. */
	if (fm->drv.fd >= 0)
		fm_drv_down(fm, "stopping");
	for (uint32_t i = 1; i < FM_MAX_FLOWS; i++) {
		if (fm->flows[i].state == FM_FLOW_FREE)
			continue; /* zeroed: its descriptors are not 0 */
		rbuf_chan_fds_close(&fm->flows[i].rx_fds);
		rbuf_chan_fds_close(&fm->flows[i].tx_fds);
	}
	for (int i = 0; i < FM_MAX_CONNS; i++)
		if (fm->conns[i].fd >= 0)
			close(fm->conns[i].fd);
	fm_exc_close(fm);
	fm_admin_close(fm);
	if (fm->lfd >= 0) {
		close(fm->lfd);
		snprintf(path, sizeof(path), "%s/flowmgr.sock", fm->cfg.runtime_dir);
		unlink(path);
	}
	if (fm->tfd >= 0)
		close(fm->tfd);
	if (fm->epfd >= 0)
		close(fm->epfd);
	if (fm->frame)
		rpc_frame_fini(fm->frame);
	if (fm->dframe)
		rpc_frame_fini(fm->dframe);
	free(fm->frame);
	free(fm->dframe);
	free(fm->arena_buf);
	free(fm->darena_buf);
	fm_ports_destroy(fm->ports);
	fm_routes_destroy(fm->routes);
	fm_arp_destroy(fm->arp);
	fm_pkt_destroy(fm->pkt);
	free(fm);
}

static void
tick(struct fm *fm)
{
	uint64_t n;

	if (read(fm->tfd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		fm_log("timer: %s", strerror(errno));
	if (!fm->drv_up && fm->now_ns >= fm->drv_retry_ns) {
		fm->drv_retry_ns = fm->now_ns + FM_TICK_MS * 1000000ull;
		fm_drv_connect(fm);
	}
	fm_exc_tick(fm);
	resolve_timeouts(fm);
	fm_app_resolve_timeouts(fm);
	fm_orphan_timeouts(fm);
}

int
fm_run(struct fm *fm, volatile int *stop)
{
	struct epoll_event ev[64];

	while (!*stop) {
		int n = epoll_wait(fm->epfd, ev, 64, FM_TICK_MS);

		if (n < 0 && errno != EINTR)
			return -errno;
		fm->now_ns = mono_ns();
		for (int i = 0; i < n; i++) {
			uint32_t t = ev[i].data.u32;

			if (t == FM_TOK_LISTEN)
				fm_app_accept(fm);
			else if (t == FM_TOK_TIMER)
				tick(fm);
			else if (t == FM_TOK_DRIVER)
				fm_drv_callbacks(fm);
			else if (t == FM_TOK_EXC)
				fm_exc_poll(fm);
			else if (t == FM_TOK_ADMIN)
				fm_admin_serve(fm);
			else if (t < FM_MAX_CONNS)
				fm_app_serve(fm, (int)t);
		}
	}
	return 0;
}
