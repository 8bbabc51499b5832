//! Counting syncs: the benchmark reports how many `sync` and `sync-data` calls a durable
//! commit costs. The host shadows both methods of wasmtime-wasi's `wasi:filesystem/types`,
//! counts each call in the store's [`HostState`], and runs wasmtime-wasi's own.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView, WasiFilesystemView as _};
use wasmtime_wasi::p2::FsResult;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{ErrorCode, Host, HostDescriptor};

use crate::file_lock::FILESYSTEM_TYPES;
use crate::host::HostState;

/// Shadows `sync` and `sync-data` in `linker` (which must hold wasmtime-wasi's definitions)
/// with versions that count each call in [`HostState::syncs`].
pub fn add_sync_counting(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut instance = linker.instance(FILESYSTEM_TYPES)?;
    instance.func_wrap(
        "[method]descriptor.sync-data",
        |store: StoreContextMut<'_, HostState>, (descriptor,): (Resource<Descriptor>,)| {
            counted(store, descriptor, |view, d| {
                HostDescriptor::sync_data(view, d)
            })
        },
    )?;
    instance.func_wrap(
        "[method]descriptor.sync",
        |store: StoreContextMut<'_, HostState>, (descriptor,): (Resource<Descriptor>,)| {
            counted(store, descriptor, |view, d| HostDescriptor::sync(view, d))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// Counts one sync in the store, then runs `sync` as wasmtime-wasi does.
fn counted(
    mut store: StoreContextMut<'_, HostState>,
    descriptor: Resource<Descriptor>,
    sync: impl FnOnce(&mut WasiFilesystemCtxView<'_>, Resource<Descriptor>) -> FsResult<()>,
) -> wasmtime::Result<(Result<(), ErrorCode>,)> {
    store.data_mut().syncs += 1;
    let mut view = store.data_mut().filesystem();
    let synced = match sync(&mut view, descriptor) {
        Ok(()) => Ok(()),
        Err(error) => Err(Host::convert_error_code(&mut view, error)?),
    };
    Ok((synced,))
}
