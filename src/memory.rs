//! One open memory as the contract describes it: bounds and limits, the open group and its
//! view of the bytes, and the refusal of every call after a commit that must be completed
//! by a new open. What reaches the files, and when, is `protocol.rs`'s.

use std::cell::RefCell;
use std::rc::Rc;

use crate::bindings::exports::wasm_dbms::memory::memory_provider::{
    MemoryError, OpenOptions, Recovery,
};
use crate::bounds::{Limits, PAGE_SIZE, checked_transfer};
use crate::error::{NOT_COMMITTED, io_detail};
use crate::group::Group;
use crate::location::Location;
use crate::protocol::Storage;
use crate::registry::{self, Registration};

/// An open memory.
pub struct Memory {
    storage: Rc<RefCell<Storage>>,
    group: RefCell<Option<Group>>,
    /// Why every call is refused, once a commit failed past the point of withdrawal.
    reopen_required: RefCell<Option<String>>,
    limits: Limits,
    recovery: Recovery,
    _registration: Registration,
}

impl Memory {
    /// Opens the memory at `path` with `options`.
    pub fn open(path: &str, options: &OpenOptions) -> Result<Self, MemoryError> {
        let limits = Limits::from_options(options)?;
        let location = Location::resolve(path)?;
        // Checked before the journal is touched: another memory of this file would share it.
        registry::refuse_path(location.key(), path)?;
        let file = held_elsewhere(Storage::open_file(&location), &location, false, path)?;
        registry::refuse_file(&file, path)?;
        let journal = held_elsewhere(location.open_journal(), &location, true, path)?;
        if let Some(journal) = &journal {
            registry::refuse_file(journal, path)?;
        }
        let (storage, recovery) = Storage::recover(location, file, journal, limits)?;
        let storage = Rc::new(RefCell::new(storage));
        Ok(Self {
            _registration: Registration::new(&storage),
            storage,
            group: RefCell::new(None),
            reopen_required: RefCell::new(None),
            limits,
            recovery,
        })
    }

    /// What the open found and did.
    pub fn recovery(&self) -> Recovery {
        self.recovery.clone()
    }

    /// The page count, the open group's growth included.
    pub fn pages(&self) -> u64 {
        match &*self.group.borrow() {
            Some(group) => group.pages,
            None => self.storage.borrow().pages(),
        }
    }

    /// The size in bytes, the open group's growth included.
    pub fn size(&self) -> u64 {
        self.pages() * PAGE_SIZE
    }

    /// Refuses every call once one answered `reopen-required`.
    fn usable(&self) -> Result<(), MemoryError> {
        match &*self.reopen_required.borrow() {
            Some(why) => Err(MemoryError::ReopenRequired(why.clone())),
            None => Ok(()),
        }
    }

    /// Passes `result` on, remembering a `reopen-required` so that every later call refuses.
    fn settled<T>(&self, result: Result<T, MemoryError>) -> Result<T, MemoryError> {
        if let Err(MemoryError::ReopenRequired(why)) = &result {
            *self.reopen_required.borrow_mut() = Some(why.clone());
        }
        result
    }

    /// `grow`: the page count before the call.
    pub fn grow(&self, new_pages: u64) -> Result<u64, MemoryError> {
        self.usable()?;
        let previous = self.pages();
        if new_pages == 0 {
            return Ok(previous);
        }
        let size = self.limits.grown_size(previous, new_pages)?;
        match &mut *self.group.borrow_mut() {
            Some(group) => group.pages = size / PAGE_SIZE,
            None => self.settled(self.storage.borrow_mut().grow(size / PAGE_SIZE))?,
        }
        Ok(previous)
    }

    /// `read` of `len` bytes at `offset`, with the open group's writes laid over the file's.
    pub fn read(&self, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
        self.usable()?;
        let len = checked_transfer(offset, len, self.size())?;
        let storage = self.storage.borrow();
        let group = self.group.borrow();
        let Some(group) = group.as_ref() else {
            return storage.read(offset, len);
        };
        // The file holds the committed pages; pages the group grew read as zeros.
        let on_file = (len as u64).min((storage.pages() * PAGE_SIZE).saturating_sub(offset));
        let mut out = if on_file > 0 {
            storage.read(offset, on_file as usize)?
        } else {
            Vec::new()
        };
        out.try_reserve_exact(len - out.len())
            .map_err(|_| io_detail(storage.path(), &format!("cannot allocate {len} bytes")))?;
        out.resize(len, 0);
        group.overlay(offset, &mut out);
        Ok(out)
    }

    /// `write` of `data` at `offset`: into the open group, or straight to the file.
    pub fn write(&self, offset: u64, data: &[u8]) -> Result<(), MemoryError> {
        self.usable()?;
        checked_transfer(offset, data.len() as u64, self.size())?;
        match &mut *self.group.borrow_mut() {
            Some(group) => group.write(offset, data, self.limits.max_group_bytes),
            None => self.settled(self.storage.borrow_mut().write(offset, data)),
        }
    }

    /// `sync`.
    pub fn sync(&self) -> Result<(), MemoryError> {
        self.usable()?;
        self.settled(self.storage.borrow_mut().sync())
    }

    /// `checkpoint`.
    pub fn checkpoint(&self) -> Result<(), MemoryError> {
        self.usable()?;
        self.settled(self.storage.borrow_mut().checkpoint())
    }

    /// `begin-group`.
    pub fn begin_group(&self) -> Result<(), MemoryError> {
        self.usable()?;
        let mut group = self.group.borrow_mut();
        if group.is_some() {
            return Err(MemoryError::GroupAlreadyOpen);
        }
        *group = Some(Group::new(self.storage.borrow().pages()));
        Ok(())
    }

    /// `commit-group`: the group is closed whatever the outcome.
    pub fn commit_group(&self, durable: bool) -> Result<(), MemoryError> {
        if let Some(why) = &*self.reopen_required.borrow() {
            return Err(MemoryError::ReopenRequired(format!(
                "{NOT_COMMITTED} this memory refuses every call since one failed: {why}"
            )));
        }
        let group = self
            .group
            .borrow_mut()
            .take()
            .ok_or(MemoryError::NoOpenGroup)?;
        let committed = self.storage.borrow_mut().commit(&group, durable);
        self.settled(committed)
    }

    /// `abort-group`.
    pub fn abort_group(&self) -> Result<(), MemoryError> {
        self.usable()?;
        self.group
            .borrow_mut()
            .take()
            .map(drop)
            .ok_or(MemoryError::NoOpenGroup)
    }
}

/// `opened`, unless the host refused to let this process write the file (or with
/// `journal`, its journal): then `locked`, naming this instance's memory that holds it, if
/// one does.
fn held_elsewhere<T>(
    opened: Result<T, MemoryError>,
    location: &Location,
    journal: bool,
    path: &str,
) -> Result<T, MemoryError> {
    match opened {
        Err(MemoryError::Locked(why)) => {
            if let Some(file) = location.open_for_reading(journal) {
                registry::refuse_file(&file, path)?;
            }
            Err(MemoryError::Locked(why))
        }
        opened => opened,
    }
}

impl Drop for Memory {
    /// Closes the files: an open group is discarded, the journal checkpointed and removed,
    /// unless a commit left work for the next open.
    fn drop(&mut self) {
        if self.reopen_required.borrow().is_none() {
            self.storage.borrow_mut().close();
        }
    }
}
