// SPDX-License-Identifier: GPL-2.0

//! Rust resource manager sample: a consumer.
//!
//! A platform driver, bound to a device the module creates, that gets its resources by device and
//! connection id, as any driver does: its `led` line from gpiolib and its `vdd` supply from the
//! regulator core. The module's lookup table says that `led` is line 0 of the GPIO chip
//! `rust-resmgr-sample`, and `rust_resmgr_provider` maps its regulator as the `vdd` supply of this
//! device; on a real board, firmware would say both. The driver reads the line, switches the
//! supply on, and asks the line's Rust chip to tell it when its provider goes away. It keeps both
//! as long as it is bound, however long the provider stays: reading the line again when the
//! module is unloaded gives the value, or `ENODEV` if the provider was unbound meanwhile, and the
//! supply is given back either way.

use kernel::{
    device::Core,
    gpio::{
        consumer::{
            Desc,
            Flags,
            LineFlags,
            Lookup,
            LookupTable, //
        },
        driver::{
            self as gpio,
            GpioChip, //
        },
    },
    platform,
    prelude::*,
    regulator::{
        Enabled,
        Regulator, //
    },
    resmgr::{
        Notice,
        RevokeNotify, //
    },
    sync::Arc,
};

/// Logs the provider's revocation (runs once, in the unbinding thread).
struct Told;

impl RevokeNotify for Told {
    fn revoked(&self) {
        pr_info!("provider revoked: the led line is gone\n");
    }
}

/// The bound driver: its line, its supply (switched on), and the notice of its chip's revocation.
struct SampleConsumer {
    led: Desc,
    _vdd: Regulator<Enabled>,
    _notice: Notice<GpioChip>,
}

impl platform::Driver for SampleConsumer {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let led = Desc::get(pdev.as_ref(), Some(c"led"), Flags::AsIs).inspect_err(|e| {
            dev_err!(
                pdev.as_ref(),
                "no led line (is rust_resmgr_provider loaded?): {}\n",
                e.to_errno()
            );
        })?;
        pr_info!("line 0 reads {}\n", u8::from(led.value_cansleep()?));
        let vdd = Regulator::<Enabled>::get(pdev.as_ref(), c"vdd")?;
        pr_info!("vdd is on at {} uV\n", vdd.get_voltage()?.as_microvolts());
        let notice = gpio::provider_of(&led)?.notify_on_revoke(Arc::new(Told, GFP_KERNEL)?)?;
        Ok(Self {
            led,
            _vdd: vdd,
            _notice: notice,
        })
    }
}

impl Drop for SampleConsumer {
    fn drop(&mut self) {
        match self.led.value_cansleep() {
            Ok(value) => pr_info!("line 0 still reads {}\n", u8::from(value)),
            Err(e) if e == ENODEV => pr_info!("line 0 answers ENODEV now\n"),
            Err(e) => pr_info!("line 0 answers error {}\n", e.to_errno()),
        }
    }
}

#[pin_data]
struct SampleModule {
    // Dropped first: unregistering the driver unbinds the device and gives the line back.
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<SampleConsumer>>,
    _device: platform::DeviceRegistration,
    #[pin]
    _lookup: LookupTable<1>,
}

impl kernel::InPlaceModule for SampleModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            // The board's description of the device, before the device itself.
            _lookup <- LookupTable::new(
                c"rust_resmgr_consumer",
                [Lookup::line(c"rust-resmgr-sample", 0, c"led", 0, LineFlags::ACTIVE_HIGH)],
            ),
            _device: platform::DeviceRegistration::new(c"rust_resmgr_consumer", None)?,
            _driver <- kernel::driver::Registration::new(c"rust_resmgr_consumer", module),
        })
    }
}

module! {
    type: SampleModule,
    name: "rust_resmgr_consumer",
    authors: ["resmgr developers"],
    description: "Rust resource manager sample: a consumer",
    license: "GPL",
}
