//! The benchmark: the same workloads on every contestant, side by side in one process.
//!
//! Raw workloads run inside the component (the `raw-storage` export), so that each
//! component contestant measures its storage path; the native contestant does the same
//! accesses with `pread`/`pwrite`. wasm-dbms workloads drive the `database` export. Each
//! figure is the median over repetitions of the mean time per operation; peak RSS is the
//! process's high-water mark, reset before each contestant.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wasmtime::Result;
use wasmtime::error::{Context as _, format_err};

use crate::dbms::{
    Access, Comparison, DbError, DbmsSession, Query, RawStorage, Storage, Value, all, condition,
    describe, int, text, uint,
};
use crate::host::{Runtime, WasiConfig};

/// Bytes in one page.
const PAGE: u64 = 65536;

/// How much work one run does.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// Size of the file the raw workloads read and write.
    pub file_bytes: u64,
    /// The span that the cache-resident 4 KiB reads stay in.
    pub hot_bytes: u64,
    /// Accesses per repetition of a small (8 B, 4 KiB) raw workload.
    pub small_ops: usize,
    /// Accesses per repetition of a 64 KiB raw workload.
    pub large_ops: usize,
    /// Repetitions of each raw workload.
    pub repeats: usize,
    /// Size the grow workload reaches.
    pub grow_bytes: u64,
    /// Rows the wasm-dbms insert workload writes.
    pub rows: u64,
    /// Point selects per repetition.
    pub selects: usize,
}

impl Scale {
    /// The figures of BENCHMARKS.md.
    pub fn full() -> Self {
        Self {
            file_bytes: 256 << 20,
            hot_bytes: 16 << 20,
            small_ops: 20_000,
            large_ops: 2_000,
            repeats: 5,
            grow_bytes: 1 << 30,
            rows: 10_000,
            selects: 2_000,
        }
    }

    /// A run of seconds that exercises every path (used by the tests).
    pub fn quick() -> Self {
        Self {
            file_bytes: 8 << 20,
            hot_bytes: 1 << 20,
            small_ops: 500,
            large_ops: 50,
            repeats: 1,
            grow_bytes: 64 << 20,
            rows: 300,
            selects: 50,
        }
    }
}

/// Who runs a workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contestant {
    /// The host's own `pread`/`pwrite` on a file in the same directory.
    Native,
    /// The wasm-dbms component with the seed crate linked in.
    Monolith,
    /// The wasm-dbms component on `HeapMemoryProvider`.
    Heap,
    /// Ours, composed by `wac plug`.
    Composed,
    /// Ours, linked by the host.
    Linked,
    /// Ours composed, with wasmtime-wasi's default blocking-task pool for filesystem calls.
    ComposedPool,
    /// Ours composed, with the adapter's cache off: every read crosses the boundary.
    ComposedNoCache,
    /// Ours composed, every commit synced to stable storage (wasm-dbms workloads only).
    ComposedDurable,
}

impl Contestant {
    /// Every contestant, in table order.
    pub const ALL: [Contestant; 8] = [
        Contestant::Native,
        Contestant::Monolith,
        Contestant::Heap,
        Contestant::Composed,
        Contestant::Linked,
        Contestant::ComposedPool,
        Contestant::ComposedNoCache,
        Contestant::ComposedDurable,
    ];

    /// The column title.
    pub fn name(self) -> &'static str {
        match self {
            Contestant::Native => "native",
            Contestant::Monolith => "monolith (seed)",
            Contestant::Heap => "heap",
            Contestant::Composed => "ours, composed",
            Contestant::Linked => "ours, linked",
            Contestant::ComposedPool => "ours, composed, default WasiCtx",
            Contestant::ComposedNoCache => "ours, composed, no cache",
            Contestant::ComposedDurable => "ours, composed, durable commits",
        }
    }

    fn storage(self) -> Option<Storage> {
        match self {
            Contestant::Native => None,
            Contestant::Monolith => Some(Storage::Seed),
            Contestant::Heap => Some(Storage::Heap),
            Contestant::Composed
            | Contestant::ComposedPool
            | Contestant::ComposedNoCache
            | Contestant::ComposedDurable => Some(Storage::Composed),
            Contestant::Linked => Some(Storage::Linked),
        }
    }

    /// The adapter cache this contestant asks for (`None`: the default).
    fn cache_bytes(self) -> Option<u64> {
        (self == Contestant::ComposedNoCache).then_some(0)
    }

    /// Whether it runs the raw workloads (durability changes nothing there).
    pub fn runs_raw(self) -> bool {
        self != Contestant::ComposedDurable
    }

    /// Whether it runs the wasm-dbms workloads (the raw variants of ours do not).
    pub fn runs_dbms(self) -> bool {
        !matches!(
            self,
            Contestant::Native | Contestant::ComposedPool | Contestant::ComposedNoCache
        )
    }

    fn wasi(self, dir: &Path) -> WasiConfig {
        let mut wasi = WasiConfig::dir(dir).with_seed(1);
        wasi.allow_blocking_current_thread = self != Contestant::ComposedPool;
        wasi
    }
}

/// One workload's result for one contestant.
#[derive(Clone, Debug)]
pub struct Measure {
    /// The workload's name.
    pub workload: String,
    /// Median nanoseconds per operation.
    pub nanos: f64,
    /// What the workload read (the same on every correct contestant), if it reads.
    pub checksum: Option<u64>,
}

/// Everything one contestant did.
#[derive(Clone, Debug)]
pub struct Report {
    /// Who.
    pub contestant: Contestant,
    /// Its measures, in workload order.
    pub measures: Vec<Measure>,
    /// Peak resident set size in KiB while it ran.
    pub peak_rss_kib: u64,
}

impl Report {
    /// The measure of `workload`, if this contestant ran it.
    pub fn get(&self, workload: &str) -> Option<&Measure> {
        self.measures.iter().find(|m| m.workload == workload)
    }
}

/// The raw workloads, in table order.
pub const RAW_WORKLOADS: [&str; 9] = [
    "grow to 1 GiB (per grow)",
    "fill: sequential 64 KiB writes",
    "random 8 B reads",
    "random 4 KiB reads, hot span",
    "random 4 KiB reads, whole file",
    "random 64 KiB reads",
    "random 8 B writes",
    "random 4 KiB writes",
    "random 64 KiB writes",
];

/// The wasm-dbms workloads, in table order.
pub const DBMS_WORKLOADS: [&str; 4] = [
    "insert (per row)",
    "select by primary key",
    "full scan (per scan)",
    "update by filter (per statement)",
];

/// Runs every workload on every contestant in `contestants`, in a scratch directory under
/// `dir`.
pub fn run(dir: &Path, scale: Scale, contestants: &[Contestant]) -> Result<Vec<Report>> {
    let runtime = Runtime::shared();
    let mut reports = Vec::new();
    for &contestant in contestants {
        let scratch = dir.join(format!(
            "bench-{}",
            contestant.name().replace([' ', ','], "-")
        ));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(&scratch)?;
        reset_peak_rss();
        let mut measures = Vec::new();
        if contestant.runs_raw() {
            measures.extend(raw_workloads(runtime, &scratch, scale, contestant)?);
        }
        if contestant.runs_dbms() {
            measures.extend(dbms_workloads(runtime, &scratch, scale, contestant)?);
        }
        let peak_rss_kib = peak_rss_kib();
        std::fs::remove_dir_all(&scratch)?;
        reports.push(Report {
            contestant,
            measures,
            peak_rss_kib,
        });
    }
    Ok(reports)
}

/// The accesses of a raw workload, wherever they run.
trait RawTarget {
    fn grow(&mut self, new_pages: u64) -> Result<()>;
    fn plan(&mut self, offsets: &[u64]) -> Result<()>;
    fn run(&mut self, access: Access, len: u64) -> Result<u64>;
}

/// `pread`/`pwrite` on a file.
struct NativeFile {
    file: File,
    offsets: Vec<u64>,
}

impl RawTarget for NativeFile {
    fn grow(&mut self, new_pages: u64) -> Result<()> {
        let size = self.file.metadata()?.len();
        self.file.set_len(size + new_pages * PAGE)?;
        Ok(())
    }

    fn plan(&mut self, offsets: &[u64]) -> Result<()> {
        self.offsets = offsets.to_vec();
        Ok(())
    }

    fn run(&mut self, access: Access, len: u64) -> Result<u64> {
        let len = len as usize;
        let mut buffer: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut checksum = 0u64;
        for offset in &self.offsets {
            match access {
                Access::Read => {
                    self.file.read_exact_at(&mut buffer, *offset)?;
                    let edges = (u64::from(buffer[0]) << 8) | u64::from(buffer[len - 1]);
                    checksum = checksum.wrapping_mul(31).wrapping_add(edges);
                }
                Access::Write => {
                    self.file.write_all_at(&buffer, *offset)?;
                    checksum += 1;
                }
            }
        }
        Ok(checksum)
    }
}

/// The `raw-storage` export of a component instance.
struct ComponentStorage {
    session: DbmsSession,
    raw: RawStorage,
}

impl RawTarget for ComponentStorage {
    fn grow(&mut self, new_pages: u64) -> Result<()> {
        self.session
            .raw_grow(self.raw, new_pages)?
            .map_err(|error| format_err!("grow: {error}"))?;
        Ok(())
    }

    fn plan(&mut self, offsets: &[u64]) -> Result<()> {
        self.session.raw_plan(self.raw, offsets)
    }

    fn run(&mut self, access: Access, len: u64) -> Result<u64> {
        self.session
            .raw_run(self.raw, access, len)?
            .map_err(|error| format_err!("run: {error}"))
    }
}

fn open_raw(
    runtime: &Runtime,
    dir: &Path,
    contestant: Contestant,
    name: &str,
) -> Result<Box<dyn RawTarget>> {
    match contestant.storage() {
        None => {
            let file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(dir.join(name))?;
            Ok(Box::new(NativeFile {
                file,
                offsets: Vec::new(),
            }))
        }
        Some(storage) => {
            let mut session = DbmsSession::new(runtime, &contestant.wasi(dir), storage)?;
            let raw = session
                .raw_open(name, contestant.cache_bytes())?
                .map_err(|error| format_err!("open: {error}"))?;
            Ok(Box::new(ComponentStorage { session, raw }))
        }
    }
}

/// Offsets aligned to `len` inside `span`, from a fixed seed.
fn random_offsets(count: usize, len: u64, span: u64, seed: u64) -> Vec<u64> {
    let mut state = seed;
    let slots = span / len;
    (0..count)
        .map(|_| {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % slots) * len
        })
        .collect()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn raw_workloads(
    runtime: &Runtime,
    dir: &Path,
    scale: Scale,
    contestant: Contestant,
) -> Result<Vec<Measure>> {
    let mut measures = Vec::new();

    let mut grows = Vec::new();
    for repeat in 0..scale.repeats.max(3) {
        let mut target = open_raw(runtime, dir, contestant, &format!("grow-{repeat}.bin"))?;
        let start = Instant::now();
        target.grow(scale.grow_bytes / PAGE)?;
        grows.push(start.elapsed().as_nanos() as f64);
        drop(target);
        let _ = std::fs::remove_file(dir.join(format!("grow-{repeat}.bin")));
    }
    measures.push(Measure {
        workload: RAW_WORKLOADS[0].into(),
        nanos: median(grows),
        checksum: None,
    });

    let mut target = open_raw(runtime, dir, contestant, "raw.bin")?;
    target.grow(scale.file_bytes / PAGE)?;
    let fill: Vec<u64> = (0..scale.file_bytes / PAGE)
        .map(|page| page * PAGE)
        .collect();
    target.plan(&fill)?;
    let start = Instant::now();
    target.run(Access::Write, PAGE)?;
    measures.push(Measure {
        workload: RAW_WORKLOADS[1].into(),
        nanos: start.elapsed().as_nanos() as f64 / fill.len() as f64,
        checksum: None,
    });

    let plans: [(&str, Access, u64, u64, usize); 7] = [
        (
            RAW_WORKLOADS[2],
            Access::Read,
            8,
            scale.file_bytes,
            scale.small_ops,
        ),
        (
            RAW_WORKLOADS[3],
            Access::Read,
            4096,
            scale.hot_bytes,
            scale.small_ops,
        ),
        (
            RAW_WORKLOADS[4],
            Access::Read,
            4096,
            scale.file_bytes,
            scale.small_ops,
        ),
        (
            RAW_WORKLOADS[5],
            Access::Read,
            PAGE,
            scale.file_bytes,
            scale.large_ops,
        ),
        (
            RAW_WORKLOADS[6],
            Access::Write,
            8,
            scale.file_bytes,
            scale.small_ops,
        ),
        (
            RAW_WORKLOADS[7],
            Access::Write,
            4096,
            scale.file_bytes,
            scale.small_ops,
        ),
        (
            RAW_WORKLOADS[8],
            Access::Write,
            PAGE,
            scale.file_bytes,
            scale.large_ops,
        ),
    ];
    for (index, (workload, access, len, span, count)) in plans.into_iter().enumerate() {
        let mut samples = Vec::new();
        let mut checksum = None;
        for repeat in 0..scale.repeats {
            let seed = (index as u64) << 32 | repeat as u64;
            let offsets = random_offsets(count, len, span, seed);
            target.plan(&offsets)?;
            let start = Instant::now();
            let sum = target.run(access, len)?;
            samples.push(start.elapsed().as_nanos() as f64 / count as f64);
            if access == Access::Read {
                checksum = Some(checksum.unwrap_or(0u64).wrapping_mul(7).wrapping_add(sum));
            }
        }
        measures.push(Measure {
            workload: workload.into(),
            nanos: median(samples),
            checksum,
        });
    }
    Ok(measures)
}

fn book(id: u64, authors: u64, title: &str) -> Vec<crate::dbms::Cell> {
    vec![
        uint("id", id),
        text("title", title),
        int("year", 1900 + (id % 120) as i64),
        uint("author_id", id % authors),
    ]
}

fn dbms_workloads(
    runtime: &Runtime,
    dir: &Path,
    scale: Scale,
    contestant: Contestant,
) -> Result<Vec<Measure>> {
    let storage = contestant.storage().context("a component contestant")?;
    let mut session = DbmsSession::new(runtime, &contestant.wasi(dir), storage)?;
    let durable = contestant == Contestant::ComposedDurable;
    let db = check(session.open_with("bench.db", durable)?)?;
    let authors = (scale.rows / 100).max(1);
    for id in 0..authors {
        let row = vec![
            uint("id", id),
            text("name", &format!("Author {id}")),
            text("email", &format!("a{id}@example.org")),
        ];
        check(session.insert(db, "authors", &row)?)?;
    }
    let books = scale.rows - authors;
    let start = Instant::now();
    for id in 0..books {
        let title = format!("Book {id} {}", "~".repeat((id % 40) as usize));
        check(session.insert(db, "books", &book(id, authors, &title))?)?;
    }
    let insert = start.elapsed().as_nanos() as f64 / books as f64;

    let ids = random_offsets(scale.selects, 1, books, 99);
    let mut found = 0u64;
    let start = Instant::now();
    for id in &ids {
        let query = Query {
            filter: vec![condition("id", Comparison::Eq, Value::Uint(*id))],
            ..all()
        };
        found += check(session.select(db, "books", &query)?)?.len() as u64;
    }
    let select = start.elapsed().as_nanos() as f64 / ids.len() as f64;

    let scans = 3;
    let mut scanned = 0u64;
    let start = Instant::now();
    for _ in 0..scans {
        scanned += check(session.select(db, "books", &all())?)?.len() as u64;
    }
    let scan = start.elapsed().as_nanos() as f64 / scans as f64;

    let updates = authors.min(20);
    let mut updated = 0u64;
    let start = Instant::now();
    for author in 0..updates {
        let patch = vec![text("title", &format!("Revised by {author}"))];
        let filter = [condition("author_id", Comparison::Eq, Value::Uint(author))];
        updated += check(session.update(db, "books", &patch, &filter)?)?;
    }
    let update = start.elapsed().as_nanos() as f64 / updates as f64;
    session.close(db)?;

    Ok(vec![
        Measure {
            workload: DBMS_WORKLOADS[0].into(),
            nanos: insert,
            checksum: Some(books),
        },
        Measure {
            workload: DBMS_WORKLOADS[1].into(),
            nanos: select,
            checksum: Some(found),
        },
        Measure {
            workload: DBMS_WORKLOADS[2].into(),
            nanos: scan,
            checksum: Some(scanned),
        },
        Measure {
            workload: DBMS_WORKLOADS[3].into(),
            nanos: update,
            checksum: Some(updated),
        },
    ])
}

/// A database result as a benchmark error.
fn check<T>(result: std::result::Result<T, DbError>) -> Result<T> {
    result.map_err(|error| format_err!("{}", describe(&error)))
}

/// Resets the process's peak RSS to its current RSS (Linux `clear_refs` 5).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak RSS in KiB (`VmHWM`), or 0 where `/proc` does not say.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Workloads whose checksums differ between contestants: always empty on correct storages.
pub fn checksum_mismatches(reports: &[Report]) -> Vec<String> {
    let mut mismatches = Vec::new();
    let Some(first) = reports.first() else {
        return mismatches;
    };
    for report in &reports[1..] {
        for measure in &report.measures {
            let reference = first
                .get(&measure.workload)
                .or_else(|| reports.iter().find_map(|r| r.get(&measure.workload)))
                .and_then(|m| m.checksum);
            if measure.checksum.is_some() && reference.is_some() && measure.checksum != reference {
                mismatches.push(format!(
                    "{} / {}",
                    report.contestant.name(),
                    measure.workload
                ));
            }
        }
    }
    mismatches
}

/// The table of medians and ratios, as Markdown.
pub fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    let names: Vec<&str> = reports.iter().map(|r| r.contestant.name()).collect();
    let ns = |report: &Report, workload: &str| report.get(workload).map(|m| m.nanos);
    let find = |contestant: Contestant| reports.iter().find(|r| r.contestant == contestant);

    out.push_str(&format!(
        "| raw workload (ns/op, median) | {} |",
        names.join(" | ")
    ));
    out.push_str(" composed vs native | composed vs monolith |\n");
    out.push_str(&format!("|---|{}---|---|\n", "---:|".repeat(names.len())));
    for workload in RAW_WORKLOADS {
        out.push_str(&format!("| {workload} |"));
        for report in reports {
            out.push_str(&cell(ns(report, workload)));
        }
        out.push_str(&ratio(
            find(Contestant::Native),
            find(Contestant::Composed),
            workload,
        ));
        out.push_str(&ratio(
            find(Contestant::Monolith),
            find(Contestant::Composed),
            workload,
        ));
        out.push('\n');
    }
    out.push('\n');
    let dbms: Vec<&Report> = reports
        .iter()
        .filter(|r| r.get(DBMS_WORKLOADS[0]).is_some())
        .collect();
    let dbms_names: Vec<&str> = dbms.iter().map(|r| r.contestant.name()).collect();
    out.push_str(&format!(
        "| wasm-dbms workload (ns/op) | {} |",
        dbms_names.join(" | ")
    ));
    out.push_str(" composed speed-up over monolith | composed time / heap time |\n");
    out.push_str(&format!("|---|{}---|---|\n", "---:|".repeat(dbms.len())));
    let mut speedups = Vec::new();
    let mut over_heap = Vec::new();
    for workload in DBMS_WORKLOADS {
        out.push_str(&format!("| {workload} |"));
        for report in &dbms {
            out.push_str(&cell(ns(report, workload)));
        }
        let composed = find(Contestant::Composed).and_then(|r| ns(r, workload));
        let monolith = find(Contestant::Monolith).and_then(|r| ns(r, workload));
        let heap = find(Contestant::Heap).and_then(|r| ns(r, workload));
        match (monolith, composed) {
            (Some(m), Some(c)) => {
                speedups.push(m / c);
                out.push_str(&format!(" {:.2}x |", m / c));
            }
            _ => out.push_str(" - |"),
        }
        match (composed, heap) {
            (Some(c), Some(h)) => {
                over_heap.push(c / h);
                out.push_str(&format!(" {:.2}x |", c / h));
            }
            _ => out.push_str(" - |"),
        }
        out.push('\n');
    }
    if !speedups.is_empty() {
        out.push_str(&format!(
            "| geometric mean | {} {:.2}x | {:.2}x |\n",
            " |".repeat(dbms.len()),
            geomean(&speedups),
            geomean(&over_heap)
        ));
    }
    out.push('\n');
    out.push_str(&format!("| | {} |\n", names.join(" | ")));
    out.push_str(&format!("|---|{}\n", "---:|".repeat(names.len())));
    out.push_str("| peak RSS (MiB) |");
    for report in reports {
        out.push_str(&format!(" {:.0} |", report.peak_rss_kib as f64 / 1024.0));
    }
    out.push('\n');
    out
}

fn cell(nanos: Option<f64>) -> String {
    match nanos {
        Some(nanos) => format!(" {:.0} |", nanos),
        None => " - |".into(),
    }
}

/// `base / other`: how many times faster `other` is than `base`, as text.
fn ratio(base: Option<&Report>, other: Option<&Report>, workload: &str) -> String {
    let base = base.and_then(|r| r.get(workload)).map(|m| m.nanos);
    let other = other.and_then(|r| r.get(workload)).map(|m| m.nanos);
    match (base, other) {
        (Some(b), Some(o)) => format!(" {:.0} % |", 100.0 * b / o),
        _ => " - |".into(),
    }
}

fn geomean(values: &[f64]) -> f64 {
    (values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64).exp()
}

/// A scratch directory for a run: `dir` or the system's temporary directory.
pub fn scratch_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(std::env::temp_dir)
}
