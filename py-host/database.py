"""The composed wasm-dbms component (`wasm-dbms:demo/database@0.1.0`) driven through
wasmtime-py's dynamic component values.

Rows cross as lists of `cell` records and column values as `value` variants; this module
turns them into and out of plain dicts of `Variant`s. As with the provider, a refused call
returns its `db-error` as a `Variant(tag, message)`.
"""

from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from wasmtime.component import Record, ResourceAny, Variant

import runtime

ARTIFACT = "composed.wasm"
INTERFACE = "wasm-dbms:demo/database@0.1.0"

Row = Dict[str, Variant]


def uint(number: int) -> Variant:
    """A `value::uint`."""
    return Variant("uint", number)


def int_(number: int) -> Variant:
    """A `value::int`."""
    return Variant("int", number)


def text(string: str) -> Variant:
    """A `value::text`."""
    return Variant("text", string)


def _record(**fields: Any) -> Record:
    """A record with `fields`, underscores in names turned into WIT's dashes."""
    record = Record()
    for name, value in fields.items():
        setattr(record, name.replace("_", "-"), value)
    return record


def cells(row: Row) -> List[Record]:
    """A `row` (a list of `cell` records) from a dict of column values."""
    return [_record(column=column, value=value) for column, value in row.items()]


def row_of(cell_records: List[Record]) -> Row:
    """A dict of column values from a lifted `row`."""
    return {cell.column: cell.value for cell in cell_records}


def condition(column: str, op: str, value: Variant) -> Record:
    """A `condition` record; `op` is a `comparison` case name such as `eq` or `ge`."""
    return _record(column=column, op=op, value=value)


def query(filter: Sequence[Record] = (), order_by: Sequence[Tuple[str, bool]] = (),
          limit: Optional[int] = None, offset: Optional[int] = None) -> Record:
    """A `query` record; `order_by` holds (column, descending) pairs."""
    orders = [_record(column=column, descending=descending) for column, descending in order_by]
    return _record(filter=list(filter), order_by=orders, limit=limit, offset=offset)


class DatabaseSession:
    """One store and one instance of the composed component, with a directory preopened as `.`."""

    def __init__(self, directory: Path):
        """Instantiates the composed component in a new store over `directory`."""
        self.store, instance = runtime.instantiate(ARTIFACT, directory)
        self.exports = runtime.Exports(self.store, instance, INTERFACE)

    def abandon(self) -> None:
        """Ends the store as a killed program ends: no destructor runs, files stay as they are."""
        self.store.close()

    def open(self, path: str) -> Union["Database", Variant]:
        """`db.open(path)`: a `Database`, or the `db-error`."""
        outcome = self.exports.call("[static]db.open", path)
        return Database(self, outcome) if isinstance(outcome, ResourceAny) else outcome

    def open_with(self, path: str, durable: bool) -> Union["Database", Variant]:
        """`db.open-with(path, {durable})`: a `Database`, or the `db-error`."""
        outcome = self.exports.call("[static]db.open-with", path, _record(durable=durable))
        return Database(self, outcome) if isinstance(outcome, ResourceAny) else outcome


class Database:
    """An open `db` resource; each method is the interface function of the same name."""

    def __init__(self, session: DatabaseSession, handle: ResourceAny):
        """Keeps the owned handle that `open` returned."""
        self._session = session
        self._handle = handle

    def _call(self, method: str, *arguments: Any) -> Any:
        """Calls `[method]db.<method>` with this database borrowed as `self`."""
        return self._session.exports.call(f"[method]db.{method}", self._handle, *arguments)

    def insert(self, table: str, row: Row) -> Optional[Variant]:
        """Inserts one row; `None`, or the error."""
        return self._call("insert", table, cells(row))

    def select(self, table: str, selection: Record) -> Union[List[Row], Variant]:
        """The rows `selection` (a `query` record) picks, as dicts, or the error."""
        outcome = self._call("select", table, selection)
        if isinstance(outcome, Variant):
            return outcome
        return [row_of(cell_records) for cell_records in outcome]

    def update(self, table: str, patch: Row, filter: Sequence[Record]) -> Union[int, Variant]:
        """Sets `patch` on the rows matching `filter`; how many changed, or the error."""
        return self._call("update", table, cells(patch), list(filter))

    def delete(self, table: str, filter: Sequence[Record]) -> Union[int, Variant]:
        """Deletes the rows matching `filter`; how many, or the error."""
        return self._call("delete", table, list(filter))

    def drop(self) -> None:
        """Drops the resource: the component closes the database and its memory."""
        self._handle.drop(self._session.store)
