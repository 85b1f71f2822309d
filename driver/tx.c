/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transmit: records from each flow's transmit channel (Transmit Master
 * Mode), in the order the scheduler (sched/) picks flows.
 *
 *   1. stage: take records from a flow's channel into descriptors (txd),
 *      in order, and tell the scheduler the flow has a frame of that length
 *      (sch_flow_backlog). Idle flows are looked at DRV_TX_SCAN per pass,
 *      in turn, so a pass costs the same with 10 flows or 10,000; a flow
 *      that has work is refilled as soon as it sends its last staged frame.
 *   2. sch_dequeue says which flow's head frame goes now, or when to ask
 *      again (the link is paced to its rate, or every flow with work has
 *      spent its slice and has no right to slack).
 *   3. copy that frame's headers into a driver-private mbuf and check the
 *      copy against the flow's transmit filter (flt_txcheck); refused: hand
 *      the record back at once with RBUF_F_REFUSED, count, charge nothing;
 *   4. passed: chain external-buffer mbufs that point at the rest of the
 *      frame in the application's data area (no copy), charge the frame's
 *      wire time (sch_charge); the record goes back to the application
 *      when the port frees the last of the mbufs.
 *
 * The application may still write its data area while the port reads it:
 * that can change only its own payload, never the checked headers. The
 * length the scheduler charged is the one taken at staging time, from the
 * driver's copy of the record.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "common/wire/eth.h"
#include "driver/drv_priv.h"

#define TXD_NONE UINT32_MAX

int
drv__tx_flow_init(struct drv_flow *f, uint32_t n_recs)
{
	f->txd = calloc(n_recs, sizeof(*f->txd));
	f->done = calloc(n_recs, sizeof(*f->done));
	f->stage = calloc(n_recs, sizeof(*f->stage));
	if (!f->txd || !f->done || !f->stage) {
		drv__tx_flow_fini(f);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n_recs; i++)
		f->txd[i].next_free = i + 1 < n_recs ? i + 1 : TXD_NONE;
	f->n_txd = n_recs;
	f->txd_free = 0;
	f->stage_head = 0;
	f->stage_n = 0;
	f->n_done = 0;
	f->in_flight = 0;
	return 0;
}

void
drv__tx_flow_fini(struct drv_flow *f)
{
	free(f->txd);
	free(f->done);
	free(f->stage);
	f->txd = NULL;
	f->done = NULL;
	f->stage = NULL;
}

static void
done_push(struct drv *d, struct drv_flow *f, uint32_t txd)
{
	f->done[f->n_done++] = txd;
	if (!f->on_done_list) {
		f->on_done_list = true;
		d->done_list[d->n_done_flows++] = (uint32_t)(f - d->flows);
	}
}

/* DPDK calls this when the port frees the last segment of a record. */
static void
extbuf_free(void *addr, void *opaque)
{
	struct drv_txd *t = opaque;
	struct drv_flow *f = &t->d->flows[t->flow];
	(void)addr;

	done_push(t->d, f, (uint32_t)(t - f->txd));
}

static rte_iova_t
iova_of(const void *p)
{
	/* Virtual ports never use it; a NIC in VA mode takes the address. */
	return rte_eal_iova_mode() == RTE_IOVA_VA ? (rte_iova_t)(uintptr_t)p : RTE_BAD_IOVA;
}

/*
 * The frame's first min(len, FLT_TX_HDR_MAX) bytes as one contiguous run:
 * the first piece when it is long enough, else a private gather.
 */
static const uint8_t *
frame_head(struct drv *d, struct drv_flow *f, const struct rbuf_iorec *r, uint32_t len)
{
	uint32_t want = RTE_MIN(len, (uint32_t)FLT_TX_HDR_MAX), got = 0;

	if (r->piece[0].len >= want)
		return rbuf_piece_ptr(f->tx, &r->piece[0]);
	for (unsigned i = 0; i < r->n_pieces && got < want; i++) {
		uint32_t k = RTE_MIN(r->piece[i].len, want - got);

		memcpy(d->tx_hdr + got, rbuf_piece_ptr(f->tx, &r->piece[i]), k);
		got += k;
	}
	return d->tx_hdr;
}

/*
 * Build the mbuf chain for one record held in txd @t. Returns the head, or
 * NULL with *reason set (refused) or with *reason 0 (no mbufs: retry).
 */
static struct rte_mbuf *
build(struct drv *d, struct drv_flow *f, struct drv_txd *t, unsigned *reason)
{
	const struct rbuf_iorec *r = &t->rec;
	struct rte_mbuf *hdr, *tail, *segs[RBUF_MAX_PIECES];
	uint32_t seg_off[RBUF_MAX_PIECES], skip;
	uint16_t seg_len[RBUF_MAX_PIECES], hdr_len;
	uint32_t len = t->len; /* checked at staging */
	unsigned n_segs = 0;

	*reason = 0;
	hdr = rte_pktmbuf_alloc(d->pool);
	if (!hdr)
		return NULL;
	if (f->checked) {
		enum flt_tx_reason why = flt_txcheck(d->flt, &f->tmpl, frame_head(d, f, r, len),
		    len, rte_pktmbuf_mtod(hdr, uint8_t *), &hdr_len);

		if (why != FLT_TX_OK) {
			rte_pktmbuf_free(hdr);
			f->st.tx_refuse[why]++;
			*reason = why;
			return NULL;
		}
	} else {
		/* The flow manager's own frames: trusted, copied all the same. */
		hdr_len = (uint16_t)RTE_MIN(len, (uint32_t)FLT_TX_HDR_MAX);
		memcpy(rte_pktmbuf_mtod(hdr, uint8_t *), frame_head(d, f, r, len), hdr_len);
	}
	hdr->data_len = hdr_len;
	hdr->pkt_len = len;
	skip = hdr_len;
	if (d->tx_linear && len <= rte_pktmbuf_tailroom(hdr) + hdr_len) {
		/* The rest of the frame copied behind the header. */
		for (unsigned i = 0; i < r->n_pieces; i++) {
			uint32_t plen = r->piece[i].len;

			if (skip >= plen) {
				skip -= plen;
				continue;
			}
			memcpy(rte_pktmbuf_mtod_offset(hdr, uint8_t *, hdr->data_len),
			    rbuf_piece_ptr(f->tx, &r->piece[i]) + skip, plen - skip);
			hdr->data_len = (uint16_t)(hdr->data_len + plen - skip);
			skip = 0;
		}
		return hdr; /* one segment: the caller hands the record back */
	}

	/* The rest of the frame, zero copy, from where the header ended. */
	for (unsigned i = 0; i < r->n_pieces; i++) {
		uint32_t plen = r->piece[i].len;

		if (skip >= plen) {
			skip -= plen;
			continue;
		}
		seg_off[n_segs] = r->piece[i].off + skip;
		seg_len[n_segs++] = (uint16_t)(plen - skip);
		skip = 0;
	}
	if (n_segs && rte_pktmbuf_alloc_bulk(d->pool, segs, n_segs) != 0) {
		rte_pktmbuf_free(hdr);
		return NULL;
	}
	t->shinfo.free_cb = extbuf_free;
	t->shinfo.fcb_opaque = t;
	rte_mbuf_ext_refcnt_set(&t->shinfo, (uint16_t)(n_segs ? n_segs : 1));
	tail = hdr;
	for (unsigned i = 0; i < n_segs; i++) {
		uint8_t *addr = rbuf_data(f->tx) + seg_off[i];

		rte_pktmbuf_attach_extbuf(segs[i], addr, iova_of(addr), seg_len[i], &t->shinfo);
		segs[i]->data_len = seg_len[i];
		segs[i]->pkt_len = seg_len[i];
		tail->next = segs[i];
		tail = segs[i];
	}
	hdr->nb_segs = (uint16_t)(1 + n_segs);
	return hdr;
}

static void
txd_free(struct drv_flow *f, uint32_t i)
{
	f->txd[i].next_free = f->txd_free;
	f->txd_free = i;
}

static inline uint32_t
stage_peek(const struct drv_flow *f)
{
	return f->stage[f->stage_head];
}

static inline void
stage_pop(struct drv_flow *f)
{
	f->stage_head = f->stage_head + 1 == f->n_txd ? 0 : f->stage_head + 1;
	f->stage_n--;
}

/*
 * Take up to DRV_TX_QUANTUM records from the flow's channel onto its stage.
 * A record whose frame is too short to carry an Ethernet header or longer
 * than we send goes back at once, refused. Returns the records taken.
 */
static unsigned
stage_fill(struct drv *d, struct drv_flow *f)
{
	struct rbuf_iorec recs[DRV_TX_QUANTUM];
	unsigned want = RTE_MIN((unsigned)DRV_TX_QUANTUM, f->n_txd - f->in_flight), k;

	if (want == 0)
		return 0; /* every descriptor is in use: the app waits for its own */
	k = rbuf_get_burst(f->tx, recs, want);
	for (unsigned j = 0; j < k; j++) {
		uint32_t ti = f->txd_free, len = 0;
		struct drv_txd *t = &f->txd[ti];

		f->txd_free = t->next_free;
		f->in_flight++;
		t->d = d;
		t->flow = f->id;
		t->rec = recs[j];
		for (unsigned i = 0; i < t->rec.n_pieces; i++)
			len += t->rec.piece[i].len; /* pieces are < 2^32 / 15 each */
		t->len = len;
		if (len < ETH_HDR_LEN || len > DRV_TX_FRAME_MAX) {
			f->st.c[DRV_C_TX_BAD_LEN]++;
			t->rec.flags |= RBUF_F_REFUSED;
			drv__droplog(d, "tx refused", f->id, FLT_TX__COUNT);
			done_push(d, f, ti);
			continue;
		}
		f->stage[(f->stage_head + f->stage_n) % f->n_txd] = ti;
		f->stage_n++;
	}
	return k;
}

/* Tell the scheduler what the flow has now: a head frame, or nothing. */
static void
sched_update(struct drv *d, struct drv_flow *f, uint64_t now)
{
	if (f->stage_n)
		sch_flow_backlog(d->sch, f->id, f->txd[stage_peek(f)].len, now);
	else
		sch_flow_idle(d->sch, f->id, now);
}

/* Hand every staged record back unsent (the flow is going away). */
void
drv__tx_flow_unstage(struct drv *d, struct drv_flow *f)
{
	while (f->stage_n) {
		done_push(d, f, stage_peek(f));
		stage_pop(f);
	}
}

/* Look at up to DRV_TX_SCAN idle flows, in turn, for new records. */
static unsigned
scan(struct drv *d, uint64_t now)
{
	unsigned n = RTE_MIN(d->n_tx, (unsigned)DRV_TX_SCAN), work = 0;

	for (unsigned i = 0; i < n; i++) {
		struct drv_flow *f = &d->flows[d->tx_list[d->tx_next]];

		d->tx_next = d->tx_next + 1 == d->n_tx ? 0 : d->tx_next + 1;
		if (f->stage_n || f->state != DRV_FLOW_ACTIVE)
			continue;
		work += stage_fill(d, f);
		if (f->stage_n) {
			sched_update(d, f, now);
			d->tx_due_ns = now; /* it may have the right to go at once */
		}
	}
	return work;
}

/*
 * Send what the scheduler allows now, up to a burst. Leaves tx_due_ns at
 * the time to ask again.
 */
static unsigned
send_scheduled(struct drv *d, uint64_t now)
{
	unsigned work = 0;

	while (d->n_tx_pend < DRV_BURST) {
		struct drv_flow *f;
		struct rte_mbuf *m;
		uint32_t id, ti;
		uint64_t next;
		unsigned reason;

		if (sch_dequeue(d->sch, now, &id, &next) < 0) {
			d->tx_due_ns = next;
			if (next != UINT64_MAX)
				d->st.tx_paced++;
			return work;
		}
		f = &d->flows[id];
		ti = stage_peek(f);
		m = build(d, f, &f->txd[ti], &reason);
		if (!m && !reason) {
			/* No mbuf: the frame keeps its place and its turn;
			 * the port frees mbufs as it sends. */
			f->st.c[DRV_C_TX_NO_MBUF]++;
			d->tx_due_ns = now + DRV_TX_RETRY_NS;
			return work;
		}
		stage_pop(f);
		work++;
		if (m) {
			sch_charge(d->sch, id, m->pkt_len, now);
			d->tx_pend[d->n_tx_pend++] = m;
			f->st.c[DRV_C_TX_PKTS]++;
			f->st.c[DRV_C_TX_BYTES] += m->pkt_len;
			/* A frame that fit in the header copy needs nothing
			 * from the data area any more: hand it back now. */
			if (m->nb_segs == 1)
				done_push(d, f, ti);
		} else {
			f->txd[ti].rec.flags |= RBUF_F_REFUSED;
			f->st.c[DRV_C_TX_REFUSED]++;
			drv__droplog(d, "tx refused", f->id, reason);
			done_push(d, f, ti);
		}
		if (!f->stage_n)
			stage_fill(d, f);
		sched_update(d, f, now);
		/* The clock moves while we build: a fast link must not be
		 * held to the time the burst started. */
		now = drv__now_ns(d);
	}
	d->tx_due_ns = now; /* the burst is full: more may go at once */
	return work;
}

static unsigned
flush_pending(struct drv *d)
{
	unsigned sent;

	if (!d->n_tx_pend)
		return 0;
	sent = rte_eth_tx_burst(d->port, 0, d->tx_pend, (uint16_t)d->n_tx_pend);
	if (sent < d->n_tx_pend) {
		d->st.tx_port_full++;
		memmove(
		    d->tx_pend, d->tx_pend + sent, (d->n_tx_pend - sent) * sizeof(d->tx_pend[0]));
	}
	d->n_tx_pend -= sent;
	d->st.tx_pkts += sent;
	return sent;
}

unsigned
drv__tx_poll(struct drv *d)
{
	uint64_t now = drv__now_ns(d);
	unsigned work = flush_pending(d);

	work += scan(d, now);
	if (d->n_tx_pend) /* the port is full: let it drain */
		return work;
	if (now >= d->tx_due_ns) {
		work += send_scheduled(d, now);
		flush_pending(d);
	}
	return work;
}

unsigned
drv__tx_hand_back(struct drv *d)
{
	unsigned work = 0, kept = 0;

	for (unsigned i = 0; i < d->n_done_flows; i++) {
		struct drv_flow *f = &d->flows[d->done_list[i]];
		struct rbuf_iorec r[DRV_BURST];
		unsigned off = 0;

		while (off < f->n_done) {
			unsigned k = RTE_MIN(f->n_done - off, (unsigned)DRV_BURST), put;

			for (unsigned j = 0; j < k; j++)
				r[j] = f->txd[f->done[off + j]].rec;
			put = f->state == DRV_FLOW_ACTIVE ? rbuf_put_burst(f->tx, r, k) : k;
			for (unsigned j = 0; j < put; j++)
				txd_free(f, f->done[off + j]);
			f->in_flight -= put;
			off += put;
			work += put;
			if (put < k) {
				/* The application is not taking records back:
				 * keep them, it only holds up its own flow. */
				f->st.c[DRV_C_TX_RETURN_FULL]++;
				break;
			}
		}
		memmove(f->done, f->done + off, (f->n_done - off) * sizeof(f->done[0]));
		f->n_done -= off;
		if (f->n_done) {
			d->done_list[kept++] = d->done_list[i];
		} else {
			f->on_done_list = false;
			if (f->state == DRV_FLOW_DYING && f->in_flight == 0)
				drv__flow_release(d, f);
		}
	}
	d->n_done_flows = kept;
	return work;
}
