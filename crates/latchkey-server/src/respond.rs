//! Response shapes: an entity with its `ETag`, a created entity (201), no content (204),
//! and lists as JSON pages or as complete CSV downloads.

use std::future::Future;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_api::ListResponse;
use serde::Serialize;
use serde_json::Value;

use crate::error::{ApiError, ApiResult};

/// Entities with a version, for `ETag`.
pub trait Versioned {
    fn version(&self) -> i64;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn version(&self) -> i64 {
                self.stamps.version
            }
        }
    )*};
}

versioned!(
    latchkey_model::User,
    latchkey_model::Group,
    latchkey_model::Membership,
    latchkey_model::System,
    latchkey_model::Domain,
    latchkey_model::Role,
    latchkey_model::RoleInheritance,
    latchkey_model::Grant,
    latchkey_model::AttributeDefinition,
    latchkey_model::UserType,
    latchkey_model::MailDomain
);

impl Versioned for latchkey_api::AssignmentRuleView {
    fn version(&self) -> i64 {
        self.rule.stamps.version
    }
}

impl Versioned for latchkey_model::Document {
    fn version(&self) -> i64 {
        self.version
    }
}

fn etag(version: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// 200 with the entity and its `ETag`.
pub struct Tagged<T>(pub T);

impl<T: Serialize + Versioned> IntoResponse for Tagged<T> {
    fn into_response(self) -> Response {
        let tag = etag(self.0.version());
        let mut r = axum::Json(self.0).into_response();
        r.headers_mut().insert(header::ETAG, tag);
        r
    }
}

/// 201 with the entity and its `ETag`.
pub struct Created<T>(pub T);

impl<T: Serialize + Versioned> IntoResponse for Created<T> {
    fn into_response(self) -> Response {
        let tag = etag(self.0.version());
        let mut r = (StatusCode::CREATED, axum::Json(self.0)).into_response();
        r.headers_mut().insert(header::ETAG, tag);
        r
    }
}

/// 201 with a body that has no version.
pub struct CreatedPlain<T>(pub T);

impl<T: Serialize> IntoResponse for CreatedPlain<T> {
    fn into_response(self) -> Response {
        (StatusCode::CREATED, axum::Json(self.0)).into_response()
    }
}

pub struct NoContent;

impl IntoResponse for NoContent {
    fn into_response(self) -> Response {
        StatusCode::NO_CONTENT.into_response()
    }
}

/// Most rows a CSV download follows cursors for.
const CSV_MAX_ROWS: usize = 1_000_000;

/// A list endpoint's answer: one JSON page, or every page as CSV. `fetch` takes a cursor.
pub async fn list<T, F, Fut>(
    format: crate::extract::Format,
    first: Option<String>,
    mut fetch: F,
) -> ApiResult<Response>
where
    T: Serialize,
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<ListResponse<T>, latchkey_service::ServiceError>>,
{
    match format {
        crate::extract::Format::Json => Ok(axum::Json(fetch(first).await?).into_response()),
        crate::extract::Format::Csv => {
            let mut rows = Vec::new();
            let mut cursor = first;
            loop {
                let page = fetch(cursor).await?;
                rows.extend(
                    page.items
                        .iter()
                        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null)),
                );
                match page.next_cursor {
                    Some(next) if rows.len() < CSV_MAX_ROWS => cursor = Some(next),
                    _ => break,
                }
            }
            csv_response(&rows)
        }
    }
}

/// A plain (unpaged) list as JSON or CSV.
pub fn plain_list<T: Serialize>(
    format: crate::extract::Format,
    items: Vec<T>,
) -> ApiResult<Response> {
    match format {
        crate::extract::Format::Json => Ok(axum::Json(items).into_response()),
        crate::extract::Format::Csv => {
            let rows: Vec<Value> = items
                .iter()
                .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
                .collect();
            csv_response(&rows)
        }
    }
}

/// Renders objects as CSV: one column per top-level field in field order, custom
/// attributes one column each (`attributes.cost_center`), lists of plain values joined by
/// `;` (as the import reads them), anything else nested as JSON text.
pub fn csv_response(rows: &[Value]) -> ApiResult<Response> {
    let mut columns: Vec<String> = Vec::new();
    let mut flat_rows = Vec::with_capacity(rows.len());
    for row in rows {
        let mut flat: Vec<(String, String)> = Vec::new();
        if let Value::Object(map) = row {
            for (k, v) in map {
                match v {
                    Value::Object(inner) if k == "attributes" => {
                        for (ik, iv) in inner {
                            flat.push((format!("{k}.{ik}"), cell(iv)));
                        }
                    }
                    other => flat.push((k.clone(), cell(other))),
                }
            }
        }
        for (k, _) in &flat {
            if !columns.contains(k) {
                columns.push(k.clone());
            }
        }
        flat_rows.push(flat);
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    let internal =
        |e: csv::Error| ApiError::Service(latchkey_service::ServiceError::Internal(e.to_string()));
    writer.write_record(&columns).map_err(internal)?;
    for flat in &flat_rows {
        let record: Vec<&str> = columns
            .iter()
            .map(|c| {
                flat.iter()
                    .find(|(k, _)| k == c)
                    .map(|(_, v)| v.as_str())
                    .unwrap_or("")
            })
            .collect();
        writer.write_record(&record).map_err(internal)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::Service(latchkey_service::ServiceError::Internal(e.to_string())))?;
    let mut r = (StatusCode::OK, bytes).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    Ok(r)
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            items.iter().map(cell).collect::<Vec<_>>().join(";")
        }
        other => other.to_string(),
    }
}
