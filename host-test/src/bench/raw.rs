//! The raw workloads: the storage's `MemoryProvider` (or the host's `pread`/`pwrite`)
//! called in a loop, inside the component through its `raw-storage` export.

use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::Instant;

use wasmtime::Result;
use wasmtime::error::format_err;

use super::{Contestant, Measure, PAGE, RAW_WORKLOADS, Scale, median, random_offsets};
use crate::dbms::{Access, DbmsSession, RawStorage};
use crate::host::Runtime;

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

pub(super) fn raw_workloads(
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
        syncs: None,
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
        syncs: None,
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
            syncs: None,
        });
    }
    Ok(measures)
}

/// The cost of one durable 4 KiB write on this disk: `pwrite` then `fdatasync`, natively.
pub(crate) fn write_and_sync(dir: &Path, scale: Scale) -> Result<Measure> {
    let path = dir.join("sync.bin");
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)?;
    let block = vec![7u8; 4096];
    let count = (scale.large_ops / 10).max(20);
    let start = Instant::now();
    for i in 0..count as u64 {
        file.write_all_at(&block, (i % 256) * 4096)?;
        file.sync_data()?;
    }
    let nanos = start.elapsed().as_nanos() as f64 / count as f64;
    std::fs::remove_file(path)?;
    Ok(Measure {
        workload: RAW_WORKLOADS[9].into(),
        nanos,
        checksum: None,
        syncs: Some(1.0),
    })
}
