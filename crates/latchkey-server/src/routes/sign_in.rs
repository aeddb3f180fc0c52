//! Signing in and out, sessions, passwords and their policies, and the Security Center's
//! events.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    AlertAction, ChangePassword, EffectiveSecurityPolicy, ExpiredPasswordChange, MagicLinkRequest,
    MagicLinkSignIn, PasswordPolicyView, PasswordSignIn, SessionView, SetPassword, SignedIn,
};
use latchkey_model::{
    PasswordPolicy, RoleId, RoleSecurityPolicy, SecurityAlert, SecurityAlertId, SecurityEvent,
    SessionId, UserId, UserTypeId,
};
use latchkey_service::{SecurityAlertFilter, SecurityEventFilter};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{
    ApiJson, ApiPath, ApiQuery, Auth, AuthPending, CSRF_COOKIE, Client, Format, SESSION_COOKIE,
};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{self, NoContent};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/auth/password",
        sign_in_password,
        doc(
            "sign-in",
            "Sign in with a user name and a password; opens a session",
        )
        .public()
        .status(423)
            .status(429)
        .body::<PasswordSignIn>()
        .ok::<SignedIn>(),
    )
    .post(
        "/auth/password/change",
        change_expired_password,
        doc(
            "sign-in",
            "Choose a new password, proven by the current one (for an expired password)",
        )
        .public()
        .status(423)
            .status(429)
        .body::<ExpiredPasswordChange>(),
    )
    .post(
        "/auth/magic-link",
        request_magic_link,
        doc(
            "sign-in",
            "Mail a single-use sign-in link (valid 15 minutes); 202 whatever the address",
        )
        .public()
        .status(429)
        .body::<MagicLinkRequest>(),
    )
    .post(
        "/auth/magic-link/consume",
        consume_magic_link,
        doc("sign-in", "Sign in with the secret of a mailed link; opens a session")
            .public()
            .body::<MagicLinkSignIn>()
            .ok::<SignedIn>(),
    )
    .post(
        "/auth/sign-out",
        sign_out,
        doc("sign-in", "End the session this request came with"),
    )
    .get(
        "/sessions",
        list_sessions,
        doc("sign-in", "Your live sessions").ok_array::<SessionView>(),
    )
    .delete(
        "/sessions/{id}",
        revoke_session,
        doc("sign-in", "End a session: yours, or anyone's in your scope")
            .perm("users.manage (for someone else's)"),
    )
    .get(
        "/users/{id}/sessions",
        list_user_sessions,
        doc("sign-in", "A user's live sessions")
            .perm("users.manage (for someone else's)")
            .ok_array::<SessionView>(),
    )
    .put(
        "/me/password",
        change_own_password,
        doc("sign-in", "Change your password").body::<ChangePassword>(),
    )
    .put(
        "/users/{id}/password",
        set_password,
        doc(
            "sign-in",
            "Set (reset) a user's password; ends their sessions",
        )
        .perm("users.manage, and every permission the user holds")
        .body::<SetPassword>(),
    )
    .get(
        "/password-policy",
        org_policy,
        doc("sign-in", "The organisation's default password policy").ok::<PasswordPolicyView>(),
    )
    .put(
        "/password-policy",
        put_org_policy,
        doc("sign-in", "Set the organisation's default password policy")
            .perm("org.settings")
            .body::<PasswordPolicy>()
            .ok::<PasswordPolicyView>(),
    )
    .get(
        "/metadata/user-types/{id}/password-policy",
        type_policy,
        doc("sign-in", "The password policy of a user type").ok::<PasswordPolicyView>(),
    )
    .put(
        "/metadata/user-types/{id}/password-policy",
        put_type_policy,
        doc("sign-in", "Set the password policy of a user type")
            .perm("org.settings")
            .body::<PasswordPolicy>()
            .ok::<PasswordPolicyView>(),
    )
    .get(
        "/security/events",
        security_events,
        doc("security", "Security events, newest first")
            .perm("security.view")
            .page::<SecurityEvent>(&["kind", "user_id", "from", "to"]),
    )
    .get(
        "/roles/{id}/security-policy",
        role_policy,
        doc("sign-in", "A role's security policy (all off when none was set)")
            .perm("systems.view")
            .ok::<RoleSecurityPolicy>(),
    )
    .put(
        "/roles/{id}/security-policy",
        put_role_policy,
        doc(
            "sign-in",
            "Set a role's security policy (system roles included); live sessions follow at their next request",
        )
        .perm("roles.manage")
        .body::<RoleSecurityPolicy>()
        .ok::<RoleSecurityPolicy>(),
    )
    .get(
        "/me/security-policy",
        my_policy,
        doc(
            "sign-in",
            "The strictest combination of the security policies of your roles",
        )
        .ok::<EffectiveSecurityPolicy>(),
    )
    .get(
        "/security/alerts",
        security_alerts,
        doc("security", "Security alerts, newest first")
            .perm("security.view")
            .page::<SecurityAlert>(&["status", "rule", "user_id"]),
    )
    .post(
        "/security/alerts/{id}/acknowledge",
        acknowledge_alert,
        doc("security", "Acknowledge an open alert")
            .perm("security.view")
            .body::<AlertAction>()
            .ok::<SecurityAlert>(),
    )
    .post(
        "/security/alerts/{id}/resolve",
        resolve_alert,
        doc("security", "Resolve an open or acknowledged alert")
            .perm("security.view")
            .body::<AlertAction>()
            .ok::<SecurityAlert>(),
    )
}

async fn sign_in_password(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<PasswordSignIn>,
) -> ApiResult<Response> {
    let signed = s.services.sign_in_password(&body, &client).await?;
    Ok(with_session_cookies(&s, &headers, signed))
}

/// The signed-in answer as JSON, with the browser's session and CSRF cookies.
pub(crate) fn with_session_cookies(
    s: &AppState,
    headers: &HeaderMap,
    signed: SignedIn,
) -> Response {
    let cookies = session_cookies(s, headers, &signed);
    let mut response = axum::Json(signed).into_response();
    for v in cookies {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

pub(crate) fn session_cookies(
    s: &AppState,
    headers: &HeaderMap,
    signed: &SignedIn,
) -> Vec<HeaderValue> {
    let max_age = (signed.expires_at - s.services.now())
        .whole_seconds()
        .max(0);
    let secure = if served_locally(headers) {
        ""
    } else {
        "; Secure"
    };
    let session = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
        signed.token
    );
    let csrf = format!(
        "{CSRF_COOKIE}={}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
        latchkey_service::csrf_token(&signed.token)
    );
    [session, csrf]
        .iter()
        .filter_map(|c| HeaderValue::from_str(c).ok())
        .collect()
}

async fn request_magic_link(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<MagicLinkRequest>,
) -> ApiResult<Response> {
    s.services.request_magic_link(&body, &client).await?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({
            "detail": "if the address belongs to a user, a sign-in link is on its way"
        })),
    )
        .into_response())
}

async fn consume_magic_link(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<MagicLinkSignIn>,
) -> ApiResult<Response> {
    let signed = s.services.sign_in_magic_link(&body.token, &client).await?;
    Ok(with_session_cookies(&s, &headers, signed))
}

#[derive(serde::Deserialize)]
pub(crate) struct LinkToken {
    #[serde(default)]
    token: String,
}

/// `GET /auth/magic-link?token=…`, where the mailed link leads: a page whose button posts
/// the token. Opening the link signs nobody in, so mail scanners that fetch links do not
/// use it up.
pub(crate) async fn magic_link_page(
    axum::extract::Query(q): axum::extract::Query<LinkToken>,
) -> Response {
    let token: String = q
        .token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .take(200)
        .collect();
    crate::console::link_page(&token)
}

/// `POST /auth/magic-link` (the page's form): signs in, sets the cookies and goes home.
pub(crate) async fn magic_link_form(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    axum::extract::Form(form): axum::extract::Form<LinkToken>,
) -> Response {
    match s.services.sign_in_magic_link(&form.token, &client).await {
        Ok(signed) => {
            let mut response =
                (axum::http::StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            for v in session_cookies(&s, &headers, &signed) {
                response.headers_mut().append(header::SET_COOKIE, v);
            }
            response
        }
        Err(e) => crate::console::link_failed_page(crate::error::ApiError::from(e).status_code()),
    }
}

/// Cookies are `Secure` except on a loopback name, where development runs over plain
/// HTTP.
pub(crate) fn served_locally(headers: &HeaderMap) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    matches!(name, "localhost" | "127.0.0.1" | "::1")
}

async fn change_expired_password(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<ExpiredPasswordChange>,
) -> ApiResult<NoContent> {
    s.services.change_expired_password(&body, &client).await?;
    Ok(NoContent)
}

async fn sign_out(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
    Client(client): Client,
) -> ApiResult<Response> {
    s.services.sign_out(&p, &client).await?;
    let mut response = NoContent.into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        if let Ok(v) = HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

async fn list_sessions(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    Ok(axum::Json(s.services.list_own_sessions(&p).await?))
}

async fn revoke_session(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<SessionId>,
) -> ApiResult<NoContent> {
    s.services.revoke_session(&p, id, &client).await?;
    Ok(NoContent)
}

async fn list_user_sessions(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<axum::Json<Vec<SessionView>>> {
    Ok(axum::Json(s.services.list_user_sessions(&p, id).await?))
}

async fn change_own_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiJson(body): ApiJson<ChangePassword>,
) -> ApiResult<NoContent> {
    s.services.change_own_password(&p, &body, &client).await?;
    Ok(NoContent)
}

async fn set_password(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<UserId>,
    ApiJson(body): ApiJson<SetPassword>,
) -> ApiResult<NoContent> {
    s.services.set_password(&p, id, &body, &client).await?;
    Ok(NoContent)
}

async fn org_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<PasswordPolicyView>> {
    Ok(axum::Json(s.services.password_policy(&p, None).await?))
}

async fn put_org_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiJson(body): ApiJson<PasswordPolicy>,
) -> ApiResult<axum::Json<PasswordPolicyView>> {
    Ok(axum::Json(
        s.services
            .put_password_policy(&p, None, body, &client)
            .await?,
    ))
}

async fn type_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserTypeId>,
) -> ApiResult<axum::Json<PasswordPolicyView>> {
    Ok(axum::Json(s.services.password_policy(&p, Some(id)).await?))
}

async fn put_type_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<UserTypeId>,
    ApiJson(body): ApiJson<PasswordPolicy>,
) -> ApiResult<axum::Json<PasswordPolicyView>> {
    Ok(axum::Json(
        s.services
            .put_password_policy(&p, Some(id), body, &client)
            .await?,
    ))
}

async fn security_events(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<SecurityEventFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_security_events(&p, &f).await }
    })
    .await
}

async fn security_alerts(
    State(s): State<AppState>,
    Auth(p): Auth,
    format: Format,
    ApiQuery(mut f): ApiQuery<SecurityAlertFilter>,
) -> ApiResult<Response> {
    super::csv_page(format, &mut f.list);
    let first = f.list.cursor.take();
    respond::list(format, first, |cursor| {
        let (s, p, mut f) = (s.clone(), p.clone(), f.clone());
        f.list.cursor = cursor;
        async move { s.services.list_security_alerts(&p, &f).await }
    })
    .await
}

async fn acknowledge_alert(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<SecurityAlertId>,
    ApiJson(body): ApiJson<AlertAction>,
) -> ApiResult<axum::Json<SecurityAlert>> {
    Ok(axum::Json(
        s.services.acknowledge_alert(&p, id, &body, &client).await?,
    ))
}

async fn resolve_alert(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<SecurityAlertId>,
    ApiJson(body): ApiJson<AlertAction>,
) -> ApiResult<axum::Json<SecurityAlert>> {
    Ok(axum::Json(
        s.services.resolve_alert(&p, id, &body, &client).await?,
    ))
}

async fn role_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<RoleId>,
) -> ApiResult<axum::Json<RoleSecurityPolicy>> {
    Ok(axum::Json(s.services.role_security_policy(&p, id).await?))
}

async fn put_role_policy(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<RoleId>,
    ApiJson(body): ApiJson<RoleSecurityPolicy>,
) -> ApiResult<axum::Json<RoleSecurityPolicy>> {
    Ok(axum::Json(
        s.services
            .put_role_security_policy(&p, id, body, &client)
            .await?,
    ))
}

async fn my_policy(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
) -> ApiResult<axum::Json<EffectiveSecurityPolicy>> {
    Ok(axum::Json(s.services.my_security_policy(&p).await?))
}
