//! The memories open in this component instance. A file one of them holds, as its file or
//! as its journal, cannot be opened as another memory (`locked`), by whatever path it is
//! reached: two memories of one file would share, restart and remove one journal.
//!
//! A file's identity is asked of the host at each check and never remembered
//! ([`File::is_same_file`]); the path, as resolved against the preopens, is compared too, for
//! hosts that answer neither identity call.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use crate::bindings::exports::wasm_dbms::memory::memory_provider::MemoryError;
use crate::file::File;
use crate::protocol::Storage;

thread_local! {
    static OPEN: RefCell<Vec<(u64, Weak<RefCell<Storage>>)>> = const { RefCell::new(Vec::new()) };
    static NEXT_ID: Cell<u64> = const { Cell::new(0) };
}

/// An open memory's place in the registry, given back when dropped.
pub struct Registration(u64);

impl Registration {
    /// Registers `storage` as open.
    pub fn new(storage: &Rc<RefCell<Storage>>) -> Self {
        let id = NEXT_ID.with(|next| {
            let id = next.get();
            next.set(id + 1);
            id
        });
        OPEN.with(|open| open.borrow_mut().push((id, Rc::downgrade(storage))));
        Self(id)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        OPEN.with(|open| open.borrow_mut().retain(|(id, _)| *id != self.0));
    }
}

/// Refuses the path `key` (a location's key) when an open memory was opened by it.
pub fn refuse_path(key: &str, path: &str) -> Result<(), MemoryError> {
    refuse(path, |storage| {
        (storage.location().key() == key)
            .then(|| format!("the memory `{}`", storage.location().path()))
    })
}

/// Refuses `file`, found opening `path`, when an open memory holds it as its file or its
/// journal.
pub fn refuse_file(file: &File, path: &str) -> Result<(), MemoryError> {
    refuse(path, |storage| {
        let held = storage.location().path();
        if storage.file().is_same_file(file) {
            Some(format!("the file of the memory `{held}`"))
        } else if storage
            .journal_file()
            .is_some_and(|journal| journal.is_same_file(file))
        {
            Some(format!("the journal of the memory `{held}`"))
        } else {
            None
        }
    })
}

/// Returns `locked` naming what holds `path`, when `holder` finds it in an open memory.
fn refuse(path: &str, holder: impl Fn(&Storage) -> Option<String>) -> Result<(), MemoryError> {
    OPEN.with(|open| {
        for (_, storage) in open.borrow().iter() {
            let Some(storage) = storage.upgrade() else {
                continue;
            };
            let Ok(storage) = storage.try_borrow() else {
                continue;
            };
            if let Some(held) = holder(&storage) {
                return Err(MemoryError::Locked(format!(
                    "`{path}` is held by another memory of this instance: it is {held}"
                )));
            }
        }
        Ok(())
    })
}
