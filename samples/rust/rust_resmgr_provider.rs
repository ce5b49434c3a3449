// SPDX-License-Identifier: GPL-2.0

//! Rust resource manager sample: a provider.
//!
//! A platform driver (bound to a device the module creates) that provides one resource of each
//! kind the resource manager covers:
//!
//! - a four-line GPIO chip labelled `rust-resmgr-sample`, whose lines 0 and 2 read high and 1 and
//!   3 low ([`kernel::gpio::driver`]);
//! - a 3.3 V regulator, `rust-resmgr-sample-vdd`, which the board (here: this module) maps as the
//!   `vdd` supply of the device `rust_resmgr_consumer` ([`kernel::resmgr::regulator`]);
//! - a character device, `/dev/rust-resmgr-sample`, that reads `hello`
//!   ([`kernel::resmgr::chardev`]).
//!
//! Consumers use the first two through gpiolib and the regulator core, as for any provider, and
//! userspace the third through its file. Unbinding the device (`echo rust_resmgr_provider >
//! /sys/bus/platform/drivers/rust_resmgr_provider/unbind`) is safe while consumers hold them (see
//! `rust_resmgr_consumer`), and while a process keeps the character device open: from then on they
//! get `ENODEV`.

use kernel::{
    device::{
        Bound,
        Core,
        Device, //
    },
    fs::File,
    gpio::driver::{
        self as gpio,
        Direction,
        GpioChipOps, //
    },
    iov::IovIterDest,
    platform,
    prelude::*,
    resmgr::{
        chardev::{
            self,
            Access,
            ChardevOps, //
        },
        regulator::{
            self,
            ConsumerSupply,
            RegulatorOps,
            Voltages, //
        },
    },
    str::CString,
    sync::{
        new_mutex,
        Mutex, //
    },
};

/// The chip's data: it lives behind the chip's provider shell.
struct SampleChip;

#[vtable]
impl GpioChipOps for SampleChip {
    fn get(&self, _dev: &Device<Bound>, offset: u32) -> Result<bool> {
        Ok(offset % 2 == 0)
    }

    fn set(&self, _dev: &Device<Bound>, _offset: u32, _value: bool) -> Result {
        Err(EPERM)
    }

    fn get_direction(&self, _dev: &Device<Bound>, _offset: u32) -> Result<Direction> {
        Ok(Direction::Input)
    }

    fn direction_input(&self, _dev: &Device<Bound>, _offset: u32) -> Result {
        Ok(())
    }

    fn direction_output(&self, _dev: &Device<Bound>, _offset: u32, _value: bool) -> Result {
        Err(EPERM)
    }
}

/// The regulator's data: whether the output is on.
#[pin_data]
struct SampleSupply {
    #[pin]
    on: Mutex<bool>,
}

impl RegulatorOps for SampleSupply {
    fn enable(&self, dev: &Device<Bound>) -> Result {
        dev_info!(dev, "vdd on\n");
        *self.on.lock() = true;
        Ok(())
    }

    fn disable(&self, dev: &Device<Bound>) -> Result {
        dev_info!(dev, "vdd off\n");
        *self.on.lock() = false;
        Ok(())
    }

    fn is_enabled(&self, _dev: &Device<Bound>) -> Result<bool> {
        Ok(*self.on.lock())
    }

    fn get_voltage(&self, _dev: &Device<Bound>) -> Result<i32> {
        Ok(VDD.min_uv)
    }

    fn set_voltage(&self, _dev: &Device<Bound>, _microvolts: i32) -> Result {
        // Only one voltage is offered: the core asks for no other.
        Ok(())
    }
}

/// A fixed 3.3 V output.
const VDD: Voltages = Voltages {
    min_uv: 3_300_000,
    step_uv: 1,
    count: 1,
};

/// The character device's data.
struct SampleFile;

#[vtable]
impl ChardevOps for SampleFile {
    type File = ();

    fn open(&self, _file: &File) -> Result {
        Ok(())
    }

    fn read(
        _this: Access<'_, Self>,
        _file: &(),
        buf: &mut IovIterDest<'_>,
        pos: &mut i64,
    ) -> Result<usize> {
        buf.simple_read_from_buffer(pos, b"hello\n")
    }
}

struct SampleProvider;

impl platform::Driver for SampleProvider {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        // Each is registered for the bound device: devres revokes and removes it on unbind.
        gpio::register(dev, c"rust-resmgr-sample", 4, Ok::<_, Error>(SampleChip))?;

        // The board's wiring: this regulator is the `vdd` supply of the consumer sample's device.
        let mut supplies = KVec::new();
        supplies.push(
            ConsumerSupply {
                dev_name: CString::try_from(c"rust_resmgr_consumer")?,
                supply: CString::try_from(c"vdd")?,
            },
            GFP_KERNEL,
        )?;
        regulator::register_with(
            dev,
            c"rust-resmgr-sample-vdd",
            VDD,
            supplies,
            try_pin_init!(SampleSupply {
                on <- new_mutex!(false),
            }? Error),
        )?;

        chardev::register(dev, c"rust-resmgr-sample", Ok::<_, Error>(SampleFile))?;
        dev_info!(
            dev,
            "providing a GPIO chip, a regulator and a character device\n"
        );
        Ok(SampleProvider)
    }
}

#[pin_data]
struct SampleModule {
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<SampleProvider>>,
    _device: platform::DeviceRegistration,
}

impl kernel::InPlaceModule for SampleModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"rust_resmgr_provider", module),
            _device: platform::DeviceRegistration::new(c"rust_resmgr_provider", None)?,
        })
    }
}

module! {
    type: SampleModule,
    name: "rust_resmgr_provider",
    authors: ["resmgr developers"],
    description: "Rust resource manager sample: a provider",
    license: "GPL",
}
