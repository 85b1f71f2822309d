/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tool's side of nanomsg: a REQ socket to the flow manager's admin.ipc
 * (request, reply, one frame of proto/rpc.h each) and SUB sockets for the
 * events. nanomsg connects in the background and reports neither a missing
 * socket file nor a refused permission, so for ipc:// addresses the file
 * is looked at first: the operator hears "permission denied", not a
 * timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nanomsg/nn.h>
#include <nanomsg/pubsub.h>
#include <nanomsg/reqrep.h>

#include "tools/sluice/sluice.h"

int
sl_init(struct sl *s)
{
	s->req = -1;
	s->frame = malloc(sizeof(*s->frame));
	s->arena_buf = malloc(RPC_ARENA_SIZE);
	if (!s->frame || !s->arena_buf)
		return -ENOMEM;
	rpc_frame_init(s->frame);
	rpc_arena_init(&s->arena, s->arena_buf, RPC_ARENA_SIZE);
	return 0;
}

void
sl_fini(struct sl *s)
{
	if (s->req >= 0)
		nn_close(s->req);
	s->req = -1;
	free(s->frame);
	free(s->arena_buf);
	s->frame = NULL;
	s->arena_buf = NULL;
}

static int fail(struct sl *s, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
fail(struct sl *s, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->errmsg, sizeof(s->errmsg), fmt, ap);
	va_end(ap);
	s->err = err;
	return -err;
}

/* Can we connect to @addr at all? Only ipc:// addresses can be checked. */
static int
check_ipc(struct sl *s, const char *addr, const char *who)
{
	const char *path = addr + 6;

	if (strncmp(addr, "ipc://", 6) != 0)
		return 0;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return fail(
		    s, ENOENT, "%s: no such socket: is %s running? (-s RUNTIME_DIR)", path, who);
	if (access(path, R_OK | W_OK) < 0)
		return fail(s, errno, "%s: %s: only root and the admin group may use it", path,
		    strerror(errno));
	return 0;
}

static int
req_open(struct sl *s)
{
	int rc;

	if (s->req >= 0)
		return 0;
	rc = check_ipc(s, s->admin, "the flow manager");
	if (rc < 0)
		return rc;
	s->req = nn_socket(AF_SP, NN_REQ);
	if (s->req < 0)
		return fail(s, errno, "nanomsg: %s", nn_strerror(errno));
	nn_setsockopt(s->req, NN_SOL_SOCKET, NN_RCVTIMEO, &s->timeout_ms, sizeof(int));
	nn_setsockopt(s->req, NN_SOL_SOCKET, NN_SNDTIMEO, &s->timeout_ms, sizeof(int));
	if (nn_connect(s->req, s->admin) < 0) {
		rc = fail(s, errno, "%s: %s", s->admin, nn_strerror(errno));
		nn_close(s->req);
		s->req = -1;
		return rc;
	}
	return 0;
}

void *
sl_call(struct sl *s, unsigned type, const ProtobufCMessage *req, unsigned reply_type)
{
	struct rpc_frame *f = s->frame;
	uint32_t id = ++s->next_id;
	ProtobufCMessage *m;
	int len, n;

	s->err = 0;
	s->errmsg[0] = '\0';
	if (req_open(s) < 0)
		return NULL;
	len = rpc_frame_pack(f->buf, sizeof(f->buf), type, id, req, 0);
	if (len < 0) {
		fail(s, -len, "%s", rpc_errmsg());
		return NULL;
	}
	if (nn_send(s->req, f->buf, (size_t)len, 0) < 0 ||
	    (n = nn_recv(s->req, f->buf, sizeof(f->buf), 0)) < 0) {
		if (errno == ETIMEDOUT || errno == EAGAIN)
			fail(s, ETIMEDOUT, "%s: no answer within %d ms", s->admin, s->timeout_ms);
		else
			fail(s, errno, "%s: %s", s->admin, nn_strerror(errno));
		return NULL;
	}
	f->n_fds = 0;
	if (rpc_frame_parse(f, (size_t)n) < 0 || f->hdr.id != id) {
		fail(s, EPROTO, "%s: not a reply: %s", s->admin,
		    f->hdr.id != id ? "another request's id" : rpc_errmsg());
		return NULL;
	}
	if (f->hdr.type == RPC_T_ERROR) {
		Sluice__Error *e = (Sluice__Error *)rpc_unpack(NULL, f, &s->arena);

		if (!e)
			fail(s, EPROTO, "an undecodable Error");
		else
			fail(s, e->errnum > 0 ? e->errnum : EIO, "%s",
			    e->message && e->message[0] ? e->message : strerror(e->errnum));
		return NULL;
	}
	if (f->hdr.type != reply_type) {
		fail(s, EPROTO, "%s answered %s with %s", s->admin, rpc_type_name(type),
		    rpc_type_name(f->hdr.type));
		return NULL;
	}
	m = rpc_unpack(NULL, f, &s->arena);
	if (!m)
		fail(s, EPROTO, "%s: undecodable: %s", rpc_type_name(f->hdr.type), rpc_errmsg());
	return m;
}

int
sl_sub_open(struct sl *s, const char *addr)
{
	int max = -1, sock, rc;

	rc = check_ipc(s, addr, "the publisher");
	if (rc < 0)
		return -1;
	sock = nn_socket(AF_SP, NN_SUB);
	if (sock < 0) {
		fail(s, errno, "nanomsg: %s", nn_strerror(errno));
		return -1;
	}
	nn_setsockopt(sock, NN_SOL_SOCKET, NN_RCVMAXSIZE, &max, sizeof(max));
	if (nn_setsockopt(sock, NN_SUB, NN_SUB_SUBSCRIBE, "", 0) < 0 ||
	    nn_connect(sock, addr) < 0) {
		fail(s, errno, "%s: %s", addr, nn_strerror(errno));
		nn_close(sock);
		return -1;
	}
	return sock;
}

int
sl_sub_recv(int sock, struct rpc_frame *f)
{
	int n;

	rpc_frame_init(f);
	n = nn_recv(sock, f->buf, sizeof(f->buf), NN_DONTWAIT);
	if (n < 0)
		return errno == EAGAIN ? -EAGAIN : -errno;
	return rpc_frame_parse(f, (size_t)n);
}
