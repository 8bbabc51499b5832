//! One writer per file on the real filesystem: `open-at` with the `write` flag takes an
//! exclusive OS lock.
//!
//! WASI 0.2 has no file locks, so two processes (or two instances in one process) could
//! write one database file at once. The host closes that gap: it shadows
//! `[method]descriptor.open-at` of wasmtime-wasi's `wasi:filesystem/types`, opens as
//! wasmtime-wasi does, and when the guest opened a regular file with the `write`
//! descriptor flag, takes an exclusive, non-blocking `flock` on it
//! ([`std::fs::File::try_lock`]). When another open file description holds it (another
//! process, or another descriptor in this one), the new descriptor is closed and the guest
//! gets `error-code::busy`. The kernel releases the lock when the descriptor is dropped or
//! the process dies, so nothing is left to clean up after a crash.
//!
//! A `truncate` asked with the `write` flag waits for the lock: a refused open leaves the
//! file as it was.

use std::fs::TryLockError;
use std::sync::Arc;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemCtxView, WasiFilesystemView as _};
use wasmtime_wasi::p2::FsError;
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    DescriptorFlags, ErrorCode, Host, HostDescriptor, OpenFlags, PathFlags,
};

/// The versioned name under which wasmtime-wasi defines `wasi:filesystem/types` (the
/// version of the WIT it ships; `wit-simfs/deps/filesystem.wit` is a copy).
pub const FILESYSTEM_TYPES: &str = "wasi:filesystem/types@0.2.12";

/// The arguments of `[method]descriptor.open-at`.
type OpenAtArguments = (
    Resource<Descriptor>,
    PathFlags,
    String,
    OpenFlags,
    DescriptorFlags,
);

/// Shadows wasmtime-wasi's `open-at` in `linker` (which must hold
/// [`wasmtime_wasi::p2::add_to_linker_sync`]'s definitions) with the locking one.
pub fn add_write_lock_to_open<T: WasiView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut instance = linker.instance(FILESYSTEM_TYPES)?;
    instance.func_wrap(
        "[method]descriptor.open-at",
        |mut store: StoreContextMut<'_, T>,
         (directory, path_flags, path, open_flags, flags): OpenAtArguments| {
            let mut view = store.data_mut().filesystem();
            let opened = open_at_locked(&mut view, directory, path_flags, path, open_flags, flags)?;
            Ok((opened,))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

/// wasmtime-wasi's `open-at`, then the lock of a file opened with the `write` flag.
fn open_at_locked(
    view: &mut WasiFilesystemCtxView<'_>,
    directory: Resource<Descriptor>,
    path_flags: PathFlags,
    path: String,
    open_flags: OpenFlags,
    flags: DescriptorFlags,
) -> wasmtime::Result<Result<Resource<Descriptor>, ErrorCode>> {
    let writes = flags.contains(DescriptorFlags::WRITE);
    let deferred_truncate = writes
        && open_flags.contains(OpenFlags::TRUNCATE)
        && !open_flags.contains(OpenFlags::DIRECTORY);
    let os_flags = if deferred_truncate {
        open_flags & !OpenFlags::TRUNCATE
    } else {
        open_flags
    };
    let opened = match HostDescriptor::open_at(view, directory, path_flags, path, os_flags, flags) {
        Ok(opened) => opened,
        Err(error) => return Ok(Err(Host::convert_error_code(view, error)?)),
    };
    if !writes {
        return Ok(Ok(opened));
    }
    let file = match view.table.get(&opened)? {
        Descriptor::File(file) => Arc::clone(&file.file),
        Descriptor::Dir(_) => return Ok(Ok(opened)),
    };
    let mut refusal = match file.try_lock() {
        Ok(()) => None,
        Err(TryLockError::WouldBlock) => Some(ErrorCode::Busy),
        Err(TryLockError::Error(error)) => Some(io_error_code(view, error)?),
    };
    if refusal.is_none()
        && deferred_truncate
        && let Err(error) = file.set_len(0)
    {
        refusal = Some(io_error_code(view, error)?);
    }
    match refusal {
        None => Ok(Ok(opened)),
        Some(code) => {
            HostDescriptor::drop(view, opened)?;
            Ok(Err(code))
        }
    }
}

/// The `error-code` wasmtime-wasi gives `error`.
fn io_error_code(
    view: &mut WasiFilesystemCtxView<'_>,
    error: std::io::Error,
) -> wasmtime::Result<ErrorCode> {
    Host::convert_error_code(view, FsError::from(error))
}
