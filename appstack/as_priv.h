/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * as_priv.h -- module-internal: the context, the flow, the FIB as the stack
 * keeps it, and the functions the files of appstack/ share. Included only
 * from appstack/ and tests/appstack/ (which drive a flow without a flow
 * manager, playing the driver themselves).
 */
#ifndef SLUICE_APPSTACK_AS_PRIV_H
#define SLUICE_APPSTACK_AS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "appstack/as.h"
#include "appstack/as_layer.h"
#include "common/compiler.h"
#include "rbuf/rbuf.h"

/* Room kept in front of every transmit payload: more than any header stack
 * we build (14 + 60 + 8); the layers use what the FIB and they need. */
#define AS_HEAD 128
/* A later fragment's header piece: Ethernet + IPv4 without options. */
#define AS_HSLOT_SIZE	    64
#define AS_BURST	    32	  /* records per rbuf call on the fast path */
#define AS_PEERS	    64	  /* bound flows: remembered peer MACs (direct mapped) */
#define AS_PEER_RESOLVED_MS 10000 /* a resolved peer's MAC, before asking again */
#define AS_RESOLVE_MIN_MS   50	  /* what a blocking send waits for it, at least */
#define AS_PARK_MAX	    16	  /* datagrams held for peers being resolved, per flow */
#define AS_PARK_TMO_MS	    5000  /* ... dropped if still unresolved by then */

#define AS_DEF_MAX_DGRAM    16384
#define AS_DEF_RX_BUFS	    256
#define AS_DEF_RX_BUF_SIZE  2048
#define AS_DEF_TX_BUFS	    64
#define AS_DEF_TX_RECS	    256
#define AS_DEF_REASS_SLOTS  4
#define AS_DEF_REASS_TMO_MS 1000
#define AS_MAX_REASS_SLOTS  64
#define AS_MAX_BUFS	    65536

/* The FIB as the stack keeps it: checked (as__fib_parse), host order. */
struct as__fib {
	uint32_t flow_id;
	uint64_t generation;
	enum as_flow_kind kind;
	uint8_t local_mac[6];
	uint8_t nh_mac[6];
	bool nh_known; /* nh_mac is set */
	uint32_t nh_addr;
	struct as_sap local;
	struct as_sap remote;
	uint32_t mtu;
	uint32_t headroom;
	struct as_qos qos;
};

enum as_buf_state {
	AS_BUF_FREE = 0, /* tx: on the free stack */
	AS_BUF_APP,	 /* lent to the application */
	AS_BUF_DRIVER,	 /* rx: posted empty; tx: records in flight */
	AS_BUF_STACK,	 /* rx: being parsed, or held by reassembly / an event */
};

/* One datagram being reassembled (or delivered and still lent). */
struct as_reass {
	uint8_t state; /* AS_BUF_FREE, AS_BUF_STACK (assembling), AS_BUF_APP */
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;   /* host order */
	uint32_t total;	     /* IP payload length; 0 until the last fragment came */
	uint32_t have;	     /* payload bytes received */
	uint32_t hi;	     /* highest end of a fragment received */
	uint64_t started_ns; /* first fragment */
	uint8_t mac[6];	     /* the sender's MAC, from the first fragment seen */
	uint8_t *data;	     /* flow->reass_cap bytes */
	uint64_t *map;	     /* one bit per 8-byte unit received */
};

/*
 * A bound flow's peer: the MAC its datagrams go to (the peer's own, or the
 * gateway's). Learnt from what the peer sent (kept until another peer takes
 * the slot), or resolved by the flow manager (as__resolve(); kept for
 * AS_PEER_RESOLVED_MS, and forgotten on FibChanged, which the flow manager
 * sends when a route or a neighbour's MAC changes).
 */
struct as_peer {
	uint32_t addr; /* 0: empty */
	uint8_t mac[6];
	uint64_t expires_ns; /* resolved: when to ask again; 0: learnt */
};

/* A datagram of a bound flow held until its peer's MAC is known (the
 * buffer is AS_BUF_STACK meanwhile). */
struct as_parked {
	struct as_txbuf b;
	uint64_t since_ns;
};

struct as_flow {
	struct as_ctx *ctx; /* NULL for a flow made by tests without one */
	struct as_flow *next;
	struct as_flow_cfg cfg; /* defaults filled in */
	struct as__fib fib;
	int dead;	      /* 0, or -errno: why it died */
	uint32_t reattach_id; /* request id of its Reattach, 0 when none pending */
	struct rbuf_chan *rx; /* Receive Master Mode, we are the receiver */
	struct rbuf_chan *tx; /* Transmit Master Mode, we are the sender */
	int ep;		      /* epoll over both wait descriptors: as_flow_fd() */
	int pending_err;      /* connected: an ICMP error for the next receive */

	/* Receive buffers: rx_n of rx_stride bytes from offset 0. */
	const uint8_t *rx_base;
	uint32_t rx_n, rx_stride;
	uint8_t *rx_state; /* enum as_buf_state per buffer */
	uint32_t *repost;  /* buffers to hand back to the driver, one put per call */
	uint32_t n_repost;

	/* Transmit buffers: tx_n of tx_stride bytes, then the header slots. */
	uint8_t *tx_base;
	uint32_t tx_n, tx_stride;
	uint8_t *tx_state;
	uint16_t *tx_refs; /* records in flight per buffer */
	uint32_t *tx_free; /* stack of free buffers */
	uint32_t n_tx_free;
	uint32_t hs_base; /* data-area offset of header slot 0 */
	uint32_t hs_n;
	uint32_t *hs_free; /* stack of free header slots */
	uint32_t n_hs_free;
	uint32_t *hs_buf; /* the buffer a header slot's fragment belongs to */
	uint8_t *hs_used;

	/* The stack, top first. */
	struct as_layer udp, ip4, eth, chan;
	struct as_layer *top;
	uint32_t headroom; /* sum of the layers' hdr_len, computed once */
	uint32_t frag_max; /* IP payload bytes per fragment: (mtu - 20) & ~7 */
	uint16_t ip_id;
	uint8_t tmpl[64]; /* Ethernet + IPv4 + UDP header from the FIB */

	/* Reassembly: slots allocated once, at open. */
	struct as_reass *reass;
	uint32_t reass_cap; /* bytes per slot: max_dgram + 8, rounded up to 8 */
	uint64_t reass_tmo_ns;

	struct as_peer peers[AS_PEERS];
	struct as_parked park[AS_PARK_MAX]; /* in the order they were sent */
	unsigned n_park;
	struct as_flow_stats st;
};

/* ---- flow.c ---- */
/* A flow with its channels and pools, not yet bound to a FIB: the RPC
 * sends the channels' peer descriptors, tests attach to them. */
struct as_flow *as__flow_alloc(const struct as_flow_cfg *cfg);
void as__flow_free(struct as_flow *f);
/* Set up (or, on FibChanged/Reattach, update) the stack from @fib. */
int as__flow_bind(struct as_flow *f, const struct as__fib *fib);
/* Check @cfg and fill in its defaults. 0 or -EINVAL. */
int as__cfg_fill(const struct as_flow_cfg *in, struct as_flow_cfg *out);
void as__flow_kill(struct as_flow *f, int err);
/* Receive buffers: give one back (queued), and publish the queue. */
void as__rx_release(struct as_flow *f, uint32_t ref);
void as__rx_flush(struct as_flow *f);
/* Take back transmit records the driver handed back. */
void as__tx_reclaim(struct as_flow *f);
uint64_t as__now_ns(void);
/* Sleep once on the channels of @events (flow.c); the caller re-checks. */
int as__flow_sleep(struct as_flow *f, unsigned events, int left_ms);
/* What is left of @timeout_ms since @t0 (0 and -1 pass through). */
int as__left_ms(int timeout_ms, uint64_t t0);
/* The peer MAC cache of bound flows. */
void as__peer_learn(struct as_flow *f, uint32_t addr, const uint8_t mac[6]);
void as__peer_resolved(struct as_flow *f, uint32_t addr, const uint8_t mac[6]);
/* The MAC for @addr, or NULL: unknown, or resolved too long ago. */
const uint8_t *as__peer_mac(const struct as_flow *f, uint32_t addr);

/* ---- ctx.c ---- */
/*
 * A bound flow's next hop for @addr, from the flow manager (Resolve),
 * waiting up to @timeout_ms for its answer (-1: the context's timeout).
 * On 0 the MAC is in the flow's peers. Otherwise -EHOSTUNREACH (the next
 * hop does not answer ARP; also: a flow without a context),
 * -ENETUNREACH (no route), -EAGAIN (no answer yet, or not connected),
 * -EPROTO (an answer that makes no sense), or what the flow manager said.
 */
int as__resolve(struct as_flow *f, uint32_t addr, int timeout_ms);
/*
 * Ask for @addr without waiting (Resolve, not already asked). When the
 * answer comes the context caches the MAC and calls as__park_flush(), or
 * on a refusal as__park_drop(). 0, or -EAGAIN (not connected, or too many
 * questions in flight), -EHOSTUNREACH (no context).
 */
int as__resolve_start(struct as_flow *f, uint32_t addr);
/* Whether an answer about @addr is awaited for @f. */
bool as__resolving(const struct as_flow *f, uint32_t addr);
/* Forget every question asked for @f (it is being closed). */
void as__resolve_forget(struct as_flow *f);

/* ---- api.c ---- */
/* Send what is held and can go now; drop what waited too long. */
void as__park_flush(struct as_flow *f);
/* Drop what is held for @addr (0: everything), counted DROP_UNRESOLVED. */
void as__park_drop(struct as_flow *f, uint32_t addr);

/* ---- fib.c ---- */
struct Sluice__Fm__Fib;
int as__fib_parse(const struct Sluice__Fm__Fib *m, struct as__fib *out);
void as__seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- ip4_in.c ---- */
/* The IPv4 layer's get (its put is in ip4_out.c, with the ops table). */
unsigned as__ip4_get(struct as_layer *l, struct as_pkt *p, unsigned n);
void as__reass_expire(struct as_flow *f, uint64_t now);
int as__icmp_errno(uint8_t type, uint8_t code);

/* ---- ip4_out.c ---- */
/* Frames an IP payload of @len bytes needs on this flow. */
unsigned as__ip4_frames(const struct as_flow *f, uint32_t len);

/* ---- csum ---- */
/* Sum of 16-bit big-endian words of @len bytes, added to @sum (not folded). */
static inline uint64_t
as__csum_add(uint64_t sum, const void *buf, uint32_t len)
{
	const uint8_t *p = (const uint8_t *)buf;

	for (; len >= 8; p += 8, len -= 8)
		sum += (uint64_t)(p[0] << 8 | p[1]) + (uint64_t)(p[2] << 8 | p[3]) +
		       (uint64_t)(p[4] << 8 | p[5]) + (uint64_t)(p[6] << 8 | p[7]);
	for (; len > 1; p += 2, len -= 2)
		sum += (uint64_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint64_t)p[0] << 8;
	return sum;
}

/* Fold and complement: the checksum in host order. */
static inline uint16_t
as__csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The UDP pseudo header's contribution (addresses host order). */
static inline uint64_t
as__csum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint32_t len)
{
	return (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

#endif /* SLUICE_APPSTACK_AS_PRIV_H */
