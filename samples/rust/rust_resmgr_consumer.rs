// SPDX-License-Identifier: GPL-2.0

//! Rust resource manager sample: a consumer.
//!
//! The smallest complete consumer: it looks up line 0 of the GPIO chip `rust-resmgr-sample` (see
//! `rust_resmgr_provider`) when loaded, reads it, and asks to be told when the provider goes away.
//! It keeps the handle as long as it is loaded, however long the provider stays: reading it again
//! when the module is unloaded gives the value, or `ENODEV` if the provider was unbound meanwhile.

use kernel::{
    prelude::*,
    resmgr::{
        gpio::{
            GpioChip,
            Line, //
        },
        Notice, RevokeNotify,
    },
    sync::Arc,
};

/// Logs the provider's revocation (runs once, in the unbinding thread).
struct Told;

impl RevokeNotify for Told {
    fn revoked(&self) {
        pr_info!("provider revoked: line 0 is gone\n");
    }
}

struct SampleConsumer {
    line: Line,
    _notice: Notice<GpioChip>,
}

impl kernel::Module for SampleConsumer {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let line = Line::lookup(c"rust-resmgr-sample", 0).inspect_err(|e| {
            pr_err!(
                "no provider (is rust_resmgr_provider loaded?): {}\n",
                e.to_errno()
            );
        })?;
        pr_info!("line 0 reads {}\n", u8::from(line.get()?));
        let notice = line.notify_on_revoke(Arc::new(Told, GFP_KERNEL)?)?;
        Ok(Self {
            line,
            _notice: notice,
        })
    }
}

impl Drop for SampleConsumer {
    fn drop(&mut self) {
        match self.line.get() {
            Ok(value) => pr_info!("line 0 still reads {}\n", u8::from(value)),
            Err(e) if e == ENODEV => pr_info!("line 0 answers ENODEV now\n"),
            Err(e) => pr_info!("line 0 answers error {}\n", e.to_errno()),
        }
    }
}

module! {
    type: SampleConsumer,
    name: "rust_resmgr_consumer",
    authors: ["resmgr developers"],
    description: "Rust resource manager sample: a consumer",
    license: "GPL",
}
