// SPDX-License-Identifier: GPL-2.0

//! General Purpose I/O.
//!
//! [`consumer`] is the API of drivers that use GPIO lines. Drivers that provide GPIO chips
//! register them with [`resmgr::gpio`](crate::resmgr::gpio).
//!
//! C header: [`include/linux/gpio/consumer.h`](srctree/include/linux/gpio/consumer.h)

pub mod consumer;
