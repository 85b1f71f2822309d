/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Receive: one burst from the port, classified in bulk, each packet copied
 * into an empty buffer its application posted (Receive Master Mode), then
 * one publish per flow. A flow with no empty buffer loses the packet at
 * once, counted against that flow only: the early drop of DESIGN.md §2.
 *
 * A whole datagram larger than the flow's buffer is cut into IPv4
 * fragments (recut()): net_af_packet's kernel side joins the fragments
 * that came over the wire before the driver sees them, and the
 * application's stack expects what the wire carried.
 */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_ip.h>

#include "driver/drv_priv.h"

#define RX_STAGE_MAX (2 * DRV_BURST)

/* Packets copied during a burst, published per flow at its end. Compact:
 * a full iorec is 128 bytes and a received packet needs 12 of them. */
struct rx_stage {
	uint32_t flow[RX_STAGE_MAX];
	struct {
		uint32_t off, len, tag;
	} rec[RX_STAGE_MAX];
	unsigned n;
};

static struct drv_flow *
flow_for(struct drv *d, uint32_t id)
{
	if (id >= d->cfg.max_flows)
		return NULL;
	return &d->flows[id];
}

/* Take the next empty buffer of a flow, refilling the cache from its ring. */
static inline __attribute__((always_inline)) bool
take_empty(struct drv_flow *f, struct rbuf_shm_piece *p, uint32_t *tag)
{
	if (f->rx_cache_n == 0) {
		struct rbuf_iorec r[DRV_RX_CACHE];
		unsigned k = rbuf_get_burst(f->rx, r, DRV_RX_CACHE);

		/* Kept in reverse so that popping from the end is FIFO. */
		for (unsigned i = 0; i < k; i++) {
			f->rx_cache[k - 1 - i] = r[i].piece[0];
			f->rx_cache_tag[k - 1 - i] = r[i].tag;
		}
		f->rx_cache_n = k;
		if (k == 0)
			return false;
	}
	f->rx_cache_n--;
	*p = f->rx_cache[f->rx_cache_n];
	*tag = f->rx_cache_tag[f->rx_cache_n];
	return true;
}

static void publish(struct drv *d, struct rx_stage *s);

/* Keep an empty buffer taken but not filled, for the next packet. */
static void
untake(struct drv_flow *f, struct rbuf_shm_piece p, uint32_t tag)
{
	f->rx_cache[f->rx_cache_n] = p;
	f->rx_cache_tag[f->rx_cache_n++] = tag;
}

/* Copy @hdr then @body into the buffer @p of flow @id and stage its record. */
static void
fill(struct rx_stage *s, struct drv_flow *f, uint32_t id, struct rbuf_shm_piece p, uint32_t tag,
    const uint8_t *hdr, uint32_t hlen, const uint8_t *body, uint32_t blen)
{
	memcpy(f->rx_data + p.off, hdr, hlen);
	if (blen)
		memcpy(f->rx_data + p.off + hlen, body, blen);
	s->rec[s->n].off = p.off;
	s->rec[s->n].len = hlen + blen;
	s->rec[s->n].tag = tag;
	s->flow[s->n++] = id;
	f->st.c[DRV_C_RX_PKTS]++;
	f->st.c[DRV_C_RX_BYTES] += hlen + blen;
}

#define RECUT_HDR (RTE_ETHER_HDR_LEN + sizeof(struct rte_ipv4_hdr))

/* A frame recut() can cut: untagged IPv4, a 20-byte header, not a fragment. */
static bool
recuttable(const uint8_t *pkt, uint32_t len)
{
	const struct rte_ether_hdr *eh = (const struct rte_ether_hdr *)pkt;
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(pkt + RTE_ETHER_HDR_LEN);

	return len > RECUT_HDR && eh->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
	       ih->version_ihl == 0x45 &&
	       !(rte_be_to_cpu_16(ih->fragment_offset) &
		   (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK)) &&
	       rte_be_to_cpu_16(ih->total_length) > sizeof(struct rte_ipv4_hdr) &&
	       rte_be_to_cpu_16(ih->total_length) <= len - RTE_ETHER_HDR_LEN;
}

/*
 * Deliver a whole datagram that no buffer of the flow holds as fragments
 * of it, each within the flow's MTU and the buffer it goes into, cut as a
 * router would (RFC 791: offsets in 8-byte units, MF on all but the last,
 * DF cleared, header checksum anew). The driver only cuts, it never joins:
 * this undoes the join the kernel did for net_af_packet, and the stack
 * reassembles as it does on ports that deliver fragments. The flow's
 * buffers bound the work. When they run out part way, the rest is lost
 * (RX_NO_BUF) like fragments lost on a wire, and the stack's reassembly
 * times out. Not rte_ipv4_fragment_packet(): it builds new mbufs from two
 * pools, and the bytes would then be copied into the buffers anyway;
 * writing each fragment straight into its buffer is the one copy the
 * driver makes of any frame.
 */
static void
recut(struct drv *d, struct rx_stage *s, struct drv_flow *f, uint32_t id, const uint8_t *pkt)
{
	const struct rte_ipv4_hdr *ih = (const struct rte_ipv4_hdr *)(pkt + RTE_ETHER_HDR_LEN);
	const uint8_t *body = pkt + RECUT_HDR;
	uint32_t blen = rte_be_to_cpu_16(ih->total_length) - (uint32_t)sizeof(*ih);
	uint32_t mtu = f->tx_spec.mtu ? f->tx_spec.mtu : 1500;
	uint8_t hdr[RECUT_HDR];
	struct rte_ipv4_hdr *fh = (struct rte_ipv4_hdr *)(hdr + RTE_ETHER_HDR_LEN);
	struct rbuf_shm_piece p;
	uint32_t tag, n;

	memcpy(hdr, pkt, RECUT_HDR);
	d->st.rx_recut++;
	for (uint32_t off = 0; off < blen; off += n) {
		if (s->n == RX_STAGE_MAX)
			publish(d, s);
		if (!take_empty(f, &p, &tag)) {
			f->st.c[DRV_C_RX_NO_BUF]++;
			drv__droplog(d, "rx no buffer (fragment)", id, 0);
			return;
		}
		n = RTE_MIN(mtu - (uint32_t)sizeof(*ih), p.len > RECUT_HDR ? p.len - RECUT_HDR : 0);
		n &= ~7u;
		if (n == 0) {
			untake(f, p, tag);
			f->st.c[DRV_C_RX_TOO_BIG]++;
			drv__droplog(d, "rx too big (fragment)", id, p.len);
			return;
		}
		if (n >= blen - off)
			n = blen - off;
		fh->total_length = rte_cpu_to_be_16((uint16_t)(sizeof(*ih) + n));
		fh->fragment_offset = rte_cpu_to_be_16(
		    (uint16_t)(off / 8 | (off + n < blen ? RTE_IPV4_HDR_MF_FLAG : 0)));
		fh->hdr_checksum = 0;
		fh->hdr_checksum = rte_ipv4_cksum(fh);
		fill(s, f, id, p, tag, hdr, RECUT_HDR, body + off, n);
	}
}

static void
deliver(struct drv *d, struct rx_stage *s, uint32_t id, const uint8_t *pkt, uint32_t len)
{
	struct drv_flow *f = flow_for(d, id);
	struct rbuf_shm_piece p;
	uint32_t tag;

	if (unlikely(!f || f->state != DRV_FLOW_ACTIVE)) {
		/* Removed since the burst started: the flow manager decides. */
		d->st.rx_late++;
		f = &d->flows[DRV_FLOW_EXC];
		id = DRV_FLOW_EXC;
		if (f->state != DRV_FLOW_ACTIVE)
			return;
	}
	if (unlikely(!f->rx || !take_empty(f, &p, &tag))) {
		f->st.c[DRV_C_RX_NO_BUF]++;
		drv__droplog(d, "rx no buffer", id, 0);
		return;
	}
	if (unlikely(len > p.len)) {
		untake(f, p, tag); /* still empty */
		if (recuttable(pkt, len)) {
			recut(d, s, f, id, pkt);
			return;
		}
		f->st.c[DRV_C_RX_TOO_BIG]++;
		drv__droplog(d, "rx too big", id, len);
		return;
	}
	fill(s, f, id, p, tag, pkt, len, NULL, 0);
}

/* Publish the staged records, one put per flow. */
static void
publish(struct drv *d, struct rx_stage *s)
{
	struct rbuf_iorec batch[2 * DRV_BURST];

	for (unsigned i = 0; i < s->n; i++) {
		uint32_t id = s->flow[i];
		struct drv_flow *f;
		unsigned k = 0, put;

		if (id == UINT32_MAX)
			continue;
		for (unsigned j = i; j < s->n; j++) {
			if (s->flow[j] == id) {
				/* Only what rbuf_put_burst() copies is filled. */
				batch[k].n_pieces = 1;
				batch[k].flags = 0;
				batch[k].tag = s->rec[j].tag;
				batch[k].piece[0].off = s->rec[j].off;
				batch[k].piece[0].len = s->rec[j].len;
				k++;
				s->flow[j] = UINT32_MAX;
			}
		}
		f = &d->flows[id];
		put = rbuf_put_burst(f->rx, batch, k);
		if (unlikely(put < k)) {
			/* Only an application that posted more buffers than its
			 * ring holds gets here; the packets are its loss. */
			f->st.c[DRV_C_RX_RING_FULL] += k - put;
			f->st.c[DRV_C_RX_PKTS] -= k - put;
		}
	}
	s->n = 0;
}

unsigned
drv__rx_poll(struct drv *d)
{
	struct rte_mbuf *m[DRV_BURST];
	const uint8_t *pkts[DRV_BURST];
	uint16_t lens[DRV_BURST];
	struct flt_verdict v[DRV_BURST];
	struct rx_stage s;
	uint64_t now;
	unsigned n;

	n = rte_eth_rx_burst(d->port, 0, m, DRV_BURST);
	if (n == 0 && !flt_frag_held(d->flt))
		return 0;
	now = drv__now_ns(d); /* fragment time limits */
	s.n = 0;
	for (unsigned i = 0; i < n; i++) {
		if (likely(m[i]->nb_segs == 1)) {
			pkts[i] = rte_pktmbuf_mtod(m[i], const uint8_t *);
			lens[i] = m[i]->data_len;
		} else {
			/* A chained frame (net_ring loops our own transmit
			 * chains back): check a linear copy. */
			uint32_t len = RTE_MIN(m[i]->pkt_len, DRV_RX_LINEAR_MAX);

			pkts[i] = rte_pktmbuf_read(m[i], 0, len, d->rx_linear[i]);
			lens[i] = (uint16_t)len;
			d->st.rx_linearized++;
		}
	}
	if (n) {
		d->st.rx_bursts++;
		d->st.rx_pkts += n;
		flt_demux_burst(d->flt, pkts, lens, n, now, v);
		for (unsigned i = 0; i < n; i++) {
			switch (v[i].action) {
			case FLT_ACT_FLOW:
				deliver(d, &s, v[i].flow, pkts[i], lens[i]);
				break;
			case FLT_ACT_MANAGER:
				deliver(d, &s, DRV_FLOW_EXC, pkts[i], lens[i]);
				break;
			case FLT_ACT_DROP:
				d->st.rx_dropped++;
				drv__droplog(d, "rx malformed", UINT32_MAX, v[i].reason);
				break;
			default: /* FLT_ACT_HELD: the table kept a copy */
				break;
			}
		}
		publish(d, &s);
		rte_pktmbuf_free_bulk(m, n);
	}
	if (flt_frag_held(d->flt)) {
		struct flt_held h[DRV_BURST];
		unsigned k = flt_frag_release_burst(d->flt, now, h, DRV_BURST);

		for (unsigned i = 0; i < k; i++)
			deliver(d, &s, h[i].action == FLT_ACT_FLOW ? h[i].flow : DRV_FLOW_EXC,
			    h[i].frame, h[i].len);
		publish(d, &s);
		n += k;
	}
	return n;
}
