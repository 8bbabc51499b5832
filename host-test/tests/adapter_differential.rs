//! The consumer side against the model: wasm-dbms's `MemoryProvider` as the adapter
//! implements it (block cache, word transfers, skipped zero writes) over the provider,
//! driven with random operations inside the composed component, with caches small enough
//! to evict all the time. Compared step by step, then byte for byte on disk.

mod common;

use common::{Model, PAGE, Rng, Sandbox};
use host_test::Runtime;
use host_test::dbms::{DbmsSession, Storage};

const STEPS: usize = 1500;

fn run_sequence(seed: u64, storage: Storage, cache_bytes: u64) {
    let sandbox = Sandbox::new();
    let wasi = sandbox.wasi();
    let mut rng = Rng::new(seed);
    // The adapter grows a new memory to wasm-dbms's two reserved pages when it opens it.
    let mut model = Model::default();
    model.grow(2).unwrap();
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, storage).unwrap();
    let mut raw = session
        .raw_open("adapter.bin", Some(cache_bytes))
        .unwrap()
        .unwrap();
    for step in 0..STEPS {
        let at = format!("seed {seed}, cache {cache_bytes}, step {step}");
        let size = model.size();
        let offset = match rng.below(4) {
            0 => rng.below(size + 1),
            1 => (rng.below(size / 4096 + 2) * 4096).saturating_sub(rng.below(3)),
            2 => size.saturating_sub(rng.below(9000)),
            _ => u64::MAX - rng.below(3),
        };
        let len = match rng.below(4) {
            0 => rng.below(16),
            1 => rng.below(5000),
            2 => PAGE,
            _ => rng.below(3 * PAGE),
        };
        match rng.below(10) {
            0..=3 => {
                let got = session.raw_read(raw, offset, len).expect("read trapped");
                match model.read(offset, len) {
                    Ok(bytes) => assert!(got.as_ref() == Ok(&bytes), "{at}: read({offset}, {len})"),
                    Err(_) => assert!(
                        got.as_ref()
                            .is_err_and(|error| error.contains("out of bounds")),
                        "{at}: read({offset}, {len}) should be out of bounds"
                    ),
                }
            }
            4..=7 => {
                let data = if rng.one_in(3) {
                    vec![0; len as usize]
                } else {
                    rng.bytes(len as usize)
                };
                let got = session
                    .raw_write(raw, offset, &data)
                    .expect("write trapped");
                assert_eq!(
                    got.is_ok(),
                    model.write(offset, &data).is_ok(),
                    "{at}: write({offset}, {len})"
                );
            }
            8 if model.pages() < 24 => {
                let new_pages = rng.below(3);
                let got = session
                    .raw_grow(raw, new_pages)
                    .expect("grow trapped")
                    .unwrap();
                assert_eq!(got, model.grow(new_pages).unwrap() * PAGE, "{at}: grow");
            }
            _ => {
                session.raw_close(raw).unwrap();
                raw = session
                    .raw_open("adapter.bin", Some(cache_bytes))
                    .unwrap()
                    .unwrap();
            }
        }
    }
    session.raw_close(raw).unwrap();
    assert!(
        sandbox.bytes("adapter.bin") == model.bytes,
        "seed {seed}: the file differs"
    );
}

#[test]
fn the_adapter_matches_the_model_through_the_composition() {
    for (seed, cache_bytes) in [(11, 0), (12, 3 * 4096), (13, 40 * 4096), (14, 64 << 20)] {
        run_sequence(seed, Storage::Composed, cache_bytes);
    }
}

#[test]
fn the_adapter_matches_the_model_when_linked() {
    run_sequence(21, Storage::Linked, 5 * 4096);
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
