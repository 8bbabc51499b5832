//! Run-time linking: a consumer's `memory-provider` import served by a provider instance in
//! the same store, through the host, without pre-composition.
//!
//! The consumer sees host resources; each one's `rep` indexes the provider's own resource.

use std::sync::Arc;

use wasmtime::Result;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource, ResourceAny, ResourceType};
use wasmtime::error::Context as _;

use crate::host::HostState;
use crate::provider::{MemoryError, OpenOptions, Provider};

/// The import the forwarding satisfies.
pub const INTERFACE: &str = "wasm-dbms:memory/memory-provider@0.2.0";

/// The host's face of a provider `memory` handed to a consumer.
pub struct ForwardedMemory;

/// A provider instance serving a consumer, and the resources it lent.
pub struct LinkedProvider {
    provider: Arc<Provider>,
    lent: Vec<Option<ResourceAny>>,
}

impl LinkedProvider {
    /// Serves the consumer from `provider`, an instance in the consumer's store.
    pub fn new(provider: Provider) -> Self {
        Self {
            provider: Arc::new(provider),
            lent: Vec::new(),
        }
    }

    fn lend(&mut self, memory: ResourceAny) -> Resource<ForwardedMemory> {
        let rep = match self.lent.iter().position(Option::is_none) {
            Some(free) => free,
            None => {
                self.lent.push(None);
                self.lent.len() - 1
            }
        };
        self.lent[rep] = Some(memory);
        Resource::new_own(rep as u32)
    }

    fn lent(&self, rep: u32) -> Result<ResourceAny> {
        self.lent
            .get(rep as usize)
            .copied()
            .flatten()
            .context("unknown memory handle")
    }
}

/// The linked provider of `store` and the provider resource behind `handle`.
fn target(
    store: &StoreContextMut<'_, HostState>,
    handle: &Resource<ForwardedMemory>,
) -> Result<(Arc<Provider>, ResourceAny)> {
    let linked = linked(store)?;
    Ok((linked.provider.clone(), linked.lent(handle.rep())?))
}

fn linked<'a>(store: &'a StoreContextMut<'_, HostState>) -> Result<&'a LinkedProvider> {
    store
        .data()
        .linked
        .as_ref()
        .context("no provider is linked in this store")
}

/// Lends the consumer the provider memory that `opened` holds, if it opened.
fn lend(
    store: &mut StoreContextMut<'_, HostState>,
    opened: Result<ResourceAny, MemoryError>,
) -> Result<Result<Resource<ForwardedMemory>, MemoryError>> {
    Ok(match opened {
        Ok(memory) => Ok(store
            .data_mut()
            .linked
            .as_mut()
            .context("no provider linked")?
            .lend(memory)),
        Err(error) => Err(error),
    })
}

/// Defines `name` in `instance` as a method that forwards its arguments to the provider's
/// `call` on the resource behind the handle (`as` passes an argument by another form).
macro_rules! forward {
    ($instance:ident, $name:literal, $call:ident($($arg:ident: $ty:ty $(as $pass:expr)?),*)) => {
        $instance.func_wrap(
            $name,
            |mut store: StoreContextMut<'_, HostState>,
             (handle, $($arg,)*): (Resource<ForwardedMemory>, $($ty,)*)| {
                let (provider, memory) = target(&store, &handle)?;
                let api = provider.wasm_dbms_memory_memory_provider().memory();
                Ok((api.$call(&mut store, memory, $(forward!(@pass $arg $(as $pass)?)),*)?,))
            },
        )?
    };
    (@pass $arg:ident) => { $arg };
    (@pass $arg:ident as $pass:expr) => { $pass };
}

/// Defines the `memory-provider` import in `linker`, forwarding every call to the store's
/// [`LinkedProvider`].
pub fn add_provider_forwarding(linker: &mut Linker<HostState>) -> Result<()> {
    let mut instance = linker.instance(INTERFACE)?;
    instance.resource(
        "memory",
        ResourceType::host::<ForwardedMemory>(),
        |mut store, rep| {
            let linked = store
                .data_mut()
                .linked
                .as_mut()
                .context("no provider linked")?;
            let memory = linked
                .lent
                .get_mut(rep as usize)
                .and_then(Option::take)
                .context("unknown memory handle")?;
            memory.resource_drop(&mut store)
        },
    )?;
    instance.func_wrap(
        "[static]memory.open",
        |mut store: StoreContextMut<'_, HostState>, (path,): (String,)| {
            let provider = linked(&store)?.provider.clone();
            let api = provider.wasm_dbms_memory_memory_provider().memory();
            let opened = api.call_open(&mut store, &path)?;
            Ok((lend(&mut store, opened)?,))
        },
    )?;
    instance.func_wrap(
        "[static]memory.open-with",
        |mut store: StoreContextMut<'_, HostState>, (path, options): (String, OpenOptions)| {
            let provider = linked(&store)?.provider.clone();
            let api = provider.wasm_dbms_memory_memory_provider().memory();
            let opened = api.call_open_with(&mut store, &path, options)?;
            Ok((lend(&mut store, opened)?,))
        },
    )?;
    forward!(instance, "[method]memory.recovery", call_recovery());
    forward!(instance, "[method]memory.max-transfer", call_max_transfer());
    forward!(instance, "[method]memory.page-size", call_page_size());
    forward!(instance, "[method]memory.size", call_size());
    forward!(instance, "[method]memory.pages", call_pages());
    forward!(instance, "[method]memory.grow", call_grow(new_pages: u64));
    forward!(
        instance,
        "[method]memory.read",
        call_read(offset: u64, len: u64)
    );
    forward!(instance, "[method]memory.write", call_write(offset: u64, data: Vec<u8> as &data));
    forward!(
        instance,
        "[method]memory.read-words",
        call_read_words(offset: u64, count: u64)
    );
    forward!(instance, "[method]memory.write-words", call_write_words(offset: u64, data: Vec<u64> as &data));
    forward!(instance, "[method]memory.sync", call_sync());
    forward!(instance, "[method]memory.checkpoint", call_checkpoint());
    forward!(instance, "[method]memory.begin-group", call_begin_group());
    forward!(instance, "[method]memory.abort-group", call_abort_group());
    forward!(
        instance,
        "[method]memory.commit-group",
        call_commit_group(durable: bool)
    );
    Ok(())
}
