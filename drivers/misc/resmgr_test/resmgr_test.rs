// SPDX-License-Identifier: GPL-2.0

//! `/dev/resmgr-test`: the test character device of the resource manager.
//!
//! One module in several files: the character device and its files ([`chardev`]), its ABI as Rust
//! types ([`uapi`]), the simulated regulator ([`regulator`]), the in-kernel consumers ([`kwork`])
//! and the in-kernel benchmarks ([`bench`]).
//!
//! The module creates a platform device `resmgr_test` and binds a driver to it that registers the
//! revocable misc device `/dev/resmgr-test` (root only), which has every file operation a
//! revocable character device can have (read, write, lseek, mmap, poll, `O_ASYNC`, fdinfo). Through
//! its ioctls (ABI in
//! `include/uapi/linux/resmgr_test.h`) a test gets GPIO lines for the test device from gpiolib, by
//! connection id and index as a driver does (the module registers the device's lookup table, which
//! names the simulated chips the tests create), and calls them through gpiolib, per open file; a
//! line answers `ENODEV` once its chip's driver is unbound. Regulators are gotten by name through
//! the regulator core (`regulator_get_optional()` on the test device), and the module provides
//! one: a simulated regulator `resmgr-test-vreg` (1.0 V to 3.3 V in 100 mV steps) on a second
//! platform device, `resmgr_test_regulator`, unbindable through sysfs, and a C consumer of it: the
//! regulator core's virtual consumer (`reg-virt-consumer`), given the regulator's name as its
//! platform data, which a test drives through its sysfs files. The test device is itself
//! a resmgr provider: unbinding it through `/sys/bus/platform/drivers/resmgr_test/unbind` turns its
//! own open files to `ENODEV`.
//!
//! The device is a test tool, not a backdoor: its regulator commands reach only the module's own
//! regulator, a file holds at most [`MAX_HANDLES`](uapi::MAX_HANDLES) handles, and the in-kernel
//! loops (benchmarks, in-kernel consumers) call `cond_resched()` regularly. In-kernel work items
//! are waited for through completions that the kernel crate completes after the module's code has
//! returned (see [`Workers`]), so that closing a file and unloading the module never frees code a
//! worker runs.

use kernel::{
    alloc::kvec::PushError,
    device::Core,
    devres,
    gpio::consumer::{
        LineFlags,
        Lookup,
        LookupTable, //
    },
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    platform,
    prelude::*,
    sync::{
        Arc,
        Completion, //
    },
    workqueue,
};

mod bench;
mod chardev;
mod io;
mod kwork;
mod regulator;
mod uapi;

use chardev::ResmgrTest;
use regulator::{
    SimRegulatorDriver,
    SIM_REGULATOR, //
};

/// The label of the Rust simulated chip the tests use (the default chip of `gpio_sim_rs`).
const RS_CHIP: &CStr = c"gpio_sim_rs.0";
/// The label the tests give the C gpio-sim bank they create.
const C_CHIP: &CStr = c"resmgr-test-csim";
/// Lines of each simulated chip in the test device's lookup table.
pub(crate) const TABLE_LINES: usize = 8;
/// Entries of the test device's lookup table.
const GPIO_LOOKUPS: usize = 2 * TABLE_LINES + 2;

/// The test device's lines, as a board file would describe them: `rs` and `c` are lines 0 to 7 of
/// the Rust and the C simulated chip, `rs-low` and `c-low` line 6 of each, active low.
const fn gpio_lookups() -> [Lookup; GPIO_LOOKUPS] {
    let mut table = [Lookup::line(RS_CHIP, 0, c"rs", 0, LineFlags::ACTIVE_HIGH); GPIO_LOOKUPS];
    let mut i = 0;
    while i < TABLE_LINES {
        table[i] = Lookup::line(RS_CHIP, i as u16, c"rs", i as u32, LineFlags::ACTIVE_HIGH);
        table[TABLE_LINES + i] =
            Lookup::line(C_CHIP, i as u16, c"c", i as u32, LineFlags::ACTIVE_HIGH);
        i += 1;
    }
    table[2 * TABLE_LINES] = Lookup::line(RS_CHIP, 6, c"rs-low", 0, LineFlags::ACTIVE_LOW);
    table[2 * TABLE_LINES + 1] = Lookup::line(C_CHIP, 6, c"c-low", 0, LineFlags::ACTIVE_LOW);
    table
}

/// Work items of the module on the system unbound workqueue, and their completions.
///
/// The kernel crate completes a work item's completion after the item's closure has returned and
/// dropped what it captured ([`workqueue::Queue::try_spawn_with_completion`]): once
/// [`Workers::wait`] has returned, no code of this module runs for them any more, so the module
/// may be unloaded as soon as the waiter lets go of it (a file's release returns, for example).
/// A worker that completed a completion of its own would still be running the module's code
/// (its return path, its drops) when the waiter, and then `rmmod`, went on.
///
/// Dropping a `Workers` waits for its work items.
pub(crate) struct Workers(KVec<Arc<Completion>>);

impl Workers {
    /// No work item yet, with room for `count`.
    pub(crate) fn with_capacity(count: usize) -> Result<Self> {
        Ok(Self(KVec::with_capacity(count, GFP_KERNEL)?))
    }

    /// Spawns `func` as a work item.
    pub(crate) fn spawn(&mut self, func: impl FnOnce() + Send + 'static) -> Result {
        // Room first: the completion of a queued work item must never be lost.
        self.0.reserve(1, GFP_KERNEL)?;
        let done = workqueue::system_unbound().try_spawn_with_completion(GFP_KERNEL, func)?;
        if let Err(PushError(done)) = self.0.push_within_capacity(done) {
            // Not reached (there is room); if it were, wait here rather than lose the work item.
            done.wait_for_completion();
        }
        Ok(())
    }

    /// Waits until every work item has finished.
    pub(crate) fn wait(&self) {
        for done in &self.0 {
            done.wait_for_completion();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.wait();
    }
}

/// The platform driver: registers `/dev/resmgr-test` for the bound device.
///
/// Also registers the two devices of [`io`] for `make bench`.
struct ResmgrTestDriver;

impl platform::Driver for ResmgrTestDriver {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        // The test device and its bench companion (not `chardev`, this crate's module).
        kernel::resmgr::chardev::register(dev, c"resmgr-test", ResmgrTest::new(dev))?;
        kernel::resmgr::chardev::register(dev, c"resmgr-test-io", Ok::<_, Error>(io::RevocableIo))?;
        devres::register(
            dev,
            MiscDeviceRegistration::<io::PlainIo>::register(MiscDeviceOptions {
                name: c"resmgr-test-io-plain",
            }),
            GFP_KERNEL,
        )?;
        Ok(ResmgrTestDriver)
    }
}

#[pin_data]
struct ResmgrTestModule {
    // Dropped first: the C consumer lets go of the regulator (and gives back its enable).
    _virt_consumer: platform::DeviceRegistration,
    // Dropped first: unregistering the driver unbinds (and so revokes) the device.
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<ResmgrTestDriver>>,
    #[pin]
    _regulator_driver: kernel::driver::Registration<platform::Adapter<SimRegulatorDriver>>,
    _device: platform::DeviceRegistration,
    _regulator_device: platform::DeviceRegistration,
    #[pin]
    _gpio_lookup: LookupTable<GPIO_LOOKUPS>,
}

impl kernel::InPlaceModule for ResmgrTestModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"resmgr_test", module),
            _regulator_driver <-
                kernel::driver::Registration::new(c"resmgr_test_regulator", module),
            _device: platform::DeviceRegistration::new(c"resmgr_test", None)?,
            _regulator_device: platform::DeviceRegistration::new(c"resmgr_test_regulator", None)?,
            _gpio_lookup <- LookupTable::new(c"resmgr_test", gpio_lookups()),
            // After the regulator, which its probe gets (`reg-virt-consumer` binds at once if
            // CONFIG_REGULATOR_VIRTUAL_CONSUMER is built in, or when its module is loaded).
            _virt_consumer: platform::DeviceRegistration::new_with_data(
                c"reg-virt-consumer",
                None,
                SIM_REGULATOR.to_bytes_with_nul(),
            )?,
        })
    }
}

module! {
    type: ResmgrTestModule,
    name: "resmgr_test",
    authors: ["resmgr developers"],
    description: "Test character device of the Rust resource manager",
    license: "GPL",
}
