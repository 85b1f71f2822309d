/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_arp.h -- the flow manager's ARP cache (RFC 826) for one interface:
 * IPv4 next hop -> MAC, with resolution, ageing and refresh, on a clock the
 * caller passes in (now_ns, CLOCK_MONOTONIC), so tests run on simulated time.
 *
 * States and what moves them (lookup = fm_arp_lookup, reply = fm_arp_input,
 * the rest fm_arp_tick; R = reachable_ns, r = retry_ns, k = retries):
 *
 *             lookup                reply
 *  (absent) ---------> INCOMPLETE ---------> REACHABLE <-----------------+
 *                         |                   |     |                    | reply
 *                         | k requests,       |     | R - k*r after      |
 *                         | r apart, no reply |     | confirmation,      |
 *                         v                   |     v in use             |
 *                       FAILED <--------------|--- STALE ----------------+
 *                         |   k unicast       |    (probing; MAC still used)
 *                         |   probes, none    |
 *                         |   answered by R   | R after confirmation, unused
 *                         v                   v
 *       failed_ns later: referenced -> INCOMPLETE again;   removed (EXPIRED)
 *                        unreferenced -> removed (EXPIRED)
 *
 *   A reply also takes FAILED to REACHABLE. STATIC: set by
 *   fm_arp_set_static(); never ages, and input leaves it alone.
 *
 * "In use" means referenced (fm_arp_ref(), one reference per flow whose next
 * hop is the address) or looked up since the MAC was last confirmed. Entries
 * in use are refreshed with unicast probes before they expire, so a live
 * flow never loses its MAC to ageing; unused ones simply expire.
 *
 * Who calls what, when (the daemon):
 *   - opening a flow: fm_arp_lookup(next hop). 0: the MAC is there, take a
 *     reference. -EAGAIN: resolution started; take a reference and wait for
 *     fm_arp_input() to return FM_ARP_UPD_RESOLVED for that address.
 *   - every ARP frame from the exception channel (fm_pkt_input() reports the
 *     sender's (ip, mac)): fm_arp_input(). RESOLVED or CHANGED: update every
 *     flow whose next hop is that ip, and call its application back.
 *   - on a timer at fm_arp_next_due(), and after lookups that returned
 *     -EAGAIN: fm_arp_tick(), and send what it asks (requests, probes);
 *     FAILED: the flows through that ip have no next hop any more.
 *   - closing a flow: fm_arp_unref().
 * States change only in fm_arp_input(), fm_arp_tick(), fm_arp_set_static()
 * and fm_arp_del(); fm_arp_lookup() only creates entries.
 *
 * Full cache: creating an entry (lookup, or input for a frame addressed to
 * us) evicts the least recently used entry that is unreferenced and not
 * pending (REACHABLE, STALE or FAILED; never INCOMPLETE or STATIC). If there
 * is none, the lookup fails with -ENOSPC and the input is ignored; both are
 * counted.
 *
 * Trust: ARP is unauthenticated; anyone on the link can claim an address.
 * The cache accepts what it hears as RFC 826 says (update an entry it has,
 * create one only when the frame was addressed to us) and reports MAC
 * changes, so that they can at least be seen.
 *
 * Memory: fm_arp_create() allocates max_entries entries and an index; no
 * other call allocates. Cost: lookup and input O(1) (hash), except creation
 * in a full cache, O(max_entries); tick, next_due and list O(max_entries).
 * Addresses are IPv4 in host order, MACs 6 bytes. Errors: create returns
 * NULL with errno; int functions return a value >= 0 or -errno and change
 * nothing on failure. One thread owns a cache.
 */
#ifndef SLUICE_FLOWMGR_FM_ARP_H
#define SLUICE_FLOWMGR_FM_ARP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The values of admin.proto ArpState. */
enum fm_arp_state {
	FM_ARP_NONE = 0,   /* not in the cache */
	FM_ARP_INCOMPLETE, /* resolving: broadcast requests, no MAC yet */
	FM_ARP_REACHABLE,  /* MAC confirmed less than reachable_ns ago */
	FM_ARP_STALE,	   /* in use and near expiry: unicast probes sent, MAC still used */
	FM_ARP_STATIC,	   /* set by the administrator; never ages */
	FM_ARP_FAILED,	   /* no answer: lookups fail until the entry is retried or dropped */
};

/* Creation parameters; zero picks the default in brackets. */
struct fm_arp_cfg {
	uint32_t max_entries;  /* [256], <= 65536 */
	uint64_t reachable_ns; /* a confirmed MAC is good for this long [30 s] */
	uint64_t retry_ns;     /* between requests, and between probes [1 s] */
	uint32_t retries;      /* requests (or probes) before FAILED [3], <= 255;
				  reachable_ns must exceed retries * retry_ns */
	uint64_t failed_ns;    /* how long a FAILED entry stays before it is
				  retried (referenced) or dropped [5 s] */
	uint64_t seed;	       /* index hashing; 0: from getrandom() */
};

struct fm_arp;

/*
 * Create an empty cache. @cfg: parameters, or NULL for every default.
 * Returns it, or NULL with errno EINVAL (out of range, or reachable_ns <=
 * retries * retry_ns) or ENOMEM.
 */
struct fm_arp *fm_arp_create(const struct fm_arp_cfg *cfg);

/* Free the cache. NULL is ignored. */
void fm_arp_destroy(struct fm_arp *a);

/*
 * The MAC of ip, into mac.
 * Returns 0 (REACHABLE, STALE or STATIC: mac filled, the entry counts as in
 * use), or
 *   -EAGAIN       resolving (INCOMPLETE); if the entry was absent it has just
 *                 been created and its first request is due at once (call
 *                 fm_arp_tick());
 *   -EHOSTUNREACH FAILED: no answer; a referenced entry is retried failed_ns
 *                 after it failed, an unreferenced one dropped then;
 *   -ENOSPC       absent, and the cache is full of pending or referenced entries;
 *   -EINVAL       ip is 0, multicast, class E or broadcast.
 */
int fm_arp_lookup(struct fm_arp *a, uint32_t ip, uint64_t now_ns, uint8_t mac[6]);

/*
 * Take and drop a reference on the entry of ip (one per flow using it as
 * next hop): a referenced entry is refreshed, retried after failure, and
 * never evicted. Returns 0, -ENOENT (no entry; fm_arp_lookup() creates
 * one), or for unref -EINVAL (no reference held).
 */
int fm_arp_ref(struct fm_arp *a, uint32_t ip);
int fm_arp_unref(struct fm_arp *a, uint32_t ip);

/* What fm_arp_input() and fm_arp_set_static() did. */
enum fm_arp_update {
	FM_ARP_UPD_IGNORED = 0, /* no entry and not for us, a STATIC entry, or no room */
	FM_ARP_UPD_CREATED,	/* a new entry (nobody was waiting for it) */
	FM_ARP_UPD_CONFIRMED,	/* same MAC as before: timer restarted */
	FM_ARP_UPD_RESOLVED,	/* the entry had no usable MAC (INCOMPLETE or FAILED): it has now */
	FM_ARP_UPD_CHANGED,	/* the MAC differs from the one in use: update flows */
};

/* Flags of fm_arp_input(). */
#define FM_ARP_IN_F_FOR_US 0x0001 /* the frame's target address was ours: create if absent */

/*
 * The binding (ip, mac) was heard (an ARP request or reply from ip; see
 * fm_pkt_input()). Updates the entry of ip, if any, to REACHABLE with mac,
 * confirmed now; with FM_ARP_IN_F_FOR_US creates it if absent.
 * Returns an enum fm_arp_update (>= 0), or -EINVAL (bad ip as for lookup,
 * or mac zero or a group address).
 */
int
fm_arp_input(struct fm_arp *a, uint32_t ip, const uint8_t mac[6], uint64_t now_ns, unsigned flags);

/*
 * Make ip a STATIC entry with mac (creating it, evicting if need be), keeping
 * its references. Returns an enum fm_arp_update (CREATED, CONFIRMED,
 * RESOLVED or CHANGED, as for input), -EINVAL or -ENOSPC.
 */
int fm_arp_set_static(struct fm_arp *a, uint32_t ip, const uint8_t mac[6], uint64_t now_ns);

/*
 * Forget the MAC of ip (the administrator's "arp del"). An unreferenced
 * entry is removed; a referenced one starts resolving again (INCOMPLETE,
 * first request due at once), and its flows keep the old MAC until
 * fm_arp_input() returns RESOLVED. Returns 0 or -ENOENT.
 */
int fm_arp_del(struct fm_arp *a, uint32_t ip, uint64_t now_ns);

/* What fm_arp_tick() asks the daemon to do or know. */
enum fm_arp_ev_kind {
	FM_ARP_EV_REQUEST = 1, /* broadcast a who-has for ip */
	FM_ARP_EV_PROBE,       /* unicast a who-has for ip to mac (a refresh) */
	FM_ARP_EV_FAILED,      /* ip did not answer: FAILED; flows through ip have no next hop */
	FM_ARP_EV_EXPIRED, /* the entry is gone: unused and aged out, or failed and unreferenced */
};

struct fm_arp_event {
	uint32_t ip;
	uint8_t kind;	/* enum fm_arp_ev_kind */
	uint8_t mac[6]; /* PROBE: the destination; FAILED, EXPIRED: the last MAC known, or 0 */
	uint8_t pad;
};

/*
 * Move every entry whose time has come one step on (send, fail, refresh,
 * expire), and report what to send and what failed or went into out.
 * A late call does the next step now, not every missed one: an entry never
 * fails without its retries having been asked for.
 *
 * @out: room for n events. Returns how many were written; n means there may
 * be more due: call again (with the same now_ns) until it returns less.
 */
unsigned fm_arp_tick(struct fm_arp *a, uint64_t now_ns, struct fm_arp_event out[], unsigned n);

/* The earliest now_ns at which fm_arp_tick() has work, or UINT64_MAX. */
uint64_t fm_arp_next_due(const struct fm_arp *a);

/* One entry, for fm_arp_get() and listings (the CLI). */
struct fm_arp_info {
	uint32_t ip;
	uint8_t mac[6]; /* zero while none is known */
	uint8_t state;	/* enum fm_arp_state */
	uint8_t tries;	/* requests or probes sent in this round */
	uint32_t refs;
	uint64_t age_ns; /* REACHABLE, STALE, STATIC: since the MAC was last
			    confirmed or set; else since the entry entered its state */
};

/* The entry of ip into info. Returns 0 or -ENOENT. */
int fm_arp_get(const struct fm_arp *a, uint32_t ip, uint64_t now_ns, struct fm_arp_info *info);

/* Copy up to max entries, in no particular order; returns how many. */
unsigned
fm_arp_list(const struct fm_arp *a, uint64_t now_ns, struct fm_arp_info *out, unsigned max);

/* Number of entries. */
unsigned fm_arp_count(const struct fm_arp *a);

struct fm_arp_stats {
	uint64_t requests;  /* broadcast requests asked for */
	uint64_t probes;    /* unicast probes asked for */
	uint64_t resolved;  /* FM_ARP_UPD_RESOLVED */
	uint64_t changed;   /* FM_ARP_UPD_CHANGED */
	uint64_t confirmed; /* FM_ARP_UPD_CONFIRMED */
	uint64_t created;   /* entries created (lookup, input, static) */
	uint64_t failed;    /* FM_ARP_EV_FAILED */
	uint64_t expired;   /* FM_ARP_EV_EXPIRED */
	uint64_t evicted;   /* entries pushed out of a full cache */
	uint64_t full;	    /* creations refused: full of pending or referenced entries */
};

void fm_arp_stats_get(const struct fm_arp *a, struct fm_arp_stats *st);

/* "INCOMPLETE", ... for listings; "?" for an unknown value. */
const char *fm_arp_state_name(unsigned state);

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_FLOWMGR_FM_ARP_H */
