//! The writing workload of the crash tests, run in a child process that the test kills.
//!
//! It appends books to `crash.db` in the directory it is given, continuing after the ones
//! already there: single inserts, and every fourth step a transaction of three. Before each
//! operation it prints `begin FIRST COUNT`, and after its commit `done LAST`, so the killer
//! knows exactly what must survive and what may.

use std::io::Write as _;
use std::path::Path;

use wasmtime::Result;
use wasmtime::error::format_err;

use crate::dbms::{Cell, DbError, DbmsSession, Storage, all, describe, int, text, uint};
use crate::{Runtime, WasiConfig};

/// The book with `id`, as the workload writes it and the crash test expects it.
pub fn book(id: u64) -> Vec<Cell> {
    vec![
        uint("id", id),
        text("title", &format!("Book {id}")),
        int("year", (id % 100) as i64),
        uint("author_id", 0),
    ]
}

/// Runs until killed (or `limit` books exist).
pub fn run(dir: &Path, limit: u64) -> Result<()> {
    let runtime = Runtime::new()?;
    let mut session = DbmsSession::new(&runtime, &WasiConfig::dir(dir), Storage::Composed)?;
    let fail = |error: DbError| format_err!("{}", describe(&error));
    let db = session.open_with("crash.db", false)?.map_err(fail)?;
    if session
        .select(db, "authors", &all())?
        .map_err(fail)?
        .is_empty()
    {
        let author = vec![
            uint("id", 0),
            text("name", "Crash"),
            text("email", "c@example.org"),
        ];
        session.insert(db, "authors", &author)?.map_err(fail)?;
    }
    let mut next = session.select(db, "books", &all())?.map_err(fail)?.len() as u64;
    let mut out = std::io::stdout().lock();
    let mut step = 0u64;
    while next < limit {
        let count = if step % 4 == 3 { 3 } else { 1 };
        writeln!(out, "begin {next} {count}")?;
        out.flush()?;
        if count == 3 {
            session.begin(db)?.map_err(fail)?;
            for id in next..next + 3 {
                session.insert(db, "books", &book(id))?.map_err(fail)?;
            }
            session.commit(db)?.map_err(fail)?;
            next += 3;
        } else {
            session.insert(db, "books", &book(next))?.map_err(fail)?;
            next += 1;
        }
        writeln!(out, "done {}", next - 1)?;
        out.flush()?;
        step += 1;
    }
    Ok(())
}
