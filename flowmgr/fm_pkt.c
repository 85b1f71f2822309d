/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_pkt.c -- the last-resort handler's packet work (fm_pkt.h): checks in
 * the order docs/flowmgr.md lists them, then the reply.
 *
 * Received headers are copied into local structs before they are read, so
 * nothing depends on the frame's alignment, and every copy is preceded by a
 * length check against the frame.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "common/compiler.h"
#include "common/wire/arp.h"
#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/tcp.h"
#include "common/wire/udp.h"
#include "flowmgr/fm_pkt.h"

#define NS_PER_S      1000000000ull
#define DEF_ERR_RATE  1000
#define DEF_ERR_BURST 50
#define TTL	      64
#define QUOTE_DATA    8 /* bytes of the offending datagram's data quoted */

struct fm_pkt {
	uint64_t credit_ns; /* token bucket, in nanoseconds of sending time */
	uint64_t cost_ns;   /* one message: 1 s / err_rate */
	uint64_t cap_ns;    /* err_burst messages */
	uint64_t last_ns;   /* when credit_ns was last brought up to date */
	uint16_t ip_id;
	struct fm_pkt_stats st;
};

static const uint8_t bcast_mac[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t zero_mac[6];

struct fm_pkt *
fm_pkt_create(const struct fm_pkt_cfg *cfg)
{
	struct fm_pkt_cfg c = cfg ? *cfg : (struct fm_pkt_cfg){0};
	struct fm_pkt *p;

	if (!c.err_rate)
		c.err_rate = DEF_ERR_RATE;
	if (!c.err_burst)
		c.err_burst = DEF_ERR_BURST;
	if (c.err_rate > NS_PER_S) {
		errno = EINVAL;
		return NULL;
	}
	if (!c.seed && getrandom(&c.seed, sizeof(c.seed), GRND_NONBLOCK) != (ssize_t)sizeof(c.seed))
		c.seed = (uint64_t)time(NULL);
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->cost_ns = NS_PER_S / c.err_rate;
	p->cap_ns = p->cost_ns * c.err_burst;
	p->credit_ns = p->cap_ns;
	p->ip_id = (uint16_t)c.seed;
	return p;
}

void
fm_pkt_destroy(struct fm_pkt *p)
{
	free(p);
}

/* Take one token if there is one. */
static bool
rate_ok(struct fm_pkt *p, uint64_t now)
{
	if (now > p->last_ns) {
		uint64_t gain = now - p->last_ns;

		p->credit_ns = gain >= p->cap_ns - p->credit_ns ? p->cap_ns : p->credit_ns + gain;
		p->last_ns = now;
	}
	if (p->credit_ns < p->cost_ns)
		return false;
	p->credit_ns -= p->cost_ns;
	return true;
}

/* Checksums. */

/* Add len bytes to a 32-bit ones' complement accumulator (big-endian words). */
static uint32_t
sum_add(uint32_t sum, const uint8_t *b, size_t len)
{
	for (; len > 1; b += 2, len -= 2)
		sum += (uint32_t)(b[0] << 8 | b[1]);
	if (len)
		sum += (uint32_t)(b[0] << 8);
	return sum;
}

/* Fold and complement: the checksum in host order; 0 when a received one checks. */
static uint16_t
sum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The pseudo-header sum of RFC 793/768; addresses in network order. */
static uint32_t
sum_pseudo(uint32_t src_n, uint32_t dst_n, uint8_t proto, size_t len)
{
	uint8_t ph[12];

	memcpy(ph, &src_n, 4);
	memcpy(ph + 4, &dst_n, 4);
	ph[8] = 0;
	ph[9] = proto;
	ph[10] = (uint8_t)(len >> 8);
	ph[11] = (uint8_t)len;
	return sum_add(0, ph, sizeof(ph));
}

static void
put16(uint8_t *at, uint16_t host)
{
	at[0] = (uint8_t)(host >> 8);
	at[1] = (uint8_t)host;
}

/* Builders. */

static void
put_eth(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	struct eth_hdr eh;

	memcpy(eh.dst.b, dst, 6);
	memcpy(eh.src.b, src, 6);
	eh.type = htons(type);
	memcpy(buf, &eh, sizeof(eh));
}

static int
build_arp(uint8_t *buf, size_t size, uint16_t op, const uint8_t eth_dst[6], const uint8_t sha[6],
    uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	struct arp_hdr ah;

	if (size < FM_PKT_ARP_LEN)
		return -ENOSPC;
	put_eth(buf, eth_dst, sha, ETH_TYPE_ARP);
	ah.htype = htons(ARP_HTYPE_ETHER);
	ah.ptype = htons(ETH_TYPE_IPV4);
	ah.hlen = ETH_ADDR_LEN;
	ah.plen = 4;
	ah.op = htons(op);
	memcpy(ah.sha.b, sha, 6);
	ah.spa = htonl(spa);
	memcpy(ah.tha.b, tha, 6);
	ah.tpa = htonl(tpa);
	memcpy(buf + ETH_HDR_LEN, &ah, sizeof(ah));
	return FM_PKT_ARP_LEN;
}

int
fm_pkt_build_arp_request(uint8_t *buf, size_t size, const uint8_t src_mac[6], uint32_t src_ip,
    uint32_t target_ip, const uint8_t *dst_mac)
{
	return build_arp(buf, size, ARP_OP_REQUEST, dst_mac ? dst_mac : bcast_mac, src_mac, src_ip,
	    zero_mac, target_ip);
}

int
fm_pkt_build_garp(uint8_t *buf, size_t size, const uint8_t mac[6], uint32_t ip)
{
	return build_arp(buf, size, ARP_OP_REQUEST, bcast_mac, mac, ip, zero_mac, ip);
}

int
fm_pkt_build_arp_reply(uint8_t *buf, size_t size, const struct fm_pkt_addrs *a)
{
	return build_arp(
	    buf, size, ARP_OP_REPLY, a->dst_mac, a->src_mac, a->src_ip, a->dst_mac, a->dst_ip);
}

/* Ethernet + IPv4 header (no options) for payload_len bytes of proto. */
static void
put_eth_ip(
    struct fm_pkt *p, uint8_t *buf, const struct fm_pkt_addrs *a, uint8_t proto, size_t payload_len)
{
	struct ip4_hdr ih = {
	    .ver_ihl = IP4_VERSION << 4 | IP4_HDR_LEN / 4,
	    .tot_len = htons((uint16_t)(IP4_HDR_LEN + payload_len)),
	    .id = htons(p->ip_id++),
	    .ttl = TTL,
	    .proto = proto,
	    .src = htonl(a->src_ip),
	    .dst = htonl(a->dst_ip),
	};

	ih.csum = wire_ip4_csum(&ih);
	put_eth(buf, a->dst_mac, a->src_mac, ETH_TYPE_IPV4);
	memcpy(buf + ETH_HDR_LEN, &ih, sizeof(ih));
}

/* ICMP message of type, code, rest-of-header word, then data. */
static int
build_icmp(struct fm_pkt *p, uint8_t *buf, size_t size, const struct fm_pkt_addrs *a, uint8_t type,
    uint8_t code, uint32_t rest_n, const uint8_t *d1, size_t l1, const uint8_t *d2, size_t l2)
{
	size_t icmp_len = ICMP_HDR_LEN + l1 + l2;
	uint8_t *ic = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	struct icmp_hdr h = {.type = type, .code = code};

	if (icmp_len > IP4_MAX_LEN - IP4_HDR_LEN)
		return -EINVAL;
	if (size < ETH_HDR_LEN + IP4_HDR_LEN + icmp_len)
		return -ENOSPC;
	put_eth_ip(p, buf, a, IP4_PROTO_ICMP, icmp_len);
	h.u.rest = rest_n;
	memcpy(ic, &h, sizeof(h));
	if (l1)
		memcpy(ic + ICMP_HDR_LEN, d1, l1);
	if (l2)
		memcpy(ic + ICMP_HDR_LEN + l1, d2, l2);
	put16(ic + offsetof(struct icmp_hdr, csum), sum_fold(sum_add(0, ic, icmp_len)));
	return (int)(ETH_HDR_LEN + IP4_HDR_LEN + icmp_len);
}

int
fm_pkt_build_echo_reply(struct fm_pkt *p, uint8_t *buf, size_t size, const struct fm_pkt_addrs *a,
    uint16_t id, uint16_t seq, const uint8_t *data, size_t data_len)
{
	uint16_t w[2] = {htons(id), htons(seq)};
	uint32_t rest;

	memcpy(&rest, w, sizeof(rest));
	return build_icmp(p, buf, size, a, ICMP_ECHO_REPLY, 0, rest, data, data_len, NULL, 0);
}

int
fm_pkt_build_port_unreach(struct fm_pkt *p, uint8_t *buf, size_t size, const struct fm_pkt_addrs *a,
    const uint8_t *orig, size_t orig_len)
{
	size_t ihl, quote;

	if (orig_len < IP4_HDR_LEN)
		return -EINVAL;
	ihl = (orig[0] & 0x0fu) * 4u;
	if (ihl < IP4_HDR_LEN || ihl > orig_len)
		return -EINVAL;
	quote = orig_len - ihl < QUOTE_DATA ? orig_len : ihl + QUOTE_DATA;
	return build_icmp(
	    p, buf, size, a, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0, orig, quote, NULL, 0);
}

int
fm_pkt_build_rst(struct fm_pkt *p, uint8_t *buf, size_t size, const struct fm_pkt_addrs *a,
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags)
{
	uint8_t *l4 = buf + ETH_HDR_LEN + IP4_HDR_LEN;
	struct tcp_hdr th = {
	    .src_port = htons(sport),
	    .dst_port = htons(dport),
	    .seq = htonl(seq),
	    .ack = htonl(ack),
	    .data_off = (TCP_HDR_LEN / 4) << 4,
	    .flags = flags,
	};
	uint32_t sum;

	if (size < FM_PKT_RST_LEN)
		return -ENOSPC;
	put_eth_ip(p, buf, a, IP4_PROTO_TCP, TCP_HDR_LEN);
	memcpy(l4, &th, sizeof(th));
	sum = sum_pseudo(htonl(a->src_ip), htonl(a->dst_ip), IP4_PROTO_TCP, TCP_HDR_LEN);
	put16(l4 + offsetof(struct tcp_hdr, csum), sum_fold(sum_add(sum, l4, TCP_HDR_LEN)));
	return FM_PKT_RST_LEN;
}

void
fm_pkt_rst_for(uint8_t their_flags, uint32_t their_seq, uint32_t their_ack, uint32_t seg_len,
    uint32_t *seq, uint32_t *ack, uint8_t *flags)
{
	if (their_flags & TCP_FLAG_ACK) {
		*seq = their_ack;
		*ack = 0;
		*flags = TCP_FLAG_RST;
		return;
	}
	*seq = 0;
	*ack =
	    their_seq + seg_len + !!(their_flags & TCP_FLAG_SYN) + !!(their_flags & TCP_FLAG_FIN);
	*flags = TCP_FLAG_RST | TCP_FLAG_ACK;
}

/* The input path. */

static bool
is_ours(const struct fm_pkt_if *ifc, uint32_t ip)
{
	for (unsigned i = 0; i < ifc->n_addrs; i++) {
		if (ifc->addrs[i] == ip)
			return true;
	}
	return false;
}

/* Not one host's address: 0, multicast, class E, limited broadcast. */
static bool
not_unicast(uint32_t ip)
{
	return ip == 0 || ip >= 0xe0000000u;
}

/* What the IPv4 path knows about a frame once its IP header checked. */
struct rx {
	const uint8_t *frame;
	const uint8_t *ip; /* the IP header */
	const uint8_t *l4; /* the IP payload */
	size_t ihl, tot_len, l4_len;
	uint32_t src, dst; /* host order */
	bool first_frag;   /* MF set, offset 0 */
	struct fm_pkt_addrs reply;
};

static int
rx_arp(const struct fm_pkt_if *ifc, const uint8_t *frame, size_t len, uint8_t *reply,
    size_t reply_size, struct fm_pkt_verdict *v)
{
	struct arp_hdr ah;
	uint32_t spa, tpa;
	uint16_t op;
	bool for_us;

	if (len < ETH_HDR_LEN + ARP_HDR_LEN)
		return FM_PKT_DROP_TRUNCATED;
	memcpy(&ah, frame + ETH_HDR_LEN, sizeof(ah));
	if (ntohs(ah.htype) != ARP_HTYPE_ETHER || ntohs(ah.ptype) != ETH_TYPE_IPV4 ||
	    ah.hlen != ETH_ADDR_LEN || ah.plen != 4)
		return FM_PKT_DROP_BAD_ARP;
	op = ntohs(ah.op);
	if (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)
		return FM_PKT_DROP_ARP_OP;
	spa = ntohl(ah.spa);
	tpa = ntohl(ah.tpa);
	if (wire_eth_addr_is_group(&ah.sha) || memcmp(ah.sha.b, zero_mac, 6) == 0 ||
	    spa >= 0xe0000000u)
		return FM_PKT_DROP_BAD_ARP;
	if (is_ours(ifc, spa))
		return FM_PKT_DROP_ARP_CONFLICT;
	for_us = is_ours(ifc, tpa);
	if (spa != 0) {
		v->learn = 1;
		v->for_us = for_us;
		v->ip = spa;
		memcpy(v->mac, ah.sha.b, 6);
	} else if (!(for_us && op == ARP_OP_REQUEST)) {
		return FM_PKT_DROP_ARP_PROBE;
	}
	if (op == ARP_OP_REQUEST && for_us) {
		/* A probe (spa 0) is answered to its sender's MAC, with
		 * target address 0 (RFC 5227 2.1.1). */
		struct fm_pkt_addrs a = {.src_ip = tpa, .dst_ip = spa};

		memcpy(a.src_mac, ifc->mac, 6);
		memcpy(a.dst_mac, ah.sha.b, 6);
		if (fm_pkt_build_arp_reply(reply, reply_size, &a) < 0)
			return FM_PKT_DROP_NO_ROOM;
		v->reply_len = FM_PKT_ARP_LEN;
		v->action = FM_PKT_ACT_ARP_REPLY;
		return FM_PKT_DROP_NONE;
	}
	v->action = FM_PKT_ACT_ARP_LEARN;
	return FM_PKT_DROP_NONE;
}

static int
rx_icmp(struct fm_pkt *p, const struct rx *r, uint8_t *reply, size_t reply_size,
    struct fm_pkt_verdict *v)
{
	struct icmp_hdr h;
	int n;

	if (r->first_frag)
		return FM_PKT_DROP_FRAGMENT;
	if (r->l4_len < ICMP_HDR_LEN)
		return FM_PKT_DROP_L4_TRUNCATED;
	if (sum_fold(sum_add(0, r->l4, r->l4_len)) != 0)
		return FM_PKT_DROP_BAD_L4_CSUM;
	memcpy(&h, r->l4, sizeof(h));
	if (h.type != ICMP_ECHO_REQUEST)
		return FM_PKT_DROP_ICMP_OTHER;
	n = fm_pkt_build_echo_reply(p, reply, reply_size, &r->reply, ntohs(h.u.echo.id),
	    ntohs(h.u.echo.seq), r->l4 + ICMP_HDR_LEN, r->l4_len - ICMP_HDR_LEN);
	if (n < 0)
		return FM_PKT_DROP_NO_ROOM;
	v->reply_len = (uint32_t)n;
	v->action = FM_PKT_ACT_ECHO_REPLY;
	return FM_PKT_DROP_NONE;
}

static int
rx_udp(struct fm_pkt *p, const struct rx *r, uint64_t now, uint8_t *reply, size_t reply_size,
    struct fm_pkt_verdict *v)
{
	struct udp_hdr uh;
	size_t ulen;
	size_t need = ETH_HDR_LEN + IP4_HDR_LEN + ICMP_HDR_LEN + r->ihl + QUOTE_DATA;

	if (r->l4_len < UDP_HDR_LEN)
		return FM_PKT_DROP_L4_TRUNCATED;
	memcpy(&uh, r->l4, sizeof(uh));
	ulen = ntohs(uh.len);
	if (ulen < UDP_HDR_LEN || (!r->first_frag && ulen > r->l4_len))
		return FM_PKT_DROP_BAD_UDP_LEN;
	/* A first fragment's checksum covers data that is not here. */
	if (!r->first_frag && uh.csum != 0) {
		uint32_t sum = sum_pseudo(htonl(r->src), htonl(r->dst), IP4_PROTO_UDP, ulen);

		if (sum_fold(sum_add(sum, r->l4, ulen)) != 0)
			return FM_PKT_DROP_BAD_L4_CSUM;
	}
	if (reply_size < need)
		return FM_PKT_DROP_NO_ROOM;
	if (!rate_ok(p, now))
		return FM_PKT_DROP_RATE_LIMIT;
	v->reply_len =
	    (uint32_t)fm_pkt_build_port_unreach(p, reply, reply_size, &r->reply, r->ip, r->tot_len);
	v->action = FM_PKT_ACT_PORT_UNREACH;
	return FM_PKT_DROP_NONE;
}

static int
rx_tcp(struct fm_pkt *p, const struct rx *r, uint64_t now, uint8_t *reply, size_t reply_size,
    struct fm_pkt_verdict *v)
{
	struct tcp_hdr th;
	size_t off;
	uint32_t sum, seq, ack;
	uint8_t flags;

	if (r->first_frag)
		return FM_PKT_DROP_FRAGMENT;
	if (r->l4_len < TCP_HDR_LEN)
		return FM_PKT_DROP_L4_TRUNCATED;
	memcpy(&th, r->l4, sizeof(th));
	off = wire_tcp_hdr_len(&th);
	if (off < TCP_HDR_LEN || off > r->l4_len)
		return FM_PKT_DROP_BAD_TCP_OFF;
	sum = sum_pseudo(htonl(r->src), htonl(r->dst), IP4_PROTO_TCP, r->l4_len);
	if (sum_fold(sum_add(sum, r->l4, r->l4_len)) != 0)
		return FM_PKT_DROP_BAD_L4_CSUM;
	if (th.flags & TCP_FLAG_RST)
		return FM_PKT_DROP_TCP_GOT_RST;
	if (reply_size < FM_PKT_RST_LEN)
		return FM_PKT_DROP_NO_ROOM;
	if (!rate_ok(p, now))
		return FM_PKT_DROP_RATE_LIMIT;
	fm_pkt_rst_for(th.flags, ntohl(th.seq), ntohl(th.ack), (uint32_t)(r->l4_len - off), &seq,
	    &ack, &flags);
	v->reply_len = (uint32_t)fm_pkt_build_rst(p, reply, reply_size, &r->reply,
	    ntohs(th.dst_port), ntohs(th.src_port), seq, ack, flags);
	v->action = FM_PKT_ACT_TCP_RST;
	return FM_PKT_DROP_NONE;
}

static int
rx_ip4(struct fm_pkt *p, const struct fm_pkt_if *ifc, const uint8_t *frame, size_t len,
    uint64_t now, uint8_t *reply, size_t reply_size, struct fm_pkt_verdict *v)
{
	struct ip4_hdr ih;
	struct rx r = {.frame = frame, .ip = frame + ETH_HDR_LEN};
	uint16_t frag;

	if (len < ETH_HDR_LEN + IP4_HDR_LEN)
		return FM_PKT_DROP_TRUNCATED;
	if (frame[0] & 1)
		return FM_PKT_DROP_L2_BCAST;
	memcpy(&ih, r.ip, sizeof(ih));
	if (wire_ip4_version(&ih) != IP4_VERSION)
		return FM_PKT_DROP_BAD_VERSION;
	r.ihl = wire_ip4_hdr_len(&ih);
	if (r.ihl < IP4_HDR_LEN)
		return FM_PKT_DROP_BAD_IHL;
	if (ETH_HDR_LEN + r.ihl > len)
		return FM_PKT_DROP_TRUNCATED;
	r.tot_len = ntohs(ih.tot_len);
	if (r.tot_len < r.ihl || ETH_HDR_LEN + r.tot_len > len)
		return FM_PKT_DROP_BAD_IP_LEN;
	if (wire_inet_csum(r.ip, r.ihl) != 0)
		return FM_PKT_DROP_BAD_CSUM;
	r.src = ntohl(ih.src);
	r.dst = ntohl(ih.dst);
	if (not_unicast(r.src) || (r.src >> 24) == 127 || is_ours(ifc, r.src))
		return FM_PKT_DROP_BAD_SRC_ADDR;
	if (r.dst >= 0xe0000000u)
		return FM_PKT_DROP_IP_BCAST;
	if (!is_ours(ifc, r.dst))
		return FM_PKT_DROP_NOT_OUR_IP;
	frag = ntohs(ih.frag_off);
	if (frag & IP4_FLAG_RF)
		return FM_PKT_DROP_BAD_FRAG;
	if (frag & IP4_OFF_MASK)
		return FM_PKT_DROP_FRAGMENT;
	r.first_frag = (frag & IP4_FLAG_MF) != 0;
	r.l4 = r.ip + r.ihl;
	r.l4_len = r.tot_len - r.ihl;
	memcpy(r.reply.src_mac, ifc->mac, 6);
	memcpy(r.reply.dst_mac, frame + ETH_ADDR_LEN, 6);
	r.reply.src_ip = r.dst;
	r.reply.dst_ip = r.src;

	switch (ih.proto) {
	case IP4_PROTO_ICMP:
		return rx_icmp(p, &r, reply, reply_size, v);
	case IP4_PROTO_UDP:
		return rx_udp(p, &r, now, reply, reply_size, v);
	case IP4_PROTO_TCP:
		return rx_tcp(p, &r, now, reply, reply_size, v);
	default:
		return FM_PKT_DROP_PROTO;
	}
}

void
fm_pkt_input(struct fm_pkt *p, const struct fm_pkt_if *ifc, const uint8_t *frame, size_t len,
    uint64_t now_ns, uint8_t *reply, size_t reply_size, struct fm_pkt_verdict *v)
{
	struct eth_hdr eh;
	int reason;

	*v = (struct fm_pkt_verdict){.action = FM_PKT_ACT_DROP};
	p->st.rx++;
	if (len < ETH_HDR_LEN) {
		reason = FM_PKT_DROP_TRUNCATED;
		goto out;
	}
	memcpy(&eh, frame, sizeof(eh));
	if (wire_eth_addr_is_group(&eh.src) || memcmp(eh.src.b, ifc->mac, 6) == 0) {
		reason = FM_PKT_DROP_BAD_SRC_MAC;
		goto out;
	}
	/* Group frames go on to the protocol, which decides (ARP takes broadcasts). */
	if (!wire_eth_addr_is_group(&eh.dst) && memcmp(eh.dst.b, ifc->mac, 6) != 0) {
		reason = FM_PKT_DROP_NOT_OUR_MAC;
		goto out;
	}
	switch (ntohs(eh.type)) {
	case ETH_TYPE_ARP:
		if (wire_eth_addr_is_group(&eh.dst) && memcmp(eh.dst.b, bcast_mac, 6) != 0)
			reason = FM_PKT_DROP_NOT_OUR_MAC;
		else
			reason = rx_arp(ifc, frame, len, reply, reply_size, v);
		break;
	case ETH_TYPE_IPV4:
		reason = rx_ip4(p, ifc, frame, len, now_ns, reply, reply_size, v);
		break;
	default:
		reason = FM_PKT_DROP_ETHERTYPE;
		break;
	}
out:
	if (reason != FM_PKT_DROP_NONE) {
		v->action = FM_PKT_ACT_DROP;
		v->reply_len = 0;
		p->st.drop[reason]++;
	}
	v->reason = (uint16_t)reason;
	p->st.action[v->action]++;
}

void
fm_pkt_stats_get(const struct fm_pkt *p, struct fm_pkt_stats *st)
{
	*st = p->st;
}

static const char *const action_names[] = {
#define FM_X_(name, desc) #name,
    FM_PKT_ACTIONS(FM_X_)
#undef FM_X_
};
static const char *const action_descs[] = {
#define FM_X_(name, desc) desc,
    FM_PKT_ACTIONS(FM_X_)
#undef FM_X_
};
static const char *const drop_names[] = {"NONE",
#define FM_X_(name, desc) #name,
    FM_PKT_DROPS(FM_X_)
#undef FM_X_
};
static const char *const drop_descs[] = {"not dropped",
#define FM_X_(name, desc) desc,
    FM_PKT_DROPS(FM_X_)
#undef FM_X_
};

_Static_assert(ARRAY_SIZE(action_names) == FM_PKT_ACT__COUNT, "one name per action");
_Static_assert(ARRAY_SIZE(drop_names) == FM_PKT_DROP__COUNT, "one name per drop reason");

const char *
fm_pkt_action_name(unsigned action)
{
	return action < FM_PKT_ACT__COUNT ? action_names[action] : "?";
}

const char *
fm_pkt_action_desc(unsigned action)
{
	return action < FM_PKT_ACT__COUNT ? action_descs[action] : "?";
}

const char *
fm_pkt_drop_name(unsigned reason)
{
	return reason < FM_PKT_DROP__COUNT ? drop_names[reason] : "?";
}

const char *
fm_pkt_drop_desc(unsigned reason)
{
	return reason < FM_PKT_DROP__COUNT ? drop_descs[reason] : "?";
}
