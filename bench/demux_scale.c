/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * demux_scale: cycles per packet of receive classification (parse, check,
 * 5-tuple bulk lookup) with 1, 1,000, 100,000 and 1,000,000 installed flows
 * (DESIGN.md section 8: at most 1.2x growth from 1 to 1,000,000).
 *
 * One table sized for the largest count is filled step by step, so every
 * point uses the same table. Traffic: UDP frames of connected flows, each
 * burst of 32 drawn uniformly at random from the installed flows, so that
 * with many flows the hash buckets and keys are not in cache. The frames
 * themselves are rewritten in a small ring of buffers (as a NIC's rx ring
 * would be) outside the timed region; only flt_demux_burst() is timed, with
 * rte_rdtsc() around each call. Each point is the median of several rounds.
 *
 * To say where growth comes from, the same run also times the bare
 * rte_hash_lookup_bulk_data() on the same keys (no parsing), the demux
 * with bursts of 64, and what a random cache line costs this machine at
 * the best overlap (random_line in params: in cache, and over 64 MB).
 *
 * Usage: demux_scale [--quick] [--out DIR]
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_prefetch.h>

#include "bench/bench_report.h"
#include "common/compiler.h"
#include "common/wire/eth.h"
#include "common/wire/ip4.h"
#include "common/wire/udp.h"
#include "filters/flt.h"

#define BURST	   32
#define BURST_MAX  64
#define RING	   16 /* bursts of frame buffers, reused in turn */
#define FRAME_LEN  60 /* 14 + 20 + 8 + 18 bytes of payload */
#define FRAME_SIZE 128
#define LOCAL_ADDR 0x0a010001u /* 10.1.0.1 */
#define LOCAL_PORT 7000

static const unsigned counts[] = {1, 1000, 100000, 1000000};
#define N_COUNTS (sizeof(counts) / sizeof(counts[0]))

static uint8_t frames[RING * BURST_MAX][FRAME_SIZE] SLUICE_CACHE_ALIGNED;

/* Flow i: 11.0.0.0 + i / 16 : 10000 + i % 16 -> 10.1.0.1:7000. */
static uint32_t
flow_raddr(uint32_t i)
{
	return htonl(0x0b000000u + i / 16);
}

static uint16_t
flow_rport(uint32_t i)
{
	return htons((uint16_t)(10000 + i % 16));
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rand_below(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)((rng >> 11) % n);
}

static void
frame_init(uint8_t *f)
{
	struct eth_hdr *eh = (struct eth_hdr *)f;
	struct ip4_hdr *ih = (struct ip4_hdr *)(f + ETH_HDR_LEN);
	struct udp_hdr *uh = (struct udp_hdr *)(f + ETH_HDR_LEN + IP4_HDR_LEN);

	memset(f, 0, FRAME_SIZE);
	memcpy(eh->dst.b, (const uint8_t[]){2, 0, 0, 0, 0, 1}, 6);
	memcpy(eh->src.b, (const uint8_t[]){2, 0, 0, 0, 0, 2}, 6);
	eh->type = htons(ETH_TYPE_IPV4);
	ih->ver_ihl = 0x45;
	ih->tot_len = htons(FRAME_LEN - ETH_HDR_LEN);
	ih->ttl = 64;
	ih->proto = IP4_PROTO_UDP;
	ih->dst = htonl(LOCAL_ADDR);
	uh->dst_port = htons(LOCAL_PORT);
	uh->len = htons(FRAME_LEN - ETH_HDR_LEN - IP4_HDR_LEN);
}

/* Rewrite frame f for flow i (outside the timed region). */
static void
frame_set_flow(uint8_t *f, uint32_t i)
{
	struct ip4_hdr *ih = (struct ip4_hdr *)(f + ETH_HDR_LEN);
	struct udp_hdr *uh = (struct udp_hdr *)(f + ETH_HDR_LEN + IP4_HDR_LEN);

	ih->src = flow_raddr(i);
	ih->id = htons((uint16_t)i);
	ih->csum = 0;
	ih->csum = wire_ip4_csum(ih);
	uh->src_port = flow_rport(i);
}

static int
add_flows(struct flt_table *t, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		struct flt_flow_spec s = {
		    .flow = i,
		    .proto = IP4_PROTO_UDP,
		    .kind = FLT_KIND_CONNECTED,
		    .local_addr = htonl(LOCAL_ADDR),
		    .remote_addr = flow_raddr(i),
		    .local_port = htons(LOCAL_PORT),
		    .remote_port = flow_rport(i),
		};
		int rc = flt_flow_add(t, &s);

		if (rc < 0) {
			fprintf(stderr, "demux_scale: flt_flow_add(%u): %s\n", i, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/*
 * One round: n_bursts bursts of `burst` frames over n_flows flows. Returns
 * cycles per packet of flt_demux_burst() alone; exits on a wrong verdict.
 */
static double
round_demux(struct flt_table *t, uint32_t n_flows, unsigned burst, unsigned n_bursts)
{
	const uint8_t *pkts[BURST_MAX];
	uint16_t lens[BURST_MAX];
	uint32_t want[BURST_MAX];
	struct flt_verdict out[BURST_MAX];
	uint64_t cycles = 0;

	for (unsigned b = 0; b < n_bursts; b++) {
		uint8_t(*f)[FRAME_SIZE] = &frames[(b % RING) * BURST_MAX];
		uint64_t t0;

		for (unsigned k = 0; k < burst; k++) {
			want[k] = rand_below(n_flows);
			frame_set_flow(f[k], want[k]);
			pkts[k] = f[k];
			lens[k] = FRAME_LEN;
		}
		t0 = rte_rdtsc();
		flt_demux_burst(t, pkts, lens, burst, 0, out);
		cycles += rte_rdtsc() - t0;
		for (unsigned k = 0; k < burst; k++) {
			if (unlikely(out[k].action != FLT_ACT_FLOW || out[k].flow != want[k])) {
				fprintf(stderr,
				    "demux_scale: frame for flow %u got action %u flow %u\n",
				    want[k], out[k].action, out[k].flow);
				exit(1);
			}
		}
	}
	return (double)cycles / ((double)n_bursts * burst);
}

/* The same traffic through rte_hash_lookup_bulk_data() alone, on a mirror hash. */
static double
round_hash(struct rte_hash *h, uint32_t n_flows, unsigned n_bursts)
{
	struct key {
		uint32_t l, r;
		uint16_t lp, rp;
		uint8_t proto, pad[3];
	} __attribute__((aligned(8))) keys[BURST];
	const void *kp[BURST];
	void *data[BURST];
	uint64_t hits, cycles = 0;

	for (unsigned b = 0; b < n_bursts; b++) {
		uint64_t t0;

		for (unsigned k = 0; k < BURST; k++) {
			uint32_t i = rand_below(n_flows);

			memset(&keys[k], 0, sizeof(keys[k]));
			keys[k].l = htonl(LOCAL_ADDR);
			keys[k].r = flow_raddr(i);
			keys[k].lp = htons(LOCAL_PORT);
			keys[k].rp = flow_rport(i);
			keys[k].proto = IP4_PROTO_UDP;
			kp[k] = &keys[k];
		}
		t0 = rte_rdtsc();
		rte_hash_lookup_bulk_data(h, kp, BURST, &hits, data);
		cycles += rte_rdtsc() - t0;
		if (hits != (1ull << BURST) - 1) {
			fprintf(stderr, "demux_scale: mirror hash missed\n");
			exit(1);
		}
	}
	return (double)cycles / ((double)n_bursts * BURST);
}

static int
mirror_add(struct rte_hash *h, uint32_t from, uint32_t to)
{
	for (uint32_t i = from; i < to; i++) {
		struct {
			uint32_t l, r;
			uint16_t lp, rp;
			uint8_t proto, pad[3];
		} __attribute__((aligned(8))) k = {
		    .l = htonl(LOCAL_ADDR),
		    .r = flow_raddr(i),
		    .lp = htons(LOCAL_PORT),
		    .rp = flow_rport(i),
		    .proto = IP4_PROTO_UDP,
		};

		if (rte_hash_add_key_data(h, &k, (void *)(uintptr_t)i) < 0)
			return -1;
	}
	return 0;
}

static void
eal_init(void)
{
	char prefix[64];
	const char *args[] = {"demux_scale", "--no-huge", "-m", "1024", "--no-shconf", "--no-pci",
	    "--no-telemetry", prefix, "--log-level=error", "-l", "0"};
	enum { N_ARGS = sizeof(args) / sizeof(args[0]) };
	static char store[N_ARGS][64];
	static char *argv[N_ARGS + 1];

	snprintf(prefix, sizeof(prefix), "--file-prefix=demux_scale_%d", (int)getpid());
	for (int i = 0; i < N_ARGS; i++) {
		snprintf(store[i], sizeof(store[i]), "%s", args[i]);
		argv[i] = store[i];
	}
	if (rte_eal_init(N_ARGS, argv) < 0) {
		fprintf(stderr, "demux_scale: rte_eal_init failed\n");
		exit(1);
	}
}

/*
 * What the machine charges for a random cache line, at the best overlap a
 * bulk lookup can get: bursts of BURST independent lines, all prefetched,
 * then all read; cycles per line over @bytes of memory. Beside the demux
 * figures it says how much of their growth is memory: rte_hash's bulk
 * lookup touches three lines per key (two buckets, one key slot).
 */
static double
random_line_cycles(size_t bytes, unsigned n_bursts)
{
	uint8_t *m = aligned_alloc(64, bytes);
	uint32_t lines = (uint32_t)(bytes / 64);
	size_t at[BURST];
	uint64_t t0, t1;
	volatile uint64_t sink = 0;
	uint64_t sum = 0;

	if (!m)
		return -1;
	memset(m, 1, bytes);
	t0 = rte_rdtsc();
	for (unsigned b = 0; b < n_bursts; b++) {
		for (unsigned i = 0; i < BURST; i++) {
			at[i] = (size_t)rand_below(lines) * 64;
			rte_prefetch0(m + at[i]);
		}
		for (unsigned i = 0; i < BURST; i++)
			sum += m[at[i]];
	}
	t1 = rte_rdtsc();
	sink = sum;
	(void)sink;
	free(m);
	return (double)(t1 - t0) / ((double)n_bursts * BURST);
}

int
main(int argc, char **argv)
{
	const int quick = bench_quick(argc, argv);
	const unsigned rounds = quick ? 3 : 7;
	const unsigned pkts_per_round = quick ? 100000 : 1000000;
	const uint32_t max_flows = counts[N_COUNTS - 1];
	double demux[N_COUNTS], demux64[N_COUNTS], hash[N_COUNTS];
	double tsc_hz;
	struct flt_table *t;
	struct rte_hash *h;
	json_t *params, *per;
	uint32_t installed = 0;

	eal_init();
	tsc_hz = (double)rte_get_tsc_hz();
	t = flt_table_create(&(struct flt_table_cfg){.name = "bench", .max_flows = max_flows});
	h = rte_hash_create(&(struct rte_hash_parameters){
	    .name = "bench_mirror",
	    .entries = max_flows + max_flows / 4 + 64,
	    .key_len = 16,
	    .hash_func = rte_hash_crc,
	    .socket_id = SOCKET_ID_ANY,
	    .extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	});
	if (!t || !h) {
		fprintf(stderr, "demux_scale: cannot create the tables\n");
		return 1;
	}
	for (unsigned i = 0; i < RING * BURST_MAX; i++)
		frame_init(frames[i]);

	for (unsigned c = 0; c < N_COUNTS; c++) {
		double r[16], r64[16], rh[16];

		if (add_flows(t, installed, counts[c]) < 0 ||
		    mirror_add(h, installed, counts[c]) < 0)
			return 1;
		installed = counts[c];
		/* Warm up: caches, branch predictors, and the TLB for what fits. */
		round_demux(t, installed, BURST, pkts_per_round / BURST / 4);
		for (unsigned k = 0; k < rounds; k++) {
			r[k] = round_demux(t, installed, BURST, pkts_per_round / BURST);
			r64[k] = round_demux(t, installed, BURST_MAX, pkts_per_round / BURST_MAX);
			rh[k] = round_hash(h, installed, pkts_per_round / BURST);
		}
		demux[c] = bench_median(r, rounds);
		demux64[c] = bench_median(r64, rounds);
		hash[c] = bench_median(rh, rounds);
		printf("demux_scale: %8u flows: %7.1f cycles/pkt (%6.1f ns), burst 64 %7.1f, "
		       "bare rte_hash bulk lookup %7.1f\n",
		    installed, demux[c], demux[c] * 1e9 / tsc_hz, demux64[c], hash[c]);
	}

	params = json_object();
	per = json_object();
	for (unsigned c = 0; c < N_COUNTS; c++) {
		char key[32];

		snprintf(key, sizeof(key), "%u", counts[c]);
		json_object_set_new(per, key,
		    json_pack("{s:f, s:f, s:f, s:f}", "cycles_per_pkt", demux[c], "ns_per_pkt",
			demux[c] * 1e9 / tsc_hz, "cycles_per_pkt_burst64", demux64[c],
			"hash_lookup_cycles_per_key", hash[c]));
	}
	json_object_set_new(params, "flows", per);
	json_object_set_new(params, "burst", json_integer(BURST));
	json_object_set_new(params, "frame_len", json_integer(FRAME_LEN));
	json_object_set_new(params, "rounds", json_integer(rounds));
	json_object_set_new(params, "pkts_per_round", json_integer(pkts_per_round));
	json_object_set_new(params, "tsc_hz", json_real(tsc_hz));
	json_object_set_new(params, "growth", json_real(demux[N_COUNTS - 1] / demux[0]));
	json_object_set_new(
	    params, "growth_burst64", json_real(demux64[N_COUNTS - 1] / demux64[0]));
	json_object_set_new(params, "hash_growth", json_real(hash[N_COUNTS - 1] / hash[0]));
	json_object_set_new(params, "table_max_flows", json_integer(max_flows));
	json_object_set_new(params, "hugepages", json_false());
	{
		/* In cache against a footprint like the 1M-flow table's (~56 MB). */
		double near = random_line_cycles(256 << 10, pkts_per_round / BURST);
		double far = random_line_cycles(64 << 20, pkts_per_round / BURST);

		printf("demux_scale: a random line, %u in flight: %.1f cycles in cache, %.1f over "
		       "64 MB\n",
		    BURST, near, far);
		json_object_set_new(params, "random_line",
		    json_pack("{s:f, s:f, s:f, s:s}", "cycles_in_cache_256KB", near,
			"cycles_over_64MB", far, "extra_cycles", far - near, "note",
			"bursts of 32 independent lines, prefetched then read; rte_hash's "
			"bulk lookup touches 3 lines per key"));
	}
	json_object_set_new(params, "quick", json_boolean(quick));

	struct bench_report rep = {
	    .name = "demux_scale",
	    .unit = "cycles/pkt",
	    .value = demux[N_COUNTS - 1],
	    .better = "lower",
	    .anchor_name = "demux with 1 flow, same run",
	    .anchor_value = demux[0],
	    .target = "<= 1.2x growth",
	    .params = params,
	};
	int rc = bench_report_write(bench_out_dir(argc, argv), &rep);

	json_decref(params);
	rte_hash_free(h);
	flt_table_destroy(t);
	rte_eal_cleanup();
	return rc < 0 ? 1 : 0;
}
