//! A wasm-dbms component driven from the host, on any of its storages.

use wasmtime::Result;
use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::artifacts;
use crate::host::{HostState, Runtime, WasiConfig};
use crate::linking::LinkedProvider;
use crate::provider::Provider;

/// Bindings of the `dbms` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: ["../wit", "../dbms-component/wit"],
        world: "wasm-dbms:demo/dbms",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::exports::wasm_dbms::demo::database::{
    Cell, Comparison, Condition, DbError, Order, Query, Value,
};
pub use bindings::exports::wasm_dbms::demo::raw_storage::{Access, FlushOutcome};

/// A row: its cells by column name.
pub type Row = Vec<Cell>;

/// How the wasm-dbms component gets its storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// `dbms.wasm` and `provider.wasm` composed by `wac plug` into one component.
    Composed,
    /// `dbms.wasm` and `provider.wasm` instantiated separately and linked by the host.
    Linked,
    /// `dbms-seed.wasm`: the seed crate `wasi-dbms-memory` linked into the component.
    Seed,
    /// `dbms-heap.wasm`: `HeapMemoryProvider`, its image written to the path at close.
    Heap,
}

impl Storage {
    /// A short name for output.
    pub fn name(self) -> &'static str {
        match self {
            Storage::Composed => "composed",
            Storage::Linked => "linked",
            Storage::Seed => "seed",
            Storage::Heap => "heap",
        }
    }
}

/// One wasm-dbms component instance in its own store.
pub struct DbmsSession {
    store: Store<HostState>,
    dbms: bindings::Dbms,
}

/// An open database of a [`DbmsSession`].
#[derive(Clone, Copy, Debug)]
pub struct Db(ResourceAny);

/// An open raw storage (no database) of a [`DbmsSession`].
#[derive(Clone, Copy, Debug)]
pub struct RawStorage(ResourceAny);

impl DbmsSession {
    /// Instantiates the wasm-dbms component on `storage` with `wasi`.
    pub fn new(runtime: &Runtime, wasi: &WasiConfig, storage: Storage) -> Result<Self> {
        let mut store = runtime.store(wasi)?;
        let artifact = match storage {
            Storage::Composed => artifacts::COMPOSED,
            Storage::Linked => artifacts::DBMS,
            Storage::Seed => artifacts::DBMS_SEED,
            Storage::Heap => artifacts::DBMS_HEAP,
        };
        if storage == Storage::Linked {
            let provider_component = runtime.component(artifacts::PROVIDER)?;
            let provider =
                Provider::instantiate(&mut store, &provider_component, runtime.linker_for(wasi))?;
            store.data_mut().linked = Some(LinkedProvider::new(provider));
        }
        let component = runtime.component(artifact)?;
        let dbms = bindings::Dbms::instantiate(&mut store, &component, runtime.linker_for(wasi))?;
        Ok(Self { store, dbms })
    }

    /// `db.open(path)`.
    pub fn open(&mut self, path: &str) -> Result<Result<Db, DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        Ok(api.call_open(&mut self.store, path)?.map(Db))
    }

    /// `db.open-with(path, options)`: `durable` syncs every commit.
    pub fn open_with(&mut self, path: &str, durable: bool) -> Result<Result<Db, DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        let options = bindings::exports::wasm_dbms::demo::database::Options { durable };
        Ok(api.call_open_with(&mut self.store, path, options)?.map(Db))
    }

    /// `db.insert(table, row)`.
    pub fn insert(&mut self, db: Db, table: &str, row: &Row) -> Result<Result<(), DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_insert(&mut self.store, db.0, table, row)
    }

    /// `db.select(table, query)`.
    pub fn select(
        &mut self,
        db: Db,
        table: &str,
        query: &Query,
    ) -> Result<Result<Vec<Row>, DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_select(&mut self.store, db.0, table, query)
    }

    /// `db.update(table, patch, filter)`: the number of rows changed.
    pub fn update(
        &mut self,
        db: Db,
        table: &str,
        patch: &Row,
        filter: &[Condition],
    ) -> Result<Result<u64, DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_update(&mut self.store, db.0, table, patch, filter)
    }

    /// `db.delete(table, filter)`: the number of rows deleted.
    pub fn delete(
        &mut self,
        db: Db,
        table: &str,
        filter: &[Condition],
    ) -> Result<Result<u64, DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_delete(&mut self.store, db.0, table, filter)
    }

    /// `db.begin()`.
    pub fn begin(&mut self, db: Db) -> Result<Result<(), DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_begin(&mut self.store, db.0)
    }

    /// `db.commit()`.
    pub fn commit(&mut self, db: Db) -> Result<Result<(), DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_commit(&mut self.store, db.0)
    }

    /// `db.rollback()`.
    pub fn rollback(&mut self, db: Db) -> Result<Result<(), DbError>> {
        let api = self.dbms.wasm_dbms_demo_database().db();
        api.call_rollback(&mut self.store, db.0)
    }

    /// `storage.open(path, cache-bytes)` of the raw-storage interface.
    pub fn raw_open(
        &mut self,
        path: &str,
        cache_bytes: Option<u64>,
    ) -> Result<Result<RawStorage, String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        Ok(api
            .call_open(&mut self.store, path, cache_bytes)?
            .map(RawStorage))
    }

    /// `storage.open-atomic(path, durable)`: the adapter in atomic mode.
    pub fn raw_open_atomic(
        &mut self,
        path: &str,
        durable: bool,
    ) -> Result<Result<RawStorage, String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        Ok(api
            .call_open_atomic(&mut self.store, path, durable)?
            .map(RawStorage))
    }

    /// `storage.flush()`.
    pub fn raw_flush(&mut self, raw: RawStorage) -> Result<Result<(), String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_flush(&mut self.store, raw.0)
    }

    /// `storage.failed-flush()`: what became of the pending changes, if a flush failed.
    pub fn raw_failed_flush(&mut self, raw: RawStorage) -> Result<Option<FlushOutcome>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_failed_flush(&mut self.store, raw.0)
    }

    /// `storage.read(offset, len)`.
    pub fn raw_read(
        &mut self,
        raw: RawStorage,
        offset: u64,
        len: u64,
    ) -> Result<Result<Vec<u8>, String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_read(&mut self.store, raw.0, offset, len)
    }

    /// `storage.write(offset, data)`.
    pub fn raw_write(
        &mut self,
        raw: RawStorage,
        offset: u64,
        data: &[u8],
    ) -> Result<Result<(), String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_write(&mut self.store, raw.0, offset, data)
    }

    /// `storage.grow(new_pages)`.
    pub fn raw_grow(&mut self, raw: RawStorage, new_pages: u64) -> Result<Result<u64, String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_grow(&mut self.store, raw.0, new_pages)
    }

    /// `storage.plan(offsets)`.
    pub fn raw_plan(&mut self, raw: RawStorage, offsets: &[u64]) -> Result<()> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_plan(&mut self.store, raw.0, offsets)
    }

    /// `storage.run(access, len)`: the checksum of what was read, or the number of writes.
    pub fn raw_run(
        &mut self,
        raw: RawStorage,
        access: Access,
        len: u64,
    ) -> Result<Result<u64, String>> {
        let api = self.dbms.wasm_dbms_demo_raw_storage().storage();
        api.call_run(&mut self.store, raw.0, access, len)
    }

    /// Drops a raw storage resource.
    pub fn raw_close(&mut self, raw: RawStorage) -> Result<()> {
        raw.0.resource_drop(&mut self.store)
    }

    /// The `sync` and `sync-data` calls this instance made on the host's filesystem so far.
    pub fn syncs(&self) -> u64 {
        self.store.data().syncs
    }

    /// Drops the database resource: its storage closes (the heap storage writes its image).
    pub fn close(&mut self, db: Db) -> Result<()> {
        db.0.resource_drop(&mut self.store)
    }
}

/// `error` as one line: its kind, then wasm-dbms's message.
pub fn describe(error: &DbError) -> String {
    let (kind, message) = match error {
        DbError::UnknownTable(message) => ("unknown table", message),
        DbError::BadRow(message) => ("bad row", message),
        DbError::Constraint(message) => ("constraint", message),
        DbError::Validation(message) => ("validation", message),
        DbError::Transaction(message) => ("transaction", message),
        DbError::Storage(message) => ("storage", message),
        DbError::Query(message) => ("query", message),
    };
    format!("{kind}: {message}")
}

/// A cell holding text.
pub fn text(column: &str, value: &str) -> Cell {
    Cell {
        column: column.into(),
        value: Value::Text(value.into()),
    }
}

/// A cell holding an unsigned integer.
pub fn uint(column: &str, value: u64) -> Cell {
    Cell {
        column: column.into(),
        value: Value::Uint(value),
    }
}

/// A cell holding a signed integer.
pub fn int(column: &str, value: i64) -> Cell {
    Cell {
        column: column.into(),
        value: Value::Int(value),
    }
}

/// The condition `column op value`.
pub fn condition(column: &str, op: Comparison, value: Value) -> Condition {
    Condition {
        column: column.into(),
        op,
        value,
    }
}

/// A query for every row, in storage order.
pub fn all() -> Query {
    Query {
        filter: Vec::new(),
        order_by: Vec::new(),
        limit: None,
        offset: None,
    }
}
