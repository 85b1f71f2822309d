/* SPDX-License-Identifier: BSD-3-Clause */
#include "tests/appstack/as_test.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"

const uint8_t t_lmac[6] = {0x02, 0x77, 0, 0, 0, 0x01};
const uint8_t t_nmac[6] = {0x02, 0x77, 0, 0, 0, 0x02};
const uint8_t t_pmac[6] = {0x02, 0x77, 0, 0, 0, 0x03};

void
t_fib(struct as__fib *fib, enum as_flow_kind kind)
{
	memset(fib, 0, sizeof(*fib));
	fib->flow_id = 7;
	fib->generation = 1;
	fib->kind = kind;
	memcpy(fib->local_mac, t_lmac, 6);
	fib->local.addr = T_LADDR;
	fib->local.port = T_LPORT;
	if (kind == AS_UDP_CONNECTED) {
		memcpy(fib->nh_mac, t_nmac, 6);
		fib->nh_known = true;
		fib->nh_addr = T_RADDR;
		fib->remote.addr = T_RADDR;
		fib->remote.port = T_RPORT;
	}
	fib->mtu = 1500;
	fib->headroom = 42;
}

int
t_drv_attach(struct as_flow *f, struct t_drv *d)
{
	struct rbuf_chan_cfg g;
	struct rbuf_chan_fds fds;

	rbuf_chan_geometry(f->rx, &g);
	if (rbuf_chan_peer_fds(f->rx, &fds) < 0)
		return -1;
	d->rx = rbuf_chan_attach(&g, RBUF_SIDE_SENDER, &fds);
	rbuf_chan_geometry(f->tx, &g);
	if (rbuf_chan_peer_fds(f->tx, &fds) < 0)
		return -1;
	d->tx = rbuf_chan_attach(&g, RBUF_SIDE_RECEIVER, &fds);
	rbuf_chan_peer_fds_close(f->rx);
	rbuf_chan_peer_fds_close(f->tx);
	return d->rx && d->tx ? 0 : -1;
}

struct as_flow *
t_flow(enum as_flow_kind kind, const struct as_flow_cfg *over, struct t_drv *d)
{
	struct as_flow_cfg cfg = {0};
	struct as__fib fib;
	struct as_flow *f;

	if (over)
		cfg = *over;
	cfg.kind = kind;
	if (kind == AS_UDP_CONNECTED) {
		cfg.remote.addr = T_RADDR;
		cfg.remote.port = T_RPORT;
	}
	f = as__flow_alloc(&cfg);
	assert_non_null(f);
	assert_int_equal(t_drv_attach(f, d), 0);
	t_fib(&fib, kind);
	assert_int_equal(as__flow_bind(f, &fib), 0);
	return f;
}

void
t_flow_free(struct as_flow *f, struct t_drv *d)
{
	as__flow_free(f);
	rbuf_chan_destroy(d->rx);
	rbuf_chan_destroy(d->tx);
	d->rx = d->tx = NULL;
}

void
t_pattern(uint8_t *p, uint32_t len, uint32_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)((seed * 7 + i * 13 + (i >> 8)) & 0xff);
}

uint16_t
t_csum(const void *buf, uint32_t len, uint32_t sum)
{
	const uint8_t *p = buf;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t
pseudo(const uint8_t *ip, uint32_t udp_len)
{
	uint32_t s = 0;

	for (int i = 12; i < 20; i += 2)
		s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	return s + IP4_PROTO_UDP + udp_len;
}

bool
t_udp_csum_ok(const uint8_t *ip, uint32_t ip_len)
{
	uint32_t ihl = (ip[0] & 15) * 4u;

	return t_csum(ip + ihl, ip_len - ihl, pseudo(ip, ip_len - ihl)) == 0;
}

uint32_t
t_build(uint8_t *buf, const struct t_udp *s)
{
	struct ip4_hdr *ip = (struct ip4_hdr *)(buf + ETH_HDR_LEN);
	struct udp_hdr *u = (struct udp_hdr *)(ip + 1);
	uint32_t ulen = UDP_HDR_LEN + s->len;
	uint16_t c;

	memcpy(buf, s->dmac ? s->dmac : t_lmac, 6);
	memcpy(buf + 6, s->smac ? s->smac : t_nmac, 6);
	buf[12] = 0x08;
	buf[13] = 0x00;
	memset(ip, 0, sizeof(*ip));
	ip->ver_ihl = 0x45;
	ip->tot_len = htons((uint16_t)(IP4_HDR_LEN + ulen));
	ip->id = htons(s->id);
	ip->frag_off = htons(s->frag_off);
	ip->ttl = 64;
	ip->proto = IP4_PROTO_UDP;
	ip->src = htonl(s->src ? s->src : T_RADDR);
	ip->dst = htonl(s->dst ? s->dst : T_LADDR);
	t_fix_ip(buf);
	u->src_port = htons(s->sport ? s->sport : T_RPORT);
	u->dst_port = htons(s->dport ? s->dport : T_LPORT);
	u->len = htons((uint16_t)ulen);
	u->csum = 0;
	t_pattern((uint8_t *)(u + 1), s->len, s->seed);
	if (!s->no_csum) {
		c = t_csum(u, ulen, pseudo((uint8_t *)ip, ulen));
		u->csum = htons(c ? c : 0xffff);
	}
	return ETH_HDR_LEN + IP4_HDR_LEN + ulen;
}

void
t_fix_ip(uint8_t *frame)
{
	struct ip4_hdr *ip = (struct ip4_hdr *)(frame + ETH_HDR_LEN);

	ip->csum = 0;
	ip->csum = htons(t_csum(ip, wire_ip4_hdr_len(ip), 0));
}

unsigned
t_fragment(const uint8_t *frame, uint32_t len, uint32_t fp, uint8_t (*out)[T_FRAME], uint32_t *lens,
    unsigned max)
{
	const uint8_t *pl = frame + ETH_HDR_LEN + IP4_HDR_LEN;
	uint32_t plen = len - ETH_HDR_LEN - IP4_HDR_LEN;
	unsigned n = 0;

	for (uint32_t off = 0; off < plen && n < max; off += fp, n++) {
		uint32_t k = plen - off < fp ? plen - off : fp;
		struct ip4_hdr *ip = (struct ip4_hdr *)(out[n] + ETH_HDR_LEN);

		memcpy(out[n], frame, ETH_HDR_LEN + IP4_HDR_LEN);
		memcpy(out[n] + ETH_HDR_LEN + IP4_HDR_LEN, pl + off, k);
		ip->tot_len = htons((uint16_t)(IP4_HDR_LEN + k));
		ip->frag_off = htons((uint16_t)((off + k < plen ? IP4_FLAG_MF : 0) | off / 8));
		t_fix_ip(out[n]);
		lens[n] = ETH_HDR_LEN + IP4_HDR_LEN + k;
	}
	return n;
}

int
t_feed(struct t_drv *d, const uint8_t *frame, uint32_t len)
{
	struct rbuf_iorec r;

	if (rbuf_get_burst(d->rx, &r, 1) != 1)
		return -1;
	if (len > r.piece[0].len)
		len = r.piece[0].len;
	memcpy(rbuf_piece_ptr(d->rx, &r.piece[0]), frame, len);
	r.piece[0].len = len;
	return rbuf_put_burst(d->rx, &r, 1) == 1 ? 0 : -1;
}

uint32_t
t_take(struct t_drv *d, struct rbuf_iorec *rec, uint8_t *frame, uint32_t cap)
{
	uint32_t len = 0;

	if (rbuf_get_burst(d->tx, rec, 1) != 1)
		return 0;
	for (unsigned i = 0; i < rec->n_pieces; i++) {
		uint32_t k = rec->piece[i].len;

		if (len + k > cap)
			k = cap - len;
		memcpy(frame + len, rbuf_piece_ptr(d->tx, &rec->piece[i]), k);
		len += k;
	}
	return len;
}

void
t_give_back(struct t_drv *d, struct rbuf_iorec *rec, uint16_t flags)
{
	rec->flags |= flags;
	assert_int_equal(rbuf_put_burst(d->tx, rec, 1), 1);
}

unsigned
t_empties(struct t_drv *d)
{
	return rbuf_avail(d->rx);
}
