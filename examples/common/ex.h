/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ex.h -- what the example programs share: the header udp_blast puts at the
 * front of every datagram (so that udp_sink can tell flows apart, count
 * losses and know each flow's guarantee), wire-time arithmetic, and small
 * helpers for command lines. Header only; nothing here knows the stack.
 */
#ifndef SLUICE_EXAMPLES_EX_H
#define SLUICE_EXAMPLES_EX_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The blast header, network byte order, at offset 0 of the UDP payload.
 * A datagram shorter than this, or with another magic, is counted by the
 * sink under its sender's address instead.
 */
#define EX_MAGIC 0x534c424cu /* "SLBL" */
struct ex_hdr {
	uint32_t magic;
	uint32_t flow;		 /* the sender's label (udp_blast --flow) */
	uint64_t seq;		 /* 0, 1, 2, ... per flow: gaps are losses */
	uint32_t guarantee_kbps; /* the sender's guarantee as wire rate; 0: none */
	uint32_t reserved;
} __attribute__((packed));

/* Bytes a UDP/IPv4 datagram of @payload bytes (unfragmented) occupies on
 * Ethernet: preamble and delimiter 8, header 14, IPv4 20, UDP 8, FCS 4,
 * inter-frame gap 12, padded to the 64-byte minimum frame. The scheduler
 * charges exactly this (sched/), so rates compare with guarantees. */
static inline uint64_t
ex_wire_bytes(uint64_t payload)
{
	uint64_t frame = 14 + 20 + 8 + payload + 4;

	return 8 + (frame < 64 ? 64 : frame) + 12;
}

static inline uint64_t
ex_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* "a.b.c.d" to host order; 0 and -EINVAL if it is not one. */
static inline int
ex_parse_ip(const char *s, uint32_t *out)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*out = ntohl(in.s_addr);
	return 0;
}

/* A whole number in [lo, hi]; -EINVAL otherwise. */
static inline int
ex_parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

/*
 * A duration: "10ms", "250us", "1.5s", "100ns", or bare nanoseconds.
 * Returns 0 or -EINVAL.
 */
static inline int
ex_parse_dur(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (*end == 0 || strcmp(end, "ns") == 0)
		;
	else if (strcmp(end, "us") == 0)
		v *= 1e3;
	else if (strcmp(end, "ms") == 0)
		v *= 1e6;
	else if (strcmp(end, "s") == 0)
		v *= 1e9;
	else
		return -EINVAL;
	if (v > 1e18)
		return -EINVAL;
	*ns = (uint64_t)(v + 0.5);
	return 0;
}

#endif /* SLUICE_EXAMPLES_EX_H */
