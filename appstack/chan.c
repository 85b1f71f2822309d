/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The bottom layer: packets to iorecs on the transmit channel, iorecs from
 * the receive channel to packets. Offsets, never pointers, cross to the
 * driver; what comes back is checked against our own pools, because the
 * record's tag and piece are whatever the other side wrote.
 */
#include "appstack/as_priv.h"

static unsigned
chan_put(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	struct rbuf_iorec r[AS_BURST];
	unsigned done = 0;

	while (done < n) {
		unsigned k = n - done < AS_BURST ? n - done : AS_BURST, put;

		for (unsigned j = 0; j < k; j++) {
			const struct as_pkt *q = &p[done + j];

			r[j].flags = 0;
			r[j].tag = q->ref;
			r[j].piece[0].off = (uint32_t)(q->data - f->tx_base);
			r[j].piece[0].len = q->len;
			r[j].n_pieces = 1;
			if (q->tail_len) {
				r[j].piece[1].off = q->tail_off;
				r[j].piece[1].len = q->tail_len;
				r[j].n_pieces = 2;
			}
		}
		/* The caller made sure of the room: this takes all k. */
		put = rbuf_put_burst(f->tx, r, k);
		f->st.c[AS_STAT_TX_FRAMES] += put;
		done += put;
		if (put < k)
			break;
	}
	return done;
}

static unsigned
chan_get(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	struct rbuf_iorec r[AS_BURST];
	unsigned k, out = 0;

	k = rbuf_get_burst(f->rx, r, n < AS_BURST ? n : AS_BURST);
	for (unsigned j = 0; j < k; j++) {
		uint32_t i = r[j].tag;

		f->st.c[AS_STAT_RX_FRAMES]++;
		if (i >= f->rx_n || f->rx_state[i] != AS_BUF_DRIVER) {
			/* Not a buffer the driver holds: nothing to give back. */
			f->st.c[AS_STAT_DROP_BAD_REC]++;
			continue;
		}
		f->rx_state[i] = AS_BUF_STACK;
		if (r[j].piece[0].off != i * f->rx_stride || r[j].piece[0].len > f->rx_stride) {
			f->st.c[AS_STAT_DROP_BAD_REC]++;
			as__rx_release(f, AS_REF_RX | i);
			continue;
		}
		p[out] = (struct as_pkt){
		    .data = (uint8_t *)(uintptr_t)(f->rx_base + r[j].piece[0].off),
		    .len = r[j].piece[0].len,
		    .ref = AS_REF_RX | i,
		};
		out++;
	}
	return out;
}

const struct as_layer_ops as__chan_ops = {
    .name = "chan",
    .put = chan_put,
    .get = chan_get,
};
