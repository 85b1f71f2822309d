/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpc.h -- the framing of Sluice's control RPC: protobuf-c messages on an
 * AF_UNIX SOCK_SEQPACKET socket, with descriptors passed by SCM_RIGHTS and
 * the peer known by SO_PEERCRED (DESIGN.md section 5; docs/rpc.md).
 *
 * One message is one datagram, a frame:
 *
 *   0        4     5     6        8          12         16     17    20
 *   +--------+-----+-----+--------+----------+----------+------+-----+----------------+
 *   | magic  | ver |flags|  type  |    id    |   len    |n_fds | pad | payload (len)  |
 *   | "SLRP" |  1  |     | u16    |   u32    |   u32    |  u8  | 0 0 0 protobuf bytes|
 *   +--------+-----+-----+--------+----------+----------+------+-----+----------------+
 *   host byte order (both ends are on one machine); SCM_RIGHTS: n_fds fds
 *
 *   type   a stable id from proto/rpc_types.h; it names the payload's
 *          message and, through its kind, the flags the frame must carry.
 *   id     chosen by the requester; a reply (or Error) echoes it. Callbacks
 *          and events carry their own sequence numbers.
 *   flags  RPC_F_REPLY, RPC_F_ERROR, RPC_F_CALLBACK, as the kind says.
 *   len    payload bytes; must be exactly what follows the header.
 *   n_fds  descriptors attached; must be exactly what arrived.
 *
 * Limits: a frame is at most RPC_MAX_MSG bytes and RPC_MAX_FDS descriptors.
 * A payload is decoded only into a caller's fixed arena (struct rpc_arena),
 * so a hostile peer can make the receiver use at most that much memory.
 *
 * Descriptors: received with MSG_CMSG_CLOEXEC into the frame, which owns
 * them until they are taken (rpc_fds_take*) or the frame is finished
 * (rpc_frame_fini() closes the rest). Every refused frame has its
 * descriptors closed before the call returns: nothing leaks.
 *
 * Errors: int functions return 0 (or a length or descriptor) or -errno; a
 * human-readable reason for the last failure in this thread is in
 * rpc_errmsg(). What a receive error means for the connection:
 *   -EAGAIN          nothing to read (non-blocking socket).
 *   -EPIPE           the peer hung up (or reset the connection).
 *   -EMSGSIZE        datagram above RPC_MAX_MSG (the kernel dropped the rest).
 *   -ETOOMANYREFS    more than RPC_MAX_FDS descriptors, or the header says so.
 *   -EBADMSG         not a frame: short, bad magic, lengths or fd count
 *                    disagree, reserved bits set, flags that the kind forbids.
 *   -EPROTO          another wire version.
 *   -ENOMSG          unknown message type.
 * After -EMSGSIZE, -ETOOMANYREFS, -ENOMSG and the flag checks, f->hdr holds
 * the header as sent (magic and version matched), so a server may answer
 * with rpc_reply_error(); otherwise f->hdr is zero and the only safe answer
 * is to close the connection. Either is fine: a peer that sends garbage
 * gets its connection closed, never a crash.
 *
 * Threads: every call is thread-safe on distinct sockets and frames;
 * rpc_errmsg() is per thread.
 */
#ifndef SLUICE_PROTO_RPC_H
#define SLUICE_PROTO_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <protobuf-c/protobuf-c.h>

#include "proto/common.pb-c.h"
#include "proto/rpc_types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* glibc declares struct ucred's fields only under _GNU_SOURCE. */
struct ucred;

#define RPC_MAGIC	 0x50524c53u /* "SLRP" in memory on a little-endian host */
#define RPC_WIRE_VERSION 1	     /* the frame header; bump only if it changes */
#define RPC_SCHEMA_MAJOR 1	     /* common.proto SCHEMA_VERSION_MAJOR */
#define RPC_SCHEMA_MINOR 5	     /* common.proto SCHEMA_VERSION_MINOR */

#define RPC_HDR_SIZE	20
#define RPC_MAX_MSG	(64 * 1024) /* header + payload, one datagram */
#define RPC_MAX_PAYLOAD (RPC_MAX_MSG - RPC_HDR_SIZE)
#define RPC_MAX_FDS	16	      /* descriptors per frame */
#define RPC_ARENA_SIZE	(1024 * 1024) /* decode arena; senders page replies to fit it */
#define RPC_BACKLOG	64
#define RPC_ERRMSG_MAX	256 /* longest Error.message rpc_call() keeps */

#define RPC_F_REPLY    0x01 /* answers the request with the same id */
#define RPC_F_ERROR    0x02 /* the payload is a sluice.Error (with RPC_F_REPLY) */
#define RPC_F_CALLBACK 0x04 /* sent by the server unasked; never answered */
#define RPC_F_MASK     0x07

/* The frame header as it is on the wire (host order). */
struct rpc_hdr {
	uint32_t magic;	 /* RPC_MAGIC */
	uint8_t version; /* RPC_WIRE_VERSION */
	uint8_t flags;	 /* RPC_F_* */
	uint16_t type;	 /* enum rpc_type */
	uint32_t id;	 /* request id, echoed by the reply */
	uint32_t len;	 /* payload bytes that follow */
	uint8_t n_fds;	 /* SCM_RIGHTS descriptors attached */
	uint8_t pad[3];	 /* zero */
};
_Static_assert(sizeof(struct rpc_hdr) == RPC_HDR_SIZE, "rpc_hdr is part of the wire format");

/*
 * A received frame, in caller-owned storage (about 64 KiB: keep it off
 * small stacks). Fill it with rpc_recv(), or for transports without
 * descriptors (nanomsg) copy the bytes into buf and call rpc_frame_parse().
 */
struct rpc_frame {
	struct rpc_hdr hdr;	  /* the checked header */
	const uint8_t *payload;	  /* into buf, hdr.len bytes */
	size_t len;		  /* == hdr.len */
	unsigned n_fds;		  /* descriptors received */
	int fds[RPC_MAX_FDS];	  /* owned by the frame; -1 once taken */
	uint8_t buf[RPC_MAX_MSG]; /* the datagram as received */
};

/*
 * A bump allocator over caller-provided memory, given to protobuf-c for
 * decoding. Freeing is a no-op; rpc_unpack() resets it, so it holds one
 * decoded message at a time.
 */
struct rpc_arena {
	ProtobufCAllocator pa; /* handed to protobuf-c */
	uint8_t *base;
	size_t size;
	size_t used;
	bool exhausted; /* an allocation did not fit since the last reset */
};

/* ---- sockets ------------------------------------------------------------ */

/*
 * rpc_listen - open a listening SOCK_SEQPACKET socket at @path with file
 * mode @mode (e.g. 0660), close-on-exec and non-blocking.
 * A socket file already at @path is removed if nobody listens on it (a
 * server that died); a live server, or a file that is not a socket, is left
 * alone (finding out connects to it: a live server accepts a connection
 * that hangs up at once). The mode is set before listen(), so no one
 * connects before it.
 * Returns the descriptor, or -ENAMETOOLONG, -EADDRINUSE (a server answers
 * there), -EEXIST (not a socket), or the errno of socket/bind/chmod/listen.
 */
int rpc_listen(const char *path, mode_t mode);

/*
 * rpc_accept - accept one connection, close-on-exec and non-blocking.
 * Returns the descriptor, -EAGAIN if none is waiting, or -errno.
 */
int rpc_accept(int lfd);

/*
 * rpc_connect - connect to the server at @path; the socket is blocking
 * and close-on-exec (set O_NONBLOCK yourself for an event loop).
 * Returns the descriptor, or -ENAMETOOLONG, -ENOENT, -ECONNREFUSED, -errno.
 */
int rpc_connect(const char *path);

/*
 * rpc_peer_cred - the peer's pid, uid and gid (SO_PEERCRED), as they were
 * when it connected. Returns 0 or -errno.
 */
int rpc_peer_cred(int fd, struct ucred *cred);

/* ---- frames ------------------------------------------------------------- */

/*
 * rpc_frame_pack - write the frame for @msg into @buf (@cap bytes): the
 * header, then the packed message. The flags come from the type's kind.
 * @n_fds is what the header announces (the caller attaches them).
 * Returns the frame length, or -EINVAL (unknown @type, or @msg is not of
 * its message type), -EMSGSIZE (larger than @cap or RPC_MAX_MSG),
 * -ETOOMANYREFS (@n_fds above RPC_MAX_FDS). @buf may be partly written.
 */
int rpc_frame_pack(
    void *buf, size_t cap, unsigned type, uint32_t id, const ProtobufCMessage *msg, unsigned n_fds);

/*
 * rpc_frame_parse - check the @len bytes in f->buf as a frame, given that
 * f->n_fds descriptors arrived with it, and set hdr, payload and len.
 * Returns 0 or the receive errors above; on failure, closes f's
 * descriptors. Never reads beyond @len.
 */
int rpc_frame_parse(struct rpc_frame *f, size_t len);

/* rpc_frame_init - an empty frame (no descriptors). */
void rpc_frame_init(struct rpc_frame *f);

/* rpc_frame_fini - close the descriptors nobody took. Idempotent. */
void rpc_frame_fini(struct rpc_frame *f);

/*
 * rpc_send - send @msg as a frame of @type with request id @id, and
 * @n_fds descriptors from @fds (which stay the caller's). Packs into a
 * 64 KiB stack buffer. Never raises SIGPIPE.
 * Returns 0, the rpc_frame_pack() errors, -EAGAIN (non-blocking socket,
 * full), -EPIPE (peer gone), -EBADF (a bad descriptor), or -errno.
 */
int rpc_send(int fd, unsigned type, uint32_t id, const ProtobufCMessage *msg, const int *fds,
    unsigned n_fds);

/*
 * rpc_recv - receive one frame into @f, which must hold no descriptors
 * (new, or rpc_frame_fini()'d). Returns 0 or a receive error (above).
 */
int rpc_recv(int fd, struct rpc_frame *f);

/* ---- decoding ----------------------------------------------------------- */

/* rpc_arena_init - an arena over @size bytes at @buf (the caller's). */
void rpc_arena_init(struct rpc_arena *a, void *buf, size_t size);

/* rpc_arena_reset - forget everything allocated; always succeeds. */
void rpc_arena_reset(struct rpc_arena *a);

/*
 * rpc_unpack - decode the payload of @f as @desc (NULL: the message its
 * type names) into @a, after resetting @a. The result lives in @a until its
 * next reset or unpack; never free it.
 * Returns the message, or NULL with errno: EPROTO (the frame's type is not
 * @desc), ENOMEM (the arena is too small for it), EBADMSG (not a valid
 * encoding of the message).
 */
ProtobufCMessage *
rpc_unpack(const ProtobufCMessageDescriptor *desc, const struct rpc_frame *f, struct rpc_arena *a);

/* ---- descriptors -------------------------------------------------------- */

/* Where a descriptor of the frame should go: f->fds[index] to *dst. */
struct rpc_fd_slot {
	uint32_t index;
	int *dst;
};

/*
 * rpc_fds_take - move the descriptors @slots name out of @f, all or none:
 * every index must be below f->n_fds, not yet taken, and not named twice.
 * The caller owns the taken descriptors. Returns 0 or -EBADMSG.
 */
int rpc_fds_take(struct rpc_frame *f, const struct rpc_fd_slot *slots, unsigned n);

/*
 * rpc_fds_take_chan - the four descriptors of a channel (sluice.ChanFds;
 * NULL is refused) into any struct with ctrl, data, wait and kick members,
 * e.g. struct rbuf_chan_fds: rpc_fds_take_chan(f, m->rx_chan->fds,
 * &fds.ctrl, &fds.data, &fds.wait, &fds.kick). Returns 0 or -EBADMSG.
 */
int rpc_fds_take_chan(
    struct rpc_frame *f, const Sluice__ChanFds *cf, int *ctrl, int *data, int *wait, int *kick);

/* ---- request and reply -------------------------------------------------- */

/* Called by rpc_call() for a callback frame that arrives while it waits. */
typedef void rpc_callback_fn(void *arg, struct rpc_frame *f);

/* The client end of a connection: caller-owned. */
struct rpc_client {
	int fd;			     /* connected socket (the caller closes it) */
	uint32_t next_id;	     /* id of the next request */
	rpc_callback_fn *callback;   /* may be NULL: callbacks are dropped */
	void *arg;		     /* for callback */
	int err;		     /* errnum of the last Error reply */
	char errmsg[RPC_ERRMSG_MAX]; /* its message, NUL-terminated */
};

/* rpc_client_init - a client on connected socket @fd. */
void rpc_client_init(struct rpc_client *c, int fd, rpc_callback_fn *callback, void *arg);

/*
 * rpc_call - send a request and wait up to @timeout_ms (-1: forever) for
 * its reply, which is left in @reply (rpc_frame_fini() it after use).
 * Callback frames that arrive meanwhile go to c->callback, whose
 * descriptors are closed after it returns unless it took them.
 * Returns 0 (a reply of a kind REPLY), or -errnum of an Error reply (c->err
 * and c->errmsg say more; @reply holds the Error for rpc_unpack()),
 * -ETIMEDOUT, -EPROTO (a reply with another id: out of order; or a
 * request, an event or an undecodable Error from the server), or the send
 * and receive errors. After anything but an Error reply or -ETIMEDOUT,
 * close the connection.
 */
int rpc_call(struct rpc_client *c, unsigned type, const ProtobufCMessage *msg, const int *fds,
    unsigned n_fds, struct rpc_frame *reply, int timeout_ms);

/*
 * rpc_reply - answer the request whose header is @req with @msg of @type
 * (a REPLY kind, or RPC_T_ERROR). Returns as rpc_send(); -EINVAL if @req
 * is not a request or @type is not a reply.
 */
int rpc_reply(int fd, const struct rpc_hdr *req, unsigned type, const ProtobufCMessage *msg,
    const int *fds, unsigned n_fds);

/*
 * rpc_reply_error - answer @req (NULL or a zero header: id 0) with a
 * sluice.Error of positive errno @err and a formatted message.
 */
int rpc_reply_error(int fd, const struct rpc_hdr *req, int err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- types and versions ------------------------------------------------- */

/* The generated descriptor of @type's message, or NULL if unknown. */
const ProtobufCMessageDescriptor *rpc_type_desc(unsigned type);

/* The type id of a message descriptor, or RPC_T_NONE. */
unsigned rpc_type_of(const ProtobufCMessageDescriptor *desc);

/* enum rpc_kind of @type, or 0 if unknown. */
int rpc_type_kind(unsigned type);

/* "DRV_ADD_FLOW" and so on; "?" if unknown. */
const char *rpc_type_name(unsigned type);

/*
 * rpc_method_index - the method of service @svc whose input is @type's
 * message, for ProtobufCService dispatch. Returns the index, or -ENOSYS
 * (not a request of this service: refuse it with an Error).
 */
int rpc_method_index(const ProtobufCServiceDescriptor *svc, unsigned type);

/*
 * rpc_str - a string for a protobuf-c message field, which is `char *`
 * although packing never writes through it.
 */
static inline char *
rpc_str(const char *s)
{
	union {
		const char *c;
		char *m;
	} u = {.c = s};

	return u.m;
}

/* rpc_hello_init - a Hello with our schema version and @software. */
void rpc_hello_init(Sluice__Hello *h, const char *software);

/*
 * rpc_hello_check - may we talk to a peer that sent @major? Returns 0, or
 * -EPROTONOSUPPORT for another major version (minor differences are
 * fine: unknown fields and types are ignored or refused one by one).
 */
int rpc_hello_check(uint32_t major);

/* The reason for the last failure in this thread. */
const char *rpc_errmsg(void);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PROTO_RPC_H */
