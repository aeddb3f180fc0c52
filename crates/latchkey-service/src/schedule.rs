//! The scheduler: dated grants and memberships take effect and end on time without anyone
//! acting. The engine already answers every instant exactly from the dates; the scheduler
//! brings what is *stored* and *recorded* level with the clock: a grant's status moves
//! from `scheduled` to `active` when it starts and to `expired` when it ends (audited as
//! `grant.activate` and `grant.expire`), a dated membership's start and end are recorded
//! once each (audited as `membership.start` and `membership.end`), and the assignment
//! rules re-run for the users whose groups just changed.
//!
//! It runs on every replica with the change-log poll; each organisation is first looked
//! at in a read (a tick with nothing due writes nothing and leaves the revision alone),
//! then changed in one write transaction, which serialises replicas; the second finds
//! nothing left to do.

use std::collections::BTreeSet;

use latchkey_model::{GrantStatus, OrgId, UserId};
use latchkey_store::Edge;

use crate::{ServiceResult, Services};

/// Grants and memberships handled per organisation and tick.
const BATCH: u32 = 1_000;

/// How far behind its clock a tick that found every due edge marks them dealt with: a
/// margin for replicas' clocks, so an edge another replica writes just ahead of its own
/// clock is still looked for.
const MARK_MARGIN: time::Duration = time::Duration::minutes(1);

impl Services {
    /// Brings every organisation's dated grants and memberships level with the clock;
    /// answers how many were changed or recorded.
    pub async fn run_schedule(&self) -> ServiceResult<usize> {
        let orgs = self.read().await?.list_orgs().await?;
        let mut done = 0;
        for org in orgs {
            done += self.run_schedule_for(org.id).await?;
        }
        Ok(done)
    }

    async fn run_schedule_for(&self, org: OrgId) -> ServiceResult<usize> {
        let now = self.now();
        {
            let mut tx = self.read().await?;
            if tx.due_grants(org, now, 1).await?.is_empty()
                && tx.due_memberships(org, now, 1).await?.is_empty()
            {
                return Ok(0);
            }
        }
        let mut tx = self.begin(org).await?;
        let mut done = 0;
        for mut grant in tx.due_grants(org, now, BATCH).await? {
            let before = grant.clone();
            grant.status = GrantStatus::dated(grant.starts_at, grant.ends_at, now);
            if grant.status == before.status {
                continue;
            }
            grant.stamps.touch(now, None);
            tx.update_grant(&grant).await?;
            let action = if grant.status == GrantStatus::Expired {
                "grant.expire"
            } else {
                "grant.activate"
            };
            self.audit(
                &mut *tx,
                None,
                org,
                action,
                "grant",
                grant.id,
                Some(&before),
                Some(&grant),
            )
            .await?;
            done += 1;
        }
        let mut users: BTreeSet<UserId> = BTreeSet::new();
        let found = tx.due_memberships(org, now, BATCH).await?;
        let all_found = found.len() < BATCH as usize;
        for (m, edge) in found {
            let due = match edge {
                Edge::Start => m.starts_at,
                Edge::End => m.ends_at,
            };
            let Some(due) = due else { continue };
            if !tx.record_edge(org, m.id.as_uuid(), edge, due, now).await? {
                continue;
            }
            let action = match edge {
                Edge::Start => "membership.start",
                Edge::End => "membership.end",
            };
            self.audit(
                &mut *tx,
                None,
                org,
                action,
                "membership",
                m.id,
                None::<&()>,
                Some(&m),
            )
            .await?;
            users.insert(m.user_id);
            done += 1;
        }
        if all_found {
            tx.mark_edges_through(org, now - MARK_MARGIN).await?;
        }
        let users: Vec<UserId> = users.into_iter().collect();
        self.reapply_rules(&mut *tx, None, org, &users).await?;
        tx.commit().await?;
        Ok(done)
    }
}
