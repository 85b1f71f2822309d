/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flt.h -- Sluice packet filters: receive demultiplexing and transmit checks
 * (DESIGN.md section 3). The driver classifies every received frame to a flow
 * with flt_demux_burst() and checks every frame an application wants to send
 * with flt_txcheck_burst(). The flow manager decides what the flows are; this
 * library only applies its decisions, fast, and counts what it refuses.
 *
 * Receive path, per burst:
 *
 *   frames --parse--> malformed?  ------------------------> DROP (reason)
 *              |      not IPv4 / not UDP or TCP  ---------> MANAGER
 *              |      ICMP error quoting our UDP or TCP datagram:
 *              |        key from the quote, turned around
 *              v
 *        5-tuple key --bulk lookup--> hit -----------------> FLOW (id)
 *              | miss
 *        3-tuple key --bulk lookup--> hit -----------------> FLOW (id)
 *              | miss ------------------------------------> MANAGER
 *
 *   IPv4 fragments: a first fragment is looked up as above by its ports and
 *   its (source, destination, id, protocol) is remembered for a while; later
 *   fragments follow the remembered verdict. A later fragment that comes
 *   before its first fragment is copied into a small hold pool (HELD) and
 *   handed out by flt_frag_release_burst() once its first fragment has been
 *   classified, or dropped when it waits too long. Nothing is reassembled.
 *
 * The flow table is an exact-match DPDK rte_hash of 16-byte keys:
 *
 *   +------------+-------------+------------+-------------+-------+-----+
 *   | local addr | remote addr | local port | remote port | proto | pad |
 *   +------------+-------------+------------+-------------+-------+-----+
 *       4             4             2             2           1      3
 *
 * A connected flow fills every field; a bound (UDP) or listening (TCP) flow
 * leaves the remote address and port zero, so the 3-tuple lookup is the same
 * table searched again with the remote fields cleared. The value stored with
 * each key is the caller's flow id and the flow's options; no pointer, so a
 * reader never follows memory the writer may free.
 *
 * Threads. One table has:
 *   - one writer (the control path): flt_flow_add(), flt_flow_del(),
 *     flt_reader_sync(), flt_table_destroy();
 *   - one receive thread (the data path): flt_demux_burst(),
 *     flt_frag_release_burst(), flt_reader_online()/offline();
 *   - one transmit thread, which may be the receive thread: flt_txcheck*();
 *   - any thread: flt_stats_get(), flt_flow_count() (a snapshot).
 * They may all run at the same time. Readers are lock-free (rte_hash with
 * RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF); deleted key slots are reclaimed
 * through DPDK's RCU (QSBR): the receive thread reports a quiescent state at
 * the end of every flt_demux_burst(), and must call flt_reader_offline()
 * before it sleeps and flt_reader_online() when it wakes, or deleted slots
 * wait (and flt_reader_sync() blocks) until its next burst.
 *
 * Memory. Everything is allocated by flt_table_create(), sized by its
 * configuration; no call on the data path allocates, locks or makes a system
 * call. The table needs the DPDK EAL to be initialised (rte_hash, rte_malloc).
 *
 * Byte order: every address and port in this API is in network byte order,
 * as in struct sockaddr_in. Flow ids and lengths are in host order.
 *
 * Errors: flt_table_create() returns NULL with errno set; int functions
 * return 0 or -errno and change nothing on failure; _burst functions return a
 * count and never fail.
 */
#ifndef SLUICE_FILTERS_FLT_H
#define SLUICE_FILTERS_FLT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A flow id no flow can have: "no flow claims this packet". */
#define FLT_FLOW_NONE UINT32_MAX

/* Largest number of flows one table holds. */
#define FLT_MAX_FLOWS (1u << 24)

/*
 * Receive drop reasons: X(name, description). FLT_DROP_<name> is the enum
 * value; the description is what operators see next to the counter.
 */
#define FLT_DROP_REASONS(X)                                                                       \
	X(TRUNCATED, "frame shorter than its Ethernet or IPv4 header")                            \
	X(BAD_VERSION, "IP version is not 4 in an IPv4 frame")                                    \
	X(BAD_IHL, "IPv4 header length below 20 bytes")                                           \
	X(BAD_IP_LEN, "IPv4 total length below the header length or beyond the frame")            \
	X(BAD_CSUM, "IPv4 header checksum wrong")                                                 \
	X(BAD_SRC_ADDR, "source address multicast, broadcast or class E")                         \
	X(BAD_FRAG, "reserved flag set, fragment past 65535 bytes, or TCP fragment at offset 8")  \
	X(L4_TRUNCATED, "IP payload shorter than the UDP or TCP header")                          \
	X(BAD_UDP_LEN, "UDP length disagrees with the IP payload")                                \
	X(BAD_TCP_OFF, "TCP data offset below 5 or beyond the IP payload")                        \
	X(FRAG_TINY, "first fragment shorter than the UDP or TCP header")                         \
	X(FRAG_NO_FIRST, "later fragment with no first fragment, and holding is off")             \
	X(FRAG_HOLD_FULL, "later fragment before its first fragment, hold pool full")             \
	X(FRAG_HOLD_TOO_BIG, "later fragment before its first fragment, larger than a hold slot") \
	X(FRAG_TIMEOUT, "held fragment whose first fragment never came")                          \
	X(FRAG_OUT_OF_ORDER, "held fragment of a flow that takes in-order fragments only")

enum flt_drop {
	FLT_DROP_NONE = 0,
#define FLT_X_(name, desc) FLT_DROP_##name,
	FLT_DROP_REASONS(FLT_X_)
#undef FLT_X_
	    FLT_DROP__COUNT
};

/* Transmit refusal reasons: X(name, description), as above. */
#define FLT_TX_REASONS(X)                                                                        \
	X(TRUNCATED, "frame shorter than its Ethernet, IPv4 or transport header")                \
	X(BAD_ETHERTYPE, "not an IPv4 frame")                                                    \
	X(BAD_SRC_MAC, "source MAC is not the flow's")                                           \
	X(BAD_VERSION, "IP version is not 4")                                                    \
	X(BAD_IHL, "IPv4 header length below 20, or IP options the flow may not send")           \
	X(BAD_PROTO, "IP protocol is not the flow's")                                            \
	X(BAD_SRC_IP, "source address is not the flow's")                                        \
	X(BAD_SRC_PORT, "source port is not the flow's")                                         \
	X(BAD_DST, "destination address or port is not the connected flow's")                    \
	X(BAD_FRAG, "reserved flag set, or a fragment from a flow that may not fragment")        \
	X(BAD_LEN, "IP total length, UDP length or TCP data offset inconsistent with the frame") \
	X(TOO_BIG, "IP datagram larger than the flow's MTU")

enum flt_tx_reason {
	FLT_TX_OK = 0,
#define FLT_X_(name, desc) FLT_TX_##name,
	FLT_TX_REASONS(FLT_X_)
#undef FLT_X_
	    FLT_TX__COUNT
};

/* What the driver does with a received packet. */
enum flt_action {
	FLT_ACT_FLOW = 1, /* deliver to flow `flow` */
	FLT_ACT_MANAGER,  /* no flow claims it: the flow manager's channel */
	FLT_ACT_DROP,	  /* drop and forget; `reason` says why (already counted) */
	FLT_ACT_HELD,	  /* the table kept a copy; see flt_frag_release_burst() */
};

/* The verdict on one received packet. */
struct flt_verdict {
	uint32_t flow;	 /* the flow id for FLT_ACT_FLOW, else FLT_FLOW_NONE */
	uint16_t action; /* enum flt_action */
	uint16_t reason; /* enum flt_drop for FLT_ACT_DROP, else FLT_DROP_NONE */
};

enum flt_kind {
	FLT_KIND_CONNECTED = 1, /* UDP or TCP, all five fields */
	FLT_KIND_BOUND,		/* UDP, local address and port; any remote */
	FLT_KIND_LISTENING,	/* TCP, local address and port; any remote */
};

/* Flow options (struct flt_flow_spec.flags). */
#define FLT_FLOW_F_INORDER_FRAGS 0x0001 /* drop fragments that come before their first */

/* A flow as the flow manager describes it. */
struct flt_flow_spec {
	uint32_t flow;	      /* the caller's id, returned in verdicts; not FLT_FLOW_NONE */
	uint8_t proto;	      /* 6 (TCP) or 17 (UDP) */
	uint8_t kind;	      /* enum flt_kind */
	uint16_t flags;	      /* FLT_FLOW_F_* */
	uint32_t local_addr;  /* network order, not 0 */
	uint32_t remote_addr; /* network order; 0 unless connected */
	uint16_t local_port;  /* network order, not 0 */
	uint16_t remote_port; /* network order; 0 unless connected */
};

/* Table options (struct flt_table_cfg.flags). */
#define FLT_CFG_F_NO_HOLD 0x0001 /* drop early fragments instead of holding them */

/* Creation parameters; zero picks the default given in brackets. */
struct flt_table_cfg {
	const char *name;	  /* prefix of the DPDK object names ["flt"], < 16 chars */
	uint32_t max_flows;	  /* flows of every kind [65536], <= FLT_MAX_FLOWS */
	uint32_t frag_entries;	  /* first fragments remembered [1024], rounded up to 2^k */
	uint64_t frag_timeout_ns; /* how long one is remembered [1 s] */
	uint32_t hold_slots;	  /* early fragments held at once [16], <= 1024 */
	uint32_t hold_slot_size;  /* largest frame held [2048 bytes], <= 16384 */
	uint64_t hold_timeout_ns; /* how long one waits for its first fragment [500 ms] */
	uint32_t flags;		  /* FLT_CFG_F_* */
};

struct flt_table;

/*
 * Counters of one table. The receive thread writes the rx and frag parts,
 * the transmit thread the tx part; flt_stats_get() reads a snapshot.
 * Invariants (between calls):
 *   rx_pkts == rx_flow + rx_manager + rx_dropped + rx_held
 *   rx_held == rx_released + drop[FRAG_TIMEOUT] + drop[FRAG_OUT_OF_ORDER]
 *              + flt_frag_held()
 *   rx_dropped + drop[FRAG_TIMEOUT] + drop[FRAG_OUT_OF_ORDER] == sum of drop[]
 *   tx_pkts == tx_ok + tx_refused, tx_refused == sum of tx_refuse[]
 */
struct flt_stats {
	uint64_t rx_pkts;     /* frames given to flt_demux_burst() */
	uint64_t rx_flow;     /* delivered to a flow */
	uint64_t rx_manager;  /* no flow claimed them */
	uint64_t rx_dropped;  /* dropped on arrival (verdict FLT_ACT_DROP) */
	uint64_t rx_held;     /* copied into the hold pool */
	uint64_t rx_released; /* held frames handed out by flt_frag_release_burst() */
	uint64_t drop[FLT_DROP__COUNT];

	uint64_t frag_first;	/* first fragments remembered */
	uint64_t frag_later;	/* later fragments that found their first */
	uint64_t frag_replaced; /* first fragments that replaced a live entry (id reuse) */
	uint64_t frag_evicted;	/* live entries pushed out by a full bucket */

	uint64_t tx_pkts;    /* frames checked */
	uint64_t tx_ok;	     /* passed */
	uint64_t tx_refused; /* sum of tx_refuse[] */
	uint64_t tx_refuse[FLT_TX__COUNT];
};

/*
 * Create a table: the flow hash, the fragment memory and the hold pool, all
 * sized by cfg. The calling thread becomes the table's writer; the receive
 * thread starts online (see the thread model above).
 *
 * @cfg: creation parameters, or NULL for every default.
 * Returns the table, or NULL with errno: EINVAL (a parameter out of range),
 * ENOMEM, EEXIST (DPDK objects of that name exist: pick another name), or an
 * errno from rte_hash_create(); nothing is left allocated.
 */
struct flt_table *flt_table_create(const struct flt_table_cfg *cfg);

/*
 * Destroy a table and everything it allocated. No other thread may be using
 * it. NULL is ignored.
 */
void flt_table_destroy(struct flt_table *tbl);

/*
 * Add a flow. From return on, every burst that starts may return it.
 *
 * @spec: the flow; copied, so the caller may reuse it.
 * Returns 0, or -EINVAL (a field out of range: see struct flt_flow_spec; a
 * bound flow must be UDP and a listening one TCP; remote fields must be zero
 * except for connected flows, and nonzero for them), -EEXIST (a flow with the
 * same key exists), -ENOSPC (max_flows reached, or the hash could not place
 * the key), -ENOMEM.
 */
int flt_flow_add(struct flt_table *tbl, const struct flt_flow_spec *spec);

/*
 * Remove the flow with the key of spec (proto, kind, addresses and ports;
 * flow and flags are ignored). Bursts that start after return never name
 * it; a burst running meanwhile still may, and remembered fragments may
 * name it until they time out: the caller must accept a verdict for a flow
 * it has just removed (treat it as FLT_ACT_MANAGER or drop it). To know that
 * no burst still running can name it, call flt_reader_sync().
 *
 * Returns 0, -EINVAL (spec malformed as for flt_flow_add) or -ENOENT.
 */
int flt_flow_del(struct flt_table *tbl, const struct flt_flow_spec *spec);

/* Number of flows in the table (a snapshot). */
uint32_t flt_flow_count(const struct flt_table *tbl);

/*
 * Writer: wait until the receive thread has finished every burst that was
 * running when this was called (returns at once if it is offline). Never call
 * it from the receive thread while online.
 */
void flt_reader_sync(struct flt_table *tbl);

/*
 * Receive thread: stop (offline) or resume (online) reading the table, around
 * a sleep, so the writer never waits for an idle reader.
 */
void flt_reader_offline(struct flt_table *tbl);
void flt_reader_online(struct flt_table *tbl);

/*
 * Classify a burst of received frames. Frames are parsed and checked (every
 * length, the IPv4 header checksum; docs/filters.md lists the rules), then
 * looked up by 5-tuple and 3-tuple in bulk. An ICMP destination unreachable,
 * time exceeded or parameter problem is looked up by the UDP or TCP datagram
 * it quotes, as the flow that sent it. The frames are only read, and
 * only during the call. Each verdict is counted in the table's counters.
 *
 * @pkts, @lens: n frames (starting at the Ethernet header, without FCS).
 * @n: how many; any number (the burst is processed in chunks of 64).
 * @now_ns: a monotonic clock in nanoseconds, for fragment time limits.
 * @out: n verdicts, out[i] for pkts[i].
 * Ownership: for FLT_ACT_FLOW and FLT_ACT_MANAGER the caller delivers the
 * frame; for FLT_ACT_DROP and FLT_ACT_HELD it frees it (a held frame was
 * copied). Returns n.
 */
unsigned flt_demux_burst(struct flt_table *tbl, const uint8_t *const pkts[], const uint16_t lens[],
    unsigned n, uint64_t now_ns, struct flt_verdict out[]);

/* A held fragment whose first fragment has been classified. */
struct flt_held {
	const uint8_t *frame; /* the table's copy: valid until the next call on this table
				 to flt_demux_burst() or flt_frag_release_burst() */
	uint16_t len;
	uint16_t action; /* FLT_ACT_FLOW or FLT_ACT_MANAGER */
	uint32_t flow;	 /* for FLT_ACT_FLOW, else FLT_FLOW_NONE */
};

/*
 * Receive thread: hand out held fragments whose first fragment has now been
 * classified, in the order they arrived, and drop (and count) those that
 * waited longer than hold_timeout_ns. Call it after each flt_demux_burst()
 * that returned FLT_ACT_HELD or while flt_frag_held() is nonzero.
 *
 * @out: room for n entries. Returns how many were filled (0..n).
 */
unsigned
flt_frag_release_burst(struct flt_table *tbl, uint64_t now_ns, struct flt_held out[], unsigned n);

/* Number of fragments in the hold pool (waiting or ready for release). */
unsigned flt_frag_held(const struct flt_table *tbl);

/* What a flow may send: the flow manager's transmit filter. */
struct flt_tx_spec {
	uint8_t src_mac[6];
	uint8_t proto;	   /* 6 (TCP) or 17 (UDP) */
	uint8_t connected; /* nonzero: destination address and port are checked too */
	uint32_t src_addr; /* network order */
	uint32_t dst_addr; /* network order; connected flows only */
	uint16_t src_port; /* network order */
	uint16_t dst_port; /* network order; connected flows only */
	uint16_t mtu;	   /* largest IP datagram (total length) [1500], >= 68 */
	uint16_t flags;	   /* FLT_TX_F_* */
};

#define FLT_TX_F_IP_OPTIONS 0x0001 /* the flow may send IP options (IHL > 5) */
#define FLT_TX_F_FRAGMENTS  0x0002 /* the flow may send IP fragments */

/* Header bytes flt_txcheck() copies: Ethernet + largest IPv4 + largest TCP. */
#define FLT_TX_HDR_MAX (14 + 60 + 60)

/*
 * A compiled transmit filter: the header bytes that must hold given values,
 * as value and mask. Caller-owned storage (one per flow), filled by
 * flt_tx_template_init(); its fields are private.
 */
struct flt_tx_template {
	uint64_t val[5];  /* bytes 0..39 of the frame, as loaded */
	uint64_t mask[5]; /* which bits of them must equal val */
	uint32_t l4_val;  /* source and destination port, as loaded */
	uint32_t l4_mask; /* destination port only for connected flows */
	uint16_t mtu;	  /* host order */
	uint16_t flags;	  /* FLT_TX_F_* */
	uint8_t proto;
	uint8_t pad[3];
};

/*
 * Compile spec into tmpl. The template is plain data: copy it, keep it with
 * the flow, re-init it when the flow manager changes the filter.
 * Returns 0 or -EINVAL (proto not TCP or UDP, mtu below 68, zero source
 * address or port, a connected flow with a zero destination); tmpl is
 * unchanged on failure.
 */
int flt_tx_template_init(struct flt_tx_template *tmpl, const struct flt_tx_spec *spec);

/* One frame to check, for flt_txcheck_burst(). */
struct flt_tx_pkt {
	const struct flt_tx_template *tmpl; /* the sending flow's filter */
	const uint8_t *frame;		    /* the frame, in memory the application can write */
	uint32_t len;			    /* its length, without FCS */
	uint8_t *priv;			    /* FLT_TX_HDR_MAX bytes of driver-private memory */
	uint16_t hdr_len;		    /* out: header bytes to send from priv */
	uint16_t reason;		    /* out: enum flt_tx_reason; FLT_TX_OK if it passed */
};

/*
 * Check one frame an application wants to send. The first
 * min(len, FLT_TX_HDR_MAX) bytes are copied to priv before anything is read,
 * and only the copy is checked, so the application cannot change the headers
 * after the check: send priv[0, hdr_len) followed by frame[hdr_len, len).
 * The copy is compared under the template's mask (source MAC, IPv4, protocol,
 * source address and port; destination address and port for connected
 * flows), and the lengths must agree: IP total length == len - 14, UDP length
 * == IP payload, TCP data offset within the payload, total length <= MTU.
 * Counts the result in the table's tx counters.
 *
 * @hdr_len: out, set when the frame passes (Ethernet + IP + transport header,
 * or Ethernet + IP for a later fragment).
 * Returns FLT_TX_OK or the reason for refusal.
 */
enum flt_tx_reason flt_txcheck(struct flt_table *tbl, const struct flt_tx_template *tmpl,
    const uint8_t *frame, uint32_t len, uint8_t *priv, uint16_t *hdr_len);

/*
 * flt_txcheck() over n frames; fills hdr_len and reason of each.
 * Returns how many passed.
 */
unsigned flt_txcheck_burst(struct flt_table *tbl, struct flt_tx_pkt pkts[], unsigned n);

/* Copy a snapshot of the table's counters into st. */
void flt_stats_get(const struct flt_table *tbl, struct flt_stats *st);

/*
 * Names ("TRUNCATED") and descriptions of drop and refusal reasons, for
 * counter dumps. Out-of-range values give "?". FLT_DROP_NONE and FLT_TX_OK
 * give "NONE" and "OK".
 */
const char *flt_drop_name(unsigned reason);
const char *flt_drop_desc(unsigned reason);
const char *flt_tx_name(unsigned reason);
const char *flt_tx_desc(unsigned reason);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_FILTERS_FLT_H */
