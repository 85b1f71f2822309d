/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rpc_chan.h -- Rbuf channels in RPC messages: sluice.Chan and
 * sluice.ChanGeom (proto/common.proto) to and from struct rbuf_chan_cfg.
 * Header only, so that sluice_proto does not depend on rbuf; the driver,
 * the flow manager and applications all describe channels this way.
 */
#ifndef SLUICE_PROTO_RPC_CHAN_H
#define SLUICE_PROTO_RPC_CHAN_H

#include <errno.h>
#include <string.h>

#include "proto/common.pb-c.h"
#include "rbuf/rbuf.h"

/*
 * The geometry a received sluice.Chan describes, for a channel of @mode
 * (the mode is implied by which channel of the message it is). Returns 0,
 * or -EINVAL when @c, its geometry or its descriptors are missing. The
 * values themselves are checked by rbuf_chan_attach().
 */
static inline int
rpc_chan_geom(const Sluice__Chan *c, enum rbuf_mode mode, struct rbuf_chan_cfg *g)
{
	memset(g, 0, sizeof(*g));
	if (!c || !c->geom || !c->fds)
		return -EINVAL;
	g->mode = mode;
	g->n_recs = c->geom->n_recs;
	g->max_pieces = c->geom->max_pieces;
	g->align = c->geom->align;
	g->data_size = c->geom->data_size;
	return 0;
}

/* @geom as a sluice.ChanGeom (caller-owned @m). */
static inline void
rpc_chan_geom_msg(Sluice__ChanGeom *m, const struct rbuf_chan_cfg *geom)
{
	sluice__chan_geom__init(m);
	m->n_recs = geom->n_recs;
	m->max_pieces = geom->max_pieces;
	m->align = geom->align;
	m->data_size = geom->data_size;
}

/*
 * A sluice.Chan for a channel of geometry @geom whose four descriptors are
 * at @base .. @base + 3 of the frame's SCM_RIGHTS list, in the order of
 * struct rbuf_chan_fds (ctrl, data, wait, kick). @g and @f are the
 * caller's storage for the parts.
 */
static inline void
rpc_chan_msg(Sluice__Chan *c, Sluice__ChanGeom *g, Sluice__ChanFds *f,
    const struct rbuf_chan_cfg *geom, unsigned base)
{
	sluice__chan__init(c);
	sluice__chan_fds__init(f);
	rpc_chan_geom_msg(g, geom);
	f->ctrl = base;
	f->data = base + 1;
	f->wait = base + 2;
	f->kick = base + 3;
	c->geom = g;
	c->fds = f;
}

#endif /* SLUICE_PROTO_RPC_CHAN_H */
