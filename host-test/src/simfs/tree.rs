//! The live filesystem: files and directories in memory, path resolution, and every
//! operation with the outcome a POSIX filesystem (as wasmtime-wasi exposes it) gives,
//! recording each change in the trace.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::ErrorCode;
use super::trace::{NodeId, TraceEntry};

/// The most bytes one `read` returns, as wasmtime-wasi (which reads at most 64 KiB a call).
pub const MAX_READ: u64 = 64 * 1024;

/// The longest name of one path component, as Linux filesystems allow.
const MAX_NAME: usize = 255;

/// The largest offset or size a file takes (`off_t`); larger ones are `invalid`.
const MAX_OFFSET: u64 = i64::MAX as u64;

/// A file's bytes or a directory's entries.
#[derive(Clone, Debug)]
pub enum Content {
    /// A regular file.
    File(Vec<u8>),
    /// A directory.
    Directory {
        /// Its entries, by name.
        entries: BTreeMap<String, NodeId>,
        /// The directory that holds it (`None` for the root and for a removed directory).
        parent: Option<NodeId>,
    },
}

/// One file or directory.
#[derive(Debug)]
struct Node {
    content: Content,
    /// Directory entries that name it (0 once unlinked; the root always has 1).
    links: u32,
    /// Open descriptors.
    open: u32,
    /// Open descriptors that hold the write lock.
    writers: u32,
    /// Changes to the file's bytes or size: its modification time.
    modified: u64,
}

/// What a path names once resolved: the directories walked (the base first, the parent of
/// the last component last) and the last component.
struct Resolved<'p> {
    stack: Vec<NodeId>,
    last: Last<'p>,
    trailing_slash: bool,
}

/// The last component of a path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Last<'p> {
    Name(&'p str),
    Current,
    Parent,
}

impl Resolved<'_> {
    fn parent(&self) -> NodeId {
        *self.stack.last().expect("a resolved path has a base")
    }
}

/// The kind of a node, as `stat` and `read-directory` report it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
}

/// What `stat` reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    /// File or directory.
    pub kind: Kind,
    /// Hard links: the entries naming a file; 2 plus subdirectories for a directory.
    pub link_count: u64,
    /// Size in bytes (0 for a directory).
    pub size: u64,
}

/// How `open` was asked to open.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenRequest {
    /// `create`.
    pub create: bool,
    /// `exclusive`.
    pub exclusive: bool,
    /// `truncate`.
    pub truncate: bool,
    /// `directory`.
    pub directory: bool,
    /// The `write` descriptor flag: the descriptor takes the file's write lock.
    pub write: bool,
    /// Opened for writing: the `write` flag, `create` or `truncate` (as wasmtime-wasi).
    pub write_mode: bool,
}

/// The in-memory tree, its limits and its trace.
pub struct Tree {
    nodes: HashMap<NodeId, Node>,
    next_node: u64,
    trace: Vec<TraceEntry>,
    used_bytes: u64,
    /// Bytes all files together may hold; growth past it is `insufficient-space`.
    pub capacity: Option<u64>,
    /// The largest size of one file; growth past it is `file-too-large`.
    pub max_file_size: u64,
    /// Names differ only by more than ASCII case: every name is kept folded to lower case.
    pub case_insensitive: bool,
    /// A second writable open of a file is `busy` (the one-writer lock of host-test's host).
    pub write_locks: bool,
}

/// Splits a path given by a test into its names (`""` and `.` dropped).
pub fn test_path_components(path: &str) -> Vec<&str> {
    let components: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    assert!(
        !components.contains(&".."),
        "test paths of the simulated filesystem may not contain `..`: {path:?}"
    );
    components
}

impl Tree {
    /// An empty tree: only the root directory.
    pub fn new(max_file_size: u64) -> Self {
        let mut nodes = HashMap::new();
        nodes.insert(
            NodeId::ROOT,
            Node {
                content: Content::Directory {
                    entries: BTreeMap::new(),
                    parent: None,
                },
                links: 1,
                open: 0,
                writers: 0,
                modified: 0,
            },
        );
        Self {
            nodes,
            next_node: 1,
            trace: Vec::new(),
            used_bytes: 0,
            capacity: None,
            max_file_size,
            case_insensitive: false,
            write_locks: true,
        }
    }

    /// `path` as this tree compares names: folded to lower case when it ignores case.
    fn fold<'p>(&self, path: &'p str) -> Cow<'p, str> {
        if self.case_insensitive {
            Cow::Owned(path.to_ascii_lowercase())
        } else {
            Cow::Borrowed(path)
        }
    }

    /// How many times the node's bytes or size changed: what a modification time tells.
    pub fn modified(&self, node: NodeId) -> u64 {
        self.nodes.get(&node).map_or(0, |node| node.modified)
    }

    /// The trace so far.
    pub fn trace(&self) -> &[TraceEntry] {
        &self.trace
    }

    /// Appends a test's marker; returns its position.
    pub fn mark(&mut self, mark: u64) -> usize {
        self.trace.push(TraceEntry::Mark(mark));
        self.trace.len() - 1
    }

    /// The bytes all files hold, unlinked but open ones included.
    pub fn used_bytes(&self) -> u64 {
        self.used_bytes
    }

    fn node(&self, id: NodeId) -> &Node {
        self.nodes.get(&id).expect("a live node")
    }

    fn node_mut(&mut self, id: NodeId) -> &mut Node {
        self.nodes.get_mut(&id).expect("a live node")
    }

    /// The node's content, if it lives.
    pub fn content(&self, id: NodeId) -> Option<&Content> {
        self.nodes.get(&id).map(|node| &node.content)
    }

    fn entries(&self, dir: NodeId) -> Option<&BTreeMap<String, NodeId>> {
        match &self.nodes.get(&dir)?.content {
            Content::Directory { entries, .. } => Some(entries),
            Content::File(_) => None,
        }
    }

    fn entries_mut(&mut self, dir: NodeId) -> &mut BTreeMap<String, NodeId> {
        match &mut self.node_mut(dir).content {
            Content::Directory { entries, .. } => entries,
            Content::File(_) => panic!("{dir:?} is not a directory"),
        }
    }

    fn kind(&self, id: NodeId) -> Kind {
        match self.node(id).content {
            Content::File(_) => Kind::File,
            Content::Directory { .. } => Kind::Directory,
        }
    }

    fn file_len(&self, id: NodeId) -> u64 {
        match &self.node(id).content {
            Content::File(bytes) => bytes.len() as u64,
            Content::Directory { .. } => 0,
        }
    }

    fn new_node(&mut self, content: Content) -> NodeId {
        let id = NodeId(self.next_node);
        self.next_node += 1;
        self.nodes.insert(
            id,
            Node {
                content,
                links: 1,
                open: 0,
                writers: 0,
                modified: 0,
            },
        );
        id
    }

    /// Forgets a node nothing names and nothing holds open.
    fn collect(&mut self, id: NodeId) {
        let node = self.node(id);
        if node.links == 0 && node.open == 0 {
            let size = self.file_len(id);
            self.used_bytes -= size;
            self.nodes.remove(&id);
        }
    }

    /// Resolves `path` from the directory `base`: every component but the last must be a
    /// directory; `..` may not leave `base` (as wasmtime-wasi's sandbox: `not-permitted`).
    fn resolve<'p>(&self, base: NodeId, path: &'p str) -> Result<Resolved<'p>, ErrorCode> {
        if path.is_empty() {
            return Err(ErrorCode::NoEntry);
        }
        if path.starts_with('/') {
            return Err(ErrorCode::NotPermitted);
        }
        if path.contains('\0') {
            return Err(ErrorCode::Invalid);
        }
        let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
        if components.iter().any(|c| c.len() > MAX_NAME) {
            return Err(ErrorCode::NameTooLong);
        }
        let (last, walk) = components.split_last().expect("a non-empty relative path");
        let mut stack = vec![base];
        for component in walk {
            match *component {
                "." => {}
                ".." => {
                    if stack.len() == 1 {
                        return Err(ErrorCode::NotPermitted);
                    }
                    stack.pop();
                }
                name => {
                    let dir = *stack.last().expect("a base");
                    let child = self
                        .entries(dir)
                        .ok_or(ErrorCode::NotDirectory)?
                        .get(name)
                        .copied()
                        .ok_or(ErrorCode::NoEntry)?;
                    if self.kind(child) != Kind::Directory {
                        return Err(ErrorCode::NotDirectory);
                    }
                    stack.push(child);
                }
            }
        }
        let last = match *last {
            "." => Last::Current,
            ".." => {
                if stack.len() == 1 {
                    return Err(ErrorCode::NotPermitted);
                }
                Last::Parent
            }
            name => Last::Name(name),
        };
        Ok(Resolved {
            stack,
            last,
            trailing_slash: path.ends_with('/'),
        })
    }

    /// The node the resolved path names, if any.
    fn target(&self, resolved: &Resolved<'_>) -> Option<NodeId> {
        match resolved.last {
            Last::Name(name) => self.entries(resolved.parent())?.get(name).copied(),
            Last::Current => Some(resolved.parent()),
            Last::Parent => Some(resolved.stack[resolved.stack.len() - 2]),
        }
    }

    /// A directory that was removed takes no new entries (`no-entry`, as Linux).
    fn check_live_directory(&self, dir: NodeId) -> Result<(), ErrorCode> {
        if self.node(dir).links == 0 {
            return Err(ErrorCode::NoEntry);
        }
        Ok(())
    }

    /// Opens (and maybe creates or truncates) what `path` names from `base`; the caller
    /// has checked the flags that do not depend on the tree. Returns the node and its kind,
    /// counted as open (and as a writer when `request.write` and it is a file).
    pub fn open(
        &mut self,
        base: NodeId,
        path: &str,
        request: OpenRequest,
    ) -> Result<(NodeId, Kind), ErrorCode> {
        let path = self.fold(path);
        let resolved = self.resolve(base, &path)?;
        let node = match self.target(&resolved) {
            Some(node) => {
                if request.create && request.exclusive {
                    return Err(ErrorCode::Exist);
                }
                match self.kind(node) {
                    Kind::Directory => {
                        if request.write_mode {
                            return Err(ErrorCode::IsDirectory);
                        }
                    }
                    Kind::File => {
                        if request.directory || resolved.trailing_slash {
                            return Err(ErrorCode::NotDirectory);
                        }
                        if request.write && self.write_locks && self.node(node).writers > 0 {
                            return Err(ErrorCode::Busy);
                        }
                        if request.truncate {
                            self.resize(node, 0)?;
                        }
                    }
                }
                node
            }
            None => {
                let Last::Name(name) = resolved.last else {
                    unreachable!("`.` and `..` always name a directory")
                };
                if !request.create {
                    return Err(ErrorCode::NoEntry);
                }
                if resolved.trailing_slash {
                    return Err(ErrorCode::IsDirectory);
                }
                let directory = resolved.parent();
                self.check_live_directory(directory)?;
                let node = self.new_node(Content::File(Vec::new()));
                self.entries_mut(directory).insert(name.to_owned(), node);
                self.trace.push(TraceEntry::CreateFile {
                    directory,
                    name: name.to_owned(),
                    node,
                });
                node
            }
        };
        let kind = self.kind(node);
        let entry = self.node_mut(node);
        entry.open += 1;
        if request.write && kind == Kind::File {
            entry.writers += 1;
        }
        Ok((node, kind))
    }

    /// Counts a descriptor of `node` as open (a preopen).
    pub fn hold(&mut self, node: NodeId) {
        self.node_mut(node).open += 1;
    }

    /// Closes a descriptor of `node` that held the write lock when `writer`.
    pub fn release(&mut self, node: NodeId, writer: bool) {
        let Some(entry) = self.nodes.get_mut(&node) else {
            return;
        };
        entry.open -= 1;
        if writer {
            entry.writers -= 1;
        }
        self.collect(node);
    }

    /// Up to `len` bytes (at most [`MAX_READ`]) at `offset`, and whether none were left.
    pub fn read(&self, node: NodeId, len: u64, offset: u64) -> Result<(Vec<u8>, bool), ErrorCode> {
        if offset > MAX_OFFSET {
            return Err(ErrorCode::Invalid);
        }
        let Content::File(bytes) = &self.node(node).content else {
            return Err(ErrorCode::BadDescriptor);
        };
        let available = (bytes.len() as u64).saturating_sub(offset);
        let count = len.min(available).min(MAX_READ) as usize;
        let start = offset.min(bytes.len() as u64) as usize;
        let out = bytes[start..start + count].to_vec();
        let end = out.is_empty();
        Ok((out, end))
    }

    /// Room for the file `node` to reach `size`: the file size limit and the capacity.
    /// Returns the largest size up to `size` that fits, or the error when none past the
    /// current size does.
    fn room(&self, node: NodeId, size: u64) -> Result<u64, ErrorCode> {
        let current = self.file_len(node);
        if size <= current {
            return Ok(size);
        }
        if current >= self.max_file_size {
            return Err(ErrorCode::FileTooLarge);
        }
        let mut fits = size.min(self.max_file_size);
        if let Some(capacity) = self.capacity {
            let free = capacity.saturating_sub(self.used_bytes);
            if free == 0 {
                return Err(ErrorCode::InsufficientSpace);
            }
            fits = fits.min(current + free);
        }
        Ok(fits)
    }

    /// Writes `data` at `offset`, extending the file with zeros up to `offset` when it
    /// lies past the end; a write the limits cut short writes what fits (as POSIX).
    pub fn write(&mut self, node: NodeId, data: &[u8], offset: u64) -> Result<u64, ErrorCode> {
        if offset > MAX_OFFSET {
            return Err(ErrorCode::Invalid);
        }
        if data.is_empty() {
            return Ok(0);
        }
        let wanted_end = offset.saturating_add(data.len() as u64);
        let end = self.room(node, wanted_end)?;
        if end <= offset {
            return Err(if offset >= self.max_file_size {
                ErrorCode::FileTooLarge
            } else {
                ErrorCode::InsufficientSpace
            });
        }
        let count = (end - offset) as usize;
        let current = self.file_len(node);
        let Content::File(bytes) = &mut self.node_mut(node).content else {
            return Err(ErrorCode::BadDescriptor);
        };
        if end > current {
            bytes
                .try_reserve_exact((end - current) as usize)
                .map_err(|_| ErrorCode::InsufficientSpace)?;
            bytes.resize(end as usize, 0);
        }
        bytes[offset as usize..end as usize].copy_from_slice(&data[..count]);
        self.node_mut(node).modified += 1;
        self.used_bytes += end.saturating_sub(current);
        self.trace.push(TraceEntry::Write {
            node,
            offset,
            data: Arc::from(&data[..count]),
        });
        Ok(count as u64)
    }

    /// Sets the file's size; new bytes read as zeros.
    pub fn set_size(&mut self, node: NodeId, size: u64) -> Result<(), ErrorCode> {
        if size > MAX_OFFSET {
            return Err(ErrorCode::Invalid);
        }
        if self.room(node, size)? < size {
            return Err(if size > self.max_file_size {
                ErrorCode::FileTooLarge
            } else {
                ErrorCode::InsufficientSpace
            });
        }
        self.resize(node, size)
    }

    fn resize(&mut self, node: NodeId, size: u64) -> Result<(), ErrorCode> {
        let current = self.file_len(node);
        if size == current {
            return Ok(());
        }
        let Content::File(bytes) = &mut self.node_mut(node).content else {
            return Err(ErrorCode::BadDescriptor);
        };
        if size > current {
            bytes
                .try_reserve_exact((size - current) as usize)
                .map_err(|_| ErrorCode::InsufficientSpace)?;
        }
        bytes.resize(size as usize, 0);
        self.node_mut(node).modified += 1;
        self.used_bytes = self.used_bytes + size - current;
        self.trace.push(TraceEntry::SetSize {
            node,
            from: current,
            to: size,
        });
        Ok(())
    }

    /// Records a failed `sync` of `node`: for a directory, the writeback of its entry
    /// changes is lost (see [`TraceEntry::DirectorySyncFailed`]); a file's changes stay
    /// unsynced.
    pub fn sync_failed(&mut self, node: NodeId) {
        if self.nodes.contains_key(&node) && self.kind(node) == Kind::Directory {
            self.trace.push(TraceEntry::DirectorySyncFailed { node });
        }
    }

    /// Records a successful `sync` of `node`.
    pub fn sync(&mut self, node: NodeId) {
        let entry = match self.kind(node) {
            Kind::File => TraceEntry::SyncFile { node },
            Kind::Directory => TraceEntry::SyncDirectory { node },
        };
        self.trace.push(entry);
    }

    /// What `stat` reports for `node`.
    pub fn stat(&self, node: NodeId) -> Stat {
        let entry = self.node(node);
        match &entry.content {
            Content::File(bytes) => Stat {
                kind: Kind::File,
                link_count: u64::from(entry.links),
                size: bytes.len() as u64,
            },
            Content::Directory { entries, .. } => Stat {
                kind: Kind::Directory,
                link_count: 2 + entries
                    .values()
                    .filter(|child| self.kind(**child) == Kind::Directory)
                    .count() as u64,
                size: 0,
            },
        }
    }

    /// The node `path` names from `base`.
    pub fn lookup(&self, base: NodeId, path: &str) -> Result<NodeId, ErrorCode> {
        let path = self.fold(path);
        let resolved = self.resolve(base, &path)?;
        let node = self.target(&resolved).ok_or(ErrorCode::NoEntry)?;
        if resolved.trailing_slash && self.kind(node) != Kind::Directory {
            return Err(ErrorCode::NotDirectory);
        }
        Ok(node)
    }

    /// `mkdir`.
    pub fn create_directory(&mut self, base: NodeId, path: &str) -> Result<(), ErrorCode> {
        let path = self.fold(path);
        let resolved = self.resolve(base, &path)?;
        let Last::Name(name) = resolved.last else {
            return Err(ErrorCode::Exist);
        };
        if self.target(&resolved).is_some() {
            return Err(ErrorCode::Exist);
        }
        let directory = resolved.parent();
        self.check_live_directory(directory)?;
        let node = self.new_node(Content::Directory {
            entries: BTreeMap::new(),
            parent: Some(directory),
        });
        self.entries_mut(directory).insert(name.to_owned(), node);
        self.trace.push(TraceEntry::CreateDirectory {
            directory,
            name: name.to_owned(),
            node,
        });
        Ok(())
    }

    /// `rmdir`.
    pub fn remove_directory(&mut self, base: NodeId, path: &str) -> Result<(), ErrorCode> {
        let path = self.fold(path);
        let resolved = self.resolve(base, &path)?;
        let name = match resolved.last {
            Last::Name(name) => name,
            Last::Current => return Err(ErrorCode::Invalid),
            Last::Parent => return Err(ErrorCode::NotEmpty),
        };
        let node = self.target(&resolved).ok_or(ErrorCode::NoEntry)?;
        if self.kind(node) != Kind::Directory {
            return Err(ErrorCode::NotDirectory);
        }
        if !self.entries(node).expect("a directory").is_empty() {
            return Err(ErrorCode::NotEmpty);
        }
        let directory = resolved.parent();
        self.entries_mut(directory).remove(name);
        let entry = self.node_mut(node);
        entry.links = 0;
        if let Content::Directory { parent, .. } = &mut entry.content {
            *parent = None;
        }
        self.trace.push(TraceEntry::RemoveDirectory {
            directory,
            name: name.to_owned(),
            node,
        });
        self.collect(node);
        Ok(())
    }

    /// `unlink` of a file.
    pub fn unlink(&mut self, base: NodeId, path: &str) -> Result<(), ErrorCode> {
        let path = self.fold(path);
        let resolved = self.resolve(base, &path)?;
        let Last::Name(name) = resolved.last else {
            return Err(ErrorCode::IsDirectory);
        };
        let node = self.target(&resolved).ok_or(ErrorCode::NoEntry)?;
        if self.kind(node) == Kind::Directory {
            return Err(ErrorCode::IsDirectory);
        }
        if resolved.trailing_slash {
            return Err(ErrorCode::NotDirectory);
        }
        let directory = resolved.parent();
        self.entries_mut(directory).remove(name);
        self.node_mut(node).links -= 1;
        self.trace.push(TraceEntry::Unlink {
            directory,
            name: name.to_owned(),
            node,
        });
        self.collect(node);
        Ok(())
    }

    /// Whether `ancestor` is `node` or holds it, through the directories' parents.
    fn is_within(&self, node: NodeId, ancestor: NodeId) -> bool {
        let mut current = Some(node);
        while let Some(id) = current {
            if id == ancestor {
                return true;
            }
            current = match &self.node(id).content {
                Content::Directory { parent, .. } => *parent,
                Content::File(_) => None,
            };
        }
        false
    }

    /// `rename` from `old_path` under `old_base` to `new_path` under `new_base`.
    pub fn rename(
        &mut self,
        old_base: NodeId,
        old_path: &str,
        new_base: NodeId,
        new_path: &str,
    ) -> Result<(), ErrorCode> {
        let (old_path, new_path) = (self.fold(old_path), self.fold(new_path));
        let old = self.resolve(old_base, &old_path)?;
        let new = self.resolve(new_base, &new_path)?;
        let (Last::Name(old_name), Last::Name(new_name)) = (old.last, new.last) else {
            return Err(ErrorCode::Busy);
        };
        let node = self.target(&old).ok_or(ErrorCode::NoEntry)?;
        let kind = self.kind(node);
        if kind == Kind::File && (old.trailing_slash || new.trailing_slash) {
            return Err(ErrorCode::NotDirectory);
        }
        let to_directory = new.parent();
        self.check_live_directory(to_directory)?;
        let replaced = self.target(&new);
        if let Some(existing) = replaced {
            if existing == node {
                return Ok(());
            }
            match (kind, self.kind(existing)) {
                (Kind::File, Kind::Directory) => return Err(ErrorCode::IsDirectory),
                (Kind::Directory, Kind::File) => return Err(ErrorCode::NotDirectory),
                (Kind::Directory, Kind::Directory) => {
                    if !self.entries(existing).expect("a directory").is_empty() {
                        return Err(ErrorCode::NotEmpty);
                    }
                }
                (Kind::File, Kind::File) => {}
            }
        }
        if kind == Kind::Directory && self.is_within(to_directory, node) {
            return Err(ErrorCode::Invalid);
        }
        let from_directory = old.parent();
        self.entries_mut(from_directory).remove(old_name);
        self.entries_mut(to_directory)
            .insert(new_name.to_owned(), node);
        if let Content::Directory { parent, .. } = &mut self.node_mut(node).content {
            *parent = Some(to_directory);
        }
        self.trace.push(TraceEntry::Rename {
            from_directory,
            from_name: old_name.to_owned(),
            to_directory,
            to_name: new_name.to_owned(),
            node,
            replaced,
        });
        if let Some(existing) = replaced {
            // The name it lost was its only one (a directory's, or a file's).
            let entry = self.node_mut(existing);
            entry.links -= 1;
            if let Content::Directory { parent, .. } = &mut entry.content {
                *parent = None;
            }
            self.collect(existing);
        }
        Ok(())
    }

    /// The entries of the directory `node`, by name.
    pub fn list(&self, node: NodeId) -> Vec<(String, Kind)> {
        self.entries(node)
            .map(|entries| {
                entries
                    .iter()
                    .map(|(name, child)| (name.clone(), self.kind(*child)))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Every file reachable from the root, by path, and every directory but the root.
    pub fn files_and_directories(&self) -> (BTreeMap<String, Vec<u8>>, Vec<String>) {
        let mut files = BTreeMap::new();
        let mut directories = Vec::new();
        let mut pending = vec![(NodeId::ROOT, String::new())];
        while let Some((dir, prefix)) = pending.pop() {
            for (name, child) in self.entries(dir).expect("a directory") {
                let path = format!("{prefix}{name}");
                match &self.node(*child).content {
                    Content::File(bytes) => {
                        files.insert(path, bytes.clone());
                    }
                    Content::Directory { .. } => {
                        pending.push((*child, format!("{path}/")));
                        directories.push(path);
                    }
                }
            }
        }
        directories.sort();
        (files, directories)
    }

    /// The node at the test path `path` from the root.
    pub fn find(&self, path: &str) -> Option<NodeId> {
        let path = self.fold(path);
        let mut node = NodeId::ROOT;
        for name in test_path_components(&path) {
            node = *self.entries(node)?.get(name)?;
        }
        Some(node)
    }

    /// The directory at the test path `path`, created (and recorded) where missing.
    pub fn make_directories(&mut self, path: &str) -> NodeId {
        let path = self.fold(path).into_owned();
        let mut node = NodeId::ROOT;
        for name in test_path_components(&path) {
            node = match self.entries(node).expect("a directory").get(name) {
                Some(child) => {
                    assert_eq!(
                        self.kind(*child),
                        Kind::Directory,
                        "{path:?} crosses a file"
                    );
                    *child
                }
                None => {
                    self.create_directory(node, name)
                        .expect("create a directory for the test");
                    *self.entries(node).expect("a directory").get(name).unwrap()
                }
            };
        }
        node
    }

    /// Creates or replaces the file at the test path `path` with `bytes`, ignoring the
    /// limits, and records it as a program would make it durable: the entry, the size, the
    /// bytes, the file's sync and the sync of every directory on the path.
    pub fn put_durable(&mut self, path: &str, bytes: &[u8]) {
        let path = self.fold(path).into_owned();
        let mut components = test_path_components(&path);
        let name = components.pop().expect("a file name");
        let parent = self.make_directories(&components.join("/"));
        let node = match self.entries(parent).expect("a directory").get(name) {
            Some(node) => {
                assert_eq!(self.kind(*node), Kind::File, "{path:?} is a directory");
                *node
            }
            None => {
                let node = self.new_node(Content::File(Vec::new()));
                self.entries_mut(parent).insert(name.to_owned(), node);
                self.trace.push(TraceEntry::CreateFile {
                    directory: parent,
                    name: name.to_owned(),
                    node,
                });
                node
            }
        };
        let (capacity, max_file_size) = (self.capacity.take(), self.max_file_size);
        self.max_file_size = u64::MAX;
        self.resize(node, 0).expect("truncate");
        if !bytes.is_empty() {
            self.write(node, bytes, 0).expect("write for the test");
        }
        (self.capacity, self.max_file_size) = (capacity, max_file_size);
        self.sync(node);
        let mut directory = Some(parent);
        while let Some(dir) = directory {
            self.sync(dir);
            directory = match &self.node(dir).content {
                Content::Directory { parent, .. } => *parent,
                Content::File(_) => None,
            };
        }
    }

    /// Builds a tree holding `files` and `directories`, all of it durable (no trace).
    pub fn populate<'a>(
        &mut self,
        files: impl IntoIterator<Item = (&'a str, &'a [u8])>,
        directories: impl IntoIterator<Item = &'a str>,
    ) {
        for path in directories {
            self.make_directories(path);
        }
        for (path, bytes) in files {
            let path = self.fold(path).into_owned();
            let mut components = test_path_components(&path);
            let name = components.pop().expect("a file name");
            let parent = self.make_directories(&components.join("/"));
            assert!(
                !self
                    .entries(parent)
                    .expect("a directory")
                    .contains_key(name),
                "{path:?} is given twice"
            );
            let node = self.new_node(Content::File(bytes.to_vec()));
            self.used_bytes += bytes.len() as u64;
            self.entries_mut(parent).insert(name.to_owned(), node);
        }
        self.trace.clear();
    }

    /// Directories and files as they are now, by node: the durable state the crash model
    /// starts from.
    pub fn snapshot(&self) -> Snapshot {
        let mut snapshot = Snapshot::default();
        for (id, node) in &self.nodes {
            match &node.content {
                Content::File(bytes) => {
                    snapshot.files.insert(*id, bytes.clone());
                }
                Content::Directory { entries, .. } => {
                    snapshot.directories.insert(*id, entries.clone());
                }
            }
        }
        snapshot
    }
}

/// Every node's content at one moment.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// Each file's bytes.
    pub files: HashMap<NodeId, Vec<u8>>,
    /// Each directory's entries.
    pub directories: HashMap<NodeId, BTreeMap<String, NodeId>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree_with(files: &[(&str, &[u8])]) -> Tree {
        let mut tree = Tree::new(1 << 30);
        tree.populate(files.iter().copied(), []);
        tree
    }

    fn open_rw(tree: &mut Tree, path: &str, create: bool) -> Result<NodeId, ErrorCode> {
        let request = OpenRequest {
            create,
            write: true,
            write_mode: true,
            ..OpenRequest::default()
        };
        tree.open(NodeId::ROOT, path, request).map(|(node, _)| node)
    }

    #[test]
    fn paths_resolve_inside_the_base_only() {
        let mut tree = tree_with(&[("a/b.bin", b"x")]);
        assert!(open_rw(&mut tree, "a/./b.bin", false).is_ok());
        assert_eq!(
            tree.lookup(NodeId::ROOT, "a/../a/b.bin"),
            tree.lookup(NodeId::ROOT, "a/b.bin")
        );
        assert_eq!(
            tree.lookup(NodeId::ROOT, "../a/b.bin"),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(
            tree.lookup(NodeId::ROOT, "/a/b.bin"),
            Err(ErrorCode::NotPermitted)
        );
        assert_eq!(tree.lookup(NodeId::ROOT, ""), Err(ErrorCode::NoEntry));
        assert_eq!(
            tree.lookup(NodeId::ROOT, "a/b.bin/c"),
            Err(ErrorCode::NotDirectory)
        );
        assert_eq!(
            tree.lookup(NodeId::ROOT, "a/b.bin/"),
            Err(ErrorCode::NotDirectory)
        );
        let a = tree.lookup(NodeId::ROOT, "a").unwrap();
        assert_eq!(tree.lookup(a, "../a"), Err(ErrorCode::NotPermitted));
        assert_eq!(tree.lookup(a, ".."), Err(ErrorCode::NotPermitted));
    }

    #[test]
    fn a_write_past_the_end_extends_with_zeros_and_reads_stop_at_the_end() {
        let mut tree = tree_with(&[]);
        let file = open_rw(&mut tree, "f", true).unwrap();
        assert_eq!(tree.write(file, b"abc", 5), Ok(3));
        assert_eq!(
            tree.read(file, 100, 0),
            Ok((b"\0\0\0\0\0abc".to_vec(), false))
        );
        assert_eq!(tree.read(file, 100, 8), Ok((Vec::new(), true)));
        assert_eq!(tree.read(file, 1 << 40, 7), Ok((b"c".to_vec(), false)));
        assert_eq!(tree.write(file, b"", 100), Ok(0));
        assert_eq!(tree.stat(file).size, 8);
    }

    #[test]
    fn reads_return_at_most_64_kib() {
        let mut tree = tree_with(&[("big", &[7u8; 200_000])]);
        let file = open_rw(&mut tree, "big", false).unwrap();
        let (bytes, end) = tree.read(file, u64::MAX, 0).unwrap();
        assert_eq!((bytes.len() as u64, end), (MAX_READ, false));
    }

    #[test]
    fn a_second_writer_is_busy_until_the_first_closes() {
        let mut tree = tree_with(&[("db", b"data")]);
        let first = open_rw(&mut tree, "db", true).unwrap();
        assert_eq!(open_rw(&mut tree, "db", true), Err(ErrorCode::Busy));
        let reader = OpenRequest::default();
        assert!(tree.open(NodeId::ROOT, "db", reader).is_ok());
        tree.release(first, true);
        assert!(open_rw(&mut tree, "db", false).is_ok());
    }

    #[test]
    fn an_unlinked_open_file_lives_until_closed() {
        let mut tree = tree_with(&[("f", b"1234")]);
        let file = open_rw(&mut tree, "f", false).unwrap();
        tree.unlink(NodeId::ROOT, "f").unwrap();
        assert_eq!(tree.lookup(NodeId::ROOT, "f"), Err(ErrorCode::NoEntry));
        assert_eq!(tree.read(file, 4, 0), Ok((b"1234".to_vec(), false)));
        assert_eq!(tree.used_bytes(), 4);
        tree.release(file, true);
        assert_eq!(tree.used_bytes(), 0);
        assert!(tree.content(file).is_none());
    }

    #[test]
    fn renames_follow_posix() {
        let mut tree = tree_with(&[("d/x", b"x"), ("y", b"y"), ("e/z", b"z")]);
        tree.create_directory(NodeId::ROOT, "empty").unwrap();
        assert_eq!(
            tree.rename(NodeId::ROOT, "y", NodeId::ROOT, "d"),
            Err(ErrorCode::IsDirectory)
        );
        assert_eq!(
            tree.rename(NodeId::ROOT, "d", NodeId::ROOT, "y"),
            Err(ErrorCode::NotDirectory)
        );
        assert_eq!(
            tree.rename(NodeId::ROOT, "d", NodeId::ROOT, "e"),
            Err(ErrorCode::NotEmpty)
        );
        assert_eq!(
            tree.rename(NodeId::ROOT, "d", NodeId::ROOT, "d/sub"),
            Err(ErrorCode::Invalid)
        );
        assert_eq!(
            tree.rename(NodeId::ROOT, "missing", NodeId::ROOT, "n"),
            Err(ErrorCode::NoEntry)
        );
        tree.rename(NodeId::ROOT, "d", NodeId::ROOT, "empty")
            .unwrap();
        tree.rename(NodeId::ROOT, "y", NodeId::ROOT, "empty/x")
            .unwrap();
        let (files, directories) = tree.files_and_directories();
        assert_eq!(
            files.into_iter().collect::<Vec<_>>(),
            vec![
                ("e/z".into(), b"z".to_vec()),
                ("empty/x".into(), b"y".to_vec())
            ]
        );
        assert_eq!(directories, vec!["e".to_owned(), "empty".to_owned()]);
        assert_eq!(tree.used_bytes(), 2);
    }

    #[test]
    fn capacity_cuts_writes_short_then_refuses_them() {
        let mut tree = tree_with(&[]);
        tree.capacity = Some(10);
        let file = open_rw(&mut tree, "f", true).unwrap();
        assert_eq!(tree.write(file, &[1; 8], 0), Ok(8));
        assert_eq!(tree.write(file, &[2; 8], 4), Ok(6));
        assert_eq!(
            tree.write(file, &[3; 1], 10),
            Err(ErrorCode::InsufficientSpace)
        );
        assert_eq!(tree.write(file, &[4; 2], 0), Ok(2));
        assert_eq!(tree.set_size(file, 11), Err(ErrorCode::InsufficientSpace));
        assert_eq!(tree.set_size(file, 3), Ok(()));
        assert_eq!(tree.used_bytes(), 3);
    }
}
