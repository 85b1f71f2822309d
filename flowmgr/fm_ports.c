/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_ports.c -- the port table (fm_ports.h): a hash of holders for the
 * answers and clash reports, and a bitmap per (proto, addr) for fast
 * ephemeral searches and wildcard checks.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/wire/ip4.h"
#include "flowmgr/fm_map_priv.h"
#include "flowmgr/fm_ports.h"

#define N_PORTS 65536u
#define N_WORDS (N_PORTS / 64)

#define DEF_EPH_LO    49152
#define DEF_EPH_HI    65535
#define DEF_MAX_PORTS 16384
#define DEF_MAX_ADDRS 32
#define MAX_ADDRS     256

/* The ports held on one (proto, addr); free when nports is 0. */
struct space {
	uint64_t *used; /* N_WORDS words: bit p set when port p is held */
	uint32_t addr;
	uint32_t nports;
	uint8_t proto;
};

struct fm_ports {
	struct fm_map holders; /* key(proto, addr, port) -> flow */
	struct space *spaces;  /* max_addrs, bitmaps allocated with them */
	uint64_t *bits;	       /* the bitmaps, N_WORDS each */
	uint32_t max_addrs;
	uint16_t eph_lo, eph_hi;
	uint64_t rng; /* xorshift64 state, never 0 */
};

static uint64_t
key_of(uint8_t proto, uint32_t addr, uint16_t port)
{
	return (uint64_t)proto << 48 | (uint64_t)addr << 16 | port;
}

static uint64_t
rng_next(struct fm_ports *pt)
{
	uint64_t x = pt->rng;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return pt->rng = x;
}

struct fm_ports *
fm_ports_create(const struct fm_ports_cfg *cfg)
{
	struct fm_ports_cfg c = cfg ? *cfg : (struct fm_ports_cfg){0};
	struct fm_ports *pt;
	int rc;

	if (!c.eph_lo)
		c.eph_lo = DEF_EPH_LO;
	if (!c.eph_hi)
		c.eph_hi = DEF_EPH_HI;
	if (!c.max_ports)
		c.max_ports = DEF_MAX_PORTS;
	if (!c.max_addrs)
		c.max_addrs = DEF_MAX_ADDRS;
	if (!c.seed)
		c.seed = fm__map_seed();
	if (c.eph_lo <= FM_PORT_PRIV_MAX || c.eph_lo > c.eph_hi || c.max_ports > (1u << 24) ||
	    c.max_addrs > MAX_ADDRS) {
		errno = EINVAL;
		return NULL;
	}
	pt = calloc(1, sizeof(*pt));
	if (pt == NULL)
		return NULL;
	pt->spaces = calloc(c.max_addrs, sizeof(*pt->spaces));
	pt->bits = calloc((size_t)c.max_addrs * N_WORDS, sizeof(uint64_t));
	if (pt->spaces == NULL || pt->bits == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = fm__map_init(&pt->holders, c.max_ports, c.seed);
	if (rc)
		goto out_free;
	for (uint32_t i = 0; i < c.max_addrs; i++)
		pt->spaces[i].used = pt->bits + (size_t)i * N_WORDS;
	pt->max_addrs = c.max_addrs;
	pt->eph_lo = c.eph_lo;
	pt->eph_hi = c.eph_hi;
	pt->rng = c.seed * 0x9e3779b97f4a7c15ull | 1;
	return pt;

out_free:
	free(pt->bits);
	free(pt->spaces);
	free(pt);
	errno = -rc;
	return NULL;
}

void
fm_ports_destroy(struct fm_ports *pt)
{
	if (pt == NULL)
		return;
	fm__map_fini(&pt->holders);
	free(pt->bits);
	free(pt->spaces);
	free(pt);
}

static struct space *
space_find(const struct fm_ports *pt, uint8_t proto, uint32_t addr)
{
	for (uint32_t i = 0; i < pt->max_addrs; i++) {
		struct space *s = &pt->spaces[i];

		if (s->nports && s->proto == proto && s->addr == addr)
			return s;
	}
	return NULL;
}

static struct space *
space_get(struct fm_ports *pt, uint8_t proto, uint32_t addr)
{
	struct space *s = space_find(pt, proto, addr);

	if (s)
		return s;
	for (uint32_t i = 0; i < pt->max_addrs; i++) {
		s = &pt->spaces[i];
		if (s->nports == 0) {
			s->proto = proto;
			s->addr = addr;
			return s;
		}
	}
	return NULL;
}

static bool
bit_test(const struct space *s, uint16_t port)
{
	return s->used[port / 64] >> (port % 64) & 1;
}

/*
 * The spaces a port on (proto, addr) clashes with: addr's own and the
 * wildcard's, or for the wildcard every address of proto. Returns how many
 * were stored in out (room for max_addrs).
 */
static unsigned
clash_spaces(const struct fm_ports *pt, uint8_t proto, uint32_t addr, const struct space **out)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < pt->max_addrs; i++) {
		const struct space *s = &pt->spaces[i];

		if (s->nports && s->proto == proto &&
		    (addr == 0 || s->addr == addr || s->addr == 0))
			out[n++] = s;
	}
	return n;
}

/* First port in [a, b] free in every space of sp, or 0. */
static uint16_t
scan(const struct space *const *sp, unsigned n, unsigned a, unsigned b)
{
	for (unsigned p = a; p <= b;) {
		unsigned w = p / 64;
		uint64_t used = 0, free_bits;

		for (unsigned i = 0; i < n; i++)
			used |= sp[i]->used[w];
		free_bits = ~used & (~0ull << (p % 64));
		if (b / 64 == w && b % 64 != 63)
			free_bits &= (1ull << (b % 64 + 1)) - 1;
		if (free_bits)
			return (uint16_t)(w * 64 + (unsigned)__builtin_ctzll(free_bits));
		p = (w + 1) * 64;
	}
	return 0;
}

static void
fill_clash(
    const struct fm_ports *pt, const struct space *s, uint16_t port, struct fm_port_info *clash)
{
	uint32_t flow = 0;

	if (clash == NULL)
		return;
	fm__map_get(&pt->holders, key_of(s->proto, s->addr, port), &flow);
	*clash =
	    (struct fm_port_info){.proto = s->proto, .addr = s->addr, .port = port, .flow = flow};
}

int
fm_port_alloc(struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t *port, uint32_t flow,
    unsigned flags, struct fm_port_info *clash)
{
	const struct space *sp[MAX_ADDRS];
	unsigned n;
	uint16_t p = *port;
	struct space *s;

	if (proto != IP4_PROTO_TCP && proto != IP4_PROTO_UDP)
		return -EINVAL;
	if (p && p <= FM_PORT_PRIV_MAX && !(flags & FM_PORT_F_PRIVILEGED))
		return -EACCES;
	n = clash_spaces(pt, proto, addr, sp);
	if (p) {
		for (unsigned i = 0; i < n; i++) {
			if (bit_test(sp[i], p)) {
				fill_clash(pt, sp[i], p, clash);
				return -EADDRINUSE;
			}
		}
	} else {
		unsigned range = pt->eph_hi - pt->eph_lo + 1u;
		unsigned start = pt->eph_lo + (unsigned)(rng_next(pt) % range);

		p = scan(sp, n, start, pt->eph_hi);
		if (p == 0 && start > pt->eph_lo)
			p = scan(sp, n, pt->eph_lo, start - 1);
		if (p == 0)
			return -EADDRNOTAVAIL;
	}
	if (pt->holders.count == pt->holders.capacity)
		return -ENOSPC;
	s = space_get(pt, proto, addr);
	if (s == NULL)
		return -ENOSPC;
	/* Cannot fail: the key is new and there is room. */
	fm__map_put(&pt->holders, key_of(proto, addr, p), flow);
	s->used[p / 64] |= 1ull << (p % 64);
	s->nports++;
	*port = p;
	return 0;
}

int
fm_port_free(struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t port, uint32_t flow)
{
	uint64_t key = key_of(proto, addr, port);
	uint32_t holder;
	struct space *s;

	if (fm__map_get(&pt->holders, key, &holder) != 0)
		return -ENOENT;
	if (holder != flow)
		return -EPERM;
	s = space_find(pt, proto, addr);
	fm__map_del(&pt->holders, key);
	s->used[port / 64] &= ~(1ull << (port % 64));
	s->nports--;
	return 0;
}

int
fm_port_holder(
    const struct fm_ports *pt, uint8_t proto, uint32_t addr, uint16_t port, uint32_t *flow)
{
	return fm__map_get(&pt->holders, key_of(proto, addr, port), flow);
}

uint32_t
fm_ports_count(const struct fm_ports *pt)
{
	return pt->holders.count;
}

struct visit {
	fm_port_visit_fn fn;
	void *arg;
};

static int
visit_one(uint64_t key, uint32_t val, void *arg)
{
	const struct visit *v = arg;
	struct fm_port_info info = {
	    .proto = (uint8_t)(key >> 48),
	    .addr = (uint32_t)(key >> 16),
	    .port = (uint16_t)key,
	    .flow = val,
	};

	return v->fn(&info, v->arg);
}

int
fm_port_foreach(const struct fm_ports *pt, fm_port_visit_fn fn, void *arg)
{
	struct visit v = {fn, arg};

	return fm__map_foreach(&pt->holders, visit_one, &v);
}
