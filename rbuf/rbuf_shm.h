/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbuf_shm.h -- the shared-memory layout of an Rbuf channel (version 1).
 *
 * This header is the contract between two protection domains that do not
 * trust each other: an application and the driver (or two test processes).
 * Everything here lives in memory both sides can write, so neither side ever
 * trusts a value it reads from it: see "Who writes what" below.
 *
 * A simplex channel moves packets from a data producer P to a data consumer C.
 * It is made of three shared regions, each its own sealed memfd:
 *
 *   data area      packet bytes, addressed by (offset, length) pieces.
 *                  Written by whoever fills a buffer (P), read by C.
 *
 *   control area   one header and two rings of iorecs:
 *
 *     +-------------------------+  offset 0
 *     | struct rbuf_shm_hdr     |  geometry, written once by the creator
 *     +-------------------------+  RBUF_SHM_RING_OFF(0)
 *     | ring FULL  (P -> C)     |  records that hold data
 *     |   prod line  (P writes) |  + one line of padding
 *     |   cons line  (C writes) |
 *     |   sleep line (C writes) |
 *     |   n_recs slots          |
 *     +-------------------------+  RBUF_SHM_RING_OFF(1)
 *     | ring EMPTY (C -> P)     |  records whose data has been used
 *     |   prod line  (C writes) |  + one line of padding
 *     |   cons line  (P writes) |
 *     |   sleep line (P writes) |
 *     |   n_recs slots          |
 *     +-------------------------+  rbuf_shm_ctrl_size()
 *
 * Modes (as in Nemesis): in Transmit Master Mode P owns the buffers: it
 * fills one, passes it on FULL, and gets it back on EMPTY once C (the driver)
 * has sent it. In Receive Master Mode C owns the buffers: it passes empty ones
 * on EMPTY, P (the driver) fills them and passes them back on FULL. The
 * layout is the same; the mode says who creates the channel and who chooses
 * the offsets. Ring sizes are fixed, and the master never has more buffers
 * outstanding than a ring holds, so an honest producer never finds a ring
 * full.
 *
 * Event counts: each ring has a producer count `prod` and a consumer count
 * `cons`. They run freely (wrapping at 2^32) and are masked with n_recs - 1
 * to index the slots. Records [cons, prod) are ready for the consumer; the
 * producer may fill n_recs - (prod - cons) more. Each count sits alone on
 * its own cache line, so the two sides never write the same line.
 *
 * Sleeping: a consumer that finds its ring empty and wants to block bumps
 * its ring's `sleep_seq` (alone on the line after `cons`), re-reads
 * `prod`, and only then waits on its wake socket. A producer, after
 * publishing `prod`, reads `sleep_seq` and sends one wake-up per new value.
 * Each side's store must be ordered before its load by a full barrier, so
 * that at least one of them sees the other: no wake-up is lost, and no
 * system call is made while the consumer is awake. The producer's barrier
 * is made by the consumer, with membarrier(2), when the system has it
 * (rbuf/ec.c explains why).
 *
 * Who writes what (marked on every field below):
 *   (c)  the creator, once, before handing the fds over; read-only after.
 *   (p)  the producer of this ring.
 *   (k)  the consumer of this ring.
 * A side never reads back a field it writes (it keeps a private copy) and
 * checks every field the other side writes before use: counts against the
 * ring size, iorecs against the geometry it agreed to. The attaching side
 * checks the header once against the geometry it was told out of band (the
 * RPC) and never reads it again.
 */
#ifndef SLUICE_RBUF_SHM_H
#define SLUICE_RBUF_SHM_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define RBUF_SHM_MAGIC	       0x46425253u /* "SRBF", little endian */
#define RBUF_SHM_VERSION_MAJOR 2	   /* a layout change */
#define RBUF_SHM_VERSION_MINOR 0	   /* a compatible addition */
#define RBUF_SHM_LINE	       64

/* The two rings of a channel, indexed as in the control area. */
enum rbuf_ring_id {
	RBUF_RING_FULL = 0,  /* P -> C: buffers holding data */
	RBUF_RING_EMPTY = 1, /* C -> P: buffers to (re)fill */
};

/* Channel modes: who owns the buffers. */
enum rbuf_mode {
	RBUF_MODE_TMM = 1, /* Transmit Master Mode: P chooses the buffers */
	RBUF_MODE_RMM = 2, /* Receive Master Mode: C chooses the buffers */
};

/*
 * One piece of a packet: a byte range of the data area. Offsets, never
 * pointers: each side maps the area at its own address.
 */
struct rbuf_shm_piece {
	uint32_t off; /* from the start of the data area */
	uint32_t len; /* bytes */
};

/*
 * The header of a slot. A slot is this header followed by max_pieces pieces,
 * so its size is 8 * (max_pieces + 1) bytes: 16, 32, 64 or 128.
 */
struct rbuf_shm_iorec_hdr {
	uint16_t n_pieces; /* (p) 1..max_pieces */
	uint16_t flags;	   /* (p) RBUF_F_*; opaque to the library */
	uint32_t tag;	   /* (p) opaque to the library, e.g. a buffer id */
};

/* The header of the control area. 64 bytes. */
struct rbuf_shm_hdr {
	uint32_t magic;		/* (c) RBUF_SHM_MAGIC */
	uint16_t version_major; /* (c) RBUF_SHM_VERSION_MAJOR */
	uint16_t version_minor; /* (c) RBUF_SHM_VERSION_MINOR */
	uint32_t mode;		/* (c) enum rbuf_mode */
	uint32_t n_recs;	/* (c) slots per ring, a power of two */
	uint32_t max_pieces;	/* (c) 1, 3, 7 or 15 */
	uint32_t align;		/* (c) required piece offset alignment */
	uint64_t data_size;	/* (c) bytes in the data area */
	uint64_t ctrl_size;	/* (c) bytes in this control area */
	uint8_t reserved[24];	/* (c) zero */
};

/*
 * The indices of one ring. The slots follow at RBUF_SHM_SLOTS_OFF.
 * prod and cons are two cache lines apart, and the slots start two lines
 * after cons: only the producer writes the first line, only the consumer the
 * third and fourth, and the adjacent-line prefetcher of x86 cores (which
 * fetches lines in 128-byte pairs) does not make them share a pair.
 * sleep_seq has the fourth line to itself: the producer reads it after
 * every put, and on cons's line (as in version 1) every get by a busy
 * consumer took that line away, a miss per put (drv_rx: 12.8 -> 13.9 Mpps).
 */
struct rbuf_shm_ring {
	alignas(RBUF_SHM_LINE) _Atomic uint32_t prod; /* (p) event count */
	uint8_t pad_prod[2 * RBUF_SHM_LINE - sizeof(uint32_t)];
	alignas(RBUF_SHM_LINE) _Atomic uint32_t cons; /* (k) event count */
	uint8_t pad_cons[RBUF_SHM_LINE - sizeof(uint32_t)];
	alignas(RBUF_SHM_LINE) _Atomic uint32_t sleep_seq; /* (k) bumped before it sleeps */
	uint8_t pad_sleep[RBUF_SHM_LINE - sizeof(uint32_t)];
};

#define RBUF_SHM_SLOTS_OFF sizeof(struct rbuf_shm_ring)

/* The other side relies on every one of these. */
_Static_assert(sizeof(struct rbuf_shm_piece) == 8, "piece is two u32");
_Static_assert(sizeof(struct rbuf_shm_iorec_hdr) == 8, "iorec header is 8 bytes");
_Static_assert(sizeof(struct rbuf_shm_hdr) == RBUF_SHM_LINE, "header is one line");
_Static_assert(offsetof(struct rbuf_shm_hdr, data_size) == 24, "hdr layout");
_Static_assert(offsetof(struct rbuf_shm_ring, prod) == 0, "prod on line 0");
_Static_assert(offsetof(struct rbuf_shm_ring, cons) == 2 * RBUF_SHM_LINE, "cons on line 2");
_Static_assert(
    offsetof(struct rbuf_shm_ring, sleep_seq) == 3 * RBUF_SHM_LINE, "sleep_seq on line 3");
_Static_assert(sizeof(struct rbuf_shm_ring) == 4 * RBUF_SHM_LINE, "ring indices take 4 lines");
_Static_assert(sizeof(_Atomic uint32_t) == 4, "atomic u32 is plain u32 in memory");

/* Size of one slot for a given max_pieces. */
static inline size_t
rbuf_shm_slot_size(uint32_t max_pieces)
{
	return sizeof(struct rbuf_shm_iorec_hdr) +
	       (size_t)max_pieces * sizeof(struct rbuf_shm_piece);
}

/* Bytes taken by one ring: its indices and its slots, rounded to a line. */
static inline size_t
rbuf_shm_ring_size(uint32_t n_recs, uint32_t max_pieces)
{
	size_t sz = RBUF_SHM_SLOTS_OFF + (size_t)n_recs * rbuf_shm_slot_size(max_pieces);
	return (sz + RBUF_SHM_LINE - 1) & ~(size_t)(RBUF_SHM_LINE - 1);
}

/* Offset of ring `id` in the control area. */
static inline size_t
rbuf_shm_ring_off(uint32_t n_recs, uint32_t max_pieces, enum rbuf_ring_id id)
{
	return sizeof(struct rbuf_shm_hdr) + (size_t)id * rbuf_shm_ring_size(n_recs, max_pieces);
}

/* Exact size of the control area; the attaching side requires it. */
static inline size_t
rbuf_shm_ctrl_size(uint32_t n_recs, uint32_t max_pieces)
{
	return sizeof(struct rbuf_shm_hdr) + 2 * rbuf_shm_ring_size(n_recs, max_pieces);
}

#endif /* SLUICE_RBUF_SHM_H */
