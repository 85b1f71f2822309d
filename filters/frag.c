/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * frag.c -- IPv4 fragments, as the Mach Packet Filter did them: the driver
 * never reassembles, it only sends every fragment where the first went.
 *
 * Fragment memory: a set-associative table of (source, destination, id,
 * protocol) -> verdict, FLT_FRAG_WAYS entries per bucket, each alive for
 * frag_timeout_ns after its first fragment. A new first fragment takes a
 * dead entry of its bucket, else the one closest to death (counted as
 * frag_evicted). A first fragment with the key of a live entry replaces it
 * (frag_replaced): the IP id has wrapped, and the newest datagram wins.
 *
 * Hold pool: hold_slots copies of early fragments (a later fragment whose
 * first has not been seen), each up to hold_slot_size bytes, waiting at most
 * hold_timeout_ns. When the first fragment is classified, the waiting copies
 * with its key become READY with its verdict (or are dropped, for flows that
 * take in-order fragments only) and flt_frag_release_burst() hands them out.
 * A handed-out copy stays valid until the next call on the table.
 *
 * Everything here belongs to the receive thread.
 */
#include <errno.h>
#include <string.h>

#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "filters/flt_priv.h"

int
flt__frag_init(struct flt_table *t)
{
	size_t n_ent = ((size_t)t->frag_mask + 1) * FLT_FRAG_WAYS;

	t->rd.frag = rte_zmalloc("flt_frag", n_ent * sizeof(*t->rd.frag), RTE_CACHE_LINE_SIZE);
	if (!t->rd.frag)
		return -ENOMEM;
	if (t->hold_slots == 0)
		return 0;
	t->rd.hold = rte_zmalloc("flt_hold", t->hold_slots * sizeof(*t->rd.hold), 0);
	t->rd.hold_mem = rte_malloc(
	    "flt_hold_mem", (size_t)t->hold_slots * t->hold_slot_size, RTE_CACHE_LINE_SIZE);
	if (!t->rd.hold || !t->rd.hold_mem) {
		flt__frag_fini(t);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < t->hold_slots; s++)
		t->rd.hold[s].data = t->rd.hold_mem + (size_t)s * t->hold_slot_size;
	return 0;
}

void
flt__frag_fini(struct flt_table *t)
{
	rte_free(t->rd.hold_mem);
	rte_free(t->rd.hold);
	rte_free(t->rd.frag);
	t->rd.hold_mem = NULL;
	t->rd.hold = NULL;
	t->rd.frag = NULL;
}

static inline struct flt_frag_ent *
bucket_of(const struct flt_table *t, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	uint32_t h = rte_hash_crc_8byte((uint64_t)src << 32 | dst, (uint32_t)id << 8 | proto);

	return &t->rd.frag[(size_t)(h & t->frag_mask) * FLT_FRAG_WAYS];
}

static inline bool
ent_match(const struct flt_frag_ent *e, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	return e->action != 0 && e->src == src && e->dst == dst && e->id == id && e->proto == proto;
}

static inline bool
slot_match(const struct flt_hold_slot *s, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto)
{
	return s->src == src && s->dst == dst && s->id == id && s->proto == proto;
}

/* n_held counts WAITING and READY slots; LENT ones are already released. */
static void
held_add(struct flt_table *t, int d)
{
	__atomic_store_n(&t->rd.n_held, t->rd.n_held + (uint32_t)d, __ATOMIC_RELAXED);
}

static void
slot_free(struct flt_table *t, struct flt_hold_slot *s)
{
	if (s->state == FLT_HOLD_WAITING)
		t->rd.n_waiting--;
	if (s->state == FLT_HOLD_WAITING || s->state == FLT_HOLD_READY)
		held_add(t, -1);
	if (s->state == FLT_HOLD_LENT)
		t->rd.n_lent--;
	s->state = FLT_HOLD_FREE;
}

/* Settle the held fragments of a first fragment just classified as v. */
static void
hold_settle(struct flt_table *t, uint32_t src, uint32_t dst, uint16_t id, uint8_t proto,
    const struct flt_verdict *v, uint16_t fflags)
{
	for (uint32_t i = 0; i < t->hold_slots && t->rd.n_waiting > 0; i++) {
		struct flt_hold_slot *s = &t->rd.hold[i];

		if (s->state != FLT_HOLD_WAITING || !slot_match(s, src, dst, id, proto))
			continue;
		if (v->action == FLT_ACT_FLOW && (fflags & FLT_FLOW_F_INORDER_FRAGS)) {
			FLT_CTR_ADD(t->rx.drop[FLT_DROP_FRAG_OUT_OF_ORDER], 1);
			slot_free(t, s);
			continue;
		}
		s->state = FLT_HOLD_READY;
		s->action = v->action;
		s->flow = v->flow;
		t->rd.n_waiting--;
	}
}

void
flt__frag_first(struct flt_table *t, const struct flt_key *k, uint16_t id,
    const struct flt_verdict *v, uint16_t fflags, uint64_t now_ns)
{
	struct flt_frag_ent *b = bucket_of(t, k->remote_addr, k->local_addr, id, k->proto);
	struct flt_frag_ent *e = NULL;

	if (v->action != FLT_ACT_FLOW && v->action != FLT_ACT_MANAGER)
		return;
	for (unsigned w = 0; w < FLT_FRAG_WAYS; w++) {
		if (ent_match(&b[w], k->remote_addr, k->local_addr, id, k->proto)) {
			e = &b[w];
			if (e->expiry > now_ns && (e->action != v->action || e->flow != v->flow))
				FLT_CTR_ADD(t->rx.frag_replaced, 1);
			break;
		}
	}
	if (!e) {
		/* A dead entry if there is one, else the one closest to death. */
		e = &b[0];
		for (unsigned w = 0; w < FLT_FRAG_WAYS; w++) {
			if (b[w].action == 0 || b[w].expiry <= now_ns) {
				e = &b[w];
				break;
			}
			if (b[w].expiry < e->expiry)
				e = &b[w];
		}
		if (e->action != 0 && e->expiry > now_ns)
			FLT_CTR_ADD(t->rx.frag_evicted, 1);
	}
	e->src = k->remote_addr;
	e->dst = k->local_addr;
	e->id = id;
	e->proto = k->proto;
	e->action = (uint8_t)v->action;
	e->flow = v->flow;
	e->fflags = fflags;
	e->expiry = now_ns + t->frag_timeout_ns;
	FLT_CTR_ADD(t->rx.frag_first, 1);

	if (unlikely(t->rd.n_waiting > 0))
		hold_settle(t, k->remote_addr, k->local_addr, id, k->proto, v, fflags);
}

/* Drop held fragments that waited too long. */
static void
hold_expire(struct flt_table *t, uint64_t now_ns)
{
	for (uint32_t i = 0; i < t->hold_slots && t->rd.n_waiting > 0; i++) {
		struct flt_hold_slot *s = &t->rd.hold[i];

		if (s->state == FLT_HOLD_WAITING && s->expiry <= now_ns) {
			FLT_CTR_ADD(t->rx.drop[FLT_DROP_FRAG_TIMEOUT], 1);
			slot_free(t, s);
		}
	}
}

static struct flt_hold_slot *
hold_alloc(struct flt_table *t, uint64_t now_ns)
{
	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t i = 0; i < t->hold_slots; i++)
			if (t->rd.hold[i].state == FLT_HOLD_FREE)
				return &t->rd.hold[i];
		/* Full: make room from fragments that waited too long, then look again. */
		hold_expire(t, now_ns);
	}
	return NULL;
}

static void
hold(struct flt_table *t, const struct flt_key *k, uint16_t id, const uint8_t *frame, uint16_t len,
    uint64_t now_ns, struct flt_verdict *v)
{
	struct flt_hold_slot *s;

	v->flow = FLT_FLOW_NONE;
	v->action = FLT_ACT_DROP;
	if (t->hold_slots == 0) {
		v->reason = FLT_DROP_FRAG_NO_FIRST;
		return;
	}
	if (len > t->hold_slot_size) {
		v->reason = FLT_DROP_FRAG_HOLD_TOO_BIG;
		return;
	}
	s = hold_alloc(t, now_ns);
	if (!s) {
		v->reason = FLT_DROP_FRAG_HOLD_FULL;
		return;
	}
	memcpy(s->data, frame, len);
	s->src = k->remote_addr;
	s->dst = k->local_addr;
	s->id = id;
	s->proto = k->proto;
	s->len = len;
	s->state = FLT_HOLD_WAITING;
	s->expiry = now_ns + t->hold_timeout_ns;
	s->seq = t->rd.hold_seq++;
	t->rd.n_waiting++;
	held_add(t, 1);
	v->action = FLT_ACT_HELD;
	v->reason = FLT_DROP_NONE;
}

void
flt__frag_later(struct flt_table *t, const struct flt_key *k, uint16_t id, const uint8_t *frame,
    uint16_t len, uint64_t now_ns, struct flt_verdict *v)
{
	struct flt_frag_ent *b = bucket_of(t, k->remote_addr, k->local_addr, id, k->proto);

	for (unsigned w = 0; w < FLT_FRAG_WAYS; w++) {
		const struct flt_frag_ent *e = &b[w];

		if (ent_match(e, k->remote_addr, k->local_addr, id, k->proto) &&
		    e->expiry > now_ns) {
			v->flow = e->action == FLT_ACT_FLOW ? e->flow : FLT_FLOW_NONE;
			v->action = e->action;
			v->reason = FLT_DROP_NONE;
			FLT_CTR_ADD(t->rx.frag_later, 1);
			return;
		}
	}
	hold(t, k, id, frame, len, now_ns, v);
}

void
flt__frag_reclaim_lent(struct flt_table *t)
{
	for (uint32_t i = 0; i < t->hold_slots && t->rd.n_lent > 0; i++)
		if (t->rd.hold[i].state == FLT_HOLD_LENT)
			slot_free(t, &t->rd.hold[i]);
}

unsigned
flt_frag_release_burst(struct flt_table *t, uint64_t now_ns, struct flt_held out[], unsigned n)
{
	unsigned got = 0;

	if (t->rd.n_lent)
		flt__frag_reclaim_lent(t);
	if (t->rd.n_waiting)
		hold_expire(t, now_ns);
	/* Oldest first; the pool is small, so a scan per fragment is cheap enough. */
	while (got < n && t->rd.n_held > t->rd.n_waiting) {
		struct flt_hold_slot *best = NULL;

		for (uint32_t i = 0; i < t->hold_slots; i++) {
			struct flt_hold_slot *s = &t->rd.hold[i];

			if (s->state == FLT_HOLD_READY && (!best || s->seq < best->seq))
				best = s;
		}
		if (!best)
			break;
		best->state = FLT_HOLD_LENT;
		held_add(t, -1);
		t->rd.n_lent++;
		out[got].frame = best->data;
		out[got].len = best->len;
		out[got].action = best->action;
		out[got].flow = best->flow;
		got++;
	}
	if (got)
		FLT_CTR_ADD(t->rx.rx_released, got);
	return got;
}

unsigned
flt_frag_held(const struct flt_table *t)
{
	return __atomic_load_n(&t->rd.n_held, __ATOMIC_RELAXED);
}
