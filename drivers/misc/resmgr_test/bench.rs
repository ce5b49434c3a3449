// SPDX-License-Identifier: GPL-2.0

//! In-kernel micro-benchmarks (see `RESMGR_TEST_BENCH` in the uAPI header).

use crate::Workers;
use core::{
    hint::black_box,
    mem::ManuallyDrop,
    ptr::{
        self,
        NonNull, //
    },
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};
use kernel::{
    device::Device,
    gpio::consumer::{
        Desc,
        Flags, //
    },
    new_mutex, new_srcu,
    prelude::*,
    resmgr::{
        Handle,
        Provider, //
    },
    revocable::Revocable,
    sync::{
        new_srcu_fast,
        rcu,
        Arc,
        Mutex,
        Srcu,
        SrcuFast, //
    },
    task::cond_resched,
    time::{
        Instant,
        Monotonic, //
    },
};

const RAW: u64 = 0;
const RCU: u64 = 1;
const SRCU: u64 = 2;
const SRCU_FAST: u64 = 3;
const HANDLE: u64 = 4;
const REVOCABLE: u64 = 5;
const REFCOUNT: u64 = 6;
const REVOKE_N: u64 = 7;
const SYNC_EXPEDITED: u64 = 8;
const GPIOD_RS: u64 = 9;
const GPIOD_C: u64 = 10;
const SRCU_FAST_PTR: u64 = 11;

/// The most threads of a run (`RESMGR_TEST_BENCH_MAX_THREADS`).
const MAX_THREADS: u64 = 64;
/// The most iterations per thread (`RESMGR_TEST_BENCH_MAX_ITERATIONS`).
const MAX_ITERATIONS: u64 = 100_000_000;
/// The most handles `REVOKE_N` keeps (`RESMGR_TEST_BENCH_MAX_HANDLES`): their vector stays
/// within one `kmalloc()` (2 MiB).
const MAX_REVOKE_HANDLES: u64 = 1 << 18;

/// Iterations between two scheduling points of a benchmark loop.
///
/// Few enough that no loop holds its CPU for long on a kernel without forced preemption, enough
/// that the `cond_resched()` between them does not show in the cost of an iteration.
const CHUNK: u64 = 4096;

/// What [`SRCU_FAST_PTR`] loads: a pointer that is never cleared, as a provider's is until unbind.
static TARGET: u64 = 7;

/// What the benchmark threads share.
#[pin_data]
struct State {
    value: u64,
    ptr: AtomicPtr<u64>,
    #[pin]
    srcu: Srcu,
    #[pin]
    fast: SrcuFast,
    #[pin]
    revocable: Revocable<u64>,
    handle: Handle<u64>,
    refcount: Arc<u64>,
    #[pin]
    started: Mutex<()>,
}

/// Runs `n` iterations of `kind`, with a scheduling point every [`CHUNK`]; `handle` is the
/// calling thread's own handle, as every consumer holds its own.
fn spin(st: &State, handle: &Handle<u64>, kind: u64, n: u64) {
    let mut left = n;
    while left > 0 {
        let chunk = left.min(CHUNK);
        spin_chunk(st, handle, kind, chunk);
        left -= chunk;
        cond_resched();
    }
}

/// Runs `n` iterations of `kind` without a scheduling point.
fn spin_chunk(st: &State, handle: &Handle<u64>, kind: u64, n: u64) {
    match kind {
        RAW => (0..n).for_each(|_| {
            black_box(*black_box(&st.value));
        }),
        RCU => (0..n).for_each(|_| {
            let guard = rcu::read_lock();
            black_box(&guard);
        }),
        SRCU => (0..n).for_each(|_| {
            let guard = st.srcu.read_lock();
            black_box(&guard);
        }),
        SRCU_FAST => (0..n).for_each(|_| {
            let guard = st.fast.read_lock();
            black_box(&guard);
        }),
        // The access open-coded on the same primitive, as a C user of SRCU-fast writes it for a
        // pointer that can be cleared: the pair around a load of the pointer and its null test.
        // No revocable access can do less; what `HANDLE` costs beyond it is the abstraction's.
        SRCU_FAST_PTR => (0..n).for_each(|_| {
            let guard = st.fast.read_lock();
            if let Some(imp) = NonNull::new(st.ptr.load(Ordering::Acquire)) {
                black_box(imp);
            }
            drop(guard);
        }),
        // What is timed is the access and its drop: the reference is kept, the value is
        // not read (no other kind reads one).
        HANDLE => {
            // The thread's handle as a consumer keeps it while it works: in a local, so that
            // the shell's address stays in a register, as the SRCU-fast pair's domain does. The
            // local is dropped by value: dropping it in place would take its address, and a
            // local whose address is taken is reloaded from the stack after each per-CPU
            // increment (they clobber memory), a load per access that the pair does not pay.
            let handle = ManuallyDrop::new(handle.clone());
            (0..n).for_each(|_| {
                if let Ok(guard) = handle.access() {
                    black_box(&*guard);
                }
            });
            drop(ManuallyDrop::into_inner(handle));
        }
        REVOCABLE => (0..n).for_each(|_| {
            if let Some(guard) = st.revocable.try_access() {
                black_box(&*guard);
            }
        }),
        REFCOUNT => (0..n).for_each(|_| {
            black_box(st.refcount.clone());
        }),
        _ => {}
    }
}

/// Handles taken before every timed grace period, whatever number stays out.
///
/// Under TCG a grace period takes longer right after the CPU was busy, by more than a
/// handle could cost: without the same work first, 100 000 handles would be compared with
/// the time it takes to create them.
const PREAMBLE: u64 = 100_000;

/// A new provider and `keep` of `max(keep, PREAMBLE)` handles taken on it.
fn provider_with_handles(keep: u64) -> Result<(Provider<u64>, KVec<Handle<u64>>)> {
    let provider = Provider::new(0u64)?;
    let total = usize::try_from(keep.max(PREAMBLE)).map_err(|_| EINVAL)?;
    let mut handles = KVec::with_capacity(total, GFP_KERNEL)?;
    for i in 0..total {
        handles.push(provider.handle(), GFP_KERNEL)?;
        if i as u64 % CHUNK == CHUNK - 1 {
            cond_resched();
        }
    }
    handles.truncate(keep as usize);
    Ok((provider, handles))
}

fn revoke_with_handles(count: u64) -> Result<u64> {
    let (provider, handles) = provider_with_handles(count)?;
    let start = Instant::<Monotonic>::now();
    provider.revoke();
    let ns = start.elapsed().as_nanos();
    drop(handles);
    Ok(ns as u64)
}

fn sync_expedited() -> Result<u64> {
    let srcu = KBox::pin_init(new_srcu_fast!("resmgr_test::bench"), GFP_KERNEL)?;
    let (_provider, _none) = provider_with_handles(0)?;
    let start = Instant::<Monotonic>::now();
    srcu.synchronize_expedited();
    Ok(start.elapsed().as_nanos() as u64)
}

/// A consumer's set+get loop on line 0 of `con_id` of the test device, through gpiolib.
fn gpiod_loop(dev: &Device, con_id: &CStr, iterations: u64) -> Result<u64> {
    let line = Desc::get_index(dev, Some(con_id), 0, Flags::OutLow)?;
    let start = Instant::<Monotonic>::now();
    for i in 0..iterations {
        line.set_value_cansleep(i & 1 == 1)?;
        black_box(line.value_cansleep()?);
        if i % CHUNK == CHUNK - 1 {
            cond_resched();
        }
    }
    Ok(start.elapsed().as_nanos() as u64)
}

/// Runs benchmark `kind` for the test device `dev`; returns the wall-clock nanoseconds.
pub(crate) fn run(dev: &Device, kind: u64, iterations: u64, threads: u64) -> Result<u64> {
    match kind {
        REVOKE_N if iterations > MAX_REVOKE_HANDLES => return Err(EINVAL),
        REVOKE_N => return revoke_with_handles(iterations),
        SYNC_EXPEDITED => return sync_expedited(),
        GPIOD_RS | GPIOD_C if threads != 1 || iterations == 0 => return Err(EINVAL),
        GPIOD_RS | GPIOD_C if iterations > MAX_ITERATIONS => return Err(EINVAL),
        GPIOD_RS => return gpiod_loop(dev, c"rs", iterations),
        GPIOD_C => return gpiod_loop(dev, c"c", iterations),
        RAW..=REFCOUNT | SRCU_FAST_PTR => {}
        _ => return Err(EINVAL),
    }
    if threads == 0 || threads > MAX_THREADS || iterations == 0 || iterations > MAX_ITERATIONS {
        return Err(EINVAL);
    }
    let provider = Provider::new(7u64)?;
    let handle = provider.handle();
    let refcount = Arc::new(7, GFP_KERNEL)?;
    let st = Arc::pin_init(
        try_pin_init!(State {
            value: 7,
            ptr: AtomicPtr::new(ptr::from_ref(&TARGET).cast_mut()),
            srcu <- new_srcu!(),
            fast <- new_srcu_fast!(),
            revocable <- Revocable::new(Ok::<_, Error>(7u64)),
            handle,
            refcount,
            started <- new_mutex!(()),
        }? Error),
        GFP_KERNEL,
    )?;
    // Declared before the gate, so dropped after it: on an early return the gate opens first,
    // and the threads already spawned run to their end before the wait for them returns.
    let mut workers = Workers::with_capacity(threads as usize)?;
    // Hold the threads until all are queued, then time them together.
    let gate = st.started.lock();
    for _ in 0..threads {
        let st = st.clone();
        let handle = st.handle.clone();
        workers.spawn(move || {
            drop(st.started.lock());
            spin(&st, &handle, kind, iterations);
        })?;
    }
    let start = Instant::<Monotonic>::now();
    drop(gate);
    workers.wait();
    let ns = start.elapsed().as_nanos();
    drop(provider);
    Ok(ns as u64)
}
