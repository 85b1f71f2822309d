/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's counters as protobuf messages; see counters.h. One place,
 * so that what the flow manager reads (ctl.c) and what monitors see
 * (events.c) can never disagree.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>

#include <rte_ethdev.h>

#include "driver/counters.h"
#include "proto/rpc.h"

_Static_assert(sizeof(((struct drv_port_counters_msg *)0)->name) >= RTE_ETH_NAME_MAX_LEN,
    "room for a DPDK device name");

static void
counter_add(Sluice__Counter *c, Sluice__Counter **p, const char *name, uint64_t value)
{
	sluice__counter__init(c);
	c->name = rpc_str(name);
	c->value = value;
	*p = c;
}

void
drv_flow_counters_fill(const struct drv *d, uint32_t id, struct drv_flow_counters_msg *m)
{
	static const char *const rx_names[] = {"NO_BUFFER", "TOO_BIG", "RING_FULL"};
	static const enum drv_ctr rx_ctr[] = {
	    DRV_C_RX_NO_BUF, DRV_C_RX_TOO_BIG, DRV_C_RX_RING_FULL};
	Sluice__FlowCounters *fc = &m->fc;
	struct drv_flow_stats st;
	struct rbuf_stats rs, ts;
	unsigned n = 0;

	sluice__flow_counters__init(fc);
	fc->flow_id = id;
	if (drv_flow_stats(d, id, &st, &rs, &ts) < 0)
		return;
	fc->rx_pkts = st.c[DRV_C_RX_PKTS];
	fc->rx_bytes = st.c[DRV_C_RX_BYTES];
	fc->tx_pkts = st.c[DRV_C_TX_PKTS];
	fc->tx_bytes = st.c[DRV_C_TX_BYTES];
	for (unsigned e = 0; e < RBUF_ERR_MAX; e++)
		fc->chan_errors += rs.err[e] + ts.err[e];
	fc->rx_drops = m->ptr;
	for (unsigned i = 0; i < 3; i++, n++) {
		counter_add(&m->ctr[n], &m->ptr[n], rx_names[i], st.c[rx_ctr[i]]);
		fc->rx_dropped += st.c[rx_ctr[i]];
	}
	fc->n_rx_drops = n;
	fc->tx_refusals = m->ptr + n;
	for (unsigned r = 1; r < FLT_TX__COUNT; r++) {
		if (!st.tx_refuse[r])
			continue;
		counter_add(&m->ctr[n], &m->ptr[n], flt_tx_name(r), st.tx_refuse[r]);
		n++;
		fc->n_tx_refusals++;
	}
	if (st.c[DRV_C_TX_BAD_LEN]) {
		counter_add(&m->ctr[n], &m->ptr[n], "BAD_LEN", st.c[DRV_C_TX_BAD_LEN]);
		n++;
		fc->n_tx_refusals++;
	}
	fc->tx_refused = st.c[DRV_C_TX_REFUSED] + st.c[DRV_C_TX_BAD_LEN];
	fc->sched_wait_ns = st.tx_wait_ns;
	fc->sched_periods = st.tx_periods;
	fc->sched_missed = st.tx_missed;
	fc->sched_slack_ns = st.tx_slack_ns;
}

void
drv_port_counters_fill(const struct drv *d, struct drv_port_counters_msg *m)
{
	/* The driver's own, each name beside its field. */
	static const struct {
		const char *name;
		size_t off;
	} own[DRV_PORT_CTRS] = {
	    {"RX_BURSTS", offsetof(struct drv_port_stats, rx_bursts)},
	    {"RX_LINEARIZED", offsetof(struct drv_port_stats, rx_linearized)},
	    {"RX_LATE", offsetof(struct drv_port_stats, rx_late)},
	    {"RX_RECUT", offsetof(struct drv_port_stats, rx_recut)},
	    {"TX_PORT_FULL", offsetof(struct drv_port_stats, tx_port_full)},
	    {"TX_PACED", offsetof(struct drv_port_stats, tx_paced)},
	    {"SLEEPS", offsetof(struct drv_port_stats, sleeps)},
	    {"WAKEUPS", offsetof(struct drv_port_stats, wakeups)},
	};
	Sluice__PortCounters *pc = &m->pc;
	struct rte_eth_stats es;
	struct drv_flow_stats ex;
	struct flt_stats fs;
	struct drv_port_stats ps;
	unsigned n = 0;

	sluice__port_counters__init(pc);
	memset(&es, 0, sizeof(es));
	rte_eth_stats_get(drv_port(d), &es);
	m->name[0] = '\0';
	rte_eth_dev_get_name_by_port(drv_port(d), m->name);
	pc->port = 0;
	pc->name = m->name;
	pc->rx_pkts = es.ipackets;
	pc->rx_bytes = es.ibytes;
	pc->tx_pkts = es.opackets;
	pc->tx_bytes = es.obytes;
	pc->rx_missed = es.imissed;
	pc->rx_errors = es.ierrors;
	pc->tx_errors = es.oerrors;
	pc->rx_nombuf = es.rx_nombuf;
	if (drv_flow_stats(d, DRV_FLOW_EXC, &ex, NULL, NULL) == 0) {
		pc->rx_manager = ex.c[DRV_C_RX_PKTS];
		pc->rx_manager_dropped = ex.c[DRV_C_RX_NO_BUF] + ex.c[DRV_C_RX_RING_FULL];
	}
	flt_stats_get(drv_filters(d), &fs);
	pc->rx_drops = m->ptr;
	for (unsigned r = 1; r < FLT_DROP__COUNT; r++) {
		if (!fs.drop[r])
			continue;
		counter_add(&m->ctr[n], &m->ptr[n], flt_drop_name(r), fs.drop[r]);
		n++;
	}
	pc->n_rx_drops = n;

	drv_port_stats(d, &ps);
	pc->driver = m->ptr + n;
	for (unsigned i = 0; i < DRV_PORT_CTRS; i++, n++) {
		uint64_t v;

		memcpy(&v, (const uint8_t *)&ps + own[i].off, sizeof(v));
		counter_add(&m->ctr[n], &m->ptr[n], own[i].name, v);
	}
	pc->n_driver = DRV_PORT_CTRS;
}
