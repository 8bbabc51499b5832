//! A wasm-dbms [`MemoryProvider`] whose pages live in an imported memory-provider component.
//!
//! Add this crate to a wasm-dbms component built for `wasm32-wasip2` and replace the seed's
//! `WasiMemoryProvider::new(path)` with [`ComponentMemoryProvider::open`]. The component then
//! imports `wasm-dbms:memory/memory-provider@0.1.0`, which `wac plug` or a host satisfies
//! with the provider component.

mod error;

use wasm_dbms_api::memory::{MemoryError, MemoryResult};
use wasm_dbms_memory::MemoryProvider;

use crate::bindings::wasm_dbms::memory::memory_provider::Memory;
use crate::error::into_memory_error;

/// Bindings of the imported `memory-provider` interface.
pub mod bindings {
    wit_bindgen::generate!({ path: "../wit", world: "consumer" });
}

/// Bytes in one page, as the provider must report through `page-size`.
pub const PAGE_SIZE: u64 = 65536;

/// A [`MemoryProvider`] over one `memory` resource of the imported provider.
///
/// The provider is the only writer of the file behind the resource, and this value the only
/// holder of the resource, so the page count is kept here and not asked for on every call.
#[derive(Debug)]
pub struct ComponentMemoryProvider {
    memory: Memory,
    pages: u64,
}

impl ComponentMemoryProvider {
    /// Opens (or creates) the memory at `path`, resolved by the provider against its preopens.
    ///
    /// # Errors
    ///
    /// The provider's error, converted as [`into_memory_error`] describes, or a
    /// [`MemoryError::ProviderError`] when its page size is not 64 KiB.
    pub fn open(path: &str) -> MemoryResult<Self> {
        let memory = Memory::open(path).map_err(into_memory_error)?;
        let page_size = memory.page_size();
        if page_size != PAGE_SIZE {
            return Err(MemoryError::ProviderError(format!(
                "provider page size is {page_size}, expected {PAGE_SIZE}"
            )));
        }
        let pages = memory.pages();
        Ok(Self { memory, pages })
    }

    /// The imported resource, for calls this trait does not cover.
    pub fn memory(&self) -> &Memory {
        &self.memory
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
        Ok(previous * PAGE_SIZE)
    }

    fn read(&mut self, offset: u64, buf: &mut [u8]) -> MemoryResult<()> {
        let bytes = self
            .memory
            .read(offset, buf.len() as u64)
            .map_err(into_memory_error)?;
        if bytes.len() != buf.len() {
            return Err(MemoryError::ProviderError(format!(
                "provider returned {} bytes for a read of {}",
                bytes.len(),
                buf.len()
            )));
        }
        buf.copy_from_slice(&bytes);
        Ok(())
    }

    fn write(&mut self, offset: u64, buf: &[u8]) -> MemoryResult<()> {
        self.memory.write(offset, buf).map_err(into_memory_error)
    }
}
