/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_arp.c -- the ARP cache (fm_arp.h): a fixed array of entries, a free
 * list, and a hash from address to entry. Each entry carries the time at
 * which fm_arp_tick() must next look at it (due_ns).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/compiler.h"
#include "flowmgr/fm_arp.h"
#include "flowmgr/fm_map_priv.h"

#define NS_PER_S	 1000000000ull
#define DEF_MAX_ENTRIES	 256
#define MAX_ENTRIES	 65536
#define DEF_REACHABLE_NS (30 * NS_PER_S)
#define DEF_RETRY_NS	 NS_PER_S
#define DEF_RETRIES	 3
#define MAX_RETRIES	 255
#define DEF_FAILED_NS	 (5 * NS_PER_S)
#define NEVER		 UINT64_MAX

struct entry {
	uint32_t ip;
	uint32_t refs;
	uint8_t mac[6];	       /* valid when has_mac */
	uint8_t state;	       /* enum fm_arp_state; FM_ARP_NONE: on the free list */
	uint8_t has_mac;       /* mac is the last MAC known (kept through FAILED) */
	uint8_t tries;	       /* requests or probes sent in this round */
	uint8_t used;	       /* looked up since the MAC was last confirmed */
	uint64_t confirmed_ns; /* when the MAC was last confirmed or set */
	uint64_t since_ns;     /* when the entry entered its state */
	uint64_t last_used_ns; /* created or looked up: the LRU order */
	uint64_t deadline_ns;  /* STALE: when unanswered probes make it FAILED */
	uint64_t due_ns;       /* when fm_arp_tick() must next look; NEVER */
	uint32_t next_free;
};

struct fm_arp {
	struct entry *e;
	struct fm_map index; /* ip -> entry */
	uint32_t max, n, free_head;
	uint64_t reachable_ns, retry_ns, failed_ns;
	uint32_t retries;
	struct fm_arp_stats st;
};

#define NO_ENTRY UINT32_MAX

struct fm_arp *
fm_arp_create(const struct fm_arp_cfg *cfg)
{
	struct fm_arp_cfg c = cfg ? *cfg : (struct fm_arp_cfg){0};
	struct fm_arp *a;
	int rc;

	if (!c.max_entries)
		c.max_entries = DEF_MAX_ENTRIES;
	if (!c.reachable_ns)
		c.reachable_ns = DEF_REACHABLE_NS;
	if (!c.retry_ns)
		c.retry_ns = DEF_RETRY_NS;
	if (!c.retries)
		c.retries = DEF_RETRIES;
	if (!c.failed_ns)
		c.failed_ns = DEF_FAILED_NS;
	if (!c.seed)
		c.seed = fm__map_seed();
	if (c.max_entries > MAX_ENTRIES || c.retries > MAX_RETRIES ||
	    c.retry_ns > NEVER / 2 / c.retries || c.reachable_ns > NEVER / 2 ||
	    c.failed_ns > NEVER / 2 || c.reachable_ns <= c.retries * c.retry_ns) {
		errno = EINVAL;
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return NULL;
	a->e = calloc(c.max_entries, sizeof(*a->e));
	if (a->e == NULL) {
		rc = -ENOMEM;
		goto out_free;
	}
	rc = fm__map_init(&a->index, c.max_entries, c.seed);
	if (rc)
		goto out_free;
	for (uint32_t i = 0; i < c.max_entries; i++)
		a->e[i].next_free = i + 1 < c.max_entries ? i + 1 : NO_ENTRY;
	a->free_head = 0;
	a->max = c.max_entries;
	a->reachable_ns = c.reachable_ns;
	a->retry_ns = c.retry_ns;
	a->retries = c.retries;
	a->failed_ns = c.failed_ns;
	return a;

out_free:
	free(a->e);
	free(a);
	errno = -rc;
	return NULL;
}

void
fm_arp_destroy(struct fm_arp *a)
{
	if (a == NULL)
		return;
	fm__map_fini(&a->index);
	free(a->e);
	free(a);
}

static bool
ip_ok(uint32_t ip)
{
	return ip != 0 && ip < 0xe0000000u;
}

static bool
mac_ok(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6) != 0;
}

static struct entry *
entry_find(const struct fm_arp *a, uint32_t ip)
{
	uint32_t i;

	if (fm__map_get(&a->index, ip, &i) != 0)
		return NULL;
	return &a->e[i];
}

static void
entry_remove(struct fm_arp *a, struct entry *e)
{
	fm__map_del(&a->index, e->ip);
	e->state = FM_ARP_NONE;
	e->next_free = a->free_head;
	a->free_head = (uint32_t)(e - a->e);
	a->n--;
}

/* The least recently used entry that may be evicted, or NULL. */
static struct entry *
victim(struct fm_arp *a)
{
	struct entry *best = NULL;

	for (uint32_t i = 0; i < a->max; i++) {
		struct entry *e = &a->e[i];

		if (e->refs || (e->state != FM_ARP_REACHABLE && e->state != FM_ARP_STALE &&
				   e->state != FM_ARP_FAILED))
			continue;
		if (best == NULL || e->last_used_ns < best->last_used_ns)
			best = e;
	}
	return best;
}

/* A fresh entry for ip in the given state, evicting if need be, or NULL. */
static struct entry *
entry_new(struct fm_arp *a, uint32_t ip, uint8_t state, uint64_t now)
{
	struct entry *e;
	uint32_t i;

	if (a->free_head == NO_ENTRY) {
		e = victim(a);
		if (e == NULL) {
			a->st.full++;
			return NULL;
		}
		entry_remove(a, e);
		a->st.evicted++;
	}
	i = a->free_head;
	e = &a->e[i];
	a->free_head = e->next_free;
	*e = (struct entry){
	    .ip = ip,
	    .state = state,
	    .since_ns = now,
	    .last_used_ns = now,
	    .due_ns = NEVER,
	    .next_free = NO_ENTRY,
	};
	/* Cannot fail: the index has room for every entry. */
	fm__map_put(&a->index, ip, i);
	a->n++;
	a->st.created++;
	return e;
}

static void
set_state(struct entry *e, uint8_t state, uint64_t now, uint64_t due)
{
	e->state = state;
	e->since_ns = now;
	e->tries = 0;
	e->due_ns = due;
}

/* The MAC is confirmed now: REACHABLE until the refresh point. */
static void
confirm(struct fm_arp *a, struct entry *e, const uint8_t mac[6], uint64_t now)
{
	memcpy(e->mac, mac, 6);
	e->has_mac = 1;
	e->used = 0;
	e->confirmed_ns = now;
	set_state(e, FM_ARP_REACHABLE, now, now + a->reachable_ns - a->retries * a->retry_ns);
}

int
fm_arp_lookup(struct fm_arp *a, uint32_t ip, uint64_t now_ns, uint8_t mac[6])
{
	struct entry *e;

	if (!ip_ok(ip))
		return -EINVAL;
	e = entry_find(a, ip);
	if (e == NULL) {
		e = entry_new(a, ip, FM_ARP_INCOMPLETE, now_ns);
		if (e == NULL)
			return -ENOSPC;
		e->due_ns = now_ns;
		return -EAGAIN;
	}
	e->last_used_ns = now_ns;
	switch (e->state) {
	case FM_ARP_REACHABLE:
	case FM_ARP_STALE:
	case FM_ARP_STATIC:
		e->used = 1;
		memcpy(mac, e->mac, 6);
		return 0;
	case FM_ARP_INCOMPLETE:
		return -EAGAIN;
	default:
		return -EHOSTUNREACH;
	}
}

int
fm_arp_ref(struct fm_arp *a, uint32_t ip)
{
	struct entry *e = entry_find(a, ip);

	if (e == NULL)
		return -ENOENT;
	e->refs++;
	return 0;
}

int
fm_arp_unref(struct fm_arp *a, uint32_t ip)
{
	struct entry *e = entry_find(a, ip);

	if (e == NULL)
		return -ENOENT;
	if (e->refs == 0)
		return -EINVAL;
	e->refs--;
	return 0;
}

/* How a new MAC compares with what the entry had. */
static int
update_kind(const struct entry *e, const uint8_t mac[6])
{
	if (e->state == FM_ARP_INCOMPLETE || e->state == FM_ARP_FAILED)
		return FM_ARP_UPD_RESOLVED;
	return memcmp(e->mac, mac, 6) ? FM_ARP_UPD_CHANGED : FM_ARP_UPD_CONFIRMED;
}

static void
count_update(struct fm_arp *a, int kind)
{
	if (kind == FM_ARP_UPD_RESOLVED)
		a->st.resolved++;
	else if (kind == FM_ARP_UPD_CHANGED)
		a->st.changed++;
	else if (kind == FM_ARP_UPD_CONFIRMED)
		a->st.confirmed++;
}

int
fm_arp_input(struct fm_arp *a, uint32_t ip, const uint8_t mac[6], uint64_t now_ns, unsigned flags)
{
	struct entry *e;
	int kind;

	if (!ip_ok(ip) || !mac_ok(mac))
		return -EINVAL;
	e = entry_find(a, ip);
	if (e == NULL) {
		if (!(flags & FM_ARP_IN_F_FOR_US))
			return FM_ARP_UPD_IGNORED;
		e = entry_new(a, ip, FM_ARP_REACHABLE, now_ns);
		if (e == NULL)
			return FM_ARP_UPD_IGNORED;
		confirm(a, e, mac, now_ns);
		return FM_ARP_UPD_CREATED;
	}
	if (e->state == FM_ARP_STATIC)
		return FM_ARP_UPD_IGNORED;
	kind = update_kind(e, mac);
	confirm(a, e, mac, now_ns);
	count_update(a, kind);
	return kind;
}

int
fm_arp_set_static(struct fm_arp *a, uint32_t ip, const uint8_t mac[6], uint64_t now_ns)
{
	struct entry *e;
	int kind;

	if (!ip_ok(ip) || !mac_ok(mac))
		return -EINVAL;
	e = entry_find(a, ip);
	if (e == NULL) {
		e = entry_new(a, ip, FM_ARP_STATIC, now_ns);
		if (e == NULL)
			return -ENOSPC;
		kind = FM_ARP_UPD_CREATED;
	} else {
		kind = update_kind(e, mac);
		count_update(a, kind);
	}
	memcpy(e->mac, mac, 6);
	e->has_mac = 1;
	e->confirmed_ns = now_ns;
	set_state(e, FM_ARP_STATIC, now_ns, NEVER);
	return kind;
}

int
fm_arp_del(struct fm_arp *a, uint32_t ip, uint64_t now_ns)
{
	struct entry *e = entry_find(a, ip);

	if (e == NULL)
		return -ENOENT;
	if (e->refs == 0) {
		entry_remove(a, e);
		return 0;
	}
	set_state(e, FM_ARP_INCOMPLETE, now_ns, now_ns);
	return 0;
}

static void
event(struct fm_arp_event *ev, const struct entry *e, uint8_t kind)
{
	*ev = (struct fm_arp_event){.ip = e->ip, .kind = kind};
	if (e->has_mac)
		memcpy(ev->mac, e->mac, 6);
}

static void
fail(struct fm_arp *a, struct entry *e, uint64_t now, struct fm_arp_event *ev)
{
	set_state(e, FM_ARP_FAILED, now, now + a->failed_ns);
	event(ev, e, FM_ARP_EV_FAILED);
	a->st.failed++;
}

/* Send the next request or probe of this round. */
static void
ask(struct fm_arp *a, struct entry *e, uint64_t now, uint8_t kind, struct fm_arp_event *ev)
{
	e->tries++;
	e->due_ns = now + a->retry_ns;
	event(ev, e, kind);
	if (kind == FM_ARP_EV_REQUEST)
		a->st.requests++;
	else
		a->st.probes++;
}

/* One step of entry e, due at now. Returns 1 if it wrote *ev. */
static int
step(struct fm_arp *a, struct entry *e, uint64_t now, struct fm_arp_event *ev)
{
	uint64_t expiry = e->confirmed_ns + a->reachable_ns;

	switch (e->state) {
	case FM_ARP_INCOMPLETE:
		if (e->tries < a->retries)
			ask(a, e, now, FM_ARP_EV_REQUEST, ev);
		else
			fail(a, e, now, ev);
		return 1;
	case FM_ARP_REACHABLE:
		if (e->refs || e->used) {
			/* Normally now is the refresh point, and the deadline the
			 * expiry; a late tick still gets every probe. */
			set_state(e, FM_ARP_STALE, now, now);
			e->deadline_ns = now + a->retries * a->retry_ns;
			if (e->deadline_ns < expiry)
				e->deadline_ns = expiry;
			ask(a, e, now, FM_ARP_EV_PROBE, ev);
			return 1;
		}
		if (now < expiry) {
			e->due_ns = expiry;
			return 0;
		}
		event(ev, e, FM_ARP_EV_EXPIRED);
		a->st.expired++;
		entry_remove(a, e);
		return 1;
	case FM_ARP_STALE:
		if (now >= e->deadline_ns) {
			fail(a, e, now, ev);
			return 1;
		}
		if (e->tries < a->retries) {
			ask(a, e, now, FM_ARP_EV_PROBE, ev);
			if (e->due_ns > e->deadline_ns)
				e->due_ns = e->deadline_ns;
			return 1;
		}
		e->due_ns = e->deadline_ns;
		return 0;
	case FM_ARP_FAILED:
		if (e->refs) {
			set_state(e, FM_ARP_INCOMPLETE, now, now);
			ask(a, e, now, FM_ARP_EV_REQUEST, ev);
			return 1;
		}
		event(ev, e, FM_ARP_EV_EXPIRED);
		a->st.expired++;
		entry_remove(a, e);
		return 1;
	default:
		e->due_ns = NEVER;
		return 0;
	}
}

unsigned
fm_arp_tick(struct fm_arp *a, uint64_t now_ns, struct fm_arp_event out[], unsigned n)
{
	unsigned k = 0;

	for (uint32_t i = 0; i < a->max && k < n; i++) {
		struct entry *e = &a->e[i];

		if (e->state == FM_ARP_NONE || e->due_ns > now_ns)
			continue;
		k += (unsigned)step(a, e, now_ns, &out[k]);
	}
	return k;
}

uint64_t
fm_arp_next_due(const struct fm_arp *a)
{
	uint64_t due = NEVER;

	for (uint32_t i = 0; i < a->max; i++) {
		if (a->e[i].state != FM_ARP_NONE && a->e[i].due_ns < due)
			due = a->e[i].due_ns;
	}
	return due;
}

static void
info_of(const struct entry *e, uint64_t now, struct fm_arp_info *info)
{
	bool has =
	    e->state == FM_ARP_REACHABLE || e->state == FM_ARP_STALE || e->state == FM_ARP_STATIC;
	uint64_t t = has ? e->confirmed_ns : e->since_ns;

	*info = (struct fm_arp_info){
	    .ip = e->ip,
	    .state = e->state,
	    .tries = e->tries,
	    .refs = e->refs,
	    .age_ns = now > t ? now - t : 0,
	};
	if (e->has_mac)
		memcpy(info->mac, e->mac, 6);
}

int
fm_arp_get(const struct fm_arp *a, uint32_t ip, uint64_t now_ns, struct fm_arp_info *info)
{
	const struct entry *e = entry_find(a, ip);

	if (e == NULL)
		return -ENOENT;
	info_of(e, now_ns, info);
	return 0;
}

unsigned
fm_arp_list(const struct fm_arp *a, uint64_t now_ns, struct fm_arp_info *out, unsigned max)
{
	unsigned k = 0;

	for (uint32_t i = 0; i < a->max && k < max; i++) {
		if (a->e[i].state != FM_ARP_NONE)
			info_of(&a->e[i], now_ns, &out[k++]);
	}
	return k;
}

unsigned
fm_arp_count(const struct fm_arp *a)
{
	return a->n;
}

void
fm_arp_stats_get(const struct fm_arp *a, struct fm_arp_stats *st)
{
	*st = a->st;
}

const char *
fm_arp_state_name(unsigned state)
{
	static const char *const names[] = {
	    [FM_ARP_NONE] = "NONE",
	    [FM_ARP_INCOMPLETE] = "INCOMPLETE",
	    [FM_ARP_REACHABLE] = "REACHABLE",
	    [FM_ARP_STALE] = "STALE",
	    [FM_ARP_STATIC] = "STATIC",
	    [FM_ARP_FAILED] = "FAILED",
	};

	return state < ARRAY_SIZE(names) ? names[state] : "?";
}
