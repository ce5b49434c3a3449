// SPDX-License-Identifier: GPL-2.0

//! Simulated interrupt domains.
//!
//! A simulated domain offers interrupts that no hardware raises: its owner raises them with
//! [`Domain::raise`], and they are delivered from an `irq_work` like any other interrupt. GPIO
//! simulators use one so that their lines can be interrupts.
//!
//! C header: [`include/linux/irq_sim.h`](srctree/include/linux/irq_sim.h)

use crate::{
    bindings,
    error::from_err_ptr,
    prelude::*, //
};
use core::ptr::{
    self,
    NonNull, //
};

/// An edge that a simulated interrupt can trigger on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    /// Low to high.
    Rising,
    /// High to low.
    Falling,
}

/// A simulated interrupt domain of `count` interrupts, removed when dropped.
///
/// # Examples
///
/// ```
/// use kernel::irq::sim::{Domain, Edge};
///
/// let domain = Domain::new(4)?;
/// assert_eq!(domain.mapping(2), None); // Nothing mapped yet.
/// let irq = domain.create_mapping(2)?;
/// assert_eq!(domain.mapping(2), Some(irq));
/// assert_eq!(domain.create_mapping(4).err(), Some(ENXIO));
/// // No handler asked for that edge: nothing is raised.
/// assert!(!domain.raise(2, Edge::Rising));
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `domain` is a simulated interrupt domain of `count` interrupts, owned by `self`.
pub struct Domain {
    domain: NonNull<bindings::irq_domain>,
    count: u32,
}

// SAFETY: The interrupt domain's functions may be called from any thread.
unsafe impl Send for Domain {}
// SAFETY: `&self` methods only call thread-safe interrupt functions.
unsafe impl Sync for Domain {}

impl Domain {
    /// Creates a domain of `count` interrupts.
    pub fn new(count: u32) -> Result<Self> {
        // SAFETY: A domain without hooks needs nothing to stay valid.
        unsafe { Self::with_hooks(count, ptr::null(), ptr::null_mut()) }
    }

    /// Creates a domain of `count` interrupts whose hooks, `ops`, are called with `data` when
    /// one of its interrupts is requested or released.
    ///
    /// # Safety
    ///
    /// `ops` is null or valid for the lifetime of the domain; its hooks must be safe to call
    /// with `data` until the domain is dropped.
    pub unsafe fn with_hooks(
        count: u32,
        ops: *const bindings::irq_sim_ops,
        data: *mut c_void,
    ) -> Result<Self> {
        // SAFETY: Per the safety requirements `ops` and `data` stay usable while the domain does.
        let domain = from_err_ptr(unsafe {
            bindings::irq_domain_create_sim_full(ptr::null_mut(), count, ops, data)
        })?;
        // INVARIANT: A new simulated domain of `count` interrupts.
        Ok(Self {
            domain: NonNull::new(domain).ok_or(ENOMEM)?,
            count,
        })
    }

    /// Returns the number of interrupt `hwirq` if it is mapped.
    pub fn mapping(&self, hwirq: u32) -> Option<u32> {
        if hwirq >= self.count {
            return None;
        }
        let mut irq: c_uint = 0;
        // SAFETY: `domain` is valid (type invariants); `irq` is a valid out pointer.
        let desc = unsafe {
            bindings::__irq_resolve_mapping(self.domain.as_ptr(), hwirq as c_ulong, &mut irq)
        };
        (!desc.is_null()).then_some(irq)
    }

    /// Maps interrupt `hwirq` (`ENXIO` if the domain has no such interrupt) and returns its
    /// number.
    pub fn create_mapping(&self, hwirq: u32) -> Result<u32> {
        if hwirq >= self.count {
            return Err(ENXIO);
        }
        // SAFETY: `domain` is valid (type invariants) and `hwirq` is one of its interrupts.
        let irq = unsafe {
            bindings::irq_create_mapping_affinity(
                self.domain.as_ptr(),
                hwirq as c_ulong,
                ptr::null(),
            )
        };
        if irq == 0 {
            Err(ENXIO)
        } else {
            Ok(irq)
        }
    }

    /// Raises interrupt `hwirq` if it is mapped and triggers on `edge`; returns whether it did.
    ///
    /// A masked interrupt is raised when it is unmasked.
    pub fn raise(&self, hwirq: u32, edge: Edge) -> bool {
        let Some(irq) = self.mapping(hwirq) else {
            return false;
        };
        let want = match edge {
            Edge::Rising => bindings::IRQ_TYPE_EDGE_RISING,
            Edge::Falling => bindings::IRQ_TYPE_EDGE_FALLING,
        };
        // SAFETY: `irq` is mapped in our domain, so it has interrupt data whose common part is
        // valid; the trigger type is read as `irq_get_trigger_type()` does.
        let trigger = unsafe {
            let data = bindings::irq_get_irq_data(irq);
            if data.is_null() {
                return false;
            }
            (*(*data).common).state_use_accessors & bindings::IRQD_TRIGGER_MASK
        };
        if trigger & want == 0 {
            return false;
        }
        // SAFETY: `irq` is a valid interrupt; marking it pending makes the simulated domain
        // raise it from an irq_work, or later if it is masked.
        let ret = unsafe {
            bindings::irq_set_irqchip_state(
                irq,
                bindings::irqchip_irq_state_IRQCHIP_STATE_PENDING,
                true,
            )
        };
        ret == 0
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        for hwirq in 0..self.count {
            if let Some(irq) = self.mapping(hwirq) {
                // SAFETY: `irq` is a mapping of our domain.
                unsafe { bindings::irq_dispose_mapping(irq) };
            }
        }
        // SAFETY: By the type invariants the domain is ours; it is removed once, here.
        unsafe { bindings::irq_domain_remove_sim(self.domain.as_ptr()) };
    }
}
