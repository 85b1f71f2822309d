/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The calendar (timer wheel) that orders flows by deadline: per slot one or
 * more FIFOs (lanes) of flow ids in blocks of one cache line from a shared
 * pool, and a bitmap of the non-empty slots.
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
 * A flow is appended at the tail of its FIFO and remembers its entry
 * (sch_flow.wpos). Taken out at the head (the usual case: the flow just
 * chosen runs out of slice), the head moves on; taken out of the middle, it
 * leaves a tombstone. Tombstones at the head are skipped as the head moves,
 * so the head entry of a FIFO is always a live flow; when a FIFO holds more
 * tombstones than flows it is compacted in place, which costs O(entries)
 * and is paid for by the removals that made the tombstones, so removal is
 * O(1) amortised and a FIFO holds at most twice its flows.
 *
 * A whole FIFO can be appended to another (sch__wheel_splice(): the waiting
 * wheel's tagged lanes go to the eligible wheel so). Entries keep their
 * blocks, so no flow's wpos changes and no record is touched; the joint
 * chain may have partly filled blocks in the middle.
 *
 * Pool bound: a FIFO, and each part spliced into it, has at most two partly
 * filled blocks (a partly read head, a partly written tail); every other
 * block is full of flows or tombstones, which are at most 2N for N flows.
 * The non-empty FIFOs are at most min(N, 5 slots) (one eligible lane and
 * SCH_WAIT_LANES waiting lanes per slot); the spliced parts still holding
 * entries came from tagged lanes released within the last turn of the
 * wheel, so at most min(2N, 3 slots). advance() may hold taken chains as
 * many again while it rolls their flows into the wheels. sch__pool_init()
 * allocates that much, so insertion never fails; only the blocks used are
 * ever touched.
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
	uint64_t fifos = (uint64_t)nslots * (1 + SCH_WAIT_LANES);
	uint64_t parts = (uint64_t)nslots * SCH_LANES_TAGGED;
	uint64_t n;

	if (fifos > max_flows)
		fifos = max_flows;
	if (parts > 2ull * max_flows)
		parts = 2ull * max_flows;
	/* Partial blocks: two per FIFO and part, twice over; full ones: 2N ids, twice. */
	n = 4 * (fifos + parts) + 4 * ((uint64_t)max_flows / SCH_BLK_IDS + 1) + 4;
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

/*
 * @n zeroed elements of @size bytes starting on a cache line (the raw
 * allocation in *@mem, for free()). calloc() leaves large areas to the
 * kernel's zero pages, so only the slots in use are ever touched; but it
 * aligns them to 16 bytes, which split every waiting slot's four lanes
 * (one line's worth) over two lines.
 */
static void *
calloc_lines(size_t n, size_t size, void **mem)
{
	uintptr_t p;

	*mem = calloc(n * size + SLUICE_CACHE_LINE, 1);
	if (!*mem)
		return NULL;
	p = ((uintptr_t)*mem + SLUICE_CACHE_LINE - 1) & ~(uintptr_t)(SLUICE_CACHE_LINE - 1);
	return (void *)p;
}

int
sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned lanes, unsigned gshift,
    struct sch_pool *pool, struct sch_flow *flows)
{
	uint64_t bits = nslots;

	*w = (struct sch_wheel){.nslots = nslots,
	    .mask = nslots - 1,
	    .gshift = gshift,
	    .lanes = lanes,
	    .lshift = (unsigned)__builtin_ctz(lanes),
	    .pool = pool,
	    .flows = flows};
	/* Zeroed: every FIFO empty (live 0). */
	w->q = calloc_lines((size_t)nslots * lanes, sizeof(*w->q), &w->q_mem);
	if (!w->q)
		goto out_free;
	if (lanes > 1) {
		w->tag = calloc_lines((size_t)nslots * lanes, sizeof(*w->tag), &w->tag_mem);
		if (!w->tag)
			goto out_free;
	}
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
	free(w->q_mem);
	free(w->tag_mem);
	for (unsigned l = 0; l < w->nlevels; l++)
		free(w->bm[l]);
	*w = (struct sch_wheel){0};
}

/* @slot has a flow now: set its bit; it may be the earliest. */
static void
bm_set(struct sch_wheel *w, uint64_t slot)
{
	uint64_t i = slot & w->mask;

	if (w->first_ok && slot < w->first)
		w->first = slot;
	for (unsigned l = 0; l < w->nlevels; l++) {
		uint64_t *word = &w->bm[l][i >> 6];
		uint64_t was = *word;

		*word = was | (1ull << (i & 63));
		if (was)
			return;
		i >>= 6;
	}
}

/* @slot is empty now: clear its bit; if it was the earliest, the next must be found. */
static void
bm_clear(struct sch_wheel *w, uint64_t slot)
{
	uint64_t i = slot & w->mask;

	if (slot == w->first)
		w->first_ok = false;
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

uint64_t
sch__wheel_first(const struct sch_wheel *w, uint64_t from)
{
	uint64_t i = from & w->mask;
	int64_t r;

	if (w->count == 0)
		return UINT64_MAX;
	r = bm_next(w, 0, i);
	if (r < 0 && i != 0)
		r = bm_next(w, 0, 0);
	if (r < 0)
		return UINT64_MAX;
	return from + (((uint64_t)r - i) & w->mask);
}

/* Is any lane of @slot non-empty? */
static bool
slot_busy(const struct sch_wheel *w, uint64_t slot)
{
	const struct sch_fifo *q = sch__wheel_fifo(w, slot, 0);

	for (unsigned l = 0; l < w->lanes; l++)
		if (q[l].live)
			return true;
	return false;
}

void
sch__wheel_insert_slow(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, lane);
	struct sch_pool *p = w->pool;
	struct sch_blk *b;
	uint32_t bi;

	if (q->live == 0) {
		if (!slot_busy(w, slot))
			bm_set(w, slot);
		bi = blk_get(p);
		q->head = q->tail = bi;
	} else {
		bi = q->tail;
		if (p->blk[bi].n == SCH_BLK_IDS) {
			uint32_t nb = blk_get(p);

			p->blk[bi].next = nb;
			q->tail = bi = nb;
		}
	}
	b = &p->blk[bi];
	w->flows[i].wpos = bi << SCH_POS_SHIFT | b->n;
	b->id[b->n++] = i;
	q->live++;
	w->count++;
}

/* Move the head of a FIFO past entries read and tombstones, to a live flow. */
static void
head_skip(struct sch_pool *p, struct sch_fifo *q)
{
	struct sch_blk *b = &p->blk[q->head];

	for (;;) {
		if (b->rd == b->n) {
			uint32_t next = b->next;

			blk_put(p, q->head);
			q->head = next;
			b = &p->blk[next];
			continue;
		}
		if (b->id[b->rd] != SCH_NIL)
			return;
		b->rd++;
		q->dead--;
	}
}

/* Squeeze the tombstones out of a FIFO, keeping the order of its flows. */
static void
compact(struct sch_wheel *w, struct sch_fifo *q)
{
	struct sch_pool *p = w->pool;
	uint32_t wb = q->head, rb = q->head, rest;
	unsigned wo = p->blk[wb].rd;

	while (rb != SCH_NIL) {
		struct sch_blk *r = &p->blk[rb];

		for (unsigned j = r->rd; j < r->n; j++) {
			uint32_t id = r->id[j];

			if (id == SCH_NIL)
				continue;
			if (wo == SCH_BLK_IDS) {
				/* A block in the middle may have been partly filled. */
				p->blk[wb].n = SCH_BLK_IDS;
				wb = p->blk[wb].next;
				wo = 0;
				/*
				 * Writing never overtakes reading; a spliced
				 * block may have been partly read.
				 */
				p->blk[wb].rd = 0;
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
	q->tail = wb;
	q->dead = 0;
}

void
sch__wheel_remove_slow(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, lane);
	struct sch_pool *p = w->pool;
	uint32_t pos = w->flows[i].wpos;
	uint32_t bi = pos >> SCH_POS_SHIFT;
	struct sch_blk *b = &p->blk[bi];

	w->count--;
	if (--q->live == 0) {
		sch__pool_put_chain(p, q->head);
		q->dead = 0;
		if (!slot_busy(w, slot))
			bm_clear(w, slot);
		return;
	}
	if (bi == q->head && (pos & SCH_POS_MASK) == b->rd) {
		b->rd++;
		head_skip(p, q);
		return;
	}
	b->id[pos & SCH_POS_MASK] = SCH_NIL;
	if (++q->dead > q->live)
		compact(w, q);
}

bool
sch__wheel_take(struct sch_wheel *w, uint64_t slot, unsigned lane, struct sch_fifo *part)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, lane);

	if (q->live == 0)
		return false;
	*part = *q;
	w->count -= q->live;
	q->live = q->dead = 0;
	if (!slot_busy(w, slot))
		bm_clear(w, slot);
	return true;
}

void
sch__wheel_splice(struct sch_wheel *w, uint64_t slot, const struct sch_fifo *part)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, 0);
	struct sch_pool *p = w->pool;

	w->count += part->live;
	if (q->live == 0) {
		if (!slot_busy(w, slot))
			bm_set(w, slot);
		/* The part's head is a live flow already (its own FIFO kept it so). */
		*q = *part;
		return;
	}
	p->blk[q->tail].next = part->head;
	q->tail = part->tail;
	q->live += part->live;
	q->dead += part->dead;
	if (q->dead > q->live)
		compact(w, q);
}
