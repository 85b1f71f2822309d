/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The data calls: zero copy (as_tx_*, as_rx_*) and copying (as_send*,
 * as_recv*), blocking or not. Each is a loop over a batch that moves buffer
 * indices between the flow's pools and the layers, and publishes once; the
 * ownership rules are in as.h.
 */
#include <errno.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "common/wire/udp.h"

/* ---- transmit ------------------------------------------------------------ */

AS_API unsigned
as_tx_alloc_burst(struct as_flow *f, struct as_txbuf *b, unsigned n)
{
	unsigned i;

	if (f->dead)
		return 0;
	if (f->n_tx_free < n)
		as__tx_reclaim(f);
	for (i = 0; i < n && f->n_tx_free; i++) {
		uint32_t idx = f->tx_free[--f->n_tx_free];

		f->tx_state[idx] = AS_BUF_APP;
		b[i].data = f->tx_base + (size_t)idx * f->tx_stride + AS_HEAD;
		b[i].cap = f->cfg.max_dgram;
		b[i].len = 0;
		b[i].peer = f->fib.remote;
		b[i].id = idx;
	}
	return i;
}

AS_API int
as_tx_alloc(struct as_flow *f, struct as_txbuf *b, int timeout_ms)
{
	uint64_t t0 = as__now_ns();

	for (;;) {
		int left, rc;

		if (f->dead)
			return -ECONNRESET;
		if (as_tx_alloc_burst(f, b, 1))
			return 0;
		left = as__left_ms(timeout_ms, t0);
		if (left == 0)
			return -EAGAIN;
		rc = as__flow_sleep(f, AS_EV_TX, left);
		if (rc < 0)
			return rc;
	}
}

AS_API void
as_tx_free(struct as_flow *f, struct as_txbuf *b)
{
	if (b->id < f->tx_n && f->tx_state[b->id] == AS_BUF_APP) {
		f->tx_state[b->id] = AS_BUF_FREE;
		f->tx_free[f->n_tx_free++] = b->id;
	}
}

static void tx_go(struct as_flow *f, const struct as_txbuf *b, const unsigned *frames,
    const uint8_t *const *mac, unsigned n);

/* tx_check(): hold the datagram until its peer's MAC is known (park()). */
#define TX_PARK 1

/*
 * Can @b go? Checks what the application wrote in it; says how many frames
 * it takes and where to. A bound flow's first datagram to a peer it knows
 * no MAC for asks the flow manager, waiting up to @resolve_ms for the
 * answer; that may run callbacks, which can change the FIB and the peer
 * cache. With @resolve_ms 0, or when that peer is being asked for already,
 * it says TX_PARK instead. Writes nothing else. 0, TX_PARK, or -errno.
 */
static int
tx_check(struct as_flow *f, const struct as_txbuf *b, unsigned *frames, const uint8_t **mac,
    int resolve_ms)
{
	unsigned k;
	int rc;

	if (b->id >= f->tx_n || f->tx_state[b->id] != AS_BUF_APP)
		return -EINVAL;
	if (b->len > f->cfg.max_dgram)
		return -EMSGSIZE;
	if (f->fib.kind == AS_UDP_BOUND) {
		if (!b->peer.addr || !b->peer.port)
			return -EDESTADDRREQ;
		*mac = as__peer_mac(f, b->peer.addr);
		if (!*mac || (f->n_park && as__resolving(f, b->peer.addr))) {
			if (resolve_ms == 0 || as__resolving(f, b->peer.addr))
				return TX_PARK;
			rc = as__resolve(f, b->peer.addr, resolve_ms);
			if (rc < 0)
				return rc;
			if (f->dead)
				return -ECONNRESET;
			*mac = as__peer_mac(f, b->peer.addr);
			if (!*mac)
				return -EHOSTUNREACH;
		}
	} else {
		*mac = f->fib.nh_mac;
	}
	k = as__ip4_frames(f, b->len + UDP_HDR_LEN);
	if (k > f->cfg.tx_recs || k - 1 > f->hs_n)
		return -EMSGSIZE; /* could never fit, however long we wait */
	*frames = k;
	return 0;
}

/*
 * Hold @b (checked but for its peer's MAC) until the flow manager answers
 * for its peer: 0 (the stack owns it now), or -EAGAIN (no room to hold it,
 * or nobody to ask) and it stays the caller's.
 */
static int
park(struct as_flow *f, const struct as_txbuf *b)
{
	unsigned k = as__ip4_frames(f, b->len + UDP_HDR_LEN);
	int rc;

	if (k > f->cfg.tx_recs || k - 1 > f->hs_n)
		return -EMSGSIZE; /* as tx_check(), which stopped before it */
	if (f->n_park == AS_PARK_MAX) {
		as__seterr("%d datagrams wait for their peers' MACs already", AS_PARK_MAX);
		return -EAGAIN;
	}
	rc = as__resolve_start(f, b->peer.addr);
	if (rc < 0)
		return rc;
	f->tx_state[b->id] = AS_BUF_STACK;
	f->park[f->n_park].b = *b;
	f->park[f->n_park++].since_ns = as__now_ns();
	return 0;
}

/* A held buffer goes back to the free stack, its datagram lost. */
static void
unpark(struct as_flow *f, const struct as_parked *p)
{
	f->tx_state[p->b.id] = AS_BUF_FREE;
	f->tx_free[f->n_tx_free++] = p->b.id;
	f->st.c[AS_STAT_DROP_UNRESOLVED]++;
}

void
as__park_drop(struct as_flow *f, uint32_t addr)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < f->n_park; i++) {
		if (!addr || f->park[i].b.peer.addr == addr)
			unpark(f, &f->park[i]);
		else
			f->park[keep++] = f->park[i];
	}
	f->n_park = keep;
}

void
as__park_flush(struct as_flow *f)
{
	uint64_t now = as__now_ns();
	bool full = false; /* once one waits for room, all after it wait */
	unsigned keep = 0;

	if (f->dead) {
		as__park_drop(f, 0);
		return;
	}
	as__tx_reclaim(f);
	for (unsigned i = 0; i < f->n_park; i++) {
		struct as_parked *p = &f->park[i];
		const uint8_t *mac = as__peer_mac(f, p->b.peer.addr);
		unsigned k = as__ip4_frames(f, p->b.len + UDP_HDR_LEN);

		if (mac && !full && rbuf_room(f->tx) >= k && f->n_hs_free >= k - 1) {
			f->tx_state[p->b.id] = AS_BUF_APP; /* tx_go() takes it from there */
			tx_go(f, &p->b, &k, &mac, 1);
		} else if ((!mac && !as__resolving(f, p->b.peer.addr)) ||
			   now - p->since_ns >= AS_PARK_TMO_MS * 1000000ull) {
			unpark(f, p); /* refused, forgotten, or too late */
		} else {
			full |= mac != NULL;
			f->park[keep++] = *p;
		}
	}
	f->n_park = keep;
}

/* Hand @n checked buffers to the layers; they take all (room was checked). */
static void
tx_go(struct as_flow *f, const struct as_txbuf *b, const unsigned *frames,
    const uint8_t *const *mac, unsigned n)
{
	struct as_pkt p[AS_BURST];

	for (unsigned i = 0; i < n; i++) {
		f->tx_state[b[i].id] = AS_BUF_DRIVER;
		f->tx_refs[b[i].id] = (uint16_t)frames[i];
		p[i] = (struct as_pkt){
		    .data = b[i].data,
		    .len = b[i].len,
		    .ref = b[i].id,
		    .peer = f->fib.kind == AS_UDP_BOUND ? b[i].peer : f->fib.remote,
		};
		memcpy(p[i].mac, mac[i], 6);
	}
	f->top->ops->put(f->top, p, n);
}

AS_API unsigned
as_tx_send_burst(struct as_flow *f, struct as_txbuf *b, unsigned n)
{
	unsigned frames[AS_BURST], done = 0;
	const uint8_t *mac[AS_BURST];
	uint32_t room, hs;

	if (f->dead)
		return 0;
	as__tx_reclaim(f);
	if (f->n_park)
		as__park_flush(f);
	while (done < n && !f->dead) {
		unsigned m = 0;
		int rc = 0;

		room = rbuf_room(f->tx);
		hs = f->n_hs_free;
		while (m < AS_BURST && done + m < n) {
			unsigned *k = &frames[m];

			/* Never waits: a peer to resolve is parked. */
			rc = tx_check(f, &b[done + m], k, &mac[m], 0);
			if (rc != 0 || *k > room || *k - 1 > hs)
				break;
			room -= *k;
			hs -= *k - 1;
			m++;
		}
		if (m) {
			tx_go(f, b + done, frames, mac, m);
			done += m;
		}
		if (rc == TX_PARK && done < n) {
			if (park(f, &b[done]) < 0)
				break;
			done++;
			continue;
		}
		if (m < AS_BURST)
			break;
	}
	return done;
}

AS_API int
as_tx_send(struct as_flow *f, struct as_txbuf *b, int timeout_ms)
{
	uint64_t t0 = as__now_ns();

	for (;;) {
		const uint8_t *mac;
		unsigned k;
		int left, rc;

		if (f->dead)
			return -ECONNRESET;
		if (f->n_park)
			as__park_flush(f);
		left = as__left_ms(timeout_ms, t0);
		rc = tx_check(f, b, &k, &mac,
		    timeout_ms == 0			   ? 0
		    : left > AS_RESOLVE_MIN_MS || left < 0 ? left
							   : AS_RESOLVE_MIN_MS);
		if (rc == TX_PARK)
			return park(f, b);
		if (rc != 0)
			return rc;
		as__tx_reclaim(f);
		if (rbuf_room(f->tx) >= k && f->n_hs_free >= k - 1) {
			tx_go(f, b, &k, &mac, 1);
			return 0;
		}
		left = as__left_ms(timeout_ms, t0);
		if (left == 0)
			return -EAGAIN;
		rc = as__flow_sleep(f, AS_EV_TX, left);
		if (rc < 0)
			return rc;
	}
}

/* ---- receive --------------------------------------------------------------- */

AS_API unsigned
as_rx_get_burst(struct as_flow *f, struct as_rxbuf *b, unsigned n)
{
	struct as_pkt p[AS_BURST];
	unsigned got = 0;
	/* A peer that refills the ring as fast as we drain it must not keep
	 * us here: at most a ring's worth of frames per call. */
	uint64_t limit = f->st.c[AS_STAT_RX_FRAMES] + f->rx_n;

	if (f->dead)
		return 0;
	while (got < n && f->st.c[AS_STAT_RX_FRAMES] < limit) {
		unsigned want = n - got < AS_BURST ? n - got : AS_BURST;
		unsigned k = f->top->ops->get(f->top, p, want);

		for (unsigned i = 0; i < k; i++) {
			if (p[i].err && f->fib.kind == AS_UDP_CONNECTED) {
				/* Reported by the next as_rx_get()/as_recv(). */
				f->pending_err = p[i].err;
				as__rx_release(f, p[i].ref);
				continue;
			}
			if (p[i].ref & AS_REF_RX)
				f->rx_state[p[i].ref & AS_REF_MASK] = AS_BUF_APP;
			b[got++] = (struct as_rxbuf){
			    .data = p[i].data,
			    .len = p[i].len,
			    .peer = p[i].peer,
			    .err = p[i].err,
			    .id = p[i].ref,
			};
		}
		if (!k && !rbuf_avail(f->rx))
			break;
	}
	as__rx_flush(f);
	return got;
}

AS_API int
as_rx_get(struct as_flow *f, struct as_rxbuf *b, int timeout_ms)
{
	uint64_t t0 = as__now_ns();

	for (;;) {
		int left, rc;

		if (f->dead)
			return -ECONNRESET;
		if (f->pending_err) {
			rc = f->pending_err;
			f->pending_err = 0;
			return rc;
		}
		if (as_rx_get_burst(f, b, 1))
			return 0;
		if (f->pending_err || rbuf_avail(f->rx))
			continue;
		left = as__left_ms(timeout_ms, t0);
		if (left == 0)
			return -EAGAIN;
		rc = as__flow_sleep(f, AS_EV_RX, left);
		if (rc < 0)
			return rc;
	}
}

static void
rx_put_one(struct as_flow *f, const struct as_rxbuf *b)
{
	uint32_t i = b->id & AS_REF_MASK;

	if (b->id == AS_REF_NONE)
		return;
	if (b->id & AS_REF_RX) {
		if (i < f->rx_n && f->rx_state[i] == AS_BUF_APP)
			as__rx_release(f, b->id);
	} else if (b->id & AS_REF_REASS) {
		if (i < f->cfg.reass_slots && f->reass[i].state == AS_BUF_APP)
			as__rx_release(f, b->id);
	}
}

AS_API void
as_rx_put(struct as_flow *f, struct as_rxbuf *b)
{
	rx_put_one(f, b);
	as__rx_flush(f);
}

AS_API void
as_rx_put_burst(struct as_flow *f, struct as_rxbuf *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rx_put_one(f, &b[i]);
	as__rx_flush(f);
}

/* ---- copying ----------------------------------------------------------------- */

AS_API int
as_sendto(struct as_flow *f, const void *buf, size_t len, const struct as_sap *to, int timeout_ms)
{
	uint64_t t0 = as__now_ns();
	struct as_txbuf b;
	int rc;

	if (len > f->cfg.max_dgram)
		return -EMSGSIZE;
	if (f->cfg.kind == AS_UDP_BOUND && (!to || !to->addr || !to->port))
		return -EDESTADDRREQ;
	rc = as_tx_alloc(f, &b, timeout_ms);
	if (rc < 0)
		return rc;
	memcpy(b.data, buf, len);
	b.len = (uint32_t)len;
	if (f->cfg.kind == AS_UDP_BOUND)
		b.peer = *to;
	rc = as_tx_send(f, &b, as__left_ms(timeout_ms, t0));
	if (rc < 0) {
		as_tx_free(f, &b);
		return rc;
	}
	return (int)len;
}

AS_API int
as_send(struct as_flow *f, const void *buf, size_t len, int timeout_ms)
{
	if (f->cfg.kind == AS_UDP_BOUND)
		return -EDESTADDRREQ;
	return as_sendto(f, buf, len, NULL, timeout_ms);
}

AS_API int
as_recvfrom(struct as_flow *f, void *buf, size_t len, struct as_sap *from, int timeout_ms)
{
	struct as_rxbuf b;
	int rc = as_rx_get(f, &b, timeout_ms);

	if (rc < 0)
		return rc;
	if (from)
		*from = b.peer;
	if (b.err) {
		rc = b.err;
	} else {
		rc = (int)(b.len < len ? b.len : len);
		memcpy(buf, b.data, (size_t)rc);
	}
	as_rx_put(f, &b);
	return rc;
}

AS_API int
as_recv(struct as_flow *f, void *buf, size_t len, int timeout_ms)
{
	return as_recvfrom(f, buf, len, NULL, timeout_ms);
}

AS_API unsigned
as_send_burst(struct as_flow *f, const struct as_msg *m, unsigned n)
{
	struct as_txbuf b[AS_BURST];
	unsigned done = 0;

	while (done < n) {
		unsigned want = n - done < AS_BURST ? n - done : AS_BURST, a, k, sent;

		a = k = as_tx_alloc_burst(f, b, want);
		for (unsigned i = 0; i < k; i++) {
			const struct as_msg *q = &m[done + i];

			if (q->len > b[i].cap) {
				k = i; /* stop before it; as_tx_send would say EMSGSIZE */
				break;
			}
			memcpy(b[i].data, q->buf, q->len);
			b[i].len = q->len;
			if (f->cfg.kind == AS_UDP_BOUND)
				b[i].peer = q->peer;
		}
		sent = as_tx_send_burst(f, b, k);
		for (unsigned i = sent; i < a; i++)
			as_tx_free(f, &b[i]);
		done += sent;
		if (sent < want)
			break;
	}
	return done;
}

AS_API unsigned
as_recv_burst(struct as_flow *f, struct as_msg *m, unsigned n)
{
	struct as_rxbuf b[AS_BURST];
	unsigned done = 0;

	while (done < n) {
		unsigned want = n - done < AS_BURST ? n - done : AS_BURST;
		unsigned k = as_rx_get_burst(f, b, want);

		for (unsigned i = 0; i < k; i++) {
			struct as_msg *q = &m[done + i];
			uint32_t c = b[i].len < q->len ? b[i].len : q->len;

			if (c)
				memcpy(q->buf, b[i].data, c);
			q->len = c;
			q->peer = b[i].peer;
			q->err = b[i].err;
		}
		as_rx_put_burst(f, b, k);
		done += k;
		if (k < want)
			break;
	}
	return done;
}
