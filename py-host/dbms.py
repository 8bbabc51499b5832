"""The composed wasm-dbms component (`artifacts/composed.wasm`: wasm-dbms over the memory
provider) driven through wasmtime-py: a library of authors and books in a file, refused rows
as typed errors, and the rows found again by a new store and instance."""

from checks import Sandbox, mentions, ok, refused, same, truth
from database import DatabaseSession, condition, int_, query, text, uint

AUTHOR = {"id": uint(1), "name": text("Ursula K. Le Guin"), "email": text("ursula@example.org")}
EARTHSEA = {"id": uint(1), "title": text("A Wizard of Earthsea"), "year": int_(1968),
            "author_id": uint(1)}
LEFT_HAND = {"id": uint(2), "title": text("The Left Hand of Darkness"), "year": int_(1969),
             "author_id": uint(1)}
BY_ID = query(order_by=[("id", False)])


def open_library(sandbox: Sandbox):
    """A new session over the sandbox, and `library.db` opened in it with one author and two
    books inserted."""
    session = DatabaseSession(sandbox.root)
    db = ok(session.open("library.db"), "db.open")
    ok(db.insert("authors", AUTHOR), "insert the author")
    ok(db.insert("books", EARTHSEA), "insert the first book")
    ok(db.insert("books", LEFT_HAND), "insert the second book")
    return session, db


def test_open_creates_the_database_file(sandbox: Sandbox) -> None:
    """`db.open` creates the file, whole 64 KiB pages, and dropping the database removes the
    journal."""
    db = ok(DatabaseSession(sandbox.root).open("library.db"), "db.open")
    same(db.select("authors", BY_ID), [], "authors of a new database")
    size = sandbox.size("library.db")
    truth(size > 0 and size % 65536 == 0, "the file is whole pages", f"{size} bytes")
    db.drop()
    truth(not sandbox.exists("library.db-journal"), "drop removes the journal")


def test_rows_are_selected_back_with_a_filter_an_order_and_a_page(sandbox: Sandbox) -> None:
    """Inserted rows come back whole; filters, ordering, `limit` and `offset` pick among them."""
    _, db = open_library(sandbox)
    same(db.select("authors", BY_ID), [AUTHOR], "authors")
    same(db.select("books", BY_ID), [EARTHSEA, LEFT_HAND], "books by id")
    same(db.select("books", query([condition("year", "ge", int_(1969))])), [LEFT_HAND],
         "books from 1969 on")
    same(db.select("books", query([condition("author_id", "eq", uint(1))],
                                  order_by=[("year", True)])),
         [LEFT_HAND, EARTHSEA], "the author's books, newest first")
    same(db.select("books", query([condition("title", "like", text("%Earthsea%"))])),
         [EARTHSEA], "books whose title is like %Earthsea%")
    same(db.select("books", query(order_by=[("id", True)], limit=1, offset=1)), [EARTHSEA],
         "the second page of one book, by id descending")


def test_a_book_of_a_missing_author_is_a_constraint_error(sandbox: Sandbox) -> None:
    """A book whose `author_id` names no author is refused with `constraint`, and not stored."""
    _, db = open_library(sandbox)
    orphan = {"id": uint(3), "title": text("Nobody's Book"), "year": int_(2000),
              "author_id": uint(9)}
    mentions(refused(db.insert("books", orphan), "constraint", "orphan book"), "authors")
    same(db.select("books", BY_ID), [EARTHSEA, LEFT_HAND], "books after the refusal")


def test_other_refusals_are_typed(sandbox: Sandbox) -> None:
    """A duplicate key is `constraint`, an unknown table `unknown-table`, a mistyped value
    `bad-row`, a bad email `validation`."""
    _, db = open_library(sandbox)
    mentions(refused(db.insert("books", {**EARTHSEA, "title": text("Again")}), "constraint",
                     "duplicate id"), "primary key")
    mentions(refused(db.insert("publishers", {"id": uint(1)}), "unknown-table", "publishers"),
             "publishers")
    mentions(refused(db.insert("books", {**EARTHSEA, "id": uint(4), "year": text("1968")}),
                     "bad-row", "text year"), "year")
    refused(db.insert("authors", {**AUTHOR, "id": uint(2), "email": text("no address")}),
            "validation", "bad email")
    same(db.select("books", BY_ID), [EARTHSEA, LEFT_HAND], "books after the refusals")
    same(db.select("authors", BY_ID), [AUTHOR], "authors after the refusals")


def test_update_and_delete_refuse_to_orphan_books(sandbox: Sandbox) -> None:
    """`update` returns the rows changed; deleting a referenced author is `constraint`; deleting
    books works."""
    _, db = open_library(sandbox)
    same(db.update("books", {"year": int_(1970)}, [condition("id", "eq", uint(2))]), 1,
         "books updated")
    same(db.select("books", query([condition("id", "eq", uint(2))])),
         [{**LEFT_HAND, "year": int_(1970)}], "the updated book")
    refused(db.delete("authors", []), "constraint", "delete a referenced author")
    same(db.delete("books", [condition("year", "lt", int_(1970))]), 1, "books deleted")
    same(db.select("books", BY_ID), [{**LEFT_HAND, "year": int_(1970)}], "books left")


def test_rows_persist_across_a_new_store_and_instance(sandbox: Sandbox) -> None:
    """A new store and instance reopening `library.db` finds the rows and still enforces the
    foreign key."""
    _, db = open_library(sandbox)
    db.drop()
    truth(not sandbox.exists("library.db-journal"), "drop removes the journal")
    reopened = ok(DatabaseSession(sandbox.root).open("library.db"), "db.open again")
    same(reopened.select("authors", BY_ID), [AUTHOR], "authors after reopening")
    same(reopened.select("books", BY_ID), [EARTHSEA, LEFT_HAND], "books after reopening")
    orphan = {**EARTHSEA, "id": uint(3), "author_id": uint(2)}
    refused(reopened.insert("books", orphan), "constraint", "orphan book after reopening")


def test_rows_survive_an_instance_that_stops_without_closing(sandbox: Sandbox) -> None:
    """Every insert commits durably, so an instance ended without dropping the database loses no
    row."""
    session, _ = open_library(sandbox)
    session.abandon()
    reopened = ok(DatabaseSession(sandbox.root).open("library.db"), "db.open again")
    same(reopened.select("books", BY_ID), [EARTHSEA, LEFT_HAND], "books after the stop")
