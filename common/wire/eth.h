/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * eth.h -- Ethernet II header (IEEE 802.3 with a type field).
 *
 * Wire format only: packed structs with every multi-byte field in network
 * byte order, and the constants that go with them. No DPDK here: the
 * application stack uses these headers without DPDK.
 *
 *    0                   6                  12      14
 *   +-------------------+-------------------+-------+------------
 *   | destination MAC   | source MAC        | type  | payload ...
 *   +-------------------+-------------------+-------+------------
 */
#ifndef SLUICE_COMMON_WIRE_ETH_H
#define SLUICE_COMMON_WIRE_ETH_H

#include <stdint.h>
#include <string.h>

#define ETH_ADDR_LEN 6
#define ETH_HDR_LEN  14
#define ETH_MIN_LEN  60	  /* smallest frame without FCS; shorter ones are padded */
#define ETH_MTU	     1500 /* default IP MTU of an Ethernet link */

/* Ethertypes (host order; compare with ntohs(type)). */
#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_ARP  0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_IPV6 0x86dd

struct eth_addr {
	uint8_t b[ETH_ADDR_LEN];
} __attribute__((packed));

struct eth_hdr {
	struct eth_addr dst;
	struct eth_addr src;
	uint16_t type; /* network order */
} __attribute__((packed));

_Static_assert(sizeof(struct eth_addr) == ETH_ADDR_LEN, "eth_addr is 6 bytes");
_Static_assert(sizeof(struct eth_hdr) == ETH_HDR_LEN, "eth_hdr is 14 bytes");

/* Nonzero when a and b are the same address. */
static inline int
wire_eth_addr_eq(const struct eth_addr *a, const struct eth_addr *b)
{
	return memcmp(a->b, b->b, ETH_ADDR_LEN) == 0;
}

/* Nonzero for a group (multicast or broadcast) address. */
static inline int
wire_eth_addr_is_group(const struct eth_addr *a)
{
	return a->b[0] & 0x01;
}

#endif /* SLUICE_COMMON_WIRE_ETH_H */
