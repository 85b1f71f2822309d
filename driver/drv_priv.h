/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drv_priv.h -- the driver's data structures, shared by its .c files.
 */
#ifndef SLUICE_DRIVER_DRV_PRIV_H
#define SLUICE_DRIVER_DRV_PRIV_H

#include <rte_mbuf.h>

#include "common/compiler.h"
#include "driver/drv.h"

/* Empty receive buffers kept per flow between bursts. */
#define DRV_RX_CACHE 16

/* Largest frame linearised to classify (jumbo frames included). */
#define DRV_RX_LINEAR_MAX 9216

/* Largest frame accepted for transmission. */
#define DRV_TX_FRAME_MAX 9216

/* Records taken from one flow per round-robin turn. */
#define DRV_TX_QUANTUM 8

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
	struct drv_txd *txd; /* tx ring size of them */
	uint32_t txd_free;   /* free list head */
	uint32_t *done;	     /* finished txd indices, to hand back */
	unsigned n_done;
	unsigned in_flight; /* records held by the driver */
	bool on_done_list;
	bool on_tx_list;

	struct drv_flow_stats st;
};

struct drv {
	struct drv_cfg cfg;
	uint16_t port;
	struct rte_mempool *pool;
	struct flt_table *flt;
	bool rx_intr;	/* the port can wake us on receive */
	int rx_intr_fd; /* its event fd, or -1 */
	int epfd;	/* transmit channels' wait fds, the rx interrupt */

	struct drv_flow *flows; /* cfg.max_flows of them, by id */

	/* Flows with a transmit channel, served round-robin. */
	uint32_t *tx_list;
	unsigned n_tx;
	unsigned tx_next;

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

/* flow.c */
void drv__flow_release(struct drv *d, struct drv_flow *f);
void drv__droplog(struct drv *d, const char *what, uint32_t flow, unsigned reason);

#endif /* SLUICE_DRIVER_DRV_PRIV_H */
