//! The wasm-dbms workloads: inserts, point selects, full scans and updates through the
//! component's `database` export.

use std::path::Path;
use std::time::Instant;

use wasmtime::Result;
use wasmtime::error::{Context as _, format_err};

use super::{Contestant, DBMS_WORKLOADS, Measure, Scale, random_offsets};
use crate::dbms::{
    Comparison, DbError, DbmsSession, Query, Value, all, condition, describe, int, text, uint,
};
use crate::host::Runtime;

fn book(id: u64, authors: u64, title: &str) -> Vec<crate::dbms::Cell> {
    vec![
        uint("id", id),
        text("title", title),
        int("year", 1900 + (id % 120) as i64),
        uint("author_id", id % authors),
    ]
}

pub(super) fn dbms_workloads(
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
    let syncs_before = session.syncs();
    let start = Instant::now();
    for id in 0..books {
        let title = format!("Book {id} {}", "~".repeat((id % 40) as usize));
        check(session.insert(db, "books", &book(id, authors, &title))?)?;
    }
    let insert = start.elapsed().as_nanos() as f64 / books as f64;
    let insert_syncs = (session.syncs() - syncs_before) as f64 / books as f64;

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
            syncs: Some(insert_syncs),
        },
        Measure {
            workload: DBMS_WORKLOADS[1].into(),
            nanos: select,
            checksum: Some(found),
            syncs: None,
        },
        Measure {
            workload: DBMS_WORKLOADS[2].into(),
            nanos: scan,
            checksum: Some(scanned),
            syncs: None,
        },
        Measure {
            workload: DBMS_WORKLOADS[3].into(),
            nanos: update,
            checksum: Some(updated),
            syncs: None,
        },
    ])
}

/// A database result as a benchmark error.
fn check<T>(result: std::result::Result<T, DbError>) -> Result<T> {
    result.map_err(|error| format_err!("{}", describe(&error)))
}
