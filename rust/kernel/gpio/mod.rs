// SPDX-License-Identifier: GPL-2.0

//! General Purpose I/O.
//!
//! [`consumer`] is the API of drivers that use GPIO lines, [`driver`] that of drivers that
//! provide GPIO chips, and [`sim`] what a GPIO simulator adds to its chips. As in C, consumers
//! use every chip through gpiolib, whatever its driver is written in.
//!
//! C headers: [`include/linux/gpio/consumer.h`](srctree/include/linux/gpio/consumer.h),
//! [`include/linux/gpio/driver.h`](srctree/include/linux/gpio/driver.h)

pub mod consumer;
#[cfg(CONFIG_RUST_RESMGR)]
pub mod driver;
#[cfg(CONFIG_RUST_RESMGR)]
pub mod sim;
