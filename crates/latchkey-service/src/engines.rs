//! One entitlement engine per organisation, kept in memory and rebuilt when the
//! organisation's revision moves past the one it was built at. The revision is read from the
//! store on use, so a write by another process is seen at the next request.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use latchkey_engine::{
    Engine, GrantEdge, GroupNode, InheritanceEdge, MembershipEdge, RoleNode, Snapshot, SystemNode,
    UserNode,
};
use latchkey_model::{GroupId, OrgId, RoleId, SystemId};
use latchkey_store::{Store, Tx};
use tokio::sync::Mutex;

use crate::{ServiceError, ServiceResult};

/// An engine and the names needed to explain its answers.
#[derive(Debug)]
pub struct OrgEngine {
    pub revision: i64,
    pub engine: Engine,
    pub groups: HashMap<GroupId, String>,
    pub systems: HashMap<SystemId, String>,
    pub roles: HashMap<RoleId, (String, SystemId)>,
    /// Roles that need a scope value.
    pub scoped_roles: std::collections::HashSet<RoleId>,
    /// Product permissions carried by each role that carries any.
    pub permissions_of: HashMap<RoleId, Vec<latchkey_model::Permission>>,
}

impl OrgEngine {
    pub fn role_name(&self, role: RoleId) -> String {
        self.roles
            .get(&role)
            .map(|(n, _)| n.clone())
            .unwrap_or_else(|| role.to_string())
    }

    pub fn group_name(&self, group: GroupId) -> String {
        self.groups
            .get(&group)
            .cloned()
            .unwrap_or_else(|| group.to_string())
    }

    pub fn system_name(&self, system: SystemId) -> String {
        self.systems
            .get(&system)
            .cloned()
            .unwrap_or_else(|| system.to_string())
    }
}

#[derive(Default)]
pub struct EngineCache {
    engines: RwLock<HashMap<OrgId, Arc<OrgEngine>>>,
    rebuild: Mutex<()>,
}

impl EngineCache {
    fn cached(&self, org: OrgId) -> Option<Arc<OrgEngine>> {
        self.engines.read().ok().and_then(|m| m.get(&org).cloned())
    }

    /// The organisation's engine at its current revision.
    pub async fn get(&self, store: &dyn Store, org: OrgId) -> ServiceResult<Arc<OrgEngine>> {
        let current = {
            let mut tx = store.read().await?;
            tx.revision(org)
                .await?
                .ok_or_else(|| ServiceError::not_found("organisation", org))?
        };
        if let Some(e) = self.cached(org).filter(|e| e.revision >= current) {
            return Ok(e);
        }
        let _guard = self.rebuild.lock().await;
        if let Some(e) = self.cached(org).filter(|e| e.revision >= current) {
            return Ok(e);
        }
        let mut tx = store.read().await?;
        let built = Arc::new(load(&mut *tx, org).await?);
        drop(tx);
        if let Ok(mut map) = self.engines.write() {
            map.insert(org, Arc::clone(&built));
        }
        Ok(built)
    }
}

async fn load(tx: &mut dyn Tx, org: OrgId) -> ServiceResult<OrgEngine> {
    let revision = tx.revision(org).await?.unwrap_or_default();
    let groups = tx.all_groups(org).await?;
    let systems = tx.all_systems(org).await?;
    let users = tx.all_user_heads(org).await?;
    let memberships = tx.all_memberships(org).await?;
    let roles = tx.all_roles(org).await?;
    let inheritance = tx.all_inheritance(org).await?;
    let grants = tx.all_grants(org).await?;
    let snapshot = Snapshot {
        groups: groups
            .iter()
            .map(|g| GroupNode {
                id: g.id,
                parent: g.parent_id,
                disabled: g.disabled,
                active_since: g.active_since,
                active_until: g.active_until,
            })
            .collect(),
        systems: systems
            .iter()
            .map(|s| SystemNode {
                id: s.id,
                parent: s.parent_id,
            })
            .collect(),
        users: users
            .iter()
            .map(|u| UserNode {
                id: u.id,
                primary_group: u.primary_group_id,
                enabled: u.enabled,
            })
            .collect(),
        memberships: memberships
            .iter()
            .map(|m| MembershipEdge {
                user: m.user_id,
                group: m.group_id,
                starts_at: m.starts_at,
                ends_at: m.ends_at,
            })
            .collect(),
        roles: roles
            .iter()
            .map(|r| RoleNode {
                id: r.id,
                system: r.system_id,
                permissions: r.permissions.clone(),
                scoped: r.domain.is_scoped(),
            })
            .collect(),
        inheritance: inheritance
            .iter()
            .map(|e| InheritanceEdge {
                parent: e.parent_role_id,
                child: e.child_role_id,
                mandatory: e.mandatory,
                scope: e.scope.clone(),
            })
            .collect(),
        grants: grants
            .iter()
            .map(|g| GrantEdge {
                id: g.id,
                role: g.role_id,
                grantee: g.grantee,
                scope: g.scope.clone(),
                starts_at: g.starts_at,
                ends_at: g.ends_at,
                confers: g.status.confers(),
            })
            .collect(),
    };
    Ok(OrgEngine {
        revision,
        engine: Engine::build(&snapshot),
        groups: groups.into_iter().map(|g| (g.id, g.name)).collect(),
        systems: systems.into_iter().map(|s| (s.id, s.name)).collect(),
        scoped_roles: roles
            .iter()
            .filter(|r| r.domain.is_scoped())
            .map(|r| r.id)
            .collect(),
        permissions_of: roles
            .iter()
            .filter(|r| !r.permissions.is_empty())
            .map(|r| (r.id, r.permissions.clone()))
            .collect(),
        roles: roles
            .into_iter()
            .map(|r| (r.id, (r.name, r.system_id)))
            .collect(),
    })
}
