//! Where the pages live. The default imports the memory-provider component; the `seed` and
//! `heap` features link the seed crate or a heap image in instead, for comparisons.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_dbms_api::memory::MemoryResult;
use wasm_dbms_memory::{MemoryProvider, RESERVED_PAGES};

#[cfg(not(any(feature = "seed", feature = "heap")))]
pub use wasm_dbms_component_memory::ComponentMemoryProvider as Storage;

#[cfg(feature = "seed")]
pub use wasi_dbms_memory::WasiMemoryProvider as Storage;

#[cfg(feature = "heap")]
pub use heap_image::HeapImage as Storage;

/// Opens the storage at `path` with wasm-dbms's reserved pages in place, so that the engine's
/// own start-up (which panics when it cannot grow) has nothing left to grow.
pub fn open(path: &str) -> MemoryResult<Storage> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    let mut storage = Storage::open(path)?;
    #[cfg(any(feature = "seed", feature = "heap"))]
    let mut storage = Storage::new(path)?;
    if storage.pages() < RESERVED_PAGES {
        storage.grow(RESERVED_PAGES - storage.pages())?;
    }
    Ok(storage)
}

/// Opens the storage at `path` for raw use: as [`open`], but without wasm-dbms's reserved
/// pages, with the provider adapter's cache limited to `cache_bytes` when given, and the
/// heap storage writes no image.
pub fn open_raw(path: &str, cache_bytes: Option<usize>) -> MemoryResult<Storage> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    return match cache_bytes {
        Some(bytes) => Storage::open_with_cache(path, bytes),
        None => Storage::open(path),
    };
    #[cfg(any(feature = "seed", feature = "heap"))]
    let _ = cache_bytes;
    #[cfg(feature = "seed")]
    return Storage::new(path);
    #[cfg(feature = "heap")]
    return Storage::without_image(path);
}

/// Crash-atomic groups of writes, where the storage has them (the seed and the heap have
/// none: their groups do nothing).
pub trait Groups {
    /// Opens a group.
    fn begin_group(&mut self) -> MemoryResult<()>;
    /// Commits the open group; `durable` also syncs it.
    fn commit_group(&mut self, durable: bool) -> MemoryResult<()>;
}

#[cfg(not(any(feature = "seed", feature = "heap")))]
impl Groups for Storage {
    fn begin_group(&mut self) -> MemoryResult<()> {
        Storage::begin_group(self)
    }

    fn commit_group(&mut self, durable: bool) -> MemoryResult<()> {
        Storage::commit_group(self, durable)
    }
}

#[cfg(any(feature = "seed", feature = "heap"))]
impl Groups for Storage {
    fn begin_group(&mut self) -> MemoryResult<()> {
        Ok(())
    }

    fn commit_group(&mut self, _durable: bool) -> MemoryResult<()> {
        Ok(())
    }
}

/// The storage shared by the engine, which reads and writes it, and the component, which
/// opens and commits groups around the engine's work and asks whether a read failed.
#[derive(Clone)]
pub struct Shared {
    storage: Rc<RefCell<Storage>>,
    read_failure: Rc<RefCell<Option<String>>>,
}

impl Shared {
    /// Shares `storage`.
    pub fn new(storage: Storage) -> Self {
        Self {
            storage: Rc::new(RefCell::new(storage)),
            read_failure: Rc::default(),
        }
    }

    /// The first read that failed since the last call, if any. wasm-dbms takes a schema page
    /// it cannot read for an empty database (and would register the tables afresh over the
    /// data), so the component checks this after the engine starts.
    pub fn take_read_failure(&self) -> Option<String> {
        self.read_failure.borrow_mut().take()
    }

    /// Runs `work` inside one group, committed whether `work` succeeds or not (wasm-dbms
    /// undoes a failed operation's writes itself), so that the file holds all of it or none.
    pub fn in_group<T, E>(
        &self,
        durable: bool,
        storage_error: impl Fn(String) -> E,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let storage_error =
            |error: wasm_dbms_api::memory::MemoryError| storage_error(error.to_string());
        Groups::begin_group(&mut *self.storage.borrow_mut()).map_err(storage_error)?;
        let result = work();
        let committed =
            Groups::commit_group(&mut *self.storage.borrow_mut(), durable).map_err(storage_error);
        let value = result?;
        committed?;
        Ok(value)
    }
}

impl MemoryProvider for Shared {
    const PAGE_SIZE: u64 = Storage::PAGE_SIZE;

    fn size(&self) -> u64 {
        self.storage.borrow().size()
    }

    fn pages(&self) -> u64 {
        self.storage.borrow().pages()
    }

    fn grow(&mut self, new_pages: u64) -> MemoryResult<u64> {
        self.storage.borrow_mut().grow(new_pages)
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        let read = self.storage.borrow_mut().read(offset, buf);
        if let Err(error) = &read {
            self.read_failure
                .borrow_mut()
                .get_or_insert_with(|| error.to_string());
        }
        read
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        self.storage.borrow_mut().write(offset, buf)
    }
}

#[cfg(feature = "heap")]
mod heap_image {
    use wasm_dbms_api::memory::{MemoryError, MemoryResult};
    use wasm_dbms_memory::{HeapMemoryProvider, MemoryProvider};

    /// wasm-dbms's `HeapMemoryProvider`, whose bytes are written to a file when it is
    /// dropped: the reference image for byte-for-byte comparisons.
    pub struct HeapImage {
        heap: HeapMemoryProvider,
        path: Option<String>,
    }

    impl HeapImage {
        /// An empty heap memory that will be written to `path`.
        pub fn new(path: &str) -> MemoryResult<Self> {
            Ok(Self {
                heap: HeapMemoryProvider::default(),
                path: Some(path.to_owned()),
            })
        }

        /// An empty heap memory that writes no image (`path` only names it).
        pub fn without_image(_path: &str) -> MemoryResult<Self> {
            Ok(Self {
                heap: HeapMemoryProvider::default(),
                path: None,
            })
        }

        fn image(&mut self) -> MemoryResult<Vec<u8>> {
            let len = usize::try_from(self.heap.size()).map_err(|_| MemoryError::OutOfBounds)?;
            let mut image = vec![0; len];
            self.heap.read(0, &mut image)?;
            Ok(image)
        }
    }

    impl Drop for HeapImage {
        fn drop(&mut self) {
            let Some(path) = self.path.take() else {
                return;
            };
            if let Ok(image) = self.image() {
                // Nothing can report a failure from a drop; a missing image fails the
                // comparison that reads it.
                let _ = std::fs::write(path, image);
            }
        }
    }

    impl MemoryProvider for HeapImage {
        const PAGE_SIZE: u64 = HeapMemoryProvider::PAGE_SIZE;

        fn size(&self) -> u64 {
            self.heap.size()
        }

        fn pages(&self) -> u64 {
            self.heap.pages()
        }

        fn grow(&mut self, new_pages: u64) -> MemoryResult<u64> {
            self.heap.grow(new_pages)
        }

        fn read(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
            self.heap.read(offset, buf)
        }

        fn write(&mut self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
            self.heap.write(offset, buf)
        }
    }
}
