/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's control socket, as the flow manager uses it, against a
 * driver running its loop in another thread on net_ring0 (its transmit
 * side loops to its receive side):
 *   - a flow added over RPC carries traffic at once (A's frame comes back
 *     through the port to B), counters and the flow table read back;
 *   - requests before Hello, out-of-range fields, bad descriptor indices,
 *     an unsealed memfd, a duplicate id, an unknown flow: clear errors;
 *   - garbage closes the connection and the driver keeps serving;
 *   - a user other than the flow manager's is refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "driver/ctl.h"
#include "proto/rpc_chan.h"
#include "driver/drv.h"
#include "proto/driver.pb-c.h"
#include "proto/rpc.h"
#include "tests/support/pkt.h"

static char sock_path[128];
static struct drv *d;
static struct drv_ctl *ctl;
static volatile int stop;
static pthread_t loop;
static struct rpc_frame reply;

static void *
loop_main(void *arg)
{
	(void)arg;
	drv_run(d, &stop, drv_ctl_poll, ctl);
	return NULL;
}

static int
connect_hello(struct rpc_client *c)
{
	Sluice__Hello h;
	int fd = rpc_connect(sock_path);

	if (fd < 0)
		return fd;
	rpc_client_init(c, fd, NULL, NULL);
	rpc_hello_init(&h, "test_ctl");
	if (rpc_call(c, RPC_T_HELLO, &h.base, NULL, 0, &reply, 5000) < 0)
		return -EPROTO;
	rpc_frame_fini(&reply);
	return fd;
}

/* An application's channel, created and posted as an app would. */
struct chan {
	struct rbuf_chan *ch;
	struct rbuf_chan_fds fds;
	Sluice__Chan m;
	Sluice__ChanGeom g;
	Sluice__ChanFds f;
};

static void
chan_open(struct chan *c, enum rbuf_mode mode, uint32_t first_fd_index)
{
	struct rbuf_chan_cfg cfg = {.mode = mode, .n_recs = 64, .align = 1, .data_size = 64 * 2048};

	c->ch =
	    rbuf_chan_create(&cfg, mode == RBUF_MODE_RMM ? RBUF_SIDE_RECEIVER : RBUF_SIDE_SENDER);
	assert_non_null(c->ch);
	assert_int_equal(rbuf_chan_peer_fds(c->ch, &c->fds), 0);
	sluice__chan__init(&c->m);
	sluice__chan_geom__init(&c->g);
	sluice__chan_fds__init(&c->f);
	c->g.n_recs = 64;
	c->g.align = 1;
	c->g.data_size = 64 * 2048;
	c->f.ctrl = first_fd_index;
	c->f.data = first_fd_index + 1;
	c->f.wait = first_fd_index + 2;
	c->f.kick = first_fd_index + 3;
	c->m.geom = &c->g;
	c->m.fds = &c->f;
	if (mode == RBUF_MODE_RMM) {
		for (uint32_t i = 0; i < 64; i++) {
			struct rbuf_iorec r = {.n_pieces = 1, .tag = i};

			r.piece[0].off = i * 2048;
			r.piece[0].len = 2048;
			assert_int_equal(rbuf_put_burst(c->ch, &r, 1), 1);
		}
	}
}

struct flow_msg {
	Sluice__Drv__AddFlow af;
	Sluice__Drv__RxFilter rx;
	Sluice__Drv__TxTemplate tx;
	uint8_t mac[6];
};

static void
flow_msg(struct flow_msg *m, uint32_t id, Sluice__FlowKind kind, uint32_t laddr, uint32_t lport,
    uint32_t raddr, uint32_t rport)
{
	sluice__drv__add_flow__init(&m->af);
	sluice__drv__rx_filter__init(&m->rx);
	sluice__drv__tx_template__init(&m->tx);
	m->af.flow_id = id;
	m->rx.proto = SLUICE__PROTO__PROTO_UDP;
	m->rx.kind = kind;
	m->rx.local_addr = laddr;
	m->rx.local_port = lport;
	m->rx.remote_addr = raddr;
	m->rx.remote_port = rport;
	m->af.rx = &m->rx;
	memcpy(m->mac, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6);
	m->tx.src_mac.data = m->mac;
	m->tx.src_mac.len = 6;
	m->tx.proto = SLUICE__PROTO__PROTO_UDP;
	m->tx.src_addr = laddr;
	m->tx.src_port = lport;
	m->tx.dst_addr = raddr;
	m->tx.dst_port = rport;
	m->af.tx = &m->tx;
}

static int
add_flow(struct rpc_client *c, struct flow_msg *m, struct chan *rx, struct chan *tx)
{
	int fds[8], n = 0, rc;

	m->af.rx_chan = rx ? &rx->m : NULL;
	m->af.tx_chan = tx ? &tx->m : NULL;
	if (rx) {
		fds[n++] = rx->fds.ctrl;
		fds[n++] = rx->fds.data;
		fds[n++] = rx->fds.wait;
		fds[n++] = rx->fds.kick;
	}
	if (tx) {
		fds[n++] = tx->fds.ctrl;
		fds[n++] = tx->fds.data;
		fds[n++] = tx->fds.wait;
		fds[n++] = tx->fds.kick;
	}
	rc = rpc_call(c, RPC_T_DRV_ADD_FLOW, &m->af.base, fds, (unsigned)n, &reply, 5000);
	rpc_frame_fini(&reply);
	return rc;
}

#define IP(a, b, c_, d_) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c_) << 8 | (d_))

static void
test_requests_before_hello_are_refused(void **state)
{
	Sluice__Drv__GetPorts gp;
	struct rpc_client c;
	int fd = rpc_connect(sock_path);
	(void)state;

	assert_true(fd >= 0);
	rpc_client_init(&c, fd, NULL, NULL);
	sluice__drv__get_ports__init(&gp);
	assert_int_equal(
	    rpc_call(&c, RPC_T_DRV_GET_PORTS, &gp.base, NULL, 0, &reply, 5000), -EPROTO);
	assert_non_null(strstr(c.errmsg, "Hello"));
	rpc_frame_fini(&reply);
	close(fd);
}

static void
test_flows_added_over_rpc_carry_traffic_and_read_back(void **state)
{
	struct rpc_client c;
	struct flow_msg ma, mb;
	struct chan a_rx, a_tx, b_rx;
	Sluice__Drv__GetCounters gc;
	Sluice__Drv__DumpFlows df;
	Sluice__Drv__RemoveFlow rf;
	uint32_t ids[2] = {1, 2};
	uint8_t f[PKT_MAX];
	struct pkt_spec s = pkt_udp_default();
	struct rbuf_iorec r = {.n_pieces = 1, .tag = 7};
	struct arena_buf {
		struct rpc_arena a;
		uint8_t mem[RPC_ARENA_SIZE];
	} *ab = malloc(sizeof(*ab));
	int fd, got = 0;
	(void)state;

	assert_non_null(ab);
	rpc_arena_init(&ab->a, ab->mem, RPC_ARENA_SIZE);
	fd = connect_hello(&c);
	assert_true(fd >= 0);
	chan_open(&a_rx, RBUF_MODE_RMM, 0);
	chan_open(&a_tx, RBUF_MODE_TMM, 4);
	chan_open(&b_rx, RBUF_MODE_RMM, 0);
	flow_msg(&ma, 1, SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED, IP(10, 0, 0, 1), 7000,
	    IP(10, 0, 0, 2), 5000);
	flow_msg(&mb, 2, SLUICE__FLOW_KIND__FLOW_KIND_BOUND, IP(10, 0, 0, 2), 5000, 0, 0);
	assert_int_equal(add_flow(&c, &ma, &a_rx, &a_tx), 0);
	assert_int_equal(add_flow(&c, &mb, &b_rx, NULL), 0);

	/* A sends to 10.0.0.2:5000; the ring brings it back, to B. */
	memcpy(s.src_mac, (uint8_t[]){2, 0, 0, 0, 0, 1}, 6);
	s.src = htonl(IP(10, 0, 0, 1));
	s.sport = 7000;
	s.dst = htonl(IP(10, 0, 0, 2));
	s.dport = 5000;
	r.piece[0].len = pkt_build(f, &s);
	memcpy(rbuf_data(a_tx.ch), f, r.piece[0].len);
	assert_int_equal(rbuf_put_burst(a_tx.ch, &r, 1), 1);
	for (int i = 0; i < 200 && !got; i++) {
		if (rbuf_ec_await(b_rx.ch, 10) > 0) {
			struct rbuf_iorec in;

			got = (int)rbuf_get_burst(b_rx.ch, &in, 1);
			assert_int_equal(in.piece[0].len, r.piece[0].len);
			assert_memory_equal(
			    rbuf_piece_ptr(b_rx.ch, &in.piece[0]), f, in.piece[0].len);
		}
	}
	assert_int_equal(got, 1);

	sluice__drv__get_counters__init(&gc);
	gc.n_flow_ids = 2;
	gc.flow_ids = ids;
	gc.ports = 1;
	assert_int_equal(rpc_call(&c, RPC_T_DRV_GET_COUNTERS, &gc.base, NULL, 0, &reply, 5000), 0);
	{
		Sluice__Drv__CountersReply *cr = (Sluice__Drv__CountersReply *)rpc_unpack(
		    &sluice__drv__counters_reply__descriptor, &reply, &ab->a);

		assert_non_null(cr);
		assert_int_equal(cr->n_flows, 2);
		assert_int_equal(cr->flows[0]->tx_pkts, 1);
		assert_int_equal(cr->flows[1]->rx_pkts, 1);
		assert_int_equal(cr->n_ports, 1);
		/* The driver's own counters, all eight, by name. */
		assert_int_equal(cr->ports[0]->n_driver, 8);
		assert_string_equal(cr->ports[0]->driver[0]->name, "RX_BURSTS");
		assert_true(cr->ports[0]->driver[0]->value >= 1);
		assert_string_equal(cr->ports[0]->driver[3]->name, "RX_RECUT");
		assert_int_equal(cr->ports[0]->driver[3]->value, 0);
		assert_string_equal(cr->ports[0]->driver[7]->name, "WAKEUPS");
	}
	rpc_frame_fini(&reply);

	sluice__drv__dump_flows__init(&df);
	assert_int_equal(rpc_call(&c, RPC_T_DRV_DUMP_FLOWS, &df.base, NULL, 0, &reply, 5000), 0);
	{
		Sluice__Drv__DumpFlowsReply *dr = (Sluice__Drv__DumpFlowsReply *)rpc_unpack(
		    &sluice__drv__dump_flows_reply__descriptor, &reply, &ab->a);

		assert_non_null(dr);
		assert_int_equal(dr->n_flows, 2);
		assert_int_equal(dr->flows[0]->flow->rx->local_port, 7000);
		assert_int_equal(dr->flows[0]->flow->rx->remote_addr, IP(10, 0, 0, 2));
		assert_int_equal(dr->flows[1]->flow->rx->kind, SLUICE__FLOW_KIND__FLOW_KIND_BOUND);
		/* The geometry always, the descriptors only when asked for. */
		assert_non_null(dr->flows[0]->flow->rx_chan);
		assert_non_null(dr->flows[0]->flow->rx_chan->geom);
		assert_null(dr->flows[0]->flow->rx_chan->fds);
		assert_null(dr->flows[1]->flow->tx_chan);
		assert_int_equal(reply.n_fds, 0);
	}
	rpc_frame_fini(&reply);

	/* With the channels (what a restarted flow manager asks for): the
	 * driver's ends, which a channel can be attached from again. */
	df.with_chans = true;
	assert_int_equal(rpc_call(&c, RPC_T_DRV_DUMP_FLOWS, &df.base, NULL, 0, &reply, 5000), 0);
	{
		Sluice__Drv__DumpFlowsReply *dr = (Sluice__Drv__DumpFlowsReply *)rpc_unpack(
		    &sluice__drv__dump_flows_reply__descriptor, &reply, &ab->a);
		struct rbuf_chan_cfg g;
		struct rbuf_chan_fds fds;
		struct rbuf_chan *again;

		assert_non_null(dr);
		assert_int_equal(dr->n_flows, 2);
		assert_int_equal(reply.n_fds, 8); /* flow 2 has no transmit channel */
		assert_non_null(dr->flows[0]->flow->tx_chan->fds);
		assert_null(dr->flows[1]->flow->tx_chan);
		assert_int_equal(rpc_chan_geom(dr->flows[0]->flow->tx_chan, RBUF_MODE_TMM, &g), 0);
		assert_int_equal(rpc_fds_take_chan(&reply, dr->flows[0]->flow->tx_chan->fds,
				     &fds.ctrl, &fds.data, &fds.wait, &fds.kick),
		    0);
		again = rbuf_chan_attach(&g, RBUF_SIDE_RECEIVER, &fds);
		assert_non_null(again);
		rbuf_chan_destroy(again);
		rbuf_chan_fds_close(&fds);
	}
	rpc_frame_fini(&reply);
	df.with_chans = false;

	sluice__drv__remove_flow__init(&rf);
	rf.flow_id = 1;
	assert_int_equal(rpc_call(&c, RPC_T_DRV_REMOVE_FLOW, &rf.base, NULL, 0, &reply, 5000), 0);
	rpc_frame_fini(&reply);
	assert_int_equal(
	    rpc_call(&c, RPC_T_DRV_REMOVE_FLOW, &rf.base, NULL, 0, &reply, 5000), -ENOENT);
	rpc_frame_fini(&reply);
	rf.flow_id = 2;
	assert_int_equal(rpc_call(&c, RPC_T_DRV_REMOVE_FLOW, &rf.base, NULL, 0, &reply, 5000), 0);
	rpc_frame_fini(&reply);
	rbuf_chan_destroy(a_rx.ch);
	rbuf_chan_destroy(a_tx.ch);
	rbuf_chan_destroy(b_rx.ch);
	close(fd);
	free(ab);
}

static void
test_bad_requests_get_clear_errors(void **state)
{
	struct rpc_client c;
	struct flow_msg m;
	struct chan rx;
	int fd, memfd;
	(void)state;

	fd = connect_hello(&c);
	assert_true(fd >= 0);

	/* Descriptor indices beyond what was sent. */
	chan_open(&rx, RBUF_MODE_RMM, 0);
	flow_msg(&m, 5, SLUICE__FLOW_KIND__FLOW_KIND_BOUND, IP(10, 0, 0, 1), 6000, 0, 0);
	rx.f.kick = 9;
	assert_int_equal(add_flow(&c, &m, &rx, NULL), -EBADMSG);
	rx.f.kick = 3;

	/* A data area that is not sealed. */
	memfd = memfd_create("unsealed", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	assert_int_equal(ftruncate(memfd, 64 * 2048), 0);
	{
		int keep = rx.fds.data;

		rx.fds.data = memfd;
		assert_int_equal(add_flow(&c, &m, &rx, NULL), -EPERM);
		assert_non_null(strstr(c.errmsg, "F_SEAL"));
		rx.fds.data = keep;
	}
	close(memfd);

	/* Out of range: port, id 0, a slice above its period. */
	m.rx.local_port = 70000;
	assert_int_equal(add_flow(&c, &m, &rx, NULL), -EINVAL);
	m.rx.local_port = 6000;
	m.af.flow_id = 0;
	assert_int_equal(add_flow(&c, &m, &rx, NULL), -EINVAL);
	m.af.flow_id = 5;
	{
		Sluice__Qos q;

		sluice__qos__init(&q);
		q.period_ns = 1000;
		q.slice_ns = 2000;
		m.af.qos = &q;
		assert_int_equal(add_flow(&c, &m, &rx, NULL), -EINVAL);
		m.af.qos = NULL;
	}

	/* Good, then the same id again. */
	assert_int_equal(add_flow(&c, &m, &rx, NULL), 0);
	assert_int_equal(add_flow(&c, &m, &rx, NULL), -EBUSY);
	{
		Sluice__Drv__RemoveFlow rf;

		sluice__drv__remove_flow__init(&rf);
		rf.flow_id = 5;
		assert_int_equal(
		    rpc_call(&c, RPC_T_DRV_REMOVE_FLOW, &rf.base, NULL, 0, &reply, 5000), 0);
		rpc_frame_fini(&reply);
	}
	rbuf_chan_destroy(rx.ch);
	close(fd);
}

static void
test_garbage_closes_the_connection_and_the_driver_serves_on(void **state)
{
	struct rpc_client c;
	char buf[64];
	int fd = rpc_connect(sock_path);
	(void)state;

	assert_true(fd >= 0);
	assert_int_equal(send(fd, "not a frame at all", 18, 0), 18);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 0); /* closed */
	close(fd);
	fd = connect_hello(&c);
	assert_true(fd >= 0);
	close(fd);
}

static void
test_another_user_is_refused(void **state)
{
	int status;
	pid_t pid;
	(void)state;

	/* Open the socket's mode so that the uid check is what refuses. */
	assert_int_equal(chmod(sock_path, 0666), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[64];
		int fd;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(3);
		fd = rpc_connect(sock_path);
		if (fd < 0)
			_exit(2);
		send(fd, "x", 1, MSG_NOSIGNAL);
		_exit(recv(fd, buf, sizeof(buf), 0) <= 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 3)
		skip(); /* not root: cannot become another user */
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(chmod(sock_path, 0660), 0);
}

static int
setup(void **state)
{
	static char args[10][128];
	static char *argv[10];
	struct drv_cfg cfg = {.max_flows = 16, .name = "ctl"};
	uint16_t port;
	int n = 0;
	(void)state;

#define ARG(...) (snprintf(args[n], sizeof(args[n]), __VA_ARGS__), argv[n] = args[n], n++)
	ARG("test_ctl");
	ARG("--no-huge");
	ARG("-m256");
	ARG("--no-shconf");
	ARG("--no-pci");
	ARG("--file-prefix=test_ctl_%d", (int)getpid());
	ARG("--log-level=error");
	ARG("--vdev=net_ring0");
	ARG("-l0");
#undef ARG
	if (rte_eal_init(n, argv) < 0 || rte_eth_dev_get_port_by_name("net_ring0", &port) < 0)
		return -1;
	cfg.port_id = port;
	d = drv_create(&cfg);
	snprintf(sock_path, sizeof(sock_path), "/tmp/sluice-test-ctl-%d.sock", (int)getpid());
	ctl = d ? drv_ctl_open(d, sock_path, getuid()) : NULL;
	if (!ctl)
		return -1;
	rpc_frame_init(&reply);
	return pthread_create(&loop, NULL, loop_main, NULL);
}

static int
teardown(void **state)
{
	(void)state;
	stop = 1;
	pthread_join(loop, NULL);
	drv_ctl_close(ctl);
	drv_destroy(d);
	unlink(sock_path);
	rte_eal_cleanup();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests_before_hello_are_refused),
	    cmocka_unit_test(test_flows_added_over_rpc_carry_traffic_and_read_back),
	    cmocka_unit_test(test_bad_requests_get_clear_errors),
	    cmocka_unit_test(test_garbage_closes_the_connection_and_the_driver_serves_on),
	    cmocka_unit_test(test_another_user_is_refused),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests_name("driver_ctl", tests, setup, teardown);
}
