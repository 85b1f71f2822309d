/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tools/sluice's helpers (fmt.c): what the operator types (prefixes,
 * durations, qos settings, flow ids) is parsed or refused, values print the
 * way the docs show them, tables align, and rates come out right, also
 * across a counter that went backwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "tools/sluice/sluice.h"

static void
test_prefixes_parse_and_bad_ones_are_refused(void **state)
{
	uint32_t a, l;
	(void)state;

	assert_int_equal(sl_parse_prefix("10.77.9.0/24", &a, &l), 0);
	assert_int_equal(a, 0x0a4d0900);
	assert_int_equal(l, 24);
	assert_int_equal(sl_parse_prefix("default", &a, &l), 0);
	assert_int_equal(a, 0);
	assert_int_equal(l, 0);
	assert_int_equal(sl_parse_prefix("10.0.0.7", &a, &l), 0);
	assert_int_equal(l, 32);
	assert_int_equal(sl_parse_prefix("10.0.0.0/33", &a, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/", &a, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0.0/2x", &a, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("10.0.0/24", &a, &l), -EINVAL);
	assert_int_equal(sl_parse_prefix("", &a, &l), -EINVAL);
	assert_int_equal(sl_parse_ip("256.1.1.1", &a), -EINVAL);
}

static void
test_durations_take_units_and_bare_nanoseconds(void **state)
{
	uint64_t ns;
	(void)state;

	assert_int_equal(sl_parse_dur("10ms", &ns), 0);
	assert_int_equal(ns, 10000000);
	assert_int_equal(sl_parse_dur("250us", &ns), 0);
	assert_int_equal(ns, 250000);
	assert_int_equal(sl_parse_dur("1.5ms", &ns), 0);
	assert_int_equal(ns, 1500000);
	assert_int_equal(sl_parse_dur("2s", &ns), 0);
	assert_int_equal(ns, 2000000000);
	assert_int_equal(sl_parse_dur("100ns", &ns), 0);
	assert_int_equal(ns, 100);
	assert_int_equal(sl_parse_dur("5000000", &ns), 0);
	assert_int_equal(ns, 5000000);
	assert_int_equal(sl_parse_dur("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(sl_parse_dur("1.5", &ns), -EINVAL); /* bare: whole ns */
	assert_int_equal(sl_parse_dur("-1ms", &ns), -EINVAL);
	assert_int_equal(sl_parse_dur("10 ms", &ns), -EINVAL);
	assert_int_equal(sl_parse_dur("10min", &ns), -EINVAL);
	assert_int_equal(sl_parse_dur("ms", &ns), -EINVAL);
	assert_int_equal(sl_parse_dur("nan", &ns), -EINVAL);
	assert_int_equal(sl_parse_dur("1e30s", &ns), -EINVAL);
}

static void
test_qos_settings_parse_each_once(void **state)
{
	char a0[] = "period=10ms", a1[] = "slice=2ms", a2[] = "extra=no", a3[] = "slice=3ms",
	     a4[] = "rate=1mbit", a5[] = "extra=maybe", a6[] = "slice";
	char *ok[] = {a2, a0, a1};
	char *twice[] = {a1, a3};
	char *unknown[] = {a4};
	char *badbool[] = {a5};
	char *noval[] = {a6};
	Sluice__Qos q;
	unsigned given;
	char err[160];
	(void)state;

	sluice__qos__init(&q);
	q.extra = true;
	assert_int_equal(sl_parse_qos(3, ok, &q, &given, err, sizeof(err)), 0);
	assert_int_equal(given, SL_QOS_PERIOD | SL_QOS_SLICE | SL_QOS_EXTRA);
	assert_int_equal(q.period_ns, 10000000);
	assert_int_equal(q.slice_ns, 2000000);
	assert_false(q.extra);
	assert_int_equal(sl_parse_qos(1, ok + 2, &q, &given, err, sizeof(err)), 0);
	assert_int_equal(given, SL_QOS_SLICE);
	assert_int_equal(sl_parse_qos(2, twice, &q, &given, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(sl_parse_qos(1, unknown, &q, &given, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_parse_qos(1, badbool, &q, &given, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_parse_qos(1, noval, &q, &given, err, sizeof(err)), -EINVAL);
	assert_int_equal(sl_parse_qos(0, ok, &q, &given, err, sizeof(err)), -EINVAL);
}

static void
test_ids_are_positive_32_bit(void **state)
{
	uint32_t id;
	(void)state;

	assert_int_equal(sl_parse_id("7", &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(sl_parse_id("4294967295", &id), 0);
	assert_int_equal(sl_parse_id("4294967296", &id), -EINVAL);
	assert_int_equal(sl_parse_id("0", &id), -EINVAL);
	assert_int_equal(sl_parse_id("-3", &id), -EINVAL);
	assert_int_equal(sl_parse_id("3x", &id), -EINVAL);
}

static void
test_values_print_as_the_docs_show(void **state)
{
	char b[64];
	uint8_t m[6] = {2, 0x77, 0, 0, 1, 0xab};
	ProtobufCBinaryData mac = {6, m}, none = {0, NULL};
	Sluice__Sap sap = SLUICE__SAP__INIT;
	Sluice__Qos q = SLUICE__QOS__INIT;
	(void)state;

	assert_string_equal(sl_dur(10000000, b, sizeof(b)), "10ms");
	assert_string_equal(sl_dur(1500000, b, sizeof(b)), "1.5ms");
	assert_string_equal(sl_dur(2000000000, b, sizeof(b)), "2s");
	assert_string_equal(sl_dur(999, b, sizeof(b)), "999ns");
	assert_string_equal(sl_dur(0, b, sizeof(b)), "0ns");
	assert_string_equal(sl_mac(&mac, b, sizeof(b)), "02:77:00:00:01:ab");
	assert_string_equal(sl_mac(&none, b, sizeof(b)), "-");
	assert_string_equal(sl_sap(NULL, b, sizeof(b)), "*");
	sap.addr = 0x0a4d0102;
	sap.port = 7000;
	assert_string_equal(sl_sap(&sap, b, sizeof(b)), "10.77.1.2:7000");
	assert_string_equal(sl_qos(&q, b, sizeof(b)), "best effort");
	q.period_ns = 10000000;
	q.slice_ns = 2000000;
	q.extra = true;
	assert_string_equal(sl_qos(&q, b, sizeof(b)), "2ms/10ms 20.00% +slack");
	assert_string_equal(sl_arp_state(5), "FAILED");
	assert_string_equal(sl_arp_state(9), "?");
}

static void
test_tables_align_their_columns(void **state)
{
	struct sl_table t;
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	FILE *old = stdout;
	(void)state;

	assert_non_null(f);
	sl_table_init(&t, SL_TABLE_HEADER, ">ID", "NAME", "LAST", NULL);
	assert_int_equal(sl_table_row(&t, "1", "a", "x"), 0);
	assert_int_equal(sl_table_row(&t, "100", "longer", "y"), 0);
	stdout = f;
	sl_table_print(&t, "\n");
	stdout = old;
	fclose(f);
	assert_string_equal(out, " ID  NAME    LAST\n"
				 "  1  a       x\n"
				 "100  longer  y\n");
	sl_table_fini(&t);
	free(out);
}

static void
test_rates_per_second_and_across_a_reset(void **state)
{
	struct sl_snap a = {.rx_pkts = 100, .rx_bytes = 100000, .tx_pkts = 10, .drops = 1};
	struct sl_snap b = {.rx_pkts = 200, .rx_bytes = 225000, .tx_pkts = 5, .drops = 3};
	struct sl_rate r;
	(void)state;

	sl_rate_of(&a, &b, 100000000, &r); /* 100 ms */
	assert_true(r.rx_pps > 999.9 && r.rx_pps < 1000.1);
	assert_true(r.rx_mbps > 9.999 && r.rx_mbps < 10.001); /* 125000 B in 0.1 s */
	assert_true(r.drops_ps > 19.99 && r.drops_ps < 20.01);
	/* tx went from 10 to 5: counted from zero, 5 in 0.1 s. */
	assert_true(r.tx_pps > 49.99 && r.tx_pps < 50.01);
	sl_rate_of(&a, &b, 0, &r);
	assert_true(r.rx_pps == 0 && r.rx_mbps == 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prefixes_parse_and_bad_ones_are_refused),
	    cmocka_unit_test(test_durations_take_units_and_bare_nanoseconds),
	    cmocka_unit_test(test_qos_settings_parse_each_once),
	    cmocka_unit_test(test_ids_are_positive_32_bit),
	    cmocka_unit_test(test_values_print_as_the_docs_show),
	    cmocka_unit_test(test_tables_align_their_columns),
	    cmocka_unit_test(test_rates_per_second_and_across_a_reset),
	};

	return cmocka_run_group_tests_name("sluice_fmt", tests, NULL, NULL);
}
