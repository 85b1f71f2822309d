/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet: put writes the MACs and type in front of the IP header; get
 * keeps IPv4 frames addressed to our MAC. The destination MAC of a sent
 * frame was chosen by the caller (the FIB's next hop, or the peer a bound
 * flow heard from) and travels in the packet.
 */
#include <arpa/inet.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "common/wire/eth.h"

static unsigned
eth_put(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *h = p[i].data - ETH_HDR_LEN;

		/* Source and type from the template, destination per packet. */
		memcpy(h, p[i].mac, 6);
		memcpy(h + 6, f->tmpl + 6, ETH_HDR_LEN - 6);
		p[i].data = h;
		p[i].len += ETH_HDR_LEN;
	}
	return l->below->ops->put(l->below, p, n);
}

static unsigned
eth_get(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	unsigned k = l->below->ops->get(l->below, p, n), out = 0;

	for (unsigned i = 0; i < k; i++) {
		struct eth_hdr e;
		enum as_stat why;

		if (p[i].len < ETH_HDR_LEN) {
			why = AS_STAT_DROP_TRUNCATED;
			goto drop;
		}
		memcpy(&e, p[i].data, sizeof(e));
		if (e.type != htons(ETH_TYPE_IPV4)) {
			why = AS_STAT_DROP_ETHERTYPE;
			goto drop;
		}
		if (memcmp(e.dst.b, f->fib.local_mac, 6) != 0) {
			why = AS_STAT_DROP_NOT_OUR_MAC;
			goto drop;
		}
		p[out] = p[i];
		memcpy(p[out].mac, e.src.b, 6);
		p[out].data += ETH_HDR_LEN;
		p[out].len -= ETH_HDR_LEN;
		out++;
		continue;
	drop:
		f->st.c[why]++;
		as__rx_release(f, p[i].ref);
	}
	return out;
}

const struct as_layer_ops as__eth_ops = {
    .name = "eth",
    .put = eth_put,
    .get = eth_get,
};
