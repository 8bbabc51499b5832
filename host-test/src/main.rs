//! `host-test`: the demo of wasm-dbms on the memory-provider component, and the benchmark.
//!
//! ```text
//! host-test demo [--data DIR] [--linked]
//! host-test bench [--quick] [--dir DIR] [--only CONTESTANT]
//! ```

mod demo;

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use host_test::bench::{self, Contestant, Scale};
use host_test::dbms::Storage;
use host_test::provider::ProviderSession;
use host_test::{Runtime, WasiConfig};

const USAGE: &str = "usage: host-test demo [--data DIR] [--linked]
       host-test bench [--quick] [--dir DIR] [--only CONTESTANT]

  demo      build a small library database in DIR/library.db through wasm-dbms and the
            provider component, then reopen it in a fresh instance
  --data    the data directory (default: data/ at the repository's top)
  --linked  link the two components in the host instead of loading the wac composition
  bench     run every workload on every contestant and print the table of BENCHMARKS.md
  --quick   a small run of seconds
  --dir     where the benchmark's scratch files go (default: the temporary directory)
  --only    run one contestant, by its column title (for profiling)";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data"));
    let mut storage = Storage::Composed;
    let mut scale = Scale::full();
    let mut scratch = None;
    let mut limit = None;
    let mut only = None;
    let mut path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = args.next().context("--data needs a directory")?.into(),
            "--linked" => storage = Storage::Linked,
            "--quick" => scale = Scale::quick(),
            "--dir" => scratch = Some(args.next().context("--dir needs a directory")?.into()),
            "--limit" => limit = Some(args.next().context("--limit needs bytes")?.parse()?),
            "--only" => only = Some(args.next().context("--only needs a contestant")?),
            "--path" => path = Some(args.next().context("--path needs a path")?),
            _ => bail!("unknown argument `{arg}`\n\n{USAGE}"),
        }
    }
    match command.as_str() {
        "demo" => demo::run(&data, storage),
        "bench" => bench(scale, scratch, only),
        // Used by the disk-full test: write under a file-size limit of `--limit` bytes.
        "disk-full" => {
            let dir = scratch.context("disk-full needs --dir")?;
            limit_file_size(limit.context("disk-full needs --limit")?)?;
            Ok(host_test::disk_full::run(&dir)?)
        }
        // Used by the crash tests: write until killed.
        "crash-workload" => {
            let dir = scratch.context("crash-workload needs --dir")?;
            Ok(host_test::crash_workload::run(&dir, u64::MAX)?)
        }
        // Used by the crash tests: add to-do items until killed.
        "todo-workload" => {
            let dir = scratch.context("todo-workload needs --dir")?;
            Ok(host_test::todo::run(&dir, u32::MAX)?)
        }
        // Used by the file-lock tests: hold a memory open until stdin closes.
        "hold-memory" => {
            let dir = scratch.context("hold-memory needs --dir")?;
            hold_memory(&dir, &path.context("hold-memory needs --path")?)
        }
        _ => bail!("{USAGE}"),
    }
}

/// Opens the memory at `path` in `dir` through the provider, prints `opened` or
/// `refused <error>`, and when opened holds it until stdin closes.
fn hold_memory(dir: &Path, path: &str) -> Result<()> {
    let runtime = Runtime::new()?;
    let mut session = ProviderSession::new(&runtime, &WasiConfig::dir(dir))?;
    let opened = session.open(path)?;
    let mut out = std::io::stdout().lock();
    match opened {
        Ok(_memory) => {
            writeln!(out, "opened")?;
            out.flush()?;
            std::io::stdin().read_to_end(&mut Vec::new())?;
        }
        Err(error) => {
            writeln!(out, "refused {error:?}")?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Limits the size of every file this process writes (RLIMIT_FSIZE) and ignores SIGXFSZ,
/// so that writes past the limit fail with "file too large" instead of killing the process.
fn limit_file_size(bytes: u64) -> Result<()> {
    let limit = libc::rlimit {
        rlim_cur: bytes,
        rlim_max: bytes,
    };
    // SAFETY: plain system calls on this process with valid arguments.
    let (set, signal) = unsafe {
        (
            libc::setrlimit(libc::RLIMIT_FSIZE, &limit),
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN),
        )
    };
    if set != 0 || signal == libc::SIG_ERR {
        bail!(
            "cannot limit the file size: {}",
            std::io::Error::last_os_error()
        );
    }
    Ok(())
}

fn bench(scale: Scale, scratch: Option<PathBuf>, only: Option<String>) -> Result<()> {
    let dir = bench::scratch_dir(scratch);
    eprintln!("benchmark in {} ({scale:?})", dir.display());
    let contestants: Vec<Contestant> = Contestant::ALL
        .into_iter()
        .filter(|c| only.as_ref().is_none_or(|name| c.name() == name))
        .collect();
    if contestants.is_empty() {
        bail!("no contestant is named {only:?}");
    }
    let reports = bench::run(&dir, scale, &contestants)?;
    let mismatches = bench::checksum_mismatches(&reports);
    if !mismatches.is_empty() {
        bail!("contestants disagree on what they read: {mismatches:?}");
    }
    println!("{}", bench::table(&reports));
    if only.is_none() {
        let sizes = scale.recovery_journals();
        let recovery = bench::measure_recovery(host_test::Runtime::shared(), &dir, &sizes)?;
        println!("{}", bench::recovery_table(&recovery));
    }
    Ok(())
}
