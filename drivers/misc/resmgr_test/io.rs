// SPDX-License-Identifier: GPL-2.0

//! Two devices that do the same work, for `make bench`: `/dev/resmgr-test-io` through the
//! revocable adapter, and `/dev/resmgr-test-io-plain` as a plain misc device.
//!
//! Each file has a buffer of [`IO_SIZE`] bytes: `read()` copies it out from the file position,
//! `write()` copies into it at the file position (`ENOSPC` at its end).

use kernel::{
    fs::{
        File,
        Kiocb, //
    },
    iov::{
        IovIterDest,
        IovIterSource, //
    },
    miscdevice::{
        MiscDevice,
        MiscDeviceRegistration, //
    },
    new_mutex,
    prelude::*,
    resmgr::chardev::{
        Access,
        ChardevOps, //
    },
    sync::Mutex,
};

/// Size of a file's buffer (`RESMGR_TEST_IO_SIZE`).
pub(crate) const IO_SIZE: usize = 4096;

/// A file's buffer.
#[pin_data]
pub(crate) struct IoBuffer {
    #[pin]
    data: Mutex<KVec<u8>>,
}

impl IoBuffer {
    fn new() -> Result<Pin<KBox<Self>>> {
        let mut data = KVec::with_capacity(IO_SIZE, GFP_KERNEL)?;
        data.resize(IO_SIZE, 0, GFP_KERNEL)?;
        KBox::pin_init(
            pin_init!(Self {
                data <- new_mutex!(data),
            }),
            GFP_KERNEL,
        )
    }

    fn read(&self, buf: &mut IovIterDest<'_>, pos: &mut i64) -> Result<usize> {
        buf.simple_read_from_buffer(pos, &self.data.lock())
    }

    fn write(&self, buf: &mut IovIterSource<'_>, pos: &mut i64) -> Result<usize> {
        let start = usize::try_from(*pos).map_err(|_| EINVAL)?;
        let mut data = self.data.lock();
        let room = data.get_mut(start..).filter(|room| !room.is_empty());
        let copied = buf.copy_from_iter(room.ok_or(ENOSPC)?);
        *pos += copied as i64;
        Ok(copied)
    }
}

/// `/dev/resmgr-test-io`: the buffer behind the revocable adapter.
pub(crate) struct RevocableIo;

#[vtable]
impl ChardevOps for RevocableIo {
    type File = Pin<KBox<IoBuffer>>;

    fn open(&self, _file: &File) -> Result<Self::File> {
        IoBuffer::new()
    }

    fn read(
        _this: Access<'_, Self>,
        file: &Self::File,
        buf: &mut IovIterDest<'_>,
        pos: &mut i64,
    ) -> Result<usize> {
        file.read(buf, pos)
    }

    fn write(
        _this: Access<'_, Self>,
        file: &Self::File,
        buf: &mut IovIterSource<'_>,
        pos: &mut i64,
    ) -> Result<usize> {
        file.write(buf, pos)
    }
}

/// `/dev/resmgr-test-io-plain`: the same buffer as a plain misc device.
pub(crate) struct PlainIo;

#[vtable]
impl MiscDevice for PlainIo {
    type Ptr = Pin<KBox<IoBuffer>>;

    fn open(_file: &File, _misc: &MiscDeviceRegistration<Self>) -> Result<Self::Ptr> {
        IoBuffer::new()
    }

    fn read_iter(mut kiocb: Kiocb<'_, Self::Ptr>, buf: &mut IovIterDest<'_>) -> Result<usize> {
        let file = kiocb.file();
        file.read(buf, kiocb.ki_pos_mut())
    }

    fn write_iter(mut kiocb: Kiocb<'_, Self::Ptr>, buf: &mut IovIterSource<'_>) -> Result<usize> {
        let file = kiocb.file();
        file.write(buf, kiocb.ki_pos_mut())
    }
}
