//! Invitations: sending, listing and revoking them (`users.invite`), and, without
//! authentication, what the invitee does with the mailed secret.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    AcceptInvitation, InvitationAccepted, InvitationPreview, InvitationToken, InvitationView,
    Invite, InviteOutcome,
};
use latchkey_model::InvitationId;

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Auth, Client};
use crate::openapi::{ApiRouter, doc};
use crate::routes::sign_in::session_cookies;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/invitations",
        invite,
        doc(
            "invitations",
            "Invite by work email with a role and an optional group: 201 with the invitation, \
             or 200 with `updated_user_id` when the address already belongs to a user",
        )
        .perm("users.invite (users.manage and roles.grant to update an existing user)")
        .status(201)
        .body::<Invite>()
        .ok::<InviteOutcome>(),
    )
    .get(
        "/invitations",
        list,
        doc(
            "invitations",
            "The organisation's invitations, newest first; filter by `email` and `status`",
        )
        .perm("users.invite")
        .ok_array::<InvitationView>(),
    )
    .get(
        "/invitations/{id}",
        get_one,
        doc("invitations", "One invitation")
            .perm("users.invite")
            .ok::<InvitationView>(),
    )
    .delete(
        "/invitations/{id}",
        revoke,
        doc("invitations", "Revoke a pending invitation")
            .perm("users.invite")
            .ok::<InvitationView>(),
    )
    .post(
        "/invitations/lookup",
        lookup,
        doc(
            "invitations",
            "What a pending invitation is for, by its secret (before accepting)",
        )
        .public()
        .body::<InvitationToken>()
        .ok::<InvitationPreview>(),
    )
    .post(
        "/invitations/accept",
        accept,
        doc(
            "invitations",
            "Accept an invitation: creates the user, grants the role, sets the password when \
             one is given and opens a first session (with which a user without a password \
             registers a passkey)",
        )
        .public()
        .status(201)
        .status(429)
        .body::<AcceptInvitation>()
        .ok::<InvitationAccepted>(),
    )
}

async fn invite(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiJson(body): ApiJson<Invite>,
) -> ApiResult<Response> {
    let outcome = s.services.invite(&p, &body, &client).await?;
    let status = match outcome {
        InviteOutcome::Invited(_) => StatusCode::CREATED,
        InviteOutcome::Updated(_) => StatusCode::OK,
    };
    Ok((status, axum::Json(outcome)).into_response())
}

#[derive(serde::Deserialize)]
struct ListQuery {
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<axum::Json<Vec<InvitationView>>> {
    Ok(axum::Json(
        s.services
            .list_invitations(&p, q.email.as_deref(), q.status.as_deref())
            .await?,
    ))
}

async fn get_one(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<InvitationId>,
) -> ApiResult<axum::Json<InvitationView>> {
    Ok(axum::Json(s.services.get_invitation(&p, id).await?))
}

async fn revoke(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<InvitationId>,
) -> ApiResult<axum::Json<InvitationView>> {
    Ok(axum::Json(
        s.services.revoke_invitation(&p, id, &client).await?,
    ))
}

async fn lookup(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<InvitationToken>,
) -> ApiResult<axum::Json<InvitationPreview>> {
    Ok(axum::Json(
        s.services.preview_invitation(&body.token, &client).await?,
    ))
}

async fn accept(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AcceptInvitation>,
) -> ApiResult<Response> {
    let accepted = s.services.accept_invitation(&body, &client).await?;
    let cookies = session_cookies(&s, &headers, &accepted.session);
    let mut response = (StatusCode::CREATED, axum::Json(accepted)).into_response();
    for v in cookies {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(response)
}

/// Text safe inside HTML (element content and quoted attribute values).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn page(status: StatusCode, body: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Join on Latchkey</title></head>\n<body><main>{body}</main></body></html>\n"
        ),
    )
        .into_response()
}

const NOT_VALID: &str = "<h1>This invitation does not work</h1><p>It is invalid, expired, revoked or already accepted. Ask for a new one.</p>";

#[derive(serde::Deserialize)]
pub(crate) struct InvitePage {
    #[serde(default)]
    token: String,
}

/// `GET /invite?token=…`, where the mailed link leads: what the invitation is for, and a
/// form to accept it. Nothing is used up by opening it.
pub(crate) async fn invite_page(
    State(s): State<AppState>,
    Client(client): Client,
    axum::extract::Query(q): axum::extract::Query<InvitePage>,
) -> Response {
    let Ok(preview) = s.services.preview_invitation(&q.token, &client).await else {
        return page(StatusCode::UNAUTHORIZED, NOT_VALID);
    };
    let group = preview
        .group
        .as_deref()
        .map(|g| format!(" in <b>{}</b>", escape(g)))
        .unwrap_or_default();
    page(
        StatusCode::OK,
        &format!(
            "<h1>Join {org}</h1><p>You are invited as <b>{role}</b>{group}, with the address {email}.</p>\n\
             <form method=\"post\" action=\"/invite\">\n\
             <input type=\"hidden\" name=\"token\" value=\"{token}\">\n\
             <label>First name <input name=\"first_name\" required autocomplete=\"given-name\"></label>\n\
             <label>Last name <input name=\"last_name\" required autocomplete=\"family-name\"></label>\n\
             <label>User name <input name=\"user_name\" required autocomplete=\"username\"></label>\n\
             <label>Password (leave empty to sign in with a passkey) <input type=\"password\" name=\"password\" autocomplete=\"new-password\"></label>\n\
             <button type=\"submit\">Accept</button>\n</form>",
            org = escape(&preview.organisation_name),
            role = escape(&preview.role),
            email = escape(&preview.email),
            token = escape(&q.token),
        ),
    )
}

#[derive(serde::Deserialize)]
pub(crate) struct AcceptForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    user_name: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    password: String,
}

/// `POST /invite` (the page's form): accepts, sets the session cookies and goes home.
pub(crate) async fn invite_form(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<AcceptForm>,
) -> Response {
    let req = AcceptInvitation {
        token: form.token,
        user_name: form.user_name,
        first_name: form.first_name,
        last_name: form.last_name,
        password: Some(form.password).filter(|p| !p.is_empty()),
    };
    match s.services.accept_invitation(&req, &client).await {
        Ok(accepted) => {
            let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            for v in session_cookies(&s, &headers, &accepted.session) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => {
            let message = match &e {
                latchkey_service::ServiceError::Validation(errors) => errors
                    .errors()
                    .iter()
                    .map(|f| f.message.clone())
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            let status = crate::error::ApiError::from(e).status_code();
            if status == StatusCode::UNAUTHORIZED {
                return page(status, NOT_VALID);
            }
            page(
                status,
                &format!(
                    "<h1>The invitation was not accepted</h1><p>{}</p><p>Go back and correct it.</p>",
                    escape(&message)
                ),
            )
        }
    }
}
