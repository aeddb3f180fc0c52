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

/// Bulk statements use anonymous `?` parameters: sqlx asks SQLite for every parameter's
/// name, which SQLite finds by a linear scan, so thousands of `$N` cost quadratic time.
/// A statement must not mix `?` with `$N` (sqlx would number the `?` from 1 again).
pub(crate) const NUMBERED_PARAMS: bool = false;

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// `IN (?, ?, ...)` for `n` values bound by [`bind_uuids`] or [`bind_texts`]; SQLite
/// looks each one up in the index.
pub(crate) fn any_of(_first: usize, n: usize) -> String {
    format!("IN ({})", vec!["?"; n].join(", "))
}

/// Like [`any_of`], each value lowercased by `lower()`.
pub(crate) fn any_of_lower(_first: usize, n: usize) -> String {
    format!("IN ({})", vec!["lower(?)"; n].join(", "))
}

pub(crate) fn bind_uuids(mut q: Query<'_>, ids: Vec<uuid::Uuid>) -> Query<'_> {
    for id in ids {
        q = q.bind(id);
    }
    q
}

pub(crate) fn bind_texts(mut q: Query<'_>, values: Vec<String>) -> Query<'_> {
    for v in values {
        q = q.bind(v);
    }
    q
}

/// SQLite plans each statement from its indexes as it runs; nothing to refresh.
pub(crate) const ANALYZE: Option<&str> = None;

/// How a column is compared with a `contains` pattern ignoring case. SQLite's `LIKE`
/// already folds ASCII case, and its `lower()` folds nothing else, so `lower(a) LIKE
/// lower(p)` matches exactly what `a LIKE p` does while calling `lower()` on every row a
/// search scans: the plain form answers the same, faster.
pub(crate) fn like_ignoring_case(col: &str) -> (String, &'static str) {
    (format!("{col} LIKE "), "")
}

/// Two statements sent as one command (numbered parameters run across both): SQLite runs
/// them in turn.
pub(crate) fn both(first: &str, second: &str) -> String {
    format!("{first}; {second}")
}
