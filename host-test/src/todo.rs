//! The example to-do component (`examples/todo`), composed with the provider, driven from
//! the host: the way a seed user writes a wasm-dbms component, under the same crash tests
//! as ours.

use std::io::Write as _;
use std::path::Path;

use wasmtime::Result;
use wasmtime::Store;
use wasmtime::error::format_err;

use crate::artifacts;
use crate::host::{HostState, Runtime, WasiConfig};

/// Bindings of the example's `todo` world.
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../examples/todo/wit",
        world: "todo",
        additional_derives: [PartialEq, Eq],
    });
}

pub use bindings::exports::example::todo::todos::Item;

/// One instance of the composed to-do component in its own store.
pub struct TodoSession {
    store: Store<HostState>,
    todo: bindings::Todo,
}

impl TodoSession {
    /// Instantiates the composed to-do component with `wasi`.
    pub fn new(runtime: &Runtime, wasi: &WasiConfig) -> Result<Self> {
        let mut store = runtime.store(wasi)?;
        let component = runtime.component(artifacts::TODO_APP)?;
        let todo = bindings::Todo::instantiate(&mut store, &component, runtime.linker_for(wasi))?;
        Ok(Self { store, todo })
    }

    /// `add(text)`: the new item's id.
    pub fn add(&mut self, text: &str) -> Result<std::result::Result<u32, String>> {
        self.todo
            .example_todo_todos()
            .call_add(&mut self.store, text)
    }

    /// `all()`: every item.
    pub fn all(&mut self) -> Result<std::result::Result<Vec<Item>, String>> {
        self.todo.example_todo_todos().call_all(&mut self.store)
    }
}

/// The text of item `id` as the workload writes it.
pub fn text(id: u32) -> String {
    format!("item {id}")
}

/// Adds items until killed (or `limit` exist), announcing each before it starts (`begin
/// FIRST 1`) and after `add` returns (`done LAST`), as the crash tests expect.
pub fn run(dir: &Path, limit: u32) -> Result<()> {
    let runtime = Runtime::new()?;
    let mut session = TodoSession::new(&runtime, &WasiConfig::dir(dir))?;
    let mut next = session.all()?.map_err(|e| format_err!("{e}"))?.len() as u32 + 1;
    let mut out = std::io::stdout().lock();
    while next <= limit {
        writeln!(out, "begin {} 1", next - 1)?;
        out.flush()?;
        let id = session.add(&text(next))?.map_err(|e| format_err!("{e}"))?;
        if id != next {
            return Err(format_err!("added item {id}, expected {next}"));
        }
        writeln!(out, "done {}", next - 1)?;
        out.flush()?;
        next += 1;
    }
    Ok(())
}
