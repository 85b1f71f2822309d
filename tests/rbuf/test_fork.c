/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two processes, one channel: ten million records with sequence numbers and
 * payload checksums arrive in order and intact.
 *
 * Usage: test_rbuf_fork tmm|rmm poll|block [records]
 *
 * The parent creates the channel as the master of the mode (the sender in
 * TMM, the receiver in RMM), forks, and the child attaches the other side
 * through the inherited descriptors, exactly as it would after receiving
 * them with SCM_RIGHTS. Records carry 1 to 3 pieces inside one buffer;
 * the payload starts with the sequence number and a checksum of the rest.
 *
 * "poll" spins (yielding now and then, the machine may have fewer cores
 * than runnable tests); "block" sleeps in rbuf_ec_await() whenever there is
 * nothing to do, so every hand-over between idle phases goes through the
 * sleep/wake protocol. A lost wake-up shows up as a 5-second timeout, which
 * fails the test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>

#include <cmocka.h>

#include "tests/rbuf/chan_pair.h"

#define N_RECS	 256
#define N_BUFS	 256 /* never more than a ring holds: the put cannot fail */
#define BUF_SIZE 2048
#define BURST	 32
#define HDR	 16 /* u64 seq, u64 checksum */

static enum rbuf_mode mode;
static bool blocking;
static uint64_t n_records = 10000000;

static const char *
mode_name(void)
{
	return mode == RBUF_MODE_TMM ? "tmm" : "rmm";
}

/* Fletcher-style sum over bytes: cheap, and order-sensitive. */
struct csum {
	uint64_t a, b;
};

static void
csum_add(struct csum *c, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		c->a += p[i];
		c->b += c->a;
	}
}

static uint64_t
csum_final(const struct csum *c)
{
	return c->a ^ (c->b << 17) ^ (c->b >> 47);
}

/* Length of record @seq's payload, header included: 16..400 bytes. */
static uint32_t
rec_len(uint64_t seq)
{
	return HDR + (uint32_t)((seq * 2654435761u) % 385);
}

/*
 * Write record @seq into the buffer at @off and describe it in @r, split
 * into 1..3 aligned pieces laid end to end.
 */
static void
fill_record(struct rbuf_chan *ch, uint32_t off, uint64_t seq, struct rbuf_iorec *r)
{
	uint8_t *b = rbuf_data(ch) + off;
	uint32_t len = rec_len(seq);
	uint64_t rng = seq * 0x9E3779B97F4A7C15ull + 1;
	struct csum c = {0, 0};
	uint32_t rest, cut;

	for (uint32_t i = HDR; i < len; i += 8) {
		uint64_t w = rng_next(&rng);

		memcpy(b + i, &w, len - i < 8 ? len - i : 8);
	}
	csum_add(&c, b + HDR, len - HDR);
	memcpy(b, &seq, 8);
	memcpy(b + 8, &(uint64_t){csum_final(&c)}, 8);

	r->tag = (uint32_t)seq;
	r->flags = 0;
	r->n_pieces = 0;
	rest = len;
	while (rest) {
		/* The first piece holds the header; later cuts stay aligned. */
		cut = rest;
		if (r->n_pieces < 2 && rest > 32 && (seq + r->n_pieces) % 3) {
			cut = 16 + 8 * (uint32_t)((seq >> 3) % ((rest - 16) / 8));
			if (cut == 0 || cut >= rest)
				cut = rest;
		}
		r->piece[r->n_pieces].off = off + (len - rest);
		r->piece[r->n_pieces].len = cut;
		r->n_pieces++;
		rest -= cut;
	}
}

/* Check one record; returns 0 or a description of what is wrong. */
static const char *
check_record(struct rbuf_chan *ch, const struct rbuf_iorec *r, uint64_t want)
{
	struct csum c = {0, 0};
	uint8_t hdr[HDR];
	uint64_t seq, sum;
	uint32_t total = 0, got_hdr = 0;

	if (r->tag != (uint32_t)want)
		return "tag out of order";
	for (unsigned i = 0; i < r->n_pieces; i++) {
		const uint8_t *p = rbuf_piece_ptr(ch, &r->piece[i]);
		uint32_t len = r->piece[i].len, h = 0;

		while (got_hdr < HDR && h < len)
			hdr[got_hdr++] = p[h++];
		csum_add(&c, p + h, len - h);
		total += len;
	}
	if (got_hdr < HDR)
		return "short record";
	memcpy(&seq, hdr, 8);
	memcpy(&sum, hdr + 8, 8);
	if (seq != want)
		return "sequence number out of order";
	if (total != rec_len(seq))
		return "length differs";
	if (sum != csum_final(&c))
		return "payload checksum differs";
	return NULL;
}

/* What a side saw when it gave up: its counters and the shared counts. */
static void
dump_state(struct rbuf_chan *ch, const char *who)
{
	struct rbuf_stats st;
	size_t sz;
	uint8_t *ctrl = rbuf__ctrl_base(ch, &sz);
	const struct rbuf_shm_ring *full =
	    (const void *)(ctrl + rbuf_shm_ring_off(N_RECS, 3, RBUF_RING_FULL));
	const struct rbuf_shm_ring *empty =
	    (const void *)(ctrl + rbuf_shm_ring_off(N_RECS, 3, RBUF_RING_EMPTY));

	rbuf_chan_stats(ch, &st);
	fprintf(stderr,
	    "%s: put %llu got %llu dropped %llu sleeps %llu kicks %llu bad-index %llu; "
	    "FULL prod %u cons %u sleep %u, EMPTY prod %u cons %u sleep %u\n",
	    who, (unsigned long long)st.put, (unsigned long long)st.got,
	    (unsigned long long)st.dropped, (unsigned long long)st.sleeps,
	    (unsigned long long)st.kicks, (unsigned long long)st.err[RBUF_ERR_BAD_INDEX],
	    atomic_load(&full->prod), atomic_load(&full->cons), atomic_load(&full->sleep_seq),
	    atomic_load(&empty->prod), atomic_load(&empty->cons), atomic_load(&empty->sleep_seq));
}

/* Nothing to do: spin a little or sleep until the peer acts. */
static int
idle(struct rbuf_chan *ch, unsigned *spins)
{
	int rc;

	if (!blocking) {
		if (++*spins % 256 == 0)
			sched_yield();
		else
			sluice_cpu_relax();
		return 0;
	}
	rc = rbuf_ec_await(ch, 5000);
	if (rc == 0)
		return -ETIMEDOUT;		/* a lost wake-up, or a stuck peer */
	return rc < 0 && rc != -EINTR ? rc : 0; /* -EPIPE: the peer died early */
}

static int
run_sender(struct rbuf_chan *ch)
{
	uint32_t free_bufs[N_BUFS];
	unsigned n_free = 0, spins = 0;
	struct rbuf_iorec r[BURST];
	uint64_t seq = 0;

	if (mode == RBUF_MODE_TMM)
		for (unsigned i = 0; i < N_BUFS; i++)
			free_bufs[n_free++] = i * BUF_SIZE;

	while (seq < n_records) {
		unsigned n = 0, got;

		if (mode == RBUF_MODE_TMM) {
			/* Buffers come back on EMPTY; they must be ours. */
			got = rbuf_get_burst(ch, r, BURST);
			for (unsigned i = 0; i < got; i++) {
				if (r[i].piece[0].off % BUF_SIZE || n_free == N_BUFS) {
					fprintf(stderr, "sender: bad buffer returned\n");
					return 1;
				}
				free_bufs[n_free++] = r[i].piece[0].off;
			}
			while (n < BURST && n_free && seq + n < n_records) {
				fill_record(ch, free_bufs[--n_free], seq + n, &r[n]);
				n++;
			}
		} else {
			/* Empty buffers come on EMPTY; fill and return them. */
			n = rbuf_get_burst(
			    ch, r, (unsigned)(n_records - seq < BURST ? n_records - seq : BURST));
			for (unsigned i = 0; i < n; i++) {
				uint32_t off = r[i].piece[0].off;

				if (r[i].n_pieces != 1 || r[i].piece[0].len < 400) {
					fprintf(stderr, "sender: empty buffer too small\n");
					return 1;
				}
				fill_record(ch, off, seq + i, &r[i]);
			}
		}
		if (n == 0) {
			int rc = idle(ch, &spins);

			if (rc < 0) {
				fprintf(stderr, "sender: stalled at %llu: %s\n",
				    (unsigned long long)seq, strerror(-rc));
				dump_state(ch, "sender");
				return 1;
			}
			continue;
		}
		if (rbuf_put_burst(ch, r, n) != n) {
			fprintf(stderr, "sender: ring full with %u buffers out\n", N_BUFS);
			return 1;
		}
		seq += n;
	}
	return 0;
}

static int
run_receiver(struct rbuf_chan *ch)
{
	struct rbuf_iorec r[BURST];
	unsigned spins = 0;
	uint64_t want = 0;

	if (mode == RBUF_MODE_RMM) {
		for (unsigned i = 0; i < N_BUFS; i++) {
			r[i % BURST] = rec1(i * BUF_SIZE, BUF_SIZE, i);
			if (i % BURST == BURST - 1 && rbuf_put_bulk(ch, r, BURST) != BURST)
				return 1;
		}
	}
	while (want < n_records) {
		unsigned n = rbuf_get_burst(ch, r, BURST);

		if (n == 0) {
			int rc = idle(ch, &spins);

			if (rc < 0) {
				fprintf(stderr, "receiver: stalled at %llu: %s\n",
				    (unsigned long long)want, strerror(-rc));
				dump_state(ch, "receiver");
				return 1;
			}
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			const char *why = check_record(ch, &r[i], want);

			if (why) {
				fprintf(stderr, "receiver: record %llu: %s\n",
				    (unsigned long long)want, why);
				return 1;
			}
			want++;
			if (mode == RBUF_MODE_RMM) {
				/* Re-post the whole buffer the record was in. */
				uint32_t buf = r[i].piece[0].off & ~(uint32_t)(BUF_SIZE - 1);

				r[i] = rec1(buf, BUF_SIZE, (uint32_t)want);
			}
		}
		if (rbuf_put_burst(ch, r, n) != n) {
			fprintf(stderr, "receiver: return ring full\n");
			return 1;
		}
	}
	return 0;
}

static int
run_side(struct rbuf_chan *ch, enum rbuf_side side)
{
	return side == RBUF_SIDE_SENDER ? run_sender(ch) : run_receiver(ch);
}

static void
test_every_record_arrives_in_order_and_intact(void **state)
{
	struct rbuf_chan_cfg cfg = {
	    .mode = mode,
	    .n_recs = N_RECS,
	    .max_pieces = 3,
	    .align = 8,
	    .data_size = N_BUFS * BUF_SIZE,
	};
	enum rbuf_side master = mode == RBUF_MODE_TMM ? RBUF_SIDE_SENDER : RBUF_SIDE_RECEIVER;
	enum rbuf_side slave = master == RBUF_SIDE_SENDER ? RBUF_SIDE_RECEIVER : RBUF_SIDE_SENDER;
	struct rbuf_chan *ch;
	struct rbuf_chan_fds fds;
	struct rbuf_stats st;
	struct timespec t0, t1;
	int status, rc;
	double secs;
	pid_t pid;
	(void)state;

	ch = rbuf_chan_create(&cfg, master);
	assert_non_null(ch);
	assert_int_equal(rbuf_chan_peer_fds(ch, &fds), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rbuf_chan *peer = rbuf_chan_attach(&cfg, slave, &fds);

		if (!peer) {
			fprintf(stderr, "child: attach: %s\n", rbuf_errmsg());
			_exit(2);
		}
		rbuf_chan_destroy(ch); /* the parent's handle, inherited */
		rc = run_side(peer, slave);
		rbuf_chan_destroy(peer);
		_exit(rc);
	}
	rbuf_chan_peer_fds_close(ch);
	rc = run_side(ch, master);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(rc, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	rbuf_chan_stats(ch, &st);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("  %s/%s: %llu records in %.2f s (%.2f M/s); master: put %llu got %llu "
		      "dropped %llu sleeps %llu kicks %llu\n",
	    mode_name(), blocking ? "block" : "poll", (unsigned long long)n_records, secs,
	    (double)n_records / secs / 1e6, (unsigned long long)st.put, (unsigned long long)st.got,
	    (unsigned long long)st.dropped, (unsigned long long)st.sleeps,
	    (unsigned long long)st.kicks);
	assert_int_equal(st.dropped, 0);
	if (blocking)
		assert_true(st.sleeps > 0);
	rbuf_chan_destroy(ch);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_record_arrives_in_order_and_intact),
	};
	char group[64];

	if (argc < 3) {
		fprintf(stderr, "usage: %s tmm|rmm poll|block [records]\n", argv[0]);
		return 2;
	}
	mode = strcmp(argv[1], "rmm") == 0 ? RBUF_MODE_RMM : RBUF_MODE_TMM;
	blocking = strcmp(argv[2], "block") == 0;
	if (argc > 3)
		n_records = strtoull(argv[3], NULL, 0);
	snprintf(group, sizeof(group), "rbuf_fork_%s_%s", mode_name(), argv[2]);
	return cmocka_run_group_tests_name(group, tests, NULL, NULL);
}
