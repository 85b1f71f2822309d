/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Test helpers: a channel created by one side and attached by the other in
 * the same process, through the same fd hand-over a real peer would use.
 */
#ifndef SLUICE_TESTS_RBUF_CHAN_PAIR_H
#define SLUICE_TESTS_RBUF_CHAN_PAIR_H

#include <stdint.h>
#include <string.h>

#include "common/compiler.h"
#include "rbuf/rbuf.h"

struct chan_pair {
	struct rbuf_chan *creator;
	struct rbuf_chan *peer;
	struct rbuf_chan *snd; /* whichever of the two is the sender */
	struct rbuf_chan *rcv;
};

/* Create with @cfg on side @creator_side, attach the other side. */
static inline int
chan_pair_open(struct chan_pair *p, const struct rbuf_chan_cfg *cfg, enum rbuf_side creator_side)
{
	enum rbuf_side other =
	    creator_side == RBUF_SIDE_SENDER ? RBUF_SIDE_RECEIVER : RBUF_SIDE_SENDER;
	struct rbuf_chan_fds fds;

	memset(p, 0, sizeof(*p));
	p->creator = rbuf_chan_create(cfg, creator_side);
	if (!p->creator)
		return -1;
	if (rbuf_chan_peer_fds(p->creator, &fds) < 0)
		return -1;
	p->peer = rbuf_chan_attach(cfg, other, &fds);
	if (!p->peer)
		return -1;
	/* The peer holds its own duplicates now, as after an SCM_RIGHTS send. */
	rbuf_chan_peer_fds_close(p->creator);
	p->snd = creator_side == RBUF_SIDE_SENDER ? p->creator : p->peer;
	p->rcv = creator_side == RBUF_SIDE_SENDER ? p->peer : p->creator;
	return 0;
}

static inline void
chan_pair_close(struct chan_pair *p)
{
	rbuf_chan_destroy(p->peer);
	rbuf_chan_destroy(p->creator);
	p->peer = p->creator = p->snd = p->rcv = NULL;
}

/* A one-piece record. */
static inline struct rbuf_iorec
rec1(uint32_t off, uint32_t len, uint32_t tag)
{
	struct rbuf_iorec r = {.n_pieces = 1, .tag = tag};

	r.piece[0].off = off;
	r.piece[0].len = len;
	return r;
}

/* A small, fast, seeded generator (xorshift64*), same sequence everywhere. */
static inline uint64_t
rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif /* SLUICE_TESTS_RBUF_CHAN_PAIR_H */
