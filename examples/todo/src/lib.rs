//! A to-do list kept by wasm-dbms in the file `todo.db`, through the memory-provider
//! component: the seed's `WasiMemoryProvider::new` became `ComponentMemoryProvider::open_atomic`,
//! and every operation ends with `flush`, which commits it to the file all at once.

use std::cell::RefCell;

use wasm_dbms::prelude::{DbmsContext, WasmDbmsDatabase};
use wasm_dbms_api::prelude::*;
use wasm_dbms_component_memory::ComponentMemoryProvider;

wit_bindgen::generate!({ world: "todo" });

use exports::example::todo::todos::{Guest, Item};

/// One thing to do.
#[derive(Debug, Table, Clone, PartialEq, Eq)]
#[table = "todos"]
pub struct Todo {
    #[primary_key]
    pub id: Uint32,
    pub text: Text,
}

/// The database: one table.
#[derive(DatabaseSchema)]
#[tables(Todo = "todos")]
pub struct Schema;

type Context = DbmsContext<ComponentMemoryProvider>;

thread_local! {
    static DB: RefCell<Option<Context>> = const { RefCell::new(None) };
}

/// Runs `work` on the database, opening it on first use. After an error the database is
/// dropped (and with it whatever was not flushed), so that the next call opens it afresh.
fn with_db<T>(work: impl FnOnce(&Context) -> Result<T, DbmsError>) -> Result<T, String> {
    DB.with(|cell| {
        let mut db = cell.borrow_mut();
        if db.is_none() {
            let memory =
                ComponentMemoryProvider::open_atomic("todo.db").map_err(|e| e.to_string())?;
            let ctx = DbmsContext::new(memory);
            Schema::register_tables(&ctx)
                .and_then(|_| ctx.flush())
                .map_err(|e| e.to_string())?;
            *db = Some(ctx);
        }
        let result = work(db.as_ref().expect("opened above"));
        if result.is_err() {
            *db = None;
        }
        result.map_err(|e| e.to_string())
    })
}

struct Component;

impl Guest for Component {
    fn add(text: String) -> Result<u32, String> {
        with_db(|ctx| {
            let db = WasmDbmsDatabase::oneshot(ctx, Schema);
            let last = db.select::<Todo>(Query::builder().order_by_desc("id").limit(1).build())?;
            let id = last
                .first()
                .and_then(|todo| todo.id)
                .map_or(1, |id| id.0 + 1);
            db.insert::<Todo>(TodoInsertRequest {
                id: id.into(),
                text: text.into(),
            })?;
            ctx.flush()?;
            Ok(id)
        })
    }

    fn all() -> Result<Vec<Item>, String> {
        with_db(|ctx| {
            let db = WasmDbmsDatabase::oneshot(ctx, Schema);
            let todos = db.select::<Todo>(Query::builder().order_by_asc("id").build())?;
            Ok(todos
                .into_iter()
                .map(|todo| Item {
                    id: todo.id.map_or(0, |id| id.0),
                    text: todo.text.map(|text| text.0).unwrap_or_default(),
                })
                .collect())
        })
    }
}

export!(Component);
