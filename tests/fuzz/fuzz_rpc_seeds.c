/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rpc_seeds -- write real frames, one per file, as the seed corpus of
 * fuzz_rpc: fuzz_rpc_seeds DIR. Each frame carries a message with most of
 * its fields set, so that the fuzzer starts from every decoder's shapes.
 * The frames announce no descriptors (a corpus file cannot carry any).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/rpc.h"
#include "proto/admin.pb-c.h"
#include "proto/driver.pb-c.h"
#include "proto/flowmgr.pb-c.h"

static const char *dir;
static unsigned seq;

static void
put(const char *name, unsigned type, const ProtobufCMessage *m)
{
	static uint8_t buf[RPC_MAX_MSG];
	char path[512];
	int len = rpc_frame_pack(buf, sizeof(buf), type, 1000 + seq, m, 0);
	FILE *f;

	if (len < 0) {
		fprintf(stderr, "%s: %s\n", name, rpc_errmsg());
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/%02u_%s.bin", dir, seq++, name);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, (size_t)len, f) != (size_t)len || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* A hostile frame: a DumpFlowsReply of empty entries, 2 bytes each on the
 * wire and about 48 decoded, to keep the arena's limit in the corpus. */
static void
put_arena_bomb(void)
{
	static uint8_t buf[RPC_MAX_MSG];
	struct rpc_hdr h = {.magic = RPC_MAGIC,
	    .version = RPC_WIRE_VERSION,
	    .flags = RPC_F_REPLY,
	    .type = RPC_T_DRV_DUMP_FLOWS_REPLY,
	    .len = RPC_MAX_PAYLOAD};
	char path[512];
	FILE *f;

	memcpy(buf, &h, sizeof(h));
	for (size_t i = RPC_HDR_SIZE; i + 1 < sizeof(buf); i += 2)
		buf[i] = 0x0a, buf[i + 1] = 0;
	snprintf(path, sizeof(path), "%s/%02u_arena_bomb.bin", dir, seq++);
	f = fopen(path, "wb");
	if (f == NULL || fwrite(buf, 1, sizeof(buf), f) != sizeof(buf) || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

#define STR(s) rpc_str(s)

static uint8_t mac_a[6] = {2, 0, 0, 0, 0, 1}, mac_b[6] = {2, 0, 0, 0, 0, 2};

int
main(int argc, char **argv)
{
	Sluice__Hello hello;
	Sluice__Qos qos;
	Sluice__ChanGeom geom;
	Sluice__ChanFds rfds, tfds;
	Sluice__Chan rch, tch;
	Sluice__Drv__RxFilter rx;
	Sluice__Drv__TxTemplate tx;
	Sluice__Drv__Owner owner;
	Sluice__Drv__AddFlow add;
	Sluice__Counter drops[2];
	Sluice__Counter *dropp[2] = {&drops[0], &drops[1]};
	Sluice__FlowCounters fc, *fcp[1] = {&fc};
	Sluice__PortCounters pc, *pcp[1] = {&pc};
	Sluice__Drv__FlowEntry fe, *fep[2] = {&fe, &fe};
	Sluice__Drv__DumpFlowsReply dump;
	Sluice__Drv__CountersReply dcr;
	Sluice__Drv__GetCounters dgc;
	Sluice__Drv__SetupException exc;
	Sluice__Drv__UpdateTemplate upd;
	Sluice__Fm__OpenFlow open;
	Sluice__Sap local, remote;
	Sluice__Fm__Fib fib;
	Sluice__Fm__OpenFlowReply ofr;
	Sluice__Fm__FibChanged fch;
	Sluice__Fm__FlowRevoked rev;
	Sluice__Fm__Listen lis;
	Sluice__Error err;
	Sluice__PortClash clash;
	Sluice__AdmissionRefused adm;
	Sluice__Admin__FlowInfo fi;
	Sluice__Admin__FlowEvent fev;
	Sluice__Admin__CountersEvent cev;
	Sluice__Admin__Route route;
	Sluice__Admin__RouteAdd radd;
	Sluice__Admin__ArpEntry arp, *arpp[1] = {&arp};
	Sluice__Admin__ArpTable arpt;
	uint32_t ids[3] = {1, 2, 70000};
	uint8_t hdr[42] = {0};

	sluice__counter__init(&drops[0]);
	sluice__counter__init(&drops[1]);
	sluice__qos__init(&qos);
	sluice__chan_geom__init(&geom);
	sluice__chan_fds__init(&rfds);
	sluice__chan_fds__init(&tfds);
	sluice__chan__init(&rch);
	sluice__chan__init(&tch);
	sluice__drv__rx_filter__init(&rx);
	sluice__drv__tx_template__init(&tx);
	sluice__drv__owner__init(&owner);
	sluice__drv__add_flow__init(&add);
	sluice__flow_counters__init(&fc);
	sluice__port_counters__init(&pc);
	sluice__drv__flow_entry__init(&fe);
	sluice__drv__dump_flows_reply__init(&dump);
	sluice__drv__counters_reply__init(&dcr);
	sluice__drv__get_counters__init(&dgc);
	sluice__drv__setup_exception__init(&exc);
	sluice__drv__update_template__init(&upd);
	sluice__fm__open_flow__init(&open);
	sluice__sap__init(&local);
	sluice__sap__init(&remote);
	sluice__fm__fib__init(&fib);
	sluice__fm__open_flow_reply__init(&ofr);
	sluice__fm__fib_changed__init(&fch);
	sluice__fm__flow_revoked__init(&rev);
	sluice__fm__listen__init(&lis);
	sluice__error__init(&err);
	sluice__port_clash__init(&clash);
	sluice__admission_refused__init(&adm);
	sluice__admin__flow_info__init(&fi);
	sluice__admin__flow_event__init(&fev);
	sluice__admin__counters_event__init(&cev);
	sluice__admin__route__init(&route);
	sluice__admin__route_add__init(&radd);
	sluice__admin__arp_entry__init(&arp);
	sluice__admin__arp_table__init(&arpt);

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	dir = argv[1];

	rpc_hello_init(&hello, "sluice-seeds 0.1");
	put("hello", RPC_T_HELLO, &hello.base);

	qos.period_ns = 10000000, qos.slice_ns = 2500000, qos.extra = 1;
	geom.n_recs = 256, geom.max_pieces = 3, geom.align = 64, geom.data_size = 1 << 20;
	rfds.ctrl = 0, rfds.data = 1, rfds.wait = 2, rfds.kick = 3;
	tfds.ctrl = 4, tfds.data = 5, tfds.wait = 6, tfds.kick = 7;
	rch.geom = &geom, rch.fds = &rfds;
	tch.geom = &geom, tch.fds = &tfds;
	rx.proto = SLUICE__PROTO__PROTO_UDP, rx.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	rx.local_addr = 0x0a000001, rx.local_port = 5353;
	rx.remote_addr = 0x0a000002, rx.remote_port = 53, rx.inorder_frags = 1;
	tx.src_mac = (ProtobufCBinaryData){6, mac_a};
	tx.dst_mac = (ProtobufCBinaryData){6, mac_b};
	tx.src_addr = rx.local_addr, tx.dst_addr = rx.remote_addr;
	tx.proto = SLUICE__PROTO__PROTO_UDP, tx.src_port = 5353, tx.dst_port = 53;
	tx.mtu = 1500, tx.fragments = 1;
	owner.pid = 4242, owner.uid = 1000, owner.comm = STR("udp_echo");
	add.flow_id = 7, add.port = 0, add.rx = &rx, add.tx = &tx, add.qos = &qos;
	add.rx_chan = &rch, add.tx_chan = &tch, add.owner = &owner;
	put("drv_add_flow", RPC_T_DRV_ADD_FLOW, &add.base);

	upd.flow_id = 7, upd.dst_mac = (ProtobufCBinaryData){6, mac_b}, upd.mtu = 9000;
	upd.tx = &tx;
	put("drv_update_template", RPC_T_DRV_UPDATE_TEMPLATE, &upd.base);

	drops[0].name = STR("NO_BUFFER"), drops[0].value = 12;
	drops[1].name = STR("BAD_CSUM"), drops[1].value = 3;
	fc.flow_id = 7, fc.rx_pkts = 1000000, fc.rx_bytes = 64000000, fc.rx_dropped = 15;
	fc.n_rx_drops = 2, fc.rx_drops = dropp;
	fc.tx_pkts = 99, fc.tx_refused = 3, fc.n_tx_refusals = 1, fc.tx_refusals = dropp;
	fc.sched_wait_ns = 123456789;
	pc.port = 0, pc.name = STR("net_af_packet0"), pc.rx_pkts = 5, pc.rx_manager = 2;
	pc.n_rx_drops = 1, pc.rx_drops = dropp, pc.n_driver = 2, pc.driver = dropp;
	fe.flow = &add, fe.counters = &fc;
	dump.n_flows = 2, dump.flows = fep, dump.more = 1;
	put("drv_dump_flows_reply", RPC_T_DRV_DUMP_FLOWS_REPLY, &dump.base);
	dcr.timestamp_ns = 1, dcr.n_flows = 1, dcr.flows = fcp, dcr.n_ports = 1, dcr.ports = pcp;
	put("drv_counters_reply", RPC_T_DRV_COUNTERS_REPLY, &dcr.base);
	dgc.n_flow_ids = 3, dgc.flow_ids = ids, dgc.ports = 1;
	put("drv_get_counters", RPC_T_DRV_GET_COUNTERS, &dgc.base);
	exc.port = 1, exc.rx_chan = &rch, exc.tx_chan = &tch;
	put("drv_setup_exception", RPC_T_DRV_SETUP_EXCEPTION, &exc.base);

	open.proto = SLUICE__PROTO__PROTO_TCP, open.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	open.remote_addr = 0x0a000002, open.remote_port = 80, open.qos = &qos;
	open.rx_chan = &rch, open.tx_chan = &tch, open.listener_flow_id = 3;
	put("fm_open_flow", RPC_T_FM_OPEN_FLOW, &open.base);
	lis.local_port = 8080, lis.qos = &qos, lis.rx_chan = &rch, lis.tx_chan = &tch;
	lis.backlog = 128;
	put("fm_listen", RPC_T_FM_LISTEN, &lis.base);

	local.addr = 0x0a000001, local.port = 40000;
	remote.addr = 0x0a000002, remote.port = 80;
	hdr[12] = 0x08, hdr[14] = 0x45;
	fib.flow_id = 7, fib.generation = 2, fib.proto = SLUICE__PROTO__PROTO_TCP;
	fib.kind = SLUICE__FLOW_KIND__FLOW_KIND_CONNECTED;
	fib.local_mac = (ProtobufCBinaryData){6, mac_a};
	fib.nexthop_mac = (ProtobufCBinaryData){6, mac_b};
	fib.local = &local, fib.remote = &remote, fib.nexthop_addr = 0x0a0000fe;
	fib.mtu = 1500, fib.hdr_template = (ProtobufCBinaryData){sizeof(hdr), hdr};
	fib.headroom = 54, fib.qos = &qos, fib.rx_geom = &geom, fib.tx_geom = &geom;
	ofr.fib = &fib;
	put("fm_open_flow_reply", RPC_T_FM_OPEN_FLOW_REPLY, &ofr.base);
	fch.fib = &fib, fch.reason = STR("next hop 10.0.0.254 moved");
	put("fm_fib_changed", RPC_T_FM_FIB_CHANGED, &fch.base);
	rev.flow_id = 7, rev.errnum = 104, rev.reason = STR("driver restarted");
	put("fm_flow_revoked", RPC_T_FM_FLOW_REVOKED, &rev.base);

	clash.proto = SLUICE__PROTO__PROTO_UDP, clash.addr = 0x0a000001, clash.port = 53;
	clash.flow_id = 3, clash.holder_pid = 99, clash.holder_uid = 0;
	clash.holder_comm = STR("named");
	err.errnum = 98, err.message = STR("udp 10.0.0.1:53 is held by named (pid 99)");
	err.request_type = RPC_T_FM_OPEN_FLOW;
	err.detail_case = SLUICE__ERROR__DETAIL_PORT_CLASH, err.port_clash = &clash;
	put("error_port_clash", RPC_T_ERROR, &err.base);
	adm.iface = STR("veth0"), adm.link_bps = 100000000, adm.requested_ppm = 500000;
	adm.free_ppm = 120000;
	err.errnum = 28, err.message = STR("admission refused: 12% of veth0 free");
	err.detail_case = SLUICE__ERROR__DETAIL_ADMISSION, err.admission = &adm;
	put("error_admission", RPC_T_ERROR, &err.base);

	fi.flow_id = 7, fi.proto = SLUICE__PROTO__PROTO_UDP;
	fi.kind = SLUICE__FLOW_KIND__FLOW_KIND_BOUND, fi.local = &local, fi.qos = &qos;
	fi.iface = STR("veth0"), fi.owner_pid = 4242, fi.owner_comm = STR("udp_echo");
	fev.timestamp_ns = 17, fev.seq = 4,
	fev.kind = SLUICE__ADMIN__FLOW_EVENT_KIND__FLOW_EVENT_OPENED;
	fev.flow = &fi, fev.reason = STR("opened");
	put("ev_flow", RPC_T_EV_FLOW, &fev.base);
	cev.timestamp_ns = 100000000, cev.seq = 1, cev.n_flows = 1, cev.flows = fcp;
	cev.n_ports = 1, cev.ports = pcp;
	put("ev_counters", RPC_T_EV_COUNTERS, &cev.base);
	route.dst = 0, route.prefix_len = 0, route.gateway = 0x0a0000fe;
	route.iface = STR("veth0"), route.metric = 10, route.is_static = 1;
	radd.route = &route;
	put("adm_route_add", RPC_T_ADM_ROUTE_ADD, &radd.base);
	arp.addr = 0x0a0000fe, arp.mac = (ProtobufCBinaryData){6, mac_b};
	arp.iface = STR("veth0"), arp.state = SLUICE__ADMIN__ARP_STATE__ARP_STATE_REACHABLE;
	arp.age_ms = 1500;
	arpt.n_entries = 1, arpt.entries = arpp;
	put("adm_arp_table", RPC_T_ADM_ARP_TABLE, &arpt.base);
	put_arena_bomb();
	return 0;
}
