// SPDX-License-Identifier: GPL-2.0

//! Voltage regulator providers on the resource manager.
//!
//! A driver implements [`RegulatorOps`] and calls [`register`] in probe. The regulator is
//! registered with the regulator core with one C operations table shared by every Rust regulator;
//! each operation enters the regulator's provider shell, so operations that race or follow the
//! driver's unbind get `ENODEV`, also when they come from C consumers holding a `struct regulator`
//! from `regulator_get()`.
//!
//! The regulator core reaches a regulator's descriptor and driver data through its
//! `struct regulator_dev` for as long as anything holds a reference to the device in it, also
//! after `regulator_unregister()`: consumers from `regulator_get()`, and walks of the regulator
//! class (lookups by name, the late cleanup) that took a reference before the unregistration. The
//! descriptor and the shell reference the operations use therefore live in a block that the
//! `regulator_dev` owns from its unregistration on and frees when it is released, after the last
//! such reference is dropped. Until then late calls find the revoked shell and fail with `ENODEV`
//! instead of reading freed memory.
//!
//! Consumers, in C as in Rust ([`kernel::regulator`](crate::regulator)), use a Rust regulator
//! through the regulator core, which keeps its use counts, constraints and notifiers for it as
//! for any regulator. Once the driver is unbound, a consumer that still holds the regulator gets
//! `ENODEV` from every operation but one: `disable` succeeds, so that a consumer can give back
//! the enable it holds (the core requires it before `regulator_put()`). The core then counts the
//! output as off; what the hardware does is up to the unbound driver's teardown, which nothing
//! can change any more.
//!
//! C header: [`include/linux/regulator/driver.h`](srctree/include/linux/regulator/driver.h)

use super::{
    shell::Shell,
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
        from_err_ptr,
        from_result, //
    },
    prelude::*,
    str::CString,
    sync::Arc,
};
use core::ptr::NonNull;

/// Operations of a voltage regulator; voltages are in microvolts.
///
/// Every method is called through the regulator's provider shell, never after its driver's unbind.
#[vtable]
pub trait RegulatorOps: Send + Sync + 'static {
    /// Enables the output.
    fn enable(&self) -> Result;
    /// Disables the output.
    fn disable(&self) -> Result;
    /// Returns whether the output is enabled.
    fn is_enabled(&self) -> Result<bool>;
    /// Returns the output voltage.
    fn get_voltage(&self) -> Result<i32>;
    /// Sets the output voltage to `microvolts`, which is within the constraints.
    fn set_voltage(&self, microvolts: i32) -> Result;
}

trait ErasedOps: Send + Sync {
    fn enable(&self) -> Result;
    fn disable(&self) -> Result;
    fn is_enabled(&self) -> Result<bool>;
    fn get_voltage(&self) -> Result<i32>;
    fn set_voltage(&self, microvolts: i32) -> Result;
}

impl<T: RegulatorOps> ErasedOps for T {
    fn enable(&self) -> Result {
        RegulatorOps::enable(self)
    }
    fn disable(&self) -> Result {
        RegulatorOps::disable(self)
    }
    fn is_enabled(&self) -> Result<bool> {
        RegulatorOps::is_enabled(self)
    }
    fn get_voltage(&self) -> Result<i32> {
        RegulatorOps::get_voltage(self)
    }
    fn set_voltage(&self, microvolts: i32) -> Result {
        RegulatorOps::set_voltage(self, microvolts)
    }
}

/// The voltages a regulator offers: `min_uv + n * step_uv` for `n` in `0..count`.
#[derive(Clone, Copy, Debug)]
pub struct Voltages {
    /// Lowest voltage, in microvolts.
    pub min_uv: i32,
    /// Step between voltages, in microvolts.
    pub step_uv: i32,
    /// Number of voltages.
    pub count: u32,
}

impl Voltages {
    fn max_uv(&self) -> i32 {
        self.min_uv + self.step_uv * (self.count as i32 - 1)
    }

    /// Returns the lowest offered voltage in `[min_uv, max_uv]`, or `EINVAL`.
    fn pick(&self, min_uv: i32, max_uv: i32) -> Result<(u32, i32)> {
        if min_uv > max_uv || max_uv < self.min_uv || min_uv > self.max_uv() {
            return Err(EINVAL);
        }
        let sel = if min_uv <= self.min_uv {
            0
        } else {
            ((min_uv - self.min_uv) + self.step_uv - 1) / self.step_uv
        };
        let uv = self.min_uv + sel * self.step_uv;
        if uv > max_uv {
            return Err(EINVAL);
        }
        Ok((sel as u32, uv))
    }
}

/// A regulator as its provider shell holds it.
///
/// # Invariants
///
/// The driver's implementation behind `ops` is never moved (it was pinned when allocated).
pub struct RegulatorImpl {
    ops: KBox<dyn ErasedOps>,
    voltages: Voltages,
}

impl RegulatorImpl {
    fn ops(&self) -> &dyn ErasedOps {
        &*self.ops
    }
}

/// What the regulator core points to: the descriptor and the shell the operations enter.
///
/// # Invariants
///
/// `desc.name` points into `name`; `desc.ops` is `&OPS`; `init` is the constraints the core copies.
struct CoreBlock {
    desc: bindings::regulator_desc,
    init: bindings::regulator_init_data,
    name: CString,
    shell: Arc<Shell<RegulatorImpl>>,
}

/// The owner of a [`CoreBlock`] until the block is handed to its `regulator_dev`.
///
/// The devres node that frees the block is allocated with it, so that handing the block over at
/// unbind cannot fail.
///
/// # Invariants
///
/// - `block` comes from `KBox::leak` of a `CoreBlock`.
/// - `node` is the data of a devres node from `devres_alloc(release_block, ..)`, added to no
///   device, and holds `block`.
/// - Nothing but this owner frees either (a leaked owner leaks both).
struct BlockOwner {
    block: NonNull<CoreBlock>,
    node: NonNull<*mut CoreBlock>,
}

impl BlockOwner {
    /// Takes `block` over and allocates the devres node that will free it.
    fn new(block: KBox<CoreBlock>) -> Result<Self> {
        // SAFETY: `release_block` has the type of a devres release function; the name is static.
        let node = unsafe {
            bindings::__devres_alloc_node(
                Some(release_block),
                size_of::<*mut CoreBlock>(),
                GFP_KERNEL.as_raw(),
                bindings::NUMA_NO_NODE,
                c"resmgr_regulator_block".as_char_ptr(),
            )
        };
        // On failure `block` is dropped here: nothing else refers to it yet.
        let node = NonNull::new(node.cast::<*mut CoreBlock>()).ok_or(ENOMEM)?;
        let block = NonNull::from(KBox::leak(block));
        // SAFETY: `node` is the data of a new devres node, large enough for a pointer and aligned
        // to `ARCH_DMA_MINALIGN`, which is more than a pointer needs; nothing else uses it yet.
        unsafe { node.as_ptr().write(block.as_ptr()) };
        // INVARIANT: `block` was leaked from a `KBox`, `node` holds it and was added nowhere.
        Ok(Self { block, node })
    }

    /// The block, for the regulator core.
    fn block(&self) -> *mut CoreBlock {
        self.block.as_ptr()
    }

    /// Frees the block and its node.
    ///
    /// # Safety
    ///
    /// Nothing may refer to the block any more.
    unsafe fn discard(self) {
        // SAFETY: By the type invariants the node comes from `devres_alloc` and was never added
        // to a device.
        unsafe { bindings::devres_free(self.node.as_ptr().cast()) };
        // SAFETY: By the type invariants `block` was leaked from a `KBox` and nothing else frees
        // it; the caller guarantees that nothing refers to it.
        drop(unsafe { KBox::from_raw(self.block.as_ptr()) });
    }

    /// Hands the block to `dev`: it is freed when `dev` is released.
    ///
    /// # Safety
    ///
    /// The caller must hold a reference to `dev`, `device_del()` must have run on `dev` (so that
    /// from now on only `device_release()`, once its last reference is gone, releases its devres),
    /// and nothing may use the block after `dev` is released.
    unsafe fn hand_to(self, dev: *mut bindings::device) {
        // SAFETY: The caller holds a reference to `dev`; by the type invariants the node comes
        // from `devres_alloc` and was added to no device, and consuming its owner adds it once.
        unsafe { bindings::devres_add(dev, self.node.as_ptr().cast()) };
    }
}

/// A registered regulator, held by devres.
///
/// # Invariants
///
/// `rdev` is registered with the regulator core and uses the block `block` owns (as its
/// descriptor and `driver_data`); `block` is `Some` until the registration is dropped.
struct Registration {
    provider: Provider<RegulatorImpl>,
    rdev: NonNull<bindings::regulator_dev>,
    block: Option<BlockOwner>,
}

// SAFETY: The registration is only used to unregister, which may happen on any thread.
unsafe impl Send for Registration {}
// SAFETY: No `&self` methods.
unsafe impl Sync for Registration {}

impl Drop for Registration {
    fn drop(&mut self) {
        let rdev = self.rdev.as_ptr();
        // SAFETY: By the type invariants `rdev` is registered, so the core's reference keeps it
        // alive here; ours keeps it alive after `regulator_unregister()` drops the core's.
        let dev = unsafe { bindings::get_device(&raw mut (*rdev).dev) };
        // The fence, with the unregistration inside it: from now on every operation gets
        // `ENODEV`, the core's removal runs while a worker waits for the operations already
        // inside, and the implementation is dropped after both. The block outlives the fence.
        self.provider.shell().revoke_during(|| {
            // SAFETY: By the type invariants `rdev` is registered; nothing else unregisters it.
            unsafe { bindings::regulator_unregister(rdev) };
        });
        if let Some(block) = self.block.take() {
            // The core keeps calling through the block for as long as anything holds the
            // `regulator_dev`: consumers (`open_count` is no fence: `_regulator_get_common()`
            // raises it without a lock, after its lookup) and walks of the regulator class that
            // reached it before the unregistration. Each holds a reference to its device, so the
            // block goes with the last one: `device_release()` releases the device's devres
            // before `regulator_dev_release()` frees the `regulator_dev`.
            // SAFETY: `regulator_unregister()` ran `device_del()` on `dev`, which released its
            // devres, and we hold a reference; whatever still reaches the block through `rdev`
            // holds a reference too, so nothing uses the block after the release.
            unsafe { block.hand_to(dev) };
        }
        // SAFETY: Drops the reference taken above; may release the `regulator_dev`, and with it
        // the block.
        unsafe { bindings::put_device(dev) };
    }
}

/// Frees the [`CoreBlock`] of a `regulator_dev` being released: the devres release of the node
/// that [`BlockOwner::hand_to`] added.
///
/// # Safety
///
/// `res` must be the data of a node from [`BlockOwner::new`], handed to `_dev` by
/// [`BlockOwner::hand_to`]; devres calls this once, as `_dev` is released.
unsafe extern "C" fn release_block(_dev: *mut bindings::device, res: *mut c_void) {
    // SAFETY: Per the function's safety requirements `res` holds a pointer to a block leaked from
    // a `KBox`, which nothing else frees and nothing uses once the device is released.
    drop(unsafe { KBox::from_raw(res.cast::<*mut CoreBlock>().read()) });
}

/// Registers a voltage regulator named `name` offering `voltages`, for the bound device `dev`.
///
/// It is revoked and unregistered when `dev` is unbound. Consumers get it through the regulator
/// core, by `name`: `regulator_get(dev, name)` in C, [`Regulator::get`] in Rust.
///
/// [`Regulator::get`]: crate::regulator::Regulator::get
pub fn register<T: RegulatorOps>(
    dev: &Device<Bound>,
    name: &CStr,
    voltages: Voltages,
    ops: impl PinInit<T, Error>,
) -> Result {
    if voltages.count == 0 || voltages.step_uv <= 0 || voltages.min_uv < 0 {
        return Err(EINVAL);
    }
    let ops: Pin<KBox<T>> = KBox::pin_init(ops, GFP_KERNEL)?;
    // SAFETY: Unpinned only to be unsized; `RegulatorImpl` never moves the contents out.
    let ops: KBox<T> = unsafe { Pin::into_inner_unchecked(ops) };
    register_erased(dev, name, voltages, ops)
}

/// The non-generic part of [`register`].
fn register_erased(
    dev: &Device<Bound>,
    name: &CStr,
    voltages: Voltages,
    ops: KBox<dyn ErasedOps>,
) -> Result {
    // INVARIANT: `ops` comes pinned from `register`.
    let provider = Provider::new(RegulatorImpl { ops, voltages })?;

    let mut init: bindings::regulator_init_data = pin_init::zeroed();
    init.constraints.min_uV = voltages.min_uv;
    init.constraints.max_uV = voltages.max_uv();
    init.constraints.valid_ops_mask =
        bindings::REGULATOR_CHANGE_VOLTAGE | bindings::REGULATOR_CHANGE_STATUS;
    let mut block = KBox::new(
        CoreBlock {
            desc: pin_init::zeroed(),
            init,
            name: CString::try_from(name)?,
            shell: provider.shell().clone(),
        },
        GFP_KERNEL,
    )?;
    block.desc.name = block.name.as_char_ptr();
    block.desc.ops = &OPS.0;
    block.desc.type_ = bindings::regulator_type_REGULATOR_VOLTAGE;
    block.desc.n_voltages = voltages.count;
    block.desc.min_uV = voltages.min_uv as u32;
    block.desc.uV_step = voltages.step_uv as u32;
    // The descriptor and the operations outlive the unregistration (the block goes with the
    // `regulator_dev`) and fail with `ENODEV` after it: consumers may hold the regulator across
    // the unbind.
    block.desc.set_outlives_unregister(1);
    let block = BlockOwner::new(block)?;

    let mut config: bindings::regulator_config = pin_init::zeroed();
    config.dev = dev.as_raw();
    // SAFETY: The block is valid; the core copies the constraints and keeps the pointers, which
    // stay valid until the `regulator_dev` is released (see `Registration::drop`).
    let rdev = unsafe {
        config.init_data = &raw const (*block.block()).init;
        config.driver_data = block.block().cast();
        from_err_ptr(bindings::regulator_register(
            dev.as_raw(),
            &raw const (*block.block()).desc,
            &config,
        ))
    };
    let rdev = match rdev.map(NonNull::new) {
        Ok(Some(rdev)) => rdev,
        Ok(None) | Err(_) => {
            // SAFETY: With no supply, no consumer supplies and no DT node, registration can only
            // fail before or in `device_add()` of the `regulator_dev`, which undoes itself: nothing
            // but the core reached the `regulator_dev`, and the core has dropped it.
            unsafe { block.discard() };
            return Err(rdev.err().unwrap_or(ENOMEM));
        }
    };
    // INVARIANT: `rdev` is registered and uses the block `block` owns.
    devres::register(
        dev,
        Registration {
            provider,
            rdev,
            block: Some(block),
        },
        GFP_KERNEL,
    )
}

/// Runs `f` on the regulator of `rdev` inside its provider shell.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`] (the core only calls its own ones).
unsafe fn with_regulator<R>(
    rdev: *mut bindings::regulator_dev,
    f: impl FnOnce(&RegulatorImpl) -> Result<R>,
) -> Result<R> {
    // SAFETY: Per the function's safety requirements `driver_data` is a `CoreBlock`, which lives
    // until the `regulator_dev` is released (see `Registration::drop`); the core calls with it
    // alive.
    let block = unsafe { &*bindings::rdev_get_drvdata(rdev).cast::<CoreBlock>() };
    let imp = block.shell.read()?;
    f(&imp)
}

/// The C `enable` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn enable_callback(rdev: *mut bindings::regulator_dev) -> c_int {
    // SAFETY: The core passes one of our regulators.
    from_result(|| unsafe { with_regulator(rdev, |r| r.ops().enable()) }.map(|()| 0))
}

/// The C `disable` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn disable_callback(rdev: *mut bindings::regulator_dev) -> c_int {
    // SAFETY: The core passes one of our regulators, whose `driver_data` is a `CoreBlock` that
    // lives until the `regulator_dev` is released (see `with_regulator`).
    let block = unsafe { &*bindings::rdev_get_drvdata(rdev).cast::<CoreBlock>() };
    match block.shell.read() {
        Ok(imp) => from_result(|| imp.ops().disable().map(|()| 0)),
        // The driver is gone: the consumer gives back its enable and succeeds, since it must be
        // able to let go; no provider is left to switch the output (see the module doc).
        Err(_) => 0,
    }
}

/// The C `is_enabled` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn is_enabled_callback(rdev: *mut bindings::regulator_dev) -> c_int {
    // SAFETY: The core passes one of our regulators.
    from_result(|| unsafe { with_regulator(rdev, |r| r.ops().is_enabled()) }.map(c_int::from))
}

/// The C `get_voltage` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn get_voltage_callback(rdev: *mut bindings::regulator_dev) -> c_int {
    // SAFETY: The core passes one of our regulators.
    from_result(|| unsafe { with_regulator(rdev, |r| r.ops().get_voltage()) })
}

/// The C `set_voltage` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn set_voltage_callback(
    rdev: *mut bindings::regulator_dev,
    min_uv: c_int,
    max_uv: c_int,
    selector: *mut c_uint,
) -> c_int {
    from_result(|| {
        // SAFETY: The core passes one of our regulators.
        let sel = unsafe {
            with_regulator(rdev, |r| {
                let (sel, uv) = r.voltages.pick(min_uv, max_uv)?;
                r.ops().set_voltage(uv)?;
                Ok(sel)
            })
        }?;
        if !selector.is_null() {
            // SAFETY: The core passes a valid pointer for the selector.
            unsafe { *selector = sel };
        }
        Ok(0)
    })
}

/// The C `list_voltage` operation.
///
/// # Safety
///
/// `rdev` must be a regulator registered by [`register`]: the core only calls its own ones.
unsafe extern "C" fn list_voltage_callback(
    rdev: *mut bindings::regulator_dev,
    selector: c_uint,
) -> c_int {
    from_result(|| {
        // SAFETY: The core passes one of our regulators.
        unsafe {
            with_regulator(rdev, |r| {
                if selector >= r.voltages.count {
                    return Err(EINVAL);
                }
                Ok(r.voltages.min_uv + selector as i32 * r.voltages.step_uv)
            })
        }
    })
}

struct OpsTable(bindings::regulator_ops);

// SAFETY: The table is immutable and only holds function pointers.
unsafe impl Sync for OpsTable {}

/// The operations of every Rust regulator.
static OPS: OpsTable = OpsTable(bindings::regulator_ops {
    enable: Some(enable_callback),
    disable: Some(disable_callback),
    is_enabled: Some(is_enabled_callback),
    get_voltage: Some(get_voltage_callback),
    set_voltage: Some(set_voltage_callback),
    list_voltage: Some(list_voltage_callback),
    ..pin_init::zeroed()
});
