//! A wasm-dbms memory provider as a WebAssembly component.
//!
//! The component exports `wasm-dbms:memory/memory-provider`: every `memory` resource is one
//! file of 64 KiB pages, reached through `wasi:filesystem` and laid out byte-for-byte like
//! Internet Computer stable memory.

mod bounds;
mod error;
mod page_file;
mod preopen;
mod words;

use std::cell::Cell;

use bindings::exports::wasm_dbms::memory::memory_provider::{
    Guest, GuestMemory, Memory as MemoryHandle, MemoryError,
};

use crate::bounds::{PAGE_SIZE, checked_end, grown_size};
use crate::page_file::PageFile;

mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "provider" });
}

/// The component's export: the `memory-provider` interface.
struct Provider;

impl Guest for Provider {
    type Memory = Memory;
}

/// One open memory: its file and its page count.
pub struct Memory {
    file: PageFile,
    pages: Cell<u64>,
}

impl Memory {
    fn size(&self) -> u64 {
        self.pages.get() * PAGE_SIZE
    }
}

impl GuestMemory for Memory {
    fn open(path: String) -> Result<MemoryHandle, MemoryError> {
        let file = PageFile::open(&path)?;
        let pages = file.pages();
        Ok(MemoryHandle::new(Memory {
            file,
            pages: Cell::new(pages),
        }))
    }

    fn page_size(&self) -> u64 {
        PAGE_SIZE
    }

    fn size(&self) -> u64 {
        Memory::size(self)
    }

    fn pages(&self) -> u64 {
        self.pages.get()
    }

    fn grow(&self, new_pages: u64) -> Result<u64, MemoryError> {
        let previous = self.pages.get();
        if new_pages == 0 {
            return Ok(previous);
        }
        let new_size = grown_size(previous, new_pages)?;
        self.file.set_size(new_size)?;
        self.pages.set(previous + new_pages);
        Ok(previous)
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        checked_end(offset, len, self.size())?;
        self.file.read_exact_at(offset, len)
    }

    fn write(&self, offset: u64, data: Vec<u8>) -> Result<(), MemoryError> {
        checked_end(offset, data.len() as u64, self.size())?;
        self.file.write_all_at(offset, &data)
    }

    fn read_words(&self, offset: u64, count: u64) -> Result<Vec<u64>, MemoryError> {
        let len = count.checked_mul(8).ok_or(MemoryError::OutOfBounds)?;
        checked_end(offset, len, self.size())?;
        Ok(words::from_bytes(&self.file.read_exact_at(offset, len)?))
    }

    fn write_words(&self, offset: u64, data: Vec<u64>) -> Result<(), MemoryError> {
        let len = (data.len() as u64) * 8;
        checked_end(offset, len, self.size())?;
        self.file.write_all_at(offset, words::as_bytes(&data))
    }
}

bindings::export!(Provider with_types_in bindings);
