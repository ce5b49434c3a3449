// SPDX-License-Identifier: GPL-2.0

//! Software nodes: firmware nodes that code creates at run time.
//!
//! A driver that creates devices for hardware no firmware describes (a simulator, a board file)
//! describes them with software nodes, which the devices' drivers read as any firmware node, and
//! which subsystem cores read too (gpiolib takes `gpio-line-names`, `gpio-reserved-ranges` and
//! `gpio-hog` children from a chip's node).
//!
//! C header: [`include/linux/property.h`](srctree/include/linux/property.h)

use super::FwNode;
use crate::{
    bindings,
    error::from_err_ptr,
    prelude::*, //
};
use core::ptr::{
    self,
    NonNull, //
};

/// A property of a software node: its name and its value.
///
/// The node keeps a copy of both: the strings and arrays need to live only until the node is
/// created.
#[derive(Clone, Copy, Debug)]
pub enum Entry<'a> {
    /// A boolean property: present, with no value.
    Bool(&'a CStr),
    /// A `u32`.
    U32(&'a CStr, u32),
    /// An array of `u32`s (not empty).
    U32Array(&'a CStr, &'a [u32]),
    /// A string, possibly absent (a null string, which a reader gets as no string).
    String(&'a CStr, Option<&'a CStr>),
    /// An array of strings (not empty), some possibly absent.
    StringArray(&'a CStr, &'a [Option<&'a CStr>]),
}

impl Entry<'_> {
    /// The name of the property.
    fn name(&self) -> &CStr {
        match self {
            Entry::Bool(n)
            | Entry::U32(n, _)
            | Entry::U32Array(n, _)
            | Entry::String(n, _)
            | Entry::StringArray(n, _) => n,
        }
    }
}

/// Returns the C string pointer of `s`, null for `None`.
fn c_str_ptr(s: Option<&CStr>) -> *const c_char {
    s.map_or(ptr::null(), |s| s.as_char_ptr())
}

/// A software node created at run time, removed with its children when dropped.
///
/// # Examples
///
/// ```
/// use kernel::{
///     device::property::swnode::{Entry, SoftwareNode},
///     str::CString,
/// };
///
/// let mut root = SoftwareNode::new(&[])?;
/// let names = [Some(c"reset"), None, Some(c"enable")];
/// let bank = root.add_child(&[
///     Entry::U32(c"ngpios", 8),
///     Entry::String(c"label", Some(c"bank0")),
///     Entry::StringArray(c"gpio-line-names", &names),
///     Entry::Bool(c"simulated"),
/// ])?;
/// let node = bank.fwnode();
/// assert_eq!(node.property_read::<u32>(c"ngpios").optional(), Some(8));
/// assert!(node.property_read_bool(c"simulated"));
/// assert!(!node.property_read_bool(c"missing"));
/// let label = node.property_read::<CString>(c"label").optional().ok_or(EINVAL)?;
/// assert_eq!(label.to_bytes(), b"bank0");
/// assert_eq!(root.fwnode().children().count(), 1);
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `fwnode` is a software node from `fwnode_create_software_node()` whose creation reference is
/// owned by `self`; each of `children` was created with it as parent.
pub struct SoftwareNode {
    fwnode: NonNull<bindings::fwnode_handle>,
    children: KVec<SoftwareNode>,
}

// SAFETY: A software node may be used and removed from any thread.
unsafe impl Send for SoftwareNode {}
// SAFETY: `&self` methods only read the node, which the property functions allow from any thread.
unsafe impl Sync for SoftwareNode {}

impl SoftwareNode {
    /// Creates a node with no parent and the properties `entries`.
    pub fn new(entries: &[Entry<'_>]) -> Result<Self> {
        // SAFETY: A null parent is allowed.
        unsafe { Self::create(entries, ptr::null()) }
    }

    /// Creates a child of this node with the properties `entries`, removed with this node, and
    /// returns it.
    pub fn add_child(&mut self, entries: &[Entry<'_>]) -> Result<&mut SoftwareNode> {
        self.children.reserve(1, GFP_KERNEL)?;
        // SAFETY: `self.fwnode` is a valid node (type invariants), which outlives the child: it
        // removes its children before itself.
        let child = unsafe { Self::create(entries, self.fwnode.as_ptr()) }?;
        // INVARIANT: Created with this node as parent.
        self.children.push(child, GFP_KERNEL)?;
        let last = self.children.len() - 1;
        Ok(&mut self.children[last])
    }

    /// Returns the node as a firmware node.
    pub fn fwnode(&self) -> &FwNode {
        // SAFETY: `fwnode` is valid while `self` owns its creation reference (type invariants);
        // `FwNode` is a transparent wrapper of `struct fwnode_handle`.
        unsafe { &*self.fwnode.as_ptr().cast::<FwNode>() }
    }

    /// Creates a node.
    ///
    /// # Safety
    ///
    /// `parent` must be null or a valid node that outlives the new one.
    unsafe fn create(
        entries: &[Entry<'_>],
        parent: *const bindings::fwnode_handle,
    ) -> Result<Self> {
        // The arrays of string pointers, which the entries point into; none is grown after the
        // pointers were taken.
        let mut strings: KVec<KVec<*const c_char>> =
            KVec::with_capacity(entries.len(), GFP_KERNEL)?;
        // One more, zeroed: the terminator.
        let mut props: KVec<bindings::property_entry> =
            KVec::with_capacity(entries.len() + 1, GFP_KERNEL)?;
        for entry in entries {
            let mut p: bindings::property_entry = pin_init::zeroed();
            p.name = entry.name().as_char_ptr();
            match *entry {
                // As `PROPERTY_ENTRY_BOOL()`.
                Entry::Bool(_) => p.is_inline = true,
                // As `PROPERTY_ENTRY_U32()`.
                Entry::U32(_, value) => {
                    let mut inline: bindings::property_entry__bindgen_ty_1__bindgen_ty_1 =
                        pin_init::zeroed();
                    inline.u32_data = [value, 0];
                    p.length = size_of::<u32>();
                    p.is_inline = true;
                    p.type_ = bindings::dev_prop_type_DEV_PROP_U32;
                    p.__bindgen_anon_1.value = inline;
                }
                // As `PROPERTY_ENTRY_U32_ARRAY_LEN()`.
                Entry::U32Array(_, values) => {
                    if values.is_empty() {
                        return Err(EINVAL);
                    }
                    p.length = size_of_val(values);
                    p.type_ = bindings::dev_prop_type_DEV_PROP_U32;
                    p.__bindgen_anon_1.pointer = values.as_ptr().cast();
                }
                // As `PROPERTY_ENTRY_STRING()`.
                Entry::String(_, value) => {
                    let mut inline: bindings::property_entry__bindgen_ty_1__bindgen_ty_1 =
                        pin_init::zeroed();
                    inline.str_ = [c_str_ptr(value)];
                    p.length = size_of::<*const c_char>();
                    p.is_inline = true;
                    p.type_ = bindings::dev_prop_type_DEV_PROP_STRING;
                    p.__bindgen_anon_1.value = inline;
                }
                // As `PROPERTY_ENTRY_STRING_ARRAY_LEN()`.
                Entry::StringArray(_, values) => {
                    if values.is_empty() {
                        return Err(EINVAL);
                    }
                    let mut ptrs = KVec::with_capacity(values.len(), GFP_KERNEL)?;
                    for value in values {
                        ptrs.push(c_str_ptr(*value), GFP_KERNEL)?;
                    }
                    p.length = size_of_val(&*ptrs);
                    p.type_ = bindings::dev_prop_type_DEV_PROP_STRING;
                    p.__bindgen_anon_1.pointer = ptrs.as_ptr().cast();
                    // Moving the vector keeps its buffer where it is.
                    strings.push(ptrs, GFP_KERNEL)?;
                }
            }
            props.push(p, GFP_KERNEL)?;
        }
        props.push(pin_init::zeroed(), GFP_KERNEL)?;
        // SAFETY: `props` is a terminated array of entries whose names, strings and arrays live
        // until this call returns (the core copies them all); `parent` is null or valid (safety
        // requirements).
        let raw = unsafe { bindings::fwnode_create_software_node(props.as_ptr(), parent) };
        let fwnode = from_err_ptr(raw)?;
        // INVARIANT: A new node whose creation reference is ours, with no children yet.
        Ok(Self {
            fwnode: NonNull::new(fwnode).ok_or(ENOMEM)?,
            children: KVec::new(),
        })
    }
}

impl Drop for SoftwareNode {
    fn drop(&mut self) {
        // The children first, as `fwnode_remove_software_node()` of a node expects.
        self.children.clear();
        // SAFETY: By the type invariants the creation reference is ours; it is given back once.
        unsafe { bindings::fwnode_remove_software_node(self.fwnode.as_ptr()) };
    }
}
