/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's life: set-up, the loop, and sleeping when there is nothing
 * to do. One thread does everything, so the loop reads as the list of work:
 *
 *   receive a burst -> transmit a round -> hand finished records back
 *   -> (idle for a while?) sleep until a channel, the port or the caller's
 *      descriptor has something
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_pause.h>

#include "driver/drv_priv.h"

/*
 * The TSC's rate, measured against CLOCK_MONOTONIC over 50 ms. DPDK takes
 * the nominal frequency when the CPU reports one, and a VM's TSC need not
 * run at it: on the development VM (the kernel says "TSC doesn't count
 * with P0 frequency") DPDK says 2.1 GHz and the TSC counts 2.096, so every
 * period and the paced link ran 0.19% slow and every guarantee came out
 * 0.19% short. The clocks of the applications and of the peers are
 * CLOCK_MONOTONIC; the driver's must agree with them.
 */
static uint64_t
tsc_hz(void)
{
	struct timespec t0, t1, pause = {.tv_nsec = 50000000};
	uint64_t c0, c1, ns, hz, nominal = rte_get_tsc_hz();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	c0 = rte_rdtsc();
	nanosleep(&pause, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	c1 = rte_rdtsc();
	ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u + (uint64_t)t1.tv_nsec -
	     (uint64_t)t0.tv_nsec;
	if (ns < 10000000u || c1 <= c0)
		return nominal; /* the clock or the counter is not to be believed */
	hz = (uint64_t)((unsigned __int128)(c1 - c0) * 1000000000u / ns);
	/* Off by more than 0.01%: say so, it changes every rate. */
	if (hz / 10000u < (hz > nominal ? hz - nominal : nominal - hz))
		fprintf(stderr,
		    "sluice-driver: TSC runs at %" PRIu64 " Hz, not %" PRIu64 " as DPDK says\n", hz,
		    nominal);
	return hz;
}

/*
 * The transmit scheduler, paced to the configured rate or the port's, and
 * the clock it runs on. The exception flow holds its reservation from now
 * on, so that flows admitted later can never take it.
 */
static int
sched_start(struct drv *d)
{
	struct sch_cfg sc = {0};
	struct sch_qos exc = {
	    .period_ns = DRV_EXC_PERIOD_NS, .slice_ns = DRV_EXC_SLICE_NS, .extra = true};
	struct rte_eth_link link;

	d->link_bps = d->cfg.link_bps;
	if (!d->link_bps) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(d->port, &link) == 0 &&
		    link.link_speed != RTE_ETH_SPEED_NUM_NONE &&
		    link.link_speed != RTE_ETH_SPEED_NUM_UNKNOWN)
			d->link_bps = (uint64_t)link.link_speed * 1000000ull;
		else
			d->link_bps = 10000000000ull; /* virtual ports say nothing */
	}
	sc.link_bps = d->link_bps;
	sc.max_flows = d->cfg.max_flows;
	sc.max_frame_len = DRV_TX_FRAME_MAX;
	sc.max_period_ns = d->cfg.max_period_ns;
	d->sch = sch_create(&sc);
	if (!d->sch)
		return -errno;
	d->tx_due_ns = UINT64_MAX;
	d->tsc0 = rte_rdtsc();
	d->ns_mult = (uint64_t)(((unsigned __int128)1000000000u << 32) / tsc_hz());
	/* Pacing sleeps are short: ask the kernel for timers close to the
	 * time asked (the default slack is 50 us, a third of a full frame's
	 * wire time at 100 Mbit/s). */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	return sch_flow_add(d->sch, DRV_FLOW_EXC, &exc);
}

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
	if (!d->cfg.max_period_ns)
		d->cfg.max_period_ns = SCH_DEFAULT_PERIOD_NS;
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
	rc = sched_start(d);
	if (rc < 0) {
		errno = -rc;
		goto out_free;
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
	sch_destroy(d->sch);
	rte_mempool_free(d->pool);
	rte_mempool_free(d->rx_pool);
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

uint64_t
drv_tx_due_ns(const struct drv *d)
{
	return d->tx_due_ns;
}

uint64_t
drv_now_ns(const struct drv *d)
{
	return drv__now_ns(d);
}

uint64_t
drv_link_bps(const struct drv *d)
{
	return d->link_bps;
}

uint32_t
drv_reserved_ppm(const struct drv *d)
{
	(void)d;
	return (uint32_t)(DRV_EXC_SLICE_NS * 1000000ull / DRV_EXC_PERIOD_NS);
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
	uint64_t timeout_ns = max_ms < 0 ? UINT64_MAX : (uint64_t)max_ms * 1000000u, now;
	struct timespec ts, *tsp = NULL;
	int n;

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
		timeout_ns = RTE_MIN(timeout_ns, (uint64_t)d->cfg.idle_sleep_ms * 1000000u);
	/* A paced link is not idle: wake up when the next frame is due. */
	if (d->tx_due_ns != UINT64_MAX) {
		now = drv__now_ns(d);
		if (d->tx_due_ns <= now)
			return 0;
		timeout_ns = RTE_MIN(timeout_ns, d->tx_due_ns - now);
	}
	if (timeout_ns != UINT64_MAX) {
		ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
		ts.tv_nsec = (long)(timeout_ns % 1000000000u);
		tsp = &ts;
	}
	if (d->rx_intr)
		rte_eth_dev_rx_intr_enable(d->port, 0);
	flt_reader_offline(d->flt);
	d->st.sleeps++;
	n = epoll_pwait2(d->epfd, ev, 32, tsp, NULL);
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
	uint64_t busy_ns = (uint64_t)d->cfg.busy_poll_us * 1000u, last_work = 0;
	unsigned idle = 0, iter = 0;

	while (!*stop) {
		if (drv_poll(d)) {
			idle = 0;
			if (busy_ns)
				last_work = drv__now_ns(d);
			if (ctl && ++iter % 1024 == 0)
				ctl(arg);
			continue;
		}
		if (++idle < d->cfg.idle_spins ||
		    (busy_ns && drv__now_ns(d) - last_work < busy_ns)) {
			if (ctl && idle % 1024 == 0)
				ctl(arg); /* a long busy poll still answers */
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
