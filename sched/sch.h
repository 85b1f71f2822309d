/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sch.h -- the transmit scheduler: Atropos-style guarantees of wire time,
 * with slack for the flows that ask for it, at a cost per decision that does
 * not grow with the number of flows (DESIGN.md section 4).
 *
 * The model
 * ---------
 * Each flow holds a guarantee (struct sch_qos): a slice s of wire time in
 * every period p, and an extra flag x saying whether it may also use slack.
 * A best-effort flow has no slice (s = 0) and x set. While a flow is
 * backlogged its periods run back to back; the end of the current period is
 * its deadline d.
 *
 *   - Among backlogged flows with slice left, the earliest deadline sends.
 *   - When none is eligible, the slack goes to backlogged flows with x set,
 *     in turn: deficit round robin with a quantum of one maximum frame, so
 *     that every such flow gets an EQUAL share of the slack in wire time,
 *     whatever its guarantee. Slack is not charged to the slice.
 *   - At each period boundary the slice is given again; slice left unused
 *     is dropped. A frame may overrun the slice (a flow is eligible while
 *     any slice is left); the overrun, less than one frame, is taken from
 *     the next period so that every flow gets exactly s per p in the long
 *     run. A slice smaller than a frame therefore sends one frame every few
 *     periods.
 *   - An idle flow accumulates nothing. A flow that becomes backlogged
 *     before its current period has ended continues that period with what
 *     is left of its slice; after the period has ended, a new period starts
 *     at once, with a full slice.
 *   - A new guarantee (sch_flow_set_qos) takes effect at the flow's next
 *     period boundary.
 *
 * Wire time counts the whole frame as it occupies the link: the frame
 * padded to 60 bytes, its 4-byte FCS, 8 bytes of preamble and start
 * delimiter and the 12-byte inter-frame gap (sch_wire_bytes()). Internally
 * budgets are kept in 1/65536 of a byte-time, so accounting is exact at
 * every link rate; slices given in ns are converted once.
 *
 * The scheduler paces the link: it never lets frames start faster than the
 * link rate allows (sch_dequeue() says when to ask again), and a flow never
 * gets more than its slice in a period plus one frame of overrun.
 *
 * Data structures (details and bounds: docs/sched.md)
 * ---------------------------------------------------
 *
 *     flows[max_flows]          one 128-byte record per flow id (state, then
 *        |                      counters); ring links and configuration in
 *        |                      arrays beside it
 *        |
 *        +-- eligible wheel: backlogged flows with slice left, in the
 *        |   slot of their deadline     [slot][slot][slot]...   (EDF)
 *        +-- waiting wheel:  backlogged flows whose slice is spent, in
 *        |   the slot of their deadline (= their next replenishment)
 *        +-- extra ring:     backlogged flows with x set (slack, DRR)
 *
 * Each wheel is a calendar of 2^k slots of g = 2^j ns covering more than the
 * longest period, each slot a FIFO of flow ids in one-line blocks from a
 * pool allocated with the scheduler, with a three- or four-level bitmap
 * over the slots: the earliest non-empty slot is found in a constant number
 * of word operations. Deadlines falling in the same slot are treated as
 * equal (first come, first served); a flow's period boundary is acted on
 * exactly when the flow is the earliest, otherwise within one slot g.
 * Memory is allocated by sch_create() only; no call allocates afterwards.
 *
 * Ownership and threads: the scheduler holds flow ids, never packets; the
 * caller owns the transmit queues and tells the scheduler whether each flow
 * has work (sch_flow_backlog(), sch_flow_idle()). One thread uses a
 * scheduler at a time; nothing locks.
 *
 * Time: every call that takes now_ns expects a monotonic clock in ns (the
 * driver maps the TSC to ns; tests use a simulated clock). A time earlier
 * than one already seen is taken as the latest time seen.
 *
 * Errors: sch_create() returns NULL with errno set; int functions return 0
 * or -errno and change nothing on failure.
 */
#ifndef SLUICE_SCHED_SCH_H
#define SLUICE_SCHED_SCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Ethernet framing overhead counted as wire time (bytes). */
#define SCH_WIRE_MIN_FRAME 60 /* shortest frame without FCS; shorter is padded */
#define SCH_WIRE_FCS	   4
#define SCH_WIRE_PREAMBLE  8 /* preamble and start frame delimiter */
#define SCH_WIRE_IFG	   12
#define SCH_WIRE_OVERHEAD  (SCH_WIRE_FCS + SCH_WIRE_PREAMBLE + SCH_WIRE_IFG)

/* Limits of struct sch_cfg. */
#define SCH_MIN_LINK_BPS       1000000ull	 /* 1 Mbit/s */
#define SCH_MAX_LINK_BPS       10000000000000ull /* 10 Tbit/s */
#define SCH_MAX_FLOWS	       (1u << 24)
#define SCH_MAX_PERIOD_NS      (64ull * 1000000000ull) /* 64 s */
#define SCH_MAX_FRAME_LEN      65535u
#define SCH_DEFAULT_FLOWS      1024u
#define SCH_DEFAULT_PERIOD_NS  1000000000ull /* 1 s */
#define SCH_DEFAULT_FRAME_LEN  1514u
#define SCH_DEFAULT_CATCHUP_NS 1000000ull  /* 1 ms */
#define SCH_MAX_CATCHUP_NS     10000000ull /* 10 ms */

/*
 * Scheduler configuration. Zero means "the default".
 */
struct sch_cfg {
	uint64_t link_bps;	/* required: link rate in bit/s, 1e6..1e13 */
	uint32_t max_flows;	/* flow ids are 0..max_flows-1; 1024 */
	uint32_t max_frame_len; /* longest frame without FCS, 60..65535; 1514 */
	uint64_t max_period_ns; /* longest period a flow may ask for; 1 s */
	/*
	 * Width of a calendar slot in ns, rounded down to a power of two; the
	 * default is the smallest that covers max_period_ns with 65536 slots
	 * (16384 ns for 1 s). Periods must be at least two slots long.
	 */
	uint64_t slot_ns;
	/*
	 * How far the link's clock may lag behind the caller's. A caller that
	 * comes back late (a timer that fires after the next frame was due)
	 * may then send what it missed at once, up to this much wire time,
	 * instead of losing that time for good; over any interval the link
	 * carries at most its rate times the interval, plus this. 1 ns gives
	 * the strict pacer (no frame starts before the previous one ended, in
	 * the caller's clock). Every wake-up later than this loses link time
	 * for good, and with it the guarantee of the flow with the latest
	 * deadline once the link's bookings exceed what is left: 1 ms covers
	 * a loaded VM's timers (tests/sched, late caller). At 100 Mbit/s it
	 * is a burst of 8 full frames. SCH_DEFAULT_CATCHUP_NS; at most
	 * SCH_MAX_CATCHUP_NS.
	 */
	uint64_t catchup_ns;
};

/* A flow's guarantee. */
struct sch_qos {
	uint64_t period_ns; /* p: 2 slots .. max_period_ns (ignored if slice_ns is 0) */
	uint64_t slice_ns;  /* s: wire time per period, 0 .. period_ns; 0 = best effort */
	bool extra;	    /* x: may use slack; required when slice_ns is 0 */
};

/* Counters of one flow; they start at zero when the flow is added. */
struct sch_flow_stats {
	uint64_t bytes;	   /* frame bytes charged (as passed to sch_charge) */
	uint64_t frames;   /* frames charged */
	uint64_t wire_ns;  /* wire time charged, all of it */
	uint64_t slack_ns; /* of which sent in slack (not charged to the slice) */
	uint64_t wait_ns;  /* time backlogged while another flow's frame was chosen */
	uint64_t periods;  /* period boundaries passed while backlogged */
	uint64_t missed;   /* periods that ended with slice left while backlogged */
};

/* Counters of the whole scheduler. */
struct sch_stats {
	uint32_t flows;		  /* flows added */
	uint32_t backlogged;	  /* flows with work */
	uint64_t decisions;	  /* sch_dequeue() calls that chose a flow */
	uint64_t slack_decisions; /* of which chose a flow for slack */
	uint64_t empty;		  /* sch_dequeue() calls that returned -EAGAIN */
	uint64_t wire_ns;	  /* wire time charged, all flows */
	uint64_t reserved_ppb;	  /* sum of s/p over admitted flows, parts per 1e9 */
};

struct sch;

/*
 * sch_create - allocate a scheduler.
 * @cfg: link rate and limits (zeros are defaults).
 *
 * Allocates every flow record and both calendars now; nothing is allocated
 * later. Returns the scheduler, or NULL with errno: EINVAL (cfg NULL, link
 * rate or a limit out of range, or slot_ns giving more than 2^24 slots),
 * ENOMEM.
 */
struct sch *sch_create(const struct sch_cfg *cfg);

/* sch_destroy - free the scheduler and everything it holds. NULL is ignored. */
void sch_destroy(struct sch *sch);

/*
 * sch_admit - would a guarantee fit on the link?
 * @qos:       the guarantee asked for.
 * @free_ns:   if not NULL, set to the largest slice, per @qos->period_ns,
 *             that would fit now (set on success and on -ENOSPC).
 *
 * The admission test of the flow manager: the sum of s/p over all admitted
 * flows, this one included, must stay within the link (1.0); best-effort
 * flows take nothing. The scheduler does not change.
 * Returns 0 if it fits; -ENOSPC if not; -EINVAL if @sch or @qos is NULL or
 * @qos is invalid (see struct sch_qos).
 */
int sch_admit(const struct sch *sch, const struct sch_qos *qos, uint64_t *free_ns);

/*
 * sch_flow_add - add flow @flow with guarantee @qos; it starts idle.
 *
 * Runs the admission test of sch_admit() and reserves the guarantee.
 * Returns 0; -EINVAL (NULL argument, @flow >= max_flows, invalid @qos);
 * -EEXIST (@flow is already added); -ENOSPC (the guarantee does not fit).
 */
int sch_flow_add(struct sch *sch, uint32_t flow, const struct sch_qos *qos);

/*
 * sch_flow_remove - forget flow @flow, backlogged or not.
 *
 * Safe at any time, with frames queued: the scheduler drops every reference
 * to the flow at once and frees its reservation. The caller then owns
 * (and usually frees) the frames still in the flow's queue; a later
 * sch_charge() for the id fails with -ENOENT. The id may be added again.
 * Returns 0; -EINVAL (@sch NULL, @flow >= max_flows); -ENOENT (not added).
 */
int sch_flow_remove(struct sch *sch, uint32_t flow);

/*
 * sch_flow_set_qos - change the guarantee of flow @flow.
 *
 * The new guarantee takes effect at the flow's next period boundary (for a
 * best-effort flow, which has no periods, at once, with a first period
 * starting at the latest time the scheduler has seen). Until then the
 * larger of the old and new reservation is held, so admission stays sound
 * during the change. A second call before the boundary replaces the first.
 * Returns 0; -EINVAL (NULL argument, @flow >= max_flows, invalid @qos);
 * -ENOENT (not added); -ENOSPC (the new guarantee does not fit).
 */
int sch_flow_set_qos(struct sch *sch, uint32_t flow, const struct sch_qos *qos);

/*
 * sch_flow_backlog - flow @flow has a frame of @head_len bytes (without FCS)
 * at the head of its queue.
 *
 * Call when the queue goes from empty to not empty, and whenever the head
 * changes if convenient (it only updates @head_len then). An idle flow
 * whose period has ended starts a new period at @now_ns.
 * Returns 0; -EINVAL (@sch NULL, @flow >= max_flows, @head_len 0 or above
 * max_frame_len); -ENOENT (not added).
 */
int sch_flow_backlog(struct sch *sch, uint32_t flow, uint32_t head_len, uint64_t now_ns);

/*
 * sch_flow_idle - flow @flow has nothing queued any more.
 *
 * The flow keeps its current period and what is left of its slice, but
 * gains nothing while idle. Idling an idle flow does nothing.
 * Returns 0; -EINVAL (@sch NULL, @flow >= max_flows); -ENOENT (not added).
 */
int sch_flow_idle(struct sch *sch, uint32_t flow, uint64_t now_ns);

/*
 * sch_dequeue - which flow sends next?
 * @now_ns:  the current time.
 * @flow:    set to the chosen flow on success.
 * @next_ns: on success, when the link will be free if the chosen flow's
 *           head frame is sent now; on -EAGAIN, the earliest time at which
 *           asking again can succeed: when the link is free, or when the
 *           next slice is given, or UINT64_MAX if no flow is backlogged
 *           (then ask after the next sch_flow_backlog()).
 *
 * Does not account anything: the caller sends the head frame of @flow and
 * then calls sch_charge(); if it cannot send, it simply asks again later.
 * Cost: constant in the number of flows (amortised: each period boundary of
 * each backlogged flow is handled once, see docs/sched.md).
 * Returns 0; -EAGAIN (nothing may start at @now_ns); -EINVAL (NULL argument).
 */
int sch_dequeue(struct sch *sch, uint64_t now_ns, uint32_t *flow, uint64_t *next_ns);

/*
 * sch_charge - account a frame of @frame_len bytes (without FCS) that flow
 * @flow started to send at @now_ns.
 *
 * Takes the frame's wire time from the flow's slice if it has slice left;
 * otherwise counts it as slack if the flow has x set; otherwise (a frame
 * sent without being chosen) takes it from the next slices. Moves the link's
 * pacing clock forward by the frame's wire time in every case.
 * Returns 0; -EINVAL (@sch NULL, @flow >= max_flows, @frame_len 0 or above
 * max_frame_len); -ENOENT (not added, e.g. removed after sch_dequeue()).
 */
int sch_charge(struct sch *sch, uint32_t flow, uint32_t frame_len, uint64_t now_ns);

/*
 * sch_flow_stats - copy the counters of flow @flow to @st.
 * Returns 0; -EINVAL (NULL argument, @flow >= max_flows); -ENOENT.
 */
int sch_flow_stats(const struct sch *sch, uint32_t flow, struct sch_flow_stats *st);

/* sch_stats - copy the scheduler's counters to @st. */
void sch_stats(const struct sch *sch, struct sch_stats *st);

/*
 * sch_wire_bytes - byte-times a frame of @frame_len bytes (without FCS)
 * occupies on an Ethernet link: padding to 60, FCS, preamble+SFD, gap.
 * A 60-byte frame costs 84, a 1514-byte frame 1538.
 */
static inline uint32_t
sch_wire_bytes(uint32_t frame_len)
{
	return (frame_len < SCH_WIRE_MIN_FRAME ? SCH_WIRE_MIN_FRAME : frame_len) +
	       SCH_WIRE_OVERHEAD;
}

/*
 * sch_wire_ns - wire time in ns of a frame of @frame_len bytes (without FCS)
 * at @link_bps bit/s, rounded to the nearest ns (the scheduler itself keeps
 * the fraction). Returns 0 if @link_bps is 0.
 */
uint64_t sch_wire_ns(uint64_t link_bps, uint32_t frame_len);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_SCHED_SCH_H */
