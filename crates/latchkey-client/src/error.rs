//! The client's one error type. An answer outside 2xx becomes [`ClientError::Api`] carrying
//! the server's `application/problem+json` document; an answer that is not a problem document
//! (a proxy's HTML page, say) is turned into one so that callers handle a single shape.

use std::fmt;

use latchkey_api::Problem;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error status.
    #[error("{}", ProblemDisplay(problem))]
    Api { status: u16, problem: Problem },
    /// The request did not get an answer (connection refused, DNS, timeout, ...). The message
    /// names the URL that could not be reached.
    #[error("{0}")]
    Transport(String),
    /// The answer could not be read as the expected type.
    #[error("{0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            Self::Transport(_) | Self::Decode(_) => None,
        }
    }

    /// The problem's stable code (`not_found`, `validation_failed`, ...) of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { problem, .. } => Some(&problem.code),
            Self::Transport(_) | Self::Decode(_) => None,
        }
    }

    /// Builds the error for a non-2xx answer from its status and body. A body that is not a
    /// problem document still gives a problem, with the body (shortened) as its detail.
    pub fn from_response(status: u16, body: &str) -> Self {
        let problem = serde_json::from_str::<Problem>(body).unwrap_or_else(|_| Problem {
            type_uri: "about:blank".to_owned(),
            title: status_title(status).to_owned(),
            status,
            detail: fallback_detail(status, body),
            code: "http_error".to_owned(),
            errors: Vec::new(),
            request_id: None,
        });
        Self::Api { status, problem }
    }
}

/// Prints the detail, then one `field: message` line per field error.
struct ProblemDisplay<'a>(&'a Problem);

impl fmt::Display for ProblemDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.0;
        if p.detail.is_empty() {
            write!(f, "{} ({})", p.title, p.status)?;
        } else {
            f.write_str(&p.detail)?;
        }
        for e in &p.errors {
            write!(f, "\n  {}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

fn fallback_detail(status: u16, body: &str) -> String {
    const MAX: usize = 200;
    let trimmed = body.trim();
    if trimmed.is_empty() {
        return format!("the server answered {status} {}", status_title(status));
    }
    let short: String = trimmed.chars().take(MAX).collect();
    let ellipsis = if trimmed.chars().count() > MAX {
        "..."
    } else {
        ""
    };
    format!(
        "the server answered {status} {}: {short}{ellipsis}",
        status_title(status)
    )
}

fn status_title(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_body_is_decoded_and_displayed_with_field_errors() {
        let body = r#"{"type":"about:blank","title":"Unprocessable Entity","status":422,
            "detail":"the request is invalid","code":"validation_failed",
            "errors":[{"field":"user_name","rule":"required","message":"must not be empty"},
                      {"field":"email","rule":"email","message":"is not an email address"}]}"#;
        let err = ClientError::from_response(422, body);
        assert_eq!(err.status(), Some(422));
        assert_eq!(err.code(), Some("validation_failed"));
        assert_eq!(
            err.to_string(),
            "the request is invalid\n  user_name: must not be empty\n  email: is not an email address"
        );
    }

    #[test]
    fn other_bodies_become_a_problem() {
        let err = ClientError::from_response(502, "<html>bad gateway</html>");
        assert_eq!(err.code(), Some("http_error"));
        assert_eq!(
            err.to_string(),
            "the server answered 502 Bad Gateway: <html>bad gateway</html>"
        );
        let err = ClientError::from_response(404, "");
        assert_eq!(err.to_string(), "the server answered 404 Not Found");
    }
}
