/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A flow's resources: its two channels, the buffer pools carved out of
 * their data areas, the layers, the reassembly slots, and waiting. All of
 * it is allocated here, once, when the flow opens; the fast path (api.c and
 * the layers) only moves indices between these pools.
 *
 *   receive data area (ours, read-only here; the driver writes it):
 *     | buf 0 | buf 1 | ... | buf rx_n-1 |        rx_stride bytes each
 *
 *   transmit data area (ours, read-write):
 *     | buf 0 ............ | buf 1 ... | ... | hslot 0 | hslot 1 | ...
 *       ^ AS_HEAD bytes of headroom, then max_dgram of payload
 *
 * A transmit buffer holds one datagram; each frame of it that the driver
 * has not handed back is one reference (tx_refs). A fragment other than
 * the first takes a header slot (AS_HSLOT_SIZE bytes) for its own Ethernet
 * and IP headers, the rest of its record pointing into the buffer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "appstack/as_priv.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"

uint64_t
as__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool
pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t
round_up(uint32_t v, uint32_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int
as__cfg_fill(const struct as_flow_cfg *in, struct as_flow_cfg *c)
{
	*c = *in;
	if (c->kind != AS_UDP_CONNECTED && c->kind != AS_UDP_BOUND) {
		as__seterr("kind must be AS_UDP_CONNECTED or AS_UDP_BOUND");
		return -EINVAL;
	}
	if (c->kind == AS_UDP_CONNECTED && (!c->remote.addr || !c->remote.port)) {
		as__seterr("a connected flow needs a remote address and port");
		return -EINVAL;
	}
	if (c->kind == AS_UDP_BOUND && (c->remote.addr || c->remote.port)) {
		as__seterr("a bound flow has no remote");
		return -EINVAL;
	}
	c->max_dgram = c->max_dgram ? c->max_dgram : AS_DEF_MAX_DGRAM;
	c->rx_bufs = c->rx_bufs ? c->rx_bufs : AS_DEF_RX_BUFS;
	c->rx_buf_size = c->rx_buf_size ? c->rx_buf_size : AS_DEF_RX_BUF_SIZE;
	c->tx_bufs = c->tx_bufs ? c->tx_bufs : AS_DEF_TX_BUFS;
	c->tx_recs = c->tx_recs ? c->tx_recs : AS_DEF_TX_RECS;
	c->reass_slots = c->reass_slots ? c->reass_slots : AS_DEF_REASS_SLOTS;
	c->reass_timeout_ms = c->reass_timeout_ms ? c->reass_timeout_ms : AS_DEF_REASS_TMO_MS;
	if (c->max_dgram > AS_MAX_DGRAM || !pow2(c->rx_bufs) || c->rx_bufs < RBUF_MIN_RECS ||
	    c->rx_bufs > AS_MAX_BUFS || !pow2(c->tx_recs) || c->tx_recs < RBUF_MIN_RECS ||
	    c->tx_recs > AS_MAX_BUFS || c->tx_bufs > AS_MAX_BUFS ||
	    c->rx_buf_size < ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN || c->rx_buf_size > 65536 ||
	    c->reass_slots > AS_MAX_REASS_SLOTS) {
		as__seterr("flow configuration out of range (max_dgram <= %u, rx_bufs and tx_recs "
			   "powers of two up to %u, rx_buf_size 42..65536, reass_slots <= %u)",
		    AS_MAX_DGRAM, AS_MAX_BUFS, AS_MAX_REASS_SLOTS);
		return -EINVAL;
	}
	/* The master never has more buffers out than a ring holds. */
	if (c->tx_bufs > c->tx_recs) {
		as__seterr("tx_bufs (%u) above tx_recs (%u)", c->tx_bufs, c->tx_recs);
		return -EINVAL;
	}
	return 0;
}

static int
chans_create(struct as_flow *f)
{
	const struct as_flow_cfg *c = &f->cfg;
	struct rbuf_chan_cfg rg = {.mode = RBUF_MODE_RMM,
	    .n_recs = c->rx_bufs,
	    .max_pieces = 1,
	    .align = 64,
	    .data_size = (uint64_t)c->rx_bufs * f->rx_stride,
	    .name = "as-rx"};
	struct rbuf_chan_cfg tg = {.mode = RBUF_MODE_TMM,
	    .n_recs = c->tx_recs,
	    .max_pieces = 3,
	    .align = 1,
	    .data_size = (uint64_t)f->hs_base + (uint64_t)f->hs_n * AS_HSLOT_SIZE,
	    .name = "as-tx"};
	struct epoll_event ev = {.events = EPOLLIN};

	if (tg.data_size >= RBUF_MAX_DATA || rg.data_size >= RBUF_MAX_DATA) {
		as__seterr("channel data areas above 4 GiB");
		return -EINVAL;
	}
	f->rx = rbuf_chan_create(&rg, RBUF_SIDE_RECEIVER);
	if (!f->rx)
		goto out_rbuf;
	f->tx = rbuf_chan_create(&tg, RBUF_SIDE_SENDER);
	if (!f->tx)
		goto out_rbuf;
	f->rx_base = rbuf_data(f->rx);
	f->tx_base = rbuf_data(f->tx);
	f->ep = epoll_create1(EPOLL_CLOEXEC);
	if (f->ep < 0)
		return -errno;
	ev.data.u32 = AS_EV_RX;
	if (epoll_ctl(f->ep, EPOLL_CTL_ADD, rbuf_chan_wait_fd(f->rx), &ev) < 0)
		return -errno;
	ev.data.u32 = AS_EV_TX;
	if (epoll_ctl(f->ep, EPOLL_CTL_ADD, rbuf_chan_wait_fd(f->tx), &ev) < 0)
		return -errno;
	return 0;

out_rbuf:
	as__seterr("channel: %s", rbuf_errmsg());
	return errno ? -errno : -ENOMEM;
}

struct as_flow *
as__flow_alloc(const struct as_flow_cfg *cfg)
{
	struct as_flow *f = calloc(1, sizeof(*f));
	const struct as_flow_cfg *c;
	int rc = -ENOMEM;

	if (!f) {
		as__seterr("out of memory");
		return NULL;
	}
	f->ep = -1;
	rc = as__cfg_fill(cfg, &f->cfg);
	if (rc < 0)
		goto out_free;
	c = &f->cfg;
	f->rx_n = c->rx_bufs;
	f->rx_stride = round_up(c->rx_buf_size, 64);
	f->tx_n = c->tx_bufs;
	f->tx_stride = round_up(AS_HEAD + c->max_dgram, 64);
	f->hs_n = c->tx_recs;
	f->hs_base = f->tx_n * f->tx_stride;
	f->reass_cap = round_up(c->max_dgram + UDP_HDR_LEN, 8);
	f->reass_tmo_ns = (uint64_t)c->reass_timeout_ms * 1000000u;
	rc = -ENOMEM;
	f->rx_state = calloc(f->rx_n, 1);
	f->repost = calloc(f->rx_n, sizeof(*f->repost));
	f->tx_state = calloc(f->tx_n ? f->tx_n : 1, 1);
	f->tx_refs = calloc(f->tx_n ? f->tx_n : 1, sizeof(*f->tx_refs));
	f->tx_free = calloc(f->tx_n ? f->tx_n : 1, sizeof(*f->tx_free));
	f->hs_free = calloc(f->hs_n, sizeof(*f->hs_free));
	f->hs_buf = calloc(f->hs_n, sizeof(*f->hs_buf));
	f->hs_used = calloc(f->hs_n, 1);
	f->reass = calloc(c->reass_slots ? c->reass_slots : 1, sizeof(*f->reass));
	if (!f->rx_state || !f->repost || !f->tx_state || !f->tx_refs || !f->tx_free ||
	    !f->hs_free || !f->hs_buf || !f->hs_used || !f->reass) {
		as__seterr("out of memory");
		goto out_free;
	}
	for (uint32_t i = 0; i < c->reass_slots; i++) {
		f->reass[i].data = malloc(f->reass_cap);
		f->reass[i].map = calloc(f->reass_cap / 8 / 64 + 1, sizeof(uint64_t));
		if (!f->reass[i].data || !f->reass[i].map) {
			as__seterr("out of memory");
			goto out_free;
		}
	}
	/* Free stacks popped from the end: buffer 0 goes out first. */
	for (uint32_t i = 0; i < f->tx_n; i++)
		f->tx_free[i] = f->tx_n - 1 - i;
	f->n_tx_free = f->tx_n;
	for (uint32_t i = 0; i < f->hs_n; i++)
		f->hs_free[i] = f->hs_n - 1 - i;
	f->n_hs_free = f->hs_n;
	rc = chans_create(f);
	if (rc < 0)
		goto out_free;
	/* Receive Master Mode: every receive buffer goes to the driver now,
	 * before the flow exists there, so that the first packet finds one. */
	for (uint32_t i = 0; i < f->rx_n; i++)
		as__rx_release(f, AS_REF_RX | i);
	as__rx_flush(f);
	f->ip_id = (uint16_t)(as__now_ns() ^ (uintptr_t)f);
	return f;

out_free:
	as__flow_free(f);
	errno = -rc;
	return NULL;
}

void
as__flow_free(struct as_flow *f)
{
	if (!f)
		return;
	if (f->ep >= 0)
		close(f->ep);
	rbuf_chan_destroy(f->rx);
	rbuf_chan_destroy(f->tx);
	if (f->reass)
		for (uint32_t i = 0; i < f->cfg.reass_slots; i++) {
			free(f->reass[i].data);
			free(f->reass[i].map);
		}
	free(f->reass);
	free(f->rx_state);
	free(f->repost);
	free(f->tx_state);
	free(f->tx_refs);
	free(f->tx_free);
	free(f->hs_free);
	free(f->hs_buf);
	free(f->hs_used);
	free(f);
}

/* The header every frame of the flow starts from: Ethernet, IPv4, UDP. */
static void
build_template(struct as_flow *f)
{
	struct eth_hdr *e = (struct eth_hdr *)f->tmpl;
	struct ip4_hdr *ip = (struct ip4_hdr *)(f->tmpl + ETH_HDR_LEN);
	struct udp_hdr *u = (struct udp_hdr *)(ip + 1);

	memset(f->tmpl, 0, sizeof(f->tmpl));
	if (f->fib.nh_known)
		memcpy(e->dst.b, f->fib.nh_mac, 6);
	memcpy(e->src.b, f->fib.local_mac, 6);
	e->type = htons(ETH_TYPE_IPV4);
	ip->ver_ihl = 0x45;
	ip->ttl = 64;
	ip->proto = IP4_PROTO_UDP;
	ip->src = htonl(f->fib.local.addr);
	ip->dst = htonl(f->fib.remote.addr);
	u->src_port = htons(f->fib.local.port);
	u->dst_port = htons(f->fib.remote.port);
}

int
as__flow_bind(struct as_flow *f, const struct as__fib *fib)
{
	if (f->fib.flow_id && (fib->flow_id != f->fib.flow_id || fib->kind != f->fib.kind)) {
		as__seterr("FIB for flow %u (kind %d) does not fit flow %u", fib->flow_id,
		    (int)fib->kind, f->fib.flow_id);
		return -EPROTO;
	}
	if (fib->kind != f->cfg.kind) {
		as__seterr("FIB kind %d, asked for %d", (int)fib->kind, (int)f->cfg.kind);
		return -EPROTO;
	}
	if (!f->top) {
		/* The stack, once: each layer says how much room it needs. */
		f->udp = (struct as_layer){&as__udp_ops, &f->ip4, f, UDP_HDR_LEN};
		f->ip4 = (struct as_layer){&as__ip4_ops, &f->eth, f, IP4_HDR_LEN};
		f->eth = (struct as_layer){&as__eth_ops, &f->chan, f, ETH_HDR_LEN};
		f->chan = (struct as_layer){&as__chan_ops, NULL, f, 0};
		f->top = &f->udp;
		f->headroom = 0;
		for (struct as_layer *l = f->top; l; l = l->below)
			f->headroom += l->hdr_len;
	}
	if (fib->headroom > AS_HEAD || f->headroom > AS_HEAD) {
		as__seterr("headroom %u/%u above %u", fib->headroom, f->headroom, AS_HEAD);
		return -EPROTO;
	}
	f->fib = *fib;
	f->frag_max = (fib->mtu - IP4_HDR_LEN) & ~7u;
	build_template(f);
	/* A route or a neighbour changed: what the flow manager resolved may
	 * be wrong now; what peers sent us is refreshed by their next datagram. */
	for (unsigned i = 0; i < AS_PEERS; i++)
		if (f->peers[i].expires_ns)
			f->peers[i].addr = 0;
	return 0;
}

void
as__flow_kill(struct as_flow *f, int err)
{
	if (!f->dead)
		f->dead = err < 0 ? err : -ECONNRESET;
}

/* ---- buffers ------------------------------------------------------------ */

void
as__rx_release(struct as_flow *f, uint32_t ref)
{
	uint32_t i = ref & AS_REF_MASK;

	if ((ref & AS_REF_RX) && ref != AS_REF_NONE) {
		if (i >= f->rx_n || f->rx_state[i] == AS_BUF_DRIVER || f->n_repost >= f->rx_n)
			return;
		f->rx_state[i] = AS_BUF_DRIVER;
		f->repost[f->n_repost++] = i;
	} else if (ref & AS_REF_REASS) {
		if (i < f->cfg.reass_slots)
			f->reass[i].state = AS_BUF_FREE;
	}
}

void
as__rx_flush(struct as_flow *f)
{
	struct rbuf_iorec r[AS_BURST];
	uint32_t done = 0;

	while (done < f->n_repost) {
		unsigned k = f->n_repost - done < AS_BURST ? f->n_repost - done : AS_BURST, put;

		for (unsigned j = 0; j < k; j++) {
			uint32_t i = f->repost[done + j];

			r[j].n_pieces = 1;
			r[j].flags = 0;
			r[j].tag = i;
			r[j].piece[0].off = i * f->rx_stride;
			r[j].piece[0].len = f->rx_stride;
		}
		put = rbuf_put_burst(f->rx, r, k);
		done += put;
		if (put < k)
			break; /* a ring holds every buffer we own: only a bad peer count */
	}
	if (done < f->n_repost)
		memmove(f->repost, f->repost + done, (f->n_repost - done) * sizeof(*f->repost));
	f->n_repost -= done;
}

void
as__tx_reclaim(struct as_flow *f)
{
	struct rbuf_iorec r[AS_BURST];
	unsigned k;

	while ((k = rbuf_get_burst(f->tx, r, AS_BURST)) > 0) {
		for (unsigned j = 0; j < k; j++) {
			uint32_t tag = r[j].tag, b = tag;

			if (r[j].flags & RBUF_F_REFUSED)
				f->st.c[AS_STAT_TX_REFUSED]++;
			if (tag & AS_REF_HSLOT) {
				uint32_t s = tag & AS_REF_MASK;

				if (tag & ~(AS_REF_HSLOT | AS_REF_MASK) || s >= f->hs_n ||
				    !f->hs_used[s]) {
					f->st.c[AS_STAT_DROP_BAD_REC]++;
					continue;
				}
				f->hs_used[s] = 0;
				f->hs_free[f->n_hs_free++] = s;
				b = f->hs_buf[s];
			}
			if (b >= f->tx_n || f->tx_state[b] != AS_BUF_DRIVER || !f->tx_refs[b]) {
				f->st.c[AS_STAT_DROP_BAD_REC]++;
				continue;
			}
			if (--f->tx_refs[b] == 0) {
				f->tx_state[b] = AS_BUF_FREE;
				f->tx_free[f->n_tx_free++] = b;
			}
		}
		if (k < AS_BURST)
			break;
	}
}

/* ---- peers of bound flows --------------------------------------------------- */

static unsigned
peer_slot(uint32_t addr)
{
	return (addr * 2654435761u) >> 26; /* 64 slots */
}

_Static_assert(AS_PEERS == 64, "peer_slot() hashes to 6 bits");

void
as__peer_learn(struct as_flow *f, uint32_t addr, const uint8_t mac[6])
{
	struct as_peer *p = &f->peers[peer_slot(addr)];

	if (mac[0] & 1)
		return; /* never answer to a group address */
	p->addr = addr;
	memcpy(p->mac, mac, 6);
	p->expires_ns = 0;
}

void
as__peer_resolved(struct as_flow *f, uint32_t addr, const uint8_t mac[6])
{
	struct as_peer *p = &f->peers[peer_slot(addr)];

	p->addr = addr;
	memcpy(p->mac, mac, 6);
	p->expires_ns = as__now_ns() + AS_PEER_RESOLVED_MS * 1000000ull;
}

const uint8_t *
as__peer_mac(const struct as_flow *f, uint32_t addr)
{
	const struct as_peer *p = &f->peers[peer_slot(addr)];

	/* The clock is read only for resolved peers, not per datagram to one
	 * that talks to us. */
	if (addr && p->addr == addr && (!p->expires_ns || as__now_ns() < p->expires_ns))
		return p->mac;
	return f->fib.nh_known ? f->fib.nh_mac : NULL;
}

/* ---- information and counters ------------------------------------------------ */

AS_API void
as_flow_info(const struct as_flow *f, struct as_flow_info *info)
{
	memset(info, 0, sizeof(*info));
	info->flow_id = f->fib.flow_id;
	info->generation = f->fib.generation;
	info->kind = f->cfg.kind;
	info->local = f->fib.local;
	info->remote = f->fib.remote;
	info->nexthop_addr = f->fib.nh_addr;
	memcpy(info->local_mac, f->fib.local_mac, 6);
	if (f->fib.nh_known)
		memcpy(info->nexthop_mac, f->fib.nh_mac, 6);
	info->mtu = f->fib.mtu;
	info->headroom = f->headroom;
	info->max_dgram = f->cfg.max_dgram;
	info->qos = f->fib.qos;
}

AS_API int
as_flow_error(const struct as_flow *f)
{
	return f->dead;
}

AS_API void
as_flow_stats(struct as_flow *f, struct as_flow_stats *st)
{
	as__reass_expire(f, as__now_ns());
	*st = f->st;
}

static const char *const stat_names[] = {
#define AS_STAT_NAME_(name, desc) #name,
    AS_STATS_TABLE(AS_STAT_NAME_)
#undef AS_STAT_NAME_
};

static const char *const stat_descs[] = {
#define AS_STAT_DESC_(name, desc) desc,
    AS_STATS_TABLE(AS_STAT_DESC_)
#undef AS_STAT_DESC_
};

AS_API const char *
as_stat_name(enum as_stat s)
{
	return (unsigned)s < AS_STAT_MAX ? stat_names[s] : "?";
}

AS_API const char *
as_stat_desc(enum as_stat s)
{
	return (unsigned)s < AS_STAT_MAX ? stat_descs[s] : "?";
}

/* ---- waiting ------------------------------------------------------------------- */

AS_API int
as_flow_fd(const struct as_flow *f)
{
	return f->ep;
}

/* The events of @events that look ready now. */
static unsigned
ready(struct as_flow *f, unsigned events)
{
	unsigned r = 0;

	if ((events & AS_EV_RX) && (f->pending_err || rbuf_avail(f->rx)))
		r |= AS_EV_RX;
	if (events & AS_EV_TX) {
		as__tx_reclaim(f);
		if (f->n_tx_free && rbuf_room(f->tx))
			r |= AS_EV_TX;
	}
	return r;
}

/*
 * Sleep once: until the driver kicks a channel of @events, the context has
 * work, or @left_ms passes (-1: no limit). The caller has checked its own
 * condition first and checks it again after; this returns at once when the
 * announcement finds records ready. Returns 0, -ECONNRESET or -EINTR.
 */
int
as__flow_sleep(struct as_flow *f, unsigned events, int left_ms)
{
	struct pollfd p[3] = {
	    {.fd = rbuf_chan_wait_fd(f->rx), .events = POLLIN},
	    {.fd = rbuf_chan_wait_fd(f->tx), .events = POLLIN},
	    {.fd = f->ctx ? as_ctx_fd(f->ctx) : -1, .events = POLLIN},
	};
	struct rbuf_chan *chs[2];
	unsigned n = 0;

	if (f->dead)
		return -ECONNRESET;
	/* Clear old wake-ups first: one that arrives after this is a new one
	 * and keeps the descriptor readable. */
	if (rbuf_ec_drain(f->rx) == -EPIPE || rbuf_ec_drain(f->tx) == -EPIPE) {
		/* Neither the driver nor the flow manager holds the other end
		 * any more: nobody can ever fill or empty these rings. */
		as__flow_kill(f, -EPIPE);
		return -ECONNRESET;
	}
	if (events & AS_EV_RX)
		chs[n++] = f->rx;
	if (events & AS_EV_TX)
		chs[n++] = f->tx;
	if (n && !rbuf_ec_prepare_set(chs, n))
		return 0;
	if (poll(p, 3, left_ms) < 0)
		return errno == EINTR ? -EINTR : -errno;
	if (p[2].revents && f->ctx)
		as_ctx_poll(f->ctx);
	return f->dead ? -ECONNRESET : 0;
}

int
as__left_ms(int timeout_ms, uint64_t t0)
{
	uint64_t el;

	if (timeout_ms <= 0)
		return timeout_ms;
	el = (as__now_ns() - t0) / 1000000u;
	return el >= (uint64_t)timeout_ms ? 0 : timeout_ms - (int)el;
}

AS_API int
as_flow_arm(struct as_flow *f, unsigned events)
{
	struct rbuf_chan *chs[2];
	unsigned n = 0;

	if (f->dead)
		return -ECONNRESET;
	if (rbuf_ec_drain(f->rx) == -EPIPE || rbuf_ec_drain(f->tx) == -EPIPE) {
		as__flow_kill(f, -EPIPE);
		return -ECONNRESET;
	}
	if (ready(f, events))
		return -EAGAIN;
	if (events & AS_EV_RX)
		chs[n++] = f->rx;
	if (events & AS_EV_TX)
		chs[n++] = f->tx;
	if (n && !rbuf_ec_prepare_set(chs, n))
		return -EAGAIN;
	return 0;
}

AS_API int
as_flow_wait(struct as_flow *f, unsigned events, int timeout_ms)
{
	uint64_t t0 = as__now_ns();

	for (;;) {
		unsigned r;
		int left, rc;

		if (f->dead)
			return -ECONNRESET;
		r = ready(f, events);
		if (r)
			return (int)r;
		left = as__left_ms(timeout_ms, t0);
		if (left == 0)
			return 0;
		rc = as__flow_sleep(f, events, left);
		if (rc < 0)
			return rc;
	}
}
