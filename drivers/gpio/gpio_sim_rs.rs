// SPDX-License-Identifier: GPL-2.0

//! A simulated GPIO chip in Rust, on the resource manager.
//!
//! The module creates `chips` platform devices named `gpio_sim_rs.N` and binds a driver to them
//! that registers a chip of `lines` lines each, labelled after the device. Outputs read back what
//! was driven; inputs read their simulated pull (set through the bias flags of a line request, for
//! example `gpioget --bias=pull-up`). Each device can be unbound and bound again through
//! `/sys/bus/platform/drivers/gpio_sim_rs/{unbind,bind}`: from the unbind on, every open line
//! request answers `ENODEV` (the chip's callbacks go through its provider shell), and a bind
//! creates a new chip.

use kernel::{
    device::Core,
    platform,
    prelude::*,
    resmgr::gpio::{
        self,
        Bias,
        Direction,
        GpioChipOps, //
    },
    sync::{
        new_mutex,
        Mutex, //
    },
};

/// The simulated state of one line.
#[derive(Clone, Copy)]
struct SimLine {
    direction: Direction,
    value: bool,
    bias: Bias,
}

impl SimLine {
    /// The level the line reads.
    fn level(&self) -> bool {
        match self.direction {
            Direction::Output => self.value,
            Direction::Input => self.bias == Bias::PullUp,
        }
    }
}

/// The simulated chip: the implementation behind the provider shell.
#[pin_data]
struct SimChip {
    #[pin]
    lines: Mutex<KVec<SimLine>>,
}

impl SimChip {
    fn new(count: u16) -> Result<impl PinInit<Self, Error>> {
        let mut lines = KVec::with_capacity(usize::from(count), GFP_KERNEL)?;
        for _ in 0..count {
            lines.push(
                SimLine {
                    direction: Direction::Input,
                    value: false,
                    bias: Bias::PullDown,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(try_pin_init!(Self {
            lines <- new_mutex!(lines),
        }? Error))
    }

    fn with_line<R>(&self, offset: u32, f: impl FnOnce(&mut SimLine) -> R) -> Result<R> {
        let mut lines = self.lines.lock();
        let line = lines.get_mut(offset as usize).ok_or(EINVAL)?;
        Ok(f(line))
    }
}

#[vtable]
impl GpioChipOps for SimChip {
    fn get(&self, offset: u32) -> Result<bool> {
        self.with_line(offset, |l| l.level())
    }

    fn set(&self, offset: u32, value: bool) -> Result {
        self.with_line(offset, |l| l.value = value)
    }

    fn get_direction(&self, offset: u32) -> Result<Direction> {
        self.with_line(offset, |l| l.direction)
    }

    fn direction_input(&self, offset: u32) -> Result {
        self.with_line(offset, |l| l.direction = Direction::Input)
    }

    fn direction_output(&self, offset: u32, value: bool) -> Result {
        self.with_line(offset, |l| {
            l.direction = Direction::Output;
            l.value = value;
        })
    }

    fn set_bias(&self, offset: u32, bias: Bias) -> Result {
        self.with_line(offset, |l| l.bias = bias)
    }
}

/// The platform driver: registers one simulated chip per bound device.
struct GpioSimRs;

impl platform::Driver for GpioSimRs {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        let count = u16::try_from(module_parameters::lines.value()).map_err(|_| EINVAL)?;
        gpio::register(dev, dev.name(), count, SimChip::new(count)?)?;
        dev_dbg!(dev, "simulated GPIO chip with {} lines\n", count);
        Ok(GpioSimRs)
    }
}

#[pin_data]
struct GpioSimRsModule {
    // Dropped first: unregistering the driver unbinds (and so revokes) every chip.
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<GpioSimRs>>,
    _devices: KVec<platform::DeviceRegistration>,
}

impl kernel::InPlaceModule for GpioSimRsModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"gpio_sim_rs", module),
            _devices: {
                let mut devices = KVec::new();
                for id in 0..module_parameters::chips.value() {
                    devices.push(
                        platform::DeviceRegistration::new(c"gpio_sim_rs", Some(id))?,
                        GFP_KERNEL,
                    )?;
                }
                devices
            },
        })
    }
}

module! {
    type: GpioSimRsModule,
    name: "gpio_sim_rs",
    authors: ["resmgr developers"],
    description: "Simulated GPIO chips in Rust, safe across unbind",
    license: "GPL",
    params: {
        chips: u32 {
            default: 1,
            description: "Number of simulated chips (platform devices gpio_sim_rs.N)",
        },
        lines: u32 {
            default: 8,
            description: "Number of lines per chip",
        },
    },
}
