/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Channel set-up: creating the sealed memfds and wake sockets, checking what
 * a peer handed over before mapping it, and tearing down.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rbuf/rbuf_priv.h"

#define SEALS_NEEDED (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

_Static_assert(offsetof(struct rbuf_iorec, piece) == sizeof(struct rbuf_shm_iorec_hdr),
    "an iorec copies to and from a slot as one block");

static __thread char errmsg[256];

void
rbuf__set_errmsg(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
}

const char *
rbuf_errmsg(void)
{
	return errmsg[0] ? errmsg : "no error";
}

static size_t
page_size(void)
{
	static size_t pg;

	if (!pg)
		pg = (size_t)sysconf(_SC_PAGESIZE);
	return pg;
}

/*
 * Map @size bytes of @fd followed by one inaccessible page, so that a read
 * or write past the end faults here instead of landing in a neighbour's
 * mapping. Populated: the pages are present before the first packet.
 */
static uint8_t *
map_guarded(int fd, size_t size, int prot, size_t *reserved)
{
	size_t len = ((size + page_size() - 1) & ~(page_size() - 1)) + page_size();
	void *base, *m;
	int e;

	base = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	m = mmap(base, size, prot, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		e = errno;
		munmap(base, len);
		errno = e;
		return NULL;
	}
	*reserved = len;
	return base;
}

/* A new memfd of @size bytes, sealed against shrinking and growing. */
static int
sealed_memfd(const char *name, const char *what, uint64_t size)
{
	char full[64];
	int fd, e;

	snprintf(full, sizeof(full), "%s-%s", name, what);
	fd = memfd_create(full, MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0 || fcntl(fd, F_ADD_SEALS, SEALS_NEEDED) < 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Refuse anything but a memfd of exactly @size bytes with the seals we need. */
static int
check_memfd(int fd, const char *what, uint64_t size)
{
	struct stat sb;
	int seals;

	if (fcntl(fd, F_GETFD) < 0) {
		rbuf__set_errmsg("%s: descriptor %d is not open", what, fd);
		return -EBADF;
	}
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0) {
		rbuf__set_errmsg("%s: not a sealable memfd (%s)", what, strerror(errno));
		return -EINVAL;
	}
	if ((seals & SEALS_NEEDED) != SEALS_NEEDED) {
		rbuf__set_errmsg("%s: seals 0x%x lack%s%s%s", what, (unsigned)seals,
		    (seals & F_SEAL_SHRINK) ? "" : " F_SEAL_SHRINK",
		    (seals & F_SEAL_GROW) ? "" : " F_SEAL_GROW",
		    (seals & F_SEAL_SEAL) ? "" : " F_SEAL_SEAL");
		return -EPERM;
	}
	if (fstat(fd, &sb) < 0) {
		rbuf__set_errmsg("%s: fstat: %s", what, strerror(errno));
		return -EINVAL;
	}
	if ((uint64_t)sb.st_size != size) {
		rbuf__set_errmsg("%s: size %llu, expected %llu", what,
		    (unsigned long long)sb.st_size, (unsigned long long)size);
		return -EINVAL;
	}
	return 0;
}

/*
 * A wake descriptor must be a connected AF_UNIX SOCK_SEQPACKET socket: a
 * send with MSG_DONTWAIT on it never blocks, whatever the peer does to its
 * own end (an eventfd's blocking mode and counter are shared with the peer,
 * which could use them to make our write block).
 */
static int
check_wake_fd(int fd, const char *what)
{
	int type = 0, domain = 0;
	socklen_t len = sizeof(type);

	if (fcntl(fd, F_GETFD) < 0) {
		rbuf__set_errmsg("%s: descriptor %d is not open", what, fd);
		return -EBADF;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &(socklen_t){sizeof(domain)}) < 0 ||
	    type != SOCK_SEQPACKET || domain != AF_UNIX) {
		rbuf__set_errmsg("%s: not an AF_UNIX SOCK_SEQPACKET socket", what);
		return -EINVAL;
	}
	return 0;
}

static struct rbuf_chan *
chan_alloc(const struct rbuf_chan_cfg *g, enum rbuf_side side)
{
	struct rbuf_chan *ch;

	if (side != RBUF_SIDE_SENDER && side != RBUF_SIDE_RECEIVER) {
		rbuf__set_errmsg("side %d is neither sender nor receiver", (int)side);
		errno = EINVAL;
		return NULL;
	}
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->mode = g->mode;
	ch->side = side;
	ch->n_recs = g->n_recs;
	ch->mask = g->n_recs - 1;
	ch->max_pieces = g->max_pieces;
	ch->align = g->align;
	ch->slot_size = (uint32_t)rbuf_shm_slot_size(g->max_pieces);
	ch->slot_shift = (uint32_t)__builtin_ctz(ch->slot_size);
	ch->asym_fence = rbuf__membarrier_register();
	ch->data_size = g->data_size;
	ch->ctrl_size = rbuf_shm_ctrl_size(g->n_recs, g->max_pieces);
	ch->ctrl_fd = ch->data_fd = ch->wait_fd = ch->kick_fd = -1;
	ch->peer_wait_fd = ch->peer_kick_fd = -1;
	return ch;
}

/* Check the geometry (defaults filled in) and allocate a handle for it. */
static struct rbuf_chan *
chan_new(const struct rbuf_chan_cfg *cfg, enum rbuf_side side)
{
	struct rbuf_chan_cfg g;
	int rc;

	errmsg[0] = '\0';
	rc = rbuf__check_geometry(cfg, &g);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return chan_alloc(&g, side);
}

static void
view_init(struct rbuf_chan *ch, struct rbuf_ring_view *v, enum rbuf_ring_id id, bool producer)
{
	size_t off = rbuf_shm_ring_off(ch->n_recs, ch->max_pieces, id);

	v->shm = (struct rbuf_shm_ring *)(void *)(ch->ctrl + off);
	v->slots = ch->ctrl + off + RBUF_SHM_SLOTS_OFF;
	/*
	 * Pick up where the counts stand: zero on a new channel, the last
	 * values on a re-attach after a restart. Nothing is trusted from here
	 * on: every later use checks the distance between the two counts.
	 */
	if (producer) {
		v->mine = atomic_load_explicit(&v->shm->prod, memory_order_relaxed);
		v->peer = atomic_load_explicit(&v->shm->cons, memory_order_acquire);
		if (v->mine - v->peer > ch->n_recs)
			v->peer = v->mine - ch->n_recs; /* no room until the peer is sane */
		/*
		 * The consumer may have announced a sleep before we attached:
		 * take its current announcement as not yet answered, so the
		 * first put wakes it. At worst that is one spurious kick.
		 */
		v->woken_seq = atomic_load_explicit(&v->shm->sleep_seq, memory_order_relaxed) - 1;
	} else {
		v->mine = atomic_load_explicit(&v->shm->cons, memory_order_relaxed);
		v->peer = v->mine; /* nothing ready until prod is read and checked */
		v->sleep_seq = atomic_load_explicit(&v->shm->sleep_seq, memory_order_relaxed);
	}
}

/* Map both areas and set up the two ring views. */
static int
chan_map(struct rbuf_chan *ch)
{
	int data_prot = ch->side == RBUF_SIDE_SENDER ? PROT_READ | PROT_WRITE : PROT_READ;

	ch->ctrl = map_guarded(ch->ctrl_fd, ch->ctrl_size, PROT_READ | PROT_WRITE, &ch->ctrl_map);
	if (!ch->ctrl) {
		rbuf__set_errmsg("control area: mmap: %s", strerror(errno));
		return -errno;
	}
	ch->data = map_guarded(ch->data_fd, ch->data_size, data_prot, &ch->data_map);
	if (!ch->data) {
		rbuf__set_errmsg("data area: mmap: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void
chan_views(struct rbuf_chan *ch)
{
	bool sender = ch->side == RBUF_SIDE_SENDER;

	view_init(ch, &ch->out, sender ? RBUF_RING_FULL : RBUF_RING_EMPTY, true);
	view_init(ch, &ch->in, sender ? RBUF_RING_EMPTY : RBUF_RING_FULL, false);
}

struct rbuf_chan *
rbuf_chan_create(const struct rbuf_chan_cfg *cfg, enum rbuf_side side)
{
	struct rbuf_shm_hdr *h;
	struct rbuf_chan *ch;
	int full[2], empty[2];
	int rc;

	ch = chan_new(cfg, side);
	if (!ch)
		return NULL;

	rc = sealed_memfd(cfg->name ? cfg->name : "rbuf", "ctrl", ch->ctrl_size);
	if (rc < 0)
		goto out_destroy;
	ch->ctrl_fd = rc;
	rc = sealed_memfd(cfg->name ? cfg->name : "rbuf", "data", ch->data_size);
	if (rc < 0)
		goto out_destroy;
	ch->data_fd = rc;

	/* full[0] waits for FULL records, full[1] kicks it; same for empty. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, full) < 0) {
		rc = -errno;
		goto out_destroy;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, empty) < 0) {
		rc = -errno;
		close(full[0]);
		close(full[1]);
		goto out_destroy;
	}
	if (side == RBUF_SIDE_SENDER) {
		ch->wait_fd = empty[0];
		ch->kick_fd = full[1];
		ch->peer_wait_fd = full[0];
		ch->peer_kick_fd = empty[1];
	} else {
		ch->wait_fd = full[0];
		ch->kick_fd = empty[1];
		ch->peer_wait_fd = empty[0];
		ch->peer_kick_fd = full[1];
	}

	rc = chan_map(ch);
	if (rc < 0)
		goto out_destroy;

	h = (struct rbuf_shm_hdr *)(void *)ch->ctrl;
	h->magic = RBUF_SHM_MAGIC;
	h->version_major = RBUF_SHM_VERSION_MAJOR;
	h->version_minor = RBUF_SHM_VERSION_MINOR;
	h->mode = (uint32_t)ch->mode;
	h->n_recs = ch->n_recs;
	h->max_pieces = ch->max_pieces;
	h->align = ch->align;
	h->data_size = ch->data_size;
	h->ctrl_size = ch->ctrl_size;
	/* The rings are zero: a new memfd reads as zeros. Nobody can have
	 * announced a sleep yet, so there is no announcement to answer. */
	chan_views(ch);
	ch->out.woken_seq = 0;
	return ch;

out_destroy:
	if (!errmsg[0])
		rbuf__set_errmsg("create: %s", strerror(-rc));
	rbuf_chan_destroy(ch);
	errno = -rc;
	return NULL;
}

int
rbuf_chan_peer_fds(const struct rbuf_chan *ch, struct rbuf_chan_fds *fds)
{
	if (ch->peer_wait_fd < 0)
		return -ENOENT;
	fds->ctrl = ch->ctrl_fd;
	fds->data = ch->data_fd;
	fds->wait = ch->peer_wait_fd;
	fds->kick = ch->peer_kick_fd;
	return 0;
}

void
rbuf_chan_fds(const struct rbuf_chan *ch, struct rbuf_chan_fds *fds)
{
	fds->ctrl = ch->ctrl_fd;
	fds->data = ch->data_fd;
	fds->wait = ch->wait_fd;
	fds->kick = ch->kick_fd;
}

void
rbuf_chan_peer_fds_close(struct rbuf_chan *ch)
{
	if (ch->peer_wait_fd >= 0)
		close(ch->peer_wait_fd);
	if (ch->peer_kick_fd >= 0)
		close(ch->peer_kick_fd);
	ch->peer_wait_fd = ch->peer_kick_fd = -1;
}

void
rbuf_chan_fds_close(struct rbuf_chan_fds *fds)
{
	int *v[] = {&fds->ctrl, &fds->data, &fds->wait, &fds->kick};

	for (unsigned i = 0; i < 4; i++) {
		if (*v[i] >= 0)
			close(*v[i]);
		*v[i] = -1;
	}
}

/* Compare the header once with what was agreed; it is never read again. */
static int
check_header(const struct rbuf_chan *ch)
{
	const struct rbuf_shm_hdr *h = (const struct rbuf_shm_hdr *)(const void *)ch->ctrl;
	struct rbuf_shm_hdr c;

	memcpy(&c, h, sizeof(c)); /* one read: the peer may be rewriting it */
	if (c.magic != RBUF_SHM_MAGIC) {
		rbuf__set_errmsg("control area: bad magic 0x%08x", c.magic);
		return -EPROTO;
	}
	if (c.version_major != RBUF_SHM_VERSION_MAJOR) {
		rbuf__set_errmsg("control area: layout version %u.%u, this side speaks %u.x",
		    c.version_major, c.version_minor, RBUF_SHM_VERSION_MAJOR);
		return -EPROTO;
	}
	if (c.mode != (uint32_t)ch->mode || c.n_recs != ch->n_recs ||
	    c.max_pieces != ch->max_pieces || c.align != ch->align ||
	    c.data_size != ch->data_size || c.ctrl_size != ch->ctrl_size) {
		rbuf__set_errmsg("control area: header (mode %u, n_recs %u, max_pieces %u, "
				 "align %u, data %llu) disagrees with the agreed geometry "
				 "(mode %u, n_recs %u, max_pieces %u, align %u, data %llu)",
		    c.mode, c.n_recs, c.max_pieces, c.align, (unsigned long long)c.data_size,
		    (unsigned)ch->mode, ch->n_recs, ch->max_pieces, ch->align,
		    (unsigned long long)ch->data_size);
		return -EPROTO;
	}
	return 0;
}

static int
dup_fd(int fd, int *out)
{
	*out = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	return *out < 0 ? -errno : 0;
}

struct rbuf_chan *
rbuf_chan_attach(
    const struct rbuf_chan_cfg *expect, enum rbuf_side side, const struct rbuf_chan_fds *fds)
{
	struct rbuf_chan *ch;
	int rc;

	ch = chan_new(expect, side);
	if (!ch)
		return NULL;

	if ((rc = check_memfd(fds->ctrl, "control area", ch->ctrl_size)) < 0 ||
	    (rc = check_memfd(fds->data, "data area", ch->data_size)) < 0 ||
	    (rc = check_wake_fd(fds->wait, "wait socket")) < 0 ||
	    (rc = check_wake_fd(fds->kick, "kick socket")) < 0)
		goto out_destroy;

	if ((rc = dup_fd(fds->ctrl, &ch->ctrl_fd)) < 0 ||
	    (rc = dup_fd(fds->data, &ch->data_fd)) < 0 ||
	    (rc = dup_fd(fds->wait, &ch->wait_fd)) < 0 ||
	    (rc = dup_fd(fds->kick, &ch->kick_fd)) < 0) {
		rbuf__set_errmsg("dup: %s", strerror(-rc));
		goto out_destroy;
	}
	rc = chan_map(ch);
	if (rc < 0)
		goto out_destroy;
	rc = check_header(ch);
	if (rc < 0)
		goto out_destroy;
	chan_views(ch);
	return ch;

out_destroy:
	rbuf_chan_destroy(ch);
	errno = -rc;
	return NULL;
}

void
rbuf_chan_destroy(struct rbuf_chan *ch)
{
	if (!ch)
		return;
	if (ch->ctrl)
		munmap(ch->ctrl, ch->ctrl_map);
	if (ch->data)
		munmap(ch->data, ch->data_map);
	rbuf_chan_peer_fds_close(ch);
	if (ch->ctrl_fd >= 0)
		close(ch->ctrl_fd);
	if (ch->data_fd >= 0)
		close(ch->data_fd);
	if (ch->wait_fd >= 0)
		close(ch->wait_fd);
	if (ch->kick_fd >= 0)
		close(ch->kick_fd);
	free(ch);
}

uint8_t *
rbuf_data(const struct rbuf_chan *ch)
{
	return ch->data;
}

uint64_t
rbuf_data_size(const struct rbuf_chan *ch)
{
	return ch->data_size;
}

int
rbuf_chan_wait_fd(const struct rbuf_chan *ch)
{
	return ch->wait_fd;
}

void
rbuf_chan_geometry(const struct rbuf_chan *ch, struct rbuf_chan_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = ch->mode;
	cfg->n_recs = ch->n_recs;
	cfg->max_pieces = ch->max_pieces;
	cfg->align = ch->align;
	cfg->data_size = ch->data_size;
}

void
rbuf_chan_stats(const struct rbuf_chan *ch, struct rbuf_stats *st)
{
	*st = ch->st;
}

static const char *const err_names[] = {
#define RBUF_ERR_NAME(name, desc) #name,
    RBUF_ERR_TABLE(RBUF_ERR_NAME)
#undef RBUF_ERR_NAME
};

static const char *const err_descs[] = {
#define RBUF_ERR_DESC(name, desc) desc,
    RBUF_ERR_TABLE(RBUF_ERR_DESC)
#undef RBUF_ERR_DESC
};

const char *
rbuf_err_name(enum rbuf_err e)
{
	return (unsigned)e < RBUF_ERR_MAX ? err_names[e] : "?";
}

const char *
rbuf_err_desc(enum rbuf_err e)
{
	return (unsigned)e < RBUF_ERR_MAX ? err_descs[e] : "?";
}

void *
rbuf__ctrl_base(const struct rbuf_chan *ch, size_t *size)
{
	*size = ch->ctrl_size;
	return ch->ctrl;
}
