//! A wasm-dbms database as a WebAssembly component.
//!
//! It exports `wasm-dbms:demo/database`, a database of authors and books driven by table and
//! column names, and keeps its pages in the memory the `storage` module opens: by default an
//! imported `wasm-dbms:memory/memory-provider` component.

mod convert;
mod raw;
mod storage;

use std::cell::Cell as StateCell;

use wasm_dbms::prelude::{DatabaseSchema as _, DbmsContext, WasmDbmsDatabase};
use wasm_dbms_api::prelude::{ColumnDef, Database as _, DeleteBehavior, TransactionId};

use crate::bindings::exports::wasm_dbms::demo::database::{
    Condition, Db as DbHandle, DbError, Guest, GuestDb, Options, Query, Row,
};
use crate::convert::{db_error, filter, query, row_values, wit_row};
use crate::storage::Storage;
use library_schema::Library;

mod bindings {
    wit_bindgen::generate!({
        path: ["../wit", "wit"],
        world: "wasm-dbms:demo/dbms",
        with: {
            "wasm-dbms:memory/memory-provider@0.2.0": wasm_dbms_component_memory::bindings::wasm_dbms::memory::memory_provider,
        },
    });
}

/// The component's exports: the `database` and `raw-storage` interfaces.
struct Component;

impl Guest for Component {
    type Db = Db;
}

impl bindings::exports::wasm_dbms::demo::raw_storage::Guest for Component {
    type Storage = raw::RawStorage;
}

/// An open database and its open transaction, if any.
pub struct Db {
    context: DbmsContext<Storage>,
    transaction: StateCell<Option<TransactionId>>,
}

impl Db {
    /// A session inside the open transaction, or a one-shot session without one.
    fn session(&self) -> WasmDbmsDatabase<'_, Storage> {
        match self.transaction.get() {
            Some(id) => WasmDbmsDatabase::from_transaction(&self.context, Library, id),
            None => WasmDbmsDatabase::oneshot(&self.context, Library),
        }
    }

    /// The schema's static name and columns of `table`.
    fn table(&self, table: &str) -> Result<(&'static str, &'static [ColumnDef]), DbError> {
        let name = <Library as wasm_dbms::prelude::DatabaseSchema<Storage>>::static_table_name(
            &Library, table,
        )
        .map_err(db_error)?;
        let columns = <Library as wasm_dbms::prelude::DatabaseSchema<Storage>>::table_columns(
            &Library, table,
        )
        .map_err(db_error)?;
        Ok((name, columns))
    }

    /// Ends the open transaction by committing or rolling it back.
    fn finish(&self, commit: bool) -> Result<(), DbError> {
        let id = self
            .transaction
            .take()
            .ok_or_else(|| DbError::Transaction("no transaction is open".into()))?;
        let mut session = WasmDbmsDatabase::from_transaction(&self.context, Library, id);
        let ended = if commit {
            session.commit()
        } else {
            session.rollback()
        };
        self.flushed(ended.map_err(db_error))
    }

    /// Flushes what `result`'s operation wrote, whether it succeeded or not (wasm-dbms undoes
    /// a failed operation's writes itself), so that the file holds all of it or none.
    fn flushed<T>(&self, result: Result<T, DbError>) -> Result<T, DbError> {
        let flushed = self.context.flush().map_err(db_error);
        let value = result?;
        flushed?;
        Ok(value)
    }

    fn open_with_options(path: &str, options: Options) -> Result<DbHandle, DbError> {
        let storage = storage::open(path, options.durable)
            .map_err(|error| DbError::Storage(error.to_string()))?;
        let db = Db {
            context: DbmsContext::new(storage),
            transaction: StateCell::new(None),
        };
        let registered = Library::register_tables(&db.context).map_err(db_error);
        db.flushed(registered)?;
        Ok(DbHandle::new(db))
    }
}

impl GuestDb for Db {
    fn open(path: String) -> Result<DbHandle, DbError> {
        Db::open_with_options(&path, Options { durable: true })
    }

    fn open_with(path: String, options: Options) -> Result<DbHandle, DbError> {
        Db::open_with_options(&path, options)
    }

    fn insert(&self, table: String, row: Row) -> Result<(), DbError> {
        let (name, columns) = self.table(&table)?;
        let values = row_values(columns, row)?;
        self.flushed(
            Library
                .insert(&self.session(), name, &values)
                .map_err(db_error),
        )
    }

    fn select(&self, table: String, wit_query: Query) -> Result<Vec<Row>, DbError> {
        let (name, columns) = self.table(&table)?;
        let query = query(columns, wit_query)?;
        let rows = self.session().select_raw(name, query).map_err(db_error)?;
        Ok(rows.into_iter().map(wit_row).collect())
    }

    fn update(
        &self,
        table: String,
        patch: Row,
        conditions: Vec<Condition>,
    ) -> Result<u64, DbError> {
        let (name, columns) = self.table(&table)?;
        let values = row_values(columns, patch)?;
        let filter = filter(columns, conditions)?;
        self.flushed(
            Library
                .update(&self.session(), name, &values, filter)
                .map_err(db_error),
        )
    }

    fn delete(&self, table: String, conditions: Vec<Condition>) -> Result<u64, DbError> {
        let (name, columns) = self.table(&table)?;
        let filter = filter(columns, conditions)?;
        self.flushed(
            Library
                .delete(&self.session(), name, DeleteBehavior::Restrict, filter)
                .map_err(db_error),
        )
    }

    fn begin(&self) -> Result<(), DbError> {
        if self.transaction.get().is_some() {
            return Err(DbError::Transaction("a transaction is already open".into()));
        }
        self.transaction.set(Some(self.context.begin_transaction()));
        Ok(())
    }

    fn commit(&self) -> Result<(), DbError> {
        self.finish(true)
    }

    fn rollback(&self) -> Result<(), DbError> {
        self.finish(false)
    }
}

bindings::export!(Component with_types_in bindings);
