/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
/*
 * rpc.c -- SOCK_SEQPACKET sockets, frames, SCM_RIGHTS, request and reply.
 * The format is in rpc.h; the reasons for it in docs/rpc.md.
 */
#include <errno.h>
#include <poll.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/compiler.h"
#include "proto/rpc.h"
#include "proto/rpc_priv.h"

static __thread char errbuf[256];

void
rpc__seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
}

const char *
rpc_errmsg(void)
{
	return errbuf;
}

/* ---- sockets ------------------------------------------------------------ */

static int
addr_fill(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (path == NULL || path[0] == '\0' || strlen(path) >= sizeof(sa->sun_path)) {
		rpc__seterr("socket path empty or longer than %zu bytes", sizeof(sa->sun_path) - 1);
		return -ENAMETOOLONG;
	}
	strcpy(sa->sun_path, path);
	return 0;
}

/* Remove a socket file left by a dead server; refuse to touch anything else. */
static int
remove_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, r;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		rpc__seterr("%s exists and is not a socket", sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (r == 0) {
		rpc__seterr("a server is listening on %s", sa->sun_path);
		return -EADDRINUSE;
	}
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

int
rpc_listen(const char *path, mode_t mode)
{
	struct sockaddr_un sa;
	int fd, r;

	r = addr_fill(&sa, path);
	if (r < 0)
		return r;
	r = remove_stale(&sa);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto out_close;
	/* Before listen(): until then every connect() is refused. */
	if (chmod(path, mode) < 0 || listen(fd, RPC_BACKLOG) < 0)
		goto out_unlink;
	return fd;

out_unlink:
	r = -errno;
	unlink(path);
	close(fd);
	rpc__seterr("%s: %s", path, strerror(-r));
	return r;
out_close:
	r = -errno;
	close(fd);
	rpc__seterr("bind %s: %s", path, strerror(-r));
	return r;
}

int
rpc_accept(int lfd)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

int
rpc_connect(const char *path)
{
	struct sockaddr_un sa;
	int fd, r;

	r = addr_fill(&sa, path);
	if (r < 0)
		return r;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	do
		r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		r = -errno;
		close(fd);
		rpc__seterr("connect %s: %s", path, strerror(-r));
		return r;
	}
	return fd;
}

int
rpc_peer_cred(int fd, struct ucred *cred)
{
	socklen_t len = sizeof(*cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &len) < 0)
		return -errno;
	return len == sizeof(*cred) ? 0 : -EPROTO;
}

/* ---- frames ------------------------------------------------------------- */

static unsigned
kind_flags(int kind)
{
	switch (kind) {
	case RPC_K_REPLY:
		return RPC_F_REPLY;
	case RPC_K_ERROR:
		return RPC_F_REPLY | RPC_F_ERROR;
	case RPC_K_CALLBACK:
		return RPC_F_CALLBACK;
	default:
		return 0;
	}
}

int
rpc_frame_pack(
    void *buf, size_t cap, unsigned type, uint32_t id, const ProtobufCMessage *msg, unsigned n_fds)
{
	const ProtobufCMessageDescriptor *d = rpc_type_desc(type);
	struct rpc_hdr h;
	size_t len;

	if (d == NULL || msg == NULL || msg->descriptor != d) {
		rpc__seterr("message is not a %s", rpc_type_name(type));
		return -EINVAL;
	}
	if (n_fds > RPC_MAX_FDS) {
		rpc__seterr("%u descriptors, at most %u per frame", n_fds, RPC_MAX_FDS);
		return -ETOOMANYREFS;
	}
	len = protobuf_c_message_get_packed_size(msg);
	if (len > RPC_MAX_PAYLOAD || len + RPC_HDR_SIZE > cap) {
		rpc__seterr("%s of %zu bytes does not fit in a frame", d->name, len);
		return -EMSGSIZE;
	}
	memset(&h, 0, sizeof(h));
	h.magic = RPC_MAGIC;
	h.version = RPC_WIRE_VERSION;
	h.flags = (uint8_t)kind_flags(rpc_type_kind(type));
	h.type = (uint16_t)type;
	h.id = id;
	h.len = (uint32_t)len;
	h.n_fds = (uint8_t)n_fds;
	memcpy(buf, &h, sizeof(h));
	if (protobuf_c_message_pack(msg, (uint8_t *)buf + RPC_HDR_SIZE) != len)
		return -EINVAL;
	return (int)(len + RPC_HDR_SIZE);
}

void
rpc_frame_init(struct rpc_frame *f)
{
	memset(&f->hdr, 0, sizeof(f->hdr));
	f->payload = NULL;
	f->len = 0;
	f->n_fds = 0;
}

void
rpc_frame_fini(struct rpc_frame *f)
{
	for (unsigned i = 0; i < f->n_fds && i < RPC_MAX_FDS; i++)
		if (f->fds[i] >= 0)
			close(f->fds[i]);
	f->n_fds = 0;
}

static int
refuse(struct rpc_frame *f, bool keep_hdr, int err)
{
	rpc_frame_fini(f);
	if (!keep_hdr)
		memset(&f->hdr, 0, sizeof(f->hdr));
	f->payload = NULL;
	f->len = 0;
	return err;
}

int
rpc_frame_parse(struct rpc_frame *f, size_t len)
{
	struct rpc_hdr *h = &f->hdr;
	int kind;

	if (len < RPC_HDR_SIZE) {
		rpc__seterr(
		    "datagram of %zu bytes is shorter than the %u-byte header", len, RPC_HDR_SIZE);
		return refuse(f, false, -EBADMSG);
	}
	if (len > RPC_MAX_MSG) {
		rpc__seterr("datagram of %zu bytes is above the %u-byte limit", len, RPC_MAX_MSG);
		return refuse(f, false, -EMSGSIZE);
	}
	memcpy(h, f->buf, sizeof(*h));
	if (h->magic != RPC_MAGIC) {
		rpc__seterr("bad magic 0x%08x", h->magic);
		return refuse(f, false, -EBADMSG);
	}
	if (h->version != RPC_WIRE_VERSION) {
		rpc__seterr("wire version %u, we speak %u", h->version, RPC_WIRE_VERSION);
		return refuse(f, false, -EPROTO);
	}
	if (h->len != len - RPC_HDR_SIZE) {
		rpc__seterr(
		    "header says %u payload bytes, datagram has %zu", h->len, len - RPC_HDR_SIZE);
		return refuse(f, false, -EBADMSG);
	}
	if (h->pad[0] | h->pad[1] | h->pad[2]) {
		rpc__seterr("reserved header bytes are not zero");
		return refuse(f, false, -EBADMSG);
	}
	/* From here the header is the sender's: keep it for an error reply. */
	if (h->n_fds > RPC_MAX_FDS) {
		rpc__seterr("header announces %u descriptors, at most %u", h->n_fds, RPC_MAX_FDS);
		return refuse(f, true, -ETOOMANYREFS);
	}
	if (h->n_fds != f->n_fds) {
		rpc__seterr("header announces %u descriptors, %u arrived", h->n_fds, f->n_fds);
		return refuse(f, true, -EBADMSG);
	}
	kind = rpc_type_kind(h->type);
	if (kind == 0) {
		rpc__seterr("unknown message type 0x%04x", h->type);
		return refuse(f, true, -ENOMSG);
	}
	if (h->flags != kind_flags(kind)) {
		rpc__seterr("%s with flags 0x%02x, expected 0x%02x", rpc_type_name(h->type),
		    h->flags, kind_flags(kind));
		return refuse(f, true, -EBADMSG);
	}
	f->payload = f->buf + RPC_HDR_SIZE;
	f->len = h->len;
	return 0;
}

int
rpc_send(
    int fd, unsigned type, uint32_t id, const ProtobufCMessage *msg, const int *fds, unsigned n_fds)
{
	uint8_t buf[RPC_MAX_MSG];
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RPC_MAX_FDS)];
	} cbuf;
	struct iovec iov;
	struct msghdr mh;
	ssize_t n;
	int len;

	len = rpc_frame_pack(buf, sizeof(buf), type, id, msg, n_fds);
	if (len < 0)
		return len;
	iov.iov_base = buf;
	iov.iov_len = (size_t)len;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n_fds);
	}
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int err = (errno == ECONNRESET) ? EPIPE : errno;

		rpc__seterr("send %s: %s", rpc_type_name(type), strerror(err));
		return -err;
	}
	/* SOCK_SEQPACKET sends a datagram whole or not at all. */
	return n == len ? 0 : -EIO;
}

/* Move every descriptor of every SCM_RIGHTS message into f; close extras. */
static void
collect_fds(struct rpc_frame *f, struct msghdr *mh)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (f->n_fds < RPC_MAX_FDS)
				f->fds[f->n_fds++] = fd;
			else
				close(fd);
		}
	}
}

int
rpc_recv(int fd, struct rpc_frame *f)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RPC_MAX_FDS)];
	} cbuf;
	struct iovec iov = {.iov_base = f->buf, .iov_len = sizeof(f->buf)};
	struct msghdr mh;
	ssize_t n;

	rpc_frame_init(f);
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf.buf;
	mh.msg_controllen = sizeof(cbuf.buf);
	do
		n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == ECONNRESET) {
			rpc__seterr("peer reset the connection");
			return -EPIPE;
		}
		return -errno;
	}
	collect_fds(f, &mh);
	if (n == 0 && f->n_fds == 0 && !(mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		rpc__seterr("peer hung up");
		return -EPIPE;
	}
	if (mh.msg_flags & MSG_CTRUNC) {
		rpc__seterr("more than %u descriptors in one frame", RPC_MAX_FDS);
		(void)rpc_frame_parse(f, (size_t)n); /* for the header, if any */
		return refuse(f, f->hdr.magic == RPC_MAGIC, -ETOOMANYREFS);
	}
	if (mh.msg_flags & MSG_TRUNC) {
		struct rpc_hdr *h = &f->hdr;

		rpc_frame_fini(f);
		memcpy(h, f->buf, sizeof(*h));
		rpc__seterr("datagram above the %u-byte limit", RPC_MAX_MSG);
		return refuse(
		    f, h->magic == RPC_MAGIC && h->version == RPC_WIRE_VERSION, -EMSGSIZE);
	}
	return rpc_frame_parse(f, (size_t)n);
}

/* ---- descriptors -------------------------------------------------------- */

int
rpc_fds_take(struct rpc_frame *f, const struct rpc_fd_slot *slots, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t ix = slots[i].index;

		if (ix >= f->n_fds || f->fds[ix] < 0) {
			rpc__seterr(
			    "descriptor %u: the frame has %u, or it was taken", ix, f->n_fds);
			return -EBADMSG;
		}
		for (unsigned j = 0; j < i; j++)
			if (slots[j].index == ix) {
				rpc__seterr("descriptor %u named twice", ix);
				return -EBADMSG;
			}
	}
	for (unsigned i = 0; i < n; i++) {
		*slots[i].dst = f->fds[slots[i].index];
		f->fds[slots[i].index] = -1;
	}
	return 0;
}

int
rpc_fds_take_chan(
    struct rpc_frame *f, const Sluice__ChanFds *cf, int *ctrl, int *data, int *wait, int *kick)
{
	if (cf == NULL) {
		rpc__seterr("channel without descriptors");
		return -EBADMSG;
	}
	const struct rpc_fd_slot s[4] = {
	    {cf->ctrl, ctrl},
	    {cf->data, data},
	    {cf->wait, wait},
	    {cf->kick, kick},
	};
	return rpc_fds_take(f, s, 4);
}

/* ---- request and reply -------------------------------------------------- */

void
rpc_client_init(struct rpc_client *c, int fd, rpc_callback_fn *callback, void *arg)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->next_id = 1;
	c->callback = callback;
	c->arg = arg;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until fd is readable or the deadline (-1: none) passes. */
static int
wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	int r, t;

	for (;;) {
		t = -1;
		if (deadline >= 0) {
			int64_t left = deadline - now_ms();

			t = left > 0 ? (int)left : 0;
		}
		r = poll(&p, 1, t);
		if (r > 0)
			return 0;
		if (r == 0) {
			rpc__seterr("no reply in time");
			return -ETIMEDOUT;
		}
		if (errno != EINTR)
			return -errno;
	}
}

/* Keep the errnum and message of an Error reply in c. */
static int
error_decode(struct rpc_client *c, const struct rpc_frame *f)
{
	alignas(max_align_t) uint8_t mem[8192];
	struct rpc_arena a;
	Sluice__Error *e;

	rpc_arena_init(&a, mem, sizeof(mem));
	e = (Sluice__Error *)rpc_unpack(&sluice__error__descriptor, f, &a);
	if (e == NULL || e->errnum <= 0 || e->errnum > 4095) {
		rpc__seterr("undecodable Error reply");
		return -EPROTO;
	}
	c->err = e->errnum;
	snprintf(c->errmsg, sizeof(c->errmsg), "%s", e->message ? e->message : "");
	rpc__seterr("%s", c->errmsg);
	return -e->errnum;
}

int
rpc_call(struct rpc_client *c, unsigned type, const ProtobufCMessage *msg, const int *fds,
    unsigned n_fds, struct rpc_frame *reply, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	uint32_t id = c->next_id++;
	int r;

	if (c->next_id == 0)
		c->next_id = 1;
	if (rpc_type_kind(type) != RPC_K_REQ) {
		rpc__seterr("%s is not a request", rpc_type_name(type));
		return -EINVAL;
	}
	r = rpc_send(c->fd, type, id, msg, fds, n_fds);
	if (r < 0)
		return r;
	for (;;) {
		r = wait_readable(c->fd, deadline);
		if (r < 0)
			return r;
		r = rpc_recv(c->fd, reply);
		if (r == -EAGAIN)
			continue;
		if (r < 0)
			return r;
		switch (rpc_type_kind(reply->hdr.type)) {
		case RPC_K_CALLBACK:
			if (c->callback)
				c->callback(c->arg, reply);
			rpc_frame_fini(reply);
			continue;
		case RPC_K_REPLY:
		case RPC_K_ERROR:
			if (reply->hdr.id != id) {
				rpc__seterr(
				    "reply to request %u while waiting for %u", reply->hdr.id, id);
				rpc_frame_fini(reply);
				return -EPROTO;
			}
			if (reply->hdr.type == RPC_T_ERROR)
				return error_decode(c, reply);
			return 0;
		default:
			rpc__seterr(
			    "server sent %s, a request or event", rpc_type_name(reply->hdr.type));
			rpc_frame_fini(reply);
			return -EPROTO;
		}
	}
}

int
rpc_reply(int fd, const struct rpc_hdr *req, unsigned type, const ProtobufCMessage *msg,
    const int *fds, unsigned n_fds)
{
	int kind = rpc_type_kind(type);

	if (req == NULL || (req->type != RPC_T_NONE && rpc_type_kind(req->type) != RPC_K_REQ) ||
	    (kind != RPC_K_REPLY && kind != RPC_K_ERROR)) {
		rpc__seterr("%s does not answer a request", rpc_type_name(type));
		return -EINVAL;
	}
	return rpc_send(fd, type, req->id, msg, fds, n_fds);
}

int
rpc_reply_error(int fd, const struct rpc_hdr *req, int err, const char *fmt, ...)
{
	static const struct rpc_hdr none;
	char text[RPC_ERRMSG_MAX];
	Sluice__Error e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (req == NULL)
		req = &none;
	sluice__error__init(&e);
	e.errnum = err;
	e.message = text;
	e.request_type = req->type;
	return rpc_send(fd, RPC_T_ERROR, req->id, &e.base, NULL, 0);
}
