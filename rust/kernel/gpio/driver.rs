// SPDX-License-Identifier: GPL-2.0

//! GPIO chip drivers.
//!
//! A driver implements [`GpioChipOps`] for its chip type and calls [`register`] (or
//! [`register_with`]) in probe, with the bound device. gpiolib gets a `struct gpio_chip` whose
//! operations are a `const` table built for that type: every callback calls the
//! driver's method directly, with the driver's data and its bound device, and no dynamic call in
//! between. This is the shape of `kernel::pwm`.
//!
//! # Unbind
//!
//! The driver's data lives behind a [`resmgr`](crate::resmgr) provider shell, registered with
//! devres: when the device is unbound, the shell is revoked with the chip's removal from gpiolib
//! inside the revocation, and the data is dropped only after both. gpiolib calls a chip's
//! operations only inside its own SRCU read section of the gpio device, and `gpiochip_remove()`
//! unpublishes the chip and waits for those sections; that is why the callbacks need no read
//! section of ours, and the value path costs what it costs on a C chip. After the removal,
//! gpiolib answers `ENODEV` to everyone who still holds one of the chip's lines, in the kernel
//! ([`gpio::consumer`](super::consumer)) as in userspace.
//!
//! What only a GPIO simulator needs (per-line sysfs directories) is in
//! [`gpio::sim`](super::sim).
//!
//! # Examples
//!
//! ```
//! use kernel::{
//!     device::{Bound, Device},
//!     gpio::driver::{self, Direction, GpioChipOps},
//!     prelude::*,
//!     sync::{new_spinlock, SpinLock},
//! };
//!
//! /// Eight lines that read back what was driven on them.
//! #[pin_data]
//! struct Loopback {
//!     #[pin]
//!     state: SpinLock<(u8, u8)>, // (outputs, values)
//! }
//!
//! #[vtable]
//! impl GpioChipOps for Loopback {
//!     fn get(&self, _dev: &Device<Bound>, offset: u32) -> Result<bool> {
//!         Ok(self.state.lock().1 & (1 << offset) != 0)
//!     }
//!     fn set(&self, _dev: &Device<Bound>, offset: u32, value: bool) -> Result {
//!         let mut s = self.state.lock();
//!         s.1 = (s.1 & !(1 << offset)) | (u8::from(value) << offset);
//!         Ok(())
//!     }
//!     fn get_direction(&self, _dev: &Device<Bound>, offset: u32) -> Result<Direction> {
//!         Ok(if self.state.lock().0 & (1 << offset) != 0 {
//!             Direction::Output
//!         } else {
//!             Direction::Input
//!         })
//!     }
//!     fn direction_input(&self, _dev: &Device<Bound>, offset: u32) -> Result {
//!         self.state.lock().0 &= !(1 << offset);
//!         Ok(())
//!     }
//!     fn direction_output(&self, dev: &Device<Bound>, offset: u32, value: bool) -> Result {
//!         self.state.lock().0 |= 1 << offset;
//!         self.set(dev, offset, value)
//!     }
//! }
//!
//! fn probe(dev: &Device<Bound>) -> Result {
//!     driver::register(dev, c"loopback", 8, try_pin_init!(Loopback {
//!         state <- new_spinlock!((0, 0)),
//!     }? Error))
//! }
//! ```
//!
//! C header: [`include/linux/gpio/driver.h`](srctree/include/linux/gpio/driver.h)

use super::sim::{
    SimParts,
    SimSetup, //
};
use crate::{
    bindings, container_of,
    device::property::FwNode,
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
    resmgr::{
        Guard,
        Handle,
        Provider, //
    },
    str::CString,
    sync::aref::ARef,
    types::Opaque,
};
use core::{
    ffi::c_void,
    marker::PhantomData,
    ptr,
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};

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

/// An edge of a line's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Low to high.
    Rising,
    /// High to low.
    Falling,
}

/// The most lines a chip may have.
pub const MAX_LINES: u32 = 1024;

/// A chip's description: what [`register_with`] needs beyond its operations.
pub struct ChipConfig {
    /// The chip's label.
    pub label: CString,
    /// The number of lines, 1 to [`MAX_LINES`] (`EINVAL` for 0, `ERANGE` above).
    pub ngpio: u32,
    /// Line names, by offset; missing or `None` entries leave a line unnamed, entries at or
    /// past `ngpio` are ignored.
    pub names: KVec<Option<CString>>,
    /// Offsets of lines that cannot be used; offsets at or past `ngpio` are ignored.
    pub invalid: KVec<u32>,
    /// Whether lines can be used as interrupts: edges are then reported with
    /// [`Events::notify`] (a simulated interrupt domain, see [`kernel::irq::sim`]).
    ///
    /// Needs `CONFIG_IRQ_SIM`, which the driver's Kconfig entry selects: without it,
    /// registration fails with `EOPNOTSUPP`.
    ///
    /// [`kernel::irq::sim`]: srctree/rust/kernel/irq/sim.rs
    pub edge_events: bool,
    /// The chip's firmware node, if it has one: gpiolib takes the line names
    /// (`gpio-line-names`, unless `names` has some), the invalid lines (`gpio-reserved-ranges`)
    /// and the hogs (`gpio-hog` children) from it, as for a C chip, and the chip's gpio device
    /// gets it. The registration holds a reference to it.
    pub fwnode: Option<ARef<FwNode>>,
}

impl ChipConfig {
    /// A chip labelled `label` with `ngpio` lines and nothing else.
    pub fn new(label: &CStr, ngpio: u32) -> Result<Self> {
        Ok(Self {
            label: CString::try_from(label)?,
            ngpio,
            names: KVec::new(),
            invalid: KVec::new(),
            edge_events: false,
            fwnode: None,
        })
    }
}

/// The interrupt side of a chip registered with [`ChipConfig::edge_events`].
///
/// A driver reports a change of an input's level with [`Events::notify`]; consumers that asked
/// for that edge (a line request with edge detection, `gpiomon`) then see an event.
pub struct Events {
    #[cfg(CONFIG_IRQ_SIM)]
    domain: Option<crate::irq::sim::Domain>,
}

impl Events {
    fn none() -> Self {
        Self {
            #[cfg(CONFIG_IRQ_SIM)]
            domain: None,
        }
    }

    /// Creates the simulated interrupt domain of a chip with `ngpio` lines.
    ///
    /// # Safety
    ///
    /// `slot` must be the `chip` of a registration that drops the returned value only after the
    /// chip's removal.
    #[cfg(CONFIG_IRQ_SIM)]
    unsafe fn new(ngpio: u16, slot: *mut bindings::gpio_chip) -> Result<Self> {
        // SAFETY: `SIM_OPS` is static; its hooks get `slot`, which stays a registered chip while
        // any interrupt of the domain is requested (per the safety requirements and gpiolib
        // freeing a chip's interrupts before it goes).
        let domain = unsafe {
            crate::irq::sim::Domain::with_hooks(u32::from(ngpio), &SIM_OPS.0, slot.cast())
        }?;
        Ok(Self {
            domain: Some(domain),
        })
    }

    /// Without simulated interrupts (`CONFIG_IRQ_SIM`) a chip cannot have edge events.
    ///
    /// # Safety
    ///
    /// None needed; `unsafe` only to match the function it stands in for.
    #[cfg(not(CONFIG_IRQ_SIM))]
    unsafe fn new(_ngpio: u16, _slot: *mut bindings::gpio_chip) -> Result<Self> {
        Err(EOPNOTSUPP)
    }

    /// Reports `edge` on line `offset`.
    ///
    /// The event is delivered if the line is used as an interrupt that triggers on that edge;
    /// returns whether it was. Does nothing for a chip without edge events.
    pub fn notify(&self, offset: u32, edge: Edge) -> bool {
        #[cfg(CONFIG_IRQ_SIM)]
        if let Some(domain) = &self.domain {
            use crate::irq::sim::Edge as IrqEdge;
            return domain.raise(
                offset,
                match edge {
                    Edge::Rising => IrqEdge::Rising,
                    Edge::Falling => IrqEdge::Falling,
                },
            );
        }
        let _ = (offset, edge);
        false
    }

    /// Maps line `offset` to an interrupt (`ENXIO` without edge events).
    fn to_irq(&self, offset: u32) -> Result<u32> {
        #[cfg(CONFIG_IRQ_SIM)]
        if let Some(domain) = &self.domain {
            return domain.create_mapping(offset);
        }
        let _ = offset;
        Err(ENXIO)
    }
}

/// The simulated interrupt domain's hook for an interrupt being requested: gpiolib must know the
/// line is used as one.
///
/// # Safety
///
/// `data` must be the registered chip whose domain this is.
#[cfg(CONFIG_IRQ_SIM)]
unsafe extern "C" fn irq_requested(
    _domain: *mut bindings::irq_domain,
    hwirq: bindings::irq_hw_number_t,
    data: *mut c_void,
) -> c_int {
    // SAFETY: Interrupts are only requested while the chip is registered (gpiolib maps them
    // through `to_irq`, and frees them before the chip goes).
    unsafe { bindings::gpiochip_lock_as_irq(data.cast(), hwirq as c_uint) }
}

/// The simulated interrupt domain's hook for an interrupt being released.
///
/// # Safety
///
/// `data` must be the chip whose domain this is, not yet freed.
#[cfg(CONFIG_IRQ_SIM)]
unsafe extern "C" fn irq_released(
    _domain: *mut bindings::irq_domain,
    hwirq: bindings::irq_hw_number_t,
    data: *mut c_void,
) {
    // SAFETY: gpiolib frees a chip's interrupts while it removes the chip, and the domain is
    // removed right after: the chip is still valid here.
    unsafe { bindings::gpiochip_unlock_as_irq(data.cast(), hwirq as c_uint) }
}

#[cfg(CONFIG_IRQ_SIM)]
struct SimOps(bindings::irq_sim_ops);

#[cfg(CONFIG_IRQ_SIM)]
// SAFETY: The table is immutable and only holds function pointers.
unsafe impl Sync for SimOps {}

#[cfg(CONFIG_IRQ_SIM)]
static SIM_OPS: SimOps = SimOps(bindings::irq_sim_ops {
    irq_sim_irq_requested: Some(irq_requested),
    irq_sim_irq_released: Some(irq_released),
});

/// Operations of a GPIO chip.
///
/// Each method gets the driver's data and the chip's device, bound for the duration of the
/// call. gpiolib calls them with the chip published, never after its removal (which the unbind
/// of `dev` runs); they may sleep (the chip is registered with `can_sleep`). Offsets are below
/// the chip's line count.
#[vtable]
pub trait GpioChipOps: Send + Sync + Sized + 'static {
    /// Returns the value of line `offset`.
    fn get(&self, dev: &Device<Bound>, offset: u32) -> Result<bool>;

    /// Drives line `offset` to `value`.
    fn set(&self, dev: &Device<Bound>, offset: u32, value: bool) -> Result;

    /// Reads every line in `mask` into `values` at once (the other lines' values are left as
    /// they are).
    ///
    /// Without this operation gpiolib calls [`GpioChipOps::get`] line by line.
    fn get_multiple(
        &self,
        _dev: &Device<Bound>,
        _mask: &LineBits<'_>,
        _values: &mut LineValues<'_>,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Drives every line in `mask` to its value in `values` at once.
    ///
    /// Without this operation gpiolib calls [`GpioChipOps::set`] line by line.
    fn set_multiple(
        &self,
        _dev: &Device<Bound>,
        _mask: &LineBits<'_>,
        _values: &LineBits<'_>,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the direction of line `offset`.
    fn get_direction(&self, dev: &Device<Bound>, offset: u32) -> Result<Direction>;

    /// Makes line `offset` an input.
    fn direction_input(&self, dev: &Device<Bound>, offset: u32) -> Result;

    /// Makes line `offset` an output driving `value`.
    fn direction_output(&self, dev: &Device<Bound>, offset: u32, value: bool) -> Result;

    /// Sets the bias of line `offset`; `events` reports any edge this causes.
    ///
    /// Without this operation gpiolib gets `ENOTSUPP`.
    fn set_bias(
        &self,
        _dev: &Device<Bound>,
        _events: &Events,
        _offset: u32,
        _bias: Bias,
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Line `offset` is being requested (by a consumer or a hog).
    fn request(&self, _dev: &Device<Bound>, _offset: u32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Line `offset` is released.
    fn free(&self, _dev: &Device<Bound>, _offset: u32) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A GPIO chip as its provider shell holds it: the driver's data, behind the shell that a
/// consumer finds with [`provider_of`].
///
/// # Invariants
///
/// `imp` is the data of the driver whose adapter built the chip's operations: a `T` where that
/// adapter is `Adapter<T>`. It is never moved (it was pinned when allocated).
pub struct GpioChip {
    imp: KBox<dyn Send + Sync>,
}

impl GpioChip {
    /// Returns the driver's data.
    ///
    /// # Safety
    ///
    /// `T` must be the type of the data (see the type invariants).
    #[inline]
    pub(super) unsafe fn imp<T>(&self) -> &T {
        let imp: *const (dyn Send + Sync) = &*self.imp;
        // SAFETY: Per the safety requirements the data pointer of the trait object points to a
        // `T`, valid for as long as `self` is borrowed.
        unsafe { &*imp.cast::<T>() }
    }
}

/// A registered chip: the `struct gpio_chip` and the provider behind it.
///
/// # Invariants
///
/// - Once initialised, `chip` is registered with gpiolib until the pinned destructor runs, and its
///   callbacks find this structure with `container_of!`.
/// - The fields before `chip` outlive the registration (they belong to the same pinned
///   structure) and are not changed while it is registered, except `events`, set before the chip
///   is added.
/// - The operations of `chip` are those of `Adapter<T>` where `T` is the type of the data behind
///   `provider`. Its `init_valid_mask` is [`init_valid_mask_callback`], which only registrations
///   give a chip: a chip with that operation is the `chip` of a `Registration`.
/// - `data` is null or points to the data behind `provider`; it is cleared before `provider` is
///   revoked, which the destructor alone does, and the data is only dropped once that revocation
///   has removed the chip.
#[pin_data(PinnedDrop)]
pub(super) struct Registration {
    provider: Provider<GpioChip>,
    // The data, for the chip's callbacks: one load from the chip instead of three (the shell,
    // its implementation, the box inside it).
    data: AtomicPtr<c_void>,
    label: CString,
    _names: KVec<Option<CString>>,
    name_ptrs: KVec<*const c_char>,
    invalid: KVec<u32>,
    fwnode: Option<ARef<FwNode>>,
    events: Events,
    // gpiolib calls back into the chip while it is being added, and the callbacks read the
    // fields above.
    #[pin]
    chip: Opaque<bindings::gpio_chip>,
    sim: Option<KBox<SimParts>>,
}

// SAFETY: The registration is only shared with gpiolib and sysfs, which may call back from any
// thread; the fields reached from callbacks are `Sync` or never changed while shared.
unsafe impl Send for Registration {}
// SAFETY: See above.
unsafe impl Sync for Registration {}

impl Registration {
    /// Enters the chip's provider shell (`ENODEV` once the driver is unbound) and returns the
    /// chip, its events and its device, bound while the guard lives.
    pub(super) fn enter(&self) -> Result<(Guard<'_, GpioChip>, &Events, &Device<Bound>)> {
        let chip = self.provider.shell().read()?;
        // SAFETY: The chip is registered (type invariants), with its parent device set. That
        // device is bound while the shell is not revoked (devres revokes it at the unbind), and
        // the guard keeps the revocation from completing.
        let dev = unsafe { crate::resmgr::bound_device((*self.chip.get()).parent) };
        Ok((chip, &self.events, dev))
    }
}

/// Registers a GPIO chip with `ngpio` lines, labelled `label`, for the bound device `dev`.
///
/// The chip is removed from gpiolib when `dev` is unbound: from then on gpiolib answers `ENODEV`
/// for the chip's lines.
pub fn register<T: GpioChipOps>(
    dev: &Device<Bound>,
    label: &CStr,
    ngpio: u16,
    data: impl PinInit<T, Error>,
) -> Result {
    register_with(dev, ChipConfig::new(label, u32::from(ngpio))?, data).map(|_| ())
}

/// Registers a GPIO chip described by `config` for the bound device `dev`, like [`register`].
///
/// Returns the name of the chip's gpio device (`gpiochipN`, also its character device).
pub fn register_with<T: GpioChipOps>(
    dev: &Device<Bound>,
    config: ChipConfig,
    data: impl PinInit<T, Error>,
) -> Result<CString> {
    register_inner::<T>(dev, config, None, data)
}

/// Registers a chip and, for a simulator, what `sim` describes.
pub(super) fn register_inner<T: GpioChipOps>(
    dev: &Device<Bound>,
    config: ChipConfig,
    sim: Option<SimSetup<'_>>,
    data: impl PinInit<T, Error>,
) -> Result<CString> {
    if config.ngpio == 0 {
        return Err(EINVAL);
    }
    if config.ngpio > MAX_LINES {
        return Err(ERANGE);
    }
    let ngpio = config.ngpio as u16;
    let imp: Pin<KBox<T>> = KBox::pin_init(data, GFP_KERNEL)?;
    // SAFETY: Unpinned only to be unsized; the data is never moved out of its box (see the type
    // invariants of the box's holder).
    let imp: KBox<T> = unsafe { Pin::into_inner_unchecked(imp) };
    // The box's contents stay where they are when the box moves into the provider.
    let data: *const T = &*imp;
    // INVARIANT: The data is a `T`, and the chip gets the operations of `Adapter<T>` below.
    let provider = Provider::new(GpioChip { imp })?;

    let mut names = config.names;
    names.truncate(usize::from(ngpio));
    let mut name_ptrs = KVec::new();
    if names.iter().any(Option::is_some) {
        for offset in 0..usize::from(ngpio) {
            let name = names.get(offset).and_then(Option::as_ref);
            name_ptrs.push(name.map_or(ptr::null(), |n| n.as_char_ptr()), GFP_KERNEL)?;
        }
    }
    let parent = dev.as_raw();
    let edge_events = config.edge_events;
    let mut chip_name = None;

    devres::register::<Registration, Error>(
        dev,
        try_pin_init!(Registration {
            provider,
            // INVARIANT: The data behind `provider`, which nothing has revoked yet.
            data: AtomicPtr::new(data.cast_mut().cast()),
            label: config.label,
            _names: names,
            name_ptrs,
            invalid: config.invalid,
            fwnode: config.fwnode,
            events: Events::none(),
            chip <- Opaque::try_ffi_init(|slot: *mut bindings::gpio_chip| {
                // INVARIANT: The operations of `Adapter<T>`, for the `T` behind `provider`.
                // SAFETY: `slot` is valid for writes of a `gpio_chip`.
                unsafe { slot.write(Adapter::<T>::CHIP) };
                // SAFETY: `slot` is the `chip` field of a `Registration` whose earlier fields are
                // initialised.
                let reg = unsafe { registration_of(slot) };
                if edge_events {
                    // SAFETY: `slot` is the `chip` of this registration, which drops its
                    // `events` only after the chip's removal.
                    let events = unsafe { Events::new(ngpio, slot) }?;
                    // SAFETY: Nothing else refers to `events` yet; see the type invariants.
                    unsafe { (*reg.cast_mut()).events = events };
                }
                // SAFETY: `slot` is valid and initialised above; the label, the names and the
                // firmware node are fields of this registration initialised before `chip`.
                unsafe {
                    (*slot).label = (*reg).label.as_char_ptr();
                    (*slot).parent = parent;
                    (*slot).base = -1;
                    (*slot).ngpio = ngpio;
                    (*slot).can_sleep = true;
                    if !(*reg).name_ptrs.is_empty() {
                        (*slot).names = (*reg).name_ptrs.as_ptr();
                    }
                    if let Some(node) = &(*reg).fwnode {
                        (*slot).fwnode = node.as_raw();
                    }
                    if edge_events {
                        (*slot).to_irq = Some(to_irq_callback);
                    }
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
            sim: None,
        }? Error)
        .pin_chain(|this| finish(this, sim, &mut chip_name)),
        GFP_KERNEL,
    )?;
    chip_name.ok_or(EINVAL)
}

/// The steps after the chip is added: the chip's name, its listing, what a simulator adds.
fn finish(
    mut this: Pin<&mut Registration>,
    sim: Option<SimSetup<'_>>,
    chip_name: &mut Option<CString>,
) -> Result {
    let gc = this.chip.get();
    let reg: *const Registration = &*this;
    // SAFETY: The chip is registered (type invariants), so its gpio device is valid.
    let gdev_dev = unsafe { bindings::gpio_device_to_device((*gc).gpiodev) };
    // SAFETY: `gdev_dev` is a registered device; its name is a valid C string.
    let name = unsafe { CStr::from_char_ptr(bindings::dev_name(gdev_dev)) };
    *chip_name = Some(CString::try_from(name)?);
    if let Some(sim) = sim {
        // SAFETY: The chip is registered, its gpio device is `gdev_dev`, and `reg` is its pinned
        // registration, which removes what this adds before the chip (`Registration::drop`).
        let parts = unsafe { SimParts::add(sim, reg, gc, gdev_dev) }?;
        *this.as_mut().project().sim = Some(parts);
    }
    Ok(())
}

/// Returns the registration containing the chip `slot`.
///
/// # Safety
///
/// `slot` must be the `chip` field of a `Registration`.
unsafe fn registration_of(slot: *mut bindings::gpio_chip) -> *const Registration {
    // SAFETY: Per the function's safety requirements.
    unsafe {
        container_of!(
            slot.cast::<Opaque<bindings::gpio_chip>>(),
            Registration,
            chip
        )
    }
}

#[pinned_drop]
impl PinnedDrop for Registration {
    fn drop(self: Pin<&mut Self>) {
        let this = self.project();
        if let Some(sim) = this.sim.as_mut() {
            sim.remove();
        }
        let chip = this.chip.get();
        // From here the callbacks answer `ENODEV`, as the shell's readers will.
        this.data.store(ptr::null_mut(), Ordering::Relaxed);
        // The fence, with the chip's removal inside it. The removal waits for gpiolib's readers
        // while a worker waits for ours, and the data is dropped after both.
        this.provider.shell().revoke_during(|| {
            // SAFETY: By the type invariants the chip is registered. Its interrupts (if any)
            // stay mapped until `events` is dropped, after this.
            unsafe { bindings::gpiochip_remove(chip) };
        });
    }
}

/// The chip operations of driver type `T`, for gpiolib.
///
/// Every callback finds the driver's data through the registration's copy of its pointer,
/// without entering the provider's shell: gpiolib calls a chip's operations only while adding it
/// or inside its SRCU read section of the gpio device with the chip published, and the shell's
/// revocation runs `gpiochip_remove()`, which unpublishes the chip and waits for those sections,
/// before the data is dropped.
struct Adapter<T: GpioChipOps>(PhantomData<T>);

impl<T: GpioChipOps> Adapter<T> {
    /// The `struct gpio_chip` of every chip of type `T` before the registration sets what is
    /// particular to one: the operations.
    const CHIP: bindings::gpio_chip = {
        let mut chip: bindings::gpio_chip = pin_init::zeroed();
        chip.request = Some(Self::request_callback);
        chip.free = Some(Self::free_callback);
        chip.get = Some(Self::get_callback);
        chip.set = Some(Self::set_callback);
        if T::HAS_GET_MULTIPLE {
            chip.get_multiple = Some(Self::get_multiple_callback);
        }
        if T::HAS_SET_MULTIPLE {
            chip.set_multiple = Some(Self::set_multiple_callback);
        }
        chip.get_direction = Some(Self::get_direction_callback);
        chip.direction_input = Some(Self::direction_input_callback);
        chip.direction_output = Some(Self::direction_output_callback);
        chip.set_config = Some(Self::set_config_callback);
        chip.init_valid_mask = Some(init_valid_mask_callback);
        chip
    };

    /// Runs `f` on the data and the bound device of the chip of the gpiolib callback for `gc`.
    ///
    /// # Safety
    ///
    /// `gc` must be the `chip` of a live `Registration` with the operations of `Adapter<T>`, and
    /// the caller must be gpiolib calling one of them: it does so only while adding the chip or
    /// inside its SRCU read section of the gpio device with the chip published.
    #[inline]
    unsafe fn with<R>(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
        f: impl FnOnce(&T, &Device<Bound>, &Events) -> Result<R>,
    ) -> Result<R> {
        // gpiolib passes the offsets of its descriptors, below the chip's line count, as
        // `GpioChipOps` promises its methods.
        // SAFETY: Per the function's safety requirements `gc` is a registered chip.
        debug_assert!(offset < c_uint::from(unsafe { (*gc).ngpio }));
        // SAFETY: Per the function's safety requirements `gc` is the `chip` field of a
        // registration.
        let reg = unsafe { registration_of(gc) };
        // SAFETY: `data` and `events` are initialised before `chip` and live as long as the
        // registration; only the fields are borrowed, never the (possibly still initialising)
        // whole structure.
        let (data, events) = unsafe { (&(*reg).data, &(*reg).events) };
        let imp = data.load(Ordering::Acquire);
        if imp.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: A non-null `data` is the provider's `T` (type invariants), dropped only once
        // the revocation has removed the chip, which waits for this call (safety requirements).
        let imp = unsafe { &*imp.cast::<T>() };
        // SAFETY: The chip's parent is the device it was registered for, bound until its
        // unbind removes the chip, which waits for this call (see above).
        let dev = unsafe { crate::resmgr::bound_device((*gc).parent) };
        f(imp, dev, events)
    }

    /// The C `request` operation.
    ///
    /// # Safety
    ///
    /// `gc` must be a chip with the operations of `Adapter<T>`: gpiolib only calls its own.
    unsafe extern "C" fn request_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
        if !T::HAS_REQUEST {
            return 0;
        }
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe { Self::with(gc, offset, |t, d, _| t.request(d, offset)) }.map(|()| 0)
        })
    }

    /// The C `free` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn free_callback(gc: *mut bindings::gpio_chip, offset: c_uint) {
        if T::HAS_FREE {
            // SAFETY: gpiolib passes one of our chips.
            let _ = unsafe {
                Self::with(gc, offset, |t, d, _| {
                    t.free(d, offset);
                    Ok(())
                })
            };
        }
    }

    /// The C `get` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn get_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe { Self::with(gc, offset, |t, d, _| t.get(d, offset)) }.map(c_int::from)
        })
    }

    /// The C `set` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn set_callback(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
        value: c_int,
    ) -> c_int {
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe { Self::with(gc, offset, |t, d, _| t.set(d, offset, value != 0)) }.map(|()| 0)
        })
    }

    /// The C `get_multiple` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`]; `mask` must be a bitmap with a bit for each of the
    /// chip's lines and `bits` one that covers the highest line set in `mask`, which only this
    /// call uses: gpiolib passes such.
    unsafe extern "C" fn get_multiple_callback(
        gc: *mut bindings::gpio_chip,
        mask: *mut c_ulong,
        bits: *mut c_ulong,
    ) -> c_int {
        let get = |t: &T, d: &Device<Bound>, _: &Events| -> Result {
            // SAFETY: Per the function's safety requirements `mask` covers the chip's lines.
            let mask = unsafe { mask_words((*gc).ngpio, mask) };
            if mask.is_empty() {
                return Ok(());
            }
            // SAFETY: `bits` covers the highest line in `mask`, so it has at least as many
            // words, and only this call uses them.
            let bits = unsafe { core::slice::from_raw_parts_mut(bits, mask.len()) };
            t.get_multiple(d, &LineBits::new(mask), &mut LineValues::new(bits))
        };
        // SAFETY: gpiolib passes one of our chips.
        from_result(|| unsafe { Self::with(gc, 0, get) }.map(|()| 0))
    }

    /// The C `set_multiple` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::get_multiple_callback`], except that `bits` is only read.
    unsafe extern "C" fn set_multiple_callback(
        gc: *mut bindings::gpio_chip,
        mask: *mut c_ulong,
        bits: *mut c_ulong,
    ) -> c_int {
        let set = |t: &T, d: &Device<Bound>, _: &Events| -> Result {
            // SAFETY: Per the function's safety requirements `mask` covers the chip's lines.
            let mask = unsafe { mask_words((*gc).ngpio, mask) };
            if mask.is_empty() {
                return Ok(());
            }
            // SAFETY: `bits` covers the highest line in `mask`, so it has at least as many
            // words; gpiolib does not change them during the call.
            let bits = unsafe { core::slice::from_raw_parts(bits, mask.len()) };
            t.set_multiple(d, &LineBits::new(mask), &LineBits::new(bits))
        };
        // SAFETY: gpiolib passes one of our chips.
        from_result(|| unsafe { Self::with(gc, 0, set) }.map(|()| 0))
    }

    /// The C `get_direction` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn get_direction_callback(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
    ) -> c_int {
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            let dir = unsafe { Self::with(gc, offset, |t, d, _| t.get_direction(d, offset)) }?;
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
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn direction_input_callback(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
    ) -> c_int {
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe { Self::with(gc, offset, |t, d, _| t.direction_input(d, offset)) }.map(|()| 0)
        })
    }

    /// The C `direction_output` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn direction_output_callback(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
        value: c_int,
    ) -> c_int {
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe {
                Self::with(gc, offset, |t, d, _| {
                    t.direction_output(d, offset, value != 0)
                })
            }
            .map(|()| 0)
        })
    }

    /// The C `set_config` operation: the bias parameters, through [`GpioChipOps::set_bias`].
    ///
    /// # Safety
    ///
    /// As for [`Self::request_callback`].
    unsafe extern "C" fn set_config_callback(
        gc: *mut bindings::gpio_chip,
        offset: c_uint,
        config: c_ulong,
    ) -> c_int {
        if !T::HAS_SET_BIAS {
            return ENOTSUPP.to_errno();
        }
        // The low byte of a packed pin configuration is its parameter (pinconf-generic.h).
        let bias = match (config & 0xff) as u32 {
            bindings::pin_config_param_PIN_CONFIG_BIAS_DISABLE => Bias::Disable,
            bindings::pin_config_param_PIN_CONFIG_BIAS_PULL_UP => Bias::PullUp,
            bindings::pin_config_param_PIN_CONFIG_BIAS_PULL_DOWN => Bias::PullDown,
            _ => return ENOTSUPP.to_errno(),
        };
        from_result(|| {
            // SAFETY: gpiolib passes one of our chips.
            unsafe { Self::with(gc, offset, |t, d, e| t.set_bias(d, e, offset, bias)) }.map(|()| 0)
        })
    }
}

/// The words of gpiolib's `mask` of a `get_multiple` or `set_multiple` call, up to the last one
/// with a line set (none if no line is).
///
/// # Safety
///
/// `mask` must hold a bit for each of the chip's `ngpio` lines and stay valid and unchanged for
/// the returned lifetime.
#[inline]
unsafe fn mask_words<'a>(ngpio: u16, mask: *const c_ulong) -> &'a [c_ulong] {
    let nwords = usize::from(ngpio).div_ceil(c_ulong::BITS as usize);
    // SAFETY: Per the safety requirements `mask` holds `ngpio` bits, `nwords` words.
    let mask = unsafe { core::slice::from_raw_parts(mask, nwords) };
    let used = mask
        .iter()
        .rposition(|w| *w != 0)
        .map_or(0, |last| last + 1);
    &mask[..used]
}

/// The C `init_valid_mask` operation: clears the lines the registration calls invalid.
///
/// # Safety
///
/// `gc` must be a chip being added by [`register_inner`]; `mask` must hold `ngpios` bits.
unsafe extern "C" fn init_valid_mask_callback(
    gc: *mut bindings::gpio_chip,
    mask: *mut c_ulong,
    ngpios: c_uint,
) -> c_int {
    // SAFETY: gpiolib passes the chip being added; `invalid` is initialised before `chip`.
    let invalid = unsafe { &(*registration_of(gc)).invalid };
    let bits = c_ulong::BITS;
    for &offset in invalid.iter().filter(|&&o| o < ngpios) {
        // SAFETY: `offset < ngpios`, so the word is within the mask.
        unsafe { *mask.add((offset / bits) as usize) &= !(1 << (offset % bits)) };
    }
    0
}

/// The C `to_irq` operation of chips with edge events.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register_inner`] with edge events.
unsafe extern "C" fn to_irq_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    // Not through the driver's data: only the domain is needed, and it lives until after the
    // chip's removal.
    // SAFETY: `events` is initialised before the chip is added and outlives its registration.
    let events = unsafe { &(*registration_of(gc)).events };
    match events.to_irq(offset) {
        Ok(irq) => irq as c_int,
        Err(e) => e.to_errno(),
    }
}

/// A set of a chip's lines, as gpiolib hands it to [`GpioChipOps::get_multiple`] and
/// [`GpioChipOps::set_multiple`]: line `n` is bit `n % BITS` of word `n / BITS`, with `BITS` the
/// bits of a `c_ulong` (the C bitmap layout).
///
/// Lines past the end of the words are not in the set.
///
/// # Examples
///
/// ```
/// use kernel::gpio::driver::LineBits;
///
/// let words: [c_ulong; 2] = [0b1010, 0b1];
/// let set = LineBits::new(&words);
/// let mut lines = set.iter();
/// assert_eq!(lines.next(), Some(1));
/// assert_eq!(lines.next(), Some(3));
/// assert_eq!(lines.next(), Some(c_ulong::BITS));
/// assert_eq!(lines.next(), None);
/// assert!(set.contains(3) && !set.contains(2) && !set.contains(1000));
/// assert_eq!(LineBits::new(&[]).iter().next(), None);
/// ```
#[derive(Clone, Copy)]
pub struct LineBits<'a> {
    words: &'a [c_ulong],
}

impl<'a> LineBits<'a> {
    /// The set of lines whose bits are set in `words`.
    pub fn new(words: &'a [c_ulong]) -> Self {
        Self { words }
    }

    /// Returns whether line `offset` is in the set.
    #[inline]
    pub fn contains(&self, offset: u32) -> bool {
        let (word, bit) = split(offset);
        self.words.get(word).is_some_and(|w| w & (1 << bit) != 0)
    }

    /// Returns the lines in the set, lowest first.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = u32> + 'a {
        let words = self.words;
        let mut index = 0;
        let mut word = words.first().copied().unwrap_or(0);
        core::iter::from_fn(move || loop {
            if word != 0 {
                let bit = word.trailing_zeros();
                word &= word - 1;
                return Some(index as u32 * c_ulong::BITS + bit);
            }
            index += 1;
            word = *words.get(index)?;
        })
    }
}

/// The values [`GpioChipOps::get_multiple`] reports, one bit per line laid out as in
/// [`LineBits`].
///
/// # Examples
///
/// ```
/// use kernel::gpio::driver::LineValues;
///
/// let mut words: [c_ulong; 2] = [0, !0];
/// let mut values = LineValues::new(&mut words);
/// values.set(2, true);
/// values.set(c_ulong::BITS + 1, false);
/// values.set(1000, true); // Past the end: ignored.
/// assert!(values.get(2) && !values.get(3) && !values.get(c_ulong::BITS + 1));
/// assert_eq!(words, [0b100, !0b10]);
/// ```
pub struct LineValues<'a> {
    words: &'a mut [c_ulong],
}

impl<'a> LineValues<'a> {
    /// Values kept in `words`.
    pub fn new(words: &'a mut [c_ulong]) -> Self {
        Self { words }
    }

    /// Records `value` for line `offset` (nothing if `offset` is past the end).
    #[inline]
    pub fn set(&mut self, offset: u32, value: bool) {
        let (word, bit) = split(offset);
        if let Some(w) = self.words.get_mut(word) {
            if value {
                *w |= 1 << bit;
            } else {
                *w &= !(1 << bit);
            }
        }
    }

    /// Returns the value recorded for line `offset` (`false` past the end).
    #[inline]
    pub fn get(&self, offset: u32) -> bool {
        LineBits::new(self.words).contains(offset)
    }
}

/// The word and the bit in it of line `offset` in a C bitmap.
#[inline]
fn split(offset: u32) -> (usize, u32) {
    ((offset / c_ulong::BITS) as usize, offset % c_ulong::BITS)
}

/// Returns the provider handle of the Rust chip that `line` belongs to.
///
/// The handle tells when the chip's driver is unbound ([`Handle::is_revoked`],
/// [`Handle::wait_revoked`], [`Handle::notify_on_revoke`]); use the line itself through gpiolib.
/// Returns `ENOENT` if the line's chip is not a Rust chip or has been removed from gpiolib; while
/// an unbind is removing it, the handle returned is already revoked.
///
/// The chip is found by gpiolib itself (`gpio_device_find()`, which looks at each chip inside
/// the gpio device's SRCU read section), so this may sleep and costs a walk over the gpio
/// devices: call it once, where the line is requested, not on a hot path.
///
/// # Examples
///
/// ```
/// use kernel::{
///     gpio::{consumer::Desc, driver},
///     prelude::*,
/// };
///
/// fn wait_for_unbind(line: &Desc) -> Result {
///     driver::provider_of(line)?.wait_revoked()
/// }
/// ```
pub fn provider_of(line: &super::consumer::Desc) -> Result<Handle<GpioChip>> {
    /// What the search looks for, and what it found.
    struct Lookup {
        gdev: *mut bindings::gpio_device,
        found: core::cell::Cell<Option<Handle<GpioChip>>>,
    }

    /// Matches the Rust chip of the gpio device the lookup names, and takes a handle on it.
    ///
    /// # Safety
    ///
    /// `data` must point to a `Lookup`; `gc` must be a chip that gpiolib has published, and the
    /// caller must be inside the SRCU read section of its gpio device (`gpio_device_find()`).
    unsafe extern "C" fn matches(
        gc: *mut bindings::gpio_chip,
        data: *const crate::ffi::c_void,
    ) -> c_int {
        // SAFETY: Per the safety requirements `data` points to a `Lookup`.
        let lookup = unsafe { &*data.cast::<Lookup>() };
        // SAFETY: Per the safety requirements `gc` is a published chip.
        let (gdev, valid_mask) = unsafe { ((*gc).gpiodev, (*gc).init_valid_mask) };
        let ours = init_valid_mask_callback as unsafe extern "C" fn(_, _, _) -> _;
        if gdev != lookup.gdev || !valid_mask.is_some_and(|f| core::ptr::fn_addr_eq(f, ours)) {
            return 0;
        }
        // SAFETY: This chip is a `Registration`'s (type invariants), dropped only after
        // `gpiochip_remove()` waited for the read section we are in; only `provider` is
        // borrowed, and it does not change while the chip is registered.
        let provider = unsafe { &(*registration_of(gc)).provider };
        lookup.found.set(Some(provider.handle()));
        1
    }

    let lookup = Lookup {
        // SAFETY: `line` holds its descriptor, and with it a reference to its gpio device.
        gdev: unsafe { bindings::gpiod_to_gpio_device(line.as_raw()) },
        found: core::cell::Cell::new(None),
    };
    // SAFETY: `matches` has the signature gpiolib expects and `lookup` outlives the call;
    // gpiolib calls `matches` for each published chip inside its gpio device's read section.
    let gdev = unsafe { bindings::gpio_device_find(ptr::from_ref(&lookup).cast(), Some(matches)) };
    if !gdev.is_null() {
        // SAFETY: `gpio_device_find()` returned a new reference to `gdev`.
        unsafe { bindings::gpio_device_put(gdev) };
    }
    lookup.found.into_inner().ok_or(ENOENT)
}
