/* SPDX-License-Identifier: BSD-3-Clause */
#define _GNU_SOURCE
/*
 * rpc_types.c -- the type table (rpc_types.h), the decode arena and the
 * bounded unpack.
 */
#include <errno.h>
#include <stdalign.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/rpc.h"
#include "proto/rpc_priv.h"
#include "proto/admin.pb-c.h"
#include "proto/driver.pb-c.h"
#include "proto/flowmgr.pb-c.h"

_Static_assert(SLUICE__SCHEMA_VERSION__SCHEMA_VERSION_MAJOR == RPC_SCHEMA_MAJOR,
    "common.proto and rpc.h disagree on the schema major version");
_Static_assert(SLUICE__SCHEMA_VERSION__SCHEMA_VERSION_MINOR == RPC_SCHEMA_MINOR,
    "common.proto and rpc.h disagree on the schema minor version");

struct type_ent {
	uint16_t type;
	uint8_t kind;
	const char *name;
	const ProtobufCMessageDescriptor *desc;
};

static const struct type_ent types[] = {
#define RPC_X_(name, id, kind, d) {id, RPC_K_##kind, #name, &d},
    RPC_TYPE_TABLE(RPC_X_)
#undef RPC_X_
};

static const struct type_ent *
type_find(unsigned type)
{
	/* Under fifty entries on the control path: a scan is enough. */
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].type == type)
			return &types[i];
	return NULL;
}

const ProtobufCMessageDescriptor *
rpc_type_desc(unsigned type)
{
	const struct type_ent *t = type_find(type);

	return t ? t->desc : NULL;
}

unsigned
rpc_type_of(const ProtobufCMessageDescriptor *desc)
{
	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (types[i].desc == desc)
			return types[i].type;
	return RPC_T_NONE;
}

int
rpc_type_kind(unsigned type)
{
	const struct type_ent *t = type_find(type);

	return t ? t->kind : 0;
}

const char *
rpc_type_name(unsigned type)
{
	const struct type_ent *t = type_find(type);

	return t ? t->name : "?";
}

int
rpc_method_index(const ProtobufCServiceDescriptor *svc, unsigned type)
{
	const ProtobufCMessageDescriptor *d = rpc_type_desc(type);

	if (d == NULL || rpc_type_kind(type) != RPC_K_REQ)
		return -ENOSYS;
	for (unsigned i = 0; i < svc->n_methods; i++)
		if (svc->methods[i].input == d)
			return (int)i;
	return -ENOSYS;
}

void
rpc_hello_init(Sluice__Hello *h, const char *software)
{
	sluice__hello__init(h);
	h->major = RPC_SCHEMA_MAJOR;
	h->minor = RPC_SCHEMA_MINOR;
	h->software = rpc_str(software ? software : "");
}

int
rpc_hello_check(uint32_t major)
{
	if (major != RPC_SCHEMA_MAJOR) {
		rpc__seterr("peer speaks schema version %u, we speak %u", major, RPC_SCHEMA_MAJOR);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* ---- arena -------------------------------------------------------------- */

static void *
arena_alloc(void *data, size_t size)
{
	struct rpc_arena *a = data;
	size_t al = alignof(max_align_t);
	size_t start = (a->used + al - 1) & ~(al - 1);

	if (start > a->size || size > a->size - start) {
		a->exhausted = true;
		return NULL;
	}
	a->used = start + size;
	return a->base + start;
}

static void
arena_free(void *data, void *ptr)
{
	/* Everything goes at the next reset. */
	(void)data;
	(void)ptr;
}

void
rpc_arena_init(struct rpc_arena *a, void *buf, size_t size)
{
	a->pa.alloc = arena_alloc;
	a->pa.free = arena_free;
	a->pa.allocator_data = a;
	a->base = buf;
	a->size = size;
	rpc_arena_reset(a);
}

void
rpc_arena_reset(struct rpc_arena *a)
{
	a->used = 0;
	a->exhausted = false;
}

ProtobufCMessage *
rpc_unpack(const ProtobufCMessageDescriptor *desc, const struct rpc_frame *f, struct rpc_arena *a)
{
	const ProtobufCMessageDescriptor *have = rpc_type_desc(f->hdr.type);
	ProtobufCMessage *m;

	if (have == NULL || (desc != NULL && desc != have)) {
		rpc__seterr("frame holds %s (0x%04x), expected %s", rpc_type_name(f->hdr.type),
		    f->hdr.type, desc ? desc->name : "a known type");
		errno = EPROTO;
		return NULL;
	}
	rpc_arena_reset(a);
	m = protobuf_c_message_unpack(have, &a->pa, f->len, f->payload);
	if (m == NULL) {
		if (a->exhausted) {
			rpc__seterr(
			    "%s needs more than the %zu-byte decode arena", have->name, a->size);
			errno = ENOMEM;
		} else {
			rpc__seterr(
			    "%s: payload of %zu bytes is not a valid encoding", have->name, f->len);
			errno = EBADMSG;
		}
		rpc_arena_reset(a);
	}
	return m;
}
