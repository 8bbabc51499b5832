//! `host-test`: the demo of wasm-dbms on the memory-provider component, and the benchmark.
//!
//! ```text
//! host-test demo [--data DIR] [--linked]
//! host-test bench [--quick] [--dir DIR]
//! ```

mod demo;

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use host_test::bench::{self, Contestant, Scale};
use host_test::dbms::Storage;

const USAGE: &str = "usage: host-test demo [--data DIR] [--linked]
       host-test bench [--quick] [--dir DIR]

  demo      build a small library database in DIR/library.db through wasm-dbms and the
            provider component, then reopen it in a fresh instance
  --data    the data directory (default: data/ at the repository's top)
  --linked  link the two components in the host instead of loading the wac composition
  bench     run every workload on every contestant and print the table of BENCHMARKS.md
  --quick   a small run of seconds
  --dir     where the benchmark's scratch files go (default: the temporary directory)";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data"));
    let mut storage = Storage::Composed;
    let mut scale = Scale::full();
    let mut scratch = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = args.next().context("--data needs a directory")?.into(),
            "--linked" => storage = Storage::Linked,
            "--quick" => scale = Scale::quick(),
            "--dir" => scratch = Some(args.next().context("--dir needs a directory")?.into()),
            _ => bail!("unknown argument `{arg}`\n\n{USAGE}"),
        }
    }
    match command.as_str() {
        "demo" => demo::run(&data, storage),
        "bench" => bench(scale, scratch),
        _ => bail!("{USAGE}"),
    }
}

fn bench(scale: Scale, scratch: Option<PathBuf>) -> Result<()> {
    let dir = bench::scratch_dir(scratch);
    eprintln!("benchmark in {} ({scale:?})", dir.display());
    let reports = bench::run(&dir, scale, &Contestant::ALL)?;
    let mismatches = bench::checksum_mismatches(&reports);
    if !mismatches.is_empty() {
        bail!("contestants disagree on what they read: {mismatches:?}");
    }
    println!("{}", bench::table(&reports));
    Ok(())
}
