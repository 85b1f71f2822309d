/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl.h -- the driver's control socket (proto/driver.proto over
 * proto/rpc.h), internal to the daemon. See ctl.c for the rules.
 */
#ifndef SLUICE_DRIVER_CTL_H
#define SLUICE_DRIVER_CTL_H

#include <sys/types.h>

#include "driver/drv.h"

struct drv_ctl;

/*
 * Listen at @path (mode 0660) for the flow manager, whose uid is
 * @flowmgr_uid: connections from any other uid are closed at once. The
 * socket joins drv_epoll_fd(d), so a request wakes a sleeping driver.
 * Returns NULL with errno (see rpc_listen()).
 */
struct drv_ctl *drv_ctl_open(struct drv *d, const char *path, uid_t flowmgr_uid);

/*
 * Tell the flow manager, in every HelloReply from now on, where the driver
 * publishes its counters (@addr, a nanomsg address; NULL or "": nowhere).
 */
void drv_ctl_set_events(struct drv_ctl *c, const char *addr);

/* Serve what is waiting (bounded per call); the hook drv_run() takes. */
void drv_ctl_poll(void *arg);

void drv_ctl_close(struct drv_ctl *c);

#endif /* SLUICE_DRIVER_CTL_H */
