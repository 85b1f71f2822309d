/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_appstack -- an application's own stack on hostile frames: what the
 * driver delivers to a flow has passed the driver's demux, but its payload,
 * checksums, fragments and ICMP quotes are the sender's. The frames go on
 * the receive channel of a connected and of a bound UDP flow (the test
 * plays the driver, as tests/appstack does), and the application drains
 * them with the copying and the zero-copy calls in turn. Checked after
 * every input:
 *
 *   - every frame given was taken (RX_FRAMES), and every receive buffer is
 *     back with the driver: no path of the stack keeps or loses one;
 *   - no datagram is longer than the flow's max_dgram, and a copy never
 *     says it wrote more than it had room for;
 *   - the flow is alive: bad frames are counted, never fatal.
 *
 * Input: a sequence of frames (tests/fuzz/frames.h). Control bits: 0x01
 * recompute the IPv4 header checksum, 0x02 set the IP total length from
 * the frame's, 0x04 set the UDP length and checksum of an unfragmented
 * datagram (so that mutations get past the checks they would otherwise
 * always fail), 0x08 to the bound flow (else the connected one), 0x10
 * drain with the zero-copy calls (else the copying ones). Seeds: tests/fuzz/corpus/appstack, written
 * by fuzz_appstack_seeds.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/ip4.h"
#include "tests/appstack/as_test.h"
#include "tests/fuzz/frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DGRAM 3000 /* small, so that reassembly can outgrow it */

static struct as_flow *flows[2]; /* connected, bound */
static struct t_drv drvs[2];
static uint8_t buf[AS_MAX_DGRAM + 64];

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void
put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
setup(void)
{
	struct as_flow_cfg cfg = {.max_dgram = MAX_DGRAM, .rx_bufs = 16, .reass_slots = 2};

	flows[0] = t_flow(AS_UDP_CONNECTED, &cfg, &drvs[0]);
	flows[1] = t_flow(AS_UDP_BOUND, &cfg, &drvs[1]);
}

/* The control byte's repairs, on the fuzzer's copy of the frame. */
static void
repair(uint8_t *f, uint32_t len, uint8_t ctl)
{
	unsigned ihl, total;

	if (len < 34 || be16(f + 12) != 0x0800)
		return;
	ihl = (f[14] & 0x0f) * 4u;
	if (ctl & 0x02)
		put16(f + 16, len - 14);
	total = be16(f + 16);
	if ((ctl & 0x04) && f[23] == IP4_PROTO_UDP && !(be16(f + 20) & 0x3fff) && ihl >= 20 &&
	    total >= ihl + 8 && 14 + total <= len) {
		uint8_t *u = f + 14 + ihl;
		uint32_t ps = IP4_PROTO_UDP + (total - ihl); /* the pseudo-header */
		uint16_t c;

		for (int i = 26; i < 34; i += 2)
			ps += be16(f + i);
		put16(u + 4, total - ihl);
		u[6] = u[7] = 0;
		c = t_csum(u, total - ihl, ps);
		put16(u + 6, c ? c : 0xffff);
	}
	if ((ctl & 0x01) && ihl >= 20 && 14 + ihl <= len)
		t_fix_ip(f);
}

/* Take every datagram and event the flow has, one way or the other. */
static void
drain(struct as_flow *f, bool zero_copy)
{
	for (int rounds = 0; rounds < 64; rounds++) {
		int rc;

		if (zero_copy) {
			struct as_rxbuf b[8];
			unsigned n = as_rx_get_burst(f, b, 8);

			for (unsigned i = 0; i < n; i++)
				if (b[i].len > MAX_DGRAM)
					__builtin_trap();
			as_rx_put_burst(f, b, n);
			if (n)
				continue;
		} else {
			struct as_msg m[4];
			unsigned n;

			for (int i = 0; i < 4; i++)
				m[i] = (struct as_msg){.buf = buf + i * 16, .len = 16};
			n = as_recv_burst(f, m, 4);
			for (unsigned i = 0; i < n; i++)
				if (m[i].len > 16)
					__builtin_trap();
			if (n)
				continue;
		}
		/* What the bursts leave: a connected flow's ICMP errors. */
		rc = as_recv(f, buf, sizeof(buf), 0);
		if (rc > MAX_DGRAM)
			__builtin_trap();
		if (rc == -EAGAIN)
			return;
		if (rc == -ECONNRESET)
			__builtin_trap(); /* frames never kill a flow */
	}
	__builtin_trap(); /* the stack kept producing: it must run dry */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct as_flow_stats st0[2], st1[2];
	uint64_t fed[2] = {0, 0};
	size_t pos = 0;
	const uint8_t *in;
	uint32_t len;
	uint8_t ctl;

	if (flows[0] == NULL)
		setup();
	for (int k = 0; k < 2; k++)
		as_flow_stats(flows[k], &st0[k]);
	while ((in = fz_next(data, size, &pos, &ctl, &len)) != NULL) {
		int k = (ctl & 0x08) != 0;
		uint8_t *f = fz_copy(in, len);

		repair(f, len, ctl);
		/* The channel refuses an empty piece (the driver never sends one). */
		if (len != 0 && t_feed(&drvs[k], f, len) == 0)
			fed[k]++;
		free(f);
		drain(flows[k], ctl & 0x10);
	}
	for (int k = 0; k < 2; k++) {
		as_flow_stats(flows[k], &st1[k]);
		if (st1[k].c[AS_STAT_RX_FRAMES] - st0[k].c[AS_STAT_RX_FRAMES] != fed[k] ||
		    st1[k].c[AS_STAT_DROP_DEAD] != 0)
			__builtin_trap();
		if (t_empties(&drvs[k]) != flows[k]->rx_n)
			__builtin_trap();
	}
	return 0;
}
