//! TOTP devices: your own (enrol, verify, list, disable) and, with `users.manage`, a user's
//! (list, reset).

use axum::extract::{FromRequest as _, Request, State};
use axum::http::header;
use latchkey_api::{EnrollTotp, TotpCode, TotpDeviceView, TotpEnrolled};
use latchkey_model::{TotpDeviceId, UserId};

use crate::app::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, ApiPath, Auth, Client};
use crate::openapi::{ApiRouter, doc};
use crate::respond::{CreatedPlain, NoContent};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.get(
        "/me/totp",
        list_own,
        doc(
            "sign-in",
            "Your TOTP devices, with their failed attempts since the last accepted code",
        )
        .ok_array::<TotpDeviceView>(),
    )
    .post(
        "/me/totp",
        enroll,
        doc(
            "sign-in",
            "Enrol a TOTP device: answers its secret (shown once), otpauth URL and QR code (SVG); it counts once verified",
        )
        .body::<EnrollTotp>()
        .created::<TotpEnrolled>(),
    )
    .post(
        "/me/totp/{id}/verify",
        verify,
        doc(
            "sign-in",
            "Verify a TOTP device with its current code; from then on sign-ins ask for a code",
        )
        .body::<TotpCode>()
        .ok::<TotpDeviceView>(),
    )
    .delete(
        "/me/totp/{id}",
        disable_own,
        doc(
            "sign-in",
            "Disable one of your TOTP devices; a verified one needs a current code in the body",
        )
        .body::<TotpCode>(),
    )
    .get(
        "/users/{id}/totp",
        list_user,
        doc("sign-in", "A user's TOTP devices")
            .perm("users.manage (for someone else's)")
            .ok_array::<TotpDeviceView>(),
    )
    .delete(
        "/users/{id}/totp/{device}",
        reset_user,
        doc(
            "sign-in",
            "Reset (remove) a user's TOTP device, for someone who lost it",
        )
        .perm("users.manage"),
    )
}

async fn list_own(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<axum::Json<Vec<TotpDeviceView>>> {
    Ok(axum::Json(s.services.list_own_totp(&p).await?))
}

async fn enroll(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiJson(body): ApiJson<EnrollTotp>,
) -> ApiResult<CreatedPlain<TotpEnrolled>> {
    Ok(CreatedPlain(
        s.services.enroll_totp(&p, &body, &client).await?,
    ))
}

async fn verify(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<TotpDeviceId>,
    ApiJson(body): ApiJson<TotpCode>,
) -> ApiResult<axum::Json<TotpDeviceView>> {
    Ok(axum::Json(
        s.services.verify_totp(&p, id, &body, &client).await?,
    ))
}

/// The body is optional: an unverified device needs none.
async fn disable_own(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath(id): ApiPath<TotpDeviceId>,
    req: Request,
) -> ApiResult<NoContent> {
    let proof = if req.headers().contains_key(header::CONTENT_TYPE) {
        Some(ApiJson::<TotpCode>::from_request(req, &s).await?.0)
    } else {
        None
    };
    s.services
        .disable_own_totp(&p, id, proof.as_ref(), &client)
        .await?;
    Ok(NoContent)
}

async fn list_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiPath(id): ApiPath<UserId>,
) -> ApiResult<axum::Json<Vec<TotpDeviceView>>> {
    Ok(axum::Json(s.services.list_user_totp(&p, id).await?))
}

async fn reset_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    Client(client): Client,
    ApiPath((user, device)): ApiPath<(UserId, TotpDeviceId)>,
) -> ApiResult<NoContent> {
    s.services
        .reset_user_totp(&p, user, device, &client)
        .await?;
    Ok(NoContent)
}
