/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's counters on a nanomsg PUB socket; see events.h for the
 * model. Runs in the loop thread, from the control hook drv_run() calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>

#include "driver/counters.h"
#include "driver/drv_priv.h"
#include "driver/events.h"
#include "proto/admin.pb-c.h"
#include "proto/rpc.h"

struct drv_events {
	struct drv *d;
	int sock;	     /* nanomsg PUB */
	int tfd;	     /* timerfd in drv_epoll_fd(d) */
	char path[PATH_MAX]; /* the ipc:// socket file, or "" */
	uint64_t next_ns;    /* CLOCK_MONOTONIC when the next sample is due; 0: now */
	uint64_t seq;	     /* of the last event sent */
	/* The sample in progress (busy): */
	bool busy;
	bool ports_sent;
	uint32_t cursor; /* the next flow id to look at */
	uint64_t ts_ns;	 /* its timestamp, CLOCK_MONOTONIC */
	unsigned n;	 /* flows gathered for the next part */
	struct drv_flow_counters_msg fcs[DRV_EVENTS_PART];
	Sluice__FlowCounters *fptr[DRV_EVENTS_PART];
	struct drv_port_counters_msg pcm;
	uint8_t buf[RPC_MAX_MSG];
	struct drv_events_stats st;
};

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * nanomsg does its I/O on threads of its own, started with the first socket
 * and born with their creator's CPU affinity. The EAL pinned the loop
 * thread to its lcore: start them on the other CPUs (as DPDK starts its
 * control threads), so that they never take turns with the data path.
 */
static int
socket_off_lcore(void)
{
	cpu_set_t mine, others;
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	bool moved = false;
	int s, e;

	if (pthread_getaffinity_np(pthread_self(), sizeof(mine), &mine) == 0) {
		CPU_ZERO(&others);
		for (long i = 0; i < ncpu && i < CPU_SETSIZE; i++)
			if (!CPU_ISSET(i, &mine))
				CPU_SET(i, &others);
		moved = CPU_COUNT(&others) > 0 &&
			pthread_setaffinity_np(pthread_self(), sizeof(others), &others) == 0;
	}
	s = nn_socket(AF_SP, NN_PUB);
	e = errno;
	if (moved)
		pthread_setaffinity_np(pthread_self(), sizeof(mine), &mine);
	errno = e;
	return s;
}

/*
 * nanomsg 1.1.5 leaks its endpoint when an ipc:// bind fails, and the usual
 * cause is a directory that is not there: look first, and say ENOENT.
 */
static int
ipc_dir_exists(const char *path)
{
	char dir[PATH_MAX];
	char *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	if (stat(dir[0] ? dir : "/", &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

struct drv_events *
drv_events_open(struct drv *d, const char *addr, gid_t gid)
{
	struct epoll_event eev = {.events = EPOLLIN, .data.u32 = DRV_EVENTS_TOKEN};
	struct drv_events *ev = calloc(1, sizeof(*ev));
	mode_t um;
	int e, rc;

	if (!ev)
		return NULL;
	ev->d = d;
	ev->sock = ev->tfd = -1;
	if (strncmp(addr, "ipc://", 6) == 0 &&
	    snprintf(ev->path, sizeof(ev->path), "%s", addr + 6) >= (int)sizeof(ev->path)) {
		e = EINVAL;
		goto out_free;
	}
	if (ev->path[0] && (rc = ipc_dir_exists(ev->path)) < 0) {
		e = -rc;
		goto out_free;
	}
	ev->sock = socket_off_lcore();
	if (ev->sock < 0) {
		e = errno;
		goto out_free;
	}
	/* Nobody but us may connect before the mode and group are right. */
	um = umask(077);
	rc = nn_bind(ev->sock, addr);
	e = errno;
	umask(um);
	if (rc < 0)
		goto out_close;
	if (ev->path[0] && (chmod(ev->path, 0660) < 0 ||
			       (gid != (gid_t)-1 && chown(ev->path, (uid_t)-1, gid) < 0))) {
		e = errno;
		goto out_close;
	}
	ev->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (ev->tfd < 0 || epoll_ctl(drv_epoll_fd(d), EPOLL_CTL_ADD, ev->tfd, &eev) < 0) {
		e = errno;
		goto out_close;
	}
	ev->next_ns = 0; /* the first sample at the first call */
	return ev;

out_close:
	if (ev->tfd >= 0)
		close(ev->tfd);
	nn_close(ev->sock);
out_free:
	free(ev);
	errno = e;
	return NULL;
}

void
drv_events_close(struct drv_events *ev)
{
	if (!ev)
		return;
	epoll_ctl(drv_epoll_fd(ev->d), EPOLL_CTL_DEL, ev->tfd, NULL);
	close(ev->tfd);
	nn_close(ev->sock);
	if (ev->path[0])
		unlink(ev->path);
	free(ev);
}

void
drv_events_stats(const struct drv_events *ev, struct drv_events_stats *st)
{
	*st = ev->st;
}

/*
 * Wake a sleeping driver when there is work: at once while a sample has
 * parts left, else when the next one is due. The timer and the due time
 * are on the same clock, so a wake-up always finds the sample due.
 */
static void
arm(struct drv_events *ev)
{
	uint64_t at = ev->busy ? 1 : ev->next_ns;
	struct itimerspec its = {
	    .it_value = {.tv_sec = (time_t)(at / 1000000000u), .tv_nsec = (long)(at % 1000000000u)},
	};

	/* Setting it also clears an expiry nobody read. */
	timerfd_settime(ev->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void
publish(struct drv_events *ev, bool more)
{
	Sluice__Admin__CountersEvent m;
	Sluice__PortCounters *pp = &ev->pcm.pc;
	int len;

	sluice__admin__counters_event__init(&m);
	m.timestamp_ns = ev->ts_ns;
	m.seq = ++ev->seq;
	m.more = more;
	for (unsigned i = 0; i < ev->n; i++)
		ev->fptr[i] = &ev->fcs[i].fc;
	m.flows = ev->fptr;
	m.n_flows = ev->n;
	if (!ev->ports_sent) {
		drv_port_counters_fill(ev->d, &ev->pcm);
		m.ports = &pp;
		m.n_ports = 1;
		ev->ports_sent = true;
	}
	ev->n = 0;
	len = rpc_frame_pack(
	    ev->buf, sizeof(ev->buf), RPC_T_EV_COUNTERS, (uint32_t)m.seq, &m.base, 0);
	if (len < 0 || nn_send(ev->sock, ev->buf, (size_t)len, NN_DONTWAIT) < 0) {
		ev->st.send_failed++;
		return;
	}
	ev->st.events++;
}

void
drv_events_poll(struct drv_events *ev)
{
	const struct drv *d;
	unsigned scanned = 0;
	uint64_t now;

	if (!ev)
		return;
	d = ev->d;
	if (!ev->busy) {
		now = mono_ns(); /* vDSO: no system call */
		if (ev->next_ns && now < ev->next_ns)
			return;
		/* Keep the cadence; the first sample, or one after a stall,
		 * starts it again from now. */
		if (!ev->next_ns || ev->next_ns + DRV_EVENTS_PERIOD_NS <= now)
			ev->next_ns = now + DRV_EVENTS_PERIOD_NS;
		else
			ev->next_ns += DRV_EVENTS_PERIOD_NS;
		ev->busy = true;
		ev->ports_sent = false;
		ev->cursor = 1; /* flow 0 is the exception channel: in the port's counters */
		ev->n = 0;
		ev->ts_ns = now;
	}
	while (ev->cursor < d->cfg.max_flows && ev->n < DRV_EVENTS_PART &&
	       scanned++ < DRV_EVENTS_SCAN) {
		uint32_t id = ev->cursor++;

		if (d->flows[id].state == DRV_FLOW_ACTIVE)
			drv_flow_counters_fill(d, id, &ev->fcs[ev->n++]);
	}
	if (ev->cursor < d->cfg.max_flows && ev->n < DRV_EVENTS_PART) {
		arm(ev); /* more ids to look at: the next call goes on */
		return;
	}
	publish(ev, ev->cursor < d->cfg.max_flows);
	if (ev->cursor >= d->cfg.max_flows) {
		ev->busy = false;
		ev->st.samples++;
	}
	arm(ev);
}
