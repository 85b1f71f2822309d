/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_priv.h -- the flow manager daemon's data structures (see fm.h for the
 * model). Everything here is touched by the loop thread only.
 */
#ifndef SLUICE_FLOWMGR_FM_PRIV_H
#define SLUICE_FLOWMGR_FM_PRIV_H

#include <stdio.h>
#include <sys/socket.h>

#include "flowmgr/fm.h"
#include "flowmgr/fm_arp.h"
#include "flowmgr/fm_pkt.h"
#include "flowmgr/fm_ports.h"
#include "flowmgr/fm_route.h"
#include "proto/admin.pb-c.h"
#include "proto/driver.pb-c.h"
#include "proto/flowmgr.pb-c.h"
#include "proto/rpc.h"

#define FM_IFINDEX 0 /* the one interface: the driver's port */

/* Exception channel geometry: frames of up to 2 KiB, both directions. */
#define FM_EXC_RECS	 256
#define FM_EXC_BUF	 2048
#define FM_RESOLVE_MS	 3000 /* a connected flow's next hop must answer ARP within this */
#define FM_MAX_RESOLVES	 64   /* Resolve requests waiting for ARP, all applications */
#define FM_CONN_RESOLVES 8    /* ... of one connection */
#define FM_DRV_TIMEOUT	 2000 /* ms for the driver to answer one request */
#define FM_MAX_ERRLINE	 256
#define FM_OPEN_DEFAULT	 256 /* records per channel when the app gives 0 */
#define FM_ADMIN_PAGE	 256 /* flows per admin FlowList (well under RPC_MAX_MSG) */
#define FM_ADMIN_BURST	 32  /* admin requests served per turn of the loop */

/* epoll tokens beyond connection indices */
#define FM_TOK_LISTEN (UINT32_MAX - 1)
#define FM_TOK_TIMER  (UINT32_MAX - 2)
#define FM_TOK_DRIVER (UINT32_MAX - 3)
#define FM_TOK_EXC    (UINT32_MAX - 4)
#define FM_TOK_ADMIN  (UINT32_MAX - 5)

/* An application's connection: the lease on its flows. */
struct fm_conn {
	int fd; /* -1: free slot */
	bool hello;
	pid_t pid;
	uid_t uid;
	char comm[16];
	uint64_t session;
	unsigned n_flows;
};

/* A bound flow's Resolve waiting for ARP (fm_app.c). */
struct fm_resolve {
	int conn;	  /* -1: a free slot */
	struct rpc_hdr h; /* the request to answer */
	uint32_t addr;	  /* the peer asked about */
	uint32_t nh;	  /* its next hop: the address ARP resolves */
	uint64_t deadline_ns;
};

enum fm_flow_state {
	FM_FLOW_FREE = 0,
	FM_FLOW_RESOLVING, /* installed; the open waits for the next hop's MAC */
	FM_FLOW_OPEN,
};

struct fm_flow {
	enum fm_flow_state state;
	uint32_t id;
	int conn; /* owner's index in conns[]; -1: orphan (after a restart) */
	uint8_t proto, kind;
	uint32_t laddr, raddr; /* host order */
	uint16_t lport, rport;
	bool port_held;	   /* holds lport in the port table */
	uint32_t listener; /* accepted on this listening flow (shares its port) */
	bool inorder_frags;
	uint64_t period_ns, slice_ns;
	bool extra;
	uint64_t reserved_ppb; /* its share in the admission sum */
	struct fm_nexthop nh;  /* route to the remote (connected flows) */
	uint8_t nh_mac[6];
	bool nh_known;
	bool arp_ref; /* holds a reference on the next hop's ARP entry */
	uint64_t generation;
	uint64_t resolve_deadline_ns;
	struct rpc_hdr pending; /* the OpenFlow request to answer once resolved */
	struct rbuf_chan_cfg rx_geom, tx_geom;
	struct rbuf_chan_fds rx_fds, tx_fds; /* ours: to install again after a driver restart */
	bool installed;			     /* in the driver */
	pid_t owner_pid;
	uid_t owner_uid;
	char owner_comm[16];
	uint64_t opened_ns;	     /* CLOCK_REALTIME, for the administrator */
	bool announced;		     /* FlowEvent OPENED published: its end will be too */
	uint64_t orphan_deadline_ns; /* conn < 0: removed at this time unless its owner
					re-attaches (0: not an orphan) */
};

struct fm {
	struct fm_cfg cfg;
	int epfd, lfd, tfd;
	uint64_t now_ns;

	struct fm_conn conns[FM_MAX_CONNS];
	struct fm_flow flows[FM_MAX_FLOWS];
	struct fm_resolve resolves[FM_MAX_RESOLVES];
	uint32_t next_id;
	uint64_t session;
	uint64_t reserved_ppb; /* sum of granted s/p, parts per 1e9 */

	/* Decoding: one frame and one arena, reused by every request. */
	struct rpc_frame *frame;
	struct rpc_arena arena;
	uint8_t *arena_buf;

	/* The driver, with its own frame and arena: its replies are decoded
	 * while an application's request is still in use. */
	struct rpc_client drv;
	struct rpc_frame *dframe;
	struct rpc_arena darena;
	uint8_t *darena_buf;
	bool drv_up;
	bool drv_seen;	    /* connected once since we started: later, a flow we do not
			  know is stale, not one to recover */
	unsigned n_orphans; /* flows recovered from the driver, owner not back yet */
	uint64_t drv_retry_ns;
	uint8_t mac[6];
	uint64_t link_bps;
	uint32_t mtu;
	uint32_t drv_reserved_ppm;

	/* The exception channel: we receive (RMM) and send (TMM). */
	struct rbuf_chan *exc_rx, *exc_tx;
	uint32_t exc_tx_free[FM_EXC_RECS]; /* free tx buffer indices */
	unsigned exc_tx_n_free;

	struct fm_ports *ports;
	struct fm_routes *routes;
	struct fm_arp *arp;
	struct fm_pkt *pkt;
	struct fm_pkt_if pif; /* our MAC and address, as fm_pkt sees them */

	uint64_t ctr_exc_rx, ctr_exc_tx, ctr_exc_tx_full;

	/* Administration and events (fm_admin.c): nanomsg sockets (-1: none). */
	int adm_sock, ev_sock;
	int adm_fd; /* adm_sock's NN_RCVFD, in the epoll set */
	char adm_addr[PATH_MAX + 8], ev_addr[PATH_MAX + 8];
	uint8_t *adm_buf; /* RPC_MAX_MSG: replies and events are packed here */
	uint64_t ev_seq;
	uint64_t ctr_adm_req, ctr_adm_err, ctr_ev, ctr_ev_failed;

	/* What the driver told about itself (fm_drv.c). */
	char drv_software[64];
	char drv_events[PATH_MAX + 8]; /* where it publishes counters; "" none */
	char port_name[64];	       /* its port's DPDK name: our interface */
};

/* A refusal with its details, ready to go as a sluice.Error on either
 * transport (the application's socket, or admin.ipc). Caller-owned. */
struct fm_err {
	Sluice__Error e;
	Sluice__AdmissionRefused ar;
	char msg[FM_MAX_ERRLINE];
};

/* Log a line (stderr; systemd adds the time). */
void fm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fm.c: the loop */
void fm_epoll_add(struct fm *fm, int fd, uint32_t token);
void fm_epoll_del(struct fm *fm, int fd);

/* fm.c: flows */
struct fm_flow *fm_flow_get(struct fm *fm, uint32_t id);
void fm_flow_close(struct fm *fm, struct fm_flow *f, const char *why);
uint32_t fm_free_ppm(const struct fm *fm);
int fm_admit(const struct fm *fm, uint64_t period_ns, uint64_t slice_ns, uint64_t *ppb);
void fm_fib_fill(const struct fm *fm, const struct fm_flow *f, Sluice__Fm__Fib *fib, Sluice__Sap *l,
    Sluice__Sap *r, Sluice__Qos *q, Sluice__ChanGeom *rg, Sluice__ChanGeom *tg, uint8_t *hdr,
    size_t hdr_cap);
void fm_on_neighbour(struct fm *fm, uint32_t ip, const uint8_t mac[6], bool changed);
const char *fm_ifname(const struct fm *fm);

/* fm.c: errors, and changes an administrator can make too */
void
fm_err_set(struct fm_err *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void fm_err_admission(const struct fm *fm, struct fm_err *r, uint64_t req_ppb);
/*
 * Give f the guarantee q (its application's SetQos, the administrator's
 * QosSet): admit it as if f's old guarantee were gone, set it in the
 * driver, then account for it and publish QOS_CHANGED with @who as reason.
 * Returns 0, or -errno with @err filled: EINVAL (not a guarantee), ENOSPC
 * (does not fit; AdmissionRefused counts f's old share as free), or the
 * driver's refusal. On failure f keeps its old guarantee.
 */
int fm_flow_set_qos(
    struct fm *fm, struct fm_flow *f, const Sluice__Qos *q, const char *who, struct fm_err *err);
/*
 * Take f away from its application: FlowRevoked (errnum @err, @why) to it,
 * FlowEvent REVOKED, then as fm_flow_close().
 */
void fm_flow_revoke(struct fm *fm, struct fm_flow *f, int err, const char *why);
/*
 * The routing table changed: every connected flow whose next hop is now
 * another gets it (resolved at once if the cache has its MAC, else when ARP
 * answers, fm_on_neighbour()), with FibChanged to its application; a flow
 * left without a route is revoked (ENETUNREACH). Every bound flow gets a
 * FibChanged too, so that its stack forgets the next hops it resolved.
 */
void fm_routes_changed(struct fm *fm);

/* fm_app.c */
void fm_app_accept(struct fm *fm);
void fm_app_serve(struct fm *fm, int ci);
void fm_app_close(struct fm *fm, int ci);
void fm_app_reply_open(struct fm *fm, struct fm_flow *f);
void fm_app_fail_open(struct fm *fm, struct fm_flow *f, int err, const char *msg);
void fm_app_fib_changed(struct fm *fm, struct fm_flow *f, const char *reason);
/*
 * Pending Resolve requests (bound flows): answer those waiting for next hop
 * @ip with @mac, or (mac NULL) with EHOSTUNREACH; and those whose
 * FM_RESOLVE_MS ran out.
 */
void fm_app_resolved(struct fm *fm, uint32_t ip, const uint8_t *mac);
void fm_app_resolve_timeouts(struct fm *fm);

/* fm_drv.c */
int fm_drv_connect(struct fm *fm);
void fm_drv_down(struct fm *fm, const char *why);
int fm_drv_add_flow(struct fm *fm, struct fm_flow *f);
/* fm.c: orphans */
void fm_orphan_timeouts(struct fm *fm);
int fm_drv_remove_flow(struct fm *fm, uint32_t id);
int fm_drv_set_qos(struct fm *fm, uint32_t id, uint64_t period_ns, uint64_t slice_ns, bool extra);
int fm_drv_counters(
    struct fm *fm, const uint32_t *ids, unsigned n, Sluice__FlowCounters ***out, size_t *n_out);
void fm_drv_callbacks(struct fm *fm);

/* fm_drv.c: the port's counters (GetCounters with ports), into the driver
 * frame's arena: valid until the next driver request. */
int fm_drv_port_counters(struct fm *fm, Sluice__PortCounters ***out, size_t *n_out);

/* fm_admin.c */
int fm_admin_open(struct fm *fm);
void fm_admin_close(struct fm *fm);
void fm_admin_serve(struct fm *fm);
/* Publish FlowEvent @kind (Sluice__Admin__FlowEventKind) for f; never fails
 * the caller (a lost event is counted). */
void fm_admin_flow_event(struct fm *fm, const struct fm_flow *f, int kind, const char *reason);

/* fm_exc.c */
int fm_exc_open(struct fm *fm, int fds[8]);
void fm_exc_close(struct fm *fm);
void fm_exc_poll(struct fm *fm);
int fm_exc_send(struct fm *fm, const uint8_t *frame, unsigned len);
void fm_exc_tick(struct fm *fm);
int fm_exc_resolve(struct fm *fm, uint32_t ip, uint8_t mac[6]);

#endif /* SLUICE_FLOWMGR_FM_PRIV_H */
