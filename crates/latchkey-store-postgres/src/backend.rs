//! What the shared SQL (`latchkey-store/sql`) needs to know about PostgreSQL: the database
//! type, and which SQLSTATEs mean the server is unavailable rather than the statement wrong.

pub(crate) type Db = sqlx::Postgres;

/// Class 08 (connection exception), class 53 (insufficient resources: too many
/// connections, disk full, out of memory), 57014 (statement timeout or cancel) and 57P0x
/// (the server is shutting down or starting up).
pub(crate) fn is_unavailable_code(code: &str) -> bool {
    code.starts_with("08") || code.starts_with("53") || code == "57014" || code.starts_with("57P0")
}

/// PostgreSQL has only numbered parameters (`$1`, `$2`, ...).
pub(crate) const NUMBERED_PARAMS: bool = true;

type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// `= ANY($first)` over one array parameter bound by [`bind_uuids`] or [`bind_texts`]. A
/// list of hundreds of `IN ($2, $3, ...)` values is compared one by one on every row when
/// the planner, misled by a table grown since it was analysed, scans the table; an array
/// keeps the index lookup and one statement for any length.
pub(crate) fn any_of(first: usize, _n: usize) -> String {
    format!("= ANY(${first})")
}

/// Like [`any_of`], each value lowercased by `lower()`.
pub(crate) fn any_of_lower(first: usize, _n: usize) -> String {
    format!("IN (SELECT lower(v) FROM unnest(${first}::text[]) AS t(v))")
}

pub(crate) fn bind_uuids(q: Query<'_>, ids: Vec<uuid::Uuid>) -> Query<'_> {
    q.bind(ids)
}

pub(crate) fn bind_texts(q: Query<'_>, values: Vec<String>) -> Query<'_> {
    q.bind(values)
}

/// The tables a bulk load grows, whose statistics (and the cached plans made from them,
/// foreign-key checks included) go stale as they do.
pub(crate) const ANALYZE: Option<&str> =
    Some("ANALYZE users, groups, memberships, systems, roles, role_inheritance, grants");

/// How a column is compared with a `contains` pattern ignoring case: PostgreSQL's `LIKE`
/// is case-sensitive, so both sides are lowercased.
pub(crate) fn like_ignoring_case(col: &str) -> (String, &'static str) {
    (format!("lower({col}) LIKE lower("), ")")
}

/// Two statements sent as one command (numbered parameters run across both): PostgreSQL
/// prepares one statement only, so the first becomes a data-modifying `WITH`.
pub(crate) fn both(first: &str, second: &str) -> String {
    format!("WITH first AS ({first}) {second}")
}
