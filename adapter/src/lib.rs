//! A wasm-dbms [`MemoryProvider`] whose pages live in an imported memory-provider component.
//!
//! Add this crate to a wasm-dbms component built for `wasm32-wasip2` and replace the seed's
//! `WasiMemoryProvider::new(path)` with [`ComponentMemoryProvider::open`]. The component then
//! imports `wasm-dbms:memory/memory-provider@0.1.0`, which `wac plug` or a host satisfies
//! with the provider component.

mod cache;
mod error;
mod words;

use wasm_dbms_api::memory::{MemoryError, MemoryResult};
use wasm_dbms_memory::MemoryProvider;

use crate::bindings::wasm_dbms::memory::memory_provider::Memory;
use crate::cache::{BLOCK, BlockCache};
use crate::error::into_memory_error;

/// Bindings of the imported `memory-provider` interface.
pub mod bindings {
    wit_bindgen::generate!({ path: "../wit", world: "consumer" });
}

/// Bytes in one page, as the provider must report through `page-size`.
pub const PAGE_SIZE: u64 = 65536;

/// Bytes the cache holds unless told otherwise: 64 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// Reads and writes at least this long cross the boundary as 64-bit words.
const WORDS_FROM: usize = 256;

/// A [`MemoryProvider`] over one `memory` resource of the imported provider.
///
/// The provider is the only writer of the file behind the resource, and this value the only
/// holder of the resource, so it keeps the page count, a bounded cache of 4 KiB blocks
/// (write-through: the file stays authoritative) and the range of pages grown but never
/// written, whose all-zero writes (wasm-dbms zeroes every page it grows) need no crossing.
pub struct ComponentMemoryProvider {
    memory: Memory,
    pages: u64,
    cache: BlockCache,
    untouched: std::ops::Range<u64>,
}

impl std::fmt::Debug for ComponentMemoryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentMemoryProvider")
            .field("pages", &self.pages)
            .finish_non_exhaustive()
    }
}

impl ComponentMemoryProvider {
    /// Opens (or creates) the memory at `path`, resolved by the provider against its
    /// preopens, with a cache of [`DEFAULT_CACHE_BYTES`].
    ///
    /// # Errors
    ///
    /// The provider's error, converted as [`into_memory_error`] describes, or a
    /// [`MemoryError::ProviderError`] when its page size is not 64 KiB.
    pub fn open(path: &str) -> MemoryResult<Self> {
        Self::open_with_cache(path, DEFAULT_CACHE_BYTES)
    }

    /// As [`open`](Self::open), with a cache of at most `cache_bytes` (rounded down to
    /// 4 KiB blocks; 0: no cache, every read crosses the boundary).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with_cache(path: &str, cache_bytes: usize) -> MemoryResult<Self> {
        let memory = Memory::open(path).map_err(into_memory_error)?;
        let page_size = memory.page_size();
        if page_size != PAGE_SIZE {
            return Err(MemoryError::ProviderError(format!(
                "provider page size is {page_size}, expected {PAGE_SIZE}"
            )));
        }
        let pages = memory.pages();
        Ok(Self {
            memory,
            pages,
            cache: BlockCache::new(cache_bytes / BLOCK as usize),
            untouched: pages..pages,
        })
    }

    /// The imported resource, for calls this trait does not cover.
    pub fn memory(&self) -> &Memory {
        &self.memory
    }

    /// Puts everything written so far, and the size, on stable storage.
    ///
    /// # Errors
    ///
    /// The provider's error.
    pub fn sync(&self) -> MemoryResult<()> {
        self.memory.sync().map_err(into_memory_error)
    }

    /// Opens a crash-atomic group: the writes and growths until [`commit_group`]
    /// (Self::commit_group) reach the file all together or not at all.
    ///
    /// # Errors
    ///
    /// The provider's error, for instance when a group is open already.
    pub fn begin_group(&mut self) -> MemoryResult<()> {
        self.memory.begin_group().map_err(into_memory_error)
    }

    /// Commits the open group; `durable` also syncs it to stable storage.
    ///
    /// # Errors
    ///
    /// The provider's error. The provider then holds the memory as it was before the group
    /// (or refuses every call until reopened), so the cache is dropped and the page count
    /// asked for again.
    pub fn commit_group(&mut self, durable: bool) -> MemoryResult<()> {
        let committed = self.memory.commit_group(durable).map_err(into_memory_error);
        if committed.is_err() {
            self.cache.clear();
            self.pages = self.memory.pages();
            self.untouched = self.pages..self.pages;
        }
        committed
    }

    fn check(&self, offset: u64, len: usize) -> MemoryResult<()> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.pages * PAGE_SIZE => Ok(()),
            _ => Err(MemoryError::OutOfBounds),
        }
    }

    /// Reads from the provider, as words when the read is long.
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        let words_len = if buf.len() >= WORDS_FROM {
            buf.len() / 8 * 8
        } else {
            0
        };
        if words_len > 0 {
            let words = self
                .memory
                .read_words(offset, (words_len / 8) as u64)
                .map_err(into_memory_error)?;
            buf[..words_len].copy_from_slice(words::as_bytes(&words, words_len)?);
        }
        if words_len < buf.len() {
            let bytes = self
                .memory
                .read(offset + words_len as u64, (buf.len() - words_len) as u64)
                .map_err(into_memory_error)?;
            if bytes.len() != buf.len() - words_len {
                return Err(MemoryError::ProviderError(format!(
                    "provider returned {} bytes for a read of {}",
                    bytes.len(),
                    buf.len() - words_len
                )));
            }
            buf[words_len..].copy_from_slice(&bytes);
        }
        Ok(())
    }

    /// Writes to the provider, as words when the write is long.
    fn store(&self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        let words_len = if buf.len() >= WORDS_FROM {
            buf.len() / 8 * 8
        } else {
            0
        };
        if words_len > 0 {
            self.memory
                .write_words(offset, &words::from_bytes(&buf[..words_len]))
                .map_err(into_memory_error)?;
        }
        if words_len < buf.len() {
            self.memory
                .write(offset + words_len as u64, &buf[words_len..])
                .map_err(into_memory_error)?;
        }
        Ok(())
    }

    /// Whether writing `buf` at `offset` would change nothing: zeros into pages that were
    /// grown and never written.
    fn writes_nothing(&self, offset: u64, buf: &[u8]) -> bool {
        let end = offset + buf.len() as u64;
        offset >= self.untouched.start * PAGE_SIZE
            && end <= self.untouched.end * PAGE_SIZE
            && words::all_zero(buf)
    }

    /// Notes that `len` bytes at `offset` were written, shrinking the untouched range.
    fn touch(&mut self, offset: u64, len: usize) {
        if len == 0 {
            return;
        }
        let first = offset / PAGE_SIZE;
        let last = (offset + len as u64 - 1) / PAGE_SIZE;
        if last < self.untouched.start || first >= self.untouched.end {
            return;
        }
        if first <= self.untouched.start {
            self.untouched.start = (last + 1).min(self.untouched.end);
        } else {
            self.untouched.end = first;
        }
    }
}

impl MemoryProvider for ComponentMemoryProvider {
    const PAGE_SIZE: u64 = PAGE_SIZE;

    fn size(&self) -> u64 {
        self.pages * PAGE_SIZE
    }

    fn pages(&self) -> u64 {
        self.pages
    }

    /// Grows by `new_pages` and returns the previous size in bytes, as wasm-dbms's own
    /// providers do (the WIT call itself returns the previous page count).
    fn grow(&mut self, new_pages: u64) -> MemoryResult<u64> {
        let previous = self.memory.grow(new_pages).map_err(into_memory_error)?;
        self.pages = previous + new_pages;
        if self.untouched.end != previous || self.untouched.is_empty() {
            self.untouched = previous..previous;
        }
        self.untouched.end = self.pages;
        Ok(previous * PAGE_SIZE)
    }

    /// Serves a read whose blocks are all cached from the cache; otherwise fetches the
    /// read's whole block-aligned span in one call and keeps its blocks when the cache admits
    /// them, or fetches just the read.
    fn read(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        self.check(offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        if !self.cache.enabled() {
            return self.fetch(offset, buf);
        }
        let end = offset + buf.len() as u64;
        let blocks = offset / BLOCK..end.div_ceil(BLOCK);
        if blocks.clone().all(|block| self.cache.contains(block)) {
            let mut done = 0;
            for block in blocks {
                let within = ((offset + done as u64) - block * BLOCK) as usize;
                let n = (BLOCK as usize - within).min(buf.len() - done);
                let bytes = self.cache.get(block).expect("cached block");
                buf[done..done + n].copy_from_slice(&bytes[within..within + n]);
                done += n;
            }
            return Ok(());
        }
        let mut admit = false;
        for block in blocks.clone() {
            if !self.cache.contains(block) {
                admit |= self.cache.admit(block);
            }
        }
        if !admit {
            return self.fetch(offset, buf);
        }
        let span = blocks.start * BLOCK..blocks.end * BLOCK;
        let words = self
            .memory
            .read_words(span.start, (span.end - span.start) / 8)
            .map_err(into_memory_error)?;
        let fetched = words::as_bytes(&words, (span.end - span.start) as usize)?;
        for (block, bytes) in blocks.zip(fetched.as_chunks::<{ BLOCK as usize }>().0) {
            self.cache.insert(block, bytes);
        }
        let from = (offset - span.start) as usize;
        buf.copy_from_slice(&fetched[from..from + buf.len()]);
        Ok(())
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        self.check(offset, buf.len())?;
        if self.writes_nothing(offset, buf) {
            return Ok(());
        }
        if let Err(error) = self.store(offset, buf) {
            // Part of the range may have reached the file: drop the cached copies.
            self.cache.forget(offset, buf.len());
            return Err(error);
        }
        self.cache.patch(offset, buf);
        self.touch(offset, buf.len());
        Ok(())
    }
}
