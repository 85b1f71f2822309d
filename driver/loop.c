/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's life: set-up, the loop, and sleeping when there is nothing
 * to do. One thread does everything, so the loop reads as the list of work:
 *
 *   receive a burst -> transmit a round -> hand finished records back
 *   -> (idle for a while?) sleep until a channel, the port or the caller's
 *      descriptor has something
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "driver/drv_priv.h"

struct drv *
drv_create(const struct drv_cfg *cfg)
{
	struct flt_table_cfg fcfg = {0};
	char fname[16];
	struct drv *d;
	int rc;

	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->cfg = *cfg;
	if (!d->cfg.n_rxd)
		d->cfg.n_rxd = 1024;
	if (!d->cfg.n_txd)
		d->cfg.n_txd = 1024;
	if (!d->cfg.n_mbufs)
		d->cfg.n_mbufs = 16383;
	if (!d->cfg.max_flows)
		d->cfg.max_flows = 1024;
	if (!d->cfg.idle_spins)
		d->cfg.idle_spins = 256;
	if (!d->cfg.idle_sleep_ms)
		d->cfg.idle_sleep_ms = 1;
	if (!d->cfg.name)
		d->cfg.name = "drv";
	d->port = cfg->port_id;
	d->epfd = -1;
	d->rx_intr_fd = -1;
	if (d->cfg.max_flows > DRV_MAX_FLOWS) {
		errno = EINVAL;
		goto out_free;
	}
	d->flows = calloc(d->cfg.max_flows, sizeof(*d->flows));
	d->tx_list = calloc(d->cfg.max_flows, sizeof(*d->tx_list));
	d->done_list = calloc(d->cfg.max_flows, sizeof(*d->done_list));
	d->rx_linear = calloc(DRV_BURST, sizeof(*d->rx_linear));
	d->sleep_set = calloc(d->cfg.max_flows, sizeof(*d->sleep_set));
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!d->flows || !d->tx_list || !d->done_list || !d->rx_linear || !d->sleep_set ||
	    d->epfd < 0)
		goto out_free;

	snprintf(fname, sizeof(fname), "%.8s_flt", d->cfg.name);
	fcfg.name = fname;
	fcfg.max_flows = d->cfg.max_flows;
	d->flt = flt_table_create(&fcfg);
	if (!d->flt)
		goto out_free;
	rc = drv__port_start(d);
	if (rc < 0) {
		errno = -rc;
		goto out_free;
	}
	if (d->rx_intr) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = UINT32_MAX};

		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->rx_intr_fd, &ev) < 0)
			d->rx_intr = false;
	}
	return d;

out_free:
	rc = errno;
	drv_destroy(d);
	errno = rc;
	return NULL;
}

void
drv_destroy(struct drv *d)
{
	if (!d)
		return;
	if (d->pool) {
		/* Stopping the port frees what it still holds; their records
		 * come back through the completions, which we then drop. */
		if (d->n_tx_pend)
			rte_pktmbuf_free_bulk(d->tx_pend, d->n_tx_pend);
		d->n_tx_pend = 0;
		drv__port_stop(d);
	}
	for (uint32_t i = 0; d->flows && i < d->cfg.max_flows; i++)
		if (d->flows[i].state != DRV_FLOW_FREE)
			drv__flow_release(d, &d->flows[i]);
	flt_table_destroy(d->flt);
	rte_mempool_free(d->pool);
	if (d->epfd >= 0)
		close(d->epfd);
	free(d->flows);
	free(d->tx_list);
	free(d->done_list);
	free(d->rx_linear);
	free(d->sleep_set);
	free(d);
}

unsigned
drv_poll(struct drv *d)
{
	unsigned work = drv__rx_poll(d);

	work += drv__tx_poll(d);
	if (d->n_done_flows)
		work += drv__tx_hand_back(d);
	return work;
}

int
drv_epoll_fd(const struct drv *d)
{
	return d->epfd;
}

int
drv_sleep(struct drv *d, int max_ms)
{
	struct epoll_event ev[32];
	int timeout = max_ms, n;

	/* Announce on every transmit channel, with one barrier for all; any
	 * channel with work cancels the sleep. */
	unsigned n_ch = 0;

	for (unsigned i = 0; i < d->n_tx; i++) {
		struct drv_flow *f = &d->flows[d->tx_list[i]];

		if (f->state == DRV_FLOW_ACTIVE && f->tx)
			d->sleep_set[n_ch++] = f->tx;
	}
	if (!rbuf_ec_prepare_set(d->sleep_set, n_ch))
		return 0;
	/* Without a receive interrupt, a packet can only be noticed by
	 * looking: sleep briefly. Pending hand-backs wait for the app. */
	if (!d->rx_intr || d->n_done_flows || d->n_tx_pend)
		timeout = timeout < 0 ? (int)d->cfg.idle_sleep_ms
				      : RTE_MIN(timeout, (int)d->cfg.idle_sleep_ms);
	if (d->rx_intr)
		rte_eth_dev_rx_intr_enable(d->port, 0);
	flt_reader_offline(d->flt);
	d->st.sleeps++;
	n = epoll_wait(d->epfd, ev, 32, timeout);
	flt_reader_online(d->flt);
	if (d->rx_intr)
		rte_eth_dev_rx_intr_disable(d->port, 0);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (n > 0)
		d->st.wakeups++;
	for (int i = 0; i < n; i++) {
		uint32_t id = ev[i].data.u32;
		struct drv_flow *f;

		if (id >= d->cfg.max_flows)
			continue; /* the port's interrupt, or the caller's fd */
		f = &d->flows[id];
		if (f->tx && rbuf_ec_drain(f->tx) == -EPIPE)
			/* The application is gone: its flow manager will
			 * remove the flow; stop waking up for it meanwhile. */
			epoll_ctl(d->epfd, EPOLL_CTL_DEL, rbuf_chan_wait_fd(f->tx), NULL);
	}
	return n;
}

void
drv_run(struct drv *d, volatile int *stop, void (*ctl)(void *), void *arg)
{
	unsigned idle = 0, iter = 0;

	while (!*stop) {
		if (drv_poll(d)) {
			idle = 0;
			if (ctl && ++iter % 1024 == 0)
				ctl(arg);
			continue;
		}
		if (++idle < d->cfg.idle_spins) {
			rte_pause();
			continue;
		}
		if (ctl)
			ctl(arg);
		drv_sleep(d, 100);
		if (ctl)
			ctl(arg);
		/* Spin again only after real work: a wake-up that finds
		 * nothing (the timeout of a port without interrupts) goes
		 * straight back to sleep, which keeps an idle driver cheap. */
		idle = d->cfg.idle_spins - 1;
	}
}

void
drv_port_stats(const struct drv *d, struct drv_port_stats *st)
{
	*st = d->st;
}

const struct flt_table *
drv_filters(const struct drv *d)
{
	return d->flt;
}

uint16_t
drv_port(const struct drv *d)
{
	return d->port;
}
