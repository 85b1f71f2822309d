/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbuf_priv.h -- internals of the rbuf module; included only from rbuf/.
 */
#ifndef SLUICE_RBUF_PRIV_H
#define SLUICE_RBUF_PRIV_H

#include "common/compiler.h"
#include "rbuf/rbuf.h"

/*
 * This side's view of one ring. Everything but `shm` and `slots` is private
 * memory: the indices this side writes are kept here and only stored to the
 * shared ring, never read back from it.
 */
struct rbuf_ring_view {
	struct rbuf_shm_ring *shm; /* shared indices */
	uint8_t *slots;		   /* shared slots, n_recs * slot_size */
	uint32_t mine;		   /* the count this side writes (prod or cons) */
	uint32_t peer;		   /* last valid value of the peer's count */
	uint32_t woken_seq;	   /* producer: last sleep_seq it answered */
	uint32_t sleep_seq;	   /* consumer: last sleep_seq it announced */
	/*
	 * Consumer: the announcement of sleep_seq was followed by a full
	 * barrier and found the ring empty when `mine` was armed_cons. Until
	 * the producer answers it, it stands, and sleeping again needs
	 * neither a new one nor a barrier (an idle process that wakes on a
	 * timer would otherwise interrupt every CPU each time). The producer
	 * answers with a wake-up byte, sent after it published the records:
	 * while the byte is unread, the next sleep ends at once; once
	 * rbuf_ec_drain() has read it, `armed` is cleared and the next sleep
	 * announces afresh. Consuming anything (`mine` moves) also ends it.
	 */
	bool armed;
	uint32_t armed_cons;
};

struct rbuf_chan {
	/* Geometry: private copies, checked once, never re-read. */
	enum rbuf_mode mode;
	enum rbuf_side side;
	uint32_t n_recs;
	uint32_t mask;
	uint32_t max_pieces;
	uint32_t align;
	uint32_t slot_size;
	uint32_t slot_shift; /* log2(slot_size) */
	bool asym_fence;     /* this process is registered for membarrier */
	uint64_t data_size;
	size_t ctrl_size;

	struct rbuf_ring_view out; /* the ring this side produces */
	struct rbuf_ring_view in;  /* the ring this side consumes */

	uint8_t *data;	 /* data area mapping */
	uint8_t *ctrl;	 /* control area mapping */
	size_t data_map; /* bytes reserved, guard page included */
	size_t ctrl_map;

	int ctrl_fd;
	int data_fd;
	int wait_fd;	  /* this side's end: peer kicks it */
	int kick_fd;	  /* this side's end: wakes the peer */
	int peer_wait_fd; /* creator only: the peer's ends, until sent */
	int peer_kick_fd;

	struct rbuf_stats st;
};

/* validate.c */
int rbuf__check_geometry(const struct rbuf_chan_cfg *in, struct rbuf_chan_cfg *out);

/*
 * Check one piece copied out of shared memory: aligned, not empty, inside
 * the data area (in 64 bits, so off + len cannot wrap). Returns 0 or the
 * RBUF_ERR_* + 1 of the problem. Inline: it runs once per record.
 */
static inline int
rbuf__check_piece(const struct rbuf_chan *ch, const struct rbuf_shm_piece *p)
{
	if (likely(!(p->off & (ch->align - 1)) && p->len != 0 &&
		   (uint64_t)p->off + p->len <= ch->data_size))
		return 0;
	if (p->off & (ch->align - 1))
		return RBUF_ERR_BAD_ALIGN + 1;
	if (p->len == 0)
		return RBUF_ERR_BAD_LEN + 1;
	return RBUF_ERR_BAD_RANGE + 1;
}

/* ec.c */
void rbuf__kick_if_sleeping(struct rbuf_chan *ch);
bool rbuf__membarrier_register(void);

/* chan.c */
void rbuf__set_errmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SLUICE_RBUF_PRIV_H */
