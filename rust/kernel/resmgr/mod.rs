// SPDX-License-Identifier: GPL-2.0

//! Resource manager: provider shells that make unbind safe for consumers.
//!
//! A driver that hands out resources (GPIO lines, regulators, character
//! devices) often has consumers that outlive it: an open file, a handle kept by
//! another driver. `resmgr` puts one *shell* between them:
//!
//! ```text
//!   driver (owner)                 consumers
//!   Provider<T> ----owns----+      Handle<T>  Handle<T>  ...  (weak: keep the shell, never T)
//!       |                   v          |          |
//!       |            Arc<Shell<T>> <---+----------+
//!       |            +-------------------------------+
//!       |            | SRCU-fast domain (one/provider)|
//!       +--revoke--> | imp: SRCU-protected *T  ------+--> T (the implementation)
//!                    | revocation notices, registry  |
//!                    +-------------------------------+
//!   every access:  Handle::access() -> Guard<'_, T> (read index on the stack, !Send)
//! ```
//!
//! Revoking a provider (explicitly, by dropping the [`Provider`], or through
//! devres when its device is unbound) is a fence, like `free_irq()`: the
//! pointer is cleared, revocation notices are delivered, readers already inside
//! are waited for with one expedited SRCU grace period, and then `T` is
//! dropped. Every later [`Handle::access`] returns [`ENODEV`]. Handles stay
//! valid objects until the last one is dropped, and a provider that comes back
//! is a new shell, so stale handles stay revoked forever.
//!
//! Code that can prove the provider's device is bound (a `&Device<Bound>`) reads
//! through [`Provider::access`] with no SRCU section at all.
//!
//! Where a subsystem has a C core (gpiolib, the regulator core), consumers go through it, and
//! resmgr works under it on the provider side. A subsystem without one lists its providers by
//! name in a [`Registry`], where consumers find them.
//!
//! See `Documentation/rust/resmgr.rst` for the contract and worked examples.
//!
//! [`ENODEV`]: crate::error::code::ENODEV

pub mod chardev;
mod handle;
mod notice;
mod provider;
mod registry;
#[cfg(CONFIG_REGULATOR)]
pub mod regulator;
mod shell;

#[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
mod kunit_tests;

pub use crate::define_resource_registry;
pub use handle::{
    Guard,
    Handle, //
};
pub use notice::{
    Notice,
    RevokeNotify, //
};
pub use provider::Provider;
pub use registry::Registry;

/// Returns the device `dev` as a bound device.
///
/// # Safety
///
/// `dev` must be a valid device, bound for the returned lifetime.
pub(crate) unsafe fn bound_device<'a>(
    dev: *mut crate::bindings::device,
) -> &'a crate::device::Device<crate::device::Bound> {
    // SAFETY: Per the safety requirements `dev` is valid for `'a`.
    let dev: &'a crate::device::Device = unsafe { crate::device::Device::from_raw(dev) };
    // SAFETY: Per the safety requirements `dev` stays bound for `'a`.
    unsafe { dev.as_bound() }
}
