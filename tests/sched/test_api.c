/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scheduler's contract at its edges: wire-time arithmetic, bad
 * arguments, the admission ledger, and the empty scheduler.
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

static void
test_wire_time_counts_padding_fcs_preamble_and_gap(void **state)
{
	(void)state;
	assert_int_equal(sch_wire_bytes(60), 84);
	assert_int_equal(sch_wire_bytes(14), 84);
	assert_int_equal(sch_wire_bytes(61), 85);
	assert_int_equal(sch_wire_bytes(1514), 1538);
	/* 100 Mbit/s: 80 ns per byte. */
	assert_int_equal(sch_wire_ns(100000000ull, 60), 84 * 80);
	assert_int_equal(sch_wire_ns(100000000ull, 1500), 1524 * 80);
	/* 10 Gbit/s: 1538 * 0.8 = 1230.4 ns, rounded. */
	assert_int_equal(sch_wire_ns(10000000000ull, 1514), 1230);
	/* 100 Gbit/s: 84 * 0.08 = 6.72 ns, rounded. */
	assert_int_equal(sch_wire_ns(100000000000ull, 60), 7);
	assert_int_equal(sch_wire_ns(0, 60), 0);
}

static void
test_create_rejects_bad_config(void **state)
{
	struct sch_cfg bad[] = {
	    {.link_bps = 0},
	    {.link_bps = SCH_MIN_LINK_BPS - 1},
	    {.link_bps = SCH_MAX_LINK_BPS + 1},
	    {.link_bps = 1000000000ull, .max_flows = SCH_MAX_FLOWS + 1},
	    {.link_bps = 1000000000ull, .max_frame_len = 59},
	    {.link_bps = 1000000000ull, .max_frame_len = SCH_MAX_FRAME_LEN + 1},
	    {.link_bps = 1000000000ull, .max_period_ns = SCH_MAX_PERIOD_NS + 1},
	    /* 64 s in slots of 1 ns would need 2^36 slots. */
	    {.link_bps = 1000000000ull, .max_period_ns = SCH_MAX_PERIOD_NS, .slot_ns = 1},
	    /* A slot wider than half the longest period. */
	    {.link_bps = 1000000000ull, .max_period_ns = 1000, .slot_ns = 4096},
	};
	struct sch_cfg good = {
	    .link_bps = 1000000000ull, .max_period_ns = 10 * MS, .slot_ns = 1000};
	struct sch *s;
	(void)state;

	errno = 0;
	assert_null(sch_create(NULL));
	assert_int_equal(errno, EINVAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(sch_create(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	s = sch_create(&good);
	assert_non_null(s);
	sch_destroy(s);
	sch_destroy(NULL);
}

static void
test_bad_arguments_are_rejected_and_change_nothing(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 4};
	struct sch_qos ok = {.period_ns = 100 * MS, .slice_ns = 10 * MS};
	struct sch_qos bad[] = {
	    {.period_ns = 0, .slice_ns = 10 * MS},
	    {.period_ns = 100 * MS, .slice_ns = 101 * MS},
	    {.period_ns = 0, .slice_ns = 0, .extra = false},
	    {.period_ns = 100 * MS, .slice_ns = 0, .extra = false},
	    {.period_ns = 2000 * MS, .slice_ns = 10 * MS},
	    {.period_ns = 1000, .slice_ns = 10},
	};
	struct sch_flow_stats st;
	struct sch_stats ss;
	struct sch *s = sch_create(&cfg);
	uint32_t flow;
	uint64_t next;
	(void)state;

	assert_non_null(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sch_flow_add(s, 0, &bad[i]), -EINVAL);
		assert_int_equal(sch_admit(s, &bad[i], NULL), -EINVAL);
	}
	assert_int_equal(sch_flow_add(s, 4, &ok), -EINVAL);
	assert_int_equal(sch_flow_add(s, UINT32_MAX, &ok), -EINVAL);
	assert_int_equal(sch_flow_add(s, 0, NULL), -EINVAL);
	assert_int_equal(sch_flow_add(NULL, 0, &ok), -EINVAL);
	assert_int_equal(sch_admit(NULL, &ok, NULL), -EINVAL);
	assert_int_equal(sch_admit(s, NULL, NULL), -EINVAL);

	/* Unknown flows. */
	assert_int_equal(sch_flow_remove(s, 1), -ENOENT);
	assert_int_equal(sch_flow_set_qos(s, 1, &ok), -ENOENT);
	assert_int_equal(sch_flow_backlog(s, 1, 100, 0), -ENOENT);
	assert_int_equal(sch_flow_idle(s, 1, 0), -ENOENT);
	assert_int_equal(sch_charge(s, 1, 100, 0), -ENOENT);
	assert_int_equal(sch_flow_stats(s, 1, &st), -ENOENT);
	/* Out of range. */
	assert_int_equal(sch_flow_remove(s, 4), -EINVAL);
	assert_int_equal(sch_flow_set_qos(s, 4, &ok), -EINVAL);
	assert_int_equal(sch_flow_backlog(s, 4, 100, 0), -EINVAL);
	assert_int_equal(sch_flow_idle(s, 4, 0), -EINVAL);
	assert_int_equal(sch_charge(s, 4, 100, 0), -EINVAL);
	assert_int_equal(sch_flow_stats(s, 4, &st), -EINVAL);

	assert_int_equal(sch_flow_add(s, 1, &ok), 0);
	assert_int_equal(sch_flow_add(s, 1, &ok), -EEXIST);
	assert_int_equal(sch_flow_set_qos(s, 1, &bad[1]), -EINVAL);
	assert_int_equal(sch_flow_backlog(s, 1, 0, 0), -EINVAL);
	assert_int_equal(sch_flow_backlog(s, 1, 1515, 0), -EINVAL);
	assert_int_equal(sch_charge(s, 1, 0, 0), -EINVAL);
	assert_int_equal(sch_charge(s, 1, 1515, 0), -EINVAL);
	assert_int_equal(sch_flow_stats(s, 1, NULL), -EINVAL);
	assert_int_equal(sch_dequeue(s, 0, NULL, &next), -EINVAL);
	assert_int_equal(sch_dequeue(s, 0, &flow, NULL), -EINVAL);
	assert_int_equal(sch_dequeue(NULL, 0, &flow, &next), -EINVAL);

	/* None of that changed anything. */
	sch_stats(s, &ss);
	assert_int_equal(ss.flows, 1);
	assert_int_equal(ss.backlogged, 0);
	assert_int_equal(ss.reserved_ppb, 100000000);
	assert_int_equal(sch_flow_stats(s, 1, &st), 0);
	assert_int_equal(st.frames, 0);
	sch_destroy(s);
}

static void
test_admission_keeps_the_sum_within_the_link_and_says_what_is_free(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull, .max_flows = 8};
	struct sch_qos q60 = {.period_ns = 100 * MS, .slice_ns = 60 * MS};
	struct sch_qos q50 = {.period_ns = 100 * MS, .slice_ns = 50 * MS};
	struct sch_qos q40 = {.period_ns = 100 * MS, .slice_ns = 40 * MS};
	struct sch_qos q20_50 = {.period_ns = 50 * MS, .slice_ns = 20 * MS};
	struct sch_qos be = {.extra = true};
	struct sch_qos tiny = {.period_ns = 100 * MS, .slice_ns = 1};
	struct sch *s = sch_create(&cfg);
	uint64_t free_ns = 0;
	(void)state;

	assert_non_null(s);
	assert_int_equal(sch_admit(s, &q60, &free_ns), 0);
	assert_int_equal(free_ns, 100 * MS);
	assert_int_equal(sch_flow_add(s, 0, &q60), 0);
	assert_int_equal(sch_admit(s, &q50, &free_ns), -ENOSPC);
	/* 40% is free: 40 ms per 100 ms, or 20 ms per 50 ms. */
	assert_true(free_ns >= 40 * MS - 1 && free_ns <= 40 * MS);
	assert_int_equal(sch_flow_add(s, 1, &q50), -ENOSPC);
	assert_int_equal(sch_admit(s, &q20_50, &free_ns), 0);
	assert_true(free_ns >= 20 * MS - 1 && free_ns <= 20 * MS);
	assert_int_equal(sch_flow_add(s, 1, &q40), 0);
	/* Full: no slice fits, best effort always does. */
	assert_int_equal(sch_admit(s, &tiny, &free_ns), -ENOSPC);
	assert_int_equal(free_ns, 0);
	assert_int_equal(sch_flow_add(s, 2, &be), 0);
	assert_int_equal(sch_flow_add(s, 3, &be), 0);
	/* A raise that does not fit is refused, and nothing changes. */
	assert_int_equal(sch_flow_set_qos(s, 1, &q50), -ENOSPC);
	assert_int_equal(sch_flow_remove(s, 0), 0);
	assert_int_equal(sch_admit(s, &q60, &free_ns), 0);
	assert_int_equal(sch_flow_set_qos(s, 1, &q50), 0);
	/* The raise holds 50% until it is in force: 50% free, not 60%. */
	assert_int_equal(sch_admit(s, &q60, &free_ns), -ENOSPC);
	/* A best-effort flow given a slice reserves it at once. */
	assert_int_equal(sch_flow_set_qos(s, 2, &q40), 0);
	assert_int_equal(sch_admit(s, &q20_50, &free_ns), -ENOSPC);
	assert_true(free_ns >= 5 * MS - 1 && free_ns <= 5 * MS);
	assert_int_equal(sch_flow_remove(s, 1), 0);
	assert_int_equal(sch_flow_remove(s, 2), 0);
	assert_int_equal(sch_flow_remove(s, 3), 0);
	assert_int_equal(
	    sch_admit(s, &(struct sch_qos){.period_ns = 100 * MS, .slice_ns = 100 * MS}, &free_ns),
	    0);
	assert_int_equal(free_ns, 100 * MS);
	sch_destroy(s);
}

static void
test_empty_scheduler_says_wait_for_work(void **state)
{
	struct sch_cfg cfg = {.link_bps = 100000000ull};
	struct sch_qos q = {.period_ns = 100 * MS, .slice_ns = 10 * MS};
	struct sch *s = sch_create(&cfg);
	uint32_t flow = 77;
	uint64_t next = 0;
	(void)state;

	assert_non_null(s);
	assert_int_equal(sch_dequeue(s, 1000, &flow, &next), -EAGAIN);
	assert_int_equal(next, UINT64_MAX);
	assert_int_equal(flow, 77);
	assert_int_equal(sch_flow_add(s, 3, &q), 0);
	assert_int_equal(sch_dequeue(s, 2000, &flow, &next), -EAGAIN);
	assert_int_equal(next, UINT64_MAX);
	assert_int_equal(sch_flow_backlog(s, 3, 1000, 3000), 0);
	assert_int_equal(sch_dequeue(s, 3000, &flow, &next), 0);
	assert_int_equal(flow, 3);
	assert_int_equal(next, 3000 + sch_wire_ns(100000000ull, 1000));
	/* An idle flow is never chosen; idling twice is harmless. */
	assert_int_equal(sch_flow_idle(s, 3, 3000), 0);
	assert_int_equal(sch_flow_idle(s, 3, 3000), 0);
	assert_int_equal(sch_dequeue(s, 3000, &flow, &next), -EAGAIN);
	/* A time earlier than one seen is taken as the latest seen. */
	assert_int_equal(sch_flow_backlog(s, 3, 1000, 10), 0);
	assert_int_equal(sch_dequeue(s, 5, &flow, &next), 0);
	assert_int_equal(next, 3000 + sch_wire_ns(100000000ull, 1000));
	sch_destroy(s);
}

static uint64_t
churn_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Many flows share one calendar slot (they start at one instant); flows are
 * idled, backlogged again, removed and added at random while the scheduler
 * runs, which takes them out of the middle of slot queues (tombstones) often
 * enough to compact them. No flow is lost or chosen while idle, and once the
 * churn stops every flow gets its slice each period.
 */
static void
test_churn_in_one_slot_loses_no_flow(void **state)
{
	enum { N = 300 };
	struct sch_cfg cfg = {.link_bps = 1000000000ull, .max_flows = N};
	/* A slice of one 1514-byte frame (1538 byte-times, 12.3 us) a period. */
	struct sch_qos q = {.period_ns = 10 * MS, .slice_ns = 12304, .extra = false};
	struct sch *s = sch_create(&cfg);
	bool backlogged[N] = {0}, added[N] = {0};
	uint64_t frames0[N], now = MS, rng = 0x9e3779b97f4a7c15ull;
	struct sch_flow_stats st;
	struct sch_stats ss;
	(void)state;

	assert_non_null(s);
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(sch_flow_add(s, i, &q), 0);
		assert_int_equal(sch_flow_backlog(s, i, 1514, now), 0);
		added[i] = backlogged[i] = true;
	}
	for (int step = 0; step < 200000; step++) {
		uint32_t i = (uint32_t)(churn_rand(&rng) % N), flow;
		uint64_t r = churn_rand(&rng) % 16, next;

		if (r == 0 && added[i]) {
			assert_int_equal(sch_flow_remove(s, i), 0);
			added[i] = backlogged[i] = false;
		} else if (r == 1 && !added[i]) {
			assert_int_equal(sch_flow_add(s, i, &q), 0);
			added[i] = true;
		} else if (r < 8 && added[i] && backlogged[i]) {
			assert_int_equal(sch_flow_idle(s, i, now), 0);
			backlogged[i] = false;
		} else if (r < 14 && added[i] && !backlogged[i]) {
			assert_int_equal(sch_flow_backlog(s, i, 1514, now), 0);
			backlogged[i] = true;
		}
		if (sch_dequeue(s, now, &flow, &next) == 0) {
			assert_true(flow < N && backlogged[flow]);
			assert_int_equal(sch_charge(s, flow, 1514, now), 0);
		}
		now = next == UINT64_MAX ? now + 1000 : next;
	}
	/* Everyone back, then one frame per flow and period for ten periods. */
	for (uint32_t i = 0; i < N; i++) {
		if (!added[i])
			assert_int_equal(sch_flow_add(s, i, &q), 0);
		assert_int_equal(sch_flow_backlog(s, i, 1514, now), 0);
		assert_int_equal(sch_flow_stats(s, i, &st), 0);
		frames0[i] = st.frames;
	}
	sch_stats(s, &ss);
	assert_int_equal(ss.backlogged, N);
	for (uint64_t end = now + 10 * q.period_ns; now < end;) {
		uint32_t flow;
		uint64_t next;

		if (sch_dequeue(s, now, &flow, &next) == 0)
			assert_int_equal(sch_charge(s, flow, 1514, now), 0);
		now = next;
	}
	for (uint32_t i = 0; i < N; i++) {
		assert_int_equal(sch_flow_stats(s, i, &st), 0);
		if (st.frames - frames0[i] < 9 || st.frames - frames0[i] > 11)
			fail_msg("flow %u: %llu frames in 10 periods", i,
			    (unsigned long long)(st.frames - frames0[i]));
		assert_int_equal(sch_flow_idle(s, i, now), 0);
	}
	sch_stats(s, &ss);
	assert_int_equal(ss.backlogged, 0);
	sch_destroy(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wire_time_counts_padding_fcs_preamble_and_gap),
	    cmocka_unit_test(test_create_rejects_bad_config),
	    cmocka_unit_test(test_bad_arguments_are_rejected_and_change_nothing),
	    cmocka_unit_test(test_admission_keeps_the_sum_within_the_link_and_says_what_is_free),
	    cmocka_unit_test(test_empty_scheduler_says_wait_for_work),
	    cmocka_unit_test(test_churn_in_one_slot_loses_no_flow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
