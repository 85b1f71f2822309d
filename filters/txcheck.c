/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * txcheck.c -- the transmit filter: is this frame one the flow may send?
 *
 * The headers are copied to driver-private memory first and only the copy is
 * read, so an application that rewrites its buffer during the check changes
 * nothing but its own payload. The fixed part of the check is one masked
 * compare of frame bytes 0..39 with the flow's template:
 *
 *   bytes  0..5   destination MAC       free (the flow manager's ARP decides)
 *          6..11  source MAC            must match
 *         12..13  ethertype             0x0800
 *         14      version / IHL         version 4 (IHL checked below)
 *         20..21  flags / offset        RF clear; MF and offset clear unless
 *                                       the flow may fragment; DF free
 *         23      protocol              must match
 *         26..29  source address        must match
 *         30..33  destination address   must match for connected flows
 *
 * then the transport ports under a 4-byte mask at the IHL-dependent offset,
 * then the lengths. A mismatch is rare, so only then is the compare redone
 * field by field to name the reason.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "filters/flt_priv.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"

#define CMP_BYTES 40 /* the template covers frame bytes [0, CMP_BYTES) */

_Static_assert(sizeof(((struct flt_tx_template *)0)->val) == CMP_BYTES, "template size");
_Static_assert(FLT_TX_HDR_MAX >= CMP_BYTES, "the private copy covers the template");

int
flt_tx_template_init(struct flt_tx_template *tmpl, const struct flt_tx_spec *s)
{
	uint8_t val[CMP_BYTES] = {0}, mask[CMP_BYTES] = {0};
	uint8_t l4v[4], l4m[4];
	struct flt_tx_template t;
	uint16_t mtu = s->mtu ? s->mtu : ETH_MTU;
	const size_t ip = ETH_HDR_LEN;

	if (s->proto != IP4_PROTO_UDP && s->proto != IP4_PROTO_TCP)
		return -EINVAL;
	if (mtu < 68 || s->src_addr == 0 || s->src_port == 0)
		return -EINVAL;
	if (s->connected && (s->dst_addr == 0 || s->dst_port == 0))
		return -EINVAL;
	if (s->flags & ~(uint16_t)(FLT_TX_F_IP_OPTIONS | FLT_TX_F_FRAGMENTS))
		return -EINVAL;

	memcpy(val + 6, s->src_mac, ETH_ADDR_LEN);
	memset(mask + 6, 0xff, ETH_ADDR_LEN);
	val[12] = ETH_TYPE_IPV4 >> 8;
	val[13] = ETH_TYPE_IPV4 & 0xff;
	mask[12] = mask[13] = 0xff;
	val[ip] = IP4_VERSION << 4;
	mask[ip] = 0xf0;
	/* Flags and offset: always RF; MF and the offset too unless fragments are allowed. */
	if (s->flags & FLT_TX_F_FRAGMENTS) {
		mask[ip + 6] = IP4_FLAG_RF >> 8;
	} else {
		mask[ip + 6] = (uint8_t)(~IP4_FLAG_DF >> 8);
		mask[ip + 7] = 0xff;
	}
	val[ip + 9] = s->proto;
	mask[ip + 9] = 0xff;
	memcpy(val + ip + 12, &s->src_addr, 4);
	memset(mask + ip + 12, 0xff, 4);
	if (s->connected) {
		memcpy(val + ip + 16, &s->dst_addr, 4);
		memset(mask + ip + 16, 0xff, 4);
	}

	memcpy(l4v, &s->src_port, 2);
	memcpy(l4v + 2, &s->dst_port, 2);
	memset(l4m, 0xff, 2);
	memset(l4m + 2, s->connected ? 0xff : 0, 2);
	if (!s->connected)
		memset(l4v + 2, 0, 2);

	memset(&t, 0, sizeof(t));
	memcpy(t.val, val, CMP_BYTES);
	memcpy(t.mask, mask, CMP_BYTES);
	memcpy(&t.l4_val, l4v, 4);
	memcpy(&t.l4_mask, l4m, 4);
	t.mtu = mtu;
	t.flags = s->flags;
	t.proto = s->proto;
	*tmpl = t;
	return 0;
}

/* Which field of the fixed compare failed; the order is the order of the counters. */
static SLUICE_COLD enum flt_tx_reason
fixed_mismatch(const struct flt_tx_template *t, const uint8_t *h)
{
	static const struct {
		uint8_t from, to;
		uint8_t reason;
	} fields[] = {
	    {12, 14, FLT_TX_BAD_ETHERTYPE},
	    {6, 12, FLT_TX_BAD_SRC_MAC},
	    {14, 15, FLT_TX_BAD_VERSION},
	    {23, 24, FLT_TX_BAD_PROTO},
	    {26, 30, FLT_TX_BAD_SRC_IP},
	    {20, 22, FLT_TX_BAD_FRAG},
	    {30, 34, FLT_TX_BAD_DST},
	};
	const uint8_t *val = (const uint8_t *)t->val, *mask = (const uint8_t *)t->mask;

	for (size_t f = 0; f < ARRAY_SIZE(fields); f++)
		for (unsigned b = fields[f].from; b < fields[f].to; b++)
			if ((h[b] ^ val[b]) & mask[b])
				return (enum flt_tx_reason)fields[f].reason;
	return FLT_TX_OK;
}

static enum flt_tx_reason
check(const struct flt_tx_template *t, uint8_t *h, const uint8_t *frame, uint32_t len,
    uint16_t *hdr_len)
{
	const struct ip4_hdr *ih = (const struct ip4_hdr *)(h + ETH_HDR_LEN);
	uint32_t copy = len < FLT_TX_HDR_MAX ? len : FLT_TX_HDR_MAX;
	unsigned ihl, tot, pl, frag, l4_len;
	uint64_t diff = 0;
	uint32_t ports;

	/* Copy first: from here on nothing reads the application's memory. */
	memcpy(h, frame, copy);
	if (copy < CMP_BYTES)
		memset(h + copy, 0, CMP_BYTES - copy);

	if (unlikely(len < ETH_HDR_LEN))
		return FLT_TX_TRUNCATED;
	if (unlikely(((const struct eth_hdr *)h)->type != htons(ETH_TYPE_IPV4)))
		return FLT_TX_BAD_ETHERTYPE;
	if (unlikely(len < ETH_HDR_LEN + IP4_HDR_LEN))
		return FLT_TX_TRUNCATED;
	for (unsigned w = 0; w < CMP_BYTES / 8; w++) {
		uint64_t x;

		memcpy(&x, h + 8 * w, 8);
		diff |= (x ^ t->val[w]) & t->mask[w];
	}
	if (unlikely(diff != 0))
		return fixed_mismatch(t, h);

	ihl = wire_ip4_hdr_len(ih);
	if (unlikely(ihl < IP4_HDR_LEN || (ihl > IP4_HDR_LEN && !(t->flags & FLT_TX_F_IP_OPTIONS))))
		return FLT_TX_BAD_IHL;
	if (unlikely(ETH_HDR_LEN + ihl > len))
		return FLT_TX_TRUNCATED;
	tot = ntohs(ih->tot_len);
	if (unlikely(tot != len - ETH_HDR_LEN || tot < ihl))
		return FLT_TX_BAD_LEN;
	if (unlikely(tot > t->mtu))
		return FLT_TX_TOO_BIG;
	pl = tot - ihl;
	frag = ntohs(ih->frag_off);

	/* A later fragment has no transport header; the template allowed it above. */
	if (unlikely(frag & IP4_OFF_MASK)) {
		if (t->proto == IP4_PROTO_TCP && (frag & IP4_OFF_MASK) == 1)
			return FLT_TX_BAD_FRAG;
		*hdr_len = (uint16_t)(ETH_HDR_LEN + ihl);
		return FLT_TX_OK;
	}
	if (t->proto == IP4_PROTO_UDP) {
		const struct udp_hdr *uh = (const struct udp_hdr *)(h + ETH_HDR_LEN + ihl);
		unsigned ulen;

		if (unlikely(pl < UDP_HDR_LEN))
			return FLT_TX_TRUNCATED;
		ulen = ntohs(uh->len);
		if (unlikely((frag & IP4_FLAG_MF) ? ulen <= pl : ulen != pl))
			return FLT_TX_BAD_LEN;
		l4_len = UDP_HDR_LEN;
	} else {
		const struct tcp_hdr *th = (const struct tcp_hdr *)(h + ETH_HDR_LEN + ihl);

		if (unlikely(pl < TCP_HDR_LEN))
			return FLT_TX_TRUNCATED;
		l4_len = wire_tcp_hdr_len(th);
		if (unlikely(l4_len < TCP_HDR_LEN || l4_len > pl))
			return FLT_TX_BAD_LEN;
	}

	/* Source and destination port are the first four bytes of UDP and TCP alike. */
	memcpy(&ports, h + ETH_HDR_LEN + ihl, 4);
	if (unlikely((ports ^ t->l4_val) & t->l4_mask)) {
		uint16_t sp;

		memcpy(&sp, &t->l4_val, 2);
		return memcmp(h + ETH_HDR_LEN + ihl, &sp, 2) != 0 ? FLT_TX_BAD_SRC_PORT
								  : FLT_TX_BAD_DST;
	}
	*hdr_len = (uint16_t)(ETH_HDR_LEN + ihl + l4_len);
	return FLT_TX_OK;
}

enum flt_tx_reason
flt_txcheck(struct flt_table *tbl, const struct flt_tx_template *tmpl, const uint8_t *frame,
    uint32_t len, uint8_t *priv, uint16_t *hdr_len)
{
	enum flt_tx_reason r = check(tmpl, priv, frame, len, hdr_len);

	FLT_CTR_ADD(tbl->tx.tx_pkts, 1);
	if (likely(r == FLT_TX_OK)) {
		FLT_CTR_ADD(tbl->tx.tx_ok, 1);
	} else {
		FLT_CTR_ADD(tbl->tx.tx_refused, 1);
		FLT_CTR_ADD(tbl->tx.tx_refuse[r], 1);
	}
	return r;
}

unsigned
flt_txcheck_burst(struct flt_table *tbl, struct flt_tx_pkt pkts[], unsigned n)
{
	uint64_t refuse[FLT_TX__COUNT] = {0};
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++) {
		struct flt_tx_pkt *p = &pkts[i];

		p->hdr_len = 0;
		p->reason = (uint16_t)check(p->tmpl, p->priv, p->frame, p->len, &p->hdr_len);
		refuse[p->reason]++;
	}
	ok = (unsigned)refuse[FLT_TX_OK];
	FLT_CTR_ADD(tbl->tx.tx_pkts, n);
	FLT_CTR_ADD(tbl->tx.tx_ok, ok);
	if (ok != n) {
		FLT_CTR_ADD(tbl->tx.tx_refused, n - ok);
		for (unsigned r = 1; r < FLT_TX__COUNT; r++)
			if (refuse[r])
				FLT_CTR_ADD(tbl->tx.tx_refuse[r], refuse[r]);
	}
	return ok;
}
