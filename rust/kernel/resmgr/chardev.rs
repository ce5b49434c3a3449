// SPDX-License-Identifier: GPL-2.0

//! Revocable character devices: misc devices whose open files survive their driver's unbind.
//!
//! A driver implements [`ChardevOps`] and calls [`register`] in probe. Every file operation reaches
//! the driver only through the device's provider shell. When the device is unbound the shell is
//! revoked (operations already inside finish, then the implementation is dropped), every poller
//! is woken with `EPOLLHUP | EPOLLERR`, and the misc device is deregistered. Files that are still
//! open then get `ENODEV` from `read()`, `write()` and `ioctl()` (also the 32-bit `compat_ioctl()`,
//! which reaches `ioctl()`), `EPOLLHUP | EPOLLERR` from `poll()`, and `close()` still runs the
//! driver's per-file release, without the implementation. The files are not seekable: `lseek()`
//! answers `ESPIPE`, before the unbind and after it.
//!
//! The wait queue that pollers sleep on is not part of the implementation: `select()` and `poll()`
//! waiters stay on it until their system call returns, which may be long after the revocation, so
//! it lives as long as the registration or any open file of the device.
//!
//! Open and release never wait for a grace period.
//!
//! C header: [`include/linux/miscdevice.h`](srctree/include/linux/miscdevice.h)

use super::{
    Guard,
    Handle,
    Provider, //
};
use crate::{
    bindings,
    device::{
        Bound,
        Device, //
    },
    devres,
    error::VTABLE_DEFAULT_ERROR,
    fs::{
        File,
        Kiocb, //
    },
    iov::{
        IovIterDest,
        IovIterSource, //
    },
    miscdevice::{
        poll_events::{
            EPOLLERR,
            EPOLLHUP,
            EPOLLIN,
            EPOLLOUT,
            EPOLLPRI, //
        },
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
    static_lock_class,
    sync::{
        poll::{
            PollCondVarBox,
            PollTable, //
        },
        Arc,
    },
};
use core::{
    ffi::c_void,
    marker::PhantomData, //
};

/// `poll()` mask of a file whose device is gone.
///
/// `EPOLLHUP | EPOLLERR`, which `poll()` and epoll report whatever was asked for, and `EPOLLPRI`,
/// so that `select()` waiters on the exceptional set see the device go as well (the VFS reports
/// `EPOLLPRI` only to those who asked for it).
pub const POLL_REVOKED: u32 = EPOLLHUP | EPOLLERR | EPOLLPRI;

/// An access to a revocable character device's implementation, for one file operation.
///
/// [`Access::get`] returns the implementation. To wait for something that may take long (an event,
/// another provider's revocation), leave the access with [`Access::unlocked`]: the device's unbind
/// never waits for a sleeper there, and afterwards the access is entered again, or fails with
/// `ENODEV` if the device was unbound meanwhile. Since [`Access::unlocked`] consumes the access,
/// no reference obtained from [`Access::get`] can be used across it.
pub struct Access<'a, T: ChardevOps> {
    handle: &'a Handle<ChardevImpl<T>>,
    guard: Guard<'a, ChardevImpl<T>>,
}

impl<'a, T: ChardevOps> Access<'a, T> {
    fn new(handle: &'a Handle<ChardevImpl<T>>) -> Result<Self> {
        Ok(Self {
            handle,
            guard: handle.access()?,
        })
    }

    /// Returns the device's implementation.
    pub fn get(&self) -> &T {
        &self.guard.ops
    }

    /// Wakes every poller of the device, so that they call [`ChardevOps::poll`] again.
    pub fn notify_pollers(&self) {
        self.guard.poll.notify_all();
    }

    /// Leaves the access, runs `f` (which may sleep as long as it needs), and enters again.
    ///
    /// Returns `ENODEV` if the device was unbound meanwhile (`f` has run either way).
    pub fn unlocked<R>(self, f: impl FnOnce() -> R) -> Result<(Self, R)> {
        let handle = self.handle;
        drop(self.guard);
        let result = f();
        Ok((Self::new(handle)?, result))
    }
}

/// Operations of a revocable character device.
///
/// Each method runs inside an access to the device (see [`Access`]); none runs after the device's
/// unbind, except [`ChardevOps::release`], which always runs once per opened file.
#[vtable]
pub trait ChardevOps: Send + Sync + Sized + 'static {
    /// Per-open-file state; dropped by [`ChardevOps::release`] whatever happened to the device.
    type File: Send + Sync;

    /// Opens a file.
    fn open(&self, file: &File) -> Result<Self::File>;

    /// Releases a file: `this` is `None` if the device has been unbound.
    fn release(_this: Option<&Self>, _file: Self::File) {}

    /// Reads from the file at `*pos` into `buf`.
    fn read(
        _this: Access<'_, Self>,
        _file: &Self::File,
        _buf: &mut IovIterDest<'_>,
        _pos: &mut i64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes `buf` to the file at `*pos`; returns how much of it was taken.
    fn write(
        _this: Access<'_, Self>,
        _file: &Self::File,
        _buf: &mut IovIterSource<'_>,
        _pos: &mut i64,
    ) -> Result<usize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles an ioctl.
    fn ioctl(_this: Access<'_, Self>, _file: &Self::File, _cmd: u32, _arg: usize) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the poll mask of the file (the adapter registers the wait).
    fn poll(&self, _file: &Self::File) -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A revocable character device as its provider shell holds it.
#[pin_data]
struct ChardevImpl<T: ChardevOps> {
    #[pin]
    ops: T,
    /// The device's poll wait queue (shared with the registration and the open files).
    poll: Arc<PollCondVarBox>,
}

/// One open file: a handle to the device and the driver's per-file state.
struct OpenFile<T: ChardevOps> {
    handle: Handle<ChardevImpl<T>>,
    /// Keeps the poll wait queue alive while the file can be on it.
    poll: Arc<PollCondVarBox>,
    state: T::File,
}

/// The adapter between the misc device core and [`ChardevOps`].
///
/// Private: its `open` finds the [`Registration`] around the misc device with `container_of!`,
/// which is sound only because no other code can register it.
struct Adapter<T>(PhantomData<T>);

#[vtable]
impl<T: ChardevOps> MiscDevice for Adapter<T> {
    type Ptr = KBox<OpenFile<T>>;
    // The driver's module owns the file operations: it stays loaded while files are open.
    type OwnerModule = T::OwnerModule;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        let misc: *const MiscDeviceRegistration<Self> = misc;
        // SAFETY: Every `MiscDeviceRegistration<Adapter<T>>` is the `misc` field of a
        // `Registration<T>` (the type is only registered by `register`), and `misc_open()` keeps
        // the registration alive for the duration of this call.
        let reg = unsafe { &*crate::container_of!(misc, Registration<T>, misc) };
        let handle = reg.provider.handle();
        let poll = reg.poll.clone();
        let state = handle.access()?.ops.open(file)?;
        Ok(KBox::new(
            OpenFile {
                handle,
                poll,
                state,
            },
            GFP_KERNEL,
        )?)
    }

    fn release(device: Self::Ptr, _file: &File) {
        // Dropping `poll` (maybe the last reference to the wait queue) is safe here: epoll has
        // detached this file's waits before `release`, and `select()`/`poll()` waiters hold the
        // file open until they return.
        let OpenFile { handle, state, .. } = KBox::into_inner(device);
        let access = handle.access();
        match &access {
            Ok(imp) => T::release(Some(&imp.ops), state),
            Err(_) => T::release(None, state),
        }
        drop(access);
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterDest<'_>) -> Result<usize> {
        let device = kiocb.file();
        let access = Access::new(&device.handle)?;
        if !T::HAS_READ {
            return Err(EINVAL);
        }
        T::read(access, &device.state, iov, kiocb.ki_pos_mut())
    }

    fn write_iter(mut kiocb: Kiocb<'_, Self::Ptr>, iov: &mut IovIterSource<'_>) -> Result<usize> {
        let device = kiocb.file();
        let access = Access::new(&device.handle)?;
        if !T::HAS_WRITE {
            return Err(EINVAL);
        }
        T::write(access, &device.state, iov, kiocb.ki_pos_mut())
    }

    fn ioctl(device: &OpenFile<T>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let access = Access::new(&device.handle)?;
        if !T::HAS_IOCTL {
            return Err(ENOTTY);
        }
        T::ioctl(access, &device.state, cmd, arg)
    }

    fn poll(device: &OpenFile<T>, file: &File, table: &PollTable<'_>) -> Result<u32> {
        let Ok(imp) = device.handle.access() else {
            return Ok(POLL_REVOKED);
        };
        // Registered inside the access: a revocation either comes before it (and `ENODEV` above
        // answers) or wakes this wait after its grace period.
        table.register_wait(file, &device.poll);
        Ok(if T::HAS_POLL {
            imp.ops.poll(&device.state)
        } else {
            EPOLLIN | EPOLLOUT
        })
    }
}

/// A registered revocable character device.
///
/// # Invariants
///
/// `misc` is registered while the registration lives, and its `open` callback finds this
/// structure with `container_of!`.
#[pin_data(PinnedDrop)]
struct Registration<T: ChardevOps> {
    provider: Provider<ChardevImpl<T>>,
    /// The poll wait queue, for new files.
    poll: Arc<PollCondVarBox>,
    // Last: files may be opened as soon as it is registered.
    #[pin]
    misc: MiscDeviceRegistration<Adapter<T>>,
}

#[pinned_drop]
impl<T: ChardevOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // The fence first: new opens and file operations get `ENODEV`, operations inside finish,
        // the implementation is dropped. Then every poller is woken; any `poll()` from now on
        // answers `POLL_REVOKED` without waiting. The misc device is deregistered afterwards,
        // when the field is dropped.
        self.provider.shell().revoke();
        wake_revoked(&self.poll);
    }
}

/// Wakes every waiter of `poll` with [`POLL_REVOKED`] as the event key.
///
/// A keyed wake-up, rather than [`CondVar::notify_all`](crate::sync::CondVar::notify_all), so
/// that epoll sees the events at once, also for `EPOLLEXCLUSIVE` waiters.
fn wake_revoked(poll: &PollCondVarBox) {
    // SAFETY: The wait queue head is initialised and valid for the duration of the call; a key is
    // a poll mask passed by value in a pointer, as `poll_to_key()` does.
    unsafe {
        bindings::__wake_up(
            poll.wait_queue_head.get(),
            crate::task::TASK_NORMAL,
            0,
            POLL_REVOKED as usize as *mut c_void,
        )
    };
}

/// Registers a revocable misc device `/dev/<name>` for the bound device `dev`.
///
/// It is revoked and deregistered when `dev` is unbound.
pub fn register<T: ChardevOps>(
    dev: &Device<Bound>,
    name: &'static CStr,
    ops: impl PinInit<T, Error>,
) -> Result {
    let poll = Arc::new(new_poll_cv()?, GFP_KERNEL)?;
    let imp_poll = poll.clone();
    let provider = Provider::new(try_pin_init!(ChardevImpl {
        ops <- ops,
        poll: imp_poll,
    }? Error))?;
    devres::register(
        dev,
        try_pin_init!(Registration {
            provider,
            poll,
            misc <- MiscDeviceRegistration::register(MiscDeviceOptions { name }),
        }? Error),
        GFP_KERNEL,
    )
}

/// The poll wait queue of a device; not generic, so that all devices share one lock class and name.
fn new_poll_cv() -> Result<PollCondVarBox> {
    static NAME: &CStr = c"resmgr::chardev::poll";
    Ok(PollCondVarBox::new(NAME, static_lock_class!())?)
}
