/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Event counts and sleeping. The protocol is in rbuf_shm.h ("Sleeping"):
 *
 *   consumer                              producer
 *   sleep_seq = s + 1     (store)         prod = new   (store)
 *   full barrier                          barrier B
 *   read prod: still empty? -> wait       read sleep_seq: new? -> kick
 *
 * This is a store-buffering pair: it is correct when at least one side sees
 * the other's store, which needs a full barrier on both sides. The consumer
 * sleeps rarely and the producer puts all the time, so the cost is moved to
 * the consumer (an asymmetric fence): every process that uses a channel
 * registers for membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), the consumer
 * calls it after its own fence, which runs a full barrier on every CPU that
 * runs a registered process, and the producer's barrier B is then only a
 * compiler barrier. Where membarrier is unavailable, B is a locked exchange
 * (ring.c) and the consumer's call is skipped.
 *
 * A peer that does not register (a hostile application, say) can only make
 * its own wake-ups late. If the consumer's membarrier call fails, it never
 * sleeps longer than RBUF_FALLBACK_SLEEP_MS at a time.
 *
 * Spurious kicks are harmless: the consumer always re-checks the ring after
 * waking.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/membarrier.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "rbuf/rbuf_priv.h"

/* Drain at most this many wake-ups per call, so a flooding peer cannot keep
 * us in the loop. */
#define DRAIN_MAX 64

/* Longest sleep in one poll() when the asymmetric fence failed. */
#define RBUF_FALLBACK_SLEEP_MS 1

/* Process-wide: 0 not tried, 1 registered, -1 unavailable; and by whom. */
static _Atomic int membarrier_state;
static pid_t membarrier_pid;

static long
membarrier(int cmd)
{
	return syscall(__NR_membarrier, cmd, 0, 0);
}

bool
rbuf__membarrier_register(void)
{
	int st = atomic_load_explicit(&membarrier_state, memory_order_relaxed);

	/*
	 * A child of fork() inherits our memory, so the cached answer, but
	 * the kernel keeps registrations per address space: register again
	 * rather than rely on it being inherited. Registering twice is
	 * harmless. (Called when a channel is made, never per packet.)
	 */
	if (st == 1 && membarrier_pid != getpid())
		st = 0;
	if (st == 0) {
		/* The environment can force the fallback, so tests cover it. */
		long q =
		    getenv("SLUICE_RBUF_NO_MEMBARRIER") ? -1 : membarrier(MEMBARRIER_CMD_QUERY);

		st = q >= 0 && (q & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
			     membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0
			 ? 1
			 : -1;
		membarrier_pid = getpid();
		atomic_store_explicit(&membarrier_state, st, memory_order_relaxed);
	}
	return st == 1;
}

/* Whether the last fence of this thread reached every producer. */
static __thread bool fence_failed;

void
rbuf__kick_if_sleeping(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->out;
	uint32_t seq;

	/* After barrier B in put() (ring.c); pairs with rbuf_ec_prepare(). */
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

/*
 * Announce a sleep on one channel (no barrier yet). Returns -1 if records
 * are ready, 0 if an earlier announcement still stands (see armed in
 * rbuf_priv.h), 1 if a new one was made and needs the barrier.
 */
static int
announce(struct rbuf_chan *ch)
{
	struct rbuf_ring_view *v = &ch->in;

	if (rbuf_avail(ch))
		return -1;
	if (v->armed && v->mine == v->armed_cons)
		return 0;
	v->sleep_seq++;
	atomic_store_explicit(&v->shm->sleep_seq, v->sleep_seq, memory_order_relaxed);
	ch->st.sleeps++;
	return 1;
}

/* Our full barrier, then the producers' (see the top of this file). */
static void
barrier(bool asym)
{
	atomic_thread_fence(memory_order_seq_cst);
	fence_failed = false;
	if (asym && membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) < 0)
		fence_failed = true;
}

/* The announcement is made and fenced, and the ring was still empty. */
static void
arm(struct rbuf_chan *ch)
{
	ch->in.armed = !fence_failed;
	ch->in.armed_cons = ch->in.mine;
}

bool
rbuf_ec_prepare(struct rbuf_chan *ch)
{
	return rbuf_ec_prepare_set(&ch, 1);
}

bool
rbuf_ec_prepare_set(struct rbuf_chan *const *chs, unsigned n)
{
	bool asym = false, fence = false;

	for (unsigned i = 0; i < n; i++) {
		int a = announce(chs[i]);

		if (a < 0)
			return false;
		if (a > 0) {
			fence = true;
			asym |= chs[i]->asym_fence;
		}
	}
	/* An idle process that wakes up on a timer and finds nothing sleeps
	 * again without a barrier: the expedited membarrier interrupts every
	 * CPU, and an idle driver would otherwise send one every 1 ms. */
	if (fence)
		barrier(asym);
	for (unsigned i = 0; i < n; i++)
		if (rbuf_avail(chs[i]))
			return false;
	for (unsigned i = 0; i < n; i++)
		arm(chs[i]);
	return true;
}

int
rbuf_ec_drain(struct rbuf_chan *ch)
{
	char buf[16];

	for (int i = 0; i < DRAIN_MAX; i++) {
		ssize_t r = recv(ch->wait_fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (r > 0) {
			/* A wake-up: the producer answered our announcement,
			 * which no longer stands (see armed in rbuf_priv.h). */
			ch->in.armed = false;
			continue;
		}
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
		if (fence_failed && (left < 0 || left > RBUF_FALLBACK_SLEEP_MS))
			left = RBUF_FALLBACK_SLEEP_MS;
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
