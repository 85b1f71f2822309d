/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the attaching (trusted) side refuses before it maps anything: memfds
 * that are unsealed, growable, shrinkable or of the wrong size, descriptors
 * of the wrong kind, and headers that disagree with the agreed geometry.
 * Also: a sealed data area cannot be shrunk or grown by its creator.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/rbuf/chan_pair.h"

static const struct rbuf_chan_cfg cfg = {.mode = RBUF_MODE_RMM, .n_recs = 64, .data_size = 65536};

struct fixture {
	struct rbuf_chan *owner;
	struct rbuf_chan_fds fds; /* the good ones, owned by owner */
};

static int
setup(void **state)
{
	static struct fixture f;

	f.owner = rbuf_chan_create(&cfg, RBUF_SIDE_RECEIVER);
	if (!f.owner || rbuf_chan_peer_fds(f.owner, &f.fds) < 0)
		return -1;
	*state = &f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rbuf_chan_destroy(f->owner);
	return 0;
}

/* A memfd of @size bytes with exactly @seals added. */
static int
memfd_with(uint64_t size, int seals)
{
	int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* Attach as the sender with fds->data replaced; expect @err. */
static void
expect_data_refused(struct fixture *f, int data_fd, int err, const char *why)
{
	struct rbuf_chan_fds fds = f->fds;

	fds.data = data_fd;
	errno = 0;
	assert_null(rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds));
	assert_int_equal(errno, err);
	assert_non_null(strstr(rbuf_errmsg(), why));
}

static void
test_good_fds_attach(void **state)
{
	struct fixture *f = *state;
	struct rbuf_chan *ch = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &f->fds);

	assert_non_null(ch);
	rbuf_chan_destroy(ch);
}

static void
test_unsealed_memfd_is_refused(void **state)
{
	int fd = memfd_with(cfg.data_size, 0);

	expect_data_refused(*state, fd, EPERM, "F_SEAL_GROW");
	close(fd);
}

static void
test_growable_memfd_is_refused(void **state)
{
	int fd = memfd_with(cfg.data_size, F_SEAL_SHRINK | F_SEAL_SEAL);

	expect_data_refused(*state, fd, EPERM, "lack F_SEAL_GROW");
	close(fd);
}

static void
test_shrinkable_memfd_is_refused(void **state)
{
	int fd = memfd_with(cfg.data_size, F_SEAL_GROW | F_SEAL_SEAL);

	expect_data_refused(*state, fd, EPERM, "lack F_SEAL_SHRINK");
	close(fd);
}

/* Without F_SEAL_SEAL the creator could still add seals after the check
 * (F_SEAL_WRITE, say): the seals themselves must be sealed. */
static void
test_memfd_whose_seals_are_not_sealed_is_refused(void **state)
{
	int fd = memfd_with(cfg.data_size, F_SEAL_SHRINK | F_SEAL_GROW);

	expect_data_refused(*state, fd, EPERM, "lack F_SEAL_SEAL");
	close(fd);
}

static void
test_memfd_of_the_wrong_size_is_refused(void **state)
{
	int fd = memfd_with(cfg.data_size / 2, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);

	expect_data_refused(*state, fd, EINVAL, "size 32768, expected 65536");
	close(fd);
}

static void
test_something_that_is_not_a_memfd_is_refused(void **state)
{
	int pfd[2];

	assert_int_equal(pipe(pfd), 0);
	expect_data_refused(*state, pfd[0], EINVAL, "not a sealable memfd");
	close(pfd[0]);
	close(pfd[1]);
	expect_data_refused(*state, 1000, EBADF, "not open");
}

static void
test_a_sealed_data_area_cannot_be_shrunk_or_grown(void **state)
{
	struct fixture *f = *state;

	errno = 0;
	assert_int_equal(ftruncate(f->fds.data, (off_t)cfg.data_size / 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(ftruncate(f->fds.data, (off_t)cfg.data_size * 2), -1);
	assert_int_equal(errno, EPERM);
	assert_int_equal(fallocate(f->fds.data, 0, 0, (off_t)cfg.data_size * 2), -1);
	assert_int_equal(errno, EPERM);
	/* And the seals themselves are sealed. */
	assert_int_equal(fcntl(f->fds.data, F_ADD_SEALS, F_SEAL_WRITE), -1);
	assert_int_equal(errno, EPERM);
}

static void
test_wake_descriptors_must_be_seqpacket_sockets(void **state)
{
	struct fixture *f = *state;
	struct rbuf_chan_fds fds = f->fds;
	int efd = eventfd(0, EFD_CLOEXEC), sv[2];

	fds.kick = efd;
	assert_null(rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds));
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(rbuf_errmsg(), "kick socket"));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	fds.kick = f->fds.kick;
	fds.wait = sv[0];
	assert_null(rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &fds));
	assert_int_equal(errno, EINVAL);
	close(efd);
	close(sv[0]);
	close(sv[1]);
}

static void
test_header_that_disagrees_with_the_rpc_is_refused(void **state)
{
	struct fixture *f = *state;
	struct rbuf_chan_cfg other = cfg;
	struct rbuf_shm_hdr *h;
	size_t sz;

	/* Same sizes, different alignment: only the header can tell. */
	other.align = 64;
	assert_null(rbuf_chan_attach(&other, RBUF_SIDE_SENDER, &f->fds));
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(rbuf_errmsg(), "disagrees"));

	other = cfg;
	other.mode = RBUF_MODE_TMM;
	assert_null(rbuf_chan_attach(&other, RBUF_SIDE_SENDER, &f->fds));
	assert_int_equal(errno, EPROTO);

	/* Different ring size: the control area's size already differs. */
	other = cfg;
	other.n_recs = 128;
	assert_null(rbuf_chan_attach(&other, RBUF_SIDE_SENDER, &f->fds));
	assert_int_equal(errno, EINVAL);

	h = rbuf__ctrl_base(f->owner, &sz);
	h->version_major = 9;
	assert_null(rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &f->fds));
	assert_int_equal(errno, EPROTO);
	assert_non_null(strstr(rbuf_errmsg(), "version 9"));
	h->version_major = RBUF_SHM_VERSION_MAJOR;
	h->magic ^= 1;
	assert_null(rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &f->fds));
	assert_int_equal(errno, EPROTO);
	h->magic ^= 1;
}

static void
on_segv(int sig)
{
	(void)sig;
	_exit(42);
}

static void
test_receiver_maps_the_data_area_read_only(void **state)
{
	struct fixture *f = *state;
	struct rbuf_chan *snd = rbuf_chan_attach(&cfg, RBUF_SIDE_SENDER, &f->fds);
	int status;
	pid_t pid;

	assert_non_null(snd);
	/* The sender writes; the receiver (the owner here) reads it. */
	rbuf_data(snd)[100] = 0x5a;
	assert_int_equal(rbuf_data(f->owner)[100], 0x5a);
	/* A write through the receiver's mapping faults. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGSEGV, on_segv);
		*(volatile uint8_t *)(rbuf_data(f->owner) + 100) = 1;
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 42);
	assert_int_equal(rbuf_data(snd)[100], 0x5a);
	rbuf_chan_destroy(snd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_fds_attach),
	    cmocka_unit_test(test_unsealed_memfd_is_refused),
	    cmocka_unit_test(test_growable_memfd_is_refused),
	    cmocka_unit_test(test_shrinkable_memfd_is_refused),
	    cmocka_unit_test(test_memfd_whose_seals_are_not_sealed_is_refused),
	    cmocka_unit_test(test_memfd_of_the_wrong_size_is_refused),
	    cmocka_unit_test(test_something_that_is_not_a_memfd_is_refused),
	    cmocka_unit_test(test_a_sealed_data_area_cannot_be_shrunk_or_grown),
	    cmocka_unit_test(test_wake_descriptors_must_be_seqpacket_sockets),
	    cmocka_unit_test(test_header_that_disagrees_with_the_rpc_is_refused),
	    cmocka_unit_test(test_receiver_maps_the_data_area_read_only),
	};

	return cmocka_run_group_tests_name("rbuf_attach", tests, setup, teardown);
}
