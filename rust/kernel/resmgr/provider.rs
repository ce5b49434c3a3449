// SPDX-License-Identifier: GPL-2.0

//! Owner side: the provider and its revocation.

use super::{
    handle::Handle,
    registry::Registry,
    shell::Shell, //
};
use crate::{
    device::{
        Bound,
        Device, //
    },
    devres,
    prelude::*,
    sync::{
        aref::ARef,
        Arc, //
    },
};

/// A provider instance: owns the implementation `T` behind a revocable shell.
///
/// Created from a [`PinInit<T>`]. Dropping the provider, calling [`Provider::revoke`], or (for a
/// provider created with [`Provider::new_bound`]) unbinding its device revokes it. Revocation is
/// a fence: after it returns, no consumer is inside `T`, `T` has been dropped, and every later
/// access through a [`Handle`] returns [`ENODEV`]. It costs one expedited SRCU grace period
/// whatever the number of handles.
///
/// [`ENODEV`]: crate::error::code::ENODEV
///
/// # Examples
///
/// ```
/// use kernel::resmgr::Provider;
///
/// struct Regulator {
///     microvolts: u32,
/// }
///
/// let provider = Provider::new(Regulator { microvolts: 1_800_000 })?;
/// let consumer = provider.handle();
/// assert_eq!(consumer.access()?.microvolts, 1_800_000);
///
/// provider.revoke();
/// assert_eq!(consumer.access().err(), Some(ENODEV));
/// # Ok::<(), Error>(())
/// ```
pub struct Provider<T: Send + Sync + 'static> {
    shell: Arc<Shell<T>>,
    dev: Option<ARef<Device>>,
}

/// Revokes a shell when its device is unbound (a devres action).
struct RevokeOnUnbind<T: Send + Sync + 'static>(Arc<Shell<T>>);

impl<T: Send + Sync + 'static> Drop for RevokeOnUnbind<T> {
    fn drop(&mut self) {
        self.0.revoke();
    }
}

impl<T: Send + Sync + 'static> Provider<T> {
    /// Creates a provider that is revoked when dropped or by [`Provider::revoke`].
    pub fn new<E>(init: impl PinInit<T, E>) -> Result<Self>
    where
        Error: From<E>,
    {
        Ok(Self {
            shell: Shell::new(init)?,
            dev: None,
        })
    }

    /// Creates a provider that is also revoked when `dev` is unbound.
    ///
    /// This is what a driver calls in probe: whatever keeps the [`Provider`] (or forgets to drop
    /// it), the implementation is gone, and every handle answers [`ENODEV`], once the device
    /// is unbound. It also enables the zero-cost [`Provider::access`].
    ///
    /// [`ENODEV`]: crate::error::code::ENODEV
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{faux, resmgr::Provider};
    ///
    /// let reg = faux::Registration::new(c"resmgr-doctest", None)?;
    /// let dev: &kernel::device::Device<kernel::device::Bound> = reg.as_ref().as_ref();
    /// let provider = Provider::new_bound(dev, 5u32)?;
    /// let handle = provider.handle();
    /// assert_eq!(*provider.access(dev)?, 5); // No read-side critical section needed.
    ///
    /// drop(reg); // Unbinds the device: devres revokes the provider.
    /// assert!(provider.is_revoked());
    /// assert_eq!(handle.access().err(), Some(ENODEV));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new_bound<E>(dev: &Device<Bound>, init: impl PinInit<T, E>) -> Result<Self>
    where
        Error: From<E>,
    {
        Self::bind(dev, Shell::new(init)?)
    }

    fn bind(dev: &Device<Bound>, shell: Arc<Shell<T>>) -> Result<Self> {
        // If this fails, dropping `shell` drops the implementation (there are no handles yet).
        devres::register(dev, RevokeOnUnbind(shell.clone()), GFP_KERNEL)?;
        Ok(Self {
            shell,
            dev: Some(dev.into()),
        })
    }

    /// Returns a new consumer handle to this provider.
    pub fn handle(&self) -> Handle<T> {
        Handle::new(self.shell.clone())
    }

    /// Accesses the implementation with no read-side critical section, given proof that the
    /// provider's device is bound.
    ///
    /// Returns [`EINVAL`] if `dev` is not the device the provider was created for with
    /// [`Provider::new_bound`], and [`ENODEV`] if the provider was revoked during an earlier
    /// binding of that device.
    ///
    /// [`EINVAL`]: crate::error::code::EINVAL
    /// [`ENODEV`]: crate::error::code::ENODEV
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{device::{Bound, Device}, resmgr::Provider};
    ///
    /// struct Chip {
    ///     lines: u32,
    /// }
    ///
    /// fn lines(provider: &Provider<Chip>, dev: &Device<Bound>) -> Result<u32> {
    ///     Ok(provider.access(dev)?.lines)
    /// }
    /// ```
    #[inline]
    pub fn access<'a>(&'a self, dev: &'a Device<Bound>) -> Result<&'a T> {
        match &self.dev {
            Some(own) if own.as_raw() == dev.as_raw() => {}
            _ => return Err(EINVAL),
        }
        // SAFETY: The shell is revoked only by `Provider::revoke` (which takes `self` by value,
        // impossible while `self` is borrowed), by dropping `self` (likewise), or by the devres
        // action of `dev`, which cannot run while `dev` is bound, which it is for `'a`.
        unsafe { self.shell.access_unchecked() }
    }

    /// Lists this provider in `registry` under `name`, so that consumers can look it up.
    ///
    /// The entry goes away when the provider is revoked. Returns [`EEXIST`] if a live provider
    /// already has that name, [`ENODEV`] if this one is already revoked, and [`EBUSY`] if it is
    /// already listed.
    ///
    /// [`EEXIST`]: crate::error::code::EEXIST
    /// [`ENODEV`]: crate::error::code::ENODEV
    /// [`EBUSY`]: crate::error::code::EBUSY
    pub fn register(&self, registry: &'static Registry<T>, name: &CStr) -> Result {
        registry.list(&self.shell, name)
    }

    /// Returns whether the provider has been revoked (by an unbind of its device).
    #[inline]
    pub fn is_revoked(&self) -> bool {
        self.shell.is_revoked()
    }

    /// Revokes the provider now: the explicit form of dropping it.
    pub fn revoke(self) {}

    /// Returns the shell, for the subsystem adapters.
    pub(crate) fn shell(&self) -> &Arc<Shell<T>> {
        &self.shell
    }

    /// Wraps an existing shell, for the KUnit tests.
    #[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
    pub(crate) fn from_shell_for_test(shell: Arc<Shell<T>>) -> Self {
        Self { shell, dev: None }
    }
}

impl<T: Send + Sync + 'static> Drop for Provider<T> {
    fn drop(&mut self) {
        self.shell.revoke();
    }
}
