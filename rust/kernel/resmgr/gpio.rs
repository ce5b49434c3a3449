// SPDX-License-Identifier: GPL-2.0

//! GPIO chip providers on the resource manager.
//!
//! A driver implements [`GpioChipOps`] and calls [`register`] in probe. The chip is added to
//! gpiolib with one C operations table shared by every Rust chip; each callback enters the chip's
//! provider shell, so a callback that races the driver's unbind gets `ENODEV` instead of reaching
//! freed driver data. On unbind the shell is revoked first (the fence), then the chip is removed
//! from gpiolib.
//!
//! In-kernel consumers look lines up by chip label and offset with [`Line::lookup`]; a [`Line`]
//! answers `ENODEV` once its chip's driver is unbound, and keeps doing so after a rebind (look the
//! line up again to reach the new chip).
//!
//! C header: [`include/linux/gpio/driver.h`](srctree/include/linux/gpio/driver.h)

use super::{
    Handle,
    Notice,
    Provider,
    RevokeNotify, //
};
use crate::{
    bindings, container_of,
    device::{
        Bound,
        Device, //
    },
    devres,
    error::{
        from_result,
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    prelude::*,
    str::CString,
    sync::Arc,
    types::Opaque,
};
use core::ptr;

/// The direction of a GPIO line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The line is an input.
    Input,
    /// The line is an output.
    Output,
}

/// Bias requested for a line through `set_config`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bias {
    /// No pull.
    Disable,
    /// Pull up.
    PullUp,
    /// Pull down.
    PullDown,
}

/// Operations of a GPIO chip.
///
/// Every method is called through the chip's provider shell: `self` is valid for the duration of
/// the call, the call may sleep briefly (the chip is registered with `can_sleep`), and it never
/// runs once the chip's driver has been unbound. Offsets are below the chip's line count.
#[vtable]
pub trait GpioChipOps: Send + Sync + 'static {
    /// Returns the value of line `offset`.
    fn get(&self, offset: u32) -> Result<bool>;

    /// Drives line `offset` to `value`.
    fn set(&self, offset: u32, value: bool) -> Result;

    /// Returns the direction of line `offset`.
    fn get_direction(&self, offset: u32) -> Result<Direction>;

    /// Makes line `offset` an input.
    fn direction_input(&self, offset: u32) -> Result;

    /// Makes line `offset` an output driving `value`.
    fn direction_output(&self, offset: u32, value: bool) -> Result;

    /// Sets the bias of line `offset`.
    fn set_bias(&self, _offset: u32, _bias: Bias) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The type-erased operations the shell protects: one implementation for every chip type.
trait ErasedOps: Send + Sync {
    fn get(&self, offset: u32) -> Result<bool>;
    fn set(&self, offset: u32, value: bool) -> Result;
    fn get_direction(&self, offset: u32) -> Result<Direction>;
    fn direction_input(&self, offset: u32) -> Result;
    fn direction_output(&self, offset: u32, value: bool) -> Result;
    fn set_bias(&self, offset: u32, bias: Bias) -> Result;
}

impl<T: GpioChipOps> ErasedOps for T {
    fn get(&self, offset: u32) -> Result<bool> {
        GpioChipOps::get(self, offset)
    }
    fn set(&self, offset: u32, value: bool) -> Result {
        GpioChipOps::set(self, offset, value)
    }
    fn get_direction(&self, offset: u32) -> Result<Direction> {
        GpioChipOps::get_direction(self, offset)
    }
    fn direction_input(&self, offset: u32) -> Result {
        GpioChipOps::direction_input(self, offset)
    }
    fn direction_output(&self, offset: u32, value: bool) -> Result {
        GpioChipOps::direction_output(self, offset, value)
    }
    fn set_bias(&self, offset: u32, bias: Bias) -> Result {
        if T::HAS_SET_BIAS {
            GpioChipOps::set_bias(self, offset, bias)
        } else {
            Err(ENOTSUPP)
        }
    }
}

/// A GPIO chip as its provider shell holds it.
///
/// # Invariants
///
/// The driver's implementation behind `ops` is never moved (it was pinned when allocated).
pub struct GpioChip {
    ops: KBox<dyn ErasedOps>,
    ngpio: u16,
}

impl GpioChip {
    fn ops(&self) -> &dyn ErasedOps {
        &*self.ops
    }

    fn check(&self, offset: u32) -> Result {
        if offset < u32::from(self.ngpio) {
            Ok(())
        } else {
            Err(EINVAL)
        }
    }
}

crate::define_resource_registry!(
    /// Every registered Rust GPIO chip, by label.
    GPIO_CHIPS: GpioChip
);

/// A registered chip: the `struct gpio_chip` and the provider behind it.
///
/// # Invariants
///
/// - Once initialised, `chip` is registered with gpiolib until the pinned destructor runs, and its
///   callbacks find this structure with `container_of!`.
/// - `label` outlives the registration (it is a field of the same pinned structure).
#[pin_data(PinnedDrop)]
struct Registration {
    provider: Provider<GpioChip>,
    label: CString,
    // Last: gpiolib calls back into the chip while it is being added, and the callbacks read the
    // fields above.
    #[pin]
    chip: Opaque<bindings::gpio_chip>,
}

// SAFETY: The registration is only shared with gpiolib, which may call back from any thread; the
// field reached from callbacks (`provider`) is `Sync`.
unsafe impl Send for Registration {}
// SAFETY: See above.
unsafe impl Sync for Registration {}

/// Registers a GPIO chip with `ngpio` lines, labelled `label`, for the bound device `dev`.
///
/// The chip is removed from gpiolib when `dev` is unbound, after its provider is revoked: from then
/// on every gpiolib callback and every [`Line`] call returns `ENODEV`. The chip is also listed
/// under `label` for [`Line::lookup`] (`EEXIST` if another Rust chip has that label).
pub fn register<T: GpioChipOps>(
    dev: &Device<Bound>,
    label: &CStr,
    ngpio: u16,
    ops: impl PinInit<T, Error>,
) -> Result {
    let ops: Pin<KBox<T>> = KBox::pin_init(ops, GFP_KERNEL)?;
    // SAFETY: The box is only unpinned to be unsized into a `KBox<dyn ErasedOps>`, which does not
    // move its contents; `GpioChip` never moves them out either (see its invariants).
    let ops: KBox<T> = unsafe { Pin::into_inner_unchecked(ops) };
    register_erased(dev, label, ngpio, ops)
}

fn register_erased(
    dev: &Device<Bound>,
    label: &CStr,
    ngpio: u16,
    ops: KBox<dyn ErasedOps>,
) -> Result {
    if ngpio == 0 {
        return Err(EINVAL);
    }
    // INVARIANT: `ops` comes pinned from `register`.
    let provider = Provider::new(GpioChip { ops, ngpio })?;
    provider.register(&GPIO_CHIPS, label)?;
    let label = CString::try_from(label)?;
    let parent = dev.as_raw();

    devres::register(
        dev,
        try_pin_init!(Registration {
            provider,
            label,
            chip <- Opaque::try_ffi_init(|slot: *mut bindings::gpio_chip| {
                // SAFETY: `slot` is valid for writes of a `gpio_chip`; all-zero is a valid value.
                unsafe { slot.write(pin_init::zeroed()) };
                // SAFETY: `slot` is valid and initialised above; `label` points into the
                // `CString` held by this registration (a field initialised before `chip`).
                unsafe {
                    (*slot).label = container_label(slot);
                    (*slot).parent = parent;
                    (*slot).base = -1;
                    (*slot).ngpio = ngpio;
                    (*slot).can_sleep = true;
                    (*slot).get = Some(get_callback);
                    (*slot).set = Some(set_callback);
                    (*slot).get_direction = Some(get_direction_callback);
                    (*slot).direction_input = Some(direction_input_callback);
                    (*slot).direction_output = Some(direction_output_callback);
                    (*slot).set_config = Some(set_config_callback);
                }
                // SAFETY: The chip is initialised; its callbacks only read fields of the
                // registration initialised before `chip`. It stays registered until
                // `Registration::drop`. A null key is fine: gpiolib makes its own.
                to_result(unsafe {
                    bindings::gpiochip_add_data_with_key(
                        slot,
                        ptr::null_mut(),
                        ptr::null_mut(),
                        ptr::null_mut(),
                    )
                })
            }),
        }? Error),
        GFP_KERNEL,
    )
}

/// Returns the label of the registration containing the chip `slot`.
///
/// # Safety
///
/// `slot` must be the `chip` field of a `Registration` whose `label` is initialised.
unsafe fn container_label(slot: *mut bindings::gpio_chip) -> *const c_char {
    // SAFETY: Per the function's safety requirements.
    let reg = unsafe {
        container_of!(
            slot.cast::<Opaque<bindings::gpio_chip>>(),
            Registration,
            chip
        )
    };
    // SAFETY: `label` is initialised; only the field is read.
    unsafe { (*reg).label.as_char_ptr() }
}

#[pinned_drop]
impl PinnedDrop for Registration {
    fn drop(self: Pin<&mut Self>) {
        // The fence first: no gpiolib callback is inside the driver when it returns, and every
        // later one gets `ENODEV`. The implementation is dropped here too.
        self.provider.shell().revoke();
        // SAFETY: By the type invariants the chip is registered.
        unsafe { bindings::gpiochip_remove(self.chip.get()) };
    }
}

/// Runs `f` on the chip of the gpiolib callback for `gc`, inside the chip's provider shell.
///
/// # Safety
///
/// `gc` must be the `chip` of a live `Registration` (gpiolib only calls back registered chips).
unsafe fn with_chip<R>(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    f: impl FnOnce(&GpioChip, u32) -> Result<R>,
) -> Result<R> {
    // SAFETY: Per the function's safety requirements `gc` is the `chip` field of a registration.
    let reg =
        unsafe { container_of!(gc.cast::<Opaque<bindings::gpio_chip>>(), Registration, chip) };
    // SAFETY: `provider` is initialised before `chip` and lives as long as the registration;
    // only the field is borrowed, never the (possibly still initialising) whole structure.
    let provider = unsafe { &(*reg).provider };
    let chip = provider.shell().read()?;
    chip.check(offset)?;
    f(&chip, offset)
}

/// The C `get` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn get_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    // SAFETY: gpiolib passes a registered chip.
    from_result(|| unsafe { with_chip(gc, offset, |c, o| c.ops().get(o)) }.map(c_int::from))
}

/// The C `set` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn set_callback(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    value: c_int,
) -> c_int {
    // SAFETY: gpiolib passes a registered chip.
    from_result(|| unsafe { with_chip(gc, offset, |c, o| c.ops().set(o, value != 0)) }.map(|()| 0))
}

/// The C `get_direction` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn get_direction_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip.
        let dir = unsafe { with_chip(gc, offset, |c, o| c.ops().get_direction(o)) }?;
        Ok(match dir {
            Direction::Input => bindings::GPIO_LINE_DIRECTION_IN as c_int,
            Direction::Output => bindings::GPIO_LINE_DIRECTION_OUT as c_int,
        })
    })
}

/// The C `direction_input` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn direction_input_callback(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
) -> c_int {
    // SAFETY: gpiolib passes a registered chip.
    from_result(|| unsafe { with_chip(gc, offset, |c, o| c.ops().direction_input(o)) }.map(|()| 0))
}

/// The C `direction_output` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn direction_output_callback(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    value: c_int,
) -> c_int {
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip.
        unsafe { with_chip(gc, offset, |c, o| c.ops().direction_output(o, value != 0)) }.map(|()| 0)
    })
}

/// The C `set_config` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn set_config_callback(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    config: c_ulong,
) -> c_int {
    // The low byte of a packed pin configuration is its parameter (pinconf-generic.h).
    let bias = match (config & 0xff) as u32 {
        bindings::pin_config_param_PIN_CONFIG_BIAS_DISABLE => Bias::Disable,
        bindings::pin_config_param_PIN_CONFIG_BIAS_PULL_UP => Bias::PullUp,
        bindings::pin_config_param_PIN_CONFIG_BIAS_PULL_DOWN => Bias::PullDown,
        _ => return ENOTSUPP.to_errno(),
    };
    // SAFETY: gpiolib passes a registered chip.
    from_result(|| unsafe { with_chip(gc, offset, |c, o| c.ops().set_bias(o, bias)) }.map(|()| 0))
}

/// A consumer's handle to one line of a Rust GPIO chip.
///
/// Calls go straight to the chip's operations through its provider shell (not through gpiolib's
/// line ownership): they return `ENODEV` once the chip's driver has been unbound, forever.
#[derive(Clone)]
pub struct Line {
    chip: Handle<GpioChip>,
    offset: u32,
}

impl Line {
    /// Looks up line `offset` of the chip labelled `label`.
    ///
    /// Returns `ENOENT` if no bound Rust chip has that label, `EINVAL` if `offset` is out of
    /// range.
    pub fn lookup(label: &CStr, offset: u32) -> Result<Self> {
        let chip = GPIO_CHIPS.lookup(label)?;
        chip.access()?.check(offset)?;
        Ok(Self { chip, offset })
    }

    /// Returns the line's offset in its chip.
    pub fn offset(&self) -> u32 {
        self.offset
    }

    /// Reads the line.
    pub fn get(&self) -> Result<bool> {
        self.chip.access()?.ops().get(self.offset)
    }

    /// Drives the line (it must be an output).
    pub fn set(&self, value: bool) -> Result {
        self.chip.access()?.ops().set(self.offset, value)
    }

    /// Returns the line's direction.
    pub fn direction(&self) -> Result<Direction> {
        self.chip.access()?.ops().get_direction(self.offset)
    }

    /// Makes the line an input.
    pub fn set_input(&self) -> Result {
        self.chip.access()?.ops().direction_input(self.offset)
    }

    /// Makes the line an output driving `value`.
    pub fn set_output(&self, value: bool) -> Result {
        self.chip
            .access()?
            .ops()
            .direction_output(self.offset, value)
    }

    /// Returns whether the line's chip has been unbound.
    pub fn is_revoked(&self) -> bool {
        self.chip.is_revoked()
    }

    /// Sleeps until the line's chip is unbound (or a signal arrives: `ERESTARTSYS`).
    pub fn wait_revoked(&self) -> Result {
        self.chip.wait_revoked()
    }

    /// Asks for `notify` to run once when the line's chip is unbound (see
    /// [`Handle::notify_on_revoke`]).
    pub fn notify_on_revoke(&self, notify: Arc<dyn RevokeNotify>) -> Result<Notice<GpioChip>> {
        self.chip.notify_on_revoke(notify)
    }
}
