//! How answers are printed: with `--json` the JSON as the API serves it, for scripts;
//! otherwise comfy-table tables, with borders on a terminal and plain columns in a pipe.
//! Lists use the columns of [`Tabular`]; a single entity is a two-column field/value table.

use std::io::IsTerminal;

use anyhow::Context;
use comfy_table::presets::{NOTHING, UTF8_FULL_CONDENSED};
use comfy_table::{ContentArrangement, Table};
use latchkey_api::{ListResponse, PermissionInfo};
use latchkey_client::ApiTokenView;
use latchkey_model::{
    AttributeDefinition, AuditEntry, Domain, Grant, Grantee, Group, MailDomain, Membership,
    Organisation, Role, RoleDomain, RoleInheritance, ScopeMapping, System, User, UserType,
};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A type listed as table rows.
pub trait Tabular {
    const HEADERS: &'static [&'static str];
    fn row(&self) -> Vec<String>;
}

#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn print_json<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        println!(
            "{}",
            serde_json::to_string_pretty(value).context("cannot encode the answer as JSON")?
        );
        Ok(())
    }

    /// A page of a list; tells how to fetch the next page, if any, on standard error.
    pub fn page<T: Serialize + Tabular>(&self, page: &ListResponse<T>) -> anyhow::Result<()> {
        if self.json {
            return self.print_json(page);
        }
        println!("{}", table(T::HEADERS, page.items.iter().map(Tabular::row)));
        if let Some(cursor) = &page.next_cursor {
            eprintln!("more results: repeat with --cursor {cursor}, or use --all");
        }
        Ok(())
    }

    /// Items without paging.
    pub fn items<T: Serialize + Tabular>(&self, items: Vec<T>) -> anyhow::Result<()> {
        self.page(&ListResponse {
            items,
            next_cursor: None,
        })
    }

    /// One entity or answer, as a field/value table.
    pub fn record<T: Serialize + ?Sized>(&self, value: &T) -> anyhow::Result<()> {
        if self.json {
            return self.print_json(value);
        }
        let value = serde_json::to_value(value).context("cannot encode the answer")?;
        println!("{}", record_table(&value));
        Ok(())
    }

    /// A confirmation for people; silent with `--json` (the exit code says it all).
    pub fn done(&self, message: &str) {
        if !self.json {
            println!("{message}");
        }
    }
}

/// A table of `rows` under `headers` (none when empty).
pub fn table(headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Table {
    let mut table = Table::new();
    if std::io::stdout().is_terminal() {
        table
            .load_style(UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
    } else {
        table.load_style(NOTHING);
    }
    if !headers.is_empty() {
        table.set_header(headers.iter().copied());
    }
    for row in rows {
        table.add_row(row);
    }
    table
}

/// Field/value rows of a JSON object, `id` first, the rest by name; a non-empty nested
/// object (custom attributes, say) gives one `field.key` row per key.
fn record_table(value: &Value) -> Table {
    let rows: Vec<Vec<String>> = match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by_key(|k| (k.as_str() != "id", k.as_str()));
            let mut rows = Vec::new();
            for key in keys {
                match &map[key.as_str()] {
                    Value::Object(inner) if !inner.is_empty() => {
                        rows.extend(
                            inner
                                .iter()
                                .map(|(k, v)| vec![format!("{key}.{k}"), cell(v)]),
                        );
                    }
                    other => rows.push(vec![key.clone(), cell(other)]),
                }
            }
            rows
        }
        other => vec![vec!["value".to_owned(), cell(other)]],
    };
    table(&["field", "value"], rows.into_iter())
}

/// A JSON value as a table cell: strings bare, null empty, lists of scalars comma-joined.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.iter().all(|v| !v.is_array() && !v.is_object()) => {
            items.iter().map(cell).collect::<Vec<_>>().join(", ")
        }
        other => other.to_string(),
    }
}

fn opt<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

pub fn instant(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

fn opt_instant(at: Option<OffsetDateTime>) -> String {
    at.map(instant).unwrap_or_default()
}

fn yes(flag: bool) -> String {
    if flag {
        "yes".to_owned()
    } else {
        String::new()
    }
}

impl Tabular for User {
    const HEADERS: &'static [&'static str] =
        &["id", "user name", "full name", "email", "type", "enabled"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.user_name.clone(),
            self.full_name.clone(),
            opt(self.email.as_ref()),
            opt(self.user_type.as_ref()),
            yes(self.enabled),
        ]
    }
}

impl Tabular for Group {
    const HEADERS: &'static [&'static str] = &["id", "name", "type", "parent", "disabled"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            opt(self.group_type.as_ref()),
            opt(self.parent_id),
            yes(self.disabled),
        ]
    }
}

impl Tabular for Membership {
    const HEADERS: &'static [&'static str] = &["id", "user", "group", "starts", "ends"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.user_id.to_string(),
            self.group_id.to_string(),
            opt_instant(self.starts_at),
            opt_instant(self.ends_at),
        ]
    }
}

impl Tabular for System {
    const HEADERS: &'static [&'static str] =
        &["id", "name", "type", "parent", "approval", "single role"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.system_type.as_str().to_owned(),
            opt(self.parent_id),
            yes(self.approval_process),
            yes(self.single_role),
        ]
    }
}

impl Tabular for Domain {
    const HEADERS: &'static [&'static str] = &["id", "name", "values"];
    fn row(&self) -> Vec<String> {
        let values: Vec<&str> = self.values.iter().map(|v| v.value.as_str()).collect();
        vec![self.id.to_string(), self.name.clone(), values.join(", ")]
    }
}

fn domain_label(domain: RoleDomain) -> String {
    match domain {
        RoleDomain::Custom(id) => format!("custom {id}"),
        other => other.type_name().to_owned(),
    }
}

impl Tabular for Role {
    const HEADERS: &'static [&'static str] =
        &["id", "name", "system", "scope", "privileged", "permissions"];
    fn row(&self) -> Vec<String> {
        let permissions: Vec<&str> = self.permissions.iter().map(|p| p.as_str()).collect();
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.system_id.to_string(),
            domain_label(self.domain),
            yes(self.privileged),
            permissions.join(", "),
        ]
    }
}

impl Tabular for RoleInheritance {
    const HEADERS: &'static [&'static str] = &["edge id", "child role", "mandatory", "scope"];
    fn row(&self) -> Vec<String> {
        let scope = match &self.scope {
            ScopeMapping::None => "none".to_owned(),
            ScopeMapping::Same => "same".to_owned(),
            ScopeMapping::Fixed(v) => format!("fixed {v}"),
        };
        vec![
            self.id.to_string(),
            self.child_role_id.to_string(),
            yes(self.mandatory),
            scope,
        ]
    }
}

impl Tabular for Grant {
    const HEADERS: &'static [&'static str] = &[
        "id", "role", "grantee", "scope", "status", "origin", "starts", "ends",
    ];
    fn row(&self) -> Vec<String> {
        let grantee = match self.grantee {
            Grantee::User(id) => format!("user {id}"),
            Grantee::Group(id) => format!("group {id}"),
        };
        vec![
            self.id.to_string(),
            self.role_id.to_string(),
            grantee,
            opt(self.scope.as_ref()),
            self.status.as_str().to_owned(),
            self.origin.as_str().to_owned(),
            opt_instant(self.starts_at),
            opt_instant(self.ends_at),
        ]
    }
}

impl Tabular for AttributeDefinition {
    const HEADERS: &'static [&'static str] = &[
        "id", "object", "name", "label", "type", "required", "unique",
    ];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.object_type.as_str().to_owned(),
            self.name.clone(),
            opt(self.label.as_ref()),
            self.data_type.as_str().to_owned(),
            yes(self.required),
            yes(self.unique),
        ]
    }
}

impl Tabular for UserType {
    const HEADERS: &'static [&'static str] = &["id", "code", "description"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            opt(self.description.as_ref()),
        ]
    }
}

impl Tabular for MailDomain {
    const HEADERS: &'static [&'static str] = &["id", "domain", "description", "obsolete"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.code.clone(),
            opt(self.description.as_ref()),
            yes(self.obsolete),
        ]
    }
}

impl Tabular for AuditEntry {
    const HEADERS: &'static [&'static str] = &["seq", "at", "actor", "action", "object"];
    fn row(&self) -> Vec<String> {
        let e = &self.entry;
        vec![
            self.seq.to_string(),
            instant(e.at),
            e.actor_id
                .map_or_else(|| "system".to_owned(), |a| a.to_string()),
            e.action.clone(),
            format!("{} {}", e.object_type, e.object_id),
        ]
    }
}

impl Tabular for ApiTokenView {
    const HEADERS: &'static [&'static str] = &["id", "name", "created", "expires", "revoked"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            instant(self.created_at),
            opt_instant(self.expires_at),
            opt_instant(self.revoked_at),
        ]
    }
}

impl Tabular for Organisation {
    const HEADERS: &'static [&'static str] = &["id", "name", "slug", "created"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.slug.clone(),
            instant(self.created_at),
        ]
    }
}

impl Tabular for PermissionInfo {
    const HEADERS: &'static [&'static str] = &["permission", "privileged", "description"];
    fn row(&self) -> Vec<String> {
        vec![
            self.name.clone(),
            yes(self.privileged),
            self.description.clone(),
        ]
    }
}

impl Tabular for latchkey_api::SessionView {
    const HEADERS: &'static [&'static str] = &[
        "id",
        "method",
        "created",
        "last seen",
        "expires",
        "address",
        "current",
    ];
    fn row(&self) -> Vec<String> {
        let s = &self.session;
        vec![
            s.id.to_string(),
            s.method.as_str().to_owned(),
            instant(s.created_at),
            instant(s.last_seen_at),
            instant(s.expires_at),
            s.ip.clone().unwrap_or_default(),
            if self.current { "yes" } else { "" }.to_owned(),
        ]
    }
}

impl Tabular for latchkey_model::PasskeyRecord {
    const HEADERS: &'static [&'static str] = &["id", "name", "created", "last used"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            instant(self.created_at),
            self.last_used_at.map(instant).unwrap_or_default(),
        ]
    }
}

impl Tabular for latchkey_api::InvitationView {
    const HEADERS: &'static [&'static str] =
        &["id", "email", "status", "role", "created", "expires"];
    fn row(&self) -> Vec<String> {
        let i = &self.invitation;
        vec![
            i.id.to_string(),
            i.email.clone(),
            self.status.as_str().to_owned(),
            i.role_id.to_string(),
            instant(i.created_at),
            instant(i.expires_at),
        ]
    }
}

impl Tabular for latchkey_model::SecurityEvent {
    const HEADERS: &'static [&'static str] = &["at", "kind", "user", "actor", "address", "detail"];
    fn row(&self) -> Vec<String> {
        vec![
            instant(self.at),
            self.kind.clone(),
            self.user_id.map(|u| u.to_string()).unwrap_or_default(),
            self.actor_id.map(|u| u.to_string()).unwrap_or_default(),
            self.ip.clone().unwrap_or_default(),
            self.detail.to_string(),
        ]
    }
}

impl Tabular for latchkey_model::SecurityAlert {
    const HEADERS: &'static [&'static str] =
        &["id", "raised", "rule", "severity", "status", "summary"];
    fn row(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            instant(self.raised_at),
            self.rule.clone(),
            self.severity.clone(),
            self.status.as_str().to_owned(),
            self.summary.clone(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_render_json_values_plainly() {
        assert_eq!(cell(&json!(null)), "");
        assert_eq!(cell(&json!("a")), "a");
        assert_eq!(cell(&json!(3)), "3");
        assert_eq!(cell(&json!(["a", 1, true])), "a, 1, true");
        assert_eq!(cell(&json!({"k": 1})), r#"{"k":1}"#);
    }

    #[test]
    fn records_put_the_id_first() {
        let table =
            record_table(&json!({"name": "x", "id": "1", "age": 2, "attributes": {"badge": 42}}))
                .to_string();
        let id = table.find("id").unwrap();
        let age = table.find("age").unwrap();
        let badge = table.find("attributes.badge").unwrap();
        let name = table.find("name").unwrap();
        assert!(id < age && age < badge && badge < name, "{table}");
    }
}
