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
 * How many flows ahead of their turn the records of the flows to be chosen
 * or rolled are prefetched: enough decisions to cover a miss to DRAM.
 */
#define SCH_PF_AHEAD 16

/*
 * Links of a circular doubly-linked list of flow ids. They live in arrays of
 * their own beside the flow records (8 bytes a flow, so 800 KB for 100,000
 * flows stays in L2): linking and unlinking touches the neighbours' links,
 * never the neighbours' records.
 */
struct sch_link {
	uint32_t next;
	uint32_t prev;
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
 * together). The list links are in arrays of their own (struct sch_link);
 * configuration sits in a parallel array (struct sch_flow_conf).
 */
struct sch_flow {
	int64_t remaining;   /* wu of slice left in this period; > -one frame */
	uint64_t deadline;   /* ns, end of this period; the wheel key (fixed while in a wheel) */
	int64_t slice_wu;    /* s in wu, as in force (0: best effort) */
	uint64_t period_ns;  /* p, as in force */
	int64_t deficit;     /* slack DRR deficit in wu; > 0 while at the head of the ring */
	uint64_t wait_since; /* ns since when the head frame has waited */
	uint16_t head_len;   /* head frame of the flow's queue, bytes without FCS */
	uint8_t state;	     /* enum sch_state */
	uint8_t extra;	     /* x, as in force */
	uint8_t pending;     /* a sch_flow_set_qos() waits for the next period */
	uint8_t pad_[11];
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
 * A calendar: 2^k slots of 2^gshift ns, each a circular FIFO list of flows
 * (through struct sch.wl), and a bitmap of non-empty slots in levels: bit i of
 * level l+1 says word i of level l is not zero; the top level is one word.
 */
struct sch_wheel {
	uint32_t nslots;
	uint32_t mask;
	unsigned gshift;
	unsigned nlevels;
	uint32_t *head;			 /* [nslots], SCH_NIL when empty */
	uint32_t *len;			 /* [nslots], flows in the slot */
	uint64_t *bm[SCH_BM_MAX_LEVELS]; /* level 0 has nslots bits */
	uint32_t count;			 /* flows in the wheel */
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
	struct sch_link *wl;	    /* [max_flows] wheel slot lists, or the due list */
	struct sch_link *xl;	    /* [max_flows] extra ring; valid while backlogged, x set */
	struct sch_flow_conf *conf; /* [max_flows] */

	struct sch_wheel eligible; /* backlogged, slice left; keyed by deadline */
	struct sch_wheel waiting;  /* backlogged, slice spent; keyed by deadline */
	uint32_t extra_head;	   /* extra ring: next flow to get slack, or SCH_NIL */

	/*
	 * Prefetch cursor over the slot list the eligible flows are taken from
	 * (atropos.c, pf_step()): the flow expected to be chosen next, the flow
	 * SCH_PF_AHEAD places further down whose record has been prefetched,
	 * and the flow chosen last. Hints only: a stale cursor costs a useless
	 * prefetch, never a wrong decision.
	 */
	uint32_t pf_next;
	uint32_t pf_tail;
	uint32_t pf_last;

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

/* Both cache lines of flow @i's record, for writing. */
static inline void
sch__flow_prefetch(const struct sch *s, uint32_t i)
{
	const struct sch_flow *f = &s->flows[i];

	__builtin_prefetch(f, 1);
	__builtin_prefetch(&f->ctr, 1);
}

/* calendar.c */
int sch__wheel_init(struct sch_wheel *w, uint32_t nslots, unsigned gshift);
void sch__wheel_fini(struct sch_wheel *w);
/* File flow @i under @deadline; take it out (@deadline: the one it was filed under). */
void sch__wheel_insert(struct sch_wheel *w, struct sch_link *links, uint32_t i, uint64_t deadline);
void sch__wheel_remove(struct sch_wheel *w, struct sch_link *links, uint32_t i, uint64_t deadline);
/* First non-empty slot index at or after slot index @from, circularly; -1 if empty. */
int64_t sch__wheel_first(const struct sch_wheel *w, uint32_t from);
/* Take every flow of slot index @slot, as a circular list whose head is returned. */
uint32_t sch__wheel_take(struct sch_wheel *w, uint32_t slot);

/* Circular lists of flow ids through a link array. */
void sch__list_push_tail(struct sch_link *links, uint32_t *head, uint32_t i);
void sch__list_del(struct sch_link *links, uint32_t *head, uint32_t i);
void sch__list_splice(struct sch_link *links, uint32_t *head, uint32_t other);

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
