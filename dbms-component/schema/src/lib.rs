//! The tables of the wasm-dbms component: authors and the books they wrote. Shared by the
//! component and by the host tests that write the same database natively.

use wasm_dbms_api::prelude::*;

/// A person who writes books. The name is trimmed and at most 64 characters; the email
/// must be a valid address.
#[derive(Debug, Table, Clone, PartialEq, Eq)]
#[table = "authors"]
pub struct Author {
    #[primary_key]
    pub id: Uint32,
    #[sanitizer(TrimSanitizer)]
    #[validate(MaxStrlenValidator(64))]
    pub name: Text,
    #[validate(EmailValidator)]
    pub email: Text,
}

/// A book; `author_id` must name an existing author.
#[derive(Debug, Table, Clone, PartialEq, Eq)]
#[table = "books"]
pub struct Book {
    #[primary_key]
    pub id: Uint32,
    pub title: Text,
    pub year: Int32,
    #[foreign_key(entity = "Author", table = "authors", column = "id")]
    pub author_id: Uint32,
}

/// The database: both tables.
#[derive(DatabaseSchema)]
#[tables(Author = "authors", Book = "books")]
pub struct Library;
