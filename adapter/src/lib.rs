//! A wasm-dbms [`MemoryProvider`] whose pages live in an imported memory-provider component.
//!
//! Add this crate to a wasm-dbms component built for `wasm32-wasip2` and replace the seed's
//! `WasiMemoryProvider::new(path)` with [`ComponentMemoryProvider::open_atomic`] (or
//! [`open`](ComponentMemoryProvider::open) for the seed's write-through behaviour). The
//! component then imports `wasm-dbms:memory/memory-provider@0.2.0`, which `wac plug` or a
//! host satisfies with the provider component.
//!
//! ```ignore
//! let memory = ComponentMemoryProvider::open_atomic("todo.db")?;
//! let ctx = DbmsContext::new(memory);
//! // ... insert, update, delete through wasm-dbms ...
//! ctx.flush()?; // everything since the last flush, durably, all or nothing
//! ```
//!
//! # Modes
//! - **Atomic** ([`Mode::Atomic`], [`open_atomic`](ComponentMemoryProvider::open_atomic)):
//!   every write and growth since the last [`flush`](MemoryProvider::flush) forms one
//!   crash-atomic group, and `flush` commits it (durably unless the options say otherwise).
//!   Reads see pending writes at once. A crash loses exactly what was written since the last
//!   `flush`; a program that never flushes keeps nothing. A pending group holds at most
//!   [`Options::max_group_bytes`] (64 MiB by default, its bookkeeping counted) in the provider's
//!   memory: the write that would pass that fails, and so does everything after it (see
//!   below), until the memory is opened again.
//! - **Write-through** ([`Mode::WriteThrough`], [`open`](ComponentMemoryProvider::open)): as
//!   the seed provider, every write reaches the file at once and `flush` syncs it. A crash
//!   may leave part of an operation in the file.
//!
//! # What the adapter does so that a wasm-dbms component cannot lose data by forgetting it
//! - It grows the memory to wasm-dbms's reserved pages when it opens, so that
//!   `DbmsContext::new`, which panics when it cannot grow, has nothing left to grow.
//! - After a read fails, every later call fails: wasm-dbms takes a schema page it cannot read
//!   for an empty database and would register its tables afresh over the data. Drop the
//!   context and open the memory again.
//! - In atomic mode, after a write or a `flush` fails, every later call fails too. A failed
//!   write drops the pending changes: the file keeps what the last successful `flush`
//!   committed. A failed `flush` says what became of its changes ([`FlushOutcome`], in
//!   the error's text and from [`ComponentMemoryProvider::failed_flush`]): committed (the
//!   next open completes them: do not do them again), not committed (the file keeps what the
//!   last successful `flush` committed), or undecided (the next open completes them all or
//!   none). Never in part. Drop the context and open the memory again.
//!
//! The imported resource itself is not handed out: a call made on it behind the adapter's
//! back would leave the adapter's cache and its page count wrong.
//!
//! ```compile_fail
//! # fn raw(provider: &wasm_dbms_component_memory::ComponentMemoryProvider) {
//! let _ = provider.memory(); // no such method
//! # }
//! ```
//! ```no_run
//! # fn raw(provider: &wasm_dbms_component_memory::ComponentMemoryProvider) {
//! let _ = (provider.mode(), provider.failure(), provider.failed_flush());
//! # }
//! ```
//!
//! The provider rejects a second open of the same file in the same component instance, and
//! hosts that lock files refuse a second process; see the provider's WIT.

mod cache;
mod error;
mod words;

use wasm_dbms_api::memory::{MemoryError, MemoryResult};
use wasm_dbms_memory::{MemoryProvider, RESERVED_PAGES};

use crate::bindings::wasm_dbms::memory::memory_provider::{Memory, OpenOptions};
use crate::cache::{BLOCK, BlockCache};
use crate::error::{flush_outcome, into_memory_error};

/// Bindings of the imported `memory-provider` interface (the crate's own copy of the WIT
/// package, in `wit/`).
pub mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "consumer" });
}

/// Bytes in one page, as the provider must report through `page-size`.
pub const PAGE_SIZE: u64 = 65536;

/// Bytes the cache holds unless told otherwise: 64 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 64 << 20;

/// Reads and writes at least this long cross the boundary as 64-bit words.
const WORDS_FROM: usize = 256;

/// Changed bytes closer than this are written in one call: a call across the boundary costs
/// about what a few hundred bytes of transfer do.
const JOIN_GAP: usize = 256;

/// What became of the changes pending at a `flush` that failed in atomic mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlushOutcome {
    /// They were committed: they are whole in the provider's journal, and the next open of
    /// the memory completes them. Doing them again would do them twice.
    Committed,
    /// Nothing of them was committed: the next open finds what the last successful `flush`
    /// committed.
    NotCommitted,
    /// Only the next open decides: it completes them all, or finds what the last successful
    /// `flush` committed. Look at the data after opening.
    Undecided,
}

impl FlushOutcome {
    /// What the outcome means for the caller, as the error's text says it.
    pub fn describe(self) -> &'static str {
        match self {
            FlushOutcome::Committed => {
                "its changes were committed: the next open completes them; do not do them again"
            }
            FlushOutcome::NotCommitted => {
                "its changes were not committed: the next open finds what the last successful \
                 flush committed"
            }
            FlushOutcome::Undecided => {
                "whether its changes were committed only the next open decides: it completes \
                 them all or none"
            }
        }
    }
}

/// How writes reach the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every write and growth since the last `flush` forms one crash-atomic group, and
    /// `flush` commits it.
    Atomic,
    /// Every write reaches the file at once, as with the seed provider; `flush` syncs it.
    WriteThrough,
}

/// How a memory is opened.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// How writes reach the file.
    pub mode: Mode,
    /// Whether `flush` in atomic mode waits until its group is on stable storage (survives a
    /// power loss). Without, it survives a crash of the program. Default: `true`.
    pub durable: bool,
    /// Bytes of 4 KiB blocks the adapter caches on its side of the boundary (0: none).
    pub cache_bytes: usize,
    /// The most a pending group may hold in the provider's memory, counted as the provider's
    /// `max-group-bytes` says (default 64 MiB, at most 1 GiB).
    pub max_group_bytes: Option<u64>,
    /// The most pages the memory may reach (default: no limit but the filesystem's).
    pub max_pages: Option<u64>,
    /// The journal size past which the provider checkpoints (default 4 MiB).
    pub checkpoint_bytes: Option<u64>,
}

impl Options {
    /// Atomic mode with durable flushes and the defaults.
    pub fn atomic() -> Self {
        Self {
            mode: Mode::Atomic,
            ..Self::write_through()
        }
    }

    /// Write-through mode with the defaults.
    pub fn write_through() -> Self {
        Self {
            mode: Mode::WriteThrough,
            durable: true,
            cache_bytes: DEFAULT_CACHE_BYTES,
            max_group_bytes: None,
            max_pages: None,
            checkpoint_bytes: None,
        }
    }
}

/// A [`MemoryProvider`] over one `memory` resource of the imported provider.
///
/// The provider is the only writer of the file behind the resource, and this value the only
/// holder of the resource, so it keeps the page count, a bounded cache of 4 KiB blocks
/// (write-through: the provider stays authoritative) and the range of pages grown but never
/// written, whose all-zero writes (wasm-dbms zeroes every page it grows) need no crossing.
pub struct ComponentMemoryProvider {
    memory: Memory,
    options: Options,
    /// The most bytes one call moves, as the provider reports it.
    max_transfer: u64,
    pages: u64,
    cache: BlockCache,
    untouched: std::ops::Range<u64>,
    /// Why every call now fails, once a read, or in atomic mode a write or flush, failed.
    failed: Option<String>,
    /// What became of the pending changes, once a flush failed in atomic mode.
    failed_flush: Option<FlushOutcome>,
}

impl std::fmt::Debug for ComponentMemoryProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentMemoryProvider")
            .field("mode", &self.options.mode)
            .field("pages", &self.pages)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl ComponentMemoryProvider {
    /// Opens (or creates) the memory at `path` in atomic mode with the default options.
    ///
    /// # Errors
    ///
    /// As [`open_with`](Self::open_with).
    pub fn open_atomic(path: &str) -> MemoryResult<Self> {
        Self::open_with(path, Options::atomic())
    }

    /// Opens (or creates) the memory at `path` in write-through mode with the default
    /// options, as the seed's `WasiMemoryProvider::new` does.
    ///
    /// # Errors
    ///
    /// As [`open_with`](Self::open_with).
    pub fn open(path: &str) -> MemoryResult<Self> {
        Self::open_with(path, Options::write_through())
    }

    /// Opens (or creates) the memory at `path`, resolved by the provider against its
    /// preopens, with `options`, and grows it to wasm-dbms's reserved pages.
    ///
    /// # Errors
    ///
    /// The provider's error, converted as [`into_memory_error`] describes, or a
    /// [`MemoryError::ProviderError`] when its page size is not 64 KiB.
    pub fn open_with(path: &str, options: Options) -> MemoryResult<Self> {
        let provider_options = OpenOptions {
            max_pages: options.max_pages,
            max_group_bytes: options.max_group_bytes,
            checkpoint_bytes: options.checkpoint_bytes,
        };
        let memory = Memory::open_with(path, provider_options).map_err(into_memory_error)?;
        let page_size = memory.page_size();
        if page_size != PAGE_SIZE {
            return Err(MemoryError::ProviderError(format!(
                "provider page size is {page_size}, expected {PAGE_SIZE}"
            )));
        }
        if options.mode == Mode::Atomic {
            memory.begin_group().map_err(into_memory_error)?;
        }
        let pages = memory.pages();
        let max_transfer = memory.max_transfer().max(8);
        let mut provider = Self {
            memory,
            options,
            max_transfer,
            pages,
            cache: BlockCache::new(options.cache_bytes / BLOCK as usize),
            untouched: pages..pages,
            failed: None,
            failed_flush: None,
        };
        if pages < RESERVED_PAGES {
            provider.grow(RESERVED_PAGES - pages)?;
        }
        Ok(provider)
    }

    /// How writes reach the file.
    pub fn mode(&self) -> Mode {
        self.options.mode
    }

    /// Why every call fails, if one made the memory unusable.
    pub fn failure(&self) -> Option<&str> {
        self.failed.as_deref()
    }

    /// What became of the pending changes, if a `flush` failed in atomic mode.
    pub fn failed_flush(&self) -> Option<FlushOutcome> {
        self.failed_flush
    }

    fn usable(&self) -> MemoryResult<()> {
        match &self.failed {
            Some(why) => Err(MemoryError::ProviderError(why.clone())),
            None => Ok(()),
        }
    }

    /// Makes every later call fail with `why`; in atomic mode the pending group is dropped.
    fn fail(&mut self, why: String) -> MemoryError {
        if self.options.mode == Mode::Atomic {
            // Whatever the outcome, nothing pending is committed: the memory is refused.
            let _ = self.memory.abort_group();
        }
        self.cache.clear();
        let why = format!("{why}; this memory refuses further use: open it again");
        self.failed = Some(why.clone());
        MemoryError::ProviderError(why)
    }

    fn check(&self, offset: u64, len: usize) -> MemoryResult<()> {
        match offset.checked_add(len as u64) {
            Some(end) if end <= self.pages * PAGE_SIZE => Ok(()),
            _ => Err(MemoryError::OutOfBounds),
        }
    }

    /// Reads from the provider, as words when the read is long, in transfers the provider
    /// accepts.
    fn fetch(&self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        let most = self.max_transfer as usize;
        for (index, piece) in buf.chunks_mut(most).enumerate() {
            self.fetch_piece(offset + (index * most) as u64, piece)?;
        }
        Ok(())
    }

    fn fetch_piece(&self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        let words_len = words_part(buf.len());
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

    /// Writes to the provider, as words when the write is long, in transfers the provider
    /// accepts.
    fn store(&self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        let most = self.max_transfer as usize;
        for (index, piece) in buf.chunks(most).enumerate() {
            let at = offset + (index * most) as u64;
            let words_len = words_part(piece.len());
            if words_len > 0 {
                self.memory
                    .write_words(at, &words::from_bytes(&piece[..words_len]))
                    .map_err(into_memory_error)?;
            }
            if words_len < piece.len() {
                self.memory
                    .write(at + words_len as u64, &piece[words_len..])
                    .map_err(into_memory_error)?;
            }
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

    /// Notes that `len` bytes at `offset` may have been written, shrinking the untouched
    /// range.
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

    /// Serves a read from the cache when every block it covers is cached; otherwise fetches
    /// the read's whole block-aligned span in one call and keeps its blocks when the cache
    /// admits them, or fetches just the read.
    fn read_through_cache(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        if !self.cache.enabled() {
            return self.fetch(offset, buf);
        }
        if self.cache.read(offset, buf) {
            return Ok(());
        }
        let end = offset + buf.len() as u64;
        let blocks = offset / BLOCK..end.div_ceil(BLOCK);
        let mut admit = false;
        for block in blocks.clone() {
            if !self.cache.contains(block) {
                admit |= self.cache.admit(block);
            }
        }
        let span = blocks.start * BLOCK..blocks.end * BLOCK;
        if !admit || span.end - span.start > self.max_transfer {
            return self.fetch(offset, buf);
        }
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
}

/// The part of a transfer of `len` bytes that crosses as words: all whole words of a long
/// transfer, nothing of a short one.
fn words_part(len: usize) -> usize {
    if len >= WORDS_FROM { len / 8 * 8 } else { 0 }
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
        self.usable()?;
        let previous = match self.memory.grow(new_pages) {
            Ok(previous) => previous,
            Err(error) if self.options.mode == Mode::Atomic => {
                let error = into_memory_error(error);
                return Err(self.fail(format!("a growth failed ({error})")));
            }
            Err(error) => return Err(into_memory_error(error)),
        };
        self.pages = previous + new_pages;
        if self.untouched.end != previous || self.untouched.is_empty() {
            self.untouched = previous..previous;
        }
        self.untouched.end = self.pages;
        Ok(previous * PAGE_SIZE)
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        self.usable()?;
        self.check(offset, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        self.read_through_cache(offset, buf).map_err(|error| {
            // wasm-dbms may take what it could not read for an empty page and write over it.
            self.fail(format!("a read failed ({error})"))
        })
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        self.usable()?;
        self.check(offset, buf.len())?;
        if self.writes_nothing(offset, buf) {
            return Ok(());
        }
        // Touched before the attempt: a failed write may have reached part of the range.
        self.touch(offset, buf.len());
        // Where the cache knows the bytes, only those that change cross the boundary:
        // wasm-dbms rewrites whole pages to change a few bytes of them.
        let stored = match self.cache.changed_spans(offset, buf, JOIN_GAP) {
            Some(spans) => spans
                .into_iter()
                .try_for_each(|span| self.store(offset + span.start as u64, &buf[span])),
            None => self.store(offset, buf),
        };
        if let Err(error) = stored {
            self.cache.forget(offset, buf.len());
            if self.options.mode == Mode::Atomic {
                return Err(self.fail(format!("a write failed ({error})")));
            }
            return Err(error);
        }
        self.cache.patch(offset, buf);
        Ok(())
    }

    /// In atomic mode, commits everything written since the last flush as one group
    /// (durably unless the options say otherwise) and opens the next; in write-through mode,
    /// syncs the file.
    fn flush(&mut self) -> MemoryResult<()> {
        self.usable()?;
        if self.options.mode == Mode::WriteThrough {
            return self.memory.sync().map_err(into_memory_error);
        }
        let (outcome, error) = match self.memory.commit_group(self.options.durable) {
            Ok(()) => match self.memory.begin_group() {
                Ok(()) => return Ok(()),
                Err(error) => (FlushOutcome::Committed, error),
            },
            Err(error) => (flush_outcome(&error), error),
        };
        self.failed_flush = Some(outcome);
        let error = into_memory_error(error);
        Err(self.fail(format!(
            "a flush failed, and {} ({error})",
            outcome.describe()
        )))
    }
}
