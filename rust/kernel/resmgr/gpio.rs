// SPDX-License-Identifier: GPL-2.0

//! GPIO chip providers on the resource manager.
//!
//! A driver implements [`GpioChipOps`] and calls [`register`] in probe. The chip is added to
//! gpiolib with C operations shared by every Rust chip, except those on line values, which are
//! built for the driver's type so that the hot path makes no dynamic call. gpiolib already
//! calls a chip's operations only inside its own SRCU read section of the gpio device, and
//! `gpiochip_remove()` unpublishes the chip and waits for those sections. So on unbind the
//! chip's provider shell is revoked (the fence for everyone else) with the chip's removal from
//! gpiolib inside the revocation: the implementation is dropped only after both the removal and
//! our grace period, which run at the same time. The callbacks reach the implementation without
//! a read section of ours: gpiolib's proves the provider bound, and the uAPI path costs what it
//! costs on a C chip. The per-line sysfs files go through the shell and get `ENODEV` after the
//! unbind.
//!
//! [`register_with`] takes a [`ChipConfig`] with more: line names, invalid lines, hogs, per-line
//! sysfs directories (served through the shell too) and edge events through a simulated interrupt
//! domain ([`Events`]), which is what a GPIO simulator needs.
//!
//! Consumers, in the kernel as in userspace, use the lines of a Rust chip through gpiolib like
//! those of any chip: in Rust with [`gpio::consumer`](crate::gpio::consumer), whose calls answer
//! `ENODEV` once the chip's driver is unbound. A consumer that must know when that happens gets
//! the chip's provider handle from its line with [`provider_of`], for a revocation notice or a
//! wait; the line's operations never go through that handle.
//!
//! C header: [`include/linux/gpio/driver.h`](srctree/include/linux/gpio/driver.h)

use super::{
    Handle,
    Provider, //
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
    str::{
        CString,
        Formatter, //
    },
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

/// An edge of a line's level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Low to high.
    Rising,
    /// High to low.
    Falling,
}

/// What a hogged line is set to when the chip is added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HogDirection {
    /// An input.
    Input,
    /// An output driven inactive.
    OutputLow,
    /// An output driven active.
    OutputHigh,
}

/// A line the chip holds itself from its registration on, so that no consumer can request it.
pub struct Hog {
    /// The line's offset.
    pub offset: u32,
    /// The consumer name the line is held under, if any.
    pub name: Option<CString>,
    /// What the line is set to.
    pub direction: HogDirection,
    /// Whether the line is active-low.
    pub active_low: bool,
}

/// A file in each per-line sysfs directory of a chip (see [`LineDirs`]).
pub struct LineAttr {
    /// The file's name.
    pub name: &'static CStr,
    /// Whether the file can be written ([`GpioChipOps::store_line_attr`] decides what it takes).
    pub writable: bool,
}

/// Per-line sysfs directories under the chip's gpio device (`gpiochipN/<prefix><offset>/`), each
/// with the files `attrs`, served by [`GpioChipOps::show_line_attr`] and
/// [`GpioChipOps::store_line_attr`] through the chip's provider shell.
pub struct LineDirs {
    /// The directories' name before the line offset, for example `"sim_gpio"`.
    pub prefix: &'static str,
    /// The files of each directory.
    pub attrs: &'static [LineAttr],
}

/// The most lines a chip may have.
pub const MAX_LINES: u32 = 1024;

/// A chip's description: what [`register_with`] needs beyond its operations.
pub struct ChipConfig {
    /// The chip's label (`EEXIST` from registration if another Rust chip has it).
    pub label: CString,
    /// The number of lines, 1 to [`MAX_LINES`] (`EINVAL` for 0, `ERANGE` above).
    pub ngpio: u32,
    /// Line names, by offset; missing or `None` entries leave a line unnamed, entries at or
    /// past `ngpio` are ignored.
    pub names: KVec<Option<CString>>,
    /// Offsets of lines that cannot be used; offsets at or past `ngpio` are ignored.
    pub invalid: KVec<u32>,
    /// Lines the chip holds itself (`EINVAL` from registration for an offset past `ngpio`).
    pub hogs: KVec<Hog>,
    /// Whether lines can be used as interrupts: edges are then reported with
    /// [`Events::notify`] (a simulated interrupt domain, see `include/linux/irq_sim.h`).
    ///
    /// Needs `CONFIG_IRQ_SIM`, which the driver's Kconfig entry selects: without it,
    /// registration fails with `EOPNOTSUPP`.
    pub edge_events: bool,
    /// Per-line sysfs directories, if any.
    pub line_dirs: Option<LineDirs>,
}

impl ChipConfig {
    /// A chip labelled `label` with `ngpio` lines and nothing else.
    pub fn new(label: &CStr, ngpio: u32) -> Result<Self> {
        Ok(Self {
            label: CString::try_from(label)?,
            ngpio,
            names: KVec::new(),
            invalid: KVec::new(),
            hogs: KVec::new(),
            edge_events: false,
            line_dirs: None,
        })
    }
}

/// The interrupt side of a chip registered with [`ChipConfig::edge_events`].
///
/// A simulator reports a change of an input's level with [`Events::notify`]; consumers that
/// asked for that edge (a line request with edge detection, `gpiomon`) then see an event.
///
/// # Invariants
///
/// `domain` is null, or a simulated interrupt domain of `ngpio` interrupts that stays valid as
/// long as `self` and is removed when `self` is dropped. Without `CONFIG_IRQ_SIM` it is always
/// null.
pub struct Events {
    domain: *mut bindings::irq_domain,
    ngpio: u32,
}

// SAFETY: The interrupt domain's functions may be called from any thread.
unsafe impl Send for Events {}
// SAFETY: See above; `&self` methods only call thread-safe interrupt functions.
unsafe impl Sync for Events {}

impl Events {
    fn none() -> Self {
        // INVARIANT: A null domain.
        Self {
            domain: ptr::null_mut(),
            ngpio: 0,
        }
    }

    /// Creates the simulated interrupt domain of a chip with `ngpio` lines.
    ///
    /// # Safety
    ///
    /// `slot` must be the `chip` of a registration that outlives the returned value.
    #[cfg(CONFIG_IRQ_SIM)]
    unsafe fn new(ngpio: u16, slot: *mut bindings::gpio_chip) -> Result<Self> {
        // SAFETY: `SIM_OPS` is static; the domain's callbacks get `slot`, which stays valid until
        // the domain is removed (`Events::drop`, after the chip's removal).
        let domain = unsafe {
            bindings::irq_domain_create_sim_full(
                ptr::null_mut(),
                c_uint::from(ngpio),
                &SIM_OPS.0,
                slot.cast(),
            )
        };
        // INVARIANT: A simulated domain of `ngpio` interrupts, removed in `drop`.
        Ok(Self {
            domain: crate::error::from_err_ptr(domain)?,
            ngpio: u32::from(ngpio),
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

    /// Returns the interrupt of line `offset`, 0 if it has none mapped.
    fn mapping(&self, offset: u32) -> c_uint {
        if self.domain.is_null() || offset >= self.ngpio {
            return 0;
        }
        let mut irq: c_uint = 0;
        // SAFETY: `domain` is a valid domain (type invariants); `irq` is a valid out pointer.
        let desc =
            unsafe { bindings::__irq_resolve_mapping(self.domain, offset as c_ulong, &mut irq) };
        if desc.is_null() {
            0
        } else {
            irq
        }
    }

    /// Reports `edge` on line `offset`.
    ///
    /// The event is delivered if the line is used as an interrupt that triggers on that edge;
    /// returns whether it was. Does nothing for a chip without edge events.
    pub fn notify(&self, offset: u32, edge: Edge) -> bool {
        let irq = self.mapping(offset);
        if irq == 0 {
            return false;
        }
        let want = match edge {
            Edge::Rising => bindings::IRQ_TYPE_EDGE_RISING,
            Edge::Falling => bindings::IRQ_TYPE_EDGE_FALLING,
        };
        // SAFETY: `irq` is mapped in our domain, so it has interrupt data whose common part is
        // valid; the trigger type is read as `irq_get_trigger_type()` does.
        let trigger = unsafe {
            let data = bindings::irq_get_irq_data(irq);
            if data.is_null() {
                return false;
            }
            (*(*data).common).state_use_accessors & bindings::IRQD_TRIGGER_MASK
        };
        if trigger & want == 0 {
            return false;
        }
        // SAFETY: `irq` is a valid interrupt; marking it pending makes the simulated domain
        // raise it from an irq_work, or nothing if it is masked.
        let ret = unsafe {
            bindings::irq_set_irqchip_state(
                irq,
                bindings::irqchip_irq_state_IRQCHIP_STATE_PENDING,
                true,
            )
        };
        ret == 0
    }
}

// Without `CONFIG_IRQ_SIM` there never is a domain to remove.
#[cfg(CONFIG_IRQ_SIM)]
impl Drop for Events {
    fn drop(&mut self) {
        if self.domain.is_null() {
            return;
        }
        for offset in 0..self.ngpio {
            let irq = self.mapping(offset);
            if irq != 0 {
                // SAFETY: `irq` is a mapping of our domain, which gpiolib no longer uses (the
                // chip was removed before the events are dropped).
                unsafe { bindings::irq_dispose_mapping(irq) };
            }
        }
        // SAFETY: By the type invariants `domain` is ours and is removed once, here.
        unsafe { bindings::irq_domain_remove_sim(self.domain) };
    }
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

    /// Reads every line in `mask` into `values` at once (the other lines' values are left as
    /// they are).
    ///
    /// Without this operation gpiolib calls [`GpioChipOps::get`] line by line.
    fn get_multiple(&self, _mask: &LineBits<'_>, _values: &mut LineValues<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Drives every line in `mask` to its value in `values` at once.
    ///
    /// Without this operation gpiolib calls [`GpioChipOps::set`] line by line.
    fn set_multiple(&self, _mask: &LineBits<'_>, _values: &LineBits<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the direction of line `offset`.
    fn get_direction(&self, offset: u32) -> Result<Direction>;

    /// Makes line `offset` an input.
    fn direction_input(&self, offset: u32) -> Result;

    /// Makes line `offset` an output driving `value`.
    fn direction_output(&self, offset: u32, value: bool) -> Result;

    /// Sets the bias of line `offset`; `events` reports any edge this causes.
    fn set_bias(&self, _events: &Events, _offset: u32, _bias: Bias) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Line `offset` is being requested (by a consumer or a hog).
    fn request(&self, _offset: u32) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Line `offset` is released.
    fn free(&self, _offset: u32) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes file `attr` (an index into [`LineDirs::attrs`]) of line `offset` to `out`.
    fn show_line_attr(&self, _offset: u32, _attr: usize, _out: &mut Formatter<'_>) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Takes `input` written to file `attr` of line `offset`; `events` reports any edge.
    fn store_line_attr(
        &self,
        _events: &Events,
        _offset: u32,
        _attr: usize,
        _input: &[u8],
    ) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// The type-erased operations the shell protects: one implementation for every chip type (the
/// value operations are called typed, see [`ValueOps`]).
trait ErasedOps: Send + Sync {
    fn get_direction(&self, offset: u32) -> Result<Direction>;
    fn direction_input(&self, offset: u32) -> Result;
    fn direction_output(&self, offset: u32, value: bool) -> Result;
    fn set_bias(&self, events: &Events, offset: u32, bias: Bias) -> Result;
    fn request(&self, offset: u32) -> Result;
    fn free(&self, offset: u32);
    fn show_line_attr(&self, offset: u32, attr: usize, out: &mut Formatter<'_>) -> Result;
    fn store_line_attr(&self, events: &Events, offset: u32, attr: usize, input: &[u8]) -> Result;
}

impl<T: GpioChipOps> ErasedOps for T {
    fn get_direction(&self, offset: u32) -> Result<Direction> {
        GpioChipOps::get_direction(self, offset)
    }
    fn direction_input(&self, offset: u32) -> Result {
        GpioChipOps::direction_input(self, offset)
    }
    fn direction_output(&self, offset: u32, value: bool) -> Result {
        GpioChipOps::direction_output(self, offset, value)
    }
    fn set_bias(&self, events: &Events, offset: u32, bias: Bias) -> Result {
        if T::HAS_SET_BIAS {
            GpioChipOps::set_bias(self, events, offset, bias)
        } else {
            Err(ENOTSUPP)
        }
    }
    fn request(&self, offset: u32) -> Result {
        if T::HAS_REQUEST {
            GpioChipOps::request(self, offset)
        } else {
            Ok(())
        }
    }
    fn free(&self, offset: u32) {
        if T::HAS_FREE {
            GpioChipOps::free(self, offset)
        }
    }
    fn show_line_attr(&self, offset: u32, attr: usize, out: &mut Formatter<'_>) -> Result {
        if T::HAS_SHOW_LINE_ATTR {
            GpioChipOps::show_line_attr(self, offset, attr, out)
        } else {
            Err(EIO)
        }
    }
    fn store_line_attr(&self, events: &Events, offset: u32, attr: usize, input: &[u8]) -> Result {
        if T::HAS_STORE_LINE_ATTR {
            GpioChipOps::store_line_attr(self, events, offset, attr, input)
        } else {
            Err(EPERM)
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
    /// Every registered Rust GPIO chip, by the name of its gpio device (`gpiochipN`), which
    /// gpiolib keeps unique while anything holds one of the device's lines: [`provider_of`] finds
    /// a line's chip through it.
    GPIO_CHIPS: GpioChip
);

/// One file of a per-line sysfs directory.
///
/// # Invariants
///
/// `reg` is the registration whose sysfs block holds this slot.
#[repr(C)]
struct LineAttrSlot {
    attr: bindings::device_attribute,
    reg: *const Registration,
    offset: u32,
    index: u32,
}

/// The per-line sysfs directories of a chip: the C descriptions and the memory they point to.
///
/// # Invariants
///
/// While `kobj` is non-null the groups are created on it; the vectors are never grown after the
/// pointers into them were taken.
struct LineSysfs {
    kobj: *mut bindings::kobject,
    _dir_names: KVec<CString>,
    _slots: KVec<LineAttrSlot>,
    _attr_ptrs: KVec<*mut bindings::attribute>,
    _groups: KVec<bindings::attribute_group>,
    group_ptrs: KVec<*const bindings::attribute_group>,
}

impl LineSysfs {
    /// Describes the directories of `dirs` for `ngpio` lines of `reg`.
    fn new(reg: *const Registration, ngpio: u32, dirs: &LineDirs) -> Result<KBox<Self>> {
        let n = ngpio as usize;
        let per = dirs.attrs.len();
        let mut dir_names = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut slots = KVec::with_capacity(n * per, GFP_KERNEL)?;
        let mut attr_ptrs = KVec::with_capacity(n * (per + 1), GFP_KERNEL)?;
        let mut groups = KVec::with_capacity(n, GFP_KERNEL)?;
        let mut group_ptrs = KVec::with_capacity(n + 1, GFP_KERNEL)?;
        for offset in 0..ngpio {
            dir_names.push(
                CString::try_from_fmt(fmt!("{}{}", dirs.prefix, offset))?,
                GFP_KERNEL,
            )?;
            for (index, a) in dirs.attrs.iter().enumerate() {
                let mut attr: bindings::device_attribute = pin_init::zeroed();
                attr.attr.name = a.name.as_char_ptr();
                attr.attr.mode = if a.writable { 0o644 } else { 0o444 };
                // As `sysfs_attr_init()` does: one lockdep class for every such attribute.
                #[cfg(CONFIG_DEBUG_LOCK_ALLOC)]
                {
                    attr.attr.key = crate::static_lock_class!().as_ptr();
                }
                attr.__bindgen_anon_1.show = Some(line_attr_show);
                if a.writable {
                    attr.__bindgen_anon_2.store = Some(line_attr_store);
                }
                // INVARIANT: `reg` holds this block.
                slots.push(
                    LineAttrSlot {
                        attr,
                        reg,
                        offset,
                        index: index as u32,
                    },
                    GFP_KERNEL,
                )?;
            }
        }
        // The vectors are complete: take the pointers.
        for offset in 0..n {
            for index in 0..per {
                let slot = &raw mut slots[offset * per + index];
                // SAFETY: `slot` points into `slots`, which is not grown any more.
                attr_ptrs.push(unsafe { &raw mut (*slot).attr.attr }, GFP_KERNEL)?;
            }
            attr_ptrs.push(ptr::null_mut(), GFP_KERNEL)?;
        }
        for offset in 0..n {
            let mut group: bindings::attribute_group = pin_init::zeroed();
            group.name = dir_names[offset].as_char_ptr();
            group.__bindgen_anon_2.attrs = &raw mut attr_ptrs[offset * (per + 1)];
            groups.push(group, GFP_KERNEL)?;
        }
        for group in groups.iter() {
            group_ptrs.push(ptr::from_ref(group), GFP_KERNEL)?;
        }
        group_ptrs.push(ptr::null(), GFP_KERNEL)?;
        Ok(KBox::new(
            Self {
                kobj: ptr::null_mut(),
                _dir_names: dir_names,
                _slots: slots,
                _attr_ptrs: attr_ptrs,
                _groups: groups,
                group_ptrs,
            },
            GFP_KERNEL,
        )?)
    }

    /// Creates the directories under `dev`.
    ///
    /// # Safety
    ///
    /// `dev` must be a registered device that outlives the directories (they are removed by
    /// [`LineSysfs::remove`]).
    unsafe fn create(&mut self, dev: *mut bindings::device) -> Result {
        // SAFETY: `dev` is valid (safety requirements); the groups are fully described.
        let kobj = unsafe { &raw mut (*dev).kobj };
        // SAFETY: As above.
        to_result(unsafe { bindings::sysfs_create_groups(kobj, self.group_ptrs.as_ptr()) })?;
        // INVARIANT: Created on `kobj`.
        self.kobj = kobj;
        Ok(())
    }

    /// Removes the directories; waits for the `show`/`store` calls running in them.
    fn remove(&mut self) {
        if !self.kobj.is_null() {
            // SAFETY: By the type invariants the groups were created on `kobj`.
            unsafe { bindings::sysfs_remove_groups(self.kobj, self.group_ptrs.as_ptr()) };
            self.kobj = ptr::null_mut();
        }
    }
}

/// A registered chip: the `struct gpio_chip` and the provider behind it.
///
/// # Invariants
///
/// - Once initialised, `chip` is registered with gpiolib until the pinned destructor runs, and its
///   callbacks find this structure with `container_of!`.
/// - The fields before `chip` outlive the registration (they belong to the same pinned
///   structure) and are not changed while it is registered, except `events.domain`, set before
///   the chip is added.
/// - `hogs` are descriptors requested with `gpiochip_request_own_desc()` on `chip`.
/// - The value operations of `chip` are those of a [`ValueOps::of`]`::<T>()` where `T` is the
///   type of the implementation behind `provider`.
#[pin_data(PinnedDrop)]
struct Registration {
    provider: Provider<GpioChip>,
    label: CString,
    _names: KVec<Option<CString>>,
    name_ptrs: KVec<*const c_char>,
    invalid: KVec<u32>,
    events: Events,
    // gpiolib calls back into the chip while it is being added, and the callbacks read the
    // fields above.
    #[pin]
    chip: Opaque<bindings::gpio_chip>,
    hogs: KVec<*mut bindings::gpio_desc>,
    sysfs: Option<KBox<LineSysfs>>,
}

// SAFETY: The registration is only shared with gpiolib and sysfs, which may call back from any
// thread; the fields reached from callbacks are `Sync` or never changed while shared.
unsafe impl Send for Registration {}
// SAFETY: See above.
unsafe impl Sync for Registration {}

/// Registers a GPIO chip with `ngpio` lines, labelled `label`, for the bound device `dev`.
///
/// The chip's provider is revoked when `dev` is unbound, and the chip removed from gpiolib during
/// the revocation: from then on gpiolib answers `ENODEV` for the chip's lines (it has no chip any
/// more).
pub fn register<T: GpioChipOps>(
    dev: &Device<Bound>,
    label: &CStr,
    ngpio: u16,
    ops: impl PinInit<T, Error>,
) -> Result {
    register_with(dev, ChipConfig::new(label, u32::from(ngpio))?, ops).map(|_| ())
}

/// Registers a GPIO chip described by `config` for the bound device `dev`, like [`register`].
///
/// Returns the name of the chip's gpio device (`gpiochipN`, also its character device).
pub fn register_with<T: GpioChipOps>(
    dev: &Device<Bound>,
    config: ChipConfig,
    ops: impl PinInit<T, Error>,
) -> Result<CString> {
    if config.ngpio == 0 {
        return Err(EINVAL);
    }
    if config.ngpio > MAX_LINES {
        return Err(ERANGE);
    }
    if config.hogs.iter().any(|h| h.offset >= config.ngpio) {
        return Err(EINVAL);
    }
    let ops: Pin<KBox<T>> = KBox::pin_init(ops, GFP_KERNEL)?;
    // SAFETY: The box is only unpinned to be unsized into a `KBox<dyn ErasedOps>`, which does not
    // move its contents; `GpioChip` never moves them out either (see its invariants).
    let ops: KBox<T> = unsafe { Pin::into_inner_unchecked(ops) };
    // SAFETY: The value operations are built for `T`, the type behind `ops`.
    unsafe { register_erased(dev, config, ops, ValueOps::of::<T>()) }
}

/// The C operations on line values, built for the implementation's type: gpiolib's hot path
/// reaches the driver's code without a dynamic call.
struct ValueOps {
    get: GetFn,
    set: SetFn,
    get_multiple: Option<MultipleFn>,
    set_multiple: Option<MultipleFn>,
}

type GetFn = unsafe extern "C" fn(*mut bindings::gpio_chip, c_uint) -> c_int;
type SetFn = unsafe extern "C" fn(*mut bindings::gpio_chip, c_uint, c_int) -> c_int;
type MultipleFn =
    unsafe extern "C" fn(*mut bindings::gpio_chip, *mut c_ulong, *mut c_ulong) -> c_int;

impl ValueOps {
    fn of<T: GpioChipOps>() -> Self {
        Self {
            get: get_callback::<T>,
            set: set_callback::<T>,
            get_multiple: T::HAS_GET_MULTIPLE.then_some(get_multiple_callback::<T> as MultipleFn),
            set_multiple: T::HAS_SET_MULTIPLE.then_some(set_multiple_callback::<T> as MultipleFn),
        }
    }
}

/// The non-generic part of [`register_with`].
///
/// # Safety
///
/// `values` must be `ValueOps::of::<T>()` for the type `T` behind `ops`: its callbacks cast the
/// implementation they find back to `T`.
unsafe fn register_erased(
    dev: &Device<Bound>,
    config: ChipConfig,
    ops: KBox<dyn ErasedOps>,
    values: ValueOps,
) -> Result<CString> {
    let ngpio = config.ngpio as u16;
    let mut names = config.names;
    names.truncate(usize::from(ngpio));
    // INVARIANT: `ops` comes pinned from `register_with`.
    let provider = Provider::new(GpioChip { ops, ngpio })?;
    let parent = dev.as_raw();

    let mut name_ptrs = KVec::new();
    if names.iter().any(Option::is_some) {
        for offset in 0..usize::from(ngpio) {
            let name = names.get(offset).and_then(Option::as_ref);
            name_ptrs.push(name.map_or(ptr::null(), |n| n.as_char_ptr()), GFP_KERNEL)?;
        }
    }
    let hogs = config.hogs;
    let line_dirs = config.line_dirs;
    let edge_events = config.edge_events;
    let mut chip_name = None;

    devres::register::<Registration, Error>(
        dev,
        try_pin_init!(Registration {
            provider,
            label: config.label,
            _names: names,
            name_ptrs,
            invalid: config.invalid,
            events: Events::none(),
            chip <- Opaque::try_ffi_init(|slot: *mut bindings::gpio_chip| {
                // SAFETY: `slot` is valid for writes of a `gpio_chip`; all-zero is a valid value.
                unsafe { slot.write(pin_init::zeroed()) };
                // SAFETY: `slot` is the `chip` field of a `Registration` whose earlier fields are
                // initialised.
                let reg = unsafe { registration_of(slot) };
                if edge_events {
                    // SAFETY: `slot` is the `chip` of this registration, which drops its
                    // `events` (removing the domain) only after the chip's removal.
                    let events = unsafe { Events::new(ngpio, slot) }?;
                    // SAFETY: Nothing else refers to `events` yet; see the type invariants.
                    unsafe { (*reg.cast_mut()).events = events };
                }
                // SAFETY: `slot` is valid and initialised above; the label and names point into
                // fields of this registration initialised before `chip`.
                unsafe {
                    (*slot).label = (*reg).label.as_char_ptr();
                    (*slot).parent = parent;
                    (*slot).base = -1;
                    (*slot).ngpio = ngpio;
                    (*slot).can_sleep = true;
                    if !(*reg).name_ptrs.is_empty() {
                        (*slot).names = (*reg).name_ptrs.as_ptr();
                    }
                    (*slot).request = Some(request_callback);
                    (*slot).free = Some(free_callback);
                    // INVARIANT: `values` is built for the type behind `provider` (the
                    // function's safety requirement).
                    (*slot).get = Some(values.get);
                    (*slot).set = Some(values.set);
                    (*slot).get_multiple = values.get_multiple;
                    (*slot).set_multiple = values.set_multiple;
                    (*slot).get_direction = Some(get_direction_callback);
                    (*slot).direction_input = Some(direction_input_callback);
                    (*slot).direction_output = Some(direction_output_callback);
                    (*slot).set_config = Some(set_config_callback);
                    (*slot).init_valid_mask = Some(init_valid_mask_callback);
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
            hogs: KVec::new(),
            sysfs: None,
        }? Error)
        .pin_chain(|this| finish(this, &hogs, line_dirs.as_ref(), &mut chip_name)),
        GFP_KERNEL,
    )?;
    chip_name.ok_or(EINVAL)
}

/// The steps after the chip is added: the hogs, the sysfs directories, the chip's name.
fn finish(
    mut this: Pin<&mut Registration>,
    hogs: &[Hog],
    line_dirs: Option<&LineDirs>,
    chip_name: &mut Option<CString>,
) -> Result {
    let gc = this.chip.get();
    let reg: *const Registration = &*this;
    // SAFETY: The chip is registered (type invariants), so its gpio device is valid.
    let gdev_dev = unsafe { bindings::gpio_device_to_device((*gc).gpiodev) };
    // SAFETY: `gdev_dev` is a registered device; its name is a valid C string.
    let name = unsafe { CStr::from_char_ptr(bindings::dev_name(gdev_dev)) };
    *chip_name = Some(CString::try_from(name)?);
    this.provider.register(&GPIO_CHIPS, name)?;

    let fields = this.as_mut().project();
    for hog in hogs {
        let dflags = match hog.direction {
            HogDirection::Input => bindings::gpiod_flags_GPIOD_IN,
            HogDirection::OutputLow => bindings::gpiod_flags_GPIOD_OUT_LOW,
            HogDirection::OutputHigh => bindings::gpiod_flags_GPIOD_OUT_HIGH,
        };
        let lflags = if hog.active_low {
            bindings::gpio_lookup_flags_GPIO_ACTIVE_LOW
        } else {
            bindings::gpio_lookup_flags_GPIO_ACTIVE_HIGH
        };
        let label = hog.name.as_ref().map_or(ptr::null(), |n| n.as_char_ptr());
        fields.hogs.reserve(1, GFP_KERNEL)?;
        // SAFETY: The chip is registered and `hog.offset` is below its line count (checked in
        // `register_with`); gpiolib copies the label.
        let desc = unsafe {
            crate::error::from_err_ptr(bindings::gpiochip_request_own_desc(
                gc, hog.offset, label, lflags, dflags,
            ))
        }?;
        // INVARIANT: Requested with `gpiochip_request_own_desc()`; capacity reserved above.
        fields.hogs.push(desc, GFP_KERNEL)?;
    }

    if let Some(dirs) = line_dirs {
        // SAFETY: The chip is registered; `ngpio` was set when it was initialised.
        let ngpio = u32::from(unsafe { (*gc).ngpio });
        let mut sysfs = LineSysfs::new(reg, ngpio, dirs)?;
        // SAFETY: The gpio device stays registered until `gpiochip_remove()`, and the
        // directories are removed before it (`Registration::drop`).
        unsafe { sysfs.create(gdev_dev) }?;
        *fields.sysfs = Some(sysfs);
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
        if let Some(sysfs) = this.sysfs.as_mut() {
            sysfs.remove();
        }
        for desc in this.hogs.drain_all() {
            // SAFETY: By the type invariants `desc` was requested on our chip, still registered.
            unsafe { bindings::gpiochip_free_own_desc(desc) };
        }
        let chip = this.chip.get();
        // The fence, with the chip's removal inside it: sysfs calls get `ENODEV` from now on,
        // and gpiolib's callbacks too (see `with_chip`). The removal waits for gpiolib's readers
        // while a worker waits for ours, and the implementation is dropped after both.
        this.provider.shell().revoke_during(|| {
            // SAFETY: By the type invariants the chip is registered. Its interrupts (if any)
            // stay mapped until `events` is dropped, after this.
            unsafe { bindings::gpiochip_remove(chip) };
        });
    }
}

/// Runs `f` on the chip of the gpiolib callback for `gc`, without entering the provider's shell.
///
/// # Safety
///
/// `gc` must be the `chip` of a live `Registration`, and the caller must be gpiolib calling one
/// of the chip's operations: it does so only while adding the chip or inside its SRCU read
/// section of the gpio device with the chip published.
unsafe fn with_chip<R>(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    f: impl FnOnce(&GpioChip, u32, &Events) -> Result<R>,
) -> Result<R> {
    // SAFETY: Per the function's safety requirements `gc` is the `chip` field of a registration.
    let reg = unsafe { registration_of(gc) };
    // SAFETY: `provider` and `events` are initialised before `chip` and live as long as the
    // registration; only the fields are borrowed, never the (possibly still initialising) whole
    // structure.
    let (provider, events) = unsafe { (&(*reg).provider, &(*reg).events) };
    // The shell is revoked only when the registration is dropped, and that revocation runs
    // `gpiochip_remove()`, which unpublishes the chip and waits for gpiolib's read sections,
    // before it returns.
    // SAFETY: Per the safety requirements this runs inside such a section (or during the add,
    // before any revocation), so no revocation returns before this function does.
    let chip = unsafe { provider.shell().access_unchecked() }?;
    chip.check(offset)?;
    f(chip, offset, events)
}

/// The C `request` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn request_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    // SAFETY: gpiolib passes a registered chip.
    from_result(|| unsafe { with_chip(gc, offset, |c, o, _| c.ops().request(o)) }.map(|()| 0))
}

/// The C `free` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn free_callback(gc: *mut bindings::gpio_chip, offset: c_uint) {
    // After the unbind there is nothing to release.
    // SAFETY: gpiolib passes a registered chip.
    let _ = unsafe {
        with_chip(gc, offset, |c, o, _| {
            c.ops().free(o);
            Ok(())
        })
    };
}

/// Runs `f` on the implementation of the chip of the gpiolib callback for `gc`, like
/// [`with_chip`], without a dynamic call.
///
/// # Safety
///
/// As for [`with_chip`], and the chip's implementation must be a `T`.
#[inline]
unsafe fn with_impl<T: GpioChipOps, R>(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    f: impl FnOnce(&GpioChip, &T) -> Result<R>,
) -> Result<R> {
    let on_impl = |chip: &GpioChip, _: u32, _: &Events| {
        let imp: *const dyn ErasedOps = chip.ops();
        // SAFETY: Per the function's safety requirements the implementation is a `T`, which the
        // data pointer of the trait object points to.
        f(chip, unsafe { &*imp.cast::<T>() })
    };
    // SAFETY: Per the function's safety requirements.
    unsafe { with_chip(gc, offset, on_impl) }
}

/// The C `get` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`] for an implementation of type `T`: the
/// callback is installed only for such.
unsafe extern "C" fn get_callback<T: GpioChipOps>(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
) -> c_int {
    // SAFETY: gpiolib passes a registered chip, of a `T` (the function's safety requirements).
    from_result(|| unsafe { with_impl::<T, _>(gc, offset, |_, t| t.get(offset)) }.map(c_int::from))
}

/// The C `set` operation.
///
/// # Safety
///
/// As for [`get_callback`].
unsafe extern "C" fn set_callback<T: GpioChipOps>(
    gc: *mut bindings::gpio_chip,
    offset: c_uint,
    value: c_int,
) -> c_int {
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip, of a `T` (the function's safety
        // requirements).
        unsafe { with_impl::<T, _>(gc, offset, |_, t| t.set(offset, value != 0)) }.map(|()| 0)
    })
}

/// The words of gpiolib's `mask` of a `get_multiple` or `set_multiple` call, up to the last one
/// with a line set (none if no line is).
///
/// # Safety
///
/// `mask` must hold a bit for each of the chip's `ngpio` lines and stay valid and unchanged for
/// the returned lifetime.
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

/// The C `get_multiple` operation.
///
/// # Safety
///
/// As for [`get_callback`]; `mask` must be a bitmap with a bit for each of the chip's lines and
/// `bits` one that covers the highest line set in `mask`, which only this call uses: gpiolib
/// passes such.
unsafe extern "C" fn get_multiple_callback<T: GpioChipOps>(
    gc: *mut bindings::gpio_chip,
    mask: *mut c_ulong,
    bits: *mut c_ulong,
) -> c_int {
    let get = |c: &GpioChip, t: &T| -> Result {
        // SAFETY: Per the function's safety requirements `mask` covers the chip's lines.
        let mask = unsafe { mask_words(c.ngpio, mask) };
        if mask.is_empty() {
            return Ok(());
        }
        // SAFETY: `bits` covers the highest line in `mask`, so it has at least as many words,
        // and only this call uses them.
        let bits = unsafe { core::slice::from_raw_parts_mut(bits, mask.len()) };
        t.get_multiple(&LineBits::new(mask), &mut LineValues::new(bits))
    };
    // SAFETY: gpiolib passes a registered chip, of a `T` (the function's safety requirements).
    from_result(|| unsafe { with_impl::<T, _>(gc, 0, get) }.map(|()| 0))
}

/// The C `set_multiple` operation.
///
/// # Safety
///
/// As for [`get_multiple_callback`], except that `bits` is only read.
unsafe extern "C" fn set_multiple_callback<T: GpioChipOps>(
    gc: *mut bindings::gpio_chip,
    mask: *mut c_ulong,
    bits: *mut c_ulong,
) -> c_int {
    let set = |c: &GpioChip, t: &T| -> Result {
        // SAFETY: Per the function's safety requirements `mask` covers the chip's lines.
        let mask = unsafe { mask_words(c.ngpio, mask) };
        if mask.is_empty() {
            return Ok(());
        }
        // SAFETY: `bits` covers the highest line in `mask`, so it has at least as many words;
        // gpiolib does not change them during the call.
        let bits = unsafe { core::slice::from_raw_parts(bits, mask.len()) };
        t.set_multiple(&LineBits::new(mask), &LineBits::new(bits))
    };
    // SAFETY: gpiolib passes a registered chip, of a `T` (the function's safety requirements).
    from_result(|| unsafe { with_impl::<T, _>(gc, 0, set) }.map(|()| 0))
}

/// The C `get_direction` operation.
///
/// # Safety
///
/// `gc` must be a chip registered by [`register`]: gpiolib only calls back registered chips.
unsafe extern "C" fn get_direction_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip.
        let dir = unsafe { with_chip(gc, offset, |c, o, _| c.ops().get_direction(o)) }?;
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
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip.
        unsafe { with_chip(gc, offset, |c, o, _| c.ops().direction_input(o)) }.map(|()| 0)
    })
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
        unsafe {
            with_chip(gc, offset, |c, o, _| {
                c.ops().direction_output(o, value != 0)
            })
        }
        .map(|()| 0)
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
    from_result(|| {
        // SAFETY: gpiolib passes a registered chip.
        unsafe { with_chip(gc, offset, |c, o, e| c.ops().set_bias(e, o, bias)) }.map(|()| 0)
    })
}

/// The C `init_valid_mask` operation: clears the lines the registration calls invalid.
///
/// # Safety
///
/// `gc` must be a chip being added by [`register`]; `mask` must hold `ngpios` bits.
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
/// `gc` must be a chip registered by [`register`] with edge events.
unsafe extern "C" fn to_irq_callback(gc: *mut bindings::gpio_chip, offset: c_uint) -> c_int {
    // Not through the implementation: only the domain is needed, and it lives until after the
    // chip's removal.
    // SAFETY: `events` is initialised before the chip is added and outlives its registration.
    let events = unsafe { &(*registration_of(gc)).events };
    if events.domain.is_null() || offset >= events.ngpio {
        return ENXIO.to_errno();
    }
    // SAFETY: `domain` is valid (`Events` invariants) and `offset` is one of its interrupts.
    let irq = unsafe {
        bindings::irq_create_mapping_affinity(events.domain, offset as c_ulong, ptr::null())
    };
    if irq == 0 {
        ENXIO.to_errno()
    } else {
        irq as c_int
    }
}

/// The simulated interrupt domain's hook for an interrupt being requested: gpiolib must know the
/// line is used as one.
///
/// # Safety
///
/// `data` must be the `chip` of a registration whose domain this is.
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
/// `data` must be the `chip` of a registration whose domain this is.
#[cfg(CONFIG_IRQ_SIM)]
unsafe extern "C" fn irq_released(
    _domain: *mut bindings::irq_domain,
    hwirq: bindings::irq_hw_number_t,
    data: *mut c_void,
) {
    // SAFETY: gpiolib frees a chip's interrupts while it removes the chip, and the mappings are
    // disposed of right after: the chip is still valid here.
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

/// Runs `f` on the chip behind the sysfs file `attr`, inside the chip's provider shell.
///
/// # Safety
///
/// `attr` must be the `attr` of a [`LineAttrSlot`] whose directory exists.
unsafe fn with_line_attr<R>(
    attr: *mut bindings::device_attribute,
    f: impl FnOnce(&GpioChip, &Events, u32, usize) -> Result<R>,
) -> Result<R> {
    // SAFETY: Per the function's safety requirements.
    let slot = unsafe { &*container_of!(attr, LineAttrSlot, attr) };
    // SAFETY: The directory exists, so its registration does (it removes the directories before
    // it goes); only fields set before the chip was added are read.
    let (provider, events) = unsafe { (&(*slot.reg).provider, &(*slot.reg).events) };
    let chip = provider.shell().read()?;
    f(&chip, events, slot.offset, slot.index as usize)
}

/// The sysfs `show` of a per-line file.
///
/// # Safety
///
/// Called by sysfs for an attribute of a [`LineSysfs`], with a page-sized `buf`.
unsafe extern "C" fn line_attr_show(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a buffer of a page.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), crate::page::PAGE_SIZE) };
    let mut out = Formatter::new(page);
    // SAFETY: sysfs passes one of our attributes.
    match unsafe { with_line_attr(attr, |c, _, o, i| c.ops().show_line_attr(o, i, &mut out)) } {
        Ok(()) => out.bytes_written() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// The sysfs `store` of a per-line file.
///
/// # Safety
///
/// Called by sysfs for an attribute of a [`LineSysfs`], with `count` bytes at `buf`.
unsafe extern "C" fn line_attr_store(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    // SAFETY: sysfs passes one of our attributes.
    match unsafe { with_line_attr(attr, |c, e, o, i| c.ops().store_line_attr(e, o, i, input)) } {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
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
/// use kernel::resmgr::gpio::LineBits;
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
/// use kernel::resmgr::gpio::LineValues;
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
/// Returns `ENOENT` if the line's chip is not a registered Rust chip (a C chip, or a Rust chip
/// already unbound).
///
/// # Examples
///
/// ```
/// use kernel::{
///     gpio::consumer::Desc,
///     prelude::*,
///     resmgr::gpio,
/// };
///
/// fn wait_for_unbind(line: &Desc) -> Result {
///     gpio::provider_of(line)?.wait_revoked()
/// }
/// ```
pub fn provider_of(line: &crate::gpio::consumer::Desc) -> Result<Handle<GpioChip>> {
    // SAFETY: `line` holds its descriptor, and with it a reference to the descriptor's gpio
    // device, which keeps the device and its name alive and the name unused by any other device.
    let name = unsafe {
        let gdev = bindings::gpiod_to_gpio_device(line.as_raw());
        CStr::from_char_ptr(bindings::dev_name(bindings::gpio_device_to_device(gdev)))
    };
    GPIO_CHIPS.lookup(name)
}
