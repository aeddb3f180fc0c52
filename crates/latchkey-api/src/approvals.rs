//! Approvals: the body of a decision on `/api/v1/approvals/{id}/approve|reject|cancel` and
//! the 202 answer of a grant that waits for approval (`POST /api/v1/grants`). The request
//! itself travels as `latchkey_model::ApprovalRequest`.

use latchkey_model::{ApprovalRequest, Grant};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A decision's comment: required to reject (it says why), optional otherwise; at most
/// 2,000 characters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalDecision {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// `202 Accepted` from `POST /api/v1/grants`: the grant, `pending_approval`, with the
/// request an approver decides. The grant's fields are at the top level, so a client
/// reading a grant reads this too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrantRequested {
    #[serde(flatten)]
    pub grant: Grant,
    pub approval_request: ApprovalRequest,
}
