// SPDX-License-Identifier: GPL-2.0
/*
 * resmgr-ctl: a line-oriented driver for /dev/resmgr-test and GPIO uAPI
 * line requests, for demos and shell tests. It keeps its file descriptors
 * open across commands, so that a script can unbind drivers in between.
 *
 * Commands (one per line on stdin), each answered with one line
 * "ok [value]" or "err <errno name>":
 *   open                     open /dev/resmgr-test (fd kept)
 *   lookup <con_id> <index>  a GPIO line of the test device, from gpiolib -> id
 *   get <id>                 value through the handle
 *   drop <id>                give the handle back
 *   read                     read() the test device
 *   poll                     poll() the test device -> revents
 *   request <chipdev> <off>  GPIO uAPI v2 input request (fd kept)
 *   rget                     value through the uAPI request
 *   close                    close every fd
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/resmgr_test.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int dev_fd = -1, req_fd = -1;

static void reply_err(int err)
{
	printf("err %s\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
}

static void do_line(char *line)
{
	char cmd[16] = "", arg1[64] = "";
	unsigned long long n = 0;

	if (sscanf(line, "%15s %63s %llu", cmd, arg1, &n) < 1)
		return;

	if (!strcmp(cmd, "open")) {
		dev_fd = open("/dev/resmgr-test", O_RDWR | O_CLOEXEC);
		dev_fd < 0 ? reply_err(errno) : (void)printf("ok\n");
	} else if (!strcmp(cmd, "lookup")) {
		struct resmgr_test_gpio_lookup req = { .index = n };

		snprintf(req.name, sizeof(req.name), "%s", arg1);
		if (ioctl(dev_fd, RESMGR_TEST_GPIO_LOOKUP, &req))
			reply_err(errno);
		else
			printf("ok %llu\n", (unsigned long long)req.id);
	} else if (!strcmp(cmd, "get")) {
		struct resmgr_test_gpio_op op = { .id = strtoull(arg1, NULL, 0) };

		if (ioctl(dev_fd, RESMGR_TEST_GPIO_GET, &op))
			reply_err(errno);
		else
			printf("ok %llu\n", (unsigned long long)op.value);
	} else if (!strcmp(cmd, "read")) {
		char buf[64];
		ssize_t len = read(dev_fd, buf, sizeof(buf) - 1);

		if (len < 0) {
			reply_err(errno);
		} else {
			buf[len] = 0;
			buf[strcspn(buf, "\n")] = 0;
			printf("ok %s\n", buf);
		}
	} else if (!strcmp(cmd, "poll")) {
		struct pollfd pfd = { .fd = dev_fd, .events = POLLIN };

		if (poll(&pfd, 1, 1000) < 0)
			reply_err(errno);
		else
			printf("ok%s%s%s\n", pfd.revents & POLLIN ? " POLLIN" : "",
			       pfd.revents & POLLHUP ? " POLLHUP" : "",
			       pfd.revents & POLLERR ? " POLLERR" : "");
	} else if (!strcmp(cmd, "request")) {
		struct gpio_v2_line_request req = { .num_lines = 1 };
		char path[80];
		int chip;

		snprintf(path, sizeof(path), "/dev/%s", arg1);
		chip = open(path, O_RDWR | O_CLOEXEC);
		if (chip < 0) {
			reply_err(errno);
			return;
		}
		req.offsets[0] = n;
		req.config.flags = GPIO_V2_LINE_FLAG_INPUT;
		strcpy(req.consumer, "resmgr-ctl");
		if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req)) {
			reply_err(errno);
		} else {
			req_fd = req.fd;
			printf("ok\n");
		}
		close(chip);
	} else if (!strcmp(cmd, "rget")) {
		struct gpio_v2_line_values vals = { .mask = 1 };

		if (ioctl(req_fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals))
			reply_err(errno);
		else
			printf("ok %llu\n", (unsigned long long)(vals.bits & 1));
	} else if (!strcmp(cmd, "drop")) {
		__u64 id = strtoull(arg1, NULL, 0);

		if (ioctl(dev_fd, RESMGR_TEST_DROP, &id))
			reply_err(errno);
		else
			printf("ok\n");
	} else if (!strcmp(cmd, "close")) {
		int ret = 0;

		if (dev_fd >= 0)
			ret |= close(dev_fd);
		if (req_fd >= 0)
			ret |= close(req_fd);
		dev_fd = -1;
		req_fd = -1;
		ret ? reply_err(errno) : (void)printf("ok\n");
	} else {
		reply_err(EINVAL);
	}
}

int main(void)
{
	char line[256];

	setvbuf(stdout, NULL, _IOLBF, 0);
	while (fgets(line, sizeof(line), stdin))
		do_line(line);
	return 0;
}
