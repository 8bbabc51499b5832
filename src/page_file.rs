//! The backing file: positional reads and writes through `wasi:filesystem` descriptors.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, OpenFlags, PathFlags,
};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::bounds::PAGE_SIZE;
use crate::error::{io, io_detail};
use crate::preopen::resolve;

/// The largest piece one `wasi:filesystem` read asks for; larger reads are assembled from
/// pieces in a buffer reserved up front, so an impossible length is an error, not a trap.
const READ_PIECE: u64 = 1 << 20;

/// An open page file: the descriptor and the path it was opened with, for error messages.
pub struct PageFile {
    descriptor: Descriptor,
    path: String,
    pages: u64,
}

impl PageFile {
    /// Opens or creates the file at `path`, found through the preopened directories.
    ///
    /// Only `read | write` descriptor flags are asked for, so hosts that refuse the
    /// directory-mutation or sync flags on open (such as jco) open the file too.
    pub fn open(path: &str) -> Result<Self, MemoryError> {
        let preopens = get_directories();
        let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
        let (index, relative) = resolve(&names, path)
            .ok_or_else(|| io_detail(path, "no preopened directory holds this path"))?;
        if relative.is_empty() {
            return Err(io_detail(path, "names a preopened directory, not a file"));
        }
        let directory = &preopens[index].0;
        let descriptor = directory
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &relative,
                OpenFlags::CREATE,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
            .map_err(|code| io(path, "open", code))?;
        let stat = descriptor.stat().map_err(|code| io(path, "stat", code))?;
        if stat.type_ != DescriptorType::RegularFile {
            return Err(io_detail(path, "is not a regular file"));
        }
        if stat.size % PAGE_SIZE != 0 {
            return Err(MemoryError::MisalignedFile(stat.size));
        }
        Ok(Self {
            descriptor,
            path: path.to_owned(),
            pages: stat.size / PAGE_SIZE,
        })
    }

    /// The page count found when the file was opened.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// Sets the file's length; new bytes read as zeros (the file stays sparse).
    pub fn set_size(&self, size: u64) -> Result<(), MemoryError> {
        self.descriptor
            .set_size(size)
            .map_err(|code| io(&self.path, "resize", code))
    }

    /// Reads exactly `len` bytes at `offset`; the caller has checked the range.
    pub fn read_exact_at(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        if len <= READ_PIECE {
            let (bytes, _) = self.read_piece(offset, len)?;
            if bytes.len() as u64 == len {
                return Ok(bytes);
            }
        }
        let capacity = usize::try_from(len)
            .map_err(|_| io_detail(&self.path, "read is larger than the address space"))?;
        let mut out = Vec::new();
        out.try_reserve_exact(capacity)
            .map_err(|_| io_detail(&self.path, &format!("cannot allocate {len} bytes")))?;
        while (out.len() as u64) < len {
            let done = out.len() as u64;
            let (bytes, _) = self.read_piece(offset + done, (len - done).min(READ_PIECE))?;
            if bytes.is_empty() {
                return Err(io_detail(&self.path, "file ended before the memory's size"));
            }
            out.extend_from_slice(&bytes);
        }
        Ok(out)
    }

    /// Writes all of `data` at `offset`; the caller has checked the range.
    pub fn write_all_at(&self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        let mut done = 0;
        while done < data.len() {
            let written = self
                .descriptor
                .write(&data[done..], offset + done as u64)
                .map_err(|code| io(&self.path, "write", code))?;
            if written == 0 {
                return Err(io_detail(&self.path, "write made no progress"));
            }
            done += written as usize;
        }
        Ok(())
    }

    fn read_piece(&self, offset: u64, len: u64) -> Result<(Vec<u8>, bool), MemoryError> {
        self.descriptor
            .read(len, offset)
            .map_err(|code| io(&self.path, "read", code))
    }
}
