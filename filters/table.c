/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * table.c -- the control path: create and destroy a table, add and remove
 * flows, the reader's RCU state, counters and their names.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "filters/flt_priv.h"
#include "common/wire/ip4.h"

#define DEFAULT_MAX_FLOWS 65536u

/* Distinguishes the DPDK object names of tables in one process. */
static uint32_t table_seq;

static void
key_from_spec(struct flt_key *k, const struct flt_flow_spec *s)
{
	memset(k, 0, sizeof(*k));
	k->local_addr = s->local_addr;
	k->remote_addr = s->remote_addr;
	k->local_port = s->local_port;
	k->remote_port = s->remote_port;
	k->proto = s->proto;
}

static int
spec_check(const struct flt_flow_spec *s)
{
	if (s->proto != IP4_PROTO_UDP && s->proto != IP4_PROTO_TCP)
		return -EINVAL;
	if (s->local_addr == 0 || s->local_port == 0)
		return -EINVAL;
	switch (s->kind) {
	case FLT_KIND_CONNECTED:
		if (s->remote_addr == 0 || s->remote_port == 0)
			return -EINVAL;
		break;
	case FLT_KIND_BOUND:
	case FLT_KIND_LISTENING:
		if (s->remote_addr != 0 || s->remote_port != 0)
			return -EINVAL;
		if (s->proto != (s->kind == FLT_KIND_BOUND ? IP4_PROTO_UDP : IP4_PROTO_TCP))
			return -EINVAL;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

static int
cfg_resolve(struct flt_table *t, const struct flt_table_cfg *c)
{
	t->max_flows = c->max_flows ? c->max_flows : DEFAULT_MAX_FLOWS;
	t->flags = c->flags;
	t->frag_timeout_ns = c->frag_timeout_ns ? c->frag_timeout_ns : 1000000000ull;
	t->hold_timeout_ns = c->hold_timeout_ns ? c->hold_timeout_ns : 500000000ull;
	t->hold_slots = c->hold_slots ? c->hold_slots : 16;
	t->hold_slot_size = c->hold_slot_size ? c->hold_slot_size : 2048;
	uint32_t fe = c->frag_entries ? c->frag_entries : 1024;

	if (t->max_flows > FLT_MAX_FLOWS || t->hold_slots > 1024 || t->hold_slot_size > 16384 ||
	    fe > (1u << 24))
		return -EINVAL;
	if (t->flags & ~(uint32_t)FLT_CFG_F_NO_HOLD)
		return -EINVAL;
	if (t->flags & FLT_CFG_F_NO_HOLD)
		t->hold_slots = 0;
	fe = rte_align32pow2(fe < FLT_FRAG_WAYS ? FLT_FRAG_WAYS : fe);
	t->frag_mask = fe / FLT_FRAG_WAYS - 1;
	return 0;
}

static int
hash_create(struct flt_table *t, const char *prefix, uint32_t seq)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
	    .name = name,
	    /*
		 * A quarter more slots than flows: rte_hash rounds buckets to a
		 * power of two, and slots of deleted keys wait for RCU before
		 * they can be reused, so a full table still accepts an add.
		 */
	    .entries = t->max_flows + t->max_flows / 4 + 64,
	    .key_len = sizeof(struct flt_key),
	    .hash_func = rte_hash_crc,
	    .socket_id = SOCKET_ID_ANY,
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	struct rte_hash_rcu_config rc = {
	    .mode = RTE_HASH_QSBR_MODE_DQ,
	};
	size_t qsz = rte_rcu_qsbr_get_memsize(1);

	snprintf(name, sizeof(name), "%s_h%u", prefix, seq);
	if (rte_hash_find_existing(name))
		return -EEXIST;
	t->hash = rte_hash_create(&hp);
	if (!t->hash)
		return rte_errno ? -rte_errno : -ENOMEM;

	t->qsbr = rte_zmalloc(NULL, qsz, RTE_CACHE_LINE_SIZE);
	if (!t->qsbr)
		goto out_free_hash;
	if (rte_rcu_qsbr_init(t->qsbr, 1) != 0 || rte_rcu_qsbr_thread_register(t->qsbr, 0) != 0)
		goto out_free_qsbr;
	rte_rcu_qsbr_thread_online(t->qsbr, 0);
	rc.v = t->qsbr;
	if (rte_hash_rcu_qsbr_add(t->hash, &rc) != 0)
		goto out_free_qsbr;
	return 0;

out_free_qsbr:
	rte_free(t->qsbr);
	t->qsbr = NULL;
out_free_hash:
	rte_hash_free(t->hash);
	t->hash = NULL;
	return -ENOMEM;
}

struct flt_table *
flt_table_create(const struct flt_table_cfg *cfg)
{
	static const struct flt_table_cfg defaults;
	const char *prefix;
	struct flt_table *t;
	int rc;

	if (!cfg)
		cfg = &defaults;
	prefix = cfg->name ? cfg->name : "flt";
	if (strlen(prefix) >= 16) {
		errno = EINVAL;
		return NULL;
	}
	t = rte_zmalloc("flt_table", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	rc = cfg_resolve(t, cfg);
	if (rc < 0)
		goto out_free_table;
	t->conn_count = rte_zmalloc("flt_conn", 2 * 65536 * sizeof(uint32_t), RTE_CACHE_LINE_SIZE);
	if (!t->conn_count) {
		rc = -ENOMEM;
		goto out_free_table;
	}
	rc = hash_create(t, prefix, __atomic_fetch_add(&table_seq, 1, __ATOMIC_RELAXED));
	if (rc < 0)
		goto out_free_table;
	rc = flt__frag_init(t);
	if (rc < 0)
		goto out_free_hash;
	return t;

out_free_hash:
	rte_hash_free(t->hash);
	rte_free(t->qsbr);
out_free_table:
	rte_free(t->conn_count);
	rte_free(t);
	errno = -rc;
	return NULL;
}

void
flt_table_destroy(struct flt_table *t)
{
	if (!t)
		return;
	flt__frag_fini(t);
	rte_hash_free(t->hash);
	rte_free(t->qsbr);
	rte_free(t->conn_count);
	rte_free(t);
}

/* Count a connected flow on its (protocol, local port) in or out (@d = +1, -1). */
static void
count_connected(struct flt_table *t, const struct flt_flow_spec *s, int d)
{
	unsigned pr = s->proto == IP4_PROTO_TCP, port = s->local_port;
	uint32_t *c = &t->conn_count[pr << 16 | port];
	uint64_t *w = &t->conn_bm[pr][port >> 6], bit = 1ull << (port & 63);

	if (s->kind != FLT_KIND_CONNECTED) /* bound and listening flows are the 3-tuple */
		return;
	if (d > 0 && (*c)++ == 0)
		__atomic_fetch_or(w, bit, __ATOMIC_RELEASE);
	else if (d < 0 && --(*c) == 0)
		__atomic_fetch_and(w, ~bit, __ATOMIC_RELEASE);
}

int
flt_flow_add(struct flt_table *t, const struct flt_flow_spec *s)
{
	struct flt_key k;
	int rc;

	rc = spec_check(s);
	if (rc < 0)
		return rc;
	if (s->flow == FLT_FLOW_NONE || (s->flags & ~(uint16_t)FLT_FLOW_F_INORDER_FRAGS))
		return -EINVAL;
	key_from_spec(&k, s);
	if (rte_hash_lookup(t->hash, &k) >= 0)
		return -EEXIST;
	if (t->n_flows >= t->max_flows)
		return -ENOSPC;
	/* The bit before the key: a reader that could find the key looks. */
	count_connected(t, s, +1);
	/* The value is the id itself, not a pointer: nothing to free on delete. */
	rc = rte_hash_add_key_data(t->hash, &k, (void *)(uintptr_t)FLT_VAL(s->flow, s->flags));
	if (rc < 0) {
		count_connected(t, s, -1);
		return rc == -ENOSPC ? -ENOSPC : rc;
	}
	__atomic_store_n(&t->n_flows, t->n_flows + 1, __ATOMIC_RELAXED);
	return 0;
}

int
flt_flow_del(struct flt_table *t, const struct flt_flow_spec *s)
{
	struct flt_key k;
	int rc;

	rc = spec_check(s);
	if (rc < 0)
		return rc;
	key_from_spec(&k, s);
	/* With RCU attached, rte_hash defers freeing the slot until the reader is quiescent. */
	rc = rte_hash_del_key(t->hash, &k);
	if (rc < 0)
		return rc;
	count_connected(t, s, -1); /* after the key: until then readers still look */
	__atomic_store_n(&t->n_flows, t->n_flows - 1, __ATOMIC_RELAXED);
	return 0;
}

uint32_t
flt_flow_count(const struct flt_table *t)
{
	return __atomic_load_n(&t->n_flows, __ATOMIC_RELAXED);
}

void
flt_reader_sync(struct flt_table *t)
{
	rte_rcu_qsbr_synchronize(t->qsbr, RTE_QSBR_THRID_INVALID);
}

void
flt_reader_offline(struct flt_table *t)
{
	if (t->rd.offline)
		return;
	rte_rcu_qsbr_thread_offline(t->qsbr, 0);
	t->rd.offline = true;
}

void
flt_reader_online(struct flt_table *t)
{
	if (!t->rd.offline)
		return;
	rte_rcu_qsbr_thread_online(t->qsbr, 0);
	t->rd.offline = false;
}

_Static_assert(sizeof(struct flt_stats) % sizeof(uint64_t) == 0, "counters are all uint64_t");

static void
ctrs_load(uint64_t *dst, const uint64_t *src, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

void
flt_stats_get(const struct flt_table *t, struct flt_stats *st)
{
	const size_t n = sizeof(*st) / sizeof(uint64_t);
	const size_t tx0 = offsetof(struct flt_stats, tx_pkts) / sizeof(uint64_t);

	/* The receive thread owns the fields before tx_pkts, the transmit thread the rest. */
	ctrs_load((uint64_t *)st, (const uint64_t *)&t->rx, 0, tx0);
	ctrs_load((uint64_t *)st, (const uint64_t *)&t->tx, tx0, n);
}

static const char *const drop_names[] = {"NONE",
#define FLT_X_(name, desc) #name,
    FLT_DROP_REASONS(FLT_X_)
#undef FLT_X_
};
static const char *const drop_descs[] = {"not dropped",
#define FLT_X_(name, desc) desc,
    FLT_DROP_REASONS(FLT_X_)
#undef FLT_X_
};
static const char *const tx_names[] = {"OK",
#define FLT_X_(name, desc) #name,
    FLT_TX_REASONS(FLT_X_)
#undef FLT_X_
};
static const char *const tx_descs[] = {"passed",
#define FLT_X_(name, desc) desc,
    FLT_TX_REASONS(FLT_X_)
#undef FLT_X_
};
_Static_assert(ARRAY_SIZE(drop_names) == FLT_DROP__COUNT, "one name per drop reason");
_Static_assert(ARRAY_SIZE(tx_names) == FLT_TX__COUNT, "one name per tx reason");

const char *
flt_drop_name(unsigned r)
{
	return r < FLT_DROP__COUNT ? drop_names[r] : "?";
}

const char *
flt_drop_desc(unsigned r)
{
	return r < FLT_DROP__COUNT ? drop_descs[r] : "?";
}

const char *
flt_tx_name(unsigned r)
{
	return r < FLT_TX__COUNT ? tx_names[r] : "?";
}

const char *
flt_tx_desc(unsigned r)
{
	return r < FLT_TX__COUNT ? tx_descs[r] : "?";
}
