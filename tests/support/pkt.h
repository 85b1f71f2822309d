/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pkt.h -- a packet builder for tests: Ethernet / IPv4 / UDP or TCP frames
 * built from a description, correct by default, so that a test breaks one
 * field on purpose and nothing else. Plain buffers, no DPDK.
 */
#ifndef SLUICE_TESTS_SUPPORT_PKT_H
#define SLUICE_TESTS_SUPPORT_PKT_H

#include <stddef.h>
#include <stdint.h>

#include <arpa/inet.h>

/* a.b.c.d in network byte order. */
#define PKT_IP4(a, b, c, d) \
	htonl((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

#define PKT_MAX 2048

struct pkt_spec {
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint16_t ethertype;  /* host order; 0 means IPv4 */
	uint32_t src;	     /* network order */
	uint32_t dst;	     /* network order */
	uint8_t proto;	     /* 17 or 6; anything else gets no transport header */
	uint16_t sport;	     /* host order */
	uint16_t dport;	     /* host order */
	uint16_t id;	     /* host order */
	uint16_t frag_off;   /* host order: flags | offset / 8, as on the wire */
	uint8_t ip_opt_len;  /* bytes of IP options (NOPs), a multiple of 4, <= 40 */
	uint8_t tcp_opt_len; /* bytes of TCP options (NOPs), a multiple of 4, <= 40 */
	uint8_t tcp_flags;
	uint16_t payload_len; /* bytes after the transport header, filled 0, 1, 2, ... */
};

/* The spec every test starts from: UDP 10.0.0.2:5000 -> 10.0.0.1:7000. */
struct pkt_spec pkt_udp_default(void);

/*
 * Build the frame described by s into buf (PKT_MAX bytes); returns its length.
 * Checksums (IP header, UDP/TCP) are correct.
 */
uint16_t pkt_build(uint8_t *buf, const struct pkt_spec *s);

/* Recompute the IPv4 header checksum after a test edited the header. */
void pkt_fix_ip_csum(uint8_t *frame);

/*
 * Split the IPv4 datagram in frame into fragments of at most frag_payload
 * bytes of IP payload each (a multiple of 8), with correct offsets, MF flags
 * and checksums. out[i] receives fragment i (PKT_MAX bytes each), lens[i]
 * its length. Returns the number of fragments (at most max).
 */
unsigned pkt_fragment(const uint8_t *frame, uint16_t len, unsigned frag_payload,
    uint8_t (*out)[PKT_MAX], uint16_t lens[], unsigned max);

#endif /* SLUICE_TESTS_SUPPORT_PKT_H */
