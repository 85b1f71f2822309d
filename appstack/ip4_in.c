/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 input: header checks, ICMP errors about our datagrams, and
 * reassembly. Everything here reads a frame the network sent; each field is
 * checked before it is used, and a frame that fails is counted and its
 * buffer given back.
 *
 * Reassembly is bounded three ways, all set when the flow opens:
 *   - reass_slots datagrams at once; a fragment of a new datagram when all
 *     are busy pushes out the oldest one still assembling (EVICTED), or is
 *     dropped if the application holds every slot (NO_SLOT);
 *   - max_dgram bytes per datagram (TOO_BIG), so memory is slots * max_dgram;
 *   - reass_timeout_ms from a datagram's first fragment (TIMEOUT), checked
 *     whenever a fragment arrives and in as_flow_stats().
 * Fragments are copied into the slot and their receive buffers go back to
 * the driver at once, so a slow datagram never starves the channel. A
 * fragment that repeats bytes already received exactly is ignored (DUP);
 * one that overlaps part of them, or disagrees about the end, drops the
 * whole datagram (RFC 5722's rule, applied to IPv4 as Linux does).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"

#define IP4_MAX_PAYLOAD (IP4_MAX_LEN - IP4_HDR_LEN)

int
as__icmp_errno(uint8_t type, uint8_t code)
{
	if (type == ICMP_TIME_EXCEED)
		return -EHOSTUNREACH;
	if (type == 12) /* parameter problem */
		return -EPROTO;
	switch (code) {
	case 0:
	case 6:
	case 9:
	case 11:
		return -ENETUNREACH;
	case 2:
		return -ENOPROTOOPT;
	case ICMP_UNREACH_PORT:
		return -ECONNREFUSED;
	case ICMP_UNREACH_NEEDFRAG:
		return -EMSGSIZE;
	case 5:
		return -EOPNOTSUPP;
	default:
		return -EHOSTUNREACH;
	}
}

/*
 * An ICMP error (RFC 792) quoting a UDP datagram this flow sent: it must
 * quote our source SAP (and, on a connected flow, the remote). The UDP
 * layer checks the quoted ports. Returns 0 and fills @p, or a drop reason.
 */
static int
icmp_in(struct as_flow *f, struct as_pkt *p, const uint8_t *m, uint32_t len)
{
	struct icmp_hdr ic;
	struct ip4_hdr in;
	unsigned ihl;

	if (len < ICMP_HDR_LEN + IP4_HDR_LEN + UDP_HDR_LEN)
		return AS_STAT_DROP_BAD_ICMP;
	if (as__csum_fold(as__csum_add(0, m, len)) != 0)
		return AS_STAT_DROP_BAD_ICMP;
	memcpy(&ic, m, sizeof(ic));
	if (ic.type != ICMP_DEST_UNREACH && ic.type != ICMP_TIME_EXCEED && ic.type != 12)
		return AS_STAT_DROP_BAD_ICMP; /* echo and the rest are the flow manager's */
	memcpy(&in, m + ICMP_HDR_LEN, sizeof(in));
	ihl = wire_ip4_hdr_len(&in);
	if (wire_ip4_version(&in) != IP4_VERSION || ihl < IP4_HDR_LEN ||
	    len < ICMP_HDR_LEN + ihl + UDP_HDR_LEN || in.proto != IP4_PROTO_UDP ||
	    ntohl(in.src) != f->fib.local.addr ||
	    (f->fib.kind == AS_UDP_CONNECTED && ntohl(in.dst) != f->fib.remote.addr))
		return AS_STAT_DROP_BAD_ICMP;
	p->proto = IP4_PROTO_ICMP;
	p->err = as__icmp_errno(ic.type, ic.code);
	p->quote = m + ICMP_HDR_LEN + ihl;
	p->peer.addr = ntohl(in.dst);
	p->data = NULL;
	p->len = 0;
	return -1;
}

void
as__reass_expire(struct as_flow *f, uint64_t now)
{
	for (uint32_t i = 0; i < f->cfg.reass_slots; i++) {
		struct as_reass *r = &f->reass[i];

		if (r->state == AS_BUF_STACK && now - r->started_ns >= f->reass_tmo_ns) {
			r->state = AS_BUF_FREE;
			f->st.c[AS_STAT_DROP_REASS_TIMEOUT]++;
		}
	}
}

/* The slot of (src, dst, id, proto), or a new one; NULL: dropped, counted. */
static struct as_reass *
slot_for(struct as_flow *f, const struct ip4_hdr *h, const uint8_t mac[6], uint64_t now)
{
	uint32_t src = ntohl(h->src), dst = ntohl(h->dst);
	uint16_t id = ntohs(h->id);
	struct as_reass *fresh = NULL, *oldest = NULL, *r;

	for (uint32_t i = 0; i < f->cfg.reass_slots; i++) {
		r = &f->reass[i];
		if (r->state == AS_BUF_STACK) {
			if (r->src == src && r->dst == dst && r->id == id && r->proto == h->proto)
				return r;
			if (!oldest || r->started_ns < oldest->started_ns)
				oldest = r;
		} else if (r->state == AS_BUF_FREE && !fresh) {
			fresh = r;
		}
	}
	r = fresh;
	if (!r && oldest) {
		f->st.c[AS_STAT_DROP_REASS_EVICTED]++;
		r = oldest;
	}
	if (!r) {
		f->st.c[AS_STAT_DROP_REASS_NO_SLOT]++;
		return NULL;
	}
	r->state = AS_BUF_STACK;
	r->src = src;
	r->dst = dst;
	r->id = id;
	r->proto = h->proto;
	r->total = r->have = r->hi = 0;
	r->started_ns = now;
	memcpy(r->mac, mac, 6);
	memset(r->map, 0, (f->reass_cap / 8 / 64 + 1) * sizeof(uint64_t));
	return r;
}

/* How many of the 8-byte units [a, b) are set in @map. */
static uint32_t
units_set(const uint64_t *map, uint32_t a, uint32_t b)
{
	uint32_t n = 0;

	for (uint32_t u = a; u < b; u++)
		n += (uint32_t)(map[u / 64] >> (u % 64)) & 1;
	return n;
}

static void
units_mark(uint64_t *map, uint32_t a, uint32_t b)
{
	for (uint32_t u = a; u < b; u++)
		map[u / 64] |= 1ull << (u % 64);
}

/*
 * Take one fragment (header @h, @len payload bytes at @pl) of packet @p.
 * Its receive buffer is given back in every case. Returns 1 and makes @p
 * the reassembled datagram when this fragment completed it, else 0.
 */
static int
reass_in(
    struct as_flow *f, struct as_pkt *p, const struct ip4_hdr *h, const uint8_t *pl, uint32_t len)
{
	uint16_t fo = ntohs(h->frag_off);
	uint32_t off = (uint32_t)(fo & IP4_OFF_MASK) * IP4_OFF_UNIT, end = off + len, set;
	bool mf = fo & IP4_FLAG_MF;
	uint64_t now = as__now_ns();
	struct as_reass *r;
	enum as_stat why = AS_STAT_DROP_BAD_FRAG;

	as__rx_release(f, p->ref); /* the bytes are read below, before the flush */
	as__reass_expire(f, now);
	if (len == 0 || (mf && len % IP4_OFF_UNIT) || end > IP4_MAX_PAYLOAD) {
		f->st.c[AS_STAT_DROP_BAD_FRAG]++;
		return 0;
	}
	r = slot_for(f, h, p->mac, now);
	if (!r)
		return 0;
	if (end > f->reass_cap) {
		why = AS_STAT_DROP_REASS_TOO_BIG;
		goto drop_dgram;
	}
	if (!mf) {
		if ((r->total && r->total != end) || r->hi > end)
			goto drop_dgram;
		r->total = end;
	} else if (r->total && end > r->total) {
		goto drop_dgram;
	}
	set = units_set(r->map, off / 8, (end + 7) / 8);
	if (set == (end + 7) / 8 - off / 8) {
		f->st.c[AS_STAT_DROP_FRAG_DUP]++;
		return 0;
	}
	if (set) {
		why = AS_STAT_DROP_FRAG_OVERLAP;
		goto drop_dgram;
	}
	units_mark(r->map, off / 8, (end + 7) / 8);
	memcpy(r->data + off, pl, len);
	r->have += len;
	if (end > r->hi)
		r->hi = end;
	f->st.c[AS_STAT_RX_FRAGS]++;
	if (!r->total || r->have != r->total)
		return 0;
	r->state = AS_BUF_APP; /* delivered: not evictable until given back */
	f->st.c[AS_STAT_RX_REASSEMBLED]++;
	p->data = r->data;
	p->len = r->total;
	p->ref = AS_REF_REASS | (uint32_t)(r - f->reass);
	memcpy(p->mac, r->mac, 6);
	return 1;

drop_dgram:
	f->st.c[why]++;
	r->state = AS_BUF_FREE;
	return 0;
}

unsigned
as__ip4_get(struct as_layer *l, struct as_pkt *p, unsigned n)
{
	struct as_flow *f = l->flow;
	unsigned k = l->below->ops->get(l->below, p, n), out = 0;

	for (unsigned i = 0; i < k; i++) {
		struct as_pkt *q = &p[i];
		struct ip4_hdr h;
		unsigned ihl, tot;
		uint16_t fo;
		int why;

		if (q->len < IP4_HDR_LEN) {
			why = AS_STAT_DROP_TRUNCATED;
			goto drop;
		}
		memcpy(&h, q->data, sizeof(h));
		ihl = wire_ip4_hdr_len(&h);
		tot = ntohs(h.tot_len);
		if (wire_ip4_version(&h) != IP4_VERSION || ihl < IP4_HDR_LEN || tot < ihl) {
			why = AS_STAT_DROP_BAD_IP;
			goto drop;
		}
		if (ihl > q->len || tot > q->len) {
			why = AS_STAT_DROP_TRUNCATED;
			goto drop;
		}
		if (as__csum_fold(as__csum_add(0, q->data, ihl)) != 0) {
			why = AS_STAT_DROP_IP_CSUM;
			goto drop;
		}
		fo = ntohs(h.frag_off);
		if (fo & IP4_FLAG_RF) {
			why = AS_STAT_DROP_BAD_FRAG;
			goto drop;
		}
		if (ntohl(h.dst) != f->fib.local.addr) {
			why = AS_STAT_DROP_NOT_FOR_US;
			goto drop;
		}
		q->dst = ntohl(h.dst);
		q->peer.addr = ntohl(h.src);
		q->proto = h.proto;
		if (h.proto == IP4_PROTO_ICMP) {
			/* Errors are small: a fragmented one is not worth keeping. */
			why = (fo & (IP4_FLAG_MF | IP4_OFF_MASK))
				  ? AS_STAT_DROP_BAD_ICMP
				  : icmp_in(f, q, q->data + ihl, tot - ihl);
			if (why >= 0)
				goto drop;
			p[out++] = *q;
			continue;
		}
		if (h.proto != IP4_PROTO_UDP) {
			why = AS_STAT_DROP_PROTO;
			goto drop;
		}
		if (f->fib.kind == AS_UDP_CONNECTED && q->peer.addr != f->fib.remote.addr) {
			why = AS_STAT_DROP_NOT_FOR_US;
			goto drop;
		}
		if (fo & (IP4_FLAG_MF | IP4_OFF_MASK)) {
			if (reass_in(f, q, &h, q->data + ihl, tot - ihl))
				p[out++] = *q;
			continue;
		}
		q->data += ihl;
		q->len = tot - ihl; /* Ethernet padding, if any, goes */
		p[out++] = *q;
		continue;
	drop:
		f->st.c[why]++;
		as__rx_release(f, q->ref);
	}
	return out;
}
