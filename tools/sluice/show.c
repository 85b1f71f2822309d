/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The one-shot commands: each is one request (ListFlows is paged), printed
 * as aligned text or, with -j, as JSON.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "tools/sluice/sluice.h"

static const char *
wall(uint64_t ns, char *buf, size_t n)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (!ns || !localtime_r(&t, &tm) || !strftime(buf, n, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, n, "-");
	return buf;
}

/* ---- flows ------------------------------------------------------------------------- */

int
sl_cmd_flows(struct sl *s, int argc, char **argv)
{
	Sluice__Admin__ListFlows req;
	json_t *arr = s->json ? json_array() : NULL;
	struct sl_table t;
	uint32_t after = 0;
	bool more = true;

	(void)argv;
	if (argc > 0)
		return sl_usage_error("flows: unexpected %s", argv[0]);
	sl_table_init(&t, SL_TABLE_HEADER, ">ID", "PROTO", "KIND", "LOCAL", "REMOTE", "GUARANTEE",
	    "OWNER", ">PID", ">UID", "DEV", NULL);
	while (more) {
		Sluice__Admin__FlowList *r;

		sluice__admin__list_flows__init(&req);
		req.after_flow_id = after;
		r = sl_call(s, RPC_T_ADM_LIST_FLOWS, &req.base, RPC_T_ADM_FLOW_LIST);
		if (!r) {
			json_decref(arr);
			sl_table_fini(&t);
			return sl_fail("%s", s->errmsg);
		}
		for (size_t i = 0; i < r->n_flows; i++) {
			const Sluice__Admin__FlowInfo *fi = r->flows[i];
			char id[16], l[32], rm[32], q[64], pid[16], uid[16], own[40];

			after = fi->flow_id;
			if (arr) {
				json_array_append_new(arr, sl_json_info(fi));
				continue;
			}
			snprintf(id, sizeof(id), "%u", fi->flow_id);
			snprintf(pid, sizeof(pid), "%u", fi->owner_pid);
			snprintf(uid, sizeof(uid), "%u", fi->owner_uid);
			/* An orphan waits for its application after a restart. */
			snprintf(own, sizeof(own), "%s%s", fi->owner_comm ? fi->owner_comm : "",
			    fi->orphan ? " (orphan)" : "");
			sl_table_row(&t, id, sl_proto(fi->proto), sl_kind(fi->kind),
			    sl_sap(fi->local, l, sizeof(l)), sl_sap(fi->remote, rm, sizeof(rm)),
			    sl_qos(fi->qos, q, sizeof(q)), own, pid, uid, fi->iface);
		}
		more = r->more && r->n_flows > 0;
	}
	if (arr)
		sl_json_print(s, arr);
	else
		sl_table_print(&t, "\n");
	sl_table_fini(&t);
	return 0;
}

static void
counters_text(Sluice__Counter *const *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf(" %s %llu", c[i]->name ? c[i]->name : "?", (unsigned long long)c[i]->value);
}

int
sl_cmd_flow_show(struct sl *s, uint32_t id)
{
	Sluice__Admin__FlowShow req;
	Sluice__Admin__FlowDetail *r;
	const Sluice__Admin__FlowInfo *fi;
	const Sluice__FlowCounters *fc;
	char l[32], rm[32], q[64], w[32], mac[24], ip[16], d[32];

	sluice__admin__flow_show__init(&req);
	req.flow_id = id;
	r = sl_call(s, RPC_T_ADM_FLOW_SHOW, &req.base, RPC_T_ADM_FLOW_DETAIL);
	if (!r)
		return sl_fail("%s", s->errmsg);
	if (!r->info)
		return sl_fail("flow %u: the reply has no flow", id);
	fi = r->info;
	fc = r->counters;
	if (s->json) {
		json_t *j = sl_json_info(fi);

		json_object_set_new(j, "fib", r->fib ? sl_json_fib(r->fib) : json_null());
		json_object_set_new(j, "counters", fc ? sl_json_flow_counters(fc) : json_null());
		sl_json_print(s, j);
		return 0;
	}
	printf("flow %u: %s %s %s -> %s dev %s\n", fi->flow_id, sl_proto(fi->proto),
	    sl_kind(fi->kind), sl_sap(fi->local, l, sizeof(l)), sl_sap(fi->remote, rm, sizeof(rm)),
	    fi->iface);
	printf("    owner %s pid %u uid %u opened %s%s\n", fi->owner_comm, fi->owner_pid,
	    fi->owner_uid, wall(fi->opened_ns, w, sizeof(w)),
	    fi->orphan ? " orphan (recovered after a restart, waiting for its application)" : "");
	printf("    qos %s\n", sl_qos(fi->qos, q, sizeof(q)));
	if (r->fib) {
		printf("    fib generation %llu mtu %u headroom %u lladdr %s",
		    (unsigned long long)r->fib->generation, r->fib->mtu, r->fib->headroom,
		    sl_mac(&r->fib->local_mac, mac, sizeof(mac)));
		if (r->fib->nexthop_addr)
			printf(" nexthop %s lladdr %s", sl_ip(r->fib->nexthop_addr, ip, sizeof(ip)),
			    sl_mac(&r->fib->nexthop_mac, w, sizeof(w)));
		printf("\n");
	}
	if (!fc) {
		printf("    counters: the driver does not answer\n");
		return 0;
	}
	printf("    RX: packets %llu bytes %llu dropped %llu:", (unsigned long long)fc->rx_pkts,
	    (unsigned long long)fc->rx_bytes, (unsigned long long)fc->rx_dropped);
	counters_text(fc->rx_drops, fc->n_rx_drops);
	printf("\n    TX: packets %llu bytes %llu refused %llu%s", (unsigned long long)fc->tx_pkts,
	    (unsigned long long)fc->tx_bytes, (unsigned long long)fc->tx_refused,
	    fc->n_tx_refusals ? ":" : "");
	counters_text(fc->tx_refusals, fc->n_tx_refusals);
	printf("\n    sched: wait %s", sl_dur(fc->sched_wait_ns, d, sizeof(d)));
	printf(" slack %s periods %llu missed %llu chan-errors %llu\n",
	    sl_dur(fc->sched_slack_ns, d, sizeof(d)), (unsigned long long)fc->sched_periods,
	    (unsigned long long)fc->sched_missed, (unsigned long long)fc->chan_errors);
	return 0;
}

/* ---- stats ------------------------------------------------------------------------- */

int
sl_cmd_stats(struct sl *s, int argc, char **argv)
{
	Sluice__Admin__Stats req;
	Sluice__Admin__StatsReply *r;

	if (argc > 0)
		return sl_usage_error("stats: unexpected %s", argv[0]);
	sluice__admin__stats__init(&req);
	r = sl_call(s, RPC_T_ADM_STATS, &req.base, RPC_T_ADM_STATS_REPLY);
	if (!r)
		return sl_fail("%s", s->errmsg);
	if (s->json) {
		json_t *j = json_object(), *ports = json_array(), *mgr = json_object();

		for (size_t i = 0; i < r->n_ports; i++)
			json_array_append_new(ports, sl_json_port_counters(r->ports[i]));
		for (size_t i = 0; i < r->n_manager; i++)
			json_object_set_new(mgr, r->manager[i]->name ? r->manager[i]->name : "?",
			    json_integer((json_int_t)r->manager[i]->value));
		json_object_set_new(j, "timestamp_ns", json_integer((json_int_t)r->timestamp_ns));
		json_object_set_new(j, "flows", json_integer((json_int_t)r->flows));
		json_object_set_new(j, "ports", ports);
		json_object_set_new(j, "manager_rx", json_integer((json_int_t)r->manager_rx));
		json_object_set_new(j, "manager", mgr);
		sl_json_print(s, j);
		return 0;
	}
	for (size_t i = 0; i < r->n_ports; i++) {
		const Sluice__PortCounters *p = r->ports[i];

		printf("port %u %s\n", p->port, p->name ? p->name : "");
		printf("    RX: packets %llu bytes %llu missed %llu errors %llu nombuf %llu\n",
		    (unsigned long long)p->rx_pkts, (unsigned long long)p->rx_bytes,
		    (unsigned long long)p->rx_missed, (unsigned long long)p->rx_errors,
		    (unsigned long long)p->rx_nombuf);
		printf("    TX: packets %llu bytes %llu errors %llu\n",
		    (unsigned long long)p->tx_pkts, (unsigned long long)p->tx_bytes,
		    (unsigned long long)p->tx_errors);
		printf("    to the flow manager %llu, dropped there %llu\n",
		    (unsigned long long)p->rx_manager, (unsigned long long)p->rx_manager_dropped);
		if (p->n_rx_drops) {
			printf("    demux drops:");
			counters_text(p->rx_drops, p->n_rx_drops);
			printf("\n");
		}
		{
			/* The driver's own, those that are not zero (a line only if any). */
			size_t shown = 0;

			for (size_t k = 0; k < p->n_driver; k++) {
				if (!p->driver[k]->value)
					continue;
				if (!shown++)
					printf("    driver:");
				counters_text(&p->driver[k], 1);
			}
			if (shown)
				printf("\n");
		}
	}
	if (!r->n_ports)
		printf("port: the driver does not answer\n");
	printf("flows %llu\n", (unsigned long long)r->flows);
	printf("flow manager: frames %llu\n", (unsigned long long)r->manager_rx);
	{
		struct sl_table t;

		sl_table_init(&t, SL_TABLE_NO_HEADER, "", ">", NULL);
		for (size_t i = 0; i < r->n_manager; i++) {
			char name[80], v[24];

			if (!r->manager[i]->value)
				continue; /* -j has them all */
			snprintf(name, sizeof(name), "    %s", r->manager[i]->name);
			snprintf(v, sizeof(v), "%llu", (unsigned long long)r->manager[i]->value);
			sl_table_row(&t, name, v);
		}
		sl_table_print(&t, "\n");
		sl_table_fini(&t);
	}
	return 0;
}

/* ---- arp --------------------------------------------------------------------------- */

int
sl_cmd_arp(struct sl *s, int argc, char **argv)
{
	Sluice__Admin__ArpShow req;
	Sluice__Admin__ArpTable *r;
	struct sl_table t;
	json_t *arr;

	if (argc > 0 && !sl_matches(argv[0], "show") && !sl_matches(argv[0], "list"))
		return sl_usage_error("arp: unknown command %s (arp [show])", argv[0]);
	if (argc > 1)
		return sl_usage_error("arp show: unexpected %s", argv[1]);
	sluice__admin__arp_show__init(&req);
	r = sl_call(s, RPC_T_ADM_ARP_SHOW, &req.base, RPC_T_ADM_ARP_TABLE);
	if (!r)
		return sl_fail("%s", s->errmsg);
	arr = s->json ? json_array() : NULL;
	sl_table_init(&t, SL_TABLE_NO_HEADER, "", "", "", "", "", NULL);
	for (size_t i = 0; i < r->n_entries; i++) {
		const Sluice__Admin__ArpEntry *e = r->entries[i];
		char ip[16], mac[24], dev[80], ll[40], age[40], d[32];

		sl_ip(e->addr, ip, sizeof(ip));
		sl_mac(&e->mac, mac, sizeof(mac));
		if (arr) {
			json_array_append_new(
			    arr, json_pack("{s:s,s:s,s:o,s:s,s:I}", "dst", ip, "dev",
				     e->iface ? e->iface : "", "lladdr",
				     e->mac.len == 6 ? json_string(mac) : json_null(), "state",
				     sl_arp_state(e->state), "age_ms", (json_int_t)e->age_ms));
			continue;
		}
		snprintf(dev, sizeof(dev), "dev %s", e->iface ? e->iface : "");
		snprintf(ll, sizeof(ll), "lladdr %s", mac);
		snprintf(age, sizeof(age), "age %s", sl_dur(e->age_ms * 1000000u, d, sizeof(d)));
		sl_table_row(&t, ip, dev, ll, sl_arp_state(e->state), age);
	}
	if (arr)
		sl_json_print(s, arr);
	else
		sl_table_print(&t, "\n");
	sl_table_fini(&t);
	return 0;
}

/* ---- route ------------------------------------------------------------------------- */

static int
route_show(struct sl *s)
{
	Sluice__Admin__RouteShow req;
	Sluice__Admin__RouteTable *r;
	struct sl_table t;
	json_t *arr;

	sluice__admin__route_show__init(&req);
	r = sl_call(s, RPC_T_ADM_ROUTE_SHOW, &req.base, RPC_T_ADM_ROUTE_TABLE);
	if (!r)
		return sl_fail("%s", s->errmsg);
	arr = s->json ? json_array() : NULL;
	sl_table_init(&t, SL_TABLE_NO_HEADER, "", "", "", "", NULL);
	for (size_t i = 0; i < r->n_routes; i++) {
		const Sluice__Admin__Route *rt = r->routes[i];
		char dst[40], ip[16], gw[16], via[40], dev[80];

		if (rt->prefix_len == 0 && rt->dst == 0)
			snprintf(dst, sizeof(dst), "default");
		else
			snprintf(dst, sizeof(dst), "%s/%u", sl_ip(rt->dst, ip, sizeof(ip)),
			    rt->prefix_len);
		sl_ip(rt->gateway, gw, sizeof(gw));
		if (arr) {
			json_array_append_new(
			    arr, json_pack("{s:s,s:o,s:s,s:s}", "dst", dst, "gateway",
				     rt->gateway ? json_string(gw) : json_null(), "dev",
				     rt->iface ? rt->iface : "", "type",
				     rt->is_static ? "static" : "connected"));
			continue;
		}
		snprintf(
		    via, sizeof(via), "%s%s", rt->gateway ? "via " : "", rt->gateway ? gw : "");
		snprintf(dev, sizeof(dev), "dev %s", rt->iface ? rt->iface : "");
		sl_table_row(&t, dst, via, dev, rt->is_static ? "static" : "connected");
	}
	if (arr)
		sl_json_print(s, arr);
	else
		sl_table_print(&t, "\n");
	sl_table_fini(&t);
	return 0;
}

/* route add PREFIX via GW [dev DEV] | route del PREFIX */
int
sl_cmd_route(struct sl *s, int argc, char **argv)
{
	uint32_t dst, len, gw = 0;
	const char *dev = NULL;

	if (argc == 0 || sl_matches(argv[0], "show") || sl_matches(argv[0], "list")) {
		if (argc > 1)
			return sl_usage_error("route show: unexpected %s", argv[1]);
		return route_show(s);
	}
	if (!sl_matches(argv[0], "add") && !sl_matches(argv[0], "delete"))
		return sl_usage_error("route: unknown command %s (show, add, del)", argv[0]);
	if (argc < 2 || sl_parse_prefix(argv[1], &dst, &len) < 0)
		return sl_usage_error("route %s: expected PREFIX (10.0.0.0/24, default)", argv[0]);
	for (int i = 2; i < argc; i += 2) {
		if (i + 1 >= argc)
			return sl_usage_error("route %s: %s needs a value", argv[0], argv[i]);
		if (strcmp(argv[i], "via") == 0) {
			if (sl_parse_ip(argv[i + 1], &gw) < 0)
				return sl_usage_error("route: via %s: not an address", argv[i + 1]);
		} else if (strcmp(argv[i], "dev") == 0) {
			dev = argv[i + 1];
		} else {
			return sl_usage_error("route %s: unexpected %s", argv[0], argv[i]);
		}
	}
	if (sl_matches(argv[0], "add")) {
		Sluice__Admin__RouteAdd req;
		Sluice__Admin__Route rt;

		if (!gw)
			return sl_usage_error(
			    "route add %s: which gateway? (via A.B.C.D)", argv[1]);
		sluice__admin__route_add__init(&req);
		sluice__admin__route__init(&rt);
		rt.dst = dst;
		rt.prefix_len = len;
		rt.gateway = gw;
		rt.iface = rpc_str(dev ? dev : "");
		rt.is_static = true;
		req.route = &rt;
		if (!sl_call(s, RPC_T_ADM_ROUTE_ADD, &req.base, RPC_T_OK))
			return sl_fail("route add %s: %s", argv[1], s->errmsg);
	} else {
		Sluice__Admin__RouteDel req;

		sluice__admin__route_del__init(&req);
		req.dst = dst;
		req.prefix_len = len;
		if (!sl_call(s, RPC_T_ADM_ROUTE_DEL, &req.base, RPC_T_OK))
			return sl_fail("route del %s: %s", argv[1], s->errmsg);
	}
	return 0;
}

/* ---- qos --------------------------------------------------------------------------- */

/* qos set FLOW [period=DUR] [slice=DUR] [extra=yes|no]; what is not given stays. */
int
sl_cmd_qos(struct sl *s, int argc, char **argv)
{
	Sluice__Admin__QosSet req;
	Sluice__Admin__QosSetReply *r;
	Sluice__Qos q, given_q;
	char err[160], buf[64];
	unsigned given;
	uint32_t id;

	if (argc < 1 || !sl_matches(argv[0], "set"))
		return sl_usage_error(
		    "qos: expected qos set FLOW period=DUR slice=DUR extra=yes|no");
	if (argc < 2 || sl_parse_id(argv[1], &id) < 0)
		return sl_usage_error("qos set: expected a flow id");
	sluice__qos__init(&given_q);
	if (sl_parse_qos(argc - 2, argv + 2, &given_q, &given, err, sizeof(err)) < 0)
		return sl_usage_error("qos set: %s", err);
	sluice__qos__init(&q);
	if (given != (SL_QOS_PERIOD | SL_QOS_SLICE | SL_QOS_EXTRA)) {
		/* Start from what the flow has. */
		Sluice__Admin__FlowShow fs;
		Sluice__Admin__FlowDetail *d;

		sluice__admin__flow_show__init(&fs);
		fs.flow_id = id;
		d = sl_call(s, RPC_T_ADM_FLOW_SHOW, &fs.base, RPC_T_ADM_FLOW_DETAIL);
		if (!d)
			return sl_fail("qos set %u: %s", id, s->errmsg);
		if (d->info && d->info->qos) {
			q.period_ns = d->info->qos->period_ns;
			q.slice_ns = d->info->qos->slice_ns;
			q.extra = d->info->qos->extra;
		}
	}
	if (given & SL_QOS_PERIOD)
		q.period_ns = given_q.period_ns;
	if (given & SL_QOS_SLICE)
		q.slice_ns = given_q.slice_ns;
	if (given & SL_QOS_EXTRA)
		q.extra = given_q.extra;
	sluice__admin__qos_set__init(&req);
	req.flow_id = id;
	req.qos = &q;
	r = sl_call(s, RPC_T_ADM_QOS_SET, &req.base, RPC_T_ADM_QOS_SET_REPLY);
	if (!r)
		return sl_fail("qos set %u: %s", id, s->errmsg);
	if (s->json) {
		json_t *j = json_object();

		json_object_set_new(j, "id", json_integer(id));
		json_object_set_new(j, "granted", sl_json_qos(r->granted));
		sl_json_print(s, j);
	} else {
		printf("flow %u: qos %s\n", id, sl_qos(r->granted, buf, sizeof(buf)));
	}
	return 0;
}

/* ---- version ----------------------------------------------------------------------- */

int
sl_cmd_version(struct sl *s, int argc, char **argv)
{
	Sluice__Admin__Version req;
	Sluice__Admin__VersionReply *r;

	if (argc > 0)
		return sl_usage_error("version: unexpected %s", argv[0]);
	sluice__admin__version__init(&req);
	r = sl_call(s, RPC_T_ADM_VERSION, &req.base, RPC_T_ADM_VERSION_REPLY);
	if (s->json) {
		json_t *j = json_object();

		json_object_set_new(j, "sluice", json_string(SLUICE_VERSION));
		json_object_set_new(j, "schema",
		    json_pack("{s:i,s:i}", "major", RPC_SCHEMA_MAJOR, "minor", RPC_SCHEMA_MINOR));
		if (r) {
			json_object_set_new(j, "flowmgr",
			    json_pack("{s:s,s:i,s:i,s:s,s:s}", "software", r->software, "major",
				(int)r->major, "minor", (int)r->minor, "admin", s->admin, "events",
				r->events));
			json_object_set_new(j, "driver",
			    json_pack("{s:s,s:s}", "software", r->driver_software, "events",
				r->driver_events));
		}
		sl_json_print(s, j);
	} else {
		printf("sluice %s (schema %u.%u)\n", SLUICE_VERSION, RPC_SCHEMA_MAJOR,
		    RPC_SCHEMA_MINOR);
		if (r) {
			printf("flowmgr %s (schema %u.%u) admin %s events %s\n", r->software,
			    r->major, r->minor, s->admin, r->events[0] ? r->events : "-");
			printf("driver %s events %s\n",
			    r->driver_software[0] ? r->driver_software : "(not connected)",
			    r->driver_events[0] ? r->driver_events : "-");
		}
	}
	return r ? 0 : sl_fail("%s", s->errmsg);
}
