/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The flow manager's own channels on the driver's port (the exception
 * channel, flow 0): frames no flow claimed arrive on exc_rx (Receive Master
 * Mode: we post empty buffers), and ARP, ICMP and RST frames leave on
 * exc_tx (Transmit Master Mode: fixed 2 KiB buffers, reclaimed as the
 * driver hands them back). What to do with each frame is fm_pkt's
 * decision; ARP bindings heard go to the cache (fm_arp), and flows waiting
 * for a next hop are answered from there (fm_on_neighbour).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>

#include "flowmgr/fm_priv.h"

#define BURST 32

int
fm_exc_open(struct fm *fm, int fds[8])
{
	struct rbuf_chan_cfg rg = {.mode = RBUF_MODE_RMM,
	    .n_recs = FM_EXC_RECS,
	    .max_pieces = 1,
	    .data_size = (uint64_t)FM_EXC_RECS * FM_EXC_BUF,
	    .name = "sluice-fm-exc-rx"};
	struct rbuf_chan_cfg tg = rg;
	struct rbuf_chan_fds pr, pt;
	struct rbuf_iorec r = {.n_pieces = 1};
	uint8_t garp[FM_PKT_ARP_LEN];
	int n;

	tg.mode = RBUF_MODE_TMM;
	tg.name = "sluice-fm-exc-tx";
	fm_exc_close(fm);
	fm->exc_rx = rbuf_chan_create(&rg, RBUF_SIDE_RECEIVER);
	fm->exc_tx = rbuf_chan_create(&tg, RBUF_SIDE_SENDER);
	if (!fm->exc_rx || !fm->exc_tx) {
		fm_log("exception channel: %s", rbuf_errmsg());
		fm_exc_close(fm);
		return -ENOMEM;
	}
	/* Every receive buffer goes to the driver at once. */
	for (uint32_t i = 0; i < FM_EXC_RECS; i++) {
		r.tag = i;
		r.piece[0].off = i * FM_EXC_BUF;
		r.piece[0].len = FM_EXC_BUF;
		rbuf_put_burst(fm->exc_rx, &r, 1);
	}
	for (uint32_t i = 0; i < FM_EXC_RECS; i++)
		fm->exc_tx_free[i] = i;
	fm->exc_tx_n_free = FM_EXC_RECS;
	rbuf_chan_peer_fds(fm->exc_rx, &pr);
	rbuf_chan_peer_fds(fm->exc_tx, &pt);
	fds[0] = pr.ctrl;
	fds[1] = pr.data;
	fds[2] = pr.wait;
	fds[3] = pr.kick;
	fds[4] = pt.ctrl;
	fds[5] = pt.data;
	fds[6] = pt.wait;
	fds[7] = pt.kick;
	fm_epoll_add(fm, rbuf_chan_wait_fd(fm->exc_rx), FM_TOK_EXC);
	memcpy(fm->pif.mac, fm->mac, 6);
	/* Tell the link who we are (and refresh neighbours' caches). */
	n = fm_pkt_build_garp(garp, sizeof(garp), fm->mac, fm->cfg.addr);
	if (n > 0)
		fm_exc_send(fm, garp, (unsigned)n);
	return 0;
}

void
fm_exc_close(struct fm *fm)
{
	if (fm->exc_rx)
		fm_epoll_del(fm, rbuf_chan_wait_fd(fm->exc_rx));
	rbuf_chan_destroy(fm->exc_rx);
	rbuf_chan_destroy(fm->exc_tx);
	fm->exc_rx = NULL;
	fm->exc_tx = NULL;
}

int
fm_exc_send(struct fm *fm, const uint8_t *frame, unsigned len)
{
	struct rbuf_iorec r[BURST];
	unsigned n;
	uint32_t i;

	if (!fm->exc_tx || len > FM_EXC_BUF || len == 0)
		return -EINVAL;
	/* Buffers the driver has finished with come back first. */
	while ((n = rbuf_get_burst(fm->exc_tx, r, BURST)) > 0)
		for (unsigned j = 0; j < n; j++)
			if (r[j].tag < FM_EXC_RECS && fm->exc_tx_n_free < FM_EXC_RECS)
				fm->exc_tx_free[fm->exc_tx_n_free++] = r[j].tag;
	if (!fm->exc_tx_n_free) {
		fm->ctr_exc_tx_full++;
		return -ENOBUFS;
	}
	i = fm->exc_tx_free[--fm->exc_tx_n_free];
	memcpy(rbuf_data(fm->exc_tx) + (size_t)i * FM_EXC_BUF, frame, len);
	memset(&r[0], 0, sizeof(r[0]));
	r[0].n_pieces = 1;
	r[0].tag = i;
	r[0].piece[0].off = i * FM_EXC_BUF;
	r[0].piece[0].len = len;
	if (rbuf_put_burst(fm->exc_tx, r, 1) != 1) {
		fm->exc_tx_free[fm->exc_tx_n_free++] = i;
		fm->ctr_exc_tx_full++;
		return -ENOBUFS;
	}
	fm->ctr_exc_tx++;
	return 0;
}

static void
handle(struct fm *fm, const uint8_t *frame, size_t len)
{
	uint8_t reply[FM_EXC_BUF];
	struct fm_pkt_verdict v;

	fm_pkt_input(fm->pkt, &fm->pif, frame, len, fm->now_ns, reply, sizeof(reply), &v);
	if (v.learn) {
		int up = fm_arp_input(
		    fm->arp, v.ip, v.mac, fm->now_ns, v.for_us ? FM_ARP_IN_F_FOR_US : 0);

		if (up == FM_ARP_UPD_RESOLVED || up == FM_ARP_UPD_CHANGED)
			fm_on_neighbour(fm, v.ip, v.mac, up == FM_ARP_UPD_CHANGED);
	}
	if (v.reply_len)
		fm_exc_send(fm, reply, v.reply_len);
}

void
fm_exc_poll(struct fm *fm)
{
	struct rbuf_iorec r[BURST];

	if (!fm->exc_rx)
		return;
	if (rbuf_ec_drain(fm->exc_rx) == -EPIPE) {
		fm_drv_down(fm, "exception channel closed");
		return;
	}
	for (;;) {
		unsigned n = rbuf_get_burst(fm->exc_rx, r, BURST);

		if (n == 0) {
			/* Sleep only once the driver knows to wake us. */
			if (rbuf_ec_prepare(fm->exc_rx))
				return;
			continue;
		}
		fm->ctr_exc_rx += n;
		for (unsigned i = 0; i < n; i++) {
			handle(fm, rbuf_piece_ptr(fm->exc_rx, &r[i].piece[0]), r[i].piece[0].len);
			/* The same buffer goes back, whole, for the next frame. */
			r[i].piece[0].off = (r[i].tag % FM_EXC_RECS) * FM_EXC_BUF;
			r[i].piece[0].len = FM_EXC_BUF;
			r[i].tag %= FM_EXC_RECS;
		}
		rbuf_put_burst(fm->exc_rx, r, n);
	}
}

/* ARP's timers: requests and probes to send, next hops that failed. */
void
fm_exc_tick(struct fm *fm)
{
	struct fm_arp_event ev[16];
	uint8_t buf[FM_PKT_ARP_LEN];
	unsigned n;

	if (!fm->exc_tx)
		return;
	do {
		n = fm_arp_tick(fm->arp, fm->now_ns, ev, 16);
		for (unsigned i = 0; i < n; i++) {
			int len = 0;

			switch (ev[i].kind) {
			case FM_ARP_EV_REQUEST:
				len = fm_pkt_build_arp_request(
				    buf, sizeof(buf), fm->mac, fm->cfg.addr, ev[i].ip, NULL);
				break;
			case FM_ARP_EV_PROBE:
				len = fm_pkt_build_arp_request(
				    buf, sizeof(buf), fm->mac, fm->cfg.addr, ev[i].ip, ev[i].mac);
				break;
			case FM_ARP_EV_FAILED:
				fm_log("ARP: %u.%u.%u.%u does not answer", ev[i].ip >> 24,
				    (ev[i].ip >> 16) & 255, (ev[i].ip >> 8) & 255, ev[i].ip & 255);
				fm_app_resolved(fm, ev[i].ip, NULL);
				break;
			default:
				break;
			}
			if (len > 0)
				fm_exc_send(fm, buf, (unsigned)len);
		}
	} while (n == 16);
}

int
fm_exc_resolve(struct fm *fm, uint32_t ip, uint8_t mac[6])
{
	int rc = fm_arp_lookup(fm->arp, ip, fm->now_ns, mac);

	if (rc == -EAGAIN)
		fm_exc_tick(fm); /* the first request goes now, not at the next tick */
	return rc;
}
