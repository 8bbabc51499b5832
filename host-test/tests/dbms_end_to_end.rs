//! wasm-dbms through the component boundary: the same stories on the `wac plug`
//! composition and on the two components linked by the host.

mod common;

use common::Sandbox;
use common::library::{Library, author, book, by, get};
use host_test::dbms::{
    Comparison, DbError, DbmsSession, Order, Query, Storage, Value, all, condition, text,
};
use host_test::{Runtime, WasiConfig};

fn crud_on_both_tables(storage: Storage) {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "crud.db");
    library.insert(
        "authors",
        author(1, "  Ursula Le Guin ", "ursula@example.org"),
    );
    library.insert("authors", author(2, "Stanislaw Lem", "lem@example.org"));
    library.insert("books", book(10, "The Dispossessed", 1974, 1));
    library.insert("books", book(11, "The Left Hand of Darkness", 1969, 1));
    library.insert("books", book(12, "Solaris", 1961, 2));
    library.insert("books", book(13, "The Cyberiad", 1965, 2));

    let ursula = library.select("authors", &by("id", Value::Uint(1)));
    assert_eq!(
        get(&ursula[0], "name"),
        &Value::Text("Ursula Le Guin".into()),
        "sanitized"
    );

    let sixties = Query {
        filter: vec![
            condition("year", Comparison::Ge, Value::Int(1960)),
            condition("year", Comparison::Lt, Value::Int(1970)),
        ],
        order_by: vec![Order {
            column: "year".into(),
            descending: true,
        }],
        limit: Some(2),
        offset: None,
    };
    let titles: Vec<_> = library
        .select("books", &sixties)
        .iter()
        .map(|row| get(row, "title").clone())
        .collect();
    assert_eq!(
        titles,
        [
            Value::Text("The Left Hand of Darkness".into()),
            Value::Text("The Cyberiad".into())
        ]
    );

    let renamed = library
        .session
        .update(
            library.db,
            "books",
            &vec![text("title", "Solaris (1961)")],
            &[condition("id", Comparison::Eq, Value::Uint(12))],
        )
        .unwrap();
    assert_eq!(renamed, Ok(1));
    let solaris = library.select("books", &by("id", Value::Uint(12)));
    assert_eq!(
        get(&solaris[0], "title"),
        &Value::Text("Solaris (1961)".into())
    );

    let deleted = library
        .session
        .delete(
            library.db,
            "books",
            &[condition("author_id", Comparison::Eq, Value::Uint(2))],
        )
        .unwrap();
    assert_eq!(deleted, Ok(2));
    assert_eq!(library.count("books"), 2);
    assert_eq!(library.count("authors"), 2);
}

fn validation_rejects_bad_values(storage: Storage) {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "valid.db");
    let bad_email = library.try_insert("authors", author(1, "Nobody", "not an address"));
    assert!(
        matches!(bad_email, Err(DbError::Validation(_))),
        "{bad_email:?}"
    );
    let long_name = library.try_insert("authors", author(2, &"x".repeat(65), "x@example.org"));
    assert!(
        matches!(long_name, Err(DbError::Validation(_))),
        "{long_name:?}"
    );
    assert_eq!(library.count("authors"), 0);
}

fn foreign_keys_are_enforced(storage: Storage) {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "fk.db");
    let orphan = library.try_insert("books", book(1, "Orphan", 2000, 99));
    assert!(matches!(orphan, Err(DbError::Constraint(_))), "{orphan:?}");
    library.insert(
        "authors",
        author(1, "Octavia Butler", "octavia@example.org"),
    );
    library.insert("books", book(1, "Kindred", 1979, 1));
    let duplicate = library.try_insert("books", book(1, "Kindred again", 1979, 1));
    assert!(
        matches!(duplicate, Err(DbError::Constraint(_))),
        "{duplicate:?}"
    );
    let referenced = library
        .session
        .delete(
            library.db,
            "authors",
            &[condition("id", Comparison::Eq, Value::Uint(1))],
        )
        .unwrap();
    assert!(
        matches!(referenced, Err(DbError::Constraint(_))),
        "{referenced:?}"
    );
    assert_eq!(library.count("authors"), 1);
    assert_eq!(
        library.session.delete(library.db, "books", &[]).unwrap(),
        Ok(1)
    );
    assert_eq!(
        library.session.delete(library.db, "authors", &[]).unwrap(),
        Ok(1)
    );
}

fn transactions_commit_and_roll_back(storage: Storage) {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "tx.db");
    let db = library.db;
    assert!(matches!(
        library.session.commit(db).unwrap(),
        Err(DbError::Transaction(_))
    ));

    library.session.begin(db).unwrap().unwrap();
    assert!(matches!(
        library.session.begin(db).unwrap(),
        Err(DbError::Transaction(_))
    ));
    library.insert("authors", author(1, "Kept", "kept@example.org"));
    library.session.commit(db).unwrap().unwrap();

    library.session.begin(db).unwrap().unwrap();
    library.insert("authors", author(2, "Dropped", "dropped@example.org"));
    library.insert("books", book(1, "Never written", 2001, 2));
    assert_eq!(
        library.count("authors"),
        2,
        "the transaction sees its own rows"
    );
    library.session.rollback(db).unwrap().unwrap();

    assert_eq!(library.count("authors"), 1);
    assert_eq!(library.count("books"), 0);
    library.close();
    let mut reopened = Library::open(&sandbox, storage, "tx.db");
    let authors = reopened.select("authors", &all());
    assert_eq!(authors.len(), 1);
    assert_eq!(get(&authors[0], "name"), &Value::Text("Kept".into()));
}

fn ten_thousand_rows_survive_a_restart(storage: Storage) {
    const AUTHORS: u64 = 100;
    const BOOKS: u64 = 9_900;
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "scale.db");
    for id in 0..AUTHORS {
        library.insert(
            "authors",
            author(id, &format!("Author {id}"), &format!("a{id}@example.org")),
        );
    }
    for id in 0..BOOKS {
        let title = format!("Book {id} {}", "~".repeat((id % 50) as usize));
        library.insert(
            "books",
            book(id, &title, 1900 + (id % 120) as i64, id % AUTHORS),
        );
    }
    library.close();
    let pages = std::fs::metadata(sandbox.file("scale.db")).unwrap().len() / 65536;
    assert!(pages > 20, "10,000 rows span many pages, not {pages}");

    let mut reopened = Library::open(&sandbox, storage, "scale.db");
    assert_eq!(reopened.count("authors"), AUTHORS as usize);
    assert_eq!(reopened.count("books"), BOOKS as usize);
    for id in [0, 1, 4_999, 7_777, BOOKS - 1] {
        let rows = reopened.select("books", &by("id", Value::Uint(id)));
        assert_eq!(rows.len(), 1);
        let title = format!("Book {id} {}", "~".repeat((id % 50) as usize));
        assert_eq!(get(&rows[0], "title"), &Value::Text(title));
        assert_eq!(get(&rows[0], "author_id"), &Value::Uint(id % AUTHORS));
    }
    let by_author = reopened.select("books", &by("author_id", Value::Uint(42)));
    assert_eq!(by_author.len(), (BOOKS / AUTHORS) as usize);
}

fn bad_rows_and_tables_are_typed_errors(storage: Storage) {
    let sandbox = Sandbox::new();
    let mut library = Library::open(&sandbox, storage, "bad.db");
    library.insert("authors", author(1, "Known", "known@example.org"));
    let unknown_table = library.try_insert("publishers", author(1, "X", "x@example.org"));
    assert!(
        matches!(unknown_table, Err(DbError::UnknownTable(_))),
        "{unknown_table:?}"
    );
    let selected = library
        .session
        .select(library.db, "publishers", &all())
        .unwrap();
    assert!(
        matches!(selected, Err(DbError::UnknownTable(_))),
        "{selected:?}"
    );
    let mut wrong_type = book(1, "Typed", 2000, 1);
    wrong_type[2] = text("year", "two thousand");
    let wrong_type = library.try_insert("books", wrong_type);
    assert!(
        matches!(wrong_type, Err(DbError::BadRow(_))),
        "{wrong_type:?}"
    );
    let mut unknown_column = author(2, "Y", "y@example.org");
    unknown_column.push(text("nickname", "why"));
    let unknown_column = library.try_insert("authors", unknown_column);
    assert!(
        matches!(unknown_column, Err(DbError::BadRow(_))),
        "{unknown_column:?}"
    );
    let out_of_range = library.try_insert("books", book(1, "Big", 1 << 40, 1));
    assert!(
        matches!(out_of_range, Err(DbError::BadRow(_))),
        "{out_of_range:?}"
    );
    let missing = library.try_insert("authors", vec![text("name", "No id")]);
    assert!(missing.is_err(), "{missing:?}");
    assert_eq!(library.count("authors"), 1);
    assert_eq!(library.count("books"), 0);
}

fn unusable_storage_is_a_storage_error_and_the_file_is_untouched(storage: Storage) {
    let sandbox = Sandbox::new();
    let misaligned: Vec<u8> = (0..3 * 65536 + 512).map(|i| (i * 7) as u8).collect();
    std::fs::write(sandbox.file("odd.db"), &misaligned).unwrap();
    let wasi = sandbox.wasi().with_seed(7);
    let mut session = DbmsSession::new(Runtime::shared(), &wasi, storage).unwrap();
    let refused = session.open("odd.db").unwrap();
    assert!(
        matches!(&refused, Err(DbError::Storage(m)) if m.contains("misaligned")),
        "{refused:?}"
    );
    assert_eq!(sandbox.bytes("odd.db"), misaligned);

    std::fs::create_dir(sandbox.file("folder.db")).unwrap();
    let refused = session.open("folder.db").unwrap();
    assert!(
        matches!(&refused, Err(DbError::Storage(m)) if m.contains("folder.db")),
        "{refused:?}"
    );

    let mut unrooted = DbmsSession::new(Runtime::shared(), &WasiConfig::none(), storage).unwrap();
    let refused = unrooted.open("db.bin").unwrap();
    assert!(
        matches!(&refused, Err(DbError::Storage(m)) if m.contains("preopen")),
        "{refused:?}"
    );
}

macro_rules! on_both_linkings {
    ($($story:ident),* $(,)?) => {
        mod composed {
            $(#[test] fn $story() { super::$story(host_test::dbms::Storage::Composed) })*
        }
        mod linked {
            $(#[test] fn $story() { super::$story(host_test::dbms::Storage::Linked) })*
        }
    };
}

on_both_linkings!(
    crud_on_both_tables,
    validation_rejects_bad_values,
    foreign_keys_are_enforced,
    transactions_commit_and_roll_back,
    ten_thousand_rows_survive_a_restart,
    bad_rows_and_tables_are_typed_errors,
    unusable_storage_is_a_storage_error_and_the_file_is_untouched,
);
