/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Port table: explicit grants and clashes (who holds it), wildcard against
 * specific addresses, privileged ports, ephemeral exhaustion and reuse, and
 * the table's limits.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/wire/ip4.h"
#include "flowmgr/fm_ports.h"

#define HIP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define A1		HIP(10, 0, 0, 1)
#define A2		HIP(10, 0, 0, 2)
#define TCP		IP4_PROTO_TCP
#define UDP		IP4_PROTO_UDP

static struct fm_ports *pt;

static int
setup(void **state)
{
	struct fm_ports_cfg cfg = {.seed = 42};

	(void)state;
	pt = fm_ports_create(&cfg);
	return pt ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	fm_ports_destroy(pt);
	pt = NULL;
	return 0;
}

static int
take(uint8_t proto, uint32_t addr, uint16_t port, uint32_t flow)
{
	return fm_port_alloc(pt, proto, addr, &port, flow, 0, NULL);
}

static void
test_create_rejects_bad_config(void **state)
{
	struct fm_ports_cfg bad[] = {
	    {.eph_lo = 1023},
	    {.eph_lo = 60000, .eph_hi = 50000},
	    {.max_addrs = 257},
	    {.max_ports = (1u << 24) + 1},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(fm_ports_create(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	fm_ports_destroy(NULL);
}

static void
test_explicit_port_clash_names_holder(void **state)
{
	struct fm_port_info clash = {0};
	uint16_t port = 7000;
	uint32_t flow = 0;

	(void)state;
	assert_int_equal(fm_port_alloc(pt, UDP, A1, &port, 11, 0, NULL), 0);
	assert_int_equal(port, 7000);
	assert_int_equal(fm_port_alloc(pt, UDP, A1, &port, 12, 0, &clash), -EADDRINUSE);
	assert_int_equal(clash.flow, 11);
	assert_int_equal(clash.proto, UDP);
	assert_int_equal(clash.addr, A1);
	assert_int_equal(clash.port, 7000);
	assert_int_equal(fm_ports_count(pt), 1);
	assert_int_equal(fm_port_holder(pt, UDP, A1, 7000, &flow), 0);
	assert_int_equal(flow, 11);
	/* Other protocol, other address: no clash. */
	assert_int_equal(take(TCP, A1, 7000, 13), 0);
	assert_int_equal(take(UDP, A2, 7000, 14), 0);
	assert_int_equal(fm_ports_count(pt), 3);
}

static void
test_wildcard_clashes_with_specific_both_ways(void **state)
{
	struct fm_port_info clash = {0};
	uint16_t port = 8000;

	(void)state;
	/* Wildcard held: every specific address clashes with it. */
	assert_int_equal(take(TCP, 0, 8000, 1), 0);
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 2, 0, &clash), -EADDRINUSE);
	assert_int_equal(clash.flow, 1);
	assert_int_equal(clash.addr, 0);
	assert_int_equal(take(TCP, A2, 8000, 2), -EADDRINUSE);
	assert_int_equal(take(TCP, 0, 8000, 2), -EADDRINUSE);
	assert_int_equal(take(UDP, A1, 8000, 2), 0);

	/* Specific held: the wildcard clashes with it. */
	assert_int_equal(take(TCP, A2, 8001, 3), 0);
	port = 8001;
	assert_int_equal(fm_port_alloc(pt, TCP, 0, &port, 4, 0, &clash), -EADDRINUSE);
	assert_int_equal(clash.flow, 3);
	assert_int_equal(clash.addr, A2);
	assert_int_equal(take(TCP, A1, 8001, 5), 0);

	/* Free the wildcard: the specific address may have the port. */
	assert_int_equal(fm_port_free(pt, TCP, 0, 8000, 1), 0);
	assert_int_equal(take(TCP, A1, 8000, 6), 0);
}

static void
test_privileged_port_needs_permission(void **state)
{
	struct fm_port_info clash = {.flow = 777};
	uint16_t port = 80;

	(void)state;
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 1, 0, NULL), -EACCES);
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 1, FM_PORT_F_PRIVILEGED, NULL), 0);
	/* Refused before the clash check: the holder is not revealed. */
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 2, 0, &clash), -EACCES);
	assert_int_equal(clash.flow, 777);
	assert_int_equal(
	    fm_port_alloc(pt, TCP, A1, &port, 2, FM_PORT_F_PRIVILEGED, &clash), -EADDRINUSE);
	assert_int_equal(clash.flow, 1);
	port = 1023;
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 3, 0, NULL), -EACCES);
	port = 1024;
	assert_int_equal(fm_port_alloc(pt, TCP, A1, &port, 3, 0, NULL), 0);
	port = 1;
	assert_int_equal(fm_port_alloc(pt, UDP, 0, &port, 4, 0, NULL), -EACCES);
	assert_int_equal(fm_ports_count(pt), 2);
}

static void
test_bad_protocol_is_einval(void **state)
{
	uint16_t port = 5000;

	(void)state;
	assert_int_equal(fm_port_alloc(pt, IP4_PROTO_ICMP, A1, &port, 1, 0, NULL), -EINVAL);
	assert_int_equal(fm_port_alloc(pt, 0, A1, &port, 1, 0, NULL), -EINVAL);
	assert_int_equal(fm_ports_count(pt), 0);
}

static void
test_free_checks_holder(void **state)
{
	(void)state;
	assert_int_equal(take(UDP, A1, 6000, 9), 0);
	assert_int_equal(fm_port_free(pt, UDP, A1, 6000, 8), -EPERM);
	assert_int_equal(fm_port_free(pt, UDP, A1, 6001, 9), -ENOENT);
	assert_int_equal(fm_port_free(pt, UDP, 0, 6000, 9), -ENOENT);
	assert_int_equal(fm_port_free(pt, TCP, A1, 6000, 9), -ENOENT);
	assert_int_equal(fm_port_free(pt, UDP, A1, 6000, 9), 0);
	assert_int_equal(fm_port_free(pt, UDP, A1, 6000, 9), -ENOENT);
	assert_int_equal(fm_ports_count(pt), 0);
	/* Released: granted again at once, to anyone. */
	assert_int_equal(take(UDP, A1, 6000, 10), 0);
}

/* Exhaust a range [lo, hi]: every port once, then -EADDRNOTAVAIL. */
static void
exhaust(struct fm_ports *t, uint8_t proto, uint32_t addr, unsigned lo, unsigned hi)
{
	static uint8_t seen[65536];
	uint16_t port = 0;

	memset(seen, 0, sizeof(seen));
	for (unsigned i = lo; i <= hi; i++) {
		port = 0;
		assert_int_equal(fm_port_alloc(t, proto, addr, &port, 100 + i, 0, NULL), 0);
		assert_in_range(port, lo, hi);
		assert_int_equal(seen[port], 0);
		seen[port] = 1;
	}
	port = 0;
	assert_int_equal(fm_port_alloc(t, proto, addr, &port, 1, 0, NULL), -EADDRNOTAVAIL);
	assert_int_equal(port, 0);
}

static void
test_ephemeral_exhaustion_and_reuse(void **state)
{
	struct fm_ports_cfg cfg = {.eph_lo = 50000, .eph_hi = 50007, .seed = 7};
	struct fm_ports *t = fm_ports_create(&cfg);
	uint16_t port = 0;
	uint32_t flow = 0;

	(void)state;
	assert_non_null(t);
	exhaust(t, UDP, A1, 50000, 50007);
	assert_int_equal(fm_ports_count(t), 8);
	/* Another address and the other protocol have their own ranges. */
	port = 0;
	assert_int_equal(fm_port_alloc(t, UDP, A2, &port, 1, 0, NULL), 0);
	port = 0;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 1, 0, NULL), 0);
	/* ... but not the wildcard, which clashes with A1's full range. */
	port = 0;
	assert_int_equal(fm_port_alloc(t, UDP, 0, &port, 1, 0, NULL), -EADDRNOTAVAIL);
	/* Free one: it is the one given next. */
	assert_int_equal(fm_port_holder(t, UDP, A1, 50005, &flow), 0);
	assert_int_equal(fm_port_free(t, UDP, A1, 50005, flow), 0);
	port = 0;
	assert_int_equal(fm_port_alloc(t, UDP, A1, &port, 2, 0, NULL), 0);
	assert_int_equal(port, 50005);
	fm_ports_destroy(t);
}

static void
test_ephemeral_avoids_wildcard_and_specific_holders(void **state)
{
	struct fm_ports_cfg cfg = {.eph_lo = 40000, .eph_hi = 40003, .seed = 3};
	struct fm_ports *t = fm_ports_create(&cfg);
	uint16_t port;

	(void)state;
	assert_non_null(t);
	/* 40000 on the wildcard, 40001 on A1, 40002 on A2. */
	port = 40000;
	assert_int_equal(fm_port_alloc(t, TCP, 0, &port, 1, 0, NULL), 0);
	port = 40001;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 2, 0, NULL), 0);
	port = 40002;
	assert_int_equal(fm_port_alloc(t, TCP, A2, &port, 3, 0, NULL), 0);
	/* A1 may have 40002 or 40003; the wildcard only 40003. */
	port = 0;
	assert_int_equal(fm_port_alloc(t, TCP, 0, &port, 4, 0, NULL), 0);
	assert_int_equal(port, 40003);
	port = 0;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 5, 0, NULL), 0);
	assert_int_equal(port, 40002);
	port = 0;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 6, 0, NULL), -EADDRNOTAVAIL);
	fm_ports_destroy(t);
}

static void
test_ephemeral_ranges_across_word_edges(void **state)
{
	unsigned ranges[][2] = {
	    {1100, 1300}, {65530, 65535}, {2000, 2000}, {1024, 1087}, {4095, 4097}};

	(void)state;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		struct fm_ports_cfg cfg = {.eph_lo = (uint16_t)ranges[i][0],
		    .eph_hi = (uint16_t)ranges[i][1],
		    .seed = 99 + i};
		struct fm_ports *t = fm_ports_create(&cfg);

		assert_non_null(t);
		exhaust(t, TCP, A1, ranges[i][0], ranges[i][1]);
		fm_ports_destroy(t);
	}
}

static void
test_ephemeral_start_point_moves(void **state)
{
	uint16_t first = 0, port;
	int different = 0;

	(void)state;
	for (int i = 0; i < 16; i++) {
		port = 0;
		assert_int_equal(fm_port_alloc(pt, UDP, A1, &port, 1, 0, NULL), 0);
		assert_in_range(port, 49152, 65535);
		if (i == 0)
			first = port;
		else if (port != first)
			different = 1;
		assert_int_equal(fm_port_free(pt, UDP, A1, port, 1), 0);
	}
	assert_true(different);
}

static void
test_limits_are_enospc_and_change_nothing(void **state)
{
	struct fm_ports_cfg cfg = {.max_ports = 3, .max_addrs = 2, .seed = 5};
	struct fm_ports *t = fm_ports_create(&cfg);
	uint16_t port;

	(void)state;
	assert_non_null(t);
	port = 2000;
	assert_int_equal(fm_port_alloc(t, UDP, A1, &port, 1, 0, NULL), 0);
	port = 2000;
	assert_int_equal(fm_port_alloc(t, UDP, A2, &port, 2, 0, NULL), 0);
	/* A third (proto, addr) pair: no bitmap left. */
	port = 2000;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 3, 0, NULL), -ENOSPC);
	port = 2001;
	assert_int_equal(fm_port_alloc(t, UDP, A1, &port, 3, 0, NULL), 0);
	/* Three ports held: the table is full. */
	port = 2002;
	assert_int_equal(fm_port_alloc(t, UDP, A1, &port, 4, 0, NULL), -ENOSPC);
	assert_int_equal(fm_ports_count(t), 3);
	/* Freeing A2's only port frees its bitmap for another pair. */
	assert_int_equal(fm_port_free(t, UDP, A2, 2000, 2), 0);
	port = 2000;
	assert_int_equal(fm_port_alloc(t, TCP, A1, &port, 3, 0, NULL), 0);
	fm_ports_destroy(t);
}

struct seen {
	unsigned n;
	uint32_t flows;
};

static int
visit(const struct fm_port_info *info, void *arg)
{
	struct seen *s = arg;

	s->n++;
	s->flows |= 1u << info->flow;
	if (info->flow == 2) {
		assert_int_equal(info->proto, TCP);
		assert_int_equal(info->addr, 0);
		assert_int_equal(info->port, 9001);
	}
	return 0;
}

static int
visit_stop(const struct fm_port_info *info, void *arg)
{
	(void)info;
	++*(unsigned *)arg;
	return 5;
}

static void
test_foreach_visits_every_holder(void **state)
{
	struct seen s = {0};
	unsigned calls = 0;

	(void)state;
	assert_int_equal(fm_port_foreach(pt, visit, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(take(UDP, A1, 9000, 1), 0);
	assert_int_equal(take(TCP, 0, 9001, 2), 0);
	assert_int_equal(take(TCP, A2, 9002, 3), 0);
	assert_int_equal(fm_port_foreach(pt, visit, &s), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.flows, 0xe);
	assert_int_equal(fm_port_foreach(pt, visit_stop, &calls), 5);
	assert_int_equal(calls, 1);
}

/* Many grants and frees in a random order keep the hash and bitmaps in step. */
static void
test_churn_keeps_table_consistent(void **state)
{
	static uint32_t holder[65536];
	uint64_t x = 12345;
	unsigned held = 0;

	(void)state;
	memset(holder, 0, sizeof(holder));
	for (int i = 0; i < 200000; i++) {
		uint16_t port;
		uint32_t flow;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		port = (uint16_t)(2000 + x % 3000);
		if (holder[port]) {
			assert_int_equal(fm_port_free(pt, UDP, A1, port, holder[port]), 0);
			holder[port] = 0;
			held--;
		} else {
			flow = (uint32_t)i + 1;
			assert_int_equal(fm_port_alloc(pt, UDP, A1, &port, flow, 0, NULL), 0);
			holder[port] = flow;
			held++;
		}
		assert_int_equal(fm_ports_count(pt), held);
	}
	for (unsigned p = 2000; p < 5000; p++) {
		uint32_t flow;

		if (holder[p]) {
			assert_int_equal(fm_port_holder(pt, UDP, A1, (uint16_t)p, &flow), 0);
			assert_int_equal(flow, holder[p]);
		} else {
			assert_int_equal(fm_port_holder(pt, UDP, A1, (uint16_t)p, &flow), -ENOENT);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_rejects_bad_config),
	    cmocka_unit_test_setup_teardown(test_explicit_port_clash_names_holder, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_wildcard_clashes_with_specific_both_ways, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_privileged_port_needs_permission, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_protocol_is_einval, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_free_checks_holder, setup, teardown),
	    cmocka_unit_test(test_ephemeral_exhaustion_and_reuse),
	    cmocka_unit_test(test_ephemeral_avoids_wildcard_and_specific_holders),
	    cmocka_unit_test(test_ephemeral_ranges_across_word_edges),
	    cmocka_unit_test_setup_teardown(test_ephemeral_start_point_moves, setup, teardown),
	    cmocka_unit_test(test_limits_are_enospc_and_change_nothing),
	    cmocka_unit_test_setup_teardown(test_foreach_visits_every_holder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_churn_keeps_table_consistent, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
