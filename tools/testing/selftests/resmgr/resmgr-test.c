// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/resmgr-test: resource manager handles to gpio_sim_rs lines, used
 * from user space, across unbind and rebind of the GPIO provider and of the
 * test device itself.
 *
 * Needs gpio_sim_rs (chips=1 lines=8) and resmgr_test loaded (the .sh
 * wrapper does it).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmgr_test.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define CHIP		RESMGR_TEST_RS_CHIP
/* The test device's connection id for lines 0..7 of CHIP. */
#define LINES		"rs"
#define GPIO_DRV	"/sys/bus/platform/drivers/gpio_sim_rs"
#define TEST_DRV	"/sys/bus/platform/drivers/resmgr_test"
#define VREG		"resmgr-test-vreg"
#define VREG_DRV	"/sys/bus/platform/drivers/resmgr_test_regulator"

static int gpio_bind(bool bind)
{
	return write_str(bind ? GPIO_DRV "/bind" : GPIO_DRV "/unbind", CHIP);
}

static int test_bind(bool bind)
{
	return write_str(bind ? TEST_DRV "/bind" : TEST_DRV "/unbind",
			 "resmgr_test");
}

static int vreg_bind(bool bind)
{
	return write_str(bind ? VREG_DRV "/bind" : VREG_DRV "/unbind",
			 "resmgr_test_regulator");
}

static long lookup(int fd, const char *label, __u64 offset)
{
	return resmgr_lookup(fd, RESMGR_TEST_GPIO_LOOKUP, label, offset);
}

static struct resmgr_test_counters counters(void)
{
	struct resmgr_test_counters c = { 0 };
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd >= 0) {
		ioctl(fd, RESMGR_TEST_COUNTERS, &c);
		close(fd);
		c.files--;	/* this one */
	}
	return c;
}

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	/* A failed test may have left something unbound. */
	gpio_bind(true);
	test_bind(true);
	vreg_bind(true);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open " DEV_PATH ": %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	struct resmgr_test_counters c;

	if (self->fd >= 0)
		close(self->fd);
	gpio_bind(true);
	test_bind(true);
	vreg_bind(true);
	/* Nothing leaked: no file, no handle left behind. */
	c = counters();
	EXPECT_EQ(0, c.files);
	EXPECT_EQ(0, c.handles);
}

TEST_F(dev, values_flow_through_a_handle)
{
	__u64 v = 0;
	long id;

	id = lookup(self->fd, LINES, 3);
	ASSERT_LT(0, id);
	ASSERT_EQ(1, counters().handles);

	v = 1;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, id, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	ASSERT_EQ(1, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_DIRECTION, id, &v));
	ASSERT_EQ(1, v);
	v = 0;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_SET, id, &v));
	v = 7;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_INPUT, id, NULL));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_DIRECTION, id, &v));
	ASSERT_EQ(0, v);

	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ id }));
	ASSERT_EQ(0, counters().handles);
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
}

TEST_F(dev, provider_unbind_gives_enodev_and_rebind_needs_lookup)
{
	__u64 v = 1;
	long stale, fresh;

	stale = lookup(self->fd, LINES, 2);
	ASSERT_LT(0, stale);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, stale, &v));

	ASSERT_EQ(0, gpio_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_SET, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_DIRECTION, stale, &v));
	ASSERT_EQ(-ENOENT, lookup(self->fd, LINES, 2));

	ASSERT_EQ(0, gpio_bind(true));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, stale, &v));
	fresh = lookup(self->fd, LINES, 2);
	ASSERT_LT(0, fresh);
	ASSERT_NE(stale, fresh);
	/* A new chip: the line starts as an input with pull-down. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, fresh, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(2, counters().handles);
}

/*
 * write() goes through the shell like read(): the device takes what it is
 * given while bound, and the file answers ENODEV after the unbind, also for
 * writev() and pwrite(), and for lseek().
 */
TEST_F(dev, write_across_unbind)
{
	char big[4096];
	struct iovec iov[2] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = big, .iov_len = sizeof(big) },
	};

	memset(big, 'x', sizeof(big));
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	ASSERT_EQ(2 + sizeof(big), writev(self->fd, iov, 2));
	ASSERT_EQ(3, pwrite(self->fd, "abc", 3, 7));
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));

	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(-1, write(self->fd, "hello", 5));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-1, writev(self->fd, iov, 2));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-1, pwrite(self->fd, "abc", 3, 7));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	ASSERT_EQ(0, test_bind(true));
}

TEST_F(dev, device_unbind_with_fds_open)
{
	struct pollfd pfd = { .events = POLLIN };
	char buf[32], proc[512], path[64];
	int other, reader, status, pfile;
	int64_t t, end;
	pid_t waiter, got;
	__u64 v = 0;
	ssize_t n;
	long id;

	ASSERT_EQ(12, read(self->fd, buf, sizeof(buf)));
	id = lookup(self->fd, LINES, 1);
	ASSERT_LT(0, id);
	/* A reader with a file of its own, read before and after the unbind. */
	reader = open(DEV_PATH, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, reader);
	ASSERT_EQ(12, read(reader, buf, sizeof(buf)));

	/*
	 * A poller asleep on the device across its revocation: the device
	 * never reports POLLPRI, so only the unbind can wake it, and then it
	 * must see POLLHUP | POLLERR. A child, which gives up by itself after
	 * 20 s if it is never woken; it exits with its revents.
	 */
	waiter = fork();
	ASSERT_LE(0, waiter);
	if (waiter == 0) {
		struct pollfd w = { .fd = self->fd, .events = POLLPRI };
		int ret = poll(&w, 1, 20000);

		_exit(ret == 1 ? w.revents & 0xff : ret == 0 ? 0 : 0xff);
	}
	/* Asleep (state S) in a system call (poll()), and still a bit later. */
	for (end = now_ms() + 5000;; usleep(10000)) {
		snprintf(path, sizeof(path), "/proc/%d/stat", waiter);
		pfile = open(path, O_RDONLY | O_CLOEXEC);
		ASSERT_LE(0, pfile);
		n = read(pfile, proc, sizeof(proc) - 1);
		close(pfile);
		ASSERT_LT(0, n);
		proc[n] = '\0';
		if (strstr(proc, ") S ")) {
			snprintf(path, sizeof(path), "/proc/%d/syscall", waiter);
			pfile = open(path, O_RDONLY | O_CLOEXEC);
			n = pfile < 0 ? -1 : read(pfile, proc, sizeof(proc) - 1);
			if (pfile >= 0)
				close(pfile);
			/* Unreadable without CONFIG_HAVE_ARCH_TRACEHOOK. */
			if (n <= 0 || (proc[0] >= '0' && proc[0] <= '9'))
				break;
		}
		ASSERT_GT(end, now_ms()) TH_LOG("poller not asleep in poll()");
	}
	usleep(100000);
	ASSERT_EQ(0, waitpid(waiter, &status, WNOHANG));

	t = now_ms();
	ASSERT_EQ(0, test_bind(false));
	ASSERT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	ASSERT_EQ(-ENODEV, lookup(self->fd, LINES, 1));
	pfd.fd = self->fd;
	ASSERT_EQ(1, poll(&pfd, 1, 1000));
	ASSERT_EQ(POLLHUP | POLLERR, pfd.revents & (POLLHUP | POLLERR));
	ASSERT_EQ(-1, open(DEV_PATH, O_RDWR));

	/* The poller was woken by the revocation, and saw it. */
	while ((got = waitpid(waiter, &status, WNOHANG)) == 0) {
		ASSERT_GT(t + 15000, now_ms()) TH_LOG("poller not woken by the unbind");
		usleep(10000);
	}
	ASSERT_EQ(waiter, got);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(POLLHUP | POLLERR,
		  WEXITSTATUS(status) & (POLLHUP | POLLERR | POLLNVAL))
		TH_LOG("poller: exit %#x (0: not woken, 0xff: error, else revents)",
		       WEXITSTATUS(status));
	/* The reader's file is revoked too, and closes. */
	ASSERT_EQ(-1, read(reader, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, close(reader));

	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;

	ASSERT_EQ(0, test_bind(true));
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_LT(0, lookup(other, LINES, 1));
	close(other);
}

struct waiter {
	int fd;
	long id;
	int ret;
	int err;
	int64_t done_ms;
	pthread_t thread;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;

	w->ret = ioctl(w->fd, RESMGR_TEST_WAIT_REVOKED, &(__u64){ w->id });
	w->err = errno;
	w->done_ms = now_ms();
	return NULL;
}

static void on_signal(int sig)
{
	(void)sig;
}

TEST_F(dev, wait_is_woken_by_provider_unbind)
{
	struct waiter w = { .fd = self->fd };
	__u64 before = counters().revoked_waits;
	int64_t t;

	w.id = lookup(self->fd, LINES, 0);
	ASSERT_LT(0, w.id);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_thread, &w));
	usleep(200000);
	ASSERT_EQ(0, w.done_ms);

	t = now_ms();
	ASSERT_EQ(0, gpio_bind(false));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_EQ(0, w.ret);
	ASSERT_GT(2000, w.done_ms - t);
	ASSERT_EQ(before + 1, counters().revoked_waits);
}

TEST_F(dev, wait_is_interrupted_by_a_signal)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct waiter w = { .fd = self->fd };

	/* No SA_RESTART: the interrupted ioctl must fail with EINTR. */
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	w.id = lookup(self->fd, LINES, 0);
	ASSERT_LT(0, w.id);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_thread, &w));
	usleep(200000);
	ASSERT_EQ(0, pthread_kill(w.thread, SIGUSR1));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_EQ(-1, w.ret);
	ASSERT_EQ(EINTR, w.err);
}

TEST_F(dev, device_unbind_does_not_wait_for_a_waiter)
{
	struct waiter w = { .fd = self->fd };
	int64_t t;

	w.id = lookup(self->fd, LINES, 0);
	ASSERT_LT(0, w.id);
	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_thread, &w));
	usleep(200000);

	/* The waiter sleeps outside the device's access: unbind is prompt. */
	t = now_ms();
	ASSERT_EQ(0, test_bind(false));
	ASSERT_GT(2000, now_ms() - t);
	ASSERT_EQ(0, w.done_ms);

	/* When it wakes, its own device is gone. */
	ASSERT_EQ(0, gpio_bind(false));
	ASSERT_EQ(0, pthread_join(w.thread, NULL));
	ASSERT_EQ(-1, w.ret);
	ASSERT_EQ(ENODEV, w.err);
}

TEST_F(dev, bad_input_gets_documented_errors)
{
	char label[RESMGR_TEST_LABEL_LEN];
	struct resmgr_test_gpio_lookup req;
	__u64 v = 0;
	long id;
	int other;

	/* Unknown commands. */
	ASSERT_EQ(-1, ioctl(self->fd, _IO(RESMGR_TEST_MAGIC, 0x7f), 0));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, _IO('x', 0x01), 0));
	ASSERT_EQ(ENOTTY, errno);
	/* Bad pointers. */
	ASSERT_EQ(-1, ioctl(self->fd, RESMGR_TEST_GPIO_LOOKUP, (void *)8));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, RESMGR_TEST_COUNTERS, NULL));
	ASSERT_EQ(EFAULT, errno);
	/* Unknown ids, including 0 and another file's. */
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, 0, &v));
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, 99, &v));
	ASSERT_EQ(-1, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ 5 }));
	ASSERT_EQ(EINVAL, errno);
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	id = lookup(other, LINES, 4);
	ASSERT_LT(0, id);
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	close(other);
	/* Bad lookups. */
	ASSERT_EQ(-ENOENT, lookup(self->fd, "no-such-con-id", 0));
	ASSERT_EQ(-ENOENT, lookup(self->fd, LINES, 8));
	ASSERT_EQ(-EINVAL, lookup(self->fd, LINES, 1ULL << 40));
	memset(&req, 'a', sizeof(req.name));
	req.index = 0;
	ASSERT_EQ(-1, ioctl(self->fd, RESMGR_TEST_GPIO_LOOKUP, &req));
	ASSERT_EQ(EINVAL, errno);
	memset(label, 0, sizeof(label));
	ASSERT_EQ(-ENOENT, lookup(self->fd, label, 0));
	/* Code is not mapped; lseek() stays within the text. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 4096, PROT_EXEC, MAP_SHARED, self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, lseek(self->fd, -1, SEEK_SET));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, lseek(self->fd, 0, 42));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, counters().handles);
}

TEST_F(dev, module_unload_with_fds_open)
{
	__u64 v = 0;
	long id;

	id = lookup(self->fd, LINES, 6);
	ASSERT_LT(0, id);
	/* Open files pin the module: rmmod fails and nothing breaks. */
	ASSERT_NE(0, system("rmmod resmgr_test 2>/dev/null"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	/*
	 * A requested line pins its chip's module (gpiolib's reference, as for
	 * any chip), but the chip's device can be unbound under it.
	 */
	ASSERT_NE(0, system("rmmod gpio_sim_rs 2>/dev/null"));
	ASSERT_EQ(0, gpio_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
	/* Given back, the line lets the module go; a reload serves a new line. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ id }));
	ASSERT_EQ(0, system("rmmod gpio_sim_rs"));
	ASSERT_EQ(0, system("modprobe gpio_sim_rs chips=1 lines=8"));
	ASSERT_LT(0, lookup(self->fd, LINES, 6));
}

TEST_F(dev, regulator_enable_disable_and_voltage)
{
	__u64 v = 0;
	long id;

	ASSERT_EQ(-ENOENT, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, "no-vreg", 0));
	id = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, id);

	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, id, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, id, NULL));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, id, &v));
	ASSERT_EQ(1, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_DISABLE, id, NULL));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, id, &v));
	ASSERT_EQ(0, v);

	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, id, &v));
	ASSERT_EQ(1000000, v);
	v = 1800000;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, id, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, id, &v));
	ASSERT_EQ(1800000, v);
	v = 3300000;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, id, &v));
	/* Outside the constraints, or between steps. */
	v = 3400000;
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, id, &v));
	v = 900000;
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, id, &v));
	v = 1850000;
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, id, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, id, &v));
	ASSERT_EQ(3300000, v);
	/* A regulator handle is not a GPIO line. */
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, id, &v));
}

TEST_F(dev, regulator_unbind_gives_enodev_and_rebind_needs_lookup)
{
	__u64 v = 2000000;
	long stale, fresh;

	stale = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, stale);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, stale, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, stale, NULL));

	ASSERT_EQ(0, vreg_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_SET_VOLTAGE, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, stale, &v));
	/* Giving the enable back works (the core needs it before the put)... */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_DISABLE, stale, NULL));
	/* ... taking a new one does not. */
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, stale, NULL));
	ASSERT_EQ(-ENOENT, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0));
	/* (regulator_get() would now hand out the core's dummy regulator.) */

	ASSERT_EQ(0, vreg_bind(true));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, stale, &v));
	fresh = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, fresh);
	/* A new instance: back at its lowest voltage, disabled. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, fresh, &v));
	ASSERT_EQ(1000000, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, fresh, &v));
	ASSERT_EQ(0, v);
}

TEST_F(dev, regulator_c_consumer_goes_through_the_shell)
{
	__u64 v = 2500000;
	long c, r;

	c = resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, VREG, 0);
	ASSERT_LT(0, c);
	r = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, r);

	/* regulator_set_voltage() -> core -> our ops table -> shell -> driver. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_CREG_SET_VOLTAGE, c, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, r, &v));
	ASSERT_EQ(2500000, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	ASSERT_EQ(2500000, v);
	/* The core enforces the constraints it got at registration. */
	v = 5000000;
	ASSERT_NE(0, resmgr_op(self->fd, RESMGR_TEST_CREG_SET_VOLTAGE, c, &v));
	ASSERT_EQ(-EINVAL, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, c, &v));

	/*
	 * The C consumer holds the regulator across the unbind: the core
	 * keeps calling through the descriptor, which lives as long as the
	 * regulator_dev, and every call fails with the provider's ENODEV.
	 */
	ASSERT_EQ(0, vreg_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, r, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	/* The consumer's last request again: not a no-op any more. */
	v = 2500000;
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_SET_VOLTAGE, c, &v));
	/* regulator_put() after the unregistration releases the regulator_dev. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ c }));
}

/*
 * A C consumer (regulator_get() on the test device) that still holds the
 * regulator when its provider is unbound: the core keeps the regulator_dev
 * and calls through its descriptor, which our provider frees only when the
 * regulator_dev is released, so the call reaches the revoked shell and
 * fails; a new instance does not bring the old consumer back.
 */
TEST_F(dev, regulator_c_consumer_after_unbind)
{
	__u64 v = 2000000;
	long c, c2, r;

	c = resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, VREG, 0);
	ASSERT_LT(0, c);
	r = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, r);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_CREG_SET_VOLTAGE, c, &v));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	ASSERT_EQ(2000000, v);

	ASSERT_EQ(0, vreg_bind(false));
	/* regulator_get_voltage() -> core -> our ops -> revoked shell. */
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	/*
	 * regulator_set_voltage() fails too: the unregistration tore down the
	 * regulator's coupling, and the core answers ENODEV for that instead
	 * of balancing nothing and reporting success.
	 */
	v = 2200000;
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_SET_VOLTAGE, c, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, r, &v));

	/* A new instance for a new C consumer; the old one stays revoked. */
	ASSERT_EQ(0, vreg_bind(true));
	c2 = resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, VREG, 0);
	ASSERT_LT(0, c2);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c2, &v));
	ASSERT_EQ(1000000, v);
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_CREG_GET_VOLTAGE, c, &v));
	/* regulator_put() of the unregistered regulator, then of the new one. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ c }));
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ c2 }));
}

#define VIRT_DEV	"/sys/bus/platform/devices/" RESMGR_TEST_VIRT_CONSUMER
#define VIRT_DRV	"/sys/bus/platform/drivers/reg-virt-consumer"

/* The C consumer asks for [@uv, @uv], and so holds an enable; "0" lets go. */
static int virt_hold(const char *uv)
{
	int ret = write_str(VIRT_DEV "/min_microvolts", uv);

	return ret ?: write_str(VIRT_DEV "/max_microvolts", uv);
}

/* /dev/kmsg, read from its current end on. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Whether a kernel log record since kmsg_open() contains @what. */
static bool kmsg_has(int fd, const char *what)
{
	char rec[1024];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)	/* records overwritten meanwhile */
			continue;
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, what))
			return true;
	}
}

/*
 * Two consumers of one Rust regulator through the core, a C one (the core's
 * virtual consumer, through its sysfs files) and a Rust one (a REG handle):
 * the core counts their enables, so the output stays on while either holds
 * one. After the provider's unbind both are told ENODEV, and both can give
 * their enables back and let go without a warning from the core.
 */
TEST_F(dev, regulator_c_and_rust_consumers_count_enables)
{
	__u64 v = 0;
	long r;
	int kmsg;

	/* The C consumer gets the regulator at its probe: the current instance. */
	write_str(VIRT_DRV "/unbind", RESMGR_TEST_VIRT_CONSUMER);
	ASSERT_EQ(0, write_str(VIRT_DRV "/bind", RESMGR_TEST_VIRT_CONSUMER));
	r = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ASSERT_LT(0, r);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(0, v);

	/* C enables it (at 2.0 V), Rust too, C lets go: still on. */
	ASSERT_EQ(0, virt_hold("2000000"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(1, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, r, &v));
	ASSERT_EQ(2000000, v);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, r, NULL));
	ASSERT_EQ(0, virt_hold("0"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(1, v);
	/* Rust lets go too: nobody holds it, the core turns it off. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_DISABLE, r, NULL));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(0, v);
	/* The other way round: Rust, then C, then Rust lets go: still on. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, r, NULL));
	ASSERT_EQ(0, virt_hold("2000000"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_DISABLE, r, NULL));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(1, v);

	/* The provider goes away under both, the C consumer holding its enable. */
	ASSERT_EQ(0, vreg_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_IS_ENABLED, r, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_GET_VOLTAGE, r, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_REG_ENABLE, r, NULL));
	/* The C consumer's next request fails too; it logs the errno it got. */
	kmsg = kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, write_str(VIRT_DEV "/max_microvolts", "2100000"));
	EXPECT_TRUE(kmsg_has(kmsg, "regulator_set_voltage() failed: -19"));
	close(kmsg);
	/* Both let go (the log scan fails the run on any warning from the core). */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ r }));
	ASSERT_EQ(0, virt_hold("0"));
	ASSERT_EQ(0, write_str(VIRT_DRV "/unbind", RESMGR_TEST_VIRT_CONSUMER));
	ASSERT_EQ(0, vreg_bind(true));
	ASSERT_EQ(0, write_str(VIRT_DRV "/bind", RESMGR_TEST_VIRT_CONSUMER));
}

static int kwork(int fd, unsigned long cmd, struct resmgr_test_kwork *k)
{
	return ioctl(fd, cmd, k) ? -errno : 0;
}

/*
 * Work items calling through handles while both providers go away and come
 * back: every call a value, ENODEV (then a new lookup) or, while unbound, an
 * ENOENT lookup; stopping waits for them; closing a file stops its workers.
 */
TEST_F(dev, in_kernel_consumers_across_unbind)
{
	struct resmgr_test_kwork k;
	int round, fd2;

	memset(&k, 0, sizeof(k));
	strcpy(k.gpio, LINES);
	strcpy(k.regulator, VREG);
	ASSERT_EQ(-EINVAL, kwork(self->fd, RESMGR_TEST_KWORK_START, &k));
	k.workers = 9;
	ASSERT_EQ(-EINVAL, kwork(self->fd, RESMGR_TEST_KWORK_START, &k));
	ASSERT_EQ(-EINVAL, kwork(self->fd, RESMGR_TEST_KWORK_STOP, &k));
	k.workers = 3;
	ASSERT_EQ(0, kwork(self->fd, RESMGR_TEST_KWORK_START, &k));
	ASSERT_EQ(-EBUSY, kwork(self->fd, RESMGR_TEST_KWORK_START, &k));

	for (round = 0; round < 3; round++) {
		usleep(50000);
		ASSERT_EQ(0, gpio_bind(false));
		ASSERT_EQ(0, vreg_bind(false));
		usleep(20000);
		ASSERT_EQ(0, gpio_bind(true));
		ASSERT_EQ(0, vreg_bind(true));
	}
	usleep(50000);
	ASSERT_EQ(0, kwork(self->fd, RESMGR_TEST_KWORK_STOP, &k));
	EXPECT_LT(0, k.ok);
	/* Each round, a worker holding a handle sees ENODEV at least once. */
	EXPECT_LE(3, k.enodev);
	EXPECT_LT(0, k.enoent);
	EXPECT_EQ(0, k.other) TH_LOG("unexpected errno %llu", (unsigned long long)k.last_other);
	ASSERT_EQ(-EINVAL, kwork(self->fd, RESMGR_TEST_KWORK_STOP, &k));

	/* Workers still running when their file is closed: release stops them. */
	fd2 = open(DEV_PATH, O_RDWR);
	ASSERT_LE(0, fd2);
	k.workers = 8;
	ASSERT_EQ(0, kwork(fd2, RESMGR_TEST_KWORK_START, &k));
	usleep(20000);
	ASSERT_EQ(0, close(fd2));
	/* The teardown checks that no file and no handle is left. */
}

#define RACERS		4
#define RACE_MS		3000

struct racer {
	int fd;
	int line;	/* each racer its own line: gpiolib gives a line to one consumer */
	int *stop;
	long values, enodev, enoent, other;
	int last_errno;
	pthread_t thread;
};

static void *race_thread(void *arg)
{
	struct racer *r = arg;
	long id = -1;
	__u64 v = 0;
	int ret;

	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		if (id <= 0) {
			id = lookup(r->fd, LINES, r->line);
			/* Unbound, or unbound during the lookup. */
			if (id == -ENOENT || id == -ENODEV) {
				r->enoent++;
				continue;
			}
			if (id <= 0) {
				r->other++;
				r->last_errno = -id;
				continue;
			}
		}
		ret = resmgr_op(r->fd, RESMGR_TEST_GPIO_GET, id, &v);
		if (!ret && v <= 1) {
			r->values++;
		} else if (ret == -ENODEV) {
			r->enodev++;
			ioctl(r->fd, RESMGR_TEST_DROP, &(__u64){ id });
			id = -1;
		} else {
			r->other++;
			r->last_errno = -ret;
		}
	}
	return NULL;
}

TEST_F(dev, race_ioctls_against_unbind_bind)
{
	struct racer r[RACERS];
	int stop = 0;
	long values = 0, enodev = 0;
	int64_t end;
	int i, cycles = 0;

	for (i = 0; i < RACERS; i++) {
		memset(&r[i], 0, sizeof(r[i]));
		r[i].fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, r[i].fd);
		r[i].stop = &stop;
		r[i].line = 4 + i;
		ASSERT_EQ(0, pthread_create(&r[i].thread, NULL, race_thread, &r[i]));
	}
	end = now_ms() + RACE_MS;
	while (now_ms() < end) {
		ASSERT_EQ(0, gpio_bind(false));
		usleep(5000);
		ASSERT_EQ(0, gpio_bind(true));
		usleep(5000);
		cycles++;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < RACERS; i++) {
		ASSERT_EQ(0, pthread_join(r[i].thread, NULL));
		close(r[i].fd);
		EXPECT_EQ(0, r[i].other)
			TH_LOG("racer %d: unexpected errno %d", i, r[i].last_errno);
		values += r[i].values;
		enodev += r[i].enodev;
	}
	TH_LOG("%d unbind/bind cycles, %ld values, %ld ENODEV", cycles,
	       values, enodev);
	ASSERT_LT(0, cycles);
	ASSERT_LT(0, values);
}

TEST_HARNESS_MAIN

/*
 * The test device reaches only the regulator its module registers: no other
 * name resolves, whether through resmgr (REG_LOOKUP, KWORK_START) or through
 * the regulator core (CREG_GET, which would otherwise find any regulator of
 * the system by name, or hand out the core's dummy regulator).
 */
TEST_F(dev, regulators_other_than_the_test_one_are_unreachable)
{
	static const char *const others[] = { "regulator-dummy", "vcc", "" };
	struct resmgr_test_kwork k;
	size_t i;
	long c;

	for (i = 0; i < ARRAY_SIZE(others); i++) {
		EXPECT_EQ(-ENOENT, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, others[i], 0))
			TH_LOG("REG_LOOKUP \"%s\"", others[i]);
		EXPECT_EQ(-ENOENT, resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, others[i], 0))
			TH_LOG("CREG_GET \"%s\"", others[i]);
		memset(&k, 0, sizeof(k));
		strcpy(k.gpio, LINES);
		strcpy(k.regulator, others[i]);
		k.workers = 1;
		EXPECT_EQ(-ENOENT, kwork(self->fd, RESMGR_TEST_KWORK_START, &k))
			TH_LOG("KWORK_START \"%s\"", others[i]);
	}

	/* The module's own regulator, by every path. */
	ASSERT_LT(0, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, RESMGR_TEST_VREG, 0));
	c = resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, RESMGR_TEST_VREG, 0);
	ASSERT_LT(0, c);
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ c }));

	/* Unbound, it is not replaced by the core's dummy regulator. */
	ASSERT_EQ(0, vreg_bind(false));
	ASSERT_EQ(-ENODEV, resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, RESMGR_TEST_VREG, 0));
	ASSERT_EQ(-ENOENT, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, RESMGR_TEST_VREG, 0));
	ASSERT_EQ(0, vreg_bind(true));
}

/*
 * A file's handle table is bounded: ENOSPC once full, room again after DROP.
 * Filling it takes 16384 regulator_get_optional() calls through the core,
 * and closing the file as many puts: longer than the harness's default 30 s
 * under emulation (it timed out under vng).
 */
TEST_F_TIMEOUT(dev, handle_table_is_bounded, 600)
{
	long id, i;
	int other;

	for (i = 0; i < RESMGR_TEST_MAX_HANDLES; i++) {
		id = resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, RESMGR_TEST_VREG, 0);
		ASSERT_EQ(i + 1, id) TH_LOG("lookup %ld", i);
	}
	ASSERT_EQ(RESMGR_TEST_MAX_HANDLES, counters().handles);
	ASSERT_EQ(-ENOSPC, resmgr_lookup(self->fd, RESMGR_TEST_REG_LOOKUP, RESMGR_TEST_VREG, 0));
	ASSERT_EQ(-ENOSPC, lookup(self->fd, LINES, 0));
	ASSERT_EQ(-ENOSPC, resmgr_lookup(self->fd, RESMGR_TEST_CREG_GET, RESMGR_TEST_VREG, 0));
	ASSERT_EQ(RESMGR_TEST_MAX_HANDLES, counters().handles);

	/* DROP makes room, and the next lookup takes the freed id. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ 100 }));
	ASSERT_EQ(100, lookup(self->fd, LINES, 0));
	ASSERT_EQ(-ENOSPC, lookup(self->fd, LINES, 1));

	/* The bound is per file (line 0 is this file's: gpiolib owns it for us). */
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(-EBUSY, lookup(other, LINES, 0));
	ASSERT_EQ(1, lookup(other, LINES, 1));
	close(other);
	/* The teardown checks that closing the full file dropped every handle. */
}

static long bench_ioctl(int fd, __u64 kind, __u64 iterations, __u64 threads)
{
	struct resmgr_test_bench b = {
		.kind = kind, .iterations = iterations, .threads = threads,
	};

	return ioctl(fd, RESMGR_TEST_BENCH, &b) ? -errno : 0;
}

/*
 * The benchmarks take bounded arguments, and their loops reach a scheduling
 * point every few thousand iterations: the longest threads, more of them than
 * CPUs, end without a soft lockup (which the run's log scan reports; on a
 * preemptible kernel, as on x86_64 since 7.x, the scheduling points are
 * no-ops and only the bounds are observable here).
 */
TEST_F(dev, bench_arguments_are_bounded)
{
	const __u64 refcount = RESMGR_TEST_BENCH_REFCOUNT;

	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, refcount, 1000, 0));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, refcount, 1000,
				       RESMGR_TEST_BENCH_MAX_THREADS + 1));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, refcount, 0, 1));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, refcount,
				       RESMGR_TEST_BENCH_MAX_ITERATIONS + 1, 1));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, RESMGR_TEST_BENCH_REVOKE_N,
				       RESMGR_TEST_BENCH_MAX_HANDLES + 1, 1));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, 99, 1000, 1));
	/* The consumer loops through gpiolib run on one thread. */
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, RESMGR_TEST_BENCH_GPIOD_RS, 1000, 2));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, RESMGR_TEST_BENCH_GPIOD_C, 0, 1));
	ASSERT_EQ(-EINVAL, bench_ioctl(self->fd, RESMGR_TEST_BENCH_GPIOD_RS,
				       RESMGR_TEST_BENCH_MAX_ITERATIONS + 1, 1));

	ASSERT_EQ(0, bench_ioctl(self->fd, RESMGR_TEST_BENCH_REVOKE_N, 1000, 1));
	ASSERT_EQ(0, bench_ioctl(self->fd, RESMGR_TEST_BENCH_HANDLE, 50000,
				 RESMGR_TEST_BENCH_MAX_THREADS));
}
