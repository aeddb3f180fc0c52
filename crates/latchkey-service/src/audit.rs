//! Reading and verifying the audit trail (`audit.view`, organisation-wide only: a scoped
//! grant of it does not let anyone read the whole trail).

use latchkey_api::{AuditVerification, ListResponse};
use latchkey_model::{AuditEntry, ChainVerifier, Permission};
use latchkey_store::AuditQuery;

use crate::{AuditFilter, Principal, ServiceError, ServiceResult, Services};

const VERIFY_BATCH: u32 = 1000;

impl Services {
    pub async fn list_audit(
        &self,
        p: &Principal,
        f: &AuditFilter,
    ) -> ServiceResult<ListResponse<AuditEntry>> {
        if !p.require(Permission::AuditView)?.is_global() {
            return Err(ServiceError::forbidden(Permission::AuditView));
        }
        let paging = f.list.paging()?;
        // The audit cursor is the last sequence number served.
        let after_seq = match &paging.after {
            Some(after) => match after.key {
                latchkey_store::SortValue::Int(n) => Some(n),
                _ => {
                    return Err(ServiceError::invalid(
                        "cursor",
                        "cursor",
                        "`cursor` is not an audit cursor",
                    ));
                }
            },
            None => None,
        };
        let query = AuditQuery {
            limit: paging.limit,
            after_seq,
            descending: paging.descending,
            object_type: f.object_type.clone(),
            object_id: f.object_id.clone(),
            actor: f.actor_id,
            action: f.action.clone(),
            from: f.from,
            to: f.to,
        };
        let mut tx = self.read().await?;
        let page = tx.list_audit(p.org_id, &query).await?;
        Ok(crate::list::respond(page, |e: &AuditEntry| {
            latchkey_store::After {
                key: latchkey_store::SortValue::Int(e.seq),
                id: e.entry.id.as_uuid(),
            }
        }))
    }

    /// Recomputes the organisation's whole hash chain.
    pub async fn verify_audit(&self, p: &Principal) -> ServiceResult<AuditVerification> {
        if !p.require(Permission::AuditView)?.is_global() {
            return Err(ServiceError::forbidden(Permission::AuditView));
        }
        let mut tx = self.read().await?;
        let mut verifier = ChainVerifier::default();
        loop {
            let batch = tx
                .audit_chain(p.org_id, verifier.verified(), VERIFY_BATCH)
                .await?;
            for e in &batch {
                if let Err(broken) = verifier.push(e) {
                    return Ok(AuditVerification {
                        ok: false,
                        entries: verifier.verified(),
                        broken_at_seq: Some(broken.seq),
                        reason: Some(broken.reason),
                    });
                }
            }
            if batch.len() < VERIFY_BATCH as usize {
                break;
            }
        }
        Ok(AuditVerification {
            ok: true,
            entries: verifier.verified(),
            broken_at_seq: None,
            reason: None,
        })
    }
}
