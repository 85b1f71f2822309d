/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stack in one process, without a driver or a flow manager: the test
 * creates a flow as the application would, attaches to the other ends of
 * its channels as the driver would, checks every byte the stack sends, and
 * feeds it frames, good and bad. The stack must deliver the good ones
 * intact and count and drop the bad ones; every receive buffer must end up
 * back with the driver.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/wire/eth.h"
#include "common/wire/icmp.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"
#include "proto/flowmgr.pb-c.h"
#include "tests/appstack/as_test.h"

static uint8_t frame[T_FRAME], got[T_FRAME], buf[AS_MAX_DGRAM];
static uint8_t frags[64][T_FRAME];
static uint32_t flens[64];

static uint64_t
stat(struct as_flow *f, enum as_stat s)
{
	struct as_flow_stats st;

	as_flow_stats(f, &st);
	return st.c[s];
}

/* Receive with nothing left over: the test's frames are all handled. */
static void
assert_nothing_more(struct as_flow *f)
{
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), -EAGAIN);
}

/* ---- transmit -------------------------------------------------------------- */

static void
test_send_writes_every_header_byte(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct rbuf_iorec r;
	const struct ip4_hdr *ip = (const struct ip4_hdr *)(got + ETH_HDR_LEN);
	const struct udp_hdr *u = (const struct udp_hdr *)(ip + 1);
	uint32_t len;
	(void)state;

	t_pattern(buf, 100, 1);
	assert_int_equal(as_send(f, buf, 100, 0), 100);
	len = t_take(&d, &r, got, sizeof(got));
	assert_int_equal(len, 14 + 20 + 8 + 100);
	assert_int_equal(r.n_pieces, 1);
	assert_memory_equal(got, t_nmac, 6);
	assert_memory_equal(got + 6, t_lmac, 6);
	assert_int_equal(got[12], 0x08);
	assert_int_equal(got[13], 0x00);
	assert_int_equal(ip->ver_ihl, 0x45);
	assert_int_equal(ip->tos, 0);
	assert_int_equal(ntohs(ip->tot_len), 128);
	assert_int_equal(ntohs(ip->frag_off), 0);
	assert_int_equal(ip->ttl, 64);
	assert_int_equal(ip->proto, IP4_PROTO_UDP);
	assert_int_equal(t_csum(ip, 20, 0), 0);
	assert_int_equal(ntohl(ip->src), T_LADDR);
	assert_int_equal(ntohl(ip->dst), T_RADDR);
	assert_int_equal(ntohs(u->src_port), T_LPORT);
	assert_int_equal(ntohs(u->dst_port), T_RPORT);
	assert_int_equal(ntohs(u->len), 108);
	assert_int_not_equal(u->csum, 0);
	assert_true(t_udp_csum_ok((const uint8_t *)ip, 128));
	assert_memory_equal(u + 1, buf, 100);
	/* Headroom: the frame starts where the layers said, in the buffer. */
	assert_int_equal(r.piece[0].off, AS_HEAD - f->headroom);
	assert_int_equal(f->headroom, 42);
	assert_int_equal(f->n_tx_free, f->tx_n - 1);
	t_give_back(&d, &r, 0);
	as__tx_reclaim(f);
	assert_int_equal(f->n_tx_free, f->tx_n);
	assert_int_equal(stat(f, AS_STAT_TX_DGRAMS), 1);
	assert_int_equal(stat(f, AS_STAT_TX_FRAMES), 1);
	t_flow_free(f, &d);
}

static void
test_send_zero_payload_and_odd_sizes(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct rbuf_iorec r;
	(void)state;

	for (uint32_t n = 0; n < 40; n++) {
		t_pattern(buf, n, n);
		assert_int_equal(as_send(f, buf, n, 0), (int)n);
		assert_int_equal(t_take(&d, &r, got, sizeof(got)), 42 + n);
		assert_true(t_udp_csum_ok(got + 14, 28 + n));
		assert_memory_equal(got + 42, buf, n);
		t_give_back(&d, &r, 0);
	}
	t_flow_free(f, &d);
}

/* 4000 bytes at MTU 1500: three frames, the payload never copied. */
static void
test_send_fragments_point_into_the_payload_buffer(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct rbuf_iorec r[3];
	static uint8_t whole[8000];
	struct as_txbuf b;
	uint32_t at = 0, id = 0, boff;
	(void)state;

	assert_int_equal(as_tx_alloc(f, &b, 0), 0);
	assert_int_equal(b.cap, AS_DEF_MAX_DGRAM);
	t_pattern(b.data, 4000, 9);
	memcpy(buf, b.data, 4000);
	b.len = 4000;
	boff = (uint32_t)(b.data - f->tx_base);
	assert_int_equal(as_tx_send(f, &b, 0), 0);
	for (int i = 0; i < 3; i++) {
		uint32_t len = t_take(&d, &r[i], got, sizeof(got));
		const struct ip4_hdr *ip = (const struct ip4_hdr *)(got + 14);
		uint16_t fo = ntohs(ip->frag_off);
		uint32_t k = ntohs(ip->tot_len) - 20;

		assert_true(len > 0);
		assert_int_equal(len, 14 + 20 + k);
		assert_memory_equal(got, t_nmac, 6);
		assert_int_equal(t_csum(ip, 20, 0), 0);
		assert_int_equal(fo & IP4_OFF_MASK, at / 8);
		assert_int_equal(!!(fo & IP4_FLAG_MF), i < 2);
		if (i == 0)
			id = ip->id;
		assert_int_equal(ip->id, id);
		assert_true(len <= 14 + 1500);
		if (i == 0) {
			assert_int_equal(r[i].n_pieces, 1);
		} else {
			/* [header slot][slice of the same buffer] */
			assert_int_equal(r[i].n_pieces, 2);
			assert_int_equal(r[i].piece[0].len, 34);
			assert_true(r[i].piece[0].off >= f->hs_base);
			assert_int_equal(r[i].piece[1].off, boff - 8 + at);
		}
		memcpy(whole + at, got + 34, k);
		at += k;
	}
	assert_int_equal(at, 4008);
	{
		/* The UDP checksum covers the whole datagram. */
		uint8_t ipw[20 + 4008];

		memcpy(ipw, got + 14, 20);
		memcpy(ipw + 20, whole, 4008);
		assert_true(t_udp_csum_ok(ipw, sizeof(ipw)));
		assert_memory_equal(whole + 8, buf, 4000);
	}
	assert_int_equal(stat(f, AS_STAT_TX_FRAGS), 3);
	/* The buffer is free only once every frame came back, in any order. */
	t_give_back(&d, &r[2], 0);
	t_give_back(&d, &r[0], 0);
	as__tx_reclaim(f);
	assert_int_equal(f->n_tx_free, f->tx_n - 1);
	assert_int_equal(f->n_hs_free, f->hs_n - 1);
	t_give_back(&d, &r[1], 0);
	as__tx_reclaim(f);
	assert_int_equal(f->n_tx_free, f->tx_n);
	assert_int_equal(f->n_hs_free, f->hs_n);
	t_flow_free(f, &d);
}

static void
test_send_errors_leave_the_buffer_to_the_caller(void **state)
{
	struct as_flow_cfg c = {.tx_bufs = 2, .tx_recs = 4, .max_dgram = 8000};
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, &c, &d);
	struct as_txbuf b, b2, b3;
	struct rbuf_iorec r;
	(void)state;

	assert_int_equal(as_tx_alloc(f, &b, 0), 0);
	b.len = b.cap + 1;
	assert_int_equal(as_tx_send(f, &b, 0), -EMSGSIZE);
	/* 8000 bytes need 6 frames: more than a 4-slot ring ever holds. */
	b.len = 8000;
	assert_int_equal(as_tx_send(f, &b, 0), -EMSGSIZE);
	b.len = 3000; /* 3 frames */
	assert_int_equal(as_tx_send(f, &b, 0), 0);
	assert_int_equal(as_tx_send(f, &b, 0), -EINVAL); /* not ours any more */
	assert_int_equal(as_tx_alloc(f, &b2, 0), 0);
	assert_int_equal(as_tx_alloc(f, &b3, 0), -EAGAIN); /* both lent or sent */
	b2.len = 3000;
	assert_int_equal(as_tx_send(f, &b2, 0), -EAGAIN); /* 1 slot left */
	b2.len = 10;
	assert_int_equal(as_tx_send(f, &b2, 0), 0);
	/* Waiting for room times out. */
	assert_int_equal(as_tx_alloc(f, &b3, 30), -EAGAIN);
	assert_int_equal(t_take(&d, &r, got, sizeof(got)) > 0, 1);
	t_give_back(&d, &r, 0);
	while (t_take(&d, &r, got, sizeof(got)))
		t_give_back(&d, &r, 0);
	assert_int_equal(as_tx_alloc(f, &b3, 100), 0);
	as_tx_free(f, &b3);
	as_tx_free(f, &b3); /* twice: ignored */
	assert_int_equal(f->n_tx_free, 2);
	t_flow_free(f, &d);
}

static void
test_driver_refusals_and_bad_returns_are_counted(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct rbuf_iorec r, bad;
	(void)state;

	assert_int_equal(as_send(f, "x", 1, 0), 1);
	assert_true(t_take(&d, &r, got, sizeof(got)) > 0);
	bad = r;
	t_give_back(&d, &r, RBUF_F_REFUSED);
	/* The same record again, and records naming nothing of ours. */
	t_give_back(&d, &bad, 0);
	bad.tag = 9999;
	t_give_back(&d, &bad, 0);
	bad.tag = AS_REF_HSLOT | 3;
	t_give_back(&d, &bad, 0);
	as__tx_reclaim(f);
	assert_int_equal(stat(f, AS_STAT_TX_REFUSED), 1);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_REC), 3);
	assert_int_equal(f->n_tx_free, f->tx_n);
	t_flow_free(f, &d);
}

static void
test_bound_flow_answers_the_mac_it_heard(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_BOUND, NULL, &d);
	struct t_udp s = {.src = T_PADDR, .sport = 4444, .smac = t_pmac, .len = 10};
	struct as_sap from, unknown = {T_RADDR, 1}, to = {T_PADDR, 4444};
	struct rbuf_iorec r;
	const struct ip4_hdr *ip = (const struct ip4_hdr *)(got + 14);
	(void)state;

	assert_int_equal(as_sendto(f, "a", 1, NULL, 0), -EDESTADDRREQ);
	assert_int_equal(as_send(f, "a", 1, 0), -EDESTADDRREQ);
	assert_int_equal(as_sendto(f, "a", 1, &unknown, 0), -EHOSTUNREACH);
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_recvfrom(f, buf, sizeof(buf), &from, 0), 10);
	assert_int_equal(from.addr, T_PADDR);
	assert_int_equal(from.port, 4444);
	assert_int_equal(as_sendto(f, "hello", 5, &to, 0), 5);
	assert_int_equal(t_take(&d, &r, got, sizeof(got)), 47);
	assert_memory_equal(got, t_pmac, 6);
	assert_int_equal(ntohl(ip->dst), T_PADDR);
	assert_int_equal(got[36], 4444 >> 8);
	assert_int_equal(got[37], 4444 & 255);
	assert_true(t_udp_csum_ok(got + 14, 33));
	t_give_back(&d, &r, 0);
	t_flow_free(f, &d);
}

/* ---- receive ------------------------------------------------------------------- */

static void
test_recv_copies_and_zero_copy_give_buffers_back(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct t_udp s = {.len = 1400, .seed = 3};
	struct as_rxbuf rb;
	uint8_t want[1400];
	unsigned empties = t_empties(&d);
	(void)state;

	t_pattern(want, sizeof(want), 3);
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 1400);
	assert_memory_equal(buf, want, 1400);
	assert_int_equal(t_empties(&d), empties);
	/* Zero copy: the payload is read where the driver wrote it. */
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_rx_get(f, &rb, 0), 0);
	assert_int_equal(rb.len, 1400);
	assert_int_equal(rb.err, 0);
	assert_true(rb.data >= f->rx_base && rb.data < f->rx_base + f->rx_n * f->rx_stride);
	assert_memory_equal(rb.data, want, 1400);
	assert_int_equal(t_empties(&d), empties - 1);
	as_rx_put(f, &rb);
	as_rx_put(f, &rb); /* twice: ignored */
	assert_int_equal(t_empties(&d), empties);
	/* A short buffer takes what fits. */
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_recv(f, buf, 10, 0), 10);
	assert_memory_equal(buf, want, 10);
	/* Checksum 0: not computed, accepted. */
	s.no_csum = true;
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 1400);
	assert_int_equal(stat(f, AS_STAT_RX_DGRAMS), 4);
	assert_nothing_more(f);
	assert_int_equal(t_empties(&d), empties);
	t_flow_free(f, &d);
}

struct bad_case {
	const char *what;
	enum as_stat counter;
	void (*edit)(uint8_t *fr, uint32_t *len);
};

static void
e_truncated(uint8_t *fr, uint32_t *len)
{
	(void)fr;
	*len = 10;
}

static void
e_short_ip(uint8_t *fr, uint32_t *len)
{
	(void)fr;
	*len = 14 + 12;
}

static void
e_arp(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[13] = 0x06;
}

static void
e_other_mac(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[5] ^= 1;
}

static void
e_broadcast_mac(uint8_t *fr, uint32_t *len)
{
	(void)len;
	memset(fr, 0xff, 6);
}

static void
e_version(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[14] = 0x65;
	t_fix_ip(fr);
}

static void
e_ihl(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[14] = 0x44;
}

static void
e_tot_len_big(uint8_t *fr, uint32_t *len)
{
	fr[16] = (uint8_t)((*len) >> 8);
	fr[17] = (uint8_t)(*len); /* 14 bytes more than the frame */
	t_fix_ip(fr);
}

static void
e_tot_len_small(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[16] = 0;
	fr[17] = 19;
	t_fix_ip(fr);
}

static void
e_ip_csum(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[24] ^= 0x40;
}

static void
e_reserved_flag(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[20] |= 0x80;
	t_fix_ip(fr);
}

static void
e_other_dst(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[33] = 9;
	t_fix_ip(fr);
}

static void
e_other_src(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[29] = 9;
	t_fix_ip(fr);
}

static void
e_tcp(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[23] = IP4_PROTO_TCP;
	t_fix_ip(fr);
}

static void
e_udp_short(uint8_t *fr, uint32_t *len)
{
	*len = 14 + 20 + 4;
	fr[16] = 0;
	fr[17] = 24;
	t_fix_ip(fr);
}

static void
e_udp_len_small(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[38] = 0;
	fr[39] = 7;
}

static void
e_udp_len_big(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[38] = 0x10;
}

static void
e_udp_csum(uint8_t *fr, uint32_t *len)
{
	fr[*len - 1] ^= 1;
}

static void
e_other_dport(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[37] ^= 1;
}

static void
e_other_sport(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[35] ^= 1;
}

static void
e_icmp_echo(uint8_t *fr, uint32_t *len)
{
	(void)len;
	fr[23] = IP4_PROTO_ICMP;
	t_fix_ip(fr);
}

static const struct bad_case bad_cases[] = {
    {"shorter than Ethernet", AS_STAT_DROP_TRUNCATED, e_truncated},
    {"shorter than IPv4", AS_STAT_DROP_TRUNCATED, e_short_ip},
    {"ARP", AS_STAT_DROP_ETHERTYPE, e_arp},
    {"another MAC", AS_STAT_DROP_NOT_OUR_MAC, e_other_mac},
    {"broadcast MAC", AS_STAT_DROP_NOT_OUR_MAC, e_broadcast_mac},
    {"IP version 6", AS_STAT_DROP_BAD_IP, e_version},
    {"IHL 4", AS_STAT_DROP_BAD_IP, e_ihl},
    {"total length past the frame", AS_STAT_DROP_TRUNCATED, e_tot_len_big},
    {"total length below the header", AS_STAT_DROP_BAD_IP, e_tot_len_small},
    {"IP checksum", AS_STAT_DROP_IP_CSUM, e_ip_csum},
    {"reserved flag", AS_STAT_DROP_BAD_FRAG, e_reserved_flag},
    {"another destination", AS_STAT_DROP_NOT_FOR_US, e_other_dst},
    {"another source", AS_STAT_DROP_NOT_FOR_US, e_other_src},
    {"TCP", AS_STAT_DROP_PROTO, e_tcp},
    {"UDP header cut", AS_STAT_DROP_TRUNCATED, e_udp_short},
    {"UDP length 7", AS_STAT_DROP_UDP_LEN, e_udp_len_small},
    {"UDP length past the datagram", AS_STAT_DROP_UDP_LEN, e_udp_len_big},
    {"UDP checksum", AS_STAT_DROP_UDP_CSUM, e_udp_csum},
    {"another destination port", AS_STAT_DROP_NOT_FOR_US, e_other_dport},
    {"another source port", AS_STAT_DROP_NOT_FOR_US, e_other_sport},
    {"ICMP that is not an error", AS_STAT_DROP_BAD_ICMP, e_icmp_echo},
};

static void
test_bad_frames_are_counted_and_dropped(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct t_udp s = {.len = 64};
	unsigned empties = t_empties(&d);
	(void)state;

	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		uint32_t len = t_build(frame, &s);
		uint64_t before = stat(f, bad_cases[i].counter);

		bad_cases[i].edit(frame, &len);
		assert_int_equal(t_feed(&d, frame, len), 0);
		if (as_recv(f, buf, sizeof(buf), 0) != -EAGAIN)
			fail_msg("%s: delivered", bad_cases[i].what);
		if (stat(f, bad_cases[i].counter) != before + 1)
			fail_msg("%s: not counted as %s", bad_cases[i].what,
			    as_stat_name(bad_cases[i].counter));
	}
	assert_int_equal(stat(f, AS_STAT_RX_DGRAMS), 0);
	/* A good one still gets through, and every buffer is back. */
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 64);
	assert_int_equal(t_empties(&d), empties);
	t_flow_free(f, &d);
}

static void
test_bad_receive_records_are_counted(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct t_udp s = {.len = 8};
	struct rbuf_iorec r;
	uint32_t len = t_build(frame, &s);
	(void)state;

	/* A record naming a buffer that is not ours to get back. */
	assert_int_equal(rbuf_get_burst(d.rx, &r, 1), 1);
	memcpy(rbuf_piece_ptr(d.rx, &r.piece[0]), frame, len);
	r.piece[0].len = len;
	r.tag = 100000;
	assert_int_equal(rbuf_put_burst(d.rx, &r, 1), 1);
	/* The right buffer at another offset. */
	assert_int_equal(rbuf_get_burst(d.rx, &r, 1), 1);
	r.piece[0].off += 64;
	r.piece[0].len = len;
	assert_int_equal(rbuf_put_burst(d.rx, &r, 1), 1);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_REC), 2);
	/* The second one's buffer went back; the first was lost by the peer. */
	assert_int_equal(t_empties(&d), f->rx_n - 1);
	t_flow_free(f, &d);
}

/* ---- reassembly ----------------------------------------------------------------- */

static void
test_reassembly_in_any_order(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_BOUND, NULL, &d);
	struct t_udp s = {.len = 4000, .seed = 5, .id = 77};
	uint8_t want[4000];
	struct as_rxbuf rb;
	unsigned n;
	(void)state;

	t_pattern(want, sizeof(want), 5);
	n = t_fragment(frame, t_build(frame, &s), 1480, frags, flens, 64);
	assert_int_equal(n, 3);
	assert_int_equal(t_feed(&d, frags[2], flens[2]), 0);
	assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), -EAGAIN);
	assert_int_equal(t_feed(&d, frags[1], flens[1]), 0);
	assert_int_equal(as_rx_get(f, &rb, 0), 0);
	assert_int_equal(rb.len, 4000);
	assert_memory_equal(rb.data, want, 4000);
	assert_int_equal(rb.peer.addr, T_RADDR);
	assert_int_equal(rb.peer.port, T_RPORT);
	/* Fragment buffers went back at once; the slot is lent until put. */
	assert_int_equal(t_empties(&d), f->rx_n);
	assert_int_equal(f->reass[rb.id & AS_REF_MASK].state, AS_BUF_APP);
	as_rx_put(f, &rb);
	assert_int_equal(f->reass[rb.id & AS_REF_MASK].state, AS_BUF_FREE);
	assert_int_equal(stat(f, AS_STAT_RX_FRAGS), 3);
	assert_int_equal(stat(f, AS_STAT_RX_REASSEMBLED), 1);
	/* Two interleaved datagrams, small fragments, reversed. */
	{
		static uint8_t fb[64][T_FRAME];
		static uint32_t lb[64];
		unsigned na, nb;

		s.id = 1;
		s.len = 1000;
		na = t_fragment(frame, t_build(frame, &s), 240, frags, flens, 64);
		s.id = 2;
		s.seed = 6;
		nb = t_fragment(frame, t_build(frame, &s), 160, fb, lb, 64);
		for (unsigned i = 0; i < na || i < nb; i++) {
			if (i < na)
				assert_int_equal(
				    t_feed(&d, frags[na - 1 - i], flens[na - 1 - i]), 0);
			if (i < nb)
				assert_int_equal(t_feed(&d, fb[i], lb[i]), 0);
		}
		assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 1000);
		assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 1000);
		assert_nothing_more(f);
	}
	t_flow_free(f, &d);
}

static void
test_duplicate_and_overlapping_fragments(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct t_udp s = {.len = 2000, .id = 3};
	uint8_t over[T_FRAME];
	struct ip4_hdr *ip;
	unsigned n;
	(void)state;

	n = t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
	assert_int_equal(n, 3);
	/* A duplicate is ignored; the datagram still completes. */
	assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
	assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
	assert_int_equal(t_feed(&d, frags[1], flens[1]), 0);
	assert_int_equal(t_feed(&d, frags[2], flens[2]), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 2000);
	assert_int_equal(stat(f, AS_STAT_DROP_FRAG_DUP), 1);
	/* A fragment that overlaps half of another drops the datagram. */
	memcpy(over, frags[1], flens[1]);
	ip = (struct ip4_hdr *)(over + 14);
	ip->frag_off = htons(IP4_FLAG_MF | 500 / 8);
	t_fix_ip(over);
	assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
	assert_int_equal(t_feed(&d, over, flens[1]), 0);
	assert_int_equal(t_feed(&d, frags[1], flens[1]), 0);
	assert_int_equal(t_feed(&d, frags[2], flens[2]), 0);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_FRAG_OVERLAP), 1);
	/* (the last two started a new datagram, which never completes) */
	t_flow_free(f, &d);
}

static void
test_bad_fragments_are_dropped(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct t_udp s = {.len = 2000, .id = 4};
	uint8_t x[T_FRAME];
	struct ip4_hdr *ip = (struct ip4_hdr *)(x + 14);
	unsigned n;
	(void)state;

	n = t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
	assert_int_equal(n, 3);
	/* MF with a length that is not a multiple of 8. */
	memcpy(x, frags[0], flens[0]);
	ip->tot_len = htons(20 + 999);
	t_fix_ip(x);
	assert_int_equal(t_feed(&d, x, flens[0] - 1), 0);
	/* Past 65535 bytes. */
	memcpy(x, frags[1], flens[1]);
	ip->frag_off = htons(IP4_FLAG_MF | 0x1fff);
	t_fix_ip(x);
	assert_int_equal(t_feed(&d, x, flens[1]), 0);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_FRAG), 2);
	/* Two last fragments that disagree about the end. */
	assert_int_equal(t_feed(&d, frags[2], flens[2]), 0);
	memcpy(x, frags[2], flens[2]);
	ip->frag_off = htons(3000 / 8);
	t_fix_ip(x);
	assert_int_equal(t_feed(&d, x, flens[2]), 0);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_FRAG), 3);
	/* A fragment that starts after the end a last one gave. */
	assert_int_equal(t_feed(&d, frags[2], flens[2]), 0);
	memcpy(x, frags[1], flens[1]);
	ip->frag_off = htons(IP4_FLAG_MF | 2400 / 8);
	t_fix_ip(x);
	assert_int_equal(t_feed(&d, x, flens[1]), 0);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_FRAG), 4);
	/* A reassembled datagram with a bad UDP checksum. */
	frags[1][100] ^= 0xff;
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(t_feed(&d, frags[i], flens[i]), 0);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_UDP_CSUM), 1);
	assert_int_equal(t_empties(&d), f->rx_n);
	t_flow_free(f, &d);
}

static void
test_reassembly_limits(void **state)
{
	struct as_flow_cfg c = {.max_dgram = 2000, .reass_slots = 2, .reass_timeout_ms = 50};
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, &c, &d);
	struct t_udp s = {.len = 3000, .id = 1};
	unsigned n;
	(void)state;

	/* Larger than max_dgram. */
	n = t_fragment(frame, t_build(frame, &s), 1480, frags, flens, 64);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(t_feed(&d, frags[i], flens[i]), 0);
	assert_nothing_more(f);
	assert_true(stat(f, AS_STAT_DROP_REASS_TOO_BIG) >= 1);
	/* Three datagrams started, two slots: the oldest goes. */
	s.len = 1500;
	for (uint16_t id = 10; id < 13; id++) {
		s.id = id;
		t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
		assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
		assert_nothing_more(f);
	}
	assert_int_equal(stat(f, AS_STAT_DROP_REASS_EVICTED), 1);
	/* id 12 completes; id 10 was pushed out. */
	assert_int_equal(t_feed(&d, frags[1], flens[1]), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), 1500);
	s.id = 10;
	t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
	assert_int_equal(t_feed(&d, frags[1], flens[1]), 0);
	assert_nothing_more(f);
	/* Not complete in time. */
	usleep(80 * 1000);
	assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
	assert_nothing_more(f);
	assert_true(stat(f, AS_STAT_DROP_REASS_TIMEOUT) >= 2);
	/* Every slot lent to the application: a new datagram has none. */
	{
		struct as_rxbuf rb[2];

		for (uint16_t id = 20; id < 22; id++) {
			s.id = id;
			n = t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
			for (unsigned i = 0; i < n; i++)
				assert_int_equal(t_feed(&d, frags[i], flens[i]), 0);
			assert_int_equal(as_rx_get(f, &rb[id - 20], 0), 0);
		}
		s.id = 30;
		t_fragment(frame, t_build(frame, &s), 1000, frags, flens, 64);
		assert_int_equal(t_feed(&d, frags[0], flens[0]), 0);
		assert_nothing_more(f);
		assert_int_equal(stat(f, AS_STAT_DROP_REASS_NO_SLOT), 1);
		as_rx_put_burst(f, rb, 2);
	}
	assert_int_equal(t_empties(&d), f->rx_n);
	t_flow_free(f, &d);
}

/* ---- ICMP errors ------------------------------------------------------------------ */

/* An ICMP error from @from quoting a datagram we sent to @to:@tport. */
static uint32_t
icmp_frame(uint8_t *fr, uint8_t type, uint8_t code, uint32_t to, uint16_t tport)
{
	struct t_udp s = {.len = 20};
	uint8_t quoted[T_FRAME];
	uint32_t qlen;
	struct ip4_hdr *ip = (struct ip4_hdr *)(fr + 14);
	uint8_t *ic = fr + 34;

	/* The quoted datagram: ours, to the peer. */
	s.src = T_LADDR;
	s.dst = to;
	s.sport = T_LPORT;
	s.dport = tport;
	qlen = t_build(quoted, &s);
	(void)qlen;
	s = (struct t_udp){.len = 0};
	t_build(fr, &s); /* Ethernet + IPv4 from the peer to us */
	ip->proto = IP4_PROTO_ICMP;
	ic[0] = type;
	ic[1] = code;
	ic[2] = ic[3] = 0;
	memset(ic + 4, 0, 4);
	memcpy(ic + 8, quoted + 14, 28);
	ip->tot_len = htons(20 + 8 + 28);
	t_fix_ip(fr);
	{
		uint16_t c = t_csum(ic, 36, 0);

		ic[2] = (uint8_t)(c >> 8);
		ic[3] = (uint8_t)c;
	}
	return 14 + 20 + 36;
}

static void
test_icmp_error_on_connected_flow_is_the_next_recv(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	uint32_t len;
	(void)state;

	len = icmp_frame(frame, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_RADDR, T_RPORT);
	assert_int_equal(t_feed(&d, frame, len), 0);
	assert_int_equal(as_recv(f, buf, sizeof(buf), 0), -ECONNREFUSED);
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_RX_ICMP), 1);
	/* About another peer or port, or with a bad checksum: not ours. */
	len = icmp_frame(frame, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_PADDR, T_RPORT);
	assert_int_equal(t_feed(&d, frame, len), 0);
	len = icmp_frame(frame, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_RADDR, 1);
	assert_int_equal(t_feed(&d, frame, len), 0);
	len = icmp_frame(frame, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_RADDR, T_RPORT);
	frame[len - 1] ^= 1;
	assert_int_equal(t_feed(&d, frame, len), 0);
	assert_int_equal(t_feed(&d, frame, 14 + 20 + 8), 0); /* cut */
	assert_nothing_more(f);
	assert_int_equal(stat(f, AS_STAT_DROP_BAD_ICMP), 3);
	assert_int_equal(stat(f, AS_STAT_DROP_TRUNCATED), 1);
	assert_int_equal(t_empties(&d), f->rx_n);
	t_flow_free(f, &d);
}

static void
test_icmp_error_on_bound_flow_names_the_peer(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_BOUND, NULL, &d);
	struct as_sap from;
	struct as_rxbuf rb;
	uint32_t len;
	(void)state;

	len = icmp_frame(frame, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, T_PADDR, 4444);
	assert_int_equal(t_feed(&d, frame, len), 0);
	assert_int_equal(as_recvfrom(f, buf, sizeof(buf), &from, 0), -ECONNREFUSED);
	assert_int_equal(from.addr, T_PADDR);
	assert_int_equal(from.port, 4444);
	len = icmp_frame(frame, ICMP_TIME_EXCEED, 0, T_PADDR, 4445);
	assert_int_equal(t_feed(&d, frame, len), 0);
	assert_int_equal(as_rx_get(f, &rb, 0), 0);
	assert_int_equal(rb.err, -EHOSTUNREACH);
	assert_int_equal(rb.len, 0);
	assert_int_equal(rb.peer.port, 4445);
	as_rx_put(f, &rb);
	assert_int_equal(t_empties(&d), f->rx_n);
	t_flow_free(f, &d);
}

/* ---- bursts, waiting, death ----------------------------------------------------------- */

static void
test_bursts(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_BOUND, NULL, &d);
	struct as_msg m[40];
	static uint8_t data[40][300];
	struct t_udp s = {.smac = t_pmac, .src = T_PADDR, .sport = 9};
	struct rbuf_iorec r;
	unsigned n = 0;
	(void)state;

	for (int i = 0; i < 40; i++) {
		s.len = (uint32_t)(i * 7);
		s.seed = (uint32_t)i;
		assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
		m[i] = (struct as_msg){.buf = data[i], .len = 300};
	}
	assert_int_equal(as_recv_burst(f, m, 40), 40);
	for (int i = 0; i < 40; i++) {
		uint8_t want[300];

		t_pattern(want, (uint32_t)(i * 7), (uint32_t)i);
		assert_int_equal(m[i].len, i * 7);
		assert_memory_equal(m[i].buf, want, m[i].len);
		assert_int_equal(m[i].peer.port, 9);
	}
	/* Echo them back in one burst; 64 buffers, so all 40 go. */
	assert_int_equal(as_send_burst(f, m, 40), 40);
	while (t_take(&d, &r, got, sizeof(got))) {
		assert_memory_equal(got, t_pmac, 6);
		assert_int_equal(got[37], 9);
		t_give_back(&d, &r, 0);
		n++;
	}
	assert_int_equal(n, 40);
	/* Zero-copy bursts. */
	{
		struct as_txbuf tb[70];
		unsigned k = as_tx_alloc_burst(f, tb, 70);

		assert_int_equal(k, 64);
		for (unsigned i = 0; i < k; i++) {
			tb[i].len = 1;
			tb[i].data[0] = (uint8_t)i;
			tb[i].peer = (struct as_sap){T_PADDR, 9};
		}
		tb[10].peer.port = 0; /* stops the burst there */
		assert_int_equal(as_tx_send_burst(f, tb, k), 10);
		for (unsigned i = 10; i < k; i++)
			as_tx_free(f, &tb[i]);
	}
	t_flow_free(f, &d);
}

static void
test_flow_fd_wakes_on_a_frame(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct pollfd p = {.fd = as_flow_fd(f), .events = POLLIN};
	struct t_udp s = {.len = 5};
	(void)state;

	assert_int_equal(as_flow_arm(f, AS_EV_RX), 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(t_feed(&d, frame, t_build(frame, &s)), 0);
	assert_int_equal(poll(&p, 1, 1000), 1);
	assert_int_equal(as_flow_arm(f, AS_EV_RX), -EAGAIN);
	assert_int_equal(as_flow_wait(f, AS_EV_RX, 0), AS_EV_RX);
	assert_int_equal(as_recv(f, buf, sizeof(buf), -1), 5);
	/* The transmit side is ready: buffers and room. */
	assert_int_equal(as_flow_arm(f, AS_EV_TX), -EAGAIN);
	assert_int_equal(as_flow_wait(f, AS_EV_RX, 30), 0);
	{
		uint64_t t0 = as__now_ns();

		assert_int_equal(as_recv(f, buf, sizeof(buf), 50), -EAGAIN);
		assert_true(as__now_ns() - t0 >= 45 * 1000000ull);
	}
	t_flow_free(f, &d);
}

static void
test_dead_flow_refuses_everything(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct as_txbuf b;
	struct as_rxbuf rb;
	(void)state;

	assert_int_equal(as_flow_error(f), 0);
	as__flow_kill(f, -ENETUNREACH);
	assert_int_equal(as_flow_error(f), -ENETUNREACH);
	assert_int_equal(as_send(f, "x", 1, 0), -ECONNRESET);
	assert_int_equal(as_recv(f, buf, 1, -1), -ECONNRESET);
	assert_int_equal(as_tx_alloc(f, &b, -1), -ECONNRESET);
	assert_int_equal(as_rx_get(f, &rb, -1), -ECONNRESET);
	assert_int_equal(as_flow_arm(f, AS_EV_RX), -ECONNRESET);
	assert_int_equal(as_flow_wait(f, AS_EV_RX, -1), -ECONNRESET);
	t_flow_free(f, &d);
}

static void
test_peer_gone_kills_the_flow(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	(void)state;

	rbuf_chan_destroy(d.rx);
	rbuf_chan_destroy(d.tx);
	d.rx = d.tx = NULL;
	assert_int_equal(as_recv(f, buf, sizeof(buf), -1), -ECONNRESET);
	assert_int_equal(as_flow_error(f), -EPIPE);
	t_flow_free(f, &d);
}

/* ---- FIBs and configuration -------------------------------------------------------------- */

static void
test_fib_changes_the_next_hop_of_the_next_frame(void **state)
{
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_CONNECTED, NULL, &d);
	struct as__fib fib;
	struct rbuf_iorec r;
	struct as_flow_info info;
	(void)state;

	t_fib(&fib, AS_UDP_CONNECTED);
	memcpy(fib.nh_mac, t_pmac, 6);
	fib.generation = 2;
	fib.mtu = 576;
	assert_int_equal(as__flow_bind(f, &fib), 0);
	assert_int_equal(as_send(f, buf, 1000, 0), 1000);
	assert_int_equal(t_take(&d, &r, got, sizeof(got)), 14 + 572);
	assert_memory_equal(got, t_pmac, 6);
	as_flow_info(f, &info);
	assert_int_equal(info.generation, 2);
	assert_int_equal(info.mtu, 576);
	/* Another flow's FIB, or another kind, is refused. */
	fib.flow_id = 8;
	assert_int_equal(as__flow_bind(f, &fib), -EPROTO);
	t_fib(&fib, AS_UDP_BOUND);
	assert_int_equal(as__flow_bind(f, &fib), -EPROTO);
	t_flow_free(f, &d);
}

static void
test_fib_parse_refuses_nonsense(void **state)
{
	Sluice__Fm__Fib m;
	Sluice__Sap l, r;
	uint8_t lm[6] = {2, 0, 0, 0, 0, 1}, nm[6] = {2, 0, 0, 0, 0, 2}, grp[6] = {1, 0, 0, 0, 0, 2};
	struct as__fib fib;
	(void)state;

#define GOOD()                                                   \
	do {                                                     \
		sluice__fm__fib__init(&m);                       \
		sluice__sap__init(&l);                           \
		sluice__sap__init(&r);                           \
		m.flow_id = 3;                                   \
		m.proto = SLUICE__PROTO__PROTO_UDP;              \
		m.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED; \
		m.local_mac = (ProtobufCBinaryData){6, lm};      \
		m.nexthop_mac = (ProtobufCBinaryData){6, nm};    \
		l.addr = T_LADDR;                                \
		l.port = 7;                                      \
		r.addr = T_RADDR;                                \
		r.port = 9;                                      \
		m.local = &l;                                    \
		m.remote = &r;                                   \
		m.mtu = 1500;                                    \
		m.headroom = 42;                                 \
	} while (0)

	GOOD();
	assert_int_equal(as__fib_parse(&m, &fib), 0);
	assert_int_equal(fib.remote.port, 9);
	assert_int_equal(as__fib_parse(NULL, &fib), -EPROTO);
	GOOD();
	m.flow_id = 0;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.proto = SLUICE__PROTO__PROTO_TCP;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.kind = 7;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.local_mac.len = 5;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.nexthop_mac.data = grp;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.nexthop_mac.len = 0; /* connected without a next hop */
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.local = NULL;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	l.port = 70000;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	l.addr = 0xe0000001;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.remote = NULL;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.mtu = 67;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
	GOOD();
	m.headroom = AS_HEAD + 1;
	assert_int_equal(as__fib_parse(&m, &fib), -EPROTO);
#undef GOOD
}

static void
test_configuration_is_checked(void **state)
{
	struct as_flow_cfg c = {.kind = AS_UDP_CONNECTED}, out;
	(void)state;

	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL); /* no remote */
	c.remote = (struct as_sap){T_RADDR, 1};
	assert_int_equal(as__cfg_fill(&c, &out), 0);
	assert_int_equal(out.max_dgram, AS_DEF_MAX_DGRAM);
	assert_int_equal(out.rx_bufs, AS_DEF_RX_BUFS);
	c.kind = AS_UDP_BOUND;
	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL); /* a remote */
	c.remote = (struct as_sap){0, 0};
	c.rx_bufs = 100;
	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL);
	c.rx_bufs = 0;
	c.max_dgram = AS_MAX_DGRAM + 1;
	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL);
	c.max_dgram = 0;
	c.tx_bufs = 300;
	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL);
	c.tx_bufs = 0;
	c.kind = 0;
	assert_int_equal(as__cfg_fill(&c, &out), -EINVAL);
	assert_string_equal(as_stat_name(AS_STAT_RX_DGRAMS), "RX_DGRAMS");
	assert_string_equal(as_stat_name(AS_STAT_MAX), "?");
}

/* ---- hostile input --------------------------------------------------------------------- */

static uint32_t rng = 12345;

static uint32_t
rnd(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* Mutated frames and fragments: nothing crashes, nothing leaks. */
static void
test_mutated_frames_never_crash_or_leak(void **state)
{
	struct as_flow_cfg c = {.reass_slots = 3, .max_dgram = 6000};
	struct t_drv d;
	struct as_flow *f = t_flow(AS_UDP_BOUND, &c, &d);
	struct as_rxbuf rb[8];
	(void)state;

	for (int it = 0; it < 20000; it++) {
		struct t_udp s = {.len = rnd() % 5000, .id = (uint16_t)(rnd() % 4), .seed = rnd()};
		uint32_t len = t_build(frame, &s), fl;
		unsigned n = t_fragment(frame, len, 8 * (1 + rnd() % 185), frags, flens, 64);
		unsigned i = rnd() % n;

		memcpy(got, frags[i], flens[i]);
		fl = flens[i];
		switch (rnd() % 4) {
		case 0: /* flip some bits */
			for (int k = rnd() % 4; k >= 0; k--)
				got[rnd() % fl] ^= (uint8_t)(1 << (rnd() % 8));
			break;
		case 1: /* cut */
			fl = rnd() % (fl + 1);
			break;
		case 2: /* garbage after a valid IP header */
			for (uint32_t k = 34; k < fl; k += 1 + rnd() % 16)
				got[k] = (uint8_t)rnd();
			break;
		default: /* as built */
			break;
		}
		if (rnd() % 2)
			t_fix_ip(got);
		if (fl == 0)
			fl = 1;
		assert_int_equal(t_feed(&d, got, fl), 0);
		if (rnd() % 3 == 0) {
			unsigned k = as_rx_get_burst(f, rb, 8);

			as_rx_put_burst(f, rb, k);
		}
	}
	while (as_recv(f, buf, sizeof(buf), 0) != -EAGAIN)
		;
	assert_int_equal(t_empties(&d), f->rx_n);
	for (uint32_t i = 0; i < c.reass_slots; i++)
		assert_int_not_equal(f->reass[i].state, AS_BUF_APP);
	t_flow_free(f, &d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_send_writes_every_header_byte),
	    cmocka_unit_test(test_send_zero_payload_and_odd_sizes),
	    cmocka_unit_test(test_send_fragments_point_into_the_payload_buffer),
	    cmocka_unit_test(test_send_errors_leave_the_buffer_to_the_caller),
	    cmocka_unit_test(test_driver_refusals_and_bad_returns_are_counted),
	    cmocka_unit_test(test_bound_flow_answers_the_mac_it_heard),
	    cmocka_unit_test(test_recv_copies_and_zero_copy_give_buffers_back),
	    cmocka_unit_test(test_bad_frames_are_counted_and_dropped),
	    cmocka_unit_test(test_bad_receive_records_are_counted),
	    cmocka_unit_test(test_reassembly_in_any_order),
	    cmocka_unit_test(test_duplicate_and_overlapping_fragments),
	    cmocka_unit_test(test_bad_fragments_are_dropped),
	    cmocka_unit_test(test_reassembly_limits),
	    cmocka_unit_test(test_icmp_error_on_connected_flow_is_the_next_recv),
	    cmocka_unit_test(test_icmp_error_on_bound_flow_names_the_peer),
	    cmocka_unit_test(test_bursts),
	    cmocka_unit_test(test_flow_fd_wakes_on_a_frame),
	    cmocka_unit_test(test_dead_flow_refuses_everything),
	    cmocka_unit_test(test_peer_gone_kills_the_flow),
	    cmocka_unit_test(test_fib_changes_the_next_hop_of_the_next_frame),
	    cmocka_unit_test(test_fib_parse_refuses_nonsense),
	    cmocka_unit_test(test_configuration_is_checked),
	    cmocka_unit_test(test_mutated_frames_never_crash_or_leak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
