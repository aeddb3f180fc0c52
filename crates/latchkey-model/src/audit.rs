//! Audit entries and their hash chain. Each organisation's entries form a chain: an entry's
//! hash covers its content and the previous entry's hash, so editing, removing or reordering
//! any row breaks every hash after it. `audit verify` recomputes the chain.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{AuditId, OrgId, UserId};

/// What the service hands to the store; the store assigns the sequence and the hashes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NewAuditEntry {
    pub id: AuditId,
    pub org_id: OrgId,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor_id: Option<UserId>,
    /// `user.create`, `grant.revoke`, ...
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    /// Position in the organisation's chain, from 1.
    pub seq: i64,
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The chain's hash function.
pub struct AuditHash;

impl AuditHash {
    /// The `prev_hash` of an organisation's first entry.
    pub const GENESIS: &'static str =
        "0000000000000000000000000000000000000000000000000000000000000000";

    /// SHA-256 over the previous hash, the sequence number and the JSON encoding of the
    /// entry. The encoding is stable: struct fields in declaration order, and `before` and
    /// `after` in the key order they were stored with (stored as text, read back as
    /// written; maps keep their order).
    pub fn compute(prev_hash: &str, seq: i64, entry: &NewAuditEntry) -> String {
        let body = serde_json::to_string(entry).unwrap_or_default();
        let mut hasher = Sha256::new();
        hasher.update(prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(seq.to_string().as_bytes());
        hasher.update(b"\n");
        hasher.update(body.as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// Where a chain stops being valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainBreak {
    pub seq: i64,
    pub reason: String,
}

/// Checks a chain entry by entry, so that a long chain can be read in batches.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: i64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            prev_hash: AuditHash::GENESIS.to_owned(),
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// Entries accepted so far.
    pub fn verified(&self) -> i64 {
        self.next_seq - 1
    }

    /// Accepts the next entry, or says why the chain breaks there.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        let reason = if e.seq != self.next_seq {
            Some(format!("entry {} is missing", self.next_seq))
        } else if e.prev_hash != self.prev_hash {
            Some("its previous hash does not match the entry before it".to_owned())
        } else if AuditHash::compute(&e.prev_hash, e.seq, &e.entry) != e.hash {
            Some("its content does not match its hash".to_owned())
        } else {
            None
        };
        if let Some(reason) = reason {
            return Err(ChainBreak { seq: e.seq, reason });
        }
        self.prev_hash = e.hash.clone();
        self.next_seq += 1;
        Ok(())
    }
}

/// Verifies entries given in ascending `seq` order, from the first of the organisation;
/// returns how many there were.
pub fn verify_chain<'a>(
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<i64, ChainBreak> {
    let mut verifier = ChainVerifier::default();
    for e in entries {
        verifier.push(e)?;
    }
    Ok(verifier.verified())
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn entry(action: &str) -> NewAuditEntry {
        NewAuditEntry {
            id: AuditId::from_uuid(Uuid::nil()),
            org_id: OrgId::from_uuid(Uuid::nil()),
            at: OffsetDateTime::UNIX_EPOCH,
            actor_id: None,
            action: action.to_owned(),
            object_type: "user".to_owned(),
            object_id: "x".to_owned(),
            before: None,
            after: Some(serde_json::json!({"b": 1, "a": 2})),
            request_id: None,
        }
    }

    fn chain(actions: &[&str]) -> Vec<AuditEntry> {
        let mut prev = AuditHash::GENESIS.to_owned();
        let mut out = Vec::new();
        for (i, a) in actions.iter().enumerate() {
            let seq = i as i64 + 1;
            let e = entry(a);
            let hash = AuditHash::compute(&prev, seq, &e);
            out.push(AuditEntry {
                seq,
                entry: e,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        out
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(&chain(&["a", "b", "c"])), Ok(3));
    }

    #[test]
    fn an_edited_entry_is_found() {
        let mut c = chain(&["a", "b", "c"]);
        c[1].entry.action = "forged".to_owned();
        assert_eq!(verify_chain(&c).map_err(|b| b.seq), Err(2));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut c = chain(&["a", "b", "c"]);
        c.remove(1);
        assert_eq!(verify_chain(&c).map_err(|b| b.seq), Err(3));
    }
}
