// SPDX-License-Identifier: GPL-2.0

//! Rust resource manager sample: a provider.
//!
//! The smallest complete provider: a platform driver (bound to a device the module creates) that
//! provides a four-line GPIO chip, labelled `rust-resmgr-sample`, through `kernel::resmgr`. Lines
//! 0 and 2 read high, lines 1 and 3 low. Everything the chip does runs inside its provider shell,
//! so unbinding the device (`echo rust_resmgr_provider >
//! /sys/bus/platform/drivers/rust_resmgr_provider/unbind`) or unloading the module is safe while
//! consumers, such as `rust_resmgr_consumer`, hold handles to its lines: they get `ENODEV`.

use kernel::{
    device::Core,
    platform,
    prelude::*,
    resmgr::gpio::{
        self,
        Direction,
        GpioChipOps, //
    },
};

/// The chip's implementation: it lives behind the provider shell.
struct SampleChip;

#[vtable]
impl GpioChipOps for SampleChip {
    fn get(&self, offset: u32) -> Result<bool> {
        Ok(offset % 2 == 0)
    }

    fn set(&self, _offset: u32, _value: bool) -> Result {
        Err(EPERM)
    }

    fn get_direction(&self, _offset: u32) -> Result<Direction> {
        Ok(Direction::Input)
    }

    fn direction_input(&self, _offset: u32) -> Result {
        Ok(())
    }

    fn direction_output(&self, _offset: u32, _value: bool) -> Result {
        Err(EPERM)
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
        // Registered for the bound device: devres revokes and removes it on unbind.
        gpio::register(
            pdev.as_ref(),
            c"rust-resmgr-sample",
            4,
            Ok::<_, Error>(SampleChip),
        )?;
        dev_info!(pdev.as_ref(), "providing GPIO chip rust-resmgr-sample\n");
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
