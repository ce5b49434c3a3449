// SPDX-License-Identifier: GPL-2.0

//! SRCU-fast: sleepable RCU with light-weight, `smp_mb()`-free readers.
//!
//! An SRCU-fast domain is initialised with `init_srcu_struct_fast()` and only
//! ever read with `srcu_read_lock_fast()` / `srcu_read_unlock_fast()`; mixing
//! flavours on one `srcu_struct` is a bug, so it is a type of its own here
//! rather than a mode of [`Srcu`](super::Srcu). Readers cost about as much as
//! an `rcu_read_lock()` pair; the update side pays instead, with an RCU grace
//! period inside each SRCU grace period.
//!
//! C header: [`include/linux/srcu.h`](srctree/include/linux/srcu.h)

use crate::{
    bindings,
    error::to_result,
    prelude::*,
    sync::{
        Arc,
        Completion,
        LockClassKey, //
    },
    types::{
        NotThreadSafe,
        Opaque, //
    },
    workqueue,
};

use pin_init::pin_data;

/// Creates an [`SrcuFast`] initialiser with the given name and a newly-created lock class.
#[doc(hidden)]
#[macro_export]
macro_rules! new_srcu_fast {
    ($($name:literal)?) => {
        $crate::sync::SrcuFast::new($crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
pub use new_srcu_fast;

/// An SRCU domain whose readers use the SRCU-fast flavour.
///
/// Readers may sleep inside the read-side critical section, like classic SRCU
/// readers, but they must be in a context where RCU is watching (where
/// `rcu_read_lock()` would be legal). A reader that blocks for long delays every
/// updater of this domain, and only of this domain.
///
/// There is no `call_srcu()` on this type, so the destructor does not wait for a grace
/// period unless a read-side guard has been leaked, in which case it may never return.
///
/// # Invariants
///
/// `inner` is a valid `struct srcu_struct` initialised by `init_srcu_struct_fast()`
/// and it remains pinned and valid until the pinned destructor runs. It is only
/// read with the SRCU-fast read-side primitives.
///
/// # Examples
///
/// ```
/// use kernel::sync::{new_srcu_fast, SrcuFast};
///
/// let srcu = KBox::pin_init(new_srcu_fast!("example"), GFP_KERNEL)?;
/// {
///     let _guard = srcu.read_lock();
///     // Read SRCU-protected data here; sleeping briefly is allowed.
/// }
/// srcu.synchronize_expedited();
/// # Ok::<(), Error>(())
/// ```
#[repr(transparent)]
#[pin_data(PinnedDrop)]
pub struct SrcuFast {
    #[pin]
    inner: Opaque<bindings::srcu_struct>,
}

impl SrcuFast {
    /// Creates a new SRCU-fast domain.
    #[inline]
    pub fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            // INVARIANT: On success, the C initialiser creates a valid SRCU-fast
            // `srcu_struct` and it remains pinned until `PinnedDrop` runs.
            inner <- Opaque::try_ffi_init(|ptr: *mut bindings::srcu_struct| {
                // SAFETY: `ptr` points to valid uninitialised memory for a `srcu_struct`.
                to_result(unsafe {
                    bindings::init_srcu_struct_fast_with_key(ptr, name.as_char_ptr(), key.as_ptr())
                })
            }),
        })
    }

    /// Enters an SRCU-fast read-side critical section.
    ///
    /// Leaking the returned [`FastGuard`] leaves the read-side critical section
    /// active and makes every later grace period of this domain wait forever.
    #[inline]
    pub fn read_lock(&self) -> FastGuard<'_> {
        // SAFETY: By the type invariants, `self` contains a valid SRCU-fast `srcu_struct`.
        let ctr = unsafe { bindings::srcu_read_lock_fast(self.inner.get()) };

        // INVARIANT: `ctr` was returned by `srcu_read_lock_fast()` for this domain.
        FastGuard {
            srcu: self,
            ctr,
            _not_send: NotThreadSafe,
        }
    }

    /// Waits until all pre-existing readers have completed.
    #[inline]
    pub fn synchronize(&self) {
        // SAFETY: By the type invariants, `self` contains a valid `struct srcu_struct`.
        unsafe { bindings::synchronize_srcu(self.inner.get()) };
    }

    /// Waits until all pre-existing readers have completed, expedited.
    ///
    /// SRCU-fast domains never auto-expedite, so teardown paths that must not
    /// wait a full normal grace period use this.
    #[inline]
    pub fn synchronize_expedited(&self) {
        // SAFETY: By the type invariants, `self` contains a valid `struct srcu_struct`.
        unsafe { bindings::synchronize_srcu_expedited(self.inner.get()) };
    }

    /// Runs `f` while an expedited grace period elapses, and returns once both are done.
    ///
    /// The grace period is waited for on a worker of the system unbound workqueue, so a
    /// teardown that sleeps on grace periods of its own costs the longer of the two, not their
    /// sum. Like [`Self::synchronize_expedited`], every reader that entered the domain before
    /// the call has left it when this returns. If the worker cannot be allocated, `f` runs first
    /// and the grace period is waited for here.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::{new_srcu_fast, SrcuFast};
    ///
    /// let srcu = KBox::pin_init(new_srcu_fast!("example"), GFP_KERNEL)?;
    /// let lines = srcu.synchronize_expedited_during(|| 64u32);
    /// assert_eq!(lines, 64);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn synchronize_expedited_during<R>(&self, f: impl FnOnce() -> R) -> R {
        // The wait happens on a worker, where lockdep would not see a reader of this domain
        // waiting for itself: tell it here, on the thread that waits for the worker.
        self.annotate_wait();
        // SAFETY: The completion is waited for below, before `self` can go away.
        let done = unsafe { self.spawn_synchronize_expedited() };
        let ret = f();
        match done {
            Ok(done) => done.wait_for_completion(),
            Err(_) => self.synchronize_expedited(),
        }
        ret
    }

    /// Returns whether lockdep knows the current thread to be inside a read-side critical section
    /// of this domain.
    ///
    /// Always `false` without lockdep (`CONFIG_DEBUG_LOCK_ALLOC`) or once lockdep has turned
    /// itself off; meant for debugging checks, never for deciding what to do.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::sync::{new_srcu_fast, SrcuFast};
    ///
    /// let srcu = KBox::pin_init(new_srcu_fast!("example"), GFP_KERNEL)?;
    /// assert!(!srcu.held_by_current());
    /// let guard = srcu.read_lock();
    /// if cfg!(CONFIG_DEBUG_LOCK_ALLOC) {
    ///     assert!(srcu.held_by_current());
    /// }
    /// drop(guard);
    /// assert!(!srcu.held_by_current());
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn held_by_current(&self) -> bool {
        // SAFETY: By the type invariants, `self` contains a valid `struct srcu_struct`.
        unsafe { bindings::srcu_read_held_by_current(self.inner.get()) }
    }

    /// Tells lockdep that the current thread is about to wait for this domain's readers, as
    /// `synchronize_srcu()` does, and warns if it is one of them (the wait would never end).
    fn annotate_wait(&self) {
        // SAFETY: By the type invariants, `self` contains a valid `struct srcu_struct`.
        unsafe { bindings::srcu_lock_sync(self.inner.get()) };
        crate::warn_on!(self.held_by_current());
    }

    /// Queues a worker that waits for an expedited grace period, then completes the result.
    ///
    /// Not generic, so the worker's code is in this crate whatever the caller's crate is: a
    /// module may be unloaded once its caller returns, while the worker is still returning.
    ///
    /// # Safety
    ///
    /// On success, the caller must wait for the returned completion before `self` may go away.
    unsafe fn spawn_synchronize_expedited(&self) -> Result<Arc<Completion>> {
        /// The domain, for the worker.
        struct Domain(*const SrcuFast);
        // SAFETY: `SrcuFast` is `Sync`, and the worker only calls `synchronize_expedited()`.
        unsafe impl Send for Domain {}

        let done = Arc::pin_init(Completion::new(), GFP_KERNEL)?;
        let (domain, signal) = (Domain(self), done.clone());
        workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
            // Moves the whole `Domain` in: a closure would capture only its (not `Send`) field.
            let domain = domain;
            // SAFETY: Per the function's safety requirements `self` stays valid until `done` is
            // completed, which happens only after this use of it.
            unsafe { &*domain.0 }.synchronize_expedited();
            signal.complete_all();
        })?;
        Ok(done)
    }
}

#[pinned_drop]
impl PinnedDrop for SrcuFast {
    fn drop(self: Pin<&mut Self>) {
        let ptr = self.inner.get();

        if crate::warn_on!(
            // SAFETY: By the type invariants, `self` contains a valid and pinned
            // `struct srcu_struct`; `srcu_readers_active()` only reads counters.
            unsafe { bindings::srcu_readers_active(ptr) }
        ) {
            // Only a leaked guard gets here. Waiting (possibly forever) is less
            // harmful than freeing a `srcu_struct` that readers still use.
            //
            // SAFETY: By the type invariants, `self` contains a valid and pinned
            // `struct srcu_struct`.
            unsafe { bindings::synchronize_srcu(ptr) };
        }

        // No `srcu_barrier()`: this type offers no `call_srcu()`, so no callback can be queued,
        // and dropping a domain never waits for a grace period (it may happen in a `close()`).
        //
        // SAFETY: By the type invariants, `self` contains a valid and pinned
        // `struct srcu_struct`, and no reader or callback is left.
        unsafe { bindings::cleanup_srcu_struct(ptr) };
    }
}

// SAFETY: An SRCU-fast `srcu_struct` may be used from any thread.
unsafe impl Send for SrcuFast {}
// SAFETY: An SRCU-fast `srcu_struct` may be used concurrently from several threads.
unsafe impl Sync for SrcuFast {}

/// Guard for an active SRCU-fast read-side critical section.
///
/// The read-side state (the per-CPU counter pointer) lives only here, on the
/// stack of the thread that entered the section: the guard is `!Send`, so it is
/// released by the thread that took it.
///
/// # Invariants
///
/// `ctr` is the value returned by `srcu_read_lock_fast()` for `srcu`, and the
/// matching `srcu_read_unlock_fast()` has not been called yet.
#[must_use = "if unused, the read-side critical section ends at once"]
pub struct FastGuard<'a> {
    srcu: &'a SrcuFast,
    ctr: *mut bindings::srcu_ctr,
    _not_send: NotThreadSafe,
}

impl FastGuard<'_> {
    /// Explicitly ends the read-side critical section.
    #[inline]
    pub fn unlock(self) {}
}

impl Drop for FastGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: By the type invariants, `ctr` came from `srcu_read_lock_fast()` on
        // this domain and has not been released yet.
        unsafe { bindings::srcu_read_unlock_fast(self.srcu.inner.get(), self.ctr) };
    }
}
