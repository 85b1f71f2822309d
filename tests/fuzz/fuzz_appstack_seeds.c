/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_appstack_seeds -- write the seed corpus of fuzz_appstack, one input
 * per file: fuzz_appstack_seeds DIR. An input is a sequence of frames, each
 * as a control byte, a 16-bit big-endian length and the frame
 * (fuzz_appstack.c says what the control bits do). One input for each
 * path: a datagram for either flow and either way of draining, fragments in
 * order, reversed, repeated and overlapping, a datagram larger than
 * max_dgram, ICMP errors for either flow, and malformed frames.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "tests/appstack/as_test.h"
#include "tests/fuzz/frames.h"

#define TO_BOUND  0x08
#define ZERO_COPY 0x10

static struct fz_seed seed;
static uint8_t frame[T_FRAME];
static uint8_t frags[8][T_FRAME];

/* A datagram of @len payload bytes to the bound flow, as fragments in @order. */
static void
add_frags(uint32_t len, const unsigned *order, unsigned n)
{
	struct t_udp s = {.src = T_PADDR, .smac = t_pmac, .id = 42, .len = len};
	uint32_t lens[8];
	unsigned got = t_fragment(frame, t_build(frame, &s), 1024, frags, lens, 8);

	for (unsigned i = 0; i < n && order[i] < got; i++)
		fz_add(&seed, TO_BOUND, frags[order[i]], lens[order[i]]);
}

/* An ICMP port unreachable from @from about our datagram to it. */
static void
add_icmp(uint8_t ctl, uint32_t from, const uint8_t *smac)
{
	struct t_udp ours = {.src = T_LADDR, .dst = from, .sport = T_LPORT, .dport = T_RPORT};
	uint8_t quoted[T_FRAME];
	struct t_udp s = {.src = from,
	    .smac = smac,
	    .len = IP4_HDR_LEN + 8}; /* + the UDP header: the ICMP message */
	uint32_t len = t_build(frame, &s);
	uint8_t *icmp = frame + ETH_HDR_LEN + IP4_HDR_LEN;
	uint16_t c;

	t_build(quoted, &ours);
	frame[ETH_HDR_LEN + 9] = IP4_PROTO_ICMP;
	t_fix_ip(frame);
	memset(icmp, 0, 8);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = 3; /* port unreachable */
	memcpy(icmp + 8, quoted + ETH_HDR_LEN, IP4_HDR_LEN + 8);
	c = t_csum(icmp, 8 + IP4_HDR_LEN + 8, 0);
	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	fz_add(&seed, ctl, frame, len);
}

int
main(int argc, char **argv)
{
	static const unsigned in_order[] = {0, 1, 2}, reversed[] = {2, 1, 0},
			      repeated[] = {0, 0, 1, 1, 2};
	struct t_udp s = {.len = 64};
	uint32_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: fuzz_appstack_seeds DIR\n");
		return 2;
	}
	seed.dir = argv[1];

	fz_add(&seed, 0, frame, t_build(frame, &s));
	fz_put(&seed, "connected");
	fz_add(&seed, ZERO_COPY, frame, t_build(frame, &s));
	fz_put(&seed, "connected_zero_copy");
	s.src = T_PADDR;
	s.smac = t_pmac;
	fz_add(&seed, TO_BOUND, frame, t_build(frame, &s));
	fz_add(&seed, TO_BOUND | ZERO_COPY, frame, t_build(frame, &s));
	fz_put(&seed, "bound");
	s.no_csum = true;
	fz_add(&seed, TO_BOUND, frame, t_build(frame, &s));
	fz_put(&seed, "bound_no_udp_checksum");

	add_frags(2500, in_order, 3);
	fz_put(&seed, "frags_in_order");
	add_frags(2500, reversed, 3);
	fz_put(&seed, "frags_reversed");
	add_frags(2500, repeated, 5);
	fz_put(&seed, "frags_repeated");
	add_frags(2500, in_order, 2);
	/* The last fragment again, its offset moved back into the second's. */
	{
		uint32_t lens[8];
		struct t_udp b = {.src = T_PADDR, .smac = t_pmac, .id = 43, .len = 2500};
		unsigned got = t_fragment(frame, t_build(frame, &b), 1024, frags, lens, 8);

		if (got == 3) {
			uint8_t *ip = frags[2] + ETH_HDR_LEN;
			unsigned fo = (unsigned)(ip[6] << 8 | ip[7]);

			fz_add(&seed, TO_BOUND, frags[0], lens[0]);
			fz_add(&seed, TO_BOUND, frags[1], lens[1]);
			fo -= 8; /* 64 bytes earlier: into the second fragment */
			ip[6] = (uint8_t)(fo >> 8);
			ip[7] = (uint8_t)fo;
			t_fix_ip(frags[2]);
			fz_add(&seed, TO_BOUND, frags[2], lens[2]);
		}
	}
	fz_put(&seed, "frags_overlapping");
	add_frags(4000, in_order, 3);
	fz_put(&seed, "frags_beyond_max_dgram");

	add_icmp(0, T_RADDR, t_nmac);
	fz_put(&seed, "icmp_connected");
	add_icmp(TO_BOUND, T_PADDR, t_pmac);
	fz_put(&seed, "icmp_bound");

	/* Malformed: truncated, bad IP checksum, another port, not IPv4. */
	s = (struct t_udp){.len = 64};
	len = t_build(frame, &s);
	fz_add(&seed, 0, frame, 30);
	frame[ETH_HDR_LEN + 10] ^= 0x55;
	fz_add(&seed, 0, frame, len);
	s.dport = T_LPORT + 1;
	fz_add(&seed, 0, frame, t_build(frame, &s));
	frame[12] = 0x86;
	frame[13] = 0xdd;
	fz_add(&seed, 0, frame, len);
	fz_put(&seed, "malformed");
	return 0;
}
