//! One open memory as the contract describes it: bounds and limits, the open group and its
//! view of the bytes, and the refusal of every call after a commit that must be completed
//! by a new open. What reaches the files, and when, is `protocol.rs`'s.

use std::cell::RefCell;

use crate::bindings::exports::wasm_dbms::memory::memory_provider::{
    MemoryError, OpenOptions, Recovery,
};
use crate::bounds::{Limits, PAGE_SIZE, checked_transfer};
use crate::error::io_detail;
use crate::group::Group;
use crate::location::Location;
use crate::lock::PathLock;
use crate::protocol::Storage;

/// An open memory.
pub struct Memory {
    storage: RefCell<Storage>,
    group: RefCell<Option<Group>>,
    /// Why every call is refused, once a commit failed past the point of withdrawal.
    reopen_required: RefCell<Option<String>>,
    limits: Limits,
    recovery: Recovery,
    _lock: PathLock,
}

impl Memory {
    /// Opens the memory at `path` with `options`.
    pub fn open(path: &str, options: &OpenOptions) -> Result<Self, MemoryError> {
        let limits = Limits::from_options(options)?;
        let location = Location::resolve(path)?;
        let file = Storage::open_file(&location)?;
        // Held before the journal is touched: another memory of this file would share it.
        let key = match file.identity() {
            Some((upper, lower)) => format!("file {upper:016x}{lower:016x}"),
            None => format!("path {}", location.key()),
        };
        let lock = PathLock::acquire(key).ok_or_else(|| {
            MemoryError::Locked(format!(
                "`{path}` is held by another memory of this instance"
            ))
        })?;
        let (storage, recovery) = Storage::recover(location, file, limits)?;
        Ok(Self {
            storage: RefCell::new(storage),
            group: RefCell::new(None),
            reopen_required: RefCell::new(None),
            limits,
            recovery,
            _lock: lock,
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
        self.usable()?;
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

impl Drop for Memory {
    /// Closes the files: an open group is discarded, the journal checkpointed and removed,
    /// unless a commit left work for the next open.
    fn drop(&mut self) {
        if self.reopen_required.borrow().is_none() {
            self.storage.borrow_mut().close();
        }
    }
}
