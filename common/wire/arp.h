/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * arp.h -- ARP for IPv4 over Ethernet (RFC 826). Network byte order; no DPDK.
 */
#ifndef SLUICE_COMMON_WIRE_ARP_H
#define SLUICE_COMMON_WIRE_ARP_H

#include <stdint.h>

#include "common/wire/eth.h"

#define ARP_HDR_LEN	28
#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST	1
#define ARP_OP_REPLY	2

struct arp_hdr {
	uint16_t htype; /* ARP_HTYPE_ETHER */
	uint16_t ptype; /* ETH_TYPE_IPV4 */
	uint8_t hlen;	/* 6 */
	uint8_t plen;	/* 4 */
	uint16_t op;
	struct eth_addr sha; /* sender hardware address */
	uint32_t spa;	     /* sender protocol address */
	struct eth_addr tha; /* target hardware address */
	uint32_t tpa;	     /* target protocol address */
} __attribute__((packed));

_Static_assert(sizeof(struct arp_hdr) == ARP_HDR_LEN, "arp_hdr is 28 bytes");

#endif /* SLUICE_COMMON_WIRE_ARP_H */
