/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_sched -- the transmit scheduler under any sequence of the calls the
 * driver and the flow manager make: choices and charges, flows going busy
 * and idle, frames charged out of turn, guarantees changed, flows removed
 * and added back, time jumping forward (and callers passing times that went
 * back). The calendar under it (tombstones, compaction, lanes spliced whole,
 * flows rolled early and the rolls undone) has had bugs that only odd
 * sequences reached (docs/sched.md); this explores them by coverage.
 *
 * Held to the API (sched/sch.h), not to another scheduler:
 *   - every call returns what its arguments and the flows' states say
 *     (-EINVAL, -ENOENT, -EEXIST; -ENOSPC only when the ledger is full);
 *   - a chosen flow is present and has work; next_ns lies ahead;
 *   - the counts of flows and of busy flows, and each flow's frames and
 *     bytes, are what the calls made them;
 *   - the admission ledger never exceeds the link;
 *   - at the end, with at most half the link guaranteed, every flow that
 *     always had the extra flag is chosen again within the calendar's
 *     reach (no flow is lost), and removing every flow leaves nothing.
 *
 * Input: 4 bytes of set-up, then 4 bytes per call (code, flow, argument).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sch.h"

#define MAX_FLOWS 64
#define MAX_OPS	  3000
#define SLOT_NS	  1024ull
#define FRAME_MAX 1514u

struct model {
	struct sch *s;
	uint32_t n;
	uint64_t max_period;
	bool full; /* guarantees may fill the link: no liveness check */
	uint64_t now;
	bool present[MAX_FLOWS];
	bool busy[MAX_FLOWS];
	bool plain[MAX_FLOWS]; /* ever without the extra flag: may rightly wait */
	uint64_t frames[MAX_FLOWS];
	uint64_t bytes[MAX_FLOWS];
};

static void
fail(const char *what, unsigned op, long got)
{
	fprintf(stderr, "fuzz_sched: op %u: %s (got %ld)\n", op, what, got);
	abort();
}

#define CHECK(cond, what, op, got)                   \
	do {                                         \
		if (!(cond))                         \
			fail(what, op, (long)(got)); \
	} while (0)

/* A frame length from @arg: mostly valid, sometimes 0 or too long. */
static uint32_t
frame_len(uint16_t arg)
{
	switch (arg & 15) {
	case 0:
		return 0;
	case 1:
		return FRAME_MAX + 1 + (arg >> 4);
	case 2:
	case 3:
	case 4:
		return 60;
	default:
		return 1 + (arg >> 4) % FRAME_MAX;
	}
}

/* What a call naming flow @i and a frame of @len bytes must return. */
static int
len_rc(const struct model *m, uint32_t i, uint32_t len)
{
	if (len < 1 || len > FRAME_MAX)
		return -EINVAL;
	return m->present[i] ? 0 : -ENOENT;
}

/* A guarantee from @arg: valid ones mostly, slices of less than a frame often. */
static struct sch_qos
make_qos(const struct model *m, uint16_t arg)
{
	const uint64_t periods[8] = {2 * SLOT_NS, 3 * SLOT_NS + 123, 10 * SLOT_NS, 61 * SLOT_NS + 7,
	    200 * SLOT_NS + 5000, m->max_period, m->max_period + 1, SLOT_NS + 17};
	struct sch_qos q = {.period_ns = periods[arg & 7], .extra = (arg >> 3) & 1};
	uint64_t span = m->full ? q.period_ns : q.period_ns / 2 / m->n;

	switch ((arg >> 4) & 3) {
	case 0: /* best effort, or (without extra) an invalid one */
		q.slice_ns = 0;
		break;
	case 1: /* tiny: under a minimum frame at 10 Gbit/s */
		q.slice_ns = 1 + (arg >> 6) % 60;
		if (q.slice_ns > span)
			q.slice_ns = span;
		break;
	default:
		q.slice_ns = span ? 1 + ((uint64_t)(arg >> 6) * span) / 1024 % span : 0;
		break;
	}
	if (q.slice_ns == 0 && (arg >> 6) % 16 == 0)
		q.slice_ns = q.period_ns + 1; /* invalid: more than the period */
	return q;
}

static bool
qos_ok(const struct model *m, const struct sch_qos *q)
{
	if (q->slice_ns == 0)
		return q->extra;
	return q->period_ns >= 2 * SLOT_NS && q->period_ns <= m->max_period &&
	       q->slice_ns <= q->period_ns;
}

/*
 * -ENOSPC for @q is right only if the ledger had no room for it: the
 * ledger plus its share over the link (a change holds the larger of the old
 * and new shares, so it is refused only if the new one does not fit).
 */
static void
check_refusal(const struct sch_stats *before, const struct sch_qos *q, unsigned op)
{
	double share = (double)q->slice_ns / (double)q->period_ns;

	CHECK((double)before->reserved_ppb / 1e9 + share > 0.999999, "refused with room", op,
	    before->reserved_ppb);
}

static void
check_counts(struct model *m, unsigned op)
{
	struct sch_stats st;
	uint32_t present = 0, busy = 0;

	for (uint32_t i = 0; i < m->n; i++) {
		present += m->present[i];
		busy += m->present[i] && m->busy[i];
	}
	sch_stats(m->s, &st);
	CHECK(st.flows == present, "flows counted", op, st.flows);
	CHECK(st.backlogged == busy, "busy flows counted", op, st.backlogged);
	/* Each flow's share is rounded up to a part per 1e9 at most. */
	CHECK(st.reserved_ppb <= 1000000000ull + MAX_FLOWS, "ledger over the link", op,
	    st.reserved_ppb);
}

static void
check_flows(struct model *m, unsigned op)
{
	for (uint32_t i = 0; i < m->n; i++) {
		struct sch_flow_stats fs;
		int rc = sch_flow_stats(m->s, i, &fs);

		if (!m->present[i]) {
			CHECK(rc == -ENOENT, "stats of an absent flow", op, rc);
			continue;
		}
		CHECK(rc == 0, "stats of a flow", op, rc);
		CHECK(fs.frames == m->frames[i], "frames counted", op, fs.frames);
		CHECK(fs.bytes == m->bytes[i], "bytes counted", op, fs.bytes);
		CHECK(fs.slack_ns <= fs.wire_ns, "slack within the wire time", op, fs.slack_ns);
	}
}

static void
charged(struct model *m, uint32_t i, uint32_t len)
{
	m->frames[i]++;
	m->bytes[i] += len;
}

/* One choice at the model's time; the chosen flow sends, then has work or not. */
static void
serve(struct model *m, unsigned op, uint16_t arg)
{
	uint32_t flow = UINT32_MAX, len = 60 + arg % (FRAME_MAX - 59);
	uint64_t next = 0;
	int rc = sch_dequeue(m->s, m->now, &flow, &next);

	if (rc == -EAGAIN) {
		CHECK(next > m->now, "nothing to send until a time past", op, next);
		m->now = next == UINT64_MAX ? m->now + 10000 : next;
		return;
	}
	CHECK(rc == 0, "dequeue", op, rc);
	CHECK(flow < m->n && m->present[flow] && m->busy[flow], "chose a flow without work", op,
	    flow);
	CHECK(next > m->now, "the chosen frame ends in the past", op, next);
	rc = sch_charge(m->s, flow, len, m->now);
	CHECK(rc == 0, "charge the chosen flow", op, rc);
	charged(m, flow, len);
	if (arg >> 15) {
		rc = sch_flow_idle(m->s, flow, m->now);
		CHECK(rc == 0, "idle the chosen flow", op, rc);
		m->busy[flow] = false;
	} else {
		rc = sch_flow_backlog(m->s, flow, len, m->now);
		CHECK(rc == 0, "re-backlog the chosen flow", op, rc);
	}
	m->now = next;
}

static void
add_or_remove(struct model *m, unsigned op, uint32_t i, uint16_t arg)
{
	struct sch_qos q = make_qos(m, arg);
	struct sch_stats st;
	int rc;

	if (m->present[i] && (arg >> 15)) {
		/* Added twice: refused, and the flow is as it was. */
		rc = sch_flow_add(m->s, i, &q);
		CHECK(rc == (qos_ok(m, &q) ? -EEXIST : -EINVAL), "add a present flow", op, rc);
		return;
	}
	if (m->present[i]) {
		rc = sch_flow_remove(m->s, i);
		CHECK(rc == 0, "remove", op, rc);
		m->present[i] = m->busy[i] = false;
		return;
	}
	sch_stats(m->s, &st);
	rc = sch_flow_add(m->s, i, &q);
	if (!qos_ok(m, &q)) {
		CHECK(rc == -EINVAL, "add with a bad guarantee", op, rc);
		return;
	}
	if (rc == -ENOSPC) {
		check_refusal(&st, &q, op);
		return;
	}
	CHECK(rc == 0, "add", op, rc);
	m->present[i] = true;
	m->busy[i] = false;
	m->plain[i] = !q.extra;
	m->frames[i] = m->bytes[i] = 0;
}

static void
set_qos(struct model *m, unsigned op, uint32_t i, uint16_t arg)
{
	struct sch_qos q = make_qos(m, arg);
	struct sch_stats st;
	int rc;

	sch_stats(m->s, &st);
	rc = sch_flow_set_qos(m->s, i, &q);
	if (!qos_ok(m, &q)) {
		CHECK(rc == -EINVAL, "change to a bad guarantee", op, rc);
		return;
	}
	if (!m->present[i]) {
		CHECK(rc == -ENOENT, "change an absent flow", op, rc);
		return;
	}
	CHECK(rc == 0 || rc == -ENOSPC, "change", op, rc);
	if (rc == -ENOSPC)
		check_refusal(&st, &q, op);
	if (rc == 0 && !q.extra)
		m->plain[i] = true;
}

static void
step(struct model *m, unsigned op, const uint8_t *p)
{
	uint32_t i = p[1] % m->n, len;
	uint16_t arg = (uint16_t)(p[2] | p[3] << 8);
	int rc;

	switch (p[0] % 12) {
	case 0:
	case 1:
	case 2:
	case 3:
		serve(m, op, arg);
		break;
	case 4:
		len = frame_len(arg);
		rc = sch_flow_backlog(m->s, i, len, m->now);
		CHECK(rc == len_rc(m, i, len), "backlog", op, rc);
		if (rc == 0)
			m->busy[i] = true;
		break;
	case 5:
		rc = sch_flow_idle(m->s, i, m->now);
		CHECK(rc == (m->present[i] ? 0 : -ENOENT), "idle", op, rc);
		m->busy[i] = false;
		break;
	case 6:
		/* Sent without being chosen: the link carries it all the same. */
		len = frame_len(arg);
		rc = sch_charge(m->s, i, len, m->now);
		CHECK(rc == len_rc(m, i, len), "charge out of turn", op, rc);
		if (rc == 0)
			charged(m, i, len);
		break;
	case 7:
		set_qos(m, op, i, arg);
		break;
	case 8:
		add_or_remove(m, op, i, arg);
		break;
	case 9:
		/* Time passes: a little, or many periods. */
		m->now += arg & 1 ? (uint64_t)arg << 12 : arg;
		break;
	case 10: {
		/* A caller whose clock is behind: the scheduler's time stands. */
		uint32_t flow;
		uint64_t next;

		rc = sch_dequeue(m->s, m->now > arg ? m->now - arg : 0, &flow, &next);
		CHECK(rc == 0 || rc == -EAGAIN, "dequeue with an old time", op, rc);
		if (rc == 0)
			CHECK(flow < m->n && m->present[flow] && m->busy[flow],
			    "chose a flow without work (old time)", op, flow);
		break;
	}
	default:
		check_flows(m, op);
		break;
	}
	check_counts(m, op);
}

/* Every flow with work that always had the extra flag is chosen again: none is lost. */
static void
check_live(struct model *m)
{
	bool seen[MAX_FLOWS] = {false};
	uint32_t left = 0;
	uint64_t end;

	for (uint32_t i = 0; i < m->n; i++) {
		if (!m->present[i])
			continue;
		if (sch_flow_backlog(m->s, i, 60, m->now) != 0)
			fail("backlog at the end", MAX_OPS, (long)i);
		m->busy[i] = true;
		if (!m->plain[i])
			left++;
	}
	/* Debt can hold a flow back for many periods: give it the calendar's reach. */
	end = m->now + 16 * (m->max_period + 4 * SLOT_NS);
	while (left > 0 && m->now < end) {
		uint32_t flow;
		uint64_t next;

		if (sch_dequeue(m->s, m->now, &flow, &next) == 0) {
			if (sch_charge(m->s, flow, 60, m->now) != 0 ||
			    sch_flow_backlog(m->s, flow, 60, m->now) != 0)
				fail("serve at the end", MAX_OPS, (long)flow);
			charged(m, flow, 60);
			if (!seen[flow] && !m->plain[flow]) {
				seen[flow] = true;
				left--;
			}
		}
		m->now = next == UINT64_MAX ? m->now + 10000 : next;
	}
	CHECK(left == 0, "flows never chosen again", MAX_OPS, left);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t links[4] = {
	    100000000ull, 1000000000ull, 10000000000ull, 2500000000ull};
	struct model m = {0};
	struct sch_cfg cfg = {0};
	unsigned ops;

	if (size < 4)
		return 0;
	m.n = 2 + data[0] % (MAX_FLOWS - 1);
	m.max_period = data[1] & 1 ? 1ull << 22 : 1ull << 20;
	m.full = (data[1] >> 1) & 1;
	cfg = (struct sch_cfg){.link_bps = links[(data[1] >> 2) & 3],
	    .max_flows = m.n,
	    .max_frame_len = FRAME_MAX,
	    .max_period_ns = m.max_period,
	    .slot_ns = SLOT_NS,
	    .catchup_ns = data[2] & 1 ? 1 : 0};
	m.now = 1000000 + data[3];
	m.s = sch_create(&cfg);
	if (!m.s)
		fail("create", 0, 0);
	/* Every flow starts with a guarantee, as the flow manager adds them. */
	for (uint32_t i = 0; i < m.n; i++)
		add_or_remove(&m, 0, i, (uint16_t)(data[(4 + i) % size] * 257u + i));

	ops = (unsigned)((size - 4) / 4);
	if (ops > MAX_OPS)
		ops = MAX_OPS;
	for (unsigned op = 0; op < ops; op++)
		step(&m, op + 1, data + 4 + 4 * op);
	check_flows(&m, ops + 1);
	if (!m.full)
		check_live(&m);
	check_flows(&m, ops + 2);

	for (uint32_t i = 0; i < m.n; i++)
		if (m.present[i] && sch_flow_remove(m.s, i) != 0)
			fail("remove at the end", ops + 3, (long)i);
	memset(m.present, 0, sizeof(m.present));
	check_counts(&m, ops + 3);
	{
		struct sch_stats st;

		sch_stats(m.s, &st);
		CHECK(st.reserved_ppb == 0, "ledger empty at the end", ops + 3, st.reserved_ppb);
	}
	sch_destroy(m.s);
	return 0;
}
