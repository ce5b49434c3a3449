// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/resmgr-test: pollers asleep on the device while it is unbound.
 *
 * Pollers of a revocable chardev sleep on the device's wait queue. Every
 * waiter asleep on it when the device is unbound must be woken, see the
 * file as hung up (poll: POLLHUP | POLLERR, epoll: EPOLLHUP | EPOLLERR,
 * select: the fd in the set it waited on) and leave the queue without
 * touching freed memory: select() and poll() do not unhook on POLLFREE
 * (only epoll, aio and io_uring do), so a queue freed at the revocation
 * (with the implementation, as it was) is a use-after-free when they
 * return, after a WARN in __wake_up_pollfree().
 *
 * Each case puts waiters (child processes) to sleep in one flavour of the
 * call, checks through /proc that every one of them sleeps in the system
 * call, unbinds the device and checks that every waiter returns within a
 * bound with the right result, then rebinds and opens the device afresh.
 * The kernel's reports (WARN, KASAN) are caught from
 * the guest log by the test harness; this program creates the situation
 * and checks what user space sees.
 *
 * Waiter 0 shares the test's open file; in most cases every other waiter
 * has an open file of its own (the wait queue is the device's, whatever
 * the file), with EPOLLEXCLUSIVE all share one file, as on a listening
 * socket. The holders of the files close them in three ways:
 *  - after: every holder keeps the fd until the waiters have returned;
 *  - before: every other holder closes its fd before the unbind, so that the
 *    waiters' own fds are the last ones (the last close then runs the
 *    release of a revoked file);
 *  - shared: the waiter shares its fd table with the test, which closes the
 *    fd under it before the unbind; only the poll table's own reference is
 *    left, dropped when the call returns (poll: POLLNVAL, select: the fd
 *    set, as for any fd closed during the call). Not for epoll: epoll holds
 *    no reference, a closed last fd leaves its interest list.
 *
 * Needs resmgr_test loaded (the .sh wrapper does it).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmgr_test.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define TEST_DRV	"/sys/bus/platform/drivers/resmgr_test"

/*
 * Proposed: set the poll mask (EPOLL* bits) that poll() reports for this
 * open file, and wake its pollers. The device has no poll() today: the
 * chardev adapter reports EPOLLIN | EPOLLOUT, so a select() on readfds or
 * a poll() for POLLIN returns at once and never sleeps. The cases that
 * need a device that is not readable are skipped while it answers ENOTTY.
 */
#ifndef RESMGR_TEST_POLL_MASK
#define RESMGR_TEST_POLL_MASK	_IOW(RESMGR_TEST_MAGIC, 0x16, __u64)
#endif

/* Generous, for TCG with KASAN: every bound below is far above the norm. */
#define ASLEEP_MS	10000	/* for each waiter to be asleep in its call */
#define SETTLE_MS	100	/* then, asleep for this long still */
#define WAKE_MS		30000	/* from the unbind, for every waiter to return */
#define REAP_MS		5000	/* teardown: for a killed child to be gone */
#define MAX_WAITERS	4
/* The device's fd is kept above the fds the test opens and closes. */
#define HIGH_FD		200
#define EP_COOKIE	0x7e5f0c0de0000000ULL

enum flavour {
	W_SELECT_READ,		/* select(), fd in readfds */
	W_SELECT_EXCEPT,	/* select(), fd in exceptfds */
	W_POLL_IN,		/* poll(), POLLIN */
	W_POLL_PRI,		/* poll(), POLLPRI */
	W_PPOLL_PRI,		/* ppoll() with a signal mask, POLLPRI */
	W_EPOLL_LT,		/* epoll, level-triggered, EPOLLPRI */
	W_EPOLL_ET,		/* epoll, EPOLLIN | EPOLLET, first edge consumed */
	W_EPOLL_EXCL,		/* epoll, EPOLLEXCLUSIVE, one epoll fd per waiter */
};

enum closing {
	CLOSE_AFTER,	/* holders close after the waiters returned */
	CLOSE_BEFORE,	/* other holders close before the unbind */
	CLOSE_SHARED,	/* closed under the waiter, in a shared fd table */
};

static const struct flavour_info {
	const char *name;
	short events;		/* poll(), ppoll() */
	bool readfds, exceptfds;	/* select() */
	uint32_t ep_events;	/* epoll */
	bool prime;		/* epoll: consume the first edge */
	bool quiet;		/* the device must not report POLLIN */
} flavours[] = {
	[W_SELECT_READ]		= { "select(readfds)", .readfds = true, .quiet = true },
	[W_SELECT_EXCEPT]	= { "select(exceptfds)", .exceptfds = true },
	[W_POLL_IN]		= { "poll(POLLIN)", .events = POLLIN, .quiet = true },
	[W_POLL_PRI]		= { "poll(POLLPRI)", .events = POLLPRI },
	[W_PPOLL_PRI]		= { "ppoll(POLLPRI)", .events = POLLPRI },
	[W_EPOLL_LT]		= { "epoll(EPOLLPRI)", .ep_events = EPOLLPRI },
	[W_EPOLL_ET]		= { "epoll(EPOLLIN|EPOLLET)",
				    .ep_events = EPOLLIN | EPOLLET, .prime = true },
	[W_EPOLL_EXCL]		= { "epoll(EPOLLEXCLUSIVE)", .ep_events = EPOLLEXCLUSIVE },
};

static bool is_epoll(enum flavour f)
{
	return f >= W_EPOLL_LT;
}

static bool is_select(enum flavour f)
{
	return f == W_SELECT_READ || f == W_SELECT_EXCEPT;
}

/* What a waiter child reports, in memory shared with the test. */
struct waiter {
	int entering;		/* about to enter the blocking call */
	int returned;		/* the call returned */
	int setup;		/* 0, or the step of the child's own setup that failed */
	int setup_err;		/* its errno, or the unexpected result */
	int ret, err;		/* the blocking call's result and errno */
	unsigned int revents;	/* poll: revents; epoll: events; select: 1 if in its set */
	uint64_t data;		/* epoll: the event's data */
	int64_t done_ms;	/* when the call returned */
	/* Afterwards, on its own fd (not for CLOSE_SHARED): */
	int read_ret, read_err;
	int ioctl_ret, ioctl_err;
	int repoll_ret;
	unsigned int repoll_revents;
	int close_ret, close_err;
};

/* Steps of a waiter's setup (struct waiter's setup). */
enum {
	STEP_EPOLL_CREATE = 1,
	STEP_EPOLL_CTL,
	STEP_PRIME,	/* the first edge was not reported */
	STEP_READY,	/* the awaited event is already there: it would not sleep */
};

FIXTURE(pollers) {
	int fd[MAX_WAITERS];	/* the test's fd of each open file, or -1 */
	int files;		/* open files: waiter i uses fd[i < files ? i : 0] */
	__u64 files_before;	/* open files of the module, not counting ours */
	struct waiter *w;	/* MAX_WAITERS, shared */
	pid_t pid[MAX_WAITERS];	/* > 0 while not reaped */
	int status[MAX_WAITERS];
	int64_t reaped_ms[MAX_WAITERS];
	pid_t unbinder;		/* > 0 while not reaped */
	int unbinder_status;
};

FIXTURE_VARIANT(pollers) {
	enum flavour flavour;
	enum closing closing;
	int waiters;
	bool one_file;		/* all waiters on the test's open file */
};

FIXTURE_VARIANT_ADD(pollers, select_read_close_after) {
	.flavour = W_SELECT_READ,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, select_read_close_before) {
	.flavour = W_SELECT_READ,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, select_read_close_shared) {
	.flavour = W_SELECT_READ,
	.closing = CLOSE_SHARED,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, select_except_close_after) {
	.flavour = W_SELECT_EXCEPT,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, select_except_close_before) {
	.flavour = W_SELECT_EXCEPT,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, select_except_close_shared) {
	.flavour = W_SELECT_EXCEPT,
	.closing = CLOSE_SHARED,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_in_close_after) {
	.flavour = W_POLL_IN,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_in_close_before) {
	.flavour = W_POLL_IN,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_in_close_shared) {
	.flavour = W_POLL_IN,
	.closing = CLOSE_SHARED,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_pri_close_after) {
	.flavour = W_POLL_PRI,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_pri_close_before) {
	.flavour = W_POLL_PRI,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, poll_pri_close_shared) {
	.flavour = W_POLL_PRI,
	.closing = CLOSE_SHARED,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, ppoll_pri_close_after) {
	.flavour = W_PPOLL_PRI,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, ppoll_pri_close_before) {
	.flavour = W_PPOLL_PRI,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, ppoll_pri_close_shared) {
	.flavour = W_PPOLL_PRI,
	.closing = CLOSE_SHARED,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, epoll_lt_close_after) {
	.flavour = W_EPOLL_LT,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, epoll_lt_close_before) {
	.flavour = W_EPOLL_LT,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, epoll_et_close_after) {
	.flavour = W_EPOLL_ET,
	.closing = CLOSE_AFTER,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, epoll_et_close_before) {
	.flavour = W_EPOLL_ET,
	.closing = CLOSE_BEFORE,
	.waiters = 2,
};

FIXTURE_VARIANT_ADD(pollers, epoll_exclusive_close_after) {
	.flavour = W_EPOLL_EXCL,
	.closing = CLOSE_AFTER,
	.waiters = MAX_WAITERS,
	.one_file = true,
};

FIXTURE_VARIANT_ADD(pollers, epoll_exclusive_close_before) {
	.flavour = W_EPOLL_EXCL,
	.closing = CLOSE_BEFORE,
	.waiters = MAX_WAITERS,
	.one_file = true,
};

static int test_bind(bool bind)
{
	return write_str(bind ? TEST_DRV "/bind" : TEST_DRV "/unbind",
			 "resmgr_test");
}

/* Reads a /proc file into @buf (NUL-terminated); its length or -errno. */
static int proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return n;
}

/* The system calls a waiter may sleep in, whatever the C library uses. */
static const long wait_syscalls[] = {
#ifdef __NR_select
	__NR_select,
#endif
#ifdef __NR__newselect
	__NR__newselect,
#endif
#ifdef __NR_pselect6
	__NR_pselect6,
#endif
#ifdef __NR_pselect6_time64
	__NR_pselect6_time64,
#endif
#ifdef __NR_poll
	__NR_poll,
#endif
#ifdef __NR_ppoll
	__NR_ppoll,
#endif
#ifdef __NR_ppoll_time64
	__NR_ppoll_time64,
#endif
#ifdef __NR_epoll_wait
	__NR_epoll_wait,
#endif
#ifdef __NR_epoll_pwait
	__NR_epoll_pwait,
#endif
#ifdef __NR_epoll_pwait2
	__NR_epoll_pwait2,
#endif
};

/*
 * Whether @pid sleeps (state S) in one of wait_syscalls, per /proc. Without
 * /proc/<pid>/syscall (no CONFIG_HAVE_ARCH_TRACEHOOK) the state alone
 * counts. @why gets what was seen, for the log.
 */
static bool asleep_in_wait(pid_t pid, char *why, size_t len)
{
	char stat[512], sc[256], wchan[64];
	const char *paren;
	char state = '?', *end;
	long nr = -1;
	size_t i;
	int ret;

	if (proc_read(pid, "stat", stat, sizeof(stat)) > 0) {
		paren = strrchr(stat, ')');
		if (paren && paren[1] == ' ')
			state = paren[2];
	}
	ret = proc_read(pid, "syscall", sc, sizeof(sc));
	if (ret < 0)
		snprintf(sc, sizeof(sc), "(unreadable: %s)", strerror(-ret));
	if (proc_read(pid, "wchan", wchan, sizeof(wchan)) < 0)
		strcpy(wchan, "?");
	snprintf(why, len, "pid %d state %c wchan %s syscall %.60s", pid, state,
		 wchan, sc);

	if (state != 'S')
		return false;
	if (ret < 0)
		return true;
	nr = strtol(sc, &end, 10);
	if (end == sc)		/* "running" */
		return false;
	for (i = 0; i < ARRAY_SIZE(wait_syscalls); i++)
		if (nr == wait_syscalls[i])
			return true;
	return false;
}

/* A child that shares the fd table with its parent (CLONE_FILES), or not. */
static pid_t spawn(bool share_files)
{
	if (!share_files)
		return fork();
	/* Like fork() otherwise: no CLONE_VM, so the stack is a copy. */
	return syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);
}

/*
 * A waiter: sleeps in its flavour of the call on @fd until it returns, then
 * (unless the fd was closed under it) tries the revoked file and closes it.
 * Runs in a child, possibly made by a raw clone(): system calls only, no
 * assertion, no raise(). Exits 0 whatever happened (it never returns), the
 * results are in @w.
 */
static void waiter_main(struct waiter *w, enum flavour fl,
			enum closing closing, int fd, int index)
{
	const struct flavour_info *f = &flavours[fl];
	struct epoll_event ev = { 0 }, out = { 0 };
	struct resmgr_test_counters c;
	struct pollfd pfd = { .fd = fd, .events = f->events };
	fd_set set, *rd = NULL, *ex = NULL;
	struct timeval zero = { 0 };
	sigset_t none;
	char buf[32];
	int ep = -1, ret, err;

	switch (fl) {
	case W_SELECT_READ:
	case W_SELECT_EXCEPT:
		FD_ZERO(&set);
		FD_SET(fd, &set);
		if (f->readfds)
			rd = &set;
		else
			ex = &set;
		/* Nothing to report yet, or the call would not sleep. */
		ret = select(fd + 1, rd, NULL, ex, &zero);
		if (ret) {
			w->setup = STEP_READY;
			w->setup_err = ret < 0 ? -errno : ret;
			_exit(0);
		}
		FD_SET(fd, &set);
		__atomic_store_n(&w->entering, 1, __ATOMIC_SEQ_CST);
		ret = select(fd + 1, rd, NULL, ex, NULL);
		err = errno;
		w->revents = FD_ISSET(fd, &set) ? 1 : 0;
		break;
	case W_POLL_IN:
	case W_POLL_PRI:
	case W_PPOLL_PRI:
		ret = poll(&pfd, 1, 0);
		if (ret) {
			w->setup = STEP_READY;
			w->setup_err = ret < 0 ? -errno : pfd.revents;
			_exit(0);
		}
		__atomic_store_n(&w->entering, 1, __ATOMIC_SEQ_CST);
		if (fl == W_PPOLL_PRI) {
			sigemptyset(&none);
			ret = ppoll(&pfd, 1, NULL, &none);
		} else {
			ret = poll(&pfd, 1, -1);
		}
		err = errno;
		w->revents = pfd.revents;
		break;
	default:
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0) {
			w->setup = STEP_EPOLL_CREATE;
			w->setup_err = errno;
			_exit(0);
		}
		ev.events = f->ep_events;
		ev.data.u64 = EP_COOKIE + index;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
			w->setup = STEP_EPOLL_CTL;
			w->setup_err = errno;
			_exit(0);
		}
		ret = epoll_wait(ep, &out, 1, 0);
		if (f->prime && (ret != 1 || !(out.events & EPOLLIN))) {
			w->setup = STEP_PRIME;
			w->setup_err = ret < 0 ? -errno : ret;
			_exit(0);
		}
		/* After the edge, or level-triggered: nothing is ready. */
		if (f->prime)
			ret = epoll_wait(ep, &out, 1, 0);
		if (ret) {
			w->setup = STEP_READY;
			w->setup_err = ret < 0 ? -errno : (int)out.events;
			_exit(0);
		}
		memset(&out, 0, sizeof(out));
		__atomic_store_n(&w->entering, 1, __ATOMIC_SEQ_CST);
		ret = epoll_wait(ep, &out, 1, -1);
		err = errno;
		w->revents = out.events;
		w->data = out.data.u64;
		break;
	}
	w->ret = ret;
	w->err = ret < 0 ? err : 0;
	w->done_ms = now_ms();
	__atomic_store_n(&w->returned, 1, __ATOMIC_SEQ_CST);

	if (closing != CLOSE_SHARED) {
		/* A reader and a poller on the revoked file, then its close. */
		w->read_ret = read(fd, buf, sizeof(buf));
		w->read_err = errno;
		w->ioctl_ret = ioctl(fd, RESMGR_TEST_COUNTERS, &c);
		w->ioctl_err = errno;
		pfd.fd = fd;
		pfd.events = POLLIN | POLLPRI;
		pfd.revents = 0;
		w->repoll_ret = poll(&pfd, 1, 0);
		w->repoll_revents = pfd.revents;
		w->close_ret = close(fd);
		w->close_err = errno;
	}
	if (ep >= 0)
		close(ep);
	_exit(0);
}

static __u64 open_files(int fd)
{
	struct resmgr_test_counters c = { 0 };

	if (ioctl(fd, RESMGR_TEST_COUNTERS, &c))
		return (__u64)-1;
	return c.files;
}

/* Reaps *@pid if it has exited (then *@pid = 0); true if it is gone. */
static bool reap(pid_t *pid, int *status, int64_t *when)
{
	if (*pid <= 0)
		return true;
	if (waitpid(*pid, status, WNOHANG) != *pid)
		return false;
	if (when)
		*when = now_ms();
	*pid = 0;
	return true;
}

/* Kills (SIGKILL) and reaps @pid, within REAP_MS; false if it is still there. */
static bool kill_and_reap(pid_t pid)
{
	int64_t end = now_ms() + REAP_MS;

	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, WNOHANG) != pid) {
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/* Opens the device at an fd >= HIGH_FD; the fd or -errno. */
static int open_high(void)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC), high;

	if (fd < 0)
		return -errno;
	high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);
	if (high < 0)
		high = -errno;
	close(fd);
	return high;
}

/* Closes the fds of @fds (MAX_WAITERS, -1 for none); the first error or 0. */
static int close_all(int *fds)
{
	int i, err = 0;

	for (i = 0; i < MAX_WAITERS; i++) {
		if (fds[i] >= 0 && close(fds[i]) && !err)
			err = -errno;
		fds[i] = -1;
	}
	return err;
}

FIXTURE_SETUP(pollers)
{
	int64_t end;
	int fd = -1, i;

	for (i = 0; i < MAX_WAITERS; i++)
		self->fd[i] = -1;
	self->w = mmap(NULL, sizeof(*self->w) * MAX_WAITERS,
		       PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->w);
	memset(self->w, 0, sizeof(*self->w) * MAX_WAITERS);
	ASSERT_EQ(0, access(TEST_DRV, F_OK)) TH_LOG("resmgr_test is not loaded");

	/* A failed case may have left the device unbound (EBUSY if bound). */
	test_bind(true);
	/*
	 * Above every fd the test opens and closes later: once closed under
	 * a waiter that shares the fd table, no other file may take its
	 * number.
	 */
	for (end = now_ms() + 5000; fd < 0 && now_ms() < end;) {
		fd = open_high();
		if (fd < 0)
			usleep(10000);
	}
	ASSERT_LE(HIGH_FD, fd) TH_LOG("open " DEV_PATH ": %s", strerror(-fd));
	self->fd[0] = fd;
	self->files = 1;
	self->files_before = open_files(fd) - 1;
}

FIXTURE_TEARDOWN(pollers)
{
	bool unbind_stuck = false;
	int i;

	/* Whatever happened: no waiter left, the device bound again. */
	for (i = 0; i < MAX_WAITERS; i++) {
		if (self->pid[i] > 0 && !kill_and_reap(self->pid[i]))
			TH_LOG("waiter %d (pid %d) did not die", i, self->pid[i]);
		self->pid[i] = 0;
	}
	if (self->unbinder > 0) {
		/* In D state if the unbind hangs: SIGKILL does not stop it. */
		if (!kill_and_reap(self->unbinder)) {
			TH_LOG("the unbind (pid %d) still hangs: not rebinding",
			       self->unbinder);
			unbind_stuck = true;
		}
		self->unbinder = 0;
	}
	close_all(self->fd);
	if (!unbind_stuck)
		test_bind(true);
	if (self->w != MAP_FAILED)
		munmap(self->w, sizeof(*self->w) * MAX_WAITERS);
}

TEST_F_TIMEOUT(pollers, waiters_across_unbind, 90)
{
	const struct flavour_info *f = &flavours[variant->flavour];
	bool shared = variant->closing == CLOSE_SHARED;
	int n = variant->waiters, i, j, fd;
	int64_t t0, end;
	char why[256], buf[32];
	struct pollfd pfd;

	ASSERT_GE(MAX_WAITERS, n);
	TH_LOG("%d waiter(s) in %s", n, f->name);

	for (; !variant->one_file && self->files < n; self->files++) {
		fd = open_high();
		ASSERT_LE(HIGH_FD, fd) TH_LOG("open " DEV_PATH ": %s", strerror(-fd));
		self->fd[self->files] = fd;
	}
	for (i = 0; f->quiet && i < self->files; i++) {
		if (!ioctl(self->fd[i], RESMGR_TEST_POLL_MASK, &(__u64){ 0 }))
			continue;
		ASSERT_EQ(ENOTTY, errno);
		/* No poll(): the adapter reports POLLIN | POLLOUT. */
		SKIP(return, "%s would not sleep: needs RESMGR_TEST_POLL_MASK",
		     f->name);
	}

	/* The waiters, each asleep in its call before the next one starts. */
	for (i = 0; i < n; i++) {
		self->pid[i] = spawn(shared);
		ASSERT_LE(0, self->pid[i]) TH_LOG("fork: %s", strerror(errno));
		if (self->pid[i] == 0) {
			fd = self->fd[i < self->files ? i : 0];
			/* Its own copy of its file only (a copy: not shared). */
			for (j = 0; !shared && j < MAX_WAITERS; j++)
				if (self->fd[j] >= 0 && self->fd[j] != fd)
					close(self->fd[j]);
			/* Never returns. */
			waiter_main(&self->w[i], variant->flavour,
				    variant->closing, fd, i);
		}

		for (end = now_ms() + ASLEEP_MS;; usleep(5000)) {
			if (__atomic_load_n(&self->w[i].entering, __ATOMIC_SEQ_CST) &&
			    asleep_in_wait(self->pid[i], why, sizeof(why)))
				break;
			ASSERT_EQ(0, self->w[i].setup)
				TH_LOG("waiter %d: setup step %d failed (%d)", i,
				       self->w[i].setup, self->w[i].setup_err);
			ASSERT_EQ(0, self->w[i].returned)
				TH_LOG("waiter %d returned before the unbind: %d (%s), revents %#x",
				       i, self->w[i].ret, strerror(self->w[i].err),
				       self->w[i].revents);
			ASSERT_GT(end, now_ms())
				TH_LOG("waiter %d not asleep in its call: %s", i, why);
		}
	}

	/* The others close before the unbind: now or under the waiter. */
	if (variant->closing != CLOSE_AFTER)
		ASSERT_EQ(0, close_all(self->fd));

	/* Asleep for a while still (a close does not wake them). */
	usleep(SETTLE_MS * 1000);
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, self->w[i].returned)
			TH_LOG("waiter %d returned before the unbind: %d (%s), revents %#x",
			       i, self->w[i].ret, strerror(self->w[i].err),
			       self->w[i].revents);
		ASSERT_TRUE(asleep_in_wait(self->pid[i], why, sizeof(why)))
			TH_LOG("waiter %d no longer asleep: %s", i, why);
	}

	/*
	 * The unbind, from a child: if it waited for a waiter that is never
	 * woken, it could not be interrupted.
	 */
	t0 = now_ms();
	self->unbinder = fork();
	ASSERT_LE(0, self->unbinder);
	if (self->unbinder == 0) {
		close_all(self->fd);
		_exit(-test_bind(false) & 0xff);
	}

	end = t0 + WAKE_MS;
	for (;;) {
		bool gone = reap(&self->unbinder, &self->unbinder_status, NULL);

		for (i = 0; i < n; i++)
			gone &= reap(&self->pid[i], &self->status[i],
				     &self->reaped_ms[i]);
		if (gone || now_ms() > end)
			break;
		usleep(5000);
	}

	ASSERT_EQ(0, self->unbinder)
		TH_LOG("the unbind has not returned after %d ms", WAKE_MS);
	ASSERT_TRUE(WIFEXITED(self->unbinder_status));
	ASSERT_EQ(0, WEXITSTATUS(self->unbinder_status))
		TH_LOG("unbind: %s", strerror(WEXITSTATUS(self->unbinder_status)));

	for (i = 0; i < n; i++) {
		struct waiter *w = &self->w[i];

		if (self->pid[i] > 0)
			asleep_in_wait(self->pid[i], why, sizeof(why));
		ASSERT_EQ(0, self->pid[i])
			TH_LOG("waiter %d not woken %d ms after the unbind: %s",
			       i, WAKE_MS, why);
		ASSERT_TRUE(WIFEXITED(self->status[i]))
			TH_LOG("waiter %d killed by signal %d", i,
			       WTERMSIG(self->status[i]));
		ASSERT_EQ(1, w->returned);
		TH_LOG("waiter %d: %d, revents %#x, at %lld ms from the unbind (gone at %lld)",
		       i, w->ret, w->revents, (long long)(w->done_ms - t0),
		       (long long)(self->reaped_ms[i] - t0));
		ASSERT_LE(t0, w->done_ms);

		/* One ready fd; the revocation, as the flavour reports it. */
		ASSERT_EQ(1, w->ret) TH_LOG("waiter %d: %s", i, strerror(w->err));
		if (is_select(variant->flavour)) {
			ASSERT_EQ(1U, w->revents)
				TH_LOG("waiter %d: fd not in the %s set", i,
				       f->readfds ? "read" : "except");
		} else if (is_epoll(variant->flavour)) {
			ASSERT_EQ((unsigned int)(EPOLLHUP | EPOLLERR),
				  w->revents & (EPOLLHUP | EPOLLERR));
			ASSERT_EQ(EP_COOKIE + i, w->data);
		} else if (shared) {
			/* Its fd is gone: what poll() says of any closed fd. */
			ASSERT_EQ((unsigned int)POLLNVAL, w->revents);
		} else {
			ASSERT_EQ((unsigned int)(POLLHUP | POLLERR),
				  w->revents & (POLLHUP | POLLERR));
			ASSERT_EQ(0U, w->revents & POLLNVAL);
		}
		if (shared)
			continue;

		/* Then its own fd: the file is revoked, and closes. */
		ASSERT_EQ(-1, w->read_ret);
		ASSERT_EQ(ENODEV, w->read_err);
		ASSERT_EQ(-1, w->ioctl_ret);
		ASSERT_EQ(ENODEV, w->ioctl_err);
		ASSERT_EQ(1, w->repoll_ret);
		ASSERT_EQ((unsigned int)(POLLHUP | POLLERR),
			  w->repoll_revents & (POLLHUP | POLLERR));
		ASSERT_EQ(0, w->close_ret) TH_LOG("close: %s", strerror(w->close_err));
	}

	/* The test's own fds, last, and the device gone until the rebind. */
	for (i = 0; i < MAX_WAITERS; i++) {
		if (self->fd[i] < 0)
			continue;
		pfd = (struct pollfd){ .fd = self->fd[i], .events = POLLPRI };
		ASSERT_EQ(1, poll(&pfd, 1, 0));
		ASSERT_EQ(POLLHUP | POLLERR, pfd.revents & (POLLHUP | POLLERR));
	}
	ASSERT_EQ(0, close_all(self->fd));
	ASSERT_EQ(-1, open(DEV_PATH, O_RDWR | O_CLOEXEC));

	/* A fresh open of the rebound device; every file's release has run. */
	ASSERT_EQ(0, test_bind(true));
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) TH_LOG("open after rebind: %s", strerror(errno));
	ASSERT_EQ(12, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, memcmp(buf, "resmgr-test\n", 12));
	pfd = (struct pollfd){ .fd = fd, .events = POLLPRI };
	ASSERT_EQ(0, poll(&pfd, 1, 0));
	ASSERT_EQ(self->files_before + 1, open_files(fd));
	ASSERT_EQ(0, close(fd));
}

TEST_HARNESS_MAIN
