/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The FIB from the flow manager, checked field by field before the stack
 * builds a single header from it. The flow manager is trusted to name
 * things, but its messages are still parsed like anyone's: a FIB that
 * makes no sense is refused (EPROTO), never half applied.
 *
 * The FIB's hdr_template says nothing the fields do not; the stack builds
 * its own template from the checked fields (flow.c), so there is one
 * source of truth for each header byte.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "appstack/as_priv.h"
#include "proto/flowmgr.pb-c.h"

static __thread char errmsg[256];

void
as__seterr(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
}

AS_API const char *
as_errmsg(void)
{
	return errmsg[0] ? errmsg : "no error";
}

/* A unicast host address: not 0/8, 127/8, multicast, class E or broadcast. */
static bool
host_addr_ok(uint32_t a)
{
	return a >> 24 != 0 && a >> 24 != 127 && a < 0xe0000000u;
}

static bool
mac_ok(const ProtobufCBinaryData *b)
{
	static const uint8_t zero[6];

	return b->len == 6 && b->data && !(b->data[0] & 1) && memcmp(b->data, zero, 6) != 0;
}

int
as__fib_parse(const Sluice__Fm__Fib *m, struct as__fib *out)
{
	struct as__fib f;

	memset(&f, 0, sizeof(f));
	if (!m) {
		as__seterr("FIB: missing");
		return -EPROTO;
	}
	if (m->flow_id == 0 || m->proto != SLUICE__PROTO__PROTO_UDP) {
		as__seterr("FIB: flow id %u, protocol %d: not a UDP flow", m->flow_id, m->proto);
		return -EPROTO;
	}
	if (m->kind != SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED &&
	    m->kind != SLUICE__FLOW_KIND__FLOW_KIND_BOUND) {
		as__seterr("FIB: kind %d is neither connected nor bound", m->kind);
		return -EPROTO;
	}
	f.flow_id = m->flow_id;
	f.generation = m->generation;
	f.kind =
	    m->kind == SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED ? AS_UDP_CONNECTED : AS_UDP_BOUND;
	if (!mac_ok(&m->local_mac)) {
		as__seterr("FIB: local MAC missing or not a unicast address");
		return -EPROTO;
	}
	memcpy(f.local_mac, m->local_mac.data, 6);
	if (m->nexthop_mac.len) {
		if (!mac_ok(&m->nexthop_mac)) {
			as__seterr("FIB: next-hop MAC is not a unicast address");
			return -EPROTO;
		}
		memcpy(f.nh_mac, m->nexthop_mac.data, 6);
		f.nh_known = true;
	}
	f.nh_addr = m->nexthop_addr;
	if (!m->local || !host_addr_ok(m->local->addr) || m->local->port == 0 ||
	    m->local->port > 65535) {
		as__seterr("FIB: local SAP missing or not a host address and port");
		return -EPROTO;
	}
	f.local.addr = m->local->addr;
	f.local.port = (uint16_t)m->local->port;
	if (f.kind == AS_UDP_CONNECTED) {
		if (!m->remote || !host_addr_ok(m->remote->addr) || m->remote->port == 0 ||
		    m->remote->port > 65535 || !f.nh_known) {
			as__seterr("FIB: a connected flow needs a remote SAP and a next-hop MAC");
			return -EPROTO;
		}
		f.remote.addr = m->remote->addr;
		f.remote.port = (uint16_t)m->remote->port;
	}
	/* 68: the smallest MTU IPv4 allows (RFC 791); then every fragment
	 * carries at least 8 bytes behind a 20-byte header. */
	if (m->mtu < 68 || m->mtu > 65535) {
		as__seterr("FIB: MTU %u out of range", m->mtu);
		return -EPROTO;
	}
	f.mtu = m->mtu;
	if (m->headroom > AS_HEAD) {
		as__seterr(
		    "FIB: headroom %u above what the stack reserves (%u)", m->headroom, AS_HEAD);
		return -EPROTO;
	}
	f.headroom = m->headroom;
	if (m->qos) {
		f.qos.period_ns = m->qos->period_ns;
		f.qos.slice_ns = m->qos->slice_ns;
		f.qos.extra = m->qos->extra;
	}
	*out = f;
	return 0;
}
