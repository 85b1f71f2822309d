/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * as_test.h -- what the appstack tests share: a flow made without a flow
 * manager (its FIB handed in), the driver's side of its two channels played
 * by the test, and a frame builder whose output is right unless a test
 * breaks one field on purpose.
 */
#ifndef SLUICE_TESTS_APPSTACK_AS_TEST_H
#define SLUICE_TESTS_APPSTACK_AS_TEST_H

#include <stdbool.h>
#include <stdint.h>

#include "appstack/as_priv.h"
#include "rbuf/rbuf.h"

#define T_LADDR 0x0a000001u /* 10.0.0.1, us */
#define T_RADDR 0x0a000002u /* 10.0.0.2, the connected flow's peer */
#define T_PADDR 0x0a000003u /* 10.0.0.3, another peer */
#define T_LPORT 7000
#define T_RPORT 5000
#define T_FRAME 16384 /* largest frame a test builds */

extern const uint8_t t_lmac[6]; /* ours */
extern const uint8_t t_nmac[6]; /* the next hop's */
extern const uint8_t t_pmac[6]; /* another peer's */

/* The driver's ends of a flow's channels. */
struct t_drv {
	struct rbuf_chan *rx; /* sender of the receive channel */
	struct rbuf_chan *tx; /* receiver of the transmit channel */
};

/* A FIB as the flow manager would send it. */
void t_fib(struct as__fib *fib, enum as_flow_kind kind);

/* A flow of @kind (@over: other settings, may be NULL), bound to t_fib(),
 * with the driver's ends attached in @d. Fails the test if it cannot. */
struct as_flow *t_flow(enum as_flow_kind kind, const struct as_flow_cfg *over, struct t_drv *d);
void t_flow_free(struct as_flow *f, struct t_drv *d);

/* Attach the driver's ends to @f's channels (closing our copies). */
int t_drv_attach(struct as_flow *f, struct t_drv *d);

/* A UDP datagram in a frame; zero fields take the defaults noted. */
struct t_udp {
	uint32_t src, dst;     /* T_RADDR -> T_LADDR */
	uint16_t sport, dport; /* T_RPORT -> T_LPORT */
	uint16_t id;
	uint16_t frag_off;   /* host order, as on the wire */
	const uint8_t *smac; /* t_nmac */
	const uint8_t *dmac; /* t_lmac */
	uint32_t len;	     /* payload bytes, filled by t_pattern(seed) */
	uint32_t seed;
	bool no_csum; /* UDP checksum 0 */
};

void t_pattern(uint8_t *p, uint32_t len, uint32_t seed);
/* Build @s into @buf (T_FRAME bytes); returns the frame length. */
uint32_t t_build(uint8_t *buf, const struct t_udp *s);
/* Recompute the IPv4 header checksum of @frame. */
void t_fix_ip(uint8_t *frame);
/* Split @frame's datagram into fragments of @fp IP payload bytes (a
 * multiple of 8); returns how many, each in out[i] (T_FRAME) / lens[i]. */
unsigned t_fragment(const uint8_t *frame, uint32_t len, uint32_t fp, uint8_t (*out)[T_FRAME],
    uint32_t *lens, unsigned max);

/* The driver: put a received frame on the flow's receive channel (0, or -1
 * when the flow has no empty buffer). */
int t_feed(struct t_drv *d, const uint8_t *frame, uint32_t len);
/* The driver: take the next frame sent (gathered into @frame, @cap
 * bytes); returns its length, 0 if none; the record is left in @rec. */
uint32_t t_take(struct t_drv *d, struct rbuf_iorec *rec, uint8_t *frame, uint32_t cap);
/* The driver: hand a transmit record back (with @flags, e.g. refused). */
void t_give_back(struct t_drv *d, struct rbuf_iorec *rec, uint16_t flags);
/* Empty receive buffers the driver holds (gets them all, puts them back). */
unsigned t_empties(struct t_drv *d);

/* The Internet checksum, written the slow and obvious way. */
uint16_t t_csum(const void *buf, uint32_t len, uint32_t sum);
/* Whether the UDP checksum of the datagram at @ip (whole, unfragmented) is right. */
bool t_udp_csum_ok(const uint8_t *ip, uint32_t ip_len);

#endif /* SLUICE_TESTS_APPSTACK_AS_TEST_H */
