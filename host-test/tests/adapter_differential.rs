//! The consumer side against the model, with proptest: wasm-dbms's `MemoryProvider` as the
//! adapter implements it (block cache, diffed writes, word transfers, skipped zero writes)
//! over the provider, driven with random operations inside the component on both linkings,
//! with caches small enough to evict all the time. Compared step by step, then byte for byte
//! on disk; a failing sequence shrinks to a few steps.

mod common;

use common::{Model, PAGE, Sandbox};
use host_test::Runtime;
use host_test::dbms::{DbmsSession, Storage};
use proptest::prelude::*;

/// One step of a sequence, its offsets relative to the size when it runs.
#[derive(Clone, Debug)]
enum Op {
    /// A read at this fraction (in 65536ths) of the size, plus a shift, of `len` bytes.
    Read(u16, i16, u32),
    /// A write there of `len` bytes: zeros, a pattern, or the pattern over bytes already
    /// there (most of a page rewritten with a few bytes changed, as wasm-dbms does).
    Write(u16, i16, u32, Fill),
    Grow(u64),
    /// The storage closed and opened again.
    Reopen,
}

#[derive(Clone, Copy, Debug)]
enum Fill {
    Zeros,
    Pattern(u8),
    FewChanged(u8),
}

fn op() -> impl Strategy<Value = Op> {
    let len = prop_oneof![0..16u32, 0..5000u32, Just(PAGE as u32), 0..3 * PAGE as u32];
    let fill = prop_oneof![
        Just(Fill::Zeros),
        any::<u8>().prop_map(Fill::Pattern),
        any::<u8>().prop_map(Fill::FewChanged),
    ];
    prop_oneof![
        4 => (any::<u16>(), -9000i16..3, len.clone()).prop_map(|(f, d, l)| Op::Read(f, d, l)),
        4 => (any::<u16>(), -9000i16..3, len, fill).prop_map(|(f, d, l, x)| Op::Write(f, d, l, x)),
        1 => (0..3u64).prop_map(Op::Grow),
        1 => Just(Op::Reopen),
    ]
}

fn offset(size: u64, fraction: u16, shift: i16) -> u64 {
    (size * u64::from(fraction) / 65536).saturating_add_signed(i64::from(shift))
}

fn run(ops: &[Op], storage: Storage, cache_bytes: u64) -> Result<(), TestCaseError> {
    let sandbox = Sandbox::new();
    let mut session = DbmsSession::new(Runtime::shared(), &sandbox.wasi(), storage).unwrap();
    let mut raw = session
        .raw_open("adapter.bin", Some(cache_bytes))
        .unwrap()
        .unwrap();
    // The adapter grows a new memory to wasm-dbms's two reserved pages when it opens it.
    let mut model = Model::default();
    model.grow(2).unwrap();
    for (step, op) in ops.iter().enumerate() {
        let size = model.size();
        match *op {
            Op::Read(fraction, shift, len) => {
                let at = offset(size, fraction, shift);
                let got = session.raw_read(raw, at, u64::from(len)).unwrap();
                match model.read(at, u64::from(len)) {
                    Ok(bytes) => prop_assert!(got.as_ref() == Ok(&bytes), "step {}: read", step),
                    Err(_) => prop_assert!(
                        got.as_ref().is_err_and(|e| e.contains("out of bounds")),
                        "step {}: read({}, {}) should be out of bounds",
                        step,
                        at,
                        len
                    ),
                }
            }
            Op::Write(fraction, shift, len, fill) => {
                let at = offset(size, fraction, shift);
                let data: Vec<u8> = match fill {
                    Fill::Zeros => vec![0; len as usize],
                    Fill::Pattern(seed) => (0..len).map(|i| (i as u8) ^ seed).collect(),
                    Fill::FewChanged(seed) => {
                        let mut data = model
                            .read(at, u64::from(len))
                            .unwrap_or_else(|_| vec![0; len as usize]);
                        for i in (0..data.len()).step_by(997) {
                            data[i] = data[i].wrapping_add(seed | 1);
                        }
                        data
                    }
                };
                let got = session.raw_write(raw, at, &data).unwrap();
                prop_assert_eq!(
                    got.is_ok(),
                    model.write(at, &data).is_ok(),
                    "step {}: write",
                    step
                );
            }
            Op::Grow(pages) if model.pages() < 24 => {
                let got = session.raw_grow(raw, pages).unwrap().unwrap();
                prop_assert_eq!(
                    got,
                    model.grow(pages).unwrap() * PAGE,
                    "step {}: grow",
                    step
                );
            }
            Op::Grow(_) => {}
            Op::Reopen => {
                session.raw_close(raw).unwrap();
                raw = session
                    .raw_open("adapter.bin", Some(cache_bytes))
                    .unwrap()
                    .unwrap();
            }
        }
    }
    session.raw_close(raw).unwrap();
    prop_assert!(
        sandbox.bytes("adapter.bin") == model.bytes,
        "the file differs"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn the_adapter_matches_the_model_through_the_composition(
        ops in prop::collection::vec(op(), 1..300),
        cache_blocks in prop_oneof![Just(0u64), 1..64u64, Just(16_384u64)],
    ) {
        run(&ops, Storage::Composed, cache_blocks * 4096)?;
    }

    #[test]
    fn the_adapter_matches_the_model_when_linked(
        ops in prop::collection::vec(op(), 1..300),
        cache_blocks in 1..16u64,
    ) {
        run(&ops, Storage::Linked, cache_blocks * 4096)?;
    }
}

#[test]
fn reads_and_writes_of_the_largest_transfer_and_past_it_cross_both_linkings() {
    // 64 MiB is what one provider call moves at most; wasmtime's default limit on what one
    // call hands the host (128 MiB) must let it through the host-linked forwarding, and the
    // adapter splits anything longer.
    let limit = 64u64 << 20;
    for storage in [Storage::Linked, Storage::Composed] {
        let sandbox = Sandbox::new();
        let mut session = DbmsSession::new(Runtime::shared(), &sandbox.wasi(), storage).unwrap();
        let raw = session.raw_open("big.bin", Some(0)).unwrap().unwrap();
        session.raw_grow(raw, (2 * limit) / PAGE).unwrap().unwrap();
        let data: Vec<u8> = (0..limit + 8).map(|i| (i % 251) as u8).collect();
        session.raw_write(raw, 100, &data).unwrap().unwrap();
        let back = session.raw_read(raw, 100, limit + 8).unwrap().unwrap();
        assert!(back == data, "{storage:?}: the bytes differ");
        let exact = session.raw_read(raw, 0, limit).unwrap().unwrap();
        assert_eq!(exact.len() as u64, limit);
        session.raw_close(raw).unwrap();
    }
}
