/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event counts and sleeping. The protocol is in rbuf_shm.h ("Sleeping"):
 *
 *   consumer                              producer
 *   sleep_seq++            (store)        prod = new    (store, release)
 *   fence(seq_cst)                        fence(seq_cst)
 *   read prod: still empty? -> wait       read sleep_seq: new? -> kick
 *
 * The two fences make this a store-buffering pair: at least one side sees
 * the other's store, so either the consumer finds the record and does not
 * sleep, or the producer finds the announcement and kicks. Spurious kicks
 * are harmless: the consumer always re-checks the ring after waking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>

#include "rbuf/rbuf_priv.h"

/* Drain at most this many wake-ups per call, so a flooding peer cannot keep
 * us in the loop. */
#define DRAIN_MAX 64

void
rbuf__kick_if_sleeping(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->out;
	uint32_t seq;

	/* Pairs with the fence in rbuf_ec_prepare(). */
	atomic_thread_fence(memory_order_seq_cst);
	seq = atomic_load_explicit(&v->shm->sleep_seq, memory_order_relaxed);
	if (likely(seq == v->woken_seq))
		return;
	v->woken_seq = seq;
	/*
	 * One byte, never blocking: if the peer's queue is full it has
	 * wake-ups pending already; if it is gone, nobody is left to wake.
	 */
	if (send(ch->kick_fd, "", 1, MSG_DONTWAIT | MSG_NOSIGNAL) == 1)
		ch->st.kicks++;
}

bool
rbuf_ec_prepare(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->in;

	if (rbuf_avail(ch))
		return false;
	v->sleep_seq++;
	atomic_store_explicit(&v->shm->sleep_seq, v->sleep_seq, memory_order_relaxed);
	/* Pairs with the fence in rbuf__kick_if_sleeping(). */
	atomic_thread_fence(memory_order_seq_cst);
	ch->st.sleeps++;
	return rbuf_avail(ch) == 0;
}

int
rbuf_ec_drain(struct rbuf_chan *ch)
{
	char buf[16];

	for (int i = 0; i < DRAIN_MAX; i++) {
		ssize_t r = recv(ch->wait_fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0)
			continue;
		if (r == 0)
			return -EPIPE; /* the peer closed its end */
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
rbuf_ec_await(struct rbuf_chan *ch, int timeout_ms)
{
	int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;

	for (;;) {
		struct pollfd p = {.fd = ch->wait_fd, .events = POLLIN};
		unsigned n = rbuf_avail(ch);
		int left = -1, r;

		if (n)
			return (int)n;
		if (!rbuf_ec_prepare(ch))
			continue;
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d > 0 ? (int)d : 0;
		}
		r = poll(&p, 1, left);
		if (r < 0)
			return -errno;
		if (r == 0)
			return (int)rbuf_avail(ch);
		r = rbuf_ec_drain(ch);
		if (r < 0) {
			n = rbuf_avail(ch);
			return n ? (int)n : r;
		}
		if (p.revents & (POLLHUP | POLLERR)) {
			n = rbuf_avail(ch);
			return n ? (int)n : -EPIPE;
		}
		if (deadline >= 0 && now_ms() >= deadline)
			return (int)rbuf_avail(ch);
	}
}
