/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's counters publisher (driver/events.h), with a subscriber in
 * the same process, on a driver over net_ring0 whose loop is run here:
 *   - a sample every 100 ms, woken by its timer although the driver sleeps
 *     up to a second; more flows than one event holds come in parts that
 *     share the timestamp, `more` on all but the last, ports in the first,
 *     every active flow exactly once, seq +1 per event;
 *   - a flow removed leaves the next sample;
 *   - with nobody subscribed nothing blocks, and each call is short;
 *   - the ipc socket file is mode 0660; bad addresses are refused.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "driver/drv.h"
#include "driver/events.h"
#include "proto/admin.pb-c.h"
#include "proto/rpc.h"

#define N_FLOWS 100 /* more than DRV_EVENTS_PART: two parts per sample */

static struct drv *d;
static char addr[128];
static struct rpc_frame *frame;
static struct rpc_arena arena;
static uint8_t *arena_buf;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
sub_open(void)
{
	int s = nn_socket(AF_SP, NN_SUB), max = -1, tmo = 20;

	assert_true(s >= 0);
	assert_int_equal(nn_setsockopt(s, NN_SUB, NN_SUB_SUBSCRIBE, "", 0), 0);
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof(max));
	nn_setsockopt(s, NN_SOL_SOCKET, NN_RCVTIMEO, &tmo, sizeof(tmo));
	assert_true(nn_connect(s, addr) >= 0);
	return s;
}

/* The next CountersEvent, if one is there. */
static Sluice__Admin__CountersEvent *
next_event(int sub)
{
	int n;

	rpc_frame_init(frame);
	n = nn_recv(sub, frame->buf, sizeof(frame->buf), NN_DONTWAIT);
	if (n < 0)
		return NULL;
	assert_int_equal(rpc_frame_parse(frame, (size_t)n), 0);
	assert_int_equal(frame->hdr.type, RPC_T_EV_COUNTERS);
	return (Sluice__Admin__CountersEvent *)rpc_unpack(NULL, frame, &arena);
}

struct sample {
	uint64_t ts_ns;
	unsigned parts, flows, ports;
	uint64_t first_seq, last_seq;
	bool seen[N_FLOWS + 1];
	bool dup;
};

/*
 * Run the driver as drv_run() would, but sleeping up to a second at a time,
 * until @want complete samples arrived (or 3 s passed). Samples that began
 * before the subscriber was there are skipped.
 */
static unsigned
collect(struct drv_events *ev, int sub, struct sample *out, unsigned want)
{
	unsigned n = 0;
	bool in = false;
	uint64_t t0 = now_ms();

	while (n < want && now_ms() - t0 < 3000) {
		Sluice__Admin__CountersEvent *m;

		drv_poll(d);
		drv_events_poll(ev);
		drv_sleep(d, 1000);
		while ((m = next_event(sub)) != NULL) {
			struct sample *s = &out[n];

			if (!in) {
				if (m->n_ports == 0)
					continue; /* the tail of a sample we joined late */
				memset(s, 0, sizeof(*s));
				s->ts_ns = m->timestamp_ns;
				s->first_seq = m->seq;
				in = true;
			}
			assert_int_equal(m->timestamp_ns, s->ts_ns);
			assert_int_equal(m->seq, s->first_seq + s->parts);
			s->parts++;
			s->ports += (unsigned)m->n_ports;
			s->last_seq = m->seq;
			for (size_t i = 0; i < m->n_flows; i++) {
				uint32_t id = m->flows[i]->flow_id;

				assert_true(id >= 1 && id <= N_FLOWS);
				s->dup |= s->seen[id];
				s->seen[id] = true;
				s->flows++;
			}
			if (!m->more) {
				in = false;
				if (++n == want)
					break;
			}
		}
	}
	return n;
}

static void
add_flows(void)
{
	for (uint32_t id = 1; id <= N_FLOWS; id++) {
		struct drv_flow_cfg fc = {.id = id};
		int rc;

		fc.rx_spec.proto = 17;
		fc.rx_spec.kind = FLT_KIND_BOUND;
		fc.rx_spec.local_addr = htonl(0x0a000001);
		fc.rx_spec.local_port = htons((uint16_t)(1000 + id));
		rc = drv_flow_add(d, &fc);
		if (rc < 0)
			fail_msg("flow %u: %s", id, drv_errmsg());
	}
}

static void
test_samples_every_100ms_in_parts(void **state)
{
	struct drv_events *ev = drv_events_open(d, addr, (gid_t)-1);
	struct sample s[3];
	struct stat st;
	int sub;
	(void)state;

	assert_non_null(ev);
	assert_int_equal(stat(addr + 6, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	sub = sub_open();
	usleep(50000); /* nanomsg connects in the background */
	assert_int_equal(collect(ev, sub, s, 3), 3);
	for (unsigned i = 0; i < 3; i++) {
		assert_int_equal(s[i].parts, 2);
		assert_int_equal(s[i].ports, 1);
		assert_int_equal(s[i].flows, N_FLOWS);
		assert_false(s[i].dup);
		if (i) {
			uint64_t gap_ms = (s[i].ts_ns - s[i - 1].ts_ns) / 1000000;

			assert_int_equal(s[i].first_seq, s[i - 1].last_seq + 1);
			if (gap_ms < 80 || gap_ms > 130)
				fail_msg("samples %u ms apart", (unsigned)gap_ms);
		}
	}
	/* A removed flow is in the next sample no more. */
	assert_int_equal(drv_flow_remove(d, 50), 0);
	for (int i = 0; i < 100; i++)
		drv_poll(d); /* until it is no longer dying */
	assert_int_equal(collect(ev, sub, s, 2), 2);
	assert_int_equal(s[1].flows, N_FLOWS - 1);
	assert_false(s[1].seen[50]);
	nn_close(sub);
	drv_events_close(ev);
	assert_int_equal(access(addr + 6, F_OK), -1);
}

static void
test_nobody_listening_never_blocks(void **state)
{
	struct drv_events *ev = drv_events_open(d, addr, (gid_t)-1);
	struct drv_events_stats st;
	uint64_t t0 = now_ms(), worst = 0;
	(void)state;

	assert_non_null(ev);
	while (now_ms() - t0 < 350) {
		struct timespec a, b;
		uint64_t us;

		clock_gettime(CLOCK_MONOTONIC, &a);
		drv_events_poll(ev);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000 +
		     (uint64_t)(b.tv_nsec - a.tv_nsec) / 1000;
		worst = us > worst ? us : worst;
		drv_sleep(d, 1000);
	}
	drv_events_stats(ev, &st);
	assert_true(st.samples >= 3 && st.samples <= 5);
	/* The second part of a sample goes out at once: the timer wakes the
	 * sleeping driver for it, not only for the next sample. */
	{
		struct drv_events_stats s0, s1;
		uint64_t t1 = 0;

		drv_events_stats(ev, &s0);
		for (t0 = now_ms(); now_ms() - t0 < 1000;) {
			drv_events_poll(ev);
			drv_events_stats(ev, &s1);
			if (!t1 && s1.events > s0.events)
				t1 = now_ms();
			if (s1.samples > s0.samples)
				break;
			drv_sleep(d, 1000);
		}
		assert_true(s1.samples > s0.samples);
		if (now_ms() - t1 > 20)
			fail_msg(
			    "a sample took %llu ms to finish", (unsigned long long)(now_ms() - t1));
	}
	drv_events_stats(ev, &st);
	assert_int_equal(st.events, 2 * st.samples + (st.events % 2));
	assert_int_equal(st.send_failed, 0);
	if (worst > 20000)
		fail_msg("one call took %llu us", (unsigned long long)worst);
	drv_events_close(ev);
}

static void
test_bad_addresses_are_refused(void **state)
{
	(void)state;
	assert_null(drv_events_open(d, "ipc:///nonexistent-dir/sluice/x.ipc", (gid_t)-1));
	assert_null(drv_events_open(d, "carrier-pigeon://x", (gid_t)-1));
	assert_null(drv_events_open(d, "not an address", (gid_t)-1));
}

static int
setup(void **state)
{
	static char args[10][128];
	static char *argv[10];
	struct drv_cfg cfg = {.max_flows = 256, .name = "ev", .idle_sleep_ms = 1000};
	uint16_t port;
	int n = 0;
	(void)state;

#define ARG(...) (snprintf(args[n], sizeof(args[n]), __VA_ARGS__), argv[n] = args[n], n++)
	ARG("test_events");
	ARG("--no-huge");
	ARG("-m256");
	ARG("--no-shconf");
	ARG("--no-pci");
	ARG("--file-prefix=test_events_%d", (int)getpid());
	ARG("--log-level=error");
	ARG("--vdev=net_ring0");
	ARG("-l0");
#undef ARG
	if (rte_eal_init(n, argv) < 0 || rte_eth_dev_get_port_by_name("net_ring0", &port) < 0)
		return -1;
	cfg.port_id = port;
	d = drv_create(&cfg);
	if (!d)
		return -1;
	add_flows();
	snprintf(addr, sizeof(addr), "ipc:///tmp/sluice-test-events-%d.ipc", (int)getpid());
	frame = malloc(sizeof(*frame));
	arena_buf = malloc(RPC_ARENA_SIZE);
	if (!frame || !arena_buf)
		return -1;
	rpc_arena_init(&arena, arena_buf, RPC_ARENA_SIZE);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(addr + 6); /* left behind only by a test that failed */
	drv_destroy(d);
	free(frame);
	free(arena_buf);
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_samples_every_100ms_in_parts),
	    cmocka_unit_test(test_nobody_listening_never_blocks),
	    cmocka_unit_test(test_bad_addresses_are_refused),
	};

	return cmocka_run_group_tests_name("driver_events", tests, setup, teardown);
}
