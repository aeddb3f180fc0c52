//! Keyset pagination shared by every list: rows are ordered by a sort column then by id,
//! a page fetches `limit + 1` rows to learn whether more follow, and the next page starts
//! strictly after the `(key, id)` pair of the previous page's last row (a row-value
//! comparison both databases evaluate, and index, the same way).

use latchkey_store::{Page, Paging, SortValue, StoreError, StoreResult};
use sqlx::QueryBuilder;

use super::convert::DbRow;
use crate::backend::Db;

/// The most rows a page may hold.
pub(crate) const MAX_LIMIT: u32 = 1000;

/// `limit` brought into 1..=1000.
pub(crate) fn clamp(limit: u32) -> u32 {
    limit.clamp(1, MAX_LIMIT)
}

/// The column a list is sorted by, before the id.
#[derive(Clone, Copy)]
pub(crate) enum SortKey {
    Text(&'static str),
    Int(&'static str),
    /// The id itself (ids are UUIDv7, so this is creation order).
    Id,
}

/// Appends the keyset condition (as ` AND ...`), `ORDER BY` and `LIMIT limit + 1` to a
/// query whose `WHERE` clause is open. `id` is the id column, qualified if need be.
pub(crate) fn push_page(
    qb: &mut QueryBuilder<Db>,
    key: SortKey,
    id: &str,
    paging: &Paging,
) -> StoreResult<()> {
    let (cmp, dir) = if paging.descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    };
    if let Some(after) = &paging.after {
        match (key, &after.key) {
            (SortKey::Text(col), SortValue::Text(v)) => {
                qb.push(format!(" AND ({col}, {id}) {cmp} ("));
                qb.push_bind(v.clone());
                qb.push(", ");
                qb.push_bind(after.id);
                qb.push(")");
            }
            (SortKey::Int(col), SortValue::Int(v)) => {
                qb.push(format!(" AND ({col}, {id}) {cmp} ("));
                qb.push_bind(*v);
                qb.push(", ");
                qb.push_bind(after.id);
                qb.push(")");
            }
            (SortKey::Id, _) => {
                qb.push(format!(" AND {id} {cmp} "));
                qb.push_bind(after.id);
            }
            _ => {
                return Err(StoreError::Backend(
                    "the page cursor does not match the list's sort order".to_owned(),
                ));
            }
        }
    }
    match key {
        SortKey::Text(col) | SortKey::Int(col) => {
            qb.push(format!(" ORDER BY {col} {dir}, {id} {dir}"));
        }
        SortKey::Id => {
            qb.push(format!(" ORDER BY {id} {dir}"));
        }
    }
    qb.push(" LIMIT ");
    qb.push_bind(i64::from(clamp(paging.limit)) + 1);
    Ok(())
}

/// Turns the `limit + 1` fetched rows into a page.
pub(crate) fn page<T>(
    rows: Vec<DbRow>,
    limit: u32,
    decode: impl Fn(&DbRow) -> StoreResult<T>,
) -> StoreResult<Page<T>> {
    let limit = clamp(limit) as usize;
    let has_more = rows.len() > limit;
    let items = rows
        .iter()
        .take(limit)
        .map(decode)
        .collect::<StoreResult<Vec<T>>>()?;
    Ok(Page { items, has_more })
}
