//! The TOTP endpoints: your own devices (enrol, verify, list, disable) and a user's (list,
//! reset).

use latchkey_api::{EnrollTotp, TotpCode, TotpDeviceView, TotpEnrolled};
use latchkey_model::{TotpDeviceId, UserId};

use crate::{Client, ClientError};

impl Client {
    /// `POST /api/v1/me/totp`: the new device with its secret, shown this once.
    pub async fn enroll_totp(&self, body: &EnrollTotp) -> Result<TotpEnrolled, ClientError> {
        self.create("/api/v1/me/totp", body).await
    }

    /// `POST /api/v1/me/totp/{id}/verify`.
    pub async fn verify_totp(
        &self,
        id: TotpDeviceId,
        body: &TotpCode,
    ) -> Result<TotpDeviceView, ClientError> {
        self.create(&format!("/api/v1/me/totp/{id}/verify"), body)
            .await
    }

    /// `GET /api/v1/me/totp`.
    pub async fn list_totp(&self) -> Result<Vec<TotpDeviceView>, ClientError> {
        self.get("/api/v1/me/totp").await
    }

    /// `DELETE /api/v1/me/totp/{id}`; a verified device needs a current code.
    pub async fn disable_totp(
        &self,
        id: TotpDeviceId,
        code: Option<&TotpCode>,
    ) -> Result<(), ClientError> {
        let path = format!("/api/v1/me/totp/{id}");
        match code {
            Some(body) => self.delete_with_body(&path, body).await,
            None => self.delete(&path).await,
        }
    }

    /// `GET /api/v1/users/{id}/totp`.
    pub async fn list_user_totp(&self, user: UserId) -> Result<Vec<TotpDeviceView>, ClientError> {
        self.get(&format!("/api/v1/users/{user}/totp")).await
    }

    /// `DELETE /api/v1/users/{id}/totp/{device}`: an administrator's reset.
    pub async fn reset_user_totp(
        &self,
        user: UserId,
        device: TotpDeviceId,
    ) -> Result<(), ClientError> {
        self.delete(&format!("/api/v1/users/{user}/totp/{device}"))
            .await
    }
}
