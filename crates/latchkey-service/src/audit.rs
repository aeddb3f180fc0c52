//! Reading and verifying the audit trail (`audit.view`, organisation-wide only: a scoped
//! grant of it does not let anyone read the whole trail).

use latchkey_api::{AuditVerification, ListResponse};
use latchkey_model::{AuditEntry, Permission};
use latchkey_store::AuditQuery;

use crate::{AuditFilter, Principal, ServiceError, ServiceResult, Services};

const VERIFY_BATCH: u32 = 1000;

impl Services {
    pub async fn list_audit(&self, p: &Principal, f: &AuditFilter) -> ServiceResult<ListResponse<AuditEntry>> {
        if !p.require(Permission::AuditView)?.is_global() {
            return Err(ServiceError::forbidden(Permission::AuditView));
        }
        let paging = f.list.paging()?;
        // The audit cursor is the last sequence number served.
        let after_seq = match &paging.after {
            Some(after) => match after.key {
                latchkey_store::SortValue::Int(n) => Some(n),
                _ => return Err(ServiceError::invalid("cursor", "cursor", "`cursor` is not an audit cursor")),
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
        Ok(crate::list::respond(page, |e: &AuditEntry| latchkey_store::After {
            key: latchkey_store::SortValue::Int(e.seq),
            id: e.entry.id.as_uuid(),
        }))
    }

    /// Recomputes the organisation's whole hash chain.
    pub async fn verify_audit(&self, p: &Principal) -> ServiceResult<AuditVerification> {
        if !p.require(Permission::AuditView)?.is_global() {
            return Err(ServiceError::forbidden(Permission::AuditView));
        }
        let mut tx = self.read().await?;
        let mut checked = 0;
        let mut after = 0;
        let mut prev_hash = latchkey_model::AuditHash::GENESIS.to_owned();
        loop {
            let batch = tx.audit_chain(p.org_id, after, VERIFY_BATCH).await?;
            let Some(last) = batch.last() else { break };
            // Verify the batch as a continuation of the chain so far.
            let mut expected_seq = after + 1;
            for e in &batch {
                let broken = if e.seq != expected_seq {
                    Some(format!("entry {expected_seq} is missing"))
                } else if e.prev_hash != prev_hash {
                    Some("its previous hash does not match the entry before it".to_owned())
                } else if latchkey_model::AuditHash::compute(&e.prev_hash, e.seq, &e.entry) != e.hash {
                    Some("its content does not match its hash".to_owned())
                } else {
                    None
                };
                if let Some(reason) = broken {
                    return Ok(AuditVerification { ok: false, entries: checked, broken_at_seq: Some(e.seq), reason: Some(reason) });
                }
                prev_hash = e.hash.clone();
                expected_seq += 1;
                checked += 1;
            }
            after = last.seq;
            if batch.len() < VERIFY_BATCH as usize {
                break;
            }
        }
        Ok(AuditVerification { ok: true, entries: checked, broken_at_seq: None, reason: None })
    }
}
