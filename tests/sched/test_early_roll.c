/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A flow that spends its slice is rolled into its next period at once and
 * filed in a lane that joins the eligible wheel whole at the boundary
 * (sched/atropos.c, wait_slice()). That must be invisible: no decision and
 * no counter may differ from rolling at the boundary.
 *
 * The reference is the same scheduler with a guarantee change pending on
 * every flow at all times (sch_flow_set_qos() with the guarantee it already
 * has, repeated after every call): a flow with a change pending is never
 * rolled early, so the reference rolls every flow at its boundary, one by
 * one. Both get the same calls; every result and every counter must match.
 * Flows with a slice share one period and start in different calendar
 * slots, so no two deadlines ever share a slot and the order among them is
 * never a matter of filing order.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sched/sch.h"

#define MS 1000000ull

struct pair {
	struct sch *s;	 /* rolls early */
	struct sch *ref; /* rolls at the boundary */
	struct sch_qos *qos;
	uint32_t n;
};

/* |got - want| <= tol */
static void
assert_near(uint64_t got, uint64_t want, uint64_t tol)
{
	uint64_t d = got > want ? got - want : want - got;

	if (d > tol)
		fail_msg("got %llu, want %llu +- %llu", (unsigned long long)got,
		    (unsigned long long)want, (unsigned long long)tol);
}

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Keep a change pending on every flow of the reference. */
static void
hold_pending(struct pair *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		int rc = sch_flow_set_qos(p->ref, i, &p->qos[i]);

		assert_true(rc == 0 || rc == -ENOENT);
	}
}

static void
same_counters(struct pair *p)
{
	struct sch_stats a, b;

	for (uint32_t i = 0; i < p->n; i++) {
		struct sch_flow_stats x, y;
		int rx = sch_flow_stats(p->s, i, &x), ry = sch_flow_stats(p->ref, i, &y);

		assert_int_equal(rx, ry);
		if (rx != 0)
			continue;
		assert_int_equal(x.bytes, y.bytes);
		assert_int_equal(x.frames, y.frames);
		assert_int_equal(x.wire_ns, y.wire_ns);
		assert_int_equal(x.slack_ns, y.slack_ns);
		assert_int_equal(x.wait_ns, y.wait_ns);
		assert_int_equal(x.periods, y.periods);
		assert_int_equal(x.missed, y.missed);
	}
	sch_stats(p->s, &a);
	sch_stats(p->ref, &b);
	assert_int_equal(a.backlogged, b.backlogged);
	assert_int_equal(a.decisions, b.decisions);
	assert_int_equal(a.slack_decisions, b.slack_decisions);
	assert_int_equal(a.empty, b.empty);
	assert_int_equal(a.wire_ns, b.wire_ns);
	assert_int_equal(a.reserved_ppb, b.reserved_ppb);
}

/*
 * Run @steps random steps on both. @churn: also idle and backlog flows at
 * random, charge flows that were not chosen, and let the scheduler sleep
 * through several periods now and then.
 */
static void
run_pair_len(struct pair *p, uint32_t be, uint64_t period, uint64_t *now, int steps, bool churn,
    uint64_t seed, uint32_t fixed_len)
{
	uint64_t rng = seed;

	for (int step = 0; step < steps; step++) {
		uint64_t r = rnd(&rng) % 100;
		uint32_t i = (uint32_t)(rnd(&rng) % p->n), fa, fb;
		uint64_t na, nb;
		int ra, rb;

		if (churn && r < 4 && i != be) {
			assert_int_equal(
			    sch_flow_idle(p->s, i, *now), sch_flow_idle(p->ref, i, *now));
		} else if (churn && r < 8) {
			uint32_t len = 60 + (uint32_t)(rnd(&rng) % 1455);

			assert_int_equal(sch_flow_backlog(p->s, i, len, *now),
			    sch_flow_backlog(p->ref, i, len, *now));
		} else if (churn && r < 10) {
			uint32_t len = 60 + (uint32_t)(rnd(&rng) % 1455);

			assert_int_equal(
			    sch_charge(p->s, i, len, *now), sch_charge(p->ref, i, len, *now));
		} else if (churn && r < 11) {
			*now += rnd(&rng) % (3 * period);
		} else {
			ra = sch_dequeue(p->s, *now, &fa, &na);
			rb = sch_dequeue(p->ref, *now, &fb, &nb);
			assert_int_equal(ra, rb);
			assert_int_equal(na, nb);
			if (ra == 0) {
				uint32_t len =
				    fixed_len ? fixed_len : 60 + (uint32_t)(rnd(&rng) % 1455);

				assert_int_equal(fa, fb);
				hold_pending(p);
				assert_int_equal(sch_charge(p->s, fa, len, *now),
				    sch_charge(p->ref, fb, len, *now));
				assert_int_equal(sch_flow_backlog(p->s, fa, len, *now),
				    sch_flow_backlog(p->ref, fb, len, *now));
				*now = na;
			} else {
				*now = na == UINT64_MAX ? *now + period / 7 : na;
			}
		}
		hold_pending(p);
		same_counters(p);
	}
}

static void
run_pair(struct pair *p, uint32_t be, uint64_t period, uint64_t *now, int steps, bool churn,
    uint64_t seed)
{
	run_pair_len(p, be, period, now, steps, churn, seed, 0);
}

static void
pair_init(struct pair *p, const struct sch_cfg *cfg, struct sch_qos *qos, uint32_t n)
{
	*p = (struct pair){.s = sch_create(cfg), .ref = sch_create(cfg), .qos = qos, .n = n};
	assert_non_null(p->s);
	assert_non_null(p->ref);
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(sch_flow_add(p->s, i, &qos[i]), 0);
		assert_int_equal(sch_flow_add(p->ref, i, &qos[i]), 0);
	}
}

/*
 * Eight flows with slices of less than a frame to a few frames (so some
 * are in debt and skip periods, one beyond the end of the calendar), one
 * period, started one slot apart, and a best-effort flow; both schedulers
 * see the same saturating traffic.
 */
static void
test_early_roll_changes_no_decision_and_no_counter(void **state)
{
	enum { N = 9 };
	/* 1 s longest period: slots of 16384 ns; 1 Gbit/s: a 1514-byte frame is 12.3 us. */
	struct sch_cfg cfg = {.link_bps = 1000000000ull, .max_flows = N};
	uint64_t period = 2 * MS, now = MS;
	struct sch_qos qos[N];
	struct pair p;
	(void)state;

	for (uint32_t i = 0; i < N - 1; i++)
		qos[i] = (struct sch_qos){
		    .period_ns = period, .slice_ns = 3000 + 9000 * i, .extra = i % 2};
	/* A frame's debt takes this one more periods than the calendar holds. */
	qos[0].slice_ns = 10;
	qos[N - 1] = (struct sch_qos){.extra = true};
	pair_init(&p, &cfg, qos, N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(sch_flow_backlog(p.s, i, 1514, now), 0);
		assert_int_equal(sch_flow_backlog(p.ref, i, 1514, now), 0);
		now += 20000; /* the next slot */
	}
	hold_pending(&p);
	run_pair(&p, N - 1, period, &now, 60000, false, 0x9e3779b97f4a7c15ull);
	sch_destroy(p.s);
	sch_destroy(p.ref);
}

/*
 * One guaranteed flow (so no two deadlines can share a slot) and a
 * best-effort one, with idling, frames charged without being chosen, and
 * the scheduler sleeping through periods: the early roll is undone when
 * the flow goes idle before its boundary, redone after a charge out of
 * turn, and replaced by a roll from the present when the boundary is acted
 * on late.
 */
static void
test_early_roll_is_undone_when_the_flow_idles_or_the_scheduler_sleeps(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 2, .max_period_ns = 100 * MS};
	struct sch_qos qos[2] = {
	    {.period_ns = 3 * MS, .slice_ns = 50000},
	    {.extra = true},
	};
	uint64_t now = MS;
	struct pair p;
	(void)state;

	for (uint64_t seed = 1; seed <= 20; seed++) {
		pair_init(&p, &cfg, qos, 2);
		hold_pending(&p);
		run_pair(&p, 1, qos[0].period_ns, &now, 20000, true, seed * 0x9e3779b97f4a7c15ull);
		sch_destroy(p.s);
		sch_destroy(p.ref);
	}
}

/*
 * A period boundary is counted when it passes, not when the flow spent its
 * slice and was rolled early: a flow whose slice (700 ns) is a little more
 * than a minimum frame (672 ns) spends it early in every period and is
 * rolled then, but its count moves only once the slot of its boundary has
 * passed.
 */
static void
test_periods_are_counted_when_the_boundary_passes(void **state)
{
	/* Slots of 1024 ns; a period of 64 slots. */
	struct sch_cfg cfg = {
	    .link_bps = 1000000000ull, .max_flows = 1, .max_period_ns = MS, .slot_ns = 1024};
	struct sch_qos q = {.period_ns = 65536, .slice_ns = 700};
	struct sch *s = sch_create(&cfg);
	struct sch_flow_stats st;
	uint64_t now = 1024 * 1000, start = now;
	(void)state;

	assert_non_null(s);
	assert_int_equal(sch_flow_add(s, 0, &q), 0);
	assert_int_equal(sch_flow_backlog(s, 0, 60, now), 0);
	while (now < start + 200 * q.period_ns) {
		uint32_t flow;
		uint64_t next, passed;

		if (sch_dequeue(s, now, &flow, &next) == 0) {
			assert_int_equal(sch_charge(s, 0, 60, now), 0);
			assert_int_equal(sch_flow_backlog(s, 0, 60, now), 0);
		}
		assert_int_equal(sch_flow_stats(s, 0, &st), 0);
		/*
		 * Boundary k is at start + k p, at the start of a slot, and is
		 * acted on once that slot has passed: in the slot itself the
		 * count may still be one short.
		 */
		passed = ((now >> 10) - (start >> 10)) / (q.period_ns >> 10);
		if (st.periods != passed && st.periods + 1 != passed)
			fail_msg("at %llu ns: %llu periods counted, %llu boundaries reached",
			    (unsigned long long)(now - start), (unsigned long long)st.periods,
			    (unsigned long long)passed);
		now = next == UINT64_MAX ? now + 1024 : next;
	}
	assert_int_equal(sch_flow_stats(s, 0, &st), 0);
	assert_true(st.periods >= 199);
	assert_int_equal(st.missed, 0);
	/* The slice in every period: 672 ns frames, 700 ns a period. */
	assert_true(st.frames * 672 >= (st.periods - 1) * 700);
	assert_true(st.frames * 672 <= (st.periods + 1) * 700 + 672);
	sch_destroy(s);
}

/*
 * A guarantee changed while the flow still has slice left: when it spends
 * the slice later in the period it must not be rolled early with the old
 * guarantee, since the change takes effect at the boundary.
 */
static void
test_change_made_before_the_slice_is_spent_applies_at_the_boundary(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 1};
	struct sch_qos before = {.period_ns = 100 * MS, .slice_ns = 10 * MS};
	struct sch_qos after = {.period_ns = 100 * MS, .slice_ns = 30 * MS};
	struct sch *s = sch_create(&cfg);
	uint64_t now = 0, frame = sch_wire_ns(cfg.link_bps, 1500), f[3];
	struct sch_flow_stats st;
	(void)state;

	assert_non_null(s);
	assert_int_equal(sch_flow_add(s, 0, &before), 0);
	assert_int_equal(sch_flow_backlog(s, 0, 1500, now), 0);
	for (int k = 0; k < 3; k++) {
		uint64_t end = (uint64_t)k * 100 * MS + 99 * MS;

		while (now < end) {
			uint32_t flow;
			uint64_t next;

			/* Mid-slice in the first period. */
			if (now >= 5 * MS && now < 5 * MS + frame)
				assert_int_equal(sch_flow_set_qos(s, 0, &after), 0);
			if (sch_dequeue(s, now, &flow, &next) == 0) {
				assert_int_equal(sch_charge(s, 0, 1500, now), 0);
				assert_int_equal(sch_flow_backlog(s, 0, 1500, now), 0);
			}
			now = next;
		}
		assert_int_equal(sch_flow_stats(s, 0, &st), 0);
		f[k] = st.frames;
	}
	/* 10 ms of 1500-byte frames in the first period, 30 ms in the next. */
	assert_near(f[0] * frame, 10 * MS, frame);
	assert_near((f[1] - f[0]) * frame, 30 * MS, frame);
	assert_near((f[2] - f[1]) * frame, 30 * MS, frame);
	sch_destroy(s);
}

/*
 * Many flows in one calendar slot, as in bench/sched_scale: 300 flows with
 * the same guarantee (a slice of about half a minimum frame) started at the
 * same instant, saturating with minimum frames. Each spends its slice with
 * every frame it sends at the head of the slot, is rolled early and filed
 * in a tagged lane of the waiting wheel, and the lane rejoins the eligible
 * wheel whole at the boundary (sched/atropos.c, wait_slice() and
 * release()). The flows move in lockstep (the same debt in every period),
 * so all flows of a slot go to one lane and the order is the reference's:
 * every decision must match.
 */
static void
test_many_flows_in_one_slot_change_no_decision(void **state)
{
	enum { N = 301 };
	/* 10 Gbit/s: a 60-byte frame is 67.2 ns; slots of 1024 ns. */
	struct sch_cfg cfg = {
	    .link_bps = 10000000000ull, .max_flows = N, .max_period_ns = 4 * MS, .slot_ns = 1024};
	uint64_t period = 200 * 1024 + 512, now = MS;
	struct sch_qos qos[N];
	struct pair p;
	(void)state;

	for (uint32_t i = 0; i < N - 1; i++)
		qos[i] = (struct sch_qos){.period_ns = period, .slice_ns = 35, .extra = true};
	qos[N - 1] = (struct sch_qos){.extra = true};
	pair_init(&p, &cfg, qos, N);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(sch_flow_backlog(p.s, i, 60, now), 0);
		assert_int_equal(sch_flow_backlog(p.ref, i, 60, now), 0);
	}
	hold_pending(&p);
	run_pair_len(&p, N - 1, period, &now, 30000, false, 0x2545f4914f6cdd1dull, 60);
	sch_destroy(p.s);
	sch_destroy(p.ref);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_early_roll_changes_no_decision_and_no_counter),
	    cmocka_unit_test(test_early_roll_is_undone_when_the_flow_idles_or_the_scheduler_sleeps),
	    cmocka_unit_test(test_periods_are_counted_when_the_boundary_passes),
	    cmocka_unit_test(test_change_made_before_the_slice_is_spent_applies_at_the_boundary),
	    cmocka_unit_test(test_many_flows_in_one_slot_change_no_decision),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
