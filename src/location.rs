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

/// Whether `name` ends in the journal's suffix, in any case: on a case-insensitive
/// filesystem (macOS, Windows) `db-JOURNAL` is the journal of `db`.
fn is_journal_name(name: &str) -> bool {
    name.len() >= JOURNAL_SUFFIX.len()
        && name.as_bytes()[name.len() - JOURNAL_SUFFIX.len()..]
            .eq_ignore_ascii_case(JOURNAL_SUFFIX.as_bytes())
}

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
        if is_journal_name(&name) {
            return Err(invalid(
                "ends in `-journal` (in any case: on a case-insensitive filesystem that is the \
                 name of a memory's journal); choose another name",
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

    /// Opens the memory's file for reading and writing, if it exists.
    ///
    /// Only `read | write` descriptor flags are asked for, so hosts that refuse the
    /// directory-mutation or sync flags on open (such as jco) open the file too.
    pub fn open_existing_file(&self) -> Result<Option<File>, MemoryError> {
        match self.open_file_with(OpenFlags::empty()) {
            Ok(file) => self.regular(file).map(Some),
            Err(ErrorCode::NoEntry) => Ok(None),
            Err(code) => Err(self.open_error(code)),
        }
    }

    /// Opens the memory's file (or with `journal`, its journal) for reading only, if it
    /// can: to tell who holds a file the host refused to let this process write.
    pub fn open_for_reading(&self, journal: bool) -> Option<File> {
        let (name, path) = match journal {
            false => (self.name.clone(), self.path.clone()),
            true => (self.journal_name(), self.journal_path()),
        };
        let descriptor = self
            .directory
            .open_at(
                PathFlags::empty(),
                &name,
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .ok()?;
        Some(File::new(descriptor, path))
    }

    /// Creates the memory's file, empty; `None` when a file appeared at its name since it
    /// was found missing.
    pub fn create_file(&self) -> Result<Option<File>, MemoryError> {
        match self.open_file_with(OpenFlags::CREATE | OpenFlags::EXCLUSIVE) {
            Ok(file) => self.regular(file).map(Some),
            Err(ErrorCode::Exist) => Ok(None),
            Err(code) => Err(self.open_error(code)),
        }
    }

    /// Removes the memory's file, which this open created.
    pub fn remove_file(&self) -> Result<(), MemoryError> {
        self.directory
            .unlink_file_at(&self.name)
            .map_err(|code| io(&self.path, "remove", code))
    }

    fn open_file_with(&self, flags: OpenFlags) -> Result<File, ErrorCode> {
        // A symbolic link is refused rather than followed: the journal lives beside the path
        // opened, and two paths to one file would give it two journals.
        let descriptor = self.directory.open_at(
            PathFlags::empty(),
            &self.name,
            flags,
            DescriptorFlags::READ | DescriptorFlags::WRITE,
        )?;
        Ok(File::new(descriptor, self.path.clone()))
    }

    /// `file`, if it is a regular file.
    fn regular(&self, file: File) -> Result<File, MemoryError> {
        match file.kind()? {
            DescriptorType::RegularFile => Ok(file),
            _ => Err(MemoryError::InvalidPath(format!(
                "`{}` is not a regular file",
                self.path
            ))),
        }
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
            Ok(descriptor) => {
                let file = File::new(descriptor, self.journal_path());
                match file.kind() {
                    Ok(DescriptorType::RegularFile) => Ok(Some(file)),
                    _ => Err(self.journal_taken()),
                }
            }
            Err(ErrorCode::NoEntry) => Ok(None),
            Err(ErrorCode::IsDirectory | ErrorCode::Loop) => Err(self.journal_taken()),
            Err(ErrorCode::Busy | ErrorCode::WouldBlock) => Err(MemoryError::Locked(format!(
                "`{}`, the journal of `{}`, is held by another process (the host refused to let \
                 this one write it)",
                self.journal_path(),
                self.path
            ))),
            Err(code) => Err(io(&self.journal_path(), "open", code)),
        }
    }

    /// The error of a journal's name taken by something that is not a journal of this
    /// provider.
    pub fn journal_taken(&self) -> MemoryError {
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

#[cfg(test)]
mod tests {
    use super::is_journal_name;

    #[test]
    fn the_journal_suffix_is_reserved_in_any_case() {
        for name in ["db-journal", "db.bin-JOURNAL", "x-Journal", "-jOuRnAl"] {
            assert!(is_journal_name(name), "{name}");
        }
        for name in [
            "db",
            "journal",
            "db-journa",
            "db-journal.bin",
            "dbjournal",
            "é-journaé",
        ] {
            assert!(!is_journal_name(name), "{name}");
        }
    }
}
