//! The simulated filesystem as a component sees it: bindings of `wasi:filesystem/types` and
//! `wasi:filesystem/preopens`, the `descriptor` resource, and the `Host` trait
//! implementations that answer each call from a [`SimFs`].
//!
//! Descriptor checks follow wasmtime-wasi on Linux: a directory call on a file descriptor is
//! `not-directory`, a file call on a directory descriptor `bad-descriptor`, a read through
//! a descriptor not opened for reading or a write through one not opened for writing
//! `bad-descriptor`, and `set-size` through one not opened for writing `invalid`.

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

use super::fault::CallKind;
use super::trace::NodeId;
use super::tree::{Kind, OpenRequest, Stat};
use super::{ErrorCode, Identity, SimFs};

/// Bindings of the two interfaces the simulation serves (WIT in `wit-simfs/`).
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "wit-simfs",
        world: "host-test:simfs/simulated-filesystem",
        imports: { default: trappable },
        with: {
            "wasi:io": wasmtime_wasi::p2::bindings::io,
            "wasi:clocks": wasmtime_wasi::p2::bindings::clocks,
            "wasi:filesystem/types.descriptor": super::SimDescriptor,
            "wasi:filesystem/types.directory-entry-stream": super::SimDirectoryEntries,
        },
        require_store_data_send: true,
    });
}

use bindings::wasi::filesystem::{preopens, types};

/// The guest's type-level results: a trap (`Err`) or the call's own result.
type CallResult<T> = wasmtime::Result<Result<T, ErrorCode>>;

/// An open file or directory of a simulated filesystem: the `descriptor` resource.
///
/// Dropping it closes it, releasing its write lock: as the kernel does when a process
/// closes a file or dies.
pub struct SimDescriptor {
    fs: SimFs,
    node: NodeId,
    kind: Kind,
    /// Opened for reading.
    read: bool,
    /// Opened for writing (a directory: opened as a preopen, which may be changed).
    write: bool,
    /// Holds the file's write lock (opened with the `write` descriptor flag).
    write_lock: bool,
}

impl SimDescriptor {
    /// The file this descriptor opened, or `bad-descriptor` for a directory.
    fn file(&self) -> Result<NodeId, ErrorCode> {
        match self.kind {
            Kind::File => Ok(self.node),
            Kind::Directory => Err(ErrorCode::BadDescriptor),
        }
    }

    /// The directory this descriptor opened, or `not-directory` for a file.
    fn directory(&self) -> Result<NodeId, ErrorCode> {
        match self.kind {
            Kind::Directory => Ok(self.node),
            Kind::File => Err(ErrorCode::NotDirectory),
        }
    }
}

impl Drop for SimDescriptor {
    fn drop(&mut self) {
        self.fs.release(self.node, self.write_lock);
    }
}

/// The entries a `read-directory` listed: the `directory-entry-stream` resource.
pub struct SimDirectoryEntries {
    fs: SimFs,
    entries: std::vec::IntoIter<types::DirectoryEntry>,
}

/// What the `Host` traits work on: the store's simulated filesystem and resource table.
pub struct SimFsView<'a> {
    /// The store's simulated filesystem (`None` in a store of the real filesystem: every
    /// call then traps).
    pub fs: Option<&'a SimFs>,
    /// The store's resource table, shared with wasmtime-wasi.
    pub table: &'a mut ResourceTable,
}

/// The [`HasData`] of the simulation's bindings.
pub struct SimFsHost;

impl HasData for SimFsHost {
    type Data<'a> = SimFsView<'a>;
}

/// Serves `wasi:filesystem/types` and `wasi:filesystem/preopens` in `linker` from the
/// simulation, shadowing what [`wasmtime_wasi::p2::add_to_linker_sync`] defined there.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> SimFsView<'_>,
) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    types::add_to_linker::<T, SimFsHost>(linker, view)?;
    preopens::add_to_linker::<T, SimFsHost>(linker, view)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl SimFsView<'_> {
    fn descriptor(&self, fd: &Resource<SimDescriptor>) -> wasmtime::Result<&SimDescriptor> {
        Ok(self.table.get(fd)?)
    }

    /// Runs `op` on the descriptor's filesystem as a call of `kind`.
    fn on_descriptor<R>(
        &self,
        fd: &Resource<SimDescriptor>,
        kind: CallKind,
        op: impl FnOnce(&SimDescriptor, &mut super::tree::Tree) -> Result<R, ErrorCode>,
    ) -> CallResult<R> {
        let descriptor = self.descriptor(fd)?;
        Ok(descriptor.fs.call(kind, |tree| op(descriptor, tree)))
    }

    /// Counts a call the simulation does not implement and answers `unsupported`.
    fn unsupported<R>(&self, fd: &Resource<SimDescriptor>) -> CallResult<R> {
        self.on_descriptor(fd, CallKind::Unsupported, |_, _| {
            Err(ErrorCode::Unsupported)
        })
    }
}

fn descriptor_type(kind: Kind) -> types::DescriptorType {
    match kind {
        Kind::File => types::DescriptorType::RegularFile,
        Kind::Directory => types::DescriptorType::Directory,
    }
}

fn descriptor_stat(stat: Stat) -> types::DescriptorStat {
    types::DescriptorStat {
        type_: descriptor_type(stat.kind),
        link_count: stat.link_count,
        size: stat.size,
        data_access_timestamp: None,
        data_modification_timestamp: None,
        status_change_timestamp: None,
    }
}

/// A hash of a node's identity, stable for its life; with `modified` (jco's way), of its
/// modification count too.
fn metadata_hash(node: NodeId, modified: Option<u64>) -> types::MetadataHashValue {
    let mix = |mut z: u64| {
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    match modified {
        None => types::MetadataHashValue {
            lower: mix(node.0.wrapping_add(0x9E37_79B9_7F4A_7C15)),
            upper: mix(node.0 ^ 0x5EED_F11E_5EED_F11E),
        },
        Some(modified) => types::MetadataHashValue {
            lower: node.0,
            upper: mix(modified.wrapping_add(0x9E37_79B9_7F4A_7C15)),
        },
    }
}

impl types::Host for SimFsView<'_> {
    fn filesystem_error_code(
        &mut self,
        _error: Resource<types::Error>,
    ) -> wasmtime::Result<Option<ErrorCode>> {
        Ok(None)
    }
}

impl types::HostDescriptor for SimFsView<'_> {
    fn read_via_stream(
        &mut self,
        fd: Resource<SimDescriptor>,
        _offset: types::Filesize,
    ) -> CallResult<Resource<types::InputStream>> {
        self.unsupported(&fd)
    }

    fn write_via_stream(
        &mut self,
        fd: Resource<SimDescriptor>,
        _offset: types::Filesize,
    ) -> CallResult<Resource<types::OutputStream>> {
        self.unsupported(&fd)
    }

    fn append_via_stream(
        &mut self,
        fd: Resource<SimDescriptor>,
    ) -> CallResult<Resource<types::OutputStream>> {
        self.unsupported(&fd)
    }

    fn advise(
        &mut self,
        fd: Resource<SimDescriptor>,
        _offset: types::Filesize,
        _length: types::Filesize,
        _advice: types::Advice,
    ) -> CallResult<()> {
        self.on_descriptor(&fd, CallKind::Advise, |d, _| d.file().map(|_| ()))
    }

    fn sync_data(&mut self, fd: Resource<SimDescriptor>) -> CallResult<()> {
        let d = self.descriptor(&fd)?;
        Ok(d.fs.sync(CallKind::SyncData, d.node))
    }

    fn get_flags(&mut self, fd: Resource<SimDescriptor>) -> CallResult<types::DescriptorFlags> {
        self.on_descriptor(&fd, CallKind::GetFlags, |d, _| {
            let mut flags = types::DescriptorFlags::empty();
            if d.read {
                flags |= types::DescriptorFlags::READ;
            }
            if d.write {
                flags |= match d.kind {
                    Kind::File => types::DescriptorFlags::WRITE,
                    Kind::Directory => types::DescriptorFlags::MUTATE_DIRECTORY,
                };
            }
            Ok(flags)
        })
    }

    fn get_type(&mut self, fd: Resource<SimDescriptor>) -> CallResult<types::DescriptorType> {
        self.on_descriptor(&fd, CallKind::GetType, |d, _| Ok(descriptor_type(d.kind)))
    }

    fn set_size(&mut self, fd: Resource<SimDescriptor>, size: types::Filesize) -> CallResult<()> {
        self.on_descriptor(&fd, CallKind::SetSize, |d, tree| {
            let file = d.file()?;
            if !d.write {
                return Err(ErrorCode::Invalid);
            }
            tree.set_size(file, size)
        })
    }

    fn set_times(
        &mut self,
        fd: Resource<SimDescriptor>,
        _data_access_timestamp: types::NewTimestamp,
        _data_modification_timestamp: types::NewTimestamp,
    ) -> CallResult<()> {
        self.unsupported(&fd)
    }

    fn read(
        &mut self,
        fd: Resource<SimDescriptor>,
        length: types::Filesize,
        offset: types::Filesize,
    ) -> CallResult<(Vec<u8>, bool)> {
        self.on_descriptor(&fd, CallKind::Read, |d, tree| {
            let file = d.file()?;
            if !d.read {
                return Err(ErrorCode::BadDescriptor);
            }
            tree.read(file, length, offset)
        })
    }

    fn write(
        &mut self,
        fd: Resource<SimDescriptor>,
        buffer: Vec<u8>,
        offset: types::Filesize,
    ) -> CallResult<types::Filesize> {
        self.on_descriptor(&fd, CallKind::Write, |d, tree| {
            let file = d.file()?;
            if !d.write {
                return Err(ErrorCode::BadDescriptor);
            }
            tree.write(file, &buffer, offset)
        })
    }

    fn read_directory(
        &mut self,
        fd: Resource<SimDescriptor>,
    ) -> CallResult<Resource<SimDirectoryEntries>> {
        let listed = self.on_descriptor(&fd, CallKind::ReadDirectory, |d, tree| {
            let entries: Vec<types::DirectoryEntry> = tree
                .list(d.directory()?)
                .into_iter()
                .map(|(name, kind)| types::DirectoryEntry {
                    type_: descriptor_type(kind),
                    name,
                })
                .collect();
            Ok((d.fs.clone(), entries))
        })?;
        Ok(match listed {
            Ok((fs, entries)) => Ok(self.table.push(SimDirectoryEntries {
                fs,
                entries: entries.into_iter(),
            })?),
            Err(code) => Err(code),
        })
    }

    fn sync(&mut self, fd: Resource<SimDescriptor>) -> CallResult<()> {
        let d = self.descriptor(&fd)?;
        Ok(d.fs.sync(CallKind::Sync, d.node))
    }

    fn create_directory_at(&mut self, fd: Resource<SimDescriptor>, path: String) -> CallResult<()> {
        self.on_descriptor(&fd, CallKind::CreateDirectoryAt, |d, tree| {
            tree.create_directory(d.directory()?, &path)
        })
    }

    fn stat(&mut self, fd: Resource<SimDescriptor>) -> CallResult<types::DescriptorStat> {
        self.on_descriptor(&fd, CallKind::Stat, |d, tree| {
            Ok(descriptor_stat(tree.stat(d.node)))
        })
    }

    fn stat_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _path_flags: types::PathFlags,
        path: String,
    ) -> CallResult<types::DescriptorStat> {
        self.on_descriptor(&fd, CallKind::StatAt, |d, tree| {
            let node = tree.lookup(d.directory()?, &path)?;
            Ok(descriptor_stat(tree.stat(node)))
        })
    }

    fn set_times_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _path_flags: types::PathFlags,
        _path: String,
        _data_access_timestamp: types::NewTimestamp,
        _data_modification_timestamp: types::NewTimestamp,
    ) -> CallResult<()> {
        self.unsupported(&fd)
    }

    fn link_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _old_path_flags: types::PathFlags,
        _old_path: String,
        _new_descriptor: Resource<SimDescriptor>,
        _new_path: String,
    ) -> CallResult<()> {
        self.unsupported(&fd)
    }

    fn open_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _path_flags: types::PathFlags,
        path: String,
        open_flags: types::OpenFlags,
        flags: types::DescriptorFlags,
    ) -> CallResult<Resource<SimDescriptor>> {
        use types::{DescriptorFlags as D, OpenFlags as O};
        let request = OpenRequest {
            create: open_flags.contains(O::CREATE),
            exclusive: open_flags.contains(O::EXCLUSIVE),
            truncate: open_flags.contains(O::TRUNCATE),
            directory: open_flags.contains(O::DIRECTORY),
            write: flags.contains(D::WRITE),
            write_mode: flags.contains(D::WRITE) || open_flags.intersects(O::CREATE | O::TRUNCATE),
        };
        let read = flags.contains(D::READ) || !flags.contains(D::WRITE);
        let opened = self.on_descriptor(&fd, CallKind::OpenAt, |d, tree| {
            let base = d.directory()?;
            if flags.intersects(
                D::FILE_INTEGRITY_SYNC | D::DATA_INTEGRITY_SYNC | D::REQUESTED_WRITE_SYNC,
            ) {
                return Err(ErrorCode::Unsupported);
            }
            if request.directory && (request.create || request.exclusive || request.truncate) {
                return Err(ErrorCode::Invalid);
            }
            let (node, kind) = tree.open(base, &path, request)?;
            Ok(SimDescriptor {
                fs: d.fs.clone(),
                node,
                kind,
                read,
                write: request.write_mode,
                write_lock: request.write && kind == Kind::File,
            })
        })?;
        Ok(match opened {
            Ok(descriptor) => Ok(self.table.push(descriptor)?),
            Err(code) => Err(code),
        })
    }

    fn readlink_at(&mut self, fd: Resource<SimDescriptor>, _path: String) -> CallResult<String> {
        self.unsupported(&fd)
    }

    fn remove_directory_at(&mut self, fd: Resource<SimDescriptor>, path: String) -> CallResult<()> {
        self.on_descriptor(&fd, CallKind::RemoveDirectoryAt, |d, tree| {
            tree.remove_directory(d.directory()?, &path)
        })
    }

    fn rename_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        old_path: String,
        new_descriptor: Resource<SimDescriptor>,
        new_path: String,
    ) -> CallResult<()> {
        let target = self.descriptor(&new_descriptor)?;
        let (target_fs, target_node) = (target.fs.clone(), target.directory());
        self.on_descriptor(&fd, CallKind::RenameAt, |d, tree| {
            let from = d.directory()?;
            let to = target_node?;
            if !d.fs.same(&target_fs) {
                return Err(ErrorCode::CrossDevice);
            }
            tree.rename(from, &old_path, to, &new_path)
        })
    }

    fn symlink_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _old_path: String,
        _new_path: String,
    ) -> CallResult<()> {
        self.unsupported(&fd)
    }

    fn unlink_file_at(&mut self, fd: Resource<SimDescriptor>, path: String) -> CallResult<()> {
        self.on_descriptor(&fd, CallKind::UnlinkFileAt, |d, tree| {
            tree.unlink(d.directory()?, &path)
        })
    }

    fn is_same_object(
        &mut self,
        fd: Resource<SimDescriptor>,
        other: Resource<SimDescriptor>,
    ) -> wasmtime::Result<bool> {
        let (one, two) = (self.descriptor(&fd)?, self.descriptor(&other)?);
        Ok(match one.fs.identity() {
            Identity::Inode => one.fs.same(&two.fs) && one.node == two.node,
            Identity::LikeJco => fd.rep() == other.rep(),
        })
    }

    fn metadata_hash(
        &mut self,
        fd: Resource<SimDescriptor>,
    ) -> CallResult<types::MetadataHashValue> {
        let d = self.descriptor(&fd)?;
        let modified = match d.fs.identity() {
            Identity::Inode => None,
            Identity::LikeJco => Some(d.fs.modified(d.node)),
        };
        self.on_descriptor(&fd, CallKind::MetadataHash, |d, _| {
            Ok(metadata_hash(d.node, modified))
        })
    }

    fn metadata_hash_at(
        &mut self,
        fd: Resource<SimDescriptor>,
        _path_flags: types::PathFlags,
        path: String,
    ) -> CallResult<types::MetadataHashValue> {
        let like_jco = self.descriptor(&fd)?.fs.identity() == Identity::LikeJco;
        self.on_descriptor(&fd, CallKind::MetadataHashAt, |d, tree| {
            let node = tree.lookup(d.directory()?, &path)?;
            Ok(metadata_hash(node, like_jco.then(|| tree.modified(node))))
        })
    }

    fn drop(&mut self, fd: Resource<SimDescriptor>) -> wasmtime::Result<()> {
        // Deleting the entry drops the descriptor, which closes it.
        self.table.delete(fd)?;
        Ok(())
    }
}

impl types::HostDirectoryEntryStream for SimFsView<'_> {
    fn read_directory_entry(
        &mut self,
        stream: Resource<SimDirectoryEntries>,
    ) -> CallResult<Option<types::DirectoryEntry>> {
        let stream = self.table.get_mut(&stream)?;
        let fs = stream.fs.clone();
        Ok(fs.call(CallKind::ReadDirectoryEntry, |_| Ok(stream.entries.next())))
    }

    fn drop(&mut self, stream: Resource<SimDirectoryEntries>) -> wasmtime::Result<()> {
        self.table.delete(stream)?;
        Ok(())
    }
}

impl preopens::Host for SimFsView<'_> {
    fn get_directories(&mut self) -> wasmtime::Result<Vec<(Resource<SimDescriptor>, String)>> {
        let fs = self
            .fs
            .ok_or_else(|| wasmtime::error::format_err!("this store has no simulated filesystem"))?
            .clone();
        // Every descriptor is built before any is pushed: one that is never pushed is
        // dropped, which closes it.
        let held: Vec<(SimDescriptor, String)> = fs
            .hold_preopens()
            .into_iter()
            .map(|(node, name)| {
                let descriptor = SimDescriptor {
                    fs: fs.clone(),
                    node,
                    kind: Kind::Directory,
                    read: true,
                    write: true,
                    write_lock: false,
                };
                (descriptor, name)
            })
            .collect();
        let mut directories = Vec::with_capacity(held.len());
        for (descriptor, name) in held {
            directories.push((self.table.push(descriptor)?, name));
        }
        Ok(directories)
    }
}
