//! The simulated filesystem: its calls against wasmtime-wasi's on a real directory, its
//! crash model, its faults and limits, and the provider component running on it.
//!
//! Most tests drive the `wasi:filesystem` host calls directly (as a guest's calls arrive),
//! then look at the trace and the crash states; the last ones run the real provider.

mod common;

use std::collections::BTreeSet;
use std::time::Instant;

use host_test::dbms::{DbmsSession, Storage, all, text, uint};
use host_test::provider::{MemoryError, ProviderSession};
use host_test::simfs::bindings::wasi::filesystem::{preopens as sim_preopens, types as sim};
use host_test::simfs::{
    CallKind, CallKinds, CrashKind, CrashState, ErrorCode, MAX_READ, SimFs, SimFsView, TraceEntry,
};
use host_test::{HostState, Runtime, WasiConfig};
use wasmtime::Store;
use wasmtime::component::{Resource, ResourceTable};
use wasmtime_wasi::filesystem::{WasiFilesystemCtxView, WasiFilesystemView as _};
use wasmtime_wasi::p2::bindings::filesystem::preopens as real_preopens;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as real;

/// How a test opens a path.
#[derive(Clone, Copy, Default)]
struct Open {
    create: bool,
    exclusive: bool,
    truncate: bool,
    directory: bool,
    read: bool,
    write: bool,
}

const READ: Open = Open {
    create: false,
    exclusive: false,
    truncate: false,
    directory: false,
    read: true,
    write: false,
};
const WRITE_ONLY: Open = Open {
    write: true,
    read: false,
    ..READ
};
const READ_WRITE: Open = Open {
    write: true,
    ..READ
};
const CREATE: Open = Open {
    create: true,
    ..READ_WRITE
};

/// The `wasi:filesystem` calls a test makes, on descriptors named by their table index.
/// Outcomes are strings so that two implementations compare.
trait FsCalls {
    fn preopen(&mut self) -> u32;
    fn open(&mut self, dir: u32, path: &str, how: Open) -> Result<u32, String>;
    fn close(&mut self, fd: u32);
    fn read(&mut self, fd: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), String>;
    fn write(&mut self, fd: u32, data: &[u8], offset: u64) -> Result<u64, String>;
    fn set_size(&mut self, fd: u32, size: u64) -> Result<(), String>;
    fn sync(&mut self, fd: u32) -> Result<(), String>;
    fn sync_data(&mut self, fd: u32) -> Result<(), String>;
    /// Type, size, and for files the link count.
    fn stat(&mut self, fd: u32) -> Result<String, String>;
    fn stat_at(&mut self, dir: u32, path: &str) -> Result<String, String>;
    fn flags(&mut self, fd: u32) -> Result<String, String>;
    fn mkdir(&mut self, dir: u32, path: &str) -> Result<(), String>;
    fn rmdir(&mut self, dir: u32, path: &str) -> Result<(), String>;
    fn unlink(&mut self, dir: u32, path: &str) -> Result<(), String>;
    fn rename(&mut self, dir: u32, old: &str, new_dir: u32, new: &str) -> Result<(), String>;
    fn list(&mut self, dir: u32) -> Result<Vec<String>, String>;
    fn same(&mut self, one: u32, two: u32) -> bool;
}

/// Calls answered by the simulation, as the component's calls are.
struct Sim {
    fs: SimFs,
    table: ResourceTable,
}

impl Sim {
    fn new(fs: &SimFs) -> Self {
        Self {
            fs: fs.clone(),
            table: ResourceTable::new(),
        }
    }

    fn view(&mut self) -> SimFsView<'_> {
        SimFsView {
            fs: Some(&self.fs),
            table: &mut self.table,
        }
    }
}

/// The open and descriptor flags of `how`, in the types of the bindings module `$types`.
macro_rules! flags_of {
    ($types:ident, $how:expr) => {{
        let how: Open = $how;
        let mut open = $types::OpenFlags::empty();
        let mut flags = $types::DescriptorFlags::empty();
        for (on, bit) in [
            (how.create, $types::OpenFlags::CREATE),
            (how.exclusive, $types::OpenFlags::EXCLUSIVE),
            (how.truncate, $types::OpenFlags::TRUNCATE),
            (how.directory, $types::OpenFlags::DIRECTORY),
        ] {
            if on {
                open |= bit;
            }
        }
        if how.read {
            flags |= $types::DescriptorFlags::READ;
        }
        if how.write {
            flags |= $types::DescriptorFlags::WRITE;
        }
        (open, flags)
    }};
}

fn sim_code<T>(result: wasmtime::Result<Result<T, ErrorCode>>) -> Result<T, String> {
    result
        .expect("no trap")
        .map_err(|code| code.name().to_owned())
}

fn describe_stat(type_: String, size: u64, link_count: u64) -> String {
    if type_.ends_with("directory") {
        // A directory's size and link count depend on the filesystem under the real one.
        type_
    } else {
        format!("{type_} size {size} links {link_count}")
    }
}

fn describe_sim_stat(stat: sim::DescriptorStat) -> String {
    let type_ = format!("{:?}", stat.type_).to_lowercase();
    describe_stat(type_, stat.size, stat.link_count)
}

fn fd(rep: u32) -> Resource<host_test::simfs::SimDescriptor> {
    Resource::new_own(rep)
}

impl FsCalls for Sim {
    fn preopen(&mut self) -> u32 {
        let preopens = sim_preopens::Host::get_directories(&mut self.view()).unwrap();
        assert_eq!(preopens.len(), 1);
        preopens[0].0.rep()
    }

    fn open(&mut self, dir: u32, path: &str, how: Open) -> Result<u32, String> {
        let (open, flags) = flags_of!(sim, how);
        let result = sim::HostDescriptor::open_at(
            &mut self.view(),
            fd(dir),
            sim::PathFlags::empty(),
            path.into(),
            open,
            flags,
        );
        sim_code(result).map(|fd| fd.rep())
    }

    fn close(&mut self, rep: u32) {
        sim::HostDescriptor::drop(&mut self.view(), fd(rep)).unwrap();
    }

    fn read(&mut self, rep: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), String> {
        sim_code(sim::HostDescriptor::read(
            &mut self.view(),
            fd(rep),
            len,
            offset,
        ))
    }

    fn write(&mut self, rep: u32, data: &[u8], offset: u64) -> Result<u64, String> {
        sim_code(sim::HostDescriptor::write(
            &mut self.view(),
            fd(rep),
            data.to_vec(),
            offset,
        ))
    }

    fn set_size(&mut self, rep: u32, size: u64) -> Result<(), String> {
        sim_code(sim::HostDescriptor::set_size(
            &mut self.view(),
            fd(rep),
            size,
        ))
    }

    fn sync(&mut self, rep: u32) -> Result<(), String> {
        sim_code(sim::HostDescriptor::sync(&mut self.view(), fd(rep)))
    }

    fn sync_data(&mut self, rep: u32) -> Result<(), String> {
        sim_code(sim::HostDescriptor::sync_data(&mut self.view(), fd(rep)))
    }

    fn stat(&mut self, rep: u32) -> Result<String, String> {
        sim_code(sim::HostDescriptor::stat(&mut self.view(), fd(rep))).map(describe_sim_stat)
    }

    fn stat_at(&mut self, dir: u32, path: &str) -> Result<String, String> {
        sim_code(sim::HostDescriptor::stat_at(
            &mut self.view(),
            fd(dir),
            sim::PathFlags::SYMLINK_FOLLOW,
            path.into(),
        ))
        .map(describe_sim_stat)
    }

    fn flags(&mut self, rep: u32) -> Result<String, String> {
        sim_code(sim::HostDescriptor::get_flags(&mut self.view(), fd(rep)))
            .map(|flags| format!("{flags:?}"))
    }

    fn mkdir(&mut self, dir: u32, path: &str) -> Result<(), String> {
        sim_code(sim::HostDescriptor::create_directory_at(
            &mut self.view(),
            fd(dir),
            path.into(),
        ))
    }

    fn rmdir(&mut self, dir: u32, path: &str) -> Result<(), String> {
        sim_code(sim::HostDescriptor::remove_directory_at(
            &mut self.view(),
            fd(dir),
            path.into(),
        ))
    }

    fn unlink(&mut self, dir: u32, path: &str) -> Result<(), String> {
        sim_code(sim::HostDescriptor::unlink_file_at(
            &mut self.view(),
            fd(dir),
            path.into(),
        ))
    }

    fn rename(&mut self, dir: u32, old: &str, new_dir: u32, new: &str) -> Result<(), String> {
        sim_code(sim::HostDescriptor::rename_at(
            &mut self.view(),
            fd(dir),
            old.into(),
            fd(new_dir),
            new.into(),
        ))
    }

    fn list(&mut self, dir: u32) -> Result<Vec<String>, String> {
        let stream = sim_code(sim::HostDescriptor::read_directory(
            &mut self.view(),
            fd(dir),
        ))?;
        let mut names = Vec::new();
        loop {
            let entry = sim::HostDirectoryEntryStream::read_directory_entry(
                &mut self.view(),
                Resource::new_own(stream.rep()),
            );
            match sim_code(entry)? {
                Some(entry) => names.push(format!("{} {:?}", entry.name, entry.type_)),
                None => break,
            }
        }
        sim::HostDirectoryEntryStream::drop(&mut self.view(), stream).unwrap();
        names.sort();
        Ok(names)
    }

    fn same(&mut self, one: u32, two: u32) -> bool {
        sim::HostDescriptor::is_same_object(&mut self.view(), fd(one), fd(two)).unwrap()
    }
}

/// Calls answered by wasmtime-wasi on a real temporary directory.
struct Real {
    store: Store<HostState>,
    _dir: tempfile::TempDir,
}

impl Real {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Runtime::shared()
            .store(&WasiConfig::dir(dir.path()))
            .unwrap();
        Self { store, _dir: dir }
    }

    fn view(&mut self) -> WasiFilesystemCtxView<'_> {
        self.store.data_mut().filesystem()
    }
}

fn rfd(rep: u32) -> Resource<wasmtime_wasi::filesystem::Descriptor> {
    Resource::new_own(rep)
}

/// Runs one wasmtime-wasi call and names its error code.
macro_rules! real_call {
    ($self:ident, $method:ident($($arg:expr),*)) => {{
        let mut view = $self.view();
        let result = real::HostDescriptor::$method(&mut view, $($arg),*);
        result.map_err(|error| {
            real::Host::convert_error_code(&mut view, error)
                .expect("no trap")
                .name()
                .to_owned()
        })
    }};
}

fn describe_real_stat(stat: real::DescriptorStat) -> String {
    let type_ = format!("{:?}", stat.type_).to_lowercase();
    describe_stat(type_, stat.size, stat.link_count)
}

impl FsCalls for Real {
    fn preopen(&mut self) -> u32 {
        let preopens = real_preopens::Host::get_directories(&mut self.view()).unwrap();
        preopens[0].0.rep()
    }

    fn open(&mut self, dir: u32, path: &str, how: Open) -> Result<u32, String> {
        let (open, flags) = flags_of!(real, how);
        real_call!(
            self,
            open_at(rfd(dir), real::PathFlags::empty(), path.into(), open, flags)
        )
        .map(|fd| fd.rep())
    }

    fn close(&mut self, rep: u32) {
        real::HostDescriptor::drop(&mut self.view(), rfd(rep)).unwrap();
    }

    fn read(&mut self, rep: u32, len: u64, offset: u64) -> Result<(Vec<u8>, bool), String> {
        real_call!(self, read(rfd(rep), len, offset))
    }

    fn write(&mut self, rep: u32, data: &[u8], offset: u64) -> Result<u64, String> {
        real_call!(self, write(rfd(rep), data.to_vec(), offset))
    }

    fn set_size(&mut self, rep: u32, size: u64) -> Result<(), String> {
        real_call!(self, set_size(rfd(rep), size))
    }

    fn sync(&mut self, rep: u32) -> Result<(), String> {
        real_call!(self, sync(rfd(rep)))
    }

    fn sync_data(&mut self, rep: u32) -> Result<(), String> {
        real_call!(self, sync_data(rfd(rep)))
    }

    fn stat(&mut self, rep: u32) -> Result<String, String> {
        real_call!(self, stat(rfd(rep))).map(describe_real_stat)
    }

    fn stat_at(&mut self, dir: u32, path: &str) -> Result<String, String> {
        real_call!(
            self,
            stat_at(rfd(dir), real::PathFlags::SYMLINK_FOLLOW, path.into())
        )
        .map(describe_real_stat)
    }

    fn flags(&mut self, rep: u32) -> Result<String, String> {
        real_call!(self, get_flags(rfd(rep))).map(|flags| format!("{flags:?}"))
    }

    fn mkdir(&mut self, dir: u32, path: &str) -> Result<(), String> {
        real_call!(self, create_directory_at(rfd(dir), path.into()))
    }

    fn rmdir(&mut self, dir: u32, path: &str) -> Result<(), String> {
        real_call!(self, remove_directory_at(rfd(dir), path.into()))
    }

    fn unlink(&mut self, dir: u32, path: &str) -> Result<(), String> {
        real_call!(self, unlink_file_at(rfd(dir), path.into()))
    }

    fn rename(&mut self, dir: u32, old: &str, new_dir: u32, new: &str) -> Result<(), String> {
        real_call!(
            self,
            rename_at(rfd(dir), old.into(), rfd(new_dir), new.into())
        )
    }

    fn list(&mut self, dir: u32) -> Result<Vec<String>, String> {
        let stream = real_call!(self, read_directory(rfd(dir)))?;
        let mut names = Vec::new();
        loop {
            let mut view = self.view();
            let entry = real::HostDirectoryEntryStream::read_directory_entry(
                &mut view,
                Resource::new_own(stream.rep()),
            );
            let entry = entry.map_err(|error| {
                real::Host::convert_error_code(&mut view, error)
                    .unwrap()
                    .name()
                    .to_owned()
            })?;
            match entry {
                Some(entry) => names.push(format!("{} {:?}", entry.name, entry.type_)),
                None => break,
            }
        }
        real::HostDirectoryEntryStream::drop(&mut self.view(), stream).unwrap();
        names.sort();
        Ok(names)
    }

    fn same(&mut self, one: u32, two: u32) -> bool {
        real::HostDescriptor::is_same_object(&mut self.view(), rfd(one), rfd(two)).unwrap()
    }
}

/// A script of calls, many of them refused, recording every outcome.
fn script(fs: &mut dyn FsCalls) -> Vec<String> {
    let mut log = Vec::new();
    let mut note = |what: &str, outcome: String| log.push(format!("{what}: {outcome}"));
    let root = fs.preopen();
    note("root flags", format!("{:?}", fs.flags(root)));
    let file = fs.open(root, "a.db", CREATE).unwrap();
    note("write", format!("{:?}", fs.write(file, b"hello", 0)));
    note(
        "write past the end",
        format!("{:?}", fs.write(file, b"x", 10)),
    );
    note("read all", format!("{:?}", fs.read(file, 100, 0)));
    note("read at the end", format!("{:?}", fs.read(file, 10, 11)));
    note(
        "read far past the end",
        format!("{:?}", fs.read(file, 10, 1 << 40)),
    );
    note("read nothing", format!("{:?}", fs.read(file, 0, 0)));
    note(
        "read 2^40 bytes",
        format!("{:?}", fs.read(file, 1 << 40, 9)),
    );
    note(
        "write nothing past the end",
        format!("{:?}", fs.write(file, b"", 100)),
    );
    note("stat", format!("{:?}", fs.stat(file)));
    note("flags", format!("{:?}", fs.flags(file)));
    note("set size", format!("{:?}", fs.set_size(file, 3)));
    note(
        "read after set size",
        format!("{:?}", fs.read(file, 100, 0)),
    );
    note("sync", format!("{:?}", fs.sync(file)));
    note("sync data", format!("{:?}", fs.sync_data(file)));
    let big = 1u64 << 63;
    note("read at 2^63", format!("{:?}", fs.read(file, 1, big)));
    note("write at 2^63", format!("{:?}", fs.write(file, b"z", big)));
    note("set size 2^63", format!("{:?}", fs.set_size(file, big)));
    let exclusive = Open {
        exclusive: true,
        ..CREATE
    };
    for (what, path, how) in [
        ("exclusive create of an existing file", "a.db", exclusive),
        ("open a missing file", "missing", READ),
        ("open an escape", "../x", CREATE),
        ("open an absolute path", "/etc/hostname", READ),
        ("open the empty path", "", READ),
        ("open through a file", "a.db/x", READ),
        ("open a file with a trailing slash", "a.db/", READ),
        ("create with a trailing slash", "new/", CREATE),
        ("open with a NUL", "a\0b", READ),
        (
            "open a file as a directory",
            "a.db",
            Open {
                directory: true,
                ..READ
            },
        ),
        (
            "directory with create",
            "d",
            Open {
                directory: true,
                ..CREATE
            },
        ),
        (
            "directory with truncate",
            "d",
            Open {
                directory: true,
                truncate: true,
                ..READ
            },
        ),
    ] {
        note(what, format!("{:?}", fs.open(root, path, how).map(|_| ())));
    }
    note("mkdir", format!("{:?}", fs.mkdir(root, "d")));
    note("mkdir again", format!("{:?}", fs.mkdir(root, "d")));
    note("mkdir deep", format!("{:?}", fs.mkdir(root, "d/e/f")));
    note("mkdir .", format!("{:?}", fs.mkdir(root, ".")));
    note("mkdir escape", format!("{:?}", fs.mkdir(root, "../up")));
    note(
        "open a directory for writing",
        format!("{:?}", fs.open(root, "d", READ_WRITE).map(|_| ())),
    );
    note(
        "create over a directory",
        format!("{:?}", fs.open(root, "d", CREATE).map(|_| ())),
    );
    let dir = fs.open(root, "d", READ).unwrap();
    note("stat a directory", format!("{:?}", fs.stat(dir)));
    note("directory flags", format!("{:?}", fs.flags(dir)));
    note("read a directory", format!("{:?}", fs.read(dir, 1, 0)));
    note("write a directory", format!("{:?}", fs.write(dir, b"x", 0)));
    note(
        "set size of a directory",
        format!("{:?}", fs.set_size(dir, 1)),
    );
    note("sync a directory", format!("{:?}", fs.sync(dir)));
    note(
        "sync data of a directory",
        format!("{:?}", fs.sync_data(dir)),
    );
    note("sync the root", format!("{:?}", fs.sync(root)));
    note(
        "open relative to a file",
        format!("{:?}", fs.open(file, "x", READ).map(|_| ())),
    );
    note(
        "mkdir relative to a file",
        format!("{:?}", fs.mkdir(file, "x")),
    );
    let inner = fs.open(dir, "inner", CREATE).unwrap();
    note("write inner", format!("{:?}", fs.write(inner, b"inner", 0)));
    note(
        "escape from a subdirectory",
        format!("{:?}", fs.stat_at(dir, "../a.db")),
    );
    note(
        "dot-dot inside",
        format!("{:?}", fs.stat_at(root, "d/../a.db")),
    );
    note("stat .", format!("{:?}", fs.stat_at(root, ".")));
    note("stat ..", format!("{:?}", fs.stat_at(root, "..")));
    note("stat missing", format!("{:?}", fs.stat_at(root, "nope")));
    let reader = fs.open(root, "a.db", READ).unwrap();
    note(
        "write a read-only file",
        format!("{:?}", fs.write(reader, b"x", 0)),
    );
    note(
        "set size of a read-only file",
        format!("{:?}", fs.set_size(reader, 9)),
    );
    note(
        "sync a read-only file",
        format!("{:?}", fs.sync_data(reader)),
    );
    note("reader flags", format!("{:?}", fs.flags(reader)));
    note("same object", format!("{:?}", fs.same(reader, file)));
    note("not the same object", format!("{:?}", fs.same(reader, dir)));
    // Another file: the simulation refuses a second writer of `a.db` (`busy`).
    let writer = fs
        .open(
            root,
            "w.db",
            Open {
                create: true,
                ..WRITE_ONLY
            },
        )
        .unwrap();
    note(
        "read a write-only file",
        format!("{:?}", fs.read(writer, 1, 0)),
    );
    note("writer flags", format!("{:?}", fs.flags(writer)));
    fs.close(writer);
    let truncating = Open {
        truncate: true,
        ..READ_WRITE
    };
    let truncated = fs.open(root, "t.db", CREATE).unwrap();
    fs.write(truncated, b"0123456789", 0).unwrap();
    fs.close(truncated);
    let truncated = fs.open(root, "t.db", truncating).unwrap();
    note("truncating open", format!("{:?}", fs.stat(truncated)));
    fs.close(truncated);
    note("unlink a directory", format!("{:?}", fs.unlink(root, "d")));
    note("unlink .", format!("{:?}", fs.unlink(root, ".")));
    note(
        "unlink missing",
        format!("{:?}", fs.unlink(root, "missing")),
    );
    note(
        "unlink with a trailing slash",
        format!("{:?}", fs.unlink(root, "t.db/")),
    );
    note("rmdir a file", format!("{:?}", fs.rmdir(root, "a.db")));
    note("rmdir missing", format!("{:?}", fs.rmdir(root, "missing")));
    note("rmdir non-empty", format!("{:?}", fs.rmdir(root, "d")));
    note("rmdir .", format!("{:?}", fs.rmdir(root, ".")));
    note("rmdir ..", format!("{:?}", fs.rmdir(dir, "..")));
    note(
        "rename a file over a directory",
        format!("{:?}", fs.rename(root, "a.db", root, "d")),
    );
    note(
        "rename a directory over a file",
        format!("{:?}", fs.rename(root, "d", root, "a.db")),
    );
    note(
        "rename into itself",
        format!("{:?}", fs.rename(root, "d", dir, "sub")),
    );
    note(
        "rename missing",
        format!("{:?}", fs.rename(root, "missing", root, "y")),
    );
    note("rename .", format!("{:?}", fs.rename(root, ".", root, "y")));
    note(
        "rename onto itself",
        format!("{:?}", fs.rename(root, "t.db", root, "t.db")),
    );
    fs.mkdir(root, "e").unwrap();
    note(
        "rename a directory over a non-empty one",
        format!("{:?}", fs.rename(root, "e", root, "d")),
    );
    note(
        "rename a directory over an empty one",
        format!("{:?}", fs.rename(root, "d", root, "e")),
    );
    note("list after renaming d to e", format!("{:?}", fs.list(root)));
    note(
        "rename across directories",
        format!("{:?}", fs.rename(root, "a.db", dir, "moved.db")),
    );
    note(
        "stat the old name",
        format!("{:?}", fs.stat_at(root, "a.db")),
    );
    note(
        "stat the new name",
        format!("{:?}", fs.stat_at(root, "e/moved.db")),
    );
    note(
        "unlink the open file",
        format!("{:?}", fs.unlink(root, "e/moved.db")),
    );
    note(
        "read the unlinked file",
        format!("{:?}", fs.read(file, 10, 0)),
    );
    note("stat the unlinked file", format!("{:?}", fs.stat(file)));
    note("list a directory", format!("{:?}", fs.list(dir)));
    note("list a file", format!("{:?}", fs.list(file)));
    note("unlink inner", format!("{:?}", fs.unlink(dir, "inner")));
    note(
        "rmdir the open directory",
        format!("{:?}", fs.rmdir(root, "e")),
    );
    note(
        "create in a removed directory",
        format!("{:?}", fs.open(dir, "late", CREATE).map(|_| ())),
    );
    note("list the root", format!("{:?}", fs.list(root)));
    log
}

#[test]
fn the_simulation_answers_every_call_as_wasmtime_wasi_does_on_a_real_directory() {
    let real = script(&mut Real::new());
    let simulated = script(&mut Sim::new(&SimFs::new()));
    let differences: Vec<String> = real
        .iter()
        .zip(&simulated)
        .filter(|(real, simulated)| real != simulated)
        .map(|(real, simulated)| format!("real {real}\n      sim  {simulated}"))
        .collect();
    assert_eq!(real.len(), simulated.len());
    if std::env::var_os("SIMFS_SHOW_SCRIPT").is_some() {
        eprintln!("{}", real.join("\n"));
    }
    assert!(
        differences.is_empty(),
        "{} differences:\n{}",
        differences.len(),
        differences.join("\n")
    );
}

/// A guest's view of a simulated filesystem, with the root preopen open.
fn guest(fs: &SimFs) -> (Sim, u32) {
    let mut guest = Sim::new(fs);
    let root = guest.preopen();
    (guest, root)
}

/// The crash state of `kind` after everything so far.
fn state_now(fs: &SimFs, kind: CrashKind) -> CrashState {
    let mut replay = fs.replay();
    replay.advance_to(replay.trace_len());
    replay.state(kind)
}

/// `count` random crash states after everything so far.
fn random_states_now(fs: &SimFs, count: usize) -> Vec<CrashState> {
    let end = fs.trace_len();
    fs.crash_states([end], count, 7)
        .filter(|case| matches!(case.kind, CrashKind::Random { .. }))
        .map(|case| case.state)
        .collect()
}

#[test]
fn an_unsynced_write_is_lost_by_a_power_cut_and_kept_by_a_process_kill() {
    let fs = SimFs::from_files([("f", vec![1u8; 1024])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    guest.write(file, &[2; 1024], 0).unwrap();
    assert_eq!(fs.read("f").unwrap(), vec![2; 1024]);
    let kept = state_now(&fs, CrashKind::KeepEverything);
    let dropped = state_now(&fs, CrashKind::DropUnsynced);
    assert_eq!(kept.file("f"), Some(&[2u8; 1024][..]));
    assert_eq!(dropped.file("f"), Some(&[1u8; 1024][..]));
    assert_eq!(kept, fs.current_state());
}

#[test]
fn a_synced_write_survives_every_crash_state() {
    let fs = SimFs::from_files([("f", vec![1u8; 1024])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    guest.write(file, &[2; 1500], 0).unwrap();
    guest.sync_data(file).unwrap();
    let end = fs.trace_len();
    let cases: Vec<_> = fs.crash_states([end], 20, 1).collect();
    assert_eq!(cases.len(), 22);
    for case in cases {
        assert_eq!(
            case.state.file("f"),
            Some(&[2u8; 1500][..]),
            "{:?}",
            case.kind
        );
    }
}

#[test]
fn a_torn_write_leaves_each_sector_old_or_new() {
    let fs = SimFs::from_files([("f", vec![0xAA; 2048])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    guest.write(file, &[0xBB; 2048], 0).unwrap();
    let mut combinations = BTreeSet::new();
    for state in random_states_now(&fs, 300) {
        let bytes = state.file("f").unwrap();
        assert_eq!(bytes.len(), 2048);
        let sectors: Vec<u8> = bytes
            .chunks(512)
            .map(|sector| {
                assert!(sector.iter().all(|b| *b == sector[0]), "a sector is mixed");
                sector[0]
            })
            .collect();
        combinations.insert(sectors);
    }
    // Four independent sectors, each old or new: all sixteen combinations occur.
    assert_eq!(combinations.len(), 16);
    assert!(
        combinations
            .iter()
            .all(|sectors| sectors.iter().all(|b| [0xAA, 0xBB].contains(b)))
    );
}

#[test]
fn the_surviving_size_is_one_from_the_history_since_the_last_sync() {
    let fs = SimFs::from_files([("f", b"0123456789".to_vec())]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    guest.set_size(file, 4).unwrap();
    guest.sync(file).unwrap();
    // Since the sync: 4 -> 100 (write) -> 1000 (set-size) -> 2010 (write past the end).
    guest.write(file, &[7; 100], 0).unwrap();
    guest.set_size(file, 1000).unwrap();
    guest.write(file, &[9; 10], 2000).unwrap();
    let mut sizes = BTreeSet::new();
    for state in random_states_now(&fs, 200) {
        let bytes = state.file("f").unwrap();
        sizes.insert(bytes.len());
        // Nothing but the durable bytes, the writes' bytes and zeros ever appears.
        assert!(
            bytes[..4.min(bytes.len())]
                .iter()
                .all(|b| b"0123".contains(b) || *b == 7)
        );
        assert!(
            bytes[100.min(bytes.len())..2000.min(bytes.len())]
                .iter()
                .all(|b| *b == 0)
        );
        assert!(
            bytes[2000.min(bytes.len())..]
                .iter()
                .all(|b| *b == 9 || *b == 0)
        );
    }
    assert_eq!(sizes, BTreeSet::from([4, 100, 1000, 2010]));
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("f"),
        Some(&b"0123"[..])
    );
}

#[test]
fn a_created_file_survives_a_power_cut_only_once_its_directory_is_synced() {
    let fs = SimFs::new();
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "new.db", CREATE).unwrap();
    guest.write(file, b"data", 0).unwrap();
    guest.sync_data(file).unwrap();
    // The file's own sync does not persist its name.
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced),
        CrashState::default()
    );
    assert_eq!(
        state_now(&fs, CrashKind::KeepEverything).file("new.db"),
        Some(&b"data"[..])
    );
    guest.sync(root).unwrap();
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("new.db"),
        Some(&b"data"[..])
    );
    for state in random_states_now(&fs, 10) {
        assert_eq!(state.file("new.db"), Some(&b"data"[..]));
    }
}

#[test]
fn an_unlink_not_followed_by_a_directory_sync_can_come_back() {
    let fs = SimFs::from_files([("j", b"journal")]);
    let (mut guest, root) = guest(&fs);
    guest.unlink(root, "j").unwrap();
    assert!(!fs.exists("j"));
    assert_eq!(state_now(&fs, CrashKind::KeepEverything).file("j"), None);
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("j"),
        Some(&b"journal"[..])
    );
    let outcomes: BTreeSet<bool> = random_states_now(&fs, 20)
        .iter()
        .map(|state| state.file("j").is_some())
        .collect();
    assert_eq!(outcomes, BTreeSet::from([false, true]));
    guest.sync(root).unwrap();
    assert_eq!(state_now(&fs, CrashKind::DropUnsynced).file("j"), None);
}

#[test]
fn entry_changes_survive_as_a_prefix_in_order() {
    let fs = SimFs::new();
    let (mut guest, root) = guest(&fs);
    for name in ["a", "b", "c"] {
        let file = guest.open(root, name, CREATE).unwrap();
        guest.sync(file).unwrap();
        guest.close(file);
    }
    let survivors: BTreeSet<Vec<String>> = random_states_now(&fs, 100)
        .into_iter()
        .map(|state| state.files.into_keys().collect())
        .collect();
    let prefixes: BTreeSet<Vec<String>> = [vec![], vec!["a"], vec!["a", "b"], vec!["a", "b", "c"]]
        .into_iter()
        .map(|names| names.into_iter().map(String::from).collect())
        .collect();
    assert_eq!(survivors, prefixes);
}

#[test]
fn a_rename_within_a_directory_is_atomic() {
    let fs = SimFs::from_files([("data", b"old")]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "data.tmp", CREATE).unwrap();
    guest.write(file, b"new", 0).unwrap();
    guest.sync(file).unwrap();
    guest.rename(root, "data.tmp", root, "data").unwrap();
    let outcomes: BTreeSet<Vec<(String, Vec<u8>)>> = random_states_now(&fs, 100)
        .into_iter()
        .map(|state| state.files.into_iter().collect())
        .collect();
    let expected = BTreeSet::from([
        vec![("data".to_owned(), b"old".to_vec())],
        vec![
            ("data".to_owned(), b"old".to_vec()),
            ("data.tmp".to_owned(), b"new".to_vec()),
        ],
        vec![("data".to_owned(), b"new".to_vec())],
    ]);
    assert_eq!(outcomes, expected);
}

#[test]
fn entries_in_a_subdirectory_need_the_subdirectory_synced() {
    let fs = SimFs::new();
    let (mut guest, root) = guest(&fs);
    guest.mkdir(root, "d").unwrap();
    guest.sync(root).unwrap();
    let file = guest.open(root, "d/f", CREATE).unwrap();
    guest.write(file, b"x", 0).unwrap();
    guest.sync(file).unwrap();
    guest.sync(root).unwrap();
    let dropped = state_now(&fs, CrashKind::DropUnsynced);
    assert_eq!(dropped.directories, BTreeSet::from(["d".to_owned()]));
    assert_eq!(dropped.file("d/f"), None);
    let dir = guest.open(root, "d", READ).unwrap();
    guest.sync(dir).unwrap();
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("d/f"),
        Some(&b"x"[..])
    );
}

#[test]
fn a_crash_state_builds_a_fresh_filesystem_for_the_recovery() {
    let fs = SimFs::from_files([("a/b/c.db", b"abc".to_vec()), ("top", b"t".to_vec())]);
    let (mut guest, root) = guest(&fs);
    guest.mkdir(root, "empty").unwrap();
    guest.sync(root).unwrap();
    let state = state_now(&fs, CrashKind::DropUnsynced);
    assert_eq!(
        state.directories,
        BTreeSet::from(["a".into(), "a/b".into(), "empty".into()])
    );
    let recovered = state.to_fs();
    assert_eq!(recovered.current_state(), state);
    assert_eq!(recovered.read("a/b/c.db").unwrap(), b"abc");
    assert!(recovered.is_directory("empty"));
    assert_eq!(recovered.trace_len(), 0);
    assert_eq!(state_now(&recovered, CrashKind::DropUnsynced), state);
}

#[test]
fn write_durable_survives_every_crash_state() {
    let fs = SimFs::new();
    fs.write_durable("x/y/z.bin", b"setup");
    assert_eq!(fs.read("x/y/z.bin").unwrap(), b"setup");
    let end = fs.trace_len();
    for case in fs.crash_states([end], 5, 3) {
        assert_eq!(case.state.file("x/y/z.bin"), Some(&b"setup"[..]));
    }
    assert_eq!(fs.calls(), 0);
}

#[test]
fn a_fault_fails_exactly_the_nth_call_and_changes_nothing() {
    let fs = SimFs::from_files([("f", b"")]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    let calls = fs.calls();
    fs.fail_call(3, CallKind::Write, ErrorCode::Io);
    let trace_before = fs.trace_len();
    let outcomes: Vec<_> = (0..4u8)
        .map(|i| guest.write(file, &[b'a' + i], u64::from(i)))
        .collect();
    assert_eq!(outcomes, vec![Ok(1), Ok(1), Err("io".to_owned()), Ok(1)]);
    assert_eq!(fs.read("f").unwrap(), b"ab\0d");
    assert_eq!(fs.trace_len(), trace_before + 3);
    assert_eq!(fs.calls(), calls + 4);
    assert_eq!(fs.calls_of(CallKind::Write), 4);
    assert_eq!(fs.injected_faults(), 1);

    // Counting every kind: the second call from now, a stat, fails.
    fs.fail_call(2, CallKinds::ANY, ErrorCode::InsufficientSpace);
    assert_eq!(guest.read(file, 1, 0), Ok((b"a".to_vec(), false)));
    assert_eq!(guest.stat(file), Err("insufficient-space".to_owned()));
    assert!(guest.stat(file).is_ok());

    // A failed open creates nothing; a failed unlink removes nothing.
    fs.fail_call(1, CallKind::OpenAt, ErrorCode::FileTooLarge);
    assert_eq!(
        guest.open(root, "g", CREATE),
        Err("file-too-large".to_owned())
    );
    assert!(!fs.exists("g"));
    fs.fail_call(1, CallKind::UnlinkFileAt, ErrorCode::Io);
    assert_eq!(guest.unlink(root, "f"), Err("io".to_owned()));
    assert!(fs.exists("f"));

    // A dead device fails every matching call until cleared.
    fs.fail_calls_from(
        1,
        CallKinds::of(&[CallKind::Write, CallKind::SetSize]),
        ErrorCode::Io,
    );
    assert_eq!(guest.write(file, b"x", 0), Err("io".to_owned()));
    assert_eq!(guest.set_size(file, 0), Err("io".to_owned()));
    fs.clear_faults();
    assert_eq!(guest.set_size(file, 0), Ok(()));
}

#[test]
fn a_failed_sync_makes_nothing_durable() {
    let fs = SimFs::from_files([("f", b"old")]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", READ_WRITE).unwrap();
    guest.write(file, b"new", 0).unwrap();
    fs.fail_call(
        1,
        CallKinds::of(&[CallKind::Sync, CallKind::SyncData]),
        ErrorCode::Io,
    );
    assert_eq!(guest.sync_data(file), Err("io".to_owned()));
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("f"),
        Some(&b"old"[..])
    );
    assert!(
        !fs.trace()
            .iter()
            .any(|entry| matches!(entry, TraceEntry::SyncFile { .. }))
    );
    guest.sync_data(file).unwrap();
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("f"),
        Some(&b"new"[..])
    );
}

#[test]
fn capacity_cuts_writes_short_then_refuses_growth() {
    let fs = SimFs::from_files([("other", vec![0u8; 400])]);
    fs.set_capacity(Some(1000));
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", CREATE).unwrap();
    assert_eq!(guest.write(file, &[1; 500], 0), Ok(500));
    assert_eq!(guest.write(file, &[2; 500], 400), Ok(200));
    assert_eq!(fs.used_bytes(), 1000);
    assert_eq!(
        guest.write(file, &[3; 1], 600),
        Err("insufficient-space".to_owned())
    );
    assert_eq!(
        guest.set_size(file, 601),
        Err("insufficient-space".to_owned())
    );
    // Overwriting in place needs no space.
    assert_eq!(guest.write(file, &[4; 10], 0), Ok(10));
    let mut expected = vec![4u8; 10];
    expected.extend([1; 390]);
    expected.extend([2; 200]);
    assert_eq!(fs.read("f").unwrap(), expected);
    guest.unlink(root, "other").unwrap();
    assert_eq!(fs.used_bytes(), 600);
    assert_eq!(guest.set_size(file, 1000), Ok(()));
}

#[test]
fn the_file_size_limit_is_file_too_large() {
    let fs = SimFs::new();
    fs.set_max_file_size(1000);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "f", CREATE).unwrap();
    assert_eq!(guest.write(file, &[1; 10], 995), Ok(5));
    assert_eq!(
        guest.write(file, &[1; 10], 1000),
        Err("file-too-large".to_owned())
    );
    assert_eq!(guest.set_size(file, 1001), Err("file-too-large".to_owned()));
    assert_eq!(fs.read("f").unwrap().len(), 1000);
}

#[test]
fn a_second_writer_of_a_file_is_busy_and_changes_nothing() {
    let fs = SimFs::from_files([("db", b"content")]);
    let (mut first, first_root) = guest(&fs);
    let (mut second, second_root) = guest(&fs);
    let held = first.open(first_root, "db", READ_WRITE).unwrap();
    let truncating = Open {
        truncate: true,
        ..READ_WRITE
    };
    assert_eq!(
        second.open(second_root, "db", truncating),
        Err("busy".to_owned())
    );
    assert_eq!(
        second.open(second_root, "db", CREATE),
        Err("busy".to_owned())
    );
    assert_eq!(fs.read("db").unwrap(), b"content");
    let reader = second.open(second_root, "db", READ).unwrap();
    assert_eq!(
        second.read(reader, 100, 0),
        Ok((b"content".to_vec(), false))
    );
    first.close(held);
    let writer = second.open(second_root, "db", truncating).unwrap();
    assert_eq!(
        second.stat(writer).unwrap(),
        "descriptortype::regularfile size 0 links 1"
    );
    // A process that dies (its table dropped) releases its lock.
    drop(second);
    assert!(first.open(first_root, "db", READ_WRITE).is_ok());
}

#[test]
fn reads_are_bounded_whatever_length_is_asked() {
    let fs = SimFs::from_files([("big", vec![5u8; 100_000])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "big", READ).unwrap();
    let (bytes, end) = guest.read(file, 1 << 40, 0).unwrap();
    assert_eq!((bytes.len() as u64, end), (MAX_READ, false));
    let (bytes, end) = guest.read(file, u64::MAX, 99_990).unwrap();
    assert_eq!((bytes.len(), end), (10, false));
}

#[test]
fn preopens_are_configurable() {
    let fs = SimFs::from_files([("srv/data/db", b"x")]);
    fs.set_preopens(&[("srv/data", "/data"), ("missing", "/gone"), ("", ".")]);
    let mut guest = Sim::new(&fs);
    let preopens = sim_preopens::Host::get_directories(&mut guest.view()).unwrap();
    let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
    assert_eq!(names, vec!["/data", "."]);
    let data = preopens[0].0.rep();
    let file = guest.open(data, "db", READ).unwrap();
    assert_eq!(guest.read(file, 10, 0), Ok((b"x".to_vec(), false)));
    assert_eq!(
        guest.stat_at(data, "../data/db"),
        Err("not-permitted".to_owned())
    );
}

#[test]
fn marks_tell_each_crash_state_which_operations_had_returned() {
    let fs = SimFs::from_files([("log", b"")]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "log", READ_WRITE).unwrap();
    for record in 0..5u64 {
        guest.write(file, &[record as u8 + 1], record).unwrap();
        guest.sync_data(file).unwrap();
        fs.mark(record);
    }
    let cuts: Vec<usize> = (0..=fs.trace_len()).collect();
    let mut cases = 0;
    for case in fs.crash_states(cuts, 3, 11) {
        cases += 1;
        let bytes = case.state.file("log").unwrap();
        // Every record whose mark precedes the cut is there; a later one is there, or
        // its sector is still the durable one (zeros).
        let acknowledged = case.last_mark.map_or(0, |mark| mark as usize + 1);
        assert!(bytes.len() >= acknowledged, "{case:?}");
        for (index, byte) in bytes.iter().enumerate() {
            if index < acknowledged {
                assert_eq!(*byte, index as u8 + 1, "{case:?}");
            } else {
                assert!([0, index as u8 + 1].contains(byte), "{case:?}");
            }
        }
    }
    assert_eq!(cases, (fs.trace_len() + 1) * 5);
}

#[test]
fn a_sweep_over_cut_points_matches_a_replay_to_each_point() {
    let fs = SimFs::from_files([("a", vec![1u8; 3000])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "a", READ_WRITE).unwrap();
    let other = guest.open(root, "b", CREATE).unwrap();
    for step in 0..40u64 {
        guest
            .write(file, &[step as u8; 700], step * 97 % 2500)
            .unwrap();
        guest.write(other, &[step as u8; 100], step * 50).unwrap();
        if step % 7 == 0 {
            guest.sync_data(file).unwrap();
        }
        if step % 11 == 0 {
            guest.sync(root).unwrap();
        }
        if step % 13 == 0 {
            guest.set_size(other, step * 20).unwrap();
        }
    }
    let cuts: Vec<usize> = (0..=fs.trace_len()).step_by(5).collect();
    for case in fs.crash_states(cuts, 2, 5) {
        let mut replay = fs.replay();
        replay.advance_to(case.cut);
        assert_eq!(
            replay.state(case.kind),
            case.state,
            "{:?} at {}",
            case.kind,
            case.cut
        );
    }
    assert_eq!(
        state_now(&fs, CrashKind::KeepEverything),
        fs.current_state()
    );
}

/// The scale the crash model is built for: a trace of 10^4 changes on a file of 4 MiB,
/// states at 1,000 cut points.
#[test]
fn a_thousand_cut_points_over_ten_thousand_changes_take_one_pass() {
    const SIZE: u64 = 4 << 20;
    let fs = SimFs::from_files([("big", vec![0u8; SIZE as usize])]);
    let (mut guest, root) = guest(&fs);
    let file = guest.open(root, "big", READ_WRITE).unwrap();
    let mut rng = common::Rng::new(42);
    let mut durable_writes = 0u64;
    for step in 0..10_000u64 {
        let offset = rng.below(SIZE - 4096);
        guest
            .write(file, &[(step % 251) as u8 + 1; 4096], offset)
            .unwrap();
        if step % 100 == 99 {
            guest.sync_data(file).unwrap();
            durable_writes = step + 1;
            fs.mark(durable_writes);
        }
    }
    assert_eq!(durable_writes, 10_000);
    let len = fs.trace_len();
    let cuts: Vec<usize> = (0..1000).map(|i| i * len / 1000).collect();
    let started = Instant::now();
    let mut states = 0;
    for case in fs.crash_states(cuts, 1, 9) {
        assert_eq!(case.state.file("big").map(<[u8]>::len), Some(SIZE as usize));
        states += 1;
    }
    assert_eq!(states, 3000);
    eprintln!(
        "3000 crash states of a 4 MiB file in {:?}",
        started.elapsed()
    );
}

/// Bytes in one page of the provider's memory.
const PAGE: usize = 65536;

#[test]
fn the_provider_runs_on_the_simulated_filesystem_and_every_crash_state_reopens() {
    let fs = SimFs::from_files([("db.bin", b"")]);
    let mut provider =
        ProviderSession::new(Runtime::shared(), &WasiConfig::simulated(fs.clone())).unwrap();
    let memory = provider.open("db.bin").unwrap().unwrap();
    assert_eq!(provider.grow(memory, 2).unwrap(), Ok(0));
    fs.mark(1);
    provider.write(memory, 100, b"hello").unwrap().unwrap();
    fs.mark(2);
    assert_eq!(
        provider.read(memory, 98, 9).unwrap().unwrap(),
        b"\0\0hello\0\0"
    );
    provider.sync(memory).unwrap().unwrap();
    fs.mark(3);
    let mut expected = vec![0u8; 2 * PAGE];
    expected[100..105].copy_from_slice(b"hello");
    assert_eq!(fs.read("db.bin").unwrap(), expected);
    assert!(fs.calls_of(CallKind::SetSize) >= 1);
    assert!(fs.calls_of(CallKind::SyncData) + fs.calls_of(CallKind::Sync) >= 1);
    provider.close(memory).unwrap();

    let cuts: Vec<usize> = (0..=fs.trace_len()).collect();
    let mut seen = BTreeSet::new();
    for case in fs.crash_states(cuts, 3, 17) {
        let disk = case.state.to_fs();
        let mut recovery =
            ProviderSession::new(Runtime::shared(), &WasiConfig::simulated(disk)).unwrap();
        let memory = recovery.open("db.bin").unwrap().unwrap();
        let pages = recovery.pages(memory).unwrap();
        assert!(pages == 0 || pages == 2, "{case:?}: {pages} pages");
        let hello = pages == 2 && {
            let bytes = recovery.read(memory, 0, 2 * PAGE as u64).unwrap().unwrap();
            let written = bytes[100..105] == *b"hello";
            assert!(written || bytes[100..105] == [0; 5], "{case:?}");
            assert!(bytes[..100].iter().all(|b| *b == 0), "{case:?}");
            assert!(bytes[105..].iter().all(|b| *b == 0), "{case:?}");
            written
        };
        let acknowledged = case.last_mark.unwrap_or(0);
        if acknowledged >= 3 {
            // `sync` returned: the growth and the write survive every crash.
            assert!(pages == 2 && hello, "{case:?}");
        }
        if case.kind == CrashKind::KeepEverything {
            // A process kill loses nothing that returned.
            if acknowledged >= 1 {
                assert_eq!(pages, 2, "{case:?}");
            }
            if acknowledged >= 2 {
                assert!(hello, "{case:?}");
            }
        }
        seen.insert((pages, hello));
    }
    // The sweep reached the empty file, the grown one, and the written one.
    assert_eq!(seen, BTreeSet::from([(0, false), (2, false), (2, true)]));
}

#[test]
fn a_failed_sync_ends_the_memory_and_a_reopen_syncs_again() {
    let fs = SimFs::from_files([("db.bin", b"")]);
    let mut provider =
        ProviderSession::new(Runtime::shared(), &WasiConfig::simulated(fs.clone())).unwrap();
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.grow(memory, 1).unwrap().unwrap();
    provider.write(memory, 0, b"data").unwrap().unwrap();
    fs.fail_call(
        1,
        CallKinds::of(&[CallKind::Sync, CallKind::SyncData]),
        ErrorCode::Io,
    );
    let error = provider.sync(memory).unwrap().unwrap_err();
    assert!(matches!(error, MemoryError::ReopenRequired(_)), "{error:?}");
    assert_eq!(fs.injected_faults(), 1);
    assert_eq!(
        state_now(&fs, CrashKind::DropUnsynced).file("db.bin"),
        Some(&b""[..])
    );
    assert!(matches!(
        provider.sync(memory).unwrap(),
        Err(MemoryError::ReopenRequired(_))
    ));
    drop(provider);
    let mut provider =
        ProviderSession::new(Runtime::shared(), &WasiConfig::simulated(fs.clone())).unwrap();
    let memory = provider.open("db.bin").unwrap().unwrap();
    provider.sync(memory).unwrap().unwrap();
    let durable = state_now(&fs, CrashKind::DropUnsynced);
    assert_eq!(&durable.file("db.bin").unwrap()[..4], b"data");
}

#[test]
fn wasm_dbms_runs_on_the_simulated_filesystem_linked_and_composed() {
    for storage in [Storage::Linked, Storage::Composed] {
        let fs = SimFs::new();
        let wasi = WasiConfig::simulated(fs.clone()).with_seed(7);
        let mut session = DbmsSession::new(Runtime::shared(), &wasi, storage).unwrap();
        let db = session.open_with("library.db", true).unwrap().unwrap();
        let row = vec![
            uint("id", 1),
            text("name", "Ursula Le Guin"),
            text("email", "ursula@example.org"),
        ];
        session.insert(db, "authors", &row).unwrap().unwrap();
        let rows = session.select(db, "authors", &all()).unwrap().unwrap();
        assert_eq!(rows, vec![row.clone()], "{storage:?}");
        session.close(db).unwrap();
        drop(session);
        let size = fs.read("library.db").expect("the database file").len();
        assert!(
            size > 0 && size.is_multiple_of(PAGE),
            "{storage:?}: {size} bytes"
        );

        // A process kill keeps every acknowledged insert.
        let disk = state_now(&fs, CrashKind::KeepEverything).to_fs();
        let mut session =
            DbmsSession::new(Runtime::shared(), &WasiConfig::simulated(disk), storage).unwrap();
        let db = session.open("library.db").unwrap().unwrap();
        let rows = session.select(db, "authors", &all()).unwrap().unwrap();
        assert_eq!(rows, vec![row], "{storage:?}");
    }
}
