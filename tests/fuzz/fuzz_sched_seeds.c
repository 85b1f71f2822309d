/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_sched_seeds -- write the seed corpus of fuzz_sched: call sequences
 * for each kind of set-up (flows, period range, guarantees filling the link
 * or half of it, link rate, strict pacer), mostly choices with churn mixed
 * in, so that the fuzzer starts from runs that reach the calendar's lanes,
 * early rolls and compaction.
 *
 * Usage: fuzz_sched_seeds DIR
 */
#include <stdint.h>
#include <stdio.h>

static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static int
seed(const char *dir, unsigned k, uint8_t flows, uint8_t setup, unsigned ops, unsigned churn)
{
	char path[512];
	uint64_t x = 0x9e3779b97f4a7c15ull * (k + 1);
	FILE *f;

	snprintf(path, sizeof(path), "%s/seed-%02u.bin", dir, k);
	f = fopen(path, "wb");
	if (!f) {
		perror(path);
		return -1;
	}
	fputc(flows, f);
	fputc(setup, f);
	fputc((int)(rnd(&x) & 0xff), f);
	fputc((int)(rnd(&x) & 0xff), f);
	for (unsigned i = 0; i < ops; i++) {
		uint64_t r = rnd(&x);
		/* Codes 0-3 choose and serve; 4-11 are the churn (fuzz_sched.c, step()). */
		uint8_t code =
		    r % 100 < churn ? (uint8_t)(4 + (r >> 8) % 8) : (uint8_t)(r >> 8) % 4;

		fputc(code, f);
		fputc((int)((r >> 16) & 0xff), f);
		fputc((int)((r >> 24) & 0xff), f);
		fputc((int)((r >> 32) & 0x7f), f); /* mostly stay busy when served */
	}
	return fclose(f);
}

int
main(int argc, char **argv)
{
	/* flows, set-up bits (period range, full link, link rate), ops, % churn */
	static const struct {
		uint8_t flows, setup;
		unsigned ops, churn;
	} seeds[] = {
	    {2, 0x00, 200, 10},
	    {8, 0x04, 600, 25},
	    {31, 0x08, 1500, 25},
	    {62, 0x08, 3000, 20},
	    {62, 0x09, 3000, 40},
	    {16, 0x0a, 1000, 30},
	    {45, 0x0e, 2000, 15},
	    {5, 0x0c, 800, 50},
	    {62, 0x04, 2500, 5},
	    {24, 0x0b, 1200, 35},
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	for (unsigned k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++)
		if (seed(argv[1], k, seeds[k].flows, seeds[k].setup, seeds[k].ops, seeds[k].churn) <
		    0)
			return 1;
	return 0;
}
