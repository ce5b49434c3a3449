// SPDX-License-Identifier: GPL-2.0

//! The character device `/dev/resmgr-test`: its files, the handles they hold, its ioctls.

use crate::{
    bench, kwork,
    regulator::own_regulator,
    uapi::{
        self,
        BENCH,
        COUNTERS,
        CREG_GET,
        CREG_GET_VOLTAGE,
        CREG_SET_VOLTAGE,
        DROP,
        GPIO_ACTIVE_LOW,
        GPIO_DIRECTION,
        GPIO_GET,
        GPIO_GET_ATOMIC,
        GPIO_INPUT,
        GPIO_LOOKUP,
        GPIO_OUTPUT,
        GPIO_SET,
        GPIO_TO_IRQ,
        KWORK_START,
        KWORK_STOP,
        POLL_MASK,
        REG_DISABLE,
        REG_ENABLE,
        REG_GET_VOLTAGE,
        REG_IS_ENABLED,
        REG_LOOKUP,
        REG_SET_VOLTAGE,
        WAIT_REVOKED, //
    },
};
use core::sync::atomic::{
    AtomicU32,
    AtomicU64,
    Ordering, //
};
use kernel::{
    device::Device,
    fs::File,
    gpio::{
        consumer::{
            Desc,
            Direction,
            Flags, //
        },
        driver::{
            self as gpio_driver,
            GpioChip, //
        },
    },
    ioctl::{
        _IOC_NR,
        _IOC_TYPE, //
    },
    iov::{
        IovIterDest,
        IovIterSource, //
    },
    miscdevice::poll_events::{
        EPOLLIN,
        EPOLLOUT, //
    },
    mm::virt::VmaNew,
    page::Page,
    prelude::*,
    regulator::{
        Disabled,
        Enabled,
        Regulator,
        Voltage, //
    },
    resmgr::{
        chardev::{
            Access,
            ChardevOps, //
        },
        Handle,
    },
    seq_file::SeqFile,
    seq_print,
    sync::{
        aref::ARef,
        new_mutex,
        Arc,
        Mutex, //
    },
};

/// A line the test device got from gpiolib.
pub(crate) struct TestLine {
    pub(crate) desc: Desc,
    /// The provider of the line's chip if it is a Rust chip that gpiolib still served just after
    /// the line was got (already revoked if its unbind had begun), for `WAIT_REVOKED`.
    pub(crate) chip: Option<Handle<GpioChip>>,
}

/// Gets line `index` of `con_id` of the test device.
///
/// `ENOENT` while the line's chip is not registered: gpiolib's `EPROBE_DEFER` is for probe, not
/// for userspace.
pub(crate) fn get_line(dev: &Device, con_id: &CStr, index: u64) -> Result<TestLine> {
    let index = u32::try_from(index).map_err(|_| EINVAL)?;
    let desc = Desc::get_index(dev, Some(con_id), index, Flags::AsIs).map_err(|e| {
        if e == EPROBE_DEFER {
            ENOENT
        } else {
            e
        }
    })?;
    let chip = gpio_driver::provider_of(&desc).ok();
    Ok(TestLine { desc, chip })
}

/// `ENOENT` for a regulator that is not registered, as lookups answer for a provider that is
/// away: `ENODEV` from the core, or `EPROBE_DEFER` while a registration or an unregistration is
/// under way (the core finds the device before it can serve it).
pub(crate) fn absent_as_enoent(e: Error) -> Error {
    if e == ENODEV || e == EPROBE_DEFER {
        ENOENT
    } else {
        e
    }
}

/// Gets the module's regulator `name` for `dev` through the regulator core.
///
/// `ENODEV` while it is not registered: never the core's dummy regulator.
pub(crate) fn get_regulator(dev: &Device, name: &CStr) -> Result<Regulator<Disabled>> {
    Regulator::<Disabled>::get_optional(dev, own_regulator(name)?)
}

/// A regulator the test device got through the core, and the enable the handle holds, if any.
///
/// The enable is a second consumer of the regulator, gotten when the handle first enables it (so
/// that a lookup costs one consumer).
#[pin_data]
struct TestRegulator {
    dev: ARef<Device>,
    name: &'static CStr,
    query: Regulator<Disabled>,
    #[pin]
    enabled: Mutex<Option<Regulator<Enabled>>>,
}

impl TestRegulator {
    fn get(dev: &Device, name: &CStr) -> Result<Arc<Self>> {
        let name = own_regulator(name)?;
        let query = Regulator::<Disabled>::get_optional(dev, name)?;
        Arc::pin_init(
            pin_init!(Self {
                dev: dev.into(),
                name,
                query,
                enabled <- new_mutex!(None),
            }),
            GFP_KERNEL,
        )
    }

    /// Takes an enable for this handle, unless it holds one.
    fn enable(&self) -> Result {
        let mut enabled = self.enabled.lock();
        if enabled.is_some() {
            return Ok(());
        }
        // Refuse once the handle's own instance is gone: a rebound regulator is another one,
        // which only a new lookup should reach. (A rebind between this check and the get below
        // would still give the new one: a race the tests do not run.)
        self.query.try_is_enabled()?;
        let reg = Regulator::<Disabled>::get_optional(&self.dev, self.name)?;
        *enabled = Some(reg.try_into_enabled().map_err(|e| e.error)?);
        Ok(())
    }

    /// Gives back this handle's enable, if it holds one.
    fn disable(&self) -> Result {
        let mut enabled = self.enabled.lock();
        if let Some(reg) = enabled.take() {
            match reg.try_into_disabled() {
                Ok(off) => drop(off),
                Err(e) => {
                    *enabled = Some(e.regulator);
                    return Err(e.error);
                }
            }
        }
        Ok(())
    }
}

/// A handle held by an open file.
#[derive(Clone)]
enum Held {
    /// A GPIO line, through gpiolib.
    Gpio(Arc<TestLine>),
    /// A regulator, through the regulator core, with enable and disable.
    Reg(Arc<TestRegulator>),
    /// A regulator, through the regulator core, for voltages only.
    CReg(Arc<Regulator<Disabled>>),
}

impl Held {
    fn line(self) -> Result<Arc<TestLine>> {
        match self {
            Held::Gpio(line) => Ok(line),
            _ => Err(EINVAL),
        }
    }

    fn supply(self) -> Result<Arc<TestRegulator>> {
        match self {
            Held::Reg(supply) => Ok(supply),
            _ => Err(EINVAL),
        }
    }

    fn c_regulator(self) -> Result<Arc<Regulator<Disabled>>> {
        match self {
            Held::CReg(reg) => Ok(reg),
            _ => Err(EINVAL),
        }
    }
}

/// Open files, all devices together.
static FILES: AtomicU64 = AtomicU64::new(0);
/// Live handles, all files together.
static HANDLES: AtomicU64 = AtomicU64::new(0);
/// `WAIT_REVOKED` calls that returned because of a revocation.
static REVOKED_WAITS: AtomicU64 = AtomicU64::new(0);

/// A file's handle table: handle `id` is `slots[id - 1]`, and a new handle takes the lowest free
/// id. It has at most [`MAX_HANDLES`](uapi::MAX_HANDLES) slots.
struct Table {
    slots: KVec<Option<Held>>,
    /// No slot below this index is free, so that a new handle's search starts here: taking
    /// handles one after another costs the same whatever the table's size.
    first_free: usize,
}

impl Table {
    /// The index of handle `id`.
    fn index(id: u64) -> Result<usize> {
        usize::try_from(id)
            .ok()
            .and_then(|id| id.checked_sub(1))
            .ok_or(EINVAL)
    }
}

/// The per-file state: the file's handle table.
#[pin_data(PinnedDrop)]
pub(crate) struct TestFile {
    #[pin]
    handles: Mutex<Table>,
    /// The file's in-kernel consumers, while they run.
    #[pin]
    kwork: Mutex<Option<kwork::KWork>>,
    /// What `poll()` reports for this file (readable and writable until told otherwise).
    poll_mask: AtomicU32,
}

impl TestFile {
    fn new() -> Result<Pin<KBox<Self>>> {
        let file = KBox::pin_init(
            pin_init!(Self {
                handles <- new_mutex!(Table {
                    slots: KVec::new(),
                    first_free: 0,
                }),
                kwork <- new_mutex!(None),
                poll_mask: AtomicU32::new(EPOLLIN | EPOLLOUT),
            }),
            GFP_KERNEL,
        )?;
        FILES.fetch_add(1, Ordering::Relaxed);
        Ok(file)
    }

    /// Adds `handle` to the table and returns its id; `ENOSPC` if the table is full.
    fn add(&self, handle: Held) -> Result<u64> {
        let mut table = self.handles.lock();
        let start = table.first_free;
        let slot = match table.slots[start..].iter().position(Option::is_none) {
            Some(free) => {
                table.slots[start + free] = Some(handle);
                start + free
            }
            None if table.slots.len() >= uapi::MAX_HANDLES => return Err(ENOSPC),
            None => {
                table.slots.push(Some(handle), GFP_KERNEL)?;
                table.slots.len() - 1
            }
        };
        table.first_free = slot + 1;
        HANDLES.fetch_add(1, Ordering::Relaxed);
        Ok(slot as u64 + 1)
    }

    /// Returns a clone of handle `id` (cheap), so that it is used without the table's lock.
    fn get(&self, id: u64) -> Result<Held> {
        let index = Table::index(id)?;
        let table = self.handles.lock();
        table.slots.get(index).and_then(Option::clone).ok_or(EINVAL)
    }

    fn drop_handle(&self, id: u64) -> Result {
        let index = Table::index(id)?;
        let mut table = self.handles.lock();
        let line = table
            .slots
            .get_mut(index)
            .and_then(Option::take)
            .ok_or(EINVAL)?;
        table.first_free = table.first_free.min(index);
        drop(table);
        drop(line);
        HANDLES.fetch_sub(1, Ordering::Relaxed);
        Ok(())
    }
}

#[pinned_drop]
impl PinnedDrop for TestFile {
    fn drop(self: Pin<&mut Self>) {
        // Dropping the file's in-kernel consumers stops them and waits for them.
        let work = self.kwork.lock().take();
        drop(work);
        let live = self.handles.lock().slots.iter().flatten().count();
        HANDLES.fetch_sub(live as u64, Ordering::Relaxed);
        FILES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The device: the test device itself, for C-style regulator lookups, and the pages it maps.
pub(crate) struct ResmgrTest {
    dev: ARef<Device>,
    /// `uapi::MMAP_PAGES` zeroed pages, mapped at offsets 0 to `uapi::MMAP_PAGES - 1`.
    pages: KVec<Page>,
}

/// What `read()` returns; its length is the file's size for `lseek()`.
const READ_TEXT: &[u8] = b"resmgr-test\n";

impl ResmgrTest {
    pub(crate) fn new(dev: &Device) -> Result<Self> {
        let mut pages = KVec::with_capacity(uapi::MMAP_PAGES, GFP_KERNEL)?;
        for _ in 0..uapi::MMAP_PAGES {
            pages.push(Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?, GFP_KERNEL)?;
        }
        Ok(Self {
            dev: dev.into(),
            pages,
        })
    }
}

/// An operation on handle `id` with an input `value` (`struct resmgr_test_gpio_op`).
fn op_in(file: &TestFile, arg: usize, f: impl FnOnce(Held, u64) -> Result) -> Result<isize> {
    let op: uapi::Op = uapi::read(arg)?;
    f(file.get(op.id)?, op.value)?;
    Ok(0)
}

/// An operation on handle `id` that returns a value in the same structure.
fn op_out(file: &TestFile, arg: usize, f: impl FnOnce(Held) -> Result<u64>) -> Result<isize> {
    let mut op: uapi::Op = uapi::read(arg)?;
    op.value = f(file.get(op.id)?)?;
    uapi::write(arg, &op)?;
    Ok(0)
}

impl ResmgrTest {
    /// Reads a lookup argument, lets `find` turn (label, offset) into a handle, returns its id.
    fn lookup(
        file: &TestFile,
        arg: usize,
        find: impl FnOnce(&CStr, u64) -> Result<Held>,
    ) -> Result<isize> {
        let mut req: uapi::Lookup = uapi::read(arg)?;
        let name = uapi::label_of(&req.name)?;
        req.id = file.add(find(name, req.index)?)?;
        uapi::write(arg, &req)?;
        Ok(0)
    }

    fn find_line(&self, con_id: &CStr, index: u64) -> Result<Held> {
        let line = get_line(&self.dev, con_id, index)?;
        Ok(Held::Gpio(Arc::new(line, GFP_KERNEL)?))
    }

    /// `ENOENT` while the regulator is not registered (the ABI of `REG_LOOKUP`).
    fn find_supply(&self, name: &CStr, _offset: u64) -> Result<Held> {
        let reg = TestRegulator::get(&self.dev, name).map_err(absent_as_enoent)?;
        Ok(Held::Reg(reg))
    }

    /// `ENODEV` while the regulator is not registered (the ABI of `CREG_GET`).
    fn c_regulator_get(&self, name: &CStr, _offset: u64) -> Result<Held> {
        let reg = get_regulator(&self.dev, name)?;
        Ok(Held::CReg(Arc::new(reg, GFP_KERNEL)?))
    }
}

fn voltage_arg(value: u64) -> Result<i32> {
    i32::try_from(value).map_err(|_| EINVAL)
}

#[vtable]
impl ChardevOps for ResmgrTest {
    type File = Pin<KBox<TestFile>>;

    fn open(&self, _file: &File) -> Result<Self::File> {
        TestFile::new()
    }

    fn read(
        _this: Access<'_, Self>,
        _file: &Self::File,
        buf: &mut IovIterDest<'_>,
        pos: &mut i64,
    ) -> Result<usize> {
        buf.simple_read_from_buffer(pos, READ_TEXT)
    }

    fn size(&self, _file: &Self::File) -> i64 {
        READ_TEXT.len() as i64
    }

    fn mmap(&self, _file: &Self::File, vma: &VmaNew) -> Result {
        // Data, not code.
        if vma.executable() {
            return Err(EINVAL);
        }
        vma.try_clear_mayexec()
    }

    fn fault(&self, _file: &Self::File, pgoff: usize) -> Option<&Page> {
        self.pages.get(pgoff)
    }

    fn show_fdinfo(&self, file: &Self::File, m: &SeqFile) {
        let handles = file.handles.lock().slots.iter().flatten().count();
        seq_print!(m, "resmgr-test-handles:\t{}\n", handles);
    }

    fn write(
        _this: Access<'_, Self>,
        _file: &Self::File,
        buf: &mut IovIterSource<'_>,
        _pos: &mut i64,
    ) -> Result<usize> {
        // Takes everything, like /dev/null.
        let len = buf.len();
        buf.advance(len);
        Ok(len)
    }

    fn poll(&self, file: &Self::File) -> u32 {
        file.poll_mask.load(Ordering::Relaxed)
    }

    fn ioctl(this: Access<'_, Self>, file: &Self::File, cmd: u32, arg: usize) -> Result<isize> {
        if _IOC_TYPE(cmd) != uapi::MAGIC {
            return Err(ENOTTY);
        }
        match cmd {
            GPIO_LOOKUP => Self::lookup(file, arg, |name, i| this.get().find_line(name, i)),
            REG_LOOKUP => Self::lookup(file, arg, |name, i| this.get().find_supply(name, i)),
            CREG_GET => Self::lookup(file, arg, |name, off| this.get().c_regulator_get(name, off)),
            REG_ENABLE => op_in(file, arg, |h, _| h.supply()?.enable()),
            REG_DISABLE => op_in(file, arg, |h, _| h.supply()?.disable()),
            REG_IS_ENABLED => op_out(file, arg, |h| {
                Ok(u64::from(h.supply()?.query.try_is_enabled()?))
            }),
            REG_GET_VOLTAGE => op_out(file, arg, |h| {
                Ok(h.supply()?.query.get_voltage()?.as_microvolts() as u64)
            }),
            REG_SET_VOLTAGE => op_in(file, arg, |h, value| {
                let uv = Voltage::from_microvolts(voltage_arg(value)?);
                h.supply()?.query.set_voltage(uv, uv)
            }),
            CREG_GET_VOLTAGE => op_out(file, arg, |h| {
                Ok(h.c_regulator()?.get_voltage()?.as_microvolts() as u64)
            }),
            CREG_SET_VOLTAGE => op_in(file, arg, |h, value| {
                let uv = Voltage::from_microvolts(voltage_arg(value)?);
                h.c_regulator()?.set_voltage(uv, uv)
            }),
            GPIO_GET => op_out(file, arg, |h| {
                Ok(u64::from(h.line()?.desc.value_cansleep()?))
            }),
            GPIO_GET_ATOMIC => op_out(file, arg, |h| Ok(u64::from(h.line()?.desc.value()?))),
            GPIO_SET => op_in(file, arg, |h, value| {
                h.line()?.desc.set_value_cansleep(value != 0)
            }),
            GPIO_INPUT => op_in(file, arg, |h, _| h.line()?.desc.direction_input()),
            GPIO_OUTPUT => op_in(file, arg, |h, value| {
                h.line()?.desc.direction_output(value != 0)
            }),
            GPIO_DIRECTION => op_out(file, arg, |h| {
                Ok(u64::from(h.line()?.desc.direction()? == Direction::Output))
            }),
            GPIO_ACTIVE_LOW => op_out(file, arg, |h| Ok(u64::from(h.line()?.desc.is_active_low()))),
            GPIO_TO_IRQ => op_out(file, arg, |h| Ok(u64::from(h.line()?.desc.to_irq()?))),
            DROP => {
                file.drop_handle(uapi::read(arg)?)?;
                Ok(0)
            }
            WAIT_REVOKED => {
                let line = file.get(uapi::read(arg)?)?.line()?;
                // A C chip's line has no provider, nor has a Rust chip's line got just before
                // gpiolib removed the chip: neither can get one later.
                let chip = line.chip.clone().ok_or(ENOENT)?;
                // Sleep outside this device's access: its own unbind must not wait for us.
                let (_this, waited) = this.unlocked(|| chip.wait_revoked())?;
                waited?;
                REVOKED_WAITS.fetch_add(1, Ordering::Relaxed);
                Ok(0)
            }
            BENCH => {
                let mut args: uapi::Bench = uapi::read(arg)?;
                // Runs outside this device's access: a long benchmark must not hold up unbind.
                let dev = this.get().dev.clone();
                let (_this, ns) =
                    this.unlocked(|| bench::run(&dev, args.kind, args.iterations, args.threads))?;
                args.nanoseconds = ns?;
                uapi::write(arg, &args)?;
                Ok(0)
            }
            KWORK_START => {
                let args: uapi::KWork = uapi::read(arg)?;
                let mut slot = file.kwork.lock();
                if slot.is_some() {
                    return Err(EBUSY);
                }
                *slot = Some(kwork::KWork::start(
                    this.get().dev.clone(),
                    uapi::label_of(&args.gpio)?,
                    own_regulator(uapi::label_of(&args.regulator)?)?,
                    args.workers,
                )?);
                Ok(0)
            }
            KWORK_STOP => {
                let work = file.kwork.lock().take().ok_or(EINVAL)?;
                // Waits outside this device's access, like WAIT_REVOKED.
                let (_this, [ok, enodev, enoent, other, last_other]) =
                    this.unlocked(|| work.stop())?;
                let mut args: uapi::KWork = uapi::read(arg)?;
                (args.ok, args.enodev, args.enoent) = (ok, enodev, enoent);
                (args.other, args.last_other) = (other, last_other);
                uapi::write(arg, &args)?;
                Ok(0)
            }
            POLL_MASK => {
                let mask = u32::try_from(uapi::read::<u64>(arg)?).map_err(|_| EINVAL)?;
                file.poll_mask.store(mask, Ordering::Relaxed);
                this.notify_pollers();
                Ok(0)
            }
            COUNTERS => {
                let counters = uapi::Counters {
                    files: FILES.load(Ordering::Relaxed),
                    handles: HANDLES.load(Ordering::Relaxed),
                    revoked_waits: REVOKED_WAITS.load(Ordering::Relaxed),
                };
                uapi::write(arg, &counters)?;
                Ok(0)
            }
            _ => {
                // Right magic, unknown number (or wrong size for a known number).
                pr_debug!("resmgr_test: unknown ioctl nr {}\n", _IOC_NR(cmd));
                Err(ENOTTY)
            }
        }
    }
}
