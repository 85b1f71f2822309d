/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Atropos policy on a simulated link: the paper's two experiments,
 * mixed frame sizes, idle flows, guarantee changes, removal, slack sharing
 * and pacing. Shares are measured in wire time (frame + FCS + preamble +
 * gap), which is what a slice guarantees.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/sched/sim.h"

#define MS 1000000ull
#define S  1000000000ull

static const struct sch_cfg cfg_100m = {.link_bps = 100000000ull, .max_flows = 16};

static double worst_err;

/* |got - want| <= tol * want; remembers the worst error seen. */
static void
assert_within(uint64_t got, uint64_t want, double tol)
{
	double err = ((double)got - (double)want) / (double)want;

	if (err > worst_err || -err > worst_err)
		worst_err = err < 0 ? -err : err;
	if (err < -tol || err > tol)
		fail_msg("got %llu, want %llu (error %.3f%%, allowed %.3f%%)",
		    (unsigned long long)got, (unsigned long long)want, err * 100.0, tol * 100.0);
}

/* |got - want| <= tol */
static void
assert_near(uint64_t got, uint64_t want, uint64_t tol)
{
	if (got + tol < want || got > want + tol)
		fail_msg("got %llu, want %llu +- %llu", (unsigned long long)got,
		    (unsigned long long)want, (unsigned long long)tol);
}

/*
 * Experiment (a): six flows of 4, 8, 12, 16, 20 and 24 ms per 100 ms, no
 * slack, each saturating with 1500-byte frames, for 10 s at 100 Mbit/s.
 */
static void
test_guaranteed_flows_get_their_slice_within_half_percent(void **state)
{
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg_100m, 6, 200 * MS, 50);
	for (uint32_t i = 0; i < 6; i++) {
		sim_flow_add(&sim, i, 100 * MS, (i + 1) * 4 * MS, false);
		sim_flow_saturate(&sim, i, SIM_LEN_FIXED, 1500);
	}
	sim_run(&sim, 10 * S);

	for (uint32_t i = 0; i < 6; i++) {
		uint64_t slice = (i + 1) * 4 * MS;
		struct sch_flow_stats st;

		worst_err = 0;
		assert_within(sim.flows[i].wire_ns, 100 * slice, 0.005);
		print_message("flow %u (%2llu ms/100 ms): 10 s share error %.4f%%", i,
		    (unsigned long long)(slice / MS), worst_err * 100);
		worst_err = 0;
		for (uint32_t b = 0; b < 50; b++)
			assert_within(sim.flows[i].bins[b], 2 * slice, 0.01);
		print_message(", worst 200 ms bin %.3f%%\n", worst_err * 100);
		assert_int_equal(sch_flow_stats(sim.sch, i, &st), 0);
		assert_int_equal(st.slack_ns, 0);
		assert_int_equal(st.missed, 0);
		assert_within(st.wire_ns, 100 * slice, 0.005);
		assert_int_equal(st.frames, sim.flows[i].frames);
		assert_int_equal(st.bytes, 1500 * sim.flows[i].frames);
		/* Each waits while the others send: most of every period. */
		assert_true(st.wait_ns > 5 * S);
	}
	assert_int_equal(sim.pace_errors, 0);
	sim_fini(&sim);
}

/*
 * Experiment (b): one best-effort flow saturating, then guaranteed flows of
 * 6, 7, 8 and 9 ms per 100 ms joining 5 s apart.
 */
static void
test_best_effort_flow_gets_the_rest_while_guaranteed_flows_join(void **state)
{
	static const uint64_t slices[4] = {6 * MS, 7 * MS, 8 * MS, 9 * MS};
	struct sim sim;
	uint64_t start[5] = {0};
	uint64_t frame = sch_wire_ns(cfg_100m.link_bps, 1500);
	(void)state;

	sim_init(&sim, &cfg_100m, 5, 100 * MS, 250);
	sim_flow_add(&sim, 0, 0, 0, true);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 1500);
	for (uint32_t k = 1; k <= 4; k++) {
		sim_run(&sim, k * 5 * S);
		start[k] = sim.now;
		sim_flow_add(&sim, k, 100 * MS, slices[k - 1], false);
		sim_flow_saturate(&sim, k, SIM_LEN_FIXED, 1500);
	}
	sim_run(&sim, 25 * S);

	for (uint32_t k = 1; k <= 4; k++) {
		/* From the first full 100 ms bin after the flow's first period. */
		uint32_t b0 = (uint32_t)(k * 50 + 1);
		uint64_t n = 250 - b0;

		assert_true(start[k] < k * 5 * S + MS);
		worst_err = 0;
		assert_within(sim_wire_in(&sim, k, b0, 250), n * slices[k - 1], 0.005);
		print_message("flow %u (%llu ms/100 ms from %u s): share error %.4f%%\n", k,
		    (unsigned long long)(slices[k - 1] / MS), k * 5, worst_err * 100);
		/* Every period within one frame of the slice. */
		for (uint32_t b = b0; b < 250; b++)
			assert_near(sim.flows[k].bins[b], slices[k - 1], frame);
	}
	/* The best-effort flow gets the rest and the link never idles. */
	for (uint32_t b = 0; b < 250; b++) {
		uint64_t busy = 0, guaranteed = 0;

		for (uint32_t k = 0; k < 5; k++)
			busy += sim.flows[k].bins[b];
		for (uint32_t k = 1; k <= 4; k++)
			guaranteed += b > k * 50 ? slices[k - 1] : 0;
		assert_within(busy, 100 * MS, 0.001);
		if (b % 50 != 0)
			assert_within(sim.flows[0].bins[b], 100 * MS - guaranteed, 0.02);
	}
	print_message("best effort: %.3f s of 25 s; link busy %.4f%%\n",
	    (double)sim.flows[0].wire_ns / 1e9, 100.0 * (double)sim.busy_ns / (double)(25 * S));
	assert_int_equal(sim.pace_errors, 0);
	sim_fini(&sim);
}

static void
test_mixed_frame_sizes_keep_every_share(void **state)
{
	static const uint64_t slices[4] = {10 * MS, 20 * MS, 30 * MS, 15 * MS};
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg_100m, 5, 100 * MS, 100);
	for (uint32_t i = 0; i < 4; i++) {
		sim_flow_add(&sim, i, 100 * MS, slices[i], false);
		sim_flow_saturate(&sim, i, SIM_LEN_MIXED, 0);
	}
	sim_flow_add(&sim, 4, 0, 0, true);
	sim_flow_saturate(&sim, 4, SIM_LEN_MIXED, 0);
	sim_run(&sim, 10 * S);

	for (uint32_t i = 0; i < 4; i++)
		assert_within(sim.flows[i].wire_ns, 100 * slices[i], 0.005);
	assert_within(sim.flows[4].wire_ns, 10 * S - 100 * 75 * MS, 0.005);
	assert_within(sim.busy_ns, 10 * S, 0.001);
	assert_int_equal(sim.pace_errors, 0);
	sim_fini(&sim);
}

static void
test_idle_flow_accumulates_no_credit(void **state)
{
	struct sim sim;
	struct sch_flow_stats st;
	uint64_t frame = sch_wire_ns(cfg_100m.link_bps, 1500);
	(void)state;

	sim_init(&sim, &cfg_100m, 2, 10 * MS, 300);
	sim_flow_add(&sim, 0, 100 * MS, 20 * MS, false);
	sim_flow_add(&sim, 1, 0, 0, true);
	sim_flow_saturate(&sim, 1, SIM_LEN_FIXED, 1500);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 1500);
	sim_run(&sim, 350 * MS);
	sim_flow_stop(&sim, 0);
	sim_run(&sim, 1250 * MS);

	/* Back after 9 periods idle: one slice in its first period, no more. */
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 1500);
	sim_run(&sim, 2000 * MS);
	assert_true(sim_wire_in(&sim, 0, 35, 125) == 0);
	assert_true(sim_wire_in(&sim, 0, 125, 135) <= 20 * MS + frame);
	assert_true(sim_wire_in(&sim, 0, 125, 135) >= 20 * MS - frame);
	for (uint32_t p = 135; p + 10 <= 195; p += 10)
		assert_within(sim_wire_in(&sim, 0, p, p + 10), 20 * MS, 0.01);

	/*
	 * Going idle within a period and coming back in the same period does
	 * not give a new slice: 50 frames at 2.06 s start a period, 500 more
	 * at 2.08 s only get what is left of it.
	 */
	sim_flow_stop(&sim, 0);
	sim_run(&sim, 2060 * MS);
	sim_flow_queue(&sim, 0, 50, 1500);
	sim_run(&sim, 2080 * MS);
	sim_flow_queue(&sim, 0, 500, 1500);
	sim_run(&sim, 2950 * MS);
	assert_near(sim_wire_in(&sim, 0, 206, 216), 20 * MS, frame);
	assert_near(sim_wire_in(&sim, 0, 216, 226), 20 * MS, frame);
	assert_int_equal(sch_flow_stats(sim.sch, 0, &st), 0);
	assert_int_equal(st.missed, 0);
	assert_int_equal(sim.pace_errors, 0);
	sim_fini(&sim);
}

static void
test_guarantee_change_takes_effect_at_next_period(void **state)
{
	struct sim sim;
	struct sch_qos up = {.period_ns = 100 * MS, .slice_ns = 30 * MS};
	struct sch_qos down = {.period_ns = 50 * MS, .slice_ns = 2500 * 1000ull};
	struct sch_stats ss;
	(void)state;

	sim_init(&sim, &cfg_100m, 2, 100 * MS, 40);
	sim_flow_add(&sim, 0, 100 * MS, 10 * MS, false);
	sim_flow_add(&sim, 1, 0, 0, true);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 1500);
	sim_flow_saturate(&sim, 1, SIM_LEN_FIXED, 1500);
	sim_run(&sim, 1050 * MS);
	assert_int_equal(sch_flow_set_qos(sim.sch, 0, &up), 0);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.reserved_ppb, 300000000);
	sim_run(&sim, 2050 * MS);
	/* Lowered to 5% with another period: the larger is held until then. */
	assert_int_equal(sch_flow_set_qos(sim.sch, 0, &down), 0);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.reserved_ppb, 300000000);
	sim_run(&sim, 4 * S);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.reserved_ppb, 50000000);

	for (uint32_t b = 0; b < 10; b++)
		assert_within(sim.flows[0].bins[b], 10 * MS, 0.02);
	/* The period running when the change came keeps the old slice. */
	assert_within(sim.flows[0].bins[10], 10 * MS, 0.02);
	for (uint32_t b = 11; b < 20; b++)
		assert_within(sim.flows[0].bins[b], 30 * MS, 0.01);
	assert_within(sim.flows[0].bins[20], 30 * MS, 0.01);
	for (uint32_t b = 21; b < 40; b++)
		assert_within(sim.flows[0].bins[b], 5 * MS, 0.04);
	sim_fini(&sim);
}

static void
test_removed_flow_with_queued_frames_is_never_chosen_again(void **state)
{
	struct sim sim;
	struct sch_stats ss;
	(void)state;

	sim_init(&sim, &cfg_100m, 4, 0, 0);
	sim_flow_add(&sim, 0, 100 * MS, 30 * MS, false);
	sim_flow_add(&sim, 1, 100 * MS, 30 * MS, true);
	sim_flow_add(&sim, 2, 0, 0, true);
	sim_flow_add(&sim, 3, 20 * MS, 1 * MS, false);
	for (uint32_t i = 0; i < 4; i++)
		sim_flow_saturate(&sim, i, SIM_LEN_MIXED, 0);
	sim_run(&sim, 15 * MS);
	/* Flow 0 is mid-slice (eligible), flow 2 is in the slack ring. */
	sim_flow_remove(&sim, 0);
	sim_flow_remove(&sim, 2);
	assert_int_equal(sch_charge(sim.sch, 0, 1500, sim.now), -ENOENT);
	assert_int_equal(sch_flow_backlog(sim.sch, 2, 1500, sim.now), -ENOENT);
	sim_run(&sim, 555 * MS);
	/* Flow 3 has spent its slice (waiting); flow 1 gets slack. */
	sim_flow_remove(&sim, 3);
	sim_flow_remove(&sim, 1);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.backlogged, 0);
	sim_run(&sim, 1 * S);
	assert_int_equal(sch_flow_remove(sim.sch, 1), -ENOENT);

	/* The id can be used again, and starts from zero. */
	sim_flow_add(&sim, 0, 100 * MS, 50 * MS, false);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 1500);
	sim.flows[0].wire_ns = 0;
	sim_run(&sim, 2 * S);
	assert_within(sim.flows[0].wire_ns, 10 * 50 * MS, 0.01);
	sim_flow_remove(&sim, 0);
	sch_stats(sim.sch, &ss);
	assert_int_equal(ss.flows, 0);
	assert_int_equal(ss.backlogged, 0);
	assert_int_equal(ss.reserved_ppb, 0);
	sim_fini(&sim);
}

static void
test_slack_is_shared_equally_in_wire_time(void **state)
{
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg_100m, 4, 0, 0);
	/* Three best-effort flows with very different frames... */
	sim_flow_add(&sim, 0, 0, 0, true);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 60);
	sim_flow_add(&sim, 1, 0, 0, true);
	sim_flow_saturate(&sim, 1, SIM_LEN_FIXED, 1514);
	sim_flow_add(&sim, 2, 0, 0, true);
	sim_flow_saturate(&sim, 2, SIM_LEN_MIXED, 0);
	/* ...and a guaranteed flow with extra set: slice plus a quarter of slack. */
	sim_flow_add(&sim, 3, 100 * MS, 20 * MS, true);
	sim_flow_saturate(&sim, 3, SIM_LEN_FIXED, 1000);
	sim_run(&sim, 5 * S);

	for (uint32_t i = 0; i < 3; i++)
		assert_within(sim.flows[i].wire_ns, 5 * S * 8 / 10 / 4, 0.01);
	assert_within(sim.flows[3].wire_ns, 5 * S * 2 / 10 + 5 * S * 8 / 10 / 4, 0.01);
	assert_within(sim.busy_ns, 5 * S, 0.001);
	sim_fini(&sim);
}

static void
test_pacing_never_exceeds_link_rate(void **state)
{
	struct sch_cfg cfg = {.link_bps = 1000000000ull, .max_flows = 8};
	struct sim sim;
	uint32_t flow;
	uint64_t next;
	(void)state;

	sim_init(&sim, &cfg, 8, 0, 0);
	sim_flow_add(&sim, 0, 10 * MS, 3 * MS, true);
	sim_flow_add(&sim, 1, 0, 0, true);
	sim_flow_saturate(&sim, 0, SIM_LEN_MIXED, 0);
	sim_flow_saturate(&sim, 1, SIM_LEN_MIXED, 0);
	/* One frame at t=0 keeps the link busy for its wire time. */
	assert_int_equal(sch_dequeue(sim.sch, 0, &flow, &next), 0);
	assert_int_equal(sch_charge(sim.sch, 1, 1514, 0), 0);
	assert_int_equal(sch_dequeue(sim.sch, 1, &flow, &next), -EAGAIN);
	assert_int_equal(next, 1538 * 8);
	assert_int_equal(sch_dequeue(sim.sch, 1538 * 8, &flow, &next), 0);
	/* A frame sent without asking still occupies the link. */
	assert_int_equal(sch_charge(sim.sch, 0, 60, 1538 * 8), 0);
	assert_int_equal(sch_dequeue(sim.sch, 1538 * 8 + 671, &flow, &next), -EAGAIN);
	assert_int_equal(next, 1538 * 8 + 672);
	sim.now = sim.link_free = next;
	sim.busy_ns = 0;
	sim_run(&sim, 1 * S);
	assert_int_equal(sim.pace_errors, 0);
	/* Work conserving, and never more than the link: busy ~= elapsed. */
	assert_true(sim.busy_ns <= 1 * S - next + 1538 * 8);
	assert_within(sim.busy_ns, 1 * S - next, 0.001);
	sim_fini(&sim);
}

/*
 * A caller whose timer fires late: it asks again 20 or 400 us after each
 * time it was told (the driver on a loaded machine). With the default catch-up the
 * link still carries its rate over a second, and never more than its rate
 * times the elapsed time plus the catch-up; with catch-up 1 ns (the strict
 * pacer) each frame pays the lateness, 123 us of wire time per 143 us.
 */
static uint64_t
run_late_caller(uint64_t catchup_ns, uint64_t late_ns)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 4, .catchup_ns = catchup_ns};
	struct sch_qos be = {.extra = true};
	uint64_t now = 0, sent_ns = 0, frame_ns = sch_wire_ns(cfg.link_bps, 1514);
	struct sch *s = sch_create(&cfg);

	assert_non_null(s);
	assert_int_equal(sch_flow_add(s, 1, &be), 0);
	assert_int_equal(sch_flow_backlog(s, 1, 1514, 0), 0);
	while (now < 1 * S) {
		uint32_t flow;
		uint64_t next;

		if (sch_dequeue(s, now, &flow, &next) < 0) {
			assert_true(next > now);
			now = next + late_ns;
			continue;
		}
		assert_int_equal(flow, 1);
		assert_int_equal(sch_charge(s, 1, 1514, now), 0);
		assert_int_equal(sch_flow_backlog(s, 1, 1514, now), 0);
		sent_ns += frame_ns;
		/* Never ahead of the link by more than the catch-up. */
		if (sent_ns > now + frame_ns + (catchup_ns ? catchup_ns : SCH_DEFAULT_CATCHUP_NS))
			fail_msg("at %llu ns: %llu ns of wire time sent", (unsigned long long)now,
			    (unsigned long long)sent_ns);
	}
	sch_destroy(s);
	return sent_ns;
}

static void
test_late_caller_catches_up_within_the_allowance(void **state)
{
	uint64_t frame_ns = sch_wire_ns(100000000ull, 1514);
	(void)state;

	assert_within(run_late_caller(0, 20000), 1 * S, 0.002);
	assert_within(run_late_caller(0, 0), 1 * S, 0.002);
	assert_within(run_late_caller(1, 20000), S * frame_ns / (frame_ns + 20000), 0.01);
	assert_within(run_late_caller(0, 400000), 1 * S, 0.002);
	/* Lateness beyond the allowance is lost, as it must be: 400 us late
	 * with 200 us allowed, two frames per wake-up (the 200 us owed and
	 * one), 246 us per 446. */
	assert_within(
	    run_late_caller(200000, 400000), S * 2 * frame_ns / (2 * frame_ns + 200000), 0.01);
}

/* Frames the caller may send back to back at @now (asking after each). */
static unsigned
burst_at(struct sch *s, uint32_t flow, uint64_t now)
{
	unsigned n = 0;
	uint32_t who;
	uint64_t next;

	while (n < 1000 && sch_dequeue(s, now, &who, &next) == 0) {
		assert_int_equal(who, flow);
		assert_int_equal(sch_charge(s, flow, 1514, now), 0);
		assert_int_equal(sch_flow_backlog(s, flow, 1514, now), 0);
		n++;
	}
	return n;
}

/*
 * The catch-up repays lateness, never idleness: a flow back from idle, or
 * a link that had nothing eligible until a release, starts from its time,
 * not from a millisecond ago.
 */
static void
test_catch_up_repays_lateness_not_idleness(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 4};
	struct sch_qos be = {.extra = true}, g = {.period_ns = 10 * MS, .slice_ns = 1 * MS};
	uint64_t frame_ns = sch_wire_ns(cfg.link_bps, 1514), t;
	struct sch *s = sch_create(&cfg);
	(void)state;

	assert_non_null(s);
	/* A new flow on an idle link: one frame, then the link is busy. */
	assert_int_equal(sch_flow_add(s, 1, &be), 0);
	assert_int_equal(sch_flow_backlog(s, 1, 1514, 5 * MS), 0);
	assert_int_equal(burst_at(s, 1, 5 * MS), 1);
	/* Idle for 10 ms, back: again one frame, not 1 ms worth. */
	assert_int_equal(sch_flow_idle(s, 1, 5 * MS + frame_ns), 0);
	assert_int_equal(sch_flow_backlog(s, 1, 1514, 15 * MS), 0);
	assert_int_equal(burst_at(s, 1, 15 * MS), 1);
	/* Back 300 us late for its next frame: what it owes, and no more. */
	t = 15 * MS + frame_ns + 300000;
	assert_int_equal(burst_at(s, 1, t), 1 + 300000 / frame_ns);
	assert_int_equal(sch_flow_idle(s, 1, t), 0);
	assert_int_equal(sch_flow_remove(s, 1), 0);

	/* A guaranteed flow with its slice spent: nothing eligible until its
	 * next period, so the link is idle, not late, until then. */
	assert_int_equal(sch_flow_add(s, 2, &g), 0);
	t = 100 * MS;
	assert_int_equal(sch_flow_backlog(s, 2, 1514, t), 0);
	for (unsigned period = 1; period <= 2; period++) {
		uint32_t who;
		uint64_t next;

		/* Spend the slice, on time for every frame. */
		for (;;) {
			if (sch_dequeue(s, t, &who, &next) == 0) {
				assert_int_equal(sch_charge(s, 2, 1514, t), 0);
				assert_int_equal(sch_flow_backlog(s, 2, 1514, t), 0);
				continue;
			}
			if (next >= 100 * MS + period * 10 * MS - 20000)
				break; /* spent: its next period */
			t = next;      /* the link is busy until then */
		}
		/* The next chance is the next period (to a calendar slot). */
		assert_true(next <= 100 * MS + period * 10 * MS + 20000);
		t = next;
		if (period == 1) {
			/* On time at the release: one frame, the link busy. */
			assert_int_equal(burst_at(s, 2, t), 1);
		} else {
			/* 300 us late: the time it owes since the release. */
			t += 300000;
			assert_int_equal(burst_at(s, 2, t), 1 + 300000 / frame_ns);
		}
	}
	sch_destroy(s);
}

/* A slice smaller than a frame: one frame every few periods, exact over time. */
static void
test_slice_smaller_than_a_frame_still_gets_its_share(void **state)
{
	struct sim sim;
	(void)state;

	sim_init(&sim, &cfg_100m, 2, 0, 0);
	sim_flow_add(&sim, 0, 1 * MS, 1000, false);
	sim_flow_saturate(&sim, 0, SIM_LEN_FIXED, 60);
	sim_flow_add(&sim, 1, 0, 0, true);
	sim_flow_saturate(&sim, 1, SIM_LEN_FIXED, 1500);
	sim_run(&sim, 10 * S);
	assert_within(sim.flows[0].wire_ns, 10 * S / 1000, 0.01);
	sim_fini(&sim);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guaranteed_flows_get_their_slice_within_half_percent),
	    cmocka_unit_test(test_best_effort_flow_gets_the_rest_while_guaranteed_flows_join),
	    cmocka_unit_test(test_mixed_frame_sizes_keep_every_share),
	    cmocka_unit_test(test_idle_flow_accumulates_no_credit),
	    cmocka_unit_test(test_guarantee_change_takes_effect_at_next_period),
	    cmocka_unit_test(test_removed_flow_with_queued_frames_is_never_chosen_again),
	    cmocka_unit_test(test_slack_is_shared_equally_in_wire_time),
	    cmocka_unit_test(test_pacing_never_exceeds_link_rate),
	    cmocka_unit_test(test_late_caller_catches_up_within_the_allowance),
	    cmocka_unit_test(test_catch_up_repays_lateness_not_idleness),
	    cmocka_unit_test(test_slice_smaller_than_a_frame_still_gets_its_share),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
