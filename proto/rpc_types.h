/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpc_types.h -- the stable type id of every message that travels in a
 * frame (proto/rpc.h), its kind, and its schema.
 *
 * An id is never reused and never renumbered: a new message gets the next
 * free id in its schema's block, a retired one leaves its id behind as a
 * comment. The high byte names the schema, so a server can refuse a message
 * meant for another one with a single comparison (rpc_type_schema()):
 *
 *   0x00xx  common.proto   both RPC sockets and admin
 *   0x01xx  driver.proto   flow manager <-> driver
 *   0x02xx  flowmgr.proto  application <-> flow manager
 *   0x03xx  admin.proto    sluice tool <-> flow manager (nanomsg REQ/REP)
 *   0x04xx  admin.proto    published events (nanomsg PUB)
 *
 * The kind fixes which header flags a frame of that type must carry
 * (rpc_frame_parse() refuses the others):
 *
 *   REQ       no flags; sent by the client, answered by a REPLY or an Error
 *   REPLY     RPC_F_REPLY, echoing the request id
 *   ERROR     RPC_F_REPLY | RPC_F_ERROR (sluice.Error only)
 *   CALLBACK  RPC_F_CALLBACK; sent by the server unasked, never answered
 *   EVENT     no flags; published, never answered
 */
#ifndef SLUICE_PROTO_RPC_TYPES_H
#define SLUICE_PROTO_RPC_TYPES_H

/* X(NAME, id, kind, descriptor of the generated message) */
#define RPC_TYPE_TABLE(X)                                                                 \
	/* common.proto */                                                                \
	X(ERROR, 0x0001, ERROR, sluice__error__descriptor)                                \
	X(OK, 0x0002, REPLY, sluice__ok__descriptor)                                      \
	X(HELLO, 0x0003, REQ, sluice__hello__descriptor)                                  \
	X(HELLO_REPLY, 0x0004, REPLY, sluice__hello_reply__descriptor)                    \
	/* driver.proto */                                                                \
	X(DRV_ADD_FLOW, 0x0101, REQ, sluice__drv__add_flow__descriptor)                   \
	X(DRV_ADD_FLOW_REPLY, 0x0102, REPLY, sluice__drv__add_flow_reply__descriptor)     \
	X(DRV_REMOVE_FLOW, 0x0103, REQ, sluice__drv__remove_flow__descriptor)             \
	X(DRV_SET_QOS, 0x0104, REQ, sluice__drv__set_qos__descriptor)                     \
	X(DRV_UPDATE_TEMPLATE, 0x0105, REQ, sluice__drv__update_template__descriptor)     \
	X(DRV_DUMP_FLOWS, 0x0106, REQ, sluice__drv__dump_flows__descriptor)               \
	X(DRV_DUMP_FLOWS_REPLY, 0x0107, REPLY, sluice__drv__dump_flows_reply__descriptor) \
	X(DRV_GET_COUNTERS, 0x0108, REQ, sluice__drv__get_counters__descriptor)           \
	X(DRV_COUNTERS_REPLY, 0x0109, REPLY, sluice__drv__counters_reply__descriptor)     \
	X(DRV_GET_PORTS, 0x010a, REQ, sluice__drv__get_ports__descriptor)                 \
	X(DRV_PORTS_REPLY, 0x010b, REPLY, sluice__drv__ports_reply__descriptor)           \
	X(DRV_SETUP_EXCEPTION, 0x010c, REQ, sluice__drv__setup_exception__descriptor)     \
	X(DRV_CHANNEL_CLOSED, 0x010d, CALLBACK, sluice__drv__channel_closed__descriptor)  \
	/* flowmgr.proto */                                                               \
	X(FM_OPEN_FLOW, 0x0201, REQ, sluice__fm__open_flow__descriptor)                   \
	X(FM_OPEN_FLOW_REPLY, 0x0202, REPLY, sluice__fm__open_flow_reply__descriptor)     \
	X(FM_CLOSE_FLOW, 0x0203, REQ, sluice__fm__close_flow__descriptor)                 \
	X(FM_SET_QOS, 0x0204, REQ, sluice__fm__set_qos__descriptor)                       \
	X(FM_SET_QOS_REPLY, 0x0205, REPLY, sluice__fm__set_qos_reply__descriptor)         \
	X(FM_LISTEN, 0x0206, REQ, sluice__fm__listen__descriptor)                         \
	X(FM_GET_COUNTERS, 0x0207, REQ, sluice__fm__get_counters__descriptor)             \
	X(FM_COUNTERS_REPLY, 0x0208, REPLY, sluice__fm__counters_reply__descriptor)       \
	X(FM_FIB_CHANGED, 0x0209, CALLBACK, sluice__fm__fib_changed__descriptor)          \
	X(FM_FLOW_REVOKED, 0x020a, CALLBACK, sluice__fm__flow_revoked__descriptor)        \
	X(FM_REATTACH, 0x020b, REQ, sluice__fm__reattach__descriptor)                     \
	X(FM_RESOLVE, 0x020c, REQ, sluice__fm__resolve__descriptor)                       \
	X(FM_RESOLVE_REPLY, 0x020d, REPLY, sluice__fm__resolve_reply__descriptor)         \
	/* admin.proto: requests and replies */                                           \
	X(ADM_LIST_FLOWS, 0x0301, REQ, sluice__admin__list_flows__descriptor)             \
	X(ADM_FLOW_LIST, 0x0302, REPLY, sluice__admin__flow_list__descriptor)             \
	X(ADM_FLOW_SHOW, 0x0303, REQ, sluice__admin__flow_show__descriptor)               \
	X(ADM_FLOW_DETAIL, 0x0304, REPLY, sluice__admin__flow_detail__descriptor)         \
	X(ADM_STATS, 0x0305, REQ, sluice__admin__stats__descriptor)                       \
	X(ADM_STATS_REPLY, 0x0306, REPLY, sluice__admin__stats_reply__descriptor)         \
	X(ADM_ARP_SHOW, 0x0307, REQ, sluice__admin__arp_show__descriptor)                 \
	X(ADM_ARP_TABLE, 0x0308, REPLY, sluice__admin__arp_table__descriptor)             \
	X(ADM_ROUTE_ADD, 0x0309, REQ, sluice__admin__route_add__descriptor)               \
	X(ADM_ROUTE_DEL, 0x030a, REQ, sluice__admin__route_del__descriptor)               \
	X(ADM_ROUTE_SHOW, 0x030b, REQ, sluice__admin__route_show__descriptor)             \
	X(ADM_ROUTE_TABLE, 0x030c, REPLY, sluice__admin__route_table__descriptor)         \
	X(ADM_QOS_SET, 0x030d, REQ, sluice__admin__qos_set__descriptor)                   \
	X(ADM_QOS_SET_REPLY, 0x030e, REPLY, sluice__admin__qos_set_reply__descriptor)     \
	X(ADM_VERSION, 0x030f, REQ, sluice__admin__version__descriptor)                   \
	X(ADM_VERSION_REPLY, 0x0310, REPLY, sluice__admin__version_reply__descriptor)     \
	/* admin.proto: events */                                                         \
	X(EV_COUNTERS, 0x0401, EVENT, sluice__admin__counters_event__descriptor)          \
	X(EV_FLOW, 0x0402, EVENT, sluice__admin__flow_event__descriptor)

enum rpc_type {
	RPC_T_NONE = 0,
#define RPC_X_(name, id, kind, desc) RPC_T_##name = id,
	RPC_TYPE_TABLE(RPC_X_)
#undef RPC_X_
};

enum rpc_kind {
	RPC_K_REQ = 1,
	RPC_K_REPLY,
	RPC_K_ERROR,
	RPC_K_CALLBACK,
	RPC_K_EVENT,
};

/* Which schema a type belongs to: its high byte. */
enum rpc_schema {
	RPC_SCHEMA_COMMON = 0x00,
	RPC_SCHEMA_DRIVER = 0x01,
	RPC_SCHEMA_FLOWMGR = 0x02,
	RPC_SCHEMA_ADMIN = 0x03,
	RPC_SCHEMA_EVENT = 0x04,
};

static inline enum rpc_schema
rpc_type_schema(unsigned type)
{
	return (enum rpc_schema)(type >> 8);
}

#endif /* SLUICE_PROTO_RPC_TYPES_H */
