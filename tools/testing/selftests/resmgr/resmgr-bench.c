// SPDX-License-Identifier: GPL-2.0
/*
 * resmgr-bench: the figures of `make bench`, as ratios measured in one boot.
 *
 *   P1 read side, in-kernel: ns per access for Handle::access() and its
 *      alternatives, on 1..N threads (RESMGR_TEST_BENCH).
 *   P2 end to end: GPIO uAPI v2 set+get loop on gpio_sim_rs vs the C
 *      gpio-sim (chip devices given on the command line).
 *   P3 revocation latency with 1, 1000 and 100000 handles vs one
 *      synchronize_srcu_expedited().
 *
 * Usage: resmgr-bench <gpio_sim_rs chip dev> <gpio-sim chip dev>
 * Exits 1 if a goal is missed (each goal is printed with its verdict).
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/gpio.h>
#include <linux/resmgr_test.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int dev;
static int missed;

static double bench(int kind, unsigned long long iters, int threads)
{
	struct resmgr_test_bench b = { .kind = kind, .iterations = iters,
				       .threads = threads };

	if (ioctl(dev, RESMGR_TEST_BENCH, &b)) {
		perror("RESMGR_TEST_BENCH");
		exit(2);
	}
	return (double)b.nanoseconds;
}

static void check_goal(const char *what, double value, double limit, int below)
{
	int ok = below ? value <= limit : value >= limit;

	printf("  goal: %-52s %8.2f %s %-6.2f %s\n", what, value,
	       below ? "<=" : ">=", limit, ok ? "met" : "MISSED");
	missed |= !ok;
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* ns per set+get pair through a uAPI v2 output request on line 0. */
static double gpio_loop(const char *chipdev, int loops)
{
	struct gpio_v2_line_request req = { .num_lines = 1 };
	struct gpio_v2_line_values vals = { .mask = 1 };
	char path[64];
	double t;
	int chip, i;

	snprintf(path, sizeof(path), "/dev/%s", chipdev);
	chip = open(path, O_RDWR);
	if (chip < 0) {
		perror(path);
		exit(2);
	}
	req.config.flags = GPIO_V2_LINE_FLAG_OUTPUT;
	strcpy(req.consumer, "resmgr-bench");
	if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &req)) {
		perror("GPIO_V2_GET_LINE_IOCTL");
		exit(2);
	}
	t = now_ns();
	for (i = 0; i < loops; i++) {
		vals.bits = i & 1;
		if (ioctl(req.fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &vals) ||
		    ioctl(req.fd, GPIO_V2_LINE_GET_VALUES_IOCTL, &vals)) {
			perror("GPIO values");
			exit(2);
		}
	}
	t = (now_ns() - t) / loops;
	close(req.fd);
	close(chip);
	return t;
}

int main(int argc, char **argv)
{
	static const char *const names[] = {
		"raw pointer load", "rcu_read_lock pair", "classic srcu pair",
		"srcu-fast pair", "Handle::access + drop", "Revocable::try_access",
		"atomic refcount get/put",
	};
	const unsigned long long iters = 2000000;
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), kind, t, round;
	double ns[7][2], best, rs, c;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <gpio_sim_rs chip> <gpio-sim chip>\n", argv[0]);
		return 2;
	}
	dev = open("/dev/resmgr-test", O_RDWR);
	if (dev < 0) {
		perror("/dev/resmgr-test");
		return 2;
	}
	if (cpus > 2)
		cpus = 2;

	printf("P1 read side (ns per access, best of 3 runs of %llu per thread)\n", iters);
	printf("  %-26s %12s %12s %10s\n", "", "1 thread", "2 threads", "vs rcu");
	for (kind = 0; kind < 7; kind++) {
		for (t = 0; t < cpus; t++) {
			best = 1e18;
			for (round = 0; round < 3; round++) {
				double v = bench(kind, iters, t + 1) / iters;

				best = v < best ? v : best;
			}
			ns[kind][t] = best;
		}
		if (cpus < 2)
			ns[kind][1] = 0;
	}
	for (kind = 0; kind < 7; kind++)
		printf("  %-26s %12.2f %12.2f %9.2fx\n", names[kind], ns[kind][0],
		       ns[kind][1], ns[kind][0] / ns[RESMGR_TEST_BENCH_RCU][0]);
	check_goal("Handle::access / rcu_read_lock pair",
		   ns[RESMGR_TEST_BENCH_HANDLE][0] / ns[RESMGR_TEST_BENCH_RCU][0], 1.2, 1);
	check_goal("classic srcu pair / Handle::access",
		   ns[RESMGR_TEST_BENCH_SRCU][0] / ns[RESMGR_TEST_BENCH_HANDLE][0], 5.0, 0);
	if (cpus >= 2)
		check_goal("Handle::access per-thread time, 2 threads / 1 thread",
			   ns[RESMGR_TEST_BENCH_HANDLE][1] / ns[RESMGR_TEST_BENCH_HANDLE][0],
			   1.2, 1);

	printf("\nP2 GPIO uAPI v2 set+get loop (ns per pair)\n");
	rs = gpio_loop(argv[1], 20000);
	c = gpio_loop(argv[2], 20000);
	printf("  gpio_sim_rs %10.0f   gpio-sim (C) %10.0f   ratio %.3f\n", rs, c, rs / c);
	check_goal("gpio_sim_rs / gpio-sim", rs / c, 1.01, 1);

	printf("\nP3 revocation latency (us)\n");
	c = 1e18;
	for (round = 0; round < 5; round++) {
		double v = bench(RESMGR_TEST_BENCH_SYNC_EXPEDITED, 0, 1) / 1000;

		c = v < c ? v : c;
	}
	printf("  one synchronize_srcu_expedited %10.1f\n", c);
	for (t = 0; t < 3; t++) {
		unsigned long long n = t == 0 ? 1 : t == 1 ? 1000 : 100000;
		double v = 1e18;

		for (round = 0; round < 5; round++) {
			double w = bench(RESMGR_TEST_BENCH_REVOKE_N, n, 1) / 1000;

			v = w < v ? w : v;
		}
		printf("  revoke with %6llu handles    %10.1f  (%.2fx)\n", n, v, v / c);
		check_goal(n == 1 ? "revoke, 1 handle / sync_expedited" :
		     n == 1000 ? "revoke, 1000 handles / sync_expedited" :
		     "revoke, 100000 handles / sync_expedited", v / c, 2.0, 1);
	}
	close(dev);
	printf("\n%s\n", missed ? "bench: some goals MISSED" : "bench: all goals met");
	return missed;
}
