"""The memory provider's contract (`wit/memory.wit`), case by case, through wasmtime-py's
component API. Each test gets a fresh temporary directory, preopened as `.`.

What this host does not test, and why. wasmtime-py lowers and lifts every list element as one
dynamic value in Python: about 1.5 us per byte of a `list<u8>` and per word of a `list<u64>`,
each way (64 KiB as bytes take about 0.1 s).
- a transfer of a whole `max-transfer()` (64 MiB): about 100 s as bytes, 10 s or more as words;
  reads past the limit are refused before any data moves, so those are tested;
- `transfer-too-large` for `write` and `write-words`: the call has to carry more than 64 MiB
  of list into the guest before the provider can refuse it;
- `reopen-required`, `group-discarded`, and `io` in the middle of a write or commit: they need a
  filesystem that fails on demand, and wasmtime-py's WASI is wasmtime's own with no fault
  injection (only serving `wasi:filesystem` from Python through the linker could do it);
- `locked` across two instances or processes: the contract leaves that to the host, and
  wasmtime-py's WASI has no way to refuse a second writable open with `busy`.
"""

from checks import Sandbox, image, mentions, ok, refused, same, truth
from provider import (MAX_TRANSFER, PAGE, ProviderSession, bytes_to_words, open_options,
                      recovery_record, words_to_bytes)
from wasmtime.component import Variant

U64_MAX = 2**64 - 1
OUT_OF_BOUNDS = Variant("out-of-bounds")
LIMIT_EXCEEDED = Variant("limit-exceeded")
GROUP_ALREADY_OPEN = Variant("group-already-open")
NO_OPEN_GROUP = Variant("no-open-group")


def test_open_creates_an_empty_file_of_zero_pages(sandbox: Sandbox) -> None:
    """A new path becomes an empty file: zero pages, nothing recovered, no journal."""
    session = ProviderSession(sandbox.root)
    memory = ok(session.open("new.bin"))
    same(memory.size(), 0, "size")
    same(memory.pages(), 0, "pages")
    same(memory.recovery(), recovery_record(0, 0), "recovery")
    same(sandbox.bytes("new.bin"), b"", "file after open")
    truth(not sandbox.exists("new.bin-journal"), "no journal after open")
    memory.drop()
    same(sandbox.bytes("new.bin"), b"", "file after drop")
    truth(not sandbox.exists("new.bin-journal"), "no journal after drop")


def test_page_size_is_64_kib_and_size_counts_pages(sandbox: Sandbox) -> None:
    """`page-size` is 65536 before and after growth; `size` is pages times page size."""
    memory = ok(ProviderSession(sandbox.root).open("pages.bin"))
    same(memory.page_size(), 65536, "page-size")
    same(memory.max_transfer(), MAX_TRANSFER, "max-transfer")
    ok(memory.grow(3))
    same(memory.page_size(), 65536, "page-size after grow")
    same(memory.pages(), 3, "pages")
    same(memory.size(), 3 * 65536, "size")
    same(sandbox.size("pages.bin"), 3 * 65536, "file size")


def test_grow_returns_the_previous_page_count_and_appends_zeroed_pages(sandbox: Sandbox) -> None:
    """`grow(n)` returns the page count before it; new pages read as zeros; `grow(0)` changes
    nothing."""
    memory = ok(ProviderSession(sandbox.root).open("grow.bin"))
    same(memory.grow(0), 0, "grow(0) on an empty memory")
    same(sandbox.bytes("grow.bin"), b"", "file after grow(0)")
    same(memory.grow(2), 0, "grow(2)")
    ok(memory.write(0, b"\xab" * 16))
    same(memory.grow(1), 2, "grow(1)")
    same(memory.grow(0), 3, "grow(0)")
    same(memory.pages(), 3, "pages")
    same(memory.size(), 3 * PAGE, "size")
    # Two whole pages as words: 16,384 values instead of 131,072 bytes across the boundary.
    same(memory.read_words(PAGE, 2 * PAGE // 8), [0] * (2 * PAGE // 8), "grown pages")
    same(memory.read(0, 17), b"\xab" * 16 + b"\x00", "first bytes")
    same(sandbox.bytes("grow.bin"), image(3, [(0, b"\xab" * 16)]), "file")


def test_read_and_write_round_trip(sandbox: Sandbox) -> None:
    """What `write` stores, `read` returns; later writes overwrite; empty ranges are fine."""
    memory = ok(ProviderSession(sandbox.root).open("round.bin"))
    ok(memory.grow(1))
    pattern = bytes(range(256))
    ok(memory.write(0, b"hello"))
    ok(memory.write(1000, pattern))
    ok(memory.write(1100, b"over"))
    same(memory.read(0, 5), b"hello", "first write")
    expected = pattern[:100] + b"over" + pattern[104:]
    same(memory.read(1000, 256), expected, "overwritten pattern")
    same(memory.read(4000, 0), b"", "empty read")
    ok(memory.write(4000, b""))
    same(sandbox.bytes("round.bin"), image(1, [(0, b"hello"), (1000, expected)]), "file")


def test_a_write_across_a_page_boundary_reads_back_whole_and_in_halves(sandbox: Sandbox) -> None:
    """A range crossing the boundary between two pages is one range to `read` and `write`."""
    memory = ok(ProviderSession(sandbox.root).open("across.bin"))
    ok(memory.grow(2))
    across = bytes(range(1, 11))
    ok(memory.write(PAGE - 5, across))
    same(memory.read(PAGE - 5, 10), across, "whole range")
    same(memory.read(PAGE - 5, 5), across[:5], "end of the first page")
    same(memory.read(PAGE, 5), across[5:], "start of the second page")
    same(sandbox.bytes("across.bin"), image(2, [(PAGE - 5, across)]), "file")


def test_out_of_bounds_past_the_end_changes_nothing(sandbox: Sandbox) -> None:
    """Ranges reaching past `size()` are `out-of-bounds`; the last byte and empty ranges at the end
    are not."""
    memory = ok(ProviderSession(sandbox.root).open("edges.bin"))
    same(memory.read(0, 1), OUT_OF_BOUNDS, "read of an empty memory")
    same(memory.write(0, b"x"), OUT_OF_BOUNDS, "write to an empty memory")
    ok(memory.grow(2))
    size = 2 * PAGE
    ok(memory.write(size - 1, b"\x07"))
    same(memory.read(size - 1, 1), b"\x07", "last byte")
    same(memory.read(size, 0), b"", "empty read at the end")
    ok(memory.write(size, b""))
    before = sandbox.bytes("edges.bin")
    same(memory.read(size, 1), OUT_OF_BOUNDS, "read at the end")
    same(memory.read(size + 1, 0), OUT_OF_BOUNDS, "empty read past the end")
    same(memory.read(size - 1, 2), OUT_OF_BOUNDS, "read across the end")
    same(memory.write(size - 1, b"\x01\x02"), OUT_OF_BOUNDS, "write across the end")
    same(memory.write(size + 1, b""), OUT_OF_BOUNDS, "empty write past the end")
    same(memory.read_words(size - 8, 2), OUT_OF_BOUNDS, "read-words across the end")
    same(memory.write_words(size - 8, [1, 2]), OUT_OF_BOUNDS, "write-words across the end")
    same(memory.pages(), 2, "pages")
    same(sandbox.bytes("edges.bin"), before, "file after refused writes")
    same(before, image(2, [(size - 1, b"\x07")]), "file")


def test_out_of_bounds_for_overflowing_offsets_and_lengths(sandbox: Sandbox) -> None:
    """Offsets and lengths whose sum overflows a u64 are `out-of-bounds`, never a wrap-around."""
    memory = ok(ProviderSession(sandbox.root).open("overflow.bin"))
    ok(memory.grow(1))
    ok(memory.write(0, b"keep"))
    before = sandbox.bytes("overflow.bin")
    for offset, length in [(U64_MAX, 1), (1, U64_MAX), (U64_MAX, U64_MAX),
                           (PAGE, U64_MAX - PAGE + 1), (U64_MAX, 0)]:
        same(memory.read(offset, length), OUT_OF_BOUNDS, f"read({offset}, {length})")
    same(memory.write(U64_MAX - 1, b"abc"), OUT_OF_BOUNDS, "write near u64::MAX")
    same(memory.write(U64_MAX, b"a"), OUT_OF_BOUNDS, "write at u64::MAX")
    # `count * 8` overflows a u64 for these counts.
    for offset, count in [(0, 2**61), (0, 2**63), (8, U64_MAX), (U64_MAX - 7, 1)]:
        same(memory.read_words(offset, count), OUT_OF_BOUNDS, f"read-words({offset}, {count})")
    same(memory.write_words(U64_MAX - 7, [1]), OUT_OF_BOUNDS, "write-words near u64::MAX")
    same(memory.read(0, 4), b"keep", "contents")
    same(memory.pages(), 1, "pages")
    same(sandbox.bytes("overflow.bin"), before, "file")


def test_limit_exceeded_for_absurd_growths(sandbox: Sandbox) -> None:
    """Growths past u64 sizes or any filesystem's largest file are `limit-exceeded` and change
    nothing."""
    memory = ok(ProviderSession(sandbox.root).open("absurd.bin"))
    ok(memory.grow(1))
    for pages in [U64_MAX, U64_MAX // PAGE, U64_MAX // PAGE + 1, 1 << 47]:
        same(memory.grow(pages), LIMIT_EXCEEDED, f"grow({pages})")
    same(memory.pages(), 1, "pages")
    same(sandbox.bytes("absurd.bin"), image(1), "file")


def test_limit_exceeded_past_max_pages_in_and_out_of_groups(sandbox: Sandbox) -> None:
    """`open-with` `max-pages: 3` caps growth at three pages, inside a group as well."""
    memory = ok(ProviderSession(sandbox.root).open_with("capped.bin", open_options(max_pages=3)))
    same(memory.grow(2), 0, "grow(2)")
    same(memory.grow(2), LIMIT_EXCEEDED, "grow(2) past the cap")
    ok(memory.begin_group())
    same(memory.grow(2), LIMIT_EXCEEDED, "grow(2) past the cap in a group")
    same(memory.grow(1), 2, "grow(1) to the cap in a group")
    same(memory.grow(1), LIMIT_EXCEEDED, "grow(1) past the cap in a group")
    ok(memory.commit_group(False))
    same(memory.pages(), 3, "pages")
    same(sandbox.bytes("capped.bin"), image(3), "file")


def test_transfer_too_large_on_a_sparse_2_gib_memory(sandbox: Sandbox) -> None:
    """Reads longer than `max-transfer()` are `transfer-too-large(64 MiB)`; a 2 GiB growth stays
    sparse."""
    memory = ok(ProviderSession(sandbox.root).open("sparse.bin"))
    total = 2 << 30
    same(memory.grow(total // PAGE), 0, "grow 2 GiB")
    same(memory.size(), total, "size")
    same(sandbox.size("sparse.bin"), total, "file size")
    limit = memory.max_transfer()
    same(limit, MAX_TRANSFER, "max-transfer")
    too_large = Variant("transfer-too-large", limit)
    for length in [limit + 1, 1 << 30, total]:
        same(memory.read(0, length), too_large, f"read of {length} bytes")
    same(memory.read(total - limit - 1, limit + 1), too_large, "read past the limit up to the end")
    same(memory.read_words(8, limit // 8 + 1), too_large, "read-words past the limit")
    same(memory.read(total - 4, 4), b"\x00" * 4, "last bytes")
    same(memory.read_words(total // 2, 8), [0] * 8, "middle words")
    allocated = sandbox.allocated("sparse.bin")
    truth(allocated < (1 << 20), "the file stays sparse", f"{allocated} bytes allocated")


def test_misaligned_file_is_refused_and_left_untouched(sandbox: Sandbox) -> None:
    """A file of 65537 bytes is `misaligned-file(65537)`; its bytes stay as they were."""
    contents = bytes(i % 251 for i in range(PAGE + 1))
    sandbox.file("odd.bin").write_bytes(contents)
    session = ProviderSession(sandbox.root)
    same(session.open("odd.bin"), Variant("misaligned-file", PAGE + 1), "open")
    same(sandbox.bytes("odd.bin"), contents, "file")
    truth(not sandbox.exists("odd.bin-journal"), "no journal")


def test_invalid_path_for_a_journal_name(sandbox: Sandbox) -> None:
    """Paths ending in `-journal` are `invalid-path`, naming the path; nothing is created."""
    session = ProviderSession(sandbox.root)
    for path in ["db.bin-journal", "other-journal"]:
        mentions(refused(session.open(path), "invalid-path", path), path, "-journal")
        truth(not sandbox.exists(path), f"`{path}` was not created")
    same(sorted(p.name for p in sandbox.root.iterdir()), [], "directory")


def test_invalid_path_for_a_directory(sandbox: Sandbox) -> None:
    """A directory, or the preopened directory itself, is `invalid-path`, naming it."""
    sandbox.file("folder").mkdir()
    session = ProviderSession(sandbox.root)
    mentions(refused(session.open("folder"), "invalid-path", "folder"), "folder", "directory")
    mentions(refused(session.open("."), "invalid-path", "."), "`.`", "directory")
    truth(sandbox.file("folder").is_dir(), "the directory is still there")
    same(list(sandbox.file("folder").iterdir()), [], "the directory's contents")


def test_io_for_a_missing_parent_directory(sandbox: Sandbox) -> None:
    """A path whose directory does not exist is `io`, naming the path; nothing is created."""
    session = ProviderSession(sandbox.root)
    mentions(refused(session.open("missing/db.bin"), "io", "missing/db.bin"), "`missing/db.bin`")
    same(list(sandbox.root.iterdir()), [], "directory")


def test_io_for_a_read_only_directory_and_the_file_untouched(sandbox: Sandbox) -> None:
    """Under a read-only preopen, opening an existing or a new file is `io`, naming it; the files
    stay as they were."""
    contents = image(1, [(0, b"read only")])
    sandbox.file("ro.bin").write_bytes(contents)
    session = ProviderSession(sandbox.root, writable=False)
    mentions(refused(session.open("ro.bin"), "io", "existing file"), "`ro.bin`")
    mentions(refused(session.open("new.bin"), "io", "new file"), "`new.bin`")
    same(sandbox.bytes("ro.bin"), contents, "existing file")
    same(sorted(p.name for p in sandbox.root.iterdir()), ["ro.bin"], "directory")


def test_locked_for_a_second_open_in_one_instance(sandbox: Sandbox) -> None:
    """A held path is `locked` (naming the path as given) until its memory is dropped."""
    session = ProviderSession(sandbox.root)
    first = ok(session.open("held.bin"))
    ok(first.grow(1))
    for path in ["held.bin", "./held.bin"]:
        mentions(refused(session.open(path), "locked", path), f"`{path}`")
    other = ok(session.open("other.bin"))
    first.drop()
    again = ok(session.open("held.bin"))
    same(again.pages(), 1, "pages after reopening")
    again.drop()
    other.drop()
    same(sandbox.bytes("held.bin"), image(1), "file")


def test_a_durable_group_reaches_the_file_only_at_commit(sandbox: Sandbox) -> None:
    """Group writes and growth are visible at once, reach the file at `commit-group(true)`, and
    stay after drop."""
    memory = ok(ProviderSession(sandbox.root).open("group.bin"))
    ok(memory.grow(1))
    ok(memory.begin_group())
    same(memory.grow(2), 1, "grow in the group")
    ok(memory.write(PAGE - 2, b"span"))
    ok(memory.write(2 * PAGE, b"new"))
    same(memory.pages(), 3, "pages in the group")
    same(memory.read(PAGE - 2, 4), b"span", "read in the group")
    same(memory.read(2 * PAGE - 1, 5), b"\x00new\x00", "read of grown pages in the group")
    same(sandbox.bytes("group.bin"), image(1), "file before commit")
    truth(not sandbox.exists("group.bin-journal"), "no journal before the first commit")
    ok(memory.commit_group(True))
    expected = image(3, [(PAGE - 2, b"span"), (2 * PAGE, b"new")])
    same(sandbox.bytes("group.bin"), expected, "file after commit")
    truth(sandbox.exists("group.bin-journal"), "the commit went through the journal")
    memory.drop()
    truth(not sandbox.exists("group.bin-journal"), "drop removes the journal")
    same(sandbox.bytes("group.bin"), expected, "file after drop")


def test_a_group_committed_without_durable_reaches_the_file(sandbox: Sandbox) -> None:
    """`commit-group(false)` applies the group to the file as well."""
    memory = ok(ProviderSession(sandbox.root).open("quick.bin"))
    ok(memory.begin_group())
    ok(memory.grow(1))
    ok(memory.write(10, b"quick"))
    same(sandbox.bytes("quick.bin"), b"", "file before commit")
    ok(memory.commit_group(False))
    same(sandbox.bytes("quick.bin"), image(1, [(10, b"quick")]), "file after commit")


def test_abort_group_discards_its_writes_and_growth(sandbox: Sandbox) -> None:
    """After `abort-group` the memory and the file are as before `begin-group`."""
    memory = ok(ProviderSession(sandbox.root).open("abort.bin"))
    ok(memory.grow(1))
    ok(memory.write(0, b"keep"))
    ok(memory.begin_group())
    ok(memory.grow(2))
    ok(memory.write(0, b"lost"))
    ok(memory.write(PAGE + 5, b"gone"))
    same(memory.read(0, 4), b"lost", "read in the group")
    ok(memory.abort_group())
    same(memory.pages(), 1, "pages after abort")
    same(memory.read(0, 4), b"keep", "read after abort")
    same(memory.read(PAGE, 1), OUT_OF_BOUNDS, "the grown page is gone")
    same(sandbox.bytes("abort.bin"), image(1, [(0, b"keep")]), "file")
    truth(not sandbox.exists("abort.bin-journal"), "no journal")


def test_group_already_open_and_no_open_group(sandbox: Sandbox) -> None:
    """One group at a time; commit and abort need an open group; an empty group writes nothing."""
    memory = ok(ProviderSession(sandbox.root).open("misuse.bin"))
    same(memory.commit_group(False), NO_OPEN_GROUP, "commit without a group")
    same(memory.commit_group(True), NO_OPEN_GROUP, "durable commit without a group")
    same(memory.abort_group(), NO_OPEN_GROUP, "abort without a group")
    ok(memory.begin_group())
    same(memory.begin_group(), GROUP_ALREADY_OPEN, "a second begin")
    ok(memory.commit_group(True))
    same(memory.commit_group(True), NO_OPEN_GROUP, "a second commit")
    same(memory.abort_group(), NO_OPEN_GROUP, "abort after commit")
    ok(memory.begin_group())
    ok(memory.abort_group())
    same(memory.abort_group(), NO_OPEN_GROUP, "a second abort")
    same(sandbox.bytes("misuse.bin"), b"", "file")
    truth(not sandbox.exists("misuse.bin-journal"), "an empty group writes no journal")


def test_group_too_large_past_max_group_bytes(sandbox: Sandbox) -> None:
    """With `max-group-bytes: 228`, room for 100 bytes in one run (plus 64 for the run and 64
    for its segment), a write taking the group past that is `group-too-large(228)`; the group
    keeps what it had."""
    session = ProviderSession(sandbox.root)
    memory = ok(session.open_with("limit.bin", open_options(max_group_bytes=228)))
    ok(memory.grow(1))
    too_large = Variant("group-too-large", 228)
    ok(memory.begin_group())
    ok(memory.write(0, b"\x01" * 60))
    same(memory.write(200, b"\x02" * 60), too_large, "a second range past the limit")
    same(memory.write(0, b"\x00" * 101), too_large, "one write past the limit")
    ok(memory.write(0, b"\x03" * 60))
    ok(memory.write(60, b"\x04" * 40))
    same(memory.write(500, b"\x05"), too_large, "one byte more")
    same(memory.begin_group(), GROUP_ALREADY_OPEN, "the group is still open")
    same(memory.read(200, 60), b"\x00" * 60, "the refused range")
    ok(memory.commit_group(True))
    expected = image(1, [(0, b"\x03" * 60), (60, b"\x04" * 40)])
    same(sandbox.bytes("limit.bin"), expected, "file")
    ok(memory.write(200, b"\x06" * 200))
    same(sandbox.bytes("limit.bin"), image(1, [(0, expected[:100]), (200, b"\x06" * 200)]),
         "a write outside a group has no group limit")


def test_invalid_options_are_refused_before_anything_is_created(sandbox: Sandbox) -> None:
    """`max-group-bytes` outside 1..=1 GiB is `invalid-options`, naming the option; no file
    appears."""
    session = ProviderSession(sandbox.root)
    for bad in [0, (1 << 30) + 1]:
        outcome = session.open_with("opts.bin", open_options(max_group_bytes=bad))
        mentions(refused(outcome, "invalid-options", f"max-group-bytes {bad}"), "max-group-bytes")
    truth(not sandbox.exists("opts.bin"), "no file was created")


def test_read_words_and_write_words_match_read_and_write(sandbox: Sandbox) -> None:
    """Words are the same bytes as `read` and `write`, little-endian, at any offset."""
    memory = ok(ProviderSession(sandbox.root).open("words.bin"))
    ok(memory.grow(2))
    pattern = bytes((i * 37 + 11) % 256 for i in range(64))
    ok(memory.write(PAGE - 32, pattern))
    same(memory.read_words(PAGE - 32, 8), bytes_to_words(pattern), "read-words of written bytes")
    words = [0x0102030405060708, U64_MAX, 0, 0x8000000000000001]
    ok(memory.write_words(3, words))
    same(memory.read(3, 32), words_to_bytes(words), "read of written words")
    same(memory.read_words(3, 4), words, "read-words at an unaligned offset")
    same(memory.read(3, 8), b"\x08\x07\x06\x05\x04\x03\x02\x01", "little-endian order")
    same(memory.read_words(2 * PAGE, 0), [], "no words at the end")
    ok(memory.write_words(2 * PAGE, []))
    expected = image(2, [(PAGE - 32, pattern), (3, words_to_bytes(words))])
    same(sandbox.bytes("words.bin"), expected, "file")


def test_sync_keeps_writes_in_the_file_and_leaves_an_open_group_out(sandbox: Sandbox) -> None:
    """`sync` succeeds with and without a group open; the file holds the writes outside the group
    only."""
    memory = ok(ProviderSession(sandbox.root).open("sync.bin"))
    ok(memory.grow(1))
    ok(memory.write(0, b"outside"))
    ok(memory.sync())
    same(sandbox.bytes("sync.bin"), image(1, [(0, b"outside")]), "file after sync")
    ok(memory.begin_group())
    ok(memory.write(100, b"inside"))
    ok(memory.sync())
    same(sandbox.bytes("sync.bin"), image(1, [(0, b"outside")]), "file with a group open")
    ok(memory.commit_group(False))
    ok(memory.sync())
    same(sandbox.bytes("sync.bin"), image(1, [(0, b"outside"), (100, b"inside")]), "file")


def test_checkpoint_leaves_the_whole_memory_in_the_file(sandbox: Sandbox) -> None:
    """After `checkpoint`, an instance that stops without dropping its memory leaves nothing to
    recover."""
    session = ProviderSession(sandbox.root)
    memory = ok(session.open("check.bin"))
    ok(memory.begin_group())
    ok(memory.grow(1))
    ok(memory.write(50, b"committed"))
    ok(memory.commit_group(False))
    ok(memory.checkpoint())
    expected = image(1, [(50, b"committed")])
    same(sandbox.bytes("check.bin"), expected, "file after checkpoint")
    session.abandon()
    reopened = ok(ProviderSession(sandbox.root).open("check.bin"))
    same(reopened.recovery(), recovery_record(0, 0), "recovery after checkpoint")
    same(reopened.read(50, 9), b"committed", "contents")
    same(sandbox.bytes("check.bin"), expected, "file after reopening")


def test_a_committed_group_left_in_the_journal_is_completed_at_open(sandbox: Sandbox) -> None:
    """An instance that stops without dropping its memory leaves its journal; the next open
    completes it."""
    session = ProviderSession(sandbox.root)
    memory = ok(session.open("left.bin"))
    ok(memory.begin_group())
    ok(memory.grow(2))
    ok(memory.write(PAGE - 3, b"journaled"))
    ok(memory.commit_group(False))
    session.abandon()
    truth(sandbox.exists("left.bin-journal"), "the journal is left behind")
    journal_bytes = sandbox.size("left.bin-journal")
    reopened = ok(ProviderSession(sandbox.root).open("left.bin"))
    same(reopened.recovery(), recovery_record(1, journal_bytes), "recovery")
    same(reopened.pages(), 2, "pages")
    same(reopened.read(PAGE - 3, 9), b"journaled", "contents")
    reopened.drop()
    truth(not sandbox.exists("left.bin-journal"), "drop removes the journal")
    same(sandbox.bytes("left.bin"), image(2, [(PAGE - 3, b"journaled")]), "file")


def test_contents_persist_across_a_new_store_and_instance(sandbox: Sandbox) -> None:
    """A dropped memory's file reopens in a new store with the same pages and bytes, nothing
    recovered."""
    first = ok(ProviderSession(sandbox.root).open("keep.bin"))
    ok(first.grow(3))
    ok(first.write(2 * PAGE + 100, b"persisted"))
    ok(first.begin_group())
    ok(first.write(7, b"grouped"))
    ok(first.commit_group(True))
    first.drop()
    expected = image(3, [(2 * PAGE + 100, b"persisted"), (7, b"grouped")])
    same(sandbox.bytes("keep.bin"), expected, "file after drop")
    truth(not sandbox.exists("keep.bin-journal"), "no journal after drop")
    second = ok(ProviderSession(sandbox.root).open("keep.bin"))
    same(second.recovery(), recovery_record(0, 0), "recovery")
    same(second.pages(), 3, "pages")
    same(second.read(2 * PAGE + 100, 9), b"persisted", "bytes written outside a group")
    same(second.read(7, 7), b"grouped", "bytes written in a group")
    second.drop()
    same(sandbox.bytes("keep.bin"), expected, "file after the second drop")


def test_two_memories_on_two_files_are_independent(sandbox: Sandbox) -> None:
    """Two memories in one instance keep their own pages, bytes and groups."""
    session = ProviderSession(sandbox.root)
    first = ok(session.open("a.bin"))
    second = ok(session.open("b.bin"))
    ok(first.grow(1))
    ok(second.grow(2))
    ok(first.begin_group())
    ok(first.write(0, b"first"))
    ok(second.write(0, b"second"))
    ok(second.begin_group())
    ok(first.commit_group(True))
    ok(second.abort_group())
    same(first.read(0, 5), b"first", "first memory")
    same(second.read(0, 6), b"second", "second memory")
    first.drop()
    same(second.pages(), 2, "second memory's pages after the first is dropped")
    same(sandbox.bytes("a.bin"), image(1, [(0, b"first")]), "first file")
    same(sandbox.bytes("b.bin"), image(2, [(0, b"second")]), "second file")
