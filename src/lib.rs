//! A wasm-dbms memory provider as a WebAssembly component.
//!
//! The component exports `wasm-dbms:memory/memory-provider`: every `memory` resource is one
//! file of 64 KiB pages, reached through `wasi:filesystem` and laid out byte-for-byte like
//! Internet Computer stable memory. Groups of writes commit atomically through a redo
//! journal beside the file.

mod bounds;
mod error;
mod fault;
mod group;
mod journal;
mod lock;
mod page_file;
mod preopen;
mod words;

use std::cell::{Cell, RefCell};

use bindings::exports::wasm_dbms::memory::memory_provider::{
    Guest, GuestMemory, Memory as MemoryHandle, MemoryError,
};

use crate::bounds::{PAGE_SIZE, checked_end, grown_size};
use crate::group::Group;
use crate::lock::PathLock;
use crate::page_file::PageFile;

mod bindings {
    wit_bindgen::generate!({ path: "wit", world: "provider" });
}

/// The component's export: the `memory-provider` interface.
struct Provider;

impl Guest for Provider {
    type Memory = Memory;
}

/// One open memory: its file, its committed page count, the open group if any, and the
/// lock on its path.
pub struct Memory {
    file: PageFile,
    pages: Cell<u64>,
    group: RefCell<Option<Group>>,
    poisoned: Cell<bool>,
    _lock: PathLock,
}

impl Memory {
    /// The page count, the open group's included.
    fn current_pages(&self) -> u64 {
        match &*self.group.borrow() {
            Some(group) => group.pages,
            None => self.pages.get(),
        }
    }

    fn size(&self) -> u64 {
        self.current_pages() * PAGE_SIZE
    }

    /// Refuses every call after a commit failed halfway.
    fn usable(&self) -> Result<(), MemoryError> {
        if self.poisoned.get() {
            return Err(error::io_detail(
                self.file.key(),
                "a commit failed after its journal was written; open the file again to recover",
            ));
        }
        Ok(())
    }

    /// Replays a complete journal left by a crash into the file, then removes it.
    fn recover(file: &PageFile) -> Result<(), MemoryError> {
        let Some(bytes) = file.read_journal()? else {
            return Ok(());
        };
        if let Some(journal) = journal::decode(&bytes) {
            file.set_size(journal.size)?;
            for (offset, data) in &journal.writes {
                file.write_all_at(*offset, data)?;
            }
            file.sync()?;
        }
        file.remove_journal()
    }

    fn read_bytes(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        checked_end(offset, len, self.size())?;
        let group = self.group.borrow();
        let Some(group) = group.as_ref() else {
            return self.file.read_exact_at(offset, len);
        };
        // The file holds the committed pages; pages the group grew read as zeros.
        let on_file = len.min((self.pages.get() * PAGE_SIZE).saturating_sub(offset));
        let mut out = if on_file > 0 {
            self.file.read_exact_at(offset, on_file)?
        } else {
            Vec::new()
        };
        let missing = usize::try_from(len - on_file).unwrap_or(usize::MAX);
        out.try_reserve_exact(missing).map_err(|_| {
            error::io_detail(self.file.key(), &format!("cannot allocate {len} bytes"))
        })?;
        out.resize(out.len() + missing, 0);
        group.overlay(offset, &mut out);
        Ok(out)
    }

    fn write_bytes(&self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        checked_end(offset, data.len() as u64, self.size())?;
        let mut group = self.group.borrow_mut();
        let Some(group) = group.as_mut() else {
            return self.file.write_all_at(offset, data);
        };
        group.write(offset, data);
        Ok(())
    }
}

impl GuestMemory for Memory {
    fn open(path: String) -> Result<MemoryHandle, MemoryError> {
        let file = PageFile::open(&path)?;
        let lock = PathLock::acquire(file.key().to_owned()).ok_or(MemoryError::Locked)?;
        Memory::recover(&file)?;
        let pages = file.pages()?;
        Ok(MemoryHandle::new(Memory {
            file,
            pages: Cell::new(pages),
            group: RefCell::new(None),
            poisoned: Cell::new(false),
            _lock: lock,
        }))
    }

    fn page_size(&self) -> u64 {
        PAGE_SIZE
    }

    fn size(&self) -> u64 {
        Memory::size(self)
    }

    fn pages(&self) -> u64 {
        self.current_pages()
    }

    fn grow(&self, new_pages: u64) -> Result<u64, MemoryError> {
        self.usable()?;
        let previous = self.current_pages();
        if new_pages == 0 {
            return Ok(previous);
        }
        let new_size = grown_size(previous, new_pages)?;
        match &mut *self.group.borrow_mut() {
            Some(group) => group.pages = previous + new_pages,
            None => {
                self.file.set_size(new_size)?;
                self.pages.set(previous + new_pages);
            }
        }
        Ok(previous)
    }

    fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        self.usable()?;
        self.read_bytes(offset, len)
    }

    fn write(&self, offset: u64, data: Vec<u8>) -> Result<(), MemoryError> {
        self.usable()?;
        self.write_bytes(offset, &data)
    }

    fn read_words(&self, offset: u64, count: u64) -> Result<Vec<u64>, MemoryError> {
        self.usable()?;
        let len = count.checked_mul(8).ok_or(MemoryError::OutOfBounds)?;
        Ok(words::from_bytes(&self.read_bytes(offset, len)?))
    }

    fn write_words(&self, offset: u64, data: Vec<u64>) -> Result<(), MemoryError> {
        self.usable()?;
        self.write_bytes(offset, words::as_bytes(&data))
    }

    fn sync(&self) -> Result<(), MemoryError> {
        self.usable()?;
        self.file.sync()
    }

    fn begin_group(&self) -> Result<(), MemoryError> {
        self.usable()?;
        let mut group = self.group.borrow_mut();
        if group.is_some() {
            return Err(error::io_detail(self.file.key(), "a group is already open"));
        }
        *group = Some(Group::new(self.pages.get()));
        Ok(())
    }

    fn commit_group(&self, durable: bool) -> Result<(), MemoryError> {
        self.usable()?;
        let group = self
            .group
            .borrow_mut()
            .take()
            .ok_or_else(|| error::io_detail(self.file.key(), "no group is open"))?;
        if group.is_empty() && group.pages == self.pages.get() {
            return Ok(());
        }
        let size = group.pages * PAGE_SIZE;
        // Until the journal is complete the file is untouched: a failure discards the group.
        self.file
            .write_journal(&journal::encode(size, group.ranges()), durable)?;
        let applied = (|| {
            if group.pages != self.pages.get() {
                self.file.set_size(size)?;
            }
            for (offset, data) in group.ranges() {
                self.file.write_all_at(offset, data)?;
            }
            if durable {
                self.file.sync()?;
            }
            self.file.remove_journal()
        })();
        if applied.is_err() {
            self.poisoned.set(true);
        }
        applied?;
        self.pages.set(group.pages);
        Ok(())
    }
}

bindings::export!(Provider with_types_in bindings);
