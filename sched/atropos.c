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
 *
 * A flow that spends its slice is usually rolled at once, while its record
 * is in cache (wait_slice()): it is filed in a tagged lane of its waiting
 * slot with every flow whose next deadline falls in the same eligible slot,
 * and when the slot passes the lane joins that eligible slot whole
 * (release()), so that the period boundaries of many flows cost one splice,
 * not a walk over their records. The record catches up (settle()) when it
 * is next touched. Every counter and every decision is as if the flow had
 * been rolled at the boundary (docs/sched.md).
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

static inline uint64_t
slot_of(const struct sch *s, uint64_t t)
{
	return t >> s->gshift;
}

/* The end of the period a pre-rolled flow is waiting out: its release. */
static inline uint64_t
pre_release(const struct sch_flow *f)
{
	return f->deadline - (uint64_t)f->pre_k * f->period_ns;
}

/*
 * Bring a pre-rolled flow's record up to date: once its release slot has
 * passed, advance() has put it in the eligible wheel (pre-rolled flows have
 * slice left), and so it is eligible.
 */
static inline void
settle(const struct sch *s, struct sch_flow *f)
{
	if (f->pre_k != 0 && slot_of(s, pre_release(f)) < s->next_slot) {
		f->pre_k = 0;
		f->state = SCH_S_ELIGIBLE;
	}
}

/* Undo the roll of a pre-rolled flow that has not been released (it is in no wheel). */
static void
unpreroll(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	f->deadline = pre_release(f);
	f->remaining -= (int64_t)f->pre_k * f->slice_wu;
	f->ctr.periods -= f->pre_k;
	f->pre_k = 0;
}

static inline void wait_slice(struct sch *s, uint32_t i);

/* File flow @i (backlogged, in no wheel) under its deadline, in the wheel its slice says. */
static void
place(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	if (f->remaining > 0) {
		f->state = SCH_S_ELIGIBLE;
		sch__wheel_insert(&s->eligible, i, slot_of(s, f->deadline), 0);
	} else {
		wait_slice(s, i);
	}
}

void
sch__unplace(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	settle(s, f);
	if (f->state == SCH_S_ELIGIBLE) {
		sch__wheel_remove(&s->eligible, i, slot_of(s, f->deadline), 0);
	} else if (f->state == SCH_S_WAITING && f->pre_k != 0) {
		sch__wheel_remove(&s->waiting, i, slot_of(s, pre_release(f)), f->lane);
		unpreroll(s, i);
	} else if (f->state == SCH_S_WAITING) {
		sch__wheel_remove(&s->waiting, i, slot_of(s, f->deadline), SCH_LANE_ROLL);
	}
}

void
sch__unroll_early(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];

	settle(s, f);
	if (f->pre_k == 0)
		return;
	sch__unplace(s, i);
	place(s, i);
}

uint32_t
sch__periods_ahead(const struct sch *s, uint32_t i)
{
	const struct sch_flow *f = &s->flows[i];

	if (f->pre_k != 0 && slot_of(s, pre_release(f)) >= s->next_slot)
		return f->pre_k;
	return 0;
}

/*
 * The last ns a deadline may have so that its slot is in the calendar when
 * the earliest slot is @slot.
 */
static inline uint64_t
horizon(const struct sch *s, uint64_t slot)
{
	return ((slot + s->waiting.nslots) << s->gshift) - 1;
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
	uint64_t limit = horizon(s, s->next_slot);
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

	/* Taken from the eligible wheel: a pre-rolled flow there was released. */
	if (f->pre_k != 0) {
		f->pre_k = 0;
		f->state = SCH_S_ELIGIBLE;
	}
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
 * Flow @i (backlogged, in no wheel) has spent its slice: file it in the
 * waiting wheel under the end of its period. Unless a guarantee change is
 * pending, roll it now, exactly as roll() will at the end of the period
 * (the same next deadline and slice, debt paid the same way), and file it
 * in a tagged lane, so that the boundary costs it nothing. Rolling now
 * gives the same result as rolling then if the boundary is acted on no more
 * than one minimum period late (release() checks; otherwise it undoes the
 * early roll) and the debt payment needs no more calendar than the earliest
 * possible roll would have (checked here).
 */
static inline __attribute__((always_inline)) void
wait_slice(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];
	uint64_t rel = slot_of(s, f->deadline), k = 1, d;
	int64_t r = f->remaining + f->slice_wu;
	unsigned lane;

	f->state = SCH_S_WAITING;
	if (unlikely(f->pending))
		goto roll_later;
	if (r <= 0) {
		/*
		 * In debt: skip periods as pay_debt() would. A debt of less
		 * than one slice (the usual case for a slice shorter than a
		 * frame) needs no division.
		 */
		uint64_t more =
		    r + f->slice_wu > 0 ? 1 : (uint64_t)(-r) / (uint64_t)f->slice_wu + 1;

		if (more >= (1u << 24))
			goto roll_later;
		k += more;
		r += (int64_t)more * f->slice_wu;
	}
	d = f->deadline + k * f->period_ns;
	if (d > horizon(s, rel))
		goto roll_later;
	lane = sch__wheel_lane(&s->waiting, rel, (uint32_t)slot_of(s, d) & s->eligible.mask);
	if (lane == SCH_LANE_ROLL)
		goto roll_later;
	f->deadline = d;
	f->remaining = r;
	f->pre_k = (uint32_t)k;
	f->lane = (uint8_t)lane;
	f->ctr.periods += k;
	sch__wheel_insert(&s->waiting, i, rel, lane);
	return;

roll_later:
	f->lane = SCH_LANE_ROLL;
	sch__wheel_insert(&s->waiting, i, rel, SCH_LANE_ROLL);
}

/* Append the chain of @part to the chain *@due .. *@due_tail. */
static void
due_append(struct sch *s, const struct sch_fifo *part, uint32_t *due, uint32_t *due_tail)
{
	if (*due == SCH_NIL)
		*due = part->head;
	else
		s->pool.blk[*due_tail].next = part->head;
	*due_tail = part->tail;
}

/*
 * Take every slot before @cur out of the waiting wheel: tagged lanes join
 * their eligible slot whole; the other flows are appended to the chain
 * *@due .. *@due_tail, to be rolled one by one.
 */
static void
release(struct sch *s, uint64_t cur, uint32_t *due, uint32_t *due_tail)
{
	struct sch_wheel *w = &s->waiting;
	uint64_t late = s->min_period_ns >> s->gshift;

	for (;;) {
		uint64_t slot = sch__wheel_earliest(w, s->next_slot);
		struct sch_fifo part;

		if (slot >= cur)
			return;
		for (unsigned l = 0; l < SCH_WAIT_LANES; l++) {
			uint32_t tag = w->tag[((size_t)slot & w->mask) << w->lshift | l];

			if (!sch__wheel_take(w, slot, l, &part))
				continue;
			if (l != SCH_LANE_ROLL && cur <= slot + late) {
				/* The tag names a slot within one turn after this one. */
				sch__wheel_splice(
				    &s->eligible, slot + ((tag - slot) & w->mask), &part);
				continue;
			}
			if (l != SCH_LANE_ROLL) {
				/*
				 * Acted on late: the next period may have to
				 * start from now. Undo the early roll and roll
				 * these flows one by one.
				 */
				for (uint32_t b = part.head; b != SCH_NIL;
				     b = s->pool.blk[b].next) {
					const struct sch_blk *k = &s->pool.blk[b];

					for (unsigned j = k->rd; j < k->n; j++)
						if (k->id[j] != SCH_NIL)
							unpreroll(s, k->id[j]);
				}
			}
			due_append(s, &part, due, due_tail);
		}
	}
}

/* Take every slot before @cur out of the eligible wheel, onto the chain *@due .. *@due_tail. */
static void
collect(struct sch *s, uint64_t cur, uint32_t *due, uint32_t *due_tail)
{
	struct sch_wheel *w = &s->eligible;

	for (;;) {
		uint64_t slot = sch__wheel_earliest(w, s->next_slot);
		struct sch_fifo part;

		if (slot >= cur)
			return;
		if (sch__wheel_take(w, slot, 0, &part))
			due_append(s, &part, due, due_tail);
	}
}

/* Prefetch the records of the flows of block @b (and the block after it). */
static inline __attribute__((always_inline)) void
pf_block(const struct sch *s, const struct sch_blk *b)
{
	if (b->next != SCH_NIL)
		__builtin_prefetch(&s->pool.blk[b->next]);
	for (unsigned j = b->rd; j < b->n && j < SCH_BLK_IDS; j++)
		if (b->id[j] != SCH_NIL)
			sch__flow_prefetch(s, b->id[j]);
}

/*
 * The head of the earliest eligible @slot has just entered block @b: fetch
 * the records of the block SCH_PF_BLOCKS on (14 to 28 choices ahead when
 * blocks are full), crossing into the next non-empty slot when this slot's
 * chain ends sooner. Done once per block, not per choice: following the
 * chain costs dependent loads, and with few flows per slot (deadlines
 * spread over the calendar) a bitmap search into the next slot, on every
 * choice. Not inlined, being rare; it calls sch__wheel_first(), so GCC
 * cannot take it for a function without effects (a void function whose
 * only effect is __builtin_prefetch() counts as const to GCC 12's IPA,
 * which deletes the call: pf_block() is always inlined for that reason).
 */
static __attribute__((noinline)) void
pf_ahead(const struct sch *s, uint64_t slot, const struct sch_blk *b)
{
	const struct sch_wheel *w = &s->eligible;
	const struct sch_blk *blk = s->pool.blk;
	unsigned skip = SCH_PF_BLOCKS;
	uint64_t nx;

	while (b->next != SCH_NIL) {
		b = &blk[b->next];
		if (--skip == 0) {
			pf_block(s, b);
			return;
		}
	}
	/* This slot ends first: go on into the next one. */
	if (w->count == sch__wheel_fifo(w, slot, 0)->live)
		return;
	nx = sch__wheel_first(w, slot + 1);
	if (nx == UINT64_MAX || nx == slot)
		return;
	b = &blk[sch__wheel_fifo(w, nx, 0)->head];
	while (--skip != 0 && b->next != SCH_NIL)
		b = &blk[b->next];
	pf_block(s, b);
}

/*
 * A cursor over a chain of blocks, SCH_PF_ROLL entries ahead of the flow
 * being rolled, that prefetches each record it passes (and the next block).
 */
struct pf_cursor {
	uint32_t blk;
	unsigned off;
};

static inline __attribute__((always_inline)) void
pf_step(const struct sch *s, struct pf_cursor *c)
{
	const struct sch_blk *b;
	uint32_t id;

	if (c->blk == SCH_NIL)
		return;
	b = &s->pool.blk[c->blk];
	while (c->off >= b->n) {
		c->blk = b->next;
		if (c->blk == SCH_NIL)
			return;
		b = &s->pool.blk[c->blk];
		c->off = b->rd;
		if (b->next != SCH_NIL)
			__builtin_prefetch(&s->pool.blk[b->next]);
	}
	id = b->id[c->off++];
	if (id != SCH_NIL)
		sch__flow_prefetch(s, id);
}

/*
 * Aim the release prefetcher (pf_release()) at the earliest waiting slot:
 * at its tagged lane with the earliest target, whose flows will be chosen
 * first once it is released.
 */
static void
pf_release_aim(struct sch *s)
{
	struct sch_wheel *w = &s->waiting;
	uint64_t slot = sch__wheel_earliest(w, s->next_slot);
	uint32_t best = UINT32_MAX;

	s->pf_n = SCH_PF_AHEAD;
	if (slot == UINT64_MAX)
		return;
	for (unsigned l = 0; l < SCH_LANES_TAGGED; l++) {
		const struct sch_fifo *q = sch__wheel_fifo(w, slot, l);
		uint32_t tag = w->tag[((size_t)slot & w->mask) << w->lshift | l];
		uint32_t ahead = (tag - (uint32_t)s->next_slot) & w->mask;

		if (q->live == 0)
			continue;
		/*
		 * Its flows will spend their slices in eligible slot @tag
		 * and wait in the waiting slot of that number, whose queues
		 * were last touched a turn of the wheel ago.
		 */
		__builtin_prefetch(sch__wheel_fifo(w, tag, 0), 1);
		__builtin_prefetch(&w->tag[(size_t)tag << w->lshift], 1);
		if (ahead < best) {
			best = ahead;
			s->pf_blk = q->head;
			s->pf_n = 0;
		}
	}
	if (s->pf_n == 0) {
		/* The block was written a period ago: read it later. */
		__builtin_prefetch(&s->pool.blk[s->pf_blk]);
		s->pf_off = SCH_PF_AT_RD;
	}
}

/*
 * Prefetch the record of one more flow that will be chosen right after the
 * next release: called while the link sends slack, which leaves the memory
 * idle. The cursor is a hint only: the lane may have changed since it was
 * aimed, so what it reads is checked before use, never trusted.
 */
static inline __attribute__((always_inline)) void
pf_release(struct sch *s)
{
	const struct sch_blk *b;
	uint32_t id;

	if (s->pf_n >= SCH_PF_AHEAD)
		return;
	b = &s->pool.blk[s->pf_blk];
	if (s->pf_off == SCH_PF_AT_RD)
		s->pf_off = b->rd;
	if (s->pf_off >= b->n) {
		if (b->next >= s->pool.nblk) {
			s->pf_n = SCH_PF_AHEAD;
			return;
		}
		s->pf_blk = b->next;
		b = &s->pool.blk[s->pf_blk];
		s->pf_off = 0;
		if (b->next < s->pool.nblk)
			__builtin_prefetch(&s->pool.blk[b->next]);
		if (b->n == 0 || b->n > SCH_BLK_IDS)
			return;
	}
	id = b->id[s->pf_off++ % SCH_BLK_IDS];
	s->pf_n++;
	if (id < s->max_flows)
		sch__flow_prefetch(s, id);
}

/*
 * Take the time forward to @now: release the waiting flows whose slot has
 * passed and roll every flow whose deadline lies in a slot that has passed.
 * Cost: one bitmap search per non-empty slot passed, O(1) per tagged lane
 * released and per flow rolled; each flow rolls once per period at most.
 */
static __attribute__((noinline)) void
advance(struct sch *s, uint64_t now)
{
	uint64_t cur = now >> s->gshift;
	uint32_t due = SCH_NIL, due_tail = SCH_NIL, late = SCH_NIL, late_tail = SCH_NIL;
	struct pf_cursor pf;

	/*
	 * The eligible slots first: a lane released now may go to a slot a
	 * whole turn of the wheel after next_slot, which would read as one
	 * that has passed. The flows of the waiting slots roll first, as they
	 * were filed first.
	 */
	collect(s, cur, &late, &late_tail);
	release(s, cur, &due, &due_tail);
	s->next_slot = cur;
	pf_release_aim(s);
	if (due == SCH_NIL) {
		due = late;
	} else if (late != SCH_NIL) {
		s->pool.blk[due_tail].next = late;
	}
	if (due == SCH_NIL)
		return;
	/*
	 * Roll the flows of the taken chain in order, prefetching the record
	 * SCH_PF_ROLL flows ahead so that the misses overlap. roll() files each
	 * flow in a slot at or after cur, never in this chain.
	 */
	pf = (struct pf_cursor){due, s->pool.blk[due].rd};
	for (unsigned j = 0; j < SCH_PF_ROLL; j++)
		pf_step(s, &pf);
	while (due != SCH_NIL) {
		const struct sch_blk *k = &s->pool.blk[due];
		uint32_t next = k->next;

		for (unsigned j = k->rd; j < k->n; j++) {
			pf_step(s, &pf);
			if (k->id[j] != SCH_NIL)
				roll(s, k->id[j], now);
		}
		s->pool.blk[due].next = SCH_NIL;
		sch__pool_put_chain(&s->pool, due);
		due = next;
	}
}

/*
 * Time never goes back; the latest time seen stands. Most calls fall in the
 * slot of the call before, and do nothing more.
 */
static inline uint64_t
tick(struct sch *s, uint64_t now)
{
	if (now < s->now)
		return s->now;
	s->now = now;
	if (unlikely((now >> s->gshift) > s->next_slot))
		advance(s, now);
	return now;
}

/* The eligible flow with the earliest deadline, or SCH_NIL. */
static uint32_t
edf_pick(struct sch *s, uint64_t now)
{
	struct sch_wheel *w = &s->eligible;

	for (;;) {
		uint64_t slot = sch__wheel_earliest(w, s->next_slot);
		const struct sch_blk *b;
		struct sch_flow *f;
		unsigned off;
		uint32_t i;

		if (slot == UINT64_MAX)
			return SCH_NIL;
		i = sch__wheel_head(w, slot, &b, &off);
		if (unlikely(b != s->pf_seen)) {
			s->pf_seen = b;
			pf_ahead(s, slot, b);
		}
		f = &s->flows[i];
		/* In the eligible wheel: a pre-rolled flow has been released. */
		f->pre_k = 0;
		f->state = SCH_S_ELIGIBLE;
		if (likely(f->deadline > now))
			return i;
		sch__wheel_remove(w, i, slot_of(s, f->deadline), 0);
		roll(s, i, now);
	}
}

/* When the earliest waiting flow gets its next slice, or UINT64_MAX. */
static uint64_t
next_slice_ns(struct sch *s)
{
	uint64_t slot = sch__wheel_earliest(&s->waiting, s->next_slot);

	if (slot == UINT64_MAX)
		return UINT64_MAX;
	return (slot + 1) << s->gshift;
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
			/* Nothing may go before then: the link is idle, not late. */
			s->idle_until = *next_ns;
			s->empty++;
			return -EAGAIN;
		}
		s->slack_decisions++;
		pf_release(s);
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
			uint32_t n = s->xl[i].next, m = s->xl[n].next, m2 = s->xl[m].next;

			/*
			 * The new head sends next: its record was fetched two
			 * turns ago, as the record of the flow two after it is
			 * now, and each link a turn before its record, so that
			 * a turn waits for no memory. One turn (about 18
			 * frames) was shorter than a miss to DRAM here: the
			 * counters line of the record still missed in
			 * sch_charge().
			 */
			s->extra_head = n;
			sch__flow_prefetch(s, m2);
			__builtin_prefetch(&s->xl[m2]);
		}
	}
}

int
sch_charge(struct sch *s, uint32_t i, uint32_t frame_len, uint64_t now)
{
	struct sch_flow *f;
	struct sch_flow_ctr *c;
	uint64_t wb, q, floor;
	int64_t cost;

	if (unlikely(!s || i >= s->max_flows || frame_len == 0 || frame_len > s->max_frame_len))
		return -EINVAL;
	f = &s->flows[i];
	if (unlikely(f->state == SCH_S_FREE))
		return -ENOENT;
	if (now < s->now)
		now = s->now;
	settle(s, f);

	wb = sch_wire_bytes(frame_len);
	cost = (int64_t)(wb << SCH_WU_SHIFT);
	/*
	 * The frame starts when the link frees, or now if that is later; but
	 * a link that freed only a little before now (the caller came back
	 * late) keeps its clock, up to catchup_ns behind, so that the time
	 * the caller overslept is sent now rather than lost: a paced link
	 * otherwise carries less than its rate by the mean lateness of the
	 * caller's timer per frame. Only lateness is repaid, not idleness:
	 * the clock never goes back before idle_until, when the link last had
	 * something it could send (a flow's work, a release).
	 */
	floor = now > s->catchup_ns ? now - s->catchup_ns : 0;
	if (floor < s->idle_until)
		floor = s->idle_until < now ? s->idle_until : now;
	if (floor > s->link_free_ns) {
		s->link_free_ns = floor;
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
			sch__wheel_remove(&s->eligible, i, slot_of(s, f->deadline), 0);
			wait_slice(s, i);
		}
	} else if (f->extra) {
		charge_slack(s, i, cost);
	} else if (f->pre_k != 0) {
		/* Sent without being chosen, slice spent: roll again from the new debt. */
		sch__unplace(s, i);
		f->remaining -= cost;
		wait_slice(s, i);
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
	if (now < s->idle_until)
		s->idle_until = now; /* the link has something from now on */
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
	if (--s->n_backlogged == 0)
		s->idle_until = UINT64_MAX;
	return 0;
}
