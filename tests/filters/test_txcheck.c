/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Transmit check: a flow sends only frames its template allows, with lengths
 * that agree, and every refusal is counted under its own reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"
#include "tests/filters/flt_test.h"

#define LOCAL  PKT_IP4(10, 0, 0, 2)
#define REMOTE PKT_IP4(10, 0, 0, 1)

static struct flt_table *tbl;
static uint8_t frame[PKT_MAX];
static uint8_t priv[FLT_TX_HDR_MAX];
static struct flt_tx_template con; /* UDP 10.0.0.2:5000 -> 10.0.0.1:7000 */
static struct flt_tx_template bnd; /* UDP 10.0.0.2:5000 -> anywhere */

static struct flt_tx_spec
udp_spec(int connected)
{
	struct flt_tx_spec s = {
	    .src_mac = {0x02, 0, 0, 0, 0, 0x02},
	    .proto = IP4_PROTO_UDP,
	    .connected = (uint8_t)connected,
	    .src_addr = LOCAL,
	    .dst_addr = connected ? REMOTE : 0,
	    .src_port = htons(5000),
	    .dst_port = connected ? htons(7000) : 0,
	};
	return s;
}

static int
setup(void **state)
{
	struct flt_tx_spec s = udp_spec(1);

	(void)state;
	tbl = flt_table_create(&(struct flt_table_cfg){.name = "ttx", .max_flows = 4});
	if (!tbl)
		return -1;
	if (flt_tx_template_init(&con, &s) != 0)
		return -1;
	s = udp_spec(0);
	return flt_tx_template_init(&bnd, &s);
}

static int
teardown(void **state)
{
	(void)state;
	assert_true(flt_test_stats_consistent(tbl));
	flt_table_destroy(tbl);
	return 0;
}

static enum flt_tx_reason
check(const struct flt_tx_template *t, uint16_t len)
{
	uint16_t hdr_len = 0;

	return flt_txcheck(tbl, t, frame, len, priv, &hdr_len);
}

static uint16_t
build(const struct pkt_spec *s)
{
	return pkt_build(frame, s);
}

static uint64_t
refused(enum flt_tx_reason r)
{
	struct flt_stats st;

	flt_stats_get(tbl, &st);
	return st.tx_refuse[r];
}

static void
assert_reason(enum flt_tx_reason got, enum flt_tx_reason want)
{
	assert_string_equal(flt_tx_name(got), flt_tx_name(want));
}

static void
test_good_udp_frame_passes_and_headers_are_copied(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = build(&s), hdr_len = 0;

	(void)state;
	memset(priv, 0xee, sizeof(priv));
	assert_int_equal(flt_txcheck(tbl, &con, frame, len, priv, &hdr_len), FLT_TX_OK);
	assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN);
	assert_memory_equal(priv, frame, hdr_len);
	assert_int_equal(check(&bnd, len), FLT_TX_OK);
}

static void
test_check_reads_only_the_private_copy(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = build(&s), hdr_len = 0;
	uint8_t saved[64];

	(void)state;
	/* The frame passes; rewriting the shared buffer afterwards does not touch priv. */
	assert_int_equal(flt_txcheck(tbl, &con, frame, len, priv, &hdr_len), FLT_TX_OK);
	memcpy(saved, priv, hdr_len);
	frame[ETH_HDR_LEN + 12] = 6; /* spoof the source address in the shared copy */
	assert_memory_equal(priv, saved, hdr_len);
	/* And a frame whose private copy is checked again is refused. */
	assert_reason(check(&con, len), FLT_TX_BAD_SRC_IP);
}

static void
test_good_tcp_frame_with_options_passes(void **state)
{
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct pkt_spec s = pkt_udp_default();
	uint16_t len, hdr_len = 0;

	(void)state;
	ts.proto = IP4_PROTO_TCP;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	s.proto = IP4_PROTO_TCP;
	s.sport = 5000;
	s.dport = 7000;
	s.tcp_opt_len = 12;
	s.tcp_flags = TCP_FLAG_ACK;
	len = build(&s);
	assert_int_equal(flt_txcheck(tbl, &t, frame, len, priv, &hdr_len), FLT_TX_OK);
	assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN + TCP_HDR_LEN + 12);
	/* A UDP frame from a TCP flow is refused. */
	s.proto = IP4_PROTO_UDP;
	len = build(&s);
	assert_reason(check(&t, len), FLT_TX_BAD_PROTO);
}

static void
test_spoofed_source_mac_is_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.src_mac[5] = 0x99;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_SRC_MAC);
	assert_int_equal(refused(FLT_TX_BAD_SRC_MAC), 1);
}

static void
test_spoofed_source_address_is_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.src = PKT_IP4(10, 0, 0, 66);
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_SRC_IP);
	assert_reason(check(&bnd, len), FLT_TX_BAD_SRC_IP);
	assert_int_equal(refused(FLT_TX_BAD_SRC_IP), 2);
}

static void
test_spoofed_source_port_is_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.sport = 5001;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_SRC_PORT);
	assert_reason(check(&bnd, len), FLT_TX_BAD_SRC_PORT);
	assert_int_equal(refused(FLT_TX_BAD_SRC_PORT), 2);
}

static void
test_connected_flow_may_send_only_to_its_peer(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.dst = PKT_IP4(10, 0, 0, 9);
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_DST);
	assert_int_equal(check(&bnd, len), FLT_TX_OK);
	s = pkt_udp_default();
	s.dport = 7001;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_DST);
	assert_int_equal(check(&bnd, len), FLT_TX_OK);
	assert_int_equal(refused(FLT_TX_BAD_DST), 2);
}

static void
test_wrong_ethertype_version_and_protocol_are_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	s.ethertype = ETH_TYPE_ARP;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_ETHERTYPE);
	s = pkt_udp_default();
	len = build(&s);
	frame[ETH_HDR_LEN] = 0x65;
	assert_reason(check(&con, len), FLT_TX_BAD_VERSION);
	s.proto = IP4_PROTO_TCP;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_PROTO);
}

static void
test_ip_options_are_refused_unless_allowed(void **state)
{
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct pkt_spec s = pkt_udp_default();
	uint16_t len, hdr_len = 0;

	(void)state;
	s.ip_opt_len = 8;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_IHL);
	ts.flags = FLT_TX_F_IP_OPTIONS;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	assert_int_equal(flt_txcheck(tbl, &t, frame, len, priv, &hdr_len), FLT_TX_OK);
	assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN + 8 + UDP_HDR_LEN);
	frame[ETH_HDR_LEN] = 0x44; /* IHL 4 */
	assert_reason(check(&t, len), FLT_TX_BAD_IHL);
}

static void
test_lengths_that_disagree_are_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = build(&s);
	struct ip4_hdr *ih = (struct ip4_hdr *)(frame + ETH_HDR_LEN);
	struct udp_hdr *uh = (struct udp_hdr *)(frame + ETH_HDR_LEN + IP4_HDR_LEN);

	(void)state;
	/* Frame longer than the IP datagram (trailing bytes would leak out). */
	assert_reason(check(&con, (uint16_t)(len + 1)), FLT_TX_BAD_LEN);
	/* Frame shorter than it. */
	assert_reason(check(&con, (uint16_t)(len - 1)), FLT_TX_BAD_LEN);
	/* UDP length not the IP payload. */
	uh->len = htons((uint16_t)(ntohs(uh->len) + 2));
	assert_reason(check(&con, len), FLT_TX_BAD_LEN);
	uh->len = htons((uint16_t)(ntohs(uh->len) - 2));
	assert_int_equal(check(&con, len), FLT_TX_OK);
	/* Total length below the header length. */
	ih->tot_len = htons(12);
	assert_reason(check(&con, len), FLT_TX_BAD_LEN);
	assert_int_equal(refused(FLT_TX_BAD_LEN), 4);
}

static void
test_tcp_data_offset_outside_segment_is_refused(void **state)
{
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct pkt_spec s = pkt_udp_default();
	struct tcp_hdr *th = (struct tcp_hdr *)(frame + ETH_HDR_LEN + IP4_HDR_LEN);
	uint16_t len;

	(void)state;
	ts.proto = IP4_PROTO_TCP;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	s.proto = IP4_PROTO_TCP;
	s.payload_len = 0;
	len = build(&s);
	th->data_off = 4 << 4;
	assert_reason(check(&t, len), FLT_TX_BAD_LEN);
	th->data_off = 6 << 4;
	assert_reason(check(&t, len), FLT_TX_BAD_LEN);
}

static void
test_datagram_over_mtu_is_refused(void **state)
{
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;

	(void)state;
	ts.mtu = 576;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	s.payload_len = 576 - 28;
	len = build(&s);
	assert_int_equal(check(&t, len), FLT_TX_OK);
	s.payload_len++;
	len = build(&s);
	assert_reason(check(&t, len), FLT_TX_TOO_BIG);
	/* The default MTU is 1500. */
	s.payload_len = 1500 - 28 + 1;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_TOO_BIG);
}

static void
test_fragments_are_refused_unless_allowed(void **state)
{
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct pkt_spec s = pkt_udp_default();
	static uint8_t frags[4][PKT_MAX];
	uint16_t len, flens[4], hdr_len = 0;

	(void)state;
	s.payload_len = 200;
	len = build(&s);
	assert_int_equal(pkt_fragment(frame, len, 104, frags, flens, 4), 2);
	assert_reason(flt_txcheck(tbl, &con, frags[0], flens[0], priv, &hdr_len), FLT_TX_BAD_FRAG);
	assert_reason(flt_txcheck(tbl, &con, frags[1], flens[1], priv, &hdr_len), FLT_TX_BAD_FRAG);

	ts.flags = FLT_TX_F_FRAGMENTS;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	assert_int_equal(flt_txcheck(tbl, &t, frags[0], flens[0], priv, &hdr_len), FLT_TX_OK);
	assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN);
	assert_int_equal(flt_txcheck(tbl, &t, frags[1], flens[1], priv, &hdr_len), FLT_TX_OK);
	assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN);

	/* DF is always allowed, the reserved flag never. */
	s.payload_len = 18;
	s.frag_off = IP4_FLAG_DF;
	len = build(&s);
	assert_int_equal(check(&con, len), FLT_TX_OK);
	s.frag_off = IP4_FLAG_RF;
	len = build(&s);
	assert_reason(check(&con, len), FLT_TX_BAD_FRAG);
	assert_reason(check(&t, len), FLT_TX_BAD_FRAG);
}

/*
 * An 8000-byte UDP datagram above a 1500-byte MTU, cut as the application's
 * stack cuts it ((1500 - 20) & ~7 = 1480 bytes of IP payload a fragment):
 * each fragment is within the MTU and passes; the same first fragment one
 * unit longer, or the datagram whole, is TOO_BIG.
 */
static void
test_a_datagram_above_the_mtu_passes_as_fragments_within_it(void **state)
{
	enum { DGRAM = 8000 + UDP_HDR_LEN, STEP = 1480 };
	struct flt_tx_spec ts = udp_spec(1);
	struct flt_tx_template t;
	struct ip4_hdr *ih = (struct ip4_hdr *)(frame + ETH_HDR_LEN);
	struct udp_hdr *uh = (struct udp_hdr *)(frame + ETH_HDR_LEN + IP4_HDR_LEN);
	uint16_t hdr_len = 0;
	unsigned n = 0;

	(void)state;
	ts.flags = FLT_TX_F_FRAGMENTS;
	ts.mtu = 1500;
	assert_int_equal(flt_tx_template_init(&t, &ts), 0);
	for (unsigned off = 0; off < DGRAM; off += STEP, n++) {
		struct pkt_spec s = pkt_udp_default();
		unsigned part = DGRAM - off < STEP ? DGRAM - off : STEP;
		uint16_t len;

		/* A later fragment's first 8 bytes are payload; the builder's UDP
		 * header there is just bytes to the check. */
		s.payload_len = (uint16_t)(part - UDP_HDR_LEN);
		s.frag_off = (uint16_t)((off + part < DGRAM ? IP4_FLAG_MF : 0) | off / 8);
		len = build(&s);
		if (off == 0)
			uh->len = htons(DGRAM);
		assert_true(len <= ETH_HDR_LEN + 1500);
		assert_int_equal(flt_txcheck(tbl, &t, frame, len, priv, &hdr_len), FLT_TX_OK);
		assert_int_equal(hdr_len, ETH_HDR_LEN + IP4_HDR_LEN + (off == 0 ? UDP_HDR_LEN : 0));
	}
	assert_int_equal(n, 6);

	/* One unit more than the MTU allows. */
	{
		struct pkt_spec s = pkt_udp_default();
		uint16_t len;

		s.payload_len = STEP + 8 - UDP_HDR_LEN;
		s.frag_off = IP4_FLAG_MF;
		len = build(&s);
		uh->len = htons(DGRAM);
		assert_reason(flt_txcheck(tbl, &t, frame, len, priv, &hdr_len), FLT_TX_TOO_BIG);
	}
	/* Whole, unfragmented. */
	{
		static uint8_t whole[ETH_HDR_LEN + IP4_HDR_LEN + DGRAM];

		memcpy(whole, frame, ETH_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN);
		ih = (struct ip4_hdr *)(whole + ETH_HDR_LEN);
		ih->tot_len = htons(IP4_HDR_LEN + DGRAM);
		ih->frag_off = 0;
		pkt_fix_ip_csum(whole);
		assert_reason(
		    flt_txcheck(tbl, &t, whole, sizeof(whole), priv, &hdr_len), FLT_TX_TOO_BIG);
	}
	assert_int_equal(refused(FLT_TX_TOO_BIG), 2);
}

static void
test_truncated_frames_are_refused(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	struct ip4_hdr *ih = (struct ip4_hdr *)(frame + ETH_HDR_LEN);
	static const uint16_t cut[] = {0, 10, 20, 33};

	(void)state;
	build(&s);
	for (size_t i = 0; i < ARRAY_SIZE(cut); i++)
		assert_reason(check(&con, cut[i]), FLT_TX_TRUNCATED);
	/* A datagram too short to hold its UDP header. */
	ih->tot_len = htons(IP4_HDR_LEN + 4);
	assert_reason(check(&con, ETH_HDR_LEN + IP4_HDR_LEN + 4), FLT_TX_TRUNCATED);
	assert_int_equal(refused(FLT_TX_TRUNCATED), ARRAY_SIZE(cut) + 1);
}

static void
test_burst_checks_each_frame_and_counts_each_reason(void **state)
{
	static uint8_t frames[4][PKT_MAX];
	static uint8_t privs[4][FLT_TX_HDR_MAX];
	struct flt_tx_pkt p[4];
	struct flt_stats st;

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		struct pkt_spec s = pkt_udp_default();

		if (i == 1)
			s.sport = 1;
		if (i == 2)
			s.src_mac[0] = 0x04;
		p[i] = (struct flt_tx_pkt){
		    .tmpl = &con,
		    .frame = frames[i],
		    .len = pkt_build(frames[i], &s),
		    .priv = privs[i],
		};
	}
	assert_int_equal(flt_txcheck_burst(tbl, p, 4), 2);
	assert_int_equal(p[0].reason, FLT_TX_OK);
	assert_int_equal(p[0].hdr_len, 42);
	assert_int_equal(p[1].reason, FLT_TX_BAD_SRC_PORT);
	assert_int_equal(p[2].reason, FLT_TX_BAD_SRC_MAC);
	assert_int_equal(p[3].reason, FLT_TX_OK);
	flt_stats_get(tbl, &st);
	assert_int_equal(st.tx_pkts, 4);
	assert_int_equal(st.tx_ok, 2);
	assert_int_equal(st.tx_refuse[FLT_TX_BAD_SRC_PORT], 1);
	assert_int_equal(st.tx_refuse[FLT_TX_BAD_SRC_MAC], 1);
}

static void
test_template_init_rejects_bad_specs(void **state)
{
	struct flt_tx_template t;
	struct flt_tx_spec s;

	(void)state;
	memset(&t, 0x5a, sizeof(t));
	s = udp_spec(1);
	s.proto = IP4_PROTO_ICMP;
	assert_int_equal(flt_tx_template_init(&t, &s), -EINVAL);
	s = udp_spec(1);
	s.mtu = 67;
	assert_int_equal(flt_tx_template_init(&t, &s), -EINVAL);
	s = udp_spec(1);
	s.dst_port = 0;
	assert_int_equal(flt_tx_template_init(&t, &s), -EINVAL);
	s = udp_spec(0);
	s.src_addr = 0;
	assert_int_equal(flt_tx_template_init(&t, &s), -EINVAL);
	s = udp_spec(0);
	s.flags = 0x100;
	assert_int_equal(flt_tx_template_init(&t, &s), -EINVAL);
	/* Unchanged on failure. */
	assert_int_equal(t.proto, 0x5a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_good_udp_frame_passes_and_headers_are_copied),
	    T(test_check_reads_only_the_private_copy),
	    T(test_good_tcp_frame_with_options_passes),
	    T(test_spoofed_source_mac_is_refused),
	    T(test_spoofed_source_address_is_refused),
	    T(test_spoofed_source_port_is_refused),
	    T(test_connected_flow_may_send_only_to_its_peer),
	    T(test_wrong_ethertype_version_and_protocol_are_refused),
	    T(test_ip_options_are_refused_unless_allowed),
	    T(test_lengths_that_disagree_are_refused),
	    T(test_tcp_data_offset_outside_segment_is_refused),
	    T(test_datagram_over_mtu_is_refused),
	    T(test_a_datagram_above_the_mtu_passes_as_fragments_within_it),
	    T(test_fragments_are_refused_unless_allowed),
	    T(test_truncated_frames_are_refused),
	    T(test_burst_checks_each_frame_and_counts_each_reason),
	    T(test_template_init_rejects_bad_specs),
	};
	int rc;

	flt_test_eal_init("test_filters_txcheck");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
