/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rbuf_demo: an application and a "driver" in two processes share one Rbuf
 * channel (Transmit Master Mode: the application owns the buffers).
 *
 *   1. The application sends a million packets; the driver checks each one
 *      (sequence number and checksum) and hands the buffer back. The rate
 *      is printed.
 *   2. The application turns hostile and writes the shared control area
 *      directly: impossible piece counts, offsets outside the data area,
 *      unaligned and empty pieces, event counts that claim more than the
 *      ring holds, random bytes over every slot. The driver's counters show
 *      each rejection; it never crashes or stalls.
 *   3. The application behaves again and every packet gets through.
 *
 * Usage: rbuf_demo [packets]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/compiler.h"
#include "rbuf/rbuf.h"

#define N_RECS	 256
#define BUF_SIZE 2048
#define BURST	 32
#define TAG_STOP 0xffffffffu

static const struct rbuf_chan_cfg cfg = {
    .mode = RBUF_MODE_TMM,
    .n_recs = N_RECS,
    .max_pieces = 1,
    .align = 64,
    .data_size = N_RECS * BUF_SIZE,
    .name = "rbuf-demo",
};

/* What the driver reports to the demo, through a shared page. */
struct report {
	struct rbuf_stats st; /* the driver's channel counters */
	_Atomic uint64_t good;
	_Atomic uint64_t bad_payload;
	_Atomic uint32_t last_cons;
	_Atomic int done;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t
pkt_len(uint32_t seq)
{
	return 64 + (seq * 2654435761u) % (1500 - 64 + 1);
}

/* A toy payload: the sequence number, then bytes derived from it. */
static void
pkt_fill(uint8_t *b, uint32_t len, uint32_t seq)
{
	memcpy(b, &seq, 4);
	for (uint32_t i = 4; i < len; i++)
		b[i] = (uint8_t)(seq + i);
}

static bool
pkt_ok(const uint8_t *b, uint32_t len, uint32_t seq)
{
	uint32_t s;

	memcpy(&s, b, 4);
	if (s != seq || len != pkt_len(seq))
		return false;
	for (uint32_t i = 4; i < len; i += 61)
		if (b[i] != (uint8_t)(seq + i))
			return false;
	return b[len - 1] == (uint8_t)(seq + len - 1);
}

/* ---- the driver side ------------------------------------------------------ */

static int
driver_main(struct rbuf_chan *inherited, const struct rbuf_chan_fds *fds, struct report *rep)
{
	struct rbuf_chan *ch = rbuf_chan_attach(&cfg, RBUF_SIDE_RECEIVER, fds);
	struct rbuf_iorec r[BURST];
	uint32_t want = 0;

	/* The application's handle came along with fork(); drop it, so that
	 * only the driver's own descriptors stay open here. */
	rbuf_chan_destroy(inherited);
	if (!ch) {
		fprintf(stderr, "driver: attach refused: %s\n", rbuf_errmsg());
		return 1;
	}
	for (;;) {
		unsigned n = rbuf_get_burst(ch, r, BURST);

		if (n == 0) {
			rbuf_chan_stats(ch, &rep->st);
			/* Sleep until kicked; a hostile peer does not kick, so
			 * look again every 20 ms. */
			if (rbuf_ec_await(ch, 20) == -EPIPE && !rbuf_avail(ch))
				break;
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			const uint8_t *b = rbuf_piece_ptr(ch, &r[i].piece[0]);

			if (r[i].tag == TAG_STOP)
				atomic_store(&rep->done, 1);
			else if (r[i].tag == want && pkt_ok(b, r[i].piece[0].len, want))
				want++, atomic_fetch_add(&rep->good, 1);
			else
				atomic_fetch_add(&rep->bad_payload, 1);
		}
		/* Hand the buffers back; a peer that does not take them back
		 * only loses its own buffers. */
		(void)rbuf_put_burst(ch, r, n);
		rbuf_chan_stats(ch, &rep->st);
		if (atomic_load(&rep->done))
			break;
	}
	rbuf_chan_stats(ch, &rep->st);
	rbuf_chan_destroy(ch);
	return 0;
}

/* ---- the application side ------------------------------------------------- */

/*
 * The application's buffer pool: N_RECS buffers of BUF_SIZE bytes. A buffer
 * the driver hands back is taken only if it is one we sent and carries the
 * tag we sent it with: the application checks what comes from the other
 * side too, and a stale record left in the ring cannot free a buffer that
 * is in flight again.
 */
struct pool {
	struct rbuf_chan *ch;
	uint32_t free[N_RECS];
	uint32_t n_free;
	bool out[N_RECS];
	uint32_t tag[N_RECS];
};

static void
pool_init(struct pool *p, struct rbuf_chan *ch)
{
	memset(p, 0, sizeof(*p));
	p->ch = ch;
	for (uint32_t i = 0; i < N_RECS; i++)
		p->free[p->n_free++] = N_RECS - 1 - i;
}

/* Send @n good packets with sequence numbers from @seq; returns seconds. */
static double
send_packets(struct pool *p, uint32_t seq, uint32_t n)
{
	struct rbuf_iorec r[BURST];
	uint32_t end = seq + n;
	uint64_t t0 = now_ns();

	while (seq < end) {
		unsigned k = 0, got = rbuf_get_burst(p->ch, r, BURST), put;

		for (unsigned i = 0; i < got; i++) {
			uint32_t b = r[i].piece[0].off / BUF_SIZE;

			if (r[i].piece[0].off % BUF_SIZE == 0 && b < N_RECS && p->out[b] &&
			    p->tag[b] == r[i].tag) {
				p->out[b] = false;
				p->free[p->n_free++] = b;
			}
		}
		while (k < BURST && p->n_free && seq + k < end) {
			uint32_t b = p->free[--p->n_free], len = pkt_len(seq + k);

			pkt_fill(rbuf_data(p->ch) + b * BUF_SIZE, len, seq + k);
			memset(&r[k], 0, sizeof(r[k]));
			r[k].n_pieces = 1;
			r[k].tag = seq + k;
			r[k].piece[0].off = b * BUF_SIZE;
			r[k].piece[0].len = len;
			p->out[b] = true;
			p->tag[b] = seq + k;
			k++;
		}
		if (k == 0) {
			rbuf_ec_await(p->ch, 100); /* wait for buffers to come back */
			continue;
		}
		put = rbuf_put_burst(p->ch, r, k);
		for (unsigned i = put; i < k; i++) { /* not sent: still ours */
			p->out[r[i].piece[0].off / BUF_SIZE] = false;
			p->free[p->n_free++] = r[i].piece[0].off / BUF_SIZE;
		}
		seq += put;
	}
	return (double)(now_ns() - t0) / 1e9;
}

/* The attacker's raw view of the FULL ring, through its own mapping. */
struct raw {
	struct rbuf_shm_ring *ring;
	uint8_t *slots;
	uint32_t prod;
};

static void
raw_put(struct raw *w, uint16_t n_pieces, uint32_t off, uint32_t len)
{
	uint8_t *s = w->slots + (size_t)(w->prod++ & (N_RECS - 1)) * rbuf_shm_slot_size(1);
	struct rbuf_shm_iorec_hdr h = {.n_pieces = n_pieces, .tag = 0xbad};
	struct rbuf_shm_piece p = {.off = off, .len = len};

	memcpy(s, &h, sizeof(h));
	memcpy(s + sizeof(h), &p, sizeof(p));
}

/* Publish and wait until the driver has looked at everything. */
static void
raw_publish_and_wait(struct raw *w)
{
	uint64_t t0 = now_ns();

	atomic_store_explicit(&w->ring->prod, w->prod, memory_order_release);
	while (atomic_load(&w->ring->cons) != w->prod && now_ns() - t0 < 2000000000ull)
		usleep(1000);
}

static uint64_t
errs(const struct report *rep, enum rbuf_err e)
{
	return rep->st.err[e];
}

static void
attack_row(const char *what, uint64_t sent, uint64_t rejected)
{
	printf("  %-50s %8" PRIu64 " %10" PRIu64 "\n", what, sent, rejected);
}

int
main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 0) : 1000000;
	struct rbuf_chan *app, *again;
	struct rbuf_chan_fds fds, own;
	struct pool pool;
	struct rbuf_stats before;
	struct report *rep;
	size_t ctrl_size;
	struct raw w;
	double secs;
	uint64_t bytes = 0, t0;
	int status;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	rep = mmap(NULL, sizeof(*rep), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	app = rbuf_chan_create(&cfg, RBUF_SIDE_SENDER);
	if (rep == MAP_FAILED || !app || rbuf_chan_peer_fds(app, &fds) < 0) {
		fprintf(stderr, "rbuf_demo: %s\n", rbuf_errmsg());
		return 1;
	}
	memset(rep, 0, sizeof(*rep));
	pid = fork();
	if (pid == 0)
		_exit(driver_main(app, &fds, rep));
	rbuf_chan_peer_fds_close(app);

	printf("Sluice Rbuf channel demonstration\n\n");
	printf("channel: Transmit Master Mode, %u iorecs per ring, %u KiB data area in a\n"
	       "sealed memfd, application pid %d, driver pid %d\n\n",
	    N_RECS, N_RECS * BUF_SIZE / 1024, (int)getpid(), (int)pid);

	/* 1. Honest traffic. */
	pool_init(&pool, app);
	secs = send_packets(&pool, 0, n);
	while (atomic_load(&rep->good) < n && atomic_load(&rep->bad_payload) == 0)
		usleep(1000);
	for (uint32_t i = 0; i < n; i++)
		bytes += pkt_len(i);
	printf("1. %u packets of 64..1500 bytes, application -> driver\n", n);
	printf("   delivered %" PRIu64 "/%u in order with intact payloads, %" PRIu64 " bad\n",
	    atomic_load(&rep->good), n, atomic_load(&rep->bad_payload));
	printf("   %.2f Mpps, %.2f Gbit/s of packet data, in %.2f s\n\n", n / secs / 1e6,
	    (double)bytes * 8 / secs / 1e9, secs);

	/* 2. The application turns hostile. */
	w.ring = (struct rbuf_shm_ring *)((uint8_t *)rbuf__ctrl_base(app, &ctrl_size) +
					  rbuf_shm_ring_off(N_RECS, 1, RBUF_RING_FULL));
	w.slots = (uint8_t *)w.ring + RBUF_SHM_SLOTS_OFF;
	w.prod = atomic_load(&w.ring->prod);
	printf("2. the application writes the shared control area directly\n");
	printf("  %-50s %8s %10s\n", "attack", "records", "rejected");

	before = rep->st;
	for (int i = 0; i < 1000; i++) {
		raw_put(&w, i % 2 ? 0 : 200, 0, 64);
		if (i % 200 == 199)
			raw_publish_and_wait(&w);
	}
	attack_row("piece count 0 or 200 (maximum 1)", 1000,
	    errs(rep, RBUF_ERR_BAD_NPIECES) - before.err[RBUF_ERR_BAD_NPIECES]);

	before = rep->st;
	for (int i = 0; i < 1000; i++) {
		raw_put(
		    &w, 1, i % 2 ? 0xffffffc0u : (uint32_t)cfg.data_size - 64, i % 2 ? 128 : 65);
		if (i % 200 == 199)
			raw_publish_and_wait(&w);
	}
	attack_row("piece outside the data area (incl. 32-bit wrap)", 1000,
	    errs(rep, RBUF_ERR_BAD_RANGE) - before.err[RBUF_ERR_BAD_RANGE]);

	before = rep->st;
	for (int i = 0; i < 1000; i++) {
		raw_put(&w, 1, 64 * (uint32_t)i + 1 + (uint32_t)i % 63, 64);
		if (i % 200 == 199)
			raw_publish_and_wait(&w);
	}
	attack_row("piece offset not 64-byte aligned", 1000,
	    errs(rep, RBUF_ERR_BAD_ALIGN) - before.err[RBUF_ERR_BAD_ALIGN]);

	before = rep->st;
	for (int i = 0; i < 1000; i++) {
		raw_put(&w, 1, 0, 0);
		if (i % 200 == 199)
			raw_publish_and_wait(&w);
	}
	attack_row("empty piece", 1000, errs(rep, RBUF_ERR_BAD_LEN) - before.err[RBUF_ERR_BAD_LEN]);

	before = rep->st;
	atomic_store(&w.ring->prod, w.prod + 10 * N_RECS);
	usleep(200 * 1000);
	atomic_store(&w.ring->prod, w.prod - 5); /* and backwards */
	usleep(200 * 1000);
	atomic_store(&w.ring->prod, w.prod);
	attack_row("event count 10 rings ahead, then 5 behind (polls)", 0,
	    errs(rep, RBUF_ERR_BAD_INDEX) - before.err[RBUF_ERR_BAD_INDEX]);

	before = rep->st;
	{
		uint64_t rng = 0x5eed;

		for (int round = 0; round < 100; round++) {
			for (size_t i = 0; i < N_RECS * rbuf_shm_slot_size(1); i += 4) {
				rng = rng * 6364136223846793005ull + 1442695040888963407ull;
				memcpy(w.slots + i, &(uint32_t){(uint32_t)(rng >> 32)}, 4);
			}
			w.prod += N_RECS; /* a full ring of garbage */
			raw_publish_and_wait(&w);
		}
	}
	{
		uint64_t dropped = rep->st.dropped - before.dropped;
		uint64_t passed = rep->st.got - before.got;

		attack_row("random bytes over every slot, 100 full rings", 100 * N_RECS, dropped);
		printf("  %-50s %8s %10" PRIu64 "\n", "  (records that happened to lie in bounds)",
		    "", passed);
	}
	printf("\n   driver's error counters for this channel:\n");
	for (int e = 0; e < RBUF_ERR_MAX; e++)
		printf("     %-12s %10" PRIu64 "  %s\n", rbuf_err_name((enum rbuf_err)e),
		    rep->st.err[e], rbuf_err_desc((enum rbuf_err)e));
	printf("   the driver never stopped: it is still serving the channel (pid %d alive)\n\n",
	    (int)pid);

	/*
	 * 3. Honest again. Its old handle's private counts no longer match what
	 * it wrote by hand, so it attaches its own side afresh: the new handle
	 * picks up the counts as they stand in shared memory.
	 */
	t0 = atomic_load(&rep->good);
	rbuf_chan_fds(app, &own);
	again = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &own);
	if (!again) {
		fprintf(stderr, "rbuf_demo: re-attach: %s\n", rbuf_errmsg());
		return 1;
	}
	pool_init(&pool, again);
	(void)send_packets(&pool, (uint32_t)t0, 1000);
	{
		struct rbuf_iorec stop = {.n_pieces = 1, .tag = TAG_STOP, .piece = {{0, 64}}};

		while (rbuf_put_burst(again, &stop, 1) != 1)
			usleep(1000);
	}
	waitpid(pid, &status, 0);
	printf("3. the application behaves again: %" PRIu64 "/1000 packets delivered\n",
	    atomic_load(&rep->good) - t0);
	rbuf_chan_destroy(again);
	rbuf_chan_destroy(app);
	return atomic_load(&rep->good) - t0 == 1000 && WIFEXITED(status) && WEXITSTATUS(status) == 0
		   ? 0
		   : 1;
}
