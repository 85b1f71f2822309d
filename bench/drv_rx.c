/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drv_rx: packets per second per core through the driver's receive path:
 * classify (parse + rte_hash lookup) + copy 64 bytes into an application's
 * buffer + post, from a synthetic port into live channels that another
 * process drains on the other core.
 *
 * The port is net_ring0 (its transmit side loops to its receive side); a
 * generator in the same thread puts 64-byte UDP frames (to 4 bound flows)
 * on it, 32 at a time, as a NIC fills its receive ring: it takes mbufs
 * from the pool, each already holding a frame, and the driver's free
 * returns them (reference count one, as from any PMD). The anchor is the
 * same loop with a plain receive-and-free in place of the
 * driver: the port's own limit in this process. Target: 14.88 Mpps, the
 * line rate of 10GbE for 64-byte frames (netmap's headline).
 *
 * Writes out/bench/drv_rx.json.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "bench/bench_report.h"
#include "common/compiler.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"
#include "driver/drv.h"

#define N_FLOWS	 4
#define N_RECS	 1024
#define BUF_SIZE 256
#define N_GEN	 1024 /* mbufs in the pool, each holding a prebuilt frame */
#define FRAME	 60   /* 64 on the wire with the FCS */

#define RUNS 5

struct shared {
	atomic_int stop;
	atomic_ullong drained;
};

/* The applications: one process draining every flow's channel and posting
 * the buffers again at once (Receive Master Mode). */
static int
drainer(struct rbuf_chan **ch, struct shared *sh)
{
	struct rbuf_iorec r[32];

	bench_pin_cpu(1);
	while (!atomic_load_explicit(&sh->stop, memory_order_relaxed)) {
		unsigned got = 0;

		for (int f = 0; f < N_FLOWS; f++) {
			unsigned n = rbuf_get_burst(ch[f], r, 32);

			for (unsigned i = 0; i < n; i++)
				r[i].piece[0].len = BUF_SIZE;
			rbuf_put_burst(ch[f], r, n);
			got += n;
		}
		if (got)
			atomic_fetch_add_explicit(&sh->drained, got, memory_order_relaxed);
		else
			sluice_cpu_relax();
	}
	return 0;
}

static void
build_frame(uint8_t *p, unsigned flow)
{
	struct eth_hdr *e = (struct eth_hdr *)(void *)p;
	struct ip4_hdr *ip = (struct ip4_hdr *)(void *)(p + 14);
	struct udp_hdr *u = (struct udp_hdr *)(void *)(p + 34);

	memset(p, 0, FRAME);
	memcpy(e->dst.b, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6);
	memcpy(e->src.b, (uint8_t[]){2, 0, 0, 0, 0, 2}, 6);
	e->type = htons(0x0800);
	ip->ver_ihl = 0x45;
	ip->tot_len = htons(FRAME - 14);
	ip->ttl = 64;
	ip->proto = 17;
	ip->src = htonl(0x0a000002);
	ip->dst = htonl(0x0a000001);
	ip->csum = wire_ip4_csum(ip);
	u->src_port = htons(5000);
	u->dst_port = htons((uint16_t)(7000 + flow));
	u->len = htons(FRAME - 34);
}

/* Packets delivered to the flows so far (and dropped for want of buffers). */
static uint64_t
delivered_sum(const struct drv *d, uint64_t *nobuf)
{
	uint64_t sum = 0;

	if (nobuf)
		*nobuf = 0;
	for (uint32_t f = 1; f <= N_FLOWS; f++) {
		struct drv_flow_stats st;

		drv_flow_stats(d, f, &st, NULL, NULL);
		sum += st.c[DRV_C_RX_PKTS];
		if (nobuf)
			*nobuf += st.c[DRV_C_RX_NO_BUF];
	}
	return sum;
}

struct gen {
	uint16_t port;
	struct rte_mempool *pool;
	uint64_t short_pool;
};

/*
 * Offer one burst of frames on the port; they come back on its rx side.
 * As a PMD refills its receive ring: mbufs come straight from the pool
 * (its per-lcore cache), which keeps them as the last free left them
 * (reference count one, one segment, data offset and frame unchanged), and
 * only the lengths are set, as a PMD sets them from the descriptor. Every
 * mbuf holds a prebuilt frame that no one overwrites: the NIC's DMA, free.
 * The driver's free gives them back.
 */
static void
gen_offer(struct gen *g)
{
	struct rte_mbuf *b[32];
	unsigned sent;

	if (unlikely(rte_mempool_get_bulk(g->pool, (void **)b, 32) != 0)) {
		g->short_pool++;
		return;
	}
	for (unsigned i = 0; i < 32; i++)
		b[i]->data_len = b[i]->pkt_len = FRAME;
	sent = rte_eth_tx_burst(g->port, 0, b, 32);
	if (sent < 32)
		rte_pktmbuf_free_bulk(&b[sent], 32 - sent);
}

/* Write a frame into every mbuf of @pool (to the flows in turn), and give them back. */
static int
prebuild(struct rte_mempool *pool)
{
	static struct rte_mbuf *all[N_GEN];

	if (rte_pktmbuf_alloc_bulk(pool, all, N_GEN) != 0)
		return -1;
	for (unsigned i = 0; i < N_GEN; i++)
		build_frame(rte_pktmbuf_mtod(all[i], uint8_t *), i % N_FLOWS);
	rte_pktmbuf_free_bulk(all, N_GEN);
	return 0;
}

static void
eal_init(void)
{
	static const char *const args[] = {"drv_rx", "--no-huge", "-m", "512", "--no-shconf",
	    "--no-pci", "--no-telemetry", "--log-level=error", "-l", "0", "--vdev=net_ring0",
	    "--file-prefix=drv_rx_"};
	/* EAL keeps pointers into argv: the copies live as long as we do. */
	static char store[ARRAY_SIZE(args)][64];
	static char *argv[ARRAY_SIZE(args)];

	for (size_t i = 0; i < ARRAY_SIZE(args); i++) {
		snprintf(store[i], sizeof(store[i]), "%s", args[i]);
		argv[i] = store[i];
	}
	/* Its own runtime directory, so runs never collide. */
	snprintf(store[ARRAY_SIZE(args) - 1], sizeof(store[0]), "--file-prefix=drv_rx_%d",
	    (int)getpid());
	if (rte_eal_init((int)ARRAY_SIZE(argv), argv) < 0) {
		fprintf(stderr, "drv_rx: rte_eal_init failed\n");
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	const char *out = bench_out_dir(argc, argv);
	uint64_t iters = bench_quick(argc, argv) ? 200000 : 2000000;
	struct rbuf_chan_cfg geom = {
	    .mode = RBUF_MODE_RMM, .n_recs = N_RECS, .data_size = N_RECS * BUF_SIZE};
	struct rbuf_chan *ch[N_FLOWS];
	struct rbuf_chan_fds fds[N_FLOWS];
	struct drv_cfg dcfg = {.max_flows = 16, .name = "drvrx"};
	struct rte_mempool *pool;
	struct shared *sh;
	struct gen g = {0};
	struct drv *d;
	struct bench_report rep;
	json_t *params;
	int rc;
	uint64_t t0, t1, delivered = 0, nobuf = 0;
	double mpps, anchor, drv_runs[RUNS], anchor_runs[RUNS];
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	/* The applications' channels, every buffer posted, before the fork. */
	for (int f = 0; f < N_FLOWS; f++) {
		struct rbuf_iorec r = {.n_pieces = 1};

		ch[f] = rbuf_chan_create(&geom, RBUF_SIDE_RECEIVER);
		if (!ch[f] || rbuf_chan_peer_fds(ch[f], &fds[f]) < 0)
			return 1;
		for (uint32_t i = 0; i < N_RECS; i++) {
			r.tag = i;
			r.piece[0].off = i * BUF_SIZE;
			r.piece[0].len = BUF_SIZE;
			rbuf_put_burst(ch[f], &r, 1);
		}
	}
	pid = fork();
	if (pid == 0)
		_exit(drainer(ch, sh));
	bench_pin_cpu(0);
	eal_init();

	if (rte_eth_dev_get_port_by_name("net_ring0", &g.port) < 0)
		return 1;
	dcfg.port_id = g.port;
	d = drv_create(&dcfg);
	/* A per-lcore cache, as a PMD's pool has: the refill takes no lock. */
	pool = rte_pktmbuf_pool_create(
	    "gen", N_GEN, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (!d || !pool)
		return 1;
	g.pool = pool;
	if (prebuild(pool) < 0)
		return 1;

	for (int f = 0; f < N_FLOWS; f++) {
		struct drv_flow_cfg fc = {.id = (uint32_t)(1 + f), .rx_geom = geom, .rx = &fds[f]};

		fc.rx_spec.proto = 17;
		fc.rx_spec.kind = FLT_KIND_BOUND;
		fc.rx_spec.local_addr = htonl(0x0a000001);
		fc.rx_spec.local_port = htons((uint16_t)(7000 + f));
		if (drv_flow_add(d, &fc) < 0) {
			fprintf(stderr, "drv_rx: flow: %s\n", drv_errmsg());
			return 1;
		}
	}
	/*
	 * Alternate the anchor (the port and the generator alone) and the
	 * driver (the same, with classify + copy + post in between), RUNS
	 * times each, and take medians: the machine's load drifts.
	 */
	for (int run = 0; run < RUNS; run++) {
		uint64_t before = 0, after = 0, pkts = 0;

		t0 = bench_now_ns();
		for (uint64_t it = 0; it < iters / RUNS; it++) {
			struct rte_mbuf *m[32];
			unsigned n;

			gen_offer(&g);
			n = rte_eth_rx_burst(g.port, 0, m, 32);
			rte_pktmbuf_free_bulk(m, n);
			pkts += n;
		}
		t1 = bench_now_ns();
		anchor_runs[run] = (double)pkts / (double)(t1 - t0) * 1e3;

		before = delivered_sum(d, NULL);
		t0 = bench_now_ns();
		for (uint64_t it = 0; it < iters / RUNS; it++) {
			gen_offer(&g);
			drv_poll(d);
		}
		t1 = bench_now_ns();
		after = delivered_sum(d, NULL);
		drv_runs[run] = (double)(after - before) / (double)(t1 - t0) * 1e3;
	}
	delivered = delivered_sum(d, &nobuf);
	mpps = bench_median(drv_runs, RUNS);
	anchor = bench_median(anchor_runs, RUNS);
	atomic_store(&sh->stop, 1);
	waitpid(pid, NULL, 0);

	rep = (struct bench_report){
	    .name = "drv_rx",
	    .unit = "Mpps",
	    .value = mpps,
	    .better = "higher",
	    .anchor_name = "plain rx loop, same port",
	    .anchor_value = anchor,
	    .target = ">= 14.88 Mpps (10GbE line rate, 64 B)",
	    .params = params = json_pack("{s:i, s:i, s:I, s:I, s:I, s:i, s:[f,f,f,f,f], s:s, s:I}",
		"flows", N_FLOWS, "frame_bytes", FRAME, "delivered", (json_int_t)delivered,
		"dropped_no_buffer", (json_int_t)nobuf, "drained_by_app",
		(json_int_t)atomic_load(&sh->drained), "runs", RUNS, "driver_mpps_sorted",
		drv_runs[0], drv_runs[1], drv_runs[2], drv_runs[3], drv_runs[4], "port",
		"net_ring0 fed by an in-thread generator", "generator_short_of_mbufs",
		(json_int_t)g.short_pool),
	};
	drv_destroy(d);
	rc = bench_report_write(out, &rep);
	json_decref(params);
	for (int f = 0; f < N_FLOWS; f++)
		rbuf_chan_destroy(ch[f]);
	return rc < 0;
}
