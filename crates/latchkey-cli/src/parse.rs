//! Parsers of argument values that clap cannot derive: custom attributes (`--attr
//! name=value` with JSON-ish values), instants, domain values and the model's enums. Each
//! returns a message fit to show the user, which clap prefixes with the argument's name.

use latchkey_model::{
    Attributes, DomainValue, GrantOrigin, GrantStatus, MemberRole, ObjectType, Plan, Visibility,
};
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};

/// One `--attr name=value`.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrArg {
    pub name: String,
    pub value: Value,
}

/// Parses `name=value`. The value is read as JSON when it is JSON (`12`, `1.5`, `true`,
/// `null`, `"12"`, `["a","b"]`), else taken as a string, so that `--attr city=Lyon` needs no
/// quotes and `--attr code='"007"'` keeps a numeric-looking string a string.
pub fn parse_attr(raw: &str) -> Result<AttrArg, String> {
    let (name, value) = raw
        .split_once('=')
        .ok_or_else(|| format!("expected `name=value`, got `{raw}`"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("the attribute name is empty in `{raw}`"));
    }
    let value = serde_json::from_str::<Value>(value.trim())
        .unwrap_or_else(|_| Value::String(value.to_owned()));
    Ok(AttrArg {
        name: name.to_owned(),
        value,
    })
}

/// The attributes map of a request body; a later `--attr` of the same name wins.
pub fn attributes(args: &[AttrArg]) -> Attributes {
    args.iter()
        .map(|a| (a.name.clone(), a.value.clone()))
        .collect()
}

/// An RFC 3339 instant (`2026-03-01T09:00:00Z`), or a date (`2026-03-01`) meaning its
/// midnight UTC.
pub fn parse_time(raw: &str) -> Result<OffsetDateTime, String> {
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(t);
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &date_format)
        .map(|d| d.midnight().assume_utc())
        .map_err(|_| {
            format!(
                "`{raw}` is not an RFC 3339 instant (2026-03-01T09:00:00Z) or a date (2026-03-01)"
            )
        })
}

/// `VALUE` or `VALUE=DESCRIPTION`.
pub fn parse_domain_value(raw: &str) -> Result<DomainValue, String> {
    let (value, description) = match raw.split_once('=') {
        Some((v, d)) => (v, Some(d.to_owned()).filter(|d| !d.is_empty())),
        None => (raw, None),
    };
    if value.is_empty() {
        return Err(format!("the value is empty in `{raw}`"));
    }
    Ok(DomainValue {
        value: value.to_owned(),
        description,
    })
}

pub fn parse_grant_status(raw: &str) -> Result<GrantStatus, String> {
    GrantStatus::parse(raw).ok_or_else(|| {
        format!("unknown status `{raw}`, expected active, pending_approval, pending_revoke, scheduled or expired")
    })
}

pub fn parse_grant_origin(raw: &str) -> Result<GrantOrigin, String> {
    GrantOrigin::parse(raw)
        .ok_or_else(|| format!("unknown origin `{raw}`, expected manual, rule or inheritance"))
}

pub fn parse_object_type(raw: &str) -> Result<ObjectType, String> {
    ObjectType::parse(raw)
        .ok_or_else(|| format!("unknown object type `{raw}`, expected user, group or membership"))
}

/// A workspace plan as the API names it.
pub fn parse_plan(raw: &str) -> Result<Plan, String> {
    Plan::parse(raw).ok_or_else(|| {
        format!(
            "unknown plan `{raw}`, expected {}",
            Plan::ALL.map(Plan::as_str).join(", ")
        )
    })
}

/// A workspace member role as the API names it.
pub fn parse_member_role(raw: &str) -> Result<MemberRole, String> {
    MemberRole::parse(raw)
        .ok_or_else(|| format!("unknown role `{raw}`, expected {}", MemberRole::names()))
}

pub fn parse_visibility(raw: &str) -> Result<Visibility, String> {
    Visibility::parse(raw)
        .ok_or_else(|| format!("unknown visibility `{raw}`, expected workspace or role"))
}

/// A version for `If-Match`: `3`, or the ETag as served (`"3"`).
pub fn parse_version(raw: &str) -> Result<i64, String> {
    raw.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .map_err(|_| format!("`{raw}` is not a version number"))
}

/// `Some(Some(v))` to set, `Some(None)` to clear, `None` to leave as it is.
pub fn clearable<T>(value: Option<T>, clear: bool) -> Option<Option<T>> {
    if clear { Some(None) } else { value.map(Some) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn attribute_values_are_json_when_they_can_be() {
        let cases = [
            ("age=42", json!(42)),
            ("ratio=1.5", json!(1.5)),
            ("vip=true", json!(true)),
            ("vip=false", json!(false)),
            ("gone=null", Value::Null),
            ("city=Lyon", json!("Lyon")),
            ("code=\"007\"", json!("007")),
            ("tags=[\"a\",\"b\"]", json!(["a", "b"])),
            ("note=a=b", json!("a=b")),
            ("empty=", json!("")),
            ("  team = Blue ", json!(" Blue ")),
        ];
        for (raw, expected) in cases {
            let parsed = parse_attr(raw).unwrap();
            assert_eq!(parsed.value, expected, "{raw}");
        }
        assert_eq!(parse_attr("  team = Blue ").unwrap().name, "team");
    }

    #[test]
    fn malformed_attributes_are_refused() {
        assert!(parse_attr("novalue").unwrap_err().contains("name=value"));
        assert!(parse_attr("=1").unwrap_err().contains("name is empty"));
    }

    #[test]
    fn later_attributes_win() {
        let args = [parse_attr("a=1").unwrap(), parse_attr("a=2").unwrap()];
        assert_eq!(attributes(&args).get("a"), Some(&json!(2)));
    }

    #[test]
    fn times_accept_instants_and_dates() {
        assert_eq!(
            parse_time("2026-03-01T09:00:00Z").unwrap(),
            time::macros::datetime!(2026-03-01 09:00 UTC)
        );
        assert_eq!(
            parse_time("2026-03-01").unwrap(),
            time::macros::datetime!(2026-03-01 00:00 UTC)
        );
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn domain_values_versions_and_clearing() {
        assert_eq!(
            parse_domain_value("EMEA=Europe").unwrap(),
            DomainValue {
                value: "EMEA".into(),
                description: Some("Europe".into())
            }
        );
        assert_eq!(parse_domain_value("APAC").unwrap().description, None);
        assert!(parse_domain_value("=x").is_err());
        assert_eq!(parse_version("\"7\""), Ok(7));
        assert_eq!(parse_version("W/\"7\""), Ok(7));
        assert!(parse_version("seven").is_err());
        assert_eq!(clearable(Some(1), false), Some(Some(1)));
        assert_eq!(clearable::<i32>(None, true), Some(None));
        assert_eq!(clearable::<i32>(None, false), None);
    }

    #[test]
    fn workspace_names_are_the_api_s() {
        assert_eq!(parse_plan("business"), Ok(Plan::Business));
        assert_eq!(
            parse_plan("gold").unwrap_err(),
            "unknown plan `gold`, expected free, basic, business, enterprise"
        );
        assert_eq!(parse_member_role("agent_only"), Ok(MemberRole::AgentOnly));
        assert!(
            parse_member_role("boss")
                .unwrap_err()
                .contains("owner, admin, editor, viewer, agent_only")
        );
        assert_eq!(parse_visibility("role"), Ok(Visibility::Role));
        assert!(parse_visibility("private").is_err());
    }
}
