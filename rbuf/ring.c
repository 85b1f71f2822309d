/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fast path: putting and getting iorecs. One pass over the burst, one
 * publish of the event count at the end, no allocation, no lock, no system
 * call (except rbuf__kick_if_sleeping() when the peer sleeps).
 */
#include <string.h>

#include "rbuf/rbuf_priv.h"

#define HDR_SIZE   sizeof(struct rbuf_shm_iorec_hdr)
#define PIECE_SIZE sizeof(struct rbuf_shm_piece)

_Static_assert(HDR_SIZE + PIECE_SIZE == 16, "a one-piece slot is 16 bytes");

static inline uint8_t *
slot_at(const struct rbuf_chan *ch, const struct rbuf_ring_view *v, uint32_t idx)
{
	return v->slots + ((size_t)(idx & ch->mask) << ch->slot_shift);
}

unsigned
rbuf_room(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->out;
	/* Acquire pairs with the consumer's release of cons in get(): its
	 * reads of the slots are done before we overwrite them. */
	uint32_t cons = atomic_load_explicit(&v->shm->cons, memory_order_acquire);
	uint32_t used = v->mine - cons;

	if (unlikely(used > ch->n_recs)) {
		ch->st.err[RBUF_ERR_BAD_INDEX]++;
		return 0;
	}
	v->peer = cons;
	return ch->n_recs - used;
}

unsigned
rbuf_avail(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->in;
	/* Acquire pairs with the producer's release of prod in put(): the
	 * slots it filled are visible before we read them. */
	uint32_t prod = atomic_load_explicit(&v->shm->prod, memory_order_acquire);
	uint32_t ready = prod - v->mine;

	if (unlikely(ready > ch->n_recs)) {
		ch->st.err[RBUF_ERR_BAD_INDEX]++;
		return 0;
	}
	v->peer = prod;
	return ready;
}

static inline unsigned
put(struct rbuf_chan *ch, const struct rbuf_iorec *recs, unsigned n, bool bulk)
{
	struct rbuf_ring_view *v = &ch->out;
	/* The cached cons was checked when read, so this cannot underflow. */
	unsigned room = ch->n_recs - (v->mine - v->peer);

	if (room < n)
		room = rbuf_room(ch);
	if (n > room) {
		if (bulk)
			return 0;
		n = room;
	}
	if (bulk) {
		for (unsigned i = 0; i < n; i++)
			if (unlikely(recs[i].n_pieces == 0 || recs[i].n_pieces > ch->max_pieces))
				return 0;
	}
	for (unsigned i = 0; i < n; i++) {
		uint8_t *s = slot_at(ch, v, v->mine + i);
		unsigned np = recs[i].n_pieces;

		if (unlikely(np == 0 || np > ch->max_pieces)) {
			n = i;
			break;
		}
		/* Copy only the pieces in use: the rest of the caller's
		 * record is not the peer's business. */
		if (likely(np == 1))
			memcpy(s, &recs[i], HDR_SIZE + PIECE_SIZE);
		else
			memcpy(s, &recs[i], HDR_SIZE + np * PIECE_SIZE);
	}
	if (n == 0)
		return 0;
	v->mine += n;
	/*
	 * Release pairs with the consumer's acquire of prod in rbuf_avail().
	 * Then the sleep protocol (ec.c) needs this store ordered before the
	 * load of sleep_seq. When the process is registered for membarrier,
	 * a consumer about to sleep forces that barrier on us, so a compiler
	 * barrier is enough here; otherwise publish with a locked exchange,
	 * a full barrier, which waits for the line: ~100 ns across cores.
	 */
	if (likely(ch->asym_fence)) {
		atomic_store_explicit(&v->shm->prod, v->mine, memory_order_release);
		atomic_signal_fence(memory_order_seq_cst);
	} else {
		atomic_exchange_explicit(&v->shm->prod, v->mine, memory_order_seq_cst);
	}
	ch->st.put += n;
	rbuf__kick_if_sleeping(ch);
	return n;
}

/* The general case: up to max_pieces pieces per record. */
static unsigned
get_pieces(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n)
{
	struct rbuf_ring_view *v = &ch->in;
	unsigned good = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *s = slot_at(ch, v, v->mine + i);
		struct rbuf_iorec *r = &recs[good];
		unsigned np;
		int bad = 0;

		/*
		 * Copy first, then check the copy: the peer can rewrite the
		 * slot at any time, so the slot is read exactly once and the
		 * piece count that bounds the second copy is our own.
		 */
		memcpy(r, s, HDR_SIZE);
		np = r->n_pieces;
		if (unlikely(np == 0 || np > ch->max_pieces)) {
			ch->st.err[RBUF_ERR_BAD_NPIECES]++;
			continue;
		}
		memcpy(r->piece, s + HDR_SIZE, np * PIECE_SIZE);
		for (unsigned k = 0; k < np && !bad; k++)
			bad = rbuf__check_piece(ch, &r->piece[k]);
		if (unlikely(bad)) {
			ch->st.err[bad - 1]++;
			continue;
		}
		good++;
	}
	return good;
}

/* One piece per record: the slot is 16 bytes, read in one copy. */
static inline unsigned
get_one_piece(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n)
{
	struct rbuf_ring_view *v = &ch->in;
	unsigned good = 0;

	for (unsigned i = 0; i < n; i++) {
		struct rbuf_iorec *r = &recs[good];
		int bad;

		memcpy(r, slot_at(ch, v, v->mine + i), HDR_SIZE + PIECE_SIZE);
		if (unlikely(r->n_pieces != 1)) {
			ch->st.err[RBUF_ERR_BAD_NPIECES]++;
			continue;
		}
		bad = rbuf__check_piece(ch, &r->piece[0]);
		if (unlikely(bad)) {
			ch->st.err[bad - 1]++;
			continue;
		}
		good++;
	}
	return good;
}

static inline unsigned
get(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n, bool bulk)
{
	struct rbuf_ring_view *v = &ch->in;
	/* The cached prod was checked when read, so this is at most n_recs. */
	unsigned ready = v->peer - v->mine;
	unsigned good;

	if (ready < n)
		ready = rbuf_avail(ch);
	if (n > ready) {
		if (bulk)
			return 0;
		n = ready;
	}
	if (n == 0)
		return 0;
	good = ch->max_pieces == 1 ? get_one_piece(ch, recs, n) : get_pieces(ch, recs, n);
	v->mine += n;
	/* Release pairs with the producer's acquire of cons in rbuf_room():
	 * our reads of these slots are done before it may reuse them. */
	atomic_store_explicit(&v->shm->cons, v->mine, memory_order_release);
	ch->st.got += good;
	ch->st.dropped += n - good;
	return good;
}

unsigned
rbuf_put_burst(struct rbuf_chan *ch, const struct rbuf_iorec *recs, unsigned n)
{
	return put(ch, recs, n, false);
}

unsigned
rbuf_put_bulk(struct rbuf_chan *ch, const struct rbuf_iorec *recs, unsigned n)
{
	return put(ch, recs, n, true);
}

unsigned
rbuf_get_burst(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n)
{
	return get(ch, recs, n, false);
}

unsigned
rbuf_get_bulk(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n)
{
	return get(ch, recs, n, true);
}

void
rbuf_chan_republish(struct rbuf_chan *ch)
{
	atomic_store_explicit(&ch->out.shm->prod, ch->out.mine, memory_order_release);
	atomic_store_explicit(&ch->in.shm->cons, ch->in.mine, memory_order_release);
	atomic_store_explicit(&ch->in.shm->sleep_seq, ch->in.sleep_seq, memory_order_relaxed);
}
