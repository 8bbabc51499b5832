//! Recovery time against the journal's size: a memory commits groups until its journal
//! holds a given number of bytes, the instance goes away without closing (a crash), and the
//! next `open` of the file, which completes every group in the journal, is timed. The
//! journal is in the OS's page cache, as after a process crash.

use std::path::Path;
use std::time::Instant;

use wasmtime::Result;
use wasmtime::error::format_err;

use crate::host::{Runtime, WasiConfig};
use crate::provider::{OpenOptions, ProviderSession};

/// One recovery: the journal it read, the groups it completed, and its time.
#[derive(Clone, Debug)]
pub struct RecoveryMeasure {
    /// Bytes of the journal the open read.
    pub journal_bytes: u64,
    /// Groups the open completed.
    pub groups: u64,
    /// Nanoseconds the open took.
    pub nanos: f64,
}

/// Bytes each group of the workload writes.
const GROUP_BYTES: usize = 16 << 10;

/// Measures a recovery for each journal size in `sizes`, in files under `dir`.
pub fn measure_recovery(
    runtime: &Runtime,
    dir: &Path,
    sizes: &[u64],
) -> Result<Vec<RecoveryMeasure>> {
    let fail = |what: &str, error| format_err!("{what}: {error:?}");
    let mut measures = Vec::new();
    for &size in sizes {
        let name = format!("recover-{size}.bin");
        let wasi = WasiConfig::dir(dir);
        {
            let mut provider = ProviderSession::new(runtime, &wasi)?;
            let options = OpenOptions {
                max_pages: None,
                max_group_bytes: None,
                // Large enough that no commit checkpoints the journal away.
                checkpoint_bytes: Some(size * 4),
            };
            let memory = provider
                .open_with(&name, options)?
                .map_err(|e| fail("open", e))?;
            provider.grow(memory, 64)?.map_err(|e| fail("grow", e))?;
            let journal = dir.join(format!("{name}-journal"));
            let mut round = 0u64;
            while std::fs::metadata(&journal).map_or(0, |m| m.len()) < size {
                let data: Vec<u8> = (0..GROUP_BYTES).map(|i| (i as u64 ^ round) as u8).collect();
                let offset = (round * GROUP_BYTES as u64) % (64 * 65536 - GROUP_BYTES as u64);
                provider
                    .begin_group(memory)?
                    .map_err(|e| fail("begin", e))?;
                provider
                    .write(memory, offset, &data)?
                    .map_err(|e| fail("write", e))?;
                provider
                    .commit_group(memory, false)?
                    .map_err(|e| fail("commit", e))?;
                round += 1;
            }
            // The instance goes away without closing: the journal stays for the next open.
        }
        let mut provider = ProviderSession::new(runtime, &wasi)?;
        let start = Instant::now();
        let memory = provider.open(&name)?.map_err(|e| fail("reopen", e))?;
        let nanos = start.elapsed().as_nanos() as f64;
        let recovery = provider.recovery(memory)?;
        provider.close(memory)?;
        std::fs::remove_file(dir.join(&name))?;
        measures.push(RecoveryMeasure {
            journal_bytes: recovery.journal_bytes,
            groups: recovery.completed_groups,
            nanos,
        });
    }
    Ok(measures)
}
