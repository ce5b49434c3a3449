// SPDX-License-Identifier: GPL-2.0

//! Revocation notices: callbacks run exactly once when a provider is revoked.

use super::shell::Shell;
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
pub trait RevokeNotify: Send + Sync {
    /// Called exactly once when the provider is revoked (or at once, if it
    /// already was when the notice was requested).
    fn revoked(&self);
}

/// The pending notices of one shell.
pub(crate) struct NoticeList {
    next_id: u64,
    entries: KVec<(u64, Arc<dyn RevokeNotify>)>,
}

impl NoticeList {
    pub(crate) const fn new() -> Self {
        Self {
            next_id: 0,
            entries: KVec::new(),
        }
    }

    /// Takes every pending notice, leaving the list empty.
    pub(crate) fn take(&mut self) -> Self {
        Self {
            next_id: self.next_id,
            entries: core::mem::replace(&mut self.entries, KVec::new()),
        }
    }

    /// Runs every notice once, consuming the list.
    pub(crate) fn notify_all(self) {
        for (_, notify) in self.entries {
            notify.revoked();
        }
    }
}

/// A registered revocation notice; dropping it cancels a notice that has not run yet.
///
/// Created by [`Handle::notify_on_revoke`](super::Handle::notify_on_revoke). Once the
/// revocation has started, the callback runs even if the [`Notice`] is dropped
/// concurrently; the callback object stays alive until it has returned.
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
        let Some(id) = self.id else { return };
        let removed = {
            let mut state = self.shell.state.lock();
            let entries = &mut state.notices.entries;
            entries
                .iter()
                .position(|(i, _)| *i == id)
                .and_then(|pos| entries.remove(pos).ok())
        };
        // Drop the callback object outside the lock.
        drop(removed);
    }
}
