/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * events.h -- the driver's counters, published for monitors and the
 * `sluice` tool (DESIGN.md section 5): admin.proto CountersEvent on a
 * nanomsg PUB socket, each message one frame of proto/rpc.h (no
 * descriptors). Internal to the daemon.
 *
 * Every DRV_EVENTS_PERIOD_NS a sample is taken: the port's counters and
 * those of every active flow (the exception channel's are in the port's,
 * as rx_manager). A sample is one CountersEvent, or several when it holds
 * more than DRV_EVENTS_PART flows: all carry the sample's timestamp, all
 * but the last have `more` set, the first has the ports. seq counts events,
 * +1 each, so a subscriber that sees a gap knows it missed one.
 *
 *   hook (loop thread)        not due: return (one CLOCK_MONOTONIC read, vDSO)
 *     due: start a sample ->  one part per call: <= DRV_EVENTS_PART flows,
 *                             <= DRV_EVENTS_SCAN ids looked at, packed and
 *                             handed to nanomsg (NN_DONTWAIT)
 *     timerfd in drv_epoll_fd(): wakes a sleeping driver when the next
 *     sample is due, and at once while a sample is unfinished
 *
 * The data path is never blocked: each call does a bounded amount of work,
 * and nn_send() on a PUB socket only queues (nanomsg's own thread writes to
 * the subscribers; one that cannot keep up loses events, and sees the gap
 * in seq). nanomsg's thread starts off the driver's lcore.
 *
 * Access: an ipc:// socket file gets mode 0660 and the group given, so only
 * that group (administrators) and root can subscribe.
 */
#ifndef SLUICE_DRIVER_EVENTS_H
#define SLUICE_DRIVER_EVENTS_H

#include <stdint.h>
#include <sys/types.h>

#include "driver/drv.h"

#define DRV_EVENTS_PERIOD_NS 100000000ull     /* 100 ms */
#define DRV_EVENTS_PART	     64		      /* flows per event (well under RPC_MAX_MSG) */
#define DRV_EVENTS_SCAN	     4096	      /* flow ids looked at per call */
#define DRV_EVENTS_TOKEN     (UINT32_MAX - 2) /* its timerfd in drv_epoll_fd() */

struct drv_events;

struct drv_events_stats {
	uint64_t samples;     /* samples finished */
	uint64_t events;      /* events handed to nanomsg */
	uint64_t send_failed; /* nn_send() refused one (counted in seq all the same) */
};

/*
 * Bind a PUB socket at @addr (a nanomsg address: ipc:///run/sluice/
 * driver-events.ipc, tcp://127.0.0.1:5555), and put a timerfd into
 * drv_epoll_fd(d). For ipc://, the socket file is made mode 0660 and, if
 * @gid is not (gid_t)-1, group @gid. The first sample is due at once.
 * Call after any fork (nanomsg starts a thread).
 * Returns NULL with errno: EINVAL (bad address), EADDRINUSE, EACCES,
 * EPERM (the group), ENOMEM, or what nanomsg said.
 */
struct drv_events *drv_events_open(struct drv *d, const char *addr, gid_t gid);

/* The hook: take and send what is due (see above). NULL is ignored. */
void drv_events_poll(struct drv_events *ev);

void drv_events_stats(const struct drv_events *ev, struct drv_events_stats *st);

/* Close the socket (an ipc:// file is removed) and the timer. NULL is ignored. */
void drv_events_close(struct drv_events *ev);

#endif /* SLUICE_DRIVER_EVENTS_H */
