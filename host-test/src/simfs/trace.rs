//! The trace: every change the simulated filesystem made, in order, as the crash model
//! replays it.

use std::fmt;
use std::sync::Arc;

/// The identity of a file or directory (an inode): stable for its whole life, never reused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub u64);

impl NodeId {
    /// The root directory of every simulated filesystem.
    pub const ROOT: NodeId = NodeId(0);
}

/// One change made by a successful call (or by the test), in the order they happened.
///
/// Failed calls record nothing; reads and metadata queries are not changes.
#[derive(Clone, PartialEq, Eq)]
pub enum TraceEntry {
    /// A new empty file `node` got the entry `name` in `directory` (`open-at` with `create`).
    CreateFile {
        /// The directory that holds the new entry.
        directory: NodeId,
        /// The entry's name.
        name: String,
        /// The new file.
        node: NodeId,
    },
    /// A new empty directory `node` got the entry `name` in `directory`.
    CreateDirectory {
        /// The directory that holds the new entry.
        directory: NodeId,
        /// The entry's name.
        name: String,
        /// The new directory.
        node: NodeId,
    },
    /// `data` was written to the file at `offset` (only the bytes actually written).
    Write {
        /// The file written.
        node: NodeId,
        /// Where the write began.
        offset: u64,
        /// The bytes written.
        data: Arc<[u8]>,
    },
    /// The file's size changed from `from` to `to` by `set-size` or an open with `truncate`.
    SetSize {
        /// The file resized.
        node: NodeId,
        /// The size before.
        from: u64,
        /// The size after.
        to: u64,
    },
    /// `sync` or `sync-data` of a file returned success: its content and size are durable.
    SyncFile {
        /// The file synced.
        node: NodeId,
    },
    /// `sync` or `sync-data` of a directory returned success: its entries are durable,
    /// unless a sync of it failed since they changed (see
    /// [`TraceEntry::DirectorySyncFailed`]).
    SyncDirectory {
        /// The directory synced.
        node: NodeId,
    },
    /// A `sync` or `sync-data` of a directory failed. As Linux may after a failed
    /// writeback, the entry changes it should have written are taken as written while they
    /// are not: a later successful sync makes them durable only if the directory changed
    /// again in between (a new change dirties it again); otherwise they stay as unsynced.
    DirectorySyncFailed {
        /// The directory whose sync failed.
        node: NodeId,
    },
    /// The entry `name` of the file `node` was removed from `directory`.
    Unlink {
        /// The directory that held the entry.
        directory: NodeId,
        /// The entry's name.
        name: String,
        /// The file that the entry named.
        node: NodeId,
    },
    /// The empty directory `node` named `name` was removed from `directory`.
    RemoveDirectory {
        /// The directory that held the entry.
        directory: NodeId,
        /// The entry's name.
        name: String,
        /// The directory removed.
        node: NodeId,
    },
    /// The entry `from_name` in `from_directory` moved to `to_name` in `to_directory`,
    /// replacing what that name held, if anything.
    Rename {
        /// The directory that held the entry.
        from_directory: NodeId,
        /// The entry's old name.
        from_name: String,
        /// The directory that holds the entry now.
        to_directory: NodeId,
        /// The entry's new name.
        to_name: String,
        /// The file or directory renamed.
        node: NodeId,
        /// What the new name held before, now unlinked.
        replaced: Option<NodeId>,
    },
    /// A marker the test inserted with [`super::SimFs::mark`]: no change.
    Mark(u64),
}

impl TraceEntry {
    /// Whether the entry is a test's marker rather than a change.
    pub fn is_mark(&self) -> bool {
        matches!(self, TraceEntry::Mark(_))
    }
}

impl fmt::Debug for TraceEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TraceEntry::CreateFile {
                directory,
                name,
                node,
            } => write!(f, "create file {name:?} in {directory:?} as {node:?}"),
            TraceEntry::CreateDirectory {
                directory,
                name,
                node,
            } => write!(f, "create directory {name:?} in {directory:?} as {node:?}"),
            TraceEntry::Write { node, offset, data } => {
                write!(f, "write {} bytes at {offset} to {node:?}", data.len())
            }
            TraceEntry::SetSize { node, from, to } => {
                write!(f, "set size of {node:?} from {from} to {to}")
            }
            TraceEntry::SyncFile { node } => write!(f, "sync file {node:?}"),
            TraceEntry::SyncDirectory { node } => write!(f, "sync directory {node:?}"),
            TraceEntry::DirectorySyncFailed { node } => {
                write!(f, "failed sync of directory {node:?}")
            }
            TraceEntry::Unlink {
                directory,
                name,
                node,
            } => write!(f, "unlink {name:?} ({node:?}) from {directory:?}"),
            TraceEntry::RemoveDirectory {
                directory,
                name,
                node,
            } => write!(f, "remove directory {name:?} ({node:?}) from {directory:?}"),
            TraceEntry::Rename {
                from_directory,
                from_name,
                to_directory,
                to_name,
                node,
                replaced,
            } => write!(
                f,
                "rename {from_name:?} in {from_directory:?} to {to_name:?} in {to_directory:?} \
                 ({node:?}, replacing {replaced:?})"
            ),
            TraceEntry::Mark(mark) => write!(f, "mark {mark}"),
        }
    }
}
