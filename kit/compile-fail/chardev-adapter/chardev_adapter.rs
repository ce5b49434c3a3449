// SPDX-License-Identifier: GPL-2.0

//! Must not compile: registers the revocable chardev adapter as a plain misc device.
//!
//! The adapter's `open` finds the `resmgr::chardev` registration around the misc device with
//! `container_of!`; registered any other way, that would read the wrong object. So the
//! adapter is private to the kernel crate, and this module fails with E0603.
//!
//! expect: E0603

use kernel::{
    fs::File,
    miscdevice::{
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    prelude::*,
    resmgr::chardev::{
        Adapter,
        ChardevOps, //
    },
};

struct Dev;

#[vtable]
impl ChardevOps for Dev {
    type File = ();

    fn open(&self, _file: &File) -> Result {
        Ok(())
    }
}

module! {
    type: Misuse,
    name: "chardev_adapter",
    authors: ["resmgr developers"],
    description: "registers the chardev adapter outside a registration",
    license: "GPL",
}

struct Misuse {
    _misc: Pin<KBox<MiscDeviceRegistration<Adapter<Dev>>>>,
}

impl kernel::Module for Misuse {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _misc: KBox::pin_init(
                MiscDeviceRegistration::register(MiscDeviceOptions {
                    name: c"resmgr-misuse",
                }),
                GFP_KERNEL,
            )?,
        })
    }
}
