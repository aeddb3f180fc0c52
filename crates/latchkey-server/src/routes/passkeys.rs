//! Passkeys: registering, naming, listing and removing one's own; an administrator's
//! recovery for a lost device; signing in with one; proving one within a session.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use latchkey_api::{
    BeginPasskeySignIn, FinishPasskeyAssertion, FinishPasskeyRegistration, PasskeyChallenge,
    RenamePasskey, SignedIn,
};
use latchkey_model::{PasskeyId, PasskeyRecord, UserId};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Auth, AuthPending, Client};
use crate::openapi::{ApiRouter, doc};
use crate::respond::NoContent;
use crate::routes::sign_in::with_session_cookies;

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/me/passkeys/register/begin",
        begin_registration,
        doc(
            "passkeys",
            "Start registering a passkey: pass `options` to navigator.credentials.create()",
        )
        .ok::<PasskeyChallenge>(),
    )
    .post(
        "/me/passkeys/register/finish",
        finish_registration,
        doc(
            "passkeys",
            "Finish registering a passkey with the authenticator's answer",
        )
        .status(201)
        .body::<FinishPasskeyRegistration>()
        .ok::<PasskeyRecord>(),
    )
    .get(
        "/me/passkeys",
        list_own,
        doc("passkeys", "Your passkeys").ok_array::<PasskeyRecord>(),
    )
    .patch(
        "/me/passkeys/{id}",
        rename_own,
        doc("passkeys", "Rename one of your passkeys")
            .body::<RenamePasskey>()
            .ok::<PasskeyRecord>(),
    )
    .delete(
        "/me/passkeys/{id}",
        remove_own,
        doc(
            "passkeys",
            "Remove one of your passkeys (not the last while your roles require one)",
        ),
    )
    .post(
        "/me/passkeys/verify/begin",
        begin_verification,
        doc(
            "passkeys",
            "Start proving a passkey in this session (asked after a magic-link sign-in)",
        )
        .ok::<PasskeyChallenge>(),
    )
    .post(
        "/me/passkeys/verify/finish",
        finish_verification,
        doc("passkeys", "Finish proving a passkey in this session")
            .body::<FinishPasskeyAssertion>(),
    )
    .get(
        "/users/{id}/passkeys",
        list_users,
        doc("passkeys", "A user's passkeys")
            .perm("users.manage (for someone else's)")
            .ok_array::<PasskeyRecord>(),
    )
    .delete(
        "/users/{id}/passkeys/{passkey_id}",
        reset_users,
        doc(
            "passkeys",
            "Remove a user's passkey for them (recovery of a lost device)",
        )
        .perm("users.manage, and every permission the user holds"),
    )
    .post(
        "/auth/passkey/begin",
        begin_sign_in,
        doc(
            "sign-in",
            "Start a passkey sign-in: with `user_name` for that user's passkeys, without for a discoverable one",
        )
        .public()
        .status(429)
        .body::<BeginPasskeySignIn>()
        .ok::<PasskeyChallenge>(),
    )
    .post(
        "/auth/passkey/finish",
        finish_sign_in,
        doc(
            "sign-in",
            "Finish a passkey sign-in with the authenticator's assertion; opens a session",
        )
        .public()
        .body::<FinishPasskeyAssertion>()
        .ok::<SignedIn>(),
    )
}

async fn begin_registration(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
) -> ApiResult<axum::Json<PasskeyChallenge>> {
    Ok(axum::Json(s.services.begin_passkey_registration(&p).await?))
}

async fn finish_registration(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
    Client(client): Client,
    ApiJson(body): ApiJson<FinishPasskeyRegistration>,
) -> ApiResult<Response> {
    let record = s
        .services
        .finish_passkey_registration(&p, &body, &client)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(record)).into_response())
}

async fn list_own(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
) -> ApiResult<axum::Json<Vec<PasskeyRecord>>> {
    Ok(axum::Json(s.services.list_own_passkeys(&p).await?))
}

async fn rename_own(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<PasskeyId>,
    ApiJson(body): ApiJson<RenamePasskey>,
) -> ApiResult<axum::Json<PasskeyRecord>> {
    Ok(axum::Json(
        s.services.rename_own_passkey(&p, id, &body.name).await?,
    ))
}

async fn remove_own(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<PasskeyId>,
) -> ApiResult<NoContent> {
    s.services.remove_own_passkey(&p, id, &client).await?;
    Ok(NoContent)
}

async fn begin_verification(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
) -> ApiResult<axum::Json<PasskeyChallenge>> {
    Ok(axum::Json(s.services.begin_passkey_verification(&p).await?))
}

async fn finish_verification(
    State(s): State<AppState>,
    AuthPending(p): AuthPending,
    Client(client): Client,
    ApiJson(body): ApiJson<FinishPasskeyAssertion>,
) -> ApiResult<NoContent> {
    s.services
        .finish_passkey_verification(&p, &body, &client)
        .await?;
    Ok(NoContent)
}

async fn list_users(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<axum::Json<Vec<PasskeyRecord>>> {
    Ok(axum::Json(s.services.list_user_passkeys(&p, id).await?))
}

async fn reset_users(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath((user, passkey)): ApiPath<(UserId, PasskeyId)>,
) -> ApiResult<NoContent> {
    s.services
        .reset_user_passkey(&p, user, passkey, &client)
        .await?;
    Ok(NoContent)
}

async fn begin_sign_in(
    State(s): State<AppState>,
    Client(client): Client,
    ApiJson(body): ApiJson<BeginPasskeySignIn>,
) -> ApiResult<axum::Json<PasskeyChallenge>> {
    Ok(axum::Json(
        s.services.begin_passkey_sign_in(&body, &client).await?,
    ))
}

async fn finish_sign_in(
    State(s): State<AppState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(body): ApiJson<FinishPasskeyAssertion>,
) -> ApiResult<Response> {
    let signed = s.services.finish_passkey_sign_in(&body, &client).await?;
    Ok(with_session_cookies(&s, &headers, signed))
}
