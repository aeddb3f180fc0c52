//! Approvals: grants and revokes of roles of an information system with an approval process
//! wait for an approver.
//!
//! A manual grant of such a role (`create_grant_in`: the REST API, CSV imports,
//! invitations) is written `pending_approval` — it confers nothing — with an approval
//! request; a revoke marks the grant `pending_revoke` — it keeps conferring — with one.
//! What bypasses approval is policy or a load, not a person's request: grants and revokes
//! of assignment rules, the separate grants of non-mandatory granted roles (made when
//! their parent grant is approved), single-role replacement, the scheduler, deleting a
//! user or group, and NDJSON bulk loads (`create_grant_as(.., Approval::Bypass)` and the
//! fast lane), which are migrations.
//!
//! Approvers of a system are its owner and every user who holds its approver role now,
//! by any path (the live engine answers). Nobody decides a request they made or one that
//! grants them a role (four eyes: 403). Approving a grant re-checks segregation of duties
//! and then does what the grant would have done at once: single-role replacement, the
//! grant's dated status (`GrantStatus::dated`), the separate grants of granted roles, the
//! privileged-grant alert. Approving a revoke deletes the grant (with its children);
//! rejecting a grant deletes the pending grant; rejecting a revoke puts the grant back to
//! its dated status. The requester may cancel their own pending request, which undoes it
//! like a rejection. Every step is audited (`approval.request`, `approval.approve`,
//! `approval.reject`, `approval.cancel`, with the comment) in the write that makes it.
//!
//! Seeing a request: its requester, its system's approvers, and holders of `roles.grant`
//! for the whole organisation or of `security.view`; anyone else gets 404.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use latchkey_api::{ApprovalDecision, CreateGrant, ListResponse};
use latchkey_model::{
    ApprovalAction, ApprovalId, ApprovalRequest, ApprovalStatus, FieldError, Grant, GrantId,
    GrantStatus, Grantee, GroupId, OrgId, Permission, Role, RoleId, System, SystemId, UserId,
    ValidationErrors,
};
use latchkey_store::{After, ApprovalQuery, Paging, SortValue, SystemQuery, Tx};
use serde::Deserialize;

use crate::list::respond;
use crate::{ListParams, Principal, ServiceError, ServiceResult, Services, validate};

/// Longest comment on a decision, in characters.
pub const MAX_COMMENT: usize = 2000;

/// Whether a grant asks for approval where its system has an approval process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Approval {
    /// A person's request: it waits when the system says so.
    Ask,
    /// A load (bulk NDJSON): written as asked.
    Bypass,
}

impl Approval {
    pub(crate) fn applies(self, system: Option<&System>) -> bool {
        self == Self::Ask && system.is_some_and(|s| s.approval_process)
    }
}

/// `GET /api/v1/approvals`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ApprovalFilter {
    #[serde(flatten)]
    pub list: ListParams,
    /// `to_decide` (default): pending requests the caller may decide; `requested`: the
    /// caller's own; `all`: every request (`roles.grant` org-wide or `security.view`).
    pub queue: Option<String>,
    /// `pending`, `approved`, `rejected` or `cancelled`.
    pub status: Option<String>,
    pub system_id: Option<SystemId>,
    pub grant_id: Option<GrantId>,
}

/// Names by id, for showing approval requests (`Services::approval_names`).
#[derive(Debug, Clone, Default)]
pub struct ApprovalNames {
    pub systems: HashMap<SystemId, String>,
    pub roles: HashMap<RoleId, String>,
    pub users: HashMap<UserId, String>,
    pub groups: HashMap<GroupId, String>,
}

/// 409 `approval_pending`: the grant already waits for a decision.
pub(crate) fn approval_pending(grant: GrantId) -> ServiceError {
    ServiceError::conflict(
        "approval_pending",
        format!("grant `{grant}` waits for approval: approve, reject or cancel its request first"),
    )
}

/// 409 `in_use`: a system names the role as its approver role.
pub(crate) fn approver_role_in_use(role: &Role, system: &str) -> ServiceError {
    ServiceError::conflict(
        "in_use",
        format!(
            "role `{}` is the approver role of the information system `{system}`; change the system's approver role first",
            role.name
        ),
    )
}

/// Validates a system's approver role: a role of the organisation.
pub(crate) async fn approver_role(
    tx: &mut dyn Tx,
    org: OrgId,
    role: Option<RoleId>,
    errors: &mut ValidationErrors,
) -> ServiceResult<()> {
    if let Some(r) = role
        && tx.get_role(org, r).await?.is_none()
    {
        errors.push(FieldError::new(
            "approver_role_id",
            "exists",
            format!("role `{r}` does not exist"),
        ));
    }
    Ok(())
}

impl Services {
    /// `POST /api/v1/grants`: grants, or asks for approval where the role's system has an
    /// approval process (then the answer carries the request).
    pub async fn grant_or_request(
        &self,
        p: &Principal,
        req: CreateGrant,
    ) -> ServiceResult<(Grant, Option<ApprovalRequest>)> {
        let mut tx = self.begin(p.org_id).await?;
        let grant = self.create_grant_in(&mut *tx, p, req).await?;
        let request = if grant.status == GrantStatus::PendingApproval {
            tx.pending_approval(p.org_id, grant.id).await?
        } else {
            None
        };
        tx.commit().await?;
        Ok((grant, request))
    }

    /// Records a request for `grant` (already written pending) and audits it.
    pub(crate) async fn open_approval(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        grant: &Grant,
        system: SystemId,
        action: ApprovalAction,
        requested_by: Option<UserId>,
    ) -> ServiceResult<ApprovalRequest> {
        let request = ApprovalRequest {
            id: ApprovalId::from_uuid(self.uuid()),
            org_id: grant.org_id,
            grant_id: grant.id,
            action,
            system_id: system,
            role_id: grant.role_id,
            grantee: grant.grantee,
            scope: grant.scope.clone(),
            requested_by,
            requested_at: self.now(),
            status: ApprovalStatus::Pending,
            decided_by: None,
            decided_at: None,
            comment: None,
        };
        match tx.insert_approval(&request).await {
            Err(latchkey_store::StoreError::Conflict { constraint })
                if constraint == "approval_requests.grant_id" =>
            {
                return Err(approval_pending(grant.id));
            }
            other => other?,
        }
        self.audit(
            tx,
            p,
            grant.org_id,
            "approval.request",
            "approval",
            request.id,
            None::<&()>,
            Some(&request),
        )
        .await?;
        Ok(request)
    }

    /// A revoke: at once, or — for a role of a system with an approval process — the grant
    /// marked `pending_revoke` and the request answered.
    pub(crate) async fn request_revoke(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        grant: Grant,
    ) -> ServiceResult<Option<ApprovalRequest>> {
        let system = match tx.get_role(p.org_id, grant.role_id).await? {
            Some(role) => tx.get_system(p.org_id, role.system_id).await?,
            None => None,
        };
        let Some(system) = system.filter(|s| Approval::Ask.applies(Some(s))) else {
            self.revoke_with_children(&mut *tx, Some(p), p.org_id, grant, "grant.revoke")
                .await?;
            return Ok(None);
        };
        let before = grant.clone();
        let mut g = grant;
        g.status = GrantStatus::PendingRevoke;
        g.stamps.touch(self.now(), Some(p.user_id));
        tx.update_grant(&g).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "grant.update",
            "grant",
            g.id,
            Some(&before),
            Some(&g),
        )
        .await?;
        let request = self
            .open_approval(
                tx,
                Some(p),
                &g,
                system.id,
                ApprovalAction::Revoke,
                Some(p.user_id),
            )
            .await?;
        Ok(Some(request))
    }

    pub async fn list_approvals(
        &self,
        p: &Principal,
        f: &ApprovalFilter,
    ) -> ServiceResult<ListResponse<ApprovalRequest>> {
        let paging = f.list.paging()?;
        let status = match f.status.as_deref() {
            None => None,
            Some(raw) => Some(ApprovalStatus::parse(raw).ok_or_else(|| {
                ServiceError::invalid(
                    "status",
                    "one_of",
                    format!(
                        "`status` must be `pending`, `approved`, `rejected` or `cancelled`, not `{raw}`"
                    ),
                )
            })?),
        };
        let mut query = ApprovalQuery {
            paging,
            status,
            system: f.system_id,
            grant: f.grant_id,
            ..Default::default()
        };
        let mut tx = self.read().await?;
        match f.queue.as_deref().unwrap_or("to_decide") {
            "to_decide" => {
                if status.is_some_and(|s| s != ApprovalStatus::Pending) {
                    return Err(ServiceError::invalid(
                        "status",
                        "one_of",
                        "the `to_decide` queue lists pending requests only",
                    ));
                }
                query.status = Some(ApprovalStatus::Pending);
                query.systems = Some(self.decided_by_me(&mut *tx, p).await?);
                query.excluding_user = Some(p.user_id);
            }
            "requested" => query.requested_by = Some(p.user_id),
            "all" => {
                if !sees_all(p) {
                    return Err(ServiceError::Forbidden {
                        permission: Some(Permission::RolesGrant),
                        message: "the `all` queue requires `roles.grant` for the whole organisation or `security.view`".to_owned(),
                    });
                }
            }
            other => {
                return Err(ServiceError::invalid(
                    "queue",
                    "one_of",
                    format!("`queue` must be `to_decide`, `requested` or `all`, not `{other}`"),
                ));
            }
        }
        let page = tx.list_approvals(p.org_id, &query).await?;
        Ok(respond(page, |r: &ApprovalRequest| After {
            key: SortValue::None,
            id: r.id.as_uuid(),
        }))
    }

    pub async fn get_approval(
        &self,
        p: &Principal,
        id: ApprovalId,
    ) -> ServiceResult<ApprovalRequest> {
        let mut tx = self.read().await?;
        let request = tx
            .get_approval(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("approval request", id))?;
        if request.requested_by == Some(p.user_id)
            || sees_all(p)
            || self.is_approver(&mut *tx, p, request.system_id).await?
        {
            Ok(request)
        } else {
            Err(ServiceError::not_found("approval request", id))
        }
    }

    /// The names a request's reader needs to understand it (its role and system, its
    /// grantee, requester and decider), for requests the caller may see: its requester, an
    /// approver of its system, or a reader of every request. An approver need not hold
    /// `users.view` or `systems.view` to know whom and what they decide on; a request the
    /// caller may not see is not found.
    pub async fn approval_names(
        &self,
        p: &Principal,
        requests: &[ApprovalRequest],
    ) -> ServiceResult<ApprovalNames> {
        let mut tx = self.read().await?;
        let mut names = ApprovalNames::default();
        let mut approver_of: HashMap<SystemId, bool> = HashMap::new();
        for r in requests {
            let approver = match approver_of.get(&r.system_id) {
                Some(known) => *known,
                None => {
                    let known = self.is_approver(&mut *tx, p, r.system_id).await?;
                    approver_of.insert(r.system_id, known);
                    known
                }
            };
            if r.requested_by != Some(p.user_id) && !sees_all(p) && !approver {
                return Err(ServiceError::not_found("approval request", r.id));
            }
            if let Entry::Vacant(e) = names.systems.entry(r.system_id)
                && let Some(system) = tx.get_system(p.org_id, r.system_id).await?
            {
                e.insert(system.name);
            }
            if let Entry::Vacant(e) = names.roles.entry(r.role_id)
                && let Some(role) = tx.get_role(p.org_id, r.role_id).await?
            {
                e.insert(role.name);
            }
            let grantee_user = match r.grantee {
                Grantee::User(u) => Some(u),
                Grantee::Group(_) => None,
            };
            for user in [grantee_user, r.requested_by, r.decided_by]
                .into_iter()
                .flatten()
            {
                if let Entry::Vacant(e) = names.users.entry(user)
                    && let Some(u) = tx.get_user(p.org_id, user).await?
                {
                    e.insert(u.user_name);
                }
            }
            if let Grantee::Group(g) = r.grantee
                && let Entry::Vacant(e) = names.groups.entry(g)
                && let Some(group) = tx.get_group(p.org_id, g).await?
            {
                e.insert(group.name);
            }
        }
        Ok(names)
    }

    /// `POST /api/v1/approvals/{id}/approve`: the grant takes effect, or the revoke does.
    pub async fn approve(
        &self,
        p: &Principal,
        id: ApprovalId,
        body: ApprovalDecision,
    ) -> ServiceResult<ApprovalRequest> {
        self.decide(p, id, body, ApprovalStatus::Approved).await
    }

    /// `POST /api/v1/approvals/{id}/reject`: a comment is required.
    pub async fn reject(
        &self,
        p: &Principal,
        id: ApprovalId,
        body: ApprovalDecision,
    ) -> ServiceResult<ApprovalRequest> {
        self.decide(p, id, body, ApprovalStatus::Rejected).await
    }

    /// `POST /api/v1/approvals/{id}/cancel`: the requester withdraws a pending request.
    pub async fn cancel_approval(
        &self,
        p: &Principal,
        id: ApprovalId,
    ) -> ServiceResult<ApprovalRequest> {
        self.decide(
            p,
            id,
            ApprovalDecision::default(),
            ApprovalStatus::Cancelled,
        )
        .await
    }

    async fn decide(
        &self,
        p: &Principal,
        id: ApprovalId,
        body: ApprovalDecision,
        outcome: ApprovalStatus,
    ) -> ServiceResult<ApprovalRequest> {
        let mut errors = ValidationErrors::new();
        let comment = validate::text("comment", body.comment.as_deref(), MAX_COMMENT, &mut errors);
        if outcome == ApprovalStatus::Rejected
            && body.comment.as_deref().is_none_or(|c| c.trim().is_empty())
        {
            errors.push(FieldError::new(
                "comment",
                "required",
                "a rejection needs a `comment` saying why",
            ));
        }
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_approval(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("approval request", id))?;
        let mine = before.requested_by == Some(p.user_id);
        if outcome == ApprovalStatus::Cancelled {
            if !mine {
                return Err(
                    if sees_all(p) || self.is_approver(&mut *tx, p, before.system_id).await? {
                        ServiceError::Forbidden {
                        permission: None,
                        message: "only the requester may cancel a request; approvers approve or reject it".to_owned(),
                    }
                    } else {
                        ServiceError::not_found("approval request", id)
                    },
                );
            }
        } else if !self.is_approver(&mut *tx, p, before.system_id).await? {
            return Err(if mine || sees_all(p) {
                ServiceError::Forbidden {
                    permission: None,
                    message: "you are not an approver of this request's information system (its owner or a holder of its approver role)".to_owned(),
                }
            } else {
                ServiceError::not_found("approval request", id)
            });
        } else if mine {
            return Err(ServiceError::Forbidden {
                permission: None,
                message: "you made this request: another approver must decide it (four eyes)"
                    .to_owned(),
            });
        } else if before.grantee == Grantee::User(p.user_id) {
            return Err(ServiceError::Forbidden {
                permission: None,
                message: "this request is about your own access: another approver must decide it (four eyes)".to_owned(),
            });
        }
        errors.finish()?;
        if before.status != ApprovalStatus::Pending {
            return Err(ServiceError::conflict(
                "not_pending",
                format!(
                    "approval request `{id}` is already {}",
                    before.status.as_str()
                ),
            ));
        }
        let mut request = before.clone();
        request.status = outcome;
        request.decided_by = Some(p.user_id);
        request.decided_at = Some(self.now());
        request.comment = comment;
        match tx.get_grant(p.org_id, before.grant_id).await? {
            // The grant went another way meanwhile (its user or group deleted): the request
            // has nothing left to decide and is closed as cancelled.
            None => request.status = ApprovalStatus::Cancelled,
            Some(grant) => self.apply_decision(&mut *tx, p, &request, grant).await?,
        }
        tx.decide_approval(&request).await?;
        let action = match outcome {
            ApprovalStatus::Approved => "approval.approve",
            ApprovalStatus::Rejected => "approval.reject",
            _ => "approval.cancel",
        };
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            action,
            "approval",
            id,
            Some(&before),
            Some(&request),
        )
        .await?;
        tx.commit().await?;
        Ok(request)
    }

    /// Makes a decision happen to its grant, through the same writes as a grant or revoke.
    async fn apply_decision(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        request: &ApprovalRequest,
        grant: Grant,
    ) -> ServiceResult<()> {
        let org = p.org_id;
        match (request.action, request.status) {
            (ApprovalAction::Grant, ApprovalStatus::Approved) => {
                self.sod_guard_grant(&mut *tx, org, grant.grantee, grant.role_id)
                    .await?;
                let system = tx.get_system(org, request.system_id).await?;
                self.replace_single_role(
                    &mut *tx,
                    Some(p),
                    system.as_ref(),
                    grant.grantee,
                    grant.role_id,
                )
                .await?;
                let mut g = grant.clone();
                g.status = GrantStatus::dated(g.starts_at, g.ends_at, self.now());
                g.stamps.touch(self.now(), Some(p.user_id));
                tx.update_grant(&g).await?;
                self.audit(
                    &mut *tx,
                    Some(p),
                    org,
                    "grant.update",
                    "grant",
                    g.id,
                    Some(&grant),
                    Some(&g),
                )
                .await?;
                if let Some(role) = tx.get_role(org, g.role_id).await?
                    && role.privileged
                {
                    self.privileged_grant_alert(&mut *tx, p.user_id, &p.user_name, &role, &g)
                        .await?;
                }
                self.materialise_optional_children(&mut *tx, Some(p), &g)
                    .await?;
            }
            (ApprovalAction::Revoke, ApprovalStatus::Approved) => {
                self.revoke_with_children(&mut *tx, Some(p), org, grant, "grant.revoke")
                    .await?;
            }
            (ApprovalAction::Grant, _) => {
                self.revoke_with_children(&mut *tx, Some(p), org, grant, "grant.reject")
                    .await?;
            }
            (ApprovalAction::Revoke, _) => {
                let mut g = grant.clone();
                g.status = GrantStatus::dated(g.starts_at, g.ends_at, self.now());
                g.stamps.touch(self.now(), Some(p.user_id));
                tx.update_grant(&g).await?;
                self.audit(
                    &mut *tx,
                    Some(p),
                    org,
                    "grant.update",
                    "grant",
                    g.id,
                    Some(&grant),
                    Some(&g),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Whether `p` decides requests of `system`: its owner, or a holder of its approver
    /// role now (any path).
    async fn is_approver(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        system: SystemId,
    ) -> ServiceResult<bool> {
        let Some(system) = tx.get_system(p.org_id, system).await? else {
            return Ok(false);
        };
        if system.owner_id == Some(p.user_id) {
            return Ok(true);
        }
        let Some(role) = system.approver_role_id else {
            return Ok(false);
        };
        let engine = self.engine(p.org_id).await?;
        let held = engine.read().engine.held_roles(p.user_id, self.now());
        Ok(held.contains(role))
    }

    /// The systems whose requests `p` decides.
    async fn decided_by_me(&self, tx: &mut dyn Tx, p: &Principal) -> ServiceResult<Vec<SystemId>> {
        let mut systems = Vec::new();
        let mut query = SystemQuery {
            paging: Paging {
                limit: 1000,
                ..Default::default()
            },
            ..Default::default()
        };
        loop {
            let page = tx.list_systems(p.org_id, &query).await?;
            let last = page
                .items
                .last()
                .map(|s| (SortValue::Text(s.name.clone()), s.id.as_uuid()));
            systems.extend(page.items);
            match last {
                Some((key, id)) if page.has_more => {
                    query.paging.after = Some(After { key, id });
                }
                _ => break,
            }
        }
        let engine = self.engine(p.org_id).await?;
        let held = engine.read().engine.held_roles(p.user_id, self.now());
        Ok(systems
            .into_iter()
            .filter(|s| {
                s.owner_id == Some(p.user_id)
                    || s.approver_role_id.is_some_and(|r| held.contains(r))
            })
            .map(|s| s.id)
            .collect())
    }
}

/// Whether `p` may see every request: `roles.grant` for the whole organisation, or
/// `security.view`.
fn sees_all(p: &Principal) -> bool {
    p.permissions().has_unscoped(Permission::RolesGrant) || p.holds(Permission::SecurityView)
}
