//! Fault injection: which calls the simulated filesystem fails, and the call counters.

use super::ErrorCode;

/// The `wasi:filesystem` calls that can fail, as counted and as faults select them.
///
/// Calls that cannot fail by their signature (`get-directories`, `is-same-object`,
/// `filesystem-error-code`, resource drops) are neither counted nor faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `open-at`.
    OpenAt,
    /// `read`.
    Read,
    /// `write`.
    Write,
    /// `set-size`.
    SetSize,
    /// `sync-data`.
    SyncData,
    /// `sync`.
    Sync,
    /// `stat`.
    Stat,
    /// `stat-at`.
    StatAt,
    /// `get-type`.
    GetType,
    /// `get-flags`.
    GetFlags,
    /// `unlink-file-at`.
    UnlinkFileAt,
    /// `rename-at`.
    RenameAt,
    /// `create-directory-at`.
    CreateDirectoryAt,
    /// `remove-directory-at`.
    RemoveDirectoryAt,
    /// `read-directory`.
    ReadDirectory,
    /// `read-directory-entry` of a directory stream.
    ReadDirectoryEntry,
    /// `metadata-hash`.
    MetadataHash,
    /// `metadata-hash-at`.
    MetadataHashAt,
    /// `advise`.
    Advise,
    /// Everything the simulation answers `unsupported`: streams, links, times.
    Unsupported,
}

impl CallKind {
    /// Every kind, in declaration order.
    pub const ALL: [CallKind; 20] = [
        CallKind::OpenAt,
        CallKind::Read,
        CallKind::Write,
        CallKind::SetSize,
        CallKind::SyncData,
        CallKind::Sync,
        CallKind::Stat,
        CallKind::StatAt,
        CallKind::GetType,
        CallKind::GetFlags,
        CallKind::UnlinkFileAt,
        CallKind::RenameAt,
        CallKind::CreateDirectoryAt,
        CallKind::RemoveDirectoryAt,
        CallKind::ReadDirectory,
        CallKind::ReadDirectoryEntry,
        CallKind::MetadataHash,
        CallKind::MetadataHashAt,
        CallKind::Advise,
        CallKind::Unsupported,
    ];

    fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of [`CallKind`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallKinds(u32);

impl CallKinds {
    /// Every kind of call.
    pub const ANY: CallKinds = CallKinds(u32::MAX);

    /// Exactly `kinds`.
    pub fn of(kinds: &[CallKind]) -> Self {
        CallKinds(kinds.iter().fold(0, |bits, kind| bits | kind.bit()))
    }

    /// Whether `kind` is in the set.
    pub fn contains(self, kind: CallKind) -> bool {
        self.0 & kind.bit() != 0
    }
}

impl From<CallKind> for CallKinds {
    fn from(kind: CallKind) -> Self {
        CallKinds::of(&[kind])
    }
}

/// One armed fault.
#[derive(Clone, Debug)]
struct ArmedFault {
    kinds: CallKinds,
    /// Matching calls still to let through before the fault fires.
    remaining: u64,
    error: ErrorCode,
    /// Keeps failing every matching call once it fired (a dead disk).
    persistent: bool,
}

/// The counters and the armed faults of one simulated filesystem.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    calls: u64,
    by_kind: [u64; CallKind::ALL.len()],
    armed: Vec<ArmedFault>,
    injected: u64,
}

impl Faults {
    /// Arms a fault on the `nth` (1 = the next) call from now among `kinds`.
    pub fn arm(&mut self, nth: u64, kinds: CallKinds, error: ErrorCode, persistent: bool) {
        assert!(nth >= 1, "calls are counted from 1");
        self.armed.push(ArmedFault {
            kinds,
            remaining: nth - 1,
            error,
            persistent,
        });
    }

    /// Disarms every fault.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// Counts a call of `kind`, and returns the error it must fail with, if a fault fires.
    pub fn enter(&mut self, kind: CallKind) -> Option<ErrorCode> {
        self.calls += 1;
        self.by_kind[kind as usize] += 1;
        let mut fired = None;
        self.armed.retain_mut(|fault| {
            if !fault.kinds.contains(kind) {
                return true;
            }
            if fault.remaining > 0 {
                fault.remaining -= 1;
                return true;
            }
            fired.get_or_insert(fault.error);
            fault.persistent
        });
        if fired.is_some() {
            self.injected += 1;
        }
        fired
    }

    /// Calls counted so far.
    pub fn calls(&self) -> u64 {
        self.calls
    }

    /// Calls of `kind` counted so far.
    pub fn calls_of(&self, kind: CallKind) -> u64 {
        self.by_kind[kind as usize]
    }

    /// Calls failed by a fault so far.
    pub fn injected(&self) -> u64 {
        self.injected
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_fires_on_the_nth_matching_call_once() {
        let mut faults = Faults::default();
        faults.arm(2, CallKind::Write.into(), ErrorCode::Io, false);
        assert_eq!(faults.enter(CallKind::Write), None);
        assert_eq!(faults.enter(CallKind::Read), None);
        assert_eq!(faults.enter(CallKind::Write), Some(ErrorCode::Io));
        assert_eq!(faults.enter(CallKind::Write), None);
        assert_eq!((faults.calls(), faults.calls_of(CallKind::Write)), (4, 3));
        assert_eq!(faults.injected(), 1);
    }

    #[test]
    fn a_persistent_fault_keeps_failing() {
        let mut faults = Faults::default();
        let kinds = CallKinds::of(&[CallKind::Sync, CallKind::SyncData]);
        faults.arm(1, kinds, ErrorCode::InsufficientSpace, true);
        assert_eq!(faults.enter(CallKind::Read), None);
        for _ in 0..3 {
            assert_eq!(
                faults.enter(CallKind::SyncData),
                Some(ErrorCode::InsufficientSpace)
            );
        }
        faults.clear();
        assert_eq!(faults.enter(CallKind::Sync), None);
    }
}
