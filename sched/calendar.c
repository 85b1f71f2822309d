/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The calendar (timer wheel) that orders flows by deadline, and the
 * circular lists of flow ids it is built from.
 *
 *   slot:    0     1     2           mask
 *   head:  [NIL] [ 7 ] [NIL] ... [ 3 ]        FIFO lists through sch.wl[]
 *   bm[0]:  0     1     0     ...  1          one bit per slot
 *   bm[1]:  bit i = word i of bm[0] is not zero
 *   ...
 *   bm[top]: one word
 *
 * Finding the first non-empty slot from a position costs at most two word
 * operations per level (down and up), so it is constant for a given wheel
 * size: three levels for 65536 slots, four for 2^24.
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

void
sch__list_splice(struct sch_link *links, uint32_t *head, uint32_t other)
{
	if (other == SCH_NIL)
		return;
	if (*head == SCH_NIL) {
		*head = other;
		return;
	}
	struct sch_link *a = &links[*head];
	struct sch_link *b = &links[other];
	uint32_t a_tail = a->prev;
	uint32_t b_tail = b->prev;

	links[a_tail].next = other;
	b->prev = a_tail;
	links[b_tail].next = *head;
	a->prev = b_tail;
}

int
sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned gshift)
{
	uint64_t bits = nslots;

	*w = (struct sch_wheel){.nslots = nslots, .mask = nslots - 1, .gshift = gshift};
	w->head = malloc(sizeof(*w->head) * nslots);
	w->len = calloc(nslots, sizeof(*w->len));
	if (!w->head || !w->len)
		goto out_free;
	for (uint32_t i = 0; i < nslots; i++)
		w->head[i] = SCH_NIL;
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
	free(w->head);
	free(w->len);
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
sch__wheel_insert(struct sch_wheel *w, struct sch_link *links, uint32_t i, uint64_t deadline)
{
	uint32_t slot = (uint32_t)(deadline >> w->gshift) & w->mask;

	if (w->head[slot] == SCH_NIL)
		bm_set(w, slot);
	sch__list_push_tail(links, &w->head[slot], i);
	w->len[slot]++;
	w->count++;
}

void
sch__wheel_remove(struct sch_wheel *w, struct sch_link *links, uint32_t i, uint64_t deadline)
{
	uint32_t slot = (uint32_t)(deadline >> w->gshift) & w->mask;

	sch__list_del(links, &w->head[slot], i);
	w->len[slot]--;
	if (w->head[slot] == SCH_NIL)
		bm_clear(w, slot);
	w->count--;
}

uint32_t
sch__wheel_take(struct sch_wheel *w, uint32_t slot)
{
	uint32_t h = w->head[slot];

	if (h == SCH_NIL)
		return SCH_NIL;
	w->count -= w->len[slot];
	w->len[slot] = 0;
	w->head[slot] = SCH_NIL;
	bm_clear(w, slot);
	return h;
}
