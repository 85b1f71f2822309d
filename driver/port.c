/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port: one receive and one transmit queue on one ethdev, an mbuf pool,
 * and the receive interrupt when the PMD has one (so that an idle driver
 * can sleep until a packet comes instead of polling). A port that hands
 * over frames larger than a default mbuf whole (net_af_packet, whose kernel
 * side reassembles IP fragments) gets a second pool of large mbufs for
 * receive only; transmit keeps the small ones for its header copies.
 */
#include <errno.h>
#include <stdio.h>

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>

#include "driver/drv_priv.h"

static int
configure(uint16_t port, bool rx_intr)
{
	struct rte_eth_conf conf = {0};

	conf.intr_conf.rxq = rx_intr ? 1 : 0;
	return rte_eth_dev_configure(port, 1, 1, &conf);
}

int
drv__port_start(struct drv *d)
{
	struct rte_eth_dev_info info;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t nrx = d->cfg.n_rxd, ntx = d->cfg.n_txd;
	int rc, sock;

	if (!rte_eth_dev_is_valid_port(d->port))
		return -ENODEV;
	rc = rte_eth_dev_info_get(d->port, &info);
	if (rc < 0)
		return rc;
	/* Zero-copy transmit chains mbufs; a PMD that cannot send chains gets
	 * each frame copied into one (it fits: frames are at most the MTU). */
	d->tx_linear = !(info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
	sock = rte_eth_dev_socket_id(d->port);
	snprintf(name, sizeof(name), "%s_mbuf%u", d->cfg.name, d->port);
	d->pool = rte_pktmbuf_pool_create(name, d->cfg.n_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
	    sock < 0 ? (int)rte_socket_id() : sock);
	if (!d->pool)
		return -rte_errno;

	/* Ask for receive interrupts; PMDs without them refuse, then poll. */
	d->rx_intr = configure(d->port, true) == 0;
	if (!d->rx_intr && (rc = configure(d->port, false)) < 0)
		return rc;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(d->port, &nrx, &ntx);
	if (rc < 0)
		return rc;
	if (d->cfg.rx_mbuf_room > RTE_MBUF_DEFAULT_BUF_SIZE) {
		/* Enough for a full receive ring, a burst in our hands (rx.c frees
		 * each burst's mbufs before the next) and the lcore cache. */
		if (d->cfg.rx_mbuf_room > UINT16_MAX)
			return -EINVAL;
		snprintf(name, sizeof(name), "%.12s_rxbig%u", d->cfg.name, d->port);
		d->rx_pool = rte_pktmbuf_pool_create(name, nrx + 2u * DRV_BURST + 64, 32, 0,
		    (uint16_t)d->cfg.rx_mbuf_room, sock < 0 ? (int)rte_socket_id() : sock);
		if (!d->rx_pool)
			return -rte_errno;
	}
	rc = rte_eth_rx_queue_setup(d->port, 0, nrx, (unsigned)(sock < 0 ? 0 : sock), NULL,
	    d->rx_pool ? d->rx_pool : d->pool);
	if (rc < 0)
		return rc;
	rc = rte_eth_tx_queue_setup(d->port, 0, ntx, (unsigned)(sock < 0 ? 0 : sock), NULL);
	if (rc < 0)
		return rc;
	rc = rte_eth_dev_start(d->port);
	if (rc < 0)
		return rc;
	d->rx_intr_fd = -1;
	if (d->rx_intr) {
		/* Most virtual PMDs accept the setting but have no interrupt;
		 * asking is how we find out, quietly. */
		int lvl = rte_log_get_level(RTE_LOGTYPE_EAL);
		int eth = rte_log_get_level(rte_log_register("lib.ethdev"));

		rte_log_set_level_pattern("lib.ethdev", RTE_LOG_CRIT);
		d->rx_intr_fd = rte_eth_dev_rx_intr_ctl_q_get_fd(d->port, 0);
		rte_log_set_level_pattern("lib.ethdev", (uint32_t)(eth >= 0 ? eth : lvl));
		if (d->rx_intr_fd < 0)
			d->rx_intr = false;
	}
	return 0;
}

void
drv__port_stop(struct drv *d)
{
	if (rte_eth_dev_is_valid_port(d->port)) {
		rte_eth_dev_stop(d->port);
		rte_eth_dev_close(d->port);
	}
}
