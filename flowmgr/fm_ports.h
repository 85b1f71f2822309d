/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_ports.h -- the flow manager's port table: which flow holds which
 * (protocol, local address, port), and ephemeral port choice.
 *
 *   fm_ports
 *   +-- holders: hash (proto, addr, port) -> flow id      fm_port_holder()
 *   +-- spaces:  one bitmap of 65536 bits per (proto, addr) with a port held
 *        (TCP, 10.0.0.1)  ....1.....1...1....
 *        (TCP, 0.0.0.0)   ..1................   wildcard: clashes with every address
 *        (UDP, 10.0.0.1)  .........1.........
 *
 * Rules:
 *   - A (proto, addr, port) has at most one holder. Accepted TCP connections
 *     share their listener's port and are not entered here; every other
 *     flow, connected ones included, holds its own local port, so outgoing
 *     connections from one address are limited by the ephemeral range.
 *   - Address 0 (any) clashes with every address for the same proto and
 *     port, and every address clashes with 0.
 *   - Ports below 1024 need the caller's say-so (FM_PORT_F_PRIVILEGED, which
 *     the daemon sets from the peer's credentials); -EACCES is checked
 *     before any clash, so an unprivileged peer learns nothing of who holds
 *     a privileged port.
 *   - Ephemeral ports come from [eph_lo, eph_hi] (>= 1024), searched from a
 *     random point on every allocation (RFC 6056 algorithm 1), so the next
 *     port is not guessable from the last.
 *
 * This is bookkeeping only: reserving the port in the kernel too (DESIGN.md
 * section 6) is the daemon's job.
 *
 * Memory: everything is allocated by fm_ports_create(), sized by its cfg
 * (max_addrs bitmaps of 8 KiB, a hash of 2-4 x max_ports slots of 16 bytes);
 * no other call allocates. Cost: explicit alloc and free O(1) plus the
 * address count for a wildcard; ephemeral alloc O(range / 64 x addresses).
 *
 * Addresses are IPv4 in host order (a << 24 | b << 16 | c << 8 | d), as in
 * proto/common.proto; ports in host order.
 *
 * Errors: create returns NULL with errno; int functions return 0 or -errno
 * and change nothing on failure. One thread owns a table.
 */
#ifndef SLUICE_FLOWMGR_FM_PORTS_H
#define SLUICE_FLOWMGR_FM_PORTS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define FM_PORT_PRIV_MAX 1023 /* ports 1..1023 need FM_PORT_F_PRIVILEGED */

/* Creation parameters; zero picks the default in brackets. */
struct fm_ports_cfg {
	uint16_t eph_lo;    /* first ephemeral port [49152], >= 1024 */
	uint16_t eph_hi;    /* last ephemeral port [65535], >= eph_lo */
	uint32_t max_ports; /* ports held at once, all addresses [16384], <= 2^24 */
	uint32_t max_addrs; /* (proto, addr) pairs holding ports at once [32], <= 256 */
	uint64_t seed;	    /* ephemeral search and hashing; 0: from getrandom() */
};

struct fm_ports;

/* One held port, for fm_port_foreach() and clash reports. */
struct fm_port_info {
	uint8_t proto; /* 6 (TCP) or 17 (UDP) */
	uint16_t port; /* host order */
	uint32_t addr; /* host order; 0: any address */
	uint32_t flow; /* the holder's flow id */
};

/* Flags of fm_port_alloc(). */
#define FM_PORT_F_PRIVILEGED 0x0001 /* the requester may take ports below 1024 */

/*
 * Create an empty table. @cfg: parameters, or NULL for every default.
 * Returns the table, or NULL with errno EINVAL (a parameter out of range)
 * or ENOMEM.
 */
struct fm_ports *fm_ports_create(const struct fm_ports_cfg *cfg);

/* Free the table and everything in it. NULL is ignored. */
void fm_ports_destroy(struct fm_ports *pt);

/*
 * Give flow a port on (proto, addr): *port itself if nonzero, else an
 * ephemeral one, written back to *port.
 *
 * @proto: 6 or 17. @addr: host order, 0 for any address.
 * @port: in: the port wanted, 0 for ephemeral; out: the port granted.
 * @flow: the holder's id, reported to later clashes and by foreach.
 * @flags: FM_PORT_F_*.
 * @clash: if not NULL, filled with the holder on -EADDRINUSE (with a
 *   wildcard clash, one of the holders); untouched otherwise.
 * Returns 0, or
 *   -EINVAL        proto not TCP or UDP;
 *   -EACCES        *port in 1..1023 without FM_PORT_F_PRIVILEGED;
 *   -EADDRINUSE    the port is held on addr, on 0, or (addr 0) on any address;
 *   -EADDRNOTAVAIL no ephemeral port is free for addr;
 *   -ENOSPC        max_ports or max_addrs reached.
 */
int fm_port_alloc(struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t *port, uint32_t flow,
    unsigned flags, struct fm_port_info *clash);

/*
 * Give back a port that flow holds; it can be granted again at once.
 * Returns 0, -ENOENT (not held) or -EPERM (held by another flow).
 */
int fm_port_free(struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t port, uint32_t flow);

/*
 * The flow holding exactly (proto, addr, port) (no wildcard matching), in
 * *flow. Returns 0 or -ENOENT.
 */
int fm_port_holder(
    const struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t port, uint32_t *flow);

/* Number of ports held. */
uint32_t fm_ports_count(const struct fm_ports *pt);

/* A visitor: return nonzero to stop. */
typedef int (*fm_port_visit_fn)(const struct fm_port_info *info, void *arg);

/*
 * Call fn for every held port, in no particular order; fn must not change
 * the table. Returns 0, or the nonzero value fn stopped with.
 */
int fm_port_foreach(const struct fm_ports *pt, fm_port_visit_fn fn, void *arg);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_FLOWMGR_FM_PORTS_H */
