/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/sched/sim.h"

void
sim_init(
    struct sim *sim, const struct sch_cfg *cfg, uint32_t nflows, uint64_t bin_ns, uint32_t nbins)
{
	*sim = (struct sim){
	    .link_bps = cfg->link_bps, .bin_ns = bin_ns, .nbins = nbins, .nflows = nflows};
	sim->sch = sch_create(cfg);
	assert_non_null(sim->sch);
	sim->flows = calloc(nflows, sizeof(*sim->flows));
	assert_non_null(sim->flows);
	if (nbins) {
		for (uint32_t i = 0; i < nflows; i++) {
			sim->flows[i].bins = calloc(nbins, sizeof(uint64_t));
			assert_non_null(sim->flows[i].bins);
		}
	}
}

void
sim_fini(struct sim *sim)
{
	for (uint32_t i = 0; i < sim->nflows; i++)
		free(sim->flows[i].bins);
	free(sim->flows);
	sch_destroy(sim->sch);
}

static uint32_t
next_len(struct sim_flow *f)
{
	if (f->kind == SIM_LEN_FIXED)
		return f->len;
	/* xorshift64: deterministic sizes 64..1514. */
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return 64 + (uint32_t)(f->rng % (1514 - 64 + 1));
}

void
sim_flow_add(struct sim *sim, uint32_t flow, uint64_t period_ns, uint64_t slice_ns, bool extra)
{
	struct sch_qos q = {.period_ns = period_ns, .slice_ns = slice_ns, .extra = extra};

	assert_int_equal(sch_flow_add(sim->sch, flow, &q), 0);
	sim->flows[flow].present = true;
	sim->flows[flow].rng = 0x9e3779b97f4a7c15ull * (flow + 1);
}

void
sim_flow_saturate(struct sim *sim, uint32_t flow, enum sim_len kind, uint32_t len)
{
	struct sim_flow *f = &sim->flows[flow];

	f->saturating = true;
	f->kind = kind;
	f->len = len;
	f->head = next_len(f);
	assert_int_equal(sch_flow_backlog(sim->sch, flow, f->head, sim->now), 0);
}

void
sim_flow_queue(struct sim *sim, uint32_t flow, uint64_t n, uint32_t len)
{
	struct sim_flow *f = &sim->flows[flow];

	f->kind = SIM_LEN_FIXED;
	f->len = len;
	if (f->queued == 0 && !f->saturating) {
		f->head = len;
		assert_int_equal(sch_flow_backlog(sim->sch, flow, f->head, sim->now), 0);
	}
	f->queued += n;
}

void
sim_flow_stop(struct sim *sim, uint32_t flow)
{
	sim->flows[flow].saturating = false;
	sim->flows[flow].queued = 0;
	assert_int_equal(sch_flow_idle(sim->sch, flow, sim->now), 0);
}

void
sim_flow_remove(struct sim *sim, uint32_t flow)
{
	assert_int_equal(sch_flow_remove(sim->sch, flow), 0);
	sim->flows[flow].present = false;
	sim->flows[flow].saturating = false;
	sim->flows[flow].queued = 0;
}

static void
record(struct sim *sim, struct sim_flow *f, uint64_t start, uint64_t end)
{
	f->wire_ns += end - start;
	sim->busy_ns += end - start;
	if (!f->bins)
		return;
	while (start < end) {
		uint64_t b = start / sim->bin_ns;
		uint64_t edge = (b + 1) * sim->bin_ns;
		uint64_t stop = end < edge ? end : edge;

		if (b >= sim->nbins)
			return;
		f->bins[b] += stop - start;
		start = stop;
	}
}

void
sim_run(struct sim *sim, uint64_t t_end)
{
	while (sim->now < t_end) {
		uint32_t flow = UINT32_MAX;
		uint64_t next = 0;
		int rc = sch_dequeue(sim->sch, sim->now, &flow, &next);

		if (rc == -EAGAIN) {
			assert_true(next > sim->now);
			sim->now = next < t_end ? next : t_end;
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(flow < sim->nflows);

		struct sim_flow *f = &sim->flows[flow];

		/* The scheduler must never name a flow without work. */
		assert_true(f->present);
		assert_true(f->saturating || f->queued > 0);

		uint32_t len = f->head;
		uint64_t end = sim->now + sch_wire_ns(sim->link_bps, len);

		/* One ns of slack for the rounding of sch_wire_ns(). */
		if (sim->now + 1 < sim->link_free)
			sim->pace_errors++;
		assert_int_equal(sch_charge(sim->sch, flow, len, sim->now), 0);
		record(sim, f, sim->now, end);
		sim->link_free = end;
		f->frames++;
		sim->sent++;
		if (!f->saturating && --f->queued == 0) {
			assert_int_equal(sch_flow_idle(sim->sch, flow, sim->now), 0);
		} else {
			f->head = next_len(f);
			assert_int_equal(sch_flow_backlog(sim->sch, flow, f->head, sim->now), 0);
		}
		/* The simulated link is busy until the frame has left. */
		sim->now = next;
	}
}

uint64_t
sim_wire_in(const struct sim *sim, uint32_t flow, uint32_t b0, uint32_t b1)
{
	uint64_t sum = 0;

	for (uint32_t b = b0; b < b1 && b < sim->nbins; b++)
		sum += sim->flows[flow].bins[b];
	return sum;
}
