/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_pkt.h -- the flow manager's last-resort packet work (DESIGN.md section
 * 1): what to do with a frame no flow claimed, which the driver hands over
 * on the flow manager's exception channel, and the frames the flow manager
 * sends itself (ARP requests, announcements). Pure functions on byte
 * buffers, plus a small context (an IP id counter, a rate limiter and
 * counters); no DPDK.
 *
 *   frame --checks--> bad in any way --------------------------> DROP (reason)
 *     |  ARP for one of our addresses  --> ARP_REPLY  reply + (ip, mac) heard
 *     |  ARP from anyone else          --> ARP_LEARN  (ip, mac) heard
 *     |  ICMP echo request to us       --> ECHO_REPLY    same id, seq, data
 *     |  UDP to us                     --> PORT_UNREACH  ICMP 3/3, rate-limited
 *     |  TCP to us, no RST             --> TCP_RST       RFC 793 reset, rate-limited
 *     +  everything else               --> DROP (reason)
 *
 * Nothing in a received frame is trusted: every length is checked against
 * the frame before it is used, and the IPv4 header, ICMP, UDP (when not 0)
 * and TCP checksums are verified. docs/flowmgr.md lists the checks in order.
 *
 * Who answers what (RFC 1122 3.2.2 and 4.2.2.13):
 *   - no reply of any kind to a frame sent to an Ethernet group address, an
 *     IP broadcast or multicast destination, or from a source address that
 *     is not one host (0, 127/8, multicast, class E, broadcast, our own);
 *   - no reply to a later fragment; a first fragment is answered only for
 *     UDP (the quote needs only the first 8 bytes; ICMP and TCP need the
 *     whole datagram for their checksums and lengths);
 *   - never a RST to a RST;
 *   - port unreachables and RSTs share one token bucket (rate, burst); what
 *     it suppresses is counted (RATE_LIMIT).
 * Replies go back to the Ethernet source of the frame (on a host with one
 * router that is the right next hop; no route lookup is made), from the
 * address the frame was sent to, with no IP options, TOS 0, TTL 64, DF
 * clear, and an IP id from the context's counter.
 *
 * Frames built here are not padded: ARP frames are 42 bytes and a RST 54,
 * below Ethernet's 60-byte minimum; the port pads them on transmission
 * (NICs do; with net_pcap or net_ring the short frame is what is written).
 *
 * Addresses are IPv4 in host order (a << 24 | b << 16 | c << 8 | d), MACs 6
 * bytes, as in proto/common.proto. Errors: create returns NULL with errno;
 * build functions return the frame length or -errno and write nothing
 * useful on failure. One thread owns a context; the functions that take no
 * context are reentrant.
 */
#ifndef SLUICE_FLOWMGR_FM_PKT_H
#define SLUICE_FLOWMGR_FM_PKT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FM_PKT_ARP_LEN	   42  /* an ARP frame: 14 + 28 */
#define FM_PKT_RST_LEN	   54  /* a RST: 14 + 20 + 20 */
#define FM_PKT_UNREACH_MAX 110 /* a port unreachable: 14 + 20 + 8 + 60 + 8 */
/* A reply buffer of max(frame length, FM_PKT_UNREACH_MAX) bytes is always enough. */

/* What fm_pkt_input() did: X(name, description). FM_PKT_ACT_<name>. */
#define FM_PKT_ACTIONS(X)                                                               \
	X(DROP, "dropped: see the drop reason")                                         \
	X(ARP_REPLY, "ARP request for one of our addresses: reply built, sender heard") \
	X(ARP_LEARN, "ARP from a neighbour: sender heard, nothing to send")             \
	X(ECHO_REPLY, "ICMP echo request to us: echo reply built")                      \
	X(PORT_UNREACH, "UDP to us that no flow claimed: ICMP port unreachable built")  \
	X(TCP_RST, "TCP to us that no flow claimed: RST built")

enum fm_pkt_action {
#define FM_X_(name, desc) FM_PKT_ACT_##name,
	FM_PKT_ACTIONS(FM_X_)
#undef FM_X_
	    FM_PKT_ACT__COUNT
};

/* Why fm_pkt_input() dropped a frame: X(name, description). FM_PKT_DROP_<name>. */
#define FM_PKT_DROPS(X)                                                                   \
	X(TRUNCATED, "frame shorter than its Ethernet, ARP or IPv4 header")               \
	X(BAD_SRC_MAC, "Ethernet source is a group address or our own")                   \
	X(NOT_OUR_MAC, "Ethernet destination is another host's, or a multicast")          \
	X(ETHERTYPE, "neither IPv4 nor ARP (IPv6, 802.1Q, LLDP, ...)")                    \
	X(BAD_ARP, "ARP not Ethernet/IPv4, or bad sender MAC or address")                 \
	X(ARP_OP, "ARP opcode neither request nor reply")                                 \
	X(ARP_CONFLICT, "ARP sender claims one of our addresses")                         \
	X(ARP_PROBE, "ARP probe (sender 0.0.0.0) for an address not ours")                \
	X(L2_BCAST, "IPv4 in an Ethernet broadcast or multicast frame")                   \
	X(BAD_VERSION, "IP version is not 4")                                             \
	X(BAD_IHL, "IPv4 header length below 20 bytes")                                   \
	X(BAD_IP_LEN, "IPv4 total length below the header length or beyond the frame")    \
	X(BAD_CSUM, "IPv4 header checksum wrong")                                         \
	X(BAD_SRC_ADDR, "IPv4 source 0, loopback, multicast, class E, broadcast or ours") \
	X(IP_BCAST, "IPv4 destination multicast, class E or broadcast")                   \
	X(NOT_OUR_IP, "IPv4 destination is not one of our addresses")                     \
	X(BAD_FRAG, "IPv4 reserved flag set")                                             \
	X(FRAGMENT, "a later fragment, or a first fragment of ICMP or TCP")               \
	X(L4_TRUNCATED, "IP payload shorter than the ICMP, UDP or TCP header")            \
	X(BAD_UDP_LEN, "UDP length below 8 or beyond the IP payload")                     \
	X(BAD_TCP_OFF, "TCP data offset below 5 or beyond the IP payload")                \
	X(BAD_L4_CSUM, "ICMP, UDP or TCP checksum wrong")                                 \
	X(ICMP_OTHER, "ICMP other than an echo request")                                  \
	X(TCP_GOT_RST, "TCP segment with RST: never answered")                            \
	X(PROTO, "IP protocol other than ICMP, UDP and TCP")                              \
	X(RATE_LIMIT, "port unreachable or RST suppressed by the rate limit")             \
	X(NO_ROOM, "reply larger than the caller's buffer")

enum fm_pkt_drop {
	FM_PKT_DROP_NONE = 0,
#define FM_X_(name, desc) FM_PKT_DROP_##name,
	FM_PKT_DROPS(FM_X_)
#undef FM_X_
	    FM_PKT_DROP__COUNT
};

/* Creation parameters; zero picks the default in brackets. */
struct fm_pkt_cfg {
	uint32_t err_rate;  /* port unreachables + RSTs per second [1000], <= 10^9 */
	uint32_t err_burst; /* how many may go at once [50] */
	uint64_t seed;	    /* the first IP id; 0: from getrandom() */
};

/* The interface a frame came in on: what "ours" means. Caller-owned. */
struct fm_pkt_if {
	uint8_t mac[6];
	uint16_t n_addrs;
	const uint32_t *addrs; /* our addresses on this interface, host order */
};

/* The outcome of fm_pkt_input(). */
struct fm_pkt_verdict {
	uint16_t action;    /* enum fm_pkt_action */
	uint16_t reason;    /* enum fm_pkt_drop; FM_PKT_DROP_NONE unless action is DROP */
	uint32_t reply_len; /* bytes of reply to send on the same port; 0: nothing */
	uint32_t ip;	    /* learn: the sender's address, host order */
	uint8_t mac[6];	    /* learn: the sender's MAC */
	uint8_t learn;	    /* an ARP binding (ip, mac) was heard: fm_arp_input() it;
			       set whatever the action (a reply may not have fitted) */
	uint8_t for_us;	    /* ... and its target was ours: FM_ARP_IN_F_FOR_US */
};

/* Counters. rx == sum of action[]; action[DROP] == sum of drop[]. */
struct fm_pkt_stats {
	uint64_t rx;
	uint64_t action[FM_PKT_ACT__COUNT];
	uint64_t drop[FM_PKT_DROP__COUNT];
};

struct fm_pkt;

/*
 * Create a context. @cfg: parameters, or NULL for every default.
 * Returns it, or NULL with errno EINVAL or ENOMEM.
 */
struct fm_pkt *fm_pkt_create(const struct fm_pkt_cfg *cfg);

/* Free a context. NULL is ignored. */
void fm_pkt_destroy(struct fm_pkt *p);

/*
 * Decide what to do with a frame no flow claimed, build the reply if there
 * is one, and count the outcome.
 *
 * @ifc: the interface it arrived on.
 * @frame, @len: the frame from its Ethernet header, without FCS; only read,
 *   and only during the call. The caller frees it afterwards in every case.
 * @now_ns: CLOCK_MONOTONIC, for the rate limit.
 * @reply, @reply_size: where a reply is built (see FM_PKT_UNREACH_MAX for
 *   a size that always fits); not touched unless v->reply_len is set.
 * @v: out: the verdict.
 */
void fm_pkt_input(struct fm_pkt *p, const struct fm_pkt_if *ifc, const uint8_t *frame, size_t len,
    uint64_t now_ns, uint8_t *reply, size_t reply_size, struct fm_pkt_verdict *v);

/* A snapshot of the counters. */
void fm_pkt_stats_get(const struct fm_pkt *p, struct fm_pkt_stats *st);

/* Names ("NO_ROOM") and descriptions for counter dumps; "?" when out of range. */
const char *fm_pkt_action_name(unsigned action);
const char *fm_pkt_action_desc(unsigned action);
const char *fm_pkt_drop_name(unsigned reason); /* FM_PKT_DROP_NONE: "NONE" */
const char *fm_pkt_drop_desc(unsigned reason);

/*
 * Frame builders. Each writes a complete Ethernet frame into buf (size
 * bytes) and returns its length, or -ENOSPC (size too small) or -EINVAL.
 * The IP ones take the context for its IP id counter. Input bytes (data,
 * orig) must not overlap buf.
 */

/* Who is where: the frame's Ethernet and IP source and destination. */
struct fm_pkt_addrs {
	uint8_t src_mac[6];
	uint8_t dst_mac[6];
	uint32_t src_ip; /* host order */
	uint32_t dst_ip;
};

/*
 * An ARP request (who-has target_ip, tell src_ip), broadcast when dst_mac
 * is NULL (resolution), else unicast to dst_mac (a refresh probe). 42 bytes.
 */
int fm_pkt_build_arp_request(uint8_t *buf, size_t size, const uint8_t src_mac[6], uint32_t src_ip,
    uint32_t target_ip, const uint8_t *dst_mac);

/*
 * A gratuitous ARP announcing (ip, mac): a broadcast request with sender
 * and target address ip (RFC 5227 announcement), sent when an address comes
 * up or its MAC changes. 42 bytes.
 */
int fm_pkt_build_garp(uint8_t *buf, size_t size, const uint8_t mac[6], uint32_t ip);

/* An ARP reply: src_ip is at src_mac, to (dst_mac, dst_ip). 42 bytes. */
int fm_pkt_build_arp_reply(uint8_t *buf, size_t size, const struct fm_pkt_addrs *a);

/*
 * An ICMP echo reply with id, seq (host order) and data_len bytes of data
 * (which must not overlap buf): 14 + 20 + 8 + data_len bytes (-EINVAL past
 * 65535 - 28).
 */
int fm_pkt_build_echo_reply(struct fm_pkt *p, uint8_t *buf, size_t size,
    const struct fm_pkt_addrs *a, uint16_t id, uint16_t seq, const uint8_t *data, size_t data_len);

/*
 * An ICMP destination unreachable, port unreachable (type 3, code 3),
 * quoting the offending datagram's IP header and the first 8 bytes of its
 * data (RFC 792; RFC 1812 4.3.2.3 allows more, this quotes the minimum).
 * @orig, @orig_len: that datagram from its IP header (orig_len at most its
 *   total length); -EINVAL if shorter than 20 bytes or its IHL.
 */
int fm_pkt_build_port_unreach(struct fm_pkt *p, uint8_t *buf, size_t size,
    const struct fm_pkt_addrs *a, const uint8_t *orig, size_t orig_len);

/*
 * A TCP segment of header only: the given ports, seq, ack, flags (host
 * order), window 0, no options. 54 bytes. For a reset to a segment, see
 * fm_pkt_rst_for().
 */
int fm_pkt_build_rst(struct fm_pkt *p, uint8_t *buf, size_t size, const struct fm_pkt_addrs *a,
    uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags);

/*
 * The RST answering a segment (RFC 793, "Reset Generation"): if it has ACK,
 * seq = its ack and flags RST; else seq 0, ack = its seq + seg_len (+1 for
 * SYN, +1 for FIN) and flags RST|ACK. seq and ack in host order.
 */
void fm_pkt_rst_for(uint8_t their_flags, uint32_t their_seq, uint32_t their_ack, uint32_t seg_len,
    uint32_t *seq, uint32_t *ack, uint8_t *flags);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_FLOWMGR_FM_PKT_H */
