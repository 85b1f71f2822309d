/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drv.h -- the thin multiplexing driver, internal to the daemon.
 *
 * One thread moves packets between one DPDK port and the applications' Rbuf
 * channels (DESIGN.md sections 1 and 3):
 *
 *   port rx --> flt_demux_burst --> flow's rx channel (RMM: app's buffers)
 *                     |                  no empty buffer: drop, count on flow
 *                     +--> no flow --> exception channel (the flow manager's)
 *
 *   flow's tx channel (TMM) --> flow's stage (records taken, lengths known)
 *     --> scheduler (sched/: slice per period, slack; paced to the link)
 *     picks the flow --> copy headers, flt_txcheck --> mbuf chain:
 *     [driver-private header copy][external buffer: payload in the app's
 *     data area] --> port tx; the record goes back to the app when the
 *     port frees the mbuf (refused records go back at once, flagged).
 *
 * Everything runs in the loop thread, the control requests included
 * (drv_flow_add() and friends are called between bursts), so flow tables
 * need no locks: a flow added while traffic runs is seen by the next burst.
 *
 * Ownership: the driver owns its handles of every channel (it attached
 * them) and the mbufs. A flow's tx records are the application's: the
 * driver holds each from rbuf_get until it puts it back. A flow that is
 * removed while some of its frames are still in the port keeps its data
 * area mapped (state DRV_FLOW_DYING) until the last one is freed.
 */
#ifndef SLUICE_DRIVER_DRV_H
#define SLUICE_DRIVER_DRV_H

#include <stdbool.h>
#include <stdint.h>

#include "filters/flt.h"
#include "rbuf/rbuf.h"

#define DRV_BURST     32
#define DRV_FLOW_EXC  0 /* flow index of the exception channel (flow manager) */
#define DRV_MAX_FLOWS 65536

/* Per-flow counters: X(name, description). */
#define DRV_FLOW_COUNTERS(X)                                                             \
	X(RX_PKTS, "packets delivered to the application")                               \
	X(RX_BYTES, "bytes delivered to the application")                                \
	X(RX_NO_BUF, "dropped on arrival: the application had no empty buffer posted")   \
	X(RX_TOO_BIG, "dropped on arrival: packet larger than the buffer posted")        \
	X(RX_RING_FULL,                                                                  \
	    "dropped on arrival: receive ring full (more buffers posted than it holds)") \
	X(TX_PKTS, "frames sent")                                                        \
	X(TX_BYTES, "bytes sent")                                                        \
	X(TX_REFUSED, "frames refused by the transmit check (by reason: tx_refuse)")     \
	X(TX_BAD_LEN, "frames refused: shorter than an Ethernet header or longer than "  \
		      "DRV_TX_FRAME_MAX")                                                \
	X(TX_NO_MBUF, "times the scheduled frame waited: no mbuf was free")              \
	X(TX_RETURN_FULL, "records that could not be handed back: return ring full")

enum drv_ctr {
#define DRV_X_(name, desc) DRV_C_##name,
	DRV_FLOW_COUNTERS(DRV_X_)
#undef DRV_X_
	    DRV_C__COUNT
};

struct drv_flow_stats {
	uint64_t c[DRV_C__COUNT];
	uint64_t tx_refuse[FLT_TX__COUNT];
	/* From the transmit scheduler (sched/sch.h struct sch_flow_stats). */
	uint64_t tx_wire_ns;  /* wire time the flow's frames took */
	uint64_t tx_slack_ns; /* of which in slack, beyond its slice */
	uint64_t tx_wait_ns;  /* time it had a frame ready while others sent */
	uint64_t tx_periods;  /* its periods that passed while it had work */
	uint64_t tx_missed;   /* ... and ended with slice left (should stay 0) */
};

/* Port counters of our own, beside rte_eth_stats. */
struct drv_port_stats {
	uint64_t rx_bursts;
	uint64_t rx_pkts;
	uint64_t rx_linearized; /* multi-segment frames copied to check them */
	uint64_t rx_dropped;	/* by the demux (see flt_stats) */
	uint64_t rx_late;	/* verdict named a flow removed meanwhile */
	uint64_t rx_recut;	/* datagrams larger than a flow's buffer, given as fragments */
	uint64_t tx_pkts;
	uint64_t tx_port_full; /* times the port took fewer than offered */
	uint64_t tx_paced;     /* times the scheduler said "not yet" with work queued */
	uint64_t sleeps;
	uint64_t wakeups;
};

enum drv_flow_state {
	DRV_FLOW_FREE = 0,
	DRV_FLOW_ACTIVE,
	DRV_FLOW_DYING, /* removed; frames still in the port */
};

/* What the flow manager gives for a flow (control path). */
struct drv_flow_cfg {
	uint32_t id;			/* 1..DRV_MAX_FLOWS-1; the exception channel is 0 */
	struct flt_flow_spec rx_spec;	/* receive filter; ignored for id 0 */
	struct flt_tx_spec tx_spec;	/* transmit filter; ignored for id 0 */
	struct rbuf_chan_cfg rx_geom;	/* RMM, the driver is the sender */
	struct rbuf_chan_cfg tx_geom;	/* TMM, the driver is the receiver */
	const struct rbuf_chan_fds *rx; /* NULL: no receive channel */
	const struct rbuf_chan_fds *tx; /* NULL: no transmit channel */
	/* Transmit guarantee (sched/sch.h struct sch_qos): slice_ns of wire
	 * time every period_ns, extra = may use slack. All zero: best effort
	 * (extra, no slice). Admission is checked again here: -ENOSPC. */
	uint64_t period_ns, slice_ns;
	bool extra;
	/* Whose flow it is, for the operator and for a flow manager that
	 * restarts and reads the flow table back. */
	uint32_t owner_pid, owner_uid;
	char owner_comm[16];
};

/* A flow as installed, read back by drv_flow_info(). */
struct drv_flow_info {
	uint32_t id;
	enum drv_flow_state state;
	struct flt_flow_spec rx_spec;
	struct flt_tx_spec tx_spec;
	bool has_rx, has_tx;
	struct rbuf_chan_cfg rx_geom, tx_geom;
	uint64_t period_ns, slice_ns;
	bool extra;
	uint32_t owner_pid, owner_uid;
	char owner_comm[16];
};

struct drv;

/* Driver configuration; zero picks the default in brackets. */
struct drv_cfg {
	uint16_t port_id;	/* an ethdev already probed by EAL */
	uint16_t n_rxd;		/* rx descriptors [1024] */
	uint16_t n_txd;		/* tx descriptors [1024] */
	uint32_t n_mbufs;	/* mbuf pool size [16383] */
	uint32_t rx_mbuf_room;	/* data room (headroom included) of receive mbufs, up to
				   65535 [RTE_MBUF_DEFAULT_BUF_SIZE]: more for a port that
				   hands over larger frames whole (net_af_packet's framesz) */
	uint32_t max_flows;	/* flow ids 0..max_flows-1 [1024] */
	uint32_t idle_spins;	/* empty polls before sleeping [256] */
	uint32_t idle_sleep_ms; /* longest sleep when the port has no rx interrupt [1] */
	uint32_t busy_poll_us;	/* after work, keep polling this long before sleeping [0]:
				   trades a core for latency on ports without an rx
				   interrupt (net_af_packet), as Linux's busy_poll */
	uint64_t link_bps;	/* rate the scheduler paces to [the port's, or 10 Gbit/s] */
	uint64_t max_period_ns; /* longest period a flow may ask for [1 s] */
	const char *name;	/* prefix for DPDK object names ["drv"] */
};

/*
 * Set up the port (one rx and one tx queue), the mbuf pool and the filter
 * table; start the port. Needs EAL. Returns NULL with errno.
 */
struct drv *drv_create(const struct drv_cfg *cfg);

/* Stop the port, remove every flow, free everything. */
void drv_destroy(struct drv *d);

/*
 * Add a flow: attach its channels (every check of rbuf_chan_attach()),
 * install its receive filter and compile its transmit filter. Returns 0 or
 * -errno: EINVAL (bad id or spec), EBUSY (the id is in use or dying),
 * EEXIST (the filter clashes), or the attach's error (message in
 * drv_errmsg()). Nothing is left behind on failure.
 */
int drv_flow_add(struct drv *d, const struct drv_flow_cfg *fc);

/* Remove a flow (see DRV_FLOW_DYING). Returns 0, -ENOENT. */
int drv_flow_remove(struct drv *d, uint32_t id);

/* Replace a flow's transmit filter (e.g. a new next-hop MAC). */
int drv_flow_set_tx(struct drv *d, uint32_t id, const struct flt_tx_spec *spec);

/*
 * Change a flow's guarantee; it takes effect at the flow's next period.
 * Returns 0, -ENOENT, -EINVAL (bad guarantee), -ENOSPC (does not fit).
 */
int drv_flow_set_qos(struct drv *d, uint32_t id, uint64_t period_ns, uint64_t slice_ns, bool extra);

/* Read a flow back as installed. Returns 0, -ENOENT. */
int drv_flow_info(const struct drv *d, uint32_t id, struct drv_flow_info *fi);

/*
 * The driver's ends of a flow's channels, as AddFlow gave them: what a
 * restarted flow manager needs to install the flow again after a driver
 * restart. The descriptors stay the driver's (send copies, never close
 * them); a channel the flow lacks reads as all -1. Returns 0, -ENOENT.
 */
int drv_flow_chan_fds(
    const struct drv *d, uint32_t id, struct rbuf_chan_fds *rx, struct rbuf_chan_fds *tx);

/* The port this driver serves. */
uint16_t drv_port(const struct drv *d);

/* The rate the transmit scheduler paces the port to, in bit/s. */
uint64_t drv_link_bps(const struct drv *d);

/*
 * The exception channel (the flow manager's ARP, ICMP and RST frames) holds
 * a small guarantee of its own, so that a link whose guarantees are all
 * taken and all in use still carries them: DRV_EXC_SLICE_NS every
 * DRV_EXC_PERIOD_NS (1%), plus slack. The flow manager admits flows
 * against what is left (drv_reserved_ppm).
 */
#define DRV_EXC_PERIOD_NS 10000000ull /* 10 ms */
#define DRV_EXC_SLICE_NS  100000ull   /* 100 us */

/* Share of the link reserved by the driver itself, parts per million. */
uint32_t drv_reserved_ppm(const struct drv *d);

/* Copy out a flow's counters (and its channels' rbuf counters). */
int drv_flow_stats(const struct drv *d, uint32_t id, struct drv_flow_stats *st,
    struct rbuf_stats *rx_chan, struct rbuf_stats *tx_chan);

void drv_port_stats(const struct drv *d, struct drv_port_stats *st);
const struct flt_table *drv_filters(const struct drv *d);

/* Number of flows in each state. */
unsigned drv_flow_count(const struct drv *d, enum drv_flow_state st);

/* The reason for the last failed drv_flow_add() in this thread. */
const char *drv_errmsg(void);

/* ---- the loop ---------------------------------------------------------- */

/* One pass: receive, transmit, hand back. Returns the work done (0: idle). */
unsigned drv_poll(struct drv *d);

/*
 * When the transmit scheduler next lets a frame go, in ns of the driver's
 * clock (drv_now_ns), or UINT64_MAX when no flow has a frame waiting. A
 * caller that sleeps must wake up by then: the link is paced, not idle.
 */
uint64_t drv_tx_due_ns(const struct drv *d);

/* The driver's clock: ns since drv_create(), from the TSC. */
uint64_t drv_now_ns(const struct drv *d);

/*
 * Sleep until a transmit channel has work, the port's receive interrupt
 * fires, a descriptor the caller added to drv_epoll_fd() is readable (its
 * epoll data must be >= max_flows, e.g. UINT32_MAX - 1), the scheduler's
 * next frame is due (drv_tx_due_ns), or @max_ms pass (-1: no limit).
 * Ports without a receive interrupt sleep at most idle_sleep_ms. Returns
 * the number of events, 0, or -errno.
 */
int drv_sleep(struct drv *d, int max_ms);

/* The epoll set drv_sleep() waits on, for the caller's own descriptors. */
int drv_epoll_fd(const struct drv *d);

/*
 * Run drv_poll() until *stop, sleeping when idle. @ctl (may be NULL) is
 * called every 1024 busy passes and around every sleep: the control
 * socket's turn.
 */
void drv_run(struct drv *d, volatile int *stop, void (*ctl)(void *), void *arg);

/* Switch the drop log (one line per dropped packet, rate-limited) on/off. */
void drv_droplog(struct drv *d, bool on);

#endif /* SLUICE_DRIVER_DRV_H */
