// SPDX-License-Identifier: GPL-2.0

//! The provider shell: one SRCU-fast domain guarding one implementation pointer.

use super::{
    handle::Guard,
    notice::NoticeList,
    registry::Registry, //
};
use crate::{
    prelude::*,
    sync::{
        Arc,
        CondVar,
        FastGuard,
        Mutex,
        SrcuFast, //
    },
};
use core::{
    ptr::{
        self,
        NonNull, //
    },
    sync::atomic::{
        AtomicPtr,
        Ordering, //
    },
};

/// Revocation state of a shell, protected by [`Shell::state`].
pub(crate) struct State<T: Send + Sync + 'static> {
    /// Set (once) by [`Shell::revoke`] after the implementation pointer was cleared.
    pub(crate) revoked: bool,
    /// Set (once) when that revocation has dropped the implementation.
    fenced: bool,
    /// The task running that revocation (an address, only compared with `current`).
    pub(crate) revoker: usize,
    /// Callbacks to run once on revocation.
    pub(crate) notices: NoticeList,
    /// The registry this shell is listed in, if any.
    pub(crate) registry: Option<&'static Registry<T>>,
}

/// The object shared by a [`Provider`](super::Provider) and its handles.
///
/// # Invariants
///
/// - `imp` is null or comes from `KBox::into_raw()` of a pinned `KBox<T>` owned by the shell;
///   the `T` is never moved.
/// - Once `imp` is null it never becomes non-null again.
/// - A non-null value loaded from `imp` inside a read-side critical section of `srcu` stays
///   valid until that section ends: [`Shell::revoke`] clears `imp` and waits for a grace period
///   of `srcu` before dropping the `T`.
/// - The `T` is dropped only by the revocation that cleared `imp`, as its last step before it
///   returns, or by the shell's destructor.
#[pin_data(PinnedDrop)]
pub(crate) struct Shell<T: Send + Sync + 'static> {
    #[pin]
    srcu: SrcuFast,
    imp: AtomicPtr<T>,
    #[pin]
    pub(crate) state: Mutex<State<T>>,
    /// Signalled when `state` changes: the shell is revoked, a notice has returned, the
    /// implementation is dropped.
    #[pin]
    pub(crate) state_cv: CondVar,
}

impl<T: Send + Sync + 'static> Shell<T> {
    /// Allocates the implementation and a shell around it.
    pub(crate) fn new<E>(init: impl PinInit<T, E>) -> Result<Arc<Self>>
    where
        Error: From<E>,
    {
        let imp = KBox::pin_init(init, GFP_KERNEL)?;
        // SAFETY: The `T` is never moved out of its allocation: it is only ever accessed
        // through shared references and finally dropped in place by `KBox::from_raw`.
        Self::wrap(KBox::into_raw(unsafe { Pin::into_inner_unchecked(imp) }))
    }

    /// Allocates a shell around `raw`, taking ownership of it (also on failure).
    fn wrap(raw: *mut T) -> Result<Arc<Self>> {
        let srcu = classes::srcu();
        let (state, state_cv) = (classes::state(), classes::state_cv());
        let shell = Arc::pin_init(
            try_pin_init!(Self {
                srcu <- SrcuFast::new(srcu.0, srcu.1),
                // INVARIANT: `raw` comes from `KBox::into_raw()` of a pinned `KBox<T>`.
                imp: AtomicPtr::new(raw),
                state <- Mutex::new(
                    State {
                        revoked: false,
                        fenced: false,
                        revoker: 0,
                        notices: NoticeList::new(),
                        registry: None,
                    },
                    state.0,
                    state.1,
                ),
                state_cv <- CondVar::new(state_cv.0, state_cv.1),
            }? Error),
            GFP_KERNEL,
        );
        if shell.is_err() {
            // SAFETY: The caller passed ownership of `raw`, from `KBox::into_raw()`, and it was
            // not shared.
            drop(unsafe { KBox::from_raw(raw) });
        }
        shell
    }

    /// Enters a read-side critical section and returns a guard to the implementation.
    #[inline]
    pub(crate) fn read(&self) -> Result<Guard<'_, T>> {
        let srcu = self.srcu.read_lock();
        let Some(imp) = NonNull::new(self.imp.load(Ordering::Acquire)) else {
            return revoked(srcu);
        };
        // SAFETY: `imp` was loaded non-null inside the read-side critical section held by
        // `srcu`, so by the type invariants it stays valid for as long as `srcu` is held.
        Ok(unsafe { Guard::new(srcu, imp) })
    }

    /// Returns the implementation without entering a read-side critical section.
    ///
    /// # Safety
    ///
    /// The caller must guarantee that no revocation of the shell returns within the returned
    /// lifetime: either none starts, or it cannot return before the lifetime ends (the
    /// `teardown` of [`Shell::revoke_during`] waits for the caller).
    #[inline]
    pub(crate) unsafe fn access_unchecked(&self) -> Result<&T> {
        let imp = self.imp.load(Ordering::Acquire);
        if imp.is_null() {
            return Err(ENODEV);
        }
        // SAFETY: `imp` is non-null, so by the type invariants it points to a valid `T` that
        // is only dropped by a revocation just before it returns, which the caller guarantees
        // does not happen within the returned lifetime.
        Ok(unsafe { &*imp })
    }

    /// Returns the shell's SRCU domain, for the KUnit tests.
    #[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
    pub(crate) fn srcu_for_test(&self) -> &SrcuFast {
        &self.srcu
    }

    /// Returns whether the implementation pointer has been cleared.
    #[inline]
    pub(crate) fn is_revoked(&self) -> bool {
        self.imp.load(Ordering::Relaxed).is_null()
    }

    /// The revocation fence.
    ///
    /// Clears the implementation pointer, unlists the shell from its registry, delivers the
    /// revocation notices, waits for readers already inside (one expedited grace period), then
    /// drops the implementation. Returns `true` if this call revoked, `false` if the shell was
    /// already revoked; either way no reader is inside when it returns.
    ///
    /// Must not be called from inside a read-side critical section of this shell.
    pub(crate) fn revoke(&self) -> bool {
        self.fence(None::<fn()>, None::<fn()>)
    }

    /// [`Shell::revoke`], running `teardown` while the grace period elapses.
    ///
    /// `teardown` runs once the implementation pointer is cleared, on the calling thread, while
    /// a worker waits for the grace period; the implementation is dropped after both. So a
    /// subsystem's own removal (which waits for its own readers, who may hold a reference from
    /// [`Shell::access_unchecked`]) costs the longer of the two waits, not their sum.
    /// `teardown` runs exactly once, also when the shell was already revoked.
    pub(crate) fn revoke_during(&self, teardown: impl FnOnce()) -> bool {
        self.fence(Some(teardown), None::<fn()>)
    }

    /// [`Shell::revoke`], running `before_drop` between the grace period and the drop of the
    /// implementation.
    ///
    /// When `before_drop` runs, no reader is inside and none can enter, and the implementation is
    /// still there: what readers left behind that points into it (a page they mapped) can be taken
    /// away first. `before_drop` runs exactly once, also when the shell was already revoked.
    pub(crate) fn revoke_then(&self, before_drop: impl FnOnce()) -> bool {
        self.fence(None::<fn()>, Some(before_drop))
    }

    /// The revocation fence, with an optional teardown run during the grace period and an
    /// optional step run after it, before the implementation is dropped.
    ///
    /// No lock of the shell is held while the notices run or the implementation is dropped, so
    /// that either may revoke other providers (all shells share their lock classes) or block on
    /// what a notice's owner holds while it drops the notice.
    fn fence(&self, teardown: Option<impl FnOnce()>, before_drop: Option<impl FnOnce()>) -> bool {
        crate::task::might_sleep();
        let raw = self.imp.swap(ptr::null_mut(), Ordering::AcqRel);
        if raw.is_null() {
            // Another revocation cleared the pointer: return only once it has completed.
            self.wait_fenced();
            if let Some(teardown) = teardown {
                teardown();
            }
            if let Some(before_drop) = before_drop {
                before_drop();
            }
            return false;
        }

        let registry = {
            let mut state = self.state.lock();
            state.revoked = true;
            state.revoker = current_task();
            state.registry.take()
        };
        if let Some(registry) = registry {
            registry.unlist(self);
        }
        self.state_cv.notify_all();
        NoticeList::deliver(self);

        match teardown {
            Some(teardown) => self.srcu.synchronize_expedited_during(teardown),
            None => self.srcu.synchronize_expedited(),
        }
        if let Some(before_drop) = before_drop {
            before_drop();
        }

        // INVARIANT: The `T` is dropped as the last step of the revocation that cleared `imp`.
        // SAFETY: This call swapped `raw` out (no later reader loads it), the grace period above
        // waited for every earlier reader, the teardown and `before_drop` (if any) have returned,
        // and by the type invariants `raw` is a `KBox::into_raw()`.
        drop(unsafe { KBox::from_raw(raw) });

        self.state.lock().fenced = true;
        self.state_cv.notify_all();
        true
    }

    /// Waits until the revocation that cleared the pointer has dropped the implementation.
    ///
    /// Returns at once when called by that revocation itself (from a notice or a teardown).
    fn wait_fenced(&self) {
        let me = current_task();
        let mut state = self.state.lock();
        while !state.fenced && state.revoker != me {
            self.state_cv.wait(&mut state);
        }
    }

    /// Sleeps until the shell is revoked, or a signal arrives (`ERESTARTSYS`).
    pub(crate) fn wait_revoked(&self) -> Result {
        let mut state = self.state.lock();
        while !state.revoked {
            if self.state_cv.wait_interruptible(&mut state) {
                return Err(ERESTARTSYS);
            }
        }
        Ok(())
    }
}

/// Ends the read-side critical section of an access that found the shell revoked.
///
/// Out of line and cold, so that the compiler lays an access out as a straight line: lock, load,
/// test, and on to the caller's code.
#[cold]
#[inline(never)]
fn revoked<T>(srcu: FastGuard<'_>) -> Result<Guard<'_, T>> {
    drop(srcu);
    Err(ENODEV)
}

/// Identifies the current task, for comparisons only.
pub(crate) fn current_task() -> usize {
    crate::task::Task::current_raw() as usize
}

#[pinned_drop]
impl<T: Send + Sync + 'static> PinnedDrop for Shell<T> {
    fn drop(self: Pin<&mut Self>) {
        let raw = self.imp.load(Ordering::Acquire);
        if !raw.is_null() {
            // SAFETY: The last reference to the shell is gone, so no guard (which borrows a
            // reference) exists; by the type invariants `raw` came from `KBox::into_raw()`.
            drop(unsafe { KBox::from_raw(raw) });
        }
    }
}

/// Lock classes of the shell's locks.
///
/// One class per lock for every `Shell<T>`: the functions are not generic, so each has one
/// static key and one name (a `static_lock_class!()` inside a generic function would pair one
/// key with a different name string per monomorphisation, which lockdep rejects). The names
/// are statics too: a string literal may be duplicated when a function is inlined into another
/// crate, while a static has one address.
mod classes {
    use crate::{
        prelude::*,
        static_lock_class,
        sync::LockClassKey, //
    };

    pub(super) fn srcu() -> (&'static CStr, Pin<&'static LockClassKey>) {
        static NAME: &CStr = c"resmgr::Shell::srcu";
        (NAME, static_lock_class!())
    }

    pub(super) fn state() -> (&'static CStr, Pin<&'static LockClassKey>) {
        static NAME: &CStr = c"resmgr::Shell::state";
        (NAME, static_lock_class!())
    }

    pub(super) fn state_cv() -> (&'static CStr, Pin<&'static LockClassKey>) {
        static NAME: &CStr = c"resmgr::Shell::state_cv";
        (NAME, static_lock_class!())
    }
}
