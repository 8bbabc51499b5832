//! Rows and queries of the wasm-dbms component's schema: authors and books.

use host_test::dbms::{Comparison, Db, DbError, DbmsSession, Order, Query, Row, Storage, Value};
use host_test::dbms::{all, condition, int, text, uint};
use host_test::{Runtime, WasiConfig};

use super::Sandbox;

/// An author row.
pub fn author(id: u64, name: &str, email: &str) -> Row {
    vec![uint("id", id), text("name", name), text("email", email)]
}

/// A book row.
pub fn book(id: u64, title: &str, year: i64, author_id: u64) -> Row {
    vec![
        uint("id", id),
        text("title", title),
        int("year", year),
        uint("author_id", author_id),
    ]
}

/// The value of `column` in `row`.
pub fn get<'r>(row: &'r Row, column: &str) -> &'r Value {
    &row.iter()
        .find(|cell| cell.column == column)
        .unwrap_or_else(|| panic!("no column {column} in {row:?}"))
        .value
}

/// A query for the rows whose `column` equals `value`.
pub fn by(column: &str, value: Value) -> Query {
    Query {
        filter: vec![condition(column, Comparison::Eq, value)],
        ..all()
    }
}

/// An open database in a fresh instance on `storage`, over `name` in the sandbox.
pub struct Library {
    pub session: DbmsSession,
    pub db: Db,
}

impl Library {
    /// Opens `name` in the sandbox on `storage`, with a fixed random seed.
    pub fn open(sandbox: &Sandbox, storage: Storage, name: &str) -> Self {
        Self::open_with(&sandbox.wasi().with_seed(7), storage, name)
    }

    /// Opens `name` on `storage` in an instance made with `wasi`.
    pub fn open_with(wasi: &WasiConfig, storage: Storage, name: &str) -> Self {
        let mut session = DbmsSession::new(Runtime::shared(), wasi, storage).unwrap();
        let db = session.open(name).unwrap().expect("open the database");
        Self { session, db }
    }

    /// Inserts a row, expecting success.
    pub fn insert(&mut self, table: &str, row: Row) {
        self.try_insert(table, row).expect("insert");
    }

    /// Inserts a row.
    pub fn try_insert(&mut self, table: &str, row: Row) -> Result<(), DbError> {
        self.session
            .insert(self.db, table, &row)
            .expect("insert trapped")
    }

    /// Selects rows, expecting success.
    pub fn select(&mut self, table: &str, query: &Query) -> Vec<Row> {
        self.session
            .select(self.db, table, query)
            .expect("select trapped")
            .expect("select")
    }

    /// The number of rows in `table`.
    pub fn count(&mut self, table: &str) -> usize {
        self.select(table, &all()).len()
    }

    /// The books, checked to be exactly those the crash and fault workloads write with ids
    /// `0..n` (a prefix, nothing torn); returns `n`.
    pub fn checked_books(&mut self, context: &str) -> u64 {
        let query = Query {
            order_by: vec![Order {
                column: "id".into(),
                descending: false,
            }],
            ..all()
        };
        let rows = self.select("books", &query);
        for (row, id) in rows.iter().zip(0..) {
            for cell in host_test::crash_workload::book(id) {
                assert_eq!(get(row, &cell.column), &cell.value, "{context}: book {id}");
            }
        }
        rows.len() as u64
    }

    /// Closes the database (and its storage).
    pub fn close(mut self) {
        self.session.close(self.db).unwrap();
    }
}
