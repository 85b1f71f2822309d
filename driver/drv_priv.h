/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drv_priv.h -- the driver's data structures, shared by its .c files.
 */
#ifndef SLUICE_DRIVER_DRV_PRIV_H
#define SLUICE_DRIVER_DRV_PRIV_H

#include <rte_mbuf.h>

#include <rte_cycles.h>

#include "common/compiler.h"
#include "driver/drv.h"
#include "sched/sch.h"

/*
 * Empty receive buffers kept per flow between bursts: one refill per burst
 * for a flow that takes a whole burst (a get from the application's ring
 * costs a line miss per four records wherever it falls, plus the count's
 * store; 16 made drv_rx about 5% slower).
 */
#define DRV_RX_CACHE DRV_BURST

/* Largest frame linearised to classify (jumbo frames included). */
#define DRV_RX_LINEAR_MAX 9216

/* Largest frame accepted for transmission. */
#define DRV_TX_FRAME_MAX 9216

/* Records taken from a flow's transmit channel onto its stage at a time. */
#define DRV_TX_QUANTUM 8

/* Idle flows whose transmit channel is looked at per pass (see tx.c). */
#define DRV_TX_SCAN 256

/* How soon to try again when the scheduled frame found no mbuf. */
#define DRV_TX_RETRY_NS 20000

/*
 * One transmit record in flight: the application's iorec, held from
 * rbuf_get until its mbufs are freed. shinfo is the external-buffer
 * bookkeeping DPDK calls back through when the last segment is freed.
 */
struct drv_txd {
	struct rte_mbuf_ext_shared_info shinfo;
	struct drv *d;
	uint32_t flow;
	uint32_t next_free; /* free list link; UINT32_MAX ends it */
	uint32_t len;	    /* frame length: the sum of the record's pieces */
	struct rbuf_iorec rec;
};

struct drv_flow {
	enum drv_flow_state state;
	uint32_t id;
	struct flt_flow_spec rx_spec; /* as installed, to remove it */
	struct flt_tx_spec tx_spec;   /* as given, to read it back */
	struct flt_tx_template tmpl;
	uint64_t period_ns, slice_ns;
	bool extra;
	uint32_t owner_pid, owner_uid;
	char owner_comm[16];
	bool checked; /* transmit filter applies (not for the exception flow) */

	struct rbuf_chan *rx; /* driver = sender (RMM) */
	uint8_t *rx_data;     /* its data area, as mapped here */
	struct rbuf_chan *tx; /* driver = receiver (TMM) */

	/* Receive: empty buffers taken from the app, not yet filled. */
	struct rbuf_shm_piece rx_cache[DRV_RX_CACHE];
	uint32_t rx_cache_tag[DRV_RX_CACHE];
	unsigned rx_cache_n;

	/* Transmit: descriptors for records in flight, and finished ones. */
	struct drv_txd *txd; /* n_txd of them (the tx ring's size) */
	uint32_t n_txd;
	uint32_t txd_free; /* free list head */
	uint32_t *stage;   /* ring of txd indices taken, not yet sent, in order */
	uint32_t stage_head, stage_n;
	uint32_t *done; /* finished txd indices, to hand back */
	unsigned n_done;
	unsigned in_flight; /* records held by the driver (staged included) */
	bool on_done_list;
	bool in_sched; /* added to the scheduler */

	struct drv_flow_stats st;
};

struct drv {
	struct drv_cfg cfg;
	uint16_t port;
	struct rte_mempool *pool;
	struct rte_mempool *rx_pool; /* large receive mbufs (cfg.rx_mbuf_room), or NULL: pool */
	struct flt_table *flt;
	bool rx_intr;	/* the port can wake us on receive */
	bool tx_linear; /* the PMD sends only the first segment of a chain
			   (no MULTI_SEGS, e.g. net_af_xdp): copy frames whole */
	int rx_intr_fd; /* its event fd, or -1 */
	int epfd;	/* transmit channels' wait fds, the rx interrupt */

	struct drv_flow *flows; /* cfg.max_flows of them, by id */

	/* Flows with a transmit channel; idle ones are looked at in turn. */
	uint32_t *tx_list;
	unsigned n_tx;
	unsigned tx_next;

	/* The transmit scheduler, and when it next lets a frame go. */
	struct sch *sch;
	uint64_t link_bps;
	uint64_t tx_due_ns; /* UINT64_MAX: no flow has a frame staged */

	/* The clock: ns = (tsc - tsc0) * ns_mult / 2^32. */
	uint64_t tsc0;
	uint64_t ns_mult;

	/* The transmit channels to announce on before sleeping. */
	struct rbuf_chan **sleep_set;

	/* Flows with finished records to hand back. */
	uint32_t *done_list;
	unsigned n_done_flows;

	/* Frames built but not yet taken by the port. */
	struct rte_mbuf *tx_pend[DRV_BURST];
	unsigned n_tx_pend;

	/* Scratch: linear copies of chained received frames, and the headers
	 * of transmit records whose first piece is short. */
	uint8_t (*rx_linear)[DRV_RX_LINEAR_MAX];
	uint8_t tx_hdr[FLT_TX_HDR_MAX];

	struct drv_port_stats st;
	bool droplog;
	uint64_t droplog_budget; /* lines left in this second */
	uint64_t droplog_sec;
};

static inline uint64_t
drv__now_ns(const struct drv *d)
{
	return (uint64_t)(((unsigned __int128)(rte_rdtsc() - d->tsc0) * d->ns_mult) >> 32);
}

/* port.c */
int drv__port_start(struct drv *d);
void drv__port_stop(struct drv *d);

/* rx.c */
unsigned drv__rx_poll(struct drv *d);

/* tx.c */
unsigned drv__tx_poll(struct drv *d);
unsigned drv__tx_hand_back(struct drv *d);
int drv__tx_flow_init(struct drv_flow *f, uint32_t n_recs);
void drv__tx_flow_fini(struct drv_flow *f);
void drv__tx_flow_unstage(struct drv *d, struct drv_flow *f);

/* flow.c */
void drv__flow_release(struct drv *d, struct drv_flow *f);
void drv__droplog(struct drv *d, const char *what, uint32_t flow, unsigned reason);

#endif /* SLUICE_DRIVER_DRV_PRIV_H */
