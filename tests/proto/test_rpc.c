/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
/*
 * The RPC framing: every message type round-trips over a socketpair,
 * descriptors arrive usable, and every kind of bad frame is refused with
 * its errno, its descriptors closed, and nothing else disturbed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/compiler.h"
#include "proto/rpc.h"
#include "proto/admin.pb-c.h"
#include "proto/driver.pb-c.h"
#include "proto/flowmgr.pb-c.h"

/* Frames and arenas are large: one of each, static. */
static struct rpc_frame frame;
static _Alignas(max_align_t) uint8_t arena_mem[RPC_ARENA_SIZE];
static struct rpc_arena arena;
static int sv[2];

static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory's own descriptor */
}

static int
setup(void **state)
{
	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	rpc_frame_init(&frame);
	rpc_arena_init(&arena, arena_mem, sizeof(arena_mem));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	rpc_frame_fini(&frame);
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	return 0;
}

/* Send raw bytes with @n_fds copies of @fd attached. */
static void
send_raw(int s, const void *buf, size_t len, int fd, unsigned n_fds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 64)];
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	assert_true(n_fds <= 64);
	if (n_fds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		for (unsigned i = 0; i < n_fds; i++)
			memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof(int));
	}
	assert_int_equal(sendmsg(s, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

/*
 * Fill every singular scalar, string and bytes field of a message with a
 * value derived from its field number, so that a round trip has something
 * to lose. Sub-messages, repeated fields and oneofs stay empty.
 */
static void
fill_scalars(ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	static char str[] = "sluice";
	static uint8_t bytes[6] = {2, 0, 0, 0, 0, 1};

	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		void *p = (char *)m + fd->offset;
		uint32_t v = fd->id * 1000u + 7u;

		if (fd->label == PROTOBUF_C_LABEL_REPEATED ||
		    (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
			continue;
		switch (fd->type) {
		case PROTOBUF_C_TYPE_INT32:
		case PROTOBUF_C_TYPE_SINT32:
		case PROTOBUF_C_TYPE_SFIXED32:
		case PROTOBUF_C_TYPE_UINT32:
		case PROTOBUF_C_TYPE_FIXED32:
			memcpy(p, &v, sizeof(v));
			break;
		case PROTOBUF_C_TYPE_INT64:
		case PROTOBUF_C_TYPE_SINT64:
		case PROTOBUF_C_TYPE_SFIXED64:
		case PROTOBUF_C_TYPE_UINT64:
		case PROTOBUF_C_TYPE_FIXED64: {
			uint64_t w = ((uint64_t)v << 33) | v;

			memcpy(p, &w, sizeof(w));
			break;
		}
		case PROTOBUF_C_TYPE_BOOL: {
			protobuf_c_boolean b = 1;

			memcpy(p, &b, sizeof(b));
			break;
		}
		case PROTOBUF_C_TYPE_ENUM: {
			const ProtobufCEnumDescriptor *ed = fd->descriptor;
			int e = ed->values[ed->n_values - 1].value;

			memcpy(p, &e, sizeof(e));
			break;
		}
		case PROTOBUF_C_TYPE_STRING: {
			char *s = str;

			memcpy(p, &s, sizeof(s));
			break;
		}
		case PROTOBUF_C_TYPE_BYTES: {
			ProtobufCBinaryData b = {.len = sizeof(bytes), .data = bytes};

			memcpy(p, &b, sizeof(b));
			break;
		}
		default:
			break;
		}
	}
}

static unsigned all_types[] = {
#define X_(name, id, kind, desc) id,
    RPC_TYPE_TABLE(X_)
#undef X_
};

static void
test_every_type_round_trips(void **state)
{
	static _Alignas(max_align_t) uint8_t mem[4096];
	static uint8_t before[4096], after[4096];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(all_types); i++) {
		unsigned t = all_types[i];
		const ProtobufCMessageDescriptor *d = rpc_type_desc(t);
		ProtobufCMessage *m = (ProtobufCMessage *)mem, *got;
		size_t n;

		assert_non_null(d);
		assert_true(d->sizeof_message <= sizeof(mem));
		assert_int_equal(rpc_type_of(d), t);
		protobuf_c_message_init(d, mem);
		fill_scalars(m);
		n = protobuf_c_message_pack(m, before);
		assert_int_equal(rpc_send(sv[0], t, 1000 + (uint32_t)i, m, NULL, 0), 0);
		assert_int_equal(rpc_recv(sv[1], &frame), 0);
		assert_int_equal(frame.hdr.type, t);
		assert_int_equal(frame.hdr.id, 1000 + i);
		assert_int_equal(frame.len, n);
		switch (rpc_type_kind(t)) {
		case RPC_K_REPLY:
			assert_int_equal(frame.hdr.flags, RPC_F_REPLY);
			break;
		case RPC_K_ERROR:
			assert_int_equal(frame.hdr.flags, RPC_F_REPLY | RPC_F_ERROR);
			break;
		case RPC_K_CALLBACK:
			assert_int_equal(frame.hdr.flags, RPC_F_CALLBACK);
			break;
		default:
			assert_int_equal(frame.hdr.flags, 0);
		}
		got = rpc_unpack(d, &frame, &arena);
		assert_non_null(got);
		assert_int_equal(protobuf_c_message_pack(got, after), n);
		assert_memory_equal(before, after, n);
		rpc_frame_fini(&frame);
	}
}

static int
make_memfd(const char *text)
{
	int fd = memfd_create("rpc-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL), 0);
	return fd;
}

/* A full AddFlow with two channels: eight descriptors, each where ChanFds says. */
static void
test_add_flow_passes_channel_fds(void **state)
{
	static const uint8_t smac[6] = {2, 0, 0, 0, 0, 1}, dmac[6] = {2, 0, 0, 0, 0, 2};
	Sluice__Drv__AddFlow m;
	Sluice__Drv__RxFilter rx;
	Sluice__Drv__TxTemplate tx;
	Sluice__Qos qos;
	Sluice__Chan rch, tch;
	Sluice__ChanGeom rg, tg;
	Sluice__ChanFds rf, tf;
	int fds[8], before = count_fds();
	struct {
		int ctrl, data, wait, kick;
	} rxf, txf;
	Sluice__Drv__AddFlow *got;
	char text[32];

	(void)state;
	for (int i = 0; i < 8; i++) {
		snprintf(text, sizeof(text), "fd number %d", i);
		fds[i] = make_memfd(text);
	}
	sluice__drv__add_flow__init(&m);
	sluice__drv__rx_filter__init(&rx);
	sluice__drv__tx_template__init(&tx);
	sluice__qos__init(&qos);
	sluice__chan__init(&rch);
	sluice__chan__init(&tch);
	sluice__chan_geom__init(&rg);
	sluice__chan_geom__init(&tg);
	sluice__chan_fds__init(&rf);
	sluice__chan_fds__init(&tf);
	rx.proto = SLUICE__PROTO__PROTO_UDP;
	rx.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	rx.local_addr = 0x0a000001;
	rx.local_port = 5000;
	rx.remote_addr = 0x0a000002;
	rx.remote_port = 7;
	rx.inorder_frags = 1;
	tx.src_mac = (ProtobufCBinaryData){6, (uint8_t *)(uintptr_t)smac};
	tx.dst_mac = (ProtobufCBinaryData){6, (uint8_t *)(uintptr_t)dmac};
	tx.src_addr = rx.local_addr;
	tx.dst_addr = rx.remote_addr;
	tx.proto = SLUICE__PROTO__PROTO_UDP;
	tx.src_port = 5000;
	tx.dst_port = 7;
	tx.mtu = 1500;
	qos.period_ns = 10000000;
	qos.slice_ns = 1000000;
	qos.extra = 1;
	rg.n_recs = 256;
	rg.data_size = 256 * 2048;
	tg = rg;
	/* Deliberately not in order: the indices are what counts. */
	rf.ctrl = 3, rf.data = 2, rf.wait = 1, rf.kick = 0;
	tf.ctrl = 4, tf.data = 5, tf.wait = 7, tf.kick = 6;
	rch.geom = &rg, rch.fds = &rf;
	tch.geom = &tg, tch.fds = &tf;
	m.flow_id = 42;
	m.rx = &rx;
	m.tx = &tx;
	m.qos = &qos;
	m.rx_chan = &rch;
	m.tx_chan = &tch;
	assert_int_equal(rpc_send(sv[0], RPC_T_DRV_ADD_FLOW, 9, &m.base, fds, 8), 0);
	for (int i = 0; i < 8; i++)
		close(fds[i]);

	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	assert_int_equal(frame.n_fds, 8);
	for (unsigned i = 0; i < frame.n_fds; i++)
		assert_true(fcntl(frame.fds[i], F_GETFD) & FD_CLOEXEC);
	got =
	    (Sluice__Drv__AddFlow *)rpc_unpack(&sluice__drv__add_flow__descriptor, &frame, &arena);
	assert_non_null(got);
	assert_int_equal(got->flow_id, 42);
	assert_int_equal(got->rx->remote_port, 7);
	assert_int_equal(got->qos->slice_ns, 1000000);
	assert_int_equal(got->tx->dst_mac.len, 6);
	assert_memory_equal(got->tx->dst_mac.data, dmac, 6);
	assert_int_equal(got->rx_chan->geom->n_recs, 256);
	assert_int_equal(rpc_fds_take_chan(
			     &frame, got->rx_chan->fds, &rxf.ctrl, &rxf.data, &rxf.wait, &rxf.kick),
	    0);
	assert_int_equal(rpc_fds_take_chan(
			     &frame, got->tx_chan->fds, &txf.ctrl, &txf.data, &txf.wait, &txf.kick),
	    0);
	/* The memfds arrive usable, each where the message said. */
	assert_int_equal(pread(rxf.ctrl, text, sizeof(text), 0), 11);
	assert_memory_equal(text, "fd number 3", 11);
	assert_int_equal(pread(rxf.kick, text, sizeof(text), 0), 11);
	assert_memory_equal(text, "fd number 0", 11);
	assert_int_equal(pread(txf.wait, text, sizeof(text), 0), 11);
	assert_memory_equal(text, "fd number 7", 11);
	assert_int_equal(fcntl(txf.data, F_GET_SEALS), F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
	/* Taken once only. */
	assert_int_equal(rpc_fds_take_chan(
			     &frame, got->tx_chan->fds, &txf.ctrl, &txf.data, &txf.wait, &txf.kick),
	    -EBADMSG);
	assert_int_equal(
	    rpc_fds_take_chan(&frame, NULL, &txf.ctrl, &txf.data, &txf.wait, &txf.kick), -EBADMSG);
	rpc_frame_fini(&frame);
	close(rxf.ctrl), close(rxf.data), close(rxf.wait), close(rxf.kick);
	close(txf.ctrl), close(txf.data), close(txf.wait), close(txf.kick);
	assert_int_equal(count_fds(), before);
}

static void
test_fds_take_is_all_or_nothing(void **state)
{
	int fd = make_memfd("x"), fds[2] = {fd, fd}, a = -1, b = -1;
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_fd_slot dup[2] = {{0, &a}, {0, &b}}, range[2] = {{1, &a}, {2, &b}},
			   good[2] = {{1, &a}, {0, &b}};

	(void)state;
	assert_int_equal(rpc_send(sv[0], RPC_T_OK, 1, &ok.base, fds, 2), 0);
	close(fd);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	assert_int_equal(rpc_fds_take(&frame, dup, 2), -EBADMSG);
	assert_int_equal(rpc_fds_take(&frame, range, 2), -EBADMSG);
	assert_int_equal(a, -1); /* nothing moved */
	assert_int_equal(rpc_fds_take(&frame, good, 2), 0);
	assert_true(a >= 0 && b >= 0 && a != b);
	assert_int_equal(frame.fds[0], -1);
	rpc_frame_fini(&frame); /* closes nothing: both taken */
	assert_int_equal(close(a), 0);
	assert_int_equal(close(b), 0);
}

static void
test_peer_cred_is_ours(void **state)
{
	struct ucred uc;

	(void)state;
	assert_int_equal(rpc_peer_cred(sv[0], &uc), 0);
	assert_int_equal(uc.pid, getpid());
	assert_int_equal(uc.uid, getuid());
	assert_int_equal(uc.gid, getgid());
}

static void
test_listen_connect_accept(void **state)
{
	char dir[] = "/tmp/rpc-test-XXXXXX", path[128], file[128];
	struct ucred uc;
	struct stat st;
	int l, c, s, l2;
	Sluice__Hello h;
	Sluice__Hello *got;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fm.sock", dir);
	l = rpc_listen(path, 0660);
	assert_true(l >= 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(rpc_accept(l), -EAGAIN);
	/* A live server is not replaced. */
	assert_int_equal(rpc_listen(path, 0660), -EADDRINUSE);

	/* That check connected and hung up: the server sees a peer that left. */
	s = rpc_accept(l);
	assert_true(s >= 0);
	assert_int_equal(rpc_recv(s, &frame), -EPIPE);
	close(s);

	c = rpc_connect(path);
	assert_true(c >= 0);
	s = rpc_accept(l);
	assert_true(s >= 0);
	assert_true(fcntl(s, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(s, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(rpc_peer_cred(s, &uc), 0);
	assert_int_equal(uc.pid, getpid());
	assert_int_equal(uc.uid, getuid());
	assert_int_equal(rpc_recv(s, &frame), -EAGAIN);

	rpc_hello_init(&h, "test 1.0");
	assert_int_equal(rpc_send(c, RPC_T_HELLO, 1, &h.base, NULL, 0), 0);
	assert_int_equal(rpc_recv(s, &frame), 0);
	got = (Sluice__Hello *)rpc_unpack(&sluice__hello__descriptor, &frame, &arena);
	assert_non_null(got);
	assert_int_equal(rpc_hello_check(got->major), 0);
	assert_string_equal(got->software, "test 1.0");
	assert_int_equal(rpc_hello_check(got->major + 1), -EPROTONOSUPPORT);
	close(c);
	assert_int_equal(rpc_recv(s, &frame), -EPIPE);
	close(s);
	close(l);

	/* The dead server's socket file is stale: the next server takes it. */
	l2 = rpc_listen(path, 0600);
	assert_true(l2 >= 0);
	close(l2);
	unlink(path);
	/* Not a socket: left alone. */
	snprintf(file, sizeof(file), "%s/plain", dir);
	close(open(file, O_CREAT | O_WRONLY, 0600));
	assert_int_equal(rpc_listen(file, 0600), -EEXIST);
	unlink(file);
	rmdir(dir);
	assert_int_equal(rpc_connect(path), -ENOENT);
	memset(file, 'a', sizeof(file) - 1);
	file[sizeof(file) - 1] = '\0';
	assert_int_equal(rpc_listen(file, 0600), -ENAMETOOLONG);
}

static void
test_oversized_refused(void **state)
{
	static uint8_t big[RPC_MAX_MSG + 4096];
	Sluice__Drv__UpdateTemplate m;
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_hdr h = {.magic = RPC_MAGIC,
	    .version = RPC_WIRE_VERSION,
	    .type = RPC_T_DRV_UPDATE_TEMPLATE,
	    .id = 77};

	(void)state;
	/* The sender refuses to build it. */
	sluice__drv__update_template__init(&m);
	m.dst_mac.len = RPC_MAX_PAYLOAD;
	m.dst_mac.data = big;
	assert_int_equal(
	    rpc_send(sv[0], RPC_T_DRV_UPDATE_TEMPLATE, 1, &m.base, NULL, 0), -EMSGSIZE);

	/* A hostile sender's oversized datagram: refused, header kept for a reply. */
	h.len = sizeof(big) - RPC_HDR_SIZE;
	memcpy(big, &h, sizeof(h));
	send_raw(sv[0], big, sizeof(big), -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EMSGSIZE);
	assert_int_equal(frame.hdr.id, 77);
	assert_int_equal(rpc_reply_error(sv[1], &frame.hdr, EMSGSIZE, "%s", rpc_errmsg()), 0);
	assert_int_equal(rpc_recv(sv[0], &frame), 0);
	assert_int_equal(frame.hdr.type, RPC_T_ERROR);
	assert_int_equal(frame.hdr.id, 77);

	/* The connection still works. */
	assert_int_equal(rpc_send(sv[0], RPC_T_OK, 2, &ok.base, NULL, 0), 0);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	assert_int_equal(frame.hdr.id, 2);
}

static void
test_truncated_refused(void **state)
{
	uint8_t buf[256];
	Sluice__Drv__RemoveFlow m = SLUICE__DRV__REMOVE_FLOW__INIT;
	int len;

	(void)state;
	m.flow_id = 123456;
	len = rpc_frame_pack(buf, sizeof(buf), RPC_T_DRV_REMOVE_FLOW, 5, &m.base, 0);
	assert_true(len > RPC_HDR_SIZE + 1);
	/* Payload shorter than the header says. */
	send_raw(sv[0], buf, (size_t)len - 1, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	/* Shorter than a header. */
	send_raw(sv[0], buf, RPC_HDR_SIZE - 1, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	assert_int_equal(frame.hdr.magic, 0);
	/* Header intact, payload cut inside a varint and lengths made to agree. */
	{
		struct rpc_hdr h;

		memcpy(&h, buf, sizeof(h));
		h.len -= 1;
		memcpy(buf, &h, sizeof(h));
	}
	send_raw(sv[0], buf, (size_t)len - 1, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	errno = 0;
	assert_null(rpc_unpack(&sluice__drv__remove_flow__descriptor, &frame, &arena));
	assert_int_equal(errno, EBADMSG);
}

static void
test_garbage_header_refused(void **state)
{
	uint8_t buf[64];
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_hdr h;
	int len, fd = make_memfd("g"), before;

	(void)state;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	before = count_fds();
	send_raw(sv[0], buf, sizeof(buf), fd, 1);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	assert_int_equal(count_fds(), before);
	assert_int_equal(frame.n_fds, 0);

	len = rpc_frame_pack(buf, sizeof(buf), RPC_T_OK, 3, &ok.base, 0);
	assert_int_equal(len, RPC_HDR_SIZE);
	memcpy(&h, buf, sizeof(h));

	h.version = 2;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EPROTO);

	h.version = RPC_WIRE_VERSION;
	h.pad[1] = 1;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);

	/* An Ok that claims to be a callback, an unknown flag, a reply without its flag. */
	h.pad[1] = 0;
	h.flags = RPC_F_CALLBACK;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	assert_int_equal(frame.hdr.id, 3);
	h.flags = RPC_F_REPLY | 0x80;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	h.flags = 0;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);

	/* Header announces a descriptor that never came, and the reverse. */
	h.flags = RPC_F_REPLY;
	h.n_fds = 1;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	h.n_fds = 0;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, fd, 2);
	assert_int_equal(rpc_recv(sv[1], &frame), -EBADMSG);
	assert_int_equal(count_fds(), before);
	h.n_fds = 200;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -ETOOMANYREFS);
	close(fd);
}

static void
test_unknown_type_refused(void **state)
{
	uint8_t buf[64];
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_hdr h;
	int len;

	(void)state;
	len = rpc_frame_pack(buf, sizeof(buf), RPC_T_OK, 11, &ok.base, 0);
	memcpy(&h, buf, sizeof(h));
	h.type = 0x01ff;
	h.flags = 0;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, -1, 0);
	assert_int_equal(rpc_recv(sv[1], &frame), -ENOMSG);
	/* The server can still say so to the right request. */
	assert_int_equal(frame.hdr.id, 11);
	assert_int_equal(frame.hdr.type, 0x01ff);
	assert_null(rpc_type_desc(0x01ff));
	assert_string_equal(rpc_type_name(0x01ff), "?");
	assert_int_equal(rpc_frame_pack(buf, sizeof(buf), 0x01ff, 1, &ok.base, 0), -EINVAL);
	/* A message that is not of the type's message. */
	assert_int_equal(rpc_frame_pack(buf, sizeof(buf), RPC_T_HELLO, 1, &ok.base, 0), -EINVAL);
}

static void
test_wrong_service_and_descriptor_refused(void **state)
{
	Sluice__Fm__CloseFlow m = SLUICE__FM__CLOSE_FLOW__INIT;

	(void)state;
	assert_int_equal(rpc_method_index(&sluice__drv__driver__descriptor, RPC_T_HELLO), 0);
	assert_int_equal(rpc_method_index(&sluice__drv__driver__descriptor, RPC_T_DRV_ADD_FLOW), 1);
	assert_int_equal(
	    rpc_method_index(&sluice__fm__flow_manager__descriptor, RPC_T_FM_LISTEN), 4);
	assert_int_equal(
	    rpc_method_index(&sluice__drv__driver__descriptor, RPC_T_FM_OPEN_FLOW), -ENOSYS);
	assert_int_equal(rpc_method_index(&sluice__drv__driver__descriptor, RPC_T_OK), -ENOSYS);
	assert_int_equal(rpc_method_index(&sluice__admin__admin__descriptor, RPC_T_ADM_VERSION), 8);
	assert_int_equal(rpc_type_schema(RPC_T_FM_CLOSE_FLOW), RPC_SCHEMA_FLOWMGR);

	assert_int_equal(rpc_send(sv[0], RPC_T_FM_CLOSE_FLOW, 1, &m.base, NULL, 0), 0);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	errno = 0;
	assert_null(rpc_unpack(&sluice__drv__remove_flow__descriptor, &frame, &arena));
	assert_int_equal(errno, EPROTO);
	assert_non_null(rpc_unpack(NULL, &frame, &arena));
}

static void
test_too_many_fds_refused_none_leaked(void **state)
{
	uint8_t buf[64];
	Sluice__Ok ok = SLUICE__OK__INIT;
	int fd = make_memfd("many"), fds[RPC_MAX_FDS + 1], before, len;
	struct rpc_hdr h;

	(void)state;
	for (int i = 0; i <= RPC_MAX_FDS; i++)
		fds[i] = fd;
	assert_int_equal(
	    rpc_send(sv[0], RPC_T_OK, 1, &ok.base, fds, RPC_MAX_FDS + 1), -ETOOMANYREFS);

	before = count_fds();
	len = rpc_frame_pack(buf, sizeof(buf), RPC_T_OK, 1, &ok.base, 0);
	memcpy(&h, buf, sizeof(h));
	h.n_fds = RPC_MAX_FDS + 1;
	memcpy(buf, &h, sizeof(h));
	send_raw(sv[0], buf, (size_t)len, fd, RPC_MAX_FDS + 1);
	assert_int_equal(rpc_recv(sv[1], &frame), -ETOOMANYREFS);
	assert_int_equal(frame.n_fds, 0);
	assert_int_equal(count_fds(), before);

	/* Far more than the limit, with a header that claims none. */
	send_raw(sv[0], buf, (size_t)len, fd, 60);
	assert_int_equal(rpc_recv(sv[1], &frame), -ETOOMANYREFS);
	assert_int_equal(count_fds(), before);

	/* Exactly the limit is fine. */
	assert_int_equal(rpc_send(sv[0], RPC_T_OK, 2, &ok.base, fds, RPC_MAX_FDS), 0);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	assert_int_equal(frame.n_fds, RPC_MAX_FDS);
	assert_int_equal(count_fds(), before + RPC_MAX_FDS);
	rpc_frame_fini(&frame);
	assert_int_equal(count_fds(), before);
	close(fd);
}

static void
test_peer_hangup_reported(void **state)
{
	Sluice__Ok ok = SLUICE__OK__INIT;

	(void)state;
	close(sv[0]);
	sv[0] = -1;
	assert_int_equal(rpc_recv(sv[1], &frame), -EPIPE);
	assert_int_equal(rpc_send(sv[1], RPC_T_OK, 1, &ok.base, NULL, 0), -EPIPE);
}

/* A DumpFlowsReply of @n empty FlowEntry: 2 bytes each on the wire. */
static size_t
build_many_entries(unsigned n)
{
	struct rpc_hdr h = {.magic = RPC_MAGIC,
	    .version = RPC_WIRE_VERSION,
	    .flags = RPC_F_REPLY,
	    .type = RPC_T_DRV_DUMP_FLOWS_REPLY,
	    .id = 1};
	size_t len = 2 * (size_t)n;

	h.len = (uint32_t)len;
	memcpy(frame.buf, &h, sizeof(h));
	for (unsigned i = 0; i < n; i++) {
		frame.buf[RPC_HDR_SIZE + 2 * i] = 0x0a; /* field 1, length-delimited */
		frame.buf[RPC_HDR_SIZE + 2 * i + 1] = 0x00;
	}
	return RPC_HDR_SIZE + len;
}

static void
test_arena_exhaustion_refused(void **state)
{
	static _Alignas(max_align_t) uint8_t big[4 << 20];
	struct rpc_arena large;
	Sluice__Drv__DumpFlowsReply *r;
	size_t len = build_many_entries(RPC_MAX_PAYLOAD / 2);

	(void)state;
	rpc_frame_init(&frame);
	assert_int_equal(rpc_frame_parse(&frame, len), 0);
	/* 32 Ki entries of about 48 bytes each (1.5 MiB) do not fit in 1 MiB. */
	errno = 0;
	assert_null(rpc_unpack(&sluice__drv__dump_flows_reply__descriptor, &frame, &arena));
	assert_int_equal(errno, ENOMEM);
	assert_false(arena.exhausted); /* reset again after the failure */
	/* The same frame is fine with room for it: it was the arena that refused. */
	rpc_arena_init(&large, big, sizeof(big));
	r = (Sluice__Drv__DumpFlowsReply *)rpc_unpack(
	    &sluice__drv__dump_flows_reply__descriptor, &frame, &large);
	assert_non_null(r);
	assert_int_equal(r->n_flows, RPC_MAX_PAYLOAD / 2);
	/* A modest dump fits the standard arena. */
	len = build_many_entries(1000);
	assert_int_equal(rpc_frame_parse(&frame, len), 0);
	assert_non_null(rpc_unpack(&sluice__drv__dump_flows_reply__descriptor, &frame, &arena));
}

/* ---- rpc_call ----------------------------------------------------------- */

static int callbacks;
static uint32_t callback_flow;

static void
on_callback(void *arg, struct rpc_frame *f)
{
	static _Alignas(max_align_t) uint8_t mem[4096];
	struct rpc_arena a;
	Sluice__Fm__FlowRevoked *m;

	(void)arg;
	rpc_arena_init(&a, mem, sizeof(mem));
	m = (Sluice__Fm__FlowRevoked *)rpc_unpack(&sluice__fm__flow_revoked__descriptor, f, &a);
	assert_non_null(m);
	callback_flow = m->flow_id;
	callbacks++;
}

static void
test_call_gets_reply_after_callback(void **state)
{
	Sluice__Fm__CloseFlow req = SLUICE__FM__CLOSE_FLOW__INIT;
	Sluice__Fm__FlowRevoked rev;
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_client c;
	struct rpc_hdr hdr = {.type = RPC_T_FM_CLOSE_FLOW, .id = 1};
	int fd = make_memfd("cb"), before;

	(void)state;
	sluice__fm__flow_revoked__init(&rev);
	rpc_client_init(&c, sv[0], on_callback, NULL);
	/* The server's answers are queued before the request: the order the client sees. */
	rev.flow_id = 17;
	assert_int_equal(rpc_send(sv[1], RPC_T_FM_FLOW_REVOKED, 500, &rev.base, &fd, 1), 0);
	close(fd);
	before = count_fds();
	assert_int_equal(rpc_reply(sv[1], &hdr, RPC_T_OK, &ok.base, NULL, 0), 0);
	req.flow_id = 17;
	callbacks = 0;
	assert_int_equal(rpc_call(&c, RPC_T_FM_CLOSE_FLOW, &req.base, NULL, 0, &frame, 1000), 0);
	assert_int_equal(callbacks, 1);
	assert_int_equal(callback_flow, 17);
	assert_int_equal(frame.hdr.type, RPC_T_OK);
	assert_int_equal(frame.hdr.id, 1);
	/* The callback's descriptor was closed after it. */
	assert_int_equal(count_fds(), before);
	assert_int_equal(rpc_recv(sv[1], &frame), 0);
	assert_int_equal(frame.hdr.type, RPC_T_FM_CLOSE_FLOW);
	/* A reply type is not a request; a request type is not a reply. */
	assert_int_equal(rpc_call(&c, RPC_T_OK, &ok.base, NULL, 0, &frame, 10), -EINVAL);
	assert_int_equal(rpc_reply(sv[1], &hdr, RPC_T_FM_CLOSE_FLOW, &req.base, NULL, 0), -EINVAL);
}

static void
test_call_error_reply(void **state)
{
	Sluice__Fm__OpenFlow req = SLUICE__FM__OPEN_FLOW__INIT;
	Sluice__Error e;
	Sluice__PortClash pc;
	Sluice__Error *got;
	struct rpc_client c;
	struct rpc_hdr hdr = {.type = RPC_T_FM_OPEN_FLOW, .id = 1};

	(void)state;
	sluice__error__init(&e);
	sluice__port_clash__init(&pc);
	rpc_client_init(&c, sv[0], NULL, NULL);
	pc.port = 53;
	pc.holder_pid = 4242;
	pc.holder_comm = rpc_str("named");
	e.errnum = EADDRINUSE;
	e.message = rpc_str("udp port 53 is held by named (pid 4242)");
	e.detail_case = SLUICE__ERROR__DETAIL_PORT_CLASH;
	e.port_clash = &pc;
	assert_int_equal(rpc_reply(sv[1], &hdr, RPC_T_ERROR, &e.base, NULL, 0), 0);
	assert_int_equal(
	    rpc_call(&c, RPC_T_FM_OPEN_FLOW, &req.base, NULL, 0, &frame, 1000), -EADDRINUSE);
	assert_int_equal(c.err, EADDRINUSE);
	assert_string_equal(c.errmsg, "udp port 53 is held by named (pid 4242)");
	got = (Sluice__Error *)rpc_unpack(&sluice__error__descriptor, &frame, &arena);
	assert_non_null(got);
	assert_int_equal(got->detail_case, SLUICE__ERROR__DETAIL_PORT_CLASH);
	assert_string_equal(got->port_clash->holder_comm, "named");

	/* rpc_reply_error() for a request whose header could not be trusted. */
	assert_int_equal(rpc_reply_error(sv[1], NULL, ENOSPC, "only %u ppm free", 1234u), 0);
	assert_int_equal(rpc_recv(sv[0], &frame), 0);
	assert_int_equal(frame.hdr.id, 0);
	assert_int_equal(frame.hdr.flags, RPC_F_REPLY | RPC_F_ERROR);
	got = (Sluice__Error *)rpc_unpack(NULL, &frame, &arena);
	assert_string_equal(got->message, "only 1234 ppm free");
}

static void
test_call_out_of_order_and_timeout(void **state)
{
	Sluice__Fm__CloseFlow req = SLUICE__FM__CLOSE_FLOW__INIT;
	Sluice__Ok ok = SLUICE__OK__INIT;
	struct rpc_client c;
	struct rpc_hdr hdr = {.type = RPC_T_FM_CLOSE_FLOW, .id = 99};

	(void)state;
	rpc_client_init(&c, sv[0], NULL, NULL);
	assert_int_equal(
	    rpc_call(&c, RPC_T_FM_CLOSE_FLOW, &req.base, NULL, 0, &frame, 50), -ETIMEDOUT);
	assert_int_equal(rpc_reply(sv[1], &hdr, RPC_T_OK, &ok.base, NULL, 0), 0);
	assert_int_equal(
	    rpc_call(&c, RPC_T_FM_CLOSE_FLOW, &req.base, NULL, 0, &frame, 1000), -EPROTO);
	/* A server that sends a request instead of a reply. */
	hdr.id = 3;
	assert_int_equal(rpc_send(sv[1], RPC_T_FM_CLOSE_FLOW, 3, &req.base, NULL, 0), 0);
	assert_int_equal(
	    rpc_call(&c, RPC_T_FM_CLOSE_FLOW, &req.base, NULL, 0, &frame, 1000), -EPROTO);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_type_round_trips, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_flow_passes_channel_fds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fds_take_is_all_or_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_cred_is_ours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_listen_connect_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oversized_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_truncated_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_garbage_header_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_type_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_wrong_service_and_descriptor_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_too_many_fds_refused_none_leaked, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_peer_hangup_reported, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_arena_exhaustion_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_gets_reply_after_callback, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_error_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_call_out_of_order_and_timeout, setup, teardown),
	};

	return cmocka_run_group_tests_name("proto_rpc", tests, NULL, NULL);
}
