/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sched_scale: nanoseconds per scheduling decision of the Atropos scheduler
 * (sch_dequeue + sch_charge + sch_flow_backlog) with 1, 100, 10,000 and
 * 100,000 backlogged flows, beside a plain FIFO of flow ids (pop, count,
 * push back) over the same flows in the same run. Target (DESIGN.md
 * section 4): cost flat in the number of flows, at most 1.2x growth from 1
 * to 100,000 flows.
 *
 * Set-up: a 10 Gbit/s link on a simulated clock (no sleeping), every flow
 * saturating with 60-byte frames, guaranteed half the link in total (slices
 * of 5 ms/N per 10 ms) with the extra flag set, so decisions mix the
 * earliest-deadline path, period rollovers and the slack ring. Flows become
 * backlogged in a shuffled order, so successive decisions touch flow
 * records scattered through memory, as real flows would.
 *
 * The headline workload starts every flow at the same instant, so all
 * deadlines share one calendar slot and every period boundary rolls all the
 * flows at once: the hard case. A second workload ("staggered" in the
 * report's params) starts the flows one after another over the first
 * period, as a population of flows arriving over time does, which spreads
 * their deadlines over the calendar.
 *
 * Every workload is set up first; then the rounds of all of them are run
 * in turn (round 1 of each, round 2 of each, ...), and each reports its
 * best round. The machine this runs on changes speed by up to 1.7x from
 * one second to the next (a shared VM), so measuring one flow count after
 * the other compared one flow count on a fast machine with another on a
 * slow one; interleaved, every ratio compares rounds run moments apart.
 *
 * Two more workloads per count ("paper_period" in params, synchronised
 * and staggered) use the paper's 100 ms periods. With 10 ms, 100,000 flows
 * get slices of 50 ns, shorter than one 67.2 ns frame, so every guaranteed
 * frame ends a slice (and puts the flow in debt) while with 1 flow none
 * does: the headline's growth mixes the number of flows with that change
 * of regime. With 100 ms the slices stay at 7.4 frames or more at every
 * count. Reported beside the headline, which stays the harder case until
 * the project decides which regime the target is about (docs/sched.md).
 *
 * A control beside it ("fast_link" in params): the headline's 10 ms
 * periods and 1 and 100,000 flows on a 100 Gbit/s link, where the same
 * 50 ns slices hold 7.4 minimum frames: same flows, same periods, same
 * slices in time, only the frame is shorter than the slice again.
 *
 * A diagnostic beside the figure ("in_cache_same_regime"): 1,000 flows
 * with 100 us periods. Each flow then has the slice it has with 100,000
 * flows (50 ns, less than one 67.2 ns frame, so every guaranteed frame
 * ends a slice and rolls a period), but all records fit in the caches: the
 * difference between it and 1 flow is the work of that regime, the
 * difference between it and 100,000 flows is the cost of memory.
 *
 * Usage: sched_scale [--quick] [--out DIR]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_report.h"
#include "common/compiler.h"
#include "sched/sch.h"

#define LINK_BPS     10000000000ull
#define PERIOD_NS    10000000ull
#define FRAME_LEN    60u
#define ROUNDS	     7
#define WARM_TURN_NS 1100000000ull
#define DIAG_FLOWS   1000u
#define DIAG_PERIOD  (PERIOD_NS / 100)
#define PAPER_PERIOD 100000000ull
#define FAST_LINK    100000000000ull

static const uint32_t counts[] = {1, 100, 10000, 100000};

/* One workload: a scheduler, its clock, and what its rounds measured. */
struct run {
	uint32_t nflows;
	uint64_t period_ns;
	bool stagger;
	uint64_t link_bps; /* 0: LINK_BPS */
	struct sch *s;
	uint64_t now;
	uint64_t best; /* ns of the best round */
	uint64_t empty;
	struct sch_stats st0;
	double ns;
	double slack_share;
};

struct result {
	double sched_ns;
	double staggered_ns;
	double paper_ns;
	double paper_staggered_ns;
	double fifo_ns;
	double slack_share;
	uint64_t empty;
};

/* --quick: fewer decisions, and the short warm-up. */
static bool quick;

/* Keeps the FIFO loop's work observable. */
static volatile uint64_t fifo_sink;

static uint64_t
xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Run @n decisions from *now; returns how many dequeues said -EAGAIN. */
static uint64_t
run_sched(struct sch *s, uint64_t *now, uint64_t n)
{
	uint64_t t = *now, empty = 0;

	for (uint64_t i = 0; i < n;) {
		uint32_t flow;
		uint64_t next;

		if (unlikely(sch_dequeue(s, t, &flow, &next) < 0)) {
			t = next;
			empty++;
			continue;
		}
		sch_charge(s, flow, FRAME_LEN, t);
		sch_flow_backlog(s, flow, FRAME_LEN, t);
		t = next;
		i++;
	}
	*now = t;
	return empty;
}

/*
 * Simulated time each workload runs before it is measured: two periods, so
 * that every flow has rolled over at least once, and at least one turn of
 * the calendar (about 1.07 s with the default configuration), whose memory
 * the kernel hands out as zero pages on first touch: the first turn pays
 * page faults that a running scheduler paid long ago (not with --quick).
 */
static uint64_t
warm_ns(const struct run *r)
{
	uint64_t t = 2 * r->period_ns;

	return quick || t > WARM_TURN_NS ? t : WARM_TURN_NS;
}

/*
 * Set up @r: its flows (slices of half the period over nflows) become
 * backlogged in a shuffled order; with stagger, flow k of that order k
 * periods/nflows late. Then the warm-up (warm_ns()).
 */
static int
run_setup(struct run *r)
{
	uint64_t link = r->link_bps ? r->link_bps : LINK_BPS;
	struct sch_cfg cfg = {.link_bps = link, .max_flows = r->nflows};
	struct sch_qos q = {
	    .period_ns = r->period_ns, .slice_ns = r->period_ns / 2 / r->nflows, .extra = true};
	uint64_t rng = 0x2545f4914f6cdd1dull;
	uint32_t *order;

	r->s = sch_create(&cfg);
	if (!r->s)
		return -errno;
	order = malloc(sizeof(*order) * r->nflows);
	if (!order)
		return -ENOMEM;
	r->now = 1000000;
	r->best = UINT64_MAX;
	for (uint32_t i = 0; i < r->nflows; i++) {
		if (sch_flow_add(r->s, i, &q) < 0)
			abort();
		order[i] = i;
	}
	for (uint32_t i = r->nflows; i > 1; i--) {
		uint32_t j = (uint32_t)(xorshift(&rng) % i);
		uint32_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (uint32_t i = 0; i < r->nflows; i++)
		sch_flow_backlog(r->s, order[i], FRAME_LEN,
		    r->now + (r->stagger ? (uint64_t)i * r->period_ns / r->nflows : 0));
	if (r->stagger)
		r->now += r->period_ns;
	free(order);

	run_sched(r->s, &r->now, warm_ns(r) / sch_wire_ns(link, FRAME_LEN));
	sch_stats(r->s, &r->st0);
	return 0;
}

/* One round of @decisions on @r. */
static void
run_round(struct run *r, uint64_t decisions)
{
	uint64_t t0 = bench_now_ns(), dt;

	r->empty += run_sched(r->s, &r->now, decisions);
	dt = bench_now_ns() - t0;
	if (dt < r->best)
		r->best = dt;
}

static void
run_finish(struct run *r, uint64_t decisions)
{
	struct sch_stats st1;

	sch_stats(r->s, &st1);
	r->ns = (double)r->best / (double)decisions;
	r->slack_share = (double)(st1.slack_decisions - r->st0.slack_decisions) /
			 (double)(st1.decisions - r->st0.decisions);
	sch_destroy(r->s);
	r->s = NULL;
}

/* The anchor: a ring of flow ids; each decision pops one, counts, pushes it back. */
static __attribute__((noinline)) uint64_t
run_fifo(uint32_t *ring, uint32_t mask, uint64_t *bytes, uint64_t *frames, uint64_t *head,
    uint64_t *tail, uint64_t n)
{
	uint64_t h = *head, t = *tail;

	for (uint64_t i = 0; i < n; i++) {
		uint32_t flow = ring[h++ & mask];

		bytes[flow] += FRAME_LEN;
		frames[flow]++;
		ring[t++ & mask] = flow;
	}
	*head = h;
	*tail = t;
	return bytes[ring[h & mask]];
}

static int
bench_fifo(uint32_t nflows, uint64_t decisions, struct result *r)
{
	uint32_t size = 1;
	uint64_t head = 0, tail = nflows, best = UINT64_MAX, rng = 0x2545f4914f6cdd1dull;
	uint32_t *ring;
	uint64_t *bytes, *frames;

	while (size < nflows)
		size <<= 1;
	ring = malloc(sizeof(*ring) * size);
	bytes = calloc(nflows, sizeof(*bytes));
	frames = calloc(nflows, sizeof(*frames));
	if (!ring || !bytes || !frames) {
		free(ring);
		free(bytes);
		free(frames);
		return -ENOMEM;
	}
	/* The same shuffled order as the scheduler's. */
	for (uint32_t i = 0; i < nflows; i++)
		ring[i] = i;
	for (uint32_t i = nflows; i > 1; i--) {
		uint32_t j = (uint32_t)(xorshift(&rng) % i);
		uint32_t t = ring[i - 1];

		ring[i - 1] = ring[j];
		ring[j] = t;
	}
	fifo_sink = run_fifo(ring, size - 1, bytes, frames, &head, &tail, decisions / 4);
	for (int round = 0; round < ROUNDS; round++) {
		uint64_t t0 = bench_now_ns();

		fifo_sink += run_fifo(ring, size - 1, bytes, frames, &head, &tail, decisions);
		uint64_t dt = bench_now_ns() - t0;

		best = dt < best ? dt : best;
	}
	r->fifo_ns = (double)best / (double)decisions;
	free(ring);
	free(bytes);
	free(frames);
	return 0;
}

/* Growth from 1 to 100,000 flows of one series of results. */
#define GROWTH(res, field) ((res)[ARRAY_SIZE(counts) - 1].field / (res)[0].field)

int
main(int argc, char **argv)
{
	enum { PER = 4, NRUNS = PER * ARRAY_SIZE(counts) + 3 };
	uint64_t decisions;
	struct result res[ARRAY_SIZE(counts)];
	struct run runs[NRUNS], *diag = &runs[NRUNS - 3], *fast = &runs[NRUNS - 2];
	json_t *params = json_object(), *sched_ns = json_object(), *fifo_ns = json_object(),
	       *slack = json_object(), *staggered = json_object(), *paper = json_object(),
	       *paper_staggered = json_object();
	char key[16];
	int rc;

	quick = bench_quick(argc, argv);
	decisions = quick ? 300000 : 4000000;

	/* Per count: sync, staggered, both at the paper's period; then the diagnostic. */
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		runs[PER * i] = (struct run){.nflows = counts[i], .period_ns = PERIOD_NS};
		runs[PER * i + 2] = (struct run){.nflows = counts[i], .period_ns = PAPER_PERIOD};
		runs[PER * i + 1] =
		    (struct run){.nflows = counts[i], .period_ns = PERIOD_NS, .stagger = true};
		runs[PER * i + 3] =
		    (struct run){.nflows = counts[i], .period_ns = PAPER_PERIOD, .stagger = true};
	}
	*diag = (struct run){.nflows = DIAG_FLOWS, .period_ns = DIAG_PERIOD};
	fast[0] = (struct run){.nflows = 1, .period_ns = PERIOD_NS, .link_bps = FAST_LINK};
	fast[1] = (struct run){.nflows = counts[ARRAY_SIZE(counts) - 1],
	    .period_ns = PERIOD_NS,
	    .link_bps = FAST_LINK};
	for (int k = 0; k < NRUNS; k++) {
		rc = run_setup(&runs[k]);
		if (rc < 0) {
			fprintf(stderr, "sched_scale: %u flows: error %d\n", runs[k].nflows, rc);
			return 1;
		}
	}
	for (int round = 0; round < ROUNDS; round++)
		for (int k = 0; k < NRUNS; k++)
			run_round(&runs[k], decisions);
	for (int k = 0; k < NRUNS; k++)
		run_finish(&runs[k], decisions);

	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		res[i].sched_ns = runs[PER * i].ns;
		res[i].slack_share = runs[PER * i].slack_share;
		res[i].empty = runs[PER * i].empty;
		res[i].staggered_ns = runs[PER * i + 1].ns;
		res[i].paper_ns = runs[PER * i + 2].ns;
		res[i].paper_staggered_ns = runs[PER * i + 3].ns;
		rc = bench_fifo(counts[i], decisions, &res[i]);
		if (rc < 0) {
			fprintf(stderr, "sched_scale: %u flows: error %d\n", counts[i], rc);
			return 1;
		}
		printf("%7u flows: sched %7.2f ns/decision (slack %4.1f%%, %llu paced waits), "
		       "staggered %7.2f, fifo %6.2f ns/decision\n",
		    counts[i], res[i].sched_ns, 100.0 * res[i].slack_share,
		    (unsigned long long)res[i].empty, res[i].staggered_ns, res[i].fifo_ns);
		snprintf(key, sizeof(key), "%u", counts[i]);
		json_object_set_new(sched_ns, key, json_real(res[i].sched_ns));
		json_object_set_new(staggered, key, json_real(res[i].staggered_ns));
		json_object_set_new(paper, key, json_real(res[i].paper_ns));
		json_object_set_new(paper_staggered, key, json_real(res[i].paper_staggered_ns));
		json_object_set_new(fifo_ns, key, json_real(res[i].fifo_ns));
		json_object_set_new(slack, key, json_real(res[i].slack_share));
	}
	printf("diagnostic: %u flows, %llu us periods (100,000 flows' slices, in cache): "
	       "%.2f ns/decision\n",
	    diag->nflows, (unsigned long long)(diag->period_ns / 1000), diag->ns);
	printf("growth 1 -> 100,000 flows: %.2fx (staggered %.2fx); the paper's %llu ms periods "
	       "(slices of 7.4 frames or more at every count): %.2fx (staggered %.2fx)\n",
	    GROWTH(res, sched_ns), GROWTH(res, staggered_ns),
	    (unsigned long long)(PAPER_PERIOD / 1000000), GROWTH(res, paper_ns),
	    GROWTH(res, paper_staggered_ns));
	json_object_set_new(params, "sched_ns_per_decision", sched_ns);
	json_object_set_new(params, "staggered_sched_ns_per_decision", staggered);
	json_object_set_new(params, "staggered_growth", json_real(GROWTH(res, staggered_ns)));
	json_object_set_new(params, "paper_period_sched_ns_per_decision", paper);
	json_object_set_new(params, "paper_period_ns", json_integer((json_int_t)PAPER_PERIOD));
	json_object_set_new(params, "paper_period_growth", json_real(GROWTH(res, paper_ns)));
	json_object_set_new(
	    params, "paper_period_staggered_sched_ns_per_decision", paper_staggered);
	json_object_set_new(
	    params, "paper_period_staggered_growth", json_real(GROWTH(res, paper_staggered_ns)));
	json_object_set_new(params, "fifo_ns_per_decision", fifo_ns);
	json_object_set_new(params, "slack_share_of_decisions", slack);
	printf("control: the headline's periods and flows on a %llu Gbit/s link, where 100,000 "
	       "flows' 50 ns slices are 7.4 frames: %.2f ns at 1 flow, %.2f at 100,000 (%.2fx)\n",
	    (unsigned long long)(FAST_LINK / 1000000000), fast[0].ns, fast[1].ns,
	    fast[1].ns / fast[0].ns);
	json_object_set_new(params, "fast_link_bps", json_integer((json_int_t)FAST_LINK));
	json_object_set_new(params, "fast_link_sched_ns_per_decision",
	    json_pack("{s:f, s:f}", "1", fast[0].ns, "100000", fast[1].ns));
	json_object_set_new(params, "fast_link_growth", json_real(fast[1].ns / fast[0].ns));
	json_object_set_new(params, "in_cache_same_regime_ns_per_decision", json_real(diag->ns));
	json_object_set_new(params, "in_cache_same_regime_flows", json_integer(DIAG_FLOWS));
	json_object_set_new(
	    params, "in_cache_same_regime_period_ns", json_integer((json_int_t)DIAG_PERIOD));
	json_object_set_new(params, "link_bps", json_integer((json_int_t)LINK_BPS));
	json_object_set_new(params, "period_ns", json_integer((json_int_t)PERIOD_NS));
	json_object_set_new(params, "frame_len", json_integer(FRAME_LEN));
	json_object_set_new(params, "decisions_per_round", json_integer((json_int_t)decisions));
	json_object_set_new(params, "rounds_best_of", json_integer(ROUNDS));
	json_object_set_new(
	    params, "warm_up_ns_at_least", json_integer(quick ? 0 : (json_int_t)WARM_TURN_NS));
	json_object_set_new(params, "rounds_interleaved", json_true());
	json_object_set_new(params, "quick", json_boolean(quick));

	struct bench_report r = {
	    .name = "sched_scale",
	    .unit = "ns/decision",
	    .value = res[ARRAY_SIZE(counts) - 1].sched_ns,
	    .better = "lower",
	    .anchor_name = "sched_1_flow",
	    .anchor_value = res[0].sched_ns,
	    .target = "<= 1.2x growth from 1 to 100,000 flows",
	    .params = params,
	};

	rc = bench_report_write(bench_out_dir(argc, argv), &r);
	json_decref(params);
	if (rc < 0) {
		fprintf(stderr, "sched_scale: writing the report: error %d\n", rc);
		return 1;
	}
	return 0;
}
