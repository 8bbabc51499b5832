//! The benchmark: the same workloads on every contestant, side by side in one process.
//!
//! Raw workloads run inside the component (the `raw-storage` export), so that each
//! component contestant measures its storage path; the native contestant does the same
//! accesses with `pread`/`pwrite`. wasm-dbms workloads drive the `database` export. Each
//! figure is the median over repetitions of the mean time per operation; peak RSS is the
//! process's high-water mark, reset before each contestant.

mod dbms;
mod raw;
mod recovery;
mod table;

use std::path::{Path, PathBuf};

use wasmtime::Result;

use crate::dbms::Storage;
use crate::host::{Runtime, WasiConfig};

pub use self::recovery::{RecoveryMeasure, measure_recovery};
pub use self::table::{recovery_table, table};

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
    /// Rounds of the wasm-dbms workloads and of the native `fdatasync`, every contestant
    /// once per round.
    pub dbms_rounds: usize,
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
            dbms_rounds: 5,
        }
    }

    /// The journal sizes whose recovery is timed.
    pub fn recovery_journals(&self) -> Vec<u64> {
        if self.rows >= 10_000 {
            vec![1 << 20, 4 << 20, 16 << 20, 64 << 20]
        } else {
            vec![256 << 10, 1 << 20]
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
            dbms_rounds: 1,
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
    /// `sync` and `sync-data` calls per operation, where the host counted them.
    pub syncs: Option<f64>,
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
pub const RAW_WORKLOADS: [&str; 10] = [
    "grow to 1 GiB (per grow)",
    "fill: sequential 64 KiB writes",
    "random 8 B reads",
    "random 4 KiB reads, hot span",
    "random 4 KiB reads, whole file",
    "random 64 KiB reads",
    "random 8 B writes",
    "random 4 KiB writes",
    "random 64 KiB writes",
    "4 KiB write + fdatasync",
];

/// The wasm-dbms workloads, in table order.
pub const DBMS_WORKLOADS: [&str; 4] = [
    "insert (per row)",
    "select by primary key",
    "full scan (per scan)",
    "update by filter (per statement)",
];

/// Runs every workload on every contestant in `contestants`, in a scratch directory under
/// `dir`. The raw workloads run one contestant after another; the wasm-dbms workloads, and
/// the native `fdatasync` they are compared with, run in rounds: every contestant once per
/// round, each round starting one contestant later, so that a slow spell of a shared
/// machine, or a place in the order, falls on all of them. Each of their figures is the
/// median over the rounds.
pub fn run(dir: &Path, scale: Scale, contestants: &[Contestant]) -> Result<Vec<Report>> {
    let runtime = Runtime::shared();
    let scratch = |contestant: Contestant| -> Result<PathBuf> {
        let scratch = dir.join(format!(
            "bench-{}",
            contestant.name().replace([' ', ','], "-")
        ));
        if scratch.exists() {
            std::fs::remove_dir_all(&scratch)?;
        }
        std::fs::create_dir_all(&scratch)?;
        Ok(scratch)
    };
    let mut reports = Vec::new();
    for &contestant in contestants {
        let dir = scratch(contestant)?;
        reset_peak_rss();
        let mut measures = Vec::new();
        if contestant.runs_raw() {
            measures.extend(raw::raw_workloads(runtime, &dir, scale, contestant)?);
        }
        std::fs::remove_dir_all(&dir)?;
        reports.push(Report {
            contestant,
            measures,
            peak_rss_kib: peak_rss_kib(),
        });
    }
    let mut rounds: Vec<Vec<Vec<Measure>>> = vec![Vec::new(); contestants.len()];
    for round in 0..scale.dbms_rounds {
        for turn in 0..contestants.len() {
            let index = (round + turn) % contestants.len();
            let contestant = contestants[index];
            let dir = scratch(contestant)?;
            reset_peak_rss();
            if contestant.runs_dbms() {
                rounds[index].push(dbms::dbms_workloads(runtime, &dir, scale, contestant)?);
            } else if contestant == Contestant::Native {
                // The disk's sync cost, next to the durable inserts it is compared with.
                rounds[index].push(vec![raw::write_and_sync(&dir, scale)?]);
            }
            let report = &mut reports[index];
            report.peak_rss_kib = report.peak_rss_kib.max(peak_rss_kib());
            std::fs::remove_dir_all(&dir)?;
        }
    }
    for (report, rounds) in reports.iter_mut().zip(rounds) {
        let Some(first) = rounds.first() else {
            continue;
        };
        for (at, measure) in first.iter().enumerate() {
            let nanos = median(rounds.iter().map(|round| round[at].nanos).collect());
            report.measures.push(Measure {
                nanos,
                ..measure.clone()
            });
        }
    }
    Ok(reports)
}

/// Offsets aligned to `len` inside `span`, from a fixed seed.
pub(crate) fn random_offsets(count: usize, len: u64, span: u64, seed: u64) -> Vec<u64> {
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

pub(crate) fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
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

/// A scratch directory for a run: `dir` or the system's temporary directory.
pub fn scratch_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.unwrap_or_else(std::env::temp_dir)
}
