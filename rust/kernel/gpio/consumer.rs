// SPDX-License-Identifier: GPL-2.0

//! GPIO consumers.
//!
//! A driver gets the lines it uses from gpiolib by its device and a connection id (the name the
//! line has from the device's point of view: `"reset"` for `reset-gpios` in a device tree or a
//! software node, or the `con_id` of a machine lookup table), and gets a [`Desc`]. Every call on
//! it goes through gpiolib, which owns the line for the consumer (nobody else can request it,
//! userspace included), applies its active-low and open-drain settings, and protects the chip
//! with its own SRCU: once the chip is removed, the calls answer `ENODEV` until the [`Desc`] is
//! dropped, which gives the line back.
//!
//! Devices without firmware describe their lines with a [`LookupTable`].
//!
//! C header: [`include/linux/gpio/consumer.h`](srctree/include/linux/gpio/consumer.h)

use crate::{
    bindings,
    device::Device,
    error::{
        from_err_ptr,
        to_result, //
    },
    prelude::*,
    str::as_char_ptr_in_const_context,
    types::Opaque,
};
use core::{
    ops::BitOr,
    ptr::{
        self,
        NonNull, //
    },
};

/// How a line is set up when it is requested (`enum gpiod_flags`).
///
/// Output values are logical: with an active-low line, [`Flags::OutHigh`] drives it low.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flags {
    /// Leave the direction and value as they are.
    AsIs,
    /// Make the line an input.
    In,
    /// Make the line an output, inactive.
    OutLow,
    /// Make the line an output, active.
    OutHigh,
    /// Make the line an open-drain output, inactive.
    OutLowOpenDrain,
    /// Make the line an open-drain output, active.
    OutHighOpenDrain,
}

impl Flags {
    fn as_raw(self) -> bindings::gpiod_flags {
        match self {
            Flags::AsIs => bindings::gpiod_flags_GPIOD_ASIS,
            Flags::In => bindings::gpiod_flags_GPIOD_IN,
            Flags::OutLow => bindings::gpiod_flags_GPIOD_OUT_LOW,
            Flags::OutHigh => bindings::gpiod_flags_GPIOD_OUT_HIGH,
            Flags::OutLowOpenDrain => bindings::gpiod_flags_GPIOD_OUT_LOW_OPEN_DRAIN,
            Flags::OutHighOpenDrain => bindings::gpiod_flags_GPIOD_OUT_HIGH_OPEN_DRAIN,
        }
    }
}

/// The direction of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The line is an input.
    Input,
    /// The line is an output.
    Output,
}

/// A GPIO line requested from gpiolib (`struct gpio_desc`).
///
/// The line is the consumer's until the `Desc` is dropped: gpiolib refuses it to every other
/// consumer, in the kernel or in userspace, with `EBUSY`, and reports it as used under the
/// connection id (or the device's name) in the line's information (`gpioinfo`).
///
/// The calls whose names end in `_cansleep` may sleep and work on every line; the others are for
/// atomic context and answer `EAGAIN` for a line whose chip can sleep ([`Desc::can_sleep`]).
/// Getting and dropping a `Desc` may sleep.
///
/// # Invariants
///
/// `desc` was returned by a successful `gpiod_get_index()` (or one of its variants) and is put
/// exactly once, when the `Desc` is dropped.
///
/// # Examples
///
/// A driver that pulses its device's reset line:
///
/// ```
/// use kernel::{
///     device::Device,
///     gpio::consumer::{
///         Desc,
///         Flags, //
///     },
///     prelude::*,
///     time::{
///         delay::fsleep,
///         Delta, //
///     },
/// };
///
/// fn reset(dev: &Device) -> Result {
///     // Asserted from the start: `reset-gpios` is usually active low, gpiolib inverts it.
///     let reset = Desc::get(dev, Some(c"reset"), Flags::OutHigh)?;
///     fsleep(Delta::from_micros(100));
///     reset.set_value_cansleep(false)
/// }
/// ```
pub struct Desc {
    desc: NonNull<bindings::gpio_desc>,
}

// SAFETY: gpiolib's consumer functions may be called on a descriptor from any thread, and
// `gpiod_put()` from a thread other than the one that got it.
unsafe impl Send for Desc {}
// SAFETY: The functions `&Desc` reaches may be called concurrently on a descriptor, as from C:
// gpiolib serialises what needs it (the chip's own lock, its SRCU, atomic flag bits). The one
// that is not safe to race, `gpiod_set_consumer_name()`, takes `&mut Desc`.
unsafe impl Sync for Desc {}

impl Desc {
    /// Gets the line `con_id` of `dev` (the first one if `con_id` names several).
    ///
    /// Errors are gpiolib's: `ENOENT` if `dev` has no such line, `EBUSY` if someone else holds
    /// it, `EPROBE_DEFER` if its chip is not registered (yet).
    pub fn get(dev: &Device, con_id: Option<&CStr>, flags: Flags) -> Result<Self> {
        Self::get_index(dev, con_id, 0, flags)
    }

    /// Gets line `index` of the lines `con_id` of `dev`, like [`Desc::get`].
    pub fn get_index(
        dev: &Device,
        con_id: Option<&CStr>,
        index: u32,
        flags: Flags,
    ) -> Result<Self> {
        let con_id = con_id.map_or(ptr::null(), |c| c.as_char_ptr());
        // SAFETY: `dev` is a valid device and `con_id` is null or a valid C string; gpiolib keeps
        // neither pointer.
        let desc = from_err_ptr(unsafe {
            bindings::gpiod_get_index(dev.as_raw(), con_id, index, flags.as_raw())
        })?;
        // INVARIANT: gpiolib returned a descriptor (it never returns null from this function).
        NonNull::new(desc).map(|desc| Self { desc }).ok_or(ENOENT)
    }

    /// Gets the line `con_id` of `dev` if `dev` has one: `Ok(None)` where [`Desc::get`] would
    /// answer `ENOENT`.
    pub fn get_optional(dev: &Device, con_id: Option<&CStr>, flags: Flags) -> Result<Option<Self>> {
        match Self::get(dev, con_id, flags) {
            Err(e) if e == ENOENT => Ok(None),
            other => other.map(Some),
        }
    }

    pub(crate) fn as_raw(&self) -> *mut bindings::gpio_desc {
        self.desc.as_ptr()
    }

    /// Turns the return value of a gpiolib value function into a logical value.
    fn value_of(ret: i32) -> Result<bool> {
        to_result(ret).map(|()| ret != 0)
    }

    fn atomic(&self) -> Result {
        if self.can_sleep() {
            Err(EAGAIN)
        } else {
            Ok(())
        }
    }

    /// Returns whether reading or driving the line may sleep.
    pub fn can_sleep(&self) -> bool {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        unsafe { bindings::gpiod_cansleep(self.as_raw()) != 0 }
    }

    /// Reads the line's logical value, in any context.
    ///
    /// Returns `EAGAIN` if the line's chip can sleep.
    pub fn value(&self) -> Result<bool> {
        self.atomic()?;
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        Self::value_of(unsafe { bindings::gpiod_get_value(self.as_raw()) })
    }

    /// Drives the line (an output) to the logical `value`, in any context.
    ///
    /// Returns `EAGAIN` if the line's chip can sleep.
    pub fn set_value(&self, value: bool) -> Result {
        self.atomic()?;
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        to_result(unsafe { bindings::gpiod_set_value(self.as_raw(), value.into()) })
    }

    /// Reads the line's logical value; may sleep.
    pub fn value_cansleep(&self) -> Result<bool> {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        Self::value_of(unsafe { bindings::gpiod_get_value_cansleep(self.as_raw()) })
    }

    /// Drives the line (an output) to the logical `value`; may sleep.
    pub fn set_value_cansleep(&self, value: bool) -> Result {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        to_result(unsafe { bindings::gpiod_set_value_cansleep(self.as_raw(), value.into()) })
    }

    /// Returns the line's direction; may sleep.
    pub fn direction(&self) -> Result<Direction> {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        let ret = unsafe { bindings::gpiod_get_direction(self.as_raw()) };
        to_result(ret)?;
        Ok(if ret as u32 == bindings::GPIO_LINE_DIRECTION_OUT {
            Direction::Output
        } else {
            Direction::Input
        })
    }

    /// Makes the line an input; may sleep.
    pub fn direction_input(&self) -> Result {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        to_result(unsafe { bindings::gpiod_direction_input(self.as_raw()) })
    }

    /// Makes the line an output driving the logical `value`; may sleep.
    pub fn direction_output(&self, value: bool) -> Result {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        to_result(unsafe { bindings::gpiod_direction_output(self.as_raw(), value.into()) })
    }

    /// Returns whether the line is active low (its logical value is the inverse of its level).
    pub fn is_active_low(&self) -> bool {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        unsafe { bindings::gpiod_is_active_low(self.as_raw()) != 0 }
    }

    /// Returns the interrupt number of the line.
    ///
    /// `ENXIO` if the line's chip has no interrupts.
    pub fn to_irq(&self) -> Result<u32> {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants).
        let irq = unsafe { bindings::gpiod_to_irq(self.as_raw()) };
        to_result(irq)?;
        u32::try_from(irq).ok().filter(|&irq| irq > 0).ok_or(ENXIO)
    }

    /// Changes the name under which the line is reported as used.
    ///
    /// Takes `&mut self`: gpiolib replaces the old name without serialising concurrent callers.
    pub fn set_consumer_name(&mut self, name: &CStr) -> Result {
        // SAFETY: `self.desc` is a descriptor we hold (type invariants); gpiolib copies `name`.
        to_result(unsafe { bindings::gpiod_set_consumer_name(self.as_raw(), name.as_char_ptr()) })
    }
}

impl Drop for Desc {
    fn drop(&mut self) {
        // SAFETY: `self.desc` is a descriptor we hold and put only here (type invariants).
        unsafe { bindings::gpiod_put(self.as_raw()) };
    }
}

/// Settings of a line in a [`Lookup`] (`enum gpio_lookup_flags`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LineFlags(usize);

impl LineFlags {
    /// Active high, push-pull, no bias (the default).
    pub const ACTIVE_HIGH: Self = Self(bindings::gpio_lookup_flags_GPIO_ACTIVE_HIGH as usize);
    /// Active low: the line's logical value is the inverse of its level.
    pub const ACTIVE_LOW: Self = Self(bindings::gpio_lookup_flags_GPIO_ACTIVE_LOW as usize);
    /// Open drain.
    pub const OPEN_DRAIN: Self = Self(bindings::gpio_lookup_flags_GPIO_OPEN_DRAIN as usize);
    /// Open source.
    pub const OPEN_SOURCE: Self = Self(bindings::gpio_lookup_flags_GPIO_OPEN_SOURCE as usize);
    /// Pull-up bias.
    pub const PULL_UP: Self = Self(bindings::gpio_lookup_flags_GPIO_PULL_UP as usize);
    /// Pull-down bias.
    pub const PULL_DOWN: Self = Self(bindings::gpio_lookup_flags_GPIO_PULL_DOWN as usize);
}

impl BitOr for LineFlags {
    type Output = Self;

    fn bitor(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }
}

/// One entry of a [`LookupTable`]: which line a connection id and index of the device name.
#[derive(Clone, Copy)]
pub struct Lookup(bindings::gpiod_lookup);

impl Lookup {
    /// Line `offset` of the chip labelled `chip` is line `index` of `con_id`.
    ///
    /// `offset` must be below `u16::MAX`, which gpiolib reads as "look the line up by name" (see
    /// [`Lookup::named`]); a table built in a constant fails to compile otherwise.
    pub const fn line(
        chip: &'static CStr,
        offset: u16,
        con_id: &'static CStr,
        index: u32,
        flags: LineFlags,
    ) -> Self {
        assert!(
            offset < u16::MAX,
            "a line offset of u16::MAX means a lookup by name"
        );
        Self(bindings::gpiod_lookup {
            key: as_char_ptr_in_const_context(chip),
            chip_hwnum: offset,
            con_id: as_char_ptr_in_const_context(con_id),
            idx: index,
            flags: flags.0,
        })
    }

    /// The line named `name`, on any chip, is line `index` of `con_id`.
    pub const fn named(
        name: &'static CStr,
        con_id: &'static CStr,
        index: u32,
        flags: LineFlags,
    ) -> Self {
        Self(bindings::gpiod_lookup {
            key: as_char_ptr_in_const_context(name),
            chip_hwnum: u16::MAX,
            con_id: as_char_ptr_in_const_context(con_id),
            idx: index,
            flags: flags.0,
        })
    }
}

/// `struct gpiod_lookup_table` with room for `N` entries and the empty one that ends them.
#[repr(C)]
struct RawTable<const N: usize> {
    head: bindings::gpiod_lookup_table,
    entries: [bindings::gpiod_lookup; N],
    end: bindings::gpiod_lookup,
}

// The entries start where the C header's flexible array `table[]` does.
const _: () = assert!(
    core::mem::offset_of!(RawTable<1>, entries)
        == core::mem::offset_of!(bindings::gpiod_lookup_table, table)
);

/// A machine lookup table: the lines of one device, for a device that no firmware describes.
///
/// gpiolib consults it when the device named `dev_id` asks for a line, from its registration
/// until it is dropped. The strings it points to are `'static`.
///
/// # Invariants
///
/// `table` is registered with gpiolib (`gpiod_add_lookup_table()`) until the table is dropped,
/// and its pointers refer to `'static` C strings.
///
/// # Examples
///
/// ```
/// use kernel::{
///     gpio::consumer::{
///         LineFlags,
///         Lookup,
///         LookupTable, //
///     },
///     prelude::*,
/// };
///
/// // The device `my-board-codec` finds its `reset` line at offset 3 of the chip `gpio-expander`.
/// let table = KBox::pin_init(
///     LookupTable::new(
///         c"my-board-codec",
///         [Lookup::line(c"gpio-expander", 3, c"reset", 0, LineFlags::ACTIVE_LOW)],
///     ),
///     GFP_KERNEL,
/// )?;
/// drop(table);
/// # Ok::<(), Error>(())
/// ```
#[pin_data(PinnedDrop)]
pub struct LookupTable<const N: usize> {
    #[pin]
    table: Opaque<RawTable<N>>,
}

// SAFETY: The table only holds pointers to `'static` strings and gpiolib's list links, which
// gpiolib changes under its own lock.
unsafe impl<const N: usize> Send for LookupTable<N> {}
// SAFETY: See above; `&LookupTable` gives no access to the table.
unsafe impl<const N: usize> Sync for LookupTable<N> {}

impl<const N: usize> LookupTable<N> {
    /// Registers `entries` as the lines of the device named `dev_id`.
    pub fn new(dev_id: &'static CStr, entries: [Lookup; N]) -> impl PinInit<Self> {
        pin_init!(Self {
            table <- Opaque::ffi_init(move |slot: *mut RawTable<N>| {
                // SAFETY: `slot` is valid for writes; all-zero bytes are a valid `RawTable` (null
                // pointers, empty entries).
                unsafe { ptr::write_bytes(slot, 0, 1) };
                // SAFETY: `slot` was initialised above; nothing else refers to it yet.
                unsafe {
                    (*slot).head.dev_id = dev_id.as_char_ptr();
                    for (entry, lookup) in (*slot).entries.iter_mut().zip(entries) {
                        *entry = lookup.0;
                    }
                }
                // INVARIANT: Registered here, removed in `drop`.
                // The table is pinned, its strings are `'static`, `entries` starts where the
                // header's flexible array does and the zeroed `end` terminates it.
                // SAFETY: Valid until removed in `drop`; gpiolib links it under its own lock.
                unsafe { bindings::gpiod_add_lookup_table(ptr::addr_of_mut!((*slot).head)) };
            }),
        })
    }
}

#[pinned_drop]
impl<const N: usize> PinnedDrop for LookupTable<N> {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: The table is registered (type invariants) and is removed only here.
        unsafe { bindings::gpiod_remove_lookup_table(ptr::addr_of_mut!((*self.table.get()).head)) };
    }
}

/// A Rust GPIO chip's lines used through gpiolib's consumer API, across the chip's unbind.
#[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
#[kunit_tests(rust_gpio_consumer)]
mod tests {
    use super::super::driver;
    use super::{
        Desc,
        Direction,
        Flags,
        LineFlags,
        Lookup,
        LookupTable, //
    };
    use crate::{
        device::{
            Bound,
            Device, //
        },
        faux,
        new_mutex,
        prelude::*,
        sync::Mutex, //
    };

    /// A GPIO chip whose lines read back what was driven.
    #[pin_data]
    struct Latch {
        #[pin]
        bits: Mutex<u32>,
    }

    #[vtable]
    impl driver::GpioChipOps for Latch {
        fn get(&self, _dev: &Device<Bound>, offset: u32) -> Result<bool> {
            Ok(*self.bits.lock() & (1 << offset) != 0)
        }
        fn set(&self, _dev: &Device<Bound>, offset: u32, value: bool) -> Result {
            let mut bits = self.bits.lock();
            *bits = (*bits & !(1 << offset)) | (u32::from(value) << offset);
            Ok(())
        }
        fn get_direction(&self, _dev: &Device<Bound>, _offset: u32) -> Result<driver::Direction> {
            Ok(driver::Direction::Output)
        }
        fn direction_input(&self, _dev: &Device<Bound>, _offset: u32) -> Result {
            Err(EPERM)
        }
        fn direction_output(&self, dev: &Device<Bound>, offset: u32, value: bool) -> Result {
            // The callbacks get the chip's parent, bound.
            if dev.name() != c"rust-resmgr-kunit-gpio" {
                return Err(EINVAL);
            }
            self.set(dev, offset, value)
        }
    }

    #[test]
    fn gpio_consumer_through_gpiolib_across_unbind() -> Result {
        use super::super::driver as gpio;

        let reg = faux::Registration::new(c"rust-resmgr-kunit-gpio", None)?;
        let dev: &Device<Bound> = reg.as_ref().as_ref();
        // The faux device consumes lines of its own chips, as a board file would describe them.
        let _table = KBox::pin_init(
            LookupTable::new(
                c"rust-resmgr-kunit-gpio",
                [
                    Lookup::line(c"kunit-latch", 2, c"latch", 0, LineFlags::ACTIVE_HIGH),
                    Lookup::line(c"kunit-latch", 3, c"latch", 1, LineFlags::ACTIVE_LOW),
                    Lookup::named(c"kunit-led", c"led", 0, LineFlags::ACTIVE_HIGH),
                ],
            ),
            GFP_KERNEL,
        )?;
        assert_eq!(
            Desc::get(dev, Some(c"latch"), Flags::AsIs).err(),
            Some(EPROBE_DEFER)
        );
        gpio::register(
            dev,
            c"kunit-latch",
            4,
            try_pin_init!(Latch { bits <- new_mutex!(0) }? Error),
        )?;
        // A second chip with named lines; labels need not be unique.
        let mut config = gpio::ChipConfig::new(c"kunit-latch", 3)?;
        config.names.push(None, GFP_KERNEL)?;
        config.names.push(
            Some(crate::str::CString::try_from(c"kunit-led")?),
            GFP_KERNEL,
        )?;
        let name = gpio::register_with(
            dev,
            config,
            try_pin_init!(Latch { bits <- new_mutex!(0) }? Error),
        )?;
        assert!(name.to_bytes().starts_with(b"gpiochip"));

        let led = Desc::get(dev, Some(c"led"), Flags::OutHigh)?;
        assert!(led.value_cansleep()?);
        assert_eq!(
            Desc::get(dev, Some(c"nope"), Flags::AsIs).err(),
            Some(ENOENT)
        );
        assert!(Desc::get_optional(dev, Some(c"nope"), Flags::AsIs)?.is_none());

        let line = Desc::get(dev, Some(c"latch"), Flags::OutLow)?;
        // gpiolib owns the line for us: nobody else gets it.
        assert_eq!(
            Desc::get(dev, Some(c"latch"), Flags::AsIs).err(),
            Some(EBUSY)
        );
        assert_eq!(line.direction()?, Direction::Output);
        assert!(!line.value_cansleep()?);
        line.set_value_cansleep(true)?;
        assert!(line.value_cansleep()?);
        // Rust chips can sleep: the atomic calls refuse rather than warn.
        assert!(line.can_sleep());
        assert_eq!(line.value(), Err(EAGAIN));
        assert_eq!(line.set_value(false), Err(EAGAIN));
        assert_eq!(line.to_irq(), Err(ENXIO));
        let inverted = Desc::get_index(dev, Some(c"latch"), 1, Flags::OutHigh)?;
        assert!(inverted.is_active_low());
        assert!(!line.is_active_low());
        assert!(inverted.value_cansleep()?);

        let chip = gpio::provider_of(&line)?;
        assert!(chip.same_provider(&gpio::provider_of(&inverted)?));
        assert!(!chip.same_provider(&gpio::provider_of(&led)?));
        assert!(!chip.is_revoked());

        drop(reg); // Unbind: the chips are removed from gpiolib, then revoked.
        assert!(chip.is_revoked());
        assert_eq!(line.value_cansleep(), Err(ENODEV));
        assert_eq!(line.set_value_cansleep(true), Err(ENODEV));
        assert_eq!(line.direction_output(true), Err(ENODEV));
        assert_eq!(led.value_cansleep(), Err(ENODEV));
        assert_eq!(gpio::provider_of(&line).err(), Some(ENOENT));
        // Putting the lines of a removed chip is fine.
        drop(line);
        drop(inverted);
        drop(led);
        Ok(())
    }
}
