/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Flows on the control path: attach an application's channels, install its
 * filters, and take it all down again. Called from the loop thread between
 * bursts, so the data path never sees a half-made flow.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "driver/drv_priv.h"

static __thread char errmsg[256];

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
set_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
}

const char *
drv_errmsg(void)
{
	return errmsg[0] ? errmsg : "no error";
}

static void
tx_list_remove(struct drv *d, uint32_t id)
{
	for (unsigned i = 0; i < d->n_tx; i++) {
		if (d->tx_list[i] == id) {
			d->tx_list[i] = d->tx_list[--d->n_tx];
			break;
		}
	}
	if (d->tx_next >= d->n_tx)
		d->tx_next = 0;
}

/*
 * The scheduler's form of a guarantee. A flow without a slice can only
 * send in slack, so it is best effort whatever its extra flag says.
 */
static struct sch_qos
sched_qos(uint64_t period_ns, uint64_t slice_ns, bool extra)
{
	struct sch_qos q = {.period_ns = period_ns, .slice_ns = slice_ns, .extra = extra};

	if (slice_ns == 0) {
		q.period_ns = 0;
		q.extra = true;
	}
	return q;
}

static void
set_qos_err(const struct drv *d, int rc, const struct sch_qos *q)
{
	uint64_t free_ns = 0;

	if (rc == -ENOSPC) {
		sch_admit(d->sch, q, &free_ns);
		set_err("guarantee %llu ns per %llu ns does not fit on the link: %llu ns free",
		    (unsigned long long)q->slice_ns, (unsigned long long)q->period_ns,
		    (unsigned long long)free_ns);
	} else {
		set_err("invalid guarantee: slice %llu ns per %llu ns (periods from 2 slots up "
			"to the longest configured)",
		    (unsigned long long)q->slice_ns, (unsigned long long)q->period_ns);
	}
}

/* Free what a flow holds; it becomes FREE and its id reusable. */
void
drv__flow_release(struct drv *d, struct drv_flow *f)
{
	if (f->in_sched && f->id != DRV_FLOW_EXC)
		sch_flow_remove(d->sch, f->id);
	if (f->tx) {
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, rbuf_chan_wait_fd(f->tx), NULL);
		rbuf_chan_destroy(f->tx);
	}
	rbuf_chan_destroy(f->rx);
	drv__tx_flow_fini(f);
	memset(f, 0, sizeof(*f));
	f->state = DRV_FLOW_FREE;
}

int
drv_flow_add(struct drv *d, const struct drv_flow_cfg *fc)
{
	struct drv_flow *f;
	struct epoll_event ev = {.events = EPOLLIN};
	int rc;

	errmsg[0] = '\0';
	if (fc->id >= d->cfg.max_flows) {
		set_err("flow id %u out of range (max %u)", fc->id, d->cfg.max_flows - 1);
		return -EINVAL;
	}
	f = &d->flows[fc->id];
	if (f->state != DRV_FLOW_FREE) {
		set_err(
		    "flow id %u is %s", fc->id, f->state == DRV_FLOW_ACTIVE ? "in use" : "dying");
		return -EBUSY;
	}
	memset(f, 0, sizeof(*f));
	f->id = fc->id;
	f->tx_spec = fc->tx_spec;
	f->period_ns = fc->id == DRV_FLOW_EXC ? DRV_EXC_PERIOD_NS : fc->period_ns;
	f->slice_ns = fc->id == DRV_FLOW_EXC ? DRV_EXC_SLICE_NS : fc->slice_ns;
	f->extra = fc->id == DRV_FLOW_EXC ? true : fc->extra;
	f->owner_pid = fc->owner_pid;
	f->owner_uid = fc->owner_uid;
	memcpy(f->owner_comm, fc->owner_comm, sizeof(f->owner_comm));
	f->owner_comm[sizeof(f->owner_comm) - 1] = '\0';
	if (fc->id != DRV_FLOW_EXC && fc->tx) {
		rc = flt_tx_template_init(&f->tmpl, &fc->tx_spec);
		if (rc < 0) {
			set_err("transmit filter: invalid spec");
			return rc;
		}
		f->checked = true;
	}
	if (fc->rx) {
		if (fc->rx_geom.mode != RBUF_MODE_RMM || fc->rx_geom.max_pieces > 1) {
			set_err("receive channel must be RMM with one piece per iorec");
			return -EINVAL;
		}
		f->rx = rbuf_chan_attach(&fc->rx_geom, RBUF_SIDE_SENDER, fc->rx);
		if (!f->rx) {
			rc = -errno;
			set_err("receive channel: %s", rbuf_errmsg());
			goto out_release;
		}
		f->rx_data = rbuf_data(f->rx);
	}
	if (fc->tx) {
		struct rbuf_chan_cfg g;

		if (fc->tx_geom.mode != RBUF_MODE_TMM) {
			set_err("transmit channel must be TMM");
			rc = -EINVAL;
			goto out_release;
		}
		f->tx = rbuf_chan_attach(&fc->tx_geom, RBUF_SIDE_RECEIVER, fc->tx);
		if (!f->tx) {
			rc = -errno;
			set_err("transmit channel: %s", rbuf_errmsg());
			goto out_release;
		}
		rbuf_chan_geometry(f->tx, &g);
		rc = drv__tx_flow_init(f, g.n_recs);
		if (rc < 0)
			goto out_release;
		ev.data.u32 = fc->id;
		if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, rbuf_chan_wait_fd(f->tx), &ev) < 0) {
			rc = -errno;
			goto out_release;
		}
		/* The exception flow is in the scheduler from the start (its
		 * reservation is the driver's own); the others join now. */
		if (fc->id != DRV_FLOW_EXC) {
			struct sch_qos q = sched_qos(fc->period_ns, fc->slice_ns, fc->extra);

			rc = sch_flow_add(d->sch, fc->id, &q);
			if (rc < 0) {
				set_qos_err(d, rc, &q);
				goto out_release;
			}
		}
		f->in_sched = true;
	}
	if (fc->id != DRV_FLOW_EXC) {
		struct flt_flow_spec spec = fc->rx_spec;

		spec.flow = fc->id;
		rc = flt_flow_add(d->flt, &spec);
		if (rc < 0) {
			set_err("receive filter: %s",
			    rc == -EEXIST ? "another flow has this key" : "refused by the table");
			goto out_release;
		}
		f->rx_spec = spec;
	}
	if (f->tx)
		d->tx_list[d->n_tx++] = fc->id;
	f->state = DRV_FLOW_ACTIVE;
	return 0;

out_release:
	drv__flow_release(d, f);
	return rc;
}

int
drv_flow_remove(struct drv *d, uint32_t id)
{
	struct drv_flow *f;

	if (id >= d->cfg.max_flows || d->flows[id].state != DRV_FLOW_ACTIVE)
		return -ENOENT;
	f = &d->flows[id];
	if (id != DRV_FLOW_EXC)
		flt_flow_del(d->flt, &f->rx_spec);
	tx_list_remove(d, id);
	if (f->in_sched) {
		/* Frames taken but not sent go back unsent (the application
		 * is going; they are not handed to it any more). */
		drv__tx_flow_unstage(d, f);
		if (id == DRV_FLOW_EXC)
			sch_flow_idle(d->sch, id, drv__now_ns(d));
		else
			sch_flow_remove(d->sch, id);
		f->in_sched = false;
	}
	/* Buffers it posted are its own; nothing of the driver's is in them. */
	rbuf_chan_destroy(f->rx);
	f->rx = NULL;
	f->rx_data = NULL;
	f->rx_cache_n = 0;
	if (f->in_flight) {
		f->state = DRV_FLOW_DYING; /* released by the last completion */
		return 0;
	}
	drv__flow_release(d, f);
	return 0;
}

int
drv_flow_set_tx(struct drv *d, uint32_t id, const struct flt_tx_spec *spec)
{
	struct flt_tx_template t;
	int rc;

	if (id >= d->cfg.max_flows || d->flows[id].state != DRV_FLOW_ACTIVE || id == DRV_FLOW_EXC)
		return -ENOENT;
	rc = flt_tx_template_init(&t, spec);
	if (rc < 0)
		return rc;
	d->flows[id].tmpl = t; /* the next record is checked against it */
	d->flows[id].tx_spec = *spec;
	return 0;
}

int
drv_flow_set_qos(struct drv *d, uint32_t id, uint64_t period_ns, uint64_t slice_ns, bool extra)
{
	struct drv_flow *f;
	struct sch_qos q = sched_qos(period_ns, slice_ns, extra);
	int rc;

	errmsg[0] = '\0';
	if (id >= d->cfg.max_flows || d->flows[id].state != DRV_FLOW_ACTIVE)
		return -ENOENT;
	if (id == DRV_FLOW_EXC)
		return -EPERM; /* the driver's own reservation */
	if (slice_ns > period_ns)
		return -EINVAL;
	f = &d->flows[id];
	if (f->in_sched) {
		rc = sch_flow_set_qos(d->sch, id, &q);
		if (rc < 0) {
			set_qos_err(d, rc, &q);
			return rc;
		}
	}
	f->period_ns = period_ns;
	f->slice_ns = slice_ns;
	f->extra = extra;
	return 0;
}

int
drv_flow_info(const struct drv *d, uint32_t id, struct drv_flow_info *fi)
{
	const struct drv_flow *f;

	if (id >= d->cfg.max_flows || d->flows[id].state == DRV_FLOW_FREE)
		return -ENOENT;
	f = &d->flows[id];
	memset(fi, 0, sizeof(*fi));
	fi->id = id;
	fi->state = f->state;
	fi->rx_spec = f->rx_spec;
	fi->tx_spec = f->tx_spec;
	fi->has_rx = f->rx != NULL;
	fi->has_tx = f->tx != NULL;
	if (f->rx)
		rbuf_chan_geometry(f->rx, &fi->rx_geom);
	if (f->tx)
		rbuf_chan_geometry(f->tx, &fi->tx_geom);
	fi->period_ns = f->period_ns;
	fi->slice_ns = f->slice_ns;
	fi->extra = f->extra;
	fi->owner_pid = f->owner_pid;
	fi->owner_uid = f->owner_uid;
	memcpy(fi->owner_comm, f->owner_comm, sizeof(fi->owner_comm));
	return 0;
}

int
drv_flow_chan_fds(
    const struct drv *d, uint32_t id, struct rbuf_chan_fds *rx, struct rbuf_chan_fds *tx)
{
	const struct drv_flow *f;

	if (id >= d->cfg.max_flows || d->flows[id].state == DRV_FLOW_FREE)
		return -ENOENT;
	f = &d->flows[id];
	*rx = (struct rbuf_chan_fds){-1, -1, -1, -1};
	*tx = *rx;
	if (f->rx)
		rbuf_chan_fds(f->rx, rx);
	if (f->tx)
		rbuf_chan_fds(f->tx, tx);
	return 0;
}

int
drv_flow_stats(const struct drv *d, uint32_t id, struct drv_flow_stats *st,
    struct rbuf_stats *rx_chan, struct rbuf_stats *tx_chan)
{
	const struct drv_flow *f;

	if (id >= d->cfg.max_flows || d->flows[id].state == DRV_FLOW_FREE)
		return -ENOENT;
	f = &d->flows[id];
	*st = f->st;
	if (f->in_sched) {
		struct sch_flow_stats ss;

		if (sch_flow_stats(d->sch, id, &ss) == 0) {
			st->tx_wire_ns = ss.wire_ns;
			st->tx_slack_ns = ss.slack_ns;
			st->tx_wait_ns = ss.wait_ns;
			st->tx_periods = ss.periods;
			st->tx_missed = ss.missed;
		}
	}
	if (rx_chan) {
		memset(rx_chan, 0, sizeof(*rx_chan));
		if (f->rx)
			rbuf_chan_stats(f->rx, rx_chan);
	}
	if (tx_chan) {
		memset(tx_chan, 0, sizeof(*tx_chan));
		if (f->tx)
			rbuf_chan_stats(f->tx, tx_chan);
	}
	return 0;
}

unsigned
drv_flow_count(const struct drv *d, enum drv_flow_state st)
{
	unsigned n = 0;

	for (uint32_t i = 0; i < d->cfg.max_flows; i++)
		n += d->flows[i].state == st;
	return n;
}

void
drv_droplog(struct drv *d, bool on)
{
	d->droplog = on;
}

/* One line per drop, at most 100 a second, so a flood cannot flood the log. */
void
drv__droplog(struct drv *d, const char *what, uint32_t flow, unsigned reason)
{
	struct timespec ts;

	if (likely(!d->droplog))
		return;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	if ((uint64_t)ts.tv_sec != d->droplog_sec) {
		d->droplog_sec = (uint64_t)ts.tv_sec;
		d->droplog_budget = 100;
	}
	if (!d->droplog_budget)
		return;
	d->droplog_budget--;
	if (flow == UINT32_MAX)
		fprintf(stderr, "drop: %s: %s\n", what,
		    reason < FLT_DROP__COUNT ? flt_drop_name(reason) : "?");
	else if (strcmp(what, "tx refused") == 0)
		fprintf(stderr, "drop: flow %u: %s: %s\n", flow, what,
		    reason < FLT_TX__COUNT ? flt_tx_name(reason) : "too big");
	else
		fprintf(stderr, "drop: flow %u: %s (%u)\n", flow, what, reason);
}
