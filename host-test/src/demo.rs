//! The demo: a library database written through wasm-dbms, then read back by a fresh
//! engine, store and instance on the same file.

use std::path::Path;

use anyhow::{Context as _, Result, anyhow};
use host_test::dbms::{
    Cell, Comparison, Db, DbError, DbmsSession, Order, Query, Row, Storage, Value, all, condition,
    describe, int, text, uint,
};
use host_test::{Runtime, WasiConfig};

const FILE: &str = "library.db";

const AUTHORS: [(u64, &str, &str); 3] = [
    (1, "Ursula K. Le Guin", "ursula@example.org"),
    (2, "Stanislaw Lem", "lem@example.org"),
    (3, "Octavia E. Butler", "octavia@example.org"),
];

const BOOKS: [(u64, &str, i64, u64); 6] = [
    (1, "The Left Hand of Darkness", 1969, 1),
    (2, "The Dispossessed", 1974, 1),
    (3, "Solaris", 1961, 2),
    (4, "The Cyberiad", 1965, 2),
    (5, "Kindred", 1979, 3),
    (6, "Parable of the Sower", 1993, 3),
];

/// Runs the demo against `data/library.db` on `storage`.
pub fn run(data: &Path, storage: Storage) -> Result<()> {
    std::fs::create_dir_all(data).with_context(|| format!("create {}", data.display()))?;
    let data = data.canonicalize()?;
    let path = data.join(FILE);
    // A fresh database: the file, and a journal an interrupted run may have left beside it
    // (the provider refuses a journal beside a missing file).
    for stale in [path.clone(), data.join(format!("{FILE}-journal"))] {
        if stale.exists() {
            std::fs::remove_file(&stale)?;
        }
    }
    let how = match storage {
        Storage::Linked => "dbms.wasm linked to provider.wasm by the host",
        _ => "dbms.wasm + provider.wasm composed by `wac plug`",
    };
    println!("wasm-dbms on the memory-provider component ({how})");
    println!("database: {}\n", path.display());

    let runtime = Runtime::new()?;
    let wasi = WasiConfig::dir(&data);

    println!("run 1: a fresh instance writes");
    let mut session = DbmsSession::new(&runtime, &wasi, storage)?;
    let db = done(session.open(FILE)?)?;
    for (id, name, email) in AUTHORS {
        let row = vec![uint("id", id), text("name", name), text("email", email)];
        done(session.insert(db, "authors", &row)?)?;
    }
    for (id, title, year, author) in BOOKS.iter().take(4).copied() {
        done(session.insert(db, "books", &book(id, title, year, author))?)?;
    }
    println!("  inserted {} authors and 4 books", AUTHORS.len());

    done(session.begin(db)?)?;
    for (id, title, year, author) in BOOKS.iter().skip(4).copied() {
        done(session.insert(db, "books", &book(id, title, year, author))?)?;
    }
    done(session.commit(db)?)?;
    println!("  transaction: 2 books by Octavia E. Butler, committed");

    done(session.begin(db)?)?;
    done(session.insert(db, "books", &book(7, "A book never written", 2030, 2))?)?;
    let inside = done(session.select(db, "books", &all())?)?.len();
    done(session.rollback(db)?)?;
    let after = done(session.select(db, "books", &all())?)?.len();
    println!("  transaction: 1 more book ({inside} inside it), rolled back: {after} books");

    let orphan = session.insert(db, "books", &book(8, "Orphan", 2000, 99))?;
    println!(
        "  refused, a book by unknown author 99: {}",
        outcome(orphan)
    );
    let bad_email = session.insert(
        db,
        "authors",
        &vec![
            uint("id", 9),
            text("name", "Nobody"),
            text("email", "nowhere"),
        ],
    )?;
    println!(
        "  refused, an author without a valid email: {}",
        outcome(bad_email)
    );
    session.close(db)?;
    drop(session);

    println!("\nrun 2: a new engine, store and instance read the same file");
    let runtime = Runtime::new()?;
    let mut session = DbmsSession::new(&runtime, &wasi, storage)?;
    let db = done(session.open(FILE)?)?;
    let authors = done(session.select(db, "authors", &all())?)?;
    let books = done(session.select(db, "books", &all())?)?;
    println!(
        "  {} authors, {} books persisted",
        authors.len(),
        books.len()
    );
    print_books(&mut session, db, &authors)?;
    session.close(db)?;

    let bytes = std::fs::metadata(&path)?.len();
    println!(
        "\n{}: {} pages of 64 KiB ({bytes} bytes), IC stable-memory layout",
        path.display(),
        bytes / 65536
    );
    Ok(())
}

fn print_books(session: &mut DbmsSession, db: Db, authors: &[Row]) -> Result<()> {
    let query = Query {
        filter: vec![condition("year", Comparison::Ge, Value::Int(1965))],
        order_by: vec![Order {
            column: "year".into(),
            descending: true,
        }],
        limit: Some(4),
        offset: None,
    };
    println!("  books from 1965 on, newest first, first 4:");
    for row in done(session.select(db, "books", &query)?)? {
        let author = authors
            .iter()
            .find(|author| get(author, "id") == get(&row, "author_id"))
            .map(|author| show(get(author, "name")))
            .unwrap_or_default();
        println!(
            "    {}  {:<28} {author}",
            show(get(&row, "year")),
            show(get(&row, "title"))
        );
    }
    Ok(())
}

fn book(id: u64, title: &str, year: i64, author: u64) -> Vec<Cell> {
    vec![
        uint("id", id),
        text("title", title),
        int("year", year),
        uint("author_id", author),
    ]
}

fn get<'r>(row: &'r Row, column: &str) -> &'r Value {
    row.iter()
        .find(|cell| cell.column == column)
        .map(|cell| &cell.value)
        .unwrap_or(&Value::Null)
}

fn show(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Boolean(flag) => flag.to_string(),
        Value::Int(number) => number.to_string(),
        Value::Uint(number) => number.to_string(),
        Value::Text(text) => text.clone(),
    }
}

fn outcome(result: Result<(), DbError>) -> String {
    match result {
        Ok(()) => "accepted (unexpected)".into(),
        Err(error) => describe(&error),
    }
}

fn done<T>(result: Result<T, DbError>) -> Result<T> {
    result.map_err(|error| anyhow!(describe(&error)))
}
