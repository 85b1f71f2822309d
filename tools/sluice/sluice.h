/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice.h -- the operator's command-line tool (DESIGN.md sections 1 and 5),
 * internal to tools/sluice/.
 *
 *   sluice [-j] [-p] [-s RUNTIME_DIR | --admin ADDR] OBJECT [COMMAND [ARGS]]
 *
 * It speaks admin.proto to the flow manager over nanomsg REQ/REP
 * (RUNTIME_DIR/admin.ipc, mode 0660: root and the admin group), one frame
 * of proto/rpc.h per message, and subscribes to the events the flow manager
 * (FlowEvent, RUNTIME_DIR/events.ipc) and the driver (CountersEvent, every
 * 100 ms, at the address the flow manager's VersionReply gives) publish.
 *
 *   main.c     options, objects and commands, error reporting
 *   adm.c      the REQ client (sl_call) and the SUB sockets
 *   show.c     flows, flow show, stats, arp, route, qos, version
 *   monitor.c  live per-flow rates
 *   fmt.c      parsing and printing helpers, aligned tables, JSON pieces,
 *              rates (no nanomsg: tests/tools links it alone)
 *
 * Output: human text on stdout, one line per item, columns aligned; -j:
 * JSON (jansson), -p: indented. Errors: one line on stderr, exit status 1
 * (2: usage). Never JSON on stderr.
 */
#ifndef SLUICE_TOOLS_SLUICE_H
#define SLUICE_TOOLS_SLUICE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "proto/admin.pb-c.h"
#include "proto/rpc.h"

#define SL_DEFAULT_RUN_DIR "/run/sluice"
#define SL_ADDR_MAX	   (PATH_MAX + 8)
#define SL_TIMEOUT_MS	   5000

/* The tool's options and its connection to the flow manager. */
struct sl {
	bool json, pretty;
	const char *run_dir;
	char admin[SL_ADDR_MAX];  /* the flow manager's REP socket */
	char events[SL_ADDR_MAX]; /* the driver's counters (--events); "" ask */
	int timeout_ms;
	/* The REQ socket, opened at the first call; -1 until then. */
	int req;
	uint32_t next_id;
	struct rpc_frame *frame;
	struct rpc_arena arena;
	uint8_t *arena_buf;
	/* The last failure: an Error reply (err > 0) or the transport's. */
	int err;
	char errmsg[RPC_ERRMSG_MAX + 64];
};

/* ---- adm.c ----------------------------------------------------------------- */

int sl_init(struct sl *s);
void sl_fini(struct sl *s);

/*
 * Send @req of @type (an admin.proto request) and wait up to s->timeout_ms
 * for its reply, which must be of @reply_type. Returns the decoded reply,
 * valid until the next call, or NULL with s->err and s->errmsg set: the
 * flow manager's Error (its errnum and message), or the transport's
 * failure (ENOENT: nobody there; EACCES: not an administrator; ETIMEDOUT).
 */
void *sl_call(struct sl *s, unsigned type, const ProtobufCMessage *req, unsigned reply_type);

/*
 * A nanomsg SUB socket connected to @addr, subscribed to everything,
 * receiving without a size limit. Returns it, or -1 with s->errmsg set.
 */
int sl_sub_open(struct sl *s, const char *addr);

/*
 * Receive one frame from a SUB socket into f, without waiting, and check
 * it. Returns 0, -EAGAIN (nothing there), -errno, or the rpc_frame_parse()
 * errors (a message that is not a frame: skip it).
 */
int sl_sub_recv(int sock, struct rpc_frame *f);

/* ---- fmt.c ------------------------------------------------------------------ */

const char *sl_ip(uint32_t a, char *buf, size_t n);		       /* "10.0.0.1" */
const char *sl_sap(const Sluice__Sap *sap, char *buf, size_t n);       /* "10.0.0.1:7", "*" */
const char *sl_mac(const ProtobufCBinaryData *m, char *buf, size_t n); /* "02:...", "-" */
const char *sl_dur(uint64_t ns, char *buf, size_t n);		       /* "10ms", "1.5us" */
const char *sl_proto(int proto);				       /* "udp", "tcp" */
const char *sl_kind(int kind);					       /* "bound", ... */
const char *sl_arp_state(int state);				       /* "REACHABLE", ... */
/* "2ms/10ms 20.00% +slack", "best effort" */
const char *sl_qos(const Sluice__Qos *q, char *buf, size_t n);

/* 0 or -EINVAL. A bare address is a /32; "default" is 0.0.0.0/0. */
int sl_parse_ip(const char *s, uint32_t *a);
int sl_parse_prefix(const char *s, uint32_t *addr, uint32_t *len);
/* "10ms", "250us", "1.5ms", "2s", "100ns"; a bare number is nanoseconds. */
int sl_parse_dur(const char *s, uint64_t *ns);
/* yes/no, on/off, true/false, 1/0 */
int sl_parse_bool(const char *s, bool *b);
/* Is @word an abbreviation of @cmd ("r" of "route"; iproute2's matches())? */
bool sl_matches(const char *word, const char *cmd);
/* A flow id: 1..UINT32_MAX. */
int sl_parse_id(const char *s, uint32_t *id);

/* What `qos set` was given, each field only if its bit is set. */
#define SL_QOS_PERIOD 1u
#define SL_QOS_SLICE  2u
#define SL_QOS_EXTRA  4u
/*
 * Parse period=DUR slice=DUR extra=yes|no (any order, each at most once)
 * into q, with the bits of what was given in *given. Returns 0, or -EINVAL
 * with a reason in err.
 */
int sl_parse_qos(int argc, char **argv, Sluice__Qos *q, unsigned *given, char *err, size_t n);

/* An aligned table: every cell is copied; columns as wide as their widest
 * cell; a header name starting with '>' is right-aligned (the '>' is not
 * printed). The last column is not padded. */
#define SL_TABLE_MAX_COLS 12
struct sl_table {
	unsigned n_cols, n_rows, cap;
	const char *hdr[SL_TABLE_MAX_COLS];
	bool right[SL_TABLE_MAX_COLS];
	char **cells; /* n_rows * n_cols */
};
void sl_table_init(struct sl_table *t, int header, ...); /* header names, NULL-terminated */
int sl_table_row(struct sl_table *t, ...);		 /* n_cols strings */
/* Print; each line ends with @eol (e.g. "\n", or "\033[K\n" on a terminal). */
void sl_table_print(const struct sl_table *t, const char *eol);
void sl_table_fini(struct sl_table *t);
/* Which was sl_table_init()'s header flag. */
#define SL_TABLE_HEADER	   1
#define SL_TABLE_NO_HEADER 0

/* JSON pieces (new references). */
json_t *sl_json_sap(const Sluice__Sap *sap);
json_t *sl_json_qos(const Sluice__Qos *q);
json_t *sl_json_info(const Sluice__Admin__FlowInfo *fi);
json_t *sl_json_fib(const Sluice__Fm__Fib *fib);
json_t *sl_json_flow_counters(const Sluice__FlowCounters *fc);
json_t *sl_json_port_counters(const Sluice__PortCounters *pc);
/* Print j (one line, or indented with -p) and drop the reference. */
void sl_json_print(const struct sl *s, json_t *j);

/* Rates between two readings of a flow's counters. */
struct sl_snap {
	uint64_t rx_pkts, rx_bytes, tx_pkts, tx_bytes, drops; /* drops: rx_dropped + tx_refused */
};
struct sl_rate {
	double rx_mbps, tx_mbps, rx_pps, tx_pps, drops_ps;
};
void sl_snap_of(const Sluice__FlowCounters *fc, struct sl_snap *sn);
/*
 * The rates from @a to @b, @dt_ns apart. A counter that went backwards (the
 * driver restarted, the id was reused) counts from zero: its rate is b/dt.
 * dt_ns 0 gives zeros.
 */
void
sl_rate_of(const struct sl_snap *a, const struct sl_snap *b, uint64_t dt_ns, struct sl_rate *r);

/* ---- commands ----------------------------------------------------------------- */

int sl_cmd_flows(struct sl *s, int argc, char **argv);
int sl_cmd_flow_show(struct sl *s, uint32_t id);
int sl_cmd_stats(struct sl *s, int argc, char **argv);
int sl_cmd_arp(struct sl *s, int argc, char **argv);
int sl_cmd_route(struct sl *s, int argc, char **argv);
int sl_cmd_qos(struct sl *s, int argc, char **argv);
int sl_cmd_version(struct sl *s, int argc, char **argv);
int sl_cmd_monitor(struct sl *s, int argc, char **argv);

/* Report a failure on stderr ("sluice: ..."); returns 1, the exit status. */
int sl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report a usage error; returns 2. */
int sl_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SLUICE_TOOLS_SLUICE_H */
