// SPDX-License-Identifier: GPL-2.0
/*
 * The file operations of a revocable character device beyond read, write,
 * ioctl and poll, on /dev/resmgr-test, across the unbind of the device:
 * mmap (mappings of every process lose their pages, a later access is
 * SIGBUS, also after mremap() and fork(), and for a thread that faults
 * while the unbind runs), lseek, O_ASYNC (SIGIO) and fdinfo.
 *
 * Needs resmgr_test loaded (the .sh wrapper does it).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmgr_test.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define TEST_DRV	"/sys/bus/platform/drivers/resmgr_test"
#define PAGES		RESMGR_TEST_MMAP_PAGES

static long page_size;

static int test_bind(bool bind)
{
	return write_str(bind ? TEST_DRV "/bind" : TEST_DRV "/unbind",
			 "resmgr_test");
}

static int peek(void *p, unsigned char *val)
{
	return touch(p, false, val);
}

static int poke(void *p, unsigned char val)
{
	return touch(p, true, &val);
}

/* The pattern byte of page @i. */
static unsigned char pattern(int i)
{
	return 0xa5 ^ i;
}

static void *map_dev(int fd, int pages, int prot, int flags)
{
	return mmap(NULL, pages * page_size, prot, flags, fd, 0);
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	page_size = sysconf(_SC_PAGESIZE);
	catch_sigbus();
	test_bind(true);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open " DEV_PATH ": %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	struct resmgr_test_counters c = { 0 };
	int fd;

	if (self->fd >= 0)
		close(self->fd);
	test_bind(true);
	/* No file left behind: this one is the only one. */
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(fd, RESMGR_TEST_COUNTERS, &c));
	close(fd);
	EXPECT_EQ(1, c.files);
}

/*
 * A mapping shows the device's pages (two files, one memory); past them an
 * access is SIGBUS. After the unbind every access is SIGBUS, mmap() is
 * ENODEV, and a rebound device maps fresh pages.
 */
TEST_F(dev, mapping_is_revoked_by_unbind)
{
	unsigned char *a, *b, v;
	int other, i;

	a = map_dev(self->fd, PAGES + 1, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a) TH_LOG("mmap: %s", strerror(errno));
	for (i = 0; i < PAGES; i++)
		ASSERT_EQ(0, poke(a + i * page_size, pattern(i)));
	ASSERT_EQ(SIGBUS, peek(a + PAGES * page_size, &v));

	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	b = map_dev(other, PAGES, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < PAGES; i++) {
		ASSERT_EQ(0, peek(b + i * page_size, &v));
		ASSERT_EQ(pattern(i), v);
	}

	ASSERT_EQ(0, test_bind(false));
	for (i = 0; i < PAGES; i++) {
		EXPECT_EQ(SIGBUS, peek(a + i * page_size, &v)) TH_LOG("page %d", i);
		EXPECT_EQ(SIGBUS, poke(a + i * page_size, 1)) TH_LOG("page %d", i);
		EXPECT_EQ(SIGBUS, peek(b + i * page_size, &v)) TH_LOG("page %d", i);
	}
	ASSERT_EQ(MAP_FAILED, map_dev(self->fd, 1, PROT_READ, MAP_SHARED));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, munmap(a, (PAGES + 1) * page_size));
	ASSERT_EQ(0, munmap(b, PAGES * page_size));
	ASSERT_EQ(0, close(other));

	ASSERT_EQ(0, test_bind(true));
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	b = map_dev(other, PAGES, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	for (i = 0; i < PAGES; i++) {
		ASSERT_EQ(0, peek(b + i * page_size, &v));
		ASSERT_EQ(0, v) TH_LOG("page %d of the new device is not fresh", i);
	}
	munmap(b, PAGES * page_size);
	close(other);
}

/* The device's own checks: no executable mapping. */
TEST_F(dev, executable_mapping_is_refused)
{
	ASSERT_EQ(MAP_FAILED, map_dev(self->fd, 1, PROT_READ | PROT_EXEC, MAP_SHARED));
	ASSERT_EQ(EINVAL, errno);
}

/* A private mapping's copies of the pages are taken away too. */
TEST_F(dev, private_copies_are_revoked)
{
	unsigned char *p, v;

	p = map_dev(self->fd, 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, poke(p, 0x5a));	/* copy on write */
	ASSERT_EQ(0, peek(p, &v));
	ASSERT_EQ(0x5a, v);
	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(SIGBUS, peek(p, &v));
	munmap(p, page_size);
}

/* A mapping moved with mremap() before the unbind is revoked where it went. */
TEST_F(dev, moved_mapping_is_revoked)
{
	unsigned char *p, *q, *hole, v;

	p = map_dev(self->fd, 2, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, poke(p + page_size, pattern(1)));
	/* Somewhere else for sure: a hole reserved for it. */
	hole = mmap(NULL, 2 * page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, hole);
	q = mremap(p, 2 * page_size, 2 * page_size, MREMAP_MAYMOVE | MREMAP_FIXED, hole);
	ASSERT_EQ(hole, q) TH_LOG("mremap: %s", strerror(errno));
	ASSERT_EQ(0, peek(q + page_size, &v));
	ASSERT_EQ(pattern(1), v);

	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(SIGBUS, peek(q, &v));
	ASSERT_EQ(SIGBUS, peek(q + page_size, &v));
	munmap(q, 2 * page_size);
}

/*
 * A child inherits the mapping (and its page table entries) by fork(); the
 * unbind takes the pages from the child too. The child reads the pattern,
 * waits for the parent's unbind, and exits with what it saw.
 */
TEST_F(dev, forked_mapping_is_revoked)
{
	int go[2], ready[2], status;
	unsigned char *p, v;
	pid_t child;
	char c;

	p = map_dev(self->fd, 1, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, poke(p, pattern(0)));
	ASSERT_EQ(0, pipe(go));
	ASSERT_EQ(0, pipe(ready));
	child = fork();
	ASSERT_LE(0, child);
	if (child == 0) {
		/* 1: pattern not seen, 2: no SIGBUS after the unbind. */
		if (peek(p, &v) || v != pattern(0))
			_exit(1);
		write(ready[1], "r", 1);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(peek(p, &v) == SIGBUS ? 0 : 2);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status)) TH_LOG("child: 1 no pattern, 2 no SIGBUS");
	ASSERT_EQ(SIGBUS, peek(p, &v));
	munmap(p, page_size);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

struct faulter {
	unsigned char *map;
	atomic_long faults;
	atomic_int stop;
	int result;	/* SIGBUS, or -1 for a wrong value, 0 if stopped */
};

/*
 * Faults the pages in again and again: MADV_DONTNEED empties the mapping,
 * every touch faults; until a touch gets SIGBUS.
 */
static void *faulter_thread(void *arg)
{
	struct faulter *f = arg;
	unsigned char v;
	int i, r;

	while (!atomic_load(&f->stop)) {
		madvise(f->map, PAGES * page_size, MADV_DONTNEED);
		for (i = 0; i < PAGES; i++) {
			r = peek(f->map + i * page_size, &v);
			if (r) {
				f->result = r;
				return NULL;
			}
			if (v != pattern(i)) {
				f->result = -1;
				return NULL;
			}
			atomic_fetch_add(&f->faults, 1);
		}
	}
	return NULL;
}

/*
 * Two threads fault the mapping while the unbind runs: both end with SIGBUS,
 * never a stale or wrong page, and the unbind returns.
 */
TEST_F(dev, faults_during_unbind)
{
	struct faulter f[2] = { 0 };
	pthread_t t[2];
	unsigned char *p;
	int64_t end;
	long before;
	int i;

	p = map_dev(self->fd, PAGES, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < PAGES; i++)
		ASSERT_EQ(0, poke(p + i * page_size, pattern(i)));
	for (i = 0; i < 2; i++) {
		f[i].map = p;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, faulter_thread, &f[i]));
	}
	/* Both are faulting before the unbind starts. */
	for (end = now_ms() + 10000; atomic_load(&f[0].faults) < 100 ||
	     atomic_load(&f[1].faults) < 100; usleep(1000))
		ASSERT_GT(end, now_ms()) TH_LOG("faulters do not run");
	before = atomic_load(&f[0].faults) + atomic_load(&f[1].faults);

	ASSERT_EQ(0, test_bind(false));
	for (i = 0; i < 2; i++) {
		/* A thread that never stopped by itself is a stale mapping. */
		for (end = now_ms() + 10000; !f[i].result && now_ms() < end;)
			usleep(1000);
		atomic_store(&f[i].stop, 1);
		pthread_join(t[i], NULL);
		EXPECT_EQ(SIGBUS, f[i].result) TH_LOG("faulter %d: %d", i, f[i].result);
	}
	TH_LOG("%ld faults before the unbind, %ld in all", before,
	       atomic_load(&f[0].faults) + atomic_load(&f[1].faults));
	munmap(p, PAGES * page_size);
}

struct opener {
	atomic_int stop;
	long opens, absent, other;
	int last_other;
	pthread_t thread;
};

/* Opens and closes the device in a loop, counting what open() answers. */
static void *opener_thread(void *arg)
{
	struct opener *o = arg;
	int fd;

	while (!atomic_load(&o->stop)) {
		fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			o->opens++;
			close(fd);
		} else if (errno == ENODEV || errno == ENOENT || errno == ENXIO) {
			o->absent++;
		} else {
			o->other++;
			o->last_other = errno;
		}
	}
	return NULL;
}

/*
 * open() while the device is unbound and bound again, many times: an open in
 * flight while the registration goes must either get the file or ENODEV
 * (ENOENT/ENXIO once the node is gone), and must not touch the registration
 * after it is freed (KASAN reports it, which fails the run).
 */
TEST_F(dev, opens_during_unbind)
{
	struct opener o[3] = { 0 };
	long opens = 0, absent = 0;
	int i, cycles;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&o[i].thread, NULL, opener_thread, &o[i]));
	for (cycles = 0; cycles < 50; cycles++) {
		usleep(2000);
		ASSERT_EQ(0, test_bind(false));
		ASSERT_EQ(0, test_bind(true));
	}
	for (i = 0; i < 3; i++) {
		atomic_store(&o[i].stop, 1);
		pthread_join(o[i].thread, NULL);
		EXPECT_EQ(0, o[i].other) TH_LOG("open: errno %d", o[i].last_other);
		opens += o[i].opens;
		absent += o[i].absent;
	}
	TH_LOG("%d cycles: %ld opens, %ld while away", cycles, opens, absent);
	ASSERT_LT(0, opens);
}

/* lseek() moves within the device's text until the unbind, then ENODEV. */
TEST_F(dev, lseek_across_unbind)
{
	char buf[16];

	ASSERT_EQ(7, lseek(self->fd, 7, SEEK_SET));
	ASSERT_EQ(5, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "test\n", 5));
	ASSERT_EQ(12, lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(10, lseek(self->fd, -2, SEEK_CUR));
	ASSERT_EQ(-1, lseek(self->fd, 13, SEEK_SET));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(ENODEV, errno);
}

/* Written by the signal handler, read by the test: atomic accesses only. */
static int sigio_count, sigio_code;

static void on_sigio(int sig, siginfo_t *si, void *uc)
{
	__atomic_store_n(&sigio_code, si->si_code, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&sigio_count, 1, __ATOMIC_SEQ_CST);
}

/* Waits up to 10 s for SIGIO number @n. */
static bool wait_sigio(int n)
{
	int64_t end = now_ms() + 10000;

	while (__atomic_load_n(&sigio_count, __ATOMIC_SEQ_CST) < n && now_ms() < end)
		usleep(1000);
	return __atomic_load_n(&sigio_count, __ATOMIC_SEQ_CST) >= n;
}

/*
 * O_ASYNC: SIGIO with POLL_IN when the device wakes its pollers, POLL_HUP
 * when it is unbound. Afterwards O_ASYNC can be cleared but not set.
 */
TEST_F(dev, sigio_across_unbind)
{
	struct sigaction sa = { .sa_sigaction = on_sigio, .sa_flags = SA_SIGINFO };
	int sig = SIGRTMIN + 1, other, fl;

	__atomic_store_n(&sigio_count, 0, __ATOMIC_SEQ_CST);
	ASSERT_EQ(0, sigaction(sig, &sa, NULL));
	ASSERT_EQ(0, fcntl(self->fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(self->fd, F_SETSIG, sig));
	fl = fcntl(self->fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl | O_ASYNC));

	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_POLL_MASK, &(__u64){ POLLIN }));
	ASSERT_TRUE(wait_sigio(1));
	ASSERT_EQ(POLL_IN, __atomic_load_n(&sigio_code, __ATOMIC_SEQ_CST));

	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, test_bind(false));
	ASSERT_TRUE(wait_sigio(2)) TH_LOG("no SIGIO for the unbind");
	ASSERT_EQ(POLL_HUP, __atomic_load_n(&sigio_code, __ATOMIC_SEQ_CST));

	ASSERT_EQ(-1, fcntl(other, F_SETFL, fcntl(other, F_GETFL) | O_ASYNC));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, fcntl(self->fd, F_SETFL, fl));
	ASSERT_EQ(0, close(other));
	signal(sig, SIG_DFL);
}

/* Reads /proc/self/fdinfo/@fd into @buf. */
static int read_fdinfo(int fd, char *buf, size_t size)
{
	char path[64];
	ssize_t n;
	int f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return -errno;
	n = read(f, buf, size - 1);
	close(f);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* fdinfo has the device's line while it is bound, and says it is gone after. */
TEST_F(dev, fdinfo_across_unbind)
{
	char buf[1024];

	ASSERT_EQ(0, read_fdinfo(self->fd, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "resmgr-test-handles:\t0\n")) TH_LOG("%s", buf);
	ASSERT_EQ(NULL, strstr(buf, "resmgr-revoked"));
	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(0, read_fdinfo(self->fd, buf, sizeof(buf)));
	ASSERT_NE(NULL, strstr(buf, "resmgr-revoked:\t1\n")) TH_LOG("%s", buf);
	ASSERT_EQ(NULL, strstr(buf, "resmgr-test-handles"));
	ASSERT_NE(NULL, strstr(buf, "flags:"));
}

TEST_HARNESS_MAIN
