// SPDX-License-Identifier: GPL-2.0
/*
 * An in-kernel GPIO consumer (the test device's, through the Rust binding of
 * gpiolib's consumer API) on the Rust simulator and on the C gpio-sim: the
 * line is gpiolib's to give, to one consumer at a time, userspace included;
 * it shows up as used under the consumer's connection id; values are logical
 * (active-low applied) and reach the chip; the line answers ENODEV once its
 * chip is removed, and is gotten again from the new chip.
 *
 * Lines come from the test device's lookup table (see the uAPI header):
 * "rs"/"rs-low" on RESMGR_TEST_RS_CHIP, "c"/"c-low" on RESMGR_TEST_C_CHIP,
 * which the fixture creates through gpio-sim's configfs.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define RS_DRV		"/sys/bus/platform/drivers/gpio_sim_rs"
#define CSIM		"/sys/kernel/config/gpio-sim/resmgr-test-csim"

/* Creates (live) or removes the C gpio-sim bank RESMGR_TEST_C_CHIP. */
static int csim(bool live)
{
	int ret;

	if (!live) {
		write_str(CSIM "/live", "0");
		rmdir(CSIM "/bank0");
		rmdir(CSIM);
		return 0;
	}
	if (mkdir(CSIM, 0755) && errno != EEXIST)
		return -errno;
	if (mkdir(CSIM "/bank0", 0755) && errno != EEXIST)
		return -errno;
	ret = write_str(CSIM "/bank0/num_lines", "8");
	if (!ret)
		ret = write_str(CSIM "/bank0/label", RESMGR_TEST_C_CHIP);
	if (!ret)
		ret = write_str(CSIM "/live", "1");
	return ret;
}

/* Adds or removes the chip of the variant: unbind/bind or gpio-sim's live. */
static int chip_live(bool rust, bool live)
{
	if (rust)
		return write_str(live ? RS_DRV "/bind" : RS_DRV "/unbind", RESMGR_TEST_RS_CHIP);
	return write_str(CSIM "/live", live ? "1" : "0");
}

/* Finds the gpiochipN whose label is @label; its name goes to @name. */
static int find_chip(const char *label, char *name, size_t len)
{
	struct gpiochip_info info;
	struct dirent *e;
	char path[300];
	int fd, found = -ENOENT;
	DIR *d = opendir("/dev");

	if (!d)
		return -errno;
	while ((e = readdir(d)) && found) {
		if (strncmp(e->d_name, "gpiochip", 8))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (!ioctl(fd, GPIO_GET_CHIPINFO_IOCTL, &info) && !strcmp(info.label, label)) {
			found = snprintf(name, len, "%s", e->d_name) < (int)len ?
				0 : -ENAMETOOLONG;
		}
		close(fd);
	}
	closedir(d);
	return found;
}

/* The level of line @offset as the simulator sees it (sim_gpioN/value). */
static int sim_level(const char *chip, int offset)
{
	char path[128], buf[4] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/sys/bus/gpio/devices/%s/sim_gpio%d/value", chip, offset);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? buf[0] - '0' : -EIO;
}

/* Sets the simulated pull of line @offset ("pull-up"/"pull-down"). */
static int sim_pull(const char *chip, int offset, const char *pull)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/gpio/devices/%s/sim_gpio%d/pull", chip, offset);
	return write_str(path, pull);
}

/* Opens /dev/@chip; the fd or -errno. */
static int open_chip(const char *chip)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", chip);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* Requests line @offset of /dev/@chip from userspace; the request fd or -errno. */
static int uapi_request(const char *chip, int offset)
{
	struct gpio_v2_line_request req;
	int fd = open_chip(chip), ret;

	if (fd < 0)
		return fd;
	memset(&req, 0, sizeof(req));
	req.offsets[0] = offset;
	req.num_lines = 1;
	req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
	snprintf(req.consumer, sizeof(req.consumer), "selftest");
	ret = ioctl(fd, GPIO_V2_GET_LINE_IOCTL, &req) ? -errno : req.fd;
	close(fd);
	return ret;
}

/* The line information of line @offset of /dev/@chip. */
static int uapi_info(const char *chip, int offset, struct gpio_v2_line_info *info)
{
	int fd = open_chip(chip), ret;

	if (fd < 0)
		return fd;
	memset(info, 0, sizeof(*info));
	info->offset = offset;
	ret = ioctl(fd, GPIO_V2_GET_LINEINFO_IOCTL, info) ? -errno : 0;
	close(fd);
	return ret;
}

FIXTURE(consumer) {
	int fd;
	char chip[32];
};

FIXTURE_VARIANT(consumer) {
	bool rust;
	const char *lines;	/* connection id of lines 0..7 */
	const char *low;	/* connection id of line 6, active low */
	const char *label;
};

FIXTURE_VARIANT_ADD(consumer, rust_chip) {
	.rust = true, .lines = "rs", .low = "rs-low", .label = RESMGR_TEST_RS_CHIP,
};

FIXTURE_VARIANT_ADD(consumer, c_gpio_sim) {
	.rust = false, .lines = "c", .low = "c-low", .label = RESMGR_TEST_C_CHIP,
};

FIXTURE_SETUP(consumer)
{
	if (variant->rust)
		chip_live(true, true);	/* a failed test may have left it unbound */
	else
		ASSERT_EQ(0, csim(true));
	ASSERT_EQ(0, find_chip(variant->label, self->chip, sizeof(self->chip)))
		TH_LOG("no gpiochip labelled %s", variant->label);
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(consumer)
{
	if (self->fd >= 0)
		close(self->fd);
	if (variant->rust)
		chip_live(true, true);
	else
		csim(false);
}

static long get_line(int fd, const char *con_id, int index)
{
	return resmgr_lookup(fd, RESMGR_TEST_GPIO_LOOKUP, con_id, index);
}

TEST_F(consumer, userspace_holder_makes_the_consumer_busy)
{
	int req;
	long id;

	req = uapi_request(self->chip, 3);
	ASSERT_LE(0, req);
	ASSERT_EQ(-EBUSY, get_line(self->fd, variant->lines, 3));
	/* Other lines of the chip are free. */
	ASSERT_LT(0, get_line(self->fd, variant->lines, 2));
	ASSERT_EQ(0, close(req));
	id = get_line(self->fd, variant->lines, 3);
	ASSERT_LT(0, id);
}

TEST_F(consumer, consumer_line_is_busy_for_userspace_and_named_in_lineinfo)
{
	struct gpio_v2_line_info info;
	long id;

	ASSERT_EQ(0, uapi_info(self->chip, 2, &info));
	ASSERT_EQ(0, info.flags & GPIO_V2_LINE_FLAG_USED);
	id = get_line(self->fd, variant->lines, 2);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, uapi_info(self->chip, 2, &info));
	ASSERT_NE(0, info.flags & GPIO_V2_LINE_FLAG_USED);
	ASSERT_STREQ(variant->lines, info.consumer);
	ASSERT_EQ(-EBUSY, uapi_request(self->chip, 2));
	/* One consumer at a time in the kernel too. */
	ASSERT_EQ(-EBUSY, get_line(self->fd, variant->lines, 2));

	/* Dropping the handle gives the line back. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ id }));
	ASSERT_EQ(0, uapi_info(self->chip, 2, &info));
	ASSERT_EQ(0, info.flags & GPIO_V2_LINE_FLAG_USED);
	id = uapi_request(self->chip, 2);
	ASSERT_LE(0, id);
	close(id);
}

TEST_F(consumer, values_are_logical_and_reach_the_chip)
{
	__u64 v = 0;
	long id, low;

	id = get_line(self->fd, variant->lines, 4);
	ASSERT_LT(0, id);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_ACTIVE_LOW, id, &v));
	ASSERT_EQ(0, v);
	v = 1;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, id, &v));
	ASSERT_EQ(1, sim_level(self->chip, 4));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_DIRECTION, id, &v));
	ASSERT_EQ(1, v);
	v = 0;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_SET, id, &v));
	ASSERT_EQ(0, sim_level(self->chip, 4));

	/* Line 6 through the active-low entry: logical 1 is level 0. */
	low = get_line(self->fd, variant->low, 0);
	ASSERT_LT(0, low);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_ACTIVE_LOW, low, &v));
	ASSERT_EQ(1, v);
	v = 1;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, low, &v));
	ASSERT_EQ(0, sim_level(self->chip, 6));
	v = 0;
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_SET, low, &v));
	ASSERT_EQ(1, sim_level(self->chip, 6));
	/* As an input: the simulated pull sets the level, read inverted. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_INPUT, low, NULL));
	ASSERT_EQ(0, sim_pull(self->chip, 6, "pull-up"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, low, &v));
	ASSERT_EQ(0, v);
	ASSERT_EQ(0, sim_pull(self->chip, 6, "pull-down"));
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, low, &v));
	ASSERT_EQ(1, v);
	/* Line 6 is taken: the plain entry for it is busy. */
	ASSERT_EQ(-EBUSY, get_line(self->fd, variant->lines, 6));
}

TEST_F(consumer, interrupts_and_sleeping_chips)
{
	__u64 v = 0;
	long id;

	id = get_line(self->fd, variant->lines, 5);
	ASSERT_LT(0, id);
	/* Both simulators have an interrupt per line. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_TO_IRQ, id, &v));
	ASSERT_LT(0, v);
	/* Both can sleep: the non-sleeping read is refused, not warned about. */
	ASSERT_EQ(-EAGAIN, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET_ATOMIC, id, &v));
}

TEST_F(consumer, chip_removal_gives_enodev_and_a_new_chip_a_new_line)
{
	__u64 v = 1;
	long stale, fresh;

	stale = get_line(self->fd, variant->lines, 1);
	ASSERT_LT(0, stale);
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, stale, &v));

	ASSERT_EQ(0, chip_live(variant->rust, false));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_SET, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_OUTPUT, stale, &v));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_DIRECTION, stale, &v));
	/* No chip: gpiolib would defer a probe, the test device says ENOENT. */
	ASSERT_EQ(-ENOENT, get_line(self->fd, variant->lines, 1));

	ASSERT_EQ(0, chip_live(variant->rust, true));
	ASSERT_EQ(-ENODEV, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, stale, &v));
	ASSERT_EQ(0, find_chip(variant->label, self->chip, sizeof(self->chip)));
	fresh = get_line(self->fd, variant->lines, 1);
	ASSERT_LT(0, fresh);
	/* A new chip: its line starts as an input pulled down. */
	ASSERT_EQ(0, resmgr_op(self->fd, RESMGR_TEST_GPIO_GET, fresh, &v));
	ASSERT_EQ(0, v);
	/* Dropping the stale line is fine, its chip gone or not. */
	ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_DROP, &(__u64){ stale }));
}

/*
 * Only a Rust chip has a provider whose revocation a consumer can wait for
 * (resmgr-test holds a waiter across the unbind); once it is revoked, the
 * wait returns at once. A line of a C chip has none: ENOENT.
 */
TEST_F(consumer, wait_revoked_through_the_line)
{
	long id;

	id = get_line(self->fd, variant->lines, 0);
	ASSERT_LT(0, id);
	if (variant->rust) {
		ASSERT_EQ(0, chip_live(true, false));
		ASSERT_EQ(0, ioctl(self->fd, RESMGR_TEST_WAIT_REVOKED, &(__u64){ id }));
	} else {
		ASSERT_EQ(-1, ioctl(self->fd, RESMGR_TEST_WAIT_REVOKED, &(__u64){ id }));
		ASSERT_EQ(ENOENT, errno);
	}
}

TEST_HARNESS_MAIN
