"""The memory provider (`wasm-dbms:memory/memory-provider@0.2.0`) driven through
wasmtime-py's dynamic component values.

Results come back as wasmtime-py lifts them: a call that succeeds returns its value (`None`
for `result<_, ...>`, `bytes` for `list<u8>`, a list of ints for `list<u64>`), and a call that
is refused returns the `memory-error` as a `Variant(tag, payload)`. No success value is a
`Variant`, so the two never mix up.
"""

import struct
from pathlib import Path
from typing import Any, List, Optional, Union

from wasmtime.component import Record, ResourceAny, Variant

import runtime

ARTIFACT = "provider.wasm"
INTERFACE = "wasm-dbms:memory/memory-provider@0.2.0"
PAGE = 65536
MAX_TRANSFER = 64 << 20


def open_options(max_pages: Optional[int] = None, max_group_bytes: Optional[int] = None,
                 checkpoint_bytes: Optional[int] = None) -> Record:
    """An `open-options` record; `None` leaves a field out (`option::none`)."""
    options = Record()
    setattr(options, "max-pages", max_pages)
    setattr(options, "max-group-bytes", max_group_bytes)
    setattr(options, "checkpoint-bytes", checkpoint_bytes)
    return options


def recovery_record(completed_groups: int, journal_bytes: int,
                    discarded: Optional[str] = None) -> Record:
    """A `recovery` record to compare with what `recovery()` returns."""
    record = Record()
    setattr(record, "completed-groups", completed_groups)
    setattr(record, "journal-bytes", journal_bytes)
    setattr(record, "discarded", discarded)
    return record


def words_to_bytes(words: List[int]) -> bytes:
    """The little-endian bytes of 64-bit words, in order."""
    return struct.pack(f"<{len(words)}Q", *words)


def bytes_to_words(data: bytes) -> List[int]:
    """The little-endian 64-bit words of `data` (a multiple of 8 bytes long)."""
    return list(struct.unpack(f"<{len(data) // 8}Q", data))


class ProviderSession:
    """One store and one provider instance, with a directory preopened as `.`."""

    def __init__(self, directory: Path, writable: bool = True):
        """Instantiates the provider in a new store over `directory`, read-only unless
        `writable`."""
        self.store, instance = runtime.instantiate(ARTIFACT, directory, writable)
        self.exports = runtime.Exports(self.store, instance, INTERFACE)

    def open(self, path: str) -> Union["Memory", Variant]:
        """`memory.open(path)`: a `Memory`, or the `memory-error`."""
        return self._memory(self.exports.call("[static]memory.open", path))

    def open_with(self, path: str, options: Record) -> Union["Memory", Variant]:
        """`memory.open-with(path, options)`: a `Memory`, or the `memory-error`."""
        return self._memory(self.exports.call("[static]memory.open-with", path, options))

    def abandon(self) -> None:
        """Ends the store as a killed program ends: no destructor runs, files stay as they are."""
        self.store.close()

    def _memory(self, outcome: Any) -> Union["Memory", Variant]:
        """Wraps an opened resource; passes an error through."""
        if isinstance(outcome, ResourceAny):
            return Memory(self, outcome)
        return outcome


class Memory:
    """An open `memory` resource; each method is the interface function of the same name."""

    def __init__(self, session: ProviderSession, handle: ResourceAny):
        """Keeps the owned handle that `open` returned."""
        self._session = session
        self._handle = handle

    def _call(self, method: str, *arguments: Any) -> Any:
        """Calls `[method]memory.<method>` with this memory borrowed as `self`."""
        return self._session.exports.call(f"[method]memory.{method}", self._handle, *arguments)

    def recovery(self) -> Record:
        """What `open` found and did to the journal."""
        return self._call("recovery")

    def page_size(self) -> int:
        """The page size in bytes."""
        return self._call("page-size")

    def size(self) -> int:
        """The size in bytes."""
        return self._call("size")

    def pages(self) -> int:
        """The number of pages."""
        return self._call("pages")

    def max_transfer(self) -> int:
        """The most bytes one transfer moves."""
        return self._call("max-transfer")

    def grow(self, new_pages: int) -> Union[int, Variant]:
        """Appends pages; the previous page count, or the error."""
        return self._call("grow", new_pages)

    def read(self, offset: int, length: int) -> Union[bytes, Variant]:
        """The bytes at `offset`, or the error."""
        return self._call("read", offset, length)

    def write(self, offset: int, data: bytes) -> Optional[Variant]:
        """Writes `data` at `offset`; `None`, or the error."""
        return self._call("write", offset, bytes(data))

    def read_words(self, offset: int, count: int) -> Union[List[int], Variant]:
        """`count` little-endian 64-bit words at `offset`, or the error."""
        return self._call("read-words", offset, count)

    def write_words(self, offset: int, words: List[int]) -> Optional[Variant]:
        """Writes the bytes of `words` at `offset`; `None`, or the error."""
        return self._call("write-words", offset, list(words))

    def sync(self) -> Optional[Variant]:
        """Puts every write so far on stable storage; `None`, or the error."""
        return self._call("sync")

    def checkpoint(self) -> Optional[Variant]:
        """`sync`, then empties the journal; `None`, or the error."""
        return self._call("checkpoint")

    def begin_group(self) -> Optional[Variant]:
        """Opens a crash-atomic group; `None`, or the error."""
        return self._call("begin-group")

    def commit_group(self, durable: bool) -> Optional[Variant]:
        """Commits the open group; `None`, or the error."""
        return self._call("commit-group", durable)

    def abort_group(self) -> Optional[Variant]:
        """Discards the open group; `None`, or the error."""
        return self._call("abort-group")

    def drop(self) -> None:
        """Drops the resource: the guest closes the file and removes the journal."""
        self._handle.drop(self._session.store)
