/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sch_priv.h -- internals of the transmit scheduler, shared by sch.c (set-up,
 * admission), calendar.c (the slot wheels) and atropos.c (the policy).
 * Included only from sched/.
 *
 * Units: ns for time; "wu" (wire units) for budgets, 1/65536 of the time one
 * byte takes on the link, so that a frame's cost is exact at any rate
 * (sch_wire_bytes() << SCH_WU_SHIFT).
 */
#ifndef SLUICE_SCHED_SCH_PRIV_H
#define SLUICE_SCHED_SCH_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "common/compiler.h"
#include "sched/sch.h"

#define SCH_NIL	     UINT32_MAX
#define SCH_WU_SHIFT 16
/*
 * Utilisation s/p in units of 1/SCH_UTIL_ONE, rounded up. The unit is a
 * multiple of 10^12 so that the usual decimal shares (40% + 60%) add up to
 * exactly one; about 10^-18, it cannot overbook the link measurably.
 */
#define SCH_UTIL_ONE	    (1000000000000ull << 20)
#define SCH_WHEEL_BITS	    16 /* default calendar size: 65536 slots */
#define SCH_WHEEL_MAX_SLOTS (1u << 24)
#define SCH_BM_MAX_LEVELS   5 /* 2^24 bits need 4 levels of 64-bit words */
/*
 * How far ahead of their turn flows' records are prefetched, enough
 * decisions to cover a miss to DRAM (150-300 ns on the VM of
 * docs/sched.md): when choosing, the records of the block this many blocks
 * after the head's (atropos.c, pf_ahead()); while sending slack, this many
 * records of the next release (pf_release()); in the roll walk of
 * advance(), this many entries ahead. SCH_PF_AT_RD: the release cursor
 * starts at its block's first queued entry, read when first used.
 */
#define SCH_PF_BLOCKS 2
#define SCH_PF_AHEAD  (2 * SCH_BLK_IDS)
#define SCH_PF_ROLL   32
#define SCH_PF_AT_RD  UINT16_MAX

/*
 * Links of a circular doubly-linked list of flow ids (the extra ring). They
 * live in an array of their own beside the flow records, so that linking and
 * unlinking touches the neighbours' links, never their records.
 */
struct sch_link {
	uint32_t next;
	uint32_t prev;
};

/*
 * A calendar slot is a FIFO of flow ids kept in a chain of blocks of
 * SCH_BLK_IDS ids, one cache line each, from a pool shared by both wheels.
 * Entries [rd, n) of a block are in the queue; an entry of SCH_NIL is a
 * tombstone left by a flow taken out of the middle. Reading a slot is a walk
 * over consecutive ids, one block line per 14 flows, so the records of the
 * flows ahead can be prefetched without first following a chain per flow.
 */
#define SCH_BLK_IDS 14
struct sch_blk {
	uint32_t next; /* next block of the chain, or SCH_NIL */
	uint16_t rd;   /* first entry still queued */
	uint16_t n;    /* entries written */
	uint32_t id[SCH_BLK_IDS];
};
_Static_assert(sizeof(struct sch_blk) == SLUICE_CACHE_LINE, "a block is one line");

/* Where a queued flow's entry is: block index << SCH_POS_SHIFT | entry. */
#define SCH_POS_SHIFT 4
#define SCH_POS_MASK  ((1u << SCH_POS_SHIFT) - 1)

/* The block pool: a free list (LIFO, so reused blocks are warm) over a bump area. */
struct sch_pool {
	struct sch_blk *blk; /* [nblk] */
	uint32_t nblk;
	uint32_t top;  /* blocks [top, nblk) have never been used */
	uint32_t free; /* free list through sch_blk.next, or SCH_NIL */
};

enum sch_state {
	SCH_S_FREE = 0,	   /* not added */
	SCH_S_IDLE,	   /* added, nothing queued; in no list */
	SCH_S_ELIGIBLE,	   /* backlogged, slice left: in the eligible wheel */
	SCH_S_WAITING,	   /* backlogged, slice spent: in the waiting wheel */
	SCH_S_BEST_EFFORT, /* backlogged, no slice: in no wheel (in the extra ring) */
};

/*
 * Lanes of the waiting wheel. Each waiting slot is SCH_WAIT_LANES FIFOs.
 * A flow that spends its slice is usually rolled at once, while its record
 * is in cache ("pre-rolled": its next deadline and slice are already in the
 * record, sch_flow.pre_k periods ahead), and filed in a tagged lane whose
 * flows all have their next deadline in one eligible slot (the lane's tag).
 * When the slot passes, advance() appends each tagged lane to the eligible
 * slot it names, whole, without touching a record. Flows that cannot be
 * pre-rolled (a guarantee change pending, debt beyond the calendar, a
 * fourth target in the slot) go to SCH_LANE_ROLL and are rolled one by one
 * when the slot passes. The eligible wheel has one lane per slot.
 */
#define SCH_LANES_TAGGED 3
#define SCH_LANE_ROLL	 SCH_LANES_TAGGED
#define SCH_WAIT_LANES	 (SCH_LANES_TAGGED + 1)

/* Counters touched on every charge: the second cache line of a flow. */
struct sch_flow_ctr {
	uint64_t bytes;
	uint64_t frames;
	uint64_t wire_wu;
	uint64_t slack_wu;
	uint64_t wait_ns;
	uint64_t periods;
	uint64_t missed;
	uint64_t pad_;
};
_Static_assert(sizeof(struct sch_flow_ctr) == SLUICE_CACHE_LINE, "counters are one line");

/*
 * The per-flow record the fast path touches: two cache lines, the state
 * then the counters, in one array so that a decision touches one page per
 * flow (and the two lines of one record, which the hardware fetches
 * together). The wheels hold flow ids in blocks (struct sch_blk), the extra
 * ring links in an array of its own (struct sch_link); configuration sits in
 * a parallel array (struct sch_flow_conf).
 *
 * A pre-rolled flow (pre_k != 0, state SCH_S_WAITING) already holds the
 * deadline and slice of the period that starts when its current one ends,
 * pre_k periods on (more than one when it is in debt); that end, its
 * release, is deadline - pre_k * period_ns. Until the release it is in
 * tagged lane @lane of the waiting wheel; after it, advance() has moved it
 * to the eligible wheel without telling the record, and the record is
 * brought up to date (state eligible, pre_k 0) when it is next touched.
 */
struct sch_flow {
	int64_t remaining;   /* wu of slice left in this period; > -one frame */
	uint64_t deadline;   /* ns, end of this period; the wheel key (fixed while in a wheel) */
	int64_t slice_wu;    /* s in wu, as in force (0: best effort) */
	uint64_t period_ns;  /* p, as in force */
	int64_t deficit;     /* slack DRR deficit in wu; > 0 while at the head of the ring */
	uint64_t wait_since; /* ns since when the head frame has waited */
	uint32_t wpos;	     /* while in a wheel: its entry (SCH_POS_SHIFT) */
	uint32_t pre_k;	     /* pre-rolled this many periods ahead (0: not) */
	uint16_t head_len;   /* head frame of the flow's queue, bytes without FCS */
	uint8_t state;	     /* enum sch_state */
	uint8_t extra;	     /* x, as in force */
	uint8_t pending;     /* a sch_flow_set_qos() waits for the next period */
	uint8_t lane;	     /* while waiting: its lane of the waiting wheel */
	uint8_t pad_[2];
	struct sch_flow_ctr ctr SLUICE_CACHE_ALIGNED;
};
_Static_assert(offsetof(struct sch_flow, ctr) == SLUICE_CACHE_LINE, "state is one line");
_Static_assert(sizeof(struct sch_flow) == 2 * SLUICE_CACHE_LINE, "then the counters");

/* Configuration, touched on the control path and at period boundaries only. */
struct sch_flow_conf {
	struct sch_qos qos;  /* in force */
	struct sch_qos next; /* pending, valid if sch_flow.pending */
	uint64_t reserved;   /* utilisation held in the admission ledger */
};

/*
 * A FIFO of flow ids (one calendar slot, or one lane of a waiting slot): a
 * chain of blocks, empty (live 0; head and tail then mean nothing) when no
 * flow is queued.
 */
struct sch_fifo {
	uint32_t head; /* first block; its entry rd is a live flow */
	uint32_t tail; /* last block, where flows are appended */
	uint32_t live; /* flows queued */
	uint32_t dead; /* tombstones; kept <= live by compacting the FIFO */
};

/*
 * A calendar: 2^k slots of 2^gshift ns, each @lanes FIFOs of flow ids in
 * blocks (struct sch_fifo), and a bitmap of the slots with a flow in any
 * lane, in levels: bit i of level l+1 says word i of level l is not zero;
 * the top level is one word.
 */
struct sch_wheel {
	uint32_t nslots;
	uint32_t mask;
	unsigned gshift;
	unsigned nlevels;
	unsigned lanes;	    /* FIFOs per slot: 1, or SCH_WAIT_LANES */
	unsigned lshift;    /* lanes = 1 << lshift */
	struct sch_fifo *q; /* [nslots * lanes], from a cache line (a waiting slot is one line) */
	uint32_t *tag;	    /* [nslots * lanes] if lanes > 1: slot index a tagged lane goes to */
	void *q_mem;	    /* the allocations of q and tag */
	void *tag_mem;
	uint64_t *bm[SCH_BM_MAX_LEVELS]; /* level 0 has nslots bits */
	uint32_t count;			 /* flows in the wheel */
	bool first_ok;			 /* first is the earliest non-empty slot */
	uint64_t first;			 /* absolute slot number, if first_ok */
	struct sch_pool *pool;		 /* shared by both wheels */
	struct sch_flow *flows;		 /* for sch_flow.wpos */
};

struct sch {
	/* Read-only after create. */
	uint64_t link_bps;
	uint64_t ns_per_byte_q32; /* ns per byte-time, 32.32 fixed point */
	uint64_t max_period_ns;
	uint64_t min_period_ns;
	uint64_t catchup_ns; /* the link clock's largest lag (sch_cfg) */
	int64_t quantum_wu;  /* slack DRR quantum: one maximum frame */
	uint32_t max_flows;
	uint32_t max_frame_len;
	unsigned gshift;

	struct sch_flow *flows;	    /* [max_flows] */
	struct sch_link *xl;	    /* [max_flows] extra ring; valid while backlogged, x set */
	struct sch_flow_conf *conf; /* [max_flows] */

	struct sch_pool pool;	   /* blocks of both wheels' slots */
	struct sch_wheel eligible; /* backlogged, slice left; keyed by deadline */
	struct sch_wheel waiting;  /* backlogged, slice spent; keyed by deadline */
	uint32_t extra_head;	   /* extra ring: next flow to get slack, or SCH_NIL */
	/*
	 * A hint, never trusted: the next entry of the lane of the earliest
	 * waiting slot that will be chosen first when it is released, and how
	 * many of its records have been prefetched (atropos.c, pf_release()).
	 */
	uint32_t pf_blk;
	uint16_t pf_off; /* SCH_PF_AT_RD: the block's first queued entry */
	uint16_t pf_n;
	/* The head block of the earliest eligible slot when its flows ahead were prefetched. */
	const struct sch_blk *pf_seen;

	/*
	 * Time. Calendar slots before next_slot have been handled; every flow
	 * in a wheel has its deadline's slot in [next_slot, next_slot + nslots).
	 */
	uint64_t now;
	uint64_t next_slot;

	/* Pacing: the link is busy until link_free_ns + link_free_frac/2^32,
	 * a clock that may lag the caller's by up to catchup_ns, but never
	 * behind idle_until: before it there was nothing to send (no flow
	 * with work, or none with slice or slack until a release), so the
	 * link owes nothing for that time. UINT64_MAX: idle until a flow
	 * has work. */
	uint64_t link_free_ns;
	uint64_t link_free_frac;
	uint64_t idle_until;

	uint64_t reserved; /* sum of sch_flow_conf.reserved, <= SCH_UTIL_ONE */
	uint32_t n_flows;
	uint32_t n_backlogged;
	uint64_t decisions;
	uint64_t slack_decisions;
	uint64_t empty;
	uint64_t wire_wu;
};

/* Both cache lines of flow @i's record, for writing (always inlined: see atropos.c). */
static inline __attribute__((always_inline)) void
sch__flow_prefetch(const struct sch *s, uint32_t i)
{
	const struct sch_flow *f = &s->flows[i];

	__builtin_prefetch(f, 1);
	__builtin_prefetch(&f->ctr, 1);
}

/* calendar.c */
/* Blocks enough for @max_flows flows in two wheels of @nslots slots each. */
int sch__pool_init(struct sch_pool *p, uint32_t max_flows, uint32_t nslots);
void sch__pool_fini(struct sch_pool *p);
/* Give the blocks of the chain starting at @b back to the pool. */
void sch__pool_put_chain(struct sch_pool *p, uint32_t b);
int sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned lanes, unsigned gshift,
    struct sch_pool *pool, struct sch_flow *flows);
void sch__wheel_fini(struct sch_wheel *w);
/*
 * Calendar slots are named by absolute number (time >> gshift); the wheel
 * holds those in [next_slot, next_slot + nslots) of struct sch, at index
 * slot & mask.
 *
 * The earliest non-empty slot at or after slot @from (circularly, from
 * @from's index); UINT64_MAX if the wheel is empty.
 */
uint64_t sch__wheel_first(const struct sch_wheel *w, uint64_t from);
/*
 * Take lane @lane of @slot out of the wheel into *@part (its chain, entries
 * [rd, n) of each block, tombstones SCH_NIL); false if the lane is empty.
 * The caller gives the blocks back with sch__pool_put_chain() or appends
 * them to another slot with sch__wheel_splice().
 */
bool sch__wheel_take(struct sch_wheel *w, uint64_t slot, unsigned lane, struct sch_fifo *part);
/* Append the FIFO @part, whole, to @slot (lane 0): O(1), records untouched. */
void sch__wheel_splice(struct sch_wheel *w, uint64_t slot, const struct sch_fifo *part);
/* The cases of sch__wheel_insert() and sch__wheel_remove() that are not inline. */
void sch__wheel_insert_slow(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane);
void sch__wheel_remove_slow(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane);

static inline struct sch_fifo *
sch__wheel_fifo(const struct sch_wheel *w, uint64_t slot, unsigned lane)
{
	return &w->q[(((size_t)slot & w->mask) << w->lshift) + lane];
}

/*
 * The earliest non-empty slot (@next: the first slot not yet handled), or
 * UINT64_MAX. Remembered between calls; found again only when the slot it
 * was empties.
 */
static inline uint64_t
sch__wheel_earliest(struct sch_wheel *w, uint64_t next)
{
	if (w->count == 0)
		return UINT64_MAX;
	if (!w->first_ok) {
		w->first = sch__wheel_first(w, next);
		w->first_ok = true;
	}
	return w->first;
}

/* Append flow @i to lane @lane of @slot. The usual case inline: room in the tail block. */
static inline void
sch__wheel_insert(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, lane);

	if (likely(q->live != 0)) {
		struct sch_blk *b = &w->pool->blk[q->tail];

		if (likely(b->n < SCH_BLK_IDS)) {
			w->flows[i].wpos = q->tail << SCH_POS_SHIFT | b->n;
			b->id[b->n++] = i;
			q->live++;
			w->count++;
			return;
		}
	}
	sch__wheel_insert_slow(w, i, slot, lane);
}

/*
 * Take flow @i out of lane @lane of @slot (where it was inserted). The usual
 * case inline: it is the head, and the entry after it is a live flow in the
 * same block.
 */
static inline void
sch__wheel_remove(struct sch_wheel *w, uint32_t i, uint64_t slot, unsigned lane)
{
	struct sch_fifo *q = sch__wheel_fifo(w, slot, lane);
	struct sch_blk *b = &w->pool->blk[q->head];
	unsigned rd = b->rd;

	if (likely(w->flows[i].wpos == (q->head << SCH_POS_SHIFT | rd) && rd + 1u < b->n &&
		   b->id[rd + 1] != SCH_NIL)) {
		b->rd = (uint16_t)(rd + 1);
		q->live--;
		w->count--;
		return;
	}
	sch__wheel_remove_slow(w, i, slot, lane);
}

/*
 * The tagged lane of waiting @slot for flows whose next deadline is in
 * eligible slot index @tag: the lane with that tag, else an empty lane
 * (tagged now), else SCH_LANE_ROLL.
 */
static inline unsigned
sch__wheel_lane(struct sch_wheel *w, uint64_t slot, uint32_t tag)
{
	const struct sch_fifo *q = sch__wheel_fifo(w, slot, 0);
	uint32_t *t = &w->tag[((size_t)slot & w->mask) << w->lshift];
	unsigned empty = SCH_LANE_ROLL;

	for (unsigned l = 0; l < SCH_LANES_TAGGED; l++) {
		if (q[l].live == 0) {
			if (empty == SCH_LANE_ROLL)
				empty = l;
		} else if (t[l] == tag) {
			return l;
		}
	}
	if (empty != SCH_LANE_ROLL)
		t[empty] = tag;
	return empty;
}

/* The first flow of non-empty @slot of a one-lane wheel, and its block (for prefetching ahead). */
static inline uint32_t
sch__wheel_head(const struct sch_wheel *w, uint64_t slot, const struct sch_blk **blk, unsigned *off)
{
	const struct sch_blk *b = &w->pool->blk[sch__wheel_fifo(w, slot, 0)->head];

	*blk = b;
	*off = b->rd;
	return b->id[b->rd];
}

/* Circular lists of flow ids through a link array. */
void sch__list_push_tail(struct sch_link *links, uint32_t *head, uint32_t i);
void sch__list_del(struct sch_link *links, uint32_t *head, uint32_t i);

/* sch.c */
uint64_t sch__wu_to_ns(const struct sch *s, uint64_t wu);
int64_t sch__slice_wu(const struct sch *s, uint64_t slice_ns);
uint64_t sch__util(const struct sch_qos *q);
/* Put the pending guarantee in force (ledger and extra ring included). */
void sch__qos_apply(struct sch *s, uint32_t i);

/* atropos.c */
void sch__extra_add(struct sch *s, uint32_t i);
void sch__extra_del(struct sch *s, uint32_t i);
/*
 * Take a backlogged flow out of whichever wheel holds it; a roll made early
 * for a period that has not begun is undone (the flow is as at the end of
 * its current period).
 */
void sch__unplace(struct sch *s, uint32_t i);
/* Start a first period for a flow that just got a slice (from best effort). */
void sch__period_start(struct sch *s, uint32_t i, uint64_t now);
/* If flow @i was rolled early and its period has not ended, undo the roll (it stays waiting). */
void sch__unroll_early(struct sch *s, uint32_t i);
/* Periods flow @i was rolled ahead of time and that have not begun (counted in ctr.periods). */
uint32_t sch__periods_ahead(const struct sch *s, uint32_t i);

#endif /* SLUICE_SCHED_SCH_PRIV_H */
