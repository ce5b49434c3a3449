// SPDX-License-Identifier: GPL-2.0

//! Revocation notices: callbacks run exactly once when a provider is revoked.

use super::shell::{
    current_task,
    Shell, //
};
use crate::{
    prelude::*,
    sync::Arc, //
};

/// Something to tell when a provider is revoked.
///
/// The chardev adapter uses it to wake pollers and blocked readers; a consumer
/// driver may use it to schedule its own teardown. [`RevokeNotify::revoked`] runs
/// in the revoking thread, before the revocation waits for readers, so it must
/// not block on anything that a reader of the same provider holds. It may sleep.
/// No lock of the provider is held while it runs: it may drop notices (its own
/// included) and revoke other providers.
pub trait RevokeNotify: Send + Sync {
    /// Called exactly once when the provider is revoked (or at once, if it
    /// already was when the notice was requested).
    fn revoked(&self);
}

/// The notices of one shell, protected by the shell's state lock.
pub(crate) struct NoticeList {
    next_id: u64,
    /// Notices that have not run yet, in the order they were requested.
    entries: KVec<(u64, Arc<dyn RevokeNotify>)>,
    /// The notice whose callback is running, if any.
    running: Option<u64>,
}

impl NoticeList {
    pub(crate) const fn new() -> Self {
        Self {
            next_id: 0,
            entries: KVec::new(),
            running: None,
        }
    }

    /// Runs every pending notice of `shell` once, one at a time, with no lock held.
    ///
    /// Called by the revocation after it has set `revoked`, so no notice is added meanwhile. A
    /// notice dropped before its turn never runs; one dropped while it runs makes its dropper
    /// wait until the callback has returned and the callback object is released.
    pub(crate) fn deliver<T: Send + Sync + 'static>(shell: &Shell<T>) {
        loop {
            let next = {
                let mut state = shell.state.lock();
                let list = &mut state.notices;
                list.running = None;
                let next = if list.entries.is_empty() {
                    None
                } else {
                    list.entries.remove(0).ok()
                };
                list.running = next.as_ref().map(|(id, _)| *id);
                next
            };
            // A dropper of the notice that has just returned may go on.
            shell.state_cv.notify_all();
            let Some((_, notify)) = next else { break };
            notify.revoked();
            // The callback object goes before its notice is marked done: its destructor may be
            // code of the module that waits in `Notice::drop` to be unloaded.
            drop(notify);
        }
    }
}

/// A registered revocation notice; dropping it cancels a notice that has not run yet.
///
/// Created by [`Handle::notify_on_revoke`](super::Handle::notify_on_revoke). Dropping a
/// [`Notice`] is a fence, like `cancel_work_sync()`: when the drop returns, the callback
/// either has run and returned (and its object has been released by the revocation) or will
/// never run. So a module that drops its notices before it is unloaded never has its code run
/// afterwards. The drop may therefore sleep, waiting for a running callback, and must not be
/// called with anything held that the callback takes (except from the callback itself, which
/// may drop its own notice).
///
/// # Examples
///
/// ```
/// use core::sync::atomic::{AtomicBool, Ordering};
/// use kernel::resmgr::{Provider, RevokeNotify};
/// use kernel::sync::Arc;
///
/// struct Flag(AtomicBool);
/// impl RevokeNotify for Flag {
///     fn revoked(&self) {
///         self.0.store(true, Ordering::Relaxed);
///     }
/// }
///
/// let provider = Provider::new(())?;
/// let flag = Arc::new(Flag(AtomicBool::new(false)), GFP_KERNEL)?;
/// let notice = provider.handle().notify_on_revoke(flag.clone())?;
/// drop(notice); // Cancelled before the revocation: it never runs.
/// provider.revoke();
/// assert!(!flag.0.load(Ordering::Relaxed));
/// # Ok::<(), Error>(())
/// ```
pub struct Notice<T: Send + Sync + 'static> {
    shell: Arc<Shell<T>>,
    id: Option<u64>,
}

impl<T: Send + Sync + 'static> Notice<T> {
    /// Registers `notify` on `shell`, or runs it at once if the shell is revoked.
    pub(crate) fn new(shell: &Arc<Shell<T>>, notify: Arc<dyn RevokeNotify>) -> Result<Self> {
        let mut state = shell.state.lock();
        if state.revoked {
            drop(state);
            notify.revoked();
            return Ok(Self {
                shell: shell.clone(),
                id: None,
            });
        }
        let id = state.notices.next_id;
        state.notices.next_id += 1;
        state.notices.entries.push((id, notify), GFP_KERNEL)?;
        Ok(Self {
            shell: shell.clone(),
            id: Some(id),
        })
    }
}

impl<T: Send + Sync + 'static> Drop for Notice<T> {
    fn drop(&mut self) {
        crate::task::might_sleep();
        let Some(id) = self.id else { return };
        let me = current_task();
        let mut state = self.shell.state.lock();
        let entries = &mut state.notices.entries;
        if let Some(pos) = entries.iter().position(|(i, _)| *i == id) {
            let removed = entries.remove(pos).ok();
            drop(state);
            // Drop the callback object outside the lock.
            drop(removed);
            return;
        }
        // Not pending: it has run, or runs now. Wait for it to return, unless this is the
        // callback dropping its own notice.
        while state.notices.running == Some(id) && state.revoker != me {
            self.shell.state_cv.wait(&mut state);
        }
    }
}
