//! `host-test`: runs the demo of wasm-dbms on the memory-provider component.
//!
//! ```text
//! host-test demo [--data DIR] [--linked]
//! ```

mod demo;

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use host_test::dbms::Storage;

const USAGE: &str = "usage: host-test demo [--data DIR] [--linked]

  demo      build a small library database in DIR/library.db through wasm-dbms and the
            provider component, then reopen it in a fresh instance
  --data    the data directory (default: data/ at the repository's top)
  --linked  link the two components in the host instead of loading the wac composition";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let mut data = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data"));
    let mut storage = Storage::Composed;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--data" => data = args.next().context("--data needs a directory")?.into(),
            "--linked" => storage = Storage::Linked,
            _ => bail!("unknown argument `{arg}`\n\n{USAGE}"),
        }
    }
    match command.as_str() {
        "demo" => demo::run(&data, storage),
        _ => bail!("{USAGE}"),
    }
}
