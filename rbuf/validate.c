/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Checks on everything that can come from the other side: the geometry the
 * creator chose and every iorec the peer hands over.
 */
#include <errno.h>

#include "rbuf/rbuf_priv.h"

static bool
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/*
 * Fill defaults into a copy of @in and check the result. On error sets the
 * message and returns -EINVAL; @out is then unspecified.
 */
int
rbuf__check_geometry(const struct rbuf_chan_cfg *in, struct rbuf_chan_cfg *out)
{
	*out = *in;
	if (!out->n_recs)
		out->n_recs = RBUF_DEFAULT_RECS;
	if (!out->max_pieces)
		out->max_pieces = 1;
	if (!out->align)
		out->align = 8;
	if (!out->data_size)
		out->data_size = (uint64_t)out->n_recs * RBUF_DEFAULT_BUF;
	if (!out->name)
		out->name = "rbuf";

	if (out->mode != RBUF_MODE_TMM && out->mode != RBUF_MODE_RMM) {
		rbuf__set_errmsg("mode %d is neither TMM nor RMM", (int)out->mode);
		return -EINVAL;
	}
	if (!is_pow2(out->n_recs) || out->n_recs < RBUF_MIN_RECS || out->n_recs > RBUF_MAX_RECS) {
		rbuf__set_errmsg("n_recs %u is not a power of two in [%u, %u]", out->n_recs,
		    RBUF_MIN_RECS, RBUF_MAX_RECS);
		return -EINVAL;
	}
	/* max_pieces + 1 a power of two keeps every slot a power of two bytes. */
	if (out->max_pieces > RBUF_MAX_PIECES || !is_pow2(out->max_pieces + 1ull)) {
		rbuf__set_errmsg("max_pieces %u is not one of 1, 3, 7, 15", out->max_pieces);
		return -EINVAL;
	}
	if (!is_pow2(out->align) || out->align > RBUF_MAX_ALIGN) {
		rbuf__set_errmsg(
		    "align %u is not a power of two up to %u", out->align, RBUF_MAX_ALIGN);
		return -EINVAL;
	}
	if (out->data_size > RBUF_MAX_DATA) {
		rbuf__set_errmsg(
		    "data_size %llu is above 4 GiB", (unsigned long long)out->data_size);
		return -EINVAL;
	}
	return 0;
}
