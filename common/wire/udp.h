/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * udp.h -- UDP header (RFC 768). Network byte order; no DPDK here.
 *
 *   +-----------------+-----------------+
 *   |   source port   |   dest. port    |
 *   |     length      |    checksum     |   length covers header + data
 *   +-----------------+-----------------+
 */
#ifndef SLUICE_COMMON_WIRE_UDP_H
#define SLUICE_COMMON_WIRE_UDP_H

#include <stdint.h>

#define UDP_HDR_LEN 8

struct udp_hdr {
	uint16_t src_port;
	uint16_t dst_port;
	uint16_t len;
	uint16_t csum; /* 0: none was computed */
} __attribute__((packed));

_Static_assert(sizeof(struct udp_hdr) == UDP_HDR_LEN, "udp_hdr is 8 bytes");

#endif /* SLUICE_COMMON_WIRE_UDP_H */
