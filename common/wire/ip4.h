/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ip4.h -- IPv4 header (RFC 791).
 *
 *    0       4       8              16    19                        32
 *   +-------+-------+---------------+-----+---------------------------+
 *   |version|  IHL  |     TOS       |        total length             |
 *   +-------+-------+---------------+-----+---------------------------+
 *   |        identification         |flags|     fragment offset       |
 *   +---------------+---------------+-----+---------------------------+
 *   |     TTL       |   protocol    |        header checksum          |
 *   +---------------+---------------+---------------------------------+
 *   |                        source address                           |
 *   |                      destination address                        |
 *   |                  options (IHL > 5), up to 40 bytes              |
 *   +-----------------------------------------------------------------+
 *
 * IHL and the fragment offset count in units of 4 and 8 bytes. Every
 * multi-byte field is in network byte order. No DPDK here.
 */
#ifndef SLUICE_COMMON_WIRE_IP4_H
#define SLUICE_COMMON_WIRE_IP4_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#define IP4_HDR_LEN	20 /* without options */
#define IP4_HDR_MAX_LEN 60 /* IHL 15 */
#define IP4_VERSION	4
#define IP4_MAX_LEN	65535

/* Protocol numbers. */
#define IP4_PROTO_ICMP 1
#define IP4_PROTO_TCP  6
#define IP4_PROTO_UDP  17

/* frag_off, host order after ntohs(). */
#define IP4_FLAG_RF  0x8000 /* reserved, must be zero */
#define IP4_FLAG_DF  0x4000 /* don't fragment */
#define IP4_FLAG_MF  0x2000 /* more fragments */
#define IP4_OFF_MASK 0x1fff /* offset in units of 8 bytes */
#define IP4_OFF_UNIT 8

struct ip4_hdr {
	uint8_t ver_ihl; /* version << 4 | IHL */
	uint8_t tos;
	uint16_t tot_len;
	uint16_t id;
	uint16_t frag_off; /* flags << 13 | offset / 8 */
	uint8_t ttl;
	uint8_t proto;
	uint16_t csum;
	uint32_t src;
	uint32_t dst;
} __attribute__((packed));

_Static_assert(sizeof(struct ip4_hdr) == IP4_HDR_LEN, "ip4_hdr is 20 bytes");
_Static_assert(offsetof(struct ip4_hdr, src) == 12, "source address at byte 12");

static inline unsigned
wire_ip4_version(const struct ip4_hdr *h)
{
	return h->ver_ihl >> 4;
}

/* Header length in bytes (IHL * 4). */
static inline unsigned
wire_ip4_hdr_len(const struct ip4_hdr *h)
{
	return (h->ver_ihl & 0x0f) * 4u;
}

/*
 * The Internet checksum (RFC 1071) of len bytes: the ones' complement of the
 * ones' complement sum, in network byte order, ready to store. Checking a
 * received header: the result over the whole header, checksum included, is 0.
 */
static inline uint16_t
wire_inet_csum(const void *buf, size_t len)
{
	const uint8_t *p = (const uint8_t *)buf;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* The checksum to store in h->csum: computed with h->csum taken as zero. */
static inline uint16_t
wire_ip4_csum(const struct ip4_hdr *h)
{
	uint8_t buf[IP4_HDR_MAX_LEN];
	unsigned len = wire_ip4_hdr_len(h);
	const uint8_t *src = (const uint8_t *)h;

	if (len < IP4_HDR_LEN)
		len = IP4_HDR_LEN;
	for (unsigned i = 0; i < len; i++)
		buf[i] = src[i];
	buf[offsetof(struct ip4_hdr, csum)] = 0;
	buf[offsetof(struct ip4_hdr, csum) + 1] = 0;
	return wire_inet_csum(buf, len);
}

#endif /* SLUICE_COMMON_WIRE_IP4_H */
