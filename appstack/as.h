/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * as.h -- the application's own protocol stack (DESIGN.md sections 1, 3, 5):
 * the only header an application includes.
 *
 * A context (struct as_ctx) is the application's connection to the flow
 * manager. Through it the application opens flows (struct as_flow); each
 * flow has two private Rbuf channels to the driver, which this library
 * creates and seals in the application's own memory, and its own stack of
 * layers that formats and checks every packet in the application's process:
 *
 *     application      as_send / as_recv (copy)   as_tx_* / as_rx_* (zero copy)
 *         |                          \               /
 *        UDP    put: header + checksum | get: length, checksum, ports, ICMP errors
 *        IPv4   put: header, fragments | get: header checks, reassembly
 *        Ethernet  put: MACs           | get: type, destination MAC
 *        channel   iorecs on tx (TMM)  | iorecs from rx (RMM)
 *         |                                 ^
 *         v  driver (checks each header against the flow's transmit filter)
 *
 * Headroom: when a flow opens, the stack adds up the header length of every
 * layer (Ethernet 14 + IPv4 20 + UDP 8, checked against the FIB's headroom)
 * once; every transmit buffer keeps that much room in front of the payload,
 * so no layer copies or moves the payload to prepend its header. A datagram
 * larger than the MTU leaves as fragments whose records point at slices of
 * the same payload buffer, each behind a small header piece: still no copy.
 *
 * Buffer ownership (who may touch which memory when):
 *
 *   transmit, zero copy:   as_tx_alloc()  -> the APPLICATION owns the buffer:
 *                          it writes up to cap bytes at data and sets len.
 *                          as_tx_send() ok -> the STACK and the DRIVER own it
 *                          until the driver hands every record back; the
 *                          application must not touch it (the pointer is
 *                          stale). as_tx_send() failed -> still the
 *                          application's: send again or as_tx_free().
 *   receive, zero copy:    as_rx_get()    -> the APPLICATION may read len
 *                          bytes at data (read-only memory) until it calls
 *                          as_rx_put(); while it holds buffers the driver has
 *                          fewer to fill, and drops this flow's packets (only
 *                          this flow's) when none are left.
 *   copying calls:         as_send*, as_recv*: the caller's memory is only
 *                          read or written during the call.
 *
 * Blocking: every call that can wait takes timeout_ms: 0 never waits
 * (-EAGAIN), -1 waits forever, > 0 waits that long (then -EAGAIN). For an
 * event loop, put as_flow_fd() and as_ctx_fd() in epoll (EPOLLIN), call
 * as_flow_arm() before sleeping, and as_ctx_poll() when the context's
 * descriptor is readable. No call on the fast path (send, receive, alloc,
 * put, once a flow is open) allocates, locks or makes a system call, except
 * the wake-up the Rbuf channel itself sends to a sleeping driver and the
 * waits a caller asked for.
 *
 * The flow manager: if its connection closes (it restarted), flows keep
 * running on their channels; the context reconnects every reconnect_ms
 * (from as_ctx_poll() or any blocking wait), says Hello, and sends Reattach
 * for every live flow, whose reply is the flow's FIB. A flow whose Reattach
 * is refused, or that the flow manager revokes (FlowRevoked), is dead: data
 * calls return -ECONNRESET and as_flow_error() says why.
 *
 * Untrusted input: every frame from the receive channel and every message
 * from the flow manager is checked before use; a bad frame is dropped and
 * counted (struct as_flow_stats), never fatal.
 *
 * Threads: a context and its flows are used by one thread at a time.
 * Errors: int functions return 0 (or a length, or a count) or -errno;
 * constructors return NULL with errno set and a reason in as_errmsg();
 * _burst functions return how many were done and never fail.
 */
#ifndef SLUICE_APPSTACK_AS_H
#define SLUICE_APPSTACK_AS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef AS_API
#define AS_API __attribute__((visibility("default")))
#endif

/* Where the flow manager listens unless the configuration or the
 * environment variable SLUICE_FLOWMGR says otherwise. */
#define AS_DEFAULT_SOCKET "/run/sluice/flowmgr.sock"
#define AS_ENV_SOCKET	  "SLUICE_FLOWMGR"

#define AS_MAX_DGRAM 65507 /* largest UDP payload over IPv4 */

struct as_ctx;
struct as_flow;

/* A service access point: IPv4 address and port, both in HOST byte order
 * (a.b.c.d is a << 24 | b << 16 | c << 8 | d), as in proto/common.proto. */
struct as_sap {
	uint32_t addr;
	uint16_t port;
};

/* ---- context: the flow manager connection ----------------------------- */

struct as_ctx_cfg {
	const char *socket;    /* NULL: $SLUICE_FLOWMGR, else AS_DEFAULT_SOCKET */
	const char *software;  /* our name in Hello, for the flow manager's logs */
	int timeout_ms;	       /* per request (Hello, OpenFlow, CloseFlow); 0: 5000 */
	unsigned reconnect_ms; /* retry interval once the flow manager is gone; 0: 50 */
};

/*
 * as_ctx_create - connect to the flow manager and say Hello (blocking, up
 * to timeout_ms). @cfg may be NULL (all defaults).
 * Returns the context, or NULL with errno: ENOENT or ECONNREFUSED (nobody
 * listens there), ENAMETOOLONG, EPROTONOSUPPORT (another schema major
 * version), ETIMEDOUT, EPROTO (a reply that makes no sense), ENOMEM.
 */
AS_API struct as_ctx *as_ctx_create(const struct as_ctx_cfg *cfg);

/*
 * as_ctx_destroy - close every flow still open (as as_flow_close()), then
 * the connection. NULL is ignored.
 */
AS_API void as_ctx_destroy(struct as_ctx *ctx);

/*
 * as_ctx_fd - a descriptor (owned by the context) that is readable when
 * as_ctx_poll() has work: a message from the flow manager, or the time to
 * try reconnecting. Put it in epoll with EPOLLIN.
 */
AS_API int as_ctx_fd(const struct as_ctx *ctx);

/*
 * as_ctx_poll - handle what the flow manager sent (FibChanged,
 * FlowRevoked, replies to Hello and Reattach) and, once the connection is
 * lost, reconnect when the retry time has come. Never blocks. Returns the
 * number of messages handled (>= 0); it cannot fail: a broken connection is
 * dropped and retried.
 */
AS_API int as_ctx_poll(struct as_ctx *ctx);

/* Whether the flow manager connection is up and every flow reattached. */
AS_API bool as_ctx_connected(const struct as_ctx *ctx);

/* The reason for the last failed constructor or control call (this thread). */
AS_API const char *as_errmsg(void);

/* ---- flows ----------------------------------------------------------- */

enum as_flow_kind {
	AS_UDP_CONNECTED = 1, /* local and remote SAP: send/recv */
	AS_UDP_BOUND = 2,     /* local SAP, any remote: sendto/recvfrom */
};

/* Atropos guarantee (DESIGN.md section 4): slice_ns of wire time in every
 * period_ns; extra: may use slack. All zero: best effort. */
struct as_qos {
	uint64_t period_ns;
	uint64_t slice_ns;
	bool extra;
};

/* Zero means "the default" throughout. */
struct as_flow_cfg {
	enum as_flow_kind kind;	   /* required */
	struct as_sap local;	   /* addr 0: the flow manager's choice; port 0: ephemeral */
	struct as_sap remote;	   /* AS_UDP_CONNECTED only */
	struct as_qos qos;	   /* the guarantee asked for */
	uint32_t max_dgram;	   /* largest UDP payload sent or reassembled; 16384 */
	uint32_t rx_bufs;	   /* receive buffers (one frame each), power of two; 256 */
	uint32_t rx_buf_size;	   /* bytes per receive buffer, >= MTU + 14; 2048 */
	uint32_t tx_bufs;	   /* transmit buffers (one datagram each); 64 */
	uint32_t tx_recs;	   /* frames in flight to the driver, power of two; 256 */
	uint32_t reass_slots;	   /* datagrams reassembled at once; 4 */
	uint32_t reass_timeout_ms; /* a datagram not complete by then is dropped; 1000 */
	bool inorder_frags;	   /* the driver drops fragments that overtake the first */
};

/*
 * as_udp_open - open a UDP flow: create and seal the two channels, ask the
 * flow manager (OpenFlow, blocking up to the context's timeout_ms), hand it
 * the channels' descriptors, and set the stack up from the FIB it returns.
 * Returns the flow, or NULL with errno and as_errmsg():
 *   EINVAL      a bad @cfg (kind, ports, sizes; or a remote on a bound flow);
 *   EAGAIN      the context is reconnecting to the flow manager: try again;
 *   EADDRINUSE, EACCES, ENOSPC, ENETUNREACH, EHOSTUNREACH, ...
 *               the flow manager refused (its message is in as_errmsg());
 *   EPROTO      its reply (the FIB) failed our checks;
 *   ENOMEM, or the error of a failed system call.
 * Nothing is left behind on failure.
 */
AS_API struct as_flow *as_udp_open(struct as_ctx *ctx, const struct as_flow_cfg *cfg);

/*
 * as_flow_close - tell the flow manager (CloseFlow; skipped when the flow is
 * dead or the connection is down), then unmap and free everything. Buffers
 * the application still holds become invalid. NULL is ignored.
 */
AS_API void as_flow_close(struct as_flow *f);

/* What the flow is, from its current FIB. */
struct as_flow_info {
	uint32_t flow_id;
	uint64_t generation; /* the FIB's; each FibChanged raises it */
	enum as_flow_kind kind;
	struct as_sap local;
	struct as_sap remote;  /* connected flows */
	uint32_t nexthop_addr; /* host order; 0 if none */
	uint8_t local_mac[6];
	uint8_t nexthop_mac[6]; /* zero if none (bound flows) */
	uint32_t mtu;		/* largest IP datagram on the link */
	uint32_t headroom;	/* bytes of headers in front of every payload */
	uint32_t max_dgram;	/* largest payload as_tx_alloc() gives room for */
	struct as_qos qos;	/* granted */
};

/* as_flow_info - fill @info. Always succeeds. */
AS_API void as_flow_info(const struct as_flow *f, struct as_flow_info *info);

/*
 * as_flow_set_qos - ask the flow manager for a new guarantee (SetQos,
 * blocking up to the context's timeout_ms). Admission is checked as at
 * open: a guarantee the link cannot carry beside the others is refused and
 * the flow keeps the one it had. On 0 the driver schedules the flow by the
 * new guarantee from its next period on, as_flow_info() reports it, and
 * @granted (may be NULL) receives it. Returns 0, or:
 *   -EINVAL      a bad @qos (a slice without a period, or longer than it);
 *   -ENOSPC, ... the flow manager refused (its message in as_errmsg());
 *   -EAGAIN      the context is reconnecting to the flow manager;
 *   -ETIMEDOUT   no answer in time (the change may still happen);
 *   -ECONNRESET  the flow is dead (as_flow_error());
 *   -EPROTO      the reply failed our checks.
 */
AS_API int as_flow_set_qos(struct as_flow *f, const struct as_qos *qos, struct as_qos *granted);

/*
 * What the driver counted for the flow: the trusted side's view, which the
 * application cannot forge. Early drops (no buffer posted, buffer too
 * small, ring full) happen before the stack sees a frame, so they appear
 * here and not in struct as_flow_stats.
 */
struct as_drv_counters {
	uint64_t rx_pkts, rx_bytes; /* frames delivered to the receive channel */
	uint64_t rx_no_buf;	    /* dropped on arrival: no empty buffer posted */
	uint64_t rx_too_big;	    /* ... larger than the buffer, not cut */
	uint64_t rx_ring_full;	    /* ... receive ring full */
	uint64_t tx_pkts, tx_bytes; /* frames sent */
	uint64_t tx_refused;	    /* frames the transmit check refused */
	uint64_t chan_errors;	    /* bad records the driver found in our channels */
	uint64_t sched_wait_ns;	    /* time our frames waited while others sent */
	uint64_t sched_periods;	    /* periods that passed while we had frames */
	uint64_t sched_missed;	    /* ... and ended with slice left (should stay 0) */
	uint64_t sched_slack_ns;    /* wire time sent on slack, beyond the slice */
};

/*
 * as_flow_drv_counters - ask the flow manager for the driver's counters of
 * this flow (GetCounters, blocking up to the context's timeout_ms). Returns
 * 0 and fills @out, or -EAGAIN, -ETIMEDOUT, -ECONNRESET, -EPROTO as
 * as_flow_set_qos(), or the flow manager's refusal.
 */
AS_API int as_flow_drv_counters(struct as_flow *f, struct as_drv_counters *out);

/*
 * as_flow_error - 0 while the flow lives; once it is dead, the negative
 * errno the flow manager gave (FlowRevoked, or a refused Reattach), or
 * -ECONNRESET if it gave none, or -EPIPE if the channel's peer went away.
 */
AS_API int as_flow_error(const struct as_flow *f);

/* ---- zero copy --------------------------------------------------------- */

/* A transmit buffer lent to the application by as_tx_alloc(). */
struct as_txbuf {
	uint8_t *data;	    /* where the payload goes; headroom lies in front */
	uint32_t cap;	    /* bytes the application may write at data */
	uint32_t len;	    /* the payload length: the application sets it */
	struct as_sap peer; /* bound flows: the destination (set it); connected: ignored */
	uint32_t id;	    /* the library's; do not change */
};

/*
 * A received datagram lent to the application by as_rx_get(). For a bound
 * flow an ICMP error about a datagram we sent (port unreachable, ...) comes
 * as a buffer with err < 0 (e.g. -ECONNREFUSED), len 0, and peer the
 * destination it is about; give it back with as_rx_put() like any other.
 */
struct as_rxbuf {
	const uint8_t *data; /* the payload, read-only */
	uint32_t len;	     /* payload bytes */
	struct as_sap peer;  /* the sender (or, with err, the unreachable peer) */
	int err;	     /* 0, or an ICMP error as a negative errno */
	uint32_t id;	     /* the library's; do not change */
};

/*
 * as_tx_alloc - lend the application a transmit buffer with room for
 * max_dgram payload bytes and every header in front. Waits up to
 * @timeout_ms for one to come back from the driver.
 * Returns 0, -EAGAIN (none free in time), -ECONNRESET (the flow is dead).
 */
AS_API int as_tx_alloc(struct as_flow *f, struct as_txbuf *b, int timeout_ms);

/* as_tx_alloc_burst - up to @n buffers, without waiting. Returns how many. */
AS_API unsigned as_tx_alloc_burst(struct as_flow *f, struct as_txbuf *b, unsigned n);

/*
 * as_tx_send - send b->len bytes at b->data (to b->peer on a bound flow):
 * the layers write their headers into the headroom, IPv4 fragments it if it
 * exceeds the MTU, and the frames go on the transmit channel. Waits up to
 * @timeout_ms for room on the channel (a fragmented datagram needs one slot
 * per fragment). On success the buffer is the stack's (see the top of this
 * file); on failure it is still the caller's and nothing was sent.
 *
 * Peers of a bound flow: the frame goes to the MAC the peer's last datagram
 * came from; for a peer not heard from, the flow manager is asked first
 * (Resolve: the peer's MAC on the link, the gateway's beyond it;
 * remembered 10 s). A blocking send (@timeout_ms != 0) waits for the
 * answer: a round trip to the flow manager, or as long as ARP takes (up to
 * 3 s for a peer that never answers), bounded by @timeout_ms; it may run
 * the context's callbacks (FibChanged, FlowRevoked). A non-blocking send
 * (0), and every one of a burst, does not wait: as Linux queues datagrams
 * on an unresolved neighbour, the stack holds the datagram (up to 16 per
 * flow, in order) and returns 0, and sends it when the answer comes, which
 * the context reads in as_ctx_poll() or any blocking call (so serve
 * as_ctx_fd()). One to a peer already being asked for is held too,
 * whatever @timeout_ms, so that they leave in order. A held datagram whose
 * peer turns out unreachable, or that waits more than 5 s, is dropped and
 * counted (DROP_UNRESOLVED).
 *
 * Returns 0, or -EINVAL (not a buffer of this flow's, or not lent),
 * -EMSGSIZE (len above cap), -EDESTADDRREQ (bound flow, no peer),
 * -EHOSTUNREACH (bound flow, blocking: the peer, or the gateway to it, does
 * not answer ARP), -ENETUNREACH (bound flow, blocking: no route to the
 * peer), -EAGAIN (no room in time; a blocking send whose peer is still
 * being resolved; a non-blocking one when 16 are held already or the
 * context is reconnecting), -ECONNRESET (dead).
 */
AS_API int as_tx_send(struct as_flow *f, struct as_txbuf *b, int timeout_ms);

/*
 * as_tx_send_burst - send b[0..n) in order without waiting, publishing
 * once. Stops at the first that cannot go now (no room, or an error as for
 * as_tx_send()); that one and the rest stay the caller's. Returns how many
 * were sent.
 */
AS_API unsigned as_tx_send_burst(struct as_flow *f, struct as_txbuf *b, unsigned n);

/* as_tx_free - give back a lent buffer unsent. Ignores a buffer not lent. */
AS_API void as_tx_free(struct as_flow *f, struct as_txbuf *b);

/*
 * as_rx_get - the next datagram (or ICMP error event) for the flow; waits
 * up to @timeout_ms. Frames that fail a check are dropped and counted on
 * the way. A connected flow returns an ICMP error about its peer as the
 * result instead (e.g. -ECONNREFUSED), once.
 * Returns 0 (the buffer is lent: as_rx_put() it), -EAGAIN, -ECONNRESET, or
 * an ICMP error (connected flows).
 */
AS_API int as_rx_get(struct as_flow *f, struct as_rxbuf *b, int timeout_ms);

/* as_rx_get_burst - up to @n without waiting (ICMP errors of a connected
 * flow are left for as_rx_get()/as_recv()). Returns how many are lent. */
AS_API unsigned as_rx_get_burst(struct as_flow *f, struct as_rxbuf *b, unsigned n);

/* as_rx_put - give a lent buffer back; its memory goes back to the driver.
 * Ignores a buffer not lent. */
AS_API void as_rx_put(struct as_flow *f, struct as_rxbuf *b);

/* as_rx_put_burst - give back @n buffers, publishing once. */
AS_API void as_rx_put_burst(struct as_flow *f, struct as_rxbuf *b, unsigned n);

/* ---- copying ---------------------------------------------------------- */

/*
 * as_send - copy @len bytes into a transmit buffer and send it (connected
 * flows; on a bound flow, as_sendto()). Waits up to @timeout_ms for a buffer
 * and for room. Returns @len, or the errors of as_tx_alloc()/as_tx_send(),
 * or -EDESTADDRREQ (a bound flow), -EMSGSIZE (above max_dgram).
 */
AS_API int as_send(struct as_flow *f, const void *buf, size_t len, int timeout_ms);

/* as_sendto - as as_send(), to @to on a bound flow (ignored if connected). */
AS_API int
as_sendto(struct as_flow *f, const void *buf, size_t len, const struct as_sap *to, int timeout_ms);

/*
 * as_recv - copy the next datagram into @buf (at most @len bytes; the rest
 * of a longer datagram is discarded) and give its buffer back. Returns the
 * bytes copied, or as as_rx_get(). A bound flow's ICMP error event is
 * returned as its negative errno.
 */
AS_API int as_recv(struct as_flow *f, void *buf, size_t len, int timeout_ms);

/* as_recvfrom - as as_recv(), and the sender (or, for an ICMP error
 * event, the unreachable peer) in @from when not NULL. */
AS_API int
as_recvfrom(struct as_flow *f, void *buf, size_t len, struct as_sap *from, int timeout_ms);

/* One datagram of a copying burst. */
struct as_msg {
	void *buf;	    /* send: the payload; recv: where to copy it */
	uint32_t len;	    /* send: payload bytes; recv: in, room at buf; out, bytes copied */
	struct as_sap peer; /* send on bound flows: destination; recv: sender */
	int err;	    /* recv: 0, or an ICMP error event (len 0) */
};

/* as_send_burst - send m[0..n) without waiting; stops at the first that
 * cannot go now. Returns how many were sent. */
AS_API unsigned as_send_burst(struct as_flow *f, const struct as_msg *m, unsigned n);

/* as_recv_burst - receive up to @n without waiting. Returns how many. */
AS_API unsigned as_recv_burst(struct as_flow *f, struct as_msg *m, unsigned n);

/* ---- waiting ------------------------------------------------------------- */

#define AS_EV_RX 0x1 /* the receive channel has frames */
#define AS_EV_TX 0x2 /* the driver handed transmit buffers back */

/*
 * as_flow_fd - a descriptor (owned by the flow) for the application's epoll
 * set (EPOLLIN): readable when the driver kicks either channel. Only a side
 * that has armed (as_flow_arm()) is kicked, and only once per arming.
 */
AS_API int as_flow_fd(const struct as_flow *f);

/*
 * as_flow_arm - before sleeping on as_flow_fd(): clear old wake-ups and
 * tell the driver to kick us on the next frame (AS_EV_RX) or the next
 * buffer handed back (AS_EV_TX), per the Rbuf sleep protocol (rbuf.h).
 * Returns 0 (sleep now), -EAGAIN (work is ready already: do not sleep),
 * or -ECONNRESET (dead).
 */
AS_API int as_flow_arm(struct as_flow *f, unsigned events);

/*
 * as_flow_wait - block until @events may be ready or @timeout_ms passes,
 * keeping the context's connection served meanwhile. Returns the events
 * that look ready (> 0; a frame that arrives may still be dropped by a
 * check), 0 on timeout, -ECONNRESET, -EINTR.
 */
AS_API int as_flow_wait(struct as_flow *f, unsigned events, int timeout_ms);

/* ---- counters ---------------------------------------------------------- */

/*
 * Per-flow counters of the stack, named by cause. Drops are frames (or, for
 * REASS_*, whole datagrams) that the stack threw away; none is fatal.
 */
#define AS_STATS_TABLE(_)                                                             \
	_(RX_DGRAMS, "datagrams delivered to the application")                        \
	_(RX_BYTES, "payload bytes delivered")                                        \
	_(RX_FRAMES, "frames taken from the receive channel")                         \
	_(RX_FRAGS, "fragments taken into reassembly")                                \
	_(RX_REASSEMBLED, "datagrams completed by reassembly")                        \
	_(RX_ICMP, "ICMP errors delivered")                                           \
	_(TX_DGRAMS, "datagrams sent")                                                \
	_(TX_BYTES, "payload bytes sent")                                             \
	_(TX_FRAMES, "frames put on the transmit channel")                            \
	_(TX_FRAGS, "of which fragments")                                             \
	_(TX_REFUSED, "frames the driver handed back refused (its counters say why)") \
	_(DROP_BAD_REC, "receive record or returned transmit record not ours")        \
	_(DROP_TRUNCATED, "frame shorter than its headers say")                       \
	_(DROP_ETHERTYPE, "not IPv4")                                                 \
	_(DROP_NOT_OUR_MAC, "Ethernet destination not our MAC")                       \
	_(DROP_BAD_IP, "IPv4 version, header length or total length wrong")           \
	_(DROP_IP_CSUM, "IPv4 header checksum wrong")                                 \
	_(DROP_NOT_FOR_US, "addresses or ports are not this flow's")                  \
	_(DROP_PROTO, "IP protocol neither UDP nor ICMP")                             \
	_(DROP_UDP_LEN, "UDP length wrong")                                           \
	_(DROP_UDP_CSUM, "UDP checksum wrong")                                        \
	_(DROP_BAD_ICMP, "ICMP short, checksum wrong, or not about this flow")        \
	_(DROP_BAD_FRAG, "fragment offset, length or flags wrong")                    \
	_(DROP_FRAG_DUP, "fragment already received (ignored)")                       \
	_(DROP_FRAG_OVERLAP, "fragments overlap: the datagram is dropped")            \
	_(DROP_REASS_TOO_BIG, "datagram larger than max_dgram: dropped")              \
	_(DROP_REASS_TIMEOUT, "datagram not complete in time: dropped")               \
	_(DROP_REASS_EVICTED, "datagram pushed out by a newer one: dropped")          \
	_(DROP_REASS_NO_SLOT, "every reassembly slot held by the application")        \
	_(DROP_DEAD, "frames received after the flow died")                           \
	_(DROP_UNRESOLVED, "datagrams held for a peer's MAC that never came: dropped")

enum as_stat {
#define AS_STAT_ENUM_(name, desc) AS_STAT_##name,
	AS_STATS_TABLE(AS_STAT_ENUM_)
#undef AS_STAT_ENUM_
	    AS_STAT_MAX
};

struct as_flow_stats {
	uint64_t c[AS_STAT_MAX]; /* indexed by enum as_stat */
};

/* as_flow_stats - a snapshot of the flow's counters (and expire reassembly
 * that timed out first, so that the count is current). */
AS_API void as_flow_stats(struct as_flow *f, struct as_flow_stats *st);

/* "RX_DGRAMS" and its description; "?" for an unknown counter. */
AS_API const char *as_stat_name(enum as_stat s);
AS_API const char *as_stat_desc(enum as_stat s);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_APPSTACK_AS_H */
