/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_map_priv.h -- module-internal: a fixed-capacity hash map from 64-bit
 * keys to 32-bit values, for the flow manager's tables (ports, ARP).
 *
 * Open addressing with linear probing in a power-of-two slot array at least
 * twice the capacity, so a probe sequence stays short; deletion shifts the
 * following entries back (no tombstones), so the table never degrades. The
 * hash is a seeded 64-bit finaliser: keys chosen by a peer (ports, source
 * addresses) cannot be aimed at one bucket without knowing the seed.
 *
 * Memory: fm_map_init() allocates everything; no other call allocates.
 * Keys are any value but FM_MAP_EMPTY. Not thread-safe (one owner).
 */
#ifndef SLUICE_FLOWMGR_FM_MAP_PRIV_H
#define SLUICE_FLOWMGR_FM_MAP_PRIV_H

#include <stdint.h>

#define FM_MAP_EMPTY UINT64_MAX

struct fm_map_slot {
	uint64_t key; /* FM_MAP_EMPTY: free */
	uint32_t val;
};

struct fm_map {
	struct fm_map_slot *slots;
	uint32_t mask;	   /* slot count - 1 */
	uint32_t count;	   /* keys held */
	uint32_t capacity; /* most keys held at once */
	uint64_t seed;
};

/* A seed nobody can guess (getrandom; the clock if that fails), never 0. */
uint64_t fm__map_seed(void);

/* Room for capacity keys (1..2^24). Returns 0, -EINVAL or -ENOMEM. */
int fm__map_init(struct fm_map *m, uint32_t capacity, uint64_t seed);
void fm__map_fini(struct fm_map *m);

/* The value of key in *val: 0, or -ENOENT. */
int fm__map_get(const struct fm_map *m, uint64_t key, uint32_t *val);

/* Insert or overwrite. Returns 0, or -ENOSPC (capacity reached, key new). */
int fm__map_put(struct fm_map *m, uint64_t key, uint32_t val);

/* Remove key. Returns 0 or -ENOENT. */
int fm__map_del(struct fm_map *m, uint64_t key);

/*
 * Visit every key in slot order (unspecified to the caller); stop when fn
 * returns nonzero and return that. fn must not change the map.
 */
int fm__map_foreach(
    const struct fm_map *m, int (*fn)(uint64_t key, uint32_t val, void *arg), void *arg);

#endif /* SLUICE_FLOWMGR_FM_MAP_PRIV_H */
