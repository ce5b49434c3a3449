/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the resmgr selftests. */
#ifndef RESMGR_SELFTEST_UTIL_H
#define RESMGR_SELFTEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* kselftest.h has one too; the programs that do not include it need ours. */
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif

/* Writes @val to the sysfs/configfs file @path; returns 0 or -errno. */
static inline int write_str(const char *path, const char *val)
{
	ssize_t len = strlen(val), ret;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;

	ret = write(fd, val, len);
	if (ret < 0)
		err = -errno;
	else if (ret != len)
		err = -EIO;

	close(fd);
	return err;
}

/* CLOCK_MONOTONIC in milliseconds. */
static inline int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#include <linux/resmgr_test.h>
#include <sys/ioctl.h>

/* Looks @name/@index up on /dev/resmgr-test with @cmd; the handle id or -errno. */
static inline long resmgr_lookup(int fd, unsigned long cmd, const char *name,
				 __u64 index)
{
	struct resmgr_test_gpio_lookup req;

	memset(&req, 0, sizeof(req));
	strncpy(req.name, name, sizeof(req.name) - 1);
	req.index = index;
	if (ioctl(fd, cmd, &req))
		return -errno;
	return req.id;
}

/*
 * Runs a handle operation of /dev/resmgr-test (struct resmgr_test_gpio_op):
 * returns 0 or -errno; for the operations that answer, the value goes to *value.
 */
static inline int resmgr_op(int fd, unsigned long cmd, __u64 id, __u64 *value)
{
	struct resmgr_test_gpio_op arg = { .id = id, .value = value ? *value : 0 };

	if (ioctl(fd, cmd, &arg))
		return -errno;
	if (value)
		*value = arg.value;
	return 0;
}

#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>

/*
 * Touching memory that may be revoked: each thread has its own jump buffer,
 * which the SIGBUS handler returns to. catch_sigbus() installs the handler.
 */
static __thread sigjmp_buf bus_jmp;
static __thread int bus_armed;

static inline void on_sigbus(int sig)
{
	(void)sig;
	if (!__atomic_load_n(&bus_armed, __ATOMIC_SEQ_CST))
		abort();
	siglongjmp(bus_jmp, 1);
}

static inline void catch_sigbus(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus, .sa_flags = SA_NODEFER };

	sigaction(SIGBUS, &sa, NULL);
}

/* Reads the byte at @p into *@val, or writes *@val there if @write: 0, or SIGBUS. */
static inline int touch(unsigned char *p, int write, unsigned char *val)
{
	if (sigsetjmp(bus_jmp, 1)) {
		__atomic_store_n(&bus_armed, 0, __ATOMIC_SEQ_CST);
		return SIGBUS;
	}
	__atomic_store_n(&bus_armed, 1, __ATOMIC_SEQ_CST);
	/* Atomic accesses: the compiler must neither drop nor move them. */
	if (write)
		__atomic_store_n(p, *val, __ATOMIC_SEQ_CST);
	else
		*val = __atomic_load_n(p, __ATOMIC_SEQ_CST);
	__atomic_store_n(&bus_armed, 0, __ATOMIC_SEQ_CST);
	return 0;
}

#endif /* RESMGR_SELFTEST_UTIL_H */
