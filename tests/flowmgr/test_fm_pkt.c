/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Last-resort packet handler: ARP replies and learning, echo replies, port
 * unreachables and RSTs checked byte by byte (checksums recomputed here
 * independently), the rate limit, and malformed frames -- truncated at every
 * length, bad IHL, bad checksums, fragments, wrong ethertypes -- which are
 * counted drops and never a reply.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/wire/arp.h"
#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"
#include "flowmgr/fm_pkt.h"
#include "tests/support/pkt.h"

#define HIP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define US		HIP(10, 0, 0, 1) /* pkt_udp_default()'s destination */
#define US2		HIP(10, 0, 0, 9)
#define THEM		HIP(10, 0, 0, 2) /* ... and its source */
#define NOW		1000000000ull

static const uint8_t our_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t their_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint32_t our_addrs[] = {US, US2};
static const struct fm_pkt_if ifc = {
    .mac = {0x02, 0, 0, 0, 0, 0x01},
    .n_addrs = 2,
    .addrs = our_addrs,
};

static struct fm_pkt *p;
static uint8_t frame[PKT_MAX];
static uint8_t reply[PKT_MAX];

static int
setup(void **state)
{
	struct fm_pkt_cfg cfg = {.seed = 0x1234};

	(void)state;
	p = fm_pkt_create(&cfg);
	return p ? 0 : -1;
}

/* Every test leaves counters that add up. */
static int
teardown(void **state)
{
	struct fm_pkt_stats st;
	uint64_t acts = 0, drops = 0;

	(void)state;
	fm_pkt_stats_get(p, &st);
	for (unsigned i = 0; i < FM_PKT_ACT__COUNT; i++)
		acts += st.action[i];
	for (unsigned i = 0; i < FM_PKT_DROP__COUNT; i++)
		drops += st.drop[i];
	assert_int_equal(st.rx, acts);
	assert_int_equal(st.action[FM_PKT_ACT_DROP], drops);
	assert_int_equal(st.drop[FM_PKT_DROP_NONE], 0);
	fm_pkt_destroy(p);
	p = NULL;
	return 0;
}

/* Independent checks: big-endian word sums written out, no shared helper. */
static uint16_t
rd16(const uint8_t *b)
{
	return (uint16_t)(b[0] << 8 | b[1]);
}

static uint32_t
rd32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint32_t
ref_sum(const uint8_t *b, size_t len, uint32_t acc)
{
	for (size_t i = 0; i < len; i++)
		acc += i % 2 ? b[i] : (uint32_t)b[i] << 8;
	return acc;
}

/* Nonzero when the ones' complement sum of the bytes (and acc) is 0xffff. */
static int
ref_ok(const uint8_t *b, size_t len, uint32_t acc)
{
	uint32_t s = ref_sum(b, len, acc);

	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff;
}

/* The pseudo-header of a TCP or UDP segment in an IPv4 header at ip. */
static uint32_t
ref_pseudo(const uint8_t *ip, size_t l4_len)
{
	return ref_sum(ip + 12, 8, 0) + ip[9] + (uint32_t)l4_len;
}

static struct fm_pkt_verdict
input_at(const uint8_t *f, size_t len, uint64_t now)
{
	struct fm_pkt_verdict v;

	memset(&v, 0xa5, sizeof(v));
	memset(reply, 0xee, sizeof(reply));
	fm_pkt_input(p, &ifc, f, len, now, reply, sizeof(reply), &v);
	return v;
}

static struct fm_pkt_verdict
input(const uint8_t *f, size_t len)
{
	return input_at(f, len, NOW);
}

static void
assert_drop(struct fm_pkt_verdict v, unsigned reason)
{
	assert_int_equal(v.action, FM_PKT_ACT_DROP);
	assert_string_equal(fm_pkt_drop_name(v.reason), fm_pkt_drop_name(reason));
	assert_int_equal(v.reply_len, 0);
}

/* Frame builders on top of tests/support/pkt. */

static uint16_t
arp_frame(uint8_t *f, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6], uint32_t spa,
    uint32_t tpa)
{
	struct eth_hdr eh;
	struct arp_hdr ah = {
	    .htype = htons(ARP_HTYPE_ETHER),
	    .ptype = htons(ETH_TYPE_IPV4),
	    .hlen = 6,
	    .plen = 4,
	    .op = htons(op),
	    .spa = htonl(spa),
	    .tpa = htonl(tpa),
	};

	memset(f, 0, PKT_MAX);
	memcpy(eh.dst.b, eth_dst, 6);
	memcpy(eh.src.b, sha, 6);
	eh.type = htons(ETH_TYPE_ARP);
	memcpy(ah.sha.b, sha, 6);
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + ETH_HDR_LEN, &ah, sizeof(ah));
	return ETH_HDR_LEN + ARP_HDR_LEN;
}

/* An ICMP message of type with data_len bytes 0, 1, 2, ... after its header. */
static uint16_t
icmp_frame(
    uint8_t *f, uint8_t type, uint16_t id, uint16_t seq, uint16_t data_len, uint8_t ip_opt_len)
{
	struct pkt_spec s = pkt_udp_default();
	uint8_t *ic;
	uint16_t len, ihl = (uint16_t)(IP4_HDR_LEN + ip_opt_len);

	s.proto = IP4_PROTO_ICMP;
	s.payload_len = (uint16_t)(ICMP_HDR_LEN + data_len);
	s.ip_opt_len = ip_opt_len;
	len = pkt_build(f, &s);
	ic = f + ETH_HDR_LEN + ihl;
	memmove(ic + ICMP_HDR_LEN, ic, data_len);
	for (unsigned i = 0; i < data_len; i++)
		ic[ICMP_HDR_LEN + i] = (uint8_t)i;
	ic[0] = type;
	ic[1] = 0;
	ic[2] = ic[3] = 0;
	ic[4] = (uint8_t)(id >> 8), ic[5] = (uint8_t)id;
	ic[6] = (uint8_t)(seq >> 8), ic[7] = (uint8_t)seq;
	{
		uint16_t c = wire_inet_csum(ic, ICMP_HDR_LEN + data_len);

		memcpy(ic + 2, &c, 2);
	}
	return len;
}

static uint16_t
udp_frame(uint8_t *f, uint16_t payload, uint8_t ip_opt_len)
{
	struct pkt_spec s = pkt_udp_default();

	s.payload_len = payload;
	s.ip_opt_len = ip_opt_len;
	return pkt_build(f, &s);
}

static uint16_t
tcp_frame(uint8_t *f, uint8_t flags, uint16_t payload, uint8_t tcp_opt_len)
{
	struct pkt_spec s = pkt_udp_default();

	s.proto = IP4_PROTO_TCP;
	s.tcp_flags = flags;
	s.payload_len = payload;
	s.tcp_opt_len = tcp_opt_len;
	return pkt_build(f, &s);
}

/* Rewrite the TCP ack field and fix the TCP checksum. */
static void
tcp_set_ack(uint8_t *f, uint32_t ack)
{
	uint8_t *ip = f + ETH_HDR_LEN, *th = ip + IP4_HDR_LEN;
	size_t l4 = rd16(ip + 2) - IP4_HDR_LEN;
	uint32_t s;

	th[8] = (uint8_t)(ack >> 24), th[9] = (uint8_t)(ack >> 16);
	th[10] = (uint8_t)(ack >> 8), th[11] = (uint8_t)ack;
	th[16] = th[17] = 0;
	s = ref_sum(th, l4, ref_pseudo(ip, l4));
	while (s > 0xffff)
		s = (s & 0xffff) + (s >> 16);
	s = ~s & 0xffff;
	th[16] = (uint8_t)(s >> 8), th[17] = (uint8_t)s;
}

/* The Ethernet + IPv4 header of a reply to the default frame. */
static void
check_reply_ip(const uint8_t *r, size_t len, uint8_t proto, uint16_t ip_id)
{
	const uint8_t *ip = r + ETH_HDR_LEN;

	assert_true(len >= ETH_HDR_LEN + IP4_HDR_LEN);
	assert_memory_equal(r, their_mac, 6);
	assert_memory_equal(r + 6, our_mac, 6);
	assert_int_equal(rd16(r + 12), ETH_TYPE_IPV4);
	assert_int_equal(ip[0], 0x45);
	assert_int_equal(ip[1], 0);
	assert_int_equal(rd16(ip + 2), len - ETH_HDR_LEN);
	assert_int_equal(rd16(ip + 4), ip_id);
	assert_int_equal(rd16(ip + 6), 0);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], proto);
	assert_int_equal(rd32(ip + 12), US);
	assert_int_equal(rd32(ip + 16), THEM);
	assert_true(ref_ok(ip, IP4_HDR_LEN, 0));
}

/* ARP. */

static void
check_arp_reply(const uint8_t *r, uint32_t tpa)
{
	assert_memory_equal(r, their_mac, 6);
	assert_memory_equal(r + 6, our_mac, 6);
	assert_int_equal(rd16(r + 12), ETH_TYPE_ARP);
	assert_int_equal(rd16(r + 14), 1);
	assert_int_equal(rd16(r + 16), 0x0800);
	assert_int_equal(r[18], 6);
	assert_int_equal(r[19], 4);
	assert_int_equal(rd16(r + 20), ARP_OP_REPLY);
	assert_memory_equal(r + 22, our_mac, 6);
	assert_int_equal(rd32(r + 28), US);
	assert_memory_equal(r + 32, their_mac, 6);
	assert_int_equal(rd32(r + 38), tpa);
}

static void
test_arp_request_for_us_is_answered_and_learnt(void **state)
{
	uint16_t len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	struct fm_pkt_verdict v;

	(void)state;
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_REPLY);
	assert_int_equal(v.reason, FM_PKT_DROP_NONE);
	assert_int_equal(v.reply_len, FM_PKT_ARP_LEN);
	assert_int_equal(v.learn, 1);
	assert_int_equal(v.for_us, 1);
	assert_int_equal(v.ip, THEM);
	assert_memory_equal(v.mac, their_mac, 6);
	check_arp_reply(reply, THEM);
	/* A unicast request (a refresh probe) is answered too. */
	len = arp_frame(frame, our_mac, ARP_OP_REQUEST, their_mac, THEM, US);
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_REPLY);
	/* Padded to 60 bytes by the sender's NIC: still fine. */
	v = input(frame, ETH_MIN_LEN);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_REPLY);
}

static void
test_arp_from_others_is_learnt_only(void **state)
{
	uint16_t len;
	struct fm_pkt_verdict v;

	(void)state;
	/* A request for someone else: heard, not for us, no reply. */
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, HIP(10, 0, 0, 3));
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_LEARN);
	assert_int_equal(v.reply_len, 0);
	assert_int_equal(v.learn, 1);
	assert_int_equal(v.for_us, 0);
	/* A reply to our request: heard, for us. */
	len = arp_frame(frame, our_mac, ARP_OP_REPLY, their_mac, THEM, US2);
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_LEARN);
	assert_int_equal(v.for_us, 1);
	assert_int_equal(v.ip, THEM);
	/* A gratuitous ARP (sender == target, broadcast). */
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, THEM);
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_LEARN);
	assert_int_equal(v.for_us, 0);
}

static void
test_arp_probe_for_us_gets_reply_to_zero(void **state)
{
	uint16_t len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, 0, US);
	struct fm_pkt_verdict v;

	(void)state;
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ARP_REPLY);
	assert_int_equal(v.learn, 0);
	check_arp_reply(reply, 0);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, 0, THEM);
	assert_drop(input(frame, len), FM_PKT_DROP_ARP_PROBE);
}

static void
test_bad_arp_is_dropped(void **state)
{
	static const uint8_t group[6] = {0x01, 0, 0x5e, 0, 0, 1};
	static const uint8_t zero[6];
	uint16_t len;

	(void)state;
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	frame[15] = 6; /* htype 6 (IEEE 802) */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	frame[17] = 0xdd; /* ptype 0x08dd */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	frame[18] = 8; /* hlen */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	frame[19] = 16; /* plen */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	len = arp_frame(frame, bcast, 3, their_mac, THEM, US);
	assert_drop(input(frame, len), FM_PKT_DROP_ARP_OP);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	memcpy(frame + 22, group, 6); /* sender MAC a group address */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	memcpy(frame + 22, zero, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, HIP(224, 0, 0, 1), US);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_ARP);
	/* Someone claims our address. */
	len = arp_frame(frame, bcast, ARP_OP_REPLY, their_mac, US2, US2);
	assert_drop(input(frame, len), FM_PKT_DROP_ARP_CONFLICT);
	/* ARP to a multicast MAC, or to another host's MAC. */
	len = arp_frame(frame, group, ARP_OP_REQUEST, their_mac, THEM, US);
	assert_drop(input(frame, len), FM_PKT_DROP_NOT_OUR_MAC);
	len = arp_frame(frame, their_mac, ARP_OP_REQUEST, our_mac, THEM, US);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_SRC_MAC);
	len = arp_frame(
	    frame, (const uint8_t[6]){2, 0, 0, 0, 0, 7}, ARP_OP_REQUEST, their_mac, THEM, US);
	assert_drop(input(frame, len), FM_PKT_DROP_NOT_OUR_MAC);
}

/* ICMP echo. */

static void
test_echo_request_gets_echo_reply(void **state)
{
	uint16_t len = icmp_frame(frame, ICMP_ECHO_REQUEST, 0xbeef, 7, 56, 0);
	struct fm_pkt_verdict v;
	const uint8_t *ic = reply + ETH_HDR_LEN + IP4_HDR_LEN;

	(void)state;
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ECHO_REPLY);
	assert_int_equal(v.learn, 0);
	assert_int_equal(v.reply_len, len);
	check_reply_ip(reply, v.reply_len, IP4_PROTO_ICMP, 0x1234);
	assert_int_equal(ic[0], ICMP_ECHO_REPLY);
	assert_int_equal(ic[1], 0);
	assert_int_equal(rd16(ic + 4), 0xbeef);
	assert_int_equal(rd16(ic + 6), 7);
	assert_memory_equal(ic + 8, frame + ETH_HDR_LEN + IP4_HDR_LEN + 8, 56);
	assert_true(ref_ok(ic, 8 + 56, 0));
	/* The IP id counts up; odd data lengths checksum right. */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 8, 57, 0);
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ECHO_REPLY);
	check_reply_ip(reply, v.reply_len, IP4_PROTO_ICMP, 0x1235);
	assert_true(ref_ok(ic, 8 + 57, 0));
	/* With IP options in the request: the reply has none. */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 2, 9, 0, 8);
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ECHO_REPLY);
	assert_int_equal(v.reply_len, ETH_HDR_LEN + IP4_HDR_LEN + ICMP_HDR_LEN);
	check_reply_ip(reply, v.reply_len, IP4_PROTO_ICMP, 0x1236);
	assert_true(ref_ok(ic, 8, 0));
	/* Sent to our second address: answered from it. */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 3, 10, 4, 0);
	{
		uint32_t d = htonl(US2);

		memcpy(frame + ETH_HDR_LEN + 16, &d, 4);
		pkt_fix_ip_csum(frame);
	}
	v = input(frame, len);
	assert_int_equal(v.action, FM_PKT_ACT_ECHO_REPLY);
	assert_int_equal(rd32(reply + ETH_HDR_LEN + 12), US2);
}

static void
test_other_icmp_and_bad_icmp_are_dropped(void **state)
{
	uint16_t len;

	(void)state;
	len = icmp_frame(frame, ICMP_ECHO_REPLY, 1, 1, 8, 0);
	assert_drop(input(frame, len), FM_PKT_DROP_ICMP_OTHER);
	len = icmp_frame(frame, ICMP_DEST_UNREACH, 1, 1, 28, 0);
	assert_drop(input(frame, len), FM_PKT_DROP_ICMP_OTHER);
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 8, 0);
	frame[len - 1] ^= 0x40;
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_L4_CSUM);
	/* An ICMP message shorter than its header. */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 0, 0);
	frame[ETH_HDR_LEN + 3] = IP4_HDR_LEN + 4; /* total length 24 */
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_L4_TRUNCATED);
}

/* UDP: port unreachable. */

static void
check_port_unreach(const uint8_t *f, struct fm_pkt_verdict v, size_t ihl, uint16_t ip_id)
{
	const uint8_t *ic = reply + ETH_HDR_LEN + IP4_HDR_LEN;
	size_t quote = ihl + 8;

	assert_int_equal(v.action, FM_PKT_ACT_PORT_UNREACH);
	assert_int_equal(v.reply_len, ETH_HDR_LEN + IP4_HDR_LEN + ICMP_HDR_LEN + quote);
	assert_true(v.reply_len <= FM_PKT_UNREACH_MAX);
	check_reply_ip(reply, v.reply_len, IP4_PROTO_ICMP, ip_id);
	assert_int_equal(ic[0], 3);
	assert_int_equal(ic[1], 3);
	assert_int_equal(rd32(ic + 4), 0);
	/* The offending IP header as received, then 8 bytes: the UDP header. */
	assert_memory_equal(ic + 8, f + ETH_HDR_LEN, quote);
	assert_true(ref_ok(ic, ICMP_HDR_LEN + quote, 0));
}

static void
test_udp_gets_port_unreachable(void **state)
{
	uint16_t len;

	(void)state;
	len = udp_frame(frame, 100, 0);
	check_port_unreach(frame, input(frame, len), IP4_HDR_LEN, 0x1234);
	len = udp_frame(frame, 0, 0);
	check_port_unreach(frame, input(frame, len), IP4_HDR_LEN, 0x1235);
	len = udp_frame(frame, 5, 40);
	check_port_unreach(frame, input(frame, len), IP4_HDR_LEN + 40, 0x1236);
	/* Checksum 0: none was computed, accepted. */
	len = udp_frame(frame, 10, 0);
	frame[ETH_HDR_LEN + IP4_HDR_LEN + 6] = 0;
	frame[ETH_HDR_LEN + IP4_HDR_LEN + 7] = 0;
	check_port_unreach(frame, input(frame, len), IP4_HDR_LEN, 0x1237);
}

static void
test_bad_udp_is_dropped(void **state)
{
	uint16_t len;
	uint8_t *uh = frame + ETH_HDR_LEN + IP4_HDR_LEN;

	(void)state;
	len = udp_frame(frame, 10, 0);
	uh[8] ^= 1;
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_L4_CSUM);
	len = udp_frame(frame, 10, 0);
	uh[4] = 0, uh[5] = 4; /* UDP length 4 */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_UDP_LEN);
	len = udp_frame(frame, 10, 0);
	uh[4] = 0, uh[5] = 19; /* one more than the IP payload */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_UDP_LEN);
	len = udp_frame(frame, 0, 0);
	frame[ETH_HDR_LEN + 3] = IP4_HDR_LEN + 7;
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_L4_TRUNCATED);
}

static void
test_port_unreachable_is_rate_limited(void **state)
{
	struct fm_pkt_cfg cfg = {.err_rate = 10, .err_burst = 3, .seed = 1};
	struct fm_pkt_stats st;
	uint16_t len = udp_frame(frame, 4, 0);

	(void)state;
	fm_pkt_destroy(p);
	p = fm_pkt_create(&cfg);
	assert_non_null(p);
	for (int i = 0; i < 3; i++)
		assert_int_equal(input_at(frame, len, NOW).action, FM_PKT_ACT_PORT_UNREACH);
	assert_drop(input_at(frame, len, NOW), FM_PKT_DROP_RATE_LIMIT);
	/* TCP RSTs share the bucket. */
	len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
	assert_drop(input_at(frame, len, NOW + 99000000ull), FM_PKT_DROP_RATE_LIMIT);
	/* One token every 100 ms. */
	assert_int_equal(input_at(frame, len, NOW + 100000000ull).action, FM_PKT_ACT_TCP_RST);
	assert_drop(input_at(frame, len, NOW + 150000000ull), FM_PKT_DROP_RATE_LIMIT);
	/* After a long quiet time, only the burst goes. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(input_at(frame, len, 100 * NOW).action, FM_PKT_ACT_TCP_RST);
	assert_drop(input_at(frame, len, 100 * NOW), FM_PKT_DROP_RATE_LIMIT);
	/* A clock going backwards gives nothing, and breaks nothing. */
	assert_drop(input_at(frame, len, NOW), FM_PKT_DROP_RATE_LIMIT);
	/* Echo replies are not limited. */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 8, 0);
	assert_int_equal(input_at(frame, len, 100 * NOW).action, FM_PKT_ACT_ECHO_REPLY);
	fm_pkt_stats_get(p, &st);
	assert_int_equal(st.drop[FM_PKT_DROP_RATE_LIMIT], 5);
	assert_int_equal(st.action[FM_PKT_ACT_PORT_UNREACH], 3);
	assert_int_equal(st.action[FM_PKT_ACT_TCP_RST], 4);
}

/* TCP: RST. */

static void
check_rst(struct fm_pkt_verdict v, uint32_t seq, uint32_t ack, uint8_t flags)
{
	const uint8_t *ip = reply + ETH_HDR_LEN, *th = ip + IP4_HDR_LEN;

	assert_int_equal(v.action, FM_PKT_ACT_TCP_RST);
	assert_int_equal(v.reply_len, FM_PKT_RST_LEN);
	assert_int_equal(rd16(ip + 2), IP4_HDR_LEN + TCP_HDR_LEN);
	assert_int_equal(ip[8], 64);
	assert_int_equal(ip[9], IP4_PROTO_TCP);
	assert_true(ref_ok(ip, IP4_HDR_LEN, 0));
	assert_int_equal(rd16(th), 7000);
	assert_int_equal(rd16(th + 2), 5000);
	assert_int_equal(rd32(th + 4), seq);
	assert_int_equal(rd32(th + 8), ack);
	assert_int_equal(th[12], 0x50);
	assert_int_equal(th[13], flags);
	assert_int_equal(rd16(th + 14), 0);
	assert_int_equal(rd16(th + 18), 0);
	assert_true(ref_ok(th, TCP_HDR_LEN, ref_pseudo(ip, TCP_HDR_LEN)));
}

static void
test_tcp_gets_rst_per_rfc793(void **state)
{
	uint16_t len;
	struct fm_pkt_verdict v;

	(void)state;
	/* SYN, no ACK: seq 0, ack = their seq + 1, RST|ACK (pkt's seq is 1000). */
	len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
	v = input(frame, len);
	check_reply_ip(reply, v.reply_len, IP4_PROTO_TCP, 0x1234);
	check_rst(v, 0, 1001, TCP_FLAG_RST | TCP_FLAG_ACK);
	/* SYN+FIN with 5 bytes and options: ack = seq + 5 + 1 + 1. */
	len = tcp_frame(frame, TCP_FLAG_SYN | TCP_FLAG_FIN, 5, 12);
	check_rst(input(frame, len), 0, 1007, TCP_FLAG_RST | TCP_FLAG_ACK);
	/* Data without ACK. */
	len = tcp_frame(frame, TCP_FLAG_PSH, 33, 0);
	check_rst(input(frame, len), 0, 1033, TCP_FLAG_RST | TCP_FLAG_ACK);
	/* ACK set: seq = their ack, RST alone. */
	len = tcp_frame(frame, TCP_FLAG_ACK | TCP_FLAG_PSH, 10, 0);
	tcp_set_ack(frame, 0xdeadbeef);
	check_rst(input(frame, len), 0xdeadbeef, 0, TCP_FLAG_RST);
	/* Sequence numbers wrap. */
	len = tcp_frame(frame, TCP_FLAG_FIN, 0, 0);
	{
		uint8_t *th = frame + ETH_HDR_LEN + IP4_HDR_LEN;

		th[4] = th[5] = th[6] = th[7] = 0xff;
		tcp_set_ack(frame, 0);
	}
	check_rst(input(frame, len), 0, 0, TCP_FLAG_RST | TCP_FLAG_ACK);
}

static void
test_bad_tcp_and_rst_are_dropped(void **state)
{
	uint16_t len;
	uint8_t *th = frame + ETH_HDR_LEN + IP4_HDR_LEN;

	(void)state;
	len = tcp_frame(frame, TCP_FLAG_RST, 0, 0);
	assert_drop(input(frame, len), FM_PKT_DROP_TCP_GOT_RST);
	len = tcp_frame(frame, TCP_FLAG_RST | TCP_FLAG_ACK, 0, 0);
	assert_drop(input(frame, len), FM_PKT_DROP_TCP_GOT_RST);
	len = tcp_frame(frame, TCP_FLAG_SYN, 4, 0);
	th[21] ^= 0x10;
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_L4_CSUM);
	len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
	th[12] = 0x40; /* data offset 4 */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_TCP_OFF);
	th[12] = 0xf0; /* data offset 15 in a 20-byte segment */
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_TCP_OFF);
	len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
	frame[ETH_HDR_LEN + 3] = IP4_HDR_LEN + 19;
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_L4_TRUNCATED);
}

/* Fragments. */

static void
test_fragments(void **state)
{
	static uint8_t frags[4][PKT_MAX];
	uint16_t lens[4], len;
	unsigned n;

	(void)state;
	/* UDP: the first fragment is answered, the later ones dropped. */
	len = udp_frame(frame, 100, 0);
	n = pkt_fragment(frame, len, 48, frags, lens, 4);
	assert_int_equal(n, 3);
	check_port_unreach(frags[0], input(frags[0], lens[0]), IP4_HDR_LEN, 0x1234);
	assert_drop(input(frags[1], lens[1]), FM_PKT_DROP_FRAGMENT);
	assert_drop(input(frags[2], lens[2]), FM_PKT_DROP_FRAGMENT);
	/* TCP and ICMP first fragments: not enough to answer. */
	len = tcp_frame(frame, TCP_FLAG_SYN, 100, 0);
	n = pkt_fragment(frame, len, 64, frags, lens, 4);
	assert_drop(input(frags[0], lens[0]), FM_PKT_DROP_FRAGMENT);
	assert_drop(input(frags[1], lens[1]), FM_PKT_DROP_FRAGMENT);
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 100, 0);
	n = pkt_fragment(frame, len, 64, frags, lens, 4);
	assert_int_equal(n, 2);
	assert_drop(input(frags[0], lens[0]), FM_PKT_DROP_FRAGMENT);
	/* The reserved flag. */
	len = udp_frame(frame, 10, 0);
	frame[ETH_HDR_LEN + 6] |= 0x80;
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_FRAG);
	/* DF alone is no fragment. */
	len = udp_frame(frame, 10, 0);
	frame[ETH_HDR_LEN + 6] |= 0x40;
	pkt_fix_ip_csum(frame);
	assert_int_equal(input(frame, len).action, FM_PKT_ACT_PORT_UNREACH);
}

/* Addresses. */

static void
set_addr(uint8_t *f, unsigned off, uint32_t addr)
{
	uint32_t n = htonl(addr);

	memcpy(f + ETH_HDR_LEN + off, &n, 4);
	pkt_fix_ip_csum(f);
}

static void
test_not_for_us_or_not_answerable(void **state)
{
	static const struct {
		unsigned off;
		uint32_t addr;
		unsigned reason;
	} cases[] = {
	    {16, HIP(10, 0, 0, 3), FM_PKT_DROP_NOT_OUR_IP},
	    {16, HIP(10, 0, 0, 255), FM_PKT_DROP_NOT_OUR_IP},
	    {16, 0xffffffffu, FM_PKT_DROP_IP_BCAST},
	    {16, HIP(224, 0, 0, 1), FM_PKT_DROP_IP_BCAST},
	    {16, HIP(240, 0, 0, 1), FM_PKT_DROP_IP_BCAST},
	    {12, 0, FM_PKT_DROP_BAD_SRC_ADDR},
	    {12, HIP(127, 0, 0, 1), FM_PKT_DROP_BAD_SRC_ADDR},
	    {12, HIP(224, 0, 0, 5), FM_PKT_DROP_BAD_SRC_ADDR},
	    {12, 0xffffffffu, FM_PKT_DROP_BAD_SRC_ADDR},
	    {12, US, FM_PKT_DROP_BAD_SRC_ADDR},
	    {12, US2, FM_PKT_DROP_BAD_SRC_ADDR},
	};
	uint16_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = udp_frame(frame, 10, 0);
		set_addr(frame, cases[i].off, cases[i].addr);
		assert_drop(input(frame, len), cases[i].reason);
		len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
		set_addr(frame, cases[i].off, cases[i].addr);
		assert_drop(input(frame, len), cases[i].reason);
		len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 8, 0);
		set_addr(frame, cases[i].off, cases[i].addr);
		assert_drop(input(frame, len), cases[i].reason);
	}
	/* Ethernet broadcast, multicast, another host, our own source. */
	len = udp_frame(frame, 10, 0);
	memcpy(frame, bcast, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_L2_BCAST);
	memcpy(frame, (const uint8_t[6]){0x01, 0, 0x5e, 0, 0, 1}, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_L2_BCAST);
	memcpy(frame, (const uint8_t[6]){0x02, 0, 0, 0, 0, 0x09}, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_NOT_OUR_MAC);
	len = udp_frame(frame, 10, 0);
	memcpy(frame + 6, bcast, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_SRC_MAC);
	memcpy(frame + 6, our_mac, 6);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_SRC_MAC);
}

/* Malformed IP. */

static void
test_malformed_ip_headers(void **state)
{
	uint16_t len;
	uint8_t *ip = frame + ETH_HDR_LEN;

	(void)state;
	len = udp_frame(frame, 10, 0);
	ip[0] = 0x65;
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_VERSION);
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		len = udp_frame(frame, 10, 0);
		ip[0] = (uint8_t)(0x40 | ihl);
		assert_drop(input(frame, len), FM_PKT_DROP_BAD_IHL);
	}
	/* IHL 15 in a frame with a 20-byte header and 18 bytes of UDP: 60 > 38. */
	len = udp_frame(frame, 10, 0);
	ip[0] = 0x4f;
	assert_drop(input(frame, 14 + 38), FM_PKT_DROP_TRUNCATED);
	len = udp_frame(frame, 10, 0);
	ip[10] ^= 0xff;
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_CSUM);
	len = udp_frame(frame, 10, 0);
	ip[2] = 0, ip[3] = 19; /* total length below the header */
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_IP_LEN);
	len = udp_frame(frame, 10, 0);
	ip[3]++; /* one byte beyond the frame */
	pkt_fix_ip_csum(frame);
	assert_drop(input(frame, len), FM_PKT_DROP_BAD_IP_LEN);
	/* A frame longer than its datagram (Ethernet padding) is fine. */
	len = udp_frame(frame, 0, 0);
	assert_int_equal(input(frame, ETH_MIN_LEN).action, FM_PKT_ACT_PORT_UNREACH);
	/* Other IP protocols. */
	{
		struct pkt_spec s = pkt_udp_default();

		s.proto = 47;
		len = pkt_build(frame, &s);
		assert_drop(input(frame, len), FM_PKT_DROP_PROTO);
	}
}

static void
test_wrong_ethertypes(void **state)
{
	const uint16_t types[] = {ETH_TYPE_IPV6, ETH_TYPE_VLAN, 0x88cc, 0x0000, 0x05dc, 0xffff};
	uint16_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		len = udp_frame(frame, 10, 0);
		frame[12] = (uint8_t)(types[i] >> 8);
		frame[13] = (uint8_t)types[i];
		assert_drop(input(frame, len), FM_PKT_DROP_ETHERTYPE);
	}
}

/* Truncated at every length: always a counted drop, never a reply. */
static void
truncate_all(const uint8_t *f, uint16_t full)
{
	static uint8_t copy[PKT_MAX];
	struct fm_pkt_stats before, after;

	for (uint16_t l = 0; l < full; l++) {
		struct fm_pkt_verdict v;

		/* Only l bytes are copied: a read past them sees stale bytes
		 * of the previous length, not the rest of the frame. */
		memset(copy, 0, sizeof(copy));
		memcpy(copy, f, l);
		fm_pkt_stats_get(p, &before);
		v = input(copy, l);
		fm_pkt_stats_get(p, &after);
		assert_int_equal(v.action, FM_PKT_ACT_DROP);
		assert_int_not_equal(v.reason, FM_PKT_DROP_NONE);
		assert_int_equal(v.reply_len, 0);
		assert_int_equal(after.drop[v.reason], before.drop[v.reason] + 1);
		if (l < ETH_HDR_LEN)
			assert_int_equal(v.reason, FM_PKT_DROP_TRUNCATED);
	}
}

static void
test_truncated_at_every_length(void **state)
{
	uint16_t len;
	uint8_t full[PKT_MAX];

	(void)state;
	len = arp_frame(full, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	truncate_all(full, len);
	len = icmp_frame(full, ICMP_ECHO_REQUEST, 1, 2, 40, 4);
	truncate_all(full, len);
	len = udp_frame(full, 30, 12);
	truncate_all(full, len);
	len = tcp_frame(full, TCP_FLAG_SYN, 9, 8);
	truncate_all(full, len);
}

/* Exactly sized buffers, so that ASan catches any read past the frame. */
static void
test_no_overread_with_exact_buffers(void **state)
{
	uint16_t len;
	uint8_t *heap;

	(void)state;
	len = udp_frame(frame, 3, 0);
	for (uint16_t l = 0; l <= len; l++) {
		struct fm_pkt_verdict v;

		heap = test_malloc(l ? l : 1);
		memcpy(heap, frame, l);
		fm_pkt_input(p, &ifc, heap, l, NOW, reply, sizeof(reply), &v);
		assert_int_equal(v.action, l == len ? FM_PKT_ACT_PORT_UNREACH : FM_PKT_ACT_DROP);
		test_free(heap);
	}
}

static void
test_small_reply_buffer_is_no_room(void **state)
{
	uint16_t len;
	struct fm_pkt_verdict v;
	uint8_t small[FM_PKT_ARP_LEN - 1];

	(void)state;
	len = arp_frame(frame, bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	fm_pkt_input(p, &ifc, frame, len, NOW, small, sizeof(small), &v);
	assert_drop(v, FM_PKT_DROP_NO_ROOM);
	assert_int_equal(v.learn, 1); /* the sender is still heard */
	len = icmp_frame(frame, ICMP_ECHO_REQUEST, 1, 1, 64, 0);
	fm_pkt_input(p, &ifc, frame, len, NOW, reply, len - 1u, &v);
	assert_drop(v, FM_PKT_DROP_NO_ROOM);
	fm_pkt_input(p, &ifc, frame, len, NOW, reply, len, &v);
	assert_int_equal(v.action, FM_PKT_ACT_ECHO_REPLY);
	len = udp_frame(frame, 10, 0);
	fm_pkt_input(p, &ifc, frame, len, NOW, reply, 14 + 20 + 8 + 27, &v);
	assert_drop(v, FM_PKT_DROP_NO_ROOM);
	len = tcp_frame(frame, TCP_FLAG_SYN, 0, 0);
	fm_pkt_input(p, &ifc, frame, len, NOW, reply, FM_PKT_RST_LEN - 1, &v);
	assert_drop(v, FM_PKT_DROP_NO_ROOM);
}

/* Every single-bit flip of valid frames: no crash, counters add up. */
static void
test_bit_flips_never_crash(void **state)
{
	uint8_t base[4][PKT_MAX];
	uint16_t lens[4];

	(void)state;
	lens[0] = arp_frame(base[0], bcast, ARP_OP_REQUEST, their_mac, THEM, US);
	lens[1] = icmp_frame(base[1], ICMP_ECHO_REQUEST, 1, 2, 20, 4);
	lens[2] = udp_frame(base[2], 20, 4);
	lens[3] = tcp_frame(base[3], TCP_FLAG_SYN, 7, 4);
	for (int k = 0; k < 4; k++) {
		for (unsigned bit = 0; bit < lens[k] * 8u; bit++) {
			struct fm_pkt_verdict v;

			memcpy(frame, base[k], lens[k]);
			frame[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			v = input(frame, lens[k]);
			assert_true(v.reply_len <= sizeof(reply));
			if (v.action == FM_PKT_ACT_DROP)
				assert_int_not_equal(v.reason, FM_PKT_DROP_NONE);
			else
				assert_int_equal(v.reason, FM_PKT_DROP_NONE);
		}
	}
}

/* Builders. */

static void
test_build_arp_frames(void **state)
{
	uint8_t b[64];
	struct fm_pkt_addrs a = {.src_ip = US, .dst_ip = THEM};

	(void)state;
	assert_int_equal(
	    fm_pkt_build_arp_request(b, sizeof(b), our_mac, US, THEM, NULL), FM_PKT_ARP_LEN);
	assert_memory_equal(b, bcast, 6);
	assert_memory_equal(b + 6, our_mac, 6);
	assert_int_equal(rd16(b + 12), ETH_TYPE_ARP);
	assert_int_equal(rd16(b + 14), 1);
	assert_int_equal(rd16(b + 16), 0x0800);
	assert_int_equal(b[18], 6);
	assert_int_equal(b[19], 4);
	assert_int_equal(rd16(b + 20), ARP_OP_REQUEST);
	assert_memory_equal(b + 22, our_mac, 6);
	assert_int_equal(rd32(b + 28), US);
	assert_memory_equal(b + 32, "\0\0\0\0\0\0", 6);
	assert_int_equal(rd32(b + 38), THEM);
	/* Unicast probe. */
	assert_int_equal(
	    fm_pkt_build_arp_request(b, sizeof(b), our_mac, US, THEM, their_mac), FM_PKT_ARP_LEN);
	assert_memory_equal(b, their_mac, 6);
	assert_int_equal(rd32(b + 38), THEM);
	/* Gratuitous. */
	assert_int_equal(fm_pkt_build_garp(b, sizeof(b), our_mac, US2), FM_PKT_ARP_LEN);
	assert_memory_equal(b, bcast, 6);
	assert_int_equal(rd16(b + 20), ARP_OP_REQUEST);
	assert_int_equal(rd32(b + 28), US2);
	assert_int_equal(rd32(b + 38), US2);
	/* Reply. */
	memcpy(a.src_mac, our_mac, 6);
	memcpy(a.dst_mac, their_mac, 6);
	assert_int_equal(fm_pkt_build_arp_reply(b, sizeof(b), &a), FM_PKT_ARP_LEN);
	check_arp_reply(b, THEM);
	/* Too small. */
	assert_int_equal(fm_pkt_build_arp_request(b, 41, our_mac, US, THEM, NULL), -ENOSPC);
	assert_int_equal(fm_pkt_build_garp(b, 0, our_mac, US), -ENOSPC);
	assert_int_equal(fm_pkt_build_arp_reply(b, 41, &a), -ENOSPC);
}

static void
test_build_ip_frames(void **state)
{
	static uint8_t big[70000], data[65536];
	struct fm_pkt_addrs a = {.src_ip = US, .dst_ip = THEM};
	uint8_t b[128], orig[64];
	const uint8_t *ic = b + ETH_HDR_LEN + IP4_HDR_LEN;
	uint32_t seq, ack;
	uint8_t flags;

	(void)state;
	memcpy(a.src_mac, our_mac, 6);
	memcpy(a.dst_mac, their_mac, 6);
	assert_int_equal(
	    fm_pkt_build_echo_reply(p, b, sizeof(b), &a, 5, 6, (const uint8_t *)"abc", 3),
	    14 + 20 + 8 + 3);
	check_reply_ip(b, 45, IP4_PROTO_ICMP, 0x1234);
	assert_true(ref_ok(ic, 11, 0));
	assert_int_equal(
	    fm_pkt_build_echo_reply(p, b, 44, &a, 5, 6, (const uint8_t *)"abc", 3), -ENOSPC);
	assert_int_equal(
	    fm_pkt_build_echo_reply(p, big, sizeof(big), &a, 5, 6, data, 65535 - 27), -EINVAL);
	assert_int_equal(
	    fm_pkt_build_echo_reply(p, big, sizeof(big), &a, 5, 6, data, 65535 - 28), 14 + 65535);
	assert_true(ref_ok(big + 34, 65535 - 20, 0));

	/* Port unreachable from a raw datagram: short data is quoted whole. */
	memset(orig, 0x77, sizeof(orig));
	orig[0] = 0x45;
	assert_int_equal(
	    fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 24), 14 + 20 + 8 + 24);
	assert_memory_equal(ic + 8, orig, 24);
	assert_int_equal(
	    fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 64), 14 + 20 + 8 + 28);
	assert_int_equal(fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 19), -EINVAL);
	orig[0] = 0x44;
	assert_int_equal(fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 64), -EINVAL);
	orig[0] = 0x4f;
	assert_int_equal(fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 59), -EINVAL);
	assert_int_equal(
	    fm_pkt_build_port_unreach(p, b, sizeof(b), &a, orig, 64), 14 + 20 + 8 + 64);
	assert_int_equal(fm_pkt_build_port_unreach(p, b, 14 + 20 + 8 + 63, &a, orig, 64), -ENOSPC);

	/* RST. */
	assert_int_equal(
	    fm_pkt_build_rst(p, b, sizeof(b), &a, 80, 4000, 1, 2, TCP_FLAG_RST | TCP_FLAG_ACK),
	    FM_PKT_RST_LEN);
	assert_int_equal(rd16(b + 34), 80);
	assert_int_equal(rd16(b + 36), 4000);
	assert_true(ref_ok(b + 34, 20, ref_pseudo(b + 14, 20)));
	assert_int_equal(fm_pkt_build_rst(p, b, 53, &a, 80, 4000, 1, 2, TCP_FLAG_RST), -ENOSPC);

	fm_pkt_rst_for(TCP_FLAG_SYN, 100, 0, 0, &seq, &ack, &flags);
	assert_int_equal(seq, 0);
	assert_int_equal(ack, 101);
	assert_int_equal(flags, TCP_FLAG_RST | TCP_FLAG_ACK);
	fm_pkt_rst_for(TCP_FLAG_ACK | TCP_FLAG_FIN, 100, 555, 10, &seq, &ack, &flags);
	assert_int_equal(seq, 555);
	assert_int_equal(ack, 0);
	assert_int_equal(flags, TCP_FLAG_RST);
}

static void
test_names_and_config(void **state)
{
	struct fm_pkt_cfg bad = {.err_rate = 1000000001};

	(void)state;
	assert_string_equal(fm_pkt_drop_name(FM_PKT_DROP_NONE), "NONE");
	assert_string_equal(fm_pkt_drop_name(FM_PKT_DROP_NO_ROOM), "NO_ROOM");
	assert_string_equal(fm_pkt_drop_name(FM_PKT_DROP__COUNT), "?");
	assert_string_equal(fm_pkt_drop_desc(FM_PKT_DROP__COUNT), "?");
	assert_string_equal(fm_pkt_drop_desc(FM_PKT_DROP_BAD_CSUM), "IPv4 header checksum wrong");
	assert_string_equal(fm_pkt_action_name(FM_PKT_ACT_TCP_RST), "TCP_RST");
	assert_string_equal(fm_pkt_action_name(FM_PKT_ACT__COUNT), "?");
	assert_non_null(fm_pkt_action_desc(FM_PKT_ACT_DROP));
	assert_string_equal(fm_pkt_action_desc(99), "?");
	errno = 0;
	assert_null(fm_pkt_create(&bad));
	assert_int_equal(errno, EINVAL);
	fm_pkt_destroy(NULL);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_arp_request_for_us_is_answered_and_learnt),
	    T(test_arp_from_others_is_learnt_only),
	    T(test_arp_probe_for_us_gets_reply_to_zero),
	    T(test_bad_arp_is_dropped),
	    T(test_echo_request_gets_echo_reply),
	    T(test_other_icmp_and_bad_icmp_are_dropped),
	    T(test_udp_gets_port_unreachable),
	    T(test_bad_udp_is_dropped),
	    T(test_port_unreachable_is_rate_limited),
	    T(test_tcp_gets_rst_per_rfc793),
	    T(test_bad_tcp_and_rst_are_dropped),
	    T(test_fragments),
	    T(test_not_for_us_or_not_answerable),
	    T(test_malformed_ip_headers),
	    T(test_wrong_ethertypes),
	    T(test_truncated_at_every_length),
	    T(test_no_overread_with_exact_buffers),
	    T(test_small_reply_buffer_is_no_room),
	    T(test_bit_flips_never_crash),
	    T(test_build_arp_frames),
	    T(test_build_ip_frames),
	    T(test_names_and_config),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
