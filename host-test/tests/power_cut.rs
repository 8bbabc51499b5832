//! Power cuts: each workload runs once on the simulated filesystem, which records every
//! change; then, at cut points spread over its whole life, the disks a power failure could
//! leave (everything kept, everything unsynced dropped, and random mixes of torn and
//! reordered sectors, lost sizes and lost directory entries) are each opened by a fresh
//! instance of the real `provider.wasm`, and what it finds is checked exactly against a
//! model of the workload:
//! - the raw provider, mixing durable and non-durable groups, writes and growths outside
//!   groups, `sync` and `checkpoint`;
//! - wasm-dbms (the composed component) with durable commits;
//! - the to-do example, a seed-style component on the adapter's atomic mode.
//!
//! `POWER_CUTS` sets the cut points per workload (default 300; the test command runs 1,000).

mod common;

use common::library::Library;
use common::{PAGE, Rng};
use host_test::dbms::{DbmsSession, Storage};
use host_test::provider::{Memory, ProviderSession};
use host_test::simfs::{CrashCase, CrashKind, SimFs};
use host_test::todo::{self, TodoSession};
use host_test::{Runtime, WasiConfig};

fn wanted_cuts() -> usize {
    std::env::var("POWER_CUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
}

/// `wanted` cut points spread evenly over a trace of `len` entries (all of them when fewer).
fn spread(len: usize, wanted: usize) -> Vec<usize> {
    if len <= wanted {
        return (0..=len).collect();
    }
    (0..wanted).map(|i| i * len / (wanted - 1).max(1)).collect()
}

/// Marks: operation `i` begins at `2i` and has returned at `2i + 1`.
fn begin(i: usize) -> u64 {
    2 * i as u64
}

fn end(i: usize) -> u64 {
    2 * i as u64 + 1
}

/// The operations completed before a cut, and the one under way, from its last mark.
fn progress(case: &CrashCase) -> (usize, Option<usize>) {
    match case.last_mark {
        None => (0, None),
        Some(mark) if mark % 2 == 1 => ((mark / 2 + 1) as usize, None),
        Some(mark) => ((mark / 2) as usize, Some((mark / 2) as usize)),
    }
}

/// What a report line says.
struct Tally {
    cuts: usize,
    states: usize,
}

impl Tally {
    fn report(&self, workload: &str) {
        eprintln!(
            "power cuts, {workload}: {} cut points, {} crash states checked, corruptions found: 0",
            self.cuts, self.states
        );
    }
}

// ---------------------------------------------------------------------------------------
// The raw provider.

/// One operation of the raw workload.
#[derive(Clone, Debug)]
enum Op {
    /// A write outside a group.
    Write(u64, Vec<u8>),
    /// A growth outside a group, by this many pages.
    Grow(u64),
    /// A group: its growth in pages, its writes, and whether its commit is durable.
    Group {
        grow: u64,
        writes: Vec<(u64, Vec<u8>)>,
        durable: bool,
    },
    Sync,
    Checkpoint,
}

impl Op {
    /// Whether the operation, once returned, makes everything before it durable.
    fn is_barrier(&self) -> bool {
        matches!(
            self,
            Op::Group { durable: true, .. } | Op::Sync | Op::Checkpoint
        )
    }
}

/// The memory's bytes; its length is its size.
type Image = Vec<u8>;

fn apply(image: &mut Image, op: &Op) {
    let write = |image: &mut Image, offset: u64, data: &[u8]| {
        image[offset as usize..offset as usize + data.len()].copy_from_slice(data);
    };
    match op {
        Op::Write(offset, data) => write(image, *offset, data),
        Op::Grow(pages) => image.resize(image.len() + (*pages * PAGE) as usize, 0),
        Op::Group { grow, writes, .. } => {
            image.resize(image.len() + (*grow * PAGE) as usize, 0);
            for (offset, data) in writes {
                write(image, *offset, data);
            }
        }
        Op::Sync | Op::Checkpoint => {}
    }
}

/// A random workload of `count` operations over a memory of at most 24 pages.
fn raw_workload(count: usize, rng: &mut Rng) -> Vec<Op> {
    let mut size = 0u64;
    let mut ops = Vec::new();
    let data = |rng: &mut Rng, size: u64| -> (u64, Vec<u8>) {
        let len = match rng.below(6) {
            0 => 70_000.min(size),
            1 => rng.below(4000),
            _ => 1 + rng.below(300),
        };
        let offset = rng.below(size - len + 1);
        (offset, rng.bytes(len as usize))
    };
    while ops.len() < count {
        let op = match rng.below(12) {
            _ if size == 0 => Op::Grow(2),
            0..=2 => {
                let (offset, bytes) = data(rng, size);
                Op::Write(offset, bytes)
            }
            3 if size < 24 * PAGE => Op::Grow(1 + rng.below(2)),
            4 => Op::Sync,
            5 => Op::Checkpoint,
            _ => {
                let grow = if size < 24 * PAGE && rng.one_in(4) {
                    1
                } else {
                    0
                };
                let grown = size + grow * PAGE;
                let writes = (0..1 + rng.below(4)).map(|_| data(rng, grown)).collect();
                Op::Group {
                    grow,
                    writes,
                    durable: !rng.one_in(3),
                }
            }
        };
        if let Op::Grow(pages) | Op::Group { grow: pages, .. } = &op {
            size += pages * PAGE;
        }
        ops.push(op);
    }
    ops
}

/// Runs `op` through the provider, expecting success.
fn run_op(provider: &mut ProviderSession, memory: Memory, op: &Op) {
    fn ok<T>(result: wasmtime::Result<Result<T, host_test::provider::MemoryError>>) -> T {
        result.unwrap().unwrap()
    }
    match op {
        Op::Write(offset, data) => ok(provider.write(memory, *offset, data)),
        Op::Grow(pages) => {
            ok(provider.grow(memory, *pages));
        }
        Op::Group {
            grow,
            writes,
            durable,
        } => {
            ok(provider.begin_group(memory));
            if *grow > 0 {
                ok(provider.grow(memory, *grow));
            }
            for (offset, data) in writes {
                ok(provider.write(memory, *offset, data));
            }
            ok(provider.commit_group(memory, *durable));
        }
        Op::Sync => ok(provider.sync(memory)),
        Op::Checkpoint => ok(provider.checkpoint(memory)),
    }
}

/// What a recovered memory may hold at a cut, from the model: `base` is the image the
/// check starts from, `loose` the operations each of whose bytes and sizes may or may not
/// be there (in any mix), and `whole` the operation that must be there entirely or not at
/// all.
struct Allowed<'a> {
    base: Image,
    loose: Vec<&'a Op>,
    whole: Option<&'a Op>,
}

impl Allowed<'_> {
    /// Checks `found` against what is allowed; returns why not.
    fn check(&self, found: &[u8]) -> Result<(), String> {
        let mut sizes = vec![self.base.len()];
        let mut grown = self.base.clone();
        for op in &self.loose {
            grow_only(&mut grown, op);
            sizes.push(grown.len());
        }
        // The commit under way counts as applied when its size and every byte it wrote are
        // there; then those bytes are its, and the rest as if it had not happened.
        let whole = self.whole.map(|op| {
            let mut image = grown.clone();
            apply(&mut image, op);
            (image, written_ranges(op))
        });
        let applied = whole.as_ref().is_some_and(|(image, ranges)| {
            found.len() == image.len()
                && ranges.iter().all(|(offset, data)| {
                    let range = *offset as usize..*offset as usize + data.len();
                    found[range.clone()] == image[range]
                })
        });
        if !applied && !sizes.contains(&found.len()) {
            return Err(format!(
                "size {} is none of {sizes:?}, and the commit under way is not there whole",
                found.len()
            ));
        }
        let reference: &[u8] = match (&whole, applied) {
            (Some((image, _)), true) => image,
            _ => &self.base,
        };
        let covered_by_whole = |at: usize| {
            applied
                && whole.as_ref().is_some_and(|(_, ranges)| {
                    ranges.iter().any(|(offset, data)| {
                        at >= *offset as usize && at < *offset as usize + data.len()
                    })
                })
        };
        let written_loose = |at: usize, value: u8| {
            self.loose.iter().any(|op| {
                written_ranges(op).iter().any(|(offset, data)| {
                    let offset = *offset as usize;
                    at >= offset && at < offset + data.len() && data[at - offset] == value
                })
            })
        };
        const CHUNK: usize = 4096;
        for start in (0..found.len()).step_by(CHUNK) {
            let end = (start + CHUNK).min(found.len());
            let expected = |at: usize| reference.get(at).copied().unwrap_or(0);
            if end <= reference.len() && found[start..end] == reference[start..end] {
                continue;
            }
            for (at, value) in found.iter().enumerate().take(end).skip(start) {
                if *value == expected(at) || (!covered_by_whole(at) && written_loose(at, *value)) {
                    continue;
                }
                return Err(format!(
                    "byte {at} is {value}, allowed {} or a value an operation not yet durable \
                     wrote there (commit under way there whole: {applied})",
                    expected(at)
                ));
            }
        }
        Ok(())
    }
}

/// The ranges an operation writes.
fn written_ranges(op: &Op) -> Vec<(u64, &[u8])> {
    match op {
        Op::Write(offset, data) => vec![(*offset, data.as_slice())],
        Op::Group { writes, .. } => writes.iter().map(|(o, d)| (*o, d.as_slice())).collect(),
        _ => Vec::new(),
    }
}

fn grown_bytes(op: &Op) -> usize {
    match op {
        Op::Grow(pages) | Op::Group { grow: pages, .. } => (*pages * PAGE) as usize,
        _ => 0,
    }
}

fn grow_only(image: &mut Image, op: &Op) {
    let grown = grown_bytes(op);
    image.resize(image.len() + grown, 0);
}

/// What may be found after `case`: a process kill keeps every returned operation; a power
/// cut keeps what the last barrier made durable, exactly.
fn allowed<'a>(ops: &'a [Op], case: &CrashCase) -> Allowed<'a> {
    let (done, under_way) = progress(case);
    let mut base = Image::new();
    if case.kind == CrashKind::KeepEverything {
        for op in &ops[..done] {
            apply(&mut base, op);
        }
        let under_way = under_way.map(|i| &ops[i]);
        return match under_way {
            Some(op @ Op::Group { .. }) => Allowed {
                base,
                loose: Vec::new(),
                whole: Some(op),
            },
            Some(op) => Allowed {
                base,
                loose: vec![op],
                whole: None,
            },
            None => Allowed {
                base,
                loose: Vec::new(),
                whole: None,
            },
        };
    }
    let durable = ops[..done]
        .iter()
        .rposition(Op::is_barrier)
        .map_or(0, |i| i + 1);
    for op in &ops[..durable] {
        apply(&mut base, op);
    }
    let mut loose: Vec<&Op> = ops[durable..done].iter().collect();
    let mut whole = None;
    match under_way.map(|i| &ops[i]) {
        Some(op @ Op::Group { durable: true, .. }) => whole = Some(op),
        Some(op) => loose.push(op),
        None => {}
    }
    Allowed { base, loose, whole }
}

#[test]
fn the_raw_provider_keeps_everything_durable_and_no_durable_group_torn_at_every_cut() {
    let fs = SimFs::new();
    let wasi = WasiConfig::simulated(fs.clone());
    let runtime = Runtime::shared();
    let mut rng = Rng::new(0x90_7E);
    let ops = raw_workload(420, &mut rng);
    let mut provider = ProviderSession::new(runtime, &wasi).unwrap();
    let memory = provider.open("raw.bin").unwrap().unwrap();
    for (i, op) in ops.iter().enumerate() {
        fs.mark(begin(i));
        run_op(&mut provider, memory, op);
        fs.mark(end(i));
    }
    let cuts = spread(fs.trace_len(), wanted_cuts());
    let mut tally = Tally {
        cuts: cuts.len(),
        states: 0,
    };
    for case in fs.crash_states(cuts, 1, 0x5EED) {
        let disk = case.state.to_fs();
        let mut recovery = ProviderSession::new(runtime, &WasiConfig::simulated(disk)).unwrap();
        let memory = match recovery.open("raw.bin").unwrap() {
            Ok(memory) => memory,
            Err(error) => panic!("cut {} ({:?}): open failed: {error:?}", case.cut, case.kind),
        };
        let size = recovery.size(memory).unwrap();
        let found = recovery.read(memory, 0, size).unwrap().unwrap();
        if let Err(why) = allowed(&ops, &case).check(&found) {
            panic!(
                "cut {} ({:?}, last mark {:?}): {why}",
                case.cut, case.kind, case.last_mark
            );
        }
        tally.states += 1;
    }
    tally.report("raw provider");
}

// ---------------------------------------------------------------------------------------
// wasm-dbms with durable commits.

#[test]
fn wasm_dbms_with_durable_commits_holds_exactly_the_acknowledged_books_at_every_cut() {
    let fs = SimFs::new();
    let wasi = WasiConfig::simulated(fs.clone()).with_seed(7);
    let runtime = Runtime::shared();
    let mut session = DbmsSession::new(runtime, &wasi, Storage::Composed).unwrap();
    // Operation 0 opens the database; 1 inserts the author; then books: single inserts
    // and, every fourth, a transaction of three. `books_after[i]`: books once i returned.
    fs.mark(begin(0));
    let db = session.open_with("cut.db", true).unwrap().unwrap();
    fs.mark(end(0));
    let mut books_after = vec![0u64];
    fs.mark(begin(1));
    let author = host_test::dbms::Cell {
        column: "id".into(),
        value: host_test::dbms::Value::Uint(0),
    };
    let author = vec![
        author,
        host_test::dbms::text("name", "Cut"),
        host_test::dbms::text("email", "cut@example.org"),
    ];
    session.insert(db, "authors", &author).unwrap().unwrap();
    fs.mark(end(1));
    books_after.push(0);
    let mut next = 0u64;
    for op in 2..150 {
        fs.mark(begin(op));
        if op % 4 == 3 {
            session.begin(db).unwrap().unwrap();
            for id in next..next + 3 {
                let book = host_test::crash_workload::book(id);
                session.insert(db, "books", &book).unwrap().unwrap();
            }
            session.commit(db).unwrap().unwrap();
            next += 3;
        } else {
            let book = host_test::crash_workload::book(next);
            session.insert(db, "books", &book).unwrap().unwrap();
            next += 1;
        }
        fs.mark(end(op));
        books_after.push(next);
    }
    let cuts = spread(fs.trace_len(), wanted_cuts());
    let mut tally = Tally {
        cuts: cuts.len(),
        states: 0,
    };
    for case in fs.crash_states(cuts, 1, 0xD8) {
        let (done, under_way) = progress(&case);
        let context = format!(
            "cut {} ({:?}, last mark {:?})",
            case.cut, case.kind, case.last_mark
        );
        let acknowledged = done.checked_sub(1).map(|i| books_after[i]);
        let disk = case.state.to_fs();
        let wasi = WasiConfig::simulated(disk.clone()).with_seed(7);
        let mut library = Library::open_with(&wasi, Storage::Composed, "cut.db");
        let present = library.checked_books(&context);
        let mut allowed = vec![acknowledged.unwrap_or(0)];
        if let Some(op) = under_way {
            allowed.push(books_after.get(op).copied().unwrap_or(0));
        }
        assert!(
            allowed.contains(&present),
            "{context}: {present} books, allowed {allowed:?}"
        );
        let authors = library.count("authors");
        assert!(
            authors == usize::from(done >= 2) || (under_way == Some(1) && authors == 1),
            "{context}: {authors} authors"
        );
        library.close();
        let file = disk.read("cut.db").expect("the database file");
        assert!(
            file.len() % PAGE as usize == 0,
            "{context}: {} bytes",
            file.len()
        );
        tally.states += 1;
    }
    tally.report("wasm-dbms, durable commits");
}

// ---------------------------------------------------------------------------------------
// The to-do example (adapter in atomic mode, flush after each add).

#[test]
fn the_example_component_holds_exactly_its_flushed_items_at_every_cut() {
    let fs = SimFs::new();
    let wasi = WasiConfig::simulated(fs.clone()).with_seed(7);
    let runtime = Runtime::shared();
    let mut session = TodoSession::new(runtime, &wasi).unwrap();
    let adds = 60;
    for i in 0..adds {
        fs.mark(begin(i));
        let id = session.add(&todo::text(i as u32 + 1)).unwrap().unwrap();
        assert_eq!(id, i as u32 + 1);
        fs.mark(end(i));
    }
    let cuts = spread(fs.trace_len(), wanted_cuts() / 3);
    let mut tally = Tally {
        cuts: cuts.len(),
        states: 0,
    };
    for case in fs.crash_states(cuts, 1, 0x70D0) {
        let (done, under_way) = progress(&case);
        let context = format!(
            "cut {} ({:?}, last mark {:?})",
            case.cut, case.kind, case.last_mark
        );
        let disk = case.state.to_fs();
        let mut recovered =
            TodoSession::new(runtime, &WasiConfig::simulated(disk).with_seed(7)).unwrap();
        let items = recovered
            .all()
            .unwrap()
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        for (item, id) in items.iter().zip(1..) {
            assert_eq!(item.text, todo::text(id), "{context}");
        }
        let count = items.len();
        assert!(
            count == done || (under_way.is_some() && count == done + 1),
            "{context}: {count} items, {done} flushed"
        );
        tally.states += 1;
    }
    tally.report("to-do example, atomic mode");
}

#[test]
fn cut_points_spread_over_the_whole_trace() {
    assert_eq!(spread(3, 10), [0, 1, 2, 3]);
    let cuts = spread(10_000, 1000);
    assert_eq!((cuts.len(), cuts[0], cuts[999]), (1000, 0, 10_000));
}
