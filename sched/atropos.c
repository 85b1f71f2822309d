/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Atropos policy: earliest deadline first among flows with slice left,
 * then slack in deficit round robin among flows with the extra flag; period
 * boundaries, the slice's overrun carried as debt, and pacing to the link.
 *
 * A backlogged flow with a slice is in exactly one wheel, filed under its
 * deadline: "eligible" while it has slice left, "waiting" once the slice is
 * spent. Both wheels are handled slot by slot as time passes (advance()):
 * every flow in a slot that has passed gets its next period (roll()). The
 * earliest eligible flow is also rolled exactly at its deadline when it is
 * about to be chosen, so that no frame is sent from a period that has ended.
 */
#include <errno.h>

#include "sched/sch_priv.h"

void
sch__extra_add(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	/* Keep a deficit owed, but never let an absence earn slack. */
	f->deficit = (f->deficit < 0 ? f->deficit : 0) + s->quantum_wu;
	sch__list_push_tail(s->xl, &s->extra_head, i);
}

void
sch__extra_del(struct sch *s, uint32_t i)
{
	sch__list_del(s->xl, &s->extra_head, i);
}

static void
place(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	if (f->remaining > 0) {
		f->state = SCH_S_ELIGIBLE;
		sch__wheel_insert(&s->eligible, i, f->deadline);
	} else {
		f->state = SCH_S_WAITING;
		sch__wheel_insert(&s->waiting, i, f->deadline);
	}
}

void
sch__unplace(struct sch *s, uint32_t i)
{
	const struct sch_flow *f = &s->flows[i];

	if (f->state == SCH_S_ELIGIBLE)
		sch__wheel_remove(&s->eligible, i, f->deadline);
	else if (f->state == SCH_S_WAITING)
		sch__wheel_remove(&s->waiting, i, f->deadline);
}

/*
 * A flow still in debt after a new slice skips whole periods at once, as
 * many as pay the debt (as far as the calendar reaches; the rest at the next
 * boundary), so that a slice smaller than a frame costs one roll per frame,
 * not one per period.
 */
static void
pay_debt(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];
	uint64_t limit = ((s->next_slot + s->waiting.nslots) << s->gshift) - 1;
	uint64_t k, room;

	if (f->remaining > 0)
		return;
	k = (uint64_t)(-f->remaining) / (uint64_t)f->slice_wu + 1;
	room = f->deadline < limit ? (limit - f->deadline) / f->period_ns : 0;
	if (k > room)
		k = room;
	f->deadline += k * f->period_ns;
	f->remaining += (int64_t)k * f->slice_wu;
	s->flows[i].ctr.periods += k;
}

void
sch__period_start(struct sch *s, uint32_t i, uint64_t now)
{
	struct sch_flow *f = &s->flows[i];

	f->deadline = now + f->period_ns;
	f->remaining = (f->remaining < 0 ? f->remaining : 0) + f->slice_wu;
	pay_debt(s, i);
	place(s, i);
}

/*
 * The period of flow @i (backlogged, in no wheel) has ended: apply a pending
 * guarantee, drop the slice left, give the next one and file the flow again.
 */
static void
roll(struct sch *s, uint32_t i, uint64_t now)
{
	struct sch_flow *f = &s->flows[i];
	uint64_t d;

	s->flows[i].ctr.periods++;
	if (f->state == SCH_S_ELIGIBLE)
		s->flows[i].ctr.missed++;
	if (f->pending)
		sch__qos_apply(s, i);
	if (f->slice_wu == 0) {
		/* Now best effort: it is in the extra ring already. */
		f->state = SCH_S_BEST_EFFORT;
		f->remaining = 0;
		return;
	}
	/* Periods follow each other exactly, unless the scheduler fell behind. */
	d = f->deadline + f->period_ns;
	if ((d >> s->gshift) < s->next_slot)
		d = now + f->period_ns;
	f->deadline = d;
	f->remaining = (f->remaining < 0 ? f->remaining : 0) + f->slice_wu;
	pay_debt(s, i);
	place(s, i);
}

/*
 * Take every slot before @cur out of wheel @w, appending its block chain to
 * the chain *@due .. *@due_tail.
 */
static void
collect(struct sch *s, struct sch_wheel *w, uint64_t cur, uint32_t *due, uint32_t *due_tail)
{
	for (;;) {
		int64_t idx = sch__wheel_first(w, (uint32_t)s->next_slot & w->mask);
		uint64_t abs;
		uint32_t h, t;

		if (idx < 0)
			return;
		abs = s->next_slot + (((uint64_t)idx - s->next_slot) & w->mask);
		if (abs >= cur)
			return;
		h = sch__wheel_take(w, (uint32_t)idx, &t);
		if (*due == SCH_NIL)
			*due = h;
		else
			s->pool.blk[*due_tail].next = h;
		*due_tail = t;
	}
}

/*
 * Prefetch the record of the flow SCH_PF_AHEAD entries behind entry @off of
 * block @b, which will be rolled or chosen that many steps later: the ids
 * are read in order, not chased. Always inlined: a void function whose only
 * effect is __builtin_prefetch() counts as const to GCC's IPA, which then
 * deletes the call (GCC 12).
 */
static inline __attribute__((always_inline)) void
pf_ahead(const struct sch *s, const struct sch_blk *b, unsigned off)
{
	unsigned j = off + SCH_PF_AHEAD;
	uint32_t id;

	if (j >= b->n) {
		if (b->next == SCH_NIL)
			return;
		j -= b->n;
		b = &s->pool.blk[b->next];
	}
	if (j >= b->n || j >= SCH_BLK_IDS)
		return;
	id = b->id[j];
	if (id != SCH_NIL)
		sch__flow_prefetch(s, id);
}

/*
 * Take the time forward to @now: roll every flow whose deadline lies in a
 * slot that has passed. Cost: one bitmap search per non-empty slot passed
 * and O(1) per flow rolled; each flow rolls once per period at most.
 */
static void
advance(struct sch *s, uint64_t now)
{
	uint64_t cur = now >> s->gshift;
	uint32_t due = SCH_NIL, due_tail = SCH_NIL;

	if (likely(cur <= s->next_slot))
		return;
	collect(s, &s->waiting, cur, &due, &due_tail);
	collect(s, &s->eligible, cur, &due, &due_tail);
	s->next_slot = cur;
	/*
	 * Walk the taken chain block by block. The ids are read in order, so
	 * the record SCH_PF_AHEAD flows ahead is prefetched at each step and
	 * the misses overlap. roll() files each flow in a slot at or after
	 * cur, never in this chain.
	 */
	if (due != SCH_NIL) {
		const struct sch_blk *k = &s->pool.blk[due];

		for (unsigned j = k->rd; j < k->n && j < (unsigned)k->rd + SCH_PF_AHEAD; j++)
			if (k->id[j] != SCH_NIL)
				sch__flow_prefetch(s, k->id[j]);
	}
	while (due != SCH_NIL) {
		const struct sch_blk *k = &s->pool.blk[due];
		uint32_t next = k->next;

		if (next != SCH_NIL)
			__builtin_prefetch(&s->pool.blk[next]);
		if (next != SCH_NIL) {
			const struct sch_blk *nk = &s->pool.blk[next];

			for (unsigned j = nk->rd; j < nk->n; j++)
				if (nk->id[j] != SCH_NIL)
					sch__flow_prefetch(s, nk->id[j]);
		}
		for (unsigned j = k->rd; j < k->n; j++)
			if (k->id[j] != SCH_NIL)
				roll(s, k->id[j], now);
		s->pool.blk[due].next = SCH_NIL;
		sch__pool_put_chain(&s->pool, due);
		due = next;
	}
}

/* Time never goes back; the latest time seen stands. */
static uint64_t
tick(struct sch *s, uint64_t now)
{
	if (now < s->now)
		return s->now;
	s->now = now;
	advance(s, now);
	return now;
}

/* The eligible flow with the earliest deadline, or SCH_NIL. */
static uint32_t
edf_pick(struct sch *s, uint64_t now)
{
	struct sch_wheel *w = &s->eligible;

	for (;;) {
		int64_t idx = sch__wheel_first(w, (uint32_t)s->next_slot & w->mask);
		const struct sch_blk *b;
		unsigned off;
		uint32_t i;

		if (idx < 0)
			return SCH_NIL;
		i = sch__wheel_head(w, (uint32_t)idx, &b, &off);
		pf_ahead(s, b, off);
		if (likely(s->flows[i].deadline > now))
			return i;
		sch__wheel_remove(w, i, s->flows[i].deadline);
		roll(s, i, now);
	}
}

/* When the earliest waiting flow gets its next slice, or UINT64_MAX. */
static uint64_t
next_slice_ns(const struct sch *s)
{
	const struct sch_wheel *w = &s->waiting;
	int64_t idx = sch__wheel_first(w, (uint32_t)s->next_slot & w->mask);
	uint64_t abs;

	if (idx < 0)
		return UINT64_MAX;
	abs = s->next_slot + (((uint64_t)idx - s->next_slot) & w->mask);
	return (abs + 1) << s->gshift;
}

int
sch_dequeue(struct sch *s, uint64_t now, uint32_t *flow, uint64_t *next_ns)
{
	uint64_t end;
	uint32_t i;

	if (unlikely(!s || !flow || !next_ns))
		return -EINVAL;
	now = tick(s, now);
	if (now < s->link_free_ns) {
		*next_ns = s->link_free_ns;
		s->empty++;
		return -EAGAIN;
	}
	i = edf_pick(s, now);
	if (i == SCH_NIL) {
		i = s->extra_head;
		if (i == SCH_NIL) {
			*next_ns = next_slice_ns(s);
			s->empty++;
			return -EAGAIN;
		}
		s->slack_decisions++;
	}
	s->decisions++;
	*flow = i;
	/* When the link frees if the head frame starts now: rounded up, never early. */
	end = (now == s->link_free_ns ? s->link_free_frac : 0) +
	      (uint64_t)sch_wire_bytes(s->flows[i].head_len) * s->ns_per_byte_q32;
	*next_ns = now + (end >> 32) + ((end & 0xffffffffu) != 0);
	return 0;
}

static void
charge_slack(struct sch *s, uint32_t i, int64_t cost)
{
	struct sch_flow *f = &s->flows[i];

	s->flows[i].ctr.slack_wu += (uint64_t)cost;
	if (f->state < SCH_S_ELIGIBLE)
		return;
	f->deficit -= cost;
	if (f->deficit <= 0) {
		f->deficit += s->quantum_wu;
		if (s->extra_head == i) {
			uint32_t n = s->xl[i].next;

			/*
			 * The new head sends next, and its link is read at its
			 * turn to rotate: fetch both now, without chasing.
			 */
			s->extra_head = n;
			sch__flow_prefetch(s, n);
			__builtin_prefetch(&s->xl[n]);
		}
	}
}

int
sch_charge(struct sch *s, uint32_t i, uint32_t frame_len, uint64_t now)
{
	struct sch_flow *f;
	struct sch_flow_ctr *c;
	uint64_t wb, q;
	int64_t cost;

	if (unlikely(!s || i >= s->max_flows || frame_len == 0 || frame_len > s->max_frame_len))
		return -EINVAL;
	f = &s->flows[i];
	if (unlikely(f->state == SCH_S_FREE))
		return -ENOENT;
	if (now < s->now)
		now = s->now;

	wb = sch_wire_bytes(frame_len);
	cost = (int64_t)(wb << SCH_WU_SHIFT);
	/* The link is busy until the later of now and its last frame's end. */
	if (now > s->link_free_ns) {
		s->link_free_ns = now;
		s->link_free_frac = 0;
	}
	q = wb * s->ns_per_byte_q32;
	s->link_free_frac += q & 0xffffffffu;
	s->link_free_ns += (q >> 32) + (s->link_free_frac >> 32);
	s->link_free_frac &= 0xffffffffu;

	c = &s->flows[i].ctr;
	c->bytes += frame_len;
	c->frames++;
	c->wire_wu += (uint64_t)cost;
	s->wire_wu += (uint64_t)cost;
	if (f->state >= SCH_S_ELIGIBLE) {
		if (now > f->wait_since)
			c->wait_ns += now - f->wait_since;
		/* The next frame waits from the end of this one. */
		f->wait_since = s->link_free_ns;
	}

	if (f->state == SCH_S_ELIGIBLE) {
		f->remaining -= cost;
		if (f->remaining <= 0) {
			sch__wheel_remove(&s->eligible, i, f->deadline);
			f->state = SCH_S_WAITING;
			sch__wheel_insert(&s->waiting, i, f->deadline);
		}
	} else if (f->extra) {
		charge_slack(s, i, cost);
	} else {
		/* Sent without being chosen: paid from the next slices. */
		f->remaining -= cost;
	}
	return 0;
}

int
sch_flow_backlog(struct sch *s, uint32_t i, uint32_t head_len, uint64_t now)
{
	struct sch_flow *f;

	if (!s || i >= s->max_flows || head_len == 0 || head_len > s->max_frame_len)
		return -EINVAL;
	f = &s->flows[i];
	if (f->state == SCH_S_FREE)
		return -ENOENT;
	now = tick(s, now);
	f->head_len = (uint16_t)head_len;
	if (f->state != SCH_S_IDLE)
		return 0;

	s->n_backlogged++;
	f->wait_since = now;
	if (f->slice_wu != 0 && now >= f->deadline) {
		/* The old period is over: the next one starts now. */
		if (f->pending)
			sch__qos_apply(s, i);
		if (f->slice_wu != 0 && f->remaining < 0) {
			/* Periods spent idle pay debt, but earn nothing. */
			uint64_t debt = (uint64_t)(-f->remaining);
			uint64_t idle = (now - f->deadline) / f->period_ns;

			if (idle >= debt / (uint64_t)f->slice_wu + 1)
				f->remaining = 0;
			else
				f->remaining += (int64_t)idle * f->slice_wu;
			if (f->remaining > 0)
				f->remaining = 0;
		}
	}
	if (f->extra)
		sch__extra_add(s, i);
	if (f->slice_wu == 0) {
		f->state = SCH_S_BEST_EFFORT;
		return 0;
	}
	if (now >= f->deadline)
		sch__period_start(s, i, now);
	else
		place(s, i);
	return 0;
}

int
sch_flow_idle(struct sch *s, uint32_t i, uint64_t now)
{
	struct sch_flow *f;
	struct sch_flow_ctr *c;

	if (!s || i >= s->max_flows)
		return -EINVAL;
	f = &s->flows[i];
	if (f->state == SCH_S_FREE)
		return -ENOENT;
	now = tick(s, now);
	if (f->state < SCH_S_ELIGIBLE)
		return 0;
	c = &s->flows[i].ctr;
	if (now > f->wait_since)
		c->wait_ns += now - f->wait_since;
	sch__unplace(s, i);
	if (f->extra)
		sch__extra_del(s, i);
	f->state = SCH_S_IDLE;
	s->n_backlogged--;
	return 0;
}
