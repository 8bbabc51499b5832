//! Where a memory's files are: the directory that holds their entries, found through the
//! preopened directories, and the memory's file and journal in it.
//!
//! Both files live in one directory, the one named by the path's parent; that directory is
//! the one synced when an entry must survive a power loss.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, OpenFlags, PathFlags,
};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::error::io;
use crate::file::File;
use crate::preopen::resolve;

/// What a journal's name ends with: `<file>-journal`.
pub const JOURNAL_SUFFIX: &str = "-journal";

/// The directory holding a memory's file, the file's name in it, and how it is named in
/// messages and locks.
pub struct Location {
    directory: Descriptor,
    name: String,
    path: String,
    key: String,
}

impl Location {
    /// Finds the directory that holds `path`, the way a WASI program resolves it against
    /// its preopens, and checks that the name may hold a memory.
    pub fn resolve(path: &str) -> Result<Self, MemoryError> {
        let mut preopens = get_directories();
        let names: Vec<&str> = preopens.iter().map(|(_, name)| name.as_str()).collect();
        let invalid = |why: &str| MemoryError::InvalidPath(format!("`{path}` {why}"));
        let (index, relative) =
            resolve(&names, path).ok_or_else(|| invalid("lies in no preopened directory"))?;
        let (parent, name) = match relative.rsplit_once('/') {
            Some((parent, name)) => (Some(parent.to_owned()), name.to_owned()),
            None => (None, relative.clone()),
        };
        if name.is_empty() {
            return Err(invalid("is a preopened directory, not a file"));
        }
        if name.ends_with(JOURNAL_SUFFIX) {
            return Err(invalid(
                "ends in `-journal`, the name of a memory's journal; choose another name",
            ));
        }
        let (root, preopen_name) = preopens.swap_remove(index);
        let directory = match parent {
            None => root,
            Some(parent) => root
                .open_at(
                    PathFlags::SYMLINK_FOLLOW,
                    &parent,
                    OpenFlags::DIRECTORY,
                    DescriptorFlags::READ,
                )
                .map_err(|code| io(path, "open the directory of", code))?,
        };
        Ok(Self {
            directory,
            name,
            key: format!("{preopen_name}\u{0}{relative}"),
            path: path.to_owned(),
        })
    }

    /// The file's identity within this component instance: its preopen and its path there.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The path as the opener gave it.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Opens the memory's file for reading and writing, creating it when missing; says
    /// whether it was created (its entry is then not yet durable).
    ///
    /// Only `read | write` descriptor flags are asked for, so hosts that refuse the
    /// directory-mutation or sync flags on open (such as jco) open the file too.
    pub fn open_file(&self) -> Result<(File, bool), MemoryError> {
        // A symbolic link is refused rather than followed: the journal lives beside the path
        // opened, and two paths to one file would give it two journals.
        let open = |flags| {
            self.directory.open_at(
                PathFlags::empty(),
                &self.name,
                flags,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
        };
        let (descriptor, created) = match open(OpenFlags::CREATE | OpenFlags::EXCLUSIVE) {
            Ok(descriptor) => (descriptor, true),
            Err(ErrorCode::Exist) => (
                open(OpenFlags::empty()).map_err(|c| self.open_error(c))?,
                false,
            ),
            Err(code) => return Err(self.open_error(code)),
        };
        let kind = descriptor
            .get_type()
            .map_err(|code| io(&self.path, "stat", code))?;
        if kind != DescriptorType::RegularFile {
            return Err(MemoryError::InvalidPath(format!(
                "`{}` is not a regular file",
                self.path
            )));
        }
        Ok((File::new(descriptor, self.path.clone()), created))
    }

    fn open_error(&self, code: ErrorCode) -> MemoryError {
        match code {
            ErrorCode::Busy | ErrorCode::WouldBlock => MemoryError::Locked(format!(
                "`{}` is held by another process (the host refused to let this one write it)",
                self.path
            )),
            ErrorCode::IsDirectory => {
                MemoryError::InvalidPath(format!("`{}` is a directory, not a file", self.path))
            }
            ErrorCode::Loop => MemoryError::InvalidPath(format!(
                "`{}` is a symbolic link; open the file it points to",
                self.path
            )),
            code => io(&self.path, "open", code),
        }
    }

    /// The journal's path, as messages name it.
    pub fn journal_path(&self) -> String {
        format!("{}{JOURNAL_SUFFIX}", self.path)
    }

    fn journal_name(&self) -> String {
        format!("{}{JOURNAL_SUFFIX}", self.name)
    }

    /// Opens the journal beside the file, if there is one.
    pub fn open_journal(&self) -> Result<Option<File>, MemoryError> {
        match self.directory.open_at(
            PathFlags::empty(),
            &self.journal_name(),
            OpenFlags::empty(),
            DescriptorFlags::READ | DescriptorFlags::WRITE,
        ) {
            Ok(descriptor) => match descriptor.get_type() {
                Ok(DescriptorType::RegularFile) => {
                    Ok(Some(File::new(descriptor, self.journal_path())))
                }
                _ => Err(self.journal_taken()),
            },
            Err(ErrorCode::NoEntry) => Ok(None),
            Err(ErrorCode::IsDirectory | ErrorCode::Loop) => Err(self.journal_taken()),
            Err(code) => Err(io(&self.journal_path(), "open", code)),
        }
    }

    /// The error of a journal's name taken by something that is not a regular file.
    fn journal_taken(&self) -> MemoryError {
        MemoryError::InvalidPath(format!(
            "`{}` is not a journal of this provider, so `{}` cannot keep its journal there; it \
             was left untouched: move it away",
            self.journal_path(),
            self.path
        ))
    }

    /// Creates the journal beside the file; it must not exist.
    pub fn create_journal(&self) -> Result<File, MemoryError> {
        let descriptor = self
            .directory
            .open_at(
                PathFlags::empty(),
                &self.journal_name(),
                OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
                DescriptorFlags::READ | DescriptorFlags::WRITE,
            )
            .map_err(|code| io(&self.journal_path(), "create", code))?;
        Ok(File::new(descriptor, self.journal_path()))
    }

    /// Removes the journal beside the file; a journal already gone is no error.
    pub fn remove_journal(&self) -> Result<(), MemoryError> {
        match self.directory.unlink_file_at(&self.journal_name()) {
            Ok(()) | Err(ErrorCode::NoEntry) => Ok(()),
            Err(code) => Err(io(&self.journal_path(), "remove", code)),
        }
    }

    /// Puts the directory's entries (the file's and the journal's names) on stable storage.
    ///
    /// Like SQLite, a host that cannot sync a directory (jco's preview2-shim answers
    /// `invalid`) is taken as one whose entries need no sync, and nothing is done.
    pub fn sync_directory(&self) -> Result<(), MemoryError> {
        match self.directory.sync() {
            Ok(())
            | Err(ErrorCode::Invalid | ErrorCode::Unsupported | ErrorCode::BadDescriptor) => Ok(()),
            Err(code) => Err(io(&self.path, "sync the directory of", code)),
        }
    }
}
