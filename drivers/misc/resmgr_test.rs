// SPDX-License-Identifier: GPL-2.0

//! `/dev/resmgr-test`: the test character device of the resource manager.
//!
//! The module creates a platform device `resmgr_test` and binds a driver to it that registers the
//! revocable misc device `/dev/resmgr-test` (root only). Through its ioctls (ABI in
//! `include/uapi/linux/resmgr_test.h`) a test gets GPIO lines for the test device from gpiolib, by
//! connection id and index as a driver does (the module registers the device's lookup table, which
//! names the simulated chips the tests create), and calls them through gpiolib, per open file; a
//! line answers `ENODEV` once its chip's driver is unbound. Regulators are gotten by name through
//! the regulator core (`regulator_get_optional()` on the test device), and the module provides
//! one: a simulated regulator `resmgr-test-vreg` (1.0 V to 3.3 V in 100 mV steps) on a second
//! platform device, `resmgr_test_regulator`, unbindable through sysfs, and a C consumer of it: the
//! regulator core's virtual consumer (`reg-virt-consumer`), given the regulator's name as its
//! platform data, which a test drives through its sysfs files. The test device is itself
//! a resmgr provider: unbinding it through `/sys/bus/platform/drivers/resmgr_test/unbind` turns its
//! own open files to `ENODEV`.
//!
//! The device is a test tool, not a backdoor: its regulator commands reach only the module's own
//! regulator, a file holds at most [`MAX_HANDLES`] handles, and the in-kernel loops (benchmarks,
//! in-kernel consumers) call `cond_resched()` regularly. In-kernel work items are waited for
//! through completions that the kernel crate completes after the module's code has returned (see
//! [`Workers`]), so that closing a file and unloading the module never frees code a worker runs.

use core::sync::atomic::{
    AtomicU32,
    AtomicU64,
    Ordering, //
};
use kernel::{
    alloc::kvec::PushError,
    device::{
        Bound,
        Core,
        Device, //
    },
    fs::File,
    gpio::{
        consumer::{
            Desc,
            Direction,
            Flags,
            LineFlags,
            Lookup,
            LookupTable, //
        },
        driver::{
            self as gpio_driver,
            GpioChip, //
        },
    },
    ioctl::{
        _IOC_NR,
        _IOC_TYPE,
        _IOR,
        _IOW,
        _IOWR, //
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
    platform,
    prelude::*,
    regulator::{
        Disabled,
        Enabled,
        Regulator,
        Voltage, //
    },
    resmgr::{
        chardev::{
            self,
            Access,
            ChardevOps, //
        },
        regulator::{
            self as resmgr_regulator,
            RegulatorOps,
            Voltages, //
        },
        Handle,
    },
    seq_file::SeqFile,
    seq_print,
    sync::aref::ARef,
    sync::{
        new_mutex,
        Arc,
        Completion,
        Mutex, //
    },
    uaccess::{
        UserPtr,
        UserSlice, //
    },
    workqueue,
};

const MAGIC: u32 = 0xb7;
const LABEL_LEN: usize = 32;

/// `struct resmgr_test_gpio_lookup`: label, offset, id.
type LookupArg = [u8; LABEL_LEN + 16];
/// `struct resmgr_test_gpio_op`: id, value.
type OpArg = [u64; 2];
/// `struct resmgr_test_counters`.
type CountersArg = [u64; 3];

const GPIO_LOOKUP: u32 = _IOWR::<LookupArg>(MAGIC, 0x01);
const GPIO_GET: u32 = _IOWR::<OpArg>(MAGIC, 0x02);
const GPIO_SET: u32 = _IOW::<OpArg>(MAGIC, 0x03);
const GPIO_INPUT: u32 = _IOW::<OpArg>(MAGIC, 0x04);
const GPIO_OUTPUT: u32 = _IOW::<OpArg>(MAGIC, 0x05);
const GPIO_DIRECTION: u32 = _IOWR::<OpArg>(MAGIC, 0x06);
const DROP: u32 = _IOW::<u64>(MAGIC, 0x07);
const WAIT_REVOKED: u32 = _IOW::<u64>(MAGIC, 0x08);
const COUNTERS: u32 = _IOR::<CountersArg>(MAGIC, 0x09);
const REG_LOOKUP: u32 = _IOWR::<LookupArg>(MAGIC, 0x0a);
const REG_ENABLE: u32 = _IOW::<OpArg>(MAGIC, 0x0b);
const REG_DISABLE: u32 = _IOW::<OpArg>(MAGIC, 0x0c);
const REG_IS_ENABLED: u32 = _IOWR::<OpArg>(MAGIC, 0x0d);
const REG_GET_VOLTAGE: u32 = _IOWR::<OpArg>(MAGIC, 0x0e);
const REG_SET_VOLTAGE: u32 = _IOW::<OpArg>(MAGIC, 0x0f);
const CREG_GET: u32 = _IOWR::<LookupArg>(MAGIC, 0x10);
const CREG_GET_VOLTAGE: u32 = _IOWR::<OpArg>(MAGIC, 0x11);
const CREG_SET_VOLTAGE: u32 = _IOW::<OpArg>(MAGIC, 0x12);
/// `struct resmgr_test_bench`: kind, iterations, threads, nanoseconds.
type BenchArg = [u64; 4];
const BENCH: u32 = _IOWR::<BenchArg>(MAGIC, 0x13);
/// `struct resmgr_test_kwork`: two labels, workers, five counts.
type KWorkArg = [u8; 2 * LABEL_LEN + 6 * 8];
const KWORK_START: u32 = _IOW::<KWorkArg>(MAGIC, 0x14);
const KWORK_STOP: u32 = _IOWR::<KWorkArg>(MAGIC, 0x15);
/// A `__u64`: the poll mask this file reports from now on.
const POLL_MASK: u32 = _IOW::<u64>(MAGIC, 0x16);
const GPIO_ACTIVE_LOW: u32 = _IOWR::<OpArg>(MAGIC, 0x17);
const GPIO_TO_IRQ: u32 = _IOWR::<OpArg>(MAGIC, 0x18);
const GPIO_GET_ATOMIC: u32 = _IOWR::<OpArg>(MAGIC, 0x19);

/// The label of the Rust simulated chip the tests use (the default chip of `gpio_sim_rs`).
const RS_CHIP: &CStr = c"gpio_sim_rs.0";
/// The label the tests give the C gpio-sim bank they create.
const C_CHIP: &CStr = c"resmgr-test-csim";
/// Lines of each simulated chip in the test device's lookup table.
const TABLE_LINES: usize = 8;
/// Entries of the test device's lookup table.
const GPIO_LOOKUPS: usize = 2 * TABLE_LINES + 2;

/// The test device's lines, as a board file would describe them: `rs` and `c` are lines 0 to 7 of
/// the Rust and the C simulated chip, `rs-low` and `c-low` line 6 of each, active low.
const fn gpio_lookups() -> [Lookup; GPIO_LOOKUPS] {
    let mut table = [Lookup::line(RS_CHIP, 0, c"rs", 0, LineFlags::ACTIVE_HIGH); GPIO_LOOKUPS];
    let mut i = 0;
    while i < TABLE_LINES {
        table[i] = Lookup::line(RS_CHIP, i as u16, c"rs", i as u32, LineFlags::ACTIVE_HIGH);
        table[TABLE_LINES + i] =
            Lookup::line(C_CHIP, i as u16, c"c", i as u32, LineFlags::ACTIVE_HIGH);
        i += 1;
    }
    table[2 * TABLE_LINES] = Lookup::line(RS_CHIP, 6, c"rs-low", 0, LineFlags::ACTIVE_LOW);
    table[2 * TABLE_LINES + 1] = Lookup::line(C_CHIP, 6, c"c-low", 0, LineFlags::ACTIVE_LOW);
    table
}

/// The most handles one file holds (`RESMGR_TEST_MAX_HANDLES`).
///
/// A lookup beyond them fails with `ENOSPC`, as an id allocator does when its range is full.
/// `resmgr-bench` holds 10000 handles per file.
const MAX_HANDLES: usize = 16384;

/// The name of the simulated regulator the module registers (`RESMGR_TEST_VREG`).
const SIM_REGULATOR: &CStr = c"resmgr-test-vreg";

/// The regulators the device reaches: the ones the module registers itself, and no other.
///
/// `regulator_get()` finds any regulator of the system by name; through the device, a name not in
/// this list is unknown.
const OWN_REGULATORS: [&CStr; 1] = [SIM_REGULATOR];

/// Returns `name` if it is one of [`OWN_REGULATORS`], `ENOENT` (as for no such regulator) if not.
fn own_regulator(name: &CStr) -> Result<&'static CStr> {
    OWN_REGULATORS
        .iter()
        .find(|own| **own == name)
        .copied()
        .ok_or(ENOENT)
}

/// Work items of the module on the system unbound workqueue, and their completions.
///
/// The kernel crate completes a work item's completion after the item's closure has returned and
/// dropped what it captured ([`workqueue::Queue::try_spawn_with_completion`]): once
/// [`Workers::wait`] has returned, no code of this module runs for them any more, so the module
/// may be unloaded as soon as the waiter lets go of it (a file's release returns, for example).
/// A worker that completed a completion of its own would still be running the module's code
/// (its return path, its drops) when the waiter, and then `rmmod`, went on.
///
/// Dropping a `Workers` waits for its work items.
struct Workers(KVec<Arc<Completion>>);

impl Workers {
    /// No work item yet, with room for `count`.
    fn with_capacity(count: usize) -> Result<Self> {
        Ok(Self(KVec::with_capacity(count, GFP_KERNEL)?))
    }

    /// Spawns `func` as a work item.
    fn spawn(&mut self, func: impl FnOnce() + Send + 'static) -> Result {
        // Room first: the completion of a queued work item must never be lost.
        self.0.reserve(1, GFP_KERNEL)?;
        let done = workqueue::system_unbound().try_spawn_with_completion(GFP_KERNEL, func)?;
        if let Err(PushError(done)) = self.0.push_within_capacity(done) {
            // Not reached (there is room); if it were, wait here rather than lose the work item.
            done.wait_for_completion();
        }
        Ok(())
    }

    /// Waits until every work item has finished.
    fn wait(&self) {
        for done in &self.0 {
            done.wait_for_completion();
        }
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        self.wait();
    }
}

/// A line the test device got from gpiolib.
struct TestLine {
    desc: Desc,
    /// The provider handle of the line's chip if it is a Rust chip, for `WAIT_REVOKED`.
    chip: Option<Handle<GpioChip>>,
}

/// Gets line `index` of `con_id` of the test device.
///
/// `ENOENT` while the line's chip is not registered: gpiolib's `EPROBE_DEFER` is for probe, not
/// for userspace.
fn get_line(dev: &Device, con_id: &CStr, index: u64) -> Result<TestLine> {
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

/// `ENOENT` for a regulator that is not registered (`ENODEV` from the core), as lookups answer
/// for a provider that is away.
fn absent_as_enoent(e: Error) -> Error {
    if e == ENODEV {
        ENOENT
    } else {
        e
    }
}

/// Gets the module's regulator `name` for `dev` through the regulator core.
///
/// `ENODEV` while it is not registered: never the core's dummy regulator.
fn get_regulator(dev: &Device, name: &CStr) -> Result<Regulator<Disabled>> {
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
/// id. It has at most [`MAX_HANDLES`] slots.
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
struct TestFile {
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
            None if table.slots.len() >= MAX_HANDLES => return Err(ENOSPC),
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
struct ResmgrTest {
    dev: ARef<Device>,
    /// `MMAP_PAGES` zeroed pages, mapped at offsets 0 to `MMAP_PAGES - 1`.
    pages: KVec<Page>,
}

/// What `read()` returns; its length is the file's size for `lseek()`.
const READ_TEXT: &[u8] = b"resmgr-test\n";
/// Pages of the buffer that `mmap()` maps (`RESMGR_TEST_MMAP_PAGES`).
const MMAP_PAGES: usize = 4;

impl ResmgrTest {
    fn new(dev: &Device) -> Result<Self> {
        let mut pages = KVec::with_capacity(MMAP_PAGES, GFP_KERNEL)?;
        for _ in 0..MMAP_PAGES {
            pages.push(Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?, GFP_KERNEL)?;
        }
        Ok(Self {
            dev: dev.into(),
            pages,
        })
    }
}

fn read_op(arg: usize) -> Result<(u64, u64)> {
    let [id, value] = UserSlice::new(UserPtr::from_addr(arg), size_of::<OpArg>())
        .reader()
        .read::<OpArg>()?;
    Ok((id, value))
}

fn write_value(arg: usize, id: u64, value: u64) -> Result {
    UserSlice::new(UserPtr::from_addr(arg), size_of::<OpArg>())
        .writer()
        .write(&[id, value])
}

/// An operation on handle `id` with an input `value` (`struct resmgr_test_gpio_op`).
fn op_in(file: &TestFile, arg: usize, f: impl FnOnce(Held, u64) -> Result) -> Result<isize> {
    let (id, value) = read_op(arg)?;
    f(file.get(id)?, value)?;
    Ok(0)
}

/// An operation on handle `id` that returns a value in the same structure.
fn op_out(file: &TestFile, arg: usize, f: impl FnOnce(Held) -> Result<u64>) -> Result<isize> {
    let (id, _) = read_op(arg)?;
    let value = f(file.get(id)?)?;
    write_value(arg, id, value)?;
    Ok(0)
}

/// The NUL-terminated string at the start of a fixed-size label field.
fn label_of(field: &[u8]) -> Result<&CStr> {
    let len = field.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    CStr::from_bytes_with_nul(&field[..=len]).map_err(|_| EINVAL)
}

fn read_id(arg: usize) -> Result<u64> {
    UserSlice::new(UserPtr::from_addr(arg), size_of::<u64>())
        .reader()
        .read::<u64>()
}

impl ResmgrTest {
    /// Reads a lookup argument, lets `find` turn (label, offset) into a handle, returns its id.
    fn lookup(
        file: &TestFile,
        arg: usize,
        find: impl FnOnce(&CStr, u64) -> Result<Held>,
    ) -> Result<isize> {
        let (mut reader, mut writer) =
            UserSlice::new(UserPtr::from_addr(arg), size_of::<LookupArg>()).reader_writer();
        let raw = reader.read::<LookupArg>()?;
        let (label, rest) = raw.split_at(LABEL_LEN);
        let label = label_of(label)?;
        let offset = u64::from_ne_bytes(rest[..8].try_into().map_err(|_| EINVAL)?);
        let id = file.add(find(label, offset)?)?;
        let mut out = raw;
        out[LABEL_LEN + 8..].copy_from_slice(&id.to_ne_bytes());
        writer.write(&out)?;
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
        if _IOC_TYPE(cmd) != MAGIC {
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
                file.drop_handle(read_id(arg)?)?;
                Ok(0)
            }
            WAIT_REVOKED => {
                let line = file.get(read_id(arg)?)?.line()?;
                // Only a Rust chip has a provider to wait for.
                let chip = line.chip.clone().ok_or(EINVAL)?;
                // Sleep outside this device's access: its own unbind must not wait for us.
                let (_this, waited) = this.unlocked(|| chip.wait_revoked())?;
                waited?;
                REVOKED_WAITS.fetch_add(1, Ordering::Relaxed);
                Ok(0)
            }
            BENCH => {
                let mut args = UserSlice::new(UserPtr::from_addr(arg), size_of::<BenchArg>())
                    .reader()
                    .read::<BenchArg>()?;
                // Runs outside this device's access: a long benchmark must not hold up unbind.
                let dev = this.get().dev.clone();
                let (_this, ns) = this.unlocked(|| bench::run(&dev, args[0], args[1], args[2]))?;
                args[3] = ns?;
                UserSlice::new(UserPtr::from_addr(arg), size_of::<BenchArg>())
                    .writer()
                    .write(&args)?;
                Ok(0)
            }
            KWORK_START => {
                let raw = UserSlice::new(UserPtr::from_addr(arg), size_of::<KWorkArg>())
                    .reader()
                    .read::<KWorkArg>()?;
                let (labels, rest) = raw.split_at(2 * LABEL_LEN);
                let workers = u64::from_ne_bytes(rest[..8].try_into().map_err(|_| EINVAL)?);
                let mut slot = file.kwork.lock();
                if slot.is_some() {
                    return Err(EBUSY);
                }
                *slot = Some(kwork::KWork::start(
                    this.get().dev.clone(),
                    label_of(&labels[..LABEL_LEN])?,
                    own_regulator(label_of(&labels[LABEL_LEN..])?)?,
                    workers,
                )?);
                Ok(0)
            }
            KWORK_STOP => {
                let work = file.kwork.lock().take().ok_or(EINVAL)?;
                // Waits outside this device's access, like WAIT_REVOKED.
                let (_this, counts) = this.unlocked(|| work.stop())?;
                let mut out: KWorkArg =
                    UserSlice::new(UserPtr::from_addr(arg), size_of::<KWorkArg>())
                        .reader()
                        .read::<KWorkArg>()?;
                for (field, count) in out[2 * LABEL_LEN + 8..].chunks_mut(8).zip(counts) {
                    field.copy_from_slice(&count.to_ne_bytes());
                }
                UserSlice::new(UserPtr::from_addr(arg), size_of::<KWorkArg>())
                    .writer()
                    .write(&out)?;
                Ok(0)
            }
            POLL_MASK => {
                let mask = u32::try_from(read_id(arg)?).map_err(|_| EINVAL)?;
                file.poll_mask.store(mask, Ordering::Relaxed);
                this.notify_pollers();
                Ok(0)
            }
            COUNTERS => {
                let counters: CountersArg = [
                    FILES.load(Ordering::Relaxed),
                    HANDLES.load(Ordering::Relaxed),
                    REVOKED_WAITS.load(Ordering::Relaxed),
                ];
                UserSlice::new(UserPtr::from_addr(arg), size_of::<CountersArg>())
                    .writer()
                    .write(&counters)?;
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

/// In-kernel consumers: work items that call through gpiolib and the regulator core until stopped.
mod kwork {
    use super::Workers;
    use core::sync::atomic::{
        AtomicBool,
        AtomicU64,
        Ordering, //
    };
    use kernel::{
        device::Device,
        prelude::*,
        regulator::{
            Disabled,
            Regulator,
            Voltage, //
        },
        str::CString,
        sync::aref::ARef,
        sync::Arc,
        task::cond_resched,
        time::{
            delay::fsleep,
            Delta, //
        },
    };

    /// The most workers one file may start: worker `i` uses line `i` of the connection id, and
    /// the test device has 8 of each.
    const MAX_WORKERS: u64 = super::TABLE_LINES as u64;

    /// Counts, in the order of `struct resmgr_test_kwork`: ok, enodev, enoent, other, last other.
    pub(super) type Counts = [u64; 5];

    /// What one file's workers share.
    struct Shared {
        dev: ARef<Device>,
        gpio: CString,
        regulator: CString,
        stop: AtomicBool,
        counts: [AtomicU64; 5],
    }

    /// One file's in-kernel consumers.
    ///
    /// Dropping it stops them and waits until they have finished (see [`Workers`]).
    pub(super) struct KWork {
        shared: Arc<Shared>,
        workers: Workers,
    }

    impl KWork {
        /// Starts `workers` work items on the unbound workqueue.
        pub(super) fn start(
            dev: ARef<Device>,
            gpio: &CStr,
            regulator: &CStr,
            workers: u64,
        ) -> Result<Self> {
            if workers == 0 || workers > MAX_WORKERS {
                return Err(EINVAL);
            }
            let shared = Arc::new(
                Shared {
                    dev,
                    gpio: CString::try_from(gpio)?,
                    regulator: CString::try_from(regulator)?,
                    stop: AtomicBool::new(false),
                    counts: Default::default(),
                },
                GFP_KERNEL,
            )?;
            let mut work = Self {
                shared,
                workers: Workers::with_capacity(workers as usize)?,
            };
            for index in 0..workers {
                let shared = work.shared.clone();
                // On failure, dropping `work` stops the workers already spawned and waits for them.
                work.workers.spawn(move || shared.run(index as u32))?;
            }
            Ok(work)
        }

        /// Stops the workers, waits for them and returns the counts.
        pub(super) fn stop(&self) -> Counts {
            self.shared.stop.store(true, Ordering::Release);
            self.workers.wait();
            let mut counts = Counts::default();
            for (count, total) in counts.iter_mut().zip(&self.shared.counts) {
                *count = total.load(Ordering::Relaxed);
            }
            counts
        }
    }

    impl Drop for KWork {
        fn drop(&mut self) {
            self.stop();
        }
    }

    impl Shared {
        fn tally(&self, result: Result) {
            let slot = match result {
                Ok(()) => 0,
                Err(e) if e == ENODEV => 1,
                Err(e) if e == ENOENT => 2,
                Err(e) => {
                    self.counts[4].store(e.to_errno().unsigned_abs().into(), Ordering::Relaxed);
                    3
                }
            };
            self.counts[slot].fetch_add(1, Ordering::Relaxed);
        }

        /// One worker: line `index` of the connection id (through gpiolib) and the regulator.
        fn run(&self, index: u32) {
            let mut line: Option<super::TestLine> = None;
            let mut supply: Option<Regulator<Disabled>> = None;
            let mut n = index;
            while !self.stop.load(Ordering::Acquire) {
                if line.is_none() {
                    line = self.found(super::get_line(&self.dev, &self.gpio, index.into()));
                }
                if supply.is_none() {
                    let found = super::get_regulator(&self.dev, &self.regulator);
                    supply = self.found(found.map_err(super::absent_as_enoent));
                }
                if let Some(l) = &line {
                    let result = l
                        .desc
                        .direction_output(n & 1 != 0)
                        .and_then(|()| l.desc.value_cansleep().map(|_| ()));
                    if result == Err(ENODEV) {
                        line = None;
                    }
                    self.tally(result);
                }
                if let Some(s) = &supply {
                    // A range, as consumers ask: the core serves the intersection of every
                    // consumer's request, and other workers ask too.
                    let min = Voltage::from_microvolts(1_000_000 + (n % 24) as i32 * 100_000);
                    let max = Voltage::from_microvolts(3_300_000);
                    let result = s.set_voltage(min, max);
                    if result == Err(ENODEV) {
                        supply = None;
                    }
                    self.tally(result);
                }
                if line.is_none() && supply.is_none() {
                    // Both providers are away: wait for a bind without spinning.
                    fsleep(Delta::from_millis(1));
                }
                n = n.wrapping_add(1);
                // The loop runs until stopped: without forced preemption, let others have the CPU.
                cond_resched();
            }
        }

        fn found<T>(&self, lookup: Result<T>) -> Option<T> {
            match lookup {
                Ok(handle) => {
                    self.tally(Ok(()));
                    Some(handle)
                }
                Err(e) => {
                    self.tally(Err(e));
                    None
                }
            }
        }
    }
}

/// In-kernel micro-benchmarks (see `RESMGR_TEST_BENCH` in the uAPI header).
mod bench {
    use super::Workers;
    use core::hint::black_box;
    use kernel::{
        device::Device,
        gpio::consumer::{
            Desc,
            Flags, //
        },
        new_mutex, new_srcu,
        prelude::*,
        resmgr::{
            Handle,
            Provider, //
        },
        revocable::Revocable,
        sync::{
            new_srcu_fast,
            rcu,
            Arc,
            Mutex,
            Srcu,
            SrcuFast, //
        },
        task::cond_resched,
        time::{
            Instant,
            Monotonic, //
        },
    };

    const RAW: u64 = 0;
    const RCU: u64 = 1;
    const SRCU: u64 = 2;
    const SRCU_FAST: u64 = 3;
    const HANDLE: u64 = 4;
    const REVOCABLE: u64 = 5;
    const REFCOUNT: u64 = 6;
    const REVOKE_N: u64 = 7;
    const SYNC_EXPEDITED: u64 = 8;
    const GPIOD_RS: u64 = 9;
    const GPIOD_C: u64 = 10;

    /// The most threads of a run (`RESMGR_TEST_BENCH_MAX_THREADS`).
    const MAX_THREADS: u64 = 64;
    /// The most iterations per thread (`RESMGR_TEST_BENCH_MAX_ITERATIONS`).
    const MAX_ITERATIONS: u64 = 100_000_000;
    /// The most handles `REVOKE_N` keeps (`RESMGR_TEST_BENCH_MAX_HANDLES`): their vector stays
    /// within one `kmalloc()` (2 MiB).
    const MAX_REVOKE_HANDLES: u64 = 1 << 18;

    /// Iterations between two scheduling points of a benchmark loop.
    ///
    /// Few enough that no loop holds its CPU for long on a kernel without forced preemption, enough
    /// that the `cond_resched()` between them does not show in the cost of an iteration.
    const CHUNK: u64 = 4096;

    /// What the benchmark threads share.
    #[pin_data]
    struct State {
        value: u64,
        #[pin]
        srcu: Srcu,
        #[pin]
        fast: SrcuFast,
        #[pin]
        revocable: Revocable<u64>,
        handle: Handle<u64>,
        refcount: Arc<u64>,
        #[pin]
        started: Mutex<()>,
    }

    /// Runs `n` iterations of `kind`, with a scheduling point every [`CHUNK`]; `handle` is the
    /// calling thread's own handle, as every consumer holds its own.
    fn spin(st: &State, handle: &Handle<u64>, kind: u64, n: u64) {
        let mut left = n;
        while left > 0 {
            let chunk = left.min(CHUNK);
            spin_chunk(st, handle, kind, chunk);
            left -= chunk;
            cond_resched();
        }
    }

    /// Runs `n` iterations of `kind` without a scheduling point.
    fn spin_chunk(st: &State, handle: &Handle<u64>, kind: u64, n: u64) {
        match kind {
            RAW => (0..n).for_each(|_| {
                black_box(*black_box(&st.value));
            }),
            RCU => (0..n).for_each(|_| {
                let guard = rcu::read_lock();
                black_box(&guard);
            }),
            SRCU => (0..n).for_each(|_| {
                let guard = st.srcu.read_lock();
                black_box(&guard);
            }),
            SRCU_FAST => (0..n).for_each(|_| {
                let guard = st.fast.read_lock();
                black_box(&guard);
            }),
            // What is timed is the access and its drop: the reference is kept, the value is
            // not read (no other kind reads one).
            HANDLE => {
                // The thread's handle as a consumer keeps it while it works: in a local, so that
                // the shell's address stays in a register, as the SRCU-fast pair's domain does.
                let handle = handle.clone();
                (0..n).for_each(|_| {
                    if let Ok(guard) = handle.access() {
                        black_box(&*guard);
                    }
                })
            }
            REVOCABLE => (0..n).for_each(|_| {
                if let Some(guard) = st.revocable.try_access() {
                    black_box(&*guard);
                }
            }),
            REFCOUNT => (0..n).for_each(|_| {
                black_box(st.refcount.clone());
            }),
            _ => {}
        }
    }

    /// Handles taken before every timed grace period, whatever number stays out.
    ///
    /// Under TCG a grace period takes longer right after the CPU was busy, by more than a
    /// handle could cost: without the same work first, 100 000 handles would be compared with
    /// the time it takes to create them.
    const PREAMBLE: u64 = 100_000;

    /// A new provider and `keep` of `max(keep, PREAMBLE)` handles taken on it.
    fn provider_with_handles(keep: u64) -> Result<(Provider<u64>, KVec<Handle<u64>>)> {
        let provider = Provider::new(0u64)?;
        let total = usize::try_from(keep.max(PREAMBLE)).map_err(|_| EINVAL)?;
        let mut handles = KVec::with_capacity(total, GFP_KERNEL)?;
        for i in 0..total {
            handles.push(provider.handle(), GFP_KERNEL)?;
            if i as u64 % CHUNK == CHUNK - 1 {
                cond_resched();
            }
        }
        handles.truncate(keep as usize);
        Ok((provider, handles))
    }

    fn revoke_with_handles(count: u64) -> Result<u64> {
        let (provider, handles) = provider_with_handles(count)?;
        let start = Instant::<Monotonic>::now();
        provider.revoke();
        let ns = start.elapsed().as_nanos();
        drop(handles);
        Ok(ns as u64)
    }

    fn sync_expedited() -> Result<u64> {
        let srcu = KBox::pin_init(new_srcu_fast!("resmgr_test::bench"), GFP_KERNEL)?;
        let (_provider, _none) = provider_with_handles(0)?;
        let start = Instant::<Monotonic>::now();
        srcu.synchronize_expedited();
        Ok(start.elapsed().as_nanos() as u64)
    }

    /// A consumer's set+get loop on line 0 of `con_id` of the test device, through gpiolib.
    fn gpiod_loop(dev: &Device, con_id: &CStr, iterations: u64) -> Result<u64> {
        let line = Desc::get_index(dev, Some(con_id), 0, Flags::OutLow)?;
        let start = Instant::<Monotonic>::now();
        for i in 0..iterations {
            line.set_value_cansleep(i & 1 == 1)?;
            black_box(line.value_cansleep()?);
            if i % CHUNK == CHUNK - 1 {
                cond_resched();
            }
        }
        Ok(start.elapsed().as_nanos() as u64)
    }

    /// Runs benchmark `kind` for the test device `dev`; returns the wall-clock nanoseconds.
    pub(super) fn run(dev: &Device, kind: u64, iterations: u64, threads: u64) -> Result<u64> {
        match kind {
            REVOKE_N if iterations > MAX_REVOKE_HANDLES => return Err(EINVAL),
            REVOKE_N => return revoke_with_handles(iterations),
            SYNC_EXPEDITED => return sync_expedited(),
            GPIOD_RS | GPIOD_C if threads != 1 || iterations == 0 => return Err(EINVAL),
            GPIOD_RS | GPIOD_C if iterations > MAX_ITERATIONS => return Err(EINVAL),
            GPIOD_RS => return gpiod_loop(dev, c"rs", iterations),
            GPIOD_C => return gpiod_loop(dev, c"c", iterations),
            RAW..=REFCOUNT => {}
            _ => return Err(EINVAL),
        }
        if threads == 0 || threads > MAX_THREADS || iterations == 0 || iterations > MAX_ITERATIONS {
            return Err(EINVAL);
        }
        let provider = Provider::new(7u64)?;
        let handle = provider.handle();
        let refcount = Arc::new(7, GFP_KERNEL)?;
        let st = Arc::pin_init(
            try_pin_init!(State {
                value: 7,
                srcu <- new_srcu!(),
                fast <- new_srcu_fast!(),
                revocable <- Revocable::new(Ok::<_, Error>(7u64)),
                handle,
                refcount,
                started <- new_mutex!(()),
            }? Error),
            GFP_KERNEL,
        )?;
        // Declared before the gate, so dropped after it: on an early return the gate opens first,
        // and the threads already spawned run to their end before the wait for them returns.
        let mut workers = Workers::with_capacity(threads as usize)?;
        // Hold the threads until all are queued, then time them together.
        let gate = st.started.lock();
        for _ in 0..threads {
            let st = st.clone();
            let handle = st.handle.clone();
            workers.spawn(move || {
                drop(st.started.lock());
                spin(&st, &handle, kind, iterations);
            })?;
        }
        let start = Instant::<Monotonic>::now();
        drop(gate);
        workers.wait();
        let ns = start.elapsed().as_nanos();
        drop(provider);
        Ok(ns as u64)
    }
}

/// The platform driver: registers `/dev/resmgr-test` for the bound device.
struct ResmgrTestDriver;

impl platform::Driver for ResmgrTestDriver {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        chardev::register(dev, c"resmgr-test", ResmgrTest::new(dev))?;
        Ok(ResmgrTestDriver)
    }
}

/// The simulated regulator: enabled flag and output voltage.
#[pin_data]
struct SimRegulator {
    #[pin]
    state: Mutex<(bool, i32)>,
}

impl RegulatorOps for SimRegulator {
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

/// The platform driver of the simulated regulator.
struct SimRegulatorDriver;

/// 1.0 V to 3.3 V in 100 mV steps.
const SIM_VOLTAGES: Voltages = Voltages {
    min_uv: 1_000_000,
    step_uv: 100_000,
    count: 24,
};

impl platform::Driver for SimRegulatorDriver {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        resmgr_regulator::register(
            pdev.as_ref(),
            SIM_REGULATOR,
            SIM_VOLTAGES,
            try_pin_init!(SimRegulator {
                state <- new_mutex!((false, SIM_VOLTAGES.min_uv)),
            }? Error),
        )?;
        Ok(SimRegulatorDriver)
    }
}

#[pin_data]
struct ResmgrTestModule {
    // Dropped first: the C consumer lets go of the regulator (and gives back its enable).
    _virt_consumer: platform::DeviceRegistration,
    // Dropped first: unregistering the driver unbinds (and so revokes) the device.
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<ResmgrTestDriver>>,
    #[pin]
    _regulator_driver: kernel::driver::Registration<platform::Adapter<SimRegulatorDriver>>,
    _device: platform::DeviceRegistration,
    _regulator_device: platform::DeviceRegistration,
    #[pin]
    _gpio_lookup: LookupTable<GPIO_LOOKUPS>,
}

impl kernel::InPlaceModule for ResmgrTestModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"resmgr_test", module),
            _regulator_driver <-
                kernel::driver::Registration::new(c"resmgr_test_regulator", module),
            _device: platform::DeviceRegistration::new(c"resmgr_test", None)?,
            _regulator_device: platform::DeviceRegistration::new(c"resmgr_test_regulator", None)?,
            _gpio_lookup <- LookupTable::new(c"resmgr_test", gpio_lookups()),
            // After the regulator, which its probe gets (`reg-virt-consumer` binds at once if
            // CONFIG_REGULATOR_VIRTUAL_CONSUMER is built in, or when its module is loaded).
            _virt_consumer: platform::DeviceRegistration::new_with_data(
                c"reg-virt-consumer",
                None,
                SIM_REGULATOR.to_bytes_with_nul(),
            )?,
        })
    }
}

module! {
    type: ResmgrTestModule,
    name: "resmgr_test",
    authors: ["resmgr developers"],
    description: "Test character device of the Rust resource manager",
    license: "GPL",
}
