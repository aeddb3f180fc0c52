//! List parameters as clients send them, and opaque cursors. A cursor is the sort key and
//! id of the last row served, base64url-encoded JSON; clients must treat it as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_api::ListResponse;
use latchkey_model::{GroupId, RoleId, SystemId, UserId};
use latchkey_store::{After, Page, Paging, SortValue};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::{ServiceError, ServiceResult};

pub const DEFAULT_LIMIT: u32 = 100;
pub const MAX_LIMIT: u32 = 1000;

/// Paging as sent in a query string: `limit`, `cursor`, `order=asc|desc`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListParams {
    /// A string, because flattened query parameters reach serde as strings.
    pub limit: Option<String>,
    pub cursor: Option<String>,
    pub order: Option<String>,
}

impl ListParams {
    pub(crate) fn paging(&self) -> ServiceResult<Paging> {
        let limit = match self.limit.as_deref() {
            None => DEFAULT_LIMIT,
            Some(raw) => raw.trim().parse::<u32>().unwrap_or(0),
        };
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ServiceError::invalid(
                "limit",
                "range",
                format!("`limit` must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let descending = match self.order.as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(other) => {
                return Err(ServiceError::invalid(
                    "order",
                    "one_of",
                    format!("`order` must be `asc` or `desc`, not `{other}`"),
                ));
            }
        };
        let after = self.cursor.as_deref().map(decode_cursor).transpose()?;
        Ok(Paging {
            limit,
            after,
            descending,
        })
    }
}

#[derive(serde::Serialize, Deserialize)]
struct CursorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<i64>,
    i: uuid::Uuid,
}

fn decode_cursor(raw: &str) -> ServiceResult<After> {
    let bad = || {
        ServiceError::invalid(
            "cursor",
            "cursor",
            "`cursor` is not a cursor this server issued",
        )
    };
    let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let key = match (body.t, body.n) {
        (Some(t), None) => SortValue::Text(t),
        (None, Some(n)) => SortValue::Int(n),
        (None, None) => SortValue::None,
        _ => return Err(bad()),
    };
    Ok(After { key, id: body.i })
}

pub(crate) fn encode_cursor(after: &After) -> String {
    let (t, n) = match &after.key {
        SortValue::Text(t) => (Some(t.clone()), None),
        SortValue::Int(n) => (None, Some(*n)),
        SortValue::None => (None, None),
    };
    let body = CursorBody { t, n, i: after.id };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
}

/// Turns a store page into a response, with the cursor of its last row.
pub(crate) fn respond<T>(page: Page<T>, key: impl Fn(&T) -> After) -> ListResponse<T> {
    let next_cursor = if page.has_more {
        page.items.last().map(|last| encode_cursor(&key(last)))
    } else {
        None
    };
    ListResponse {
        items: page.items,
        next_cursor,
    }
}

pub(crate) fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct UserFilter {
    #[serde(flatten)]
    pub list: ListParams,
    /// `user_name` (default), `last_name` or `created_at`.
    pub sort: Option<String>,
    pub q: Option<String>,
    pub user_name: Option<String>,
    pub email: Option<String>,
    pub enabled: Option<bool>,
    pub user_type: Option<String>,
    pub primary_group_id: Option<GroupId>,
    pub member_of: Option<GroupId>,
    /// `name:value` equality on a custom attribute.
    pub attribute: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GroupFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub q: Option<String>,
    /// A group id, or `root` for top-level groups.
    pub parent_id: Option<String>,
    pub disabled: Option<bool>,
    pub group_type: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct MembershipFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub user_id: Option<UserId>,
    pub group_id: Option<GroupId>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct SystemFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub q: Option<String>,
    /// A system id, or `root`.
    pub parent_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct RoleFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub q: Option<String>,
    pub system_id: Option<SystemId>,
    pub privileged: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct GrantFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub role_id: Option<RoleId>,
    pub user_id: Option<UserId>,
    pub group_id: Option<GroupId>,
    pub status: Option<String>,
    pub origin: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct AuditFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub actor_id: Option<UserId>,
    pub action: Option<String>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

/// `GET /security/events`: newest first unless `order=asc`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecurityEventFilter {
    #[serde(flatten)]
    pub list: ListParams,
    /// An exact kind (`sign_in.failed`) or a prefix ending in `.` (`sign_in.`).
    pub kind: Option<String>,
    pub user_id: Option<UserId>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub from: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub to: Option<OffsetDateTime>,
}

/// `GET /security/alerts`: newest first unless `order=asc`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SecurityAlertFilter {
    #[serde(flatten)]
    pub list: ListParams,
    /// `open`, `acknowledged` or `resolved`.
    pub status: Option<String>,
    pub rule: Option<String>,
    pub user_id: Option<UserId>,
}
