// SPDX-License-Identifier: GPL-2.0

//! Revocable character devices: misc devices whose open files and mappings survive their driver's
//! unbind.
//!
//! A driver implements [`ChardevOps`] and calls [`register`] in probe. Every file operation reaches
//! the driver only through the device's provider shell, and so does every page fault of a mapping
//! of the device. When the device is unbound the shell is revoked: operations already inside
//! finish, every page mapped from the device is unmapped from every process, then the
//! implementation is dropped; pollers are woken with `EPOLLHUP | EPOLLERR` and `O_ASYNC` files get
//! `SIGIO` (`POLL_HUP`), and the misc device is deregistered.
//!
//! What an open file gets afterwards (`Documentation/rust/resmgr.rst` has the same table):
//!
//! | Operation                        | After the unbind                                     |
//! |----------------------------------|------------------------------------------------------|
//! | `read()`, `write()` (all forms)  | `ENODEV`                                             |
//! | `ioctl()`, 32-bit `ioctl()`      | `ENODEV`                                             |
//! | `lseek()`                        | `ENODEV`; `ESPIPE` (always) if the device has no size |
//! | `mmap()`                         | `ENODEV`                                             |
//! | access to an existing mapping    | `SIGBUS` (the pages are gone from every process)     |
//! | `poll()`, `select()`, epoll      | `EPOLLHUP \| EPOLLERR` (and `EPOLLPRI`), at once      |
//! | `fcntl(F_SETFL, O_ASYNC)`        | `ENODEV`; clearing `O_ASYNC` succeeds                |
//! | `/proc/<pid>/fdinfo/<fd>`        | the VFS lines and `resmgr-revoked:\t1`               |
//! | `close()`                        | succeeds; the driver's per-file release runs         |
//! | `open()` of the device node      | `ENODEV` (or `ENXIO`, once the node is gone)         |
//!
//! What can outlive the implementation is not part of it: the poll wait queue (`select()` and
//! `poll()` waiters stay on it until their system call returns), the `SIGIO` list (a file leaves it
//! only when it is released) and the record of which inodes were mapped (mappings live until
//! `munmap()`) live as long as the registration or any open file of the device.
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
    error::{
        to_result,
        VTABLE_DEFAULT_ERROR, //
    },
    fs::{
        File,
        Kiocb,
        LocalFile, //
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
    mm::virt::{
        VmaNew,
        VmaRef, //
    },
    new_mutex,
    page::Page,
    prelude::*,
    seq_file::SeqFile,
    seq_print, static_lock_class,
    sync::{
        poll::{
            PollCondVarBox,
            PollTable, //
        },
        Arc,
        Mutex, //
    },
    types::{
        ForeignOwnable,
        Opaque, //
    },
};
use core::{
    ffi::{
        c_int,
        c_void, //
    },
    marker::PhantomData,
    ptr::{
        self,
        NonNull, //
    },
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

    /// Wakes every poller of the device, so that they call [`ChardevOps::poll`] again, and sends
    /// `SIGIO` (`POLL_IN`) to the owners of the device's files that are in `O_ASYNC` mode.
    pub fn notify_pollers(&self) {
        self.guard.shared.poll.notify_all();
        self.guard.shared.fasync.signal(bindings::POLL_IN);
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
///
/// `fcntl(F_SETFL, O_ASYNC)` needs no method: the adapter keeps the device's `SIGIO` list, which
/// [`Access::notify_pollers`] signals.
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

    /// Returns the size of the file, for `lseek()`: positions go from 0 to the size, `SEEK_END`
    /// counts from it. Without this method the file is not seekable (`ESPIPE`).
    fn size(&self, _file: &Self::File) -> i64 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles an ioctl.
    ///
    /// Also reached by 32-bit processes on a 64-bit kernel, with the argument converted by
    /// `compat_ptr()`, unless the device has its own `compat_ioctl`.
    fn ioctl(_this: Access<'_, Self>, _file: &Self::File, _cmd: u32, _arg: usize) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Handles an ioctl of a 32-bit process on a 64-bit kernel, for ioctls whose structures have
    /// another layout there.
    #[cfg(CONFIG_COMPAT)]
    fn compat_ioctl(
        _this: Access<'_, Self>,
        _file: &Self::File,
        _cmd: u32,
        _arg: usize,
    ) -> Result<isize> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the poll mask of the file (the adapter registers the wait).
    fn poll(&self, _file: &Self::File) -> u32 {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Checks a new mapping of the file (its size, its flags) before it is made.
    ///
    /// Optional: a device that has [`ChardevOps::fault`] can be mapped without it.
    fn mmap(&self, _file: &Self::File, _vma: &VmaNew) -> Result {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Returns the page to map at page `pgoff` of the file, or `None` (the process gets `SIGBUS`,
    /// as past the end of a file).
    ///
    /// A device with this method can be mapped. The adapter maps the page while the access lasts,
    /// so the device may drop the page once it is revoked: by then every mapping of it is gone.
    fn fault(&self, _file: &Self::File, _pgoff: usize) -> Option<&Page> {
        build_error!(VTABLE_DEFAULT_ERROR)
    }

    /// Writes the device's lines of `/proc/<pid>/fdinfo/<fd>`.
    fn show_fdinfo(&self, _file: &Self::File, _m: &SeqFile) {
        build_error!(VTABLE_DEFAULT_ERROR)
    }
}

/// A revocable character device as its provider shell holds it.
#[pin_data]
struct ChardevImpl<T: ChardevOps> {
    #[pin]
    ops: T,
    /// What the device's files share (also held by the registration and the open files).
    shared: Arc<Shared>,
}

/// What the files of a device share and what may outlive its implementation.
#[pin_data]
struct Shared {
    /// The poll wait queue.
    poll: PollCondVarBox,
    /// The files in `O_ASYNC` mode.
    fasync: FasyncList,
    /// The inodes through which the device was mapped, each listed once.
    #[pin]
    mapped: Mutex<KVec<InodeRef>>,
}

impl Shared {
    /// Not generic, so that all devices share one lock class and one name per lock.
    fn new() -> Result<Arc<Self>> {
        static POLL: &CStr = c"resmgr::chardev::poll";
        let poll = PollCondVarBox::new(POLL, static_lock_class!())?;
        Arc::pin_init(
            pin_init!(Self {
                poll,
                fasync: FasyncList::new(),
                mapped <- new_mutex!(KVec::new(), "resmgr::chardev::mapped"),
            }),
            GFP_KERNEL,
        )
    }

    /// Records that `file` is being mapped, so that the device's revocation unmaps it.
    fn track_mapping(&self, file: &File) -> Result {
        // SAFETY: `file` is valid, and so is its inode while the file lives.
        let inode = unsafe { (*file.as_ptr()).f_inode };
        let mut mapped = self.mapped.lock();
        if mapped.iter().any(|i| i.0.as_ptr() == inode) {
            return Ok(());
        }
        // SAFETY: `inode` is the inode of `file`, which holds it.
        mapped.push(unsafe { InodeRef::new(inode) }?, GFP_KERNEL)?;
        Ok(())
    }

    /// Unmaps every page mapped from the device, from every process.
    fn unmap_all(&self) {
        for inode in self.mapped.lock().iter() {
            inode.unmap_all();
        }
    }
}

/// A reference to an inode, from `ihold()`.
///
/// # Invariants
///
/// The inode is valid, and this owns one reference to it.
struct InodeRef(NonNull<bindings::inode>);

// SAFETY: An inode reference may be given back from any thread.
unsafe impl Send for InodeRef {}
// SAFETY: `InodeRef` gives no access to the inode through a shared reference but `unmap_all`,
// which may be called from any thread.
unsafe impl Sync for InodeRef {}

impl InodeRef {
    /// Takes a reference to `inode`; `EINVAL` if it is null (a file without an inode).
    ///
    /// # Safety
    ///
    /// `inode` is null or valid for the duration of the call (held by an open file).
    unsafe fn new(inode: *mut bindings::inode) -> Result<Self> {
        let inode = NonNull::new(inode).ok_or(EINVAL)?;
        // SAFETY: By the safety requirements `inode` is valid.
        unsafe { bindings::ihold(inode.as_ptr()) };
        // INVARIANT: The reference was just taken.
        Ok(Self(inode))
    }

    /// Removes every page of the inode's mapping from every process that maps it, private copies
    /// included.
    fn unmap_all(&self) {
        // SAFETY: By the type invariants the inode, and so its `i_mapping`, is valid. A length of
        // 0 means "to the end"; `even_cows` removes the private copies too.
        unsafe { bindings::unmap_mapping_range((*self.0.as_ptr()).i_mapping, 0, 0, 1) };
    }
}

impl Drop for InodeRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariants this owns a reference to the inode.
        unsafe { bindings::iput(self.0.as_ptr()) };
    }
}

/// The `O_ASYNC` files of a device (a `struct fasync_struct` list).
///
/// # Invariants
///
/// `head` is changed only by `fasync_helper()`, which serialises changes with its own lock, and
/// read only by `kill_fasync()`, under RCU. Each file removes itself when it is released, before
/// its [`Shared`] reference is dropped, so the list is empty when the `FasyncList` is dropped.
struct FasyncList {
    head: Opaque<*mut bindings::fasync_struct>,
}

// SAFETY: The list is an RCU-protected list with its own lock (see the type invariants).
unsafe impl Send for FasyncList {}
// SAFETY: As for `Send`: any thread may change it through `fasync_helper()` or signal it.
unsafe impl Sync for FasyncList {}

impl FasyncList {
    fn new() -> Self {
        Self {
            head: Opaque::new(ptr::null_mut()),
        }
    }

    /// Adds `file` to the list (`on`) or removes it.
    fn set(&self, file: &File, fd: i32, on: bool) -> Result {
        // SAFETY: `file` is valid; by the type invariants `head` may be changed by this function.
        to_result(unsafe {
            bindings::fasync_helper(fd, file.as_ptr(), c_int::from(on), self.head.get())
        })
    }

    /// Sends `SIGIO` with `band` (a `POLL_*` code) to the owners of the files on the list.
    fn signal(&self, band: u32) {
        // SAFETY: By the type invariants `head` may be read by this function.
        unsafe { bindings::kill_fasync(self.head.get(), bindings::SIGIO as c_int, band as c_int) };
    }
}

/// One open file: a handle to the device and the driver's per-file state.
struct OpenFile<T: ChardevOps> {
    handle: Handle<ChardevImpl<T>>,
    /// Keeps what the device's files share alive while the file can use it.
    shared: Arc<Shared>,
    state: T::File,
}

/// The adapter between the misc device core and [`ChardevOps`].
///
/// Private: its `open` finds the [`Registration`] around the misc device with `container_of!`,
/// which is sound only because no other code can register it.
struct Adapter<T>(PhantomData<T>);

impl<T: ChardevOps> Adapter<T> {
    /// The operations of a mapping of the device.
    const VM_OPS: bindings::vm_operations_struct = bindings::vm_operations_struct {
        fault: Some(Self::fault),
        ..pin_init::zeroed()
    };

    /// Page fault handler of a mapping of the device.
    ///
    /// Maps the driver's page inside the access, so that the revocation's grace period also waits
    /// for the mapping to be made, and the unmapping that follows finds it.
    ///
    /// # Safety
    ///
    /// `vmf` is a valid fault of a VMA that [`MiscDevice::mmap`] of `Adapter<T>` set up, with the
    /// mmap or VMA read lock held.
    unsafe extern "C" fn fault(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // SAFETY: `vmf` is valid for the call; these fields are set before the handler runs.
        let (vma, pgoff, address) = unsafe {
            let fault = &(*vmf).__bindgen_anon_1;
            (fault.vma, fault.pgoff, fault.address)
        };
        // SAFETY: The VMA is valid and read-locked for the call.
        let vma = unsafe { VmaRef::from_raw(vma) };
        // SAFETY: The VMA holds a reference to its file, a file of this device: its private data
        // is the `OpenFile<T>` that `open` made, released only after the last VMA is gone.
        let device = unsafe {
            <KBox<OpenFile<T>> as ForeignOwnable>::borrow((*(*vma.as_ptr()).vm_file).private_data)
        };
        let sigbus = bindings::vm_fault_reason_VM_FAULT_SIGBUS;
        let (Ok(imp), Some(vma)) = (device.handle.access(), vma.as_mixedmap_vma()) else {
            return sigbus;
        };
        let Some(page) = imp.ops.fault(&device.state, pgoff) else {
            return sigbus;
        };
        match vma.vm_insert_page(address, page) {
            Ok(()) => bindings::vm_fault_reason_VM_FAULT_NOPAGE,
            // Another thread mapped the page first.
            Err(e) if e == EBUSY => bindings::vm_fault_reason_VM_FAULT_NOPAGE,
            Err(e) if e == ENOMEM => bindings::vm_fault_reason_VM_FAULT_OOM,
            Err(_) => sigbus,
        }
    }
}

#[vtable]
impl<T: ChardevOps> MiscDevice for Adapter<T> {
    type Ptr = KBox<OpenFile<T>>;
    // The driver's module owns the file operations: it stays loaded while files are open.
    type OwnerModule = T::OwnerModule;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        let misc: *const MiscDeviceRegistration<Self> = misc;
        // SAFETY: `misc` is the `misc` field of a `Registration<T>` (only `register` registers
        // the type), called under `misc_mtx`: `misc` is deregistered, under that lock, first.
        let reg = unsafe { &*crate::container_of!(misc, Registration<T>, misc) };
        let handle = reg.provider.handle();
        let shared = reg.shared.clone();
        let state = handle.access()?.ops.open(file)?;
        Ok(KBox::new(
            OpenFile {
                handle,
                shared,
                state,
            },
            GFP_KERNEL,
        )?)
    }

    fn release(device: Self::Ptr, _file: &File) {
        // Dropping `shared` (maybe the last reference to the wait queue) is safe here: epoll has
        // detached this file's waits before `release`, `select()`/`poll()` waiters hold the file
        // open until they return, and the file has left the `SIGIO` list (`fasync` first).
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

    fn llseek(device: &OpenFile<T>, file: &LocalFile, offset: i64, whence: i32) -> Result<i64> {
        if !T::HAS_SIZE {
            return Err(ESPIPE);
        }
        let size = device.handle.access()?.ops.size(&device.state);
        // SAFETY: `file` is valid; `fixed_size_llseek()` updates its position under its lock.
        let pos = unsafe { bindings::fixed_size_llseek(file.as_ptr(), offset, whence, size) };
        if pos < 0 {
            // Errors are small negative numbers.
            return Err(Error::from_errno(pos as i32));
        }
        Ok(pos)
    }

    fn ioctl(device: &OpenFile<T>, _file: &File, cmd: u32, arg: usize) -> Result<isize> {
        let access = Access::new(&device.handle)?;
        if !T::HAS_IOCTL {
            return Err(ENOTTY);
        }
        T::ioctl(access, &device.state, cmd, arg)
    }

    #[cfg(CONFIG_COMPAT)]
    fn compat_ioctl(device: &OpenFile<T>, file: &File, cmd: u32, arg: usize) -> Result<isize> {
        if !T::HAS_COMPAT_IOCTL {
            // Converts the argument and comes back through `ioctl`, and so through the shell.
            // SAFETY: `file` is a valid file of this device.
            let ret = unsafe { bindings::compat_ptr_ioctl(file.as_ptr(), cmd, arg as _) };
            return if ret < 0 {
                Err(Error::from_errno(ret as i32))
            } else {
                Ok(ret as isize)
            };
        }
        T::compat_ioctl(Access::new(&device.handle)?, &device.state, cmd, arg)
    }

    fn poll(device: &OpenFile<T>, file: &File, table: &PollTable<'_>) -> Result<u32> {
        let Ok(imp) = device.handle.access() else {
            return Ok(POLL_REVOKED);
        };
        // Registered inside the access: a revocation either comes before it (and `ENODEV` above
        // answers) or wakes this wait after its grace period.
        table.register_wait(file, &device.shared.poll);
        Ok(if T::HAS_POLL {
            imp.ops.poll(&device.state)
        } else {
            EPOLLIN | EPOLLOUT
        })
    }

    fn fasync(device: &OpenFile<T>, file: &File, fd: i32, on: bool) -> Result {
        // Joining needs the device; leaving always succeeds (also on release).
        let _access = if on {
            Some(device.handle.access()?)
        } else {
            None
        };
        // A file that joins inside the access is signalled by a revocation, which takes the list
        // only after its grace period.
        device.shared.fasync.set(file, fd, on)
    }

    fn mmap(device: &OpenFile<T>, file: &File, vma: &VmaNew) -> Result {
        if !T::HAS_FAULT {
            // What the VFS answers for a file without `mmap`.
            return Err(ENODEV);
        }
        let imp = device.handle.access()?;
        if T::HAS_MMAP {
            imp.ops.mmap(&device.state, vma)?;
        }
        // Tracked inside the access, so a revocation that follows unmaps this file's mappings.
        device.shared.track_mapping(file)?;
        vma.set_mixedmap();
        // SAFETY: `vma` is being set up by this `mmap` call, which may set its operations. They
        // are a constant, and `fault` only needs what this file gives every VMA of it.
        unsafe { (*vma.as_ptr()).vm_ops = &Self::VM_OPS };
        Ok(())
    }

    fn show_fdinfo(device: &OpenFile<T>, m: &SeqFile, _file: &File) {
        match device.handle.access() {
            Ok(imp) if T::HAS_SHOW_FDINFO => imp.ops.show_fdinfo(&device.state, m),
            Ok(_) => {}
            Err(_) => seq_print!(m, "resmgr-revoked:\t1\n"),
        }
    }
}

/// A registered revocable character device.
///
/// # Invariants
///
/// `misc` is registered while the other fields live, and its `open` callback finds this
/// structure with `container_of!`.
#[pin_data(PinnedDrop)]
struct Registration<T: ChardevOps> {
    // First, so that it is dropped first: `misc_deregister()` waits for the opens in flight
    // (`misc_open()` calls `open` under the lock it takes), which use the other fields, and no
    // open starts afterwards. It is initialised last, by `register`: files may be opened as soon
    // as it is registered.
    #[pin]
    misc: MiscDeviceRegistration<Adapter<T>>,
    provider: Provider<ChardevImpl<T>>,
    /// What the device's files share, for new files.
    shared: Arc<Shared>,
}

#[pinned_drop]
impl<T: ChardevOps> PinnedDrop for Registration<T> {
    fn drop(self: Pin<&mut Self>) {
        // The fence first: new opens, file operations and page faults get `ENODEV` or `SIGBUS`,
        // operations inside finish (and the pages they mapped are mapped), every mapping is
        // emptied, and only then the implementation, which owns the pages, is dropped. Then
        // every poller is woken and every `O_ASYNC` owner signalled; any `poll()` from now on
        // answers `POLL_REVOKED` without waiting. The misc device is deregistered afterwards,
        // when its field is dropped, before the others.
        let shared = &self.shared;
        self.provider.shell().revoke_then(|| shared.unmap_all());
        wake_revoked(&shared.poll);
        shared.fasync.signal(bindings::POLL_HUP);
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
    let shared = Shared::new()?;
    let imp_shared = shared.clone();
    let provider = Provider::new(try_pin_init!(ChardevImpl {
        ops <- ops,
        shared: imp_shared,
    }? Error))?;
    devres::register(
        dev,
        try_pin_init!(Registration {
            provider,
            shared,
            misc <- MiscDeviceRegistration::register(MiscDeviceOptions { name }),
        }? Error),
        GFP_KERNEL,
    )
}
