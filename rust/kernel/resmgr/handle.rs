// SPDX-License-Identifier: GPL-2.0

//! Consumer side: weak handles and access guards.

use super::{
    notice::{
        Notice,
        RevokeNotify, //
    },
    shell::Shell,
};
use crate::{
    prelude::*,
    sync::{
        Arc,
        FastGuard, //
    },
};
use core::{
    ops::Deref,
    ptr::NonNull, //
};

/// A consumer's handle to a provider.
///
/// Cheap to clone (a reference count); it keeps the provider's shell alive, never the
/// implementation. Dropping a handle may sleep (the last one frees the provider's SRCU domain),
/// so handles must not be dropped in atomic context, such as under a spinlock. Every use goes
/// through [`Handle::access`] (or [`Handle::with`]), which returns [`ENODEV`] once the provider
/// is revoked. A handle stays revoked forever, even if the provider's driver binds again: that
/// is a new provider, found by a new lookup.
///
/// [`ENODEV`]: crate::error::code::ENODEV
///
/// # Examples
///
/// ```
/// use kernel::resmgr::Provider;
///
/// struct Led {
///     on: bool,
/// }
///
/// let provider = Provider::new(Led { on: true })?;
/// let handle = provider.handle();
/// assert!(handle.access()?.on);
/// assert_eq!(handle.with(|led| led.on)?, true);
///
/// drop(provider); // Revokes: the `Led` is dropped, the handle lives on.
/// assert!(handle.is_revoked());
/// assert_eq!(handle.access().err(), Some(ENODEV));
/// assert_eq!(handle.with(|led| led.on), Err(ENODEV));
/// # Ok::<(), Error>(())
/// ```
pub struct Handle<T: Send + Sync + 'static> {
    shell: Arc<Shell<T>>,
}

impl<T: Send + Sync + 'static> Handle<T> {
    pub(crate) fn new(shell: Arc<Shell<T>>) -> Self {
        Self { shell }
    }

    /// Enters the provider and returns a guard that dereferences to the implementation.
    ///
    /// Returns [`ENODEV`] if the provider is revoked. While the guard lives, a revocation of the
    /// provider waits for it: the guard may be held across short sleeps (memory allocation, a
    /// mutex, a bus transfer), but never across an unbounded wait, such as for an event the
    /// provider's revocation would deliver. Wait outside the guard instead, and re-enter after
    /// waking; see [`Handle::wait_revoked`] and [`Handle::notify_on_revoke`].
    ///
    /// [`ENODEV`]: crate::error::code::ENODEV
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::resmgr::Provider;
    /// use kernel::sync::{new_mutex, Mutex};
    ///
    /// #[pin_data]
    /// struct Counter {
    ///     #[pin]
    ///     value: Mutex<u32>,
    /// }
    ///
    /// let provider = Provider::new(pin_init!(Counter { value <- new_mutex!(0) }))?;
    /// let handle = provider.handle();
    /// {
    ///     let counter = handle.access()?;
    ///     *counter.value.lock() += 1; // Sleeping on a mutex inside the guard is fine.
    /// }
    /// assert_eq!(*handle.access()?.value.lock(), 1);
    /// provider.revoke();
    /// assert_eq!(handle.access().err(), Some(ENODEV));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn access(&self) -> Result<Guard<'_, T>> {
        self.shell.read()
    }

    /// Runs `f` on the implementation inside one access, or returns [`ENODEV`] if revoked.
    ///
    /// [`ENODEV`]: crate::error::code::ENODEV
    #[inline]
    pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> Result<R> {
        let guard = self.access()?;
        Ok(f(&guard))
    }

    /// Returns whether the provider has been revoked.
    ///
    /// A `false` answer may be stale by the time it is used; only [`Handle::access`] decides.
    #[inline]
    pub fn is_revoked(&self) -> bool {
        self.shell.is_revoked()
    }

    /// Sleeps until the provider is revoked; returns `ERESTARTSYS` if a signal arrives first.
    ///
    /// This is the pattern for a consumer that must block on its provider: wait here, outside
    /// any guard, so that the revocation is never held up by the waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::resmgr::Provider;
    ///
    /// let provider = Provider::new(0u32)?;
    /// let handle = provider.handle();
    /// provider.revoke();
    /// handle.wait_revoked()?; // Already revoked: returns at once.
    /// # Ok::<(), Error>(())
    /// ```
    pub fn wait_revoked(&self) -> Result {
        self.shell.wait_revoked()
    }

    /// Asks for `notify` to run exactly once when the provider is revoked.
    ///
    /// If the provider is already revoked, `notify` runs before this returns. Dropping the
    /// returned [`Notice`] before the revocation cancels it.
    ///
    /// # Examples
    ///
    /// ```
    /// use core::sync::atomic::{AtomicU32, Ordering};
    /// use kernel::resmgr::{Provider, RevokeNotify};
    /// use kernel::sync::Arc;
    ///
    /// struct Count(AtomicU32);
    /// impl RevokeNotify for Count {
    ///     fn revoked(&self) {
    ///         self.0.fetch_add(1, Ordering::Relaxed);
    ///     }
    /// }
    ///
    /// let provider = Provider::new(())?;
    /// let handle = provider.handle();
    /// let count = Arc::new(Count(AtomicU32::new(0)), GFP_KERNEL)?;
    /// let _notice = handle.notify_on_revoke(count.clone())?;
    /// provider.revoke();
    /// assert_eq!(count.0.load(Ordering::Relaxed), 1);
    ///
    /// // Late: runs at once, still exactly once.
    /// let late = Arc::new(Count(AtomicU32::new(0)), GFP_KERNEL)?;
    /// let _late_notice = handle.notify_on_revoke(late.clone())?;
    /// assert_eq!(late.0.load(Ordering::Relaxed), 1);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn notify_on_revoke(&self, notify: Arc<dyn RevokeNotify>) -> Result<Notice<T>> {
        Notice::new(&self.shell, notify)
    }

    /// Returns the shell, for the KUnit tests.
    #[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
    pub(crate) fn shell_for_test(&self) -> &Shell<T> {
        &self.shell
    }

    /// Returns whether both handles refer to the same provider instance.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::resmgr::Provider;
    ///
    /// let first = Provider::new(1u8)?;
    /// let second = Provider::new(1u8)?;
    /// let a = first.handle();
    /// assert!(a.same_provider(&a.clone()));
    /// assert!(!a.same_provider(&second.handle()));
    /// # Ok::<(), Error>(())
    /// ```
    #[inline]
    pub fn same_provider(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shell, &other.shell)
    }
}

impl<T: Send + Sync + 'static> Drop for Handle<T> {
    /// Dropping the last reference to a provider's shell frees its SRCU domain, which may sleep:
    /// so may dropping any handle, and this says so at once rather than only when it is the last.
    #[inline]
    fn drop(&mut self) {
        crate::task::might_sleep();
    }
}

impl<T: Send + Sync + 'static> Clone for Handle<T> {
    fn clone(&self) -> Self {
        Self {
            shell: self.shell.clone(),
        }
    }
}

/// An access to a provider's implementation: an SRCU-fast read-side critical section.
///
/// The read-side state lives in the guard itself, on the stack of the thread that took it;
/// the guard is `!Send`. Revocation of the provider waits until the guard is dropped.
///
/// # Examples
///
/// ```
/// use kernel::resmgr::Provider;
///
/// let provider = Provider::new(KVec::from_elem(7u8, 3, GFP_KERNEL)?)?;
/// let handle = provider.handle();
/// let guard = handle.access()?;
/// assert_eq!(guard.len(), 3); // Derefs to the implementation.
/// assert_eq!(guard[0], 7);
/// drop(guard); // Ends the read-side critical section.
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `imp` points to the provider's implementation, which stays valid while `_srcu` is held.
#[must_use = "the access ends when the guard is dropped"]
pub struct Guard<'a, T> {
    _srcu: FastGuard<'a>,
    imp: NonNull<T>,
}

impl<'a, T> Guard<'a, T> {
    /// Creates a guard.
    ///
    /// # Safety
    ///
    /// `imp` must point to an implementation that stays valid while `srcu` is held.
    pub(crate) unsafe fn new(srcu: FastGuard<'a>, imp: NonNull<T>) -> Self {
        // INVARIANT: Guaranteed by the caller.
        Self { _srcu: srcu, imp }
    }
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        // SAFETY: By the type invariants, `imp` is valid while `self` (and so its read-side
        // critical section) lives, and the returned reference borrows `self`.
        unsafe { self.imp.as_ref() }
    }
}
