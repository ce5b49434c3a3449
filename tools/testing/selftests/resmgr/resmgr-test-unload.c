// SPDX-License-Identifier: GPL-2.0
/*
 * resmgr-test-unload: unloads resmgr_test right after waiting for its
 * in-kernel work items, round after round, under CPU load.
 *
 * Each round opens /dev/resmgr-test, starts in-kernel work (KWORK_START, or
 * a BENCH run), lets the file wait for it (close(), KWORK_STOP or the end of
 * BENCH), unloads the module and loads it again. A work item that still runs
 * code of the module after completing what the file waited for (its return
 * path, its drops) has that code freed under it by the unload: on x86_64,
 * freed module text is overwritten with int3 at once, so the work item oopses
 * when it resumes; elsewhere it faults on unmapped text.
 *
 * Rather than hope for the work item to be stopped right there, the test
 * stops it there (with two CPUs or more, SCHED_FIFO and a writable workqueue
 * cpumask):
 *  - unbound work items run on one CPU, A (the workqueue cpumask), and this
 *    thread runs on A as well, SCHED_FIFO: the wakeup that ends its wait
 *    preempts the work item that sent it, in complete_all();
 *  - it then wakes a SCHED_FIFO busy thread on A, so that the preempted work
 *    item gets no CPU, moves itself and the unbound work items to CPU B (the
 *    first CPU, where the unload may need per-CPU work done), and unloads the
 *    module from there;
 *  - then it stops the busy thread: the work item resumes, after the unload.
 * Otherwise it falls back to plain CPU load, which only makes the race likely.
 *
 * Any kernel report (Oops, BUG, KASAN, WARNING) in /dev/kmsg fails the run.
 * Needs root and the resmgr_test module, which is left loaded or not as
 * found. Bounded by -n rounds and -t seconds (default 40 rounds, 30 s).
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/resmgr_test.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* util.h first: kselftest.h only defines ARRAY_SIZE if it is not defined yet. */
#include "util.h"
#include "../kselftest.h"

#define DEV_PATH	"/dev/resmgr-test"
#define MODULE		"resmgr_test"
#define WQ_CPUMASK	"/sys/devices/virtual/workqueue/cpumask"
#define KWORKERS	8

/* The workqueue cpumask as found, restored on the way out ("" if untouched). */
static char saved_mask[512];
static int quit;
/* While set, the busy thread on CPU A spins. */
static int hog_on;
static int hog_pipe[2] = { -1, -1 };
static pthread_t hog;
static int kmsg_fd = -1;

static void restore_mask(void)
{
	if (saved_mask[0])
		write_str(WQ_CPUMASK, saved_mask);
}

static void on_signal(int sig)
{
	/* write_str() uses open(), write() and close(): async-signal-safe. */
	restore_mask();
	_exit(128 + sig);
}

/* Sets the unbound workqueue cpumask to @cpu alone; 0 or -errno. */
static int wq_on_cpu(int cpu)
{
	char mask[16];

	snprintf(mask, sizeof(mask), "%x", 1u << cpu);
	return write_str(WQ_CPUMASK, mask);
}

static int run_on_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

static int set_fifo(int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return pthread_setschedparam(pthread_self(), prio ? SCHED_FIFO : SCHED_OTHER, &sp);
}

/* Plain CPU load. */
static void *busy_thread(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&quit, __ATOMIC_RELAXED))
		;
	return NULL;
}

/* SCHED_FIFO on CPU A: spins while hog_on, after each wakeup through the pipe. */
static void *hog_thread(void *arg)
{
	char c;

	(void)arg;
	while (read(hog_pipe[0], &c, 1) == 1 && c == 'g') {
		while (__atomic_load_n(&hog_on, __ATOMIC_ACQUIRE))
			;
	}
	return NULL;
}

static int start_hog(int cpu)
{
	struct sched_param sp = { .sched_priority = 1 };
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	if (pipe(hog_pipe))
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	pthread_attr_setschedparam(&attr, &sp);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	err = pthread_create(&hog, &attr, hog_thread, NULL);
	pthread_attr_destroy(&attr);
	return -err;
}

/* Starts reading the kernel log at its end. */
static void kmsg_open(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
	else
		ksft_print_msg("no /dev/kmsg (%s): relying on the run's log scan\n",
			       strerror(errno));
}

/* Whether the kernel reported something since the last call (printed). */
static bool kmsg_report(void)
{
	static const char *const marks[] = {
		"Oops", "BUG:", "KASAN", "WARNING:", "general protection fault", "Kernel panic",
	};
	bool found = false;
	char rec[4096];
	ssize_t len;
	size_t i;

	while (kmsg_fd >= 0) {
		len = read(kmsg_fd, rec, sizeof(rec) - 1);
		if (len < 0 && errno == EPIPE)
			continue;	/* records overwritten meanwhile */
		if (len <= 0)
			break;		/* EAGAIN: none left */
		rec[len] = 0;
		for (i = 0; i < ARRAY_SIZE(marks); i++) {
			if (strstr(rec, marks[i])) {
				ksft_print_msg("kernel: %s", strchr(rec, ';') ?
					       strchr(rec, ';') + 1 : rec);
				found = true;
				break;
			}
		}
	}
	return found;
}

static int load(void)
{
	int i;

	if (system("modprobe " MODULE))
		return -1;
	for (i = 0; i < 100 && access(DEV_PATH, F_OK); i++)
		usleep(10000);
	return access(DEV_PATH, F_OK) ? -1 : 0;
}

/* delete_module() as rmmod does it; 0 or -errno. */
static int unload(void)
{
	int64_t end = now_ms() + 5000;
	int err;

	while (syscall(SYS_delete_module, MODULE, O_NONBLOCK)) {
		err = errno;
		if ((err != EAGAIN && err != EBUSY) || now_ms() > end)
			return -err;
		usleep(10000);
	}
	return 0;
}

/*
 * Starts in-kernel work on a new file and waits for it, in one of three
 * ways by @round; closes the file. 0 or -errno.
 */
static int work_and_close(int round)
{
	struct resmgr_test_bench b = {
		.kind = RESMGR_TEST_BENCH_REFCOUNT, .iterations = 20000, .threads = 4,
	};
	struct resmgr_test_kwork k;
	int fd, err = 0;

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&k, 0, sizeof(k));
	strcpy(k.gpio, "gpio_sim_rs.0");
	strcpy(k.regulator, RESMGR_TEST_VREG);
	k.workers = KWORKERS;
	switch (round % 3) {
	case 0:		/* closing the file stops the workers and waits for them */
		if (ioctl(fd, RESMGR_TEST_KWORK_START, &k))
			err = -errno;
		usleep(20000);
		break;
	case 1:		/* KWORK_STOP waits for them */
		if (ioctl(fd, RESMGR_TEST_KWORK_START, &k))
			err = -errno;
		usleep(20000);
		if (!err && ioctl(fd, RESMGR_TEST_KWORK_STOP, &k))
			err = -errno;
		break;
	case 2:		/* BENCH waits for its threads */
		if (ioctl(fd, RESMGR_TEST_BENCH, &b))
			err = -errno;
		break;
	}
	close(fd);
	return err;
}

int main(int argc, char **argv)
{
	pthread_t busy[64];
	int rounds = 40, seconds = 30, nbusy = 0, round, opt, err = 0, i;
	int cpu_a = -1, cpu_b = -1;
	bool was_loaded, precise = false, reported = false;
	struct sigaction sa = { .sa_handler = on_signal };
	const char *failed = NULL;
	cpu_set_t allowed;
	int64_t end;
	FILE *f;

	while ((opt = getopt(argc, argv, "n:t:")) != -1) {
		switch (opt) {
		case 'n':
			rounds = atoi(optarg);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n rounds] [-t seconds]\n", argv[0]);
			return KSFT_FAIL;
		}
	}

	ksft_print_header();
	ksft_set_plan(1);
	if (geteuid())
		ksft_exit_skip("needs root\n");
	was_loaded = !access("/sys/module/" MODULE, F_OK);
	/* Each round unloads it: a module in use (or built in) cannot take part. */
	if (was_loaded && unload())
		ksft_exit_skip(MODULE " cannot be unloaded (in use?)\n");
	if (load())
		ksft_exit_skip("cannot load " MODULE "\n");
	kmsg_open();

	/* Plain load, SCHED_OTHER: one busy thread per CPU we may run on. */
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		ksft_exit_fail_perror("sched_getaffinity");
	for (i = 0; i < CPU_SETSIZE && nbusy < (int)ARRAY_SIZE(busy); i++) {
		if (!CPU_ISSET(i, &allowed))
			continue;
		/*
		 * B is the first CPU (the boot CPU, usually): the unload may
		 * wait for work bound to it, such as the callbacks of a small
		 * SRCU domain. A, where work items get stuck, is the second.
		 */
		if (cpu_b < 0)
			cpu_b = i;
		else if (cpu_a < 0)
			cpu_a = i;
		if (pthread_create(&busy[nbusy], NULL, busy_thread, NULL))
			break;
		nbusy++;
	}

	/* The precise setup, if the system allows it. */
	f = fopen(WQ_CPUMASK, "r");
	if (f) {
		if (!fgets(saved_mask, sizeof(saved_mask), f))
			saved_mask[0] = 0;
		saved_mask[strcspn(saved_mask, "\n")] = 0;
		fclose(f);
	}
	/* Whatever the way out (ksft_exit_*() call exit()), the cpumask is put back. */
	atexit(restore_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (cpu_a >= 0 && cpu_a < 32 && cpu_b < 32 && saved_mask[0] && !wq_on_cpu(cpu_a) &&
	    !start_hog(cpu_a) && !run_on_cpu(cpu_a) && !set_fifo(2)) {
		precise = true;
	} else {
		ksft_print_msg("cannot stop a work item at its completion (%s): CPU load only\n",
			       cpu_a < 0 ? "one CPU" : "no SCHED_FIFO or workqueue cpumask");
		restore_mask();
	}

	end = now_ms() + seconds * 1000LL;
	for (round = 0; round < rounds && now_ms() < end; round++) {
		err = work_and_close(round);
		if (err) {
			failed = "in-kernel work";
			break;
		}
		if (precise) {
			/* The work item that woke us is preempted on A: keep it off the CPU. */
			__atomic_store_n(&hog_on, 1, __ATOMIC_RELEASE);
			if (write(hog_pipe[1], "g", 1) != 1)
				ksft_exit_fail_perror("hog wakeup");
			if (run_on_cpu(cpu_b) || wq_on_cpu(cpu_b))
				ksft_exit_fail_msg("cannot move to CPU %d\n", cpu_b);
		}
		err = unload();
		if (precise) {
			/* Let it resume, after the unload, then back to A. */
			__atomic_store_n(&hog_on, 0, __ATOMIC_RELEASE);
			usleep(20000);
			if (wq_on_cpu(cpu_a) || run_on_cpu(cpu_a))
				ksft_exit_fail_msg("cannot move back to CPU %d\n", cpu_a);
		}
		if (err) {
			failed = "rmmod " MODULE;
			break;
		}
		if (load()) {
			err = -ENOENT;
			failed = "modprobe " MODULE;
			break;
		}
		if (kmsg_report()) {
			reported = true;
			break;
		}
	}
	usleep(20000);
	reported |= kmsg_report();

	__atomic_store_n(&quit, 1, __ATOMIC_RELAXED);
	for (i = 0; i < nbusy; i++)
		pthread_join(busy[i], NULL);
	if (precise) {
		if (write(hog_pipe[1], "q", 1) == 1)
			pthread_join(hog, NULL);
		set_fifo(0);
	}
	restore_mask();

	if (was_loaded && access("/sys/module/" MODULE, F_OK))
		load();
	else if (!was_loaded && !access("/sys/module/" MODULE, F_OK))
		unload();

	if (failed)
		ksft_test_result_fail("%s failed in round %d: %s\n", failed, round,
				      strerror(-err));
	else if (reported)
		ksft_test_result_fail("kernel report in round %d (see above)\n", round);
	else
		ksft_test_result_pass("%d rounds of in-kernel work, close, rmmod, modprobe (%s)\n",
				      round, precise ? "work item stopped at its completion" :
				      "CPU load only");
	ksft_finished();
}
