//! A minimal wasmtime host for the composed to-do component.
//!
//! ```text
//! todo-host APP.wasm DATA_DIR add TEXT...   add items, print their ids
//! todo-host APP.wasm DATA_DIR add           add each line of standard input
//! todo-host APP.wasm DATA_DIR list          print every item
//! ```
//! `DATA_DIR` is preopened as the component's `.`, where its `todo.db` lives.

use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::{bail, format_err};
use wasmtime::{Engine, Result, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

wasmtime::component::bindgen!({ path: "../todo/wit", world: "todo" });

/// What the store carries: WASI's state.
struct Host {
    ctx: WasiCtx,
    table: ResourceTable,
}

impl WasiView for Host {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.ctx,
            table: &mut self.table,
        }
    }
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [app, data, command, rest @ ..] = args.as_slice() else {
        bail!("usage: todo-host APP.wasm DATA_DIR (add [TEXT...] | list)");
    };

    let engine = Engine::default();
    let component = Component::from_file(&engine, app)?;
    let mut linker = Linker::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    let ctx = WasiCtxBuilder::new()
        .inherit_stderr()
        .preopened_dir(data, ".", FsPerms::ReadWrite)?
        // Filesystem calls on this thread, not through a blocking-task pool: much faster for
        // a synchronous host.
        .allow_blocking_current_thread(true)
        .build();
    let host = Host {
        ctx,
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&engine, host);
    let todo = Todo::instantiate(&mut store, &component, &linker)?;
    let todos = todo.example_todo_todos();

    match command.as_str() {
        "add" => {
            let lines = std::io::stdin().lines();
            let texts: Box<dyn Iterator<Item = std::io::Result<String>>> = match rest {
                [] => Box::new(lines),
                _ => Box::new(rest.iter().cloned().map(Ok)),
            };
            for text in texts {
                let text = text?;
                let id = todos
                    .call_add(&mut store, &text)?
                    .map_err(|e| format_err!("{e}"))?;
                println!("added {id}: {text}");
            }
        }
        "list" => {
            for item in todos
                .call_all(&mut store)?
                .map_err(|e| format_err!("{e}"))?
            {
                println!("{}: {}", item.id, item.text);
            }
        }
        other => bail!("unknown command `{other}`"),
    }
    Ok(())
}
