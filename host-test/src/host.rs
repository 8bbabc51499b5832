//! The engine, the WASI state each store carries, and the compiled components.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use wasmtime::Result;
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::error::Context as _;
use wasmtime::{Engine, Store};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::linking::LinkedProvider;
use crate::simfs::{SimFs, SimFsView};

/// What WASI gives a component: its filesystem (preopened host directories, or a simulated
/// filesystem) and a few knobs.
#[derive(Clone, Debug)]
pub struct WasiConfig {
    /// `(host directory, guest name)` pairs, opened read-write.
    pub preopens: Vec<(PathBuf, String)>,
    /// A simulated filesystem that serves `wasi:filesystem` in place of the host's; its own
    /// preopens replace `preopens`, which must then be empty.
    pub simulated: Option<SimFs>,
    /// A fixed seed for `wasi:random/insecure-seed`, so that `HashMap` order (and with it
    /// wasm-dbms's schema page) is the same run after run.
    pub insecure_random_seed: Option<u128>,
    /// Run filesystem calls on the calling thread instead of a blocking-task pool: the
    /// fastest correct setting for a synchronous host.
    pub allow_blocking_current_thread: bool,
    /// Environment variables.
    pub env: Vec<(String, String)>,
    /// Take the one-writer lock on every file opened for writing ([`crate::file_lock`]);
    /// without, the host's filesystem answers as wasmtime-wasi's alone.
    pub file_locks: bool,
}

impl WasiConfig {
    /// One directory preopened as `.`, blocking calls on the current thread.
    pub fn dir(host_dir: impl Into<PathBuf>) -> Self {
        Self {
            preopens: vec![(host_dir.into(), ".".into())],
            ..Self::none()
        }
    }

    /// No preopened directory at all, blocking calls on the current thread.
    pub fn none() -> Self {
        Self {
            preopens: Vec::new(),
            simulated: None,
            insecure_random_seed: None,
            allow_blocking_current_thread: true,
            env: Vec::new(),
            file_locks: true,
        }
    }

    /// The simulated filesystem `fs` (with its own preopens) instead of the host's.
    pub fn simulated(fs: SimFs) -> Self {
        Self {
            simulated: Some(fs),
            ..Self::none()
        }
    }

    /// The same configuration without the one-writer lock.
    pub fn without_file_locks(mut self) -> Self {
        self.file_locks = false;
        self
    }

    /// The same configuration with a fixed insecure random seed.
    pub fn with_seed(mut self, seed: u128) -> Self {
        self.insecure_random_seed = Some(seed);
        self
    }

    fn build(&self) -> Result<WasiCtx> {
        if self.simulated.is_some() && !self.preopens.is_empty() {
            wasmtime::error::bail!("a simulated filesystem replaces the preopened directories");
        }
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
        for (name, value) in &self.env {
            builder.env(name, value);
        }
        Ok(builder.build())
    }
}

/// The data of every store: WASI, the simulated filesystem if any, and the provider that a
/// linked consumer calls.
pub struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    simulated: Option<SimFs>,
    /// The provider instance behind a consumer linked by [`crate::linking`].
    pub linked: Option<LinkedProvider>,
    /// `sync` and `sync-data` calls made on the host's filesystem ([`crate::sync_count`]).
    pub syncs: u64,
}

impl HostState {
    /// What the simulated filesystem's bindings work on.
    fn simulated_view(&mut self) -> SimFsView<'_> {
        SimFsView {
            fs: self.simulated.as_ref(),
            table: &mut self.table,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// One engine, its linkers (WASI plus the provider forwarding: one over the host's
/// filesystem, one over a simulated one), and compiled components.
pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    unlocked_linker: Linker<HostState>,
    simulated_linker: Linker<HostState>,
    components: Mutex<HashMap<PathBuf, Component>>,
}

impl Runtime {
    /// An engine with WASI p2 (synchronous) and the provider forwarding in its linkers: the
    /// host's filesystem with one writer per file ([`crate::file_lock`]), or a simulated one
    /// ([`crate::simfs`]).
    pub fn new() -> Result<Self> {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        crate::file_lock::add_write_lock_to_open(&mut linker)?;
        crate::sync_count::add_sync_counting(&mut linker)?;
        crate::linking::add_provider_forwarding(&mut linker)?;
        let mut unlocked_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut unlocked_linker)?;
        crate::sync_count::add_sync_counting(&mut unlocked_linker)?;
        crate::linking::add_provider_forwarding(&mut unlocked_linker)?;
        let mut simulated_linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut simulated_linker)?;
        crate::simfs::add_to_linker(&mut simulated_linker, HostState::simulated_view)?;
        crate::linking::add_provider_forwarding(&mut simulated_linker)?;
        Ok(Self {
            engine,
            linker,
            unlocked_linker,
            simulated_linker,
            components: Mutex::new(HashMap::new()),
        })
    }

    /// The process-wide runtime, so that each component is compiled once per process.
    pub fn shared() -> &'static Runtime {
        static SHARED: OnceLock<Runtime> = OnceLock::new();
        SHARED.get_or_init(|| Runtime::new().expect("create the wasmtime runtime"))
    }

    /// The linker of stores over the host's filesystem.
    pub fn linker(&self) -> &Linker<HostState> {
        &self.linker
    }

    /// The linker of stores over a simulated filesystem.
    pub fn simulated_linker(&self) -> &Linker<HostState> {
        &self.simulated_linker
    }

    /// The linker of stores made with `wasi`: simulated or host filesystem.
    pub fn linker_for(&self, wasi: &WasiConfig) -> &Linker<HostState> {
        match (&wasi.simulated, wasi.file_locks) {
            (Some(_), _) => &self.simulated_linker,
            (None, true) => &self.linker,
            (None, false) => &self.unlocked_linker,
        }
    }

    /// The component in the artifact `name`, compiled on first use.
    ///
    /// The compiled code is kept beside the artifact (`name.cwasm`) and reused while it is
    /// newer than the artifact, so that processes started in a loop (the crash tests) do not
    /// compile again.
    pub fn component(&self, name: &str) -> Result<Component> {
        let path = crate::artifacts::path(name);
        let mut cache = self.components.lock().expect("component cache");
        if let Some(component) = cache.get(&path) {
            return Ok(component.clone());
        }
        let compiled = path.with_extension("cwasm");
        let component = match self.load_compiled(&path, &compiled) {
            Some(component) => component,
            None => {
                let bytes = std::fs::read(&path).with_context(|| {
                    format!(
                        "load {} (build it with scripts/build-components.sh)",
                        path.display()
                    )
                })?;
                let serialized = self.engine.precompile_component(&bytes)?;
                // Written aside and renamed, so that no process reads half a file; a failure to
                // keep the compiled code only costs a compilation next time.
                let aside = compiled.with_extension(format!("cwasm.{}", std::process::id()));
                if std::fs::write(&aside, &serialized).is_ok() {
                    let _ = std::fs::rename(&aside, &compiled);
                }
                // SAFETY: `serialized` was produced just now by this engine.
                unsafe { Component::deserialize(&self.engine, &serialized)? }
            }
        };
        cache.insert(path, component.clone());
        Ok(component)
    }

    /// The compiled code kept for `path`, if it is newer than the artifact and loads.
    fn load_compiled(&self, path: &Path, compiled: &Path) -> Option<Component> {
        let built = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
        let kept = std::fs::metadata(compiled)
            .and_then(|m| m.modified())
            .ok()?;
        if kept < built {
            return None;
        }
        // SAFETY: the file is this engine's own output for the artifact, written by
        // `component` above into the artifacts directory; wasmtime checks that it was
        // compiled by the same version and configuration and refuses it otherwise.
        unsafe { Component::deserialize_file(&self.engine, compiled).ok() }
    }

    /// A fresh store with its own WASI state; instantiate in it with
    /// [`Runtime::linker_for`] the same `wasi`.
    pub fn store(&self, wasi: &WasiConfig) -> Result<Store<HostState>> {
        let state = HostState {
            wasi: wasi.build()?,
            table: ResourceTable::new(),
            simulated: wasi.simulated.clone(),
            linked: None,
            syncs: 0,
        };
        Ok(Store::new(&self.engine, state))
    }
}
