/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm.h -- the flow manager daemon's state, shared by its .c files.
 *
 * The flow manager is the one place that names things (DESIGN.md sections
 * 1, 3, 5): applications ask it for flows over their RPC socket; it grants
 * ports, runs admission control, builds each flow's receive filter,
 * transmit template and FIB, and installs them in the driver; it answers
 * for the host on the network through the driver's exception channel (ARP,
 * ICMP echo, port unreachable, RST). It never touches a flow's data.
 *
 *   apps --(flowmgr.sock, fm_app.c)--> flows[] --(driver.sock, fm_drv.c)--> driver
 *                                        |  ports (fm_ports), routes (fm_route),
 *                                        |  ARP (fm_arp), admission (sum of s/p)
 *   driver's exception channel <--(fm_exc.c, fm_pkt)--> ARP, ICMP, RST
 *   administrators --(admin.ipc, nanomsg REP, fm_admin.c)--> flows, routes, ARP, QoS
 *   monitors <--(events.ipc, nanomsg PUB)-- FlowEvent at every change of a flow
 *
 * One thread, one epoll loop (fm.c); every descriptor is non-blocking
 * except the driver's, which is asked and answered within milliseconds.
 * (nanomsg runs an I/O thread of its own; none of our state is touched
 * there.)
 *
 * Ownership: a flow belongs to the application connection that opened it
 * (the connection is the lease: when it closes, its flows go, within one
 * turn of the loop). The flow keeps duplicates of the application's channel
 * descriptors so that it can be installed again if the driver restarts.
 */
#ifndef SLUICE_FLOWMGR_FM_H
#define SLUICE_FLOWMGR_FM_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "rbuf/rbuf.h"

#define FM_MAX_ROUTES	  32
#define FM_MAX_PRIV_USERS 16
#define FM_MAX_CONNS	  256
#define FM_MAX_FLOWS	  1024 /* flow ids 1..FM_MAX_FLOWS-1; 0 is the exception channel */
#define FM_TICK_MS	  100  /* ARP ageing, driver reconnection, counters */

/* Settings (flowmgr/main.c reads them; docs/flowmgr.md lists them). */
struct fm_cfg {
	char name[32];
	char runtime_dir[PATH_MAX - 32]; /* flowmgr.sock lives here */
	char driver[PATH_MAX];		 /* the driver's control socket */
	uint16_t eph_lo, eph_hi;	 /* ephemeral ports */
	/* The interface (one driver port). */
	uint32_t port;
	uint32_t addr; /* host order */
	uint8_t prefix_len;
	uint32_t gateway;   /* 0: none */
	uint64_t link_mbps; /* 0: what the driver paces to */
	struct {
		uint32_t prefix, via;
		uint8_t len;
	} routes[FM_MAX_ROUTES];
	unsigned n_routes;
	uid_t priv_uids[FM_MAX_PRIV_USERS]; /* may take ports below 1024 (root always) */
	unsigned n_priv_uids;
	unsigned grace_ms; /* after a restart: how long flows wait for their owner */
	/* Who may use admin.ipc and events.ipc (mode 0660): this group and
	 * root. "": root's group, or the flow manager's own if it may not
	 * give the files to root's. */
	char admin_group[32];
	gid_t admin_gid; /* admin_group's, when it is set */
	bool check;
};

struct fm;

/* fm.c */
struct fm *fm_create(const struct fm_cfg *cfg);
int fm_run(struct fm *fm, volatile int *stop);
void fm_destroy(struct fm *fm);

#endif /* SLUICE_FLOWMGR_FM_H */
