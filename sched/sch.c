/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The scheduler's control path: creation, the admission ledger, adding,
 * changing and removing flows, counters, and wire-time arithmetic. The
 * policy (who sends next) is in atropos.c, the calendar in calendar.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sched/sch_priv.h"

typedef unsigned __int128 u128;

#define NS_PER_S  1000000000ull
#define HUGE_PAGE (2u << 20)

uint64_t
sch_wire_ns(uint64_t link_bps, uint32_t frame_len)
{
	if (link_bps == 0)
		return 0;
	u128 bits_ns = (u128)sch_wire_bytes(frame_len) * 8u * NS_PER_S;

	return (uint64_t)((bits_ns + link_bps / 2) / link_bps);
}

uint64_t
sch__wu_to_ns(const struct sch *s, uint64_t wu)
{
	return (uint64_t)((u128)wu * 8u * NS_PER_S / ((u128)s->link_bps << SCH_WU_SHIFT));
}

int64_t
sch__slice_wu(const struct sch *s, uint64_t slice_ns)
{
	u128 wu;

	if (slice_ns == 0)
		return 0;
	wu = ((u128)slice_ns * s->link_bps << SCH_WU_SHIFT) / (8u * NS_PER_S);
	/* A slice too small to express still has to count as a slice. */
	return wu ? (int64_t)wu : 1;
}

uint64_t
sch__util(const struct sch_qos *q)
{
	if (q->slice_ns == 0)
		return 0;
	/* Rounded up, so that the admitted sum never exceeds the link. */
	return (uint64_t)(((u128)q->slice_ns * SCH_UTIL_ONE + q->period_ns - 1) / q->period_ns);
}

static bool
qos_valid(const struct sch *s, const struct sch_qos *q)
{
	if (q->slice_ns == 0)
		return q->extra;
	return q->period_ns >= s->min_period_ns && q->period_ns <= s->max_period_ns &&
	       q->slice_ns <= q->period_ns;
}

static bool
flow_valid(const struct sch *s, uint32_t flow)
{
	return s && flow < s->max_flows;
}

static bool
is_backlogged(const struct sch_flow *f)
{
	return f->state >= SCH_S_ELIGIBLE;
}

/*
 * The flow records, zeroed. With many flows, decisions touch records
 * scattered through memory; huge pages (where the kernel gives them) keep
 * that from costing a page walk each (bench/sched_scale.c measures it).
 */
static struct sch_flow *
flows_alloc(uint32_t n)
{
	size_t size = sizeof(struct sch_flow) * n;
	struct sch_flow *f;

	if (size < HUGE_PAGE) {
		f = aligned_alloc(SLUICE_CACHE_LINE, size);
	} else {
		size = (size + HUGE_PAGE - 1) & ~(HUGE_PAGE - 1);
		f = aligned_alloc(HUGE_PAGE, size);
		if (f)
			(void)madvise(f, size, MADV_HUGEPAGE);
	}
	if (f)
		memset(f, 0, size);
	return f;
}

struct sch *
sch_create(const struct sch_cfg *cfg)
{
	struct sch *s;
	uint64_t max_period, span;
	uint32_t nslots;
	unsigned gshift;

	if (!cfg || cfg->link_bps < SCH_MIN_LINK_BPS || cfg->link_bps > SCH_MAX_LINK_BPS ||
	    cfg->max_flows > SCH_MAX_FLOWS || cfg->max_period_ns > SCH_MAX_PERIOD_NS ||
	    cfg->max_frame_len > SCH_MAX_FRAME_LEN || cfg->catchup_ns > SCH_MAX_CATCHUP_NS ||
	    (cfg->max_frame_len && cfg->max_frame_len < SCH_WIRE_MIN_FRAME))
		goto out_inval;

	max_period = cfg->max_period_ns ? cfg->max_period_ns : SCH_DEFAULT_PERIOD_NS;
	if (cfg->slot_ns) {
		gshift = 63u - (unsigned)__builtin_clzll(cfg->slot_ns);
	} else {
		gshift = 0;
		while ((max_period >> gshift) + 4 > (1ull << SCH_WHEEL_BITS))
			gshift++;
	}
	/*
	 * A deadline is at most one slot plus one period ahead of the current
	 * slot; four slots of margin keep the window unambiguous.
	 */
	span = (max_period >> gshift) + 4;
	if (span > SCH_WHEEL_MAX_SLOTS || (2ull << gshift) > max_period)
		goto out_inval;
	nslots = 64;
	while (nslots < span)
		nslots <<= 1;

	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->link_bps = cfg->link_bps;
	s->ns_per_byte_q32 = (uint64_t)((((u128)8u * NS_PER_S) << 32) / cfg->link_bps);
	s->max_period_ns = max_period;
	s->catchup_ns = cfg->catchup_ns ? cfg->catchup_ns : SCH_DEFAULT_CATCHUP_NS;
	s->idle_until = UINT64_MAX;
	s->min_period_ns = 2ull << gshift;
	s->max_flows = cfg->max_flows ? cfg->max_flows : SCH_DEFAULT_FLOWS;
	s->max_frame_len = cfg->max_frame_len ? cfg->max_frame_len : SCH_DEFAULT_FRAME_LEN;
	s->quantum_wu = (int64_t)sch_wire_bytes(s->max_frame_len) << SCH_WU_SHIFT;
	s->gshift = gshift;
	s->extra_head = SCH_NIL;
	s->pf_n = SCH_PF_AHEAD;

	s->flows = flows_alloc(s->max_flows);
	s->xl = malloc(sizeof(*s->xl) * s->max_flows);
	s->conf = calloc(s->max_flows, sizeof(*s->conf));
	if (!s->flows || !s->xl || !s->conf)
		goto out_free;
	if (sch__pool_init(&s->pool, s->max_flows, nslots) < 0)
		goto out_free;
	if (sch__wheel_init(&s->eligible, nslots, 1, gshift, &s->pool, s->flows) < 0)
		goto out_free;
	if (sch__wheel_init(&s->waiting, nslots, SCH_WAIT_LANES, gshift, &s->pool, s->flows) < 0)
		goto out_fini_eligible;
	return s;

out_fini_eligible:
	sch__wheel_fini(&s->eligible);
out_free:
	sch__pool_fini(&s->pool);
	free(s->flows);
	free(s->xl);
	free(s->conf);
	free(s);
	errno = ENOMEM;
	return NULL;
out_inval:
	errno = EINVAL;
	return NULL;
}

void
sch_destroy(struct sch *s)
{
	if (!s)
		return;
	sch__wheel_fini(&s->eligible);
	sch__wheel_fini(&s->waiting);
	sch__pool_fini(&s->pool);
	free(s->flows);
	free(s->xl);
	free(s->conf);
	free(s);
}

static uint64_t
free_slice_ns(const struct sch *s, uint64_t period_ns)
{
	uint64_t free_util = s->reserved < SCH_UTIL_ONE ? SCH_UTIL_ONE - s->reserved : 0;

	return (uint64_t)((u128)free_util * period_ns / SCH_UTIL_ONE);
}

int
sch_admit(const struct sch *s, const struct sch_qos *q, uint64_t *free_ns)
{
	if (!s || !q || !qos_valid(s, q))
		return -EINVAL;
	if (free_ns)
		*free_ns = free_slice_ns(s, q->period_ns);
	return s->reserved + sch__util(q) <= SCH_UTIL_ONE ? 0 : -ENOSPC;
}

int
sch_flow_add(struct sch *s, uint32_t flow, const struct sch_qos *q)
{
	struct sch_flow *f;
	uint64_t util;

	if (!flow_valid(s, flow) || !q || !qos_valid(s, q))
		return -EINVAL;
	f = &s->flows[flow];
	if (f->state != SCH_S_FREE)
		return -EEXIST;
	util = sch__util(q);
	if (s->reserved + util > SCH_UTIL_ONE)
		return -ENOSPC;

	*f = (struct sch_flow){
	    .slice_wu = sch__slice_wu(s, q->slice_ns),
	    .period_ns = q->period_ns,
	    .state = SCH_S_IDLE,
	    .extra = q->extra,
	};
	s->xl[flow] = (struct sch_link){SCH_NIL, SCH_NIL};
	s->conf[flow] = (struct sch_flow_conf){.qos = *q, .reserved = util};
	s->reserved += util;
	s->n_flows++;
	return 0;
}

int
sch_flow_remove(struct sch *s, uint32_t flow)
{
	struct sch_flow *f;

	if (!flow_valid(s, flow))
		return -EINVAL;
	f = &s->flows[flow];
	if (f->state == SCH_S_FREE)
		return -ENOENT;
	if (is_backlogged(f)) {
		sch__unplace(s, flow);
		if (f->extra)
			sch__extra_del(s, flow);
		if (--s->n_backlogged == 0)
			s->idle_until = UINT64_MAX;
	}
	s->reserved -= s->conf[flow].reserved;
	s->conf[flow] = (struct sch_flow_conf){0};
	f->state = SCH_S_FREE;
	s->n_flows--;
	return 0;
}

void
sch__qos_apply(struct sch *s, uint32_t i)
{
	struct sch_flow *f = &s->flows[i];
	struct sch_flow_conf *c = &s->conf[i];
	uint8_t old_extra = f->extra;
	uint64_t util;

	c->qos = c->next;
	f->pending = 0;
	f->slice_wu = sch__slice_wu(s, c->qos.slice_ns);
	f->period_ns = c->qos.period_ns;
	f->extra = c->qos.extra;
	util = sch__util(&c->qos);
	s->reserved -= c->reserved - util;
	c->reserved = util;
	if (is_backlogged(f) && old_extra != f->extra) {
		if (f->extra)
			sch__extra_add(s, i);
		else
			sch__extra_del(s, i);
	}
}

int
sch_flow_set_qos(struct sch *s, uint32_t flow, const struct sch_qos *q)
{
	struct sch_flow *f;
	struct sch_flow_conf *c;
	uint64_t hold;

	if (!flow_valid(s, flow) || !q || !qos_valid(s, q))
		return -EINVAL;
	f = &s->flows[flow];
	c = &s->conf[flow];
	if (f->state == SCH_S_FREE)
		return -ENOENT;
	hold = sch__util(q);
	if (hold < sch__util(&c->qos))
		hold = sch__util(&c->qos);
	if (s->reserved - c->reserved + hold > SCH_UTIL_ONE)
		return -ENOSPC;

	c->next = *q;
	s->reserved += hold - c->reserved;
	c->reserved = hold;
	if (f->slice_wu != 0) {
		/*
		 * Applied at the next period boundary (atropos.c), which a flow
		 * rolled early (waiting in a tagged lane) has not reached yet:
		 * undo that roll, so that the boundary applies the change.
		 */
		f->pending = 1;
		sch__unroll_early(s, flow);
		return 0;
	}
	/* A best-effort flow has no period to wait for. */
	sch__qos_apply(s, flow);
	if (f->state == SCH_S_BEST_EFFORT && f->slice_wu != 0)
		sch__period_start(s, flow, s->now);
	return 0;
}

int
sch_flow_stats(const struct sch *s, uint32_t flow, struct sch_flow_stats *st)
{
	const struct sch_flow_ctr *c;

	if (!flow_valid(s, flow) || !st)
		return -EINVAL;
	if (s->flows[flow].state == SCH_S_FREE)
		return -ENOENT;
	c = &s->flows[flow].ctr;
	*st = (struct sch_flow_stats){
	    .bytes = c->bytes,
	    .frames = c->frames,
	    .wire_ns = sch__wu_to_ns(s, c->wire_wu),
	    .slack_ns = sch__wu_to_ns(s, c->slack_wu),
	    .wait_ns = c->wait_ns,
	    /* Periods rolled early but not yet ended are not counted. */
	    .periods = c->periods - sch__periods_ahead(s, flow),
	    .missed = c->missed,
	};
	return 0;
}

void
sch_stats(const struct sch *s, struct sch_stats *st)
{
	*st = (struct sch_stats){
	    .flows = s->n_flows,
	    .backlogged = s->n_backlogged,
	    .decisions = s->decisions,
	    .slack_decisions = s->slack_decisions,
	    .empty = s->empty,
	    .wire_ns = sch__wu_to_ns(s, s->wire_wu),
	    .reserved_ppb = (uint64_t)((u128)s->reserved * NS_PER_S / SCH_UTIL_ONE),
	};
}
