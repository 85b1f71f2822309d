/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * UDP (RFC 768): put writes the header and its checksum (always computed:
 * the payload is in our memory already, and the receiver's stack checks it);
 * get checks length, ports and, when the sender computed one, the checksum,
 * and checks the ports an ICMP error quotes.
 */
#include <arpa/inet.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"

#define TMPL_UDP (ETH_HDR_LEN + IP4_HDR_LEN)

static unsigned
udp_put(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;

	for (unsigned i = 0; i < n; i++) {
		struct udp_hdr *u = (struct udp_hdr *)(p[i].data - UDP_HDR_LEN);
		uint32_t ulen = p[i].len + UDP_HDR_LEN, dst = f->fib.remote.addr;
		uint16_t c;

		memcpy(u, f->tmpl + TMPL_UDP, UDP_HDR_LEN);
		if (f->fib.kind == AS_UDP_BOUND) {
			u->dst_port = htons(p[i].peer.port);
			dst = p[i].peer.addr;
		}
		u->len = htons((uint16_t)ulen);
		u->csum = 0;
		c = as__csum_fold(as__csum_add(
		    as__csum_pseudo(f->fib.local.addr, dst, IP4_PROTO_UDP, ulen), u, ulen));
		u->csum = htons(c ? c : 0xffff); /* 0 means "none" on the wire */
		f->st.c[AS_STAT_TX_DGRAMS]++;
		f->st.c[AS_STAT_TX_BYTES] += p[i].len;
		p[i].data = (uint8_t *)u;
		p[i].len = ulen;
	}
	return l->below->ops->put(l->below, p, n);
}

static unsigned
udp_get(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	unsigned k = l->below->ops->get(l->below, p, n), out = 0;

	for (unsigned i = 0; i < k; i++) {
		struct as_pkt *q = &p[i];
		struct udp_hdr u;
		uint32_t ulen;
		enum as_stat why;

		if (q->proto == IP4_PROTO_ICMP) {
			memcpy(&u, q->quote, sizeof(u));
			if (ntohs(u.src_port) != f->fib.local.port ||
			    (f->fib.kind == AS_UDP_CONNECTED &&
				ntohs(u.dst_port) != f->fib.remote.port)) {
				why = AS_STAT_DROP_BAD_ICMP;
				goto drop;
			}
			q->peer.port = ntohs(u.dst_port);
			f->st.c[AS_STAT_RX_ICMP]++;
			p[out++] = *q;
			continue;
		}
		if (q->len < UDP_HDR_LEN) {
			why = AS_STAT_DROP_TRUNCATED;
			goto drop;
		}
		memcpy(&u, q->data, sizeof(u));
		ulen = ntohs(u.len);
		if (ulen < UDP_HDR_LEN || ulen > q->len) {
			why = AS_STAT_DROP_UDP_LEN;
			goto drop;
		}
		if (ntohs(u.dst_port) != f->fib.local.port ||
		    (f->fib.kind == AS_UDP_CONNECTED && ntohs(u.src_port) != f->fib.remote.port)) {
			why = AS_STAT_DROP_NOT_FOR_US;
			goto drop;
		}
		if (u.csum && as__csum_fold(as__csum_add(
				  as__csum_pseudo(q->peer.addr, q->dst, IP4_PROTO_UDP, ulen),
				  q->data, ulen)) != 0) {
			why = AS_STAT_DROP_UDP_CSUM;
			goto drop;
		}
		q->peer.port = ntohs(u.src_port);
		q->data += UDP_HDR_LEN;
		q->len = ulen - UDP_HDR_LEN;
		if (f->fib.kind == AS_UDP_BOUND)
			as__peer_learn(f, q->peer.addr, q->mac);
		f->st.c[AS_STAT_RX_DGRAMS]++;
		f->st.c[AS_STAT_RX_BYTES] += q->len;
		p[out++] = *q;
		continue;
	drop:
		f->st.c[why]++;
		as__rx_release(f, q->ref);
	}
	return out;
}

const struct as_layer_ops as__udp_ops = {
    .name = "udp",
    .put = udp_put,
    .get = udp_get,
};
