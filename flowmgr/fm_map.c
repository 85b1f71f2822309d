/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fm_map.c -- the flow manager's small open-addressing hash map
 * (fm_map_priv.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>
#include <time.h>

#include "flowmgr/fm_map_priv.h"

/* The 64-bit finaliser of MurmurHash3, on the key mixed with the seed. */
static uint32_t
slot_of(const struct fm_map *m, uint64_t key)
{
	uint64_t h = key ^ m->seed;

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h & m->mask;
}

uint64_t
fm__map_seed(void)
{
	uint64_t s = 0;
	struct timespec ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) == (ssize_t)sizeof(s) && s)
		return s;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	s = (uint64_t)ts.tv_nsec << 32 ^ (uint64_t)ts.tv_sec ^ (uintptr_t)&s;
	return s ? s : 1;
}

int
fm__map_init(struct fm_map *m, uint32_t capacity, uint64_t seed)
{
	uint32_t n = 2;

	if (capacity == 0 || capacity > (1u << 24))
		return -EINVAL;
	while (n < 2 * capacity)
		n <<= 1;
	m->slots = malloc(sizeof(*m->slots) * n);
	if (m->slots == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		m->slots[i].key = FM_MAP_EMPTY;
	m->mask = n - 1;
	m->count = 0;
	m->capacity = capacity;
	m->seed = seed;
	return 0;
}

void
fm__map_fini(struct fm_map *m)
{
	free(m->slots);
	m->slots = NULL;
	m->count = 0;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t
find(const struct fm_map *m, uint64_t key)
{
	uint32_t i = slot_of(m, key);

	/* Terminates: at least half of the slots are always empty. */
	while (m->slots[i].key != FM_MAP_EMPTY && m->slots[i].key != key)
		i = (i + 1) & m->mask;
	return i;
}

int
fm__map_get(const struct fm_map *m, uint64_t key, uint32_t *val)
{
	uint32_t i = find(m, key);

	if (m->slots[i].key != key)
		return -ENOENT;
	*val = m->slots[i].val;
	return 0;
}

int
fm__map_put(struct fm_map *m, uint64_t key, uint32_t val)
{
	uint32_t i = find(m, key);

	if (m->slots[i].key != key) {
		if (m->count == m->capacity)
			return -ENOSPC;
		m->slots[i].key = key;
		m->count++;
	}
	m->slots[i].val = val;
	return 0;
}

int
fm__map_del(struct fm_map *m, uint64_t key)
{
	uint32_t i = find(m, key), j = i;

	if (m->slots[i].key != key)
		return -ENOENT;
	/*
	 * Backward-shift deletion: move up every later entry of the cluster
	 * whose home slot is not cyclically in (i, j], so that no probe
	 * sequence crosses a hole.
	 */
	for (;;) {
		uint32_t home;

		m->slots[i].key = FM_MAP_EMPTY;
		for (;;) {
			j = (j + 1) & m->mask;
			if (m->slots[j].key == FM_MAP_EMPTY) {
				m->count--;
				return 0;
			}
			home = slot_of(m, m->slots[j].key);
			if (i <= j ? (home <= i || home > j) : (home <= i && home > j))
				break;
		}
		m->slots[i] = m->slots[j];
		i = j;
	}
}

int
fm__map_foreach(const struct fm_map *m, int (*fn)(uint64_t key, uint32_t val, void *arg), void *arg)
{
	for (uint32_t i = 0; i <= m->mask; i++) {
		int rc;

		if (m->slots[i].key == FM_MAP_EMPTY)
			continue;
		rc = fn(m->slots[i].key, m->slots[i].val, arg);
		if (rc)
			return rc;
	}
	return 0;
}
