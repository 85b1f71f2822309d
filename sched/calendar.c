/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The calendar (timer wheel) that orders flows by deadline: per slot a FIFO
 * of flow ids in blocks of one cache line from a shared pool, and a bitmap
 * of the non-empty slots.
 *
 *   slot:    0      1                  mask
 *   queue:  [ ]  [7 2 9 . 4 ...]->[5 1]   [3]      ids in blocks, '.' a tombstone
 *   bm[0]:   0      1          ...  1              one bit per slot
 *   bm[1]:  bit i = word i of bm[0] is not zero
 *   ...
 *   bm[top]: one word
 *
 * Finding the first non-empty slot from a position costs at most two word
 * operations per level (down and up), so it is constant for a given wheel
 * size: three levels for 65536 slots, four for 2^24.
 *
 * A flow is appended at the tail of its slot and remembers its entry
 * (sch_flow.wpos). Taken out at the head (the usual case: the flow just
 * chosen runs out of slice), the head moves on; taken out of the middle, it
 * leaves a tombstone. Tombstones at the head are skipped as the head moves,
 * so the head entry of a slot is always a live flow; when a slot holds more
 * tombstones than flows it is compacted in place, which costs O(entries)
 * and is paid for by the removals that made the tombstones, so removal is
 * O(1) amortised and a slot holds at most twice its flows.
 *
 * Pool bound: a slot with L flows uses at most 2 + (2L - 1)/14 blocks (a
 * partly read head block, at most L tombstones), so the wheels together use
 * at most 2 min(N, 4 slots) + 2N/14 blocks for N flows; advance() may hold
 * the not yet walked rest of one taken chain beside them (2N/14 more).
 * sch__pool_init() allocates that much, so insertion never fails.
 */
#include <errno.h>
#include <stdlib.h>

#include "sched/sch_priv.h"

void
sch__list_push_tail(struct sch_link *links, uint32_t *head, uint32_t i)
{
	struct sch_link *l = &links[i];

	if (*head == SCH_NIL) {
		l->next = l->prev = i;
		*head = i;
		return;
	}
	struct sch_link *h = &links[*head];
	uint32_t tail = h->prev;

	l->next = *head;
	l->prev = tail;
	links[tail].next = i;
	h->prev = i;
}

void
sch__list_del(struct sch_link *links, uint32_t *head, uint32_t i)
{
	struct sch_link *l = &links[i];

	if (l->next == i) {
		*head = SCH_NIL;
	} else {
		links[l->prev].next = l->next;
		links[l->next].prev = l->prev;
		if (*head == i)
			*head = l->next;
	}
	l->next = l->prev = SCH_NIL;
}

int
sch__pool_init(struct sch_pool *p, uint32_t max_flows, uint32_t nslots)
{
	uint64_t slots = (uint64_t)nslots * 4u;
	uint64_t n;

	if (slots > max_flows)
		slots = max_flows;
	n = 2 * slots + 4 * ((uint64_t)max_flows / SCH_BLK_IDS + 1) + 4;
	if (n >= (1ull << (32 - SCH_POS_SHIFT)))
		return -ENOMEM;
	/* Only the blocks used are ever touched (bump allocation). */
	*p = (struct sch_pool){.nblk = (uint32_t)n, .free = SCH_NIL};
	p->blk = aligned_alloc(SLUICE_CACHE_LINE, sizeof(*p->blk) * n);
	return p->blk ? 0 : -ENOMEM;
}

void
sch__pool_fini(struct sch_pool *p)
{
	free(p->blk);
	*p = (struct sch_pool){0};
}

static uint32_t
blk_get(struct sch_pool *p)
{
	uint32_t b = p->free;

	if (b != SCH_NIL)
		p->free = p->blk[b].next;
	else
		b = p->top++; /* within nblk by the bound above */
	p->blk[b].next = SCH_NIL;
	p->blk[b].rd = 0;
	p->blk[b].n = 0;
	return b;
}

static void
blk_put(struct sch_pool *p, uint32_t b)
{
	p->blk[b].next = p->free;
	p->free = b;
}

void
sch__pool_put_chain(struct sch_pool *p, uint32_t b)
{
	while (b != SCH_NIL) {
		uint32_t next = p->blk[b].next;

		blk_put(p, b);
		b = next;
	}
}

int
sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned gshift, struct sch_pool *pool,
    struct sch_flow *flows)
{
	uint64_t bits = nslots;

	*w = (struct sch_wheel){
	    .nslots = nslots, .mask = nslots - 1, .gshift = gshift, .pool = pool, .flows = flows};
	w->slot = malloc(sizeof(*w->slot) * nslots);
	if (!w->slot)
		goto out_free;
	for (uint32_t i = 0; i < nslots; i++)
		w->slot[i] = (struct sch_slot){.head = SCH_NIL, .tail = SCH_NIL};
	/* Levels until one word holds the whole level. */
	for (;;) {
		uint64_t words = (bits + 63) / 64;

		if (w->nlevels == SCH_BM_MAX_LEVELS)
			goto out_free;
		w->bm[w->nlevels] = calloc(words, sizeof(uint64_t));
		if (!w->bm[w->nlevels])
			goto out_free;
		w->nlevels++;
		if (words == 1)
			break;
		bits = words;
	}
	return 0;

out_free:
	sch__wheel_fini(w);
	return -ENOMEM;
}

void
sch__wheel_fini(struct sch_wheel *w)
{
	free(w->slot);
	for (unsigned l = 0; l < w->nlevels; l++)
		free(w->bm[l]);
	*w = (struct sch_wheel){0};
}

static void
bm_set(struct sch_wheel *w, uint64_t i)
{
	for (unsigned l = 0; l < w->nlevels; l++) {
		uint64_t *word = &w->bm[l][i >> 6];
		uint64_t was = *word;

		*word = was | (1ull << (i & 63));
		if (was)
			return;
		i >>= 6;
	}
}

static void
bm_clear(struct sch_wheel *w, uint64_t i)
{
	for (unsigned l = 0; l < w->nlevels; l++) {
		uint64_t *word = &w->bm[l][i >> 6];

		*word &= ~(1ull << (i & 63));
		if (*word)
			return;
		i >>= 6;
	}
}

/* First set bit at or after @i in level @l (not circular); -1 if none. */
static int64_t
bm_next(const struct sch_wheel *w, unsigned l, uint64_t i)
{
	uint64_t nwords = 1;

	/* Level l has as many words as level l+1 has bits; the top has one. */
	if (l + 1 < w->nlevels)
		nwords = (uint64_t)w->nslots >> (6 * (l + 1));
	if (nwords == 0)
		nwords = 1;
	if ((i >> 6) >= nwords)
		return -1;

	uint64_t wi = i >> 6;
	uint64_t bits = w->bm[l][wi] & (~0ull << (i & 63));

	if (bits)
		return (int64_t)((wi << 6) | (uint64_t)__builtin_ctzll(bits));
	if (l + 1 == w->nlevels)
		return -1;

	int64_t nw = bm_next(w, l + 1, wi + 1);

	if (nw < 0)
		return -1;
	return (int64_t)(((uint64_t)nw << 6) | (uint64_t)__builtin_ctzll(w->bm[l][nw]));
}

int64_t
sch__wheel_first(const struct sch_wheel *w, uint32_t from)
{
	int64_t r;

	if (w->count == 0)
		return -1;
	r = bm_next(w, 0, from);
	if (r < 0 && from != 0)
		r = bm_next(w, 0, 0);
	return r;
}

void
sch__wheel_insert(struct sch_wheel *w, uint32_t i, uint64_t deadline)
{
	uint32_t idx = (uint32_t)(deadline >> w->gshift) & w->mask;
	struct sch_slot *sl = &w->slot[idx];
	struct sch_pool *p = w->pool;
	struct sch_blk *b;
	uint32_t bi;

	if (sl->live == 0) {
		bi = blk_get(p);
		sl->head = sl->tail = bi;
		bm_set(w, idx);
	} else {
		bi = sl->tail;
		if (p->blk[bi].n == SCH_BLK_IDS) {
			uint32_t nb = blk_get(p);

			p->blk[bi].next = nb;
			sl->tail = bi = nb;
		}
	}
	b = &p->blk[bi];
	w->flows[i].wpos = bi << SCH_POS_SHIFT | b->n;
	b->id[b->n++] = i;
	sl->live++;
	w->count++;
}

/* Move the head of a slot past entries read and tombstones, to a live flow. */
static void
head_skip(struct sch_pool *p, struct sch_slot *sl)
{
	struct sch_blk *b = &p->blk[sl->head];

	for (;;) {
		if (b->rd == b->n) {
			uint32_t next = b->next;

			blk_put(p, sl->head);
			sl->head = next;
			b = &p->blk[next];
			continue;
		}
		if (b->id[b->rd] != SCH_NIL)
			return;
		b->rd++;
		sl->dead--;
	}
}

/* Squeeze the tombstones out of a slot, keeping the order of its flows. */
static void
compact(struct sch_wheel *w, struct sch_slot *sl)
{
	struct sch_pool *p = w->pool;
	uint32_t wb = sl->head, rb = sl->head, rest;
	unsigned wo = p->blk[wb].rd;

	while (rb != SCH_NIL) {
		struct sch_blk *r = &p->blk[rb];

		for (unsigned j = r->rd; j < r->n; j++) {
			uint32_t id = r->id[j];

			if (id == SCH_NIL)
				continue;
			if (wo == SCH_BLK_IDS) {
				wb = p->blk[wb].next;
				wo = 0;
			}
			p->blk[wb].id[wo] = id;
			w->flows[id].wpos = wb << SCH_POS_SHIFT | wo;
			wo++;
		}
		rb = r->next;
	}
	p->blk[wb].n = (uint16_t)wo;
	rest = p->blk[wb].next;
	p->blk[wb].next = SCH_NIL;
	sch__pool_put_chain(p, rest);
	sl->tail = wb;
	sl->dead = 0;
}

void
sch__wheel_remove(struct sch_wheel *w, uint32_t i, uint64_t deadline)
{
	uint32_t idx = (uint32_t)(deadline >> w->gshift) & w->mask;
	struct sch_slot *sl = &w->slot[idx];
	struct sch_pool *p = w->pool;
	uint32_t pos = w->flows[i].wpos;
	uint32_t bi = pos >> SCH_POS_SHIFT;
	struct sch_blk *b = &p->blk[bi];

	w->count--;
	if (--sl->live == 0) {
		sch__pool_put_chain(p, sl->head);
		*sl = (struct sch_slot){.head = SCH_NIL, .tail = SCH_NIL};
		bm_clear(w, idx);
		return;
	}
	if (bi == sl->head && (pos & SCH_POS_MASK) == b->rd) {
		b->rd++;
		head_skip(p, sl);
		return;
	}
	b->id[pos & SCH_POS_MASK] = SCH_NIL;
	if (++sl->dead > sl->live)
		compact(w, sl);
}

uint32_t
sch__wheel_take(struct sch_wheel *w, uint32_t idx, uint32_t *tail)
{
	struct sch_slot *sl = &w->slot[idx];
	uint32_t h = sl->head;

	if (h == SCH_NIL)
		return SCH_NIL;
	*tail = sl->tail;
	w->count -= sl->live;
	*sl = (struct sch_slot){.head = SCH_NIL, .tail = SCH_NIL};
	bm_clear(w, idx);
	return h;
}
