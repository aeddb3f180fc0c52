//! What every sign-in and every session resolved from the store reads, and what almost never
//! changes, kept beside the store so that a sign-in issues fewer statements:
//! - organisations by id and slug: an organisation is never renamed or removed;
//! - the list of every organisation, which a sign-in without an organisation reads to know
//!   there is exactly one: another server may add one, so it is read again after
//!   [`ORG_LIST_TTL`] (and at once after this server adds one);
//! - each organisation's role security policies, with the revision of the organisation's
//!   engine they were read at or after: every change to a policy is a write, which moves
//!   that revision, so an entry is used only while the engine still says the same;
//! - likewise the password policy that applies to each user type (or to users of none).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, RwLock};

use latchkey_model::{OrgId, Organisation, PasswordPolicy, StoredRoleSecurityPolicy, UserTypeId};
use time::OffsetDateTime;

/// How long the list of organisations is trusted.
pub(crate) const ORG_LIST_TTL: time::Duration = time::Duration::seconds(5);

/// Values kept with the engine revision they were read at or after, each used only while
/// its organisation's engine still says that revision.
struct AtRevision<K, V>(RwLock<HashMap<K, (i64, V)>>);

impl<K, V> Default for AtRevision<K, V> {
    fn default() -> Self {
        AtRevision(RwLock::new(HashMap::new()))
    }
}

impl<K: Eq + Hash, V: Clone> AtRevision<K, V> {
    fn get(&self, key: &K, revision: i64) -> Option<V> {
        let all = self.0.read().ok()?;
        let (at, v) = all.get(key)?;
        (*at == revision).then(|| v.clone())
    }

    /// One entry per key, rewritten in place: a few hundred at most.
    fn put(&self, key: K, revision: i64, value: V) {
        if let Ok(mut all) = self.0.write() {
            all.insert(key, (revision, value));
        }
    }
}

#[derive(Default)]
pub(crate) struct SignInCache {
    orgs: RwLock<HashMap<OrgId, Organisation>>,
    listed: RwLock<Option<(OffsetDateTime, Vec<Organisation>)>>,
    policies: AtRevision<OrgId, Arc<Vec<StoredRoleSecurityPolicy>>>,
    /// The password policy that applies to the users of a user type (or of none).
    password_policies: AtRevision<(OrgId, Option<UserTypeId>), PasswordPolicy>,
}

impl SignInCache {
    pub(crate) fn org(&self, id: OrgId) -> Option<Organisation> {
        self.orgs.read().ok()?.get(&id).cloned()
    }

    pub(crate) fn org_by_slug(&self, slug: &str) -> Option<Organisation> {
        self.orgs
            .read()
            .ok()?
            .values()
            .find(|o| o.slug == slug)
            .cloned()
    }

    /// Keeps `org` when there is one, and hands it back.
    pub(crate) fn remembered(&self, org: Option<Organisation>) -> Option<Organisation> {
        if let Some(o) = &org {
            self.remember_org(o);
        }
        org
    }

    pub(crate) fn remember_org(&self, org: &Organisation) {
        if let Ok(mut orgs) = self.orgs.write() {
            orgs.insert(org.id, org.clone());
        }
    }

    /// Every organisation, when read less than [`ORG_LIST_TTL`] before `now`.
    pub(crate) fn listed(&self, now: OffsetDateTime) -> Option<Vec<Organisation>> {
        let listed = self.listed.read().ok()?;
        let (at, orgs) = listed.as_ref()?;
        (now - *at < ORG_LIST_TTL && *at <= now).then(|| orgs.clone())
    }

    pub(crate) fn remember_list(&self, orgs: &[Organisation], now: OffsetDateTime) {
        for o in orgs {
            self.remember_org(o);
        }
        if let Ok(mut listed) = self.listed.write() {
            *listed = Some((now, orgs.to_vec()));
        }
    }

    /// Forgets the list (this server added an organisation).
    pub(crate) fn forget_list(&self) {
        if let Ok(mut listed) = self.listed.write() {
            *listed = None;
        }
    }

    /// The organisation's role security policies, when read at or after `revision`.
    pub(crate) fn policies(
        &self,
        org: OrgId,
        revision: i64,
    ) -> Option<Arc<Vec<StoredRoleSecurityPolicy>>> {
        self.policies.get(&org, revision)
    }

    /// Keeps policies read after the engine said `revision`.
    pub(crate) fn remember_policies(
        &self,
        org: OrgId,
        revision: i64,
        policies: Arc<Vec<StoredRoleSecurityPolicy>>,
    ) {
        self.policies.put(org, revision, policies);
    }

    /// The password policy for users of `user_type`, when read at or after `revision`.
    pub(crate) fn password_policy(
        &self,
        org: OrgId,
        user_type: Option<UserTypeId>,
        revision: i64,
    ) -> Option<PasswordPolicy> {
        self.password_policies.get(&(org, user_type), revision)
    }

    pub(crate) fn remember_password_policy(
        &self,
        org: OrgId,
        user_type: Option<UserTypeId>,
        revision: i64,
        policy: &PasswordPolicy,
    ) {
        self.password_policies
            .put((org, user_type), revision, policy.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use latchkey_model::{RoleId, RoleSecurityPolicy};

    fn org(n: u128, slug: &str) -> Organisation {
        Organisation {
            id: OrgId::from_uuid(uuid::Uuid::from_u128(n)),
            name: slug.to_owned(),
            slug: slug.to_owned(),
            revision: 0,
            created_at: OffsetDateTime::UNIX_EPOCH,
        }
    }

    #[test]
    fn the_list_of_organisations_is_trusted_for_a_few_seconds_only() {
        let cache = SignInCache::default();
        let t = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        assert!(cache.listed(t).is_none());
        cache.remember_list(&[org(1, "acme")], t);
        assert_eq!(
            cache
                .listed(t + time::Duration::seconds(4))
                .map(|l| l.len()),
            Some(1)
        );
        assert!(cache.listed(t + ORG_LIST_TTL).is_none());
        // A clock moved back does not make an old list new.
        assert!(cache.listed(t - time::Duration::seconds(1)).is_none());
        assert_eq!(
            cache.org_by_slug("acme").map(|o| o.slug),
            Some("acme".to_owned())
        );
        cache.forget_list();
        assert!(cache.listed(t).is_none());
        assert!(cache.org(org(1, "acme").id).is_some(), "organisations stay");
    }

    #[test]
    fn policies_are_used_only_at_the_revision_they_were_read_at() {
        let cache = SignInCache::default();
        let o = org(1, "acme").id;
        let row = StoredRoleSecurityPolicy {
            org_id: o,
            role_id: RoleId::from_uuid(uuid::Uuid::from_u128(9)),
            policy: RoleSecurityPolicy::default(),
        };
        cache.remember_policies(o, 7, Arc::new(vec![row]));
        assert_eq!(cache.policies(o, 7).map(|p| p.len()), Some(1));
        assert!(cache.policies(o, 8).is_none());
        assert!(cache.policies(org(2, "other").id, 7).is_none());
    }
}
