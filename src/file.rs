//! One open file: positional reads and writes through a `wasi:filesystem` descriptor, each
//! looped until complete, with every failure named after the file.

use wasip2::filesystem::types::{Descriptor, DescriptorType};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::error::{io, io_detail, resize};

/// The largest piece one `wasi:filesystem` read or write moves; longer transfers are made of
/// pieces, so that neither side of the call allocates more than this at once.
pub const PIECE: usize = 1 << 20;

/// An open file and the path it is known by in messages.
pub struct File {
    descriptor: Descriptor,
    path: String,
}

impl File {
    /// Wraps `descriptor`, opened at `path`.
    pub fn new(descriptor: Descriptor, path: String) -> Self {
        Self { descriptor, path }
    }

    /// The path, as messages name it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What the descriptor names: a regular file, a directory, ...
    pub fn kind(&self) -> Result<DescriptorType, MemoryError> {
        self.descriptor
            .get_type()
            .map_err(|code| io(&self.path, "stat", code))
    }

    /// Whether `other` is a descriptor of this same file, as the host tells it now.
    ///
    /// `is-same-object` alone is not enough: jco answers it for one descriptor object only.
    /// Equal `metadata-hash`es taken at the same moment are: WASI defines the hash over the
    /// file's serial number and modification time, which change together for no two files
    /// (jco hashes exactly those; wasmtime the device and the serial number). The hash is
    /// never remembered, since it changes whenever the file is written.
    pub fn is_same_file(&self, other: &File) -> bool {
        if self.descriptor.is_same_object(&other.descriptor) {
            return true;
        }
        match (
            self.descriptor.metadata_hash(),
            other.descriptor.metadata_hash(),
        ) {
            (Ok(one), Ok(two)) => one.upper == two.upper && one.lower == two.lower,
            _ => false,
        }
    }

    /// The file's size in bytes.
    pub fn size(&self) -> Result<u64, MemoryError> {
        let stat = self
            .descriptor
            .stat()
            .map_err(|code| io(&self.path, "stat", code))?;
        Ok(stat.size)
    }

    /// Reads exactly `len` bytes at `offset`; the caller has checked the range and limited
    /// `len`. Space for them is reserved fallibly, before the first read.
    pub fn read_exact_at(&self, offset: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        if len <= PIECE {
            let bytes = self.read_piece(offset, len)?;
            if bytes.len() == len {
                return Ok(bytes);
            }
        }
        let mut out = Vec::new();
        out.try_reserve_exact(len)
            .map_err(|_| io_detail(&self.path, &format!("cannot allocate {len} bytes")))?;
        while out.len() < len {
            let piece = self.read_piece(offset + out.len() as u64, (len - out.len()).min(PIECE))?;
            if piece.is_empty() {
                return Err(io_detail(
                    &self.path,
                    "the file ended before the memory did",
                ));
            }
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }

    /// Reads at most `len` (at most [`PIECE`]) bytes at `offset`: fewer only at the end of
    /// the file.
    pub fn read_piece(&self, offset: u64, len: usize) -> Result<Vec<u8>, MemoryError> {
        let (bytes, _) = self
            .descriptor
            .read(len.min(PIECE) as u64, offset)
            .map_err(|code| io(&self.path, "read", code))?;
        Ok(bytes)
    }

    /// Writes all of `data` at `offset`.
    pub fn write_all_at(&self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        let mut done = 0;
        while done < data.len() {
            let end = data.len().min(done + PIECE);
            let written = self
                .descriptor
                .write(&data[done..end], offset + done as u64)
                .map_err(|code| io(&self.path, "write", code))?;
            if written == 0 {
                return Err(io_detail(&self.path, "a write made no progress"));
            }
            done += written as usize;
        }
        Ok(())
    }

    /// Sets the file's length; new bytes read as zeros (the file stays sparse).
    pub fn set_size(&self, size: u64) -> Result<(), MemoryError> {
        self.descriptor
            .set_size(size)
            .map_err(|code| resize(&self.path, code))
    }

    /// Puts the file's data and size on stable storage.
    pub fn sync(&self) -> Result<(), MemoryError> {
        self.descriptor
            .sync_data()
            .map_err(|code| io(&self.path, "sync", code))
    }
}
