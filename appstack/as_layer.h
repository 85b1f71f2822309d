/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * as_layer.h -- module-internal: the packet descriptor and the layer
 * interface of the stack (included only from appstack/ and its tests).
 *
 * Every layer has the same two operations, the Rbuf ones one level up:
 *
 *   put(l, pkts, n)   send: prepend this layer's header in the headroom in
 *                     front of pkts[i].data, then put them on l->below.
 *                     The caller has checked that everything fits (room on
 *                     the channel, header slots, a destination MAC), so a
 *                     put never fails half way: it returns n.
 *   get(l, pkts, n)   receive: get up to n from l->below, check and strip
 *                     this layer's header, and return how many survived,
 *                     compacted at the front of pkts. What fails a check is
 *                     counted and its buffer given back (as__rx_release()).
 *
 * Layers point down (udp -> ip4 -> eth -> chan), as in the Nemesis paper's
 * modular stack; the bottom one (chan) turns packets into iorecs and back.
 */
#ifndef SLUICE_APPSTACK_AS_LAYER_H
#define SLUICE_APPSTACK_AS_LAYER_H

#include <stdint.h>

#include "appstack/as.h"

/* Which buffer a packet lives in (struct as_pkt.ref, and the iorec tag). */
#define AS_REF_RX    0x80000000u /* | receive buffer index */
#define AS_REF_REASS 0x40000000u /* | reassembly slot */
#define AS_REF_HSLOT 0x20000000u /* | transmit header slot (a later fragment) */
#define AS_REF_MASK  0x0fffffffu
#define AS_REF_NONE  0xffffffffu

/*
 * One packet on its way through the layers. Private memory; the bytes it
 * points at are in a channel's data area (or a reassembly slot).
 */
struct as_pkt {
	uint8_t *data;	      /* the current layer's header (or the payload at the top) */
	uint32_t len;	      /* bytes at data, in the first piece */
	uint32_t tail_off;    /* tx: data-area offset of a second piece (payload slice) */
	uint32_t tail_len;    /* tx: its length; 0: one piece */
	uint32_t ref;	      /* AS_REF_* | index; tx: buffer index (| AS_REF_HSLOT) */
	struct as_sap peer;   /* rx: the sender; tx: the destination */
	uint32_t dst;	      /* rx: IP destination, host order */
	uint8_t mac[6];	      /* rx: Ethernet source; tx: Ethernet destination */
	uint8_t proto;	      /* rx: the IP protocol of what data holds */
	int err;	      /* rx: an ICMP error about peer (negative errno); no data */
	const uint8_t *quote; /* rx ICMP: the quoted transport header (8 bytes) */
};

struct as_layer;

typedef unsigned as_layer_fn(struct as_layer *l, struct as_pkt *p, unsigned n);

struct as_layer_ops {
	const char *name;
	as_layer_fn *put;
	as_layer_fn *get;
};

struct as_layer {
	const struct as_layer_ops *ops;
	struct as_layer *below; /* NULL for the bottom (chan) */
	struct as_flow *flow;
	uint32_t hdr_len; /* bytes this layer puts in front; summed once per flow */
};

extern const struct as_layer_ops as__udp_ops;
extern const struct as_layer_ops as__ip4_ops;
extern const struct as_layer_ops as__eth_ops;
extern const struct as_layer_ops as__chan_ops;

#endif /* SLUICE_APPSTACK_AS_LAYER_H */
