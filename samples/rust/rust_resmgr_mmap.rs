// SPDX-License-Identifier: GPL-2.0

//! Rust resource manager sample: a buffer that processes map, and that survives its driver.
//!
//! A platform driver (bound to a device the module creates) registers `/dev/rust-resmgr-mmap`, a
//! buffer of [`PAGES`] pages that every process mapping the file shares, as a camera or a GPU
//! shares its buffers. The driver owns the pages and hands them to the page fault handler one by
//! one ([`ChardevOps::fault`]) and never maps them itself.
//!
//! Unbinding the device while processes map it (writing `rust_resmgr_mmap` to
//! `/sys/bus/platform/drivers/rust_resmgr_mmap/unbind`) is safe: [`kernel::resmgr::chardev`] takes
//! the pages out of every mapping before the driver's data, and with it the pages, is dropped. A
//! process that touches its mapping afterwards gets `SIGBUS`, and any other call on its file
//! `ENODEV`.

use kernel::{
    device::Core,
    fs::File,
    mm::virt::VmaNew,
    page::Page,
    platform,
    prelude::*,
    resmgr::chardev::{
        self,
        ChardevOps, //
    },
};

/// Size of the buffer, in pages.
const PAGES: usize = 4;

/// The device's data: the buffer's pages, dropped once no process maps them any more.
struct Buffer {
    pages: KVec<Page>,
}

impl Buffer {
    fn new() -> Result<Self> {
        let mut pages = KVec::with_capacity(PAGES, GFP_KERNEL)?;
        for _ in 0..PAGES {
            // Zeroed: a mapping must never show what the memory held before.
            pages.push(Page::alloc_page(GFP_KERNEL | __GFP_ZERO)?, GFP_KERNEL)?;
        }
        Ok(Self { pages })
    }
}

#[vtable]
impl ChardevOps for Buffer {
    type File = ();

    fn open(&self, _file: &File) -> Result {
        Ok(())
    }

    /// Maps data, never code.
    fn mmap(&self, _file: &(), vma: &VmaNew) -> Result {
        if vma.executable() {
            return Err(EINVAL);
        }
        vma.try_clear_mayexec()
    }

    /// The page at `pgoff`; past the buffer the process gets `SIGBUS`.
    fn fault(&self, _file: &(), pgoff: usize) -> Option<&Page> {
        self.pages.get(pgoff)
    }

    /// The buffer's size, so that `lseek(fd, 0, SEEK_END)` tells a process how much to map.
    fn size(&self, _file: &()) -> i64 {
        (PAGES * kernel::page::PAGE_SIZE) as i64
    }
}

struct BufferDriver;

impl platform::Driver for BufferDriver {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let dev = pdev.as_ref();
        // Revoked, unmapped and deregistered by devres on unbind.
        chardev::register(dev, c"rust-resmgr-mmap", Buffer::new())?;
        Ok(BufferDriver)
    }
}

#[pin_data]
struct BufferModule {
    #[pin]
    _driver: kernel::driver::Registration<platform::Adapter<BufferDriver>>,
    _device: platform::DeviceRegistration,
}

impl kernel::InPlaceModule for BufferModule {
    fn init(module: &'static ThisModule) -> impl PinInit<Self, Error> {
        try_pin_init!(Self {
            _driver <- kernel::driver::Registration::new(c"rust_resmgr_mmap", module),
            _device: platform::DeviceRegistration::new(c"rust_resmgr_mmap", None)?,
        })
    }
}

module! {
    type: BufferModule,
    name: "rust_resmgr_mmap",
    authors: ["resmgr developers"],
    description: "Rust resource manager sample: a revocable mappable buffer",
    license: "GPL",
}
