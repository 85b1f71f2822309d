/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * counters.h -- the driver's counters as the messages of proto/common.proto
 * (FlowCounters, PortCounters), internal to the daemon. The control socket
 * (ctl.c: GetCounters, DumpFlows) and the events publisher (events.c:
 * CountersEvent) fill them the same way from here.
 *
 * Each message lives in a caller-owned struct together with the counters
 * and pointers it refers to, so that filling one allocates nothing; the
 * names point to static strings. Loop thread only, like the counters.
 */
#ifndef SLUICE_DRIVER_COUNTERS_H
#define SLUICE_DRIVER_COUNTERS_H

#include "driver/drv.h"
#include "proto/common.pb-c.h"

/* Named counters one flow can carry: 3 receive drops, the transmit
 * refusals by reason, and BAD_LEN. */
#define DRV_FLOW_CTRS (4 + FLT_TX__COUNT)

struct drv_flow_counters_msg {
	Sluice__FlowCounters fc;
	Sluice__Counter ctr[DRV_FLOW_CTRS];
	Sluice__Counter *ptr[DRV_FLOW_CTRS]; /* fc.rx_drops and fc.tx_refusals point in here */
};

/* The driver's own port counters (PortCounters.driver). */
#define DRV_PORT_CTRS 8

struct drv_port_counters_msg {
	Sluice__PortCounters pc;
	Sluice__Counter ctr[FLT_DROP__COUNT + DRV_PORT_CTRS];
	Sluice__Counter *ptr[FLT_DROP__COUNT + DRV_PORT_CTRS]; /* pc.rx_drops, pc.driver */
	char name[64]; /* the DPDK device name (RTE_ETH_NAME_MAX_LEN) */
};

/*
 * Fill m->fc with flow @id's counters: packets and bytes each way, the
 * receive drops by cause (NO_BUFFER, TOO_BIG, RING_FULL, always present),
 * the transmit refusals by reason (only those that happened), the
 * scheduler's wait and the channels' bad records. A flow that is not
 * installed gives a message with only flow_id set.
 */
void drv_flow_counters_fill(const struct drv *d, uint32_t id, struct drv_flow_counters_msg *m);

/*
 * Fill m->pc with the port's counters: ethdev's, what reached the flow
 * manager's exception channel (and was dropped there), the demux drops
 * by cause (only those that happened), and the driver's own counters
 * (struct drv_port_stats, all of them). The port is number 0.
 */
void drv_port_counters_fill(const struct drv *d, struct drv_port_counters_msg *m);

#endif /* SLUICE_DRIVER_COUNTERS_H */
