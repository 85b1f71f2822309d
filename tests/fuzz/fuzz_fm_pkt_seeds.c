/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_fm_pkt_seeds -- write the seed corpus of fuzz_fm_pkt, one frame per
 * file: fuzz_fm_pkt_seeds DIR. One frame for each path of fm_pkt_input():
 * ARP request and reply, ICMP echo, UDP, TCP with and without ACK, IP and
 * TCP options, a first and a later fragment, and an IPv6 ethertype.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/arp.h"
#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "tests/support/pkt.h"

static const char *dir;
static unsigned seq;

static void
put(const char *name, const uint8_t *f, size_t len)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%02u_%s.bin", dir, seq++, name);
	fp = fopen(path, "wb");
	if (fp == NULL || fwrite(f, 1, len, fp) != len || fclose(fp) != 0) {
		perror(path);
		exit(1);
	}
}

static void
put_arp(const char *name, uint16_t op, int bcast)
{
	uint8_t f[ETH_HDR_LEN + ARP_HDR_LEN];
	struct pkt_spec s = pkt_udp_default();
	struct eth_hdr eh;
	struct arp_hdr ah = {
	    .htype = htons(ARP_HTYPE_ETHER),
	    .ptype = htons(ETH_TYPE_IPV4),
	    .hlen = 6,
	    .plen = 4,
	    .op = htons(op),
	    .spa = s.src,
	    .tpa = s.dst,
	};

	memcpy(eh.dst.b, s.dst_mac, 6);
	if (bcast)
		memset(eh.dst.b, 0xff, 6);
	memcpy(eh.src.b, s.src_mac, 6);
	eh.type = htons(ETH_TYPE_ARP);
	memcpy(ah.sha.b, s.src_mac, 6);
	memcpy(f, &eh, sizeof(eh));
	memcpy(f + ETH_HDR_LEN, &ah, sizeof(ah));
	put(name, f, sizeof(f));
}

static void
put_echo(void)
{
	static uint8_t f[PKT_MAX];
	struct pkt_spec s = pkt_udp_default();
	uint8_t *ic = f + ETH_HDR_LEN + IP4_HDR_LEN;
	uint16_t len, c;

	s.proto = IP4_PROTO_ICMP;
	s.payload_len = ICMP_HDR_LEN + 24;
	len = pkt_build(f, &s);
	memset(ic, 0, ICMP_HDR_LEN);
	ic[0] = ICMP_ECHO_REQUEST;
	ic[5] = 1;
	ic[7] = 1;
	c = wire_inet_csum(ic, ICMP_HDR_LEN + 24);
	memcpy(ic + 2, &c, 2);
	put("icmp_echo", f, len);
}

int
main(int argc, char **argv)
{
	static uint8_t f[PKT_MAX], frags[2][PKT_MAX];
	struct pkt_spec s;
	uint16_t len, lens[2];

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];
	put_arp("arp_request", ARP_OP_REQUEST, 1);
	put_arp("arp_reply", ARP_OP_REPLY, 0);
	put_echo();

	s = pkt_udp_default();
	put("udp", f, pkt_build(f, &s));
	s.ip_opt_len = 8;
	put("udp_ip_options", f, pkt_build(f, &s));

	s = pkt_udp_default();
	s.proto = IP4_PROTO_TCP;
	s.tcp_flags = TCP_FLAG_SYN;
	s.payload_len = 0;
	put("tcp_syn", f, pkt_build(f, &s));
	s.tcp_flags = TCP_FLAG_ACK | TCP_FLAG_PSH;
	s.payload_len = 10;
	s.tcp_opt_len = 12;
	put("tcp_ack_options", f, pkt_build(f, &s));
	s.tcp_flags = TCP_FLAG_RST;
	s.payload_len = 0;
	s.tcp_opt_len = 0;
	put("tcp_rst", f, pkt_build(f, &s));

	s = pkt_udp_default();
	s.payload_len = 40;
	len = pkt_build(f, &s);
	if (pkt_fragment(f, len, 24, frags, lens, 2) != 2) {
		fprintf(stderr, "fragment: expected 2\n");
		return 1;
	}
	put("udp_first_fragment", frags[0], lens[0]);
	put("udp_later_fragment", frags[1], lens[1]);

	s = pkt_udp_default();
	s.ethertype = ETH_TYPE_IPV6;
	put("ipv6", f, pkt_build(f, &s));
	return 0;
}
