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
 * How many queue entries ahead of its turn a flow's record is prefetched
 * when flows are taken from the earliest eligible slot: enough decisions to
 * cover a miss to DRAM.
 */
#define SCH_PF_AHEAD 12

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
 */
struct sch_flow {
	int64_t remaining;   /* wu of slice left in this period; > -one frame */
	uint64_t deadline;   /* ns, end of this period; the wheel key (fixed while in a wheel) */
	int64_t slice_wu;    /* s in wu, as in force (0: best effort) */
	uint64_t period_ns;  /* p, as in force */
	int64_t deficit;     /* slack DRR deficit in wu; > 0 while at the head of the ring */
	uint64_t wait_since; /* ns since when the head frame has waited */
	uint32_t wpos;	     /* while in a wheel: its entry (SCH_POS_SHIFT) */
	uint16_t head_len;   /* head frame of the flow's queue, bytes without FCS */
	uint8_t state;	     /* enum sch_state */
	uint8_t extra;	     /* x, as in force */
	uint8_t pending;     /* a sch_flow_set_qos() waits for the next period */
	uint8_t pad_[7];
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

/* One calendar slot: a chain of blocks, empty (SCH_NIL) when no flow is live. */
struct sch_slot {
	uint32_t head; /* first block; its entry rd is a live flow */
	uint32_t tail; /* last block, where flows are appended */
	uint32_t live; /* flows queued */
	uint32_t dead; /* tombstones; kept <= live by compacting the slot */
};

/*
 * A calendar: 2^k slots of 2^gshift ns, each a FIFO of flow ids in blocks
 * (struct sch_slot), and a bitmap of non-empty slots in levels: bit i of
 * level l+1 says word i of level l is not zero; the top level is one word.
 */
struct sch_wheel {
	uint32_t nslots;
	uint32_t mask;
	unsigned gshift;
	unsigned nlevels;
	struct sch_slot *slot;		 /* [nslots] */
	uint64_t *bm[SCH_BM_MAX_LEVELS]; /* level 0 has nslots bits */
	uint32_t count;			 /* flows in the wheel */
	struct sch_pool *pool;		 /* shared by both wheels */
	struct sch_flow *flows;		 /* for sch_flow.wpos */
};

struct sch {
	/* Read-only after create. */
	uint64_t link_bps;
	uint64_t ns_per_byte_q32; /* ns per byte-time, 32.32 fixed point */
	uint64_t max_period_ns;
	uint64_t min_period_ns;
	int64_t quantum_wu; /* slack DRR quantum: one maximum frame */
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
	 * Time. Calendar slots before next_slot have been handled; every flow
	 * in a wheel has its deadline's slot in [next_slot, next_slot + nslots).
	 */
	uint64_t now;
	uint64_t next_slot;

	/* Pacing: the link is busy until link_free_ns + link_free_frac/2^32. */
	uint64_t link_free_ns;
	uint64_t link_free_frac;

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
int sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned gshift, struct sch_pool *pool,
    struct sch_flow *flows);
void sch__wheel_fini(struct sch_wheel *w);
/* File flow @i under @deadline; take it out (@deadline: the one it was filed under). */
void sch__wheel_insert(struct sch_wheel *w, uint32_t i, uint64_t deadline);
void sch__wheel_remove(struct sch_wheel *w, uint32_t i, uint64_t deadline);
/* First non-empty slot index at or after slot index @from, circularly; -1 if empty. */
int64_t sch__wheel_first(const struct sch_wheel *w, uint32_t from);
/*
 * Take every flow of slot index @slot: returns the first block of its chain
 * (entries [rd, n) of each block, tombstones SCH_NIL) and sets *@tail to the
 * last. The caller gives the blocks back with sch__pool_put_chain().
 */
uint32_t sch__wheel_take(struct sch_wheel *w, uint32_t slot, uint32_t *tail);

/* The first flow of non-empty slot index @slot, and its block (for prefetching ahead). */
static inline uint32_t
sch__wheel_head(const struct sch_wheel *w, uint32_t slot, const struct sch_blk **blk, unsigned *off)
{
	const struct sch_blk *b = &w->pool->blk[w->slot[slot].head];

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
/* Take a backlogged flow out of whichever wheel holds it. */
void sch__unplace(struct sch *s, uint32_t i);
/* Start a first period for a flow that just got a slice (from best effort). */
void sch__period_start(struct sch *s, uint32_t i, uint64_t now);

#endif /* SLUICE_SCHED_SCH_PRIV_H */
