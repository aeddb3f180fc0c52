//! The approval endpoints (`/api/v1/approvals…`): the queues, one request, and decisions.
//! A grant or revoke that waits for approval answers 202 from the grant endpoints;
//! `create_grant` reads the pending grant from it, `request_grant` and `revoke_or_request`
//! also the request.

use latchkey_api::{ApprovalDecision, CreateGrant, GrantRequested, ListResponse};
use latchkey_model::{ApprovalId, ApprovalRequest, GrantId, SystemId};
use reqwest::{Method, StatusCode};
use serde::Serialize;

use crate::query::Page;
use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// `GET /api/v1/approvals` filters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApprovalFilter {
    /// `to_decide` (the server's default), `requested` or `all`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_id: Option<SystemId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant_id: Option<GrantId>,
}

impl Client {
    pub async fn list_approvals(
        &self,
        filter: &ApprovalFilter,
        page: &Page,
    ) -> Result<ListResponse<ApprovalRequest>> {
        self.list("/api/v1/approvals", filter, page).await
    }

    pub async fn list_all_approvals(
        &self,
        filter: &ApprovalFilter,
        page: &Page,
    ) -> Result<Vec<ApprovalRequest>> {
        self.list_all("/api/v1/approvals", filter, page).await
    }

    pub async fn get_approval(&self, id: ApprovalId) -> Result<ApprovalRequest> {
        self.get(&format!("/api/v1/approvals/{id}")).await
    }

    pub async fn approve(
        &self,
        id: ApprovalId,
        comment: Option<String>,
    ) -> Result<ApprovalRequest> {
        self.create(
            &format!("/api/v1/approvals/{id}/approve"),
            &ApprovalDecision { comment },
        )
        .await
    }

    pub async fn reject(&self, id: ApprovalId, comment: String) -> Result<ApprovalRequest> {
        self.create(
            &format!("/api/v1/approvals/{id}/reject"),
            &ApprovalDecision {
                comment: Some(comment),
            },
        )
        .await
    }

    pub async fn cancel_approval(&self, id: ApprovalId) -> Result<ApprovalRequest> {
        self.create(
            &format!("/api/v1/approvals/{id}/cancel"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /api/v1/grants` for a role whose system has an approval process: the pending
    /// grant with its request. (For other roles the answer has no request and this fails
    /// to decode; use `create_grant`.)
    pub async fn request_grant(&self, body: &CreateGrant) -> Result<GrantRequested> {
        self.create("/api/v1/grants", body).await
    }

    /// `DELETE /api/v1/grants/{id}`: `None` when the grant is revoked, or the approval
    /// request when the revoke waits for approval (202).
    pub async fn revoke_or_request(&self, id: GrantId) -> Result<Option<ApprovalRequest>> {
        let (builder, url) = self.request(Method::DELETE, &format!("/api/v1/grants/{id}"));
        let response = self.send(builder, &url).await?;
        if response.status() == StatusCode::ACCEPTED {
            Self::read_json(response, &url).await.map(Some)
        } else {
            Ok(None)
        }
    }
}
