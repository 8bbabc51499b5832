//! The disk-full workload, run in a child process whose files may not grow past a limit
//! (RLIMIT_FSIZE, with SIGXFSZ ignored, so that the filesystem says "file too large").
//!
//! It grows a raw memory until the provider refuses (`limit-exceeded`: the file may not grow
//! that far), checking that the refusal changes nothing, then inserts books through
//! wasm-dbms with durable commits until a commit fails. It prints `pages P`, `books B` (the
//! books acknowledged) and `refused completes 0|1` (whether the refused insert's error said
//! the next open completes it) for the test to check the files against.

use std::path::Path;

use wasmtime::Result;
use wasmtime::error::{bail, format_err};

use crate::crash_workload::book;
use crate::dbms::{DbError, DbmsSession, Storage, describe, text, uint};
use crate::provider::{MemoryError, ProviderSession};
use crate::{Runtime, WasiConfig};

/// Runs the workload in `dir`; call it only with a file-size limit in force.
pub fn run(dir: &Path) -> Result<()> {
    let runtime = Runtime::new()?;
    let wasi = WasiConfig::dir(dir);

    let mut provider = ProviderSession::new(&runtime, &wasi)?;
    let memory = provider
        .open("full.bin")?
        .map_err(|e| format_err!("{e:?}"))?;
    let pages = loop {
        let before = provider.pages(memory)?;
        match provider.grow(memory, 1)? {
            Ok(_) => provider
                .write(memory, before * 65536, b"page")?
                .map_err(|e| format_err!("{e:?}"))?,
            Err(MemoryError::LimitExceeded) if provider.pages(memory)? == before => {
                eprintln!("grow refused: limit-exceeded");
                break before;
            }
            Err(other) => bail!("grow failed with {other:?} or changed the size"),
        }
    };
    println!("pages {pages}");

    let mut session = DbmsSession::new(&runtime, &wasi, Storage::Composed)?;
    let fail = |error: DbError| format_err!("{}", describe(&error));
    let db = session.open_with("full.db", true)?.map_err(fail)?;
    let author = vec![
        uint("id", 0),
        text("name", "Full"),
        text("email", "f@example.org"),
    ];
    session.insert(db, "authors", &author)?.map_err(fail)?;
    let mut books = 0;
    loop {
        match session.insert(db, "books", &book(books))? {
            Ok(()) => books += 1,
            Err(DbError::Storage(message)) => {
                eprintln!("insert refused: {message}");
                // Whether the refused insert is completed by the next open, as its error says.
                let completes = message.contains("reopen required");
                println!("refused completes {}", u8::from(completes));
                break;
            }
            Err(other) => bail!("insert failed with {}", describe(&other)),
        }
    }
    println!("books {books}");
    Ok(())
}
