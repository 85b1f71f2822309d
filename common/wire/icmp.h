/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * icmp.h -- ICMP for IPv4 (RFC 792): the common header and the echo body.
 * Network byte order; no DPDK here.
 */
#ifndef SLUICE_COMMON_WIRE_ICMP_H
#define SLUICE_COMMON_WIRE_ICMP_H

#include <stdint.h>

#define ICMP_HDR_LEN 8

#define ICMP_ECHO_REPLY	  0
#define ICMP_DEST_UNREACH 3
#define ICMP_ECHO_REQUEST 8
#define ICMP_TIME_EXCEED  11

/* Codes of ICMP_DEST_UNREACH. */
#define ICMP_UNREACH_PORT     3
#define ICMP_UNREACH_NEEDFRAG 4

struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint16_t csum;
	union {
		struct {
			uint16_t id;
			uint16_t seq;
		} echo;
		struct {
			uint16_t unused;
			uint16_t mtu; /* ICMP_UNREACH_NEEDFRAG (RFC 1191) */
		} frag;
		uint32_t rest;
	} u;
} __attribute__((packed));

_Static_assert(sizeof(struct icmp_hdr) == ICMP_HDR_LEN, "icmp_hdr is 8 bytes");

#endif /* SLUICE_COMMON_WIRE_ICMP_H */
