//! The provider against the model, with proptest: random operation sequences through the
//! component boundary (reads and writes in bytes and in words at hostile offsets and
//! lengths, growths past every limit, groups committed, aborted and crashed in, sync,
//! checkpoint, and crashes of the instance inside and outside groups), compared step by step
//! and, at the end, byte for byte on disk. A failing sequence shrinks to a few steps.
//!
//! `DIFF_CASES` sets the number of sequences (default 48; a longer run takes more).

mod common;

use common::{Model, PAGE, Sandbox};
use host_test::Runtime;
use host_test::provider::{Memory, MemoryError, ProviderSession};
use proptest::prelude::*;

/// Growth stops here so that the files stay small.
const MAX_PAGES: u64 = 40;

/// Where an operation lands, relative to the memory's size when it runs: inside, on page
/// edges, at and past the end, and at the top of the u64 range.
#[derive(Clone, Copy, Debug)]
enum At {
    /// This fraction (in 65536ths) of the size.
    Inside(u16),
    /// `pages * PAGE` minus a little.
    PageEdge(u8, u8),
    /// The size minus a little.
    BeforeEnd(u8),
    /// The size plus a little.
    PastEnd(u8),
    /// `u64::MAX` minus a little.
    Top(u8),
}

impl At {
    fn offset(self, size: u64) -> u64 {
        match self {
            At::Inside(fraction) => size * u64::from(fraction) / 65536,
            At::PageEdge(page, less) => (u64::from(page) * PAGE).saturating_sub(u64::from(less)),
            At::BeforeEnd(less) => size.saturating_sub(u64::from(less)),
            At::PastEnd(more) => size + u64::from(more),
            At::Top(less) => u64::MAX - u64::from(less),
        }
    }
}

/// How long an access is: from nothing to more than two pages, and lengths no memory holds.
#[derive(Clone, Copy, Debug)]
enum Len {
    Bytes(u32),
    Page,
    Huge(u8),
}

impl Len {
    fn bytes(self) -> u64 {
        match self {
            Len::Bytes(n) => u64::from(n),
            Len::Page => PAGE,
            Len::Huge(shift) => 1 << (32 + u32::from(shift) % 32),
        }
    }
}

/// One step of a sequence.
#[derive(Clone, Debug)]
enum Op {
    Read(At, Len),
    ReadWords(At, Len),
    /// A write of `len` bytes of the seed's pattern.
    Write(At, u32, u8),
    WriteWords(At, u32, u8),
    Grow(u64),
    Begin,
    Commit(bool),
    Abort,
    Sync,
    Checkpoint,
    /// The instance goes away without closing anything: a crash.
    Crash,
    /// The memory is dropped and opened again in the same instance.
    Reopen,
}

fn at() -> impl Strategy<Value = At> {
    prop_oneof![
        4 => any::<u16>().prop_map(At::Inside),
        2 => (0..=MAX_PAGES as u8 + 1, 0..4u8).prop_map(|(p, l)| At::PageEdge(p, l)),
        1 => (0..16u8).prop_map(At::BeforeEnd),
        1 => (0..3u8).prop_map(At::PastEnd),
        1 => (0..4u8).prop_map(At::Top),
    ]
}

fn len() -> impl Strategy<Value = Len> {
    prop_oneof![
        6 => (0..2 * PAGE as u32 + 3).prop_map(Len::Bytes),
        1 => Just(Len::Page),
        1 => any::<u8>().prop_map(Len::Huge),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (at(), len()).prop_map(|(a, l)| Op::Read(a, l)),
        2 => (at(), len()).prop_map(|(a, l)| Op::ReadWords(a, l)),
        5 => (at(), 0..2 * PAGE as u32, any::<u8>()).prop_map(|(a, n, s)| Op::Write(a, n, s)),
        2 => (at(), 0..2 * PAGE as u32, any::<u8>()).prop_map(|(a, n, s)| Op::WriteWords(a, n, s)),
        3 => prop_oneof![
            4 => 0..4u64,
            1 => prop_oneof![Just(u64::MAX), Just(u64::MAX / PAGE), Just(1u64 << 47)],
        ]
        .prop_map(Op::Grow),
        2 => Just(Op::Begin),
        2 => any::<bool>().prop_map(Op::Commit),
        1 => Just(Op::Abort),
        1 => Just(Op::Sync),
        1 => Just(Op::Checkpoint),
        1 => Just(Op::Crash),
        1 => Just(Op::Reopen),
    ]
}

/// `len` bytes of a pattern from `seed`.
fn pattern(len: u32, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// `bytes` (a multiple of 8 long) as the little-endian words `read-words` returns.
fn words(bytes: &[u8]) -> Vec<u64> {
    let (chunks, _) = bytes.as_chunks::<8>();
    chunks.iter().map(|c| u64::from_le_bytes(*c)).collect()
}

/// The model of a group: the memory as it was when the group began.
struct State {
    model: Model,
    group: Option<Vec<u8>>,
}

/// Runs `ops` through the provider and the model; returns the first difference.
fn run(ops: &[Op]) -> Result<(), TestCaseError> {
    let runtime = Runtime::shared();
    let sandbox = Sandbox::new();
    let wasi = sandbox.wasi();
    let mut provider = ProviderSession::new(runtime, &wasi).unwrap();
    let mut memory: Memory = provider.open("diff.bin").unwrap().unwrap();
    let mut state = State {
        model: Model::default(),
        group: None,
    };
    for (step, op) in ops.iter().enumerate() {
        let size = state.model.size();
        let at = |a: At| a.offset(size);
        match op.clone() {
            Op::Read(a, l) => {
                let (offset, len) = (at(a), l.bytes());
                let got = provider.read(memory, offset, len).unwrap();
                prop_assert_eq!(
                    got,
                    expected_read(&state.model, offset, len),
                    "step {}",
                    step
                );
            }
            Op::ReadWords(a, l) => {
                let (offset, count) = (at(a), l.bytes() / 8);
                let got = provider.read_words(memory, offset, count).unwrap();
                let expected = expected_read(&state.model, offset, count * 8).map(|b| words(&b));
                prop_assert_eq!(got, expected, "step {}", step);
            }
            Op::Write(a, n, seed) => {
                let data = pattern(n, seed);
                let got = provider.write(memory, at(a), &data).unwrap();
                prop_assert_eq!(got, state.model.write(at(a), &data), "step {}", step);
            }
            Op::WriteWords(a, n, seed) => {
                let data = pattern(n / 8 * 8, seed);
                let got = provider.write_words(memory, at(a), &words(&data)).unwrap();
                prop_assert_eq!(got, state.model.write(at(a), &data), "step {}", step);
            }
            Op::Grow(pages) => {
                let pages = if state.model.pages() + pages > MAX_PAGES && pages < 4 {
                    0
                } else {
                    pages
                };
                let got = provider.grow(memory, pages).unwrap();
                prop_assert_eq!(got, state.model.grow(pages), "step {}", step);
            }
            Op::Begin => {
                let got = provider.begin_group(memory).unwrap();
                match state.group {
                    Some(_) => prop_assert_eq!(got, Err(MemoryError::GroupAlreadyOpen)),
                    None => {
                        prop_assert_eq!(got, Ok(()));
                        state.group = Some(state.model.bytes.clone());
                    }
                }
            }
            Op::Commit(durable) => {
                let got = provider.commit_group(memory, durable).unwrap();
                match state.group.take() {
                    Some(_) => prop_assert_eq!(got, Ok(())),
                    None => prop_assert_eq!(got, Err(MemoryError::NoOpenGroup)),
                }
            }
            Op::Abort => {
                let got = provider.abort_group(memory).unwrap();
                match state.group.take() {
                    Some(before) => {
                        prop_assert_eq!(got, Ok(()));
                        state.model.bytes = before;
                    }
                    None => prop_assert_eq!(got, Err(MemoryError::NoOpenGroup)),
                }
            }
            Op::Sync => prop_assert_eq!(provider.sync(memory).unwrap(), Ok(())),
            Op::Checkpoint => prop_assert_eq!(provider.checkpoint(memory).unwrap(), Ok(())),
            Op::Crash | Op::Reopen => {
                // A group open at a crash or a drop leaves none of it.
                if let Some(before) = state.group.take() {
                    state.model.bytes = before;
                }
                if matches!(op, Op::Crash) {
                    provider = ProviderSession::new(runtime, &wasi).unwrap();
                } else {
                    provider.close(memory).unwrap();
                }
                memory = provider.open("diff.bin").unwrap().unwrap();
            }
        }
        prop_assert_eq!(
            provider.size(memory).unwrap(),
            state.model.size(),
            "step {}: size",
            step
        );
    }
    if state.group.take().is_some() {
        provider.commit_group(memory, false).unwrap().unwrap();
    }
    provider.close(memory).unwrap();
    prop_assert!(
        sandbox.bytes("diff.bin") == state.model.bytes,
        "the file differs from the model"
    );
    prop_assert!(
        !sandbox.file("diff.bin-journal").exists(),
        "a journal after close"
    );
    Ok(())
}

/// What a read of `len` bytes at `offset` answers in the model: past the transfer limit
/// (64 MiB) a read that lies inside is refused as too large.
fn expected_read(model: &Model, offset: u64, len: u64) -> Result<Vec<u8>, MemoryError> {
    let inside = offset
        .checked_add(len)
        .is_some_and(|end| end <= model.size());
    if inside && len > 64 << 20 {
        return Err(MemoryError::TransferTooLarge(64 << 20));
    }
    model.read(offset, len)
}

fn cases() -> u32 {
    std::env::var("DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_operation_sequences_match_the_model(ops in prop::collection::vec(op(), 1..400)) {
        run(&ops)?;
    }
}
