//! The backing file: positional reads and writes through `wasi:filesystem` descriptors.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::bounds::PAGE_SIZE;
use crate::error::{io, io_detail};
use crate::fault::point;
use crate::preopen::resolve;

/// The largest piece one `wasi:filesystem` read asks for; larger reads are assembled from
/// pieces in a buffer reserved up front, so an impossible length is an error, not a trap.
const READ_PIECE: u64 = 1 << 20;

/// An open page file: its descriptor, the directory that holds it (for the journal beside
/// it), and the path it was opened with, for error messages.
pub struct PageFile {
    descriptor: Descriptor,
    directory: Descriptor,
    relative: String,
    key: String,
    path: String,
}

impl PageFile {
    /// Opens or creates the file at `path`, found through the preopened directories.
    ///
    /// Only `read | write` descriptor flags are asked for, so hosts that refuse the
    /// directory-mutation or sync flags on open (such as jco) open the file too.
    pub fn open(path: &str) -> Result<Self, MemoryError> {
        let mut preopens = get_directories();
        let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
        let (index, relative) = resolve(&names, path)
            .ok_or_else(|| io_detail(path, "no preopened directory holds this path"))?;
        if relative.is_empty() {
            return Err(io_detail(path, "names a preopened directory, not a file"));
        }
        let (directory, name) = preopens.swap_remove(index);
        point(path)?;
        let descriptor = directory
            .open_at(
                PathFlags::SYMLINK_FOLLOW,
                &relative,
                OpenFlags::CREATE,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
            .map_err(|code| io(path, "open", code))?;
        point(path)?;
        let stat = descriptor.stat().map_err(|code| io(path, "stat", code))?;
        if stat.type_ != DescriptorType::RegularFile {
            return Err(io_detail(path, "is not a regular file"));
        }
        Ok(Self {
            descriptor,
            directory,
            key: format!("{name}\u{0}{relative}"),
            relative,
            path: path.to_owned(),
        })
    }

    /// The file's identity within this instance: its preopen and its path inside it.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The file's page count, or `misaligned-file` when its size is not a page multiple.
    pub fn pages(&self) -> Result<u64, MemoryError> {
        point(&self.path)?;
        let stat = self
            .descriptor
            .stat()
            .map_err(|code| io(&self.path, "stat", code))?;
        if stat.size % PAGE_SIZE != 0 {
            return Err(MemoryError::MisalignedFile(stat.size));
        }
        Ok(stat.size / PAGE_SIZE)
    }

    /// Flushes the file's data and size to stable storage.
    pub fn sync(&self) -> Result<(), MemoryError> {
        point(&self.path)?;
        self.descriptor
            .sync_data()
            .map_err(|code| io(&self.path, "sync", code))
    }

    /// Writes `bytes` as the whole journal beside the file, synced when `durable`.
    pub fn write_journal(&self, bytes: &[u8], durable: bool) -> Result<(), MemoryError> {
        let name = self.journal_name();
        point(&name)?;
        let journal = self
            .directory
            .open_at(
                PathFlags::empty(),
                &name,
                OpenFlags::CREATE | OpenFlags::TRUNCATE,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
            .map_err(|code| io(&name, "open", code))?;
        let mut done = 0;
        while done < bytes.len() {
            point(&name)?;
            let written = journal
                .write(&bytes[done..], done as u64)
                .map_err(|code| io(&name, "write", code))?;
            if written == 0 {
                return Err(io_detail(&name, "write made no progress"));
            }
            done += written as usize;
        }
        if durable {
            journal
                .sync_data()
                .map_err(|code| io(&name, "sync", code))?;
            // The journal's directory entry too: a journal whose name a power loss forgets
            // cannot complete the group. Like SQLite, take a host that cannot sync a directory
            // (jco's preview2-shim answers `invalid` for a preopen) as one that need not.
            point(&name)?;
            match self.directory.sync() {
                Ok(())
                | Err(ErrorCode::Invalid | ErrorCode::Unsupported | ErrorCode::BadDescriptor) => {}
                Err(code) => return Err(io(&name, "sync the directory of", code)),
            }
        }
        Ok(())
    }

    /// The journal beside the file, if there is one.
    pub fn read_journal(&self) -> Result<Option<Vec<u8>>, MemoryError> {
        let name = self.journal_name();
        point(&name)?;
        let journal = match self.directory.open_at(
            PathFlags::empty(),
            &name,
            OpenFlags::empty(),
            DescriptorFlags::READ,
        ) {
            Ok(journal) => journal,
            Err(ErrorCode::NoEntry) => return Ok(None),
            Err(code) => return Err(io(&name, "open", code)),
        };
        let size = journal.stat().map_err(|code| io(&name, "stat", code))?.size;
        let mut bytes = Vec::new();
        while (bytes.len() as u64) < size {
            let (piece, end) = journal
                .read(
                    (size - bytes.len() as u64).min(READ_PIECE),
                    bytes.len() as u64,
                )
                .map_err(|code| io(&name, "read", code))?;
            bytes.extend_from_slice(&piece);
            if piece.is_empty() || end {
                break;
            }
        }
        Ok(Some(bytes))
    }

    /// Removes the journal beside the file.
    pub fn remove_journal(&self) -> Result<(), MemoryError> {
        let name = self.journal_name();
        point(&name)?;
        match self.directory.unlink_file_at(&name) {
            Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
            Err(code) => Err(io(&name, "remove", code)),
        }
    }

    fn journal_name(&self) -> String {
        format!("{}-journal", self.relative)
    }

    /// Sets the file's length; new bytes read as zeros (the file stays sparse).
    pub fn set_size(&self, size: u64) -> Result<(), MemoryError> {
        point(&self.path)?;
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
            point(&self.path)?;
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
        point(&self.path)?;
        self.descriptor
            .read(len, offset)
            .map_err(|code| io(&self.path, "read", code))
    }
}
