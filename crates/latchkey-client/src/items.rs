//! App items and their sharing (`/api/v1/items…`, `/api/v1/settings/sharing`), and what a
//! user owns when they are deleted (`/api/v1/users/{id}/owned`, `/api/v1/deleted-users`).

use latchkey_api::{AddCollaborator, CreateItem, ItemView, Ownership, SharingSettings};
use latchkey_model::{DeletedUser, ItemId, UserId};

use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

impl Client {
    pub async fn create_item(&self, body: &CreateItem) -> Result<ItemView> {
        self.create("/api/v1/items", body).await
    }

    pub async fn items(&self) -> Result<Vec<ItemView>> {
        self.get("/api/v1/items").await
    }

    pub async fn item(&self, id: ItemId) -> Result<ItemView> {
        self.get(&format!("/api/v1/items/{id}")).await
    }

    pub async fn share_item(&self, id: ItemId, user: UserId) -> Result<ItemView> {
        self.create(
            &format!("/api/v1/items/{id}/collaborators"),
            &AddCollaborator { user_id: user },
        )
        .await
    }

    pub async fn unshare_item(&self, id: ItemId, user: UserId) -> Result<()> {
        self.delete(&format!("/api/v1/items/{id}/collaborators/{user}"))
            .await
    }

    pub async fn publish_item(&self, id: ItemId) -> Result<ItemView> {
        self.create(
            &format!("/api/v1/items/{id}/publish"),
            &serde_json::json!({}),
        )
        .await
    }

    pub async fn withdraw_item(&self, id: ItemId) -> Result<ItemView> {
        self.delete_json(&format!("/api/v1/items/{id}/publish"))
            .await
    }

    pub async fn sharing(&self) -> Result<SharingSettings> {
        self.get("/api/v1/settings/sharing").await
    }

    pub async fn set_sharing(&self, unrestricted: bool) -> Result<()> {
        self.put_no_content(
            "/api/v1/settings/sharing",
            &SharingSettings {
                unrestricted_sharing: unrestricted,
            },
        )
        .await
    }

    /// Everything deleting the user would hand over.
    pub async fn owned(&self, user: UserId) -> Result<Ownership> {
        self.get(&format!("/api/v1/users/{user}/owned")).await
    }

    /// Deletes a user, handing what they own to `reassign_to`.
    pub async fn delete_user_reassigning(&self, id: UserId, reassign_to: UserId) -> Result<()> {
        self.delete(&format!("/api/v1/users/{id}?reassign_to={reassign_to}"))
            .await
    }

    pub async fn deleted_users(&self) -> Result<Vec<DeletedUser>> {
        self.get("/api/v1/deleted-users").await
    }
}
