/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * demux.c -- the receive demultiplexer: parse, look up, count.
 *
 * A burst is processed in chunks of FLT_CHUNK frames, in three passes:
 *
 *   1. parse every frame: malformed ones get DROP, the ones no flow can
 *      claim (not IPv4, not UDP or TCP, and not an ICMP error about a UDP or
 *      TCP datagram) get MANAGER, the rest a 5-tuple key;
 *   2. one bulk lookup of all 5-tuple keys; the misses, with their remote
 *      fields cleared, in a second bulk lookup as 3-tuples;
 *   3. only when the chunk holds fragments: a pass in arrival order that
 *      remembers first fragments and classifies later ones, so that a later
 *      fragment in the same chunk as its first one finds it.
 *
 * Counters are summed on the stack and published once per burst.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_ip.h>
#include <rte_rcu_qsbr.h>

#include "filters/flt_priv.h"
#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"

/* How parse() classified a frame. */
enum pclass {
	PC_DONE = 0, /* verdict already set */
	PC_LOOKUP,   /* unfragmented UDP or TCP: look up its key */
	PC_FIRST,    /* first fragment: look up, then remember */
	PC_LATER,    /* later fragment: no ports, follow the first */
};

/* What parse() leaves for the lookup. */
struct pinfo {
	struct flt_key key;
	uint16_t ip_id; /* fragments only */
	uint8_t cls;	/* enum pclass */
};

static inline unsigned
set_drop(struct flt_verdict *v, enum flt_drop reason)
{
	v->flow = FLT_FLOW_NONE;
	v->action = FLT_ACT_DROP;
	v->reason = reason;
	return PC_DONE;
}

static inline unsigned
set_manager(struct flt_verdict *v)
{
	v->flow = FLT_FLOW_NONE;
	v->action = FLT_ACT_MANAGER;
	v->reason = FLT_DROP_NONE;
	return PC_DONE;
}

/* RFC 792's parameter problem; common/wire/icmp.h names only what others use. */
#define ICMP_PARAM_PROBLEM 12

/* What an ICMP error must quote of the offending datagram besides its IP
 * header (RFC 792): 8 bytes, which for UDP and TCP hold both ports. */
#define ICMP_QUOTE_L4 8

/*
 * An unfragmented ICMP message (@pl bytes at @icmp, after the outer IPv4
 * header @ih): if it is an error (destination unreachable, time exceeded,
 * parameter problem) about a UDP or TCP datagram we sent, key it like a
 * reply to that datagram, so that it reaches the flow that sent it, whose
 * stack turns it into an error (ECONNREFUSED, ...). The quoted datagram was
 * sent BY us: its source is the local side of the key, its destination the
 * remote. Everything the key is built from is checked first, within the
 * ICMP payload; anything that does not check out is the flow manager's, as
 * every ICMP message was before (it counts and drops what it does not want).
 * The ICMP checksum is left to the flow's stack, as the UDP and TCP ones are:
 * a wrong one harms no one else. Out of line: rare, and parse() stays small.
 */
static SLUICE_COLD unsigned
parse_icmp_error(const struct ip4_hdr *ih, const uint8_t *icmp, unsigned pl, struct pinfo *pi,
    struct flt_verdict *v)
{
	const struct ip4_hdr *qh;
	const struct udp_hdr *qp; /* the first 8 bytes of UDP and TCP alike: ports first */
	unsigned qihl;

	if (pl < ICMP_HDR_LEN + IP4_HDR_LEN)
		return set_manager(v);
	qh = (const struct ip4_hdr *)(icmp + ICMP_HDR_LEN);
	/* Echo, timestamps, redirects...: the flow manager's business. */
	if (icmp[0] != ICMP_DEST_UNREACH && icmp[0] != ICMP_TIME_EXCEED &&
	    icmp[0] != ICMP_PARAM_PROBLEM)
		return set_manager(v);
	qihl = wire_ip4_hdr_len(qh);
	if (wire_ip4_version(qh) != IP4_VERSION || qihl < IP4_HDR_LEN ||
	    ICMP_HDR_LEN + qihl + ICMP_QUOTE_L4 > pl)
		return set_manager(v);
	if (qh->proto != IP4_PROTO_UDP && qh->proto != IP4_PROTO_TCP)
		return set_manager(v);
	/* Only a datagram's first fragment carries the ports; none of ours has
	 * the reserved flag, and ours had at least the 8 bytes quoted. */
	if ((ntohs(qh->frag_off) & (IP4_FLAG_RF | IP4_OFF_MASK)) ||
	    ntohs(qh->tot_len) < qihl + ICMP_QUOTE_L4)
		return set_manager(v);
	/* The error goes to the quoted datagram's sender, as any frame a flow
	 * receives is addressed to its local address. */
	if (qh->src != ih->dst)
		return set_manager(v);
	qp = (const struct udp_hdr *)((const uint8_t *)qh + qihl);
	memset(&pi->key, 0, sizeof(pi->key));
	pi->key.local_addr = qh->src;
	pi->key.remote_addr = qh->dst;
	pi->key.local_port = qp->src_port;
	pi->key.remote_port = qp->dst_port;
	pi->key.proto = qh->proto;
	return PC_LOOKUP;
}

/*
 * Check one frame and build its key. Every length is checked before the
 * bytes it covers are read; docs/filters.md lists the rules in this order.
 */
static inline unsigned
parse(const uint8_t *p, unsigned len, struct pinfo *pi, struct flt_verdict *v)
{
	const struct eth_hdr *eh = (const struct eth_hdr *)p;
	const struct ip4_hdr *ih;
	const uint8_t *l4;
	unsigned ihl, tot, pl, frag, off;
	bool mf;

	if (unlikely(len < ETH_HDR_LEN))
		return set_drop(v, FLT_DROP_TRUNCATED);
	/* ARP, VLAN-tagged and IPv6 frames are the flow manager's business. */
	if (unlikely(eh->type != htons(ETH_TYPE_IPV4)))
		return set_manager(v);
	if (unlikely(len < ETH_HDR_LEN + IP4_HDR_LEN))
		return set_drop(v, FLT_DROP_TRUNCATED);
	ih = (const struct ip4_hdr *)(p + ETH_HDR_LEN);
	if (unlikely(wire_ip4_version(ih) != IP4_VERSION))
		return set_drop(v, FLT_DROP_BAD_VERSION);
	ihl = wire_ip4_hdr_len(ih);
	if (unlikely(ihl < IP4_HDR_LEN))
		return set_drop(v, FLT_DROP_BAD_IHL);
	if (unlikely(ETH_HDR_LEN + ihl > len))
		return set_drop(v, FLT_DROP_TRUNCATED);
	tot = ntohs(ih->tot_len);
	/* A frame may be longer than its datagram (Ethernet padding), never shorter. */
	if (unlikely(tot < ihl || ETH_HDR_LEN + tot > len))
		return set_drop(v, FLT_DROP_BAD_IP_LEN);
	/* The ones' complement sum over a correct header, checksum included, is all ones. */
	if (unlikely(rte_raw_cksum(ih, ihl) != 0xffff))
		return set_drop(v, FLT_DROP_BAD_CSUM);
	/* 224.0.0.0 and above: multicast, class E and the limited broadcast. */
	if (unlikely((ntohl(ih->src) >> 28) >= 0xe))
		return set_drop(v, FLT_DROP_BAD_SRC_ADDR);
	frag = ntohs(ih->frag_off);
	off = (frag & IP4_OFF_MASK) * IP4_OFF_UNIT;
	pl = tot - ihl;
	if (unlikely((frag & IP4_FLAG_RF) || ihl + off + pl > IP4_MAX_LEN))
		return set_drop(v, FLT_DROP_BAD_FRAG);
	if (unlikely(ih->proto != IP4_PROTO_UDP && ih->proto != IP4_PROTO_TCP)) {
		/* A fragmented ICMP message is no error worth a flow's time. */
		if (ih->proto == IP4_PROTO_ICMP && !(frag & (IP4_FLAG_MF | IP4_OFF_MASK)))
			return parse_icmp_error(ih, (const uint8_t *)ih + ihl, pl, pi, v);
		return set_manager(v);
	}

	memset(&pi->key, 0, sizeof(pi->key));
	pi->key.local_addr = ih->dst;
	pi->key.remote_addr = ih->src;
	pi->key.proto = ih->proto;
	if (unlikely(off != 0)) {
		/* RFC 1858: a TCP fragment at offset 8 can rewrite the first one's flags. */
		if (ih->proto == IP4_PROTO_TCP && off == IP4_OFF_UNIT)
			return set_drop(v, FLT_DROP_BAD_FRAG);
		pi->ip_id = ih->id;
		return PC_LATER;
	}
	mf = frag & IP4_FLAG_MF;
	l4 = (const uint8_t *)ih + ihl;
	if (ih->proto == IP4_PROTO_UDP) {
		const struct udp_hdr *uh = (const struct udp_hdr *)l4;
		unsigned ulen;

		if (unlikely(pl < UDP_HDR_LEN))
			return set_drop(v, mf ? FLT_DROP_FRAG_TINY : FLT_DROP_L4_TRUNCATED);
		ulen = ntohs(uh->len);
		/* A first fragment carries only part of the datagram its length covers. */
		if (unlikely(mf ? ulen <= pl : ulen != pl))
			return set_drop(v, FLT_DROP_BAD_UDP_LEN);
		pi->key.local_port = uh->dst_port;
		pi->key.remote_port = uh->src_port;
	} else {
		const struct tcp_hdr *th = (const struct tcp_hdr *)l4;
		unsigned thl;

		if (unlikely(pl < TCP_HDR_LEN))
			return set_drop(v, mf ? FLT_DROP_FRAG_TINY : FLT_DROP_L4_TRUNCATED);
		thl = wire_tcp_hdr_len(th);
		if (unlikely(thl < TCP_HDR_LEN))
			return set_drop(v, FLT_DROP_BAD_TCP_OFF);
		if (unlikely(thl > pl))
			return set_drop(v, mf ? FLT_DROP_FRAG_TINY : FLT_DROP_BAD_TCP_OFF);
		pi->key.local_port = th->dst_port;
		pi->key.remote_port = th->src_port;
	}
	if (unlikely(mf)) {
		pi->ip_id = ih->id;
		return PC_FIRST;
	}
	return PC_LOOKUP;
}

static inline void
set_flow(struct flt_verdict *v, uint64_t val)
{
	v->flow = FLT_VAL_FLOW(val);
	v->action = FLT_ACT_FLOW;
	v->reason = FLT_DROP_NONE;
}

/* Per-burst counter sums, published once. */
struct burst_ctrs {
	uint64_t act[FLT_ACT_HELD + 1];
	uint64_t drop[FLT_DROP__COUNT];
};

/* Whether a connected flow may have @k's protocol and local port. */
static inline bool
conn_possible(const struct flt_table *t, const struct flt_key *k)
{
	uint16_t port = k->local_port;
	uint64_t w =
	    __atomic_load_n(&t->conn_bm[k->proto == IP4_PROTO_TCP][port >> 6], __ATOMIC_ACQUIRE);

	return (w >> (port & 63)) & 1;
}

static void
demux_chunk(struct flt_table *t, const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
    uint64_t now_ns, struct flt_verdict out[], struct burst_ctrs *bc)
{
	struct pinfo pi[FLT_CHUNK];
	const void *keys[FLT_CHUNK];
	void *data[FLT_CHUNK];
	uint64_t val[FLT_CHUNK];
	uint8_t idx[FLT_CHUNK];
	uint8_t miss[FLT_CHUNK];
	uint64_t hits = 0;
	unsigned nk = 0, nm = 0, nfrag = 0;

	for (unsigned i = 0; i < n; i++) {
		pi[i].cls = (uint8_t)parse(pkts[i], lens[i], &pi[i], &out[i]);
		if (pi[i].cls == PC_LOOKUP || pi[i].cls == PC_FIRST) {
			if (conn_possible(t, &pi[i].key)) {
				keys[nk] = &pi[i].key;
				idx[nk++] = (uint8_t)i;
			} else {
				miss[nm++] = (uint8_t)i; /* no connected flow on its port */
			}
		}
		nfrag += pi[i].cls >= PC_FIRST;
	}

	/* 5-tuple: connected flows. */
	if (likely(nk > 0))
		rte_hash_lookup_bulk_data(t->hash, keys, nk, &hits, data);
	for (unsigned k = 0; k < nk; k++) {
		unsigned i = idx[k];

		if (likely(hits & (1ull << k))) {
			val[i] = (uintptr_t)data[k];
			set_flow(&out[i], val[i]);
		} else {
			miss[nm++] = (uint8_t)i;
		}
	}

	/* 3-tuple: bound and listening flows, for what the 5-tuple missed. */
	if (nm > 0) {
		for (unsigned m = 0; m < nm; m++) {
			struct flt_key *key = &pi[miss[m]].key;

			key->remote_addr = 0;
			key->remote_port = 0;
			keys[m] = key;
		}
		hits = 0;
		rte_hash_lookup_bulk_data(t->hash, keys, nm, &hits, data);
		for (unsigned m = 0; m < nm; m++) {
			unsigned i = miss[m];

			if (hits & (1ull << m)) {
				val[i] = (uintptr_t)data[m];
				set_flow(&out[i], val[i]);
			} else {
				val[i] = 0;
				set_manager(&out[i]);
			}
		}
	}

	/* Fragments, in arrival order. */
	if (unlikely(nfrag > 0)) {
		for (unsigned i = 0; i < n; i++) {
			if (pi[i].cls == PC_FIRST) {
				/* The key lost its remote fields if the 5-tuple missed; rebuild it. */
				const struct ip4_hdr *ih =
				    (const struct ip4_hdr *)(pkts[i] + ETH_HDR_LEN);

				pi[i].key.remote_addr = ih->src;
				flt__frag_first(t, &pi[i].key, pi[i].ip_id, &out[i],
				    FLT_VAL_FLAGS(val[i]), now_ns);
			} else if (pi[i].cls == PC_LATER) {
				flt__frag_later(
				    t, &pi[i].key, pi[i].ip_id, pkts[i], lens[i], now_ns, &out[i]);
			}
		}
	}

	for (unsigned i = 0; i < n; i++) {
		bc->act[out[i].action]++;
		bc->drop[out[i].reason]++;
	}
}

unsigned
flt_demux_burst(struct flt_table *t, const uint8_t *const pkts[], const uint16_t lens[], unsigned n,
    uint64_t now_ns, struct flt_verdict out[])
{
	struct burst_ctrs bc;

	if (unlikely(t->rd.offline))
		flt_reader_online(t);
	if (unlikely(t->rd.n_lent))
		flt__frag_reclaim_lent(t);
	memset(&bc, 0, sizeof(bc));
	for (unsigned done = 0; done < n; done += FLT_CHUNK) {
		unsigned c = n - done < FLT_CHUNK ? n - done : FLT_CHUNK;

		demux_chunk(t, pkts + done, lens + done, c, now_ns, out + done, &bc);
	}

	FLT_CTR_ADD(t->rx.rx_pkts, n);
	FLT_CTR_ADD(t->rx.rx_flow, bc.act[FLT_ACT_FLOW]);
	FLT_CTR_ADD(t->rx.rx_manager, bc.act[FLT_ACT_MANAGER]);
	if (unlikely(bc.act[FLT_ACT_DROP] != 0)) {
		FLT_CTR_ADD(t->rx.rx_dropped, bc.act[FLT_ACT_DROP]);
		for (unsigned r = 1; r < FLT_DROP__COUNT; r++)
			if (bc.drop[r])
				FLT_CTR_ADD(t->rx.drop[r], bc.drop[r]);
	}
	if (unlikely(bc.act[FLT_ACT_HELD] != 0))
		FLT_CTR_ADD(t->rx.rx_held, bc.act[FLT_ACT_HELD]);

	/* This reader holds no reference into the hash between bursts. */
	rte_rcu_qsbr_quiescent(t->qsbr, 0);
	return n;
}
