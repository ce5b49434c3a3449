// SPDX-License-Identifier: GPL-2.0

//! Voltage regulator providers on the resource manager.
//!
//! A driver implements [`RegulatorOps`] for its regulator type and calls [`register`] in probe,
//! with the bound device. The regulator core gets a `const` operations table built for that type,
//! whose callbacks call the driver's methods directly, with its data and its bound device. Each
//! callback enters the regulator's provider shell, so operations that race or follow the driver's
//! unbind get `ENODEV`, also when they come from C consumers holding a `struct regulator` from
//! `regulator_get()`.
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
use core::{
    marker::PhantomData,
    ptr::NonNull, //
};

/// Operations of a voltage regulator; voltages are in microvolts.
///
/// Each method gets the driver's data and the regulator's device, bound for the duration of the
/// call: every call enters the regulator's provider shell, and never happens after its driver's
/// unbind (the core's callers get `ENODEV` then).
pub trait RegulatorOps: Send + Sync + Sized + 'static {
    /// Enables the output.
    fn enable(&self, dev: &Device<Bound>) -> Result;
    /// Disables the output.
    fn disable(&self, dev: &Device<Bound>) -> Result;
    /// Returns whether the output is enabled.
    fn is_enabled(&self, dev: &Device<Bound>) -> Result<bool>;
    /// Returns the output voltage.
    fn get_voltage(&self, dev: &Device<Bound>) -> Result<i32>;
    /// Sets the output voltage to `microvolts`, which is within the constraints.
    fn set_voltage(&self, dev: &Device<Bound>, microvolts: i32) -> Result;
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
/// `imp` is the data of the driver whose adapter built the regulator's operations: a `T` where
/// that adapter is `Adapter<T>`. It is never moved (it was pinned when allocated).
pub struct RegulatorImpl {
    imp: KBox<dyn Send + Sync>,
    voltages: Voltages,
}

impl RegulatorImpl {
    /// Returns the driver's data.
    ///
    /// # Safety
    ///
    /// `T` must be the type of the data (see the type invariants).
    #[inline]
    unsafe fn imp<T>(&self) -> &T {
        let imp: *const (dyn Send + Sync) = &*self.imp;
        // SAFETY: Per the safety requirements the data pointer of the trait object points to a
        // `T`, valid for as long as `self` is borrowed.
        unsafe { &*imp.cast::<T>() }
    }
}

/// A consumer's name for a regulator: supply `supply` of the device named `dev_name`, as that
/// device asks for it with `regulator_get(dev, supply)` ([`Regulator::get`] in Rust).
///
/// [`Regulator::get`]: crate::regulator::Regulator::get
pub struct ConsumerSupply {
    /// The consumer device's name (`dev_name()`).
    pub dev_name: CString,
    /// The supply's name for that device.
    pub supply: CString,
}

/// What the regulator core points to: the descriptor and the shell the operations enter.
///
/// # Invariants
///
/// - `desc.name` points into `name`; `desc.ops` is the table of `Adapter<T>`, where `T` is the
///   type of the data behind `shell`; `init` is the constraints the core copies, with
///   `_c_supplies` as its consumer supplies, which point into `_supplies`.
/// - `parent` is the device the regulator is registered for, bound while `shell` is not revoked.
struct CoreBlock {
    desc: bindings::regulator_desc,
    init: bindings::regulator_init_data,
    name: CString,
    _supplies: KVec<ConsumerSupply>,
    _c_supplies: KVec<bindings::regulator_consumer_supply>,
    parent: *mut bindings::device,
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
/// core, by `name` (`regulator_get(dev, name)` in C, [`Regulator::get`] in Rust) unless the
/// platform maps supplies: see [`register_with`].
///
/// [`Regulator::get`]: crate::regulator::Regulator::get
pub fn register<T: RegulatorOps>(
    dev: &Device<Bound>,
    name: &CStr,
    voltages: Voltages,
    data: impl PinInit<T, Error>,
) -> Result {
    register_with(dev, name, voltages, KVec::new(), data)
}

/// Registers a voltage regulator like [`register`], as the supply that each of `supplies` names.
///
/// This is how a board without firmware tells which device a regulator supplies: the consumer
/// asks for its supply by device and connection id (`regulator_get(dev, "vdd")`), as it would
/// with a device tree.
///
/// # Examples
///
/// ```
/// use kernel::{
///     device::{Bound, Device},
///     prelude::*,
///     resmgr::regulator::{self, ConsumerSupply, RegulatorOps, Voltages},
///     str::CString,
/// };
///
/// /// A fixed 3.3 V output that is always on.
/// struct Fixed;
///
/// impl RegulatorOps for Fixed {
///     fn enable(&self, _dev: &Device<Bound>) -> Result {
///         Ok(())
///     }
///     fn disable(&self, _dev: &Device<Bound>) -> Result {
///         Err(EPERM)
///     }
///     fn is_enabled(&self, _dev: &Device<Bound>) -> Result<bool> {
///         Ok(true)
///     }
///     fn get_voltage(&self, _dev: &Device<Bound>) -> Result<i32> {
///         Ok(3_300_000)
///     }
///     fn set_voltage(&self, _dev: &Device<Bound>, _microvolts: i32) -> Result {
///         Ok(())
///     }
/// }
///
/// fn probe(dev: &Device<Bound>) -> Result {
///     let mut supplies = KVec::new();
///     // The `vdd` supply of the device `sensor.0`.
///     supplies.push(
///         ConsumerSupply {
///             dev_name: CString::try_from(c"sensor.0")?,
///             supply: CString::try_from(c"vdd")?,
///         },
///         GFP_KERNEL,
///     )?;
///     let voltages = Voltages { min_uv: 3_300_000, step_uv: 1, count: 1 };
///     regulator::register_with(dev, c"board-3v3", voltages, supplies, Ok::<_, Error>(Fixed))
/// }
/// ```
pub fn register_with<T: RegulatorOps>(
    dev: &Device<Bound>,
    name: &CStr,
    voltages: Voltages,
    supplies: KVec<ConsumerSupply>,
    data: impl PinInit<T, Error>,
) -> Result {
    if voltages.count == 0 || voltages.step_uv <= 0 || voltages.min_uv < 0 {
        return Err(EINVAL);
    }
    let imp: Pin<KBox<T>> = KBox::pin_init(data, GFP_KERNEL)?;
    // SAFETY: Unpinned only to be unsized; the data is never moved out of its box (see the type
    // invariants of the box's holder).
    let imp: KBox<T> = unsafe { Pin::into_inner_unchecked(imp) };
    // INVARIANT: The data is a `T`, and the descriptor gets the operations of `Adapter<T>`.
    let provider = Provider::new(RegulatorImpl { imp, voltages })?;

    let mut c_supplies = KVec::with_capacity(supplies.len(), GFP_KERNEL)?;
    for s in supplies.iter() {
        let mut c: bindings::regulator_consumer_supply = pin_init::zeroed();
        c.dev_name = s.dev_name.as_char_ptr();
        c.supply = s.supply.as_char_ptr();
        c_supplies.push(c, GFP_KERNEL)?;
    }
    let mut init: bindings::regulator_init_data = pin_init::zeroed();
    init.constraints.min_uV = voltages.min_uv;
    init.constraints.max_uV = voltages.max_uv();
    init.constraints.valid_ops_mask =
        bindings::REGULATOR_CHANGE_VOLTAGE | bindings::REGULATOR_CHANGE_STATUS;
    init.num_consumer_supplies = c_int::try_from(c_supplies.len())?;
    if !c_supplies.is_empty() {
        init.consumer_supplies = c_supplies.as_mut_ptr();
    }
    let mut block = KBox::new(
        CoreBlock {
            desc: pin_init::zeroed(),
            init,
            name: CString::try_from(name)?,
            _supplies: supplies,
            _c_supplies: c_supplies,
            parent: dev.as_raw(),
            shell: provider.shell().clone(),
        },
        GFP_KERNEL,
    )?;
    let ops: &'static bindings::regulator_ops = &Adapter::<T>::OPS;
    block.desc.name = block.name.as_char_ptr();
    block.desc.ops = ops;
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
    // SAFETY: The block is valid; the core copies the constraints and keeps the pointers (the
    // descriptor, the driver data, the supply names of the consumer map), which stay valid until
    // the `regulator_dev` is released (see `Registration::drop`).
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
            // With no supply of its own and no DT node, registration fails only before or in
            // `device_add()` or while mapping the consumer supplies, and the core undoes each.
            // SAFETY: So nothing but the core reached the `regulator_dev`, and it has dropped it.
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

/// The regulator operations of driver type `T`, for the regulator core.
///
/// Every callback enters the regulator's provider shell: the core may call a regulator's
/// operations after its unregistration, for as long as a consumer holds it.
struct Adapter<T: RegulatorOps>(PhantomData<T>);

impl<T: RegulatorOps> Adapter<T> {
    /// The operations of every regulator of type `T`.
    const OPS: bindings::regulator_ops = {
        let mut ops: bindings::regulator_ops = pin_init::zeroed();
        ops.enable = Some(Self::enable_callback);
        ops.disable = Some(Self::disable_callback);
        ops.is_enabled = Some(Self::is_enabled_callback);
        ops.get_voltage = Some(Self::get_voltage_callback);
        ops.set_voltage = Some(Self::set_voltage_callback);
        ops.list_voltage = Some(Self::list_voltage_callback);
        ops
    };

    /// Runs `f` on the data, the voltages and the bound device of the regulator of `rdev`,
    /// inside its provider shell (`ENODEV` once its driver is unbound).
    ///
    /// # Safety
    ///
    /// `rdev` must be a regulator registered with the operations of `Adapter<T>` (the core only
    /// calls a regulator's own ones).
    #[inline]
    unsafe fn with<R>(
        rdev: *mut bindings::regulator_dev,
        f: impl FnOnce(&T, &Voltages, &Device<Bound>) -> Result<R>,
    ) -> Result<R> {
        // SAFETY: Per the function's safety requirements `driver_data` is a `CoreBlock`, which
        // lives until the `regulator_dev` is released (see `Registration::drop`); the core calls
        // with it alive.
        let block = unsafe { &*bindings::rdev_get_drvdata(rdev).cast::<CoreBlock>() };
        let guard = block.shell.read()?;
        // SAFETY: By the type invariants of `CoreBlock` the data is a `T`.
        let imp = unsafe { guard.imp::<T>() };
        // SAFETY: By the type invariants of `CoreBlock` `parent` is bound while the shell is not
        // revoked, and the guard keeps the revocation from completing.
        let dev = unsafe { super::bound_device(block.parent) };
        f(imp, &guard.voltages, dev)
    }

    /// The C `enable` operation.
    ///
    /// # Safety
    ///
    /// `rdev` must be a regulator with the operations of `Adapter<T>`.
    unsafe extern "C" fn enable_callback(rdev: *mut bindings::regulator_dev) -> c_int {
        // SAFETY: The core passes one of our regulators.
        from_result(|| unsafe { Self::with(rdev, |t, _, d| t.enable(d)) }.map(|()| 0))
    }

    /// The C `disable` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::enable_callback`].
    unsafe extern "C" fn disable_callback(rdev: *mut bindings::regulator_dev) -> c_int {
        // SAFETY: The core passes one of our regulators.
        match unsafe { Self::with(rdev, |t, _, d| Ok(t.disable(d))) } {
            Ok(result) => from_result(|| result.map(|()| 0)),
            // The driver is gone: the consumer gives back its enable and succeeds, since it must
            // be able to let go; no provider is left to switch the output (see the module doc).
            Err(_) => 0,
        }
    }

    /// The C `is_enabled` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::enable_callback`].
    unsafe extern "C" fn is_enabled_callback(rdev: *mut bindings::regulator_dev) -> c_int {
        // SAFETY: The core passes one of our regulators.
        from_result(|| unsafe { Self::with(rdev, |t, _, d| t.is_enabled(d)) }.map(c_int::from))
    }

    /// The C `get_voltage` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::enable_callback`].
    unsafe extern "C" fn get_voltage_callback(rdev: *mut bindings::regulator_dev) -> c_int {
        // SAFETY: The core passes one of our regulators.
        from_result(|| unsafe { Self::with(rdev, |t, _, d| t.get_voltage(d)) })
    }

    /// The C `set_voltage` operation.
    ///
    /// # Safety
    ///
    /// As for [`Self::enable_callback`]; `selector` is null or valid for a write.
    unsafe extern "C" fn set_voltage_callback(
        rdev: *mut bindings::regulator_dev,
        min_uv: c_int,
        max_uv: c_int,
        selector: *mut c_uint,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The core passes one of our regulators.
            let sel = unsafe {
                Self::with(rdev, |t, v, d| {
                    let (sel, uv) = v.pick(min_uv, max_uv)?;
                    t.set_voltage(d, uv)?;
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
    /// As for [`Self::enable_callback`].
    unsafe extern "C" fn list_voltage_callback(
        rdev: *mut bindings::regulator_dev,
        selector: c_uint,
    ) -> c_int {
        from_result(|| {
            // SAFETY: The core passes one of our regulators.
            unsafe {
                Self::with(rdev, |_, v, _| {
                    if selector >= v.count {
                        return Err(EINVAL);
                    }
                    Ok(v.min_uv + selector as i32 * v.step_uv)
                })
            }
        })
    }
}

/// A Rust regulator used by consumers through the regulator core, across its unbind.
#[cfg(CONFIG_RUST_RESMGR_KUNIT_TEST)]
#[kunit_tests(rust_resmgr_regulator)]
mod tests {
    use crate::{
        device::{
            Bound,
            Device, //
        },
        faux,
        new_mutex,
        prelude::*,
        regulator::{
            Disabled,
            Regulator,
            Voltage, //
        },
        sync::Mutex, //
    };

    /// A regulator that remembers its state.
    #[pin_data]
    struct Vreg {
        #[pin]
        state: Mutex<(bool, i32)>,
    }

    impl super::RegulatorOps for Vreg {
        fn enable(&self, _dev: &Device<Bound>) -> Result {
            self.state.lock().0 = true;
            Ok(())
        }
        fn disable(&self, _dev: &Device<Bound>) -> Result {
            self.state.lock().0 = false;
            Ok(())
        }
        fn is_enabled(&self, _dev: &Device<Bound>) -> Result<bool> {
            Ok(self.state.lock().0)
        }
        fn get_voltage(&self, _dev: &Device<Bound>) -> Result<i32> {
            Ok(self.state.lock().1)
        }
        fn set_voltage(&self, _dev: &Device<Bound>, microvolts: i32) -> Result {
            self.state.lock().1 = microvolts;
            Ok(())
        }
    }

    #[test]
    fn regulator_consumers_through_the_core_across_unbind() -> Result {
        let reg = faux::Registration::new(c"rust-resmgr-kunit-vreg", None)?;
        let dev: &Device<Bound> = reg.as_ref().as_ref();
        let voltages = super::Voltages {
            min_uv: 1_200_000,
            step_uv: 50_000,
            count: 5,
        };
        super::register(
            dev,
            c"kunit-vreg",
            voltages,
            try_pin_init!(Vreg { state <- new_mutex!((false, 1_200_000)) }? Error),
        )?;

        // Consumers on a device of their own, through the core, which calls through the shell.
        let user = faux::Registration::new(c"rust-resmgr-kunit-vreg-user", None)?;
        let user_dev: &Device<Bound> = user.as_ref().as_ref();
        assert_eq!(
            Regulator::<Disabled>::get_optional(user_dev, c"kunit-nope").err(),
            Some(ENODEV)
        );
        let a = Regulator::<Disabled>::get_optional(user_dev, c"kunit-vreg")?;
        let b = Regulator::<Disabled>::get_optional(user_dev, c"kunit-vreg")?;
        let query = Regulator::<Disabled>::get_optional(user_dev, c"kunit-vreg")?;
        let uv = Voltage::from_microvolts(1_250_000);
        a.set_voltage(uv, uv)?;
        assert_eq!(query.get_voltage()?.as_microvolts(), 1_250_000);
        // Between two steps: the core finds no voltage to set.
        let between = Voltage::from_microvolts(1_260_000);
        assert!(a.set_voltage(between, between).is_err());
        assert_eq!(query.try_is_enabled(), Ok(false));

        // The core counts enables: the output stays on while either consumer holds it enabled.
        let a = a.try_into_enabled().map_err(|e| e.error)?;
        let b = b.try_into_enabled().map_err(|e| e.error)?;
        assert_eq!(query.try_is_enabled(), Ok(true));
        let a = a.try_into_disabled().map_err(|e| e.error)?;
        assert_eq!(query.try_is_enabled(), Ok(true));
        let b = b.try_into_disabled().map_err(|e| e.error)?;
        assert_eq!(query.try_is_enabled(), Ok(false));
        let b = b.try_into_enabled().map_err(|e| e.error)?;

        // Unbind: revoked, then unregistered, with the consumers still holding it. They reach no
        // provider and are told so, for the voltage asked for last as for another.
        drop(reg);
        assert_eq!(query.try_is_enabled(), Err(ENODEV));
        assert!(!query.is_enabled());
        assert_eq!(query.get_voltage().err(), Some(ENODEV));
        assert_eq!(a.set_voltage(uv, uv).err(), Some(ENODEV));
        let other = Voltage::from_microvolts(1_300_000);
        assert_eq!(a.set_voltage(other, other).err(), Some(ENODEV));
        assert_eq!(
            Regulator::<Disabled>::get_optional(user_dev, c"kunit-vreg").err(),
            Some(ENODEV)
        );
        // No enable is granted any more, also while `b`'s keeps the core from asking the provider.
        let result = a.try_into_enabled();
        assert_eq!(result.as_ref().err().map(|e| e.error), Some(ENODEV));
        let a = match result {
            Ok(on) => on.try_into_disabled().map_err(|e| e.error)?,
            Err(e) => e.regulator,
        };
        // The enabled consumer can still give its enable back and let go.
        drop(b.try_into_disabled().map_err(|e| e.error)?);
        drop(a);
        drop(query);
        drop(user);
        Ok(())
    }
}
