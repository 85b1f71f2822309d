/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive demux: which frames reach which flow, which go to the flow manager,
 * and which are dropped for what reason.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"
#include "tests/filters/flt_test.h"

#define LOCAL	 PKT_IP4(10, 0, 0, 1)
#define REMOTE	 PKT_IP4(10, 0, 0, 2)
#define OTHER	 PKT_IP4(10, 0, 0, 3)
#define NOW	 1000000000ull
#define FLOW_CON 11
#define FLOW_BND 22
#define FLOW_TCP 33
#define FLOW_LSN 44

static struct flt_table *tbl;
static uint8_t buf[PKT_MAX];

static int
setup(void **state)
{
	struct flt_table_cfg cfg = {.name = "tdemux", .max_flows = 64};

	(void)state;
	tbl = flt_table_create(&cfg);
	return tbl ? 0 : -1;
}

static int
teardown(void **state)
{
	(void)state;
	/* Every test leaves the counters consistent and the hold pool empty. */
	assert_true(flt_test_stats_consistent(tbl));
	assert_int_equal(flt_frag_held(tbl), 0);
	flt_table_destroy(tbl);
	tbl = NULL;
	return 0;
}

static void
add(uint32_t flow, uint8_t proto, uint8_t kind, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct flt_flow_spec s = flt_test_spec(flow, proto, kind, LOCAL, lport, raddr, rport);

	assert_int_equal(flt_flow_add(tbl, &s), 0);
}

static struct flt_verdict
classify(const struct pkt_spec *s)
{
	uint16_t len = pkt_build(buf, s);

	return flt_test_one(tbl, buf, len, NOW);
}

static void
assert_flow(struct flt_verdict v, uint32_t flow)
{
	assert_int_equal(v.action, FLT_ACT_FLOW);
	assert_int_equal(v.flow, flow);
	assert_int_equal(v.reason, FLT_DROP_NONE);
}

static void
assert_manager(struct flt_verdict v)
{
	assert_int_equal(v.action, FLT_ACT_MANAGER);
	assert_int_equal(v.flow, FLT_FLOW_NONE);
}

static void
assert_drop(struct flt_verdict v, enum flt_drop reason)
{
	assert_int_equal(v.action, FLT_ACT_DROP);
	assert_int_equal(v.flow, FLT_FLOW_NONE);
	assert_string_equal(flt_drop_name(v.reason), flt_drop_name(reason));
}

static uint64_t
drops(enum flt_drop reason)
{
	struct flt_stats st;

	flt_stats_get(tbl, &st);
	return st.drop[reason];
}

static void
test_udp_to_connected_flow_gets_its_id(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	assert_flow(classify(&s), FLOW_CON);
}

static void
test_five_tuple_beats_three_tuple(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	assert_flow(classify(&s), FLOW_CON);
	/* Another remote port, or another remote address: only the bound flow matches. */
	s.sport = 5001;
	assert_flow(classify(&s), FLOW_BND);
	s.sport = 5000;
	s.src = OTHER;
	assert_flow(classify(&s), FLOW_BND);
}

static void
test_bound_flow_takes_any_remote_but_only_its_protocol(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	s.src = PKT_IP4(192, 168, 7, 9);
	s.sport = 1;
	assert_flow(classify(&s), FLOW_BND);
	s.proto = IP4_PROTO_TCP;
	assert_manager(classify(&s));
}

static void
test_listening_flow_takes_syns_and_connected_flow_its_segments(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_LSN, IP4_PROTO_TCP, FLT_KIND_LISTENING, 80, 0, 0);
	add(FLOW_TCP, IP4_PROTO_TCP, FLT_KIND_CONNECTED, 80, REMOTE, 40000);
	s.proto = IP4_PROTO_TCP;
	s.dport = 80;
	s.sport = 40001;
	s.tcp_flags = TCP_FLAG_SYN;
	assert_flow(classify(&s), FLOW_LSN);
	s.sport = 40000;
	s.tcp_flags = TCP_FLAG_ACK;
	assert_flow(classify(&s), FLOW_TCP);
}

static void
test_unclaimed_udp_and_tcp_go_to_manager(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	s.dport = 7001;
	assert_manager(classify(&s));
	s.dport = 7000;
	s.dst = OTHER; /* not our address */
	assert_manager(classify(&s));
	s = pkt_udp_default();
	s.proto = IP4_PROTO_TCP;
	assert_manager(classify(&s));
}

static void
test_non_ipv4_ethertypes_go_to_manager(void **state)
{
	static const uint16_t types[] = {ETH_TYPE_ARP, ETH_TYPE_IPV6, ETH_TYPE_VLAN, 0x88cc};
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		s.ethertype = types[i];
		assert_manager(classify(&s));
	}
	/* Even a frame of only an Ethernet header. */
	s.ethertype = ETH_TYPE_ARP;
	pkt_build(buf, &s);
	assert_manager(flt_test_one(tbl, buf, ETH_HDR_LEN, NOW));
}

static void
test_icmp_and_other_protocols_go_to_manager(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	s.proto = IP4_PROTO_ICMP;
	s.payload_len = 8;
	assert_manager(classify(&s));
	s.proto = 47; /* GRE */
	assert_manager(classify(&s));
}

/*
 * A datagram above the MTU that arrives whole (net_af_packet's kernel side
 * reassembles fragments) is a legal IPv4 datagram: classified by its ports
 * like any other, up to the largest frame a 16-bit length holds.
 */
static void
test_datagram_above_the_mtu_arriving_whole_reaches_its_flow(void **state)
{
	static uint8_t big[UINT16_MAX];
	static const uint16_t sizes[] = {1515, 8042, UINT16_MAX};
	struct pkt_spec s = pkt_udp_default();
	struct ip4_hdr *ih = (struct ip4_hdr *)(big + ETH_HDR_LEN);
	struct udp_hdr *uh = (struct udp_hdr *)(big + ETH_HDR_LEN + IP4_HDR_LEN);

	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	s.payload_len = 0;
	pkt_build(big, &s);
	for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
		uint16_t len = sizes[i];

		ih->tot_len = htons((uint16_t)(len - ETH_HDR_LEN));
		uh->len = htons((uint16_t)(len - ETH_HDR_LEN - IP4_HDR_LEN));
		pkt_fix_ip_csum(big);
		assert_flow(flt_test_one(tbl, big, len, NOW), FLOW_BND);
		/* Cut short of its total length (a frame too small for it): dropped. */
		assert_drop(flt_test_one(tbl, big, (uint16_t)(len - 1), NOW), FLT_DROP_BAD_IP_LEN);
	}
}

/* ---- ICMP errors about our datagrams --------------------------------- */

#define ICMP_PARAM_PROBLEM 12

/* The datagram a flow sent, as the ICMP error will quote it. */
static uint8_t sent[PKT_MAX];

/* Build into sent what LOCAL:lport sent to raddr:rport (proto), and return
 * where its IPv4 header starts. */
static uint8_t *
build_sent(uint8_t proto, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	struct pkt_spec s = pkt_udp_default();

	s.proto = proto;
	s.src = LOCAL;
	s.sport = lport;
	s.dst = raddr;
	s.dport = rport;
	s.payload_len = 100;
	pkt_build(sent, &s);
	return sent + ETH_HDR_LEN;
}

/*
 * An ICMP error (type, code) from @from to LOCAL that quotes @quote_len
 * bytes of the datagram in sent (its IPv4 header and what follows). The
 * ICMP checksum is right. Returns the frame's length in buf.
 */
static uint16_t
icmp_error(uint8_t type, uint8_t code, uint32_t from, unsigned quote_len)
{
	struct pkt_spec s = pkt_udp_default();
	uint8_t *icmp = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	uint16_t len, c;

	s.proto = IP4_PROTO_ICMP;
	s.src = from;
	s.dst = LOCAL;
	s.payload_len = (uint16_t)(ICMP_HDR_LEN + quote_len);
	len = pkt_build(buf, &s);
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = type;
	icmp[1] = code;
	memcpy(icmp + ICMP_HDR_LEN, sent + ETH_HDR_LEN, quote_len);
	c = wire_inet_csum(icmp, ICMP_HDR_LEN + quote_len);
	memcpy(icmp + 2, &c, 2);
	return len;
}

/* A quoted header edited by a test gets a right checksum again. */
static void
fix_sent(void)
{
	pkt_fix_ip_csum(sent);
}

static struct flt_verdict
classify_icmp(uint8_t type, uint8_t code, uint32_t from, unsigned quote_len)
{
	uint16_t len = icmp_error(type, code, from, quote_len);

	return flt_test_one(tbl, buf, len, NOW);
}

/* What RFC 792 asks routers and hosts to quote: the IP header and 8 bytes. */
#define QUOTE (IP4_HDR_LEN + 8)

static void
test_icmp_port_unreachable_reaches_the_connected_flow_that_sent(void **state)
{
	struct flt_stats st;

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	add(FLOW_TCP, IP4_PROTO_TCP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE), FLOW_CON);
	/* Linux quotes as much as fits in 576 bytes: more is fine. */
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, IP4_HDR_LEN + 108),
	    FLOW_CON);
	/* From a router on the way, not the peer: the quote decides. */
	assert_flow(classify_icmp(ICMP_TIME_EXCEED, 0, OTHER, QUOTE), FLOW_CON);
	assert_flow(classify_icmp(ICMP_PARAM_PROBLEM, 0, OTHER, QUOTE), FLOW_CON);
	assert_flow(
	    classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_NEEDFRAG, OTHER, QUOTE), FLOW_CON);
	/* The same ports over TCP: the quoted protocol picks the flow. */
	build_sent(IP4_PROTO_TCP, 7000, REMOTE, 5000);
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE), FLOW_TCP);
	flt_stats_get(tbl, &st);
	assert_int_equal(st.rx_flow, 6);
	assert_int_equal(st.rx_manager, 0);
}

static void
test_icmp_error_reaches_the_bound_flow_that_sent(void **state)
{
	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	build_sent(IP4_PROTO_UDP, 7000, OTHER, 9999);
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, OTHER, QUOTE), FLOW_BND);
	/* A connected flow of the same local port to that peer beats it. */
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, OTHER, 9999);
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, OTHER, QUOTE), FLOW_CON);
	/* A first fragment of ours carries the ports too. */
	build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	sent[ETH_HDR_LEN + 6] = IP4_FLAG_MF >> 8;
	fix_sent();
	assert_flow(classify_icmp(ICMP_TIME_EXCEED, 1, REMOTE, QUOTE), FLOW_BND);
}

static void
test_icmp_error_about_a_port_no_flow_owns_goes_to_manager(void **state)
{
	uint16_t len;

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7001, 0, 0);
	build_sent(IP4_PROTO_UDP, 7002, REMOTE, 5000);
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));
	/* Our port, but TCP, which no flow of that port speaks. */
	build_sent(IP4_PROTO_TCP, 7001, REMOTE, 5000);
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));
	/* The quote names the flow, but the error is addressed to another host. */
	build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	len = icmp_error(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE);
	memcpy(buf + ETH_HDR_LEN + 16, &(uint32_t){OTHER}, 4);
	pkt_fix_ip_csum(buf);
	assert_manager(flt_test_one(tbl, buf, len, NOW));
	/* A datagram the peer sent us, quoted back the wrong way round. */
	build_sent(IP4_PROTO_UDP, 5000, REMOTE, 7000);
	memcpy(sent + ETH_HDR_LEN + 12, &(uint32_t){REMOTE}, 4);
	memcpy(sent + ETH_HDR_LEN + 16, &(uint32_t){LOCAL}, 4);
	fix_sent();
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));
}

static void
test_icmp_error_with_a_bad_quote_goes_to_manager(void **state)
{
	uint8_t *qh;
	uint16_t len;

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	add(FLOW_TCP, IP4_PROTO_TCP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);

	/* Truncated: fewer than 8 bytes of the transport header, or of the IP header. */
	qh = build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE - 1));
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, 4));
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, 0));
	/* ... even when Ethernet padding follows: the IP total length counts. */
	len = icmp_error(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE - 4);
	memcpy(buf + len, qh + QUOTE - 4, 4);
	assert_manager(flt_test_one(tbl, buf, (uint16_t)(len + 4), NOW));
	assert_flow(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE), FLOW_CON);

	/* Quoted IHL below 5, or beyond what is quoted (the ports would be
	 * read from the wrong place, or from past the message). */
	/* And quoted version 6 (0x65). */
	for (unsigned k = 0; k < 4; k++) {
		static const uint8_t vihl[] = {0x44, 0x46, 0x4f, 0x65};

		qh[0] = vihl[k];
		fix_sent();
		assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));
	}

	/* Quoted protocol ICMP (an error about an error) or GRE (47). */
	qh = build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	for (unsigned k = 0; k < 2; k++) {
		qh[9] = k == 0 ? IP4_PROTO_ICMP : 47;
		fix_sent();
		assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));
	}

	/* A later fragment quoted: its first 8 bytes are data, not ports. */
	qh = build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	qh[6] = 0x00;
	qh[7] = 185; /* offset 1480 */
	fix_sent();
	assert_manager(classify_icmp(ICMP_TIME_EXCEED, 1, REMOTE, QUOTE));
	qh[6] = IP4_FLAG_MF >> 8;
	fix_sent();
	assert_manager(classify_icmp(ICMP_TIME_EXCEED, 1, REMOTE, QUOTE));
	/* The reserved flag, which nothing of ours sends. */
	qh[6] = IP4_FLAG_RF >> 8;
	qh[7] = 0;
	fix_sent();
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));

	/* A quoted total length too short to have held the 8 bytes quoted. */
	qh = build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	qh[2] = 0;
	qh[3] = QUOTE - 1;
	fix_sent();
	assert_manager(classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE));

	/* Not an error: echo and the rest stay with the flow manager, whatever follows. */
	build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
	assert_manager(classify_icmp(ICMP_ECHO_REQUEST, 0, REMOTE, QUOTE));
	assert_manager(classify_icmp(ICMP_ECHO_REPLY, 0, REMOTE, QUOTE));
	assert_manager(classify_icmp(5 /* redirect */, 1, REMOTE, QUOTE));
	assert_manager(classify_icmp(4 /* source quench */, 0, REMOTE, QUOTE));

	/* An error that is itself fragmented. */
	len = icmp_error(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE);
	buf[ETH_HDR_LEN + 6] = IP4_FLAG_MF >> 8;
	pkt_fix_ip_csum(buf);
	assert_manager(flt_test_one(tbl, buf, len, NOW));

	/* The outer header is checked first, as for any frame. */
	len = icmp_error(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE);
	buf[ETH_HDR_LEN + 10] ^= 0xff;
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_CSUM);
	len = icmp_error(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, QUOTE);
	assert_drop(flt_test_one(tbl, buf, (uint16_t)(len - 1), NOW), FLT_DROP_BAD_IP_LEN);
}

/* Random bytes after a well-formed ICMP error header never reach a flow they do not name. */
static void
test_icmp_error_with_random_quotes_never_misroutes(void **state)
{
	uint32_t x = 12345;
	unsigned to_flow = 0;

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7001, 0, 0);
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t *qh = build_sent(IP4_PROTO_UDP, 7000, REMOTE, 5000);
		unsigned quote = QUOTE, pos;
		struct flt_verdict v;

		/* Flip a few bytes of the quote's header and ports, and cut it. */
		for (unsigned k = 0; k < 3; k++) {
			x = x * 1103515245u + 12345u;
			pos = (x >> 8) % QUOTE;
			qh[pos] = (uint8_t)(x >> 20);
		}
		x = x * 1103515245u + 12345u;
		if ((x >> 16) % 4 == 0)
			quote = (x >> 20) % (QUOTE + 1);
		v = classify_icmp(ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, REMOTE, quote);
		assert_true(v.action == FLT_ACT_FLOW || v.action == FLT_ACT_MANAGER);
		if (v.action == FLT_ACT_FLOW) {
			/* Only when the quote still names that flow's ports and ours. */
			uint16_t sport =
			    (uint16_t)(qh[(qh[0] & 15) * 4] << 8 | qh[(qh[0] & 15) * 4 + 1]);

			assert_true(quote >= (qh[0] & 15) * 4u + 8);
			assert_int_equal(qh[9], IP4_PROTO_UDP);
			assert_true(sport == 7000 || sport == 7001);
			assert_memory_equal(qh + 12, &(uint32_t){LOCAL}, 4);
			to_flow++;
		}
	}
	/* Both outcomes were exercised. */
	assert_true(to_flow > 1000 && to_flow < 19000);
}

static void
test_truncated_frames_are_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	static const uint16_t cut[] = {0, 1, 13, 14, 20, 33};

	(void)state;
	(void)len;
	for (size_t i = 0; i < ARRAY_SIZE(cut); i++)
		assert_drop(flt_test_one(tbl, buf, cut[i], NOW), FLT_DROP_TRUNCATED);
	/* IHL says 60 bytes of header; the frame holds 40. */
	s.ip_opt_len = 40;
	s.payload_len = 0;
	pkt_build(buf, &s);
	assert_drop(flt_test_one(tbl, buf, ETH_HDR_LEN + 40, NOW), FLT_DROP_TRUNCATED);
	assert_int_equal(drops(FLT_DROP_TRUNCATED), ARRAY_SIZE(cut) + 1);
}

static void
test_ip_version_other_than_4_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);

	(void)state;
	ih->ver_ihl = 0x65;
	pkt_fix_ip_csum(buf);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_VERSION);
}

static void
test_ihl_below_five_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);

	(void)state;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		ih->ver_ihl = (uint8_t)(0x40 | ihl);
		assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_IHL);
	}
}

static void
test_ip_options_are_skipped_by_ihl(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	for (uint8_t opt = 4; opt <= 40; opt += 4) {
		s.ip_opt_len = opt;
		assert_flow(classify(&s), FLOW_CON);
	}
	/* Same for TCP with TCP options. */
	add(FLOW_TCP, IP4_PROTO_TCP, FLT_KIND_CONNECTED, 80, REMOTE, 40000);
	s.proto = IP4_PROTO_TCP;
	s.dport = 80;
	s.sport = 40000;
	s.tcp_opt_len = 40;
	assert_flow(classify(&s), FLOW_TCP);
}

static void
test_ip_total_length_must_fit_the_frame(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);
	uint16_t tot = ntohs(ih->tot_len);

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	/* Frame shorter than the datagram. */
	assert_drop(flt_test_one(tbl, buf, (uint16_t)(len - 1), NOW), FLT_DROP_BAD_IP_LEN);
	/* Total length below the header length. */
	ih->tot_len = htons(19);
	pkt_fix_ip_csum(buf);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_IP_LEN);
	/* Frame longer than the datagram: Ethernet padding, accepted. */
	ih->tot_len = htons(tot);
	pkt_fix_ip_csum(buf);
	assert_flow(flt_test_one(tbl, buf, (uint16_t)(len + 20), NOW), FLOW_CON);
}

static void
test_bad_ip_checksum_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	len = pkt_build(buf, &s);
	ih->csum ^= htons(0x0100);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_CSUM);
	/* A checksum error inside the options is caught too. */
	s.ip_opt_len = 8;
	len = pkt_build(buf, &s);
	buf[ETH_HDR_LEN + 22] = 7;
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_CSUM);
	assert_int_equal(drops(FLT_DROP_BAD_CSUM), 2);
}

static void
test_multicast_and_broadcast_sources_are_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	s.src = PKT_IP4(224, 0, 0, 1);
	assert_drop(classify(&s), FLT_DROP_BAD_SRC_ADDR);
	s.src = PKT_IP4(255, 255, 255, 255);
	assert_drop(classify(&s), FLT_DROP_BAD_SRC_ADDR);
	s.src = PKT_IP4(0, 0, 0, 0); /* DHCP clients send from 0.0.0.0 */
	assert_flow(classify(&s), FLOW_BND);
}

static void
test_udp_length_must_equal_ip_payload(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	struct udp_hdr *uh = (struct udp_hdr *)(buf + ETH_HDR_LEN + IP4_HDR_LEN);
	uint16_t ulen = ntohs(uh->len);

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	uh->len = htons((uint16_t)(ulen + 1));
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_UDP_LEN);
	uh->len = htons((uint16_t)(ulen - 1));
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_UDP_LEN);
	uh->len = htons(4);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_UDP_LEN);
	uh->len = htons(ulen);
	assert_flow(flt_test_one(tbl, buf, len, NOW), FLOW_CON);
}

static void
test_ip_payload_shorter_than_transport_header_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len = pkt_build(buf, &s);
	struct ip4_hdr *ih = (struct ip4_hdr *)(buf + ETH_HDR_LEN);

	(void)state;
	ih->tot_len = htons(IP4_HDR_LEN + 4);
	pkt_fix_ip_csum(buf);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_L4_TRUNCATED);
	s.proto = IP4_PROTO_TCP;
	len = pkt_build(buf, &s);
	ih->tot_len = htons(IP4_HDR_LEN + 19);
	pkt_fix_ip_csum(buf);
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_L4_TRUNCATED);
}

static void
test_tcp_data_offset_must_fit(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	uint16_t len;
	struct tcp_hdr *th = (struct tcp_hdr *)(buf + ETH_HDR_LEN + IP4_HDR_LEN);

	(void)state;
	s.proto = IP4_PROTO_TCP;
	s.payload_len = 0;
	len = pkt_build(buf, &s);
	th->data_off = 4 << 4;
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_TCP_OFF);
	th->data_off = 6 << 4; /* 24 bytes of header in a 20-byte segment */
	assert_drop(flt_test_one(tbl, buf, len, NOW), FLT_DROP_BAD_TCP_OFF);
	th->data_off = 5 << 4;
	assert_manager(flt_test_one(tbl, buf, len, NOW));
}

static void
test_reserved_fragment_flag_is_dropped(void **state)
{
	struct pkt_spec s = pkt_udp_default();

	(void)state;
	s.frag_off = IP4_FLAG_RF;
	assert_drop(classify(&s), FLT_DROP_BAD_FRAG);
	s.frag_off = IP4_FLAG_DF; /* DF alone is normal */
	assert_manager(classify(&s));
}

static void
test_removed_flow_stops_matching(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	struct flt_flow_spec fs =
	    flt_test_spec(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 5000);

	(void)state;
	assert_int_equal(flt_flow_add(tbl, &fs), 0);
	assert_flow(classify(&s), FLOW_CON);
	assert_int_equal(flt_flow_del(tbl, &fs), 0);
	assert_int_equal(flt_flow_count(tbl), 0);
	assert_manager(classify(&s));
	assert_int_equal(flt_flow_del(tbl, &fs), -ENOENT);
	/* The writer may wait for the (quiescent) reader, then reuse the key. */
	flt_reader_offline(tbl);
	flt_reader_sync(tbl);
	fs.flow = FLOW_CON + 1;
	assert_int_equal(flt_flow_add(tbl, &fs), 0);
	assert_flow(classify(&s), FLOW_CON + 1);
}

static void
test_flow_add_rejects_malformed_specs(void **state)
{
	struct flt_flow_spec ok =
	    flt_test_spec(1, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 5000);
	struct flt_flow_spec s;

	(void)state;
	s = ok;
	s.proto = IP4_PROTO_ICMP;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.flow = FLT_FLOW_NONE;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.remote_port = 0;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.local_addr = 0;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.kind = FLT_KIND_BOUND; /* remote fields set */
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = flt_test_spec(1, IP4_PROTO_TCP, FLT_KIND_BOUND, LOCAL, 7000, 0, 0);
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = flt_test_spec(1, IP4_PROTO_UDP, FLT_KIND_LISTENING, LOCAL, 7000, 0, 0);
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.kind = 9;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	s = ok;
	s.flags = 0x8000;
	assert_int_equal(flt_flow_add(tbl, &s), -EINVAL);
	assert_int_equal(flt_flow_count(tbl), 0);

	assert_int_equal(flt_flow_add(tbl, &ok), 0);
	s = ok;
	s.flow = 2;
	assert_int_equal(flt_flow_add(tbl, &s), -EEXIST);
	assert_int_equal(flt_flow_count(tbl), 1);
}

static void
test_flow_add_stops_at_max_flows(void **state)
{
	struct flt_flow_spec s;

	(void)state;
	for (uint16_t i = 0; i < 64; i++) {
		s = flt_test_spec(i, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE,
		    (uint16_t)(1000 + i));
		assert_int_equal(flt_flow_add(tbl, &s), 0);
	}
	s = flt_test_spec(99, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 999);
	assert_int_equal(flt_flow_add(tbl, &s), -ENOSPC);
	assert_int_equal(flt_flow_count(tbl), 64);
}

static void
test_long_mixed_burst_gets_a_verdict_per_frame(void **state)
{
	enum { N = 150 };
	static uint8_t frames[N][PKT_MAX];
	const uint8_t *pkts[N];
	uint16_t lens[N];
	struct flt_verdict out[N];
	struct flt_stats st;

	(void)state;
	for (uint16_t i = 0; i < 40; i++) {
		struct flt_flow_spec fs = flt_test_spec(100u + i, IP4_PROTO_UDP, FLT_KIND_CONNECTED,
		    LOCAL, 7000, REMOTE, (uint16_t)(2000 + i));

		assert_int_equal(flt_flow_add(tbl, &fs), 0);
	}
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_spec s = pkt_udp_default();

		/* i % 3 == 0: a connected flow; 1: the bound flow; 2: malformed. */
		s.sport = (uint16_t)(i % 3 == 1 ? 9000 : 2000 + (i % 40));
		lens[i] = pkt_build(frames[i], &s);
		if (i % 3 == 2)
			frames[i][ETH_HDR_LEN + 10] ^= 0xff; /* checksum */
		pkts[i] = frames[i];
	}
	assert_int_equal(flt_demux_burst(tbl, pkts, lens, N, NOW, out), N);
	for (unsigned i = 0; i < N; i++) {
		if (i % 3 == 0)
			assert_flow(out[i], 100 + (i % 40));
		else if (i % 3 == 1)
			assert_flow(out[i], FLOW_BND);
		else
			assert_drop(out[i], FLT_DROP_BAD_CSUM);
	}
	flt_stats_get(tbl, &st);
	assert_int_equal(st.rx_pkts, N);
	assert_int_equal(st.rx_flow, 100);
	assert_int_equal(st.rx_dropped, 50);
	assert_int_equal(st.drop[FLT_DROP_BAD_CSUM], 50);
}

/*
 * A packet to a local port with no connected flow skips the 5-tuple lookup
 * (filters.md): a flow table that counts connected flows per protocol and
 * port must never skip one that is installed, through adds and deletes.
 */
static void
test_connected_flows_are_counted_per_protocol_and_port(void **state)
{
	struct pkt_spec s = pkt_udp_default();
	struct flt_flow_spec c1 =
	    flt_test_spec(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 5000);
	struct flt_flow_spec c2 = flt_test_spec(
	    FLOW_CON + 1, IP4_PROTO_UDP, FLT_KIND_CONNECTED, LOCAL, 7000, REMOTE, 5001);
	struct flt_flow_spec t1 =
	    flt_test_spec(FLOW_TCP, IP4_PROTO_TCP, FLT_KIND_CONNECTED, LOCAL, 7001, REMOTE, 5000);

	(void)state;
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	add(FLOW_BND + 1, IP4_PROTO_UDP, FLT_KIND_BOUND, 7001, 0, 0);
	assert_int_equal(flt_flow_add(tbl, &c1), 0);
	assert_int_equal(flt_flow_add(tbl, &c2), 0);
	/* A TCP flow on 7001 says nothing about UDP on 7001. */
	assert_int_equal(flt_flow_add(tbl, &t1), 0);
	/* A refused add counts nothing. */
	assert_int_equal(flt_flow_add(tbl, &c1), -EEXIST);

	assert_flow(classify(&s), FLOW_CON);
	s.sport = 5001;
	assert_flow(classify(&s), FLOW_CON + 1);
	s.dport = 7001;
	assert_flow(classify(&s), FLOW_BND + 1);

	/* One of two connected flows on 7000 goes: the other still wins. */
	assert_int_equal(flt_flow_del(tbl, &c1), 0);
	s.dport = 7000;
	s.sport = 5000;
	assert_flow(classify(&s), FLOW_BND);
	s.sport = 5001;
	assert_flow(classify(&s), FLOW_CON + 1);
	assert_int_equal(flt_flow_del(tbl, &c2), 0);
	assert_flow(classify(&s), FLOW_BND);
	/* And it comes back when a connected flow does. */
	flt_reader_offline(tbl);
	flt_reader_sync(tbl);
	assert_int_equal(flt_flow_add(tbl, &c2), 0);
	assert_flow(classify(&s), FLOW_CON + 1);
}

/* One burst mixing ports with and without connected flows: each verdict
 * lands on its own frame whichever lookups it took. */
static void
test_burst_mixing_ports_with_and_without_connected_flows(void **state)
{
	enum { N = 64 };
	static uint8_t frames[N][PKT_MAX];
	const uint8_t *pkts[N];
	uint16_t lens[N];
	struct flt_verdict out[N];

	(void)state;
	add(FLOW_CON, IP4_PROTO_UDP, FLT_KIND_CONNECTED, 7000, REMOTE, 5000);
	add(FLOW_BND, IP4_PROTO_UDP, FLT_KIND_BOUND, 7000, 0, 0);
	add(FLOW_BND + 1, IP4_PROTO_UDP, FLT_KIND_BOUND, 7001, 0, 0);
	for (unsigned i = 0; i < N; i++) {
		struct pkt_spec s = pkt_udp_default();

		/* i % 4: 0 connected; 1 bound on 7000; 2 bound on 7001; 3 no flow. */
		s.sport = (uint16_t)(i % 4 == 0 ? 5000 : 6000);
		s.dport = (uint16_t)(i % 4 < 2 ? 7000 : i % 4 == 2 ? 7001 : 7002);
		lens[i] = pkt_build(frames[i], &s);
		pkts[i] = frames[i];
	}
	assert_int_equal(flt_demux_burst(tbl, pkts, lens, N, NOW, out), N);
	for (unsigned i = 0; i < N; i++) {
		if (i % 4 == 0)
			assert_flow(out[i], FLOW_CON);
		else if (i % 4 == 1)
			assert_flow(out[i], FLOW_BND);
		else if (i % 4 == 2)
			assert_flow(out[i], FLOW_BND + 1);
		else
			assert_manager(out[i]);
	}
}

/*
 * The table against a model, through random adds and deletes of connected
 * and bound/listening flows of both protocols on a few ports: after every
 * change each frame of the traffic universe (one burst) goes to the flow
 * the rules say (a connected flow, else the port's bound or listening flow,
 * else the flow manager), whether or not its port has connected flows.
 */
static void
test_random_adds_and_deletes_match_a_model(void **state)
{
	enum { NP = 3, NR = 4, NSPEC = 2 * NP * (1 + NR), NPKT = 2 * NP * NR };
	static const uint16_t lport[NP] = {7000, 7001, 7002};
	const uint32_t raddr[NR] = {REMOTE, REMOTE, OTHER, OTHER};
	static const uint16_t rport[NR] = {5000, 5001, 5000, 5001};
	static uint8_t frames[NPKT][PKT_MAX];
	struct flt_flow_spec spec[NSPEC];
	bool in[NSPEC] = {false};
	const uint8_t *pkts[NPKT];
	uint16_t lens[NPKT];
	struct flt_verdict out[NPKT];
	uint64_t rng = 0x9e3779b97f4a7c15ull;

	(void)state;
	/* spec index: ((proto * NP + port) * (1 + NR)) + 0 for the 3-tuple, 1 + r connected. */
	for (unsigned pr = 0; pr < 2; pr++) {
		uint8_t proto = pr ? IP4_PROTO_TCP : IP4_PROTO_UDP;
		uint8_t k3 = pr ? FLT_KIND_LISTENING : FLT_KIND_BOUND;

		for (unsigned p = 0; p < NP; p++) {
			unsigned b = (pr * NP + p) * (1 + NR);

			spec[b] = flt_test_spec(1 + b, proto, k3, LOCAL, lport[p], 0, 0);
			for (unsigned r = 0; r < NR; r++)
				spec[b + 1 + r] = flt_test_spec(2 + b + r, proto,
				    FLT_KIND_CONNECTED, LOCAL, lport[p], raddr[r], rport[r]);
		}
	}
	/* packet index: (proto * NP + port) * NR + remote. */
	for (unsigned i = 0; i < NPKT; i++) {
		struct pkt_spec ps = pkt_udp_default();

		ps.proto = i / (NP * NR) ? IP4_PROTO_TCP : IP4_PROTO_UDP;
		ps.tcp_flags = TCP_FLAG_ACK;
		ps.dport = lport[i / NR % NP];
		ps.src = raddr[i % NR];
		ps.sport = rport[i % NR];
		lens[i] = pkt_build(frames[i], &ps);
		pkts[i] = frames[i];
	}
	for (unsigned step = 0; step < 600; step++) {
		unsigned k;

		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		k = (unsigned)(rng % NSPEC);
		if (in[k]) {
			assert_int_equal(flt_flow_del(tbl, &spec[k]), 0);
			/* As the driver does before a slot may be reused. */
			flt_reader_offline(tbl);
			flt_reader_sync(tbl);
		} else {
			assert_int_equal(flt_flow_add(tbl, &spec[k]), 0);
		}
		in[k] = !in[k];

		assert_int_equal(flt_demux_burst(tbl, pkts, lens, NPKT, NOW, out), NPKT);
		for (unsigned i = 0; i < NPKT; i++) {
			unsigned b = i / NR * (1 + NR), r = i % NR;

			if (in[b + 1 + r])
				assert_flow(out[i], spec[b + 1 + r].flow);
			else if (in[b])
				assert_flow(out[i], spec[b].flow);
			else
				assert_manager(out[i]);
		}
	}
}

static void
test_every_reason_has_a_name_and_description(void **state)
{
	(void)state;
	for (unsigned r = 0; r < FLT_DROP__COUNT; r++) {
		assert_non_null(flt_drop_name(r));
		assert_true(strlen(flt_drop_desc(r)) > 5);
	}
	for (unsigned r = 0; r < FLT_TX__COUNT; r++) {
		assert_non_null(flt_tx_name(r));
		assert_true(strlen(flt_tx_desc(r)) > 5);
	}
	assert_string_equal(flt_drop_name(FLT_DROP_BAD_CSUM), "BAD_CSUM");
	assert_string_equal(flt_tx_name(FLT_TX_BAD_SRC_MAC), "BAD_SRC_MAC");
	assert_string_equal(flt_drop_name(FLT_DROP__COUNT), "?");
}

static void
test_table_create_rejects_bad_config(void **state)
{
	struct flt_table_cfg cfg = {.max_flows = FLT_MAX_FLOWS + 1};

	(void)state;
	assert_null(flt_table_create(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg = (struct flt_table_cfg){.name = "a_name_far_too_long_for_dpdk"};
	assert_null(flt_table_create(&cfg));
	assert_int_equal(errno, EINVAL);
	cfg = (struct flt_table_cfg){.hold_slots = 5000};
	assert_null(flt_table_create(&cfg));
	assert_int_equal(errno, EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_udp_to_connected_flow_gets_its_id),
	    T(test_five_tuple_beats_three_tuple),
	    T(test_bound_flow_takes_any_remote_but_only_its_protocol),
	    T(test_listening_flow_takes_syns_and_connected_flow_its_segments),
	    T(test_unclaimed_udp_and_tcp_go_to_manager),
	    T(test_non_ipv4_ethertypes_go_to_manager),
	    T(test_icmp_and_other_protocols_go_to_manager),
	    T(test_datagram_above_the_mtu_arriving_whole_reaches_its_flow),
	    T(test_icmp_port_unreachable_reaches_the_connected_flow_that_sent),
	    T(test_icmp_error_reaches_the_bound_flow_that_sent),
	    T(test_icmp_error_about_a_port_no_flow_owns_goes_to_manager),
	    T(test_icmp_error_with_a_bad_quote_goes_to_manager),
	    T(test_icmp_error_with_random_quotes_never_misroutes),
	    T(test_truncated_frames_are_dropped),
	    T(test_ip_version_other_than_4_is_dropped),
	    T(test_ihl_below_five_is_dropped),
	    T(test_ip_options_are_skipped_by_ihl),
	    T(test_ip_total_length_must_fit_the_frame),
	    T(test_bad_ip_checksum_is_dropped),
	    T(test_multicast_and_broadcast_sources_are_dropped),
	    T(test_udp_length_must_equal_ip_payload),
	    T(test_ip_payload_shorter_than_transport_header_is_dropped),
	    T(test_tcp_data_offset_must_fit),
	    T(test_reserved_fragment_flag_is_dropped),
	    T(test_removed_flow_stops_matching),
	    T(test_flow_add_rejects_malformed_specs),
	    T(test_flow_add_stops_at_max_flows),
	    T(test_long_mixed_burst_gets_a_verdict_per_frame),
	    T(test_connected_flows_are_counted_per_protocol_and_port),
	    T(test_burst_mixing_ports_with_and_without_connected_flows),
	    T(test_random_adds_and_deletes_match_a_model),
	    T(test_every_reason_has_a_name_and_description),
	    T(test_table_create_rejects_bad_config),
	};
	int rc;

	flt_test_eal_init("test_filters_demux");
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rte_eal_cleanup();
	return rc;
}
