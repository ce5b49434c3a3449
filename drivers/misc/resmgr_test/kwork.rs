// SPDX-License-Identifier: GPL-2.0

//! In-kernel consumers: work items that call through gpiolib and the regulator core until stopped.

use crate::{
    chardev::{
        absent_as_enoent,
        get_line,
        get_regulator,
        TestLine, //
    },
    Workers,
    TABLE_LINES, //
};
use core::sync::atomic::{
    AtomicBool,
    AtomicU64,
    Ordering, //
};
use kernel::{
    device::Device,
    prelude::*,
    regulator::{
        Disabled,
        Regulator,
        Voltage, //
    },
    str::CString,
    sync::aref::ARef,
    sync::Arc,
    task::cond_resched,
    time::{
        delay::fsleep,
        Delta, //
    },
};

/// The most workers one file may start: worker `i` uses line `i` of the connection id, and
/// the test device has 8 of each.
const MAX_WORKERS: u64 = TABLE_LINES as u64;

/// Counts, in the order of `struct resmgr_test_kwork`: ok, enodev, enoent, other, last other.
pub(crate) type Counts = [u64; 5];

/// What one file's workers share.
struct Shared {
    dev: ARef<Device>,
    gpio: CString,
    regulator: CString,
    stop: AtomicBool,
    counts: [AtomicU64; 5],
}

/// One file's in-kernel consumers.
///
/// Dropping it stops them and waits until they have finished (see [`Workers`]).
pub(crate) struct KWork {
    shared: Arc<Shared>,
    workers: Workers,
}

impl KWork {
    /// Starts `workers` work items on the unbound workqueue.
    pub(crate) fn start(
        dev: ARef<Device>,
        gpio: &CStr,
        regulator: &CStr,
        workers: u64,
    ) -> Result<Self> {
        if workers == 0 || workers > MAX_WORKERS {
            return Err(EINVAL);
        }
        let shared = Arc::new(
            Shared {
                dev,
                gpio: CString::try_from(gpio)?,
                regulator: CString::try_from(regulator)?,
                stop: AtomicBool::new(false),
                counts: Default::default(),
            },
            GFP_KERNEL,
        )?;
        let mut work = Self {
            shared,
            workers: Workers::with_capacity(workers as usize)?,
        };
        for index in 0..workers {
            let shared = work.shared.clone();
            // On failure, dropping `work` stops the workers already spawned and waits for them.
            work.workers.spawn(move || shared.run(index as u32))?;
        }
        Ok(work)
    }

    /// Stops the workers, waits for them and returns the counts.
    pub(crate) fn stop(&self) -> Counts {
        self.shared.stop.store(true, Ordering::Release);
        self.workers.wait();
        let mut counts = Counts::default();
        for (count, total) in counts.iter_mut().zip(&self.shared.counts) {
            *count = total.load(Ordering::Relaxed);
        }
        counts
    }
}

impl Drop for KWork {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Shared {
    fn tally(&self, result: Result) {
        let slot = match result {
            Ok(()) => 0,
            Err(e) if e == ENODEV => 1,
            Err(e) if e == ENOENT => 2,
            Err(e) => {
                self.counts[4].store(e.to_errno().unsigned_abs().into(), Ordering::Relaxed);
                3
            }
        };
        self.counts[slot].fetch_add(1, Ordering::Relaxed);
    }

    /// One worker: line `index` of the connection id (through gpiolib) and the regulator.
    fn run(&self, index: u32) {
        let mut line: Option<TestLine> = None;
        let mut supply: Option<Regulator<Disabled>> = None;
        let mut n = index;
        while !self.stop.load(Ordering::Acquire) {
            if line.is_none() {
                line = self.found(get_line(&self.dev, &self.gpio, index.into()));
            }
            if supply.is_none() {
                let found = get_regulator(&self.dev, &self.regulator);
                supply = self.found(found.map_err(absent_as_enoent));
            }
            if let Some(l) = &line {
                let result = l
                    .desc
                    .direction_output(n & 1 != 0)
                    .and_then(|()| l.desc.value_cansleep().map(|_| ()));
                if result == Err(ENODEV) {
                    line = None;
                }
                self.tally(result);
            }
            if let Some(s) = &supply {
                // The regulator's whole range, as a consumer that can take any voltage asks: the
                // core serves the intersection of every consumer's request, and a narrower one
                // would be refused (EINVAL) whenever userspace asks for a voltage outside it.
                let min = Voltage::from_microvolts(1_000_000);
                let max = Voltage::from_microvolts(3_300_000);
                let result = s.set_voltage(min, max);
                if result == Err(ENODEV) {
                    supply = None;
                }
                self.tally(result);
            }
            if line.is_none() && supply.is_none() {
                // Both providers are away: wait for a bind without spinning.
                fsleep(Delta::from_millis(1));
            }
            n = n.wrapping_add(1);
            // The loop runs until stopped: without forced preemption, let others have the CPU.
            cond_resched();
        }
    }

    fn found<T>(&self, lookup: Result<T>) -> Option<T> {
        match lookup {
            Ok(handle) => {
                self.tally(Ok(()));
                Some(handle)
            }
            Err(e) => {
                self.tally(Err(e));
                None
            }
        }
    }
}
