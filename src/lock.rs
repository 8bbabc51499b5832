//! The files this component instance holds open, by identity: a second `open` of one, by
//! whatever path, is `locked`.

use std::cell::RefCell;
use std::collections::BTreeSet;

thread_local! {
    static HELD: RefCell<BTreeSet<String>> = const { RefCell::new(BTreeSet::new()) };
}

/// A held path, released when dropped.
pub struct PathLock(String);

impl PathLock {
    /// Holds `key` (a file's identity), or returns `None` when it is held already.
    pub fn acquire(key: String) -> Option<Self> {
        // Build the lock only when the key was free: dropping one releases its key.
        if HELD.with(|held| held.borrow_mut().insert(key.clone())) {
            Some(PathLock(key))
        } else {
            None
        }
    }
}

impl Drop for PathLock {
    fn drop(&mut self) {
        HELD.with(|held| held.borrow_mut().remove(&self.0));
    }
}
