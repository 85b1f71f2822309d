/* SPDX-License-Identifier: BSD-3-Clause */
/* rpc_priv.h -- internal to proto/. */
#ifndef SLUICE_PROTO_RPC_PRIV_H
#define SLUICE_PROTO_RPC_PRIV_H

/* Set the reason rpc_errmsg() returns. */
void rpc__seterr(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* SLUICE_PROTO_RPC_PRIV_H */
