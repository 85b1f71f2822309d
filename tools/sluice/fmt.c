/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The tool's helpers: parsing what the operator types, printing what the
 * flow manager says (text and JSON), aligned tables, rates. No I/O beyond
 * stdout, no nanomsg, so that tests/tools drives it alone.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/sluice/sluice.h"

/* ---- printing ----------------------------------------------------------------------- */

const char *
sl_ip(uint32_t a, char *buf, size_t n)
{
	snprintf(buf, n, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
	return buf;
}

const char *
sl_sap(const Sluice__Sap *sap, char *buf, size_t n)
{
	char ip[16];

	if (!sap)
		snprintf(buf, n, "*");
	else if (!sap->addr)
		snprintf(buf, n, "*:%u", sap->port);
	else
		snprintf(buf, n, "%s:%u", sl_ip(sap->addr, ip, sizeof(ip)), sap->port);
	return buf;
}

const char *
sl_mac(const ProtobufCBinaryData *m, char *buf, size_t n)
{
	if (!m || m->len != 6)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%02x:%02x:%02x:%02x:%02x:%02x", m->data[0], m->data[1],
		    m->data[2], m->data[3], m->data[4], m->data[5]);
	return buf;
}

const char *
sl_dur(uint64_t ns, char *buf, size_t n)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} u[] = {{1000000000ull, "s"}, {1000000ull, "ms"}, {1000ull, "us"}, {1ull, "ns"}};

	for (unsigned i = 0; i < 4; i++) {
		if (ns < u[i].div && i < 3)
			continue;
		if (ns % u[i].div == 0)
			snprintf(buf, n, "%" PRIu64 "%s", ns / u[i].div, u[i].unit);
		else
			snprintf(buf, n, "%.3g%s", (double)ns / (double)u[i].div, u[i].unit);
		return buf;
	}
	return buf; /* not reached: the last unit takes every value */
}

const char *
sl_proto(int proto)
{
	return proto == SLUICE__PROTO__PROTO_UDP   ? "udp"
	       : proto == SLUICE__PROTO__PROTO_TCP ? "tcp"
						   : "?";
}

const char *
sl_kind(int kind)
{
	switch (kind) {
	case SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED:
		return "connected";
	case SLUICE__FLOW_KIND__FLOW_KIND_BOUND:
		return "bound";
	case SLUICE__FLOW_KIND__FLOW_KIND_LISTENING:
		return "listening";
	default:
		return "?";
	}
}

const char *
sl_arp_state(int state)
{
	static const char *const names[] = {
	    "NONE", "INCOMPLETE", "REACHABLE", "STALE", "STATIC", "FAILED"};

	return state >= 0 && state < (int)(sizeof(names) / sizeof(names[0])) ? names[state] : "?";
}

const char *
sl_qos(const Sluice__Qos *q, char *buf, size_t n)
{
	char s[32], p[32];

	if (!q || !q->slice_ns || !q->period_ns) {
		snprintf(buf, n, "best effort");
		return buf;
	}
	snprintf(buf, n, "%s/%s %.2f%%%s", sl_dur(q->slice_ns, s, sizeof(s)),
	    sl_dur(q->period_ns, p, sizeof(p)), 100.0 * (double)q->slice_ns / (double)q->period_ns,
	    q->extra ? " +slack" : "");
	return buf;
}

/* ---- parsing ------------------------------------------------------------------------ */

int
sl_parse_ip(const char *s, uint32_t *a)
{
	struct in_addr in;

	if (inet_pton(AF_INET, s, &in) != 1)
		return -EINVAL;
	*a = ntohl(in.s_addr);
	return 0;
}

int
sl_parse_prefix(const char *s, uint32_t *addr, uint32_t *len)
{
	char buf[32], *slash, *end;
	unsigned long l = 32;

	if (strcmp(s, "default") == 0) {
		*addr = 0;
		*len = 0;
		return 0;
	}
	if (snprintf(buf, sizeof(buf), "%s", s) >= (int)sizeof(buf))
		return -EINVAL;
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		errno = 0;
		l = strtoul(slash + 1, &end, 10);
		if (errno || *end || end == slash + 1 || l > 32)
			return -EINVAL;
	}
	if (sl_parse_ip(buf, addr) < 0)
		return -EINVAL;
	*len = (uint32_t)l;
	return 0;
}

int
sl_parse_dur(const char *s, uint64_t *ns)
{
	static const struct {
		const char *unit;
		double mult;
	} u[] = {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"", 1}};
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (strcmp(end, u[i].unit) != 0)
			continue;
		v *= u[i].mult;
		if (v > 1e18 || (!u[i].unit[0] && strpbrk(s, ".eE")))
			return -EINVAL; /* a bare number is whole nanoseconds */
		*ns = (uint64_t)llround(v);
		return 0;
	}
	return -EINVAL;
}

int
sl_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"yes", "on", "true", "1"};
	static const char *const no[] = {"no", "off", "false", "0"};

	for (unsigned i = 0; i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	return -EINVAL;
}

bool
sl_matches(const char *word, const char *cmd)
{
	size_t n = strlen(word);

	return n > 0 && strncmp(word, cmd, n) == 0;
}

int
sl_parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || end == s || s[0] == '-' || v == 0 || v > UINT32_MAX)
		return -EINVAL;
	*id = (uint32_t)v;
	return 0;
}

int
sl_parse_qos(int argc, char **argv, Sluice__Qos *q, unsigned *given, char *err, size_t n)
{
	*given = 0;
	for (int i = 0; i < argc; i++) {
		const char *eq = strchr(argv[i], '=');
		const char *v = eq ? eq + 1 : "";
		size_t klen = eq ? (size_t)(eq - argv[i]) : strlen(argv[i]);
		unsigned bit;
		bool b = false;
		int rc;

		if (klen == 6 && strncmp(argv[i], "period", 6) == 0) {
			bit = SL_QOS_PERIOD;
			rc = sl_parse_dur(v, &q->period_ns);
		} else if (klen == 5 && strncmp(argv[i], "slice", 5) == 0) {
			bit = SL_QOS_SLICE;
			rc = sl_parse_dur(v, &q->slice_ns);
		} else if (klen == 5 && strncmp(argv[i], "extra", 5) == 0) {
			bit = SL_QOS_EXTRA;
			rc = sl_parse_bool(v, &b);
			if (rc == 0)
				q->extra = b;
		} else {
			snprintf(
			    err, n, "%s: expected period=DUR, slice=DUR or extra=yes|no", argv[i]);
			return -EINVAL;
		}
		if (!eq || rc < 0) {
			snprintf(err, n, "%s: %s", argv[i],
			    bit == SL_QOS_EXTRA ? "extra=yes or extra=no"
						: "a duration such as 10ms, 250us or 2s");
			return -EINVAL;
		}
		if (*given & bit) {
			snprintf(err, n, "%.*s given twice", (int)klen, argv[i]);
			return -EINVAL;
		}
		*given |= bit;
	}
	if (!*given) {
		snprintf(err, n, "nothing to set: period=DUR slice=DUR extra=yes|no");
		return -EINVAL;
	}
	return 0;
}

/* ---- tables ------------------------------------------------------------------------- */

void
sl_table_init(struct sl_table *t, int header, ...)
{
	va_list ap;
	const char *h;

	memset(t, 0, sizeof(*t));
	va_start(ap, header);
	while ((h = va_arg(ap, const char *)) != NULL && t->n_cols < SL_TABLE_MAX_COLS) {
		t->right[t->n_cols] = h[0] == '>';
		t->hdr[t->n_cols] = header ? h + (h[0] == '>') : NULL;
		t->n_cols++;
	}
	va_end(ap);
}

int
sl_table_row(struct sl_table *t, ...)
{
	va_list ap;

	if (t->n_rows == t->cap) {
		unsigned cap = t->cap ? 2 * t->cap : 16;
		char **c = realloc(t->cells, (size_t)cap * t->n_cols * sizeof(*c));

		if (!c)
			return -ENOMEM;
		t->cells = c;
		t->cap = cap;
	}
	va_start(ap, t);
	for (unsigned i = 0; i < t->n_cols; i++) {
		const char *v = va_arg(ap, const char *);

		t->cells[(size_t)t->n_rows * t->n_cols + i] = strdup(v ? v : "");
	}
	va_end(ap);
	t->n_rows++;
	return 0;
}

static void
print_row(const struct sl_table *t, const size_t *w, const char *const *cells, const char *eol)
{
	for (unsigned i = 0; i < t->n_cols; i++) {
		const char *c = cells[i] ? cells[i] : "";
		bool last = i + 1 == t->n_cols;

		if (t->right[i])
			printf("%*s", (int)w[i], c);
		else
			printf("%-*s", last ? 0 : (int)w[i], c);
		if (!last)
			fputs("  ", stdout);
	}
	fputs(eol, stdout);
}

void
sl_table_print(const struct sl_table *t, const char *eol)
{
	size_t w[SL_TABLE_MAX_COLS] = {0};

	for (unsigned i = 0; i < t->n_cols; i++) {
		if (t->hdr[i])
			w[i] = strlen(t->hdr[i]);
		for (unsigned r = 0; r < t->n_rows; r++) {
			const char *c = t->cells[(size_t)r * t->n_cols + i];
			size_t l = c ? strlen(c) : 0;

			w[i] = l > w[i] ? l : w[i];
		}
	}
	if (t->hdr[0])
		print_row(t, w, t->hdr, eol);
	for (unsigned r = 0; r < t->n_rows; r++)
		print_row(t, w, (const char *const *)&t->cells[(size_t)r * t->n_cols], eol);
}

void
sl_table_fini(struct sl_table *t)
{
	for (size_t i = 0; i < (size_t)t->n_rows * t->n_cols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n_rows = t->cap = 0;
}

/* ---- JSON --------------------------------------------------------------------------- */

static json_t *
json_u64(uint64_t v)
{
	return json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v));
}

static json_t *
json_ip(uint32_t a)
{
	char ip[16];

	return json_string(sl_ip(a, ip, sizeof(ip)));
}

json_t *
sl_json_sap(const Sluice__Sap *sap)
{
	if (!sap)
		return json_null();
	return json_pack("{s:o,s:i}", "addr", json_ip(sap->addr), "port", (int)sap->port);
}

json_t *
sl_json_qos(const Sluice__Qos *q)
{
	uint64_t p = q ? q->period_ns : 0, s = q ? q->slice_ns : 0;
	json_t *j = json_object();

	json_object_set_new(j, "period_ns", json_u64(p));
	json_object_set_new(j, "slice_ns", json_u64(s));
	json_object_set_new(j, "extra", json_boolean(q ? q->extra : true));
	json_object_set_new(j, "share", json_real(p && s ? (double)s / (double)p : 0.0));
	return j;
}

json_t *
sl_json_info(const Sluice__Admin__FlowInfo *fi)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_u64(fi->flow_id));
	json_object_set_new(j, "proto", json_string(sl_proto(fi->proto)));
	json_object_set_new(j, "kind", json_string(sl_kind(fi->kind)));
	json_object_set_new(j, "local", sl_json_sap(fi->local));
	json_object_set_new(j, "remote", sl_json_sap(fi->remote));
	json_object_set_new(j, "qos", sl_json_qos(fi->qos));
	json_object_set_new(j, "dev", json_string(fi->iface ? fi->iface : ""));
	json_object_set_new(j, "owner",
	    json_pack("{s:i,s:i,s:s}", "pid", (int)fi->owner_pid, "uid", (int)fi->owner_uid, "comm",
		fi->owner_comm ? fi->owner_comm : ""));
	json_object_set_new(j, "opened_ns", json_u64(fi->opened_ns));
	json_object_set_new(j, "orphan", json_boolean(fi->orphan));
	return j;
}

json_t *
sl_json_fib(const Sluice__Fm__Fib *fib)
{
	char mac[24];
	json_t *j = json_object();

	json_object_set_new(j, "generation", json_u64(fib->generation));
	json_object_set_new(j, "local_mac", json_string(sl_mac(&fib->local_mac, mac, sizeof(mac))));
	json_object_set_new(j, "nexthop_mac",
	    fib->nexthop_mac.len == 6 ? json_string(sl_mac(&fib->nexthop_mac, mac, sizeof(mac)))
				      : json_null());
	json_object_set_new(
	    j, "nexthop", fib->nexthop_addr ? json_ip(fib->nexthop_addr) : json_null());
	json_object_set_new(j, "mtu", json_u64(fib->mtu));
	json_object_set_new(j, "headroom", json_u64(fib->headroom));
	json_object_set_new(j, "hdr_template_len", json_u64(fib->hdr_template.len));
	return j;
}

static json_t *
json_counters(Sluice__Counter *const *c, size_t n)
{
	json_t *j = json_object();

	for (size_t i = 0; i < n; i++)
		if (c[i] && c[i]->name)
			json_object_set_new(j, c[i]->name, json_u64(c[i]->value));
	return j;
}

json_t *
sl_json_flow_counters(const Sluice__FlowCounters *fc)
{
	json_t *j = json_object();

	json_object_set_new(j, "rx_pkts", json_u64(fc->rx_pkts));
	json_object_set_new(j, "rx_bytes", json_u64(fc->rx_bytes));
	json_object_set_new(j, "rx_dropped", json_u64(fc->rx_dropped));
	json_object_set_new(j, "rx_drops", json_counters(fc->rx_drops, fc->n_rx_drops));
	json_object_set_new(j, "tx_pkts", json_u64(fc->tx_pkts));
	json_object_set_new(j, "tx_bytes", json_u64(fc->tx_bytes));
	json_object_set_new(j, "tx_refused", json_u64(fc->tx_refused));
	json_object_set_new(j, "tx_refusals", json_counters(fc->tx_refusals, fc->n_tx_refusals));
	json_object_set_new(j, "sched_wait_ns", json_u64(fc->sched_wait_ns));
	json_object_set_new(j, "sched_periods", json_u64(fc->sched_periods));
	json_object_set_new(j, "sched_missed", json_u64(fc->sched_missed));
	json_object_set_new(j, "sched_slack_ns", json_u64(fc->sched_slack_ns));
	json_object_set_new(j, "chan_errors", json_u64(fc->chan_errors));
	return j;
}

json_t *
sl_json_port_counters(const Sluice__PortCounters *pc)
{
	json_t *j = json_object();

	json_object_set_new(j, "port", json_u64(pc->port));
	json_object_set_new(j, "name", json_string(pc->name ? pc->name : ""));
	json_object_set_new(j, "rx_pkts", json_u64(pc->rx_pkts));
	json_object_set_new(j, "rx_bytes", json_u64(pc->rx_bytes));
	json_object_set_new(j, "tx_pkts", json_u64(pc->tx_pkts));
	json_object_set_new(j, "tx_bytes", json_u64(pc->tx_bytes));
	json_object_set_new(j, "rx_missed", json_u64(pc->rx_missed));
	json_object_set_new(j, "rx_errors", json_u64(pc->rx_errors));
	json_object_set_new(j, "tx_errors", json_u64(pc->tx_errors));
	json_object_set_new(j, "rx_nombuf", json_u64(pc->rx_nombuf));
	json_object_set_new(j, "rx_manager", json_u64(pc->rx_manager));
	json_object_set_new(j, "rx_manager_dropped", json_u64(pc->rx_manager_dropped));
	json_object_set_new(j, "rx_drops", json_counters(pc->rx_drops, pc->n_rx_drops));
	json_object_set_new(j, "driver", json_counters(pc->driver, pc->n_driver));
	return j;
}

void
sl_json_print(const struct sl *s, json_t *j)
{
	json_dumpf(j, stdout, (s->pretty ? JSON_INDENT(2) : JSON_COMPACT) | JSON_REAL_PRECISION(9));
	fputc('\n', stdout);
	json_decref(j);
}

/* ---- rates -------------------------------------------------------------------------- */

void
sl_snap_of(const Sluice__FlowCounters *fc, struct sl_snap *sn)
{
	sn->rx_pkts = fc->rx_pkts;
	sn->rx_bytes = fc->rx_bytes;
	sn->tx_pkts = fc->tx_pkts;
	sn->tx_bytes = fc->tx_bytes;
	sn->drops = fc->rx_dropped + fc->tx_refused;
}

static double
per_s(uint64_t a, uint64_t b, uint64_t dt_ns)
{
	return (double)(b >= a ? b - a : b) * 1e9 / (double)dt_ns;
}

void
sl_rate_of(const struct sl_snap *a, const struct sl_snap *b, uint64_t dt_ns, struct sl_rate *r)
{
	memset(r, 0, sizeof(*r));
	if (dt_ns == 0)
		return;
	r->rx_mbps = per_s(a->rx_bytes, b->rx_bytes, dt_ns) * 8 / 1e6;
	r->tx_mbps = per_s(a->tx_bytes, b->tx_bytes, dt_ns) * 8 / 1e6;
	r->rx_pps = per_s(a->rx_pkts, b->rx_pkts, dt_ns);
	r->tx_pps = per_s(a->tx_pkts, b->tx_pkts, dt_ns);
	r->drops_ps = per_s(a->drops, b->drops, dt_ns);
}
