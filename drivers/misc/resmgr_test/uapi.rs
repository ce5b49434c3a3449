// SPDX-License-Identifier: GPL-2.0

//! The ioctl ABI of `/dev/resmgr-test`: `include/uapi/linux/resmgr_test.h` as Rust types.
//!
//! Each structure has the header's layout (`#[repr(C)]`, 64-bit fields only, so no padding and
//! one layout for every ABI) and is copied from and to userspace as a whole with [`read`] and
//! [`write`].

use kernel::{
    ioctl::{
        _IOR,
        _IOW,
        _IOWR, //
    },
    prelude::*,
    uaccess::{
        UserPtr,
        UserSlice, //
    },
};
use zerocopy::Immutable;
// The derive macro, beside the trait of the same name (the prelude does so for `FromBytes`).
use zerocopy_derive::Immutable;

pub(crate) const MAGIC: u32 = 0xb7;
/// `RESMGR_TEST_LABEL_LEN`.
pub(crate) const LABEL_LEN: usize = 32;

/// The most handles one file holds (`RESMGR_TEST_MAX_HANDLES`).
///
/// A lookup beyond them fails with `ENOSPC`, as an id allocator does when its range is full.
/// `resmgr-bench` holds 10000 handles per file.
pub(crate) const MAX_HANDLES: usize = 16384;

/// Pages of the buffer that `mmap()` maps (`RESMGR_TEST_MMAP_PAGES`).
pub(crate) const MMAP_PAGES: usize = 4;

/// `struct resmgr_test_gpio_lookup`, also used for regulator lookups.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable)]
pub(crate) struct Lookup {
    /// NUL-terminated connection id or regulator name.
    pub(crate) name: [u8; LABEL_LEN],
    pub(crate) index: u64,
    /// Out: the new handle's id.
    pub(crate) id: u64,
}

/// `struct resmgr_test_gpio_op`: an operation on a handle.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable)]
pub(crate) struct Op {
    pub(crate) id: u64,
    pub(crate) value: u64,
}

/// `struct resmgr_test_counters`.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable)]
pub(crate) struct Counters {
    pub(crate) files: u64,
    pub(crate) handles: u64,
    pub(crate) revoked_waits: u64,
}

/// `struct resmgr_test_bench`.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable)]
pub(crate) struct Bench {
    pub(crate) kind: u64,
    pub(crate) iterations: u64,
    pub(crate) threads: u64,
    pub(crate) nanoseconds: u64,
}

/// `struct resmgr_test_kwork`.
#[repr(C)]
#[derive(FromBytes, IntoBytes, Immutable)]
pub(crate) struct KWork {
    pub(crate) gpio: [u8; LABEL_LEN],
    pub(crate) regulator: [u8; LABEL_LEN],
    pub(crate) workers: u64,
    pub(crate) ok: u64,
    pub(crate) enodev: u64,
    pub(crate) enoent: u64,
    pub(crate) other: u64,
    pub(crate) last_other: u64,
}

pub(crate) const GPIO_LOOKUP: u32 = _IOWR::<Lookup>(MAGIC, 0x01);
pub(crate) const GPIO_GET: u32 = _IOWR::<Op>(MAGIC, 0x02);
pub(crate) const GPIO_SET: u32 = _IOW::<Op>(MAGIC, 0x03);
pub(crate) const GPIO_INPUT: u32 = _IOW::<Op>(MAGIC, 0x04);
pub(crate) const GPIO_OUTPUT: u32 = _IOW::<Op>(MAGIC, 0x05);
pub(crate) const GPIO_DIRECTION: u32 = _IOWR::<Op>(MAGIC, 0x06);
/// A `__u64`: the id of the handle to drop.
pub(crate) const DROP: u32 = _IOW::<u64>(MAGIC, 0x07);
/// A `__u64`: the id of the line whose provider to wait for.
pub(crate) const WAIT_REVOKED: u32 = _IOW::<u64>(MAGIC, 0x08);
pub(crate) const COUNTERS: u32 = _IOR::<Counters>(MAGIC, 0x09);
pub(crate) const REG_LOOKUP: u32 = _IOWR::<Lookup>(MAGIC, 0x0a);
pub(crate) const REG_ENABLE: u32 = _IOW::<Op>(MAGIC, 0x0b);
pub(crate) const REG_DISABLE: u32 = _IOW::<Op>(MAGIC, 0x0c);
pub(crate) const REG_IS_ENABLED: u32 = _IOWR::<Op>(MAGIC, 0x0d);
pub(crate) const REG_GET_VOLTAGE: u32 = _IOWR::<Op>(MAGIC, 0x0e);
pub(crate) const REG_SET_VOLTAGE: u32 = _IOW::<Op>(MAGIC, 0x0f);
pub(crate) const CREG_GET: u32 = _IOWR::<Lookup>(MAGIC, 0x10);
pub(crate) const CREG_GET_VOLTAGE: u32 = _IOWR::<Op>(MAGIC, 0x11);
pub(crate) const CREG_SET_VOLTAGE: u32 = _IOW::<Op>(MAGIC, 0x12);
pub(crate) const BENCH: u32 = _IOWR::<Bench>(MAGIC, 0x13);
pub(crate) const KWORK_START: u32 = _IOW::<KWork>(MAGIC, 0x14);
pub(crate) const KWORK_STOP: u32 = _IOWR::<KWork>(MAGIC, 0x15);
/// A `__u64`: the poll mask this file reports from now on.
pub(crate) const POLL_MASK: u32 = _IOW::<u64>(MAGIC, 0x16);
pub(crate) const GPIO_ACTIVE_LOW: u32 = _IOWR::<Op>(MAGIC, 0x17);
pub(crate) const GPIO_TO_IRQ: u32 = _IOWR::<Op>(MAGIC, 0x18);
pub(crate) const GPIO_GET_ATOMIC: u32 = _IOWR::<Op>(MAGIC, 0x19);

/// Reads the `T` that an ioctl's `arg` points to (`EFAULT` for a bad address).
pub(crate) fn read<T: FromBytes + IntoBytes>(arg: usize) -> Result<T> {
    let mut value = T::new_zeroed();
    UserSlice::new(UserPtr::from_addr(arg), size_of::<T>())
        .reader()
        .read_slice(value.as_mut_bytes())?;
    Ok(value)
}

/// Writes `value` where an ioctl's `arg` points (`EFAULT` for a bad address).
pub(crate) fn write<T: IntoBytes + Immutable>(arg: usize, value: &T) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), size_of::<T>())
        .writer()
        .write_slice(value.as_bytes())
}

/// The NUL-terminated string at the start of a fixed-size label field (`EINVAL` without a NUL).
pub(crate) fn label_of(field: &[u8; LABEL_LEN]) -> Result<&CStr> {
    let len = field.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    CStr::from_bytes_with_nul(&field[..=len]).map_err(|_| EINVAL)
}
