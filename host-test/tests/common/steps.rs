//! The steps of the small provider workloads that the fault sweeps run.

/// One step.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// A write outside a group: offset, bytes.
    Write(u64, &'static [u8]),
    /// A growth outside a group, in pages.
    Grow(u64),
    /// A group: durable, growth in pages, bytes, offset.
    Group(bool, u64, &'static [u8], u64),
    /// `sync`.
    Sync,
    /// `checkpoint`.
    Checkpoint,
}
