//! Translation of driver errors into `StoreError`, shared by both backends. Unique
//! violations become `Conflict` with a canonical `table.column` name: PostgreSQL reports
//! the index name (both schemas name their unique indexes alike), SQLite reports the
//! columns (`users.org_id, users.user_name`) or, for an expression index, `index 'name'`.
//! Messages never carry connection strings or bound values.

use latchkey_store::StoreError;

use crate::backend;

/// Unique indexes and the column each one distinguishes.
const UNIQUE_INDEXES: &[(&str, &str)] = &[
    ("organisations_slug_key", "organisations.slug"),
    ("users_user_name_key", "users.user_name"),
    ("users_email_key", "users.email"),
    ("groups_name_key", "groups.name"),
    ("systems_name_key", "systems.name"),
    ("roles_name_key", "roles.name"),
    ("domains_name_key", "domains.name"),
    (
        "attribute_definitions_name_key",
        "attribute_definitions.name",
    ),
    ("user_types_code_key", "user_types.code"),
    ("mail_domains_code_key", "mail_domains.code"),
    (
        "role_inheritance_child_role_id_key",
        "role_inheritance.child_role_id",
    ),
    ("api_tokens_token_hash_key", "api_tokens.token_hash"),
    ("totp_devices_name_key", "totp_devices.name"),
    ("workspace_teams_name_key", "workspace_teams.name"),
    ("sod_rules_name_key", "sod_rules.name"),
    ("documents_external_key", "documents.external_id"),
    ("audit_seq_key", "audit.seq"),
    ("assignment_rules_name_key", "assignment_rules.name"),
    (
        "approval_requests_pending_key",
        "approval_requests.grant_id",
    ),
];

/// The `constraint` of a `Conflict` raised by a foreign key.
pub(crate) const FOREIGN_KEY: &str = "foreign_key";

pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::Database(db) => {
            let kind = db.kind();
            if kind == sqlx::error::ErrorKind::UniqueViolation {
                let raw = db
                    .constraint()
                    .map_or_else(|| from_message(db.message()), str::to_owned);
                return StoreError::Conflict {
                    constraint: canonical(&raw),
                };
            }
            if kind == sqlx::error::ErrorKind::ForeignKeyViolation {
                return StoreError::Conflict {
                    constraint: FOREIGN_KEY.to_owned(),
                };
            }
            if db
                .code()
                .is_some_and(|code| backend::is_unavailable_code(&code))
            {
                return StoreError::Unavailable(db.message().to_owned());
            }
            StoreError::Backend(db.message().to_owned())
        }
        sqlx::Error::Io(e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Tls(_) => StoreError::Unavailable("tls handshake failed".to_owned()),
        sqlx::Error::PoolTimedOut => {
            StoreError::Unavailable("timed out waiting for a database connection".to_owned())
        }
        sqlx::Error::PoolClosed => {
            StoreError::Unavailable("the connection pool is closed".to_owned())
        }
        sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable("the database worker thread stopped".to_owned())
        }
        // The configuration error may quote the connection URL, password included.
        sqlx::Error::Configuration(_) => {
            StoreError::Backend("invalid database configuration".to_owned())
        }
        sqlx::Error::ColumnDecode { index, source } => {
            StoreError::Corrupt(format!("column {index}: {source}"))
        }
        sqlx::Error::Decode(source) => StoreError::Corrupt(source.to_string()),
        other => StoreError::Backend(other.to_string()),
    }
}

/// SQLite: `UNIQUE constraint failed: users.org_id, users.user_name` (the last column is
/// the distinguishing one, `org_id` always comes first) or
/// `UNIQUE constraint failed: index 'users_email_key'`.
fn from_message(message: &str) -> String {
    let detail = message.rsplit_once(": ").map_or(message, |(_, d)| d).trim();
    if let Some(index) = detail
        .strip_prefix("index '")
        .and_then(|d| d.strip_suffix('\''))
    {
        return index.to_owned();
    }
    detail
        .rsplit(", ")
        .next()
        .unwrap_or(detail)
        .trim()
        .to_owned()
}

/// Index names become `table.column`; primary keys and the `(org_id, id)` keys become
/// `table.id`; a `table.column` from SQLite is already canonical.
fn canonical(raw: &str) -> String {
    if let Some((_, column)) = UNIQUE_INDEXES.iter().find(|(index, _)| *index == raw) {
        return (*column).to_owned();
    }
    if let Some(table) = raw
        .strip_suffix("_pkey")
        .or_else(|| raw.strip_suffix("_org_key"))
    {
        return format!("{table}.id");
    }
    raw.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_messages_name_the_distinguishing_column() {
        let raw = from_message("UNIQUE constraint failed: users.org_id, users.user_name");
        assert_eq!(canonical(&raw), "users.user_name");
        let raw = from_message("UNIQUE constraint failed: index 'users_email_key'");
        assert_eq!(canonical(&raw), "users.email");
        let raw = from_message("UNIQUE constraint failed: organisations.id");
        assert_eq!(canonical(&raw), "organisations.id");
    }

    #[test]
    fn postgres_index_names_map_to_columns() {
        assert_eq!(
            canonical("role_inheritance_child_role_id_key"),
            "role_inheritance.child_role_id"
        );
        assert_eq!(canonical("users_pkey"), "users.id");
        assert_eq!(canonical("groups_org_key"), "groups.id");
    }
}
