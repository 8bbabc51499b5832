"""What the tests share: the temporary directory each test runs in, and assertions that
say what differed."""

import os
from pathlib import Path
from typing import Any, Iterable, Optional, Tuple

from wasmtime.component import Record, Variant


class Sandbox:
    """A fresh temporary directory that a test's instances preopen as `.`."""

    def __init__(self, root: Path):
        """Wraps the directory `root`."""
        self.root = root

    def file(self, name: str) -> Path:
        """The host path of `name` inside the directory."""
        return self.root / name

    def bytes(self, name: str) -> bytes:
        """The whole contents of the file `name`."""
        return self.file(name).read_bytes()

    def exists(self, name: str) -> bool:
        """Whether anything is at `name`."""
        return self.file(name).exists()

    def size(self, name: str) -> int:
        """The length of the file `name` in bytes."""
        return os.stat(self.file(name)).st_size

    def allocated(self, name: str) -> int:
        """The bytes of disk the file `name` occupies (less than its size when sparse)."""
        return os.stat(self.file(name)).st_blocks * 512


def describe(value: Any) -> str:
    """A readable form of a value, records included, long byte strings shortened."""
    if isinstance(value, Record):
        fields = ", ".join(f"{name}={describe(field)}" for name, field in vars(value).items())
        return f"Record({fields})"
    if isinstance(value, (bytes, bytearray)) and len(value) > 64:
        return f"<{len(value)} bytes, starting {bytes(value[:32])!r}>"
    if isinstance(value, list) and len(value) > 16:
        return f"<list of {len(value)}, starting {value[:8]!r}>"
    return repr(value)


def same(actual: Any, expected: Any, what: str = "value") -> None:
    """Fails unless `actual == expected` (and, for records, the other way round too)."""
    equal = actual == expected
    if isinstance(actual, Record) or isinstance(expected, Record):
        equal = equal and expected == actual
    if not equal:
        raise AssertionError(f"{what}: got {describe(actual)}, expected {describe(expected)}")


def ok(outcome: Any, what: str = "call") -> Any:
    """The value of a call that must succeed; fails when it returned an error variant."""
    if isinstance(outcome, Variant):
        raise AssertionError(f"{what}: refused with {outcome!r}")
    return outcome


def refused(outcome: Any, tag: str, what: str = "call") -> Any:
    """The payload of a call that must be refused with the error case `tag`."""
    if not isinstance(outcome, Variant) or outcome.tag != tag:
        raise AssertionError(f"{what}: got {describe(outcome)}, expected the error `{tag}`")
    return outcome.payload


def mentions(text: Any, *parts: str) -> None:
    """Fails unless `text` is a string that contains every one of `parts`."""
    if not isinstance(text, str) or any(part not in text for part in parts):
        raise AssertionError(f"{text!r} does not mention all of {parts!r}")


def image(pages: int, writes: Iterable[Tuple[int, bytes]] = ()) -> bytes:
    """`pages` pages of zeros with `writes` (offset, bytes) laid over them in order."""
    contents = bytearray(pages * 65536)
    for offset, data in writes:
        contents[offset:offset + len(data)] = data
    return bytes(contents)


def truth(condition: bool, what: str, detail: Optional[str] = None) -> None:
    """Fails with `what` (and `detail`) unless `condition` holds."""
    if not condition:
        raise AssertionError(what if detail is None else f"{what}: {detail}")
