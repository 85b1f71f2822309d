/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_route.c -- the routing table (fm_route.h): a sorted array, longest
 * prefix first, then by network address.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "flowmgr/fm_route.h"

#define DEF_MAX_ROUTES 256
#define MAX_ROUTES     65536

/* A static route also remembers the connected route it reaches its gateway by. */
struct entry {
	struct fm_route r;
	uint32_t via_dst; /* static: the connected route's prefix */
	uint8_t via_len;
};

struct fm_routes {
	struct entry *e; /* n sorted entries, room for max */
	unsigned n, max;
};

struct fm_routes *
fm_routes_create(const struct fm_routes_cfg *cfg)
{
	uint32_t max = cfg && cfg->max_routes ? cfg->max_routes : DEF_MAX_ROUTES;
	struct fm_routes *rt;

	if (max > MAX_ROUTES) {
		errno = EINVAL;
		return NULL;
	}
	rt = calloc(1, sizeof(*rt));
	if (rt == NULL)
		return NULL;
	rt->e = calloc(max, sizeof(*rt->e));
	if (rt->e == NULL) {
		free(rt);
		errno = ENOMEM;
		return NULL;
	}
	rt->max = max;
	return rt;
}

void
fm_routes_destroy(struct fm_routes *rt)
{
	if (rt == NULL)
		return;
	free(rt->e);
	free(rt);
}

/* Sort order: longer prefixes first, then lower network addresses. */
static bool
before(uint8_t len_a, uint32_t dst_a, uint8_t len_b, uint32_t dst_b)
{
	return len_a != len_b ? len_a > len_b : dst_a < dst_b;
}

/* The index of dst/len, or -1; *pos: where it is or would go. */
static int
find(const struct fm_routes *rt, uint32_t dst, unsigned len, unsigned *pos)
{
	unsigned i = 0;

	while (i < rt->n && before(rt->e[i].r.prefix_len, rt->e[i].r.dst, (uint8_t)len, dst))
		i++;
	*pos = i;
	if (i < rt->n && rt->e[i].r.prefix_len == len && rt->e[i].r.dst == dst)
		return (int)i;
	return -1;
}

static int
insert(struct fm_routes *rt, const struct entry *e)
{
	unsigned pos;

	if (find(rt, e->r.dst, e->r.prefix_len, &pos) >= 0)
		return -EEXIST;
	if (rt->n == rt->max)
		return -ENOSPC;
	memmove(&rt->e[pos + 1], &rt->e[pos], (rt->n - pos) * sizeof(*rt->e));
	rt->e[pos] = *e;
	rt->n++;
	return 0;
}

static void
remove_at(struct fm_routes *rt, unsigned i)
{
	memmove(&rt->e[i], &rt->e[i + 1], (rt->n - i - 1) * sizeof(*rt->e));
	rt->n--;
}

static bool
matches(const struct fm_route *r, uint32_t addr)
{
	return (addr & fm_route_mask(r->prefix_len)) == r->dst;
}

int
fm_route_add_connected(struct fm_routes *rt, uint32_t ifindex, uint32_t addr, unsigned prefix_len)
{
	uint32_t mask;
	struct entry e = {0};

	if (prefix_len > 32 || addr == 0 || addr >= 0xe0000000u)
		return -EINVAL;
	mask = fm_route_mask(prefix_len);
	if (prefix_len <= 30 && ((addr & ~mask) == 0 || (addr & ~mask) == ~mask))
		return -EINVAL;
	e.r.dst = addr & mask;
	e.r.prefix_len = (uint8_t)prefix_len;
	e.r.type = FM_ROUTE_CONNECTED;
	e.r.ifindex = ifindex;
	e.r.src = addr;
	return insert(rt, &e);
}

/* The longest connected route to addr, or NULL. */
static const struct entry *
connected_to(const struct fm_routes *rt, uint32_t addr)
{
	for (unsigned i = 0; i < rt->n; i++) {
		if (rt->e[i].r.type == FM_ROUTE_CONNECTED && matches(&rt->e[i].r, addr))
			return &rt->e[i];
	}
	return NULL;
}

int
fm_route_add_static(struct fm_routes *rt, uint32_t dst, unsigned prefix_len, uint32_t gateway)
{
	const struct entry *via;
	struct entry e = {0};

	if (prefix_len > 32 || (dst & ~fm_route_mask(prefix_len)) != 0 || gateway == 0)
		return -EINVAL;
	via = connected_to(rt, gateway);
	if (via == NULL)
		return -ENETUNREACH;
	if (fm_route_is_local(rt, gateway, NULL))
		return -EINVAL;
	e.r.dst = dst;
	e.r.prefix_len = (uint8_t)prefix_len;
	e.r.type = FM_ROUTE_STATIC;
	e.r.gateway = gateway;
	e.r.ifindex = via->r.ifindex;
	e.r.src = via->r.src;
	e.via_dst = via->r.dst;
	e.via_len = via->r.prefix_len;
	return insert(rt, &e);
}

int
fm_route_del(struct fm_routes *rt, uint32_t dst, unsigned prefix_len)
{
	unsigned pos;
	int i;

	if (prefix_len > 32)
		return -EINVAL;
	i = find(rt, dst, prefix_len, &pos);
	if (i < 0)
		return -ENOENT;
	if (rt->e[i].r.type == FM_ROUTE_CONNECTED) {
		for (unsigned j = 0; j < rt->n; j++) {
			const struct entry *s = &rt->e[j];

			if (s->r.type == FM_ROUTE_STATIC && s->via_dst == dst &&
			    s->via_len == prefix_len)
				return -EBUSY;
		}
	}
	remove_at(rt, (unsigned)i);
	return 0;
}

unsigned
fm_route_del_ifindex(struct fm_routes *rt, uint32_t ifindex)
{
	unsigned gone = 0;

	for (unsigned i = 0; i < rt->n;) {
		if (rt->e[i].r.ifindex == ifindex) {
			remove_at(rt, i);
			gone++;
		} else {
			i++;
		}
	}
	return gone;
}

int
fm_route_lookup(const struct fm_routes *rt, uint32_t dst, struct fm_nexthop *nh)
{
	for (unsigned i = 0; i < rt->n; i++) {
		const struct fm_route *r = &rt->e[i].r;

		if (!matches(r, dst))
			continue;
		nh->ifindex = r->ifindex;
		nh->addr = r->type == FM_ROUTE_STATIC ? r->gateway : dst;
		nh->src = r->src;
		nh->route = *r;
		return 0;
	}
	return -ENETUNREACH;
}

int
fm_route_is_local(const struct fm_routes *rt, uint32_t addr, uint32_t *ifindex)
{
	for (unsigned i = 0; i < rt->n; i++) {
		const struct fm_route *r = &rt->e[i].r;

		if (r->type == FM_ROUTE_CONNECTED && r->src == addr) {
			if (ifindex)
				*ifindex = r->ifindex;
			return 1;
		}
	}
	return 0;
}

unsigned
fm_route_count(const struct fm_routes *rt)
{
	return rt->n;
}

unsigned
fm_route_list(const struct fm_routes *rt, struct fm_route *out, unsigned max)
{
	unsigned n = rt->n < max ? rt->n : max;

	for (unsigned i = 0; i < n; i++)
		out[i] = rt->e[i].r;
	return n;
}
