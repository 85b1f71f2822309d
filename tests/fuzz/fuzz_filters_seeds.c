/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_filters_seeds -- write the seed corpus of fuzz_filters, one input per
 * file: fuzz_filters_seeds DIR. An input is a sequence of frames, each as a
 * control byte, a 16-bit big-endian length and the frame (fuzz_filters.c
 * says what the control bits do). One input for each path: a frame for
 * every flow kind, an unclaimed port, an ICMP error quoting a flow's
 * datagram, fragments in order, reversed, reversed to an in-order flow,
 * reversed with the hold time passing, and on the table that holds
 * nothing; malformed frames; frames a flow may and may not send.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "tests/fuzz/frames.h"
#include "tests/support/pkt.h"

static struct fz_seed seed;

static void
add_spec(uint8_t ctl, const struct pkt_spec *s)
{
	uint8_t f[PKT_MAX];

	fz_add(&seed, ctl, f, pkt_build(f, s));
}

/* A UDP datagram to 10.0.0.1:@dport from 10.0.0.2:5000, in fragments, in @order. */
static void
add_frags(uint16_t dport, const unsigned *order, unsigned n, const uint8_t *ctls)
{
	struct pkt_spec s = pkt_udp_default();
	uint8_t whole[PKT_MAX], frags[4][PKT_MAX];
	uint16_t lens[4];
	unsigned got;

	s.dport = dport;
	s.id = 77;
	s.payload_len = 300;
	got = pkt_fragment(whole, pkt_build(whole, &s), 128, frags, lens, 4);
	for (unsigned i = 0; i < n && order[i] < got; i++)
		fz_add(&seed, ctls[i], frags[order[i]], lens[order[i]]);
}

/* A frame 10.0.0.1 sends: local MAC, addresses and ports turned around. */
static struct pkt_spec
outgoing(uint8_t proto, uint16_t sport, uint32_t dst, uint16_t dport)
{
	struct pkt_spec s = pkt_udp_default();
	uint8_t mac[6];

	memcpy(mac, s.src_mac, 6);
	memcpy(s.src_mac, s.dst_mac, 6);
	memcpy(s.dst_mac, mac, 6);
	s.src = PKT_IP4(10, 0, 0, 1);
	s.dst = dst;
	s.proto = proto;
	s.sport = sport;
	s.dport = dport;
	return s;
}

int
main(int argc, char **argv)
{
	static const unsigned in_order[] = {0, 1, 2}, reversed[] = {2, 1, 0};
	static const uint8_t plain[] = {0x01, 0x01, 0x01}, late[] = {0x01, 0x01, 0x31},
			     nohold[] = {0x09, 0x09, 0x09};
	struct pkt_spec s;
	uint8_t f[PKT_MAX];
	uint16_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_filters_seeds DIR\n");
		return 2;
	}
	seed.dir = argv[1];

	s = pkt_udp_default(); /* 10.0.0.2:5000 -> 10.0.0.1:7000: the connected flow */
	add_spec(0x01, &s);
	fz_put(&seed, "udp_connected");
	s.src = PKT_IP4(10, 0, 0, 9);
	s.sport = 6000;
	add_spec(0x01, &s); /* another peer: the bound flow on the same port */
	fz_put(&seed, "udp_bound");
	s.dport = 7001;
	add_spec(0x01, &s);
	fz_put(&seed, "udp_bound_inorder");
	s = pkt_udp_default();
	s.proto = IP4_PROTO_TCP;
	s.src = PKT_IP4(10, 0, 0, 9);
	s.dport = 80;
	s.tcp_flags = 0x02;
	add_spec(0x01, &s);
	s.src = PKT_IP4(10, 0, 0, 3);
	s.sport = 4000;
	s.tcp_flags = 0x10;
	s.tcp_opt_len = 12;
	add_spec(0x01, &s);
	fz_put(&seed, "tcp_listening_and_connected");
	s = pkt_udp_default();
	s.dport = 9999;
	add_spec(0x01, &s);
	fz_put(&seed, "udp_unclaimed");

	/* ICMP port unreachable from 10.0.0.2, quoting our 10.0.0.1:7000 -> :5000. */
	{
		struct pkt_spec q = outgoing(IP4_PROTO_UDP, 7000, PKT_IP4(10, 0, 0, 2), 5000);
		uint8_t quoted[PKT_MAX];
		uint16_t qlen = pkt_build(quoted, &q);
		unsigned body = 8 + IP4_HDR_LEN + 8;

		s = pkt_udp_default();
		s.proto = IP4_PROTO_ICMP;
		s.payload_len = (uint16_t)body;
		len = pkt_build(f, &s);
		memset(f + ETH_HDR_LEN + IP4_HDR_LEN, 0, 8);
		f[ETH_HDR_LEN + IP4_HDR_LEN] = ICMP_DEST_UNREACH;
		f[ETH_HDR_LEN + IP4_HDR_LEN + 1] = 3; /* port unreachable */
		memcpy(f + ETH_HDR_LEN + IP4_HDR_LEN + 8, quoted + ETH_HDR_LEN,
		    qlen - ETH_HDR_LEN < IP4_HDR_LEN + 8 ? qlen - ETH_HDR_LEN : IP4_HDR_LEN + 8);
		pkt_fix_ip_csum(f);
		fz_add(&seed, 0x01, f, len);
		fz_put(&seed, "icmp_unreachable");
	}

	add_frags(7000, in_order, 3, plain);
	fz_put(&seed, "frags_in_order");
	add_frags(7000, reversed, 3, plain);
	fz_put(&seed, "frags_reversed");
	add_frags(7001, reversed, 3, plain);
	fz_put(&seed, "frags_reversed_inorder_flow");
	add_frags(7000, reversed, 3, late);
	fz_put(&seed, "frags_reversed_late");
	add_frags(7000, reversed, 3, nohold);
	fz_put(&seed, "frags_reversed_no_hold");

	/* Malformed: truncated, bad IHL, IP options, bad checksum, ARP. */
	s = pkt_udp_default();
	len = pkt_build(f, &s);
	fz_add(&seed, 0x00, f, 20);
	f[ETH_HDR_LEN] = 0x44;
	fz_add(&seed, 0x01, f, len);
	f[ETH_HDR_LEN] = 0x45;
	f[ETH_HDR_LEN + 10] ^= 0xff;
	fz_add(&seed, 0x00, f, len);
	s.ip_opt_len = 8;
	add_spec(0x01, &s);
	s = pkt_udp_default();
	s.ethertype = ETH_TYPE_ARP;
	add_spec(0x00, &s);
	fz_put(&seed, "malformed");

	/* What flows send: good, then spoofed source address, port and MAC. */
	s = outgoing(IP4_PROTO_UDP, 7000, PKT_IP4(10, 0, 0, 2), 5000);
	add_spec(0x01, &s);
	s.src = PKT_IP4(10, 0, 0, 66);
	add_spec(0x01, &s);
	s.src = PKT_IP4(10, 0, 0, 1);
	s.sport = 7001;
	add_spec(0x01, &s);
	s.sport = 7000;
	s.src_mac[5] = 0x66;
	add_spec(0x01, &s);
	fz_put(&seed, "tx_udp");
	s = outgoing(IP4_PROTO_TCP, 80, PKT_IP4(10, 0, 0, 9), 33000);
	s.ip_opt_len = 4;
	s.tcp_flags = 0x12;
	add_spec(0x01, &s);
	s.payload_len = 1000; /* beyond the server's MTU of 576 */
	add_spec(0x01, &s);
	fz_put(&seed, "tx_tcp");
	return 0;
}
