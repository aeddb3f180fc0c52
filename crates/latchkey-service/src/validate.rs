//! Validation that needs the organisation's data: custom attributes against their
//! definitions, email addresses against the registered mail domains, user types against
//! the defined ones. Each check records field errors rather than stopping at the first, so
//! a client learns everything wrong with a request at once.

use latchkey_model::{
    AttributeType, Attributes, Email, FieldError, ObjectType, OrgId, UserId, ValidationErrors,
};
use latchkey_store::Tx;
use serde_json::Value;
use time::macros::format_description;

use crate::ServiceResult;

/// Validates a full set of custom attribute values for one object: every key defined,
/// values of the right type and among the allowed values, required ones present, unique
/// ones not held by another object. `stored` are the object's current values, for updates. Returns the values to store (nulls dropped) and the
/// text forms to index.
pub(crate) async fn attributes(
    tx: &mut dyn Tx,
    org: OrgId,
    object_type: ObjectType,
    object_id: uuid::Uuid,
    values: &Attributes,
    stored: Option<&Attributes>,
    errors: &mut ValidationErrors,
) -> ServiceResult<(Attributes, Vec<(String, String)>)> {
    let defs = tx.list_attributes(org, Some(object_type)).await?;
    let mut out = Attributes::new();
    let mut index = Vec::new();
    for (name, value) in values {
        let field = format!("attributes.{name}");
        let Some(def) = defs.iter().find(|d| &d.name == name) else {
            // A value left over from a definition since deleted is dropped silently.
            if stored.and_then(|s| s.get(name)) == Some(value) {
                continue;
            }
            errors.push(FieldError::new(
                &field,
                "unknown_attribute",
                format!(
                    "`{name}` is not an attribute defined for {}s",
                    object_type.as_str()
                ),
            ));
            continue;
        };
        if value.is_null() {
            continue;
        }
        let text = match check_value(tx, org, def.data_type, value).await? {
            Ok(text) => text,
            Err(rule_message) => {
                errors.push(FieldError::new(&field, "type", rule_message));
                continue;
            }
        };
        if !def.allowed_values.is_empty() && !def.allowed_values.contains(&text) {
            errors.push(FieldError::new(
                &field,
                "one_of",
                format!(
                    "`{name}` must be one of {}, not `{text}`",
                    quote_list(&def.allowed_values)
                ),
            ));
            continue;
        }
        if def.unique
            && tx
                .attribute_value_taken(org, object_type, name, &text, Some(object_id))
                .await?
        {
            errors.push(FieldError::new(
                &field,
                "unique",
                format!(
                    "another {} already has `{name}` = `{text}`",
                    object_type.as_str()
                ),
            ));
            continue;
        }
        out.insert(name.clone(), value.clone());
        index.push((name.clone(), text));
    }
    for def in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&def.name)
            && !errors
                .errors()
                .iter()
                .any(|e| e.field == format!("attributes.{}", def.name))
        {
            errors.push(FieldError::new(
                format!("attributes.{}", def.name),
                "required",
                format!("`{}` is required for {}s", def.name, object_type.as_str()),
            ));
        }
    }
    Ok((out, index))
}

/// The value's text form, or the message saying why it does not fit the type.
async fn check_value(
    tx: &mut dyn Tx,
    org: OrgId,
    data_type: AttributeType,
    value: &Value,
) -> ServiceResult<Result<String, String>> {
    Ok(match (data_type, value) {
        (AttributeType::String, Value::String(s)) => Ok(s.clone()),
        (AttributeType::Number, Value::Number(n)) => Ok(n.to_string()),
        (AttributeType::Boolean, Value::Bool(b)) => Ok(b.to_string()),
        (AttributeType::Date, Value::String(s)) => {
            match time::Date::parse(s, format_description!("[year]-[month]-[day]")) {
                Ok(_) => Ok(s.clone()),
                Err(_) => Err(format!("must be a date written `YYYY-MM-DD`, not `{s}`")),
            }
        }
        (AttributeType::Email, Value::String(s)) => match Email::parse("value", s) {
            Ok(e) => Ok(e.as_str().to_owned()),
            Err(_) => Err(format!("must be an email address, not `{s}`")),
        },
        (AttributeType::Reference, Value::String(s)) => {
            let user = match s.parse::<uuid::Uuid>() {
                Ok(id) => tx.get_user(org, UserId::from_uuid(id)).await?,
                Err(_) => tx.get_user_by_name(org, &s.to_lowercase()).await?,
            };
            match user {
                Some(u) => Ok(u.id.to_string()),
                None => Err(format!(
                    "must name an existing user (id or user name), not `{s}`"
                )),
            }
        }
        (t, other) => Err(format!(
            "must be a {}, not {}",
            t.as_str(),
            json_kind(other)
        )),
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn quote_list(items: &[String]) -> String {
    items
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses an email and, once the organisation registers mail domains, requires its domain
/// to be one of them and not obsolete.
pub(crate) async fn email(
    tx: &mut dyn Tx,
    org: OrgId,
    field: &str,
    raw: &str,
    errors: &mut ValidationErrors,
) -> ServiceResult<Option<Email>> {
    let Some(email) = errors.check(Email::parse(field, raw)) else {
        return Ok(None);
    };
    if tx.count_mail_domains(org).await? > 0 {
        let obsolete = tx
            .get_mail_domain_by_code(org, email.domain())
            .await?
            .map(|d| d.obsolete);
        if let Some(e) = mail_domain_error(field, email.domain(), obsolete) {
            errors.push(e);
            return Ok(None);
        }
    }
    Ok(Some(email))
}

/// The error for an email whose domain, in an organisation that registers mail domains, is
/// not registered (`obsolete` is `None`) or is obsolete.
pub(crate) fn mail_domain_error(
    field: &str,
    domain: &str,
    obsolete: Option<bool>,
) -> Option<FieldError> {
    let message = match obsolete {
        None => format!("`{domain}` is not a registered mail domain of the organisation"),
        Some(true) => format!("mail domain `{domain}` is obsolete"),
        Some(false) => return None,
    };
    Some(FieldError::new(field, "mail_domain", message))
}

/// Trims an optional free text; empty becomes `None`.
pub(crate) fn text(
    field: &str,
    raw: Option<&str>,
    max: usize,
    errors: &mut ValidationErrors,
) -> Option<String> {
    let t = raw.map(str::trim).filter(|t| !t.is_empty())?;
    if t.chars().count() > max {
        errors.push(FieldError::new(
            field,
            "max_length",
            format!("`{field}` must be at most {max} characters"),
        ));
        return None;
    }
    Some(t.to_owned())
}

/// The error for a user type the organisation does not define, listing those it does.
pub(crate) fn unknown_user_type(code: &str, known: &[String]) -> FieldError {
    FieldError::new(
        "user_type",
        "one_of",
        if known.is_empty() {
            format!("user type `{code}` is not defined; the organisation defines none")
        } else {
            format!(
                "user type `{code}` is not defined; use one of {}",
                quote_list(known)
            )
        },
    )
}

pub(crate) async fn user_type(
    tx: &mut dyn Tx,
    org: OrgId,
    raw: &str,
    errors: &mut ValidationErrors,
) -> ServiceResult<Option<String>> {
    let code = raw.trim();
    if tx.get_user_type_by_code(org, code).await?.is_none() {
        let known: Vec<String> = tx
            .list_user_types(org)
            .await?
            .into_iter()
            .map(|t| t.code)
            .collect();
        errors.push(unknown_user_type(code, &known));
        return Ok(None);
    }
    Ok(Some(code.to_owned()))
}

/// Checks a start/end pair.
pub(crate) fn window(
    start_field: &str,
    start: Option<time::OffsetDateTime>,
    end_field: &str,
    end: Option<time::OffsetDateTime>,
    errors: &mut ValidationErrors,
) {
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        errors.push(FieldError::new(
            end_field,
            "after",
            format!("`{end_field}` must be after `{start_field}`"),
        ));
    }
}

/// An update's attributes over the stored ones: a value sets, `null` removes, absent
/// keys stay.
pub(crate) fn merge_attributes(stored: &Attributes, changes: Option<&Attributes>) -> Attributes {
    let mut merged = stored.clone();
    for (k, v) in changes.into_iter().flatten() {
        if v.is_null() {
            merged.remove(k);
        } else {
            merged.insert(k.clone(), v.clone());
        }
    }
    merged
}
