// SPDX-License-Identifier: GPL-2.0
/*
 * C consumers of the simulated Rust regulator (resmgr-test-vreg) racing
 * its provider's unbind and bind.
 *
 * Getter threads loop regulator_get() by name (RESMGR_TEST_CREG_GET, a
 * regulator_get() on the test device), regulator_get_voltage() and
 * regulator_put() (RESMGR_TEST_DROP), while the main thread unbinds and
 * binds resmgr_test_regulator. A keeper thread holds one C consumer, got
 * before the first unbind, for the whole run and calls through it. The
 * regulator core reaches a removed regulator's descriptor for as long as
 * anything holds its regulator_dev, so every one of these calls must end in
 * a value or in the error the interface documents:
 *
 *   regulator_get()          a consumer; or -EPROBE_DEFER (the lookup found
 *                            the regulator during its unregistration), or
 *                            -ENODEV (not found, no dummy allowed)
 *   regulator_get_voltage()  a voltage of the regulator's range; -ENODEV
 *                            once its provider is unbound; -EINVAL from the
 *                            core's dummy regulator, which regulator_get()
 *                            hands out while the provider is unbound when
 *                            the constraints are complete (ACPI, DT)
 *   regulator_set_voltage()  0 until the provider is unbound, then -ENODEV
 *   regulator_put()          0
 *
 * The keeper's consumer never comes back to life: after its first -ENODEV
 * every call through it fails, across all the later rebinds.
 *
 * Loads resmgr_test if /dev/resmgr-test is missing (and unloads it after).
 * Runs for RACE_MS milliseconds, or $RESMGR_RACE_MS; it is meant for QEMU
 * TCG with KASAN, where an unbind/bind cycle takes tens of milliseconds.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmgr_test.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define VREG		"resmgr-test-vreg"
#define VREG_DRV	"/sys/bus/platform/drivers/resmgr_test_regulator"
#define VREG_MIN_UV	1000000
#define VREG_MAX_UV	3300000
#define GETTERS		3
#define RACE_MS		3000

/* Kernel-internal, but what regulator_get() returns and the ioctl passes on. */
#ifndef EPROBE_DEFER
#define EPROBE_DEFER	517
#endif

static int vreg_bind(bool bind)
{
	return write_str(bind ? VREG_DRV "/bind" : VREG_DRV "/unbind",
			 "resmgr_test_regulator");
}

static int put(int fd, long id)
{
	return ioctl(fd, RESMGR_TEST_DROP, &(__u64){ id }) ? -errno : 0;
}

static bool in_range(__u64 uv)
{
	return uv >= VREG_MIN_UV && uv <= VREG_MAX_UV;
}

struct racer {
	int fd;
	int *stop;
	long keep;		/* keeper: its consumer; getters: 0 */
	pthread_t thread;
	bool started;
	/* getters */
	long gets, get_errs, values, enodev, dummy;
	/* keeper */
	long kept_values, kept_sets, kept_enodev;
	long other;
	const char *what;	/* the last unexpected result */
	long ret;
};

static void unexpected(struct racer *r, const char *what, long ret)
{
	r->other++;
	r->what = what;
	r->ret = ret;
}

static void *getter(void *arg)
{
	struct racer *r = arg;
	__u64 v = 0;
	long id;
	int ret;

	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		id = resmgr_lookup(r->fd, RESMGR_TEST_CREG_GET, VREG, 0);
		if (id == -EPROBE_DEFER || id == -ENODEV) {
			r->get_errs++;
			continue;
		}
		if (id <= 0) {
			unexpected(r, "regulator_get()", id);
			continue;
		}
		r->gets++;
		ret = resmgr_op(r->fd, RESMGR_TEST_CREG_GET_VOLTAGE, id, &v);
		if (!ret && in_range(v))
			r->values++;
		else if (ret == -ENODEV)
			r->enodev++;
		else if (ret == -EINVAL)
			r->dummy++;
		else
			unexpected(r, "regulator_get_voltage()", ret ? ret : (long)v);
		ret = put(r->fd, id);
		if (ret)
			unexpected(r, "regulator_put()", ret);
	}
	return NULL;
}

static void *keeper(void *arg)
{
	struct racer *r = arg;
	__u64 v = 0, last_ok = 0;
	bool revoked = false;
	int ret;

	while (!__atomic_load_n(r->stop, __ATOMIC_RELAXED)) {
		ret = resmgr_op(r->fd, RESMGR_TEST_CREG_GET_VOLTAGE, r->keep, &v);
		if (!ret && in_range(v) && !revoked) {
			r->kept_values++;
		} else if (ret == -ENODEV) {
			revoked = true;
			r->kept_enodev++;
		} else {
			unexpected(r, revoked ? "kept get_voltage after ENODEV" :
				   "kept get_voltage", ret ? ret : (long)v);
		}
		/*
		 * Never the voltage of the last successful request: the core
		 * answers that one without asking anybody.
		 */
		v = last_ok == 1800000 ? 2000000 : 1800000;
		ret = resmgr_op(r->fd, RESMGR_TEST_CREG_SET_VOLTAGE, r->keep, &v);
		if (!ret && !revoked) {
			r->kept_sets++;
			last_ok = v;
		} else if (ret == -ENODEV) {
			revoked = true;
			r->kept_enodev++;
		} else {
			unexpected(r, revoked ? "kept set_voltage after ENODEV" :
				   "kept set_voltage", ret);
		}
	}
	return NULL;
}

FIXTURE(race) {
	int stop;
	bool loaded;
	struct racer r[GETTERS + 1];	/* r[GETTERS] is the keeper */
};

FIXTURE_SETUP(race)
{
	int i;

	memset(self->r, 0, sizeof(self->r));
	for (i = 0; i <= GETTERS; i++)
		self->r[i].fd = -1;
	self->stop = 0;
	self->loaded = false;
	if (access(DEV_PATH, F_OK)) {
		if (system("modprobe resmgr_test"))
			SKIP(return, "resmgr_test not available");
		self->loaded = true;
	}
	/* A failed run may have left the provider unbound. */
	vreg_bind(true);
	for (i = 0; i <= GETTERS; i++) {
		self->r[i].fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, self->r[i].fd) TH_LOG("open " DEV_PATH ": %s", strerror(errno));
		self->r[i].stop = &self->stop;
	}
}

FIXTURE_TEARDOWN(race)
{
	int i;

	__atomic_store_n(&self->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= GETTERS; i++) {
		if (self->r[i].started)
			pthread_join(self->r[i].thread, NULL);
		if (self->r[i].fd >= 0)
			close(self->r[i].fd);
	}
	vreg_bind(true);
	if (self->loaded && system("rmmod resmgr_test"))
		TH_LOG("rmmod resmgr_test failed");
}

TEST_F_TIMEOUT(race, c_consumers_against_unbind_bind, 120)
{
	struct racer *k = &self->r[GETTERS];
	long gets = 0, values = 0, enodev = 0, dummy = 0, get_errs = 0;
	int64_t end, race_ms = RACE_MS;
	const char *env = getenv("RESMGR_RACE_MS");
	int i, cycles = 0;
	__u64 v = 0;
	long id;

	if (env)
		race_ms = atoll(env);
	if (race_ms < 100)
		race_ms = 100;
	if (race_ms > 60000)
		race_ms = 60000;

	/* The keeper's consumer, from the instance bound now. */
	k->keep = resmgr_lookup(k->fd, RESMGR_TEST_CREG_GET, VREG, 0);
	ASSERT_LT(0, k->keep);
	ASSERT_EQ(0, resmgr_op(k->fd, RESMGR_TEST_CREG_GET_VOLTAGE, k->keep, &v));
	ASSERT_TRUE(in_range(v)) TH_LOG("voltage %llu", (unsigned long long)v);

	for (i = 0; i <= GETTERS; i++) {
		ASSERT_EQ(0, pthread_create(&self->r[i].thread, NULL,
					    i < GETTERS ? getter : keeper, &self->r[i]));
		self->r[i].started = true;
	}
	end = now_ms() + race_ms;
	while (now_ms() < end) {
		ASSERT_EQ(0, vreg_bind(false));
		usleep(2000);
		ASSERT_EQ(0, vreg_bind(true));
		usleep(5000);
		cycles++;
	}
	__atomic_store_n(&self->stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= GETTERS; i++) {
		ASSERT_EQ(0, pthread_join(self->r[i].thread, NULL));
		self->r[i].started = false;
		EXPECT_EQ(0, self->r[i].other)
			TH_LOG("thread %d: %ld unexpected results, the last: %s = %ld",
			       i, self->r[i].other, self->r[i].what, self->r[i].ret);
		gets += self->r[i].gets;
		get_errs += self->r[i].get_errs;
		values += self->r[i].values;
		enodev += self->r[i].enodev;
		dummy += self->r[i].dummy;
	}
	TH_LOG("%d unbind/bind cycles; getters: %ld gets (%ld failed), %ld values,",
	       cycles, gets, get_errs, values);
	TH_LOG("getters: %ld ENODEV, %ld dummy", enodev, dummy);
	TH_LOG("keeper: %ld values, %ld sets, %ld ENODEV", k->kept_values,
	       k->kept_sets, k->kept_enodev);
	ASSERT_LT(0, cycles);

	/* The keeper's regulator is long gone: its consumer only fails now. */
	ASSERT_EQ(-ENODEV, resmgr_op(k->fd, RESMGR_TEST_CREG_GET_VOLTAGE, k->keep, &v));
	v = 2500000;
	ASSERT_EQ(-ENODEV, resmgr_op(k->fd, RESMGR_TEST_CREG_SET_VOLTAGE, k->keep, &v));
	/* regulator_put() of a regulator unbound and rebound many times since. */
	ASSERT_EQ(0, put(k->fd, k->keep));

	/* The instance bound now answers a new consumer. */
	id = resmgr_lookup(k->fd, RESMGR_TEST_CREG_GET, VREG, 0);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, resmgr_op(k->fd, RESMGR_TEST_CREG_GET_VOLTAGE, id, &v));
	ASSERT_TRUE(in_range(v)) TH_LOG("voltage %llu", (unsigned long long)v);
	ASSERT_EQ(0, put(k->fd, id));
}

TEST_HARNESS_MAIN
