/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * sluice monitor: live per-flow rates, like top.
 *
 * The numbers come from the driver's CountersEvent (every 100 ms; a
 * sample of many flows comes in parts, see driver/events.h), the names
 * from the flow manager: ListFlows once, then its FlowEvents as flows
 * open, close or change. An update is printed for every complete sample
 * (or every -i INTERVAL), with each flow's rates since the last update:
 * a refreshing table on a terminal, one block per update otherwise, one
 * JSON object per line with -j. It stops on SIGINT or after -n COUNT
 * updates. A sample with a part missing (a gap in seq) is not shown.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nanomsg/nn.h>

#include "tools/sluice/sluice.h"

struct mflow {
	uint32_t id;
	bool info;  /* the flow manager told us whose it is */
	bool known; /* it was in a sample: prev is set */
	bool in_sample;
	char owner[40], local[32], remote[32], qos[48];
	const char *proto;
	struct sl_snap prev, next; /* at the last update; in the sample in progress */
	uint64_t prev_ts;
	struct sl_rate rate;
};

struct mon {
	struct sl *s;
	struct mflow *f;
	size_t n, cap;
	bool tty;
	uint64_t max_updates, updates, interval_ns;
	/* Samples. */
	uint64_t seq, lost;
	bool in_sample, sample_ok, primed;
	uint64_t sample_ts, last_ts;
	struct sl_snap port_prev, port_next;
	uint64_t port_prev_ts;
	bool port_known;
	struct sl_rate port_rate;
	char port_name[64];
};

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The flow with @id, created if need be (kept sorted by id). */
static struct mflow *
flow_get(struct mon *m, uint32_t id, bool create)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->f[mid].id == id)
			return &m->f[mid];
		if (m->f[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!create)
		return NULL;
	if (m->n == m->cap) {
		size_t cap = m->cap ? 2 * m->cap : 64;
		struct mflow *nf = realloc(m->f, cap * sizeof(*nf));

		if (!nf)
			return NULL;
		m->f = nf;
		m->cap = cap;
	}
	memmove(&m->f[lo + 1], &m->f[lo], (m->n - lo) * sizeof(*m->f));
	m->n++;
	memset(&m->f[lo], 0, sizeof(m->f[lo]));
	m->f[lo].id = id;
	snprintf(m->f[lo].owner, sizeof(m->f[lo].owner), "?");
	m->f[lo].proto = "?";
	return &m->f[lo];
}

static void
flow_drop(struct mon *m, struct mflow *f)
{
	size_t i = (size_t)(f - m->f);

	memmove(&m->f[i], &m->f[i + 1], (m->n - i - 1) * sizeof(*m->f));
	m->n--;
}

static void
info_set(struct mon *m, const Sluice__Admin__FlowInfo *fi)
{
	struct mflow *f = flow_get(m, fi->flow_id, true);

	if (!f)
		return;
	f->info = true;
	f->proto = sl_proto(fi->proto);
	snprintf(f->owner, sizeof(f->owner), "%s[%u]", fi->owner_comm ? fi->owner_comm : "?",
	    fi->owner_pid);
	sl_sap(fi->local, f->local, sizeof(f->local));
	sl_sap(fi->remote, f->remote, sizeof(f->remote));
	sl_qos(fi->qos, f->qos, sizeof(f->qos));
}

static void
list_flows(struct mon *m)
{
	Sluice__Admin__ListFlows req;
	uint32_t after = 0;
	bool more = true;

	while (more) {
		Sluice__Admin__FlowList *r;

		sluice__admin__list_flows__init(&req);
		req.after_flow_id = after;
		r = sl_call(m->s, RPC_T_ADM_LIST_FLOWS, &req.base, RPC_T_ADM_FLOW_LIST);
		if (!r)
			return; /* numbers without names, then */
		for (size_t i = 0; i < r->n_flows; i++) {
			info_set(m, r->flows[i]);
			after = r->flows[i]->flow_id;
		}
		more = r->more && r->n_flows > 0;
	}
}

static void
on_flow_event(struct mon *m, const Sluice__Admin__FlowEvent *ev)
{
	struct mflow *f;

	if (!ev->flow)
		return;
	switch (ev->kind) {
	case SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_CLOSED:
	case SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_REVOKED:
		f = flow_get(m, ev->flow->flow_id, false);
		if (f)
			flow_drop(m, f);
		break;
	default:
		info_set(m, ev->flow);
	}
}

/* ---- printing ---------------------------------------------------------------------- */

static int
by_rate(const void *a, const void *b)
{
	const struct mflow *x = *(const struct mflow *const *)a,
			   *y = *(const struct mflow *const *)b;
	double rx = x->rate.rx_mbps + x->rate.tx_mbps, ry = y->rate.rx_mbps + y->rate.tx_mbps;

	if (rx != ry)
		return rx < ry ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void
print_json(struct mon *m, struct mflow **v, size_t n)
{
	json_t *j = json_object(), *flows = json_array();

	json_object_set_new(j, "update", json_integer((json_int_t)m->updates));
	json_object_set_new(j, "timestamp_ns", json_integer((json_int_t)m->sample_ts));
	json_object_set_new(j, "lost", json_integer((json_int_t)m->lost));
	json_object_set_new(j, "port",
	    json_pack("{s:s,s:f,s:f,s:f,s:f}", "name", m->port_name, "rx_mbps",
		m->port_rate.rx_mbps, "tx_mbps", m->port_rate.tx_mbps, "rx_pps",
		m->port_rate.rx_pps, "tx_pps", m->port_rate.tx_pps));
	for (size_t i = 0; i < n; i++) {
		const struct mflow *f = v[i];

		json_array_append_new(
		    flows, json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f}", "id",
			       (int)f->id, "proto", f->proto, "owner", f->owner, "local", f->local,
			       "remote", f->remote, "qos", f->qos, "rx_mbps", f->rate.rx_mbps,
			       "tx_mbps", f->rate.tx_mbps, "rx_pps", f->rate.rx_pps, "tx_pps",
			       f->rate.tx_pps, "drops_ps", f->rate.drops_ps));
	}
	json_object_set_new(j, "flows", flows);
	sl_json_print(m->s, j);
}

static void
print_update(struct mon *m)
{
	const char *eol = m->tty ? "\033[K\n" : "\n";
	struct mflow **v = calloc(m->n ? m->n : 1, sizeof(*v));
	struct sl_table t;
	struct timespec now;
	struct tm tm;
	char when[32] = "";
	size_t n = 0;

	if (!v)
		return;
	for (size_t i = 0; i < m->n; i++)
		if (m->f[i].known)
			v[n++] = &m->f[i];
	qsort(v, n, sizeof(*v), by_rate);
	if (m->s->json) {
		print_json(m, v, n);
		free(v);
		fflush(stdout);
		return;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	if (localtime_r(&now.tv_sec, &tm))
		strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (m->tty)
		fputs("\033[H", stdout);
	printf("sluice monitor  %s.%03ld  update %llu  flows %zu  lost %llu%s", when,
	    now.tv_nsec / 1000000, (unsigned long long)m->updates, n, (unsigned long long)m->lost,
	    eol);
	printf("port %s  rx %.2f Mbit/s %.0f pkt/s  tx %.2f Mbit/s %.0f pkt/s%s", m->port_name,
	    m->port_rate.rx_mbps, m->port_rate.rx_pps, m->port_rate.tx_mbps, m->port_rate.tx_pps,
	    eol);
	sl_table_init(&t, SL_TABLE_HEADER, ">FLOW", "PROTO", "OWNER", "LOCAL", "REMOTE",
	    ">RX-MBIT/S", ">TX-MBIT/S", ">RX-PKT/S", ">TX-PKT/S", ">DROPS/S", "GUARANTEE", NULL);
	for (size_t i = 0; i < n; i++) {
		const struct mflow *f = v[i];
		char id[16], a[24], b[24], c[24], d[24], e[24];

		snprintf(id, sizeof(id), "%u", f->id);
		snprintf(a, sizeof(a), "%.2f", f->rate.rx_mbps);
		snprintf(b, sizeof(b), "%.2f", f->rate.tx_mbps);
		snprintf(c, sizeof(c), "%.0f", f->rate.rx_pps);
		snprintf(d, sizeof(d), "%.0f", f->rate.tx_pps);
		snprintf(e, sizeof(e), "%.0f", f->rate.drops_ps);
		sl_table_row(
		    &t, id, f->proto, f->owner, f->local, f->remote, a, b, c, d, e, f->qos);
	}
	sl_table_print(&t, eol);
	sl_table_fini(&t);
	fputs(m->tty ? "\033[J" : "\n", stdout);
	fflush(stdout);
	free(v);
}

/* ---- samples ----------------------------------------------------------------------- */

static void
sample_done(struct mon *m)
{
	/* Samples are 100 ms apart, give or take: half of that is slack. */
	bool show = m->primed && m->sample_ts - m->last_ts + 50000000u >= m->interval_ns;

	/* Flows that were in samples and are not in this one are gone. */
	for (size_t i = m->n; i-- > 0;) {
		struct mflow *f = &m->f[i];

		if (!f->in_sample) {
			if (f->known)
				flow_drop(m, f);
			continue;
		}
		f->in_sample = false;
		if (!f->known) {
			f->known = true;
			f->prev = f->next;
			f->prev_ts = m->sample_ts;
		}
		if (show) {
			sl_rate_of(&f->prev, &f->next, m->sample_ts - f->prev_ts, &f->rate);
			f->prev = f->next;
			f->prev_ts = m->sample_ts;
		}
	}
	if (!m->port_known) {
		m->port_prev = m->port_next;
		m->port_prev_ts = m->sample_ts;
		m->port_known = true;
	}
	if (!m->primed) {
		m->primed = true; /* rates need two samples */
		m->last_ts = m->sample_ts;
		return;
	}
	if (!show)
		return;
	sl_rate_of(&m->port_prev, &m->port_next, m->sample_ts - m->port_prev_ts, &m->port_rate);
	m->port_prev = m->port_next;
	m->port_prev_ts = m->sample_ts;
	m->last_ts = m->sample_ts;
	m->updates++;
	print_update(m);
	if (m->max_updates && m->updates >= m->max_updates)
		stop = 1;
}

static void
on_counters(struct mon *m, const Sluice__Admin__CountersEvent *ev)
{
	if (m->seq && ev->seq != m->seq + 1) {
		m->lost += ev->seq > m->seq ? ev->seq - m->seq - 1 : 1;
		m->sample_ok = false;
	}
	m->seq = ev->seq;
	if (!m->in_sample || ev->timestamp_ns != m->sample_ts) {
		/* A new sample; one left unfinished is dropped. Its first part
		 * has the ports: without them, a part went missing. */
		for (size_t i = 0; i < m->n; i++)
			m->f[i].in_sample = false;
		m->in_sample = true;
		m->sample_ts = ev->timestamp_ns;
		m->sample_ok = ev->n_ports > 0;
	}
	if (ev->n_ports > 0) {
		const Sluice__PortCounters *p = ev->ports[0];

		m->port_next = (struct sl_snap){.rx_pkts = p->rx_pkts,
		    .rx_bytes = p->rx_bytes,
		    .tx_pkts = p->tx_pkts,
		    .tx_bytes = p->tx_bytes};
		snprintf(m->port_name, sizeof(m->port_name), "%s", p->name ? p->name : "?");
	}
	for (size_t i = 0; i < ev->n_flows; i++) {
		struct mflow *f = flow_get(m, ev->flows[i]->flow_id, true);

		if (!f)
			continue;
		sl_snap_of(ev->flows[i], &f->next);
		f->in_sample = true;
	}
	if (ev->more)
		return;
	m->in_sample = false;
	if (m->sample_ok)
		sample_done(m);
	for (size_t i = 0; i < m->n; i++)
		m->f[i].in_sample = false;
}

/* ---- the command ------------------------------------------------------------------- */

static int
drain(struct mon *m, int sock, struct rpc_frame *f, struct rpc_arena *a)
{
	for (;;) {
		ProtobufCMessage *msg;
		int rc = sl_sub_recv(sock, f);

		if (rc == -EAGAIN)
			return 0;
		if (rc == -EINTR)
			return 0;
		if (rc < 0 && rc != -EBADMSG && rc != -EPROTO && rc != -ENOMSG && rc != -EMSGSIZE)
			return rc;
		if (rc < 0)
			continue; /* not a frame: skip it */
		if (f->hdr.type != RPC_T_EV_COUNTERS && f->hdr.type != RPC_T_EV_FLOW)
			continue;
		msg = rpc_unpack(NULL, f, a);
		if (!msg)
			continue;
		if (f->hdr.type == RPC_T_EV_COUNTERS)
			on_counters(m, (Sluice__Admin__CountersEvent *)msg);
		else
			on_flow_event(m, (Sluice__Admin__FlowEvent *)msg);
		if (stop)
			return 0;
	}
}

int
sl_cmd_monitor(struct sl *s, int argc, char **argv)
{
	static const struct option lo[] = {
	    {"count", required_argument, NULL, 'n'},
	    {"interval", required_argument, NULL, 'i'},
	    {NULL, 0, NULL, 0},
	};
	struct sigaction sa = {.sa_handler = on_signal};
	struct mon m = {.s = s, .tty = isatty(STDOUT_FILENO) && !s->json};
	char drv_ev[SL_ADDR_MAX], fm_ev[SL_ADDR_MAX] = "";
	struct rpc_frame *f = malloc(sizeof(*f));
	uint8_t *abuf = malloc(RPC_ARENA_SIZE);
	struct rpc_arena a;
	int csock = -1, fsock = -1, rc = 0, ch;
	bool got = false;
	time_t t0 = time(NULL);

	if (!f || !abuf) {
		free(f);
		free(abuf);
		return sl_fail("out of memory");
	}
	rpc_arena_init(&a, abuf, RPC_ARENA_SIZE);
	optind = 0; /* our own options, after the word monitor */
	while ((ch = getopt_long(argc, argv, "+n:i:", lo, NULL)) != -1) {
		uint32_t n;

		if (ch == 'n' && sl_parse_id(optarg, &n) == 0) {
			m.max_updates = n;
		} else if (ch == 'i' && sl_parse_dur(optarg, &m.interval_ns) == 0) {
		} else {
			rc = sl_usage_error("monitor [-n COUNT] [-i INTERVAL]");
			goto out;
		}
	}
	if (optind < argc) {
		rc = sl_usage_error("monitor: unexpected %s", argv[optind]);
		goto out;
	}
	snprintf(drv_ev, sizeof(drv_ev), "%s", s->events);
	{
		Sluice__Admin__Version req;
		Sluice__Admin__VersionReply *r;

		sluice__admin__version__init(&req);
		r = sl_call(s, RPC_T_ADM_VERSION, &req.base, RPC_T_ADM_VERSION_REPLY);
		if (r && !drv_ev[0])
			snprintf(drv_ev, sizeof(drv_ev), "%s", r->driver_events);
		if (r)
			snprintf(fm_ev, sizeof(fm_ev), "%s", r->events);
		if (!drv_ev[0]) {
			rc = sl_fail(
			    "where does the driver publish its counters? %s (--events ADDR)",
			    r ? "the flow manager does not know (is [driver] events set?)"
			      : s->errmsg);
			goto out;
		}
		if (r)
			list_flows(&m);
	}
	csock = sl_sub_open(s, drv_ev);
	if (csock < 0) {
		rc = sl_fail("%s", s->errmsg);
		goto out;
	}
	if (fm_ev[0])
		fsock = sl_sub_open(s, fm_ev); /* names only: carry on without */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (m.tty)
		fputs("\033[H\033[2J", stdout);
	while (!stop) {
		struct pollfd pfd[2];
		size_t sz = sizeof(int);
		nfds_t np = 0;

		if (nn_getsockopt(csock, NN_SOL_SOCKET, NN_RCVFD, &pfd[np].fd, &sz) == 0)
			pfd[np++].events = POLLIN;
		if (fsock >= 0 &&
		    nn_getsockopt(fsock, NN_SOL_SOCKET, NN_RCVFD, &pfd[np].fd, &sz) == 0)
			pfd[np++].events = POLLIN;
		if (poll(pfd, np, 1000) < 0 && errno != EINTR) {
			rc = sl_fail("poll: %s", strerror(errno));
			break;
		}
		/* Names first, so that a flow's first numbers find its owner. */
		if (fsock >= 0 && drain(&m, fsock, f, &a) < 0) {
			nn_close(fsock);
			fsock = -1;
		}
		if ((rc = drain(&m, csock, f, &a)) < 0) {
			rc = sl_fail("%s: %s", drv_ev, nn_strerror(-rc));
			break;
		}
		got = got || m.seq > 0;
		if (!got && time(NULL) - t0 > (s->timeout_ms + 999) / 1000) {
			rc = sl_fail("%s: no counters within %d ms: is the driver running?", drv_ev,
			    s->timeout_ms);
			break;
		}
	}
	if (m.tty)
		fputs("\n", stdout);
out:
	if (csock >= 0)
		nn_close(csock);
	if (fsock >= 0)
		nn_close(fsock);
	free(m.f);
	free(f);
	free(abuf);
	return rc;
}
