//! Where the pages live. The default imports the memory-provider component through the
//! adapter; the `seed` and `heap` features link the seed crate or a heap image in instead,
//! for comparisons.

use wasm_dbms_api::memory::MemoryResult;

#[cfg(not(any(feature = "seed", feature = "heap")))]
pub use wasm_dbms_component_memory::ComponentMemoryProvider as Storage;

#[cfg(feature = "seed")]
pub use wasi_dbms_memory::WasiMemoryProvider as Storage;

#[cfg(feature = "heap")]
pub use heap_image::HeapImage as Storage;

/// Opens the database's storage at `path`: the adapter in atomic mode, every `flush`
/// committing what was written since the last one, durably when `durable`.
pub fn open(path: &str, durable: bool) -> MemoryResult<Storage> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    return Storage::open_with(
        path,
        wasm_dbms_component_memory::Options {
            durable,
            ..wasm_dbms_component_memory::Options::atomic()
        },
    );
    #[cfg(any(feature = "seed", feature = "heap"))]
    {
        let _ = durable;
        Storage::new(path)
    }
}

/// Opens the storage at `path` for raw use: the adapter in write-through mode (as the seed
/// is), with its cache limited to `cache_bytes` when given; the heap storage writes no image.
pub fn open_raw(path: &str, cache_bytes: Option<usize>) -> MemoryResult<Storage> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    {
        let mut options = wasm_dbms_component_memory::Options::write_through();
        if let Some(bytes) = cache_bytes {
            options.cache_bytes = bytes;
        }
        Storage::open_with(path, options)
    }
    #[cfg(any(feature = "seed", feature = "heap"))]
    let _ = cache_bytes;
    #[cfg(feature = "seed")]
    return Storage::new(path);
    #[cfg(feature = "heap")]
    return Storage::without_image(path);
}

/// Opens the storage at `path` in the adapter's atomic mode, durably when `durable`; the
/// seed and heap storages have no such mode.
pub fn open_atomic(path: &str, durable: bool) -> MemoryResult<Storage> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    return open(path, durable);
    #[cfg(any(feature = "seed", feature = "heap"))]
    {
        let _ = (path, durable);
        Err(wasm_dbms_api::memory::MemoryError::ProviderError(
            "this storage has no atomic mode".into(),
        ))
    }
}

/// What became of the pending changes when a `flush` of `storage` failed (the adapter's
/// atomic mode only).
pub fn failed_flush(storage: &Storage) -> Option<wasm_dbms_component_memory::FlushOutcome> {
    #[cfg(not(any(feature = "seed", feature = "heap")))]
    return storage.failed_flush();
    #[cfg(any(feature = "seed", feature = "heap"))]
    {
        let _ = storage;
        None
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
