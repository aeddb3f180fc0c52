//! Conversions at the storage boundary: instants to and from BIGINT microseconds since the
//! Unix epoch (UTC), JSON values to and from TEXT, enums to and from their snake_case
//! names, and typed column reads that turn a bad stored value into `StoreError::Corrupt`.

use latchkey_store::{StoreError, StoreResult};
use sqlx::Row;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::backend::Db;

pub(crate) type DbRow = <Db as sqlx::Database>::Row;

/// Microseconds since the Unix epoch. Sub-microsecond digits are dropped (rounding toward
/// the past, so an instant never moves later); the store keeps microseconds only.
pub(crate) fn micros(t: OffsetDateTime) -> i64 {
    let us = t.unix_timestamp_nanos().div_euclid(1000);
    // Out of range only with time's `large-dates` feature; saturate rather than fail.
    i64::try_from(us).unwrap_or(if us < 0 { i64::MIN } else { i64::MAX })
}

pub(crate) fn opt_micros(t: Option<OffsetDateTime>) -> Option<i64> {
    t.map(micros)
}

/// `t` as the store will give it back: UTC, whole microseconds.
pub(crate) fn truncate(t: OffsetDateTime) -> StoreResult<OffsetDateTime> {
    instant(micros(t), "instant")
}

fn instant(us: i64, col: &str) -> StoreResult<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(us) * 1000)
        .map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
}

pub(crate) fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Backend(format!("json encoding: {e}")))
}

pub(crate) fn opt_json(value: Option<&serde_json::Value>) -> StoreResult<Option<String>> {
    value.map(to_json).transpose()
}

/// Typed reads of one row, with the column named in every error.
pub(crate) struct Cols<'r>(pub(crate) &'r DbRow);

impl<'r> Cols<'r> {
    pub(crate) fn get<T>(&self, col: &str) -> StoreResult<T>
    where
        T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
    {
        self.0
            .try_get(col)
            .map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
    }

    pub(crate) fn uuid(&self, col: &str) -> StoreResult<Uuid> {
        self.get(col)
    }

    pub(crate) fn opt_uuid(&self, col: &str) -> StoreResult<Option<Uuid>> {
        self.get(col)
    }

    pub(crate) fn text(&self, col: &str) -> StoreResult<String> {
        self.get(col)
    }

    pub(crate) fn opt_text(&self, col: &str) -> StoreResult<Option<String>> {
        self.get(col)
    }

    pub(crate) fn int(&self, col: &str) -> StoreResult<i64> {
        self.get(col)
    }

    pub(crate) fn flag(&self, col: &str) -> StoreResult<bool> {
        self.get(col)
    }

    pub(crate) fn instant(&self, col: &str) -> StoreResult<OffsetDateTime> {
        instant(self.int(col)?, col)
    }

    pub(crate) fn opt_instant(&self, col: &str) -> StoreResult<Option<OffsetDateTime>> {
        self.get::<Option<i64>>(col)?
            .map(|us| instant(us, col))
            .transpose()
    }

    pub(crate) fn json<T: serde::de::DeserializeOwned>(&self, col: &str) -> StoreResult<T> {
        let text = self.text(col)?;
        serde_json::from_str(&text).map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
    }

    pub(crate) fn opt_json<T: serde::de::DeserializeOwned>(
        &self,
        col: &str,
    ) -> StoreResult<Option<T>> {
        self.opt_text(col)?
            .map(|text| {
                serde_json::from_str(&text)
                    .map_err(|e| StoreError::Corrupt(format!("column `{col}`: {e}")))
            })
            .transpose()
    }

    /// An enum stored by name, parsed with the model's own `parse`.
    pub(crate) fn named<T>(
        &self,
        col: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> StoreResult<T> {
        let text = self.text(col)?;
        parse(&text)
            .ok_or_else(|| StoreError::Corrupt(format!("column `{col}`: unknown value `{text}`")))
    }

    /// The creation and update stamps every editable aggregate carries.
    pub(crate) fn stamps(&self) -> StoreResult<latchkey_model::Stamps> {
        Ok(latchkey_model::Stamps {
            created_at: self.instant("created_at")?,
            created_by: self
                .opt_uuid("created_by")?
                .map(latchkey_model::UserId::from_uuid),
            updated_at: self.instant("updated_at")?,
            updated_by: self
                .opt_uuid("updated_by")?
                .map(latchkey_model::UserId::from_uuid),
            version: self.int("version")?,
        })
    }
}

/// A statement with its arguments, as `sqlx::query` builds it.
pub(crate) type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

/// Appends the stamp values to a query, in `stamp_cols!()` order.
pub(crate) fn bind_stamps<'q>(q: Query<'q>, s: &latchkey_model::Stamps) -> Query<'q> {
    q.bind(micros(s.created_at))
        .bind(s.created_by.map(|u| u.as_uuid()))
        .bind(micros(s.updated_at))
        .bind(s.updated_by.map(|u| u.as_uuid()))
        .bind(s.version)
}

/// A `LIKE` pattern matching `needle` anywhere, with `%`, `_` and the escape character
/// itself escaped (statements compare it as `backend::like_ignoring_case` says, with
/// `ESCAPE '\'`; folding case in SQL keeps the needle and the column folded alike, which
/// matters on SQLite, which folds ASCII only).
pub(crate) fn contains_pattern(needle: &str) -> String {
    let mut out = String::with_capacity(needle.len() + 2);
    out.push('%');
    for c in needle.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Rows per multi-row statement of a bulk write: keeps the widest (users, 21 columns) under
/// SQLite's 32,766 and PostgreSQL's 65,535 bound parameters.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// `head` followed by `rows` groups of `cols` numbered placeholders, `($1, $2), ($3, $4)`.
pub(crate) fn values_sql(head: &str, cols: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * cols * 6);
    sql.push_str(head);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        sql.push_str(&placeholders(r * cols + 1, cols));
        sql.push(')');
    }
    sql
}

/// `n` placeholders from the `first`-th, comma-separated.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(param).collect::<Vec<_>>().join(", ")
}

/// The `i`-th parameter of a bulk statement: `$i` on PostgreSQL, `?` on SQLite (see
/// `backend::NUMBERED_PARAMS`); such a statement uses this form throughout.
pub(crate) fn param(i: usize) -> String {
    if crate::backend::NUMBERED_PARAMS {
        format!("${i}")
    } else {
        "?".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn micros_round_toward_the_past() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(-1_500).unwrap();
        assert_eq!(micros(t), -2);
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_999).unwrap();
        assert_eq!(micros(t), 1);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(contains_pattern("A_b%c\\"), "%A\\_b\\%c\\\\%");
    }
}
