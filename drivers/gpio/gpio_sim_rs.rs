// SPDX-License-Identifier: GPL-2.0

//! A GPIO simulator in Rust, on the resource manager, speaking gpio-sim's user ABI.
//!
//! Simulated chips are set up in configfs exactly as with gpio-sim (see
//! `Documentation/admin-guide/gpio/gpio-sim.rst`): a directory per device, in it a directory per
//! bank (one chip each: `label`, `num_lines`, `chip_name`), in a bank `lineN` directories (`name`,
//! `valid`) and in a line an optional `hog` (`name`, `direction`, `active_low`). Writing 1 to the
//! device's `live` creates a platform device (`dev_name`) described, as gpio-sim describes it, by
//! a software node with a child per bank (`ngpios`, `gpio-sim,label`, `gpio-line-names`,
//! `gpio-reserved-ranges`, and a `gpio-hog` child per hog); this driver's probe registers a chip
//! per bank from it, and gpiolib takes each chip's line names, invalid lines and hogs from its
//! node. Writing 0 removes the device. Under each chip's gpio device, `sim_gpioN/pull` sets the
//! simulated pull of line N (an input reads it; a change of level on a requested input is an edge
//! event) and `sim_gpioN/value` shows the line's level.
//!
//! Every attribute takes what gpio-sim takes, as gpio-sim parses it: the written bytes are a C
//! string (they end at the first NUL, as libgpiod's `libgpiosim` writes them: with the NUL), names
//! and labels lose the white space (`isspace()`) around them, `num_lines` is read by
//! `kstrtouint(.., 0, ..)`, booleans by `kstrtobool()`, `direction` and `pull` match with
//! `sysfs_streq()` (one trailing newline allowed), `lineN` by `sscanf("line%u%n")`; reads are
//! `sysfs_emit()`'s.
//!
//! The configfs subsystem is `gpio-sim-rs`, the platform driver and devices `gpio_sim_rs(.N)` and
//! a bank without a label is labelled `<dev_name>:<bank directory>`. With `as_gpio_sim=1` the
//! module stands in for the C driver: subsystem, driver and devices are `gpio-sim(.N)`, a bank
//! without a label is labelled `<dev_name>:node<index of the bank>` and `chip_name` of a live
//! device whose chips are unbound reads empty, as with gpio-sim. Devices are numbered from the
//! lowest free number (an IDA's). The module also creates `chips` devices of `lines` lines by
//! itself (labelled after the device; they take the first numbers: load with `chips=0` to
//! number the configfs devices as gpio-sim does).
//!
//! Every device can be unbound and bound again through
//! `/sys/bus/platform/drivers/<driver>/{unbind,bind}`: from the unbind on, every open line
//! request answers `ENODEV` (gpiolib has removed the chips, and their provider shells are
//! revoked), and a bind creates new chips.
//!
//! Not (yet) as with gpio-sim, for want of kernel crate support: the `EBUSY` of an `rmdir` of a
//! line or hog of a live device (gpio-sim pins them with `configfs_depend_item_unlocked()`).

use core::fmt::Write;
use kernel::{
    configfs::{
        self,
        configfs_attrs, //
    },
    device::{
        property::{
            swnode::{
                Entry,
                SoftwareNode, //
            },
            FwNode,
        },
        Bound,
        Core,
        Device, //
    },
    gpio::{
        driver::{
            self,
            Bias,
            ChipConfig,
            Direction,
            Edge,
            Events,
            GpioChipOps,
            LineBits,
            LineValues, //
        },
        sim::{
            self,
            LineAttr,
            LineAttrOps,
            LineDirs,
            SimConfig, //
        },
    },
    page::PAGE_SIZE,
    platform,
    prelude::*,
    str::{
        kstrtobool_bytes,
        BStr,
        CString,
        Formatter, //
    },
    sync::aref::ARef,
    sync::{
        new_mutex,
        Arc,
        Mutex,
        MutexGuard, //
    },
};

/// The simulated state of one line.
#[derive(Clone, Copy)]
struct SimLine {
    direction: Direction,
    value: bool,
    /// Pulled up (`true`) or down.
    pull: bool,
    requested: bool,
}

/// The simulated chip: the implementation behind the provider shell.
#[pin_data]
struct SimChip {
    #[pin]
    lines: Mutex<KVec<SimLine>>,
}

/// The per-line sysfs files, in the order of [`LINE_DIRS`].
const ATTR_VALUE: usize = 0;
const ATTR_PULL: usize = 1;
const LINE_DIRS: LineDirs = LineDirs {
    prefix: "sim_gpio",
    attrs: &[
        // Written: EPERM, as with gpio-sim.
        LineAttr {
            name: c"value",
            writable: true,
        },
        LineAttr {
            name: c"pull",
            writable: true,
        },
    ],
};

impl SimChip {
    fn new(count: u32) -> Result<impl PinInit<Self, Error>> {
        if count > driver::MAX_LINES {
            return Err(ERANGE);
        }
        let mut lines = KVec::with_capacity(count as usize, GFP_KERNEL)?;
        for _ in 0..count {
            lines.push(
                SimLine {
                    direction: Direction::Input,
                    value: false,
                    pull: false,
                    requested: false,
                },
                GFP_KERNEL,
            )?;
        }
        Ok(try_pin_init!(Self {
            lines <- new_mutex!(lines),
        }? Error))
    }

    fn with_line<R>(&self, offset: u32, f: impl FnOnce(&mut SimLine) -> R) -> Result<R> {
        let mut lines = self.lines.lock();
        let line = lines.get_mut(offset as usize).ok_or(EINVAL)?;
        Ok(f(line))
    }

    /// Sets the pull of line `offset`, as gpio-sim does: a requested input follows it (an edge
    /// if its level changes), a requested output keeps its level, a free line takes it.
    fn apply_pull(&self, events: &Events, offset: u32, up: bool) -> Result {
        self.with_line(offset, |l| {
            if l.requested && l.direction == Direction::Output {
                l.pull = up;
                return;
            }
            if l.requested && l.value != up {
                events.notify(offset, if up { Edge::Rising } else { Edge::Falling });
            }
            l.value = up;
            l.pull = up;
        })
    }
}

#[vtable]
impl GpioChipOps for SimChip {
    fn get(&self, _dev: &Device<Bound>, offset: u32) -> Result<bool> {
        self.with_line(offset, |l| l.value)
    }

    fn set(&self, _dev: &Device<Bound>, offset: u32, value: bool) -> Result {
        self.with_line(offset, |l| l.value = value)
    }

    fn get_multiple(
        &self,
        _dev: &Device<Bound>,
        mask: &LineBits<'_>,
        values: &mut LineValues<'_>,
    ) -> Result {
        let lines = self.lines.lock();
        for offset in mask.iter() {
            values.set(offset, lines.get(offset as usize).ok_or(EINVAL)?.value);
        }
        Ok(())
    }

    fn set_multiple(
        &self,
        _dev: &Device<Bound>,
        mask: &LineBits<'_>,
        values: &LineBits<'_>,
    ) -> Result {
        let mut lines = self.lines.lock();
        for offset in mask.iter() {
            lines.get_mut(offset as usize).ok_or(EINVAL)?.value = values.contains(offset);
        }
        Ok(())
    }

    fn get_direction(&self, _dev: &Device<Bound>, offset: u32) -> Result<Direction> {
        self.with_line(offset, |l| l.direction)
    }

    fn direction_input(&self, _dev: &Device<Bound>, offset: u32) -> Result {
        self.with_line(offset, |l| l.direction = Direction::Input)
    }

    fn direction_output(&self, _dev: &Device<Bound>, offset: u32, value: bool) -> Result {
        self.with_line(offset, |l| {
            l.direction = Direction::Output;
            l.value = value;
        })
    }

    fn set_bias(&self, _dev: &Device<Bound>, events: &Events, offset: u32, bias: Bias) -> Result {
        match bias {
            Bias::PullUp => self.apply_pull(events, offset, true),
            Bias::PullDown => self.apply_pull(events, offset, false),
            Bias::Disable => Err(ENOTSUPP),
        }
    }

    fn request(&self, _dev: &Device<Bound>, offset: u32) -> Result {
        self.with_line(offset, |l| l.requested = true)
    }

    fn free(&self, _dev: &Device<Bound>, offset: u32) {
        let _ = self.with_line(offset, |l| {
            l.value = l.pull;
            l.requested = false;
        });
    }
}

impl LineAttrOps for SimChip {
    fn show_line_attr(
        &self,
        _dev: &Device<Bound>,
        offset: u32,
        attr: usize,
        out: &mut Formatter<'_>,
    ) -> Result {
        let line = self.with_line(offset, |l| *l)?;
        match attr {
            ATTR_VALUE => writeln!(out, "{}", u8::from(line.value)),
            _ => writeln!(out, "{}", if line.pull { "pull-up" } else { "pull-down" }),
        }
        .map_err(|_| EINVAL)
    }

    fn store_line_attr(
        &self,
        _dev: &Device<Bound>,
        events: &Events,
        offset: u32,
        attr: usize,
        input: &[u8],
    ) -> Result {
        if attr != ATTR_PULL {
            return Err(EPERM);
        }
        // gpio-sim: `sysfs_match_string()`.
        if sysfs_streq(input, b"pull-up") {
            self.apply_pull(events, offset, true)
        } else if sysfs_streq(input, b"pull-down") {
            self.apply_pull(events, offset, false)
        } else {
            Err(EINVAL)
        }
    }
}

/// What a hogged line is set to when the chip is added.
#[derive(Clone, Copy, PartialEq, Eq)]
enum HogDirection {
    Input,
    OutputLow,
    OutputHigh,
}

impl HogDirection {
    /// The boolean property of a hog's software node that says it, as gpiolib reads it.
    fn property(self) -> &'static CStr {
        match self {
            HogDirection::Input => c"input",
            HogDirection::OutputLow => c"output-low",
            HogDirection::OutputHigh => c"output-high",
        }
    }
}

/// The platform driver: registers a chip for each bank the device's software node describes.
struct GpioSimRs;

impl platform::Driver for GpioSimRs {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        // As gpio-sim: one bank per child of the device's node, each with its line count and
        // label; gpiolib reads the line names, invalid lines and hogs from the bank's node.
        let node = dev.fwnode().ok_or(ENODEV)?;
        let mut chips = 0;
        for bank in node.children() {
            let ngpio: u32 = bank.property_read(c"ngpios").required_by(dev)?;
            if ngpio > driver::MAX_LINES {
                return Err(ERANGE);
            }
            let label = match bank.property_read::<CString>(c"gpio-sim,label").optional() {
                Some(label) => label,
                // gpio-sim's default: "%s:%pfwP", the device's name and the node's.
                None => CString::try_from_fmt(fmt!(
                    "{}:{}",
                    BStr::from_bytes(dev.name().to_bytes()),
                    bank.display_name()
                ))?,
            };
            let mut config = ChipConfig::new(&label, ngpio)?;
            config.edge_events = true;
            config.fwnode = Some(bank);
            let lines = SimConfig {
                line_dirs: Some(LINE_DIRS),
            };
            sim::register(dev, config, lines, SimChip::new(ngpio)?)?;
            chips += 1;
        }
        dev_dbg!(dev, "{} simulated GPIO chip(s)\n", chips);
        Ok(GpioSimRs)
    }
}

/// Writes `bytes` and a newline to a configfs page, as `sysfs_emit(page, "%s\n", ..)` does: cut
/// to `PAGE_SIZE - 1` bytes (so a label of that length reads without its newline).
fn emit(page: &mut [u8; PAGE_SIZE], bytes: &[u8]) -> Result<usize> {
    let len = bytes.len().min(PAGE_SIZE - 1);
    page[..len].copy_from_slice(&bytes[..len]);
    if len == PAGE_SIZE - 1 {
        return Ok(len);
    }
    page[len] = b'\n';
    Ok(len + 1)
}

/// Writes a formatted value and a newline to a configfs page.
fn emit_fmt(page: &mut [u8; PAGE_SIZE], args: core::fmt::Arguments<'_>) -> Result<usize> {
    let mut f = Formatter::new(page);
    f.write_fmt(args).map_err(|_| EINVAL)?;
    f.write_str("\n").map_err(|_| EINVAL)?;
    Ok(f.bytes_written())
}

/// The written bytes as the C driver sees them: a C string, which ends at the first NUL.
///
/// configfs and sysfs terminate the page after the bytes written, and hand over their count; the
/// C driver's parsers stop at the first NUL. libgpiod's `libgpiosim` writes each value with its
/// terminating NUL (`strlen() + 1` bytes).
fn c_string(page: &[u8]) -> &[u8] {
    match page.iter().position(|&b| b == 0) {
        Some(end) => &page[..end],
        None => page,
    }
}

/// The kernel's `isspace()` (`lib/ctype.c`): ASCII white space including `\v`, and 0xa0.
fn is_space(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ' | 0xa0)
}

/// `bytes` without the `isspace()` around them (`skip_spaces()` and `strim()`).
fn trim_spaces(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|&b| !is_space(b))
        .map_or(start, |last| last + 1);
    &bytes[start..end.max(start)]
}

/// A written name or label, as gpio-sim keeps it (`gpio_sim_strdup_trimmed()`): the C string
/// without the white space around it, possibly empty.
fn parse_name(page: &[u8]) -> Result<CString> {
    let bytes = trim_spaces(c_string(page));
    let mut v = KVec::with_capacity(bytes.len() + 1, GFP_KERNEL)?;
    v.extend_from_slice(bytes, GFP_KERNEL)?;
    v.push(0, GFP_KERNEL)?;
    // Cannot fail: `c_string()` ends before the first NUL.
    let name = CStr::from_bytes_with_nul(&v).map_err(|_| EINVAL)?;
    Ok(CString::try_from(name)?)
}

/// `kstrtouint(page, 0, &n)`, as gpio-sim reads `num_lines`: an optional `+`, then `0x`/`0X`
/// and hex digits, or `0` and octal digits, or decimal digits, then at most one newline;
/// `ERANGE` if the number does not fit (even with junk after it), `EINVAL` for anything else.
fn parse_uint(page: &[u8]) -> Result<u32> {
    let mut s = c_string(page);
    if let [b'+', rest @ ..] = s {
        s = rest;
    }
    // `_parse_integer_fixup_radix()`, base 0.
    let hex = matches!(s, [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit());
    let base: u64 = if hex {
        s = &s[2..];
        16
    } else if s.first() == Some(&b'0') {
        8
    } else {
        10
    };
    // `_parse_integer()`: every digit is taken, the value saturates on overflow.
    let mut value: u64 = 0;
    let mut overflow = false;
    let mut used = 0;
    for &c in s {
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' | b'A'..=b'F' => (c | 0x20) - b'a' + 10,
            _ => break,
        };
        if u64::from(digit) >= base {
            break;
        }
        value = match value
            .checked_mul(base)
            .and_then(|v| v.checked_add(u64::from(digit)))
        {
            Some(v) => v,
            None => {
                overflow = true;
                u64::MAX
            }
        };
        used += 1;
    }
    if overflow {
        return Err(ERANGE);
    }
    if used == 0 {
        return Err(EINVAL);
    }
    let rest = &s[used..];
    let rest = rest.strip_prefix(b"\n").unwrap_or(rest);
    if !rest.is_empty() {
        return Err(EINVAL);
    }
    u32::try_from(value).map_err(|_| ERANGE)
}

/// `sysfs_streq(page, want)`: the written C string is `want`, with at most one newline after it.
fn sysfs_streq(page: &[u8], want: &[u8]) -> bool {
    let s = c_string(page);
    s == want || s.strip_suffix(b"\n") == Some(want)
}

/// The offset of a line directory, as gpio-sim reads it: `sscanf(name, "line%u%n")` taking the
/// whole name. `%u` skips white space, then takes decimal digits (no sign); the value saturates
/// at `u64::MAX` and is stored in an `unsigned int`, so it is cut to 32 bits.
fn parse_line_dir(name: &[u8]) -> Result<u32> {
    let rest = name.strip_prefix(b"line").ok_or(EINVAL)?;
    let start = rest
        .iter()
        .position(|&b| !is_space(b))
        .unwrap_or(rest.len());
    let digits = &rest[start..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return Err(EINVAL);
    }
    let mut value: u64 = 0;
    for &d in digits {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(d - b'0')))
            .unwrap_or(u64::MAX);
    }
    // The truncation is gpio-sim's: `line4294967296` is line 0.
    Ok(value as u32)
}

fn name_bytes(name: &Option<CString>) -> &[u8] {
    name.as_ref().map_or(&[], |n| n.to_bytes())
}

/// Whose names the module uses (module parameter `as_gpio_sim`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Abi {
    /// `gpio-sim-rs` in configfs, `gpio_sim_rs` driver and devices, banks labelled after their
    /// directory.
    Native,
    /// Standing in for gpio-sim: `gpio-sim` in configfs, `gpio-sim` driver and devices, banks
    /// labelled after their software node, and an empty `chip_name` while a live device is
    /// unbound.
    GpioSim,
}

impl Abi {
    fn subsystem(self) -> &'static CStr {
        match self {
            Abi::Native => c"gpio-sim-rs",
            Abi::GpioSim => c"gpio-sim",
        }
    }

    /// The platform driver's name, also that of its devices (`<driver>.<id>`).
    fn driver(self) -> &'static CStr {
        match self {
            Abi::Native => c"gpio_sim_rs",
            Abi::GpioSim => c"gpio-sim",
        }
    }

    fn driver_str(self) -> &'static str {
        match self {
            Abi::Native => "gpio_sim_rs",
            Abi::GpioSim => "gpio-sim",
        }
    }
}

/// Device numbers, handed out lowest free first, as gpio-sim's IDA does.
#[pin_data]
struct IdPool {
    /// Whether each number is taken.
    #[pin]
    used: Mutex<KVec<bool>>,
}

impl IdPool {
    /// A pool whose first `reserved` numbers are taken for good.
    fn new(reserved: u32) -> Result<Arc<Self>> {
        let mut used = KVec::with_capacity(reserved as usize, GFP_KERNEL)?;
        for _ in 0..reserved {
            used.push(true, GFP_KERNEL)?;
        }
        Arc::pin_init(
            try_pin_init!(IdPool {
                used <- new_mutex!(used),
            }),
            GFP_KERNEL,
        )
    }

    fn alloc(self: &Arc<Self>) -> Result<DevId> {
        let mut used = self.used.lock();
        let id = match used.iter().position(|taken| !taken) {
            Some(free) => {
                used[free] = true;
                free
            }
            None => {
                used.push(true, GFP_KERNEL)?;
                used.len() - 1
            }
        };
        Ok(DevId {
            id: u32::try_from(id).map_err(|_| ENOSPC)?,
            pool: self.clone(),
        })
    }
}

/// A device's number, given back to its pool when the device's configuration goes.
struct DevId {
    id: u32,
    pool: Arc<IdPool>,
}

impl Drop for DevId {
    fn drop(&mut self) {
        if let Some(taken) = self.pool.used.lock().get_mut(self.id as usize) {
            *taken = false;
        }
    }
}

/// The configfs root: `mkdir` makes a device.
#[pin_data]
struct SimRoot {
    abi: Abi,
    ids: Arc<IdPool>,
}

#[vtable]
impl configfs::GroupOperations for SimRoot {
    type Child = DevItem;

    fn make_group(&self, name: &CStr) -> Result<impl PinInit<configfs::Group<DevItem>, Error>> {
        let tpe = configfs_attrs! {
            container: configfs::Group<DevItem>,
            data: DevItem,
            child: BankItem,
            attributes: [
                dev_name: 0,
                live: 1,
            ],
        };
        let id = self.ids.alloc()?;
        let state = Arc::pin_init(
            try_pin_init!(DevState {
                id,
                abi: self.abi,
                inner <- new_mutex!(DevInner {
                    live: None,
                    banks: KVec::new(),
                }),
            }),
            GFP_KERNEL,
        )?;
        Ok(configfs::Group::new(
            name.try_into()?,
            tpe,
            Ok::<_, Error>(DevItem { state }),
        ))
    }
}

/// A live device: its platform device, which owns the software nodes describing it, and the
/// node of each bank.
struct Live {
    pdev: platform::DeviceRegistration,
    banks: KVec<(Arc<BankState>, ARef<FwNode>)>,
}

impl Live {
    /// The name of the gpio device of `bank`'s chip, if the chip is registered: as gpio-sim, it
    /// is looked for among the children of the platform device.
    fn chip_name(&self, bank: &BankState) -> Option<CString> {
        let (_, node) = self.banks.iter().find(|(b, _)| core::ptr::eq(&**b, bank))?;
        let chip = self.pdev.device().find_child_by_fwnode(node)?;
        CString::try_from(chip.name()).ok()
    }
}

struct DevInner {
    live: Option<Live>,
    banks: KVec<Arc<BankState>>,
}

/// A device, shared by its configfs directory and those below it.
#[pin_data]
struct DevState {
    id: DevId,
    abi: Abi,
    #[pin]
    inner: Mutex<DevInner>,
}

impl DevState {
    /// The platform device's name, `<driver>.<id>`.
    fn dev_name(&self) -> Result<CString> {
        CString::try_from_fmt(fmt!("{}.{}", self.abi.driver_str(), self.id.id))
    }

    fn is_live(&self) -> bool {
        self.inner.lock().live.is_some()
    }

    /// Locks the device, or fails with `EBUSY` if it is live: held across a change of its
    /// configuration, as gpio-sim holds its device's lock.
    fn lock_not_live(&self) -> Result<MutexGuard<'_, DevInner>> {
        let inner = self.inner.lock();
        if inner.live.is_some() {
            return Err(EBUSY);
        }
        Ok(inner)
    }

    fn set_live(&self, live: bool) -> Result {
        let mut inner = self.inner.lock();
        if inner.live.is_some() == live {
            return Err(EPERM);
        }
        if !live {
            let gone = inner.live.take();
            drop(inner);
            drop(gone);
            return Ok(());
        }
        if inner.banks.is_empty() {
            return Err(ENODATA);
        }
        // Like gpio-sim: two banks of a device may not have the same written label (an empty
        // one too); banks without one are not compared.
        let mut labels = KVec::with_capacity(inner.banks.len(), GFP_KERNEL)?;
        for bank in inner.banks.iter() {
            labels.push(bank.written_label()?, GFP_KERNEL)?;
        }
        for (i, label) in labels.iter().enumerate() {
            let Some(label) = label else {
                continue;
            };
            if labels[..i]
                .iter()
                .flatten()
                .any(|other| other.to_bytes() == label.to_bytes())
            {
                return Err(EINVAL);
            }
        }
        let dev_name = self.dev_name()?;
        let mut root = SoftwareNode::new(&[])?;
        let mut banks = KVec::with_capacity(inner.banks.len(), GFP_KERNEL)?;
        for bank in inner.banks.iter() {
            let node = bank.add_node(&mut root, &dev_name, self.abi)?;
            banks.push((bank.clone(), node), GFP_KERNEL)?;
        }
        let pdev =
            platform::DeviceRegistration::new_with_node(self.abi.driver(), Some(self.id.id), root)?;
        if !pdev.is_bound() {
            // The probe failed (it said why in the kernel log).
            return Err(ENXIO);
        }
        inner.live = Some(Live { pdev, banks });
        Ok(())
    }
}

/// A device's configfs directory.
struct DevItem {
    state: Arc<DevState>,
}

impl Drop for DevItem {
    fn drop(&mut self) {
        // Removing the directory of a live device takes it down.
        let gone = self.state.inner.lock().live.take();
        drop(gone);
    }
}

#[vtable]
impl configfs::AttributeOperations<0> for DevItem {
    type Data = DevItem;

    fn show(this: &DevItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit(page, this.state.dev_name()?.to_bytes())
    }
}

#[vtable]
impl configfs::AttributeOperations<1> for DevItem {
    type Data = DevItem;

    fn show(this: &DevItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit_fmt(page, fmt!("{}", u8::from(this.state.is_live())))
    }

    fn store(this: &DevItem, page: &[u8]) -> Result {
        this.state.set_live(kstrtobool_bytes(page)?)
    }
}

#[vtable]
impl configfs::GroupOperations for DevItem {
    type Child = BankItem;

    fn make_group(&self, name: &CStr) -> Result<impl PinInit<configfs::Group<BankItem>, Error>> {
        let tpe = configfs_attrs! {
            container: configfs::Group<BankItem>,
            data: BankItem,
            child: LineItem,
            attributes: [
                chip_name: 0,
                label: 1,
                num_lines: 2,
            ],
        };
        let mut dev = self.state.inner.lock();
        if dev.live.is_some() {
            return Err(EBUSY);
        }
        let state = Arc::pin_init(
            try_pin_init!(BankState {
                dir: CString::try_from(name)?,
                inner <- new_mutex!(BankInner {
                    label: None,
                    num_lines: 1,
                    lines: KVec::new(),
                }),
            }),
            GFP_KERNEL,
        )?;
        dev.banks.push(state.clone(), GFP_KERNEL)?;
        Ok(configfs::Group::new(
            name.try_into()?,
            tpe,
            Ok::<_, Error>(BankItem {
                state,
                dev: self.state.clone(),
            }),
        ))
    }
}

struct BankInner {
    label: Option<CString>,
    num_lines: u32,
    lines: KVec<Arc<LineState>>,
}

/// A bank, shared by its configfs directory, those below it and a live device.
#[pin_data]
struct BankState {
    dir: CString,
    #[pin]
    inner: Mutex<BankInner>,
}

impl BankState {
    /// The label written to `label`, if any (possibly empty).
    fn written_label(&self) -> Result<Option<CString>> {
        Ok(match &self.inner.lock().label {
            Some(label) => Some(CString::try_from(&**label)?),
            None => None,
        })
    }

    /// Describes the bank in a child of `root`, as gpio-sim does: its line count, its label,
    /// the names of its lines, its invalid lines, and a child of its own per hog. Returns the
    /// bank's node.
    fn add_node(&self, root: &mut SoftwareNode, dev_name: &CStr, abi: Abi) -> Result<ARef<FwNode>> {
        let inner = self.inner.lock();
        let num_lines = inner.num_lines;
        let label = match &inner.label {
            Some(label) if !label.to_bytes().is_empty() => Some(CString::try_from(&**label)?),
            // gpio-sim leaves the label to its probe, which names the bank after its node.
            _ if abi == Abi::GpioSim => None,
            _ => Some(CString::try_from_fmt(fmt!(
                "{}:{}",
                BStr::from_bytes(dev_name.to_bytes()),
                BStr::from_bytes(self.dir.to_bytes())
            ))?),
        };
        let mut names: KVec<Option<CString>> = KVec::new();
        let mut ranges = KVec::new();
        let mut hogs = KVec::new();
        for line in inner.lines.iter() {
            let l = line.inner.lock();
            if let Some(name) = &l.name {
                if line.offset < num_lines {
                    let offset = line.offset as usize;
                    while names.len() <= offset {
                        names.push(None, GFP_KERNEL)?;
                    }
                    names[offset] = Some(CString::try_from(&**name)?);
                }
            }
            if !l.valid {
                ranges.push(line.offset, GFP_KERNEL)?;
                ranges.push(1, GFP_KERNEL)?;
            }
            if let Some(hog) = &l.hog {
                let h = hog.inner.lock();
                let name = match &h.name {
                    Some(n) => Some(CString::try_from(&**n)?),
                    None => None,
                };
                hogs.push(
                    (line.offset, u32::from(h.active_low), name, h.direction),
                    GFP_KERNEL,
                )?;
            }
        }
        drop(inner);
        let mut name_refs = KVec::with_capacity(names.len(), GFP_KERNEL)?;
        for name in names.iter() {
            name_refs.push(name.as_deref(), GFP_KERNEL)?;
        }
        let mut entries = KVec::with_capacity(4, GFP_KERNEL)?;
        entries.push(Entry::U32(c"ngpios", num_lines), GFP_KERNEL)?;
        if let Some(label) = &label {
            entries.push(Entry::String(c"gpio-sim,label", Some(&**label)), GFP_KERNEL)?;
        }
        if !name_refs.is_empty() {
            entries.push(
                Entry::StringArray(c"gpio-line-names", &name_refs),
                GFP_KERNEL,
            )?;
        }
        if !ranges.is_empty() {
            entries.push(
                Entry::U32Array(c"gpio-reserved-ranges", &ranges),
                GFP_KERNEL,
            )?;
        }
        let bank = root.add_child(&entries)?;
        for (offset, active_low, name, direction) in hogs.iter() {
            let gpios = [*offset, *active_low];
            bank.add_child(&[
                Entry::Bool(c"gpio-hog"),
                Entry::U32Array(c"gpios", &gpios),
                Entry::String(c"line-name", name.as_deref()),
                Entry::Bool(direction.property()),
            ])?;
        }
        Ok(ARef::from(bank.fwnode()))
    }
}

/// A bank's configfs directory.
struct BankItem {
    state: Arc<BankState>,
    dev: Arc<DevState>,
}

impl Drop for BankItem {
    fn drop(&mut self) {
        let me = &self.state;
        self.dev
            .inner
            .lock()
            .banks
            .retain(|b| !core::ptr::eq(&**b, &**me));
    }
}

#[vtable]
impl configfs::AttributeOperations<0> for BankItem {
    type Data = BankItem;

    fn show(this: &BankItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        let dev = this.dev.inner.lock();
        let Some(live) = &dev.live else {
            return emit(page, b"none");
        };
        match live.chip_name(&this.state) {
            Some(name) => emit(page, name.to_bytes()),
            // gpio-sim finds no chip among the children of a live device that is unbound.
            None if this.dev.abi == Abi::GpioSim => Ok(0),
            None => emit(page, b"none"),
        }
    }
}

#[vtable]
impl configfs::AttributeOperations<1> for BankItem {
    type Data = BankItem;

    fn show(this: &BankItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit(page, name_bytes(&this.state.inner.lock().label))
    }

    fn store(this: &BankItem, page: &[u8]) -> Result {
        let _dev = this.dev.lock_not_live()?;
        this.state.inner.lock().label = Some(parse_name(page)?);
        Ok(())
    }
}

#[vtable]
impl configfs::AttributeOperations<2> for BankItem {
    type Data = BankItem;

    fn show(this: &BankItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit_fmt(page, fmt!("{}", this.state.inner.lock().num_lines))
    }

    fn store(this: &BankItem, page: &[u8]) -> Result {
        // As gpio-sim: `EINVAL`/`ERANGE` first, then `EBUSY`.
        let num = parse_uint(page)?;
        if num == 0 {
            return Err(EINVAL);
        }
        let _dev = this.dev.lock_not_live()?;
        this.state.inner.lock().num_lines = num;
        Ok(())
    }
}

#[vtable]
impl configfs::GroupOperations for BankItem {
    type Child = LineItem;

    fn make_group(&self, name: &CStr) -> Result<impl PinInit<configfs::Group<LineItem>, Error>> {
        let tpe = configfs_attrs! {
            container: configfs::Group<LineItem>,
            data: LineItem,
            child: HogItem,
            attributes: [
                name: 0,
                valid: 1,
            ],
        };
        let offset = parse_line_dir(name.to_bytes())?;
        let dev = self.dev.inner.lock();
        if dev.live.is_some() {
            return Err(EBUSY);
        }
        let state = Arc::pin_init(
            try_pin_init!(LineState {
                offset,
                inner <- new_mutex!(LineInner {
                    name: None,
                    valid: true,
                    hog: None,
                }),
            }),
            GFP_KERNEL,
        )?;
        self.state
            .inner
            .lock()
            .lines
            .push(state.clone(), GFP_KERNEL)?;
        Ok(configfs::Group::new(
            name.try_into()?,
            tpe,
            Ok::<_, Error>(LineItem {
                state,
                bank: self.state.clone(),
                dev: self.dev.clone(),
            }),
        ))
    }
}

struct LineInner {
    name: Option<CString>,
    valid: bool,
    hog: Option<Arc<HogState>>,
}

/// A line's configuration, shared by its configfs directory and its bank.
#[pin_data]
struct LineState {
    offset: u32,
    #[pin]
    inner: Mutex<LineInner>,
}

/// A line's configfs directory.
struct LineItem {
    state: Arc<LineState>,
    bank: Arc<BankState>,
    dev: Arc<DevState>,
}

impl Drop for LineItem {
    fn drop(&mut self) {
        let me = &self.state;
        self.bank
            .inner
            .lock()
            .lines
            .retain(|l| !core::ptr::eq(&**l, &**me));
    }
}

#[vtable]
impl configfs::AttributeOperations<0> for LineItem {
    type Data = LineItem;

    fn show(this: &LineItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit(page, name_bytes(&this.state.inner.lock().name))
    }

    fn store(this: &LineItem, page: &[u8]) -> Result {
        let _dev = this.dev.lock_not_live()?;
        this.state.inner.lock().name = Some(parse_name(page)?);
        Ok(())
    }
}

#[vtable]
impl configfs::AttributeOperations<1> for LineItem {
    type Data = LineItem;

    fn show(this: &LineItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit_fmt(page, fmt!("{}", u8::from(this.state.inner.lock().valid)))
    }

    fn store(this: &LineItem, page: &[u8]) -> Result {
        // As with gpio-sim, this may change while live (it takes effect at the next `live`).
        this.state.inner.lock().valid = kstrtobool_bytes(page)?;
        Ok(())
    }
}

#[vtable]
impl configfs::GroupOperations for LineItem {
    type Child = HogItem;

    fn make_group(&self, name: &CStr) -> Result<impl PinInit<configfs::Group<HogItem>, Error>> {
        let tpe = configfs_attrs! {
            container: configfs::Group<HogItem>,
            data: HogItem,
            attributes: [
                name: 0,
                direction: 1,
                active_low: 2,
            ],
        };
        if name.to_bytes() != b"hog" {
            return Err(EINVAL);
        }
        let state = Arc::pin_init(
            try_pin_init!(HogState {
                inner <- new_mutex!(HogInner {
                    name: None,
                    direction: HogDirection::Input,
                    active_low: false,
                }),
            }),
            GFP_KERNEL,
        )?;
        self.state.inner.lock().hog = Some(state.clone());
        Ok(configfs::Group::new(
            name.try_into()?,
            tpe,
            Ok::<_, Error>(HogItem {
                state,
                line: self.state.clone(),
                dev: self.dev.clone(),
            }),
        ))
    }
}

struct HogInner {
    name: Option<CString>,
    direction: HogDirection,
    active_low: bool,
}

/// A hog's configuration, shared by its configfs directory and its line.
#[pin_data]
struct HogState {
    #[pin]
    inner: Mutex<HogInner>,
}

/// A hog's configfs directory.
struct HogItem {
    state: Arc<HogState>,
    line: Arc<LineState>,
    dev: Arc<DevState>,
}

impl Drop for HogItem {
    fn drop(&mut self) {
        let mut line = self.line.inner.lock();
        if line
            .hog
            .as_ref()
            .is_some_and(|h| core::ptr::eq(&**h, &*self.state))
        {
            line.hog = None;
        }
    }
}

#[vtable]
impl configfs::AttributeOperations<0> for HogItem {
    type Data = HogItem;

    fn show(this: &HogItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit(page, name_bytes(&this.state.inner.lock().name))
    }

    fn store(this: &HogItem, page: &[u8]) -> Result {
        let _dev = this.dev.lock_not_live()?;
        this.state.inner.lock().name = Some(parse_name(page)?);
        Ok(())
    }
}

#[vtable]
impl configfs::AttributeOperations<1> for HogItem {
    type Data = HogItem;

    fn show(this: &HogItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        let text: &[u8] = match this.state.inner.lock().direction {
            HogDirection::Input => b"input",
            HogDirection::OutputHigh => b"output-high",
            HogDirection::OutputLow => b"output-low",
        };
        emit(page, text)
    }

    fn store(this: &HogItem, page: &[u8]) -> Result {
        // As gpio-sim: `EBUSY` first, then `sysfs_streq()`.
        let _dev = this.dev.lock_not_live()?;
        let direction = if sysfs_streq(page, b"input") {
            HogDirection::Input
        } else if sysfs_streq(page, b"output-high") {
            HogDirection::OutputHigh
        } else if sysfs_streq(page, b"output-low") {
            HogDirection::OutputLow
        } else {
            return Err(EINVAL);
        };
        this.state.inner.lock().direction = direction;
        Ok(())
    }
}

#[vtable]
impl configfs::AttributeOperations<2> for HogItem {
    type Data = HogItem;

    fn show(this: &HogItem, page: &mut [u8; PAGE_SIZE]) -> Result<usize> {
        emit_fmt(
            page,
            fmt!("{}", u8::from(this.state.inner.lock().active_low)),
        )
    }

    fn store(this: &HogItem, page: &[u8]) -> Result {
        let _dev = this.dev.lock_not_live()?;
        this.state.inner.lock().active_low = kstrtobool_bytes(page)?;
        Ok(())
    }
}

/// A device the module creates by itself (module parameters `chips` and `lines`): one bank of
/// `lines` lines, labelled after the device.
struct FixedDevice {
    _pdev: platform::DeviceRegistration,
}

impl FixedDevice {
    fn new(abi: Abi, id: u32, lines: u32) -> Result<Self> {
        let dev_name = CString::try_from_fmt(fmt!("{}.{}", abi.driver_str(), id))?;
        let mut root = SoftwareNode::new(&[])?;
        root.add_child(&[
            Entry::U32(c"ngpios", lines),
            Entry::String(c"gpio-sim,label", Some(&*dev_name)),
        ])?;
        Ok(Self {
            _pdev: platform::DeviceRegistration::new_with_node(abi.driver(), Some(id), root)?,
        })
    }
}

#[pin_data]
struct GpioSimRsModule {
    // Dropped first: unregistering the driver unbinds (and so revokes) every chip.
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<GpioSimRs>>,
    _devices: KVec<FixedDevice>,
    #[pin]
    _configfs: configfs::Subsystem<SimRoot>,
}

impl kernel::InPlaceModule for GpioSimRsModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let root = configfs_attrs! {
            container: configfs::Subsystem<SimRoot>,
            data: SimRoot,
            child: DevItem,
            attributes: [],
        };
        let abi = if module_parameters::as_gpio_sim.value() {
            Abi::GpioSim
        } else {
            Abi::Native
        };
        let chips = module_parameters::chips.value();
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(abi.driver(), module),
            _devices: {
                let mut devices = KVec::new();
                for id in 0..chips {
                    devices.push(
                        FixedDevice::new(abi, id, module_parameters::lines.value())?,
                        GFP_KERNEL,
                    )?;
                }
                devices
            },
            // Devices made in configfs take the lowest numbers the fixed ones left.
            _configfs <- configfs::Subsystem::new(
                abi.subsystem(),
                root,
                try_pin_init!(SimRoot {
                    abi,
                    ids: IdPool::new(chips)?,
                }),
            ),
        })
    }
}

module! {
    type: GpioSimRsModule,
    name: "gpio_sim_rs",
    authors: ["resmgr developers"],
    description: "GPIO simulator in Rust with gpio-sim's configfs ABI, safe across unbind",
    license: "GPL",
    params: {
        chips: u32 {
            default: 1,
            description: "Number of simulated chips the module creates itself (<driver>.N)",
        },
        lines: u32 {
            default: 8,
            description: "Number of lines of each of those chips",
        },
        as_gpio_sim: bool {
            default: false,
            description: "Stand in for gpio-sim: its configfs subsystem, driver and device names",
        },
    },
}
