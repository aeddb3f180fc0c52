//! Names are parsed once, at the edge, and trusted afterwards. Each parser returns a
//! `FieldError` naming the field and the rule so that callers can report it as is.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::FieldError;

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// A display name: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Name(String);

impl Name {
    pub const MAX: usize = 200;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(
                field,
                "required",
                format!("`{field}` must not be empty"),
            ));
        }
        if trimmed.chars().count() > Self::MAX {
            return Err(FieldError::new(
                field,
                "max_length",
                format!("`{field}` must be at most {} characters", Self::MAX),
            ));
        }
        if has_control(trimmed) {
            return Err(FieldError::new(
                field,
                "no_control_characters",
                format!("`{field}` must not contain control characters"),
            ));
        }
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// A user name: 1 to 64 characters from letters, digits and `. _ - @ +`, stored in lower
/// case so that `Ana` and `ana` are the same user (as Keycloak does).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserName(String);

impl UserName {
    pub const MAX: usize = 64;

    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(FieldError::new(
                field,
                "required",
                format!("`{field}` must not be empty"),
            ));
        }
        if trimmed.chars().count() > Self::MAX {
            return Err(FieldError::new(
                field,
                "max_length",
                format!("`{field}` must be at most {} characters", Self::MAX),
            ));
        }
        if let Some(bad) = trimmed
            .chars()
            .find(|c| !(c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '@' | '+')))
        {
            return Err(FieldError::new(
                field,
                "pattern",
                format!(
                    "`{field}` may contain only letters, digits and `. _ - @ +`, not `{}`",
                    bad.escape_default()
                ),
            ));
        }
        Ok(Self(trimmed.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

/// An organisation slug: 2 to 63 characters of lower-case letters, digits and `-`, starting
/// with a letter.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let ok_len = (2..=63).contains(&s.len());
        let ok_start = s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        let ok_chars = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !(ok_len && ok_start && ok_chars) {
            return Err(FieldError::new(
                field,
                "pattern",
                format!(
                    "`{field}` must be 2 to 63 lower-case letters, digits or `-`, starting with a letter"
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address: `local@domain`, the domain lower-cased and containing a dot.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let s = raw.trim();
        let invalid = || {
            FieldError::new(
                field,
                "email",
                format!("`{field}` must be an email address like `ana@example.com`, not `{s}`"),
            )
        };
        if s.len() > 254 || has_control(s) || s.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(invalid());
        };
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
        if local.is_empty() || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part after `@`, lower case.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("name", "  Sales ").map(Name::into_string),
            Ok("Sales".to_owned())
        );
        assert_eq!(
            Name::parse("name", "   ").map_err(|e| e.rule),
            Err("required".to_owned())
        );
        let long = "x".repeat(201);
        assert_eq!(
            Name::parse("name", &long).map_err(|e| e.rule),
            Err("max_length".to_owned())
        );
        assert_eq!(
            Name::parse("name", "a\u{7}b").map_err(|e| e.rule),
            Err("no_control_characters".to_owned())
        );
    }

    #[test]
    fn user_names_are_lower_case_and_restricted() {
        assert_eq!(
            UserName::parse("user_name", "Ana.Diaz").map(|u| u.0),
            Ok("ana.diaz".to_owned())
        );
        let err = UserName::parse("user_name", "ana diaz").unwrap_err();
        assert_eq!(err.rule, "pattern");
        assert!(err.message.contains("` `"), "{}", err.message);
    }

    #[test]
    fn emails_need_a_dotted_domain() {
        assert_eq!(
            Email::parse("email", "Ana@Example.COM").map(|e| e.0),
            Ok("Ana@example.com".to_owned())
        );
        assert!(Email::parse("email", "ana@localhost").is_err());
        assert!(Email::parse("email", "ana").is_err());
        assert!(Email::parse("email", "@example.com").is_err());
        assert_eq!(
            Email::parse("email", "a@b.io").map(|e| e.domain().to_owned()),
            Ok("b.io".to_owned())
        );
    }

    #[test]
    fn slugs() {
        assert!(Slug::parse("slug", "acme-2").is_ok());
        assert!(Slug::parse("slug", "2acme").is_err());
        assert!(Slug::parse("slug", "Acme").is_err());
    }
}
