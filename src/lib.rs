//! A wasm-dbms memory provider as a WebAssembly component.
//!
//! The component exports `wasm-dbms:memory/memory-provider`: every `memory` resource is one
//! file of 64 KiB pages, reached through `wasi:filesystem` and laid out byte-for-byte like
//! Internet Computer stable memory. Groups of writes commit atomically through a redo
//! journal beside the file. This file is the binding glue; `memory.rs` holds the contract's
//! semantics and `protocol.rs` the order in which the files change.

mod bounds;
mod error;
mod file;
mod group;
mod journal;
mod legacy;
mod location;
mod memory;
mod preopen;
mod protocol;
mod registry;
mod words;

use bindings::exports::wasm_dbms::memory::memory_provider::{
    Guest, GuestMemory, Memory as MemoryHandle, MemoryError, OpenOptions, Recovery,
};

use crate::bounds::{MAX_TRANSFER, PAGE_SIZE};
use crate::memory::Memory;

mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "provider",
        additional_derives: [PartialEq, Eq],
    });
}

/// The component's export: the `memory-provider` interface.
struct Provider;

impl Guest for Provider {
    type Memory = Memory;
}

impl GuestMemory for Memory {
    fn open(path: String) -> Result<MemoryHandle, MemoryError> {
        let defaults = OpenOptions {
            max_pages: None,
            max_group_bytes: None,
            checkpoint_bytes: None,
        };
        Memory::open(&path, &defaults).map(MemoryHandle::new)
    }

    fn open_with(path: String, options: OpenOptions) -> Result<MemoryHandle, MemoryError> {
        Memory::open(&path, &options).map(MemoryHandle::new)
    }

    fn recovery(&self) -> Recovery {
        Memory::recovery(self)
    }

    fn page_size(&self) -> u64 {
        PAGE_SIZE
    }

    fn size(&self) -> u64 {
        Memory::size(self)
    }

    fn pages(&self) -> u64 {
        Memory::pages(self)
    }

    fn max_transfer(&self) -> u64 {
        MAX_TRANSFER
    }

    fn grow(&self, new_pages: u64) -> Result<u64, MemoryError> {
        Memory::grow(self, new_pages)
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        Memory::read(self, offset, len)
    }

    fn write(&self, offset: u64, data: Vec<u8>) -> Result<(), MemoryError> {
        Memory::write(self, offset, &data)
    }

    fn read_words(&self, offset: u64, count: u64) -> Result<Vec<u64>, MemoryError> {
        let len = count.checked_mul(8).ok_or(MemoryError::OutOfBounds)?;
        words::from_bytes(&Memory::read(self, offset, len)?)
    }

    fn write_words(&self, offset: u64, data: Vec<u64>) -> Result<(), MemoryError> {
        Memory::write(self, offset, words::as_bytes(&data))
    }

    fn sync(&self) -> Result<(), MemoryError> {
        Memory::sync(self)
    }

    fn checkpoint(&self) -> Result<(), MemoryError> {
        Memory::checkpoint(self)
    }

    fn begin_group(&self) -> Result<(), MemoryError> {
        Memory::begin_group(self)
    }

    fn commit_group(&self, durable: bool) -> Result<(), MemoryError> {
        Memory::commit_group(self, durable)
    }

    fn abort_group(&self) -> Result<(), MemoryError> {
        Memory::abort_group(self)
    }
}

bindings::export!(Provider with_types_in bindings);
