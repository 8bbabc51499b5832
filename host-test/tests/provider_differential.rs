//! The provider against the model: random operation sequences through the component
//! boundary (reads, writes, growths at hostile offsets, crash-atomic groups, and crashes of
//! the instance inside and outside groups), compared step by step and, at the end, byte for
//! byte on disk.

mod common;

use common::{Model, PAGE, Rng, Sandbox};
use host_test::Runtime;
use host_test::provider::{Memory, MemoryError, ProviderSession};

/// Operations per sequence.
const STEPS: usize = 2500;
/// Sequences, each from its own seed; `DIFF_SEEDS` runs more (a longer fuzzing run).
fn seeds() -> u64 {
    std::env::var("DIFF_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

/// Growth stops here so that the files stay small.
const MAX_PAGES: u64 = 40;

/// `bytes` (a multiple of 8 long) as the little-endian words `read-words` returns.
fn words(bytes: &[u8]) -> Vec<u64> {
    let (chunks, _) = bytes.as_chunks::<8>();
    chunks
        .iter()
        .map(|chunk| u64::from_le_bytes(*chunk))
        .collect()
}

/// An offset near the places where bounds checks break: inside, on page edges, at and past
/// the end, and at the top of the u64 range.
fn offset(rng: &mut Rng, size: u64) -> u64 {
    match rng.below(8) {
        0..=2 => rng.below(size + 1),
        3 => (rng.below(size / PAGE + 2) * PAGE).saturating_sub(rng.below(4)),
        4 => size.saturating_sub(rng.below(16)),
        5 => size + rng.below(3),
        6 => u64::MAX - rng.below(4),
        _ => rng.below(16),
    }
}

/// A length from empty to more than a page.
fn length(rng: &mut Rng) -> u64 {
    match rng.below(6) {
        0 => 0,
        1 => 1 + rng.below(8),
        2 => rng.below(4097),
        3 => PAGE,
        _ => rng.below(2 * PAGE + 3),
    }
}

/// A read length, including lengths no memory could hold.
fn read_length(rng: &mut Rng, size: u64) -> u64 {
    match rng.below(12) {
        0 => u64::MAX - rng.below(2),
        1 => size + 1,
        2 => 1 << (32 + rng.below(30)),
        _ => length(rng),
    }
}

/// A growth: mostly small, sometimes none, sometimes past every limit.
fn growth(rng: &mut Rng, pages: u64) -> u64 {
    match rng.below(10) {
        0 | 1 => 0,
        2 => [u64::MAX, u64::MAX / PAGE, u64::MAX / PAGE + 1, 1 << 47][rng.below(4) as usize],
        _ if pages >= MAX_PAGES => 0,
        _ => 1 + rng.below(3),
    }
}

fn run_sequence(seed: u64) {
    let runtime = Runtime::shared();
    let sandbox = Sandbox::new();
    let wasi = sandbox.wasi();
    let mut rng = Rng::new(seed);
    let mut model = Model::default();
    let mut session = ProviderSession::new(runtime, &wasi).unwrap();
    let mut memory: Memory = session.open("diff.bin").unwrap().unwrap();
    let mut counts = [0usize; 5];
    // The model's bytes when the open group began: what a crash inside the group leaves.
    let mut group_start: Option<Vec<u8>> = None;

    for step in 0..STEPS {
        let at = format!("seed {seed}, step {step}");
        match rng.below(20) {
            0..=6 => {
                counts[0] += 1;
                let offset = offset(&mut rng, model.size());
                let len = read_length(&mut rng, model.size());
                if rng.one_in(3) {
                    // The same bytes as words: `len` counts words here, so it overflows too.
                    let count = if rng.one_in(8) {
                        u64::MAX / 8 + 1 + rng.below(3)
                    } else {
                        len / 8
                    };
                    let got = session
                        .read_words(memory, offset, count)
                        .expect("read trapped");
                    let expected = count
                        .checked_mul(8)
                        .ok_or(MemoryError::OutOfBounds)
                        .and_then(|bytes| model.read(offset, bytes))
                        .map(|bytes| words(&bytes));
                    assert_eq!(got, expected, "{at}: read-words({offset}, {count})");
                } else {
                    let got = session.read(memory, offset, len).expect("read trapped");
                    assert_eq!(got, model.read(offset, len), "{at}: read({offset}, {len})");
                }
            }
            7..=13 => {
                counts[1] += 1;
                let offset = offset(&mut rng, model.size());
                let len = length(&mut rng) as usize;
                let (got, expected) = if rng.one_in(3) {
                    let data = rng.bytes(len / 8 * 8);
                    let got = session.write_words(memory, offset, &words(&data));
                    (got.expect("write trapped"), model.write(offset, &data))
                } else {
                    let data = rng.bytes(len);
                    let got = session.write(memory, offset, &data);
                    (got.expect("write trapped"), model.write(offset, &data))
                };
                assert_eq!(got, expected, "{at}: write({offset}, about {len} bytes)");
            }
            14..=18 => {
                counts[2] += 1;
                let new_pages = growth(&mut rng, model.pages());
                let got = session.grow(memory, new_pages).expect("grow trapped");
                assert_eq!(got, model.grow(new_pages), "{at}: grow({new_pages})");
            }
            19 if rng.one_in(2) => {
                counts[3] += 1;
                match group_start.take() {
                    None => {
                        session.begin_group(memory).unwrap().expect("begin a group");
                        group_start = Some(model.bytes.clone());
                    }
                    Some(_) => {
                        let durable = rng.one_in(4);
                        session
                            .commit_group(memory, durable)
                            .unwrap()
                            .expect("commit");
                    }
                }
            }
            _ => {
                counts[4] += 1;
                // A crash: the instance is gone without closing anything or committing.
                if let Some(bytes) = group_start.take() {
                    model.bytes = bytes;
                }
                session = ProviderSession::new(runtime, &wasi).unwrap();
                memory = session.open("diff.bin").unwrap().expect("reopen");
            }
        }
        assert_eq!(session.size(memory).unwrap(), model.size(), "{at}: size");
        assert_eq!(session.pages(memory).unwrap(), model.pages(), "{at}: pages");
    }
    if group_start.is_some() {
        session
            .commit_group(memory, false)
            .unwrap()
            .expect("commit");
    }
    session.close(memory).unwrap();
    assert!(
        sandbox.bytes("diff.bin") == model.bytes,
        "seed {seed}: the file differs from the model"
    );
    // Every kind of operation ran often enough to mean something.
    assert!(
        counts.iter().all(|count| *count > STEPS / 100),
        "{counts:?}"
    );
}

#[test]
fn random_operation_sequences_match_the_model() {
    for seed in 1..=seeds() {
        run_sequence(seed.wrapping_mul(0x5851_F42D_4C95_7F2D));
    }
}
