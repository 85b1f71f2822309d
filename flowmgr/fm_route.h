/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_route.h -- the flow manager's IPv4 routing table: where a flow's
 * packets go (interface, next hop, source address) when it is opened, and
 * again when a route changes.
 *
 *   routes, longest prefix first          lookup(10.0.0.7)
 *   +--------------+---------+-------+     -> first match: 10.0.0.0/24
 *   | 10.0.0.0/24  | if 0    | conn. |        ifindex 0, next hop 10.0.0.7
 *   | 192.168.0.0/16 via 10.0.0.254  |        (on-link: the destination),
 *   | 0.0.0.0/0 via 10.0.0.1 (dflt)  |        source 10.0.0.1
 *   +--------------------------------+
 *
 * Kinds of route:
 *   - connected: from an interface address and prefix (10.0.0.1/24 on
 *     interface 0 gives 10.0.0.0/24, on-link, source 10.0.0.1);
 *   - static: a prefix via a gateway; the gateway must lie in a connected
 *     network, whose interface and source address the route takes when it
 *     is added (-ENETUNREACH otherwise). The default route is the static
 *     route 0.0.0.0/0.
 * One route per prefix: a second route for the same (dst, prefix_len) is
 * -EEXIST whatever its kind (no metrics, no multipath).
 *
 * Prefixes: dst must have its host bits zero; "10.0.0.5/24" is refused with
 * -EINVAL rather than normalised, as `ip route` does, because it is more
 * likely a mistake than a way of writing 10.0.0.0/24.
 *
 * Why not DPDK's rte_lpm: it needs the EAL's memory, and the flow manager
 * does not initialise the EAL; this table is read only when a flow is
 * opened or a route changes, never per packet, and holds tens of routes.
 * A sorted array (longest prefix first, then by address) scanned linearly
 * is small, obviously right, and lists in a sensible order for the CLI.
 *
 * Interfaces are named by the caller's index (a DPDK port id, say); this
 * table does not know interfaces beyond that number.
 *
 * Addresses are IPv4 in host order (a << 24 | b << 16 | c << 8 | d), as in
 * proto/common.proto.
 *
 * Memory: fm_routes_create() allocates room for max_routes; nothing else
 * allocates. Errors: create returns NULL with errno; int functions return 0
 * or -errno and change nothing on failure. One thread owns a table.
 */
#ifndef SLUICE_FLOWMGR_FM_ROUTE_H
#define SLUICE_FLOWMGR_FM_ROUTE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum fm_route_type {
	FM_ROUTE_CONNECTED = 1, /* on-link: the next hop is the destination */
	FM_ROUTE_STATIC,	/* via a gateway */
};

struct fm_route {
	uint32_t dst;	    /* the network, host order, host bits zero */
	uint8_t prefix_len; /* 0..32 */
	uint8_t type;	    /* enum fm_route_type */
	uint16_t pad;
	uint32_t gateway; /* FM_ROUTE_STATIC; 0 for connected routes */
	uint32_t ifindex; /* the caller's interface index */
	uint32_t src;	  /* source address for packets on this route: the
			     interface's address on the (gateway's) network */
};

/* Where a packet to some destination goes. */
struct fm_nexthop {
	uint32_t ifindex;
	uint32_t addr;	       /* the address to ARP for: gateway, or the destination */
	uint32_t src;	       /* the route's source address */
	struct fm_route route; /* the route that matched */
};

/* Creation parameters; zero picks the default in brackets. */
struct fm_routes_cfg {
	uint32_t max_routes; /* [256], <= 65536 */
};

struct fm_routes;

/*
 * Create an empty table. @cfg: parameters, or NULL for every default.
 * Returns it, or NULL with errno EINVAL or ENOMEM.
 */
struct fm_routes *fm_routes_create(const struct fm_routes_cfg *cfg);

/* Free the table. NULL is ignored. */
void fm_routes_destroy(struct fm_routes *rt);

/*
 * Add the connected route of an interface address: addr/prefix_len on
 * ifindex gives (addr & mask)/prefix_len, on-link, source addr.
 *
 * @addr: the interface's address, host order: not 0, not multicast or class
 *   E, and (prefix_len <= 30) neither the network nor its broadcast address.
 * Returns 0, -EINVAL (bad address or prefix_len > 32), -EEXIST (a route for
 * that prefix exists) or -ENOSPC (max_routes reached).
 */
int
fm_route_add_connected(struct fm_routes *rt, uint32_t ifindex, uint32_t addr, unsigned prefix_len);

/*
 * Add a static route dst/prefix_len via gateway; dst 0, prefix_len 0 is the
 * default route. The gateway is looked up among the connected routes (longest
 * prefix) now, and the route takes that route's interface and source.
 *
 * Returns 0, or -EINVAL (prefix_len > 32, host bits set in dst, gateway 0,
 * or the gateway is our own address), -ENETUNREACH (the gateway is on no
 * connected network), -EEXIST or -ENOSPC.
 */
int fm_route_add_static(struct fm_routes *rt, uint32_t dst, unsigned prefix_len, uint32_t gateway);

/*
 * Delete the route for dst/prefix_len, of either kind.
 * Returns 0, -EINVAL (prefix_len > 32), -ENOENT, or -EBUSY: a connected
 * route through which static routes reach their gateways; delete those first,
 * or use fm_route_del_ifindex().
 */
int fm_route_del(struct fm_routes *rt, uint32_t dst, unsigned prefix_len);

/*
 * Delete every route on ifindex, connected and static (an interface went
 * away). Returns how many were deleted.
 */
unsigned fm_route_del_ifindex(struct fm_routes *rt, uint32_t ifindex);

/*
 * Longest prefix match for dst.
 * @nh: out: interface, next hop (the gateway for a static route, dst itself
 *   for a connected one), source address, and the route.
 * Returns 0 or -ENETUNREACH (no route; nh untouched).
 * A destination that is one of our own addresses matches its connected
 * route like any other; see fm_route_is_local().
 */
int fm_route_lookup(const struct fm_routes *rt, uint32_t dst, struct fm_nexthop *nh);

/*
 * Whether addr is the source address of a connected route (one of our
 * interface addresses); if so and ifindex is not NULL, its interface.
 * Returns 1 or 0.
 */
int fm_route_is_local(const struct fm_routes *rt, uint32_t addr, uint32_t *ifindex);

/* Number of routes. */
unsigned fm_route_count(const struct fm_routes *rt);

/*
 * Copy up to max routes into out, longest prefix first (the order lookups
 * try them), and return how many were copied.
 */
unsigned fm_route_list(const struct fm_routes *rt, struct fm_route *out, unsigned max);

/* Netmask of a prefix length, host order: 24 -> 0xffffff00; above 32 as 32. */
static inline uint32_t
fm_route_mask(unsigned prefix_len)
{
	if (prefix_len == 0)
		return 0;
	return prefix_len >= 32 ? ~0u : ~0u << (32 - prefix_len);
}

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_FLOWMGR_FM_ROUTE_H */
