// SPDX-License-Identifier: GPL-2.0

//! Per-subsystem registries: consumers find providers by name.

use super::{
    handle::Handle,
    shell::Shell, //
};
use crate::{
    bindings,
    prelude::*,
    str::CString,
    sync::{
        Arc,
        LockClassKey, //
    },
    types::Opaque,
};
use core::{
    cell::UnsafeCell,
    sync::atomic::{
        AtomicU8,
        Ordering, //
    },
};

/// Declares a static [`Registry`] of providers of one type, like the C
/// `DEFINE_RESOURCE_PROVIDER()`.
///
/// # Examples
///
/// ```
/// use kernel::{define_resource_registry, resmgr::Provider};
///
/// struct Clock {
///     hz: u64,
/// }
///
/// define_resource_registry!(CLOCKS: Clock);
///
/// let provider = Provider::new(Clock { hz: 32_768 })?;
/// provider.register(&CLOCKS, c"rtc-osc")?;
///
/// let clock = CLOCKS.lookup(c"rtc-osc")?;
/// assert_eq!(clock.access()?.hz, 32_768);
/// assert_eq!(CLOCKS.lookup(c"pll").err(), Some(ENOENT));
///
/// drop(provider); // Unlisted and revoked.
/// assert_eq!(CLOCKS.lookup(c"rtc-osc").err(), Some(ENOENT));
/// assert_eq!(clock.access().err(), Some(ENODEV));
/// # Ok::<(), Error>(())
/// ```
#[macro_export]
macro_rules! define_resource_registry {
    ($(#[$meta:meta])* $vis:vis $name:ident : $ty:ty) => {
        $(#[$meta])*
        $vis static $name: $crate::resmgr::Registry<$ty> = $crate::resmgr::Registry::new(
            $crate::c_str!(::core::stringify!($name)),
            $crate::static_lock_class!(),
        );
    };
}

const UNINIT: u8 = 0;
const INITIALISING: u8 = 1;
const READY: u8 = 2;

struct Entry<T: Send + Sync + 'static> {
    name: CString,
    shell: Arc<Shell<T>>,
}

/// A registry of providers of type `T`, by name.
///
/// Meant to be a `static` of the subsystem that hands out `T`s (see
/// [`define_resource_registry!`]): providers list themselves with
/// [`Provider::register`](super::Provider::register) and are unlisted when revoked;
/// consumers call [`Registry::lookup`]. Lookups and listings take a mutex: they belong in
/// probe, open and request paths, not in hot paths (that is what a [`Handle`] is for).
///
/// # Invariants
///
/// - Once `state` is `READY`, `lock` is an initialised `struct mutex` that never moves (the
///   registry is only used through `&'static self`).
/// - `entries` is only accessed with `lock` held; it holds live or revoking shells only, each
///   at most once, with distinct names.
pub struct Registry<T: Send + Sync + 'static> {
    name: &'static CStr,
    key: Pin<&'static LockClassKey>,
    state: AtomicU8,
    lock: Opaque<bindings::mutex>,
    entries: UnsafeCell<KVec<Entry<T>>>,
}

// SAFETY: The entries are only accessed with the registry's mutex held, and the shells in them
// may be shared between threads since `T: Send + Sync`.
unsafe impl<T: Send + Sync + 'static> Sync for Registry<T> {}
// SAFETY: As above; a registry holds no thread-bound state.
unsafe impl<T: Send + Sync + 'static> Send for Registry<T> {}

/// The registry's mutex, held.
///
/// # Invariants
///
/// The guard owns `registry.lock`, which is initialised and held by this thread.
struct Locked<T: Send + Sync + 'static> {
    registry: &'static Registry<T>,
}

impl<T: Send + Sync + 'static> Locked<T> {
    fn entries(&mut self) -> &mut KVec<Entry<T>> {
        // SAFETY: By the type invariants the mutex is held, and `&mut self` makes this the only
        // reference derived from it.
        unsafe { &mut *self.registry.entries.get() }
    }
}

impl<T: Send + Sync + 'static> Drop for Locked<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants the mutex is initialised and held by this thread.
        unsafe { bindings::mutex_unlock(self.registry.lock.get()) };
    }
}

impl<T: Send + Sync + 'static> Registry<T> {
    /// Creates an empty registry; use [`define_resource_registry!`] instead.
    #[doc(hidden)]
    pub const fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> Self {
        Self {
            name,
            key,
            state: AtomicU8::new(UNINIT),
            lock: Opaque::uninit(),
            entries: UnsafeCell::new(KVec::new()),
        }
    }

    fn lock(&'static self) -> Locked<T> {
        if self.state.load(Ordering::Acquire) != READY {
            match self.state.compare_exchange(
                UNINIT,
                INITIALISING,
                Ordering::Acquire,
                Ordering::Acquire,
            ) {
                Ok(_) => {
                    // SAFETY: Only the thread that won the exchange initialises the mutex, once,
                    // in its final place (`self` is `'static`); no one locks it before `READY`.
                    unsafe {
                        bindings::__mutex_init(
                            self.lock.get(),
                            self.name.as_char_ptr(),
                            self.key.as_ptr(),
                        )
                    };
                    // INVARIANT: The mutex is initialised.
                    self.state.store(READY, Ordering::Release);
                }
                Err(_) => {
                    // Another thread is inside `__mutex_init()`, which does not sleep.
                    while self.state.load(Ordering::Acquire) != READY {
                        core::hint::spin_loop();
                    }
                }
            }
        }
        // SAFETY: The mutex is initialised (`READY` was observed with acquire ordering).
        unsafe { bindings::mutex_lock(self.lock.get()) };
        // INVARIANT: The mutex is initialised and now held by this thread.
        Locked { registry: self }
    }

    /// Looks up the live provider listed under `name`.
    ///
    /// Returns [`ENOENT`] if there is none (never listed, or revoked).
    ///
    /// [`ENOENT`]: crate::error::code::ENOENT
    pub fn lookup(&'static self, name: &CStr) -> Result<Handle<T>> {
        let mut locked = self.lock();
        locked
            .entries()
            .iter()
            .find(|e| e.name.to_bytes() == name.to_bytes() && !e.shell.is_revoked())
            .map(|e| Handle::new(e.shell.clone()))
            .ok_or(ENOENT)
    }

    /// Returns a handle to the first bound provider for which `pred` returns `Some`, with what it
    /// returned; `ENOENT` if there is none.
    ///
    /// `pred` runs inside each provider's read-side critical section, under the registry's lock:
    /// it must not sleep for long. Like [`Registry::lookup`], this belongs in probe, open and
    /// request paths.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{define_resource_registry, resmgr::Provider};
    ///
    /// define_resource_registry!(TANKS: u32);
    ///
    /// let small = Provider::new(5u32)?;
    /// small.register(&TANKS, c"small")?;
    /// let big = Provider::new(40u32)?;
    /// big.register(&TANKS, c"big")?;
    ///
    /// // The first tank that holds more than 10 litres, and its size.
    /// let (tank, litres) = TANKS.find(|&l| (l > 10).then_some(l))?;
    /// assert_eq!(litres, 40);
    /// assert_eq!(*tank.access()?, 40);
    ///
    /// drop(big);
    /// assert_eq!(TANKS.find(|&l| (l > 10).then_some(l)).err(), Some(ENOENT));
    /// assert_eq!(tank.access().err(), Some(ENODEV));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn find<R>(&'static self, mut pred: impl FnMut(&T) -> Option<R>) -> Result<(Handle<T>, R)> {
        let mut locked = self.lock();
        for e in locked.entries().iter() {
            let Ok(imp) = e.shell.read() else {
                continue;
            };
            if let Some(r) = pred(&imp) {
                return Ok((Handle::new(e.shell.clone()), r));
            }
        }
        Err(ENOENT)
    }

    /// Returns the number of listed providers.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{define_resource_registry, resmgr::Provider};
    ///
    /// define_resource_registry!(PUMPS: u32);
    ///
    /// assert!(PUMPS.is_empty());
    /// let p = Provider::new(1u32)?;
    /// p.register(&PUMPS, c"pump0")?;
    /// assert_eq!(PUMPS.len(), 1);
    /// drop(p);
    /// assert!(PUMPS.is_empty());
    /// # Ok::<(), Error>(())
    /// ```
    pub fn len(&'static self) -> usize {
        self.lock().entries().len()
    }

    /// Returns whether no provider is listed.
    pub fn is_empty(&'static self) -> bool {
        self.len() == 0
    }

    /// Lists `shell` under `name` (see [`Provider::register`](super::Provider::register)).
    pub(crate) fn list(&'static self, shell: &Arc<Shell<T>>, name: &CStr) -> Result {
        let name = CString::try_from(name)?;
        let mut locked = self.lock();
        let entries = locked.entries();
        if entries
            .iter()
            .any(|e| e.name.to_bytes() == name.to_bytes() && !e.shell.is_revoked())
        {
            return Err(EEXIST);
        }
        let mut state = shell.state.lock();
        if state.revoked {
            return Err(ENODEV);
        }
        if state.registry.is_some() {
            return Err(EBUSY);
        }
        entries.push(
            Entry {
                name,
                shell: shell.clone(),
            },
            GFP_KERNEL,
        )?;
        state.registry = Some(self);
        Ok(())
    }

    /// Removes `shell`'s entry; called once by the shell's revocation.
    pub(crate) fn unlist(&'static self, shell: &Shell<T>) {
        let removed = {
            let mut locked = self.lock();
            let entries = locked.entries();
            let removed = entries
                .iter()
                .position(|e| core::ptr::eq(&*e.shell, shell))
                .and_then(|pos| entries.remove(pos).ok());
            if entries.is_empty() {
                // Free the backing store, so that an empty registry owns no memory.
                *entries = KVec::new();
            }
            removed
        };
        // Dropping the entry may drop a reference to the shell: do it unlocked.
        drop(removed);
    }
}
