// SPDX-License-Identifier: GPL-2.0
/*
 * The interrupt that a GPIO character device line request (uAPI v2, with
 * edge detection) or line event handle (uAPI v1) requested must be freed
 * exactly once, with its label, when the chip is removed while the request
 * is still open: gpiochip_remove() must not free it behind the request's
 * back and the release of the request free it again.
 *
 * Each case runs on a gpio-sim device created through configfs, once per
 * uAPI (the v2 and v1 variants):
 *
 * close_after_chip_replaced
 *	A line with edge detection is requested with a distinctive consumer
 *	label (its interrupt shows up under that label in /proc/interrupts)
 *	and delivers edges (the line's "pull" attribute toggled through
 *	sysfs). The chip goes down (live = 0) with the request open and comes
 *	back (live = 1): a new chip, whose line, requested again with edge
 *	detection, usually gets the same IRQ number back. Then the old request
 *	is closed. The new chip's interrupt must still be requested under its
 *	label and deliver edges, and the kernel must not have warned (a second
 *	free_irq() warns "Trying to free already-free IRQ").
 *
 * close_racing_removal
 *	Rounds of: make the chip live, request all its lines with edge
 *	detection, then close the request(s) from one thread while the main
 *	thread writes 0 to "live", the close delayed by a random part of the
 *	time a removal takes. Runs for RACE_MS milliseconds (or
 *	$RESMGR_RACE_MS) or RACE_ROUNDS rounds; stops at the first kernel
 *	warning. Then a new chip must still deliver edges.
 *
 * Both check the kernel log from the start of the test (/dev/kmsg) for
 * warnings, BUGs and KASAN reports, and, when kmemleak is enabled (boot with
 * kmemleak=on), scan for leaks and fail if an unreferenced object holds one
 * of the test's labels: the interrupt's label (the consumer label with '/'
 * replaced by ':', which free_irq() hands back to whoever frees the
 * interrupt) or the line's label.
 *
 * Needs root, gpio-sim loaded and configfs mounted at /sys/kernel/config
 * (the .sh wrapper does it), debugfs at /sys/kernel/debug for kmemleak.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "util.h"

#define SIM_ROOT	"/sys/kernel/config/gpio-sim"
/* configfs devices are named SIM_PREFIX<pid>-<tag>. */
#define SIM_PREFIX	"irqfree-"
#define SIM_LINES	4
#define SIM_LINES_STR	"4"
#define KMSG		"/dev/kmsg"
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
/* kmemleak does not report objects younger than 5 s. */
#define LEAK_MIN_AGE_MS	6000
/* For an edge event, from the pull change (QEMU TCG with KASAN: generous). */
#define EVENT_MS	10000
#define RACE_MS		6000
#define RACE_ROUNDS	500
/* First guess of how long writing 0 to "live" takes, refined as we go. */
#define REMOVAL_US	20000
/* Per test; the whole program has the suite's settings timeout (300 s). */
#define TEST_TIMEOUT	120

enum { EDGE_RISING = 1, EDGE_FALLING = 2 };

/* Kernel log lines that fail a test. */
static const char *const kmsg_bad[] = {
	"Trying to free already-free IRQ",
	"WARNING:",
	"BUG:",
	"KASAN:",
	"UBSAN:",
	"Oops",
	"general protection fault",
	"Unable to handle kernel",
	"cut here",
	"possible circular locking",
	"possible recursive locking",
	"inconsistent lock state",
	"list_add corruption",
	"list_del corruption",
};

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = {
		.tv_sec = us / 1000000,
		.tv_nsec = (long)(us % 1000000) * 1000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int read_str(const char *path, char *buf, size_t size)
{
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = read(fd, buf, size - 1);
	if (ret < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	close(fd);
	buf[ret] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Reads all of @path (a seq_file) into a malloc()ed string, or NULL. */
static char *read_all(const char *path)
{
	size_t len = 0, size = 65536;
	char *buf, *tmp;
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	buf = malloc(size);
	while (buf) {
		if (size - len < 4096) {
			tmp = realloc(buf, size * 2);
			if (!tmp) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = tmp;
			size *= 2;
		}
		ret = read(fd, buf + len, size - len - 1);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret < 0) {
			free(buf);
			buf = NULL;
			break;
		}
		if (!ret) {
			buf[len] = '\0';
			break;
		}
		len += ret;
	}
	close(fd);
	return buf;
}

/*
 * The test's labels: "irqf/<tag>-<pid>", at most 15 characters so that the
 * string fits in one 16-byte row of kmemleak's hex dump. The interrupt's
 * label is the same with ':' for '/' (make_irq_label()).
 */
struct labels {
	char line[32];
	char irq[32];
};

static void make_labels(struct labels *l, const char *tag)
{
	snprintf(l->line, sizeof(l->line), "irqf/%s-%d", tag,
		 (int)(getpid() % 1000000));
	strcpy(l->irq, l->line);
	l->irq[strcspn(l->irq, "/")] = ':';
}

/* The IRQ number an action named @name is installed on, or -1. */
static int irq_of(const char *name)
{
	size_t len = strlen(name), cap = 0;
	char *line = NULL, *p, *end;
	int irq = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "re");
	if (!f)
		return -1;
	while (irq < 0 && getline(&line, &cap, f) > 0) {
		for (p = strstr(line, name); p; p = strstr(p + 1, name)) {
			/* The whole name, not a prefix of another one. */
			if (p[len] && !strchr(" ,\n", p[len]))
				continue;
			if (p > line && !strchr(" ,", p[-1]))
				continue;
			irq = strtol(line, &end, 10);
			if (end == line || *end != ':')
				irq = -1;
			break;
		}
	}
	free(line);
	fclose(f);
	return irq;
}

/* Opens /dev/kmsg positioned after the last record, or returns -1. */
static int kmsg_open(void)
{
	int fd;

	fd = open(KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Reads the kernel log records that came since the last call and returns how
 * many match kmsg_bad[]; logs the first of them.
 */
static int kmsg_scan(struct __test_metadata *_metadata, int fd)
{
	char rec[8192], *msg;
	int bad = 0;
	unsigned int i;
	ssize_t n;

	if (fd < 0)
		return 0;
	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && (errno == EINTR || errno == EPIPE))
			continue;	/* EPIPE: records lost, go on */
		if (n <= 0)
			break;		/* EAGAIN: nothing more */
		rec[n] = '\0';
		/* "prio,seq,usec,flags;text\n" then " KEY=value" lines */
		msg = strchr(rec, ';');
		msg = msg ? msg + 1 : rec;
		msg[strcspn(msg, "\n")] = '\0';
		for (i = 0; i < ARRAY_SIZE(kmsg_bad); i++) {
			if (!strstr(msg, kmsg_bad[i]))
				continue;
			if (bad++ < 16)
				TH_LOG("kernel: %s", msg);
			break;
		}
	}
	return bad;
}

/* Logs the kmemleak report around @pos in @buf. */
static void leak_log(struct __test_metadata *_metadata, const char *buf,
		     const char *pos)
{
	const char *start = pos, *p, *next;
	int len;

	for (p = strstr(buf, "unreferenced object"); p && p < pos;
	     p = strstr(p + 1, "unreferenced object"))
		start = p;
	next = strstr(start + 1, "unreferenced object");
	len = next ? (int)(next - start) : (int)strlen(start);
	TH_LOG("kmemleak:\n%.*s", len > 1200 ? 1200 : len, start);
}

/*
 * Whether kmemleak is there and enabled: it refuses any command but "clear"
 * with EPERM when disabled, and an unknown one with EINVAL when enabled.
 */
static bool kmemleak_enabled(void)
{
	return write_str(KMEMLEAK, "enabled?") == -EINVAL;
}

/*
 * Scans for leaks (after the objects allocated at @born_ms are old enough to
 * be reported) and sets found[i] when a suspected leak holds names[i]. A
 * second scan when the first finds nothing: a stale pointer (on a stack, in a
 * register) may hide a leak from one scan. Returns 0, or -errno when kmemleak
 * is not there, disabled or fails.
 */
static int leak_check(struct __test_metadata *_metadata, int64_t born_ms,
		      const char *const *names, bool *found, int n)
{
	int64_t wait;
	bool any = false;
	const char *pos;
	char *buf;
	int pass, i, ret;

	if (!kmemleak_enabled())
		return -EPERM;
	wait = born_ms + LEAK_MIN_AGE_MS - now_ms();
	if (wait > 0)
		sleep_ms(wait);

	for (pass = 0; pass < 2 && !any; pass++) {
		if (pass)
			sleep_ms(1000);
		ret = write_str(KMEMLEAK, "scan");
		if (ret)
			return ret;
		buf = read_all(KMEMLEAK);
		if (!buf)
			return -errno;
		for (i = 0; i < n; i++) {
			pos = strstr(buf, names[i]);
			if (pos && !found[i]) {
				found[i] = true;
				any = true;
				leak_log(_metadata, buf, pos);
			}
		}
		free(buf);
	}
	return 0;
}

/* One gpio-sim device with one bank of SIM_LINES lines. */
struct sim {
	char dev_dir[128];
	char bank_dir[160];
	char live_path[160];
	char dev_name[64];
	char chip_name[64];
	char chip_path[96];
	bool dev_created;
	bool bank_created;
	bool live;
};

/* Takes the device down and removes it; the request fds are gone by then. */
static void sim_destroy(struct sim *s)
{
	if (!s->dev_created)
		return;
	/* Whatever the state: a killed test may have left it either way. */
	write_str(s->live_path, "0");
	s->live = false;
	if (s->bank_created && !rmdir(s->bank_dir))
		s->bank_created = false;
	if (!rmdir(s->dev_dir))
		s->dev_created = false;
}

/* Removes the devices of test processes that are gone (killed on timeout). */
static void sim_sweep(void)
{
	char path[512];
	struct dirent *de;
	long pid;
	DIR *dir;

	dir = opendir(SIM_ROOT);
	if (!dir)
		return;
	while ((de = readdir(dir))) {
		if (strncmp(de->d_name, SIM_PREFIX, strlen(SIM_PREFIX)))
			continue;
		pid = strtol(de->d_name + strlen(SIM_PREFIX), NULL, 10);
		if (pid <= 0 || !kill(pid, 0) || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), SIM_ROOT "/%s/live", de->d_name);
		write_str(path, "0");
		snprintf(path, sizeof(path), SIM_ROOT "/%s/bank0", de->d_name);
		rmdir(path);
		snprintf(path, sizeof(path), SIM_ROOT "/%s", de->d_name);
		rmdir(path);
	}
	closedir(dir);
}

/* Writes @live to the device's "live"; when up, finds its chip and sysfs. */
static int sim_live(struct sim *s, bool live)
{
	char path[320];
	int ret, i;

	ret = write_str(s->live_path, live ? "1" : "0");
	if (ret)
		return ret;
	s->live = live;
	if (!live)
		return 0;

	snprintf(path, sizeof(path), "%s/chip_name", s->bank_dir);
	ret = read_str(path, s->chip_name, sizeof(s->chip_name));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), "%s/dev_name", s->dev_dir);
	ret = read_str(path, s->dev_name, sizeof(s->dev_name));
	if (ret)
		return ret;
	snprintf(s->chip_path, sizeof(s->chip_path), "/dev/%s", s->chip_name);

	/* devtmpfs has them already; give udev-like setups a moment. */
	snprintf(path, sizeof(path), "/sys/devices/platform/%s/%s/sim_gpio0/pull",
		 s->dev_name, s->chip_name);
	for (i = 0; i < 200; i++) {
		if (!access(s->chip_path, R_OK | W_OK) && !access(path, W_OK))
			return 0;
		sleep_ms(10);
	}
	return -ENOENT;
}

static int sim_create(struct sim *s, const char *tag)
{
	char path[192];
	int ret;

	snprintf(s->dev_dir, sizeof(s->dev_dir), SIM_ROOT "/" SIM_PREFIX "%d-%s",
		 getpid(), tag);
	snprintf(s->bank_dir, sizeof(s->bank_dir), "%s/bank0", s->dev_dir);
	snprintf(s->live_path, sizeof(s->live_path), "%s/live", s->dev_dir);

	if (mkdir(s->dev_dir, 0755))
		return -errno;
	s->dev_created = true;
	if (mkdir(s->bank_dir, 0755))
		return -errno;
	s->bank_created = true;

	snprintf(path, sizeof(path), "%s/num_lines", s->bank_dir);
	ret = write_str(path, SIM_LINES_STR);
	if (ret)
		return ret;
	return sim_live(s, true);
}

/* Sets the pull of line @offset of the live chip. */
static int sim_pull(struct sim *s, unsigned int offset, bool up)
{
	char path[320];

	snprintf(path, sizeof(path), "/sys/devices/platform/%s/%s/sim_gpio%u/pull",
		 s->dev_name, s->chip_name, offset);
	return write_str(path, up ? "pull-up" : "pull-down");
}

/*
 * Requests lines 0 to @n - 1 of @chip_path as inputs with edge detection on
 * both edges, consumer @label: one v2 line request, or @n v1 line event
 * handles. Stores the fds in @fds; returns their number or -errno.
 */
static int request_edges(const char *chip_path, bool v1, unsigned int n,
			 const char *label, int *fds)
{
	struct gpio_v2_line_request req;
	struct gpioevent_request ereq;
	int chip, ret = 0;
	unsigned int i;

	chip = open(chip_path, O_RDWR | O_CLOEXEC);
	if (chip < 0)
		return -errno;

	if (!v1) {
		memset(&req, 0, sizeof(req));
		for (i = 0; i < n; i++)
			req.offsets[i] = i;
		req.num_lines = n;
		req.config.flags = GPIO_V2_LINE_FLAG_INPUT |
				   GPIO_V2_LINE_FLAG_EDGE_RISING |
				   GPIO_V2_LINE_FLAG_EDGE_FALLING;
		snprintf(req.consumer, sizeof(req.consumer), "%s", label);
		if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req)) {
			ret = -errno;
		} else {
			fds[0] = req.fd;
			ret = 1;
		}
	} else {
		for (i = 0; i < n; i++) {
			memset(&ereq, 0, sizeof(ereq));
			ereq.lineoffset = i;
			ereq.handleflags = GPIOHANDLE_REQUEST_INPUT;
			ereq.eventflags = GPIOEVENT_REQUEST_BOTH_EDGES;
			snprintf(ereq.consumer_label,
				 sizeof(ereq.consumer_label), "%s", label);
			if (ioctl(chip, GPIO_GET_LINEEVENT_IOCTL, &ereq)) {
				ret = -errno;
				while (i--)
					close(fds[i]);
				break;
			}
			fds[i] = ereq.fd;
			ret = i + 1;
		}
	}
	close(chip);
	return ret;
}

/* Waits for one edge event on @fd: EDGE_RISING, EDGE_FALLING, 0 or -errno. */
static int wait_edge(int fd, bool v1)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct gpio_v2_line_event ev2;
	struct gpioevent_data ev1;
	ssize_t n;
	int ret;

	do {
		ret = poll(&pfd, 1, EVENT_MS);
	} while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return -errno;
	if (!ret)
		return 0;
	if (!(pfd.revents & POLLIN))
		return -EIO;

	if (v1) {
		n = read(fd, &ev1, sizeof(ev1));
		if (n != sizeof(ev1))
			return n < 0 ? -errno : -EIO;
		return ev1.id == GPIOEVENT_EVENT_RISING_EDGE ? EDGE_RISING :
		       ev1.id == GPIOEVENT_EVENT_FALLING_EDGE ? EDGE_FALLING :
		       -EPROTO;
	}
	n = read(fd, &ev2, sizeof(ev2));
	if (n != sizeof(ev2))
		return n < 0 ? -errno : -EIO;
	return ev2.id == GPIO_V2_LINE_EVENT_RISING_EDGE ? EDGE_RISING :
	       ev2.id == GPIO_V2_LINE_EVENT_FALLING_EDGE ? EDGE_FALLING :
	       -EPROTO;
}

static const char *edge_str(int ret)
{
	static char buf[64];

	if (ret == EDGE_RISING)
		return "a rising edge";
	if (ret == EDGE_FALLING)
		return "a falling edge";
	if (!ret)
		return "nothing";
	snprintf(buf, sizeof(buf), "an error (%s)", strerror(-ret));
	return buf;
}

/*
 * Pulls line 0 (low, requested through @fd) up then down and checks that
 * @fd reports a rising then a falling edge.
 */
static bool check_edges(struct __test_metadata *_metadata, struct sim *s,
			int fd, bool v1)
{
	int ret;

	ret = sim_pull(s, 0, true);
	if (ret) {
		TH_LOG("setting pull-up: %s", strerror(-ret));
		return false;
	}
	ret = wait_edge(fd, v1);
	if (ret != EDGE_RISING) {
		TH_LOG("pull-up: %s instead of a rising edge within %d ms",
		       edge_str(ret), EVENT_MS);
		return false;
	}
	ret = sim_pull(s, 0, false);
	if (ret) {
		TH_LOG("setting pull-down: %s", strerror(-ret));
		return false;
	}
	ret = wait_edge(fd, v1);
	if (ret != EDGE_FALLING) {
		TH_LOG("pull-down: %s instead of a falling edge within %d ms",
		       edge_str(ret), EVENT_MS);
		return false;
	}
	return true;
}

FIXTURE(irqfree) {
	struct sim s;
	int kmsg_fd;
};

FIXTURE_VARIANT(irqfree) {
	bool v1;
};

FIXTURE_VARIANT_ADD(irqfree, v2) {
	.v1 = false,
};

FIXTURE_VARIANT_ADD(irqfree, v1) {
	.v1 = true,
};

FIXTURE_SETUP(irqfree)
{
	int ret;

	self->kmsg_fd = -1;
	if (access(SIM_ROOT, F_OK))
		SKIP(return, "%s missing: load gpio-sim and mount configfs",
		     SIM_ROOT);

	sim_sweep();

	/* Only what the kernel logs from now on counts. */
	self->kmsg_fd = kmsg_open();
	if (self->kmsg_fd < 0)
		TH_LOG("cannot read %s (%s): no kernel log check", KMSG,
		       strerror(errno));
	/* Leaks reported so far are not ours (and were logged). */
	if (kmemleak_enabled())
		write_str(KMEMLEAK, "clear");

	ret = sim_create(&self->s, _metadata->name);
	if (ret) {
		/* Teardown does not run for a failed setup, clean up here. */
		sim_destroy(&self->s);
		ASSERT_EQ(0, ret) TH_LOG("cannot create a gpio-sim device: %s",
					 strerror(-ret));
	}
}

/*
 * In the parent, so that it runs after a failed ASSERT or a crash too (the
 * test's fds are closed by then). A timeout kills the parent too: the next
 * setup (sim_sweep()) and the .sh wrapper remove what is left.
 */
FIXTURE_TEARDOWN_PARENT(irqfree)
{
	sim_destroy(&self->s);
}

/* Logs the kmemleak check's outcome and fails on leaks. */
static void expect_no_leaks(struct __test_metadata *_metadata, int64_t born_ms,
			    const struct labels *labels, int nlabels)
{
	const char *names[8];
	bool found[8] = { false };
	int i, n = 0, ret;

	for (i = 0; i < nlabels && n + 2 <= (int)ARRAY_SIZE(names); i++) {
		names[n++] = labels[i].irq;
		names[n++] = labels[i].line;
	}
	ret = leak_check(_metadata, born_ms, names, found, n);
	if (ret) {
		TH_LOG("no kmemleak check (%s: %s; boot with kmemleak=on)",
		       KMEMLEAK, strerror(-ret));
		return;
	}
	for (i = 0; i < n; i++) {
		EXPECT_FALSE(found[i])
			TH_LOG("%s %s leaked (report above)%s",
			       i % 2 ? "an object with the consumer label" :
				       "the interrupt label",
			       names[i],
			       i % 2 ? "" :
			       ": the chip's removal freed the interrupt, dropping its label");
	}
}

TEST_F_TIMEOUT(irqfree, close_after_chip_replaced, TEST_TIMEOUT)
{
	const bool v1 = variant->v1;
	struct labels l[2];
	int old_fd, new_fd, old_irq, new_irq, ret;
	int64_t born;

	make_labels(&l[0], v1 ? "o1" : "o2");
	make_labels(&l[1], v1 ? "n1" : "n2");
	born = now_ms();

	ret = request_edges(self->s.chip_path, v1, 1, l[0].line, &old_fd);
	ASSERT_EQ(1, ret) TH_LOG("%s with edge detection: %s",
				 v1 ? "GPIO_GET_LINEEVENT_IOCTL" :
				      "GPIO_V2_GET_LINE_IOCTL",
				 strerror(-ret));
	old_irq = irq_of(l[0].irq);
	ASSERT_LT(0, old_irq) TH_LOG("no interrupt named %s in /proc/interrupts",
				     l[0].irq);
	/* Edges get through at all, or the check on the new chip means nothing. */
	ASSERT_TRUE(check_edges(_metadata, &self->s, old_fd, v1));

	/* Remove the chip under the open request. */
	ret = sim_live(&self->s, false);
	ASSERT_EQ(0, ret) TH_LOG("writing 0 to live: %s", strerror(-ret));
	EXPECT_EQ(-1, irq_of(l[0].irq))
		TH_LOG("the removed chip's interrupt %d is still requested",
		       old_irq);

	/* A new chip, whose line likely gets the same IRQ number. */
	ret = sim_live(&self->s, true);
	ASSERT_EQ(0, ret) TH_LOG("writing 1 to live: %s", strerror(-ret));
	ret = request_edges(self->s.chip_path, v1, 1, l[1].line, &new_fd);
	ASSERT_EQ(1, ret) TH_LOG("edge detection on the new chip: %s",
				 strerror(-ret));
	new_irq = irq_of(l[1].irq);
	ASSERT_LT(0, new_irq) TH_LOG("no interrupt named %s in /proc/interrupts",
				     l[1].irq);
	if (new_irq == old_irq)
		TH_LOG("the new chip's line got IRQ %d back", new_irq);
	else
		TH_LOG("IRQ %d not reused (the new chip's line has %d): %s",
		       old_irq, new_irq,
		       "a second free finds no interrupt, only the leak check can tell");

	/* Must not free anything: its interrupt went with the old chip. */
	EXPECT_EQ(0, close(old_fd)) TH_LOG("close(): %s", strerror(errno));

	EXPECT_EQ(new_irq, irq_of(l[1].irq))
		TH_LOG("closing the old request freed the new chip's interrupt");
	EXPECT_TRUE(check_edges(_metadata, &self->s, new_fd, v1))
		TH_LOG("the new line lost its edge detection when the old request was closed");
	EXPECT_EQ(0, close(new_fd)) TH_LOG("close(): %s", strerror(errno));
	EXPECT_EQ(-1, irq_of(l[1].irq))
		TH_LOG("closing the new request did not free its interrupt");

	EXPECT_EQ(0, kmsg_scan(_metadata, self->kmsg_fd))
		TH_LOG("the kernel complained (above) during the test");
	expect_no_leaks(_metadata, born, l, 2);
}

struct closer {
	pthread_barrier_t *go;
	int fds[SIM_LINES];
	int nfds;
	unsigned int delay_us;
	int err;
};

static void *closer_fn(void *arg)
{
	struct closer *c = arg;
	int i;

	pthread_barrier_wait(c->go);
	if (c->delay_us)
		sleep_us(c->delay_us);
	for (i = 0; i < c->nfds; i++) {
		if (close(c->fds[i]) && !c->err)
			c->err = errno;
	}
	return NULL;
}

static unsigned int race_ms(void)
{
	const char *env = getenv("RESMGR_RACE_MS");

	return env && atoi(env) > 0 ? atoi(env) : RACE_MS;
}

TEST_F_TIMEOUT(irqfree, close_racing_removal, TEST_TIMEOUT)
{
	const bool v1 = variant->v1;
	unsigned int seed = getpid(), rounds = 0;
	int64_t born, end, t0, est_us = REMOVAL_US;
	pthread_barrier_t go;
	struct closer c;
	struct labels l[2];
	const char *failed = NULL;
	int ret = 0, bad = 0, fd;
	pthread_t thread;

	make_labels(&l[0], v1 ? "r1" : "r2");
	make_labels(&l[1], v1 ? "s1" : "s2");
	TH_LOG("%u ms or %d rounds, seed %u", race_ms(), RACE_ROUNDS, seed);
	born = now_ms();
	end = born + race_ms();
	ASSERT_EQ(0, pthread_barrier_init(&go, NULL, 2));

	while (rounds < RACE_ROUNDS && now_ms() < end) {
		if (!self->s.live) {
			ret = sim_live(&self->s, true);
			if (ret) {
				failed = "writing 1 to live";
				break;
			}
		}
		memset(&c, 0, sizeof(c));
		c.go = &go;
		ret = request_edges(self->s.chip_path, v1, SIM_LINES, l[0].line,
				    c.fds);
		if (ret < 0) {
			failed = "requesting the lines with edge detection";
			break;
		}
		c.nfds = ret;
		/* Anywhere from the start of the removal to a bit after. */
		c.delay_us = rand_r(&seed) % (est_us + est_us / 4 + 1);
		ret = pthread_create(&thread, NULL, closer_fn, &c);
		if (ret) {
			ret = -ret;
			while (c.nfds--)
				close(c.fds[c.nfds]);
			failed = "starting the closing thread";
			break;
		}
		pthread_barrier_wait(&go);
		t0 = now_us();
		ret = sim_live(&self->s, false);
		t0 = now_us() - t0;
		pthread_join(thread, NULL);
		if (ret) {
			failed = "writing 0 to live";
			break;
		}
		est_us = (3 * est_us + t0) / 4;
		if (c.err) {
			ret = -c.err;
			failed = "close()";
			break;
		}
		rounds++;
		bad = kmsg_scan(_metadata, self->kmsg_fd);
		if (bad)
			break;
	}
	pthread_barrier_destroy(&go);
	TH_LOG("%u rounds, a removal takes about %lld us", rounds,
	       (long long)est_us);
	ASSERT_TRUE(!failed) TH_LOG("round %u: %s: %s", rounds + 1, failed, strerror(-ret));
	EXPECT_EQ(0, bad) TH_LOG("the kernel complained (above) in round %u",
				 rounds);

	/* Interrupts still work on a new chip. */
	if (!self->s.live) {
		ret = sim_live(&self->s, true);
		ASSERT_EQ(0, ret) TH_LOG("writing 1 to live: %s", strerror(-ret));
	}
	ret = request_edges(self->s.chip_path, v1, 1, l[1].line, &fd);
	ASSERT_EQ(1, ret) TH_LOG("edge detection on the new chip: %s",
				 strerror(-ret));
	EXPECT_TRUE(check_edges(_metadata, &self->s, fd, v1));
	EXPECT_EQ(0, close(fd));

	EXPECT_EQ(0, kmsg_scan(_metadata, self->kmsg_fd))
		TH_LOG("the kernel complained (above) after the rounds");
	expect_no_leaks(_metadata, born, l, 2);
}

TEST_HARNESS_MAIN
