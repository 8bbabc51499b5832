//! The database file is IC stable memory, byte for byte: the same wasm-dbms operations
//! leave the same bytes through our provider (composed or linked), through the seed crate
//! linked into the component, and in `HeapMemoryProvider`; and a file the seed writes
//! natively opens through the component with the same rows.

mod common;

use common::Sandbox;
use common::library::{Library, author, book, by, get};
use host_test::dbms::{Comparison, Storage, Value, condition, text};
use library_schema::{Author, AuthorInsertRequest, Book, BookInsertRequest, Library as Schema};
use wasi_dbms_memory::WasiMemoryProvider;
use wasm_dbms::prelude::{DbmsContext, WasmDbmsDatabase};
use wasm_dbms_api::prelude::{Database as _, Int32, Text, Uint32};

/// Inserts, updates, deletes, a committed and a rolled-back transaction.
fn scenario(library: &mut Library) {
    for id in 0..20 {
        library.insert(
            "authors",
            author(id, &format!("Author {id}"), &format!("a{id}@example.org")),
        );
    }
    for id in 0..300 {
        library.insert(
            "books",
            book(id, &format!("Title {id}"), 1950 + (id % 70) as i64, id % 20),
        );
    }
    let db = library.db;
    let renamed = library.session.update(
        db,
        "books",
        &vec![text("title", "Renamed")],
        &[condition("year", Comparison::Lt, Value::Int(1960))],
    );
    assert!(renamed.unwrap().unwrap() > 0);
    let deleted = library.session.delete(
        db,
        "books",
        &[condition("author_id", Comparison::Eq, Value::Uint(3))],
    );
    assert_eq!(deleted.unwrap(), Ok(15));
    library.session.begin(db).unwrap().unwrap();
    library.insert("authors", author(100, "Committed", "c@example.org"));
    library.session.commit(db).unwrap().unwrap();
    library.session.begin(db).unwrap().unwrap();
    library.insert("authors", author(101, "Rolled back", "r@example.org"));
    library.session.rollback(db).unwrap().unwrap();
}

/// The file the scenario leaves on `storage`.
fn image(storage: Storage) -> Vec<u8> {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "image.db");
    scenario(&mut library);
    library.close();
    sandbox.bytes("image.db")
}

#[test]
fn every_storage_leaves_the_same_bytes() {
    let composed = image(Storage::Composed);
    assert!(
        composed.len() >= 8 * 65536 && composed.len().is_multiple_of(65536),
        "{}",
        composed.len()
    );
    for storage in [Storage::Linked, Storage::Seed, Storage::Heap] {
        let other = image(storage);
        assert_eq!(other.len(), composed.len(), "{} size", storage.name());
        let differing = composed.iter().zip(&other).filter(|(a, b)| a != b).count();
        assert_eq!(
            differing,
            0,
            "{} differs from composed in {differing} bytes",
            storage.name()
        );
    }
}

#[test]
fn a_file_written_natively_by_the_seed_opens_through_the_component() {
    let sandbox = Sandbox::new();
    {
        let provider = WasiMemoryProvider::new(sandbox.file("native.db")).unwrap();
        let context = DbmsContext::new(provider);
        Schema::register_tables(&context).unwrap();
        let database = WasmDbmsDatabase::oneshot(&context, Schema);
        for id in 0..50u32 {
            let row = AuthorInsertRequest {
                id: Uint32(id),
                name: Text(format!("Native {id}")),
                email: Text(format!("n{id}@example.org")),
            };
            database.insert::<Author>(row).unwrap();
        }
        for id in 0..500u32 {
            let row = BookInsertRequest {
                id: Uint32(id),
                title: Text(format!("Native book {id}")),
                year: Int32(2000 + (id % 25) as i32),
                author_id: Uint32(id % 50),
            };
            database.insert::<Book>(row).unwrap();
        }
    }
    let before = sandbox.bytes("native.db");
    for storage in [Storage::Composed, Storage::Linked] {
        let mut library = Library::open(&sandbox, storage, "native.db");
        assert_eq!(library.count("authors"), 50);
        assert_eq!(library.count("books"), 500);
        let book = library.select("books", &by("id", Value::Uint(321)));
        assert_eq!(
            get(&book[0], "title"),
            &Value::Text("Native book 321".into())
        );
        assert_eq!(get(&book[0], "year"), &Value::Int(2021));
        assert_eq!(get(&book[0], "author_id"), &Value::Uint(21));
        let author = library.select("authors", &by("id", Value::Uint(49)));
        assert_eq!(
            get(&author[0], "email"),
            &Value::Text("n49@example.org".into())
        );
        library.close();
    }
    assert_eq!(
        sandbox.bytes("native.db"),
        before,
        "reading changed the file"
    );
}
