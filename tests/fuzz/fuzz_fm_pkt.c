/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_fm_pkt -- the flow manager's last-resort handler (fm_pkt_input()) on
 * hostile frames. The input is the frame itself; the handler answers for
 * the addresses and MAC of tests/support/pkt's default destination, so that
 * mutations of the seeds reach the ARP, ICMP, UDP and TCP paths. Each input
 * is tried with a reply buffer of every interesting size. Checked: the
 * counters add up, a verdict is a drop with a reason or an action without
 * one, a reply fits its buffer, and an IPv4 reply has a correct header
 * checksum.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "flowmgr/fm_pkt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t addrs[] = {0x0a000001, 0x0a000009};
static const struct fm_pkt_if ifc = {
    .mac = {0x02, 0, 0, 0, 0, 0x01},
    .n_addrs = 2,
    .addrs = addrs,
};
static struct fm_pkt *ctx;
static uint64_t now = 1000000000ull;

static void
check(const struct fm_pkt_verdict *v, const uint8_t *reply, size_t reply_size)
{
	if (v->action >= FM_PKT_ACT__COUNT || v->reason >= FM_PKT_DROP__COUNT)
		__builtin_trap();
	if ((v->action == FM_PKT_ACT_DROP) != (v->reason != FM_PKT_DROP_NONE))
		__builtin_trap();
	if (v->reply_len > reply_size)
		__builtin_trap();
	if (v->reply_len && (v->reply_len < ETH_HDR_LEN + 28 || v->action == FM_PKT_ACT_DROP ||
				v->action == FM_PKT_ACT_ARP_LEARN))
		__builtin_trap();
	if (v->reply_len >= ETH_HDR_LEN + IP4_HDR_LEN && reply[12] == 0x08 && reply[13] == 0x00 &&
	    wire_inet_csum(reply + ETH_HDR_LEN, IP4_HDR_LEN) != 0)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t big = size > FM_PKT_UNREACH_MAX ? size : FM_PKT_UNREACH_MAX;
	/* No room, room for ARP, for a RST, for any unreachable, for anything. */
	const size_t sizes[] = {0, FM_PKT_ARP_LEN, FM_PKT_RST_LEN, FM_PKT_UNREACH_MAX, big};
	struct fm_pkt_stats st;
	uint64_t acts = 0, drops = 0;
	/* The frame in a buffer of its own size, so ASan sees any overread. */
	uint8_t *frame = malloc(size ? size : 1);
	uint8_t *reply = malloc(big);

	if (frame == NULL || reply == NULL)
		abort();
	if (ctx == NULL) {
		struct fm_pkt_cfg cfg = {.err_rate = 1000000, .err_burst = 1000, .seed = 1};

		ctx = fm_pkt_create(&cfg);
		if (ctx == NULL)
			abort();
	}
	memcpy(frame, data, size);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct fm_pkt_verdict v;

		now += 1000;
		fm_pkt_input(ctx, &ifc, frame, size, now, reply, sizes[i], &v);
		check(&v, reply, sizes[i]);
	}
	fm_pkt_stats_get(ctx, &st);
	for (unsigned i = 0; i < FM_PKT_ACT__COUNT; i++)
		acts += st.action[i];
	for (unsigned i = 0; i < FM_PKT_DROP__COUNT; i++)
		drops += st.drop[i];
	if (acts != st.rx || drops != st.action[FM_PKT_ACT_DROP])
		__builtin_trap();
	free(reply);
	free(frame);
	return 0;
}
