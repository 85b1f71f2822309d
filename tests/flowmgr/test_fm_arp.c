/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP cache on simulated time: resolution with retries and failure, refresh
 * of entries in use, expiry of unused ones, MAC change detection, static
 * entries, a full cache, and the listing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "flowmgr/fm_arp.h"

#define HIP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define S		1000000000ull
#define MS		1000000ull
#define T0		(100 * S) /* simulated clock start */
#define GW		HIP(10, 0, 0, 254)
#define PEER		HIP(10, 0, 0, 2)

static const uint8_t mac1[6] = {0x02, 0, 0, 0, 0, 0x11};
static const uint8_t mac2[6] = {0x02, 0, 0, 0, 0, 0x22};
static struct fm_arp *a;

/* Defaults: reachable 30 s, retry 1 s x 3, failed 5 s. */
static int
setup(void **state)
{
	struct fm_arp_cfg cfg = {.seed = 1};

	(void)state;
	a = fm_arp_create(&cfg);
	return a ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	fm_arp_destroy(a);
	a = NULL;
	return 0;
}

/* Tick at now and expect exactly one event of kind for ip. */
static struct fm_arp_event
tick_one(uint64_t now, uint8_t kind, uint32_t ip)
{
	struct fm_arp_event ev[4];

	memset(ev, 0, sizeof(ev));
	assert_int_equal(fm_arp_tick(a, now, ev, 4), 1);
	assert_int_equal(ev[0].kind, kind);
	assert_int_equal(ev[0].ip, ip);
	return ev[0];
}

static void
tick_none(uint64_t now)
{
	struct fm_arp_event ev[4];

	assert_int_equal(fm_arp_tick(a, now, ev, 4), 0);
}

static uint8_t
state_of(uint32_t ip)
{
	struct fm_arp_info info;

	if (fm_arp_get(a, ip, T0, &info) != 0)
		return FM_ARP_NONE;
	return info.state;
}

/* Resolve ip to mac at now: lookup, request, reply. */
static void
resolve(uint32_t ip, const uint8_t *mac, uint64_t now)
{
	uint8_t got[6];

	assert_int_equal(fm_arp_lookup(a, ip, now, got), -EAGAIN);
	tick_one(now, FM_ARP_EV_REQUEST, ip);
	assert_int_equal(fm_arp_input(a, ip, mac, now, 0), FM_ARP_UPD_RESOLVED);
}

static void
test_create_rejects_bad_config(void **state)
{
	struct fm_arp_cfg bad[] = {
	    {.reachable_ns = 3 * S, .retry_ns = S, .retries = 3},
	    {.retries = 256, .reachable_ns = 1000 * S},
	    {.max_entries = 65537},
	    {.reachable_ns = UINT64_MAX},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_null(fm_arp_create(&bad[i]));
		assert_int_equal(errno, EINVAL);
	}
	fm_arp_destroy(NULL);
}

static void
test_resolve_request_then_reply(void **state)
{
	uint8_t got[6] = {0};
	struct fm_arp_event ev;
	struct fm_arp_stats st;

	(void)state;
	assert_int_equal(fm_arp_next_due(a), UINT64_MAX);
	assert_int_equal(fm_arp_lookup(a, GW, T0, got), -EAGAIN);
	assert_int_equal(state_of(GW), FM_ARP_INCOMPLETE);
	assert_int_equal(fm_arp_next_due(a), T0);
	ev = tick_one(T0, FM_ARP_EV_REQUEST, GW);
	assert_memory_equal(ev.mac, "\0\0\0\0\0\0", 6);
	/* A second lookup while pending: no second entry, no new request. */
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 10 * MS, got), -EAGAIN);
	assert_int_equal(fm_arp_count(a), 1);
	tick_none(T0 + 10 * MS);
	assert_int_equal(fm_arp_next_due(a), T0 + S);

	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + 20 * MS, 0), FM_ARP_UPD_RESOLVED);
	assert_int_equal(state_of(GW), FM_ARP_REACHABLE);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 30 * MS, got), 0);
	assert_memory_equal(got, mac1, 6);
	/* Refresh point: reachable 30 s less 3 probes of 1 s. */
	assert_int_equal(fm_arp_next_due(a), T0 + 20 * MS + 27 * S);
	fm_arp_stats_get(a, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.resolved, 1);
	assert_int_equal(st.created, 1);
}

static void
test_unanswered_requests_fail_then_expire(void **state)
{
	uint8_t got[6];
	struct fm_arp_stats st;

	(void)state;
	assert_int_equal(fm_arp_lookup(a, GW, T0, got), -EAGAIN);
	tick_one(T0, FM_ARP_EV_REQUEST, GW);
	tick_none(T0 + S - 1);
	tick_one(T0 + S, FM_ARP_EV_REQUEST, GW);
	tick_one(T0 + 2 * S, FM_ARP_EV_REQUEST, GW);
	tick_none(T0 + 3 * S - 1);
	tick_one(T0 + 3 * S, FM_ARP_EV_FAILED, GW);
	assert_int_equal(state_of(GW), FM_ARP_FAILED);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 4 * S, got), -EHOSTUNREACH);
	/* Unreferenced: dropped failed_ns (5 s) after it failed. */
	tick_none(T0 + 8 * S - 1);
	tick_one(T0 + 8 * S, FM_ARP_EV_EXPIRED, GW);
	assert_int_equal(fm_arp_count(a), 0);
	assert_int_equal(fm_arp_next_due(a), UINT64_MAX);
	/* A later lookup starts afresh. */
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 9 * S, got), -EAGAIN);
	tick_one(T0 + 9 * S, FM_ARP_EV_REQUEST, GW);
	fm_arp_stats_get(a, &st);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.expired, 1);
}

static void
test_referenced_failed_entry_is_retried(void **state)
{
	uint8_t got[6];

	(void)state;
	assert_int_equal(fm_arp_lookup(a, GW, T0, got), -EAGAIN);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	for (int i = 0; i < 3; i++)
		tick_one(T0 + (uint64_t)i * S, FM_ARP_EV_REQUEST, GW);
	tick_one(T0 + 3 * S, FM_ARP_EV_FAILED, GW);
	tick_one(T0 + 8 * S, FM_ARP_EV_REQUEST, GW);
	assert_int_equal(state_of(GW), FM_ARP_INCOMPLETE);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 8 * S, got), -EAGAIN);
	/* The gateway is back. */
	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + 8 * S + MS, 0), FM_ARP_UPD_RESOLVED);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 9 * S, got), 0);
	assert_int_equal(fm_arp_unref(a, GW), 0);
}

static void
test_entry_in_use_is_refreshed_by_unicast(void **state)
{
	uint8_t got[6];
	struct fm_arp_event ev;

	(void)state;
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	tick_none(T0 + 27 * S - 1);
	ev = tick_one(T0 + 27 * S, FM_ARP_EV_PROBE, GW);
	assert_memory_equal(ev.mac, mac1, 6);
	assert_int_equal(state_of(GW), FM_ARP_STALE);
	/* Still usable while refreshing. */
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 27 * S, got), 0);
	assert_memory_equal(got, mac1, 6);
	tick_one(T0 + 28 * S, FM_ARP_EV_PROBE, GW);
	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + 28 * S + 5 * MS, 0), FM_ARP_UPD_CONFIRMED);
	assert_int_equal(state_of(GW), FM_ARP_REACHABLE);
	tick_none(T0 + 30 * S);
	assert_int_equal(fm_arp_next_due(a), T0 + 28 * S + 5 * MS + 27 * S);
}

static void
test_unanswered_refresh_fails_at_expiry(void **state)
{
	struct fm_arp_event ev;
	uint8_t got[6];

	(void)state;
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	tick_one(T0 + 27 * S, FM_ARP_EV_PROBE, GW);
	tick_one(T0 + 28 * S, FM_ARP_EV_PROBE, GW);
	tick_one(T0 + 29 * S, FM_ARP_EV_PROBE, GW);
	tick_none(T0 + 30 * S - 1);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 30 * S - 1, got), 0);
	ev = tick_one(T0 + 30 * S, FM_ARP_EV_FAILED, GW);
	assert_memory_equal(ev.mac, mac1, 6);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 30 * S, got), -EHOSTUNREACH);
}

static void
test_looked_up_entry_is_refreshed_unused_one_expires(void **state)
{
	uint8_t got[6];

	(void)state;
	resolve(GW, mac1, T0);
	resolve(PEER, mac2, T0);
	/* GW is looked up after its confirmation, PEER never. */
	assert_int_equal(fm_arp_lookup(a, GW, T0 + S, got), 0);
	tick_one(T0 + 27 * S, FM_ARP_EV_PROBE, GW);
	assert_int_equal(state_of(PEER), FM_ARP_REACHABLE);
	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + 27 * S + MS, 0), FM_ARP_UPD_CONFIRMED);
	tick_one(T0 + 30 * S, FM_ARP_EV_EXPIRED, PEER);
	assert_int_equal(fm_arp_count(a), 1);
	/* GW, confirmed at 27 s and not used since, expires at 57 s. */
	tick_none(T0 + 57 * S);
	tick_one(T0 + 57 * S + MS, FM_ARP_EV_EXPIRED, GW);
	assert_int_equal(fm_arp_count(a), 0);
}

static void
test_mac_change_is_reported(void **state)
{
	uint8_t got[6];
	struct fm_arp_stats st;

	(void)state;
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + S, 0), FM_ARP_UPD_CONFIRMED);
	assert_int_equal(fm_arp_input(a, GW, mac2, T0 + 2 * S, 0), FM_ARP_UPD_CHANGED);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 2 * S, got), 0);
	assert_memory_equal(got, mac2, 6);
	/* A change during a refresh is a change too. */
	assert_int_equal(fm_arp_ref(a, GW), 0);
	tick_one(T0 + 29 * S, FM_ARP_EV_PROBE, GW);
	assert_int_equal(fm_arp_input(a, GW, mac1, T0 + 29 * S, 0), FM_ARP_UPD_CHANGED);
	fm_arp_stats_get(a, &st);
	assert_int_equal(st.changed, 2);
	assert_int_equal(st.confirmed, 1);
}

static void
test_input_creates_only_when_for_us(void **state)
{
	uint8_t got[6];

	(void)state;
	assert_int_equal(fm_arp_input(a, PEER, mac1, T0, 0), FM_ARP_UPD_IGNORED);
	assert_int_equal(fm_arp_count(a), 0);
	assert_int_equal(fm_arp_input(a, PEER, mac1, T0, FM_ARP_IN_F_FOR_US), FM_ARP_UPD_CREATED);
	assert_int_equal(fm_arp_lookup(a, PEER, T0, got), 0);
	assert_memory_equal(got, mac1, 6);
	assert_int_equal(fm_arp_input(a, PEER, mac1, T0, FM_ARP_IN_F_FOR_US), FM_ARP_UPD_CONFIRMED);
}

static void
test_bad_addresses_are_einval(void **state)
{
	static const uint8_t group[6] = {0x01, 0, 0x5e, 0, 0, 1};
	static const uint8_t zero[6];
	uint8_t got[6];

	(void)state;
	assert_int_equal(fm_arp_lookup(a, 0, T0, got), -EINVAL);
	assert_int_equal(fm_arp_lookup(a, HIP(224, 0, 0, 1), T0, got), -EINVAL);
	assert_int_equal(fm_arp_lookup(a, 0xffffffffu, T0, got), -EINVAL);
	assert_int_equal(fm_arp_input(a, PEER, group, T0, FM_ARP_IN_F_FOR_US), -EINVAL);
	assert_int_equal(fm_arp_input(a, PEER, zero, T0, FM_ARP_IN_F_FOR_US), -EINVAL);
	assert_int_equal(fm_arp_input(a, 0, mac1, T0, FM_ARP_IN_F_FOR_US), -EINVAL);
	assert_int_equal(fm_arp_set_static(a, HIP(240, 0, 0, 1), mac1, T0), -EINVAL);
	assert_int_equal(fm_arp_count(a), 0);
	assert_int_equal(fm_arp_ref(a, PEER), -ENOENT);
	assert_int_equal(fm_arp_unref(a, PEER), -ENOENT);
	assert_int_equal(fm_arp_del(a, PEER, T0), -ENOENT);
	resolve(PEER, mac1, T0);
	assert_int_equal(fm_arp_unref(a, PEER), -EINVAL);
}

static void
test_static_entry_never_ages_and_ignores_input(void **state)
{
	uint8_t got[6];
	struct fm_arp_info info;

	(void)state;
	assert_int_equal(fm_arp_set_static(a, GW, mac1, T0), FM_ARP_UPD_CREATED);
	assert_int_equal(fm_arp_input(a, GW, mac2, T0 + S, 0), FM_ARP_UPD_IGNORED);
	assert_int_equal(fm_arp_next_due(a), UINT64_MAX);
	tick_none(T0 + 1000 * S);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + 1000 * S, got), 0);
	assert_memory_equal(got, mac1, 6);
	assert_int_equal(fm_arp_get(a, GW, T0 + 1000 * S, &info), 0);
	assert_int_equal(info.state, FM_ARP_STATIC);
	assert_int_equal(info.age_ns, 1000 * S);
	/* Replacing it with another MAC is a change. */
	assert_int_equal(fm_arp_set_static(a, GW, mac2, T0), FM_ARP_UPD_CHANGED);
	/* A learnt entry made static while resolving is resolved. */
	assert_int_equal(fm_arp_lookup(a, PEER, T0, got), -EAGAIN);
	assert_int_equal(fm_arp_set_static(a, PEER, mac1, T0), FM_ARP_UPD_RESOLVED);
	tick_none(T0);
}

static void
test_del_removes_or_restarts(void **state)
{
	uint8_t got[6];

	(void)state;
	resolve(PEER, mac1, T0);
	assert_int_equal(fm_arp_del(a, PEER, T0 + S), 0);
	assert_int_equal(fm_arp_count(a), 0);
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	assert_int_equal(fm_arp_del(a, GW, T0 + S), 0);
	assert_int_equal(state_of(GW), FM_ARP_INCOMPLETE);
	assert_int_equal(fm_arp_lookup(a, GW, T0 + S, got), -EAGAIN);
	tick_one(T0 + S, FM_ARP_EV_REQUEST, GW);
	assert_int_equal(fm_arp_input(a, GW, mac2, T0 + S, 0), FM_ARP_UPD_RESOLVED);
}

static void
test_full_cache_evicts_lru_or_refuses(void **state)
{
	struct fm_arp_cfg cfg = {.max_entries = 4, .seed = 9};
	struct fm_arp_stats st;
	uint8_t got[6];

	(void)state;
	fm_arp_destroy(a);
	a = fm_arp_create(&cfg);
	assert_non_null(a);
	/* Four entries, created at T0+1..4 s; the first is referenced. */
	for (uint32_t i = 1; i <= 4; i++)
		assert_int_equal(
		    fm_arp_input(a, HIP(10, 0, 0, i), mac1, T0 + i * S, FM_ARP_IN_F_FOR_US),
		    FM_ARP_UPD_CREATED);
	assert_int_equal(fm_arp_ref(a, HIP(10, 0, 0, 1)), 0);
	/* .2 is looked up last: .3 is now the least recently used. */
	assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 0, 2), T0 + 5 * S, got), 0);
	assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 0, 5), T0 + 6 * S, got), -EAGAIN);
	assert_int_equal(state_of(HIP(10, 0, 0, 3)), FM_ARP_NONE);
	assert_int_equal(state_of(HIP(10, 0, 0, 1)), FM_ARP_REACHABLE);
	/* Next: .4, then .2; .1 (referenced) and .5 (pending) stay. */
	assert_int_equal(fm_arp_input(a, HIP(10, 0, 0, 6), mac1, T0 + 7 * S, FM_ARP_IN_F_FOR_US),
	    FM_ARP_UPD_CREATED);
	assert_int_equal(state_of(HIP(10, 0, 0, 4)), FM_ARP_NONE);
	assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 0, 7), T0 + 8 * S, got), -EAGAIN);
	assert_int_equal(state_of(HIP(10, 0, 0, 2)), FM_ARP_NONE);
	assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 0, 8), T0 + 9 * S, got), -EAGAIN);
	assert_int_equal(state_of(HIP(10, 0, 0, 6)), FM_ARP_NONE);
	/* Now: .1 referenced, .5 .7 .8 pending: nothing can go. */
	assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 0, 9), T0 + 10 * S, got), -ENOSPC);
	assert_int_equal(fm_arp_input(a, HIP(10, 0, 0, 9), mac1, T0 + 10 * S, FM_ARP_IN_F_FOR_US),
	    FM_ARP_UPD_IGNORED);
	assert_int_equal(fm_arp_set_static(a, HIP(10, 0, 0, 9), mac1, T0), -ENOSPC);
	assert_int_equal(fm_arp_count(a), 4);
	fm_arp_stats_get(a, &st);
	assert_int_equal(st.evicted, 4);
	assert_int_equal(st.full, 3);
}

static void
test_tick_reports_in_batches(void **state)
{
	struct fm_arp_event ev[2];
	uint8_t got[6];
	unsigned total = 0, n;

	(void)state;
	for (uint32_t i = 1; i <= 5; i++)
		assert_int_equal(fm_arp_lookup(a, HIP(10, 0, 1, i), T0, got), -EAGAIN);
	do {
		n = fm_arp_tick(a, T0, ev, 2);
		total += n;
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(ev[i].kind, FM_ARP_EV_REQUEST);
	} while (n == 2);
	assert_int_equal(total, 5);
	assert_int_equal(fm_arp_tick(a, T0, ev, 0), 0);
}

static void
test_late_tick_still_probes_before_failing(void **state)
{
	(void)state;
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	/* The daemon was away for a minute: the first thing is a probe. */
	tick_one(T0 + 60 * S, FM_ARP_EV_PROBE, GW);
	tick_one(T0 + 61 * S, FM_ARP_EV_PROBE, GW);
	tick_one(T0 + 62 * S, FM_ARP_EV_PROBE, GW);
	tick_one(T0 + 63 * S, FM_ARP_EV_FAILED, GW);
}

static void
test_list_shows_state_and_age(void **state)
{
	struct fm_arp_info info[8];
	uint8_t got[6];
	unsigned n;

	(void)state;
	resolve(GW, mac1, T0);
	assert_int_equal(fm_arp_lookup(a, PEER, T0 + S, got), -EAGAIN);
	assert_int_equal(fm_arp_ref(a, GW), 0);
	n = fm_arp_list(a, T0 + 3 * S, info, 8);
	assert_int_equal(n, 2);
	for (unsigned i = 0; i < n; i++) {
		if (info[i].ip == GW) {
			assert_int_equal(info[i].state, FM_ARP_REACHABLE);
			assert_memory_equal(info[i].mac, mac1, 6);
			assert_int_equal(info[i].age_ns, 3 * S);
			assert_int_equal(info[i].refs, 1);
		} else {
			assert_int_equal(info[i].ip, PEER);
			assert_int_equal(info[i].state, FM_ARP_INCOMPLETE);
			assert_memory_equal(info[i].mac, "\0\0\0\0\0\0", 6);
			assert_int_equal(info[i].age_ns, 2 * S);
		}
	}
	assert_int_equal(fm_arp_list(a, T0, info, 1), 1);
	assert_string_equal(fm_arp_state_name(FM_ARP_STALE), "STALE");
	assert_string_equal(fm_arp_state_name(FM_ARP_FAILED), "FAILED");
	assert_string_equal(fm_arp_state_name(99), "?");
}

/* Random operations over simulated time: the cache never breaks its bounds. */
static void
test_random_walk_keeps_invariants(void **state)
{
	struct fm_arp_cfg cfg = {.max_entries = 16, .seed = 4};
	struct fm_arp_event ev[8];
	uint64_t x = 777, now = T0;
	unsigned refs[64] = {0};

	(void)state;
	fm_arp_destroy(a);
	a = fm_arp_create(&cfg);
	assert_non_null(a);
	for (int i = 0; i < 100000; i++) {
		uint32_t ip;
		uint8_t got[6], mac[6] = {0x02, 0, 0, 0, 0, 0};

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		ip = HIP(10, 0, 2, 1 + (unsigned)(x >> 8) % 64);
		mac[5] = (uint8_t)(1 + (x >> 20) % 3);
		now += (x >> 32) % (300 * MS);
		switch (x % 6) {
		case 0:
			(void)fm_arp_lookup(a, ip, now, got);
			break;
		case 1:
			(void)fm_arp_input(a, ip, mac, now, (x >> 40) & 1);
			break;
		case 2:
			if (fm_arp_ref(a, ip) == 0)
				refs[ip & 63]++;
			break;
		case 3:
			if (refs[ip & 63] && fm_arp_unref(a, ip) == 0)
				refs[ip & 63]--;
			break;
		default:
			while (fm_arp_tick(a, now, ev, 8) == 8)
				;
			assert_true(fm_arp_next_due(a) > now);
			break;
		}
		assert_true(fm_arp_count(a) <= 16);
	}
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_create_rejects_bad_config),
	    T(test_resolve_request_then_reply),
	    T(test_unanswered_requests_fail_then_expire),
	    T(test_referenced_failed_entry_is_retried),
	    T(test_entry_in_use_is_refreshed_by_unicast),
	    T(test_unanswered_refresh_fails_at_expiry),
	    T(test_looked_up_entry_is_refreshed_unused_one_expires),
	    T(test_mac_change_is_reported),
	    T(test_input_creates_only_when_for_us),
	    T(test_bad_addresses_are_einval),
	    T(test_static_entry_never_ages_and_ignores_input),
	    T(test_del_removes_or_restarts),
	    T(test_full_cache_evicts_lru_or_refuses),
	    T(test_tick_reports_in_batches),
	    T(test_late_tick_still_probes_before_failing),
	    T(test_list_shows_state_and_age),
	    T(test_random_walk_keeps_invariants),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
