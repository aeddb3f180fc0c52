//! CSV import of users, groups, memberships, roles and grants. A file is all or nothing:
//! every row runs through the same use case as a single REST write (same validation, same
//! authorisation, same audit), inside one transaction that is committed only when no row
//! failed and this is not a dry run. A dry run therefore reports exactly what the import
//! would do, rows that depend on earlier rows included.
//!
//! Rows are keyed so that importing an export changes nothing: users by `user_name`, groups
//! by `name`, roles by `system` and `name`; memberships and grants are created unless an
//! identical one exists. Columns an export carries but an import cannot set (`id`,
//! `version`, stamps, derived names) are ignored; any other unknown column is an error.
//! An empty cell means "no value": absent on create, cleared on update where the field can
//! be cleared.

use std::collections::BTreeMap;

use latchkey_api::{
    CreateGrant, CreateGroup, CreateMembership, CreateRole, CreateUser, ImportAction, ImportError,
    ImportReport, UpdateGroup, UpdateRole, UpdateUser,
};
use latchkey_model::{Attributes, GroupId, OrgId, RoleId, SystemId, UserId};
use latchkey_store::{GrantQuery, MembershipQuery, Paging, Tx};
use serde_json::Value;
use time::OffsetDateTime;

use crate::{Principal, ServiceError, ServiceResult, Services};

/// Most rows one file may hold.
pub const MAX_ROWS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Users,
    Groups,
    Memberships,
    Roles,
    Grants,
}

impl ImportKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "users" => Some(Self::Users),
            "groups" => Some(Self::Groups),
            "memberships" => Some(Self::Memberships),
            "roles" => Some(Self::Roles),
            "grants" => Some(Self::Grants),
            _ => None,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Groups => "groups",
            Self::Memberships => "memberships",
            Self::Roles => "roles",
            Self::Grants => "grants",
        }
    }

    /// Columns the import reads.
    pub const fn columns(self) -> &'static [&'static str] {
        match self {
            Self::Users => &[
                "user_name",
                "first_name",
                "middle_name",
                "last_name",
                "email",
                "mail_aliases",
                "user_type",
                "primary_group",
                "primary_group_id",
                "enabled",
                "multi_session",
                "comments",
            ],
            Self::Groups => &[
                "name",
                "description",
                "group_type",
                "parent",
                "parent_id",
                "disabled",
                "active_since",
                "active_until",
            ],
            Self::Memberships => &[
                "user",
                "user_id",
                "group",
                "group_id",
                "starts_at",
                "ends_at",
                "comments",
            ],
            Self::Roles => &[
                "system",
                "system_id",
                "name",
                "description",
                "category",
                "domain_type",
                "domain_id",
                "external_id",
                "privileged",
                "permissions",
            ],
            Self::Grants => &[
                "role",
                "role_id",
                "system",
                "user",
                "user_id",
                "group",
                "group_id",
                "scope",
                "starts_at",
                "ends_at",
            ],
        }
    }

    /// Columns an export carries that the import leaves alone.
    const fn ignored(self) -> &'static [&'static str] {
        match self {
            Self::Users => &[
                "id",
                "org_id",
                "full_name",
                "installation_admin",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
                "version",
            ],
            Self::Groups | Self::Memberships => &[
                "id",
                "org_id",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
                "version",
            ],
            Self::Roles => &[
                "id",
                "org_id",
                "owner_id",
                "system_role",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
                "version",
            ],
            Self::Grants => &[
                "id",
                "org_id",
                "grantee_type",
                "grantee_id",
                "status",
                "origin",
                "parent_grant_id",
                "created_at",
                "created_by",
                "updated_at",
                "updated_by",
                "version",
            ],
        }
    }

    const fn has_attributes(self) -> bool {
        matches!(self, Self::Users | Self::Groups | Self::Memberships)
    }
}

/// One data row by column name, empty cells left out.
struct Row {
    cells: BTreeMap<String, String>,
    attributes: Attributes,
    /// Attribute columns present in the header, including empty ones (to clear them).
    attribute_columns: Vec<String>,
}

impl Row {
    fn get(&self, col: &str) -> Option<&str> {
        self.cells.get(col).map(String::as_str)
    }

    fn has_column(&self, header: &[String], col: &str) -> bool {
        header.iter().any(|h| h == col)
    }
}

type RowResult<T> = Result<T, Vec<(String, String)>>;

fn cell_error(column: &str, message: impl Into<String>) -> Vec<(String, String)> {
    vec![(column.to_owned(), message.into())]
}

fn parse_bool(column: &str, raw: Option<&str>) -> RowResult<Option<bool>> {
    match raw.map(str::to_lowercase).as_deref() {
        None => Ok(None),
        Some("true" | "yes" | "1") => Ok(Some(true)),
        Some("false" | "no" | "0") => Ok(Some(false)),
        Some(other) => Err(cell_error(
            column,
            format!("`{column}` must be `true` or `false`, not `{other}`"),
        )),
    }
}

fn parse_time(column: &str, raw: Option<&str>) -> RowResult<Option<OffsetDateTime>> {
    match raw {
        None => Ok(None),
        Some(v) => OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
            .map(Some)
            .map_err(|_| cell_error(column, format!("`{column}` must be an RFC 3339 instant like `2026-01-31T09:00:00Z`, not `{v}`"))),
    }
}

fn list(raw: Option<&str>) -> Vec<String> {
    raw.map(|r| {
        r.split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
    .unwrap_or_default()
}

/// An attribute cell's JSON value: numbers and booleans as such, other text as a string.
fn attribute_value(raw: &str) -> Value {
    if let Ok(b) = raw.parse::<bool>() {
        return Value::Bool(b);
    }
    if let Ok(n) = raw.parse::<i64>() {
        return Value::from(n);
    }
    if let Ok(f) = raw.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Value::Number(n);
    }
    Value::String(raw.to_owned())
}

impl Services {
    pub async fn import_csv(
        &self,
        p: &Principal,
        kind: ImportKind,
        body: &str,
        dry_run: bool,
    ) -> ServiceResult<ImportReport> {
        let mut report = ImportReport {
            kind: kind.as_str().to_owned(),
            dry_run,
            ok: false,
            rows: 0,
            created: 0,
            updated: 0,
            errors: Vec::new(),
            actions: Vec::new(),
        };
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(body.as_bytes());
        let header: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(str::to_owned).collect(),
            Err(e) => {
                report.errors.push(ImportError {
                    row: 0,
                    column: String::new(),
                    message: format!("the header cannot be read: {e}"),
                });
                return Ok(report);
            }
        };
        for col in &header {
            let known = kind.columns().contains(&col.as_str())
                || kind.ignored().contains(&col.as_str())
                || (kind.has_attributes()
                    && (col.starts_with("attributes.") || col.starts_with("attr.")));
            if !known {
                report.errors.push(ImportError {
                    row: 0,
                    column: col.clone(),
                    message: format!(
                        "unknown column `{col}` for {}; the columns are {}",
                        kind.as_str(),
                        kind.columns().join(", ")
                    ),
                });
            }
        }
        if header.is_empty() || !report.errors.is_empty() {
            return Ok(report);
        }
        let mut rows = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let row_no = i as u64 + 1;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    report.errors.push(ImportError {
                        row: row_no,
                        column: String::new(),
                        message: format!("the row cannot be read: {e}"),
                    });
                    continue;
                }
            };
            let mut row = Row {
                cells: BTreeMap::new(),
                attributes: Attributes::new(),
                attribute_columns: Vec::new(),
            };
            for (col, value) in header.iter().zip(record.iter()) {
                let attr = col
                    .strip_prefix("attributes.")
                    .or_else(|| col.strip_prefix("attr."));
                match attr {
                    Some(name) => {
                        row.attribute_columns.push(name.to_owned());
                        if !value.is_empty() {
                            row.attributes
                                .insert(name.to_owned(), attribute_value(value));
                        }
                    }
                    None if !value.is_empty() => {
                        row.cells.insert(col.clone(), value.to_owned());
                    }
                    None => {}
                }
            }
            rows.push((row_no, row));
            if rows.len() > MAX_ROWS {
                report.errors.push(ImportError {
                    row: row_no,
                    column: String::new(),
                    message: format!("a file may hold at most {MAX_ROWS} rows"),
                });
                return Ok(report);
            }
        }
        report.rows = rows.len() as u64;
        if !report.errors.is_empty() {
            return Ok(report);
        }
        let mut tx = self.begin(p.org_id).await?;
        for (row_no, row) in &rows {
            match self.import_row(&mut *tx, p, kind, &header, row).await {
                Ok(Ok((action, key))) => {
                    match action {
                        "create" => report.created += 1,
                        "update" => report.updated += 1,
                        _ => {}
                    }
                    report.actions.push(ImportAction {
                        row: *row_no,
                        action: action.to_owned(),
                        key,
                    });
                }
                Ok(Err(cells)) => {
                    for (column, message) in cells {
                        report.errors.push(ImportError {
                            row: *row_no,
                            column,
                            message,
                        });
                    }
                }
                Err(e) => {
                    let stop =
                        matches!(e, ServiceError::Internal(_) | ServiceError::Unavailable(_));
                    for (column, message) in service_error_cells(kind, e) {
                        report.errors.push(ImportError {
                            row: *row_no,
                            column,
                            message,
                        });
                    }
                    if stop {
                        // The transaction may be unusable after a database error.
                        break;
                    }
                }
            }
        }
        report.ok = report.errors.is_empty();
        if report.ok && !dry_run {
            tx.commit().await?;
        }
        Ok(report)
    }

    /// One row: `Ok(Ok((action, key)))`, or `Ok(Err(cells))` for errors found while
    /// reading the row, or `Err` from the use case.
    async fn import_row(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        kind: ImportKind,
        header: &[String],
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        match kind {
            ImportKind::Users => self.import_user(tx, p, header, row).await,
            ImportKind::Groups => self.import_group(tx, p, header, row).await,
            ImportKind::Memberships => self.import_membership(tx, p, row).await,
            ImportKind::Roles => self.import_role(tx, p, header, row).await,
            ImportKind::Grants => self.import_grant(tx, p, row).await,
        }
    }

    async fn import_user(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        header: &[String],
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        let Some(user_name) = row.get("user_name") else {
            return Ok(Err(cell_error("user_name", "`user_name` is required")));
        };
        let key = user_name.to_lowercase();
        let group_ref = row
            .get("primary_group")
            .or_else(|| row.get("primary_group_id"));
        let group = match group_ref {
            Some(g) => match group_by_ref(tx, p.org_id, g).await? {
                Some(id) => Some(id),
                None => {
                    return Ok(Err(cell_error(
                        "primary_group",
                        format!("group `{g}` does not exist"),
                    )));
                }
            },
            None => None,
        };
        let enabled = match parse_bool("enabled", row.get("enabled")) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let multi = match parse_bool("multi_session", row.get("multi_session")) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let cleared = |col: &str| -> Option<Option<String>> {
            row.has_column(header, col)
                .then(|| row.get(col).map(str::to_owned))
        };
        match tx.get_user_by_name(p.org_id, &key).await? {
            Some(existing) => {
                let mut attributes = Attributes::new();
                for name in &row.attribute_columns {
                    attributes.insert(
                        name.clone(),
                        row.attributes.get(name).cloned().unwrap_or(Value::Null),
                    );
                }
                let req = UpdateUser {
                    user_name: None,
                    first_name: row.get("first_name").map(str::to_owned),
                    middle_name: cleared("middle_name"),
                    last_name: row.get("last_name").map(str::to_owned),
                    email: cleared("email"),
                    mail_aliases: row
                        .has_column(header, "mail_aliases")
                        .then(|| list(row.get("mail_aliases"))),
                    user_type: cleared("user_type"),
                    primary_group_id: group,
                    enabled,
                    multi_session: multi,
                    comments: cleared("comments"),
                    attributes: (!row.attribute_columns.is_empty()).then_some(attributes),
                };
                let after = self.update_user_in(tx, p, existing.id, req, None).await?;
                Ok(Ok((
                    if after == existing {
                        "unchanged"
                    } else {
                        "update"
                    },
                    key,
                )))
            }
            None => {
                let Some(primary_group_id) = group else {
                    return Ok(Err(cell_error(
                        "primary_group",
                        "`primary_group` is required for a new user",
                    )));
                };
                let req = CreateUser {
                    user_name: user_name.to_owned(),
                    first_name: row.get("first_name").unwrap_or_default().to_owned(),
                    middle_name: row.get("middle_name").map(str::to_owned),
                    last_name: row.get("last_name").unwrap_or_default().to_owned(),
                    email: row.get("email").map(str::to_owned),
                    mail_aliases: list(row.get("mail_aliases")),
                    user_type: row.get("user_type").map(str::to_owned),
                    primary_group_id,
                    enabled,
                    multi_session: multi,
                    comments: row.get("comments").map(str::to_owned),
                    attributes: row.attributes.clone(),
                };
                self.create_user_in(tx, p, req).await?;
                Ok(Ok(("create", key)))
            }
        }
    }

    async fn import_group(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        header: &[String],
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        let Some(name) = row.get("name") else {
            return Ok(Err(cell_error("name", "`name` is required")));
        };
        let parent_ref = row.get("parent").or_else(|| row.get("parent_id"));
        let parent = match parent_ref {
            Some(g) => match group_by_ref(tx, p.org_id, g).await? {
                Some(id) => Some(id),
                None => {
                    return Ok(Err(cell_error(
                        "parent",
                        format!("group `{g}` does not exist"),
                    )));
                }
            },
            None => None,
        };
        let disabled = match parse_bool("disabled", row.get("disabled")) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let (since, until) = match (
            parse_time("active_since", row.get("active_since")),
            parse_time("active_until", row.get("active_until")),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let has = |c: &str| row.has_column(header, c);
        match tx.get_group_by_name(p.org_id, name).await? {
            Some(existing) => {
                let mut attributes = Attributes::new();
                for n in &row.attribute_columns {
                    attributes.insert(
                        n.clone(),
                        row.attributes.get(n).cloned().unwrap_or(Value::Null),
                    );
                }
                let req = UpdateGroup {
                    name: None,
                    description: has("description")
                        .then(|| row.get("description").map(str::to_owned)),
                    group_type: has("group_type").then(|| row.get("group_type").map(str::to_owned)),
                    parent_id: (has("parent") || has("parent_id")).then_some(parent),
                    disabled,
                    active_since: has("active_since").then_some(since),
                    active_until: has("active_until").then_some(until),
                    attributes: (!row.attribute_columns.is_empty()).then_some(attributes),
                };
                let after = self.update_group_in(tx, p, existing.id, req, None).await?;
                Ok(Ok((
                    if after == existing {
                        "unchanged"
                    } else {
                        "update"
                    },
                    name.to_owned(),
                )))
            }
            None => {
                let req = CreateGroup {
                    name: name.to_owned(),
                    description: row.get("description").map(str::to_owned),
                    group_type: row.get("group_type").map(str::to_owned),
                    parent_id: parent,
                    disabled,
                    active_since: since,
                    active_until: until,
                    attributes: row.attributes.clone(),
                };
                self.create_group_in(tx, p, req).await?;
                Ok(Ok(("create", name.to_owned())))
            }
        }
    }

    async fn import_membership(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        let Some(user_ref) = row.get("user").or_else(|| row.get("user_id")) else {
            return Ok(Err(cell_error("user", "`user` is required")));
        };
        let Some(group_ref) = row.get("group").or_else(|| row.get("group_id")) else {
            return Ok(Err(cell_error("group", "`group` is required")));
        };
        let Some(user) = user_by_ref(tx, p.org_id, user_ref).await? else {
            return Ok(Err(cell_error(
                "user",
                format!("user `{user_ref}` does not exist"),
            )));
        };
        let Some(group) = group_by_ref(tx, p.org_id, group_ref).await? else {
            return Ok(Err(cell_error(
                "group",
                format!("group `{group_ref}` does not exist"),
            )));
        };
        let (starts_at, ends_at) = match (
            parse_time("starts_at", row.get("starts_at")),
            parse_time("ends_at", row.get("ends_at")),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let key = format!("{user_ref} in {group_ref}");
        let existing = tx
            .list_memberships(
                p.org_id,
                &MembershipQuery {
                    user: Some(user),
                    group: Some(group),
                    paging: Paging {
                        limit: 1000,
                        ..Default::default()
                    },
                },
            )
            .await?;
        if existing
            .items
            .iter()
            .any(|m| m.starts_at == starts_at && m.ends_at == ends_at)
        {
            return Ok(Ok(("unchanged", key)));
        }
        let req = CreateMembership {
            user_id: user,
            group_id: group,
            starts_at,
            ends_at,
            comments: row.get("comments").map(str::to_owned),
            attributes: row.attributes.clone(),
        };
        self.create_membership_in(tx, p, req).await?;
        Ok(Ok(("create", key)))
    }

    async fn import_role(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        header: &[String],
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        let Some(system_ref) = row.get("system").or_else(|| row.get("system_id")) else {
            return Ok(Err(cell_error("system", "`system` is required")));
        };
        let Some(name) = row.get("name") else {
            return Ok(Err(cell_error("name", "`name` is required")));
        };
        let Some(system) = system_by_ref(tx, p.org_id, system_ref).await? else {
            return Ok(Err(cell_error(
                "system",
                format!("information system `{system_ref}` does not exist"),
            )));
        };
        let privileged = match parse_bool("privileged", row.get("privileged")) {
            Ok(v) => v,
            Err(e) => return Ok(Err(e)),
        };
        let key = format!("{system_ref}/{name}");
        let has = |c: &str| row.has_column(header, c);
        match tx.get_role_by_name(p.org_id, system, name).await? {
            Some(existing) => {
                let req = UpdateRole {
                    name: None,
                    description: has("description")
                        .then(|| row.get("description").map(str::to_owned)),
                    category: has("category").then(|| row.get("category").map(str::to_owned)),
                    external_id: has("external_id")
                        .then(|| row.get("external_id").map(str::to_owned)),
                    owner_id: None,
                    privileged: if existing.permissions.is_empty() && !existing.system_role {
                        privileged
                    } else {
                        None
                    },
                    permissions: has("permissions").then(|| list(row.get("permissions"))),
                };
                let after = self.update_role_in(tx, p, existing.id, req, None).await?;
                Ok(Ok((
                    if after == existing {
                        "unchanged"
                    } else {
                        "update"
                    },
                    key,
                )))
            }
            None => {
                let permissions = list(row.get("permissions"));
                let req = CreateRole {
                    name: name.to_owned(),
                    system_id: system,
                    description: row.get("description").map(str::to_owned),
                    category: row.get("category").map(str::to_owned),
                    domain_type: row.get("domain_type").map(str::to_owned),
                    domain_id: match row.get("domain_id").map(str::parse) {
                        None => None,
                        Some(Ok(d)) => Some(d),
                        Some(Err(_)) => {
                            return Ok(Err(cell_error(
                                "domain_id",
                                "`domain_id` must be a domain id",
                            )));
                        }
                    },
                    external_id: row.get("external_id").map(str::to_owned),
                    owner_id: None,
                    privileged: if permissions.is_empty() {
                        privileged
                    } else {
                        None
                    },
                    permissions,
                };
                self.create_role_in(tx, p, req).await?;
                Ok(Ok(("create", key)))
            }
        }
    }

    async fn import_grant(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        row: &Row,
    ) -> ServiceResult<RowResult<(&'static str, String)>> {
        let Some(role_ref) = row.get("role").or_else(|| row.get("role_id")) else {
            return Ok(Err(cell_error("role", "`role` is required")));
        };
        let role = match role_ref.parse::<RoleId>() {
            Ok(id) => tx.get_role(p.org_id, id).await?.map(|r| r.id),
            Err(_) => match row.get("system") {
                Some(sys) => match system_by_ref(tx, p.org_id, sys).await? {
                    Some(s) => tx
                        .get_role_by_name(p.org_id, s, role_ref)
                        .await?
                        .map(|r| r.id),
                    None => {
                        return Ok(Err(cell_error(
                            "system",
                            format!("information system `{sys}` does not exist"),
                        )));
                    }
                },
                None => {
                    return Ok(Err(cell_error(
                        "system",
                        "`system` is required when `role` is a name",
                    )));
                }
            },
        };
        let Some(role) = role else {
            return Ok(Err(cell_error(
                "role",
                format!("role `{role_ref}` does not exist"),
            )));
        };
        let user = match row.get("user").or_else(|| row.get("user_id")) {
            Some(u) => match user_by_ref(tx, p.org_id, u).await? {
                Some(id) => Some(id),
                None => {
                    return Ok(Err(cell_error(
                        "user",
                        format!("user `{u}` does not exist"),
                    )));
                }
            },
            None => None,
        };
        let group = match row.get("group").or_else(|| row.get("group_id")) {
            Some(g) => match group_by_ref(tx, p.org_id, g).await? {
                Some(id) => Some(id),
                None => {
                    return Ok(Err(cell_error(
                        "group",
                        format!("group `{g}` does not exist"),
                    )));
                }
            },
            None => None,
        };
        let (starts_at, ends_at) = match (
            parse_time("starts_at", row.get("starts_at")),
            parse_time("ends_at", row.get("ends_at")),
        ) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => return Ok(Err(e)),
        };
        let key = format!(
            "{role_ref} to {}",
            row.get("user")
                .or(row.get("user_id"))
                .or(row.get("group"))
                .or(row.get("group_id"))
                .unwrap_or("?")
        );
        let existing = tx
            .list_grants(
                p.org_id,
                &GrantQuery {
                    role: Some(role),
                    user,
                    group,
                    paging: Paging {
                        limit: 1000,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await?;
        let scope = row.get("scope").map(str::to_owned);
        if (user.is_some() || group.is_some())
            && existing.items.iter().any(|g| {
                g.starts_at == starts_at
                    && g.ends_at == ends_at
                    && (g.scope == scope || scope.is_none())
            })
        {
            return Ok(Ok(("unchanged", key)));
        }
        let req = CreateGrant {
            role_id: role,
            user_id: user,
            group_id: group,
            scope,
            starts_at,
            ends_at,
        };
        self.create_grant_in(tx, p, req).await?;
        Ok(Ok(("create", key)))
    }
}

async fn user_by_ref(tx: &mut dyn Tx, org: OrgId, r: &str) -> ServiceResult<Option<UserId>> {
    Ok(match r.parse::<UserId>() {
        Ok(id) => tx.get_user(org, id).await?.map(|u| u.id),
        Err(_) => tx
            .get_user_by_name(org, &r.to_lowercase())
            .await?
            .map(|u| u.id),
    })
}

async fn group_by_ref(tx: &mut dyn Tx, org: OrgId, r: &str) -> ServiceResult<Option<GroupId>> {
    Ok(match r.parse::<GroupId>() {
        Ok(id) => tx.get_group(org, id).await?.map(|g| g.id),
        Err(_) => tx.get_group_by_name(org, r).await?.map(|g| g.id),
    })
}

async fn system_by_ref(tx: &mut dyn Tx, org: OrgId, r: &str) -> ServiceResult<Option<SystemId>> {
    Ok(match r.parse::<SystemId>() {
        Ok(id) => tx.get_system(org, id).await?.map(|s| s.id),
        Err(_) => tx.get_system_by_name(org, r).await?.map(|s| s.id),
    })
}

/// A use case's error as cells of the row: field errors name their column (the request
/// field's name, which is the column's for these kinds).
fn service_error_cells(kind: ImportKind, e: ServiceError) -> Vec<(String, String)> {
    let column = |field: &str| -> String {
        let f = field.split('[').next().unwrap_or(field);
        match (kind, f) {
            (ImportKind::Users, "primary_group_id") => "primary_group".to_owned(),
            (ImportKind::Groups, "parent_id") => "parent".to_owned(),
            (ImportKind::Memberships, "user_id") => "user".to_owned(),
            (ImportKind::Memberships, "group_id") => "group".to_owned(),
            (ImportKind::Roles, "system_id") => "system".to_owned(),
            (ImportKind::Grants, "role_id") => "role".to_owned(),
            (ImportKind::Grants, "user_id") => "user".to_owned(),
            (ImportKind::Grants, "group_id") => "group".to_owned(),
            (_, other) => other.to_owned(),
        }
    };
    match e {
        ServiceError::Validation(errors) => errors
            .into_errors()
            .into_iter()
            .map(|f| (column(&f.field), f.message))
            .collect(),
        ServiceError::Conflict { message, field, .. } => {
            vec![(field.as_deref().map(column).unwrap_or_default(), message)]
        }
        ServiceError::Internal(_) => vec![(
            String::new(),
            "an internal error stopped the import; it has been logged".to_owned(),
        )],
        other => vec![(String::new(), other.to_string())],
    }
}
