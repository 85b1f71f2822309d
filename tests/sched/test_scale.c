/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * 100,000 flows, admitted up to 99% of a 1 Gbit/s link with slices of
 * 990 ns per 100 ms (about 124 byte-times: less than two minimum frames),
 * all saturating with minimum frames, beside a best-effort flow.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "tests/sched/sim.h"

#define MS    1000000ull
#define S     1000000000ull
#define NFLOW 100000u

/*
 * Flows start a thousand per millisecond over the first period, as a
 * population does (see docs/sched.md on synchronised starts). With no
 * period missed, a flow that has completed k periods has sent at least k
 * slices, and less than one frame more than its allotment.
 */
static void
test_hundred_thousand_flows_each_get_their_slice(void **state)
{
	struct sch_cfg cfg = {.link_bps = 1000000000ull, .max_flows = NFLOW + 1};
	struct sch_qos q = {.period_ns = 100 * MS, .slice_ns = 990};
	uint64_t frame = sch_wire_ns(cfg.link_bps, 60);
	uint64_t t_end = 2 * S;
	uint64_t missed = 0, guaranteed = 0;
	struct sch_stats ss;
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg, NFLOW + 1, 0, 0);
	for (uint32_t i = 0; i < NFLOW; i++)
		sim_flow_add(&sim, i, q.period_ns, q.slice_ns, false);
	/* Admission is at 99%: one more 2% guarantee does not fit. */
	assert_int_equal(
	    sch_admit(sim.sch, &(struct sch_qos){.period_ns = 100 * MS, .slice_ns = 2 * MS}, NULL),
	    -ENOSPC);
	sim_flow_add(&sim, NFLOW, 0, 0, true);
	sim_flow_saturate(&sim, NFLOW, SIM_LEN_FIXED, 1500);
	for (uint32_t i = 0; i < NFLOW; i++) {
		if (i % 1000 == 0)
			sim_run(&sim, i / 1000 * MS);
		sim_flow_saturate(&sim, i, SIM_LEN_FIXED, 60);
	}
	sim_run(&sim, t_end);

	for (uint32_t i = 0; i < NFLOW; i++) {
		struct sch_flow_stats st;
		uint64_t w = sim.flows[i].wire_ns;
		/* Started at i/1000 ms, within one frame of the simulator's clock. */
		uint64_t k = (t_end - (i / 1000) * MS - frame) / q.period_ns;

		assert_int_equal(sch_flow_stats(sim.sch, i, &st), 0);
		missed += st.missed;
		guaranteed += w;
		if (w < k * q.slice_ns || w >= (k + 1) * q.slice_ns + frame)
			fail_msg("flow %u: %llu ns in %llu periods of %llu ns", i,
			    (unsigned long long)w, (unsigned long long)k,
			    (unsigned long long)q.slice_ns);
	}
	print_message("100000 flows: %.3f%% of the link guaranteed, best effort %.3f%%, "
		      "%llu frames, %llu periods missed\n",
	    100.0 * (double)guaranteed / (double)t_end,
	    100.0 * (double)sim.flows[NFLOW].wire_ns / (double)t_end, (unsigned long long)sim.sent,
	    (unsigned long long)missed);
	assert_int_equal(missed, 0);
	assert_true(sim.busy_ns > t_end - t_end / 1000);
	assert_int_equal(sim.pace_errors, 0);

	for (uint32_t i = 0; i <= NFLOW; i++)
		sim_flow_remove(&sim, i);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.flows, 0);
	assert_int_equal(ss.backlogged, 0);
	assert_int_equal(ss.reserved_ppb, 0);
	sim_fini(&sim);
}

/*
 * The regime of bench/sched_scale: 100,000 flows started at one instant, so
 * that all deadlines share a calendar slot, each with a slice (50 ns per
 * 10 ms) shorter than its 67.2 ns frames at 10 Gbit/s. Every guaranteed
 * frame spends a slice; the flows leave their slot for tagged lanes of the
 * waiting wheel, and the lanes rejoin the eligible wheel whole. Each flow
 * must still get exactly its slice per period, within one frame, with no
 * period missed; the extra flows share the rest.
 */
static void
test_hundred_thousand_flows_in_one_slot_get_their_slices(void **state)
{
	struct sch_cfg cfg = {.link_bps = 10000000000ull, .max_flows = NFLOW + 1};
	struct sch_qos q = {.period_ns = 10 * MS, .slice_ns = 50};
	uint64_t frame_ns = 68, start = 1 * MS, t_end = start + 60 * MS;
	uint64_t missed = 0;
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg, NFLOW + 1, 0, 0);
	sim.now = start;
	for (uint32_t i = 0; i < NFLOW; i++)
		sim_flow_add(&sim, i, q.period_ns, q.slice_ns, i % 2);
	sim_flow_add(&sim, NFLOW, 0, 0, true);
	/* Shuffled, as the benchmark does: neighbours in a slot are far apart in memory. */
	for (uint32_t k = 0; k < NFLOW; k++)
		sim_flow_saturate(&sim, (uint32_t)((uint64_t)k * 7919 % NFLOW), SIM_LEN_FIXED, 60);
	sim_flow_saturate(&sim, NFLOW, SIM_LEN_FIXED, 60);
	sim_run(&sim, t_end);

	for (uint32_t i = 0; i < NFLOW; i++) {
		struct sch_flow_stats st;
		uint64_t g;

		assert_int_equal(sch_flow_stats(sim.sch, i, &st), 0);
		missed += st.missed;
		/* Guaranteed wire time (slack aside): a slice per period passed, within a frame. */
		g = st.wire_ns - st.slack_ns;
		if (st.periods < 5 || g + frame_ns < st.periods * q.slice_ns ||
		    g > (st.periods + 1) * q.slice_ns + frame_ns)
			fail_msg("flow %u: %llu ns guaranteed in %llu periods", i,
			    (unsigned long long)g, (unsigned long long)st.periods);
	}
	print_message("100000 flows in one slot: %llu frames, best effort %.3f%% of the link, "
		      "%llu periods missed\n",
	    (unsigned long long)sim.sent,
	    100.0 * (double)sim.flows[NFLOW].wire_ns / (double)(t_end - start),
	    (unsigned long long)missed);
	assert_int_equal(missed, 0);
	assert_int_equal(sim.pace_errors, 0);
	for (uint32_t i = 0; i <= NFLOW; i++)
		sim_flow_remove(&sim, i);
	sim_fini(&sim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hundred_thousand_flows_each_get_their_slice),
	    cmocka_unit_test(test_hundred_thousand_flows_in_one_slot_get_their_slices),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
