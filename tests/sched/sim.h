/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A simulated driver for the scheduler tests: per-flow transmit queues, a
 * link that is busy for each frame's wire time, and a simulated clock. It
 * asks sch_dequeue() who sends, sends the head frame (instantly, in
 * simulated time), charges it, and tells the scheduler whether the flow
 * still has work. Everything is deterministic.
 *
 * Per flow it records wire time in bins of bin_ns (split exactly by time,
 * so a frame that straddles a bin edge counts in both) and checks that
 * frames never start before the previous one has left the wire.
 */
#ifndef SLUICE_TESTS_SCHED_SIM_H
#define SLUICE_TESTS_SCHED_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "sched/sch.h"

enum sim_len {
	SIM_LEN_FIXED = 0, /* every frame is len bytes */
	SIM_LEN_MIXED,	   /* pseudo-random 64..1514 bytes */
};

struct sim_flow {
	bool present;	 /* added to the scheduler */
	bool saturating; /* always has a frame queued */
	uint64_t queued; /* frames queued when not saturating */
	enum sim_len kind;
	uint32_t len;
	uint32_t head; /* length of the head frame */
	uint64_t rng;
	uint64_t frames;
	uint64_t wire_ns; /* by the simulator's own clock */
	uint64_t *bins;	  /* wire ns per bin */
};

struct sim {
	struct sch *sch;
	uint64_t link_bps;
	uint64_t now;
	uint64_t bin_ns;
	uint32_t nbins;
	uint32_t nflows;
	struct sim_flow *flows;
	uint64_t busy_ns;     /* wire time of every frame sent */
	uint64_t link_free;   /* end of the last frame (simulator's view) */
	uint64_t pace_errors; /* frames started before the previous one ended */
	uint64_t sent;
};

/* Create a scheduler and a simulator for @nflows flow ids. */
void sim_init(
    struct sim *sim, const struct sch_cfg *cfg, uint32_t nflows, uint64_t bin_ns, uint32_t nbins);
void sim_fini(struct sim *sim);

/* Add a flow to the scheduler (asserts success). */
void
sim_flow_add(struct sim *sim, uint32_t flow, uint64_t period_ns, uint64_t slice_ns, bool extra);
/* Make the flow saturating with frames of @len (or mixed sizes). */
void sim_flow_saturate(struct sim *sim, uint32_t flow, enum sim_len kind, uint32_t len);
/* Queue @n frames of @len on the flow. */
void sim_flow_queue(struct sim *sim, uint32_t flow, uint64_t n, uint32_t len);
/* Stop the flow's traffic: its queue is emptied and it goes idle. */
void sim_flow_stop(struct sim *sim, uint32_t flow);
/* Remove the flow with whatever it has queued. */
void sim_flow_remove(struct sim *sim, uint32_t flow);

/* Run the link until simulated time @t_end. */
void sim_run(struct sim *sim, uint64_t t_end);

/* Wire ns of @flow in bins [b0, b1). */
uint64_t sim_wire_in(const struct sim *sim, uint32_t flow, uint32_t b0, uint32_t b1);

#endif /* SLUICE_TESTS_SCHED_SIM_H */
