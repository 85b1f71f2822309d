/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbuf.h -- Rbuf channels: simplex packet channels in shared memory between
 * two protection domains that do not trust each other.
 *
 * The shared layout and the ownership of every field are in rbuf_shm.h; read
 * that first. This header is the API each side uses on its own handle.
 *
 * A channel has a sender side (the data producer P) and a receiver side (the
 * data consumer C). Each side holds a private `struct rbuf_chan`:
 *
 *              sender handle                     receiver handle
 *   rbuf_put_*  --> ring FULL  -------------------->  rbuf_get_*
 *   rbuf_get_*  <-- ring EMPTY <--------------------  rbuf_put_*
 *
 * so both sides use the same four calls: put on the ring it produces, get
 * from the ring it consumes. What the records mean depends on the mode:
 *
 *   Transmit Master Mode (RBUF_MODE_TMM): the sender owns the buffers. It
 *   writes a packet into a buffer of its choice and puts the iorec; the
 *   receiver gets it, uses the bytes, and puts the same iorec back, maybe
 *   with flags set (e.g. "refused").
 *
 *   Receive Master Mode (RBUF_MODE_RMM): the receiver owns the buffers. It
 *   puts iorecs describing empty buffers; the sender gets one, writes up to
 *   its length, and puts it back with the lengths it used.
 *
 * Every iorec that `rbuf_get_*` returns has been copied out of shared memory
 * and checked against this side's private copy of the geometry: piece count,
 * alignment, and every byte inside the data area. Records that fail are
 * dropped and counted in `struct rbuf_stats`; the calls never crash, spin or
 * block on what the peer wrote. The peer can still change the data bytes
 * while this side reads them: callers that must trust bytes copy them first.
 *
 * Threads: one thread per handle; the two handles of a channel may run
 * concurrently in different threads or processes. No call on the fast path
 * (put, get, avail, room) allocates, locks or makes a system call, except
 * the single wake-up write when the peer has announced it sleeps.
 *
 * Errors: constructors return NULL with errno set and a human-readable
 * reason in rbuf_errmsg(); int functions return 0 or -errno; _burst
 * functions return a count and never fail.
 */
#ifndef SLUICE_RBUF_H
#define SLUICE_RBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rbuf/rbuf_shm.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits of the geometry (see struct rbuf_chan_cfg). */
#define RBUF_MAX_PIECES	  15
#define RBUF_MIN_RECS	  2
#define RBUF_MAX_RECS	  65536
#define RBUF_MAX_ALIGN	  4096
#define RBUF_MAX_DATA	  (1ull << 32) /* offsets are 32-bit */
#define RBUF_DEFAULT_RECS 256
#define RBUF_DEFAULT_BUF  2048 /* default data area = n_recs * this */

/* iorec flags the library defines; the rest are the users'. */
#define RBUF_F_REFUSED 0x0001 /* handed back unsent, see the driver's counters */

/* Which end of the channel a handle is. */
enum rbuf_side {
	RBUF_SIDE_SENDER = 1,	/* the data producer: puts FULL, gets EMPTY */
	RBUF_SIDE_RECEIVER = 2, /* the data consumer: gets FULL, puts EMPTY */
};

/*
 * An I/O record as a caller sees it: a private copy, never in shared memory.
 * Only the first n_pieces pieces are copied to or from the ring.
 */
struct rbuf_iorec {
	uint16_t n_pieces; /* 1..max_pieces of the channel */
	uint16_t flags;	   /* RBUF_F_* and user flags; not checked */
	uint32_t tag;	   /* opaque to the library; not checked */
	struct rbuf_shm_piece piece[RBUF_MAX_PIECES];
};

/*
 * Channel geometry. Zero means "the default". Both sides must be given the
 * same values (the attaching side learns them out of band, e.g. from the
 * RPC that carried the fds) and the attach refuses a mismatch.
 */
struct rbuf_chan_cfg {
	enum rbuf_mode mode; /* required: RBUF_MODE_TMM or RBUF_MODE_RMM */
	uint32_t n_recs;     /* slots per ring, power of two; 256 */
	uint32_t max_pieces; /* 1, 3, 7 or 15; 1 */
	uint32_t align;	     /* piece offset alignment, power of two; 8 */
	uint64_t data_size;  /* bytes, at most 4 GiB; n_recs * 2048 */
	const char *name;    /* memfd name for /proc/PID/fd; "rbuf" */
};

/*
 * Descriptors that make up a channel, to pass to the peer with SCM_RIGHTS.
 * The wake descriptors are datagram sockets: each side gets only its own
 * ends (see rbuf_chan_fds()).
 */
struct rbuf_chan_fds {
	int ctrl; /* control area memfd (sealed) */
	int data; /* data area memfd (sealed) */
	int wait; /* readable when the ring this side consumes has work */
	int kick; /* written to wake the peer */
};

/* Errors found in what the peer wrote; one counter each. */
#define RBUF_ERR_TABLE(_)                                                \
	_(BAD_INDEX, "peer's event count is more than a ring away")      \
	_(BAD_NPIECES, "iorec piece count is zero or above the maximum") \
	_(BAD_ALIGN, "piece offset is not aligned")                      \
	_(BAD_RANGE, "piece lies outside the data area")                 \
	_(BAD_LEN, "piece length is zero")

enum rbuf_err {
#define RBUF_ERR_ENUM(name, desc) RBUF_ERR_##name,
	RBUF_ERR_TABLE(RBUF_ERR_ENUM)
#undef RBUF_ERR_ENUM
	    RBUF_ERR_MAX
};

/* Counters of one handle; kept privately, never in shared memory. */
struct rbuf_stats {
	uint64_t put;		    /* records put */
	uint64_t got;		    /* good records got */
	uint64_t dropped;	    /* bad records got, dropped */
	uint64_t kicks;		    /* wake-ups sent to the peer */
	uint64_t sleeps;	    /* times this side announced a sleep */
	uint64_t err[RBUF_ERR_MAX]; /* by cause */
};

struct rbuf_chan;

/*
 * rbuf_chan_create - create a channel and return the creator's handle.
 * @cfg:  geometry and mode (zeros are defaults).
 * @side: which end the creator is.
 *
 * Creates the control and data memfds, sizes them, seals them against
 * shrinking and growing (then seals the seals), maps them populated, writes
 * the header and zeroes the rings. Creates the two wake socket pairs.
 * Returns the handle, or NULL with errno: EINVAL (bad geometry), or the
 * error of the failed system call. Nothing is left behind on failure.
 */
struct rbuf_chan *rbuf_chan_create(const struct rbuf_chan_cfg *cfg, enum rbuf_side side);

/*
 * rbuf_chan_peer_fds - the descriptors to hand to the peer.
 *
 * Fills @fds with descriptors the channel owns (do not close them; they stay
 * valid until rbuf_chan_destroy() or rbuf_chan_peer_fds_close()). Only the
 * creator holds the peer's ends; returns -ENOENT on an attached handle or
 * after rbuf_chan_peer_fds_close().
 */
int rbuf_chan_peer_fds(const struct rbuf_chan *ch, struct rbuf_chan_fds *fds);

/*
 * rbuf_chan_peer_fds_close - close the creator's copies of the peer's ends,
 * once they have been sent, so that the peer's death is seen (the wait
 * descriptor then reports hang-up).
 */
void rbuf_chan_peer_fds_close(struct rbuf_chan *ch);

/*
 * rbuf_chan_fds_close - close the descriptors of @fds that are open (>= 0)
 * and set all four to -1: for a receiver of descriptors (the driver, the
 * flow manager) that took them from a message and is done with them.
 */
void rbuf_chan_fds_close(struct rbuf_chan_fds *fds);

/*
 * rbuf_chan_fds - this handle's own descriptors (owned by the handle), e.g.
 * to hand this side of the channel to another process, which attaches with
 * the same side. Always succeeds.
 */
void rbuf_chan_fds(const struct rbuf_chan *ch, struct rbuf_chan_fds *fds);

/*
 * rbuf_chan_attach - check and map a channel the peer created.
 * @expect: the geometry agreed out of band; zeros are defaults.
 * @side:   which end this handle is.
 * @fds:    descriptors received from the peer. They are duplicated, not
 *          taken: the caller closes its own.
 *
 * Refuses, with errno and a reason in rbuf_errmsg():
 *   EBADF   a descriptor is not open;
 *   EINVAL  a memfd is not a memfd, or its size is not the agreed size, or
 *           a wake descriptor is not a datagram socket;
 *   EPERM   a memfd lacks F_SEAL_SHRINK, F_SEAL_GROW or F_SEAL_SEAL;
 *   EPROTO  the control header disagrees with @expect (magic, version,
 *           mode, geometry).
 * Only then maps both areas, populated, with a guard page after each, and
 * keeps private copies of the geometry: the header is never read again.
 * The data area is mapped read-write for the sender, read-only for the
 * receiver.
 */
struct rbuf_chan *rbuf_chan_attach(
    const struct rbuf_chan_cfg *expect, enum rbuf_side side, const struct rbuf_chan_fds *fds);

/* Unmap and close everything the handle owns. NULL is ignored. */
void rbuf_chan_destroy(struct rbuf_chan *ch);

/* The reason for the last failed create or attach in this thread. */
const char *rbuf_errmsg(void);

/* ---- fast path ---------------------------------------------------------- */

/*
 * rbuf_put_burst - put up to @n records on the ring this side produces.
 * Returns how many were put (0 when the ring is full or the peer's count is
 * bad). Stops before the first record whose n_pieces is 0 or above the
 * channel's maximum. Publishes once, then wakes the peer if it sleeps.
 */
unsigned rbuf_put_burst(struct rbuf_chan *ch, const struct rbuf_iorec *recs, unsigned n);

/* rbuf_put_bulk - put all @n records or none. Returns @n or 0. */
unsigned rbuf_put_bulk(struct rbuf_chan *ch, const struct rbuf_iorec *recs, unsigned n);

/*
 * rbuf_get_burst - take up to @n records from the ring this side consumes.
 * Each is copied to @recs and checked; bad ones are dropped and counted and
 * do not use up @n. Returns how many good records are in @recs.
 */
unsigned rbuf_get_burst(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n);

/*
 * rbuf_get_bulk - take @n records or none.
 * Consumes nothing unless @n slots are ready; otherwise consumes exactly @n
 * slots, of which the good ones go to @recs. Returns the number of good
 * records: @n unless some of the @n were bad (and counted), 0 if not ready.
 */
unsigned rbuf_get_bulk(struct rbuf_chan *ch, struct rbuf_iorec *recs, unsigned n);

/* Slots ready to get (0 if the peer's count is bad; counted). */
unsigned rbuf_avail(struct rbuf_chan *ch);

/* Slots free to put (0 if the peer's count is bad; counted). */
unsigned rbuf_room(struct rbuf_chan *ch);

/*
 * rbuf_chan_republish - store this side's own counts into shared memory
 * again. The peer (or a bug) may have overwritten them; a side that
 * restarts or suspects corruption calls this so that an honest peer sees
 * the true state. Never reads what it stores.
 */
void rbuf_chan_republish(struct rbuf_chan *ch);

/* ---- blocking ----------------------------------------------------------- */

/*
 * rbuf_ec_prepare - announce that this side is about to sleep on the ring it
 * consumes. Returns true if the caller may now sleep (wait for the wait
 * descriptor to become readable), false if records are ready (do not sleep).
 * The peer sends one wake-up per announcement, after its next put.
 */
bool rbuf_ec_prepare(struct rbuf_chan *ch);

/*
 * rbuf_ec_prepare_set - rbuf_ec_prepare() over @n channels with one barrier
 * (one membarrier call) for all: what a process that sleeps on many
 * channels at once (the driver) uses. Returns true if the caller may
 * sleep, false as soon as one channel has records ready.
 */
bool rbuf_ec_prepare_set(struct rbuf_chan *const *chs, unsigned n);

/*
 * rbuf_ec_drain - clear pending wake-ups from the wait descriptor (after
 * epoll says it is readable). Never blocks. Returns 0, or -EPIPE if the peer
 * has closed its end (it died or detached).
 */
int rbuf_ec_drain(struct rbuf_chan *ch);

/*
 * rbuf_ec_await - block until records are ready on the ring this side
 * consumes, or @timeout_ms passes (-1: forever). Returns the number of
 * records ready (> 0), 0 on timeout, -EINTR, or -EPIPE if the peer is gone.
 */
int rbuf_ec_await(struct rbuf_chan *ch, int timeout_ms);

/* The descriptor to put in an epoll set (EPOLLIN); owned by the channel. */
int rbuf_chan_wait_fd(const struct rbuf_chan *ch);

/* ---- data and introspection --------------------------------------------- */

/* This side's mapping of the data area, and its size. */
uint8_t *rbuf_data(const struct rbuf_chan *ch);
uint64_t rbuf_data_size(const struct rbuf_chan *ch);

/* The geometry this handle enforces (its private copy, filled in). */
void rbuf_chan_geometry(const struct rbuf_chan *ch, struct rbuf_chan_cfg *cfg);

/* A snapshot of this handle's counters. */
void rbuf_chan_stats(const struct rbuf_chan *ch, struct rbuf_stats *st);

/* The description of an error counter, for tools and logs. */
const char *rbuf_err_name(enum rbuf_err e);
const char *rbuf_err_desc(enum rbuf_err e);

/*
 * Address of a piece got from rbuf_get_*: checked to lie inside the data
 * area, so base + off .. + len is always mapped.
 */
static inline uint8_t *
rbuf_piece_ptr(const struct rbuf_chan *ch, const struct rbuf_shm_piece *p)
{
	return rbuf_data(ch) + p->off;
}

/*
 * The raw control area, for tests that play a hostile peer. Applications
 * and daemons have no use for it.
 */
void *rbuf__ctrl_base(const struct rbuf_chan *ch, size_t *size);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_RBUF_H */
