/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * flt_test.h -- what every filters test needs: DPDK's EAL without hugepages
 * or devices (rte_hash needs it), a unique file prefix per process, and small
 * helpers around flt_demux_burst().
 */
#ifndef SLUICE_TESTS_FILTERS_FLT_TEST_H
#define SLUICE_TESTS_FILTERS_FLT_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>

#include "common/compiler.h"

#include "filters/flt.h"
#include "tests/support/pkt.h"

/* Initialise the EAL for a test program named name; exits on failure. */
static inline void
flt_test_eal_init(const char *name)
{
	char prefix[64];
	const char *args[] = {name, "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
	    "--no-telemetry", prefix, "--log-level=error", "-l", "0"};
	enum { N_ARGS = sizeof(args) / sizeof(args[0]) };
	/* EAL keeps pointers into argv, so the copies live as long as the process. */
	static char store[N_ARGS][64];
	static char *argv[N_ARGS + 1];

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s_%d", name, (int)getpid());
	for (int i = 0; i < N_ARGS; i++) {
		snprintf(store[i], sizeof(store[i]), "%s", args[i]);
		argv[i] = store[i];
	}
	if (rte_eal_init(N_ARGS, argv) < 0) {
		fprintf(stderr, "%s: rte_eal_init failed\n", name);
		exit(1);
	}
}

/* Classify one frame. */
static inline struct flt_verdict
flt_test_one(struct flt_table *t, const uint8_t *frame, uint16_t len, uint64_t now)
{
	struct flt_verdict v;
	const uint8_t *pkts[1] = {frame};
	uint16_t lens[1] = {len};

	flt_demux_burst(t, pkts, lens, 1, now, &v);
	return v;
}

/* A flow spec from host-order ports. */
static inline struct flt_flow_spec
flt_test_spec(uint32_t flow, uint8_t proto, uint8_t kind, uint32_t laddr, uint16_t lport,
    uint32_t raddr, uint16_t rport)
{
	struct flt_flow_spec s = {
	    .flow = flow,
	    .proto = proto,
	    .kind = kind,
	    .local_addr = laddr,
	    .remote_addr = raddr,
	    .local_port = htons(lport),
	    .remote_port = htons(rport),
	};
	return s;
}

/* Check the counter invariants documented on struct flt_stats. */
static inline int
flt_test_stats_consistent(struct flt_table *t)
{
	struct flt_stats st;
	uint64_t sum = 0, txsum = 0;

	flt_stats_get(t, &st);
	for (unsigned r = 1; r < FLT_DROP__COUNT; r++)
		sum += st.drop[r];
	for (unsigned r = 1; r < FLT_TX__COUNT; r++)
		txsum += st.tx_refuse[r];
	return st.rx_pkts == st.rx_flow + st.rx_manager + st.rx_dropped + st.rx_held &&
	       st.rx_held == st.rx_released + st.drop[FLT_DROP_FRAG_TIMEOUT] +
				 st.drop[FLT_DROP_FRAG_OUT_OF_ORDER] + flt_frag_held(t) &&
	       sum == st.rx_dropped + st.drop[FLT_DROP_FRAG_TIMEOUT] +
			  st.drop[FLT_DROP_FRAG_OUT_OF_ORDER] &&
	       st.tx_pkts == st.tx_ok + st.tx_refused && st.tx_refused == txsum;
}

#endif /* SLUICE_TESTS_FILTERS_FLT_TEST_H */
