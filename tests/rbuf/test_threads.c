/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two threads, one channel, a million records each way: the same protocol
 * as two processes, but visible to ThreadSanitizer (`make tsan`), which
 * checks that every access to a slot is ordered by the event counts'
 * acquire/release pairs and that the sleep/wake protocol loses nothing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/rbuf/chan_pair.h"

#define N_RECS 64
#define COUNT  1000000

struct side {
	struct rbuf_chan *ch;
	bool blocking;
	uint64_t bad;
};

static void
wait_for_work(struct side *s)
{
	if (s->blocking)
		rbuf_ec_await(s->ch, 1000);
	else
		sluice_cpu_relax();
}

/* Sender: owns the buffers (TMM), writes the sequence number into each. */
static void *
sender(void *arg)
{
	struct side *s = arg;
	struct rbuf_iorec r[16];
	uint32_t free_bufs[N_RECS], n_free = 0, seq = 0;

	for (uint32_t i = 0; i < N_RECS; i++)
		free_bufs[n_free++] = i * 64;
	while (seq < COUNT) {
		unsigned k = 0, got = rbuf_get_burst(s->ch, r, 16);

		for (unsigned i = 0; i < got; i++)
			free_bufs[n_free++] = r[i].piece[0].off;
		while (k < 16 && n_free && seq + k < COUNT) {
			uint32_t off = free_bufs[--n_free], v = seq + k;

			memcpy(rbuf_data(s->ch) + off, &v, 4);
			r[k] = rec1(off, 4, v);
			k++;
		}
		if (!k) {
			wait_for_work(s);
			continue;
		}
		seq += rbuf_put_burst(s->ch, r, k);
	}
	return NULL;
}

static void *
receiver(void *arg)
{
	struct side *s = arg;
	struct rbuf_iorec r[16];
	uint32_t want = 0;

	while (want < COUNT) {
		unsigned n = rbuf_get_burst(s->ch, r, 16);

		if (!n) {
			wait_for_work(s);
			continue;
		}
		for (unsigned i = 0; i < n; i++) {
			uint32_t v;

			memcpy(&v, rbuf_piece_ptr(s->ch, &r[i].piece[0]), 4);
			s->bad += v != want || r[i].tag != want;
			want++;
		}
		rbuf_put_burst(s->ch, r, n);
	}
	return NULL;
}

static void
run(bool blocking)
{
	struct rbuf_chan_cfg cfg = {
	    .mode = RBUF_MODE_TMM, .n_recs = N_RECS, .data_size = N_RECS * 64};
	struct chan_pair p;
	struct side snd, rcv;
	pthread_t ts, tr;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	snd = (struct side){.ch = p.snd, .blocking = blocking};
	rcv = (struct side){.ch = p.rcv, .blocking = blocking};
	assert_int_equal(pthread_create(&tr, NULL, receiver, &rcv), 0);
	assert_int_equal(pthread_create(&ts, NULL, sender, &snd), 0);
	pthread_join(ts, NULL);
	pthread_join(tr, NULL);
	assert_int_equal(rcv.bad, 0);
	chan_pair_close(&p);
}

static void
test_two_threads_polling_keep_order_and_data(void **state)
{
	(void)state;
	run(false);
}

static void
test_two_threads_blocking_lose_no_wakeup(void **state)
{
	(void)state;
	run(true);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_two_threads_polling_keep_order_and_data),
	    cmocka_unit_test(test_two_threads_blocking_lose_no_wakeup),
	};

	return cmocka_run_group_tests_name("rbuf_threads", tests, NULL, NULL);
}
