"""The wasmtime-py runtime shared by every test: one engine, components compiled once
(and cached on disk), and fresh stores whose WASI context preopens one directory as `.`."""

import hashlib
import importlib.metadata
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from wasmtime import Engine, Store, WasiConfig, WasmtimeError
from wasmtime.component import Component, Func, Instance, Linker

REPOSITORY = Path(__file__).resolve().parent.parent
ARTIFACTS = REPOSITORY / "artifacts"
CACHE = Path(__file__).resolve().parent / ".cache"

_engine: Optional[Engine] = None
_linker: Optional[Linker] = None
_components: Dict[str, Component] = {}


def engine() -> Engine:
    """The process's one engine, with wasmtime's default configuration."""
    global _engine
    if _engine is None:
        _engine = Engine()
    return _engine


def linker() -> Linker:
    """The process's one linker: WASI 0.2 and nothing else."""
    global _linker
    if _linker is None:
        _linker = Linker(engine())
        _linker.add_wasip2()
    return _linker


def _cache_path(name: str, wasm: bytes) -> Path:
    """Where the compiled form of `wasm` is kept, named by its hash and wasmtime's version."""
    digest = hashlib.sha256(wasm).hexdigest()[:20]
    version = importlib.metadata.version("wasmtime")
    return CACHE / f"{Path(name).stem}-{digest}-wasmtime-{version}.cwasm"


def component(name: str) -> Component:
    """The artifact `artifacts/<name>` compiled, from the on-disk cache when it holds it.

    Compiling the composed component takes seconds; a cached copy loads in milliseconds. A
    cached copy that this wasmtime refuses is compiled again and replaced.
    """
    if name in _components:
        return _components[name]
    wasm = (ARTIFACTS / name).read_bytes()
    cached = _cache_path(name, wasm)
    loaded = None
    if cached.exists():
        try:
            loaded = Component.deserialize_file(engine(), str(cached))
        except WasmtimeError:
            loaded = None
    if loaded is None:
        loaded = Component(engine(), wasm)
        CACHE.mkdir(exist_ok=True)
        partial = cached.with_suffix(f".{os.getpid()}.partial")
        partial.write_bytes(loaded.serialize())
        partial.replace(cached)
    _components[name] = loaded
    return loaded


def instantiate(name: str, directory: Path, writable: bool = True) -> Tuple[Store, Instance]:
    """A new store whose WASI context preopens `directory` as `.` (read-only unless
    `writable`), and the component in it."""
    store = Store(engine())
    wasi = WasiConfig()
    wasi.preopen_dir(str(directory), ".", writable)
    store.set_wasi(wasi)
    return store, linker().instantiate(store, component(name))


class Exports:
    """The functions of one exported interface of an instance, looked up by name once."""

    def __init__(self, store: Store, instance: Instance, interface: str):
        """Finds `interface` among the instance's exports."""
        self.store = store
        self._instance = instance
        index = instance.get_export_index(store, interface)
        if index is None:
            raise LookupError(f"the component exports no `{interface}`")
        self._interface = index
        self._functions: Dict[str, Func] = {}

    def function(self, name: str) -> Func:
        """The interface's function `name` (for example `[method]memory.read`)."""
        if name not in self._functions:
            index = self._instance.get_export_index(self.store, name, self._interface)
            found = None if index is None else self._instance.get_func(self.store, index)
            if found is None:
                raise LookupError(f"the interface exports no function `{name}`")
            self._functions[name] = found
        return self._functions[name]

    def call(self, name: str, *arguments: Any) -> Any:
        """Calls the function `name` in this store and returns its lifted result."""
        return self.function(name)(self.store, *arguments)
