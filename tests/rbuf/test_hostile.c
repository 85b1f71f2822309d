/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A hostile peer. The victim is a well-behaved handle (the driver's side);
 * the attacker writes the shared control area directly, as a compromised
 * application could. Objectives:
 *
 *   1. every bad iorec is dropped and counted under its own cause, and the
 *      good records around it arrive in order and intact;
 *   2. event counts that claim more than a ring holds (in either direction)
 *      are refused and counted, and the victim neither reads nor writes
 *      outside its rings;
 *   3. a million random writes anywhere in the control area, interleaved
 *      with the victim's calls, never make it crash, spin, block or hand out
 *      a record outside the data area, and its accounting stays exact;
 *   4. the same while another thread rewrites the slots concurrently (the
 *      victim reads each slot once, then checks its private copy);
 *   5. when the peer behaves again, records flow again.
 *
 * Every piece the victim hands out is read in full: the data area is mapped
 * with a guard page after it, so a bad bound would fault (and ASan watches
 * the private side).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tests/rbuf/chan_pair.h"

#define N_RECS	   256
#define MAX_PIECES 3
#define ALIGN	   8
#define DATA_SIZE  65536
#define SEED	   0x5eed5eedcafef00dull

static const struct rbuf_chan_cfg cfg = {
    .mode = RBUF_MODE_TMM,
    .n_recs = N_RECS,
    .max_pieces = MAX_PIECES,
    .align = ALIGN,
    .data_size = DATA_SIZE,
};

/* The attacker's raw view of one ring, through its own mapping. */
struct raw_ring {
	struct rbuf_shm_ring *r;
	uint8_t *slots;
	uint32_t prod; /* what it means to publish next */
};

struct world {
	struct rbuf_chan *attacker; /* the creator: its handle only holds fds */
	struct rbuf_chan *victim;   /* the receiver, as the driver would be */
	uint8_t *ctrl;
	size_t ctrl_size;
	struct raw_ring full;	     /* attacker produces, victim consumes */
	struct rbuf_shm_ring *empty; /* victim produces, attacker consumes */
	struct rbuf_shm_hdr hdr;     /* as created, to repair it */
};

static void
world_open(struct world *w)
{
	struct rbuf_chan_fds fds;

	memset(w, 0, sizeof(*w));
	w->attacker = rbuf_chan_create(&cfg, RBUF_SIDE_SENDER);
	assert_non_null(w->attacker);
	assert_int_equal(rbuf_chan_peer_fds(w->attacker, &fds), 0);
	w->victim = rbuf_chan_attach(&cfg, RBUF_SIDE_RECEIVER, &fds);
	assert_non_null(w->victim);
	w->ctrl = rbuf__ctrl_base(w->attacker, &w->ctrl_size);
	w->full.r = (struct rbuf_shm_ring *)(void *)(w->ctrl + rbuf_shm_ring_off(N_RECS, MAX_PIECES,
								   RBUF_RING_FULL));
	w->full.slots = (uint8_t *)w->full.r + RBUF_SHM_SLOTS_OFF;
	w->empty = (struct rbuf_shm_ring *)(void *)(w->ctrl + rbuf_shm_ring_off(N_RECS, MAX_PIECES,
								  RBUF_RING_EMPTY));
	memcpy(&w->hdr, w->ctrl, sizeof(w->hdr));
	for (size_t i = 0; i < DATA_SIZE; i++)
		rbuf_data(w->attacker)[i] = (uint8_t)(i * 7 + 1);
}

static void
world_close(struct world *w)
{
	rbuf_chan_destroy(w->victim);
	rbuf_chan_destroy(w->attacker);
}

/* Write a slot as the attacker wants it, whatever n_pieces says. */
static void
raw_write(struct raw_ring *rr, const struct rbuf_iorec *rec)
{
	uint8_t *s = rr->slots + (size_t)(rr->prod & (N_RECS - 1)) * rbuf_shm_slot_size(MAX_PIECES);

	memcpy(s, rec, rbuf_shm_slot_size(MAX_PIECES));
	rr->prod++;
}

static void
raw_publish(struct raw_ring *rr)
{
	atomic_store_explicit(&rr->r->prod, rr->prod, memory_order_release);
}

/* Check a record the victim handed out without trusting the library, and
 * read every byte of it. Returns a sum so the reads are not optimised out. */
static uint64_t
touch_record(struct rbuf_chan *ch, const struct rbuf_iorec *r)
{
	uint64_t sum = 0;

	assert_true(r->n_pieces >= 1 && r->n_pieces <= MAX_PIECES);
	for (unsigned i = 0; i < r->n_pieces; i++) {
		const uint8_t *b = rbuf_piece_ptr(ch, &r->piece[i]);

		assert_true(r->piece[i].len > 0);
		assert_true((uint64_t)r->piece[i].off + r->piece[i].len <= DATA_SIZE);
		assert_int_equal(r->piece[i].off % ALIGN, 0);
		for (uint32_t k = 0; k < r->piece[i].len; k += 64)
			sum += b[k];
		sum += b[r->piece[i].len - 1];
	}
	return sum;
}

/* The kinds of record the attacker sends in the structured phase. */
enum kind {
	K_GOOD,
	K_ZERO_PIECES,
	K_TOO_MANY_PIECES,
	K_HUGE_PIECES,
	K_UNALIGNED,
	K_ZERO_LEN,
	K_OFF_PAST_END,
	K_LEN_PAST_END,
	K_WRAPS_32_BITS,
	K_LEN_ALL_ONES,
	K_BAD_MIDDLE_PIECE,
	K_MAX
};

static const enum rbuf_err kind_err[K_MAX] = {
    [K_ZERO_PIECES] = RBUF_ERR_BAD_NPIECES,
    [K_TOO_MANY_PIECES] = RBUF_ERR_BAD_NPIECES,
    [K_HUGE_PIECES] = RBUF_ERR_BAD_NPIECES,
    [K_UNALIGNED] = RBUF_ERR_BAD_ALIGN,
    [K_ZERO_LEN] = RBUF_ERR_BAD_LEN,
    [K_OFF_PAST_END] = RBUF_ERR_BAD_RANGE,
    [K_LEN_PAST_END] = RBUF_ERR_BAD_RANGE,
    [K_WRAPS_32_BITS] = RBUF_ERR_BAD_RANGE,
    [K_LEN_ALL_ONES] = RBUF_ERR_BAD_RANGE,
    [K_BAD_MIDDLE_PIECE] = RBUF_ERR_BAD_RANGE,
};

static struct rbuf_iorec
make_record(enum kind k, uint32_t tag, uint64_t *rng)
{
	struct rbuf_iorec r;
	uint32_t off = (uint32_t)(rng_next(rng) % (DATA_SIZE / ALIGN / 2)) * ALIGN;

	memset(&r, 0, sizeof(r));
	r.tag = tag;
	r.n_pieces = 1;
	r.piece[0].off = off;
	r.piece[0].len = 1 + (uint32_t)(rng_next(rng) % 1500);
	switch (k) {
	case K_GOOD:
		r.n_pieces = (uint16_t)(1 + rng_next(rng) % MAX_PIECES);
		for (unsigned i = 1; i < r.n_pieces; i++) {
			r.piece[i].off =
			    (uint32_t)(rng_next(rng) % (DATA_SIZE / 2 / ALIGN)) * ALIGN;
			r.piece[i].len = 1 + (uint32_t)(rng_next(rng) % 2048);
		}
		break;
	case K_ZERO_PIECES:
		r.n_pieces = 0;
		break;
	case K_TOO_MANY_PIECES:
		r.n_pieces = MAX_PIECES + 1;
		break;
	case K_HUGE_PIECES:
		r.n_pieces = 0xffff;
		break;
	case K_UNALIGNED:
		r.piece[0].off |= 1 + (uint32_t)(rng_next(rng) % (ALIGN - 1));
		break;
	case K_ZERO_LEN:
		r.piece[0].len = 0;
		break;
	case K_OFF_PAST_END:
		r.piece[0].off = DATA_SIZE + (uint32_t)(rng_next(rng) % 1000) * ALIGN;
		break;
	case K_LEN_PAST_END:
		r.piece[0].off = DATA_SIZE - 64;
		r.piece[0].len = 65;
		break;
	case K_WRAPS_32_BITS:
		r.piece[0].off = 0xfffffff8u;
		r.piece[0].len = 0x10;
		break;
	case K_LEN_ALL_ONES:
		r.piece[0].off = 0;
		r.piece[0].len = 0xffffffffu;
		break;
	case K_BAD_MIDDLE_PIECE:
		r.n_pieces = 3;
		r.piece[1].off = 0;
		r.piece[1].len = DATA_SIZE + 1;
		r.piece[2].off = 0;
		r.piece[2].len = 1;
		break;
	case K_MAX:
		break;
	}
	return r;
}

/* Drain the victim; check good records arrive in order. */
static void
victim_drain(struct world *w, uint32_t *next_good, uint64_t *sum)
{
	struct rbuf_iorec out[32];
	unsigned n;

	while ((n = rbuf_get_burst(w->victim, out, 32)) > 0 || rbuf_avail(w->victim) > 0) {
		for (unsigned i = 0; i < n; i++) {
			assert_int_equal(out[i].tag, *next_good);
			(*next_good)++;
			*sum += touch_record(w->victim, &out[i]);
		}
	}
}

static void
test_every_bad_iorec_is_dropped_and_counted_and_good_ones_flow(void **state)
{
	uint64_t expect[RBUF_ERR_MAX] = {0}, rng = SEED, sum = 0;
	uint32_t good_sent = 0, next_good = 0;
	const unsigned total = 1000000;
	struct rbuf_stats st;
	struct world w;
	(void)state;

	world_open(&w);
	for (unsigned sent = 0; sent < total;) {
		uint32_t cons = atomic_load(&w.full.r->cons);
		unsigned room = N_RECS - (w.full.prod - cons);
		unsigned batch = 1 + (unsigned)(rng_next(&rng) % N_RECS);

		if (batch > room)
			batch = room;
		if (batch > total - sent)
			batch = total - sent;
		for (unsigned i = 0; i < batch; i++) {
			/* 60% good, the rest spread over every kind of bad. */
			uint64_t dice = rng_next(&rng) % 100;
			enum kind k = dice < 60 ? K_GOOD : (enum kind)(1 + dice % (K_MAX - 1));
			struct rbuf_iorec r =
			    make_record(k, k == K_GOOD ? good_sent : 0xdead, &rng);

			if (k == K_GOOD)
				good_sent++;
			else
				expect[kind_err[k]]++;
			raw_write(&w.full, &r);
		}
		raw_publish(&w.full);
		sent += batch;
		victim_drain(&w, &next_good, &sum);
	}
	rbuf_chan_stats(w.victim, &st);
	assert_int_equal(next_good, good_sent);
	assert_int_equal(st.got, good_sent);
	assert_int_equal(st.dropped, total - good_sent);
	for (int e = 0; e < RBUF_ERR_MAX; e++)
		assert_int_equal(st.err[e], expect[e]);
	assert_true(expect[RBUF_ERR_BAD_NPIECES] > 10000 && expect[RBUF_ERR_BAD_RANGE] > 10000);
	print_message(
	    "  %u records, %u good, sum %llu\n", total, good_sent, (unsigned long long)sum);
	world_close(&w);
}

static void
test_event_counts_beyond_the_ring_are_refused_both_ways(void **state)
{
	static const uint32_t bad_ahead[] = {N_RECS + 1, N_RECS * 2, 0x80000000u, 0xffffffffu};
	struct rbuf_iorec r[N_RECS];
	struct rbuf_stats st;
	uint32_t cons;
	struct world w;
	(void)state;

	world_open(&w);
	/* The consumer side: prod claims more than a ring, or runs backwards. */
	for (unsigned i = 0; i < ARRAY_SIZE(bad_ahead); i++) {
		atomic_store(&w.full.r->prod, bad_ahead[i]);
		assert_int_equal(rbuf_avail(w.victim), 0);
		assert_int_equal(rbuf_get_burst(w.victim, r, N_RECS), 0);
		assert_int_equal(rbuf_get_bulk(w.victim, r, 1), 0);
		assert_false(rbuf_ec_prepare(w.victim) && rbuf_avail(w.victim));
	}
	rbuf_chan_stats(w.victim, &st);
	assert_true(st.err[RBUF_ERR_BAD_INDEX] >= 4 * ARRAY_SIZE(bad_ahead));
	assert_int_equal(st.got + st.dropped, 0);

	/* Exactly a full ring is a legal claim: all of it is checked. */
	for (unsigned i = 0; i < N_RECS; i++) {
		struct rbuf_iorec g = rec1(i * ALIGN, 8, i);

		raw_write(&w.full, &g);
	}
	raw_publish(&w.full);
	assert_int_equal(rbuf_get_burst(w.victim, r, N_RECS), N_RECS);
	for (unsigned i = 0; i < N_RECS; i++)
		assert_int_equal(r[i].tag, i);

	/* The producer side: the victim returns buffers on EMPTY, the attacker
	 * consumes and lies about cons. A lie is seen when the victim needs
	 * to look, i.e. once the room it knew of is used up. */
	assert_int_equal(rbuf_put_burst(w.victim, r, N_RECS), N_RECS);
	cons = atomic_load(&w.empty->cons);
	atomic_store(&w.empty->cons, cons + N_RECS + 1); /* consumed more than was put */
	assert_int_equal(rbuf_room(w.victim), 0);
	assert_int_equal(rbuf_put_burst(w.victim, r, 1), 0);
	atomic_store(&w.empty->cons, cons - 1); /* ran backwards */
	assert_int_equal(rbuf_put_bulk(w.victim, r, 1), 0);
	rbuf_chan_stats(w.victim, &st);
	assert_int_equal(st.put, N_RECS);
	assert_true(st.err[RBUF_ERR_BAD_INDEX] >= 4 * ARRAY_SIZE(bad_ahead) + 3);

	/* Honest again: both directions work. */
	atomic_store(&w.empty->cons, cons);
	assert_int_equal(rbuf_room(w.victim), 0);
	atomic_store(&w.empty->cons, cons + N_RECS);
	assert_int_equal(rbuf_room(w.victim), N_RECS);
	assert_int_equal(rbuf_put_burst(w.victim, r, 3), 3);
	{
		struct rbuf_iorec g = rec1(0, 8, 77);

		raw_write(&w.full, &g);
		raw_publish(&w.full);
		assert_int_equal(rbuf_get_burst(w.victim, r, 4), 1);
		assert_int_equal(r[0].tag, 77);
	}
	world_close(&w);
}

/* One victim call, chosen at random, with its accounting checked. */
static void
victim_step(struct world *w, uint64_t *rng, uint32_t *known_cons, uint64_t *sum)
{
	struct rbuf_iorec out[32];
	struct rbuf_stats before, after;
	unsigned n;

	switch (rng_next(rng) % 6) {
	case 0:
	case 1:
		rbuf_chan_stats(w->victim, &before);
		n = rbuf_get_burst(w->victim, out, 1 + (unsigned)(rng_next(rng) % 32));
		rbuf_chan_stats(w->victim, &after);
		for (unsigned i = 0; i < n; i++)
			*sum += touch_record(w->victim, &out[i]);
		assert_int_equal(after.got - before.got, n);
		if (n + (after.dropped - before.dropped) > 0) {
			/* The victim just stored its cons; nothing ran since. */
			uint32_t c = atomic_load(&w->full.r->cons);

			assert_int_equal(c - *known_cons, n + (after.dropped - before.dropped));
			*known_cons = c;
		}
		break;
	case 2: {
		unsigned k = 1 + (unsigned)(rng_next(rng) % 8);

		for (unsigned i = 0; i < k; i++)
			out[i] = rec1((uint32_t)i * 2048, 64, i);
		n = rbuf_put_burst(w->victim, out, k);
		assert_true(n <= k);
		break;
	}
	case 3:
		assert_true(rbuf_avail(w->victim) <= N_RECS);
		assert_true(rbuf_room(w->victim) <= N_RECS);
		break;
	case 4:
		(void)rbuf_ec_prepare(w->victim);
		assert_true(rbuf_ec_drain(w->victim) == 0);
		break;
	case 5:
		rbuf_chan_republish(w->victim);
		*known_cons = atomic_load(&w->full.r->cons);
		break;
	}
}

static void
test_a_million_random_writes_never_break_the_victim(void **state)
{
	uint64_t rng = SEED ^ 0x1234, sum = 0;
	const unsigned mutations = 1000000;
	uint32_t known_cons = 0;
	struct rbuf_stats st;
	struct world w;
	(void)state;

	world_open(&w);
	for (unsigned m = 0; m < mutations; m++) {
		uint64_t x = rng_next(&rng);
		size_t off;

		/* Aim most writes where they hurt: the indices and the slots of
		 * the ring the victim consumes; the rest anywhere. */
		switch (x % 8) {
		case 0:
			atomic_store(&w.full.r->prod, (uint32_t)(x >> 32));
			break;
		case 1:
			/* A plausible prod: within or just beyond a ring. */
			atomic_store(
			    &w.full.r->prod, known_cons + (uint32_t)((x >> 32) % (2 * N_RECS + 2)));
			break;
		case 2:
		case 3:
			off =
			    (size_t)((x >> 16) % (N_RECS * rbuf_shm_slot_size(MAX_PIECES) / 4)) * 4;
			memcpy(w.full.slots + off, &(uint32_t){(uint32_t)(x >> 40)}, 4);
			break;
		case 4:
			off = (size_t)((x >> 16) % (w.ctrl_size / 4)) * 4;
			memcpy(w.ctrl + off, &(uint32_t){(uint32_t)(x >> 32)}, 4);
			break;
		case 5:
		case 6: {
			/* A burst of good records, where the victim will look. */
			unsigned k = 1 + (unsigned)((x >> 8) % 16);

			w.full.prod = known_cons;
			for (unsigned i = 0; i < k; i++) {
				struct rbuf_iorec g = make_record(K_GOOD, i, &rng);

				raw_write(&w.full, &g);
			}
			raw_publish(&w.full);
			break;
		}
		case 7:
			/* Take back every returned buffer and announce a sleep: the
			 * victim's next put kicks a queue nobody drains. */
			atomic_store(&w.empty->cons, atomic_load(&w.empty->prod));
			atomic_fetch_add(&w.empty->sleep_seq, 1);
			break;
		}
		victim_step(&w, &rng, &known_cons, &sum);
	}
	rbuf_chan_stats(w.victim, &st);
	print_message("  got %llu dropped %llu bad-index %llu kicks %llu\n",
	    (unsigned long long)st.got, (unsigned long long)st.dropped,
	    (unsigned long long)st.err[RBUF_ERR_BAD_INDEX], (unsigned long long)st.kicks);
	assert_true(st.got > 1000);
	assert_true(st.dropped > 1000);
	assert_true(st.err[RBUF_ERR_BAD_INDEX] > 1000);
	/* More kicks than the queue holds were attempted, and none blocked. */
	assert_true(st.kicks > 10);

	/* The attacker comes back honest: it repairs the header and the counts
	 * it owns and attaches a fresh handle; the victim republishes its own.
	 * (The victim never read the header again after its own attach.) */
	memcpy(w.ctrl, &w.hdr, sizeof(w.hdr));
	rbuf_chan_republish(w.victim);
	atomic_store(&w.full.r->prod, atomic_load(&w.full.r->cons));
	atomic_store(&w.empty->cons, atomic_load(&w.empty->prod));
	{
		struct rbuf_chan_fds fds;
		struct rbuf_chan *honest;
		struct rbuf_iorec r[16];
		uint32_t next = 0;

		assert_int_equal(rbuf_chan_peer_fds(w.attacker, &fds), 0);
		honest = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds);
		if (!honest)
			fail_msg("re-attach: %s", rbuf_errmsg());
		for (uint32_t i = 0; i < 1000; i++) {
			struct rbuf_iorec g = rec1((i % 64) * 512, 512, i);

			assert_int_equal(rbuf_put_burst(honest, &g, 1), 1);
			if (i % 16 == 15) {
				unsigned n = rbuf_get_burst(w.victim, r, 16);

				assert_int_equal(n, 16);
				for (unsigned k = 0; k < n; k++)
					assert_int_equal(r[k].tag, next++);
			}
		}
		rbuf_chan_destroy(honest);
	}
	world_close(&w);
}

struct mutator {
	struct world *w;
	atomic_bool stop;
	uint64_t writes;
};

static void *
mutator_main(void *arg)
{
	struct mutator *m = arg;
	uint64_t rng = SEED ^ 0xabcdef;
	size_t span = N_RECS * rbuf_shm_slot_size(MAX_PIECES) / 4;

	while (!atomic_load_explicit(&m->stop, memory_order_relaxed)) {
		uint64_t x = rng_next(&rng);
		size_t off = (size_t)((x >> 8) % span) * 4;
		unsigned dice = (unsigned)(x % 10);

		/* Racy on purpose: this is the attacker rewriting slots while
		 * the victim reads them. */
		if (dice < 5) {
			*(volatile uint32_t *)(void *)(m->w->full.slots + off) =
			    (uint32_t)(x >> 32);
		} else if (dice < 9) {
			struct rbuf_iorec g = make_record(K_GOOD, 1, &rng);
			size_t slot = (size_t)((x >> 20) % N_RECS) * rbuf_shm_slot_size(MAX_PIECES);

			memcpy(m->w->full.slots + slot, &g, rbuf_shm_slot_size(MAX_PIECES));
		} else {
			uint32_t c =
			    atomic_load_explicit(&m->w->full.r->cons, memory_order_relaxed);

			atomic_store_explicit(&m->w->full.r->prod, c + (uint32_t)((x >> 32) % 300),
			    memory_order_release);
		}
		m->writes++;
	}
	return NULL;
}

static void
test_slots_rewritten_during_the_check_cannot_escape_it(void **state)
{
	struct mutator m = {0};
	struct rbuf_iorec out[32];
	uint64_t sum = 0, handed = 0;
	struct world w;
	pthread_t t;
	(void)state;

	world_open(&w);
	m.w = &w;
	atomic_init(&m.stop, false);
	assert_int_equal(pthread_create(&t, NULL, mutator_main, &m), 0);
	for (unsigned it = 0; it < 200000; it++) {
		unsigned n = rbuf_get_burst(w.victim, out, 32);

		for (unsigned i = 0; i < n; i++)
			sum += touch_record(w.victim, &out[i]);
		handed += n;
	}
	atomic_store(&m.stop, true);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message(
	    "  %llu concurrent writes, %llu records handed out (all in bounds, sum %llu)\n",
	    (unsigned long long)m.writes, (unsigned long long)handed, (unsigned long long)sum);
	world_close(&w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_bad_iorec_is_dropped_and_counted_and_good_ones_flow),
	    cmocka_unit_test(test_event_counts_beyond_the_ring_are_refused_both_ways),
	    cmocka_unit_test(test_a_million_random_writes_never_break_the_victim),
	    cmocka_unit_test(test_slots_rewritten_during_the_check_cannot_escape_it),
	};

	return cmocka_run_group_tests_name("rbuf_hostile", tests, NULL, NULL);
}
