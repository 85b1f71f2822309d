/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fuzz_rpc -- the receive path of proto/ on hostile bytes: the frame
 * header check (rpc_frame_parse), then the bounded decode (rpc_unpack) of
 * the payload as the type the header names, and as every other type too,
 * so that each generated decoder sees well-formed protobuf of the wrong
 * shape. A decoded message is packed again, which walks every pointer the
 * decoder left. Descriptors cannot be fuzzed here: an input has none.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/compiler.h"
#include "proto/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rpc_frame frame;
static _Alignas(max_align_t) uint8_t arena_mem[RPC_ARENA_SIZE];
static uint8_t repack[RPC_ARENA_SIZE];

static const uint16_t types[] = {
#define X_(name, id, kind, desc) id,
    RPC_TYPE_TABLE(X_)
#undef X_
};

static void
decode(struct rpc_arena *a)
{
	ProtobufCMessage *m = rpc_unpack(NULL, &frame, a);
	size_t n;

	if (m == NULL)
		return;
	n = protobuf_c_message_get_packed_size(m);
	/* Everything decoded came from at most RPC_MAX_PAYLOAD input bytes. */
	if (n > sizeof(repack))
		__builtin_trap();
	protobuf_c_message_pack(m, repack);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_arena a;
	size_t n = size < sizeof(frame.buf) ? size : sizeof(frame.buf);
	uint16_t real;

	rpc_arena_init(&a, arena_mem, sizeof(arena_mem));
	rpc_frame_init(&frame);
	memcpy(frame.buf, data, n);
	if (rpc_frame_parse(&frame, size) != 0)
		return 0;
	decode(&a);
	real = frame.hdr.type;
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		if (types[i] == real)
			continue;
		frame.hdr.type = types[i];
		decode(&a);
	}
	rpc_frame_fini(&frame);
	return 0;
}
