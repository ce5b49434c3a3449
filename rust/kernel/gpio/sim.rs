// SPDX-License-Identifier: GPL-2.0

//! What a GPIO simulator adds to a chip: per-line sysfs directories.
//!
//! A simulator registers its chips with [`register`] instead of
//! [`driver::register_with`]: on top of the chip it gets one sysfs
//! directory per line under the chip's gpio device ([`LineDirs`], served by [`LineAttrOps`]),
//! through which userspace drives the simulated hardware. The rest of a simulated chip's
//! description (line names, invalid lines, hogs) goes in its firmware node
//! ([`ChipConfig::fwnode`](super::driver::ChipConfig::fwnode)), from which gpiolib takes it as
//! for any chip. The files go through the chip's provider shell: once the simulator's device is
//! unbound they answer `ENODEV` until they are removed, and the removal waits for the calls
//! inside them.
//!
//! C header: [`include/linux/gpio/driver.h`](srctree/include/linux/gpio/driver.h)

use super::driver::{
    self,
    Events,
    GpioChipOps,
    Registration, //
};
use crate::{
    bindings, container_of,
    device::{
        Bound,
        Device, //
    },
    error::to_result,
    prelude::*,
    str::{
        CString,
        Formatter, //
    },
};
use core::ptr;

/// A file in each per-line sysfs directory of a chip (see [`LineDirs`]).
pub struct LineAttr {
    /// The file's name.
    pub name: &'static CStr,
    /// Whether the file can be written ([`LineAttrOps::store_line_attr`] decides what it takes).
    pub writable: bool,
}

/// Per-line sysfs directories under the chip's gpio device (`gpiochipN/<prefix><offset>/`), each
/// with the files `attrs`.
pub struct LineDirs {
    /// The directories' name before the line offset, for example `"sim_gpio"`.
    pub prefix: &'static str,
    /// The files of each directory.
    pub attrs: &'static [LineAttr],
}

/// What [`register`] adds to a chip.
#[derive(Default)]
pub struct SimConfig {
    /// Per-line sysfs directories, if any.
    pub line_dirs: Option<LineDirs>,
}

/// The operations behind the files of [`LineDirs`].
///
/// They are called inside the chip's provider shell, with the chip's device bound, never after
/// its unbind (the files answer `ENODEV` then).
pub trait LineAttrOps: GpioChipOps {
    /// Writes file `attr` (an index into [`LineDirs::attrs`]) of line `offset` to `out`.
    fn show_line_attr(
        &self,
        dev: &Device<Bound>,
        offset: u32,
        attr: usize,
        out: &mut Formatter<'_>,
    ) -> Result;

    /// Takes `input` written to file `attr` of line `offset`; `events` reports any edge.
    fn store_line_attr(
        &self,
        dev: &Device<Bound>,
        events: &Events,
        offset: u32,
        attr: usize,
        input: &[u8],
    ) -> Result;
}

/// Registers a simulated GPIO chip described by `config` and `sim` for the bound device `dev`.
///
/// Like [`driver::register_with`], whose result it returns, with the directories of `sim`.
pub fn register<T: LineAttrOps>(
    dev: &Device<Bound>,
    config: driver::ChipConfig,
    sim: SimConfig,
    data: impl PinInit<T, Error>,
) -> Result<CString> {
    let setup = SimSetup {
        dirs: sim.line_dirs.as_ref().map(|dirs| AttrFns {
            dirs,
            show: line_attr_show::<T>,
            store: line_attr_store::<T>,
        }),
    };
    driver::register_inner::<T>(dev, config, Some(setup), data)
}

type ShowFn = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *mut c_char,
) -> isize;
type StoreFn = unsafe extern "C" fn(
    *mut bindings::device,
    *mut bindings::device_attribute,
    *const c_char,
    usize,
) -> isize;

/// The sysfs directories of a simulator with the callbacks built for its type.
pub(super) struct AttrFns<'a> {
    dirs: &'a LineDirs,
    show: ShowFn,
    store: StoreFn,
}

/// What [`register`] hands to the chip's registration.
pub(super) struct SimSetup<'a> {
    dirs: Option<AttrFns<'a>>,
}

/// What a simulator added to a registered chip: its sysfs directories.
pub(super) struct SimParts {
    sysfs: Option<KBox<LineSysfs>>,
}

impl SimParts {
    /// Creates the directories of `setup` on the chip `gc`.
    ///
    /// # Safety
    ///
    /// `gc` must be the registered chip of the pinned registration `reg`, `gdev_dev` its gpio
    /// device, and the registration must call [`SimParts::remove`] (or drop the parts) before it
    /// removes the chip.
    pub(super) unsafe fn add(
        setup: SimSetup<'_>,
        reg: *const Registration,
        gc: *mut bindings::gpio_chip,
        gdev_dev: *mut bindings::device,
    ) -> Result<KBox<Self>> {
        let mut parts = KBox::new(Self { sysfs: None }, GFP_KERNEL)?;
        if let Some(fns) = setup.dirs {
            // SAFETY: The chip is registered; `ngpio` was set when it was initialised.
            let ngpio = u32::from(unsafe { (*gc).ngpio });
            let mut sysfs = LineSysfs::new(reg, ngpio, &fns)?;
            // SAFETY: The gpio device stays registered until the chip's removal, and the
            // directories are removed before it (safety requirements).
            unsafe { sysfs.create(gdev_dev) }?;
            parts.sysfs = Some(sysfs);
        }
        Ok(parts)
    }

    /// Removes the directories, waiting for the calls inside them.
    pub(super) fn remove(&mut self) {
        if let Some(sysfs) = self.sysfs.as_mut() {
            sysfs.remove();
        }
    }
}

impl Drop for SimParts {
    fn drop(&mut self) {
        self.remove();
    }
}

// SAFETY: The directories are only removed, which sysfs allows from any thread.
unsafe impl Send for SimParts {}
// SAFETY: No `&self` methods.
unsafe impl Sync for SimParts {}

/// One file of a per-line sysfs directory.
///
/// # Invariants
///
/// `reg` is the registration whose sysfs block holds this slot, and the block's callbacks are
/// those built for the type of its chip's data.
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
    /// Describes the directories of `fns` for `ngpio` lines of `reg`.
    fn new(reg: *const Registration, ngpio: u32, fns: &AttrFns<'_>) -> Result<KBox<Self>> {
        let dirs = fns.dirs;
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
                attr.__bindgen_anon_1.show = Some(fns.show);
                if a.writable {
                    attr.__bindgen_anon_2.store = Some(fns.store);
                }
                // INVARIANT: `reg` holds this block; `fns` are built for its chip's data.
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
        // SAFETY: `dev` is valid (safety requirements).
        let kobj = unsafe { &raw mut (*dev).kobj };
        // SAFETY: As above; the groups are fully described.
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

/// Runs `f` on the data behind the sysfs file `attr`, inside the chip's provider shell.
///
/// # Safety
///
/// `attr` must be the `attr` of a [`LineAttrSlot`] whose directory exists, of a chip whose data
/// is a `T`.
unsafe fn with_line_attr<T: LineAttrOps, R>(
    attr: *mut bindings::device_attribute,
    f: impl FnOnce(&T, &Device<Bound>, &Events, u32, usize) -> Result<R>,
) -> Result<R> {
    // SAFETY: Per the function's safety requirements.
    let slot = unsafe { &*container_of!(attr, LineAttrSlot, attr) };
    // SAFETY: The directory exists, so its registration does (it removes the directories before
    // it goes).
    let (chip, events, dev) = unsafe { (*slot.reg).enter() }?;
    // SAFETY: Per the safety requirements the chip's data is a `T`.
    let imp = unsafe { chip.imp::<T>() };
    f(imp, dev, events, slot.offset, slot.index as usize)
}

/// The sysfs `show` of a per-line file.
///
/// # Safety
///
/// Called by sysfs for an attribute of a [`LineSysfs`] built for `T`, with a page-sized `buf`.
unsafe extern "C" fn line_attr_show<T: LineAttrOps>(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut c_char,
) -> isize {
    // SAFETY: sysfs passes a buffer of a page.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), crate::page::PAGE_SIZE) };
    let mut out = Formatter::new(page);
    let show = |t: &T, d: &Device<Bound>, _: &Events, o, i| t.show_line_attr(d, o, i, &mut out);
    // SAFETY: sysfs passes one of our attributes, built for `T`.
    match unsafe { with_line_attr(attr, show) } {
        Ok(()) => out.bytes_written() as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// The sysfs `store` of a per-line file.
///
/// # Safety
///
/// Called by sysfs for an attribute of a [`LineSysfs`] built for `T`, with `count` bytes at
/// `buf`.
unsafe extern "C" fn line_attr_store<T: LineAttrOps>(
    _dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *const c_char,
    count: usize,
) -> isize {
    // SAFETY: sysfs passes `count` readable bytes.
    let input = unsafe { core::slice::from_raw_parts(buf.cast::<u8>(), count) };
    let store = |t: &T, d: &Device<Bound>, e: &Events, o, i| t.store_line_attr(d, e, o, i, input);
    // SAFETY: sysfs passes one of our attributes, built for `T`.
    match unsafe { with_line_attr(attr, store) } {
        Ok(()) => count as isize,
        Err(e) => e.to_errno() as isize,
    }
}
