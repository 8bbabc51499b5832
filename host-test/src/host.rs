//! The engine, the WASI state each store carries, and the compiled components.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use wasmtime::Result;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::linking::LinkedProvider;

/// What WASI gives a component: its preopened directories and a few knobs.
#[derive(Clone, Debug)]
pub struct WasiConfig {
    /// `(host directory, guest name)` pairs, opened read-write.
    pub preopens: Vec<(PathBuf, String)>,
    /// A fixed seed for `wasi:random/insecure-seed`, so that `HashMap` order (and with it
    /// wasm-dbms's schema page) is the same run after run.
    pub insecure_random_seed: Option<u128>,
    /// Run filesystem calls on the calling thread instead of a blocking-task pool: the
    /// fastest correct setting for a synchronous host.
    pub allow_blocking_current_thread: bool,
}

impl WasiConfig {
    /// One directory preopened as `.`, blocking calls on the current thread.
    pub fn dir(host_dir: impl Into<PathBuf>) -> Self {
        Self {
            preopens: vec![(host_dir.into(), ".".into())],
            insecure_random_seed: None,
            allow_blocking_current_thread: true,
        }
    }

    /// No preopened directory at all.
    pub fn none() -> Self {
        Self {
            preopens: Vec::new(),
            insecure_random_seed: None,
            allow_blocking_current_thread: true,
        }
    }

    /// The same configuration with a fixed insecure random seed.
    pub fn with_seed(mut self, seed: u128) -> Self {
        self.insecure_random_seed = Some(seed);
        self
    }

    fn build(&self) -> Result<WasiCtx> {
        let mut builder = WasiCtxBuilder::new();
        builder
            .inherit_stderr()
            .allow_blocking_current_thread(self.allow_blocking_current_thread);
        for (host, guest) in &self.preopens {
            builder
                .preopened_dir(host, guest, FsPerms::ReadWrite)
                .with_context(|| format!("preopen {}", host.display()))?;
        }
        if let Some(seed) = self.insecure_random_seed {
            builder.insecure_random_seed(seed);
        }
        Ok(builder.build())
    }
}

/// The data of every store: WASI, and the provider that a linked consumer calls.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// The provider instance behind a consumer linked by [`crate::linking`].
    pub linked: Option<LinkedProvider>,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One engine, its linker (WASI plus the provider forwarding), and compiled components.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    components: Mutex<HashMap<PathBuf, Component>>,
}

impl Runtime {
    /// An engine with WASI p2 (synchronous) and the provider forwarding in its linker.
    pub fn new() -> Result<Self> {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        crate::linking::add_provider_forwarding(&mut linker)?;
        Ok(Self {
            engine,
            linker,
            components: Mutex::new(HashMap::new()),
        })
    }

    /// The process-wide runtime, so that each component is compiled once per process.
    pub fn shared() -> &'static Runtime {
        static SHARED: OnceLock<Runtime> = OnceLock::new();
        SHARED.get_or_init(|| Runtime::new().expect("create the wasmtime runtime"))
    }

    /// The linker every instance is made with.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// The component in the artifact `name`, compiled on first use.
    pub fn component(&self, name: &str) -> Result<Component> {
        let path = crate::artifacts::path(name);
        let mut cache = self.components.lock().expect("component cache");
        if let Some(component) = cache.get(&path) {
            return Ok(component.clone());
        }
        let component = Component::from_file(&self.engine, &path).with_context(|| {
            format!(
                "load {} (build it with scripts/build-components.sh)",
                path.display()
            )
        })?;
        cache.insert(path, component.clone());
        Ok(component)
    }

    /// A fresh store with its own WASI state.
    pub fn store(&self, wasi: &WasiConfig) -> Result<Store<HostState>> {
        let state = HostState {
            wasi: wasi.build()?,
            table: ResourceTable::new(),
            linked: None,
        };
        Ok(Store::new(&self.engine, state))
    }
}
