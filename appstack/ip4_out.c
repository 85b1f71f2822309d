/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 output: the header in front of the UDP header, and fragmentation of
 * datagrams larger than the MTU without copying the payload:
 *
 *   buffer:  [eth][ip MF off 0][udp][payload ......................]
 *   frame 1: `------------- piece 0 -------------'
 *   frame 2: [eth][ip MF off N]   (header slot)  + piece 1 = the next N bytes
 *   frame 3: [eth][ip off 2N]     (header slot)  + piece 1 = the rest
 *
 * Each fragment but the last carries frag_max bytes of IP payload, a
 * multiple of 8 (the unit of the offset field). The first fragment's header
 * is written in the buffer's own headroom; the later ones' in header slots
 * of the transmit area, one per frame, freed when the driver hands the
 * frame back. The driver gathers the pieces (driver/tx.c).
 */
#include <arpa/inet.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"

unsigned
as__ip4_frames(const struct as_flow *f, uint32_t len)
{
	if (IP4_HDR_LEN + len <= f->fib.mtu)
		return 1;
	return (len + f->frag_max - 1) / f->frag_max;
}

/* Fill the IP header at @h from the template, for @len bytes of payload. */
static void
ip_hdr(struct as_flow *f, uint8_t *h, uint32_t dst, uint16_t id, uint32_t len, uint16_t frag)
{
	struct ip4_hdr *ip = (struct ip4_hdr *)h;
	uint64_t sum;

	memcpy(h, f->tmpl + ETH_HDR_LEN, IP4_HDR_LEN);
	ip->tot_len = htons((uint16_t)(IP4_HDR_LEN + len));
	ip->id = htons(id);
	ip->frag_off = htons(frag);
	if (f->fib.kind == AS_UDP_BOUND)
		ip->dst = htonl(dst);
	sum = as__csum_add(0, h, IP4_HDR_LEN);
	ip->csum = htons(as__csum_fold(sum));
}

static unsigned
ip_put(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	struct as_pkt out[AS_BURST];
	unsigned k = 0, sent = 0;

	for (unsigned i = 0; i < n; i++) {
		struct as_pkt *d = &p[i];
		uint32_t len = d->len, fm = f->frag_max;
		uint16_t id = f->ip_id++;
		uint32_t base;

		if (IP4_HDR_LEN + len <= f->fib.mtu) {
			ip_hdr(f, d->data - IP4_HDR_LEN, d->peer.addr, id, len, 0);
			out[k] = *d;
			out[k].data -= IP4_HDR_LEN;
			out[k].len += IP4_HDR_LEN;
			if (++k == AS_BURST) {
				sent += l->below->ops->put(l->below, out, k);
				k = 0;
			}
			continue;
		}
		/* First fragment: in place, the first fm bytes. */
		ip_hdr(f, d->data - IP4_HDR_LEN, d->peer.addr, id, fm, IP4_FLAG_MF);
		out[k] = *d;
		out[k].data -= IP4_HDR_LEN;
		out[k].len = IP4_HDR_LEN + fm;
		if (++k == AS_BURST) {
			sent += l->below->ops->put(l->below, out, k);
			k = 0;
		}
		base = (uint32_t)(d->data - f->tx_base);
		for (uint32_t off = fm; off < len; off += fm) {
			uint32_t flen = len - off < fm ? len - off : fm;
			uint32_t s = f->hs_free[--f->n_hs_free]; /* counted by the caller */
			uint8_t *h = f->tx_base + f->hs_base + s * AS_HSLOT_SIZE + ETH_HDR_LEN;

			f->hs_used[s] = 1;
			f->hs_buf[s] = d->ref;
			ip_hdr(f, h, d->peer.addr, id, flen,
			    (uint16_t)((off + flen < len ? IP4_FLAG_MF : 0) | off / IP4_OFF_UNIT));
			out[k] = *d;
			out[k].data = h;
			out[k].len = IP4_HDR_LEN;
			out[k].tail_off = base + off;
			out[k].tail_len = flen;
			out[k].ref = AS_REF_HSLOT | s;
			f->st.c[AS_STAT_TX_FRAGS]++;
			if (++k == AS_BURST) {
				sent += l->below->ops->put(l->below, out, k);
				k = 0;
			}
		}
		f->st.c[AS_STAT_TX_FRAGS]++; /* the first */
	}
	if (k)
		sent += l->below->ops->put(l->below, out, k);
	(void)sent; /* frames, not datagrams: the room was checked */
	return n;
}

const struct as_layer_ops as__ip4_ops = {
    .name = "ip4",
    .put = ip_put,
    .get = as__ip4_get,
};
