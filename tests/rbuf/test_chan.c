/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Single-process behaviour of an Rbuf channel: wrap-around, full and empty
 * rings, burst against bulk, both modes, multi-piece records, blocking
 * wake-ups, epoll, and the peer going away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/rbuf/chan_pair.h"

static void
test_put_then_get_returns_the_same_records(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 16};
	struct rbuf_iorec in[5], out[8];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 5; i++) {
		in[i] = rec1(i * 2048, 100 + i, 1000 + i);
		in[i].flags = (uint16_t)i;
	}
	assert_int_equal(rbuf_put_burst(p.snd, in, 5), 5);
	assert_int_equal(rbuf_avail(p.rcv), 5);
	assert_int_equal(rbuf_get_burst(p.rcv, out, 8), 5);
	for (unsigned i = 0; i < 5; i++) {
		assert_int_equal(out[i].n_pieces, 1);
		assert_int_equal(out[i].tag, 1000 + i);
		assert_int_equal(out[i].flags, i);
		assert_int_equal(out[i].piece[0].off, i * 2048);
		assert_int_equal(out[i].piece[0].len, 100 + i);
	}
	assert_int_equal(rbuf_avail(p.rcv), 0);
	chan_pair_close(&p);
}

static void
test_empty_ring_gets_nothing_and_full_ring_takes_nothing(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_iorec r[16];
	struct rbuf_stats st;
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	assert_int_equal(rbuf_get_burst(p.rcv, r, 16), 0);
	assert_int_equal(rbuf_get_bulk(p.rcv, r, 1), 0);
	for (unsigned i = 0; i < 16; i++)
		r[i] = rec1(i * 8, 8, i);
	assert_int_equal(rbuf_room(p.snd), 8);
	/* A burst fills what fits; the ring then refuses more. */
	assert_int_equal(rbuf_put_burst(p.snd, r, 16), 8);
	assert_int_equal(rbuf_room(p.snd), 0);
	assert_int_equal(rbuf_put_burst(p.snd, r, 1), 0);
	assert_int_equal(rbuf_put_bulk(p.snd, r, 1), 0);
	/* Being full is not an error. */
	rbuf_chan_stats(p.snd, &st);
	assert_int_equal(st.err[RBUF_ERR_BAD_INDEX], 0);
	assert_int_equal(rbuf_get_burst(p.rcv, r, 16), 8);
	assert_int_equal(rbuf_room(p.snd), 8);
	chan_pair_close(&p);
}

static void
test_bulk_moves_all_or_nothing_while_burst_moves_what_it_can(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_iorec r[8];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 8; i++)
		r[i] = rec1(i * 8, 8, i);
	assert_int_equal(rbuf_put_bulk(p.snd, r, 6), 6);
	assert_int_equal(rbuf_put_bulk(p.snd, r, 3), 0); /* only 2 free */
	assert_int_equal(rbuf_room(p.snd), 2);
	assert_int_equal(rbuf_put_burst(p.snd, r, 3), 2);

	assert_int_equal(rbuf_get_bulk(p.rcv, r, 9), 0); /* only 8 ready */
	assert_int_equal(rbuf_avail(p.rcv), 8);
	assert_int_equal(rbuf_get_bulk(p.rcv, r, 5), 5);
	assert_int_equal(r[4].tag, 4);
	assert_int_equal(rbuf_get_burst(p.rcv, r, 8), 3);
	assert_int_equal(r[0].tag, 5);
	chan_pair_close(&p);
}

/* Start both rings just below 2^32 so the free-running counts wrap. */
static void
test_put_burst_wraps_at_ring_end_and_at_two_to_the_32(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_chan *owner, *snd, *rcv;
	struct rbuf_shm_ring *ring;
	struct rbuf_chan_fds fds;
	struct rbuf_iorec in[5], out[5];
	uint32_t next = 0, want = 0;
	size_t ctrl_size;
	uint8_t *ctrl;
	(void)state;

	owner = rbuf_chan_create(&cfg, RBUF_SIDE_SENDER);
	assert_non_null(owner);
	ctrl = rbuf__ctrl_base(owner, &ctrl_size);
	for (int id = 0; id < 2; id++) {
		ring = (struct rbuf_shm_ring *)(void *)(ctrl + rbuf_shm_ring_off(
								   8, 1, (enum rbuf_ring_id)id));
		atomic_store(&ring->prod, UINT32_MAX - 20);
		atomic_store(&ring->cons, UINT32_MAX - 20);
	}
	assert_int_equal(rbuf_chan_peer_fds(owner, &fds), 0);
	snd = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds);
	rcv = rbuf_chan_attach(&cfg, RBUF_SIDE_RECEIVER, &fds);
	assert_non_null(snd);
	assert_non_null(rcv);

	/* 5 at a time through 8 slots: every slot boundary and the 2^32
	 * boundary are crossed. */
	for (int round = 0; round < 40; round++) {
		unsigned n;

		for (unsigned i = 0; i < 5; i++)
			in[i] = rec1((next % 64) * 8, 8, next), next++;
		assert_int_equal(rbuf_put_bulk(snd, in, 5), 5);
		n = rbuf_get_burst(rcv, out, 5);
		assert_int_equal(n, 5);
		for (unsigned i = 0; i < n; i++)
			assert_int_equal(out[i].tag, want++);
		/* And back on the other ring. */
		assert_int_equal(rbuf_put_bulk(rcv, out, 5), 5);
		assert_int_equal(rbuf_get_bulk(snd, out, 5), 5);
	}
	ring = (struct rbuf_shm_ring *)(void *)(ctrl + rbuf_shm_ring_off(8, 1, RBUF_RING_FULL));
	assert_true(atomic_load(&ring->prod) < 1000); /* it did wrap */
	rbuf_chan_destroy(snd);
	rbuf_chan_destroy(rcv);
	rbuf_chan_destroy(owner);
}

/* Transmit Master Mode: the sender owns the buffers and gets them back. */
static void
test_tmm_sender_gets_its_buffers_back_with_flags(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 32, .data_size = 32 * 2048};
	struct rbuf_iorec r[32];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 32; i++) {
		uint8_t *buf = rbuf_data(p.snd) + i * 2048;

		memset(buf, (int)i, 60 + i);
		r[i] = rec1(i * 2048, 60 + i, i);
	}
	assert_int_equal(rbuf_put_burst(p.snd, r, 32), 32);
	memset(r, 0, sizeof(r));
	assert_int_equal(rbuf_get_burst(p.rcv, r, 32), 32);
	for (unsigned i = 0; i < 32; i++) {
		const uint8_t *b = rbuf_piece_ptr(p.rcv, &r[i].piece[0]);

		assert_int_equal(r[i].piece[0].len, 60 + i);
		for (unsigned k = 0; k < r[i].piece[0].len; k++)
			assert_int_equal(b[k], i);
		if (i % 2)
			r[i].flags |= RBUF_F_REFUSED;
	}
	assert_int_equal(rbuf_put_burst(p.rcv, r, 32), 32);
	assert_int_equal(rbuf_get_burst(p.snd, r, 32), 32);
	for (unsigned i = 0; i < 32; i++) {
		assert_int_equal(r[i].tag, i);
		assert_int_equal(!!(r[i].flags & RBUF_F_REFUSED), i % 2);
	}
	chan_pair_close(&p);
}

/* Receive Master Mode: the receiver posts empty buffers, the sender fills. */
static void
test_rmm_receiver_posts_empty_buffers_and_sender_fills_them(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_RMM, .n_recs = 16, .data_size = 16 * 1024};
	struct rbuf_iorec r[16];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_RECEIVER), 0);
	for (unsigned i = 0; i < 16; i++)
		r[i] = rec1(i * 1024, 1024, i);
	assert_int_equal(rbuf_put_burst(p.rcv, r, 16), 16);

	/* The sender (the driver, say) takes buffers and writes packets. */
	assert_int_equal(rbuf_get_burst(p.snd, r, 4), 4);
	for (unsigned i = 0; i < 4; i++) {
		uint32_t len = 64 * (i + 1);

		assert_int_equal(r[i].piece[0].len, 1024);
		memset(rbuf_piece_ptr(p.snd, &r[i].piece[0]), 0xA0 + (int)i, len);
		r[i].piece[0].len = len;
	}
	assert_int_equal(rbuf_put_burst(p.snd, r, 4), 4);
	memset(r, 0, sizeof(r));
	assert_int_equal(rbuf_get_burst(p.rcv, r, 16), 4);
	for (unsigned i = 0; i < 4; i++) {
		const uint8_t *b = rbuf_piece_ptr(p.rcv, &r[i].piece[0]);

		assert_int_equal(r[i].tag, i);
		assert_int_equal(r[i].piece[0].len, 64 * (i + 1));
		assert_int_equal(b[0], 0xA0 + i);
		assert_int_equal(b[r[i].piece[0].len - 1], 0xA0 + i);
	}
	chan_pair_close(&p);
}

static void
test_multi_piece_records_keep_every_piece(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8, .max_pieces = 7};
	struct rbuf_iorec in[3], out[3];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 3; i++) {
		in[i].n_pieces = (uint16_t)(1 + i * 3); /* 1, 4, 7 */
		in[i].flags = 0;
		in[i].tag = i;
		for (unsigned k = 0; k < in[i].n_pieces; k++) {
			in[i].piece[k].off = (i * 8 + k) * 64;
			in[i].piece[k].len = 10 + k;
		}
	}
	assert_int_equal(rbuf_put_burst(p.snd, in, 3), 3);
	assert_int_equal(rbuf_get_burst(p.rcv, out, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(out[i].n_pieces, in[i].n_pieces);
		assert_memory_equal(
		    out[i].piece, in[i].piece, in[i].n_pieces * sizeof(struct rbuf_shm_piece));
	}
	chan_pair_close(&p);
}

static void
test_put_stops_before_a_record_that_does_not_fit_the_channel(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8, .max_pieces = 3};
	struct rbuf_iorec r[4];
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 4; i++)
		r[i] = rec1(0, 8, i);
	r[2].n_pieces = 4; /* above max_pieces */
	assert_int_equal(rbuf_put_burst(p.snd, r, 4), 2);
	assert_int_equal(rbuf_put_bulk(p.snd, r, 4), 0);
	r[0].n_pieces = 0;
	assert_int_equal(rbuf_put_burst(p.snd, r, 1), 0);
	assert_int_equal(rbuf_avail(p.rcv), 2);
	chan_pair_close(&p);
}

struct waiter {
	struct rbuf_chan *ch;
	int rc;
	uint64_t waited_ns;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *
waiter_main(void *arg)
{
	struct waiter *w = arg;
	uint64_t t0 = now_ns();

	w->rc = rbuf_ec_await(w->ch, 5000);
	w->waited_ns = now_ns() - t0;
	return NULL;
}

static void
test_blocked_receiver_wakes_when_a_record_arrives(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct waiter w = {0};
	struct rbuf_iorec r = rec1(0, 8, 7);
	struct rbuf_stats st;
	struct chan_pair p;
	pthread_t t;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	w.ch = p.rcv;
	assert_int_equal(pthread_create(&t, NULL, waiter_main, &w), 0);
	usleep(50 * 1000); /* let it go to sleep */
	assert_int_equal(rbuf_put_burst(p.snd, &r, 1), 1);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(w.rc, 1);
	assert_true(w.waited_ns < 4000000000ull); /* woken, not timed out */
	rbuf_chan_stats(p.snd, &st);
	assert_int_equal(st.kicks, 1);
	chan_pair_close(&p);
}

static void
test_no_wakeup_is_sent_while_the_peer_is_awake(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_iorec r[4];
	struct rbuf_stats st;
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	for (unsigned i = 0; i < 1000; i++) {
		r[0] = rec1(0, 8, i);
		assert_int_equal(rbuf_put_burst(p.snd, r, 1), 1);
		assert_int_equal(rbuf_get_burst(p.rcv, r, 4), 1);
	}
	rbuf_chan_stats(p.snd, &st);
	assert_int_equal(st.kicks, 0);
	/* One announcement, one kick, however many puts follow. */
	assert_true(rbuf_ec_prepare(p.rcv));
	for (unsigned i = 0; i < 3; i++) {
		r[0] = rec1(0, 8, i);
		assert_int_equal(rbuf_put_burst(p.snd, r, 1), 1);
	}
	rbuf_chan_stats(p.snd, &st);
	assert_int_equal(st.kicks, 1);
	assert_int_equal(rbuf_ec_await(p.rcv, 0), 3);
	chan_pair_close(&p);
}

/* The receiver went to sleep before the sender attached: the sender's first
 * put must still wake it (a regression: attach used to take the pending
 * announcement as already answered). */
static void
test_a_sleep_announced_before_the_peer_attached_is_answered(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_RMM, .n_recs = 8};
	struct rbuf_iorec r = rec1(0, 8, 9);
	struct rbuf_chan_fds fds;
	struct rbuf_chan *rcv, *snd;
	struct rbuf_stats st;
	(void)state;

	rcv = rbuf_chan_create(&cfg, RBUF_SIDE_RECEIVER);
	assert_non_null(rcv);
	assert_true(rbuf_ec_prepare(rcv)); /* announces, finds nothing */
	assert_int_equal(rbuf_chan_peer_fds(rcv, &fds), 0);
	snd = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds);
	assert_non_null(snd);
	assert_int_equal(rbuf_put_burst(snd, &r, 1), 1);
	rbuf_chan_stats(snd, &st);
	assert_int_equal(st.kicks, 1);
	assert_int_equal(rbuf_ec_await(rcv, 1000), 1);
	rbuf_chan_destroy(snd);
	rbuf_chan_destroy(rcv);
}

/* One announcement over several channels: the one that gets a record wakes. */
static void
test_a_set_of_channels_sleeps_with_one_barrier_and_wakes_on_any(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_iorec r = rec1(0, 8, 3);
	struct chan_pair a, b;
	struct rbuf_chan *set[2];
	struct rbuf_stats st;
	(void)state;

	assert_int_equal(chan_pair_open(&a, &cfg, RBUF_SIDE_SENDER), 0);
	assert_int_equal(chan_pair_open(&b, &cfg, RBUF_SIDE_SENDER), 0);
	set[0] = a.rcv;
	set[1] = b.rcv;
	assert_true(rbuf_ec_prepare_set(set, 2));
	assert_int_equal(rbuf_put_burst(b.snd, &r, 1), 1);
	rbuf_chan_stats(b.snd, &st);
	assert_int_equal(st.kicks, 1);
	assert_int_equal(rbuf_ec_drain(b.rcv), 0);
	/* With a record ready on one of them, the set does not sleep. */
	assert_false(rbuf_ec_prepare_set(set, 2));
	chan_pair_close(&a);
	chan_pair_close(&b);
}

static void
test_prepare_refuses_to_sleep_when_records_are_ready(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct rbuf_iorec r = rec1(0, 8, 1);
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	assert_int_equal(rbuf_put_burst(p.snd, &r, 1), 1);
	assert_false(rbuf_ec_prepare(p.rcv));
	chan_pair_close(&p);
}

static void
test_await_times_out_when_nothing_comes(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct chan_pair p;
	uint64_t t0;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	t0 = now_ns();
	assert_int_equal(rbuf_ec_await(p.rcv, 30), 0);
	assert_true(now_ns() - t0 >= 25 * 1000000ull);
	chan_pair_close(&p);
}

static void
test_wait_fd_works_in_an_epoll_loop(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_RMM, .n_recs = 8};
	struct epoll_event ev = {.events = EPOLLIN}, got;
	struct rbuf_iorec r = rec1(0, 64, 5);
	struct chan_pair p;
	int ep;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_RECEIVER), 0);
	ep = epoll_create1(EPOLL_CLOEXEC);
	assert_true(ep >= 0);
	/* The sender (the driver in RMM) waits for empty buffers. */
	assert_int_equal(epoll_ctl(ep, EPOLL_CTL_ADD, rbuf_chan_wait_fd(p.snd), &ev), 0);
	assert_true(rbuf_ec_prepare(p.snd));
	assert_int_equal(epoll_wait(ep, &got, 1, 0), 0);
	assert_int_equal(rbuf_put_burst(p.rcv, &r, 1), 1);
	assert_int_equal(epoll_wait(ep, &got, 1, 1000), 1);
	assert_int_equal(rbuf_ec_drain(p.snd), 0);
	assert_int_equal(epoll_wait(ep, &got, 1, 0), 0);
	assert_int_equal(rbuf_get_burst(p.snd, &r, 1), 1);
	assert_int_equal(r.tag, 5);
	close(ep);
	chan_pair_close(&p);
}

static void
test_await_reports_a_peer_that_went_away(void **state)
{
	struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_TMM, .n_recs = 8};
	struct chan_pair p;
	(void)state;

	assert_int_equal(chan_pair_open(&p, &cfg, RBUF_SIDE_SENDER), 0);
	rbuf_chan_destroy(p.peer); /* the receiver dies */
	p.peer = NULL;
	assert_int_equal(rbuf_ec_await(p.snd, 1000), -EPIPE);
	chan_pair_close(&p);
}

static void
test_bad_geometry_is_refused_with_a_reason(void **state)
{
	static const struct rbuf_chan_cfg bad[] = {
	    {.mode = 0},
	    {.mode = RBUF_MODE_TMM, .n_recs = 100},
	    {.mode = RBUF_MODE_TMM, .n_recs = 1u << 20},
	    {.mode = RBUF_MODE_TMM, .max_pieces = 2},
	    {.mode = RBUF_MODE_TMM, .max_pieces = 31},
	    {.mode = RBUF_MODE_TMM, .align = 12},
	    {.mode = RBUF_MODE_TMM, .data_size = 1ull << 33},
	};
	(void)state;

	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		assert_null(rbuf_chan_create(&bad[i], RBUF_SIDE_SENDER));
		assert_int_equal(errno, EINVAL);
		assert_string_not_equal(rbuf_errmsg(), "no error");
	}
	assert_null(rbuf_chan_create(&(struct rbuf_chan_cfg){.mode = RBUF_MODE_TMM}, 7));
	assert_int_equal(errno, EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_put_then_get_returns_the_same_records),
	    cmocka_unit_test(test_empty_ring_gets_nothing_and_full_ring_takes_nothing),
	    cmocka_unit_test(test_bulk_moves_all_or_nothing_while_burst_moves_what_it_can),
	    cmocka_unit_test(test_put_burst_wraps_at_ring_end_and_at_two_to_the_32),
	    cmocka_unit_test(test_tmm_sender_gets_its_buffers_back_with_flags),
	    cmocka_unit_test(test_rmm_receiver_posts_empty_buffers_and_sender_fills_them),
	    cmocka_unit_test(test_multi_piece_records_keep_every_piece),
	    cmocka_unit_test(test_put_stops_before_a_record_that_does_not_fit_the_channel),
	    cmocka_unit_test(test_blocked_receiver_wakes_when_a_record_arrives),
	    cmocka_unit_test(test_no_wakeup_is_sent_while_the_peer_is_awake),
	    cmocka_unit_test(test_a_sleep_announced_before_the_peer_attached_is_answered),
	    cmocka_unit_test(test_a_set_of_channels_sleeps_with_one_barrier_and_wakes_on_any),
	    cmocka_unit_test(test_prepare_refuses_to_sleep_when_records_are_ready),
	    cmocka_unit_test(test_await_times_out_when_nothing_comes),
	    cmocka_unit_test(test_wait_fd_works_in_an_epoll_loop),
	    cmocka_unit_test(test_await_reports_a_peer_that_went_away),
	    cmocka_unit_test(test_bad_geometry_is_refused_with_a_reason),
	};

	return cmocka_run_group_tests_name("rbuf_chan", tests, NULL, NULL);
}
