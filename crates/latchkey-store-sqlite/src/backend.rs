//! What the shared SQL (`latchkey-store/sql`) needs to know about SQLite: the database
//! type, and which result codes mean the database is unavailable rather than the statement
//! wrong.

pub(crate) type Db = sqlx::Sqlite;

/// `code` is SQLite's extended result code in decimal; the primary code is its low byte.
/// BUSY (5, the lock was not granted within `busy_timeout`), LOCKED (6), IOERR (10),
/// FULL (13) and CANTOPEN (14) are conditions of the database file, not of the statement.
pub(crate) fn is_unavailable_code(code: &str) -> bool {
    code.parse::<i32>()
        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 10 | 13 | 14))
}
