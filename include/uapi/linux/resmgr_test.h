/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioctl ABI of /dev/resmgr-test, the test character device of the Rust
 * resource manager (drivers/misc/resmgr_test.rs).
 *
 * Handles are per open file: an id returned by a lookup on one file is
 * unknown (EINVAL) on another. All fields are 64-bit so that the layout is
 * the same for every ABI.
 *
 * A file holds at most RESMGR_TEST_MAX_HANDLES handles at a time: a lookup
 * (GPIO_LOOKUP, REG_LOOKUP, CREG_GET) that would take one more fails with
 * ENOSPC, as an id allocator does when its range is full; DROP makes room,
 * and the next lookup takes the lowest free id.
 */
#ifndef _UAPI_LINUX_RESMGR_TEST_H
#define _UAPI_LINUX_RESMGR_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * Beyond its ioctls the device has every file operation of a revocable
 * character device, each answering ENODEV once the device is unbound (see
 * Documentation/rust/resmgr.rst for the whole table):
 *
 * - read() returns "resmgr-test\n" from the file position; write() takes
 *   everything, like /dev/null.
 * - lseek() moves within those 12 bytes (SEEK_SET, SEEK_CUR, SEEK_END).
 * - mmap() maps RESMGR_TEST_MMAP_PAGES zeroed pages of the device, shared
 *   by all its files, at offsets 0 to RESMGR_TEST_MMAP_PAGES - 1 (pages);
 *   past them, and on every mapping once the device is unbound, an access
 *   gets SIGBUS. EINVAL for an executable mapping.
 * - /proc/<pid>/fdinfo/<fd> shows "resmgr-test-handles:" and the number of
 *   the file's handles.
 * - O_ASYNC files get SIGIO with POLL_IN on POLL_MASK, and POLL_HUP when the
 *   device is unbound.
 */
#define RESMGR_TEST_MMAP_PAGES	4

/*
 * For `make bench`, the module also registers two devices that do the same
 * work, one through the revocable adapter and one as a plain misc device:
 * each file has a buffer of RESMGR_TEST_IO_SIZE bytes that read() copies out
 * from the file position and write() copies in at it (ENOSPC at its end).
 */
#define RESMGR_TEST_IO_PATH	"/dev/resmgr-test-io"
#define RESMGR_TEST_IO_PLAIN_PATH "/dev/resmgr-test-io-plain"
#define RESMGR_TEST_IO_SIZE	4096

#define RESMGR_TEST_LABEL_LEN	32
#define RESMGR_TEST_MAX_HANDLES	16384

/*
 * GPIO_LOOKUP gets a line for the test device from gpiolib, as a driver does
 * with gpiod_get_index(dev, name, index): name is the connection id, index
 * the line's index within it. The module's lookup table gives the test device
 * these lines (RESMGR_TEST_*_CHIP are the labels the tests give their chips):
 *
 *   "rs", 0..7	lines 0..7 of RESMGR_TEST_RS_CHIP (a gpio_sim_rs chip)
 *   "c", 0..7	lines 0..7 of RESMGR_TEST_C_CHIP (a C gpio-sim bank)
 *   "rs-low", 0	line 6 of RESMGR_TEST_RS_CHIP, active low
 *   "c-low", 0	line 6 of RESMGR_TEST_C_CHIP, active low
 *
 * gpiolib owns a line for its consumer: EBUSY if anyone holds it (userspace
 * included), ENOENT for a name or index the table does not have, and also
 * while the chip is not registered (gpiolib's EPROBE_DEFER); EINVAL for an
 * index over 32 bits. The line is reported as used by the connection id, and
 * given back when its handle is dropped. GPIO operations go through gpiolib
 * (values are logical, active-low applied): ENODEV once the chip is removed.
 * GET_ATOMIC reads with the non-sleeping call: EAGAIN on a chip that can
 * sleep (both simulators can). WAIT_REVOKED waits for the revocation of the
 * Rust provider of the line's chip, and returns at once if it is revoked
 * (also for a line got while the chip's driver was being unbound); ENOENT if
 * the line has none (a C chip, or a Rust chip that gpiolib removed between
 * the line's lookup and its provider's).
 *
 * REG_LOOKUP and CREG_GET take the same structure: name is the regulator's
 * name, index is ignored.
 */
struct resmgr_test_gpio_lookup {
	char name[RESMGR_TEST_LABEL_LEN];	/* in: NUL-terminated name */
	__u64 index;				/* in: index within the name */
	__u64 id;				/* out: handle id (>= 1) */
};

#define RESMGR_TEST_RS_CHIP	"gpio_sim_rs.0"
#define RESMGR_TEST_C_CHIP	"resmgr-test-csim"

/* Operate on a GPIO line handle. */
struct resmgr_test_gpio_op {
	__u64 id;	/* in: handle id */
	/*
	 * in (SET, OUTPUT) or out (GET, DIRECTION: 1 = output, ACTIVE_LOW:
	 * 0/1, TO_IRQ: interrupt number)
	 */
	__u64 value;
};

/* Counters, to check that nothing leaked. */
struct resmgr_test_counters {
	__u64 files;		/* open files of /dev/resmgr-test */
	__u64 handles;		/* live handles, all files together */
	__u64 revoked_waits;	/* WAIT_REVOKED calls that saw a revocation */
};

#define RESMGR_TEST_MAGIC	0xb7

#define RESMGR_TEST_GPIO_LOOKUP	_IOWR(RESMGR_TEST_MAGIC, 0x01, struct resmgr_test_gpio_lookup)
#define RESMGR_TEST_GPIO_GET	_IOWR(RESMGR_TEST_MAGIC, 0x02, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_SET	_IOW(RESMGR_TEST_MAGIC, 0x03, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_INPUT	_IOW(RESMGR_TEST_MAGIC, 0x04, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_OUTPUT	_IOW(RESMGR_TEST_MAGIC, 0x05, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_DIRECTION _IOWR(RESMGR_TEST_MAGIC, 0x06, struct resmgr_test_gpio_op)
/* Drop a handle (its id becomes unknown). */
#define RESMGR_TEST_DROP	_IOW(RESMGR_TEST_MAGIC, 0x07, __u64)
/* Sleep (interruptibly) until the handle's provider is revoked. */
#define RESMGR_TEST_WAIT_REVOKED _IOW(RESMGR_TEST_MAGIC, 0x08, __u64)
#define RESMGR_TEST_COUNTERS	_IOR(RESMGR_TEST_MAGIC, 0x09, struct resmgr_test_counters)

/*
 * Regulators, through the regulator core (regulator_get_optional() on the
 * test device). REG_LOOKUP takes a struct resmgr_test_gpio_lookup whose name
 * is the regulator's name (index ignored) and returns a handle id: a consumer
 * of the regulator, and a second one that holds the handle's enable once it
 * asks for one. The REG_* operations take a struct
 * resmgr_test_gpio_op (value: 0/1 for IS_ENABLED, microvolts for the
 * voltages). ENABLE takes an enable for the handle (nothing if it holds one),
 * DISABLE gives it back (nothing if it holds none): the core counts enables,
 * so the output stays on while any consumer holds one. SET_VOLTAGE asks for
 * exactly that voltage: EINVAL if the regulator does not offer it (outside
 * its constraints, or between two steps), or if another consumer's request
 * excludes it (the core serves the intersection of all requests).
 *
 * CREG_GET gets a plain consumer, for voltages only (CREG_*). Using a handle
 * of one kind with another kind's command gives EINVAL.
 *
 * Once the regulator's driver is unbound, every operation of a handle gets
 * ENODEV but DISABLE, which gives back the handle's enable and succeeds (a
 * consumer must be able to let go). A rebound regulator is a new instance,
 * which only a new lookup reaches.
 *
 * Only the regulator the test module registers itself, RESMGR_TEST_VREG, is
 * reachable: REG_LOOKUP, CREG_GET and KWORK_START give ENOENT for any other
 * name, whatever regulators the system has. While that regulator's driver is
 * unbound, REG_LOOKUP gives ENOENT and CREG_GET ENODEV, never the core's
 * dummy regulator.
 *
 * The module also registers a C consumer of RESMGR_TEST_VREG: the regulator
 * core's virtual consumer, device RESMGR_TEST_VIRT_CONSUMER, which enables
 * the regulator while both its min_microvolts and max_microvolts files hold
 * a voltage (and asks for that range), and disables it when one is 0. It gets
 * the regulator when it is bound: after a rebind of the regulator, rebind it.
 */
#define RESMGR_TEST_VIRT_CONSUMER "reg-virt-consumer"
#define RESMGR_TEST_VREG	"resmgr-test-vreg"

#define RESMGR_TEST_REG_LOOKUP	_IOWR(RESMGR_TEST_MAGIC, 0x0a, struct resmgr_test_gpio_lookup)
#define RESMGR_TEST_REG_ENABLE	_IOW(RESMGR_TEST_MAGIC, 0x0b, struct resmgr_test_gpio_op)
#define RESMGR_TEST_REG_DISABLE	_IOW(RESMGR_TEST_MAGIC, 0x0c, struct resmgr_test_gpio_op)
#define RESMGR_TEST_REG_IS_ENABLED _IOWR(RESMGR_TEST_MAGIC, 0x0d, struct resmgr_test_gpio_op)
#define RESMGR_TEST_REG_GET_VOLTAGE _IOWR(RESMGR_TEST_MAGIC, 0x0e, struct resmgr_test_gpio_op)
#define RESMGR_TEST_REG_SET_VOLTAGE _IOW(RESMGR_TEST_MAGIC, 0x0f, struct resmgr_test_gpio_op)
#define RESMGR_TEST_CREG_GET	_IOWR(RESMGR_TEST_MAGIC, 0x10, struct resmgr_test_gpio_lookup)
#define RESMGR_TEST_CREG_GET_VOLTAGE _IOWR(RESMGR_TEST_MAGIC, 0x11, struct resmgr_test_gpio_op)
#define RESMGR_TEST_CREG_SET_VOLTAGE _IOW(RESMGR_TEST_MAGIC, 0x12, struct resmgr_test_gpio_op)

/*
 * In-kernel micro-benchmarks of the read side and of revocation (for
 * `make bench`). kind: see RESMGR_TEST_BENCH_*; iterations per thread;
 * threads run concurrently on the unbound workqueue. Out: wall-clock
 * nanoseconds for the whole run (REVOKE_N: for the revocation alone, with
 * `iterations` handles outstanding; SYNC_EXPEDITED: for one
 * synchronize_srcu_expedited() on an idle SRCU-fast domain). Both first
 * take 100000 handles (or `iterations`, if more) and drop those not kept,
 * so that every timed grace period follows the same work.
 *
 * EINVAL for an unknown kind, for threads outside 1 to
 * RESMGR_TEST_BENCH_MAX_THREADS or iterations outside 1 to
 * RESMGR_TEST_BENCH_MAX_ITERATIONS (kinds RAW to REFCOUNT, SRCU_FAST_PTR),
 * and for more than RESMGR_TEST_BENCH_MAX_HANDLES handles (REVOKE_N).
 * GPIOD_RS and GPIOD_C get line 0 of the test device's connection id rs (the
 * gpio_sim_rs chip) or c (the C gpio-sim bank labelled resmgr-test-csim) as
 * an output, and set and read it back `iterations` times on one thread
 * (EINVAL for more); the errors of the lookup are returned. The loops reach
 * a scheduling point (cond_resched()) every few thousand iterations, so that
 * a long run does not hold a CPU on a kernel without forced preemption.
 */
struct resmgr_test_bench {
	__u64 kind;
	__u64 iterations;
	__u64 threads;
	__u64 nanoseconds;
};

#define RESMGR_TEST_BENCH_RAW		0	/* plain pointer load */
#define RESMGR_TEST_BENCH_RCU		1	/* rcu_read_lock() pair */
#define RESMGR_TEST_BENCH_SRCU		2	/* classic srcu_read_lock() pair */
#define RESMGR_TEST_BENCH_SRCU_FAST	3	/* srcu_read_lock_fast() pair */
#define RESMGR_TEST_BENCH_HANDLE	4	/* Handle::access() + drop */
#define RESMGR_TEST_BENCH_REVOCABLE	5	/* Revocable::try_access() + drop */
#define RESMGR_TEST_BENCH_REFCOUNT	6	/* Arc clone + drop */
#define RESMGR_TEST_BENCH_REVOKE_N	7	/* revoke with N handles */
#define RESMGR_TEST_BENCH_SYNC_EXPEDITED 8	/* one expedited grace period */
#define RESMGR_TEST_BENCH_GPIOD_RS	9	/* set+get of line rs/0 through gpiolib */
#define RESMGR_TEST_BENCH_GPIOD_C	10	/* set+get of line c/0 through gpiolib */
#define RESMGR_TEST_BENCH_SRCU_FAST_PTR	11	/* srcu-fast pair around a checked load */

#define RESMGR_TEST_BENCH_MAX_THREADS		64
#define RESMGR_TEST_BENCH_MAX_ITERATIONS	100000000
#define RESMGR_TEST_BENCH_MAX_HANDLES		262144

#define RESMGR_TEST_BENCH	_IOWR(RESMGR_TEST_MAGIC, 0x13, struct resmgr_test_bench)

/*
 * In-kernel consumers (for `make stress`). KWORK_START starts `workers`
 * (1 to 8) work items on the unbound workqueue, owned by this file. Worker i
 * gets line i of the connection id `gpio` from gpiolib (as GPIO_LOOKUP) and
 * the regulator named `regulator` from the core, and calls through them (set
 * output, get, ask for a voltage range up to the regulator's maximum) until
 * stopped; a line or handle that answers
 * ENODEV is dropped and got again (a line that someone else holds counts as
 * "other", EBUSY). EBUSY if this file's workers already run, ENOENT if `regulator` is
 * not RESMGR_TEST_VREG. KWORK_STOP stops them, waits for them and fills in
 * the counts (EINVAL if none run). Closing the file stops them too, and
 * waits for them: once close() has returned, nothing of the module runs for
 * them any more, so the module can be unloaded at once.
 */
struct resmgr_test_kwork {
	char gpio[RESMGR_TEST_LABEL_LEN];	/* in (START): connection id */
	char regulator[RESMGR_TEST_LABEL_LEN];	/* in (START): regulator name */
	__u64 workers;				/* in (START) */
	__u64 ok;		/* out (STOP): calls and lookups that succeeded */
	__u64 enodev;		/* out (STOP): calls that found the provider gone */
	__u64 enoent;		/* out (STOP): lookups while the provider was unbound */
	__u64 other;		/* out (STOP): any other error */
	__u64 last_other;	/* out (STOP): the errno of the last such error */
};

#define RESMGR_TEST_KWORK_START	_IOW(RESMGR_TEST_MAGIC, 0x14, struct resmgr_test_kwork)
#define RESMGR_TEST_KWORK_STOP	_IOWR(RESMGR_TEST_MAGIC, 0x15, struct resmgr_test_kwork)

/*
 * POLL_MASK: the EPOLL* mask that poll() reports for this file from now on
 * (EPOLLIN | EPOLLOUT when it is opened); pollers of the device are woken. A
 * mask of 0 lets a poller sleep until the device is unbound. The owners of
 * the device's O_ASYNC files get SIGIO (POLL_IN).
 */
#define RESMGR_TEST_POLL_MASK	_IOW(RESMGR_TEST_MAGIC, 0x16, __u64)

#define RESMGR_TEST_GPIO_ACTIVE_LOW _IOWR(RESMGR_TEST_MAGIC, 0x17, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_TO_IRQ	_IOWR(RESMGR_TEST_MAGIC, 0x18, struct resmgr_test_gpio_op)
#define RESMGR_TEST_GPIO_GET_ATOMIC _IOWR(RESMGR_TEST_MAGIC, 0x19, struct resmgr_test_gpio_op)

#endif /* _UAPI_LINUX_RESMGR_TEST_H */
