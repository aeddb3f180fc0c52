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
