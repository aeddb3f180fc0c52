//! Passkeys: listing, renaming and removing them (registering and signing in need an
//! authenticator, which a browser or a platform provides).

use latchkey_api::RenamePasskey;
use latchkey_model::{PasskeyId, PasskeyRecord, UserId};

use crate::{Client, ClientError};

impl Client {
    /// `GET /api/v1/me/passkeys`, or a user's with `users.manage`.
    pub async fn list_passkeys(
        &self,
        user: Option<UserId>,
    ) -> Result<Vec<PasskeyRecord>, ClientError> {
        match user {
            Some(u) => self.get(&format!("/api/v1/users/{u}/passkeys")).await,
            None => self.get("/api/v1/me/passkeys").await,
        }
    }

    /// `PATCH /api/v1/me/passkeys/{id}`.
    pub async fn rename_passkey(
        &self,
        id: PasskeyId,
        name: &str,
    ) -> Result<PasskeyRecord, ClientError> {
        self.update(
            &format!("/api/v1/me/passkeys/{id}"),
            &RenamePasskey {
                name: name.to_owned(),
            },
            None,
        )
        .await
    }

    /// `DELETE /api/v1/me/passkeys/{id}`, or with `user` an administrator's reset
    /// (`DELETE /api/v1/users/{user}/passkeys/{id}`).
    pub async fn remove_passkey(
        &self,
        user: Option<UserId>,
        id: PasskeyId,
    ) -> Result<(), ClientError> {
        match user {
            Some(u) => {
                self.delete(&format!("/api/v1/users/{u}/passkeys/{id}"))
                    .await
            }
            None => self.delete(&format!("/api/v1/me/passkeys/{id}")).await,
        }
    }
}
