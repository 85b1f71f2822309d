/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tcp.h -- TCP header (RFC 9293). Network byte order; no DPDK here.
 *
 *   +-----------------+-----------------+
 *   |   source port   |   dest. port    |
 *   |          sequence number          |
 *   |       acknowledgment number       |
 *   | off|rsv| flags  |     window      |   off: header length / 4, 5..15
 *   |    checksum     | urgent pointer  |
 *   |   options (off > 5), up to 40     |
 *   +-----------------+-----------------+
 */
#ifndef SLUICE_COMMON_WIRE_TCP_H
#define SLUICE_COMMON_WIRE_TCP_H

#include <stdint.h>

#define TCP_HDR_LEN	20 /* without options */
#define TCP_HDR_MAX_LEN 60

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

struct tcp_hdr {
	uint16_t src_port;
	uint16_t dst_port;
	uint32_t seq;
	uint32_t ack;
	uint8_t data_off; /* header length / 4 in the high nibble */
	uint8_t flags;
	uint16_t window;
	uint16_t csum;
	uint16_t urg_ptr;
} __attribute__((packed));

_Static_assert(sizeof(struct tcp_hdr) == TCP_HDR_LEN, "tcp_hdr is 20 bytes");

/* Header length in bytes, options included. */
static inline unsigned
wire_tcp_hdr_len(const struct tcp_hdr *h)
{
	return (h->data_off >> 4) * 4u;
}

#endif /* SLUICE_COMMON_WIRE_TCP_H */
