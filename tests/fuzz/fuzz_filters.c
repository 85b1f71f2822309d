/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_filters -- the driver's two checks of untrusted bytes, on hostile
 * frames: the receive demux (flt_demux_burst(), then flt_frag_release_burst())
 * on what the wire brings, and the transmit check (flt_txcheck()) on what an
 * application writes. Each is held to a reference written here from the
 * rules of docs/filters.md, not from the library's code:
 *
 *   - receive: a verdict is one of the four actions, with a reason exactly
 *     when it drops; a frame given to a flow carries that flow's identity
 *     (protocol, local address and port, and for a connected flow the
 *     remote ones; for an ICMP error, the datagram it quotes, turned
 *     around), unless it is a later fragment, which follows its first; a
 *     released fragment fits its hold slot; the counters add up.
 *   - transmit: the check passes exactly when the reference passes, the
 *     header length is the one the rules give, and the private copy holds
 *     the frame's first bytes.
 *
 * Input: a sequence of frames (tests/fuzz/frames.h). Control bits: 0x01
 * recompute the IPv4 header checksum, 0x02 set the IP total length from
 * the frame's, 0x04 set the UDP length from the IP payload (so that
 * mutations get past the checks they would otherwise always fail); 0x08
 * classify on the table that holds no early fragments; the
 * high nibble moves the clock on by that many 40 ms before the frame (the
 * frames before it form one burst). Every input starts on a clock 10 s
 * after the last, so fragments remembered or held by an earlier input
 * have timed out. Seeds: tests/fuzz/corpus/filters, written by
 * fuzz_filters_seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "common/wire/ip4.h"
#include "filters/flt.h"
#include "tests/filters/flt_test.h"
#include "tests/fuzz/frames.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BURST	    64
#define HOLD_SLOT   256
#define HOLD_SLOTS  4
#define CLOCK_STEP  40000000ull /* ns per unit of the control byte's high nibble */
#define INPUT_SPACE 10000000000ull

/*
 * The flows of both tables, all on 10.0.0.1; a connected flow's remote is
 * 10.0.0.<rhost>. Ports in host order here, for the reference.
 */
static const struct ref_flow {
	uint32_t id;
	uint8_t proto, kind;
	uint16_t flags;
	uint16_t lport, rport;
	uint8_t rhost;
} flows[] = {
    {1, 17, FLT_KIND_CONNECTED, 0, 7000, 5000, 2},
    {2, 17, FLT_KIND_BOUND, FLT_FLOW_F_INORDER_FRAGS, 7001, 0, 0},
    {3, 6, FLT_KIND_LISTENING, 0, 80, 0, 0},
    {4, 6, FLT_KIND_CONNECTED, 0, 80, 4000, 3},
    {5, 17, FLT_KIND_BOUND, 0, 7000, 0, 0},
};

static const uint8_t local_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
static struct flt_table *tables[2]; /* [0] holds early fragments, [1] does not */
static struct flt_tx_template tmpls[2];
static struct flt_tx_spec tx_specs[2];
static uint64_t now = 1000000000ull;

static uint16_t
be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t
ne32(const uint8_t *p) /* as stored: network order */
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static void
setup(void)
{
	static const char *const names[2] = {"fzhold", "fznohold"};

	flt_test_eal_init("fuzz_filters");
	for (int t = 0; t < 2; t++) {
		struct flt_table_cfg cfg = {
		    .name = names[t],
		    .max_flows = 64,
		    .frag_entries = 8, /* two buckets: eviction is reachable */
		    .frag_timeout_ns = 200000000,
		    .hold_slots = HOLD_SLOTS,
		    .hold_slot_size = HOLD_SLOT,
		    .hold_timeout_ns = 100000000,
		    .flags = t ? FLT_CFG_F_NO_HOLD : 0,
		};

		tables[t] = flt_table_create(&cfg);
		if (tables[t] == NULL)
			abort();
		for (size_t i = 0; i < ARRAY_SIZE(flows); i++) {
			const struct ref_flow *f = &flows[i];
			struct flt_flow_spec s = {
			    .flow = f->id,
			    .proto = f->proto,
			    .kind = f->kind,
			    .flags = f->flags,
			    .local_addr = PKT_IP4(10, 0, 0, 1),
			    .local_port = htons(f->lport),
			};

			if (f->kind == FLT_KIND_CONNECTED) {
				s.remote_addr = PKT_IP4(10, 0, 0, f->rhost);
				s.remote_port = htons(f->rport);
			}
			if (flt_flow_add(tables[t], &s) < 0)
				abort();
		}
	}
	/* What a UDP connected flow and a TCP server may send. */
	tx_specs[0] = (struct flt_tx_spec){.proto = 17,
	    .connected = 1,
	    .src_addr = PKT_IP4(10, 0, 0, 1),
	    .dst_addr = PKT_IP4(10, 0, 0, 2),
	    .src_port = htons(7000),
	    .dst_port = htons(5000),
	    .mtu = 1500};
	tx_specs[1] = (struct flt_tx_spec){.proto = 6,
	    .src_addr = PKT_IP4(10, 0, 0, 1),
	    .src_port = htons(80),
	    .mtu = 576,
	    .flags = FLT_TX_F_IP_OPTIONS | FLT_TX_F_FRAGMENTS};
	for (int i = 0; i < 2; i++) {
		memcpy(tx_specs[i].src_mac, local_mac, 6);
		if (flt_tx_template_init(&tmpls[i], &tx_specs[i]) < 0)
			abort();
	}
}

/* The control byte's repairs, on the fuzzer's copy of the frame. */
static void
repair(uint8_t *f, size_t len, uint8_t ctl)
{
	unsigned ihl, total, off;

	if (len < 34 || be16(f + 12) != 0x0800)
		return;
	ihl = (f[14] & 0x0f) * 4u;
	if (ctl & 0x02) {
		f[16] = (uint8_t)((len - 14) >> 8);
		f[17] = (uint8_t)(len - 14);
	}
	total = be16(f + 16);
	off = be16(f + 20) & IP4_OFF_MASK;
	if ((ctl & 0x04) && f[23] == 17 && off == 0 && ihl >= 20 && total >= ihl + 8 &&
	    14 + ihl + 8 <= len) {
		f[14 + ihl + 4] = (uint8_t)((total - ihl) >> 8);
		f[14 + ihl + 5] = (uint8_t)(total - ihl);
	}
	if ((ctl & 0x01) && ihl >= 20 && 14 + ihl <= len) {
		uint16_t c;

		f[24] = f[25] = 0;
		c = wire_inet_csum(f + 14, ihl);
		memcpy(f + 24, &c, 2);
	}
}

/*
 * Whether a frame given to flow @id carries that flow's identity. Later
 * fragments follow their first fragment's verdict and carry no ports: true.
 */
static int
rx_identity_ok(uint32_t id, const uint8_t *f, size_t len)
{
	const struct ref_flow *fl = NULL;
	unsigned ihl, q;
	uint32_t src, dst;
	uint16_t sport, dport;
	uint8_t proto;

	for (size_t i = 0; i < ARRAY_SIZE(flows); i++)
		if (flows[i].id == id)
			fl = &flows[i];
	if (fl == NULL || len < 34 || be16(f + 12) != 0x0800)
		return 0;
	ihl = (f[14] & 0x0f) * 4u;
	if ((be16(f + 20) & IP4_OFF_MASK) != 0)
		return 1;
	if (f[23] == IP4_PROTO_ICMP) {
		/* The quoted datagram is ours, going out: turn it around. */
		q = 14 + ihl + 8;
		if (len < q + 20)
			return 0;
		ihl = (f[q] & 0x0f) * 4u;
		if (len < q + ihl + 4)
			return 0;
		proto = f[q + 9];
		dst = ne32(f + q + 12);
		src = ne32(f + q + 16);
		dport = be16(f + q + ihl);
		sport = be16(f + q + ihl + 2);
	} else {
		if (len < 14 + ihl + 4)
			return 0;
		proto = f[23];
		src = ne32(f + 26);
		dst = ne32(f + 30);
		sport = be16(f + 14 + ihl);
		dport = be16(f + 14 + ihl + 2);
	}
	if (proto != fl->proto || dst != PKT_IP4(10, 0, 0, 1) || dport != fl->lport)
		return 0;
	if (fl->kind == FLT_KIND_CONNECTED &&
	    (src != PKT_IP4(10, 0, 0, fl->rhost) || sport != fl->rport))
		return 0;
	return 1;
}

static void
check_verdict(const struct flt_verdict *v, const uint8_t *f, size_t len)
{
	switch (v->action) {
	case FLT_ACT_FLOW:
		if (v->reason != FLT_DROP_NONE || !rx_identity_ok(v->flow, f, len))
			__builtin_trap();
		break;
	case FLT_ACT_MANAGER:
	case FLT_ACT_HELD:
		if (v->reason != FLT_DROP_NONE || v->flow != FLT_FLOW_NONE)
			__builtin_trap();
		break;
	case FLT_ACT_DROP:
		/* Timeouts and in-order refusals come from the release, never on arrival. */
		if (v->reason == FLT_DROP_NONE || v->reason >= FLT_DROP__COUNT ||
		    v->reason == FLT_DROP_FRAG_TIMEOUT || v->reason == FLT_DROP_FRAG_OUT_OF_ORDER ||
		    v->flow != FLT_FLOW_NONE)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

static void
release(struct flt_table *t)
{
	struct flt_held out[HOLD_SLOTS + 1];
	unsigned n = flt_frag_release_burst(t, now, out, HOLD_SLOTS + 1);

	if (n > HOLD_SLOTS)
		__builtin_trap();
	for (unsigned i = 0; i < n; i++) {
		if (out[i].len == 0 || out[i].len > HOLD_SLOT || out[i].frame == NULL)
			__builtin_trap();
		if (out[i].action == FLT_ACT_FLOW) {
			if (!rx_identity_ok(out[i].flow, out[i].frame, out[i].len))
				__builtin_trap();
		} else if (out[i].action != FLT_ACT_MANAGER || out[i].flow != FLT_FLOW_NONE) {
			__builtin_trap();
		}
	}
}

static void
demux(struct flt_table *t, uint8_t *const frames[], const uint16_t lens[], unsigned n)
{
	struct flt_verdict v[BURST];

	if (n == 0)
		return;
	if (flt_demux_burst(t, (const uint8_t *const *)frames, lens, n, now, v) != n)
		__builtin_trap();
	for (unsigned i = 0; i < n; i++)
		check_verdict(&v[i], frames[i], lens[i]);
	release(t);
}

/*
 * The transmit rules of docs/filters.md section 4, written out: the header
 * length a frame passes with, or 0 if it must be refused.
 */
static unsigned
tx_reference(const struct flt_tx_spec *sp, const uint8_t *f, size_t len)
{
	unsigned ihl, total, frag, off, payload, l4, hdr;

	if (len < 34 || be16(f + 12) != 0x0800 || memcmp(f + 6, sp->src_mac, 6) != 0 ||
	    f[14] >> 4 != 4)
		return 0;
	frag = be16(f + 20);
	off = frag & IP4_OFF_MASK;
	if ((frag & IP4_FLAG_RF) ||
	    (!(sp->flags & FLT_TX_F_FRAGMENTS) && (off || (frag & IP4_FLAG_MF))))
		return 0;
	if (f[23] != sp->proto || ne32(f + 26) != sp->src_addr ||
	    (sp->connected && ne32(f + 30) != sp->dst_addr))
		return 0;
	ihl = (f[14] & 0x0f) * 4u;
	if (ihl < 20 || (ihl > 20 && !(sp->flags & FLT_TX_F_IP_OPTIONS)) || 14 + ihl > len)
		return 0;
	total = be16(f + 16);
	if (total != len - 14 || total < ihl || total > (sp->mtu ? sp->mtu : 1500))
		return 0;
	if (off)
		return sp->proto == 6 && off == 1 ? 0 : 14 + ihl;
	l4 = 14 + ihl;
	payload = total - ihl;
	if (sp->proto == 17) {
		unsigned ulen;

		if (payload < 8)
			return 0;
		ulen = be16(f + l4 + 4);
		if ((frag & IP4_FLAG_MF) ? ulen <= payload : ulen != payload)
			return 0;
		hdr = 8;
	} else {
		if (payload < 20)
			return 0;
		hdr = (f[l4 + 12] >> 4) * 4u;
		if (hdr < 20 || hdr > payload)
			return 0;
	}
	if (be16(f + l4) != ntohs(sp->src_port) ||
	    (sp->connected && be16(f + l4 + 2) != ntohs(sp->dst_port)))
		return 0;
	return l4 + hdr;
}

static void
txcheck(const uint8_t *f, size_t len)
{
	uint8_t priv[FLT_TX_HDR_MAX];

	for (int i = 0; i < 2; i++) {
		unsigned want = tx_reference(&tx_specs[i], f, len);
		uint16_t hdr_len = 0;
		enum flt_tx_reason r =
		    flt_txcheck(tables[0], &tmpls[i], f, (uint32_t)len, priv, &hdr_len);

		if (r >= FLT_TX__COUNT || (r == FLT_TX_OK) != (want != 0))
			__builtin_trap();
		if (r == FLT_TX_OK &&
		    (hdr_len != want || hdr_len > FLT_TX_HDR_MAX || memcmp(priv, f, hdr_len) != 0))
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *frames[2][BURST];
	uint16_t lens[2][BURST];
	unsigned n[2] = {0, 0};
	size_t pos = 0;
	const uint8_t *in;
	uint32_t len;
	uint8_t ctl;

	if (tables[0] == NULL)
		setup();
	now += INPUT_SPACE;
	release(tables[0]);
	release(tables[1]);
	while (n[0] + n[1] < BURST && (in = fz_next(data, size, &pos, &ctl, &len)) != NULL) {
		int t = (ctl & 0x08) != 0;
		uint8_t *f;

		if (ctl >> 4) {
			/* Time passes between bursts: classify what came before. */
			for (int k = 0; k < 2; k++) {
				demux(tables[k], frames[k], lens[k], n[k]);
				while (n[k])
					free(frames[k][--n[k]]);
			}
			now += (uint64_t)(ctl >> 4) * CLOCK_STEP;
			release(tables[0]);
			release(tables[1]);
		}
		f = fz_copy(in, len);
		repair(f, len, ctl);
		txcheck(f, len);
		frames[t][n[t]] = f;
		lens[t][n[t]++] = (uint16_t)len;
	}
	for (int k = 0; k < 2; k++) {
		demux(tables[k], frames[k], lens[k], n[k]);
		while (n[k])
			free(frames[k][--n[k]]);
		if (!flt_test_stats_consistent(tables[k]))
			__builtin_trap();
	}
	return 0;
}
