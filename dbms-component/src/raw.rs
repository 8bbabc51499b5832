//! The `raw-storage` export: the component's storage driven without wasm-dbms, for the
//! benchmarks' raw workloads.

use std::cell::RefCell;

use wasm_dbms_memory::MemoryProvider;

use wasm_dbms_component_memory::FlushOutcome as AdapterOutcome;

use crate::bindings::exports::wasm_dbms::demo::raw_storage::{
    Access, FlushOutcome, GuestStorage, Storage as StorageHandle,
};
use crate::storage::{self, Storage};

/// An open storage and the offsets the next run visits.
pub struct RawStorage {
    storage: RefCell<Storage>,
    offsets: RefCell<Vec<u64>>,
}

impl GuestStorage for RawStorage {
    fn open(path: String, cache_bytes: Option<u64>) -> Result<StorageHandle, String> {
        let cache_bytes = cache_bytes.map(|bytes| usize::try_from(bytes).unwrap_or(usize::MAX));
        let storage = storage::open_raw(&path, cache_bytes).map_err(|error| error.to_string())?;
        Ok(StorageHandle::new(RawStorage {
            storage: RefCell::new(storage),
            offsets: RefCell::new(Vec::new()),
        }))
    }

    fn open_atomic(path: String, durable: bool) -> Result<StorageHandle, String> {
        let storage = storage::open_atomic(&path, durable).map_err(|error| error.to_string())?;
        Ok(StorageHandle::new(RawStorage {
            storage: RefCell::new(storage),
            offsets: RefCell::new(Vec::new()),
        }))
    }

    fn flush(&self) -> Result<(), String> {
        self.storage
            .borrow_mut()
            .flush()
            .map_err(|error| error.to_string())
    }

    fn failed_flush(&self) -> Option<FlushOutcome> {
        storage::failed_flush(&self.storage.borrow()).map(|outcome| match outcome {
            AdapterOutcome::Committed => FlushOutcome::Committed,
            AdapterOutcome::NotCommitted => FlushOutcome::NotCommitted,
            AdapterOutcome::Undecided => FlushOutcome::Undecided,
        })
    }

    fn grow(&self, new_pages: u64) -> Result<u64, String> {
        self.storage
            .borrow_mut()
            .grow(new_pages)
            .map_err(|error| error.to_string())
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, String> {
        let len = usize::try_from(len).map_err(|_| "length too large".to_string())?;
        let mut buffer = vec![0; len];
        self.storage
            .borrow_mut()
            .read(offset, &mut buffer)
            .map_err(|error| error.to_string())?;
        Ok(buffer)
    }

    fn write(&self, offset: u64, data: Vec<u8>) -> Result<(), String> {
        self.storage
            .borrow_mut()
            .write(offset, &data)
            .map_err(|error| error.to_string())
    }

    fn plan(&self, offsets: Vec<u64>) {
        *self.offsets.borrow_mut() = offsets;
    }

    fn run(&self, access: Access, len: u64) -> Result<u64, String> {
        let len = usize::try_from(len).map_err(|_| "length too large".to_string())?;
        let offsets = self.offsets.borrow();
        let mut storage = self.storage.borrow_mut();
        let mut buffer: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut checksum = 0u64;
        for offset in offsets.iter() {
            match access {
                Access::Read => {
                    storage
                        .read(*offset, &mut buffer)
                        .map_err(|error| error.to_string())?;
                    let edges = u64::from(buffer[0]) << 8 | u64::from(buffer[len - 1]);
                    checksum = checksum.wrapping_mul(31).wrapping_add(edges);
                }
                Access::Write => {
                    storage
                        .write(*offset, &buffer)
                        .map_err(|error| error.to_string())?;
                    checksum += 1;
                }
            }
        }
        Ok(checksum)
    }
}
