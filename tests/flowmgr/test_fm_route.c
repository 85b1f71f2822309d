/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Routing table: connected and static routes, longest prefix match with
 * overlapping prefixes, the default route, deletion and its rules, and the
 * errors for bad prefixes and gateways.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "flowmgr/fm_route.h"

#define HIP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

static struct fm_routes *rt;

static int
setup(void **state)
{
	(void)state;
	rt = fm_routes_create(NULL);
	return rt ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	fm_routes_destroy(rt);
	rt = NULL;
	return 0;
}

static struct fm_nexthop
lookup(uint32_t dst)
{
	struct fm_nexthop nh = {0};

	assert_int_equal(fm_route_lookup(rt, dst, &nh), 0);
	return nh;
}

static void
test_create_limits(void **state)
{
	struct fm_routes_cfg cfg = {.max_routes = 65537};

	(void)state;
	errno = 0;
	assert_null(fm_routes_create(&cfg));
	assert_int_equal(errno, EINVAL);
	fm_routes_destroy(NULL);
	assert_int_equal(fm_route_mask(0), 0);
	assert_int_equal(fm_route_mask(24), 0xffffff00u);
	assert_int_equal(fm_route_mask(32), 0xffffffffu);
	assert_int_equal(fm_route_mask(40), 0xffffffffu);
}

static void
test_connected_route_is_on_link(void **state)
{
	struct fm_nexthop nh;
	uint32_t ifx = 99;

	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 1, HIP(10, 0, 0, 1), 24), 0);
	nh = lookup(HIP(10, 0, 0, 7));
	assert_int_equal(nh.ifindex, 1);
	assert_int_equal(nh.addr, HIP(10, 0, 0, 7));
	assert_int_equal(nh.src, HIP(10, 0, 0, 1));
	assert_int_equal(nh.route.dst, HIP(10, 0, 0, 0));
	assert_int_equal(nh.route.prefix_len, 24);
	assert_int_equal(nh.route.type, FM_ROUTE_CONNECTED);
	assert_int_equal(nh.route.gateway, 0);
	assert_int_equal(fm_route_lookup(rt, HIP(10, 0, 1, 7), &nh), -ENETUNREACH);
	assert_true(fm_route_is_local(rt, HIP(10, 0, 0, 1), &ifx));
	assert_int_equal(ifx, 1);
	assert_false(fm_route_is_local(rt, HIP(10, 0, 0, 2), NULL));
}

static void
test_connected_route_rejects_bad_addresses(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 0, 0, 24), -EINVAL);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(224, 0, 0, 1), 24), -EINVAL);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(240, 0, 0, 1), 8), -EINVAL);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(255, 255, 255, 255), 32), -EINVAL);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 33), -EINVAL);
	/* The network and broadcast addresses of the prefix. */
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 0), 24), -EINVAL);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 255), 24), -EINVAL);
	assert_int_equal(fm_route_count(rt), 0);
	/* ... which /31 and /32 do not have. */
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 0), 31), 0);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 9, 9, 9), 32), 0);
	assert_int_equal(fm_route_count(rt), 2);
}

static void
test_duplicate_prefix_is_eexist(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 1, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_connected(rt, 2, HIP(10, 0, 0, 9), 24), -EEXIST);
	assert_int_equal(
	    fm_route_add_static(rt, HIP(10, 0, 0, 0), 24, HIP(10, 0, 0, 254)), -EEXIST);
	/* Same address, other prefix length: a different route. */
	assert_int_equal(fm_route_add_connected(rt, 1, HIP(10, 0, 0, 1), 16), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(192, 168, 0, 0), 16, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 0), 16, HIP(10, 0, 0, 253)), -EEXIST);
	assert_int_equal(fm_route_count(rt), 3);
}

static void
test_static_route_via_gateway(void **state)
{
	struct fm_nexthop nh;

	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 3, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(192, 168, 0, 0), 16, HIP(10, 0, 0, 254)), 0);
	nh = lookup(HIP(192, 168, 5, 5));
	assert_int_equal(nh.ifindex, 3);
	assert_int_equal(nh.addr, HIP(10, 0, 0, 254));
	assert_int_equal(nh.src, HIP(10, 0, 0, 1));
	assert_int_equal(nh.route.type, FM_ROUTE_STATIC);
	assert_int_equal(nh.route.gateway, HIP(10, 0, 0, 254));
}

static void
test_static_route_errors(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 24), 0);
	/* Host bits set: refused, not normalised. */
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 5), 24, HIP(10, 0, 0, 254)), -EINVAL);
	assert_int_equal(fm_route_add_static(rt, HIP(0, 0, 0, 1), 0, HIP(10, 0, 0, 254)), -EINVAL);
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 0), 33, HIP(10, 0, 0, 254)), -EINVAL);
	assert_int_equal(fm_route_add_static(rt, HIP(192, 168, 0, 0), 24, 0), -EINVAL);
	/* Our own address is no gateway. */
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 0), 24, HIP(10, 0, 0, 1)), -EINVAL);
	/* Not on a connected network, nor reachable through a static route. */
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 0), 24, HIP(10, 0, 1, 1)), -ENETUNREACH);
	assert_int_equal(fm_route_add_static(rt, HIP(172, 16, 0, 0), 12, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(
	    fm_route_add_static(rt, HIP(192, 168, 0, 0), 24, HIP(172, 16, 0, 1)), -ENETUNREACH);
	assert_int_equal(fm_route_count(rt), 2);
}

static void
test_longest_prefix_wins_with_overlaps(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 1, HIP(10, 1, 2, 1), 24), 0);
	assert_int_equal(fm_route_add_connected(rt, 2, HIP(172, 16, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(10, 0, 0, 0), 8, HIP(172, 16, 0, 254)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(10, 1, 0, 0), 16, HIP(172, 16, 0, 253)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(10, 1, 2, 128), 25, HIP(10, 1, 2, 254)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(10, 1, 2, 200), 32, HIP(172, 16, 0, 9)), 0);

	assert_int_equal(lookup(HIP(10, 9, 9, 9)).addr, HIP(172, 16, 0, 254));
	assert_int_equal(lookup(HIP(10, 1, 9, 9)).addr, HIP(172, 16, 0, 253));
	assert_int_equal(lookup(HIP(10, 1, 2, 3)).addr, HIP(10, 1, 2, 3));
	assert_int_equal(lookup(HIP(10, 1, 2, 3)).ifindex, 1);
	assert_int_equal(lookup(HIP(10, 1, 2, 130)).addr, HIP(10, 1, 2, 254));
	assert_int_equal(lookup(HIP(10, 1, 2, 130)).ifindex, 1);
	assert_int_equal(lookup(HIP(10, 1, 2, 200)).addr, HIP(172, 16, 0, 9));
	assert_int_equal(lookup(HIP(10, 1, 2, 200)).ifindex, 2);
	assert_int_equal(lookup(HIP(10, 1, 2, 200)).src, HIP(172, 16, 0, 1));
	assert_int_equal(lookup(HIP(10, 1, 2, 201)).addr, HIP(10, 1, 2, 254));
}

static void
test_default_route_catches_the_rest(void **state)
{
	struct fm_nexthop nh;

	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_lookup(rt, HIP(8, 8, 8, 8), &nh), -ENETUNREACH);
	assert_int_equal(fm_route_add_static(rt, 0, 0, HIP(10, 0, 0, 254)), 0);
	nh = lookup(HIP(8, 8, 8, 8));
	assert_int_equal(nh.addr, HIP(10, 0, 0, 254));
	assert_int_equal(nh.route.prefix_len, 0);
	assert_int_equal(nh.src, HIP(10, 0, 0, 1));
	/* The connected network still goes direct. */
	assert_int_equal(lookup(HIP(10, 0, 0, 9)).addr, HIP(10, 0, 0, 9));
	assert_int_equal(lookup(0xffffffffu).addr, HIP(10, 0, 0, 254));
	assert_int_equal(fm_route_del(rt, 0, 0), 0);
	assert_int_equal(fm_route_lookup(rt, HIP(8, 8, 8, 8), &nh), -ENETUNREACH);
}

static void
test_delete_falls_back_to_shorter_prefix(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, 0, 0, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(192, 168, 1, 0), 24, HIP(10, 0, 0, 253)), 0);
	assert_int_equal(lookup(HIP(192, 168, 1, 1)).addr, HIP(10, 0, 0, 253));
	assert_int_equal(fm_route_del(rt, HIP(192, 168, 1, 0), 24), 0);
	assert_int_equal(lookup(HIP(192, 168, 1, 1)).addr, HIP(10, 0, 0, 254));
	assert_int_equal(fm_route_del(rt, HIP(192, 168, 1, 0), 24), -ENOENT);
	assert_int_equal(fm_route_del(rt, HIP(192, 168, 1, 0), 23), -ENOENT);
	assert_int_equal(fm_route_del(rt, HIP(192, 168, 1, 0), 40), -EINVAL);
	assert_int_equal(fm_route_count(rt), 2);
}

static void
test_connected_route_with_dependants_is_busy(void **state)
{
	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, 0, 0, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(fm_route_del(rt, HIP(10, 0, 0, 0), 24), -EBUSY);
	assert_int_equal(fm_route_count(rt), 2);
	assert_int_equal(fm_route_del(rt, 0, 0), 0);
	assert_int_equal(fm_route_del(rt, HIP(10, 0, 0, 0), 24), 0);
	assert_int_equal(fm_route_count(rt), 0);
}

static void
test_del_ifindex_removes_its_routes(void **state)
{
	struct fm_nexthop nh;

	(void)state;
	assert_int_equal(fm_route_add_connected(rt, 1, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_connected(rt, 2, HIP(10, 0, 1, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, 0, 0, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(192, 168, 0, 0), 16, HIP(10, 0, 1, 254)), 0);
	assert_int_equal(fm_route_del_ifindex(rt, 1), 2);
	assert_int_equal(fm_route_count(rt), 2);
	assert_int_equal(fm_route_lookup(rt, HIP(8, 8, 8, 8), &nh), -ENETUNREACH);
	assert_int_equal(lookup(HIP(192, 168, 3, 3)).ifindex, 2);
	assert_int_equal(fm_route_del_ifindex(rt, 1), 0);
	assert_int_equal(fm_route_del_ifindex(rt, 2), 2);
	assert_int_equal(fm_route_count(rt), 0);
}

static void
test_list_is_longest_prefix_first(void **state)
{
	struct fm_route r[8];

	(void)state;
	assert_int_equal(fm_route_list(rt, r, 8), 0);
	assert_int_equal(fm_route_add_connected(rt, 0, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(rt, 0, 0, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(10, 0, 0, 64), 26, HIP(10, 0, 0, 2)), 0);
	assert_int_equal(fm_route_add_static(rt, HIP(9, 0, 0, 0), 26, HIP(10, 0, 0, 2)), 0);
	assert_int_equal(fm_route_list(rt, r, 8), 4);
	assert_int_equal(r[0].dst, HIP(9, 0, 0, 0));
	assert_int_equal(r[1].dst, HIP(10, 0, 0, 64));
	assert_int_equal(r[2].prefix_len, 24);
	assert_int_equal(r[3].prefix_len, 0);
	assert_int_equal(fm_route_list(rt, r, 2), 2);
	assert_int_equal(r[1].dst, HIP(10, 0, 0, 64));
}

static void
test_full_table_is_enospc(void **state)
{
	struct fm_routes_cfg cfg = {.max_routes = 2};
	struct fm_routes *t = fm_routes_create(&cfg);

	(void)state;
	assert_non_null(t);
	assert_int_equal(fm_route_add_connected(t, 0, HIP(10, 0, 0, 1), 24), 0);
	assert_int_equal(fm_route_add_static(t, 0, 0, HIP(10, 0, 0, 254)), 0);
	assert_int_equal(fm_route_add_static(t, HIP(1, 0, 0, 0), 8, HIP(10, 0, 0, 254)), -ENOSPC);
	assert_int_equal(fm_route_add_connected(t, 1, HIP(10, 0, 1, 1), 24), -ENOSPC);
	/* A duplicate is still a duplicate when full. */
	assert_int_equal(fm_route_add_static(t, 0, 0, HIP(10, 0, 0, 253)), -EEXIST);
	assert_int_equal(fm_route_count(t), 2);
	fm_routes_destroy(t);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_limits),
	    T(test_connected_route_is_on_link),
	    T(test_connected_route_rejects_bad_addresses),
	    T(test_duplicate_prefix_is_eexist),
	    T(test_static_route_via_gateway),
	    T(test_static_route_errors),
	    T(test_longest_prefix_wins_with_overlaps),
	    T(test_default_route_catches_the_rest),
	    T(test_delete_falls_back_to_shorter_prefix),
	    T(test_connected_route_with_dependants_is_busy),
	    T(test_del_ifindex_removes_its_routes),
	    T(test_list_is_longest_prefix_first),
	    cmocka_unit_test(test_full_table_is_enospc),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
