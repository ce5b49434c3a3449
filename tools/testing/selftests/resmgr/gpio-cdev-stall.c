// SPDX-License-Identifier: GPL-2.0
/*
 * Removing a GPIO chip must not wait for user-space readers that sleep in
 * read() on one of its character device file descriptors, and such readers
 * must be woken up with -ENODEV.
 *
 * Each test creates a gpio-sim chip through configfs, blocks a thread in
 * read() on a line request (uAPI v2), a line event handle (uAPI v1) or the
 * chip file descriptor itself (line info watch), and then takes the chip
 * down by writing 0 to its "live" attribute. The write has to complete and
 * the reader has to get ENODEV within DEADLINE_MS. If that does not happen,
 * the reader is interrupted with a signal so that the removal can finish
 * and the test fails.
 *
 * Needs gpio-sim loaded and configfs mounted at /sys/kernel/config; with
 * GPIO_SIM_ROOT=/sys/kernel/config/gpio-sim-rs it runs against gpio_sim_rs.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
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

/* gpio-sim's configfs root; GPIO_SIM_ROOT names another with its ABI. */
#define SIM_ROOT_DEFAULT	"/sys/kernel/config/gpio-sim"
#define SIM_ROOT	sim_root()
#define SIM_LINES	"4"
#define SETTLE_MS	300
#define DEADLINE_MS	5000
/* How long to wait for the removal once the reader has been interrupted. */
#define RESCUE_MS	10000

static const char *sim_root(void)
{
	const char *root = getenv("GPIO_SIM_ROOT");

	return root && *root ? root : SIM_ROOT_DEFAULT;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = {
		.tv_sec = ms / 1000,
		.tv_nsec = (long)(ms % 1000) * 1000000,
	};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int read_str(const char *path, char *buf, size_t size)
{
	ssize_t ret;
	int fd;

	fd = open(path, O_RDONLY);
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

/* A thread doing one blocking system call whose completion can be awaited. */
struct job {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool started;
	bool done;
	/* input */
	int fd;
	const char *path;
	/* output */
	ssize_t ret;
	int err;
	int64_t end_ms;
};

static void job_init(struct job *job)
{
	pthread_condattr_t attr;

	memset(job, 0, sizeof(*job));
	job->fd = -1;
	pthread_mutex_init(&job->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&job->cond, &attr);
	pthread_condattr_destroy(&attr);
}

static void job_destroy(struct job *job)
{
	pthread_cond_destroy(&job->cond);
	pthread_mutex_destroy(&job->lock);
}

static void job_finish(struct job *job, ssize_t ret, int err)
{
	pthread_mutex_lock(&job->lock);
	job->ret = ret;
	job->err = err;
	job->end_ms = now_ms();
	job->done = true;
	pthread_cond_broadcast(&job->cond);
	pthread_mutex_unlock(&job->lock);
}

static int job_start(struct job *job, void *(*fn)(void *))
{
	int ret;

	ret = pthread_create(&job->thread, NULL, fn, job);
	if (!ret)
		job->started = true;
	return ret;
}

/* Returns true if the job completed before @deadline_ms (CLOCK_MONOTONIC). */
static bool job_wait(struct job *job, int64_t deadline_ms)
{
	struct timespec ts = {
		.tv_sec = deadline_ms / 1000,
		.tv_nsec = (long)(deadline_ms % 1000) * 1000000,
	};
	bool done;

	pthread_mutex_lock(&job->lock);
	while (!job->done) {
		if (pthread_cond_timedwait(&job->cond, &job->lock, &ts) == ETIMEDOUT)
			break;
	}
	done = job->done;
	pthread_mutex_unlock(&job->lock);

	return done;
}

static bool job_is_done(struct job *job)
{
	bool done;

	pthread_mutex_lock(&job->lock);
	done = job->done;
	pthread_mutex_unlock(&job->lock);

	return done;
}

static void *reader_fn(void *arg)
{
	struct job *job = arg;
	union {
		struct gpio_v2_line_event v2;
		struct gpioevent_data v1;
		struct gpio_v2_line_info_changed info;
	} buf;
	ssize_t ret;

	ret = read(job->fd, &buf, sizeof(buf));
	job_finish(job, ret, ret < 0 ? errno : 0);

	return NULL;
}

static void *unplug_fn(void *arg)
{
	struct job *job = arg;
	int ret;

	ret = write_str(job->path, "0");
	job_finish(job, ret, -ret);

	return NULL;
}

static void wakeup_handler(int sig)
{
	(void)sig;
}

struct sim_chip {
	char dev_dir[128];
	char bank_dir[160];
	char live_path[160];
	char chip_path[96];
	bool dev_created;
	bool bank_created;
	bool live;
	int chip_fd;
	int req_fd;
};

FIXTURE(sim) {
	struct sim_chip s;
};

static void sim_destroy(struct sim_chip *self)
{
	if (self->req_fd >= 0) {
		close(self->req_fd);
		self->req_fd = -1;
	}
	if (self->chip_fd >= 0) {
		close(self->chip_fd);
		self->chip_fd = -1;
	}
	if (self->live) {
		write_str(self->live_path, "0");
		self->live = false;
	}
	if (self->bank_created) {
		rmdir(self->bank_dir);
		self->bank_created = false;
	}
	if (self->dev_created) {
		rmdir(self->dev_dir);
		self->dev_created = false;
	}
}

static int sim_create(struct sim_chip *self, const char *test_name)
{
	char path[192], chip_name[64];
	int ret, i;

	snprintf(self->dev_dir, sizeof(self->dev_dir), "%s/stall-%s-%d",
		 SIM_ROOT, test_name, getpid());
	snprintf(self->bank_dir, sizeof(self->bank_dir), "%s/bank0",
		 self->dev_dir);
	snprintf(self->live_path, sizeof(self->live_path), "%s/live",
		 self->dev_dir);

	if (mkdir(self->dev_dir, 0755))
		return -errno;
	self->dev_created = true;

	if (mkdir(self->bank_dir, 0755))
		return -errno;
	self->bank_created = true;

	snprintf(path, sizeof(path), "%s/num_lines", self->bank_dir);
	ret = write_str(path, SIM_LINES);
	if (ret)
		return ret;

	ret = write_str(self->live_path, "1");
	if (ret)
		return ret;
	self->live = true;

	snprintf(path, sizeof(path), "%s/chip_name", self->bank_dir);
	ret = read_str(path, chip_name, sizeof(chip_name));
	if (ret)
		return ret;

	snprintf(self->chip_path, sizeof(self->chip_path), "/dev/%s",
		 chip_name);

	/* devtmpfs should have it already, give udev-like setups a moment. */
	for (i = 0; i < 100; i++) {
		if (!access(self->chip_path, R_OK | W_OK))
			return 0;
		sleep_ms(10);
	}

	return -ENOENT;
}

FIXTURE_SETUP(sim)
{
	struct sigaction sa;
	int ret;

	self->s.chip_fd = -1;
	self->s.req_fd = -1;

	if (access(SIM_ROOT, F_OK))
		SKIP(return, "%s missing: load gpio-sim and mount configfs",
		     SIM_ROOT);

	/* No SA_RESTART: the signal has to make a blocked read() return. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = wakeup_handler;
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));

	ret = sim_create(&self->s, _metadata->name);
	if (ret) {
		/* Teardown does not run for a failed setup, clean up here. */
		sim_destroy(&self->s);
		ASSERT_EQ(0, ret) TH_LOG("cannot create gpio-sim device: %s",
					 strerror(-ret));
	}

	self->s.chip_fd = open(self->s.chip_path, O_RDWR | O_CLOEXEC);
	if (self->s.chip_fd < 0) {
		ret = -errno;
		/* Teardown does not run for a failed setup, clean up here. */
		sim_destroy(&self->s);
		ASSERT_EQ(0, ret) TH_LOG("open(%s): %s", self->s.chip_path,
					 strerror(-ret));
	}
}

FIXTURE_TEARDOWN(sim)
{
	sim_destroy(&self->s);
}

/*
 * Block a thread in read() on @fd, unplug the chip and check that both the
 * unplug and the read() finish in time, the latter with ENODEV.
 */
static void check_unplug_wakes_reader(struct __test_metadata *_metadata,
				      struct sim_chip *self, int fd)
{
	struct job reader, unplug;
	bool reader_blocked, unplug_in_time, reader_in_time;
	bool unplug_done, reader_done;
	int64_t start, deadline;

	job_init(&reader);
	job_init(&unplug);
	reader.fd = fd;
	unplug.path = self->live_path;

	ASSERT_EQ(0, job_start(&reader, reader_fn));

	/* Give the reader time to go to sleep in the kernel. */
	sleep_ms(SETTLE_MS);
	reader_blocked = !job_is_done(&reader);

	start = now_ms();
	deadline = start + DEADLINE_MS;

	if (job_start(&unplug, unplug_fn)) {
		/* Unblock the reader so the thread can be joined. */
		pthread_kill(reader.thread, SIGUSR1);
		pthread_join(reader.thread, NULL);
		ASSERT_TRUE(false) TH_LOG("cannot start the unplug thread");
	}

	unplug_in_time = job_wait(&unplug, deadline);
	reader_in_time = job_wait(&reader, deadline);

	/*
	 * Too late: interrupt the reader. With the bug, this is what lets the
	 * removal leave synchronize_srcu() and finish.
	 */
	if (!reader_in_time)
		pthread_kill(reader.thread, SIGUSR1);

	reader_done = job_wait(&reader, now_ms() + RESCUE_MS);
	unplug_done = job_wait(&unplug, now_ms() + RESCUE_MS);

	if (reader_done)
		pthread_join(reader.thread, NULL);
	if (unplug_done) {
		pthread_join(unplug.thread, NULL);
		if (!unplug.ret)
			self->live = false;
	}

	if (unplug_done)
		TH_LOG("unplug took %lld ms", (long long)(unplug.end_ms - start));
	if (reader_done)
		TH_LOG("reader returned %zd (%s) after %lld ms", reader.ret,
		       reader.ret < 0 ? strerror(reader.err) : "no error",
		       (long long)(reader.end_ms - start));

	/* Can't recover from these, the harness timeout will kill us. */
	ASSERT_TRUE(unplug_done) TH_LOG("unplug still stuck");
	ASSERT_TRUE(reader_done) TH_LOG("reader still stuck");

	EXPECT_TRUE(reader_blocked)
		TH_LOG("read() returned before the chip was unplugged");
	EXPECT_EQ(0, unplug.ret)
		TH_LOG("writing 0 to live failed: %s", strerror(unplug.err));
	EXPECT_TRUE(unplug_in_time)
		TH_LOG("unplug did not complete within %d ms", DEADLINE_MS);
	EXPECT_TRUE(reader_in_time)
		TH_LOG("read() did not return within %d ms", DEADLINE_MS);
	EXPECT_EQ(-1, reader.ret)
		TH_LOG("read() returned %zd, expected -1 (ENODEV)", reader.ret);
	if (reader.ret < 0) {
		EXPECT_EQ(ENODEV, reader.err)
			TH_LOG("read() failed with %s, expected ENODEV",
			       strerror(reader.err));
	}

	job_destroy(&reader);
	job_destroy(&unplug);
}

/* uAPI v2 line request with edge detection. */
TEST_F(sim, v2_line_request)
{
	struct gpio_v2_line_request req;

	memset(&req, 0, sizeof(req));
	req.offsets[0] = 0;
	req.num_lines = 1;
	req.config.flags = GPIO_V2_LINE_FLAG_INPUT |
			   GPIO_V2_LINE_FLAG_EDGE_RISING |
			   GPIO_V2_LINE_FLAG_EDGE_FALLING;
	snprintf(req.consumer, sizeof(req.consumer), "cdev-stall");

	ASSERT_EQ(0, ioctl(self->s.chip_fd, GPIO_V2_GET_LINE_IOCTL, &req))
		TH_LOG("GPIO_V2_GET_LINE_IOCTL: %s", strerror(errno));
	self->s.req_fd = req.fd;

	/* Only the request keeps the device alive from here on. */
	close(self->s.chip_fd);
	self->s.chip_fd = -1;

	check_unplug_wakes_reader(_metadata, &self->s, self->s.req_fd);
}

/* uAPI v1 line event handle. */
TEST_F(sim, v1_line_event)
{
	struct gpioevent_request req;

	memset(&req, 0, sizeof(req));
	req.lineoffset = 0;
	req.handleflags = GPIOHANDLE_REQUEST_INPUT;
	req.eventflags = GPIOEVENT_REQUEST_BOTH_EDGES;
	snprintf(req.consumer_label, sizeof(req.consumer_label), "cdev-stall");

	ASSERT_EQ(0, ioctl(self->s.chip_fd, GPIO_GET_LINEEVENT_IOCTL, &req))
		TH_LOG("GPIO_GET_LINEEVENT_IOCTL: %s", strerror(errno));
	self->s.req_fd = req.fd;

	close(self->s.chip_fd);
	self->s.chip_fd = -1;

	check_unplug_wakes_reader(_metadata, &self->s, self->s.req_fd);
}

/* Line info watch on the chip file descriptor. */
TEST_F(sim, lineinfo_watch)
{
	struct gpio_v2_line_info info;

	memset(&info, 0, sizeof(info));
	info.offset = 0;

	ASSERT_EQ(0, ioctl(self->s.chip_fd, GPIO_V2_GET_LINEINFO_WATCH_IOCTL,
			   &info))
		TH_LOG("GPIO_V2_GET_LINEINFO_WATCH_IOCTL: %s", strerror(errno));

	check_unplug_wakes_reader(_metadata, &self->s, self->s.chip_fd);
}

TEST_HARNESS_MAIN
