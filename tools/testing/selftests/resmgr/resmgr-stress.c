// SPDX-License-Identifier: GPL-2.0
/*
 * resmgr-stress: load for `make stress` (not part of the kselftest run).
 *
 *   resmgr-stress cycles N   N unbind/bind cycles of gpio_sim_rs.0 and of the
 *                            simulated regulator while 8 threads call through
 *                            /dev/resmgr-test handles and GPIO uAPI requests,
 *                            3 in-kernel consumers (work items, KWORK_START)
 *                            call through handles, and a reader waits in
 *                            WAIT_REVOKED at each unbind of the chip;
 *                            prints a progress line to stderr every
 *                            twentieth of the run and the pace (ms per
 *                            cycle) of the first and last twentieth
 *   resmgr-stress inject N   systematic fault injection (fail-nth) on the
 *                            bind and the unbind of gpio_sim_rs.0 and of
 *                            the regulator, on making a configfs chip
 *                            live, on opening
 *                            /dev/resmgr-test and on loading each module
 *                            (their .ko paths in RESMGR_GPIO_KO and
 *                            RESMGR_TEST_KO): the 1st, 2nd, ... allocation
 *                            fails, until the call needs fewer than N; every
 *                            failure must leave things so that a plain retry
 *                            works (an unbind absorbs its failures: the
 *                            device must end unbound and bind again)
 *   resmgr-stress chardev N  N unbind/bind cycles of the test device itself
 *                            while 2 writers (write, read, lseek), 2
 *                            mappers (mmap, write the pages, munmap) and 2
 *                            faulting threads (MADV_DONTNEED and touch, in
 *                            a loop) use it, each opening it again when its
 *                            file is revoked: every call returns a value or
 *                            ENODEV (an open while the device is away:
 *                            ENOENT/ENXIO/ENODEV), and every fault on a
 *                            revoked mapping is SIGBUS
 *   resmgr-stress fuzz N     N random ioctls on /dev/resmgr-test
 *   resmgr-stress configfs N N random writes to gpio_sim_rs configfs attributes
 *
 * Every call must return a value or one of the errnos the interface
 * documents; anything else is counted and fails the run. Prints one line of
 * counts per mode and exits non-zero on any unexpected result.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/gpio.h>
#include <linux/resmgr_test.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util.h"

#define DEV_PATH	"/dev/resmgr-test"
#define CHIP		RESMGR_TEST_RS_CHIP
/* The test device's connection id for lines 0..7 of CHIP. */
#define LINES		"rs"
#define GPIO_DRV	"/sys/bus/platform/drivers/gpio_sim_rs"
#define VREG		"resmgr-test-vreg"
#define VREG_DRV	"/sys/bus/platform/drivers/resmgr_test_regulator"
#define TEST_DRV	"/sys/bus/platform/drivers/resmgr_test"
#define CFS		"/sys/kernel/config/gpio-sim-rs/stress"
#define CFS_INJ		"/sys/kernel/config/gpio-sim-rs/inject"
/*
 * gpiolib gives a line to one consumer at a time: the in-kernel consumers
 * take lines 0..2 (worker i line i), the waiter line 3, and the handle
 * threads share lines 4..7 with the uAPI threads (EBUSY when taken).
 */
#define KWORKERS	3
#define WAIT_LINE	3
#define THREADS		8

static int stop;

struct tally {
	long ok, enodev, enoent, other;
	int last_other, last_other_line;
};

static struct tally tallies[THREADS + 1];

/* Tallies one result; an unexpected one keeps its errno and the source line. */
#define count(t, ret, allowed) count_at(t, ret, allowed, __LINE__)

static void count_at(struct tally *t, int ret, int *allowed, int line)
{
	int i;

	if (ret >= 0) {
		t->ok++;
		return;
	}
	if (ret == -ENODEV) {
		t->enodev++;
		return;
	}
	for (i = 0; allowed && allowed[i]; i++) {
		if (ret == -allowed[i]) {
			t->enoent++;
			return;
		}
	}
	t->other++;
	t->last_other = -ret;
	t->last_other_line = line;
}

static int op(int fd, unsigned long cmd, __u64 id, __u64 value)
{
	struct resmgr_test_gpio_op arg = { .id = id, .value = value };

	return ioctl(fd, cmd, &arg) ? -errno : 0;
}

/* Threads 0-3: a GPIO line through gpiolib and a resmgr regulator handle. */
static void *handle_thread(void *arg)
{
	struct tally *t = arg;
	int lookup_errs[] = { ENOENT, EBUSY, 0 };
	long gpio = -1, reg = -1;
	int fd = open(DEV_PATH, O_RDWR);
	unsigned int n = 0;

	if (fd < 0) {
		t->other++;
		t->last_other = errno;
		return NULL;
	}
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		int ret;

		if (gpio <= 0) {
			gpio = resmgr_lookup(fd, RESMGR_TEST_GPIO_LOOKUP, LINES, 4 + n % 4);
			count(t, gpio, lookup_errs);
		}
		if (reg <= 0) {
			reg = resmgr_lookup(fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
			count(t, reg, lookup_errs);
		}
		if (gpio > 0) {
			ret = op(fd, RESMGR_TEST_GPIO_OUTPUT, gpio, n & 1);
			count(t, ret, NULL);
			ret = op(fd, RESMGR_TEST_GPIO_GET, gpio, 0);
			count(t, ret, NULL);
			if (ret == -ENODEV) {
				ioctl(fd, RESMGR_TEST_DROP, &(__u64){ gpio });
				gpio = -1;
			}
		}
		if (reg > 0) {
			ret = op(fd, RESMGR_TEST_REG_SET_VOLTAGE, reg,
				 1000000 + (n % 24) * 100000);
			/*
			 * EINVAL: the core serves the intersection of every
			 * consumer's request, and another thread asked for
			 * another exact voltage.
			 */
			{
				int set_errs[] = { EINVAL, 0 };

				count(t, ret, set_errs);
			}
			if (ret == -ENODEV) {
				ioctl(fd, RESMGR_TEST_DROP, &(__u64){ reg });
				reg = -1;
			}
		}
		n++;
	}
	close(fd);
	return NULL;
}

/* The gpio device of gpio_sim_rs.0 (its name changes with every bind). */
static int open_chip(void)
{
	char path[128];
	int i, fd;

	for (i = 0; i < 64; i++) {
		snprintf(path, sizeof(path),
			 "/sys/bus/platform/devices/" CHIP "/gpiochip%d", i);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "/dev/gpiochip%d", i);
		fd = open(path, O_RDWR);
		if (fd >= 0)
			return fd;
	}
	return -ENOENT;
}

/* Threads 4-7: GPIO uAPI v2 requests on the chip, set and get. */
static void *uapi_thread(void *arg)
{
	struct tally *t = arg;
	int open_errs[] = { ENOENT, 0 };
	int req = -1;
	unsigned int n = 0;
	long me = (long)(t - tallies) % 4;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		struct gpio_v2_line_values vals = { .mask = 1 };
		int ret;

		if (req < 0) {
			struct gpio_v2_line_request lr;
			int chip = open_chip();

			count(t, chip, open_errs);
			if (chip < 0) {
				usleep(1000);
				continue;
			}
			memset(&lr, 0, sizeof(lr));
			lr.offsets[0] = 4 + (n + me) % 4;
			lr.num_lines = 1;
			lr.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
			strcpy(lr.consumer, "resmgr-stress");
			ret = ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &lr) ? -errno : 0;
			close(chip);
			/* EBUSY: another thread holds that line. */
			{
				int req_errs[] = { EBUSY, 0 };

				count(t, ret, req_errs);
			}
			if (ret)
				continue;
			req = lr.fd;
		}
		vals.bits = n & 1;
		ret = ioctl(req, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals) ? -errno : 0;
		count(t, ret, NULL);
		ret = ioctl(req, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals) ? -errno : 0;
		count(t, ret, NULL);
		if (ret == -ENODEV) {
			close(req);
			req = -1;
		}
		n++;
	}
	if (req >= 0)
		close(req);
	return NULL;
}

/* A reader that waits for the GPIO chip's revocation, again and again. */
static void *waiter_thread(void *arg)
{
	struct tally *t = arg;
	int lookup_errs[] = { ENOENT, 0 };
	int fd = open(DEV_PATH, O_RDWR);

	while (fd >= 0 && !__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		long id = resmgr_lookup(fd, RESMGR_TEST_GPIO_LOOKUP, LINES, WAIT_LINE);
		int ret;

		count(t, id, lookup_errs);
		if (id <= 0) {
			usleep(1000);
			continue;
		}
		ret = ioctl(fd, RESMGR_TEST_WAIT_REVOKED, &(__u64){ id }) ? -errno : 0;
		/*
		 * EINTR: the run ends with a signal to a waiter. ENOENT: the
		 * line came from the chip while its driver was being unbound.
		 */
		{
			int wait_errs[] = { EINTR, ENOENT, 0 };

			count(t, ret, wait_errs);
		}
		ioctl(fd, RESMGR_TEST_DROP, &(__u64){ id });
	}
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
}

static int run_cycles(long cycles)
{
	struct tally *t = tallies;
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	pthread_t th[THREADS + 1];
	struct tally sum = { 0 };
	struct resmgr_test_kwork kw;
	long i, bad_bind = 0, chunk = cycles / 20 ? cycles / 20 : 1;
	long start, mark, first_pace = -1, last_pace = -1;
	int fd, kfd, ret = 0;

	sigaction(SIGUSR1, &sa, NULL);
	/* In-kernel consumers, owned by their own file. */
	memset(&kw, 0, sizeof(kw));
	strcpy(kw.gpio, LINES);
	strcpy(kw.regulator, VREG);
	kw.workers = KWORKERS;
	kfd = open(DEV_PATH, O_RDWR);
	if (kfd < 0 || ioctl(kfd, RESMGR_TEST_KWORK_START, &kw)) {
		perror("KWORK_START");
		return 1;
	}
	for (i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, i < 4 ? handle_thread : uapi_thread, &t[i]);
	pthread_create(&th[THREADS], NULL, waiter_thread, &t[THREADS]);
	/*
	 * The cycling thread preempts the load (SCHED_FIFO): with 13 threads
	 * on 2 vCPUs it would otherwise get a thirteenth of the time. The load
	 * still runs whenever an unbind or bind sleeps (grace periods, sysfs).
	 */
	{
		struct sched_param sp = { .sched_priority = 10 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp))
			perror("sched_setscheduler (cycles run at normal priority)");
	}

	start = now_ms();
	mark = start;
	for (i = 0; i < cycles; i++) {
		bad_bind += !!write_str(GPIO_DRV "/unbind", CHIP);
		bad_bind += !!write_str(VREG_DRV "/unbind", "resmgr_test_regulator");
		bad_bind += !!write_str(GPIO_DRV "/bind", CHIP);
		bad_bind += !!write_str(VREG_DRV "/bind", "resmgr_test_regulator");
		if ((i + 1) % chunk == 0 || i + 1 == cycles) {
			long t = now_ms(), n = (i % chunk) + 1;

			/* A slowdown over the run shows as a rising pace. */
			last_pace = (t - mark) / n;
			if (first_pace < 0)
				first_pace = last_pace;
			fprintf(stderr, "progress: %ld/%ld cycles, %ld s, ",
				i + 1, cycles, (t - start) / 1000);
			fprintf(stderr, "%ld ms/cycle, %ld failed binds\n", last_pace, bad_bind);
			mark = t;
		}
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i <= THREADS; i++) {
		pthread_kill(th[i], SIGUSR1);
		pthread_join(th[i], NULL);
	}
	for (i = 0; i <= THREADS; i++) {
		sum.ok += t[i].ok;
		sum.enodev += t[i].enodev;
		sum.enoent += t[i].enoent;
		sum.other += t[i].other;
		if (t[i].other)
			fprintf(stderr, "thread %ld: unexpected errno %d (line %d)\n",
				i, t[i].last_other, t[i].last_other_line);
	}
	printf("cycles %ld: %ld ok, %ld ENODEV, %ld expected other (ENOENT/EBUSY/EINTR), ",
	       cycles, sum.ok, sum.enodev, sum.enoent);
	printf("%ld unexpected, %ld failed binds\n", sum.other, bad_bind);
	printf("pace: %ld ms/cycle in the first twentieth, %ld in the last\n",
	       first_pace, last_pace);
	if (ioctl(kfd, RESMGR_TEST_KWORK_STOP, &kw)) {
		perror("KWORK_STOP");
		ret = 1;
	} else {
		printf("in-kernel consumers (%d work items): %llu ok, %llu ENODEV, %llu ENOENT, ",
		       KWORKERS, (unsigned long long)kw.ok,
		       (unsigned long long)kw.enodev, (unsigned long long)kw.enoent);
		printf("%llu unexpected (last errno %llu)\n",
		       (unsigned long long)kw.other, (unsigned long long)kw.last_other);
		ret |= kw.other != 0 || kw.ok == 0;
	}
	close(kfd);

	fd = open(DEV_PATH, O_RDWR);
	if (fd >= 0) {
		struct resmgr_test_counters c;

		if (!ioctl(fd, RESMGR_TEST_COUNTERS, &c)) {
			/* Only this probe file is left, with no handle. */
			printf("leak check: %llu open files (1 expected), ",
			       (unsigned long long)c.files);
			printf("%llu handles (0 expected)\n", (unsigned long long)c.handles);
			ret |= c.files != 1 || c.handles != 0;
		}
		close(fd);
	}
	return ret || sum.other || bad_bind;
}

/* The chardev mode: the file operations of the test device across its unbind. */
#define FOPS_THREADS	6

struct fops_tally {
	long ok, enodev, reopen, sigbus, other;
	int last_other;
};

static struct fops_tally fops_tallies[FOPS_THREADS];
static void fops_count(struct fops_tally *t, long ret)
{
	if (ret >= 0) {
		t->ok++;
	} else if (errno == ENODEV) {
		t->enodev++;
	} else {
		t->other++;
		t->last_other = errno;
	}
}

/* Opens the device, waiting while it is away (counted as reopens). */
static int fops_open(struct fops_tally *t)
{
	int fd;

	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			return fd;
		if (errno != ENOENT && errno != ENXIO && errno != ENODEV) {
			t->other++;
			t->last_other = errno;
		}
		t->reopen++;
		usleep(1000);
	}
	return -1;
}

/* Threads 0-1 write, read and seek; 2-3 map and unmap; 4-5 fault. */
static void *fops_thread(void *arg)
{
	struct fops_tally *t = arg;
	int kind = (t - fops_tallies) / 2;
	long page = sysconf(_SC_PAGESIZE);
	size_t len = RESMGR_TEST_MMAP_PAGES * page;
	unsigned char *map = MAP_FAILED;
	char buf[4096];
	int fd = -1, i;

	memset(buf, 'w', sizeof(buf));
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		if (fd < 0) {
			fd = fops_open(t);
			if (fd < 0)
				break;
		}
		if (kind == 0) {
			long r[3];

			r[0] = write(fd, buf, sizeof(buf));
			fops_count(t, r[0]);
			r[1] = pread(fd, buf, 12, 0);
			fops_count(t, r[1]);
			r[2] = lseek(fd, 3, SEEK_SET);
			fops_count(t, r[2]);
			if (r[0] < 0 || r[1] < 0 || r[2] < 0) {
				close(fd);
				fd = -1;
			}
			continue;
		}
		if (map == MAP_FAILED) {
			map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			fops_count(t, map == MAP_FAILED ? -1 : 0);
			if (map == MAP_FAILED) {
				close(fd);
				fd = -1;
				continue;
			}
		}
		if (kind == 2)
			madvise(map, len, MADV_DONTNEED);
		for (i = 0; i < RESMGR_TEST_MMAP_PAGES; i++) {
			unsigned char v = i;

			if (touch(map + i * page, kind == 1, &v)) {
				t->sigbus++;
				break;
			}
			t->ok++;
		}
		/* A mapper starts over each round; anyone starts over after SIGBUS. */
		if (kind == 1 || i < RESMGR_TEST_MMAP_PAGES) {
			munmap(map, len);
			map = MAP_FAILED;
			if (i < RESMGR_TEST_MMAP_PAGES) {
				close(fd);
				fd = -1;
			}
		}
	}
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	return NULL;
}

static int run_chardev(long cycles)
{
	pthread_t th[FOPS_THREADS];
	struct fops_tally sum = { 0 };
	long i, bad_bind = 0;
	int fd, ret = 0;

	catch_sigbus();
	for (i = 0; i < FOPS_THREADS; i++)
		pthread_create(&th[i], NULL, fops_thread, &fops_tallies[i]);
	for (i = 0; i < cycles; i++) {
		usleep(2000);
		bad_bind += !!write_str(TEST_DRV "/unbind", "resmgr_test");
		bad_bind += !!write_str(TEST_DRV "/bind", "resmgr_test");
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < FOPS_THREADS; i++) {
		pthread_join(th[i], NULL);
		sum.ok += fops_tallies[i].ok;
		sum.enodev += fops_tallies[i].enodev;
		sum.reopen += fops_tallies[i].reopen;
		sum.sigbus += fops_tallies[i].sigbus;
		sum.other += fops_tallies[i].other;
		if (fops_tallies[i].other)
			fprintf(stderr, "thread %ld: unexpected errno %d\n",
				i, fops_tallies[i].last_other);
	}
	printf("chardev cycles %ld: %ld ok, %ld ENODEV, %ld SIGBUS, %ld opens while away, ",
	       cycles, sum.ok, sum.enodev, sum.sigbus, sum.reopen);
	printf("%ld unexpected, %ld failed binds\n", sum.other, bad_bind);
	/* The load must have met the revocation, in both forms. */
	ret |= sum.enodev == 0 || sum.sigbus == 0;
	fd = open(DEV_PATH, O_RDWR);
	if (fd >= 0) {
		struct resmgr_test_counters c;

		if (!ioctl(fd, RESMGR_TEST_COUNTERS, &c)) {
			printf("leak check: %llu open files (1 expected)\n",
			       (unsigned long long)c.files);
			ret |= c.files != 1;
		}
		close(fd);
	} else {
		ret = 1;
	}
	return ret || sum.other || bad_bind;
}

/*
 * Commands the VFS answers itself on any file (do_vfs_ioctl()), before the
 * driver sees them: not the driver's interface, and some would change the
 * file (FIONBIO, FIOASYNC). The fuzzer does not send them.
 */
static const unsigned long vfs_cmds[] = {
	FIOCLEX, FIONCLEX, FIONBIO, FIOASYNC, FIOQSIZE, FIFREEZE, FITHAW,
	FS_IOC_FIEMAP, FIGETBSZ, FICLONE, FICLONERANGE, FIDEDUPERANGE,
	FS_IOC_GETFLAGS, FS_IOC_SETFLAGS, FS_IOC_FSGETXATTR, FS_IOC_FSSETXATTR,
	FS_IOC_GETFSUUID, FS_IOC_GETFSSYSFSPATH,
};

static int vfs_cmd(unsigned long cmd)
{
	size_t k;

	for (k = 0; k < ARRAY_SIZE(vfs_cmds); k++)
		if (cmd == vfs_cmds[k])
			return 1;
	return 0;
}

static int run_fuzz(long n)
{
	static const unsigned int skip[] = { 0x08, 0x13 };	/* blocking, bench */
	unsigned char buf[256];
	long i, ok = 0, expected = 0, other = 0, vfs = 0;
	int fd = -1;
	size_t k;

	srand(1234);
	for (i = 0; i < n; i++) {
		unsigned long cmd;
		unsigned int nr, size, dir, type;
		void *arg;
		int ret;

		if (fd < 0 || i % 1000 == 0) {
			if (fd >= 0)
				close(fd);
			fd = open(DEV_PATH, O_RDWR);
			if (fd < 0)
				return 1;
		}
		nr = rand() % 0x18;
		for (k = 0; k < ARRAY_SIZE(skip); k++)
			if (nr == skip[k])
				nr = 0x02;
		dir = rand() % 4;
		size = rand() % 4 ? (rand() % 64) : sizeof(struct resmgr_test_gpio_op);
		type = rand() % 16 ? RESMGR_TEST_MAGIC : rand() % 256;
		cmd = rand() % 8 ? _IOC(dir, type, nr, size) : (unsigned long)rand();
		if ((cmd & 0xff00) == (RESMGR_TEST_MAGIC << 8) &&
		    ((cmd & 0xff) == 0x08 || (cmd & 0xff) == 0x13))
			continue;
		if (vfs_cmd(cmd)) {
			vfs++;
			continue;
		}
		for (k = 0; k < sizeof(buf); k++)
			buf[k] = rand();
		/* Labels: printable, so a lookup names something plausible. */
		if (rand() % 2) {
			for (k = 0; k < RESMGR_TEST_LABEL_LEN; k++)
				buf[k] = "abcdefgh-_.0123456789"[rand() % 21];
			buf[rand() % RESMGR_TEST_LABEL_LEN] = 0;
			if (rand() % 2)
				strcpy((char *)buf, rand() % 2 ? LINES : VREG);
			buf[RESMGR_TEST_LABEL_LEN] = rand() % 8;
		}
		/* Small ids hit live handles now and then. */
		if (rand() % 2)
			*(__u64 *)buf = rand() % 8;
		switch (rand() % 16) {
		case 0:
			arg = NULL;
			break;
		case 1:
			arg = (void *)1;
			break;
		default:
			arg = buf;
		}
		ret = ioctl(fd, cmd, arg) ? errno : 0;
		switch (ret) {
		case 0:
			ok++;
			break;
		case ENOTTY: case EINVAL: case EFAULT: case ENOENT: case ENODEV:
		case EEXIST: case EBUSY: case EAGAIN:
			expected++;
			break;
		default:
			other++;
			fprintf(stderr, "ioctl %#lx: unexpected errno %d\n", cmd, ret);
		}
	}
	if (fd >= 0)
		close(fd);
	printf("fuzz %ld ioctls: %ld ok, %ld documented errors, %ld unexpected, ",
	       n, ok, expected, other);
	printf("%ld VFS commands not sent\n", vfs);
	return other != 0;
}

static int run_configfs(long n)
{
	static const char *const attrs[] = {
		CFS "/live", CFS "/bank/label", CFS "/bank/num_lines",
		CFS "/bank/line1/name", CFS "/bank/line1/valid",
		CFS "/bank/line2/hog/name", CFS "/bank/line2/hog/direction",
		CFS "/bank/line2/hog/active_low",
	};
	static const char *const words[] = {
		"0", "1", "y", "n", "8", "99999", "0x10", "-1", "input",
		"output-high", "output-low", "foo", "", "\n", "pull-up",
	};
	long i, ok = 0, expected = 0, other = 0;
	char buf[80];

	srand(4321);
	if (mkdir(CFS, 0755) || mkdir(CFS "/bank", 0755) ||
	    mkdir(CFS "/bank/line1", 0755) || mkdir(CFS "/bank/line2", 0755) ||
	    mkdir(CFS "/bank/line2/hog", 0755)) {
		perror("configfs setup");
		return 1;
	}
	for (i = 0; i < n; i++) {
		const char *path = attrs[rand() % 8];
		size_t k, len;
		int fd, ret;

		if (rand() % 2) {
			snprintf(buf, sizeof(buf), "%s", words[rand() % 15]);
		} else {
			len = rand() % 40;
			for (k = 0; k < len; k++)
				buf[k] = 1 + rand() % 255;
			buf[len] = 0;
		}
		/* configfs answers an empty write with EFAULT itself. */
		if (!buf[0])
			strcpy(buf, "\n");
		fd = open(path, O_WRONLY);
		if (fd < 0) {
			other++;
			continue;
		}
		ret = write(fd, buf, strlen(buf)) < 0 ? errno : 0;
		close(fd);
		switch (ret) {
		case 0:
			ok++;
			break;
		case EINVAL: case EBUSY: case EPERM: case ENODATA: case ENXIO:
		case ERANGE:
			expected++;
			break;
		default:
			other++;
			fprintf(stderr, "%s <- '%s': unexpected errno %d\n", path, buf, ret);
		}
	}
	write_str(CFS "/live", "0");
	if (rmdir(CFS "/bank/line2/hog") || rmdir(CFS "/bank/line2") ||
	    rmdir(CFS "/bank/line1") || rmdir(CFS "/bank") || rmdir(CFS)) {
		perror("configfs cleanup");
		other++;
	}
	printf("configfs %ld writes: %ld ok, %ld documented errors, %ld unexpected\n",
	       n, ok, expected, other);
	return other != 0;
}

/*
 * Systematic fault injection. /proc/thread-self/fail-nth = n makes the n-th
 * fault-injection point this thread passes fail (failslab and fail_page_alloc
 * count every allocation once their ignore-gfp-wait is off, see
 * kit/guest/stress.sh). Reading it back after the write tells whether the
 * failure was consumed (0) or the write needed fewer points.
 */
struct inject_target {
	const char *name;
	const char *path;	/* the write that gets the failure, */
	const char *value;
	int (*call)(void);	/* or the call, if path is NULL */
	int (*reset)(void);	/* back to the state before the call */
	int (*check)(void);	/* after a plain call: 0 if the result works */
};

/* The target's call, unarmed. 0 or a negative errno. */
static int target_call(const struct inject_target *tg)
{
	return tg->path ? write_str(tg->path, tg->value) : tg->call();
}

/* The target's call with the @nth allocation failing; *@fired if it did. */
static int armed_call(const struct inject_target *tg, long nth, int *fired)
{
	int fd = -1, nfd, ret = 0;
	char buf[24];
	ssize_t len;

	/* A write's file is opened first: its points are not the write's. */
	if (tg->path) {
		fd = open(tg->path, O_WRONLY);
		if (fd < 0)
			return -errno;
	}
	nfd = open("/proc/thread-self/fail-nth", O_RDWR);
	if (nfd < 0) {
		ret = -errno;
		goto out_fd;
	}
	len = snprintf(buf, sizeof(buf), "%ld", nth);
	if (write(nfd, buf, len) != len) {
		ret = -errno;
		goto out;
	}
	if (tg->path)
		ret = write(fd, tg->value, strlen(tg->value)) < 0 ? -errno : 0;
	else
		ret = tg->call();
	len = pread(nfd, buf, sizeof(buf) - 1, 0);
	buf[len > 0 ? len : 0] = 0;
	*fired = len > 0 && atol(buf) == 0;
	if (write(nfd, "0", 1) != 1)	/* disarm */
		ret = ret ?: -EIO;
out:
	close(nfd);
out_fd:
	if (fd >= 0)
		close(fd);
	return ret;
}

static int bound(const char *drv_dev)
{
	return access(drv_dev, F_OK) == 0;
}

static int gpio_reset(void)
{
	int ret = write_str(GPIO_DRV "/unbind", CHIP);

	return ret == -ENODEV ? 0 : ret;
}

/* The chip answers: line 0 reads back through a uAPI v2 request. */
static int gpio_check(void)
{
	struct gpio_v2_line_values vals = { .mask = 1 };
	struct gpio_v2_line_request lr;
	int chip = open_chip(), ret;

	if (chip < 0)
		return chip;
	memset(&lr, 0, sizeof(lr));
	lr.num_lines = 1;
	lr.config.flags = GPIO_V2_LINE_FLAG_INPUT;
	strcpy(lr.consumer, "resmgr-inject");
	ret = ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &lr) ? -errno : 0;
	close(chip);
	if (ret)
		return ret;
	ret = ioctl(lr.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals) ? -errno : 0;
	close(lr.fd);
	return ret;
}

static int vreg_reset(void)
{
	int ret = write_str(VREG_DRV "/unbind", "resmgr_test_regulator");

	return ret == -ENODEV ? 0 : ret;
}

/* The regulator answers: a new handle reads the initial 1.0 V. */
static int vreg_check(void)
{
	struct resmgr_test_gpio_op arg = { 0 };
	int fd = open(DEV_PATH, O_RDWR), ret;
	long id;

	if (fd < 0)
		return -errno;
	id = resmgr_lookup(fd, RESMGR_TEST_REG_LOOKUP, VREG, 0);
	ret = id < 0 ? id : 0;
	if (!ret) {
		arg.id = id;
		ret = ioctl(fd, RESMGR_TEST_REG_GET_VOLTAGE, &arg) ? -errno : 0;
		if (!ret && arg.value != 1000000)
			ret = -EIO;
	}
	close(fd);
	return ret;
}

static int live_reset(void)
{
	int ret = write_str(CFS_INJ "/live", "0");

	return ret == -EPERM ? 0 : ret;	/* EPERM: it was not live */
}

/* The configfs chip is live and has a chip name. */
static int live_check(void)
{
	char name[32] = "";
	int fd = open(CFS_INJ "/bank/chip_name", O_RDONLY);
	ssize_t len;

	if (fd < 0)
		return -errno;
	len = read(fd, name, sizeof(name) - 1);
	close(fd);
	if (len > 1 && !strncmp(name, "gpiochip", 8))
		return 0;
	fprintf(stderr, "configfs live: chip_name '%.*s'\n", len > 0 ? (int)len - 1 : 0, name);
	return -EIO;
}

/* The file an open of /dev/resmgr-test left, if any. */
static int held_fd = -1;

static int dev_open(void)
{
	held_fd = open(DEV_PATH, O_RDWR);
	return held_fd < 0 ? -errno : 0;
}

static int dev_reset(void)
{
	if (held_fd >= 0)
		close(held_fd);
	held_fd = -1;
	return 0;
}

/* The open file works, and it is the only one the driver counts. */
static int dev_check(void)
{
	struct resmgr_test_counters c;

	if (held_fd < 0 || ioctl(held_fd, RESMGR_TEST_COUNTERS, &c))
		return -EIO;
	if (c.files == 1 && c.handles == 0)
		return 0;
	fprintf(stderr, "open: %llu files, %llu handles (1, 0 expected)\n",
		(unsigned long long)c.files, (unsigned long long)c.handles);
	return -EIO;
}

/* A module's .ko, opened before the armed call (its points are not ours). */
struct module_file {
	const char *name, *env, *params;
	int fd;
};

static struct module_file gpio_ko = { "gpio_sim_rs", "RESMGR_GPIO_KO", "chips=1 lines=8", -1 };
static struct module_file test_ko = { "resmgr_test", "RESMGR_TEST_KO", "", -1 };

static int module_reset(struct module_file *m)
{
	const char *path = getenv(m->env);

	if (syscall(SYS_delete_module, m->name, O_NONBLOCK) && errno != ENOENT)
		return -errno;
	if (m->fd < 0) {
		m->fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
		if (m->fd < 0) {
			fprintf(stderr, "%s: no module file (%s)\n", m->name, m->env);
			return -ENOENT;
		}
	}
	return 0;
}

static int module_load(struct module_file *m)
{
	return syscall(SYS_finit_module, m->fd, m->params, 0) ? -errno : 0;
}

static int gpio_ko_reset(void)
{
	return module_reset(&gpio_ko);
}

static int gpio_ko_load(void)
{
	return module_load(&gpio_ko);
}

static int test_ko_reset(void)
{
	return module_reset(&test_ko);
}

static int test_ko_load(void)
{
	return module_load(&test_ko);
}

/*
 * A module loads even when the probe of its device fails (the driver core
 * does not fail the load for it): the device is then left unbound, and a
 * plain bind must work.
 */
static int bind_if_unbound(const char *drv, const char *dev)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", drv, dev);
	if (bound(path))
		return 0;
	snprintf(path, sizeof(path), "%s/bind", drv);
	return write_str(path, dev);
}

/* Loaded: the chip answers, once bound. */
static int gpio_ko_check(void)
{
	return bind_if_unbound(GPIO_DRV, CHIP) ?: gpio_check();
}

/*
 * Loaded: once bound (the platform device that registers /dev/resmgr-test
 * and the regulator), the test device opens with no file left over and the
 * regulator reads.
 */
static int test_ko_check(void)
{
	int ret = bind_if_unbound(TEST_DRV, "resmgr_test") ?: dev_open() ?: dev_check();

	dev_reset();
	return ret ?: bind_if_unbound(VREG_DRV, "resmgr_test_regulator") ?: vreg_check();
}

static int gpio_bind(void)
{
	return bind_if_unbound(GPIO_DRV, CHIP);
}

/*
 * An unbind cannot fail, so every failed allocation in it is absorbed: the
 * device must end unbound, and a plain bind must bring it back working.
 */
static int unbound_then_bind(const char *drv, const char *dev)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", drv, dev);
	if (bound(path)) {
		fprintf(stderr, "%s still bound after its unbind\n", dev);
		return -EBUSY;
	}
	return bind_if_unbound(drv, dev);
}

static int gpio_unbound_check(void)
{
	return unbound_then_bind(GPIO_DRV, CHIP) ?: gpio_check();
}

static int vreg_bind(void)
{
	return bind_if_unbound(VREG_DRV, "resmgr_test_regulator");
}

static int vreg_unbound_check(void)
{
	return unbound_then_bind(VREG_DRV, "resmgr_test_regulator") ?: vreg_check();
}

static const struct inject_target targets[] = {
	{ "bind gpio_sim_rs.0", GPIO_DRV "/bind", CHIP, NULL, gpio_reset, gpio_check },
	{ "bind the regulator", VREG_DRV "/bind", "resmgr_test_regulator", NULL,
	  vreg_reset, vreg_check },
	/* The revocation's worker allocation among them: its fallback waits in place. */
	{ "unbind gpio_sim_rs.0", GPIO_DRV "/unbind", CHIP, NULL, gpio_bind, gpio_unbound_check },
	{ "unbind the regulator", VREG_DRV "/unbind", "resmgr_test_regulator", NULL,
	  vreg_bind, vreg_unbound_check },
	{ "configfs live", CFS_INJ "/live", "1", NULL, live_reset, live_check },
	{ "open /dev/resmgr-test", NULL, NULL, dev_open, dev_reset, dev_check },
	/* Without the configfs chip: an item there pins gpio_sim_rs. */
	{ "load gpio_sim_rs", NULL, NULL, gpio_ko_load, gpio_ko_reset, gpio_ko_check },
	{ "load resmgr_test", NULL, NULL, test_ko_load, test_ko_reset, test_ko_check },
};

static int run_inject(long max)
{
	int t, bad_total = 0;

	if (mkdir(CFS_INJ, 0755) || mkdir(CFS_INJ "/bank", 0755) ||
	    write_str(CFS_INJ "/bank/num_lines", "8")) {
		perror("configfs setup");
		return 1;
	}
	for (t = 0; t < (int)ARRAY_SIZE(targets); t++) {
		const struct inject_target *tg = &targets[t];
		long n, failed = 0, absorbed = 0, bad = 0;
		int errs[8] = { 0 }, nerr[8] = { 0 }, k, done = 0;

		if (tg->call == gpio_ko_load) {
			/* Unpin both modules: an open file, a configfs item. */
			dev_reset();
			live_reset();
			if (rmdir(CFS_INJ "/bank") || rmdir(CFS_INJ)) {
				perror("configfs cleanup");
				bad_total++;
			}
		}
		for (n = 1; n <= max && !done; n++) {
			int fired = 0, ret, again;

			if (tg->reset()) {
				bad++;
				break;
			}
			ret = armed_call(tg, n, &fired);
			if (!fired) {
				/* The call passed fewer than n points: all covered. */
				done = 1;
				if (ret || tg->check()) {
					fprintf(stderr, "%s: plain call %d\n", tg->name, ret);
					bad++;
				}
				break;
			}
			if (!ret) {
				/* The failure was handled inside; it must still work. */
				absorbed++;
				if (tg->check()) {
					fprintf(stderr, "%s: point %ld absorbed, but no result\n",
						tg->name, n);
					bad++;
				}
				continue;
			}
			failed++;
			for (k = 0; k < 8 && errs[k] && errs[k] != -ret; k++)
				;
			if (k < 8) {
				errs[k] = -ret;
				nerr[k]++;
			}
			/* Failed cleanly: a plain retry works. */
			again = tg->reset() ?: target_call(tg) ?: tg->check();
			if (again) {
				fprintf(stderr, "%s: failed point %ld (errno %d), retry: %d\n",
					tg->name, n, -ret, again);
				bad++;
			}
		}
		if (!done) {
			fprintf(stderr, "%s: more than %ld points\n", tg->name, max);
			bad++;
		}
		printf("inject %s: %ld points, %ld failed (errno", tg->name, n - 1, failed);
		for (k = 0; k < 8 && errs[k]; k++)
			printf(" %d x%d", errs[k], nerr[k]);
		printf("), %ld absorbed, %ld bad\n", absorbed, bad);
		bad_total += bad;
	}
	/* Both modules loaded and both providers bound, as the next stages expect. */
	dev_reset();
	for (t = 0; t < 2; t++) {
		int ret = module_load(t ? &test_ko : &gpio_ko);

		bad_total += ret && ret != -EEXIST;
	}
	bad_total += !!bind_if_unbound(GPIO_DRV, CHIP);
	bad_total += !!bind_if_unbound(VREG_DRV, "resmgr_test_regulator");
	return bad_total != 0;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[2]) : 100;

	/* Keep what was printed if the run dies in the kernel (an oops kills it). */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc > 1 && !strcmp(argv[1], "cycles"))
		return run_cycles(n);
	if (argc > 1 && !strcmp(argv[1], "chardev"))
		return run_chardev(n);
	if (argc > 1 && !strcmp(argv[1], "fuzz"))
		return run_fuzz(n);
	if (argc > 1 && !strcmp(argv[1], "configfs"))
		return run_configfs(n);
	if (argc > 1 && !strcmp(argv[1], "inject"))
		return run_inject(n);
	fprintf(stderr, "usage: %s cycles|chardev|fuzz|configfs|inject N\n", argv[0]);
	return 2;
}
