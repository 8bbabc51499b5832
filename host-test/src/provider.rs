//! The provider component driven directly: a store, an instance and its `memory` calls.
//!
//! Every call returns `anyhow::Result<Result<T, MemoryError>>`: the outer error is a trap
//! (always a bug), the inner one the contract's typed error.

use wasmtime::Result;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::artifacts;
use crate::host::{HostState, Runtime, WasiConfig};

/// Bindings of the `provider` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "provider",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::Provider;
pub use bindings::exports::wasm_dbms::memory::memory_provider::{
    MemoryError, OpenOptions, Recovery,
};

/// One provider instance in its own store.
pub struct ProviderSession {
    store: Store<HostState>,
    provider: Provider,
}

/// An open `memory` resource of a [`ProviderSession`].
#[derive(Clone, Copy, Debug)]
pub struct Memory(ResourceAny);

impl ProviderSession {
    /// Instantiates the built provider component with `wasi`.
    pub fn new(runtime: &Runtime, wasi: &WasiConfig) -> Result<Self> {
        let mut store = runtime.store(wasi)?;
        let component = runtime.component(artifacts::PROVIDER)?;
        let provider = Provider::instantiate(&mut store, &component, runtime.linker_for(wasi))?;
        Ok(Self { store, provider })
    }

    /// `memory.open(path)`.
    pub fn open(&mut self, path: &str) -> Result<Result<Memory, MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        Ok(api.call_open(&mut self.store, path)?.map(Memory))
    }

    /// `memory.open-with(path, options)`.
    pub fn open_with(
        &mut self,
        path: &str,
        options: OpenOptions,
    ) -> Result<Result<Memory, MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        Ok(api
            .call_open_with(&mut self.store, path, options)?
            .map(Memory))
    }

    /// `memory.recovery()`.
    pub fn recovery(&mut self, memory: Memory) -> Result<Recovery> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_recovery(&mut self.store, memory.0)
    }

    /// `memory.max-transfer()`.
    pub fn max_transfer(&mut self, memory: Memory) -> Result<u64> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_max_transfer(&mut self.store, memory.0)
    }

    /// `memory.page-size()`.
    pub fn page_size(&mut self, memory: Memory) -> Result<u64> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_page_size(&mut self.store, memory.0)
    }

    /// `memory.size()`.
    pub fn size(&mut self, memory: Memory) -> Result<u64> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_size(&mut self.store, memory.0)
    }

    /// `memory.pages()`.
    pub fn pages(&mut self, memory: Memory) -> Result<u64> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_pages(&mut self.store, memory.0)
    }

    /// `memory.grow(new_pages)`: the previous page count.
    pub fn grow(&mut self, memory: Memory, new_pages: u64) -> Result<Result<u64, MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_grow(&mut self.store, memory.0, new_pages)
    }

    /// `memory.read(offset, len)`.
    pub fn read(
        &mut self,
        memory: Memory,
        offset: u64,
        len: u64,
    ) -> Result<Result<Vec<u8>, MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_read(&mut self.store, memory.0, offset, len)
    }

    /// `memory.write(offset, data)`.
    pub fn write(
        &mut self,
        memory: Memory,
        offset: u64,
        data: &[u8],
    ) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_write(&mut self.store, memory.0, offset, data)
    }

    /// `memory.read-words(offset, count)`.
    pub fn read_words(
        &mut self,
        memory: Memory,
        offset: u64,
        count: u64,
    ) -> Result<Result<Vec<u64>, MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_read_words(&mut self.store, memory.0, offset, count)
    }

    /// `memory.write-words(offset, data)`.
    pub fn write_words(
        &mut self,
        memory: Memory,
        offset: u64,
        data: &[u64],
    ) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_write_words(&mut self.store, memory.0, offset, data)
    }

    /// `memory.sync()`.
    pub fn sync(&mut self, memory: Memory) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_sync(&mut self.store, memory.0)
    }

    /// `memory.checkpoint()`.
    pub fn checkpoint(&mut self, memory: Memory) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_checkpoint(&mut self.store, memory.0)
    }

    /// `memory.abort-group()`.
    pub fn abort_group(&mut self, memory: Memory) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_abort_group(&mut self.store, memory.0)
    }

    /// `memory.begin-group()`.
    pub fn begin_group(&mut self, memory: Memory) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_begin_group(&mut self.store, memory.0)
    }

    /// `memory.commit-group(durable)`.
    pub fn commit_group(
        &mut self,
        memory: Memory,
        durable: bool,
    ) -> Result<Result<(), MemoryError>> {
        let api = self.provider.wasm_dbms_memory_memory_provider().memory();
        api.call_commit_group(&mut self.store, memory.0, durable)
    }

    /// Drops the resource, closing its file.
    pub fn close(&mut self, memory: Memory) -> Result<()> {
        memory.0.resource_drop(&mut self.store)
    }
}
