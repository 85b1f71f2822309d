/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbuf_handoff: how fast iorecs cross from one process to another through
 * an Rbuf channel, beside DPDK's rte_ring in the same run.
 *
 * Two processes pinned to two cores. One puts records on a channel's FULL
 * ring as fast as it can, the other gets them (each one copied out and
 * checked, as the driver would). The anchor is an rte_ring (single producer,
 * single consumer, 16-byte elements = one Rbuf slot with one piece) placed
 * in a shared memfd between the same two processes, with the same burst
 * sizes. Each figure is the median of several runs.
 *
 * Then the wake-up latency of a blocked receiver: a ping-pong over two
 * channels where each side sleeps in rbuf_ec_await(), beside a ping-pong of
 * two processes blocking in read() on two eventfds. Half the round trip is
 * reported.
 *
 * Writes out/bench/rbuf_handoff.json and out/bench/rbuf_wakeup.json.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "bench/bench_report.h"
#include "common/compiler.h"
#include "rbuf/rbuf.h"

#define RING_SLOTS 1024
#define RUNS	   7
#define MAX_BURST  32
#define PING_WARM  1000

/* A 16-byte element, the size of a one-piece Rbuf slot. */
struct elem {
	uint64_t a, b;
};

/* Start line and finish times, shared by the two processes. */
struct shared {
	_Alignas(64) atomic_int ready;
	_Alignas(64) atomic_int go;
	_Alignas(64) uint64_t t_end;
	uint64_t checksum;
};

static struct shared *
shared_map(void)
{
	void *p = mmap(
	    NULL, sizeof(struct shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	memset(p, 0, sizeof(struct shared));
	return p;
}

static void
start_line(struct shared *sh, bool leader)
{
	atomic_fetch_add(&sh->ready, 1);
	if (leader) {
		while (atomic_load(&sh->ready) < 2)
			sluice_cpu_relax();
		atomic_store(&sh->go, 1);
	}
	while (!atomic_load(&sh->go))
		sluice_cpu_relax();
}

/* Fork a child pinned to cpu 1 running fn(arg); the parent is on cpu 0. */
static pid_t
spawn(int (*fn)(void *), void *arg)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		bench_pin_cpu(1);
		_exit(fn(arg));
	}
	bench_pin_cpu(0);
	return pid;
}

static int
reap(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "rbuf_handoff: child failed\n");
		return -1;
	}
	return 0;
}

/* ---- Rbuf one-way stream ------------------------------------------------ */

struct rbuf_run {
	struct rbuf_chan *ch;
	struct rbuf_chan_cfg cfg;
	struct rbuf_chan_fds fds;
	struct shared *sh;
	uint64_t n;
	unsigned burst;
};

static int
rbuf_consumer(void *arg)
{
	struct rbuf_run *r = arg;
	struct rbuf_iorec recs[MAX_BURST];
	struct rbuf_chan *ch = rbuf_chan_attach(&r->cfg, RBUF_SIDE_RECEIVER, &r->fds);
	uint64_t got = 0, sum = 0;

	if (!ch) {
		fprintf(stderr, "attach: %s\n", rbuf_errmsg());
		return 1;
	}
	start_line(r->sh, false);
	while (got < r->n) {
		unsigned k = rbuf_get_burst(ch, recs, r->burst);

		for (unsigned i = 0; i < k; i++)
			sum += recs[i].tag;
		got += k;
		if (!k)
			sluice_cpu_relax();
	}
	r->sh->t_end = bench_now_ns();
	r->sh->checksum = sum;
	rbuf_chan_destroy(ch);
	return 0;
}

/* Millions of records per second through one Rbuf channel. */
static double
rbuf_stream(uint64_t n, unsigned burst)
{
	struct rbuf_run r = {
	    .cfg = {.mode = RBUF_MODE_TMM, .n_recs = RING_SLOTS, .max_pieces = 1},
	    .n = n,
	    .burst = burst,
	};
	struct rbuf_iorec recs[MAX_BURST];
	uint64_t sent = 0, t0;
	double rate;
	pid_t pid;

	r.sh = shared_map();
	r.ch = rbuf_chan_create(&r.cfg, RBUF_SIDE_SENDER);
	if (!r.ch || rbuf_chan_peer_fds(r.ch, &r.fds) < 0) {
		fprintf(stderr, "create: %s\n", rbuf_errmsg());
		exit(1);
	}
	for (unsigned i = 0; i < MAX_BURST; i++) {
		memset(&recs[i], 0, sizeof(recs[i]));
		recs[i].n_pieces = 1;
		recs[i].tag = 1;
		recs[i].piece[0].off = i * 64;
		recs[i].piece[0].len = 64;
	}
	pid = spawn(rbuf_consumer, &r);
	start_line(r.sh, true);
	t0 = bench_now_ns();
	while (sent < n) {
		unsigned want = n - sent < burst ? (unsigned)(n - sent) : burst;
		unsigned k = rbuf_put_burst(r.ch, recs, want);

		sent += k;
		if (!k)
			sluice_cpu_relax();
	}
	if (reap(pid) < 0 || r.sh->checksum != n)
		exit(1);
	rate = (double)n / (double)(r.sh->t_end - t0) * 1e3;
	rbuf_chan_destroy(r.ch);
	munmap(r.sh, sizeof(*r.sh));
	return rate;
}

/* ---- rte_ring one-way stream, same shape -------------------------------- */

struct ring_run {
	struct rte_ring *ring;
	struct shared *sh;
	uint64_t n;
	unsigned burst;
};

static int
ring_consumer(void *arg)
{
	struct ring_run *r = arg;
	struct elem e[MAX_BURST];
	uint64_t got = 0, sum = 0;

	start_line(r->sh, false);
	while (got < r->n) {
		unsigned k =
		    rte_ring_dequeue_burst_elem(r->ring, e, sizeof(struct elem), r->burst, NULL);

		for (unsigned i = 0; i < k; i++)
			sum += e[i].a;
		got += k;
		if (!k)
			sluice_cpu_relax();
	}
	r->sh->t_end = bench_now_ns();
	r->sh->checksum = sum;
	return 0;
}

static double
ring_stream(uint64_t n, unsigned burst)
{
	ssize_t sz = rte_ring_get_memsize_elem(sizeof(struct elem), RING_SLOTS);
	struct ring_run r = {.n = n, .burst = burst};
	struct elem e[MAX_BURST];
	uint64_t sent = 0, t0;
	double rate;
	pid_t pid;

	/* Shared memory between the two processes, as the Rbuf channel's. */
	r.ring = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r.ring == MAP_FAILED ||
	    rte_ring_init(r.ring, "anchor", RING_SLOTS, RING_F_SP_ENQ | RING_F_SC_DEQ) < 0) {
		fprintf(stderr, "rte_ring_init failed\n");
		exit(1);
	}
	r.sh = shared_map();
	for (unsigned i = 0; i < MAX_BURST; i++)
		e[i] = (struct elem){.a = 1, .b = i * 64};
	pid = spawn(ring_consumer, &r);
	start_line(r.sh, true);
	t0 = bench_now_ns();
	while (sent < n) {
		unsigned want = n - sent < burst ? (unsigned)(n - sent) : burst;
		unsigned k =
		    rte_ring_enqueue_burst_elem(r.ring, e, sizeof(struct elem), want, NULL);

		sent += k;
		if (!k)
			sluice_cpu_relax();
	}
	if (reap(pid) < 0 || r.sh->checksum != n)
		exit(1);
	rate = (double)n / (double)(r.sh->t_end - t0) * 1e3;
	munmap(r.ring, (size_t)sz);
	munmap(r.sh, sizeof(*r.sh));
	return rate;
}

/* ---- wake-up latency ----------------------------------------------------- */

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sort @lat and give its median and 99th percentile. */
static void
lat_summary(uint64_t *lat, unsigned n, double *median, double *p99)
{
	qsort(lat, n, sizeof(*lat), cmp_u64);
	*median = (double)lat[n / 2];
	*p99 = (double)lat[n * 99 / 100];
	free(lat);
}

struct ping {
	struct rbuf_chan_cfg cfg;
	struct rbuf_chan_fds ab, ba; /* A->B channel, B->A channel */
	int efd_ab, efd_ba;
	unsigned n;
};

static int
rbuf_ponger(void *arg)
{
	struct ping *p = arg;
	struct rbuf_chan *in = rbuf_chan_attach(&p->cfg, RBUF_SIDE_RECEIVER, &p->ab);
	struct rbuf_chan *out = rbuf_chan_attach(&p->cfg, RBUF_SIDE_SENDER, &p->ba);
	struct rbuf_iorec r;

	if (!in || !out)
		return 1;
	for (unsigned i = 0; i < p->n + PING_WARM; i++) {
		if (rbuf_ec_await(in, 5000) <= 0 || rbuf_get_burst(in, &r, 1) != 1)
			return 1;
		if (rbuf_put_burst(out, &r, 1) != 1)
			return 1;
	}
	rbuf_chan_destroy(in);
	rbuf_chan_destroy(out);
	return 0;
}

/* Median and 99th percentile of one-way wake-up latency in ns. */
static void
rbuf_wakeup(unsigned n, double *median, double *p99)
{
	struct ping p = {.cfg = {.mode = RBUF_MODE_TMM, .n_recs = 64}, .n = n};
	struct rbuf_chan *ab = rbuf_chan_create(&p.cfg, RBUF_SIDE_SENDER);
	struct rbuf_chan *ba = rbuf_chan_create(&p.cfg, RBUF_SIDE_RECEIVER);
	uint64_t *lat = calloc(n, sizeof(*lat));
	struct rbuf_iorec r = {.n_pieces = 1, .piece = {{0, 64}}};
	pid_t pid;

	if (!ab || !ba || !lat || rbuf_chan_peer_fds(ab, &p.ab) < 0 ||
	    rbuf_chan_peer_fds(ba, &p.ba) < 0)
		exit(1);
	pid = spawn(rbuf_ponger, &p);
	rbuf_chan_peer_fds_close(ab);
	rbuf_chan_peer_fds_close(ba);
	for (unsigned i = 0; i < n + PING_WARM; i++) {
		uint64_t t0 = bench_now_ns();

		if (rbuf_put_burst(ab, &r, 1) != 1 || rbuf_ec_await(ba, 5000) <= 0 ||
		    rbuf_get_burst(ba, &r, 1) != 1)
			exit(1);
		if (i >= PING_WARM)
			lat[i - PING_WARM] = (bench_now_ns() - t0) / 2;
	}
	if (reap(pid) < 0)
		exit(1);
	lat_summary(lat, n, median, p99);
	rbuf_chan_destroy(ab);
	rbuf_chan_destroy(ba);
}

static int
efd_ponger(void *arg)
{
	struct ping *p = arg;
	uint64_t v;

	for (unsigned i = 0; i < p->n + PING_WARM; i++) {
		if (read(p->efd_ab, &v, 8) != 8 || write(p->efd_ba, &v, 8) != 8)
			return 1;
	}
	return 0;
}

static void
efd_wakeup(unsigned n, double *median, double *p99)
{
	struct ping p = {.n = n};
	uint64_t *lat = calloc(n, sizeof(*lat)), v = 1;
	pid_t pid;

	p.efd_ab = eventfd(0, EFD_CLOEXEC);
	p.efd_ba = eventfd(0, EFD_CLOEXEC);
	if (!lat || p.efd_ab < 0 || p.efd_ba < 0)
		exit(1);
	pid = spawn(efd_ponger, &p);
	for (unsigned i = 0; i < n + PING_WARM; i++) {
		uint64_t t0 = bench_now_ns();

		if (write(p.efd_ab, &v, 8) != 8 || read(p.efd_ba, &v, 8) != 8)
			exit(1);
		if (i >= PING_WARM)
			lat[i - PING_WARM] = (bench_now_ns() - t0) / 2;
	}
	if (reap(pid) < 0)
		exit(1);
	lat_summary(lat, n, median, p99);
	close(p.efd_ab);
	close(p.efd_ba);
}

/* ---- driver -------------------------------------------------------------- */

/*
 * Run Rbuf and its anchor alternately, @runs times each, so that drift in
 * the machine's load hits both alike. Reports the median rate of each and
 * the median of the per-pair ratios (more robust on a noisy machine than
 * the ratio of medians).
 */
static void
paired(uint64_t n, unsigned burst, unsigned runs, double *rbuf, double *ring, double *ratio)
{
	double a[RUNS], b[RUNS], r[RUNS];

	for (unsigned i = 0; i < runs; i++) {
		b[i] = ring_stream(n, burst);
		a[i] = rbuf_stream(n, burst);
		r[i] = a[i] / b[i];
	}
	*rbuf = bench_median(a, runs);
	*ring = bench_median(b, runs);
	*ratio = bench_median(r, runs);
}

int
main(int argc, char **argv)
{
	const char *out = bench_out_dir(argc, argv);
	bool quick = bench_quick(argc, argv);
	uint64_t n32 = quick ? 2000000 : 50000000, n1 = quick ? 500000 : 10000000;
	unsigned runs = quick ? 3 : RUNS, pings = quick ? 2000 : 20000;
	double rb32, rr32, rb1, rr1, ratio32, ratio1, wr_med, wr_p99, we_med, we_p99;
	struct bench_report rep;
	json_t *params;
	int rc;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		fprintf(stderr, "rbuf_handoff: fewer than 2 CPUs, figures are not meaningful\n");
	signal(SIGPIPE, SIG_IGN);

	paired(n32, 32, runs, &rb32, &rr32, &ratio32);
	paired(n1, 1, runs, &rb1, &rr1, &ratio1);
	efd_wakeup(pings, &we_med, &we_p99);
	rbuf_wakeup(pings, &wr_med, &wr_p99);

	params = json_pack("{s:i, s:i, s:I, s:I, s:i, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f}",
	    "ring_slots", RING_SLOTS, "slot_bytes", 16, "records_burst32", (json_int_t)n32,
	    "records_burst1", (json_int_t)n1, "runs", runs, "median_pair_ratio_burst32", ratio32,
	    "median_pair_ratio_burst1", ratio1, "rbuf_burst1_mrps", rb1, "rte_ring_burst1_mrps",
	    rr1, "rbuf_burst32_ns_per_rec", 1e3 / rb32, "rte_ring_burst32_ns_per_rec", 1e3 / rr32,
	    "rbuf_burst1_ns_per_rec", 1e3 / rb1, "rte_ring_burst1_ns_per_rec", 1e3 / rr1);
	rep = (struct bench_report){
	    .name = "rbuf_handoff",
	    .unit = "Mrec/s",
	    .value = rb32,
	    .better = "higher",
	    .anchor_name = "rte_ring SP/SC burst 32",
	    .anchor_value = rr32,
	    .target = ">= 0.8x rte_ring",
	    .params = params,
	};
	rc = bench_report_write(out, &rep);
	json_decref(params);
	if (rc < 0)
		return 1;

	params = json_pack("{s:i, s:f, s:f, s:s}", "round_trips", pings, "rbuf_p99_ns", wr_p99,
	    "eventfd_p99_ns", we_p99, "method",
	    "half the round trip of a two-process ping-pong, both sides blocked");
	rep = (struct bench_report){
	    .name = "rbuf_wakeup",
	    .unit = "ns",
	    .value = wr_med,
	    .better = "lower",
	    .anchor_name = "eventfd ping-pong",
	    .anchor_value = we_med,
	    .target = "informational",
	    .params = params,
	};
	rc = bench_report_write(out, &rep);
	json_decref(params);
	return rc < 0;
}
