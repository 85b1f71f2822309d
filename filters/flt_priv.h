/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flt_priv.h -- module-internal: the table layout shared by table.c,
 * demux.c, frag.c and txcheck.c. Included only from filters/.
 *
 * struct flt_table, by who writes what:
 *
 *   +----------------------------+  set by flt_table_create(), read-only after
 *   | hash, qsbr, limits         |
 *   +----------------------------+  (w) the writer (control path)
 *   | n_flows                    |  read by anyone (atomic)
 *   +----------------------------+  (r) the receive thread only
 *   | frag memory, hold pool     |
 *   | rx: struct flt_stats       |  rx and frag counters; read by anyone
 *   +----------------------------+  (t) the transmit thread only
 *   | tx: struct flt_stats       |  tx counters; read by anyone
 *   +----------------------------+
 *
 * Counters have one writer each and are read concurrently by
 * flt_stats_get(), so they are written with relaxed atomic stores (a plain
 * add on x86, no lock prefix) and read with relaxed atomic loads.
 */
#ifndef SLUICE_FILTERS_FLT_PRIV_H
#define SLUICE_FILTERS_FLT_PRIV_H

#include <stdint.h>

#include "common/compiler.h"
#include "filters/flt.h"

struct rte_hash;
struct rte_rcu_qsbr;

/* Chunk of a burst processed at once: the most rte_hash looks up in bulk. */
#define FLT_CHUNK 64

/*
 * The flow hash key (see the picture in flt.h). Padding is always zero.
 * rte_hash_crc() reads keys 8 bytes at a time, hence the alignment.
 */
struct flt_key {
	uint32_t local_addr;
	uint32_t remote_addr;
	uint16_t local_port;
	uint16_t remote_port;
	uint8_t proto;
	uint8_t pad[3];
} __attribute__((aligned(8)));
_Static_assert(sizeof(struct flt_key) == 16, "flow keys are 16 bytes (rte_hash k16 compare)");

/* The value stored with a key: flow id in the low 32 bits, flags above. */
#define FLT_VAL_FLOW(v)	     ((uint32_t)(v))
#define FLT_VAL_FLAGS(v)     ((uint16_t)((v) >> 32))
#define FLT_VAL(flow, flags) ((uint64_t)(flags) << 32 | (flow))

/* Single-writer counter update, safe against concurrent relaxed readers. */
#define FLT_CTR_ADD(c, v) \
	__atomic_store_n(&(c), __atomic_load_n(&(c), __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)

/* One remembered first fragment (32 bytes, four to a bucket). */
struct flt_frag_ent {
	uint32_t src; /* network order, as in the header */
	uint32_t dst;
	uint16_t id;
	uint8_t proto;
	uint8_t action;	 /* FLT_ACT_FLOW or FLT_ACT_MANAGER; 0: slot empty */
	uint32_t flow;	 /* for FLT_ACT_FLOW */
	uint16_t fflags; /* the flow's FLT_FLOW_F_* */
	uint16_t pad;
	uint64_t expiry; /* now_ns after which the entry is dead */
};
_Static_assert(sizeof(struct flt_frag_ent) == 32, "fragment entries are 32 bytes");
#define FLT_FRAG_WAYS 4

enum flt_hold_state {
	FLT_HOLD_FREE = 0,
	FLT_HOLD_WAITING, /* its first fragment has not been seen */
	FLT_HOLD_READY,	  /* classified; waits for flt_frag_release_burst() */
	FLT_HOLD_LENT,	  /* handed out; freed at the next call */
};

/* One held early fragment; its bytes live at data. */
struct flt_hold_slot {
	uint32_t src;
	uint32_t dst;
	uint16_t id;
	uint8_t proto;
	uint8_t state; /* enum flt_hold_state */
	uint16_t len;
	uint16_t action; /* when READY: FLT_ACT_FLOW or FLT_ACT_MANAGER */
	uint32_t flow;
	uint64_t expiry;
	uint64_t seq; /* arrival order */
	uint8_t *data;
};

struct flt_table {
	/* Set at create, read-only after. */
	struct rte_hash *hash;
	struct rte_rcu_qsbr *qsbr;
	uint32_t max_flows;
	uint32_t flags;	    /* FLT_CFG_F_* */
	uint32_t frag_mask; /* number of fragment buckets - 1 */
	uint32_t hold_slots;
	uint32_t hold_slot_size;
	uint64_t frag_timeout_ns;
	uint64_t hold_timeout_ns;

	/* (w) the writer; read by anyone. */
	uint32_t n_flows;
	/* (w) connected flows per protocol (0 UDP, 1 TCP) and local port, the
	 * port as in the key (network order): [2 * 65536], apart from the
	 * table, since the receive thread never reads it. */
	uint32_t *conn_count;
	/*
	 * (w, read by the receive thread) bit set while conn_count is not zero.
	 * A packet whose local port has no connected flow skips the 5-tuple
	 * lookup and goes straight to the 3-tuple: one hash lookup, not two,
	 * for every packet of a bound or listening flow. Set before the key is
	 * added and cleared after the last one is deleted, so that a reader
	 * never skips a connected flow that is installed.
	 */
	uint64_t conn_bm[2][65536 / 64] SLUICE_CACHE_ALIGNED;

	/* (r) the receive thread. */
	struct {
		struct flt_frag_ent *frag; /* (frag_mask + 1) * FLT_FRAG_WAYS entries */
		struct flt_hold_slot *hold;
		uint8_t *hold_mem;
		uint32_t n_held; /* slots not FREE; read by anyone (atomic) */
		uint32_t n_waiting;
		uint32_t n_lent;
		uint64_t hold_seq;
		bool offline;
	} rd SLUICE_CACHE_ALIGNED;
	struct flt_stats rx SLUICE_CACHE_ALIGNED;

	/* (t) the transmit thread. */
	struct flt_stats tx SLUICE_CACHE_ALIGNED;
};

/* frag.c: fragment memory and the hold pool, owned by the receive thread. */
int flt__frag_init(struct flt_table *t);
void flt__frag_fini(struct flt_table *t);

/*
 * A first fragment was classified as v (FLT_ACT_FLOW or FLT_ACT_MANAGER):
 * remember it, and settle held fragments with the same key.
 */
void flt__frag_first(struct flt_table *t, const struct flt_key *k, uint16_t id,
    const struct flt_verdict *v, uint16_t fflags, uint64_t now_ns);

/* A later fragment: fill v from the remembered first fragment, or hold it. */
void flt__frag_later(struct flt_table *t, const struct flt_key *k, uint16_t id,
    const uint8_t *frame, uint16_t len, uint64_t now_ns, struct flt_verdict *v);

/* Free the slots lent by the previous flt_frag_release_burst(). */
void flt__frag_reclaim_lent(struct flt_table *t);

#endif /* SLUICE_FILTERS_FLT_PRIV_H */
