// SPDX-License-Identifier: GPL-2.0
/*
 * gpio_sim_rs across unbind: values flow through the GPIO uAPI while the
 * chip is bound; after its platform device is unbound through sysfs, open
 * line requests (uAPI v2 and v1) and the chip fd answer ENODEV, poll()
 * reports POLLHUP | POLLERR, close() works; after a bind, the old fds stay
 * ENODEV and the new chip works.
 *
 * Needs gpio_sim_rs loaded with chips >= 1 and lines >= 8 (the .sh wrapper
 * does it).
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define SIM_DEV		"gpio_sim_rs.0"
#define SIM_DRV		"/sys/bus/platform/drivers/gpio_sim_rs"

/* Finds /dev/gpiochipN of the bound device; returns -ENOENT when unbound. */
static int chip_path(char *buf, size_t len)
{
	struct dirent *de;
	DIR *dir;
	int ret = -ENOENT;

	dir = opendir("/sys/bus/platform/devices/" SIM_DEV);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (!strncmp(de->d_name, "gpiochip", 8)) {
			snprintf(buf, len, "/dev/%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

static int open_chip(void)
{
	char path[300];
	int ret;

	ret = chip_path(path, sizeof(path));
	if (ret)
		return ret;
	ret = open(path, O_RDWR | O_CLOEXEC);
	return ret < 0 ? -errno : ret;
}

static int bind_sim(bool bind)
{
	return write_str(bind ? SIM_DRV "/bind" : SIM_DRV "/unbind", SIM_DEV);
}

static int request_v2(int chip_fd, unsigned int offset, __u64 flags,
		      __u64 values)
{
	struct gpio_v2_line_request req;

	memset(&req, 0, sizeof(req));
	req.offsets[0] = offset;
	req.num_lines = 1;
	req.config.flags = flags;
	if (flags & GPIO_V2_LINE_FLAG_OUTPUT) {
		req.config.num_attrs = 1;
		req.config.attrs[0].mask = 1;
		req.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
		req.config.attrs[0].attr.values = values;
	}
	strcpy(req.consumer, "resmgr-selftest");
	if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &req))
		return -errno;
	return req.fd;
}

static int get_v2(int req_fd)
{
	struct gpio_v2_line_values vals = { .mask = 1 };

	if (ioctl(req_fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals))
		return -errno;
	return vals.bits & 1;
}

static short poll_events(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	if (poll(&pfd, 1, 1000) < 0)
		return -1;
	return pfd.revents;
}

FIXTURE(sim) {
	int chip_fd;
};

FIXTURE_SETUP(sim)
{
	/* A previous failure may have left the device unbound. */
	bind_sim(true);
	self->chip_fd = open_chip();
	ASSERT_LE(0, self->chip_fd) TH_LOG("no gpiochip for " SIM_DEV ": %s",
					   strerror(-self->chip_fd));
}

FIXTURE_TEARDOWN(sim)
{
	if (self->chip_fd >= 0)
		close(self->chip_fd);
	bind_sim(true);
}

TEST_F(sim, values_through_bias_and_output)
{
	struct gpiochip_info info;
	int fd;

	ASSERT_EQ(0, ioctl(self->chip_fd, GPIO_GET_CHIPINFO_IOCTL, &info));
	ASSERT_STREQ(SIM_DEV, info.label);
	ASSERT_LE(8, info.lines);

	fd = request_v2(self->chip_fd, 3,
			GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_BIAS_PULL_UP, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, get_v2(fd));
	close(fd);

	fd = request_v2(self->chip_fd, 3,
			GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_v2(fd));
	close(fd);

	fd = request_v2(self->chip_fd, 5, GPIO_V2_LINE_FLAG_OUTPUT, 1);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, get_v2(fd));
	close(fd);

	fd = request_v2(self->chip_fd, 5, GPIO_V2_LINE_FLAG_OUTPUT, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_v2(fd));
	close(fd);

	/* Out of range offsets are refused. */
	ASSERT_EQ(-EINVAL, request_v2(self->chip_fd, info.lines,
				      GPIO_V2_LINE_FLAG_INPUT, 0));
}

/* Reads sim_gpio<offset>/value of the bound chip: 0, 1 or -errno. */
static int sim_value(unsigned int offset)
{
	char chip[300], path[400], c;
	int fd, ret;

	ret = chip_path(chip, sizeof(chip));
	if (ret)
		return ret;
	snprintf(path, sizeof(path),
		 "/sys/bus/platform/devices/" SIM_DEV "/%s/sim_gpio%u/value",
		 chip + strlen("/dev/"), offset);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read(fd, &c, 1) == 1 ? c - '0' : -EIO;
	close(fd);
	return ret;
}

/*
 * Several lines in one request: set and get with a mask reach only the
 * masked lines (the chip's get_multiple/set_multiple), and the chip's own
 * view of each line agrees.
 */
TEST_F(sim, multi_line_values_with_a_mask)
{
	static const unsigned int offsets[] = { 1, 3, 4, 6 };
	struct gpio_v2_line_request req;
	struct gpio_v2_line_values vals;
	unsigned int i;

	memset(&req, 0, sizeof(req));
	for (i = 0; i < 4; i++)
		req.offsets[i] = offsets[i];
	req.num_lines = 4;
	req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
	strcpy(req.consumer, "resmgr-selftest");
	ASSERT_EQ(0, ioctl(self->chip_fd, GPIO_V2_GET_LINE_IOCTL, &req));

	/* Lines 3 and 6 (request bits 1 and 3) high. */
	vals.mask = 0xa;
	vals.bits = 0xa;
	ASSERT_EQ(0, ioctl(req.fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals));
	vals.mask = 0xf;
	vals.bits = 0;
	ASSERT_EQ(0, ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals));
	ASSERT_EQ(0xa, vals.bits);
	ASSERT_EQ(0, sim_value(1));
	ASSERT_EQ(1, sim_value(3));
	ASSERT_EQ(0, sim_value(4));
	ASSERT_EQ(1, sim_value(6));

	/* Line 1 high, line 3 low; lines 4 and 6 are not in the mask. */
	vals.mask = 0x3;
	vals.bits = 0xd;
	ASSERT_EQ(0, ioctl(req.fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals));
	ASSERT_EQ(1, sim_value(1));
	ASSERT_EQ(0, sim_value(3));
	ASSERT_EQ(0, sim_value(4));
	ASSERT_EQ(1, sim_value(6));

	/* A get reports only the masked lines. */
	vals.mask = 0xc;
	vals.bits = 0;
	ASSERT_EQ(0, ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals));
	ASSERT_EQ(0x8, vals.bits);
	vals.mask = 0xf;
	ASSERT_EQ(0, ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals));
	ASSERT_EQ(0x9, vals.bits);

	ASSERT_EQ(0, close(req.fd));
}

TEST_F(sim, unbind_with_v2_request_open)
{
	struct gpio_v2_line_values vals = { .mask = 1, .bits = 1 };
	struct gpiochip_info info;
	char buf[300];
	int req, fresh;

	req = request_v2(self->chip_fd, 2, GPIO_V2_LINE_FLAG_INPUT, 0);
	ASSERT_LE(0, req);
	ASSERT_EQ(0, get_v2(req));

	ASSERT_EQ(0, bind_sim(false));
	ASSERT_EQ(-ENOENT, chip_path(buf, sizeof(buf)));

	ASSERT_EQ(-ENODEV, get_v2(req));
	ASSERT_EQ(-1, ioctl(req, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-1, read(req, buf, sizeof(buf)));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(POLLHUP | POLLERR, poll_events(req) & (POLLHUP | POLLERR));
	ASSERT_EQ(-1, ioctl(self->chip_fd, GPIO_GET_CHIPINFO_IOCTL, &info));
	ASSERT_EQ(ENODEV, errno);

	/* Rebind: a new chip works, the old fds stay dead. */
	ASSERT_EQ(0, bind_sim(true));
	fresh = open_chip();
	ASSERT_LE(0, fresh);
	ASSERT_EQ(0, ioctl(fresh, GPIO_GET_CHIPINFO_IOCTL, &info));
	ASSERT_STREQ(SIM_DEV, info.label);
	ASSERT_EQ(-ENODEV, get_v2(req));
	ASSERT_EQ(-1, ioctl(self->chip_fd, GPIO_GET_CHIPINFO_IOCTL, &info));
	ASSERT_EQ(ENODEV, errno);

	ASSERT_EQ(0, close(req));
	close(fresh);
}

TEST_F(sim, unbind_with_v1_handle_open)
{
	struct gpiohandle_request req;
	struct gpiohandle_data data;

	memset(&req, 0, sizeof(req));
	req.lineoffsets[0] = 6;
	req.lines = 1;
	req.flags = GPIOHANDLE_REQUEST_OUTPUT;
	req.default_values[0] = 1;
	strcpy(req.consumer_label, "resmgr-selftest-v1");
	ASSERT_EQ(0, ioctl(self->chip_fd, GPIO_GET_LINEHANDLE_IOCTL, &req));
	ASSERT_EQ(0, ioctl(req.fd, GPIOHANDLE_GET_LINE_VALUES_IOCTL, &data));
	ASSERT_EQ(1, data.values[0]);

	ASSERT_EQ(0, bind_sim(false));
	ASSERT_EQ(-1, ioctl(req.fd, GPIOHANDLE_GET_LINE_VALUES_IOCTL, &data));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(-1, ioctl(req.fd, GPIOHANDLE_SET_LINE_VALUES_IOCTL, &data));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, close(req.fd));
}

TEST_F(sim, unbind_bind_loop_keeps_old_fds_dead)
{
	int req, i;

	req = request_v2(self->chip_fd, 1, GPIO_V2_LINE_FLAG_OUTPUT, 1);
	ASSERT_LE(0, req);
	ASSERT_EQ(1, get_v2(req));

	for (i = 0; i < 20; i++) {
		ASSERT_EQ(0, bind_sim(false));
		ASSERT_EQ(-ENODEV, get_v2(req));
		ASSERT_EQ(0, bind_sim(true));
		ASSERT_EQ(-ENODEV, get_v2(req));
	}
	ASSERT_EQ(0, close(req));
}

TEST_F(sim, module_unload_with_request_open)
{
	int req;

	req = request_v2(self->chip_fd, 4, GPIO_V2_LINE_FLAG_OUTPUT, 1);
	ASSERT_LE(0, req);
	ASSERT_EQ(1, get_v2(req));

	/* gpiolib pins the driver's module while a line is requested. */
	ASSERT_NE(0, system("rmmod gpio_sim_rs 2>/dev/null"));
	ASSERT_EQ(1, get_v2(req));

	/* An unbind does not wait for the request, and the module can go. */
	ASSERT_EQ(0, bind_sim(false));
	ASSERT_EQ(-ENODEV, get_v2(req));
	ASSERT_EQ(0, close(req));
	ASSERT_EQ(0, system("rmmod gpio_sim_rs"));
	ASSERT_EQ(-1, ioctl(self->chip_fd, GPIO_GET_CHIPINFO_IOCTL,
			    &(struct gpiochip_info){}));
	ASSERT_EQ(ENODEV, errno);
	ASSERT_EQ(0, system("modprobe gpio_sim_rs chips=1 lines=8"));
}

TEST_HARNESS_MAIN
