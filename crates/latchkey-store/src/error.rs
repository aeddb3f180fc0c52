//! Storage errors. Backends translate their driver's errors into these; no driver type
//! crosses this boundary.

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique or foreign-key constraint refused the write. `constraint` names it as the
    /// canonical `table.column` of the distinguishing column (`users.user_name`, ...), or
    /// `foreign_key`, so services can say which field.
    #[error("conflict on `{constraint}`")]
    Conflict { constraint: String },
    /// The database could not be reached or timed out.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Migrations are missing or failed.
    #[error("database schema: {0}")]
    Schema(String),
    /// A stored value could not be read back (corrupt or from a newer version).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error: {0}")]
    Backend(String),
}
