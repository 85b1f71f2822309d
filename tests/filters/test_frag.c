/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments: every fragment of a datagram reaches the flow of its first
 * fragment, in whatever order they arrive, within the bounds of the fragment
 * memory and the hold pool; what falls outside is dropped and counted.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "tests/filters/flt_test.h"

#define LOCAL	PKT_IP4(10, 0, 0, 1)
#define REMOTE	PKT_IP4(10, 0, 0, 2)
#define T0	1000000000ull
#define MS	1000000ull
#define FLOW	7
#define FLOW_IO 8 /* takes in-order fragments only */
#define NFRAG	4

static struct flt_table *tbl;
static uint8_t whole[PKT_MAX];
static uint8_t frag[NFRAG][PKT_MAX];
static uint16_t flen[NFRAG];

static struct flt_table *
make_table(uint32_t hold_slots, uint32_t flags)
{
	struct flt_table_cfg cfg = {
	    .name = "tfrag",
	    .max_flows = 16,
	    .frag_entries = 16,
	    .frag_timeout_ns = 1000 * MS,
	    .hold_slots = hold_slots,
	    .hold_slot_size = 512,
	    .hold_timeout_ns = 100 * MS,
	    .flags = flags,
	};
	struct flt_table *t = flt_table_create(&cfg);
	struct flt_flow_spec s =
	    flt_test_spec(FLOW, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 5000);

	assert_non_null(t);
	assert_int_equal(flt_flow_add(t, &s), 0);
	s = flt_test_spec(FLOW_IO, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7001, REMOTE, 5000);
	s.flags = FLT_FLOW_F_INORDER_FRAGS;
	assert_int_equal(flt_flow_add(t, &s), 0);
	return t;
}

static int
setup(void **state)
{
	(void)state;
	tbl = make_table(4, 0);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_true(flt_test_stats_consistent(tbl));
	flt_table_destroy(tbl);
	tbl = NULL;
	return 0;
}

/* A UDP datagram of 4 fragments (3 x 96 bytes of IP payload and the rest). */
static void
make_frags(uint16_t dport, uint16_t id)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	s.dport = dport;
	s.id = id;
	s.payload_len = 3 * 96 + 40 - 8;
	len = pkt_build(whole, &s);
	assert_int_equal(pkt_fragment(whole, len, 96, frag, flen, NFRAG), NFRAG);
}

static struct flt_verdict
send_frag(unsigned i, uint64_t now)
{
	return flt_test_one(tbl, frag[i], flen[i], now);
}

static void
assert_flow(struct flt_verdict v, uint32_t flow)
{
	assert_int_equal(v.action, FLT_ACT_FLOW);
	assert_int_equal(v.flow, flow);
}

static void
assert_drop(struct flt_verdict v, enum flt_drop reason)
{
	assert_int_equal(v.action, FLT_ACT_DROP);
	assert_string_equal(flt_drop_name(v.reason), flt_drop_name(reason));
}

static uint64_t
drops(enum flt_drop reason)
{
	struct flt_stats st;

	flt_stats_get(tbl, &st);
	return st.drop[reason];
}

/* Release what is ready and check it is fragment `which` of this datagram, for flow. */
static void
assert_released(uint64_t now, const unsigned *which, unsigned n, uint32_t flow)
{
	struct flt_held h[NFRAG + 1];
	unsigned got = flt_frag_release_burst(tbl, now, h, NFRAG + 1);

	assert_int_equal(got, n);
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(h[i].action, FLT_ACT_FLOW);
		assert_int_equal(h[i].flow, flow);
		assert_int_equal(h[i].len, flen[which[i]]);
		assert_memory_equal(h[i].frame, frag[which[i]], flen[which[i]]);
	}
}

static void
test_fragments_in_order_all_reach_the_flow(void **state)
{
	(void)state;
	make_frags(7000, 1);
	for (unsigned i = 0; i < NFRAG; i++)
		assert_flow(send_frag(i, T0), FLOW);
	assert_int_equal(flt_frag_held(tbl), 0);
}

static void
test_fragments_in_one_burst_reach_the_flow_in_either_order(void **state)
{
	const uint8_t *pkts[NFRAG];
	uint16_t lens[NFRAG];
	struct flt_verdict out[NFRAG];
	static const unsigned order[NFRAG] = {0, 2, 1, 3};
	static const unsigned later[] = {3};

	(void)state;
	make_frags(7000, 2);
	for (unsigned i = 0; i < NFRAG; i++) {
		pkts[i] = frag[order[i]];
		lens[i] = flen[order[i]];
	}
	flt_demux_burst(tbl, pkts, lens, NFRAG, T0, out);
	for (unsigned i = 0; i < NFRAG; i++)
		assert_flow(out[i], FLOW);

	/* Last fragment before the first in the same burst: held, then released. */
	make_frags(7000, 3);
	pkts[0] = frag[3];
	lens[0] = flen[3];
	pkts[1] = frag[0];
	lens[1] = flen[0];
	flt_demux_burst(tbl, pkts, lens, 2, T0, out);
	assert_int_equal(out[0].action, FLT_ACT_HELD);
	assert_flow(out[1], FLOW);
	assert_released(T0, later, 1, FLOW);
}

static void
test_first_fragment_last_releases_the_held_ones_in_arrival_order(void **state)
{
	static const unsigned arrived[] = {3, 1, 2};

	(void)state;
	make_frags(7000, 4);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(send_frag(arrived[i], T0 + i).action, FLT_ACT_HELD);
	assert_int_equal(flt_frag_held(tbl), 3);
	/* Nothing is ready before the first fragment. */
	assert_released(T0 + 5, NULL, 0, FLOW);
	assert_flow(send_frag(0, T0 + 10), FLOW);
	assert_released(T0 + 11, arrived, 3, FLOW);
	assert_int_equal(flt_frag_held(tbl), 0);
	/* The copies stay valid until the next call; the next call frees them. */
	assert_released(T0 + 12, NULL, 0, FLOW);
}

static void
test_middle_fragment_first_then_the_rest(void **state)
{
	static const unsigned mid[] = {1};

	(void)state;
	make_frags(7000, 5);
	assert_int_equal(send_frag(1, T0).action, FLT_ACT_HELD);
	assert_flow(send_frag(0, T0 + 1), FLOW);
	assert_flow(send_frag(2, T0 + 2), FLOW);
	assert_flow(send_frag(3, T0 + 3), FLOW);
	assert_released(T0 + 4, mid, 1, FLOW);
}

static void
test_duplicate_fragments_all_reach_the_flow(void **state)
{
	struct flt_stats st;

	(void)state;
	make_frags(7000, 6);
	assert_flow(send_frag(0, T0), FLOW);
	assert_flow(send_frag(0, T0), FLOW);
	assert_flow(send_frag(2, T0), FLOW);
	assert_flow(send_frag(2, T0), FLOW);
	assert_flow(send_frag(3, T0), FLOW);
	flt_stats_get(tbl, &st);
	assert_int_equal(st.frag_replaced, 0); /* a duplicate first is not a new datagram */
	assert_int_equal(st.rx_dropped, 0);
}

static void
test_held_fragment_times_out_and_is_counted(void **state)
{
	(void)state;
	make_frags(7000, 7);
	assert_int_equal(send_frag(2, T0).action, FLT_ACT_HELD);
	assert_released(T0 + 99 * MS, NULL, 0, FLOW);
	assert_int_equal(flt_frag_held(tbl), 1);
	assert_released(T0 + 100 * MS, NULL, 0, FLOW);
	assert_int_equal(flt_frag_held(tbl), 0);
	assert_int_equal(drops(FLT_DROP_FRAG_TIMEOUT), 1);
	/* The first fragment now arrives alone. */
	assert_flow(send_frag(0, T0 + 101 * MS), FLOW);
	assert_released(T0 + 102 * MS, NULL, 0, FLOW);
}

static void
test_remembered_first_fragment_expires(void **state)
{
	(void)state;
	make_frags(7000, 8);
	assert_flow(send_frag(0, T0), FLOW);
	assert_flow(send_frag(1, T0 + 999 * MS), FLOW);
	/* After frag_timeout_ns the datagram is forgotten: the next fragment waits. */
	assert_int_equal(send_frag(2, T0 + 1000 * MS).action, FLT_ACT_HELD);
	assert_released(T0 + 2000 * MS, NULL, 0, FLOW);
	assert_int_equal(drops(FLT_DROP_FRAG_TIMEOUT), 1);
}

static void
test_in_order_flow_drops_fragments_before_the_first(void **state)
{
	struct flt_stats st;

	(void)state;
	make_frags(7001, 9);
	assert_int_equal(send_frag(2, T0).action, FLT_ACT_HELD);
	assert_flow(send_frag(0, T0), FLOW_IO);
	assert_flow(send_frag(1, T0), FLOW_IO);
	assert_released(T0, NULL, 0, FLOW_IO);
	assert_int_equal(drops(FLT_DROP_FRAG_OUT_OF_ORDER), 1);
	assert_int_equal(flt_frag_held(tbl), 0);
	flt_stats_get(tbl, &st);
	assert_int_equal(st.rx_released, 0);
}

static void
test_table_without_hold_drops_early_fragments(void **state)
{
	(void)state;
	flt_table_destroy(tbl);
	tbl = make_table(0, FLT_CFG_F_NO_HOLD);
	make_frags(7000, 10);
	assert_drop(send_frag(3, T0), FLT_DROP_FRAG_NO_FIRST);
	assert_flow(send_frag(0, T0), FLOW);
	assert_flow(send_frag(1, T0), FLOW);
	assert_int_equal(drops(FLT_DROP_FRAG_NO_FIRST), 1);
}

static void
test_full_hold_pool_drops_and_counts(void **state)
{
	(void)state;
	/* Four slots: fill them with the later fragments of two datagrams. */
	make_frags(7000, 11);
	for (unsigned i = 1; i < NFRAG; i++)
		assert_int_equal(send_frag(i, T0).action, FLT_ACT_HELD);
	make_frags(7000, 12);
	assert_int_equal(send_frag(1, T0).action, FLT_ACT_HELD);
	assert_drop(send_frag(2, T0), FLT_DROP_FRAG_HOLD_FULL);
	assert_int_equal(drops(FLT_DROP_FRAG_HOLD_FULL), 1);
	/* Once they time out there is room again. */
	assert_int_equal(send_frag(3, T0 + 100 * MS).action, FLT_ACT_HELD);
	assert_int_equal(drops(FLT_DROP_FRAG_TIMEOUT), 4);
	assert_released(T0 + 200 * MS, NULL, 0, FLOW);
}

static void
test_fragment_larger_than_a_hold_slot_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.payload_len = 1400;
	len = pkt_build(whole, &s);
	assert_int_equal(pkt_fragment(whole, len, 704, frag, flen, NFRAG), 2);
	assert_drop(send_frag(1, T0), FLT_DROP_FRAG_HOLD_TOO_BIG);
}

static void
test_fragments_of_unclaimed_datagram_go_to_manager(void **state)
{
	struct flt_held h[2];

	(void)state;
	make_frags(9999, 13);
	assert_int_equal(send_frag(3, T0).action, FLT_ACT_HELD);
	assert_int_equal(send_frag(0, T0).action, FLT_ACT_MANAGER);
	assert_int_equal(send_frag(1, T0).action, FLT_ACT_MANAGER);
	assert_int_equal(flt_frag_release_burst(tbl, T0, h, 2), 1);
	assert_int_equal(h[0].action, FLT_ACT_MANAGER);
	assert_int_equal(h[0].flow, FLT_FLOW_NONE);
}

static void
test_first_fragment_too_short_for_ports_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.payload_len = 100;
	len = pkt_build(whole, &s);
	/* 8 bytes of payload in the first fragment hold the UDP header exactly: accepted. */
	pkt_fragment(whole, len, 8, frag, flen, NFRAG);
	assert_flow(send_frag(0, T0), FLOW);
	/* TCP needs 20: a first fragment of 16 bytes is tiny. */
	s.proto = IP4_PROTO_TCP;
	len = pkt_build(whole, &s);
	pkt_fragment(whole, len, 16, frag, flen, NFRAG);
	assert_drop(send_frag(0, T0), FLT_DROP_FRAG_TINY);
}

static void
test_tcp_fragment_at_offset_8_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.proto = IP4_PROTO_TCP;
	s.payload_len = 100;
	len = pkt_build(whole, &s);
	pkt_fragment(whole, len, 8, frag, flen, NFRAG);
	assert_drop(send_frag(1, T0), FLT_DROP_BAD_FRAG);
}

static void
test_fragment_past_65535_bytes_is_dropped(void **state)
{
	struct ip4_hdr *ih = (struct ip4_hdr *)(frag[1] + ETH_HDR_LEN);

	(void)state;
	make_frags(7000, 14);
	ih->frag_off = htons(IP4_OFF_MASK); /* 65528 + 96 bytes */
	pkt_fix_ip_csum(frag[1]);
	assert_drop(send_frag(1, T0), FLT_DROP_BAD_FRAG);
}

static void
test_new_datagram_with_reused_id_replaces_the_old_one(void **state)
{
	struct flt_stats st;

	(void)state;
	make_frags(7000, 15);
	assert_flow(send_frag(0, T0), FLOW);
	/* Same (source, destination, id, protocol), another flow: the id wrapped. */
	make_frags(7001, 15);
	assert_flow(send_frag(0, T0 + 1), FLOW_IO);
	assert_flow(send_frag(1, T0 + 2), FLOW_IO);
	flt_stats_get(tbl, &st);
	assert_int_equal(st.frag_replaced, 1);
	assert_int_equal(st.frag_first, 2);
	assert_int_equal(st.frag_later, 1);
}

static void
test_full_fragment_bucket_evicts_the_oldest(void **state)
{
	struct flt_stats st;

	(void)state;
	/* 16 entries, 4 buckets of 4: 40 datagrams must evict some live entries. */
	for (uint16_t id = 100; id < 140; id++) {
		make_frags(7000, id);
		assert_flow(send_frag(0, T0 + id), FLOW);
	}
	flt_stats_get(tbl, &st);
	assert_int_equal(st.frag_first, 40);
	assert_true(st.frag_evicted >= 24);
	/* The newest is remembered. */
	assert_flow(send_frag(1, T0 + 200), FLOW);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_fragments_in_order_all_reach_the_flow),
	    T(test_fragments_in_one_burst_reach_the_flow_in_either_order),
	    T(test_first_fragment_last_releases_the_held_ones_in_arrival_order),
	    T(test_middle_fragment_first_then_the_rest),
	    T(test_duplicate_fragments_all_reach_the_flow),
	    T(test_held_fragment_times_out_and_is_counted),
	    T(test_remembered_first_fragment_expires),
	    T(test_in_order_flow_drops_fragments_before_the_first),
	    T(test_table_without_hold_drops_early_fragments),
	    T(test_full_hold_pool_drops_and_counts),
	    T(test_fragment_larger_than_a_hold_slot_is_dropped),
	    T(test_fragments_of_unclaimed_datagram_go_to_manager),
	    T(test_first_fragment_too_short_for_ports_is_dropped),
	    T(test_tcp_fragment_at_offset_8_is_dropped),
	    T(test_fragment_past_65535_bytes_is_dropped),
	    T(test_new_datagram_with_reused_id_replaces_the_old_one),
	    T(test_full_fragment_bucket_evicts_the_oldest),
	};
	int rc;

	flt_test_eal_init("test_filters_frag");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
