//! Inviting people by work email. An administrator with `users.invite` invites with a role
//! and, optionally, a group. When the address already belongs to a user of the
//! organisation, that user gets the role and the group instead (which is user management:
//! it needs `roles.grant` and `users.manage` over them) and nothing is sent. Otherwise a
//! single-use invitation, valid seven days and revocable, is mailed; only the SHA-256 of
//! its secret is kept. Accepting it creates the user in the group (the organisation's root
//! group when none was given), grants the role, optionally sets a password, and opens a
//! first session — with which a user who chose no password registers a passkey.
//!
//! Inviting anew while an invitation to the same address is pending replaces it.

use latchkey_api::{
    AcceptInvitation, CreateGrant, CreateMembership, CreateUser, ExistingUserUpdated,
    InvitationAccepted, InvitationPreview, InvitationView, Invite, InviteOutcome,
};
use latchkey_model::{
    Email, FieldError, GroupId, Invitation, InvitationId, InvitationStatus, OrgId, Permission,
    Role, RoleDomain, SignInMethod, ValidationErrors,
};
use latchkey_store::{GroupQuery, Paging, Tx};
use serde_json::json;

use crate::sign_in::{ClientInfo, events};
use crate::tokens::{hash_token, random_secret};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// The prefix of an invitation's secret.
pub const INVITATION_PREFIX: &str = "lki_";
/// How long an invitation stays valid.
const INVITATION_DAYS: i64 = 7;

fn invalid_invitation() -> ServiceError {
    ServiceError::Unauthenticated(
        "the invitation is invalid, expired, revoked or already accepted; ask for a new one"
            .to_owned(),
    )
}

/// An inviter whose `users.invite` covers some groups sees the invitations into them only.
fn in_scope(scope: &crate::Scope, invitation: &Invitation) -> bool {
    scope.is_global() || invitation.group_id.is_some_and(|g| scope.covers_group(g))
}

fn view(invitation: Invitation, now: time::OffsetDateTime) -> InvitationView {
    InvitationView {
        status: invitation.status(now),
        invitation,
    }
}

impl Services {
    /// Invites `req.email`, or updates the user it already belongs to.
    pub async fn invite(
        &self,
        p: &Principal,
        req: &Invite,
        client: &ClientInfo,
    ) -> ServiceResult<InviteOutcome> {
        let scope = p.require(Permission::UsersInvite)?;
        let mut errors = ValidationErrors::new();
        let mut tx = self.begin(p.org_id).await?;
        let email =
            crate::validate::email(&mut *tx, p.org_id, "email", req.email.trim(), &mut errors)
                .await?;
        let role = tx.get_role(p.org_id, req.role_id).await?;
        match &role {
            None => errors.push(FieldError::new(
                "role_id",
                "exists",
                format!("role `{}` does not exist", req.role_id),
            )),
            Some(r) => {
                if !matches!(r.domain, RoleDomain::None) {
                    errors.push(FieldError::new(
                        "role_id",
                        "unscoped",
                        format!(
                            "`{}` is granted with a scope; invite with an unscoped role and grant this one once the user has joined",
                            r.name
                        ),
                    ));
                }
                crate::grants::require_role_permissions(p, r, &mut errors);
            }
        }
        if let Some(g) = req.group_id {
            let exists = tx.get_group(p.org_id, g).await?.is_some();
            if !exists || !scope.covers_group(g) {
                errors.push(FieldError::new(
                    "group_id",
                    "exists",
                    format!("group `{g}` does not exist or is outside your scope"),
                ));
            }
        } else if !scope.is_global() {
            errors.push(FieldError::new(
                "group_id",
                "required",
                "your `users.invite` covers some groups only: name the group to invite into",
            ));
        }
        errors.finish()?;
        let (Some(email), Some(role)) = (email, role) else {
            return Err(ServiceError::Internal(
                "validated invitation fields missing".to_owned(),
            ));
        };

        if let Some(user) = tx.get_user_by_email(p.org_id, email.as_str()).await? {
            let updated = self
                .update_invited_user(&mut *tx, p, &user, &role, req.group_id)
                .await?;
            tx.commit().await?;
            return Ok(InviteOutcome::Updated(updated));
        }

        let group = match req.group_id {
            Some(g) => g,
            None => Self::root_group(&mut *tx, p.org_id).await?,
        };
        let now = self.now();
        for old in tx.list_invitations(p.org_id, Some(email.as_str())).await? {
            if old.status(now) == InvitationStatus::Pending
                && tx
                    .revoke_invitation(p.org_id, old.id, now, p.user_id)
                    .await?
            {
                self.audit(
                    &mut *tx,
                    Some(p),
                    p.org_id,
                    "invitation.replace",
                    "invitation",
                    old.id,
                    Some(&old),
                    None::<&()>,
                )
                .await?;
            }
        }
        let secret = random_secret(INVITATION_PREFIX);
        let invitation = Invitation {
            id: InvitationId::from_uuid(self.uuid()),
            org_id: p.org_id,
            email: email.as_str().to_owned(),
            role_id: role.id,
            group_id: Some(group),
            token_hash: hash_token(&secret),
            invited_by: p.user_id,
            created_at: now,
            expires_at: now + time::Duration::days(INVITATION_DAYS),
            accepted_at: None,
            user_id: None,
            revoked_at: None,
            revoked_by: None,
        };
        tx.insert_invitation(&invitation).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "invitation.create",
            "invitation",
            invitation.id,
            None::<&()>,
            Some(&invitation),
        )
        .await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::INVITATION_SENT,
            None,
            Some(p.user_id),
            client,
            json!({ "invitation_id": invitation.id, "email": invitation.email, "role": role.name }),
        )
        .await?;
        let org = tx
            .get_org(p.org_id)
            .await?
            .ok_or_else(|| ServiceError::Internal("the organisation vanished".to_owned()))?;
        tx.commit().await?;
        self.mail_invitation(&org.name, &p.user_name, &role.name, &invitation, &secret)
            .await;
        Ok(InviteOutcome::Invited(view(invitation, now)))
    }

    /// The organisation's one root group, where invited users land when no group was named.
    async fn root_group(tx: &mut dyn Tx, org: OrgId) -> ServiceResult<GroupId> {
        let roots = tx
            .list_groups(
                org,
                &GroupQuery {
                    parent: Some(None),
                    paging: Paging {
                        limit: 2,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await?;
        match roots.items.as_slice() {
            [only] => Ok(only.id),
            _ => Err(ServiceError::invalid(
                "group_id",
                "required",
                "the organisation has several root groups: name the group to invite into",
            )),
        }
    }

    /// The role and group an invitation asked for, given to the user the address already
    /// belongs to.
    async fn update_invited_user(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        user: &latchkey_model::User,
        role: &Role,
        group: Option<GroupId>,
    ) -> ServiceResult<ExistingUserUpdated> {
        let manage = p.require(Permission::UsersManage).map_err(|_| {
            ServiceError::conflict(
                "existing_user",
                "this address belongs to a user of the organisation: updating their role or group needs `users.manage` over them",
            )
        })?;
        Self::user_in_scope(&mut *tx, p.org_id, &manage, user.id)
            .await
            .map_err(|_| {
                ServiceError::conflict(
                    "existing_user",
                    "this address belongs to a user outside your scope: nothing was changed",
                )
            })?;
        let grant = CreateGrant {
            role_id: role.id,
            user_id: Some(user.id),
            group_id: None,
            scope: None,
            starts_at: None,
            ends_at: None,
        };
        let role_granted = match self.create_grant_in(&mut *tx, p, grant).await {
            Ok(_) => true,
            Err(ServiceError::Conflict {
                code: "already_exists",
                ..
            }) => false,
            Err(e) => return Err(e),
        };
        let group_added = match group {
            Some(g) => {
                let membership = CreateMembership {
                    user_id: user.id,
                    group_id: g,
                    starts_at: None,
                    ends_at: None,
                    comments: Some("added by an invitation".to_owned()),
                    attributes: Default::default(),
                };
                match self.create_membership_in(&mut *tx, p, membership).await {
                    Ok(_) => true,
                    Err(ServiceError::Conflict {
                        code: "already_exists" | "primary_group",
                        ..
                    }) => false,
                    Err(e) => return Err(e),
                }
            }
            None => false,
        };
        let message = match (role_granted, group_added) {
            (false, false) => format!(
                "`{}` already belongs to `{}`, who already had this role and group: nothing changed and no invitation was sent",
                user.email.as_deref().unwrap_or_default(),
                user.user_name
            ),
            _ => format!(
                "`{}` already belongs to `{}`: {} instead; no invitation was sent",
                user.email.as_deref().unwrap_or_default(),
                user.user_name,
                match (role_granted, group_added) {
                    (true, true) => "the role was granted and the group added",
                    (true, false) => "the role was granted",
                    _ => "the group was added",
                }
            ),
        };
        Ok(ExistingUserUpdated {
            updated_user_id: user.id,
            role_granted,
            group_added,
            message,
        })
    }

    async fn mail_invitation(
        &self,
        org_name: &str,
        inviter: &str,
        role: &str,
        invitation: &Invitation,
        secret: &str,
    ) {
        let settings = self.mail_settings();
        let url = format!(
            "{}/invite?token={secret}",
            settings.public_url.trim_end_matches('/')
        );
        let mail = crate::mail::Mail {
            to: invitation.email.clone(),
            subject: format!("You are invited to {org_name}"),
            text: format!(
                "Hello,\n\n{inviter} invites you to join {org_name} on Latchkey as {role}.\n\nOpen this link within {INVITATION_DAYS} days to accept and choose how you sign in:\n\n{url}\n\nIt works once. If you did not expect it, ignore this mail.\n"
            ),
        };
        self.send_mail(settings, mail, "invitation").await;
    }

    /// The organisation's invitations, newest first (`users.invite`).
    pub async fn list_invitations(
        &self,
        p: &Principal,
        email: Option<&str>,
        status: Option<&str>,
    ) -> ServiceResult<Vec<InvitationView>> {
        let scope = p.require(Permission::UsersInvite)?;
        let status = match status.map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => Some(InvitationStatus::parse(s).ok_or_else(|| {
                ServiceError::invalid(
                    "status",
                    "one_of",
                    "`status` is one of pending, accepted, revoked and expired",
                )
            })?),
            None => None,
        };
        let now = self.now();
        let mut tx = self.read().await?;
        let email = email.map(str::trim).filter(|e| !e.is_empty());
        Ok(tx
            .list_invitations(p.org_id, email)
            .await?
            .into_iter()
            .filter(|i| in_scope(&scope, i))
            .map(|i| view(i, now))
            .filter(|v| status.is_none_or(|s| v.status == s))
            .collect())
    }

    pub async fn get_invitation(
        &self,
        p: &Principal,
        id: InvitationId,
    ) -> ServiceResult<InvitationView> {
        let scope = p.require(Permission::UsersInvite)?;
        let mut tx = self.read().await?;
        let invitation = tx
            .get_invitation(p.org_id, id)
            .await?
            .filter(|i| in_scope(&scope, i))
            .ok_or_else(|| ServiceError::not_found("invitation", id))?;
        Ok(view(invitation, self.now()))
    }

    /// Revokes a pending invitation (`users.invite`).
    pub async fn revoke_invitation(
        &self,
        p: &Principal,
        id: InvitationId,
        client: &ClientInfo,
    ) -> ServiceResult<InvitationView> {
        let scope = p.require(Permission::UsersInvite)?;
        let now = self.now();
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_invitation(p.org_id, id)
            .await?
            .filter(|i| in_scope(&scope, i))
            .ok_or_else(|| ServiceError::not_found("invitation", id))?;
        let status = before.status(now);
        if status != InvitationStatus::Pending {
            return Err(ServiceError::conflict(
                "invitation_status",
                format!(
                    "the invitation is {}: only a pending one can be revoked",
                    status.as_str()
                ),
            ));
        }
        tx.revoke_invitation(p.org_id, id, now, p.user_id).await?;
        let after = tx
            .get_invitation(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("invitation", id))?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "invitation.revoke",
            "invitation",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::INVITATION_REVOKED,
            None,
            Some(p.user_id),
            client,
            json!({ "invitation_id": id, "email": after.email }),
        )
        .await?;
        tx.commit().await?;
        Ok(view(after, now))
    }

    /// The pending invitation a secret names, with its organisation; `invalid_invitation`
    /// (and, for a known one, a failure event) otherwise.
    async fn pending_invitation(
        &self,
        secret: &str,
        client: &ClientInfo,
    ) -> ServiceResult<(latchkey_model::Organisation, Invitation)> {
        if !secret.starts_with(INVITATION_PREFIX) || secret.len() > 200 {
            return Err(invalid_invitation());
        }
        let mut tx = self.read().await?;
        let invitation = tx
            .find_invitation_by_hash(&hash_token(secret))
            .await?
            .ok_or_else(invalid_invitation)?;
        let org = tx
            .get_org(invitation.org_id)
            .await?
            .ok_or_else(invalid_invitation)?;
        drop(tx);
        let status = invitation.status(self.now());
        if status != InvitationStatus::Pending {
            let mut tx = self.inner.store.begin().await?;
            self.security_event(
                &mut *tx,
                org.id,
                events::INVITATION_FAILED,
                invitation.user_id,
                None,
                client,
                json!({ "invitation_id": invitation.id, "reason": status.as_str() }),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid_invitation());
        }
        Ok((org, invitation))
    }

    /// What an invitation is for, so its invitee can see before accepting.
    pub async fn preview_invitation(
        &self,
        secret: &str,
        client: &ClientInfo,
    ) -> ServiceResult<InvitationPreview> {
        let (org, invitation) = self.pending_invitation(secret, client).await?;
        let mut tx = self.read().await?;
        let role = tx
            .get_role(org.id, invitation.role_id)
            .await?
            .ok_or_else(invalid_invitation)?;
        let group = match invitation.group_id {
            Some(g) => tx.get_group(org.id, g).await?.map(|g| g.name),
            None => None,
        };
        Ok(InvitationPreview {
            organisation: org.slug,
            organisation_name: org.name,
            email: invitation.email,
            role: role.name,
            group,
            expires_at: invitation.expires_at,
        })
    }

    /// Accepts an invitation: creates the user, grants the role, sets the password when one
    /// is given, and signs the new user in.
    pub async fn accept_invitation(
        &self,
        req: &AcceptInvitation,
        client: &ClientInfo,
    ) -> ServiceResult<InvitationAccepted> {
        let now = self.now();
        self.admit_address(client)?;
        let (org, invitation) = self.pending_invitation(&req.token, client).await?;
        let mut tx = self.begin(org.id).await?;
        let role = tx
            .get_role(org.id, invitation.role_id)
            .await?
            .ok_or_else(invalid_invitation)?;
        let group = match invitation.group_id {
            Some(g) => g,
            None => Self::root_group(&mut *tx, org.id).await?,
        };
        let email = Email::parse("email", &invitation.email)?;
        let user = self
            .new_user_in(
                &mut *tx,
                org.id,
                None,
                None,
                CreateUser {
                    user_name: req.user_name.clone(),
                    first_name: req.first_name.clone(),
                    middle_name: None,
                    last_name: req.last_name.clone(),
                    email: Some(email.as_str().to_owned()),
                    mail_aliases: Vec::new(),
                    user_type: None,
                    primary_group_id: group,
                    enabled: Some(true),
                    multi_session: None,
                    comments: None,
                    attributes: Default::default(),
                },
            )
            .await?;
        if let Some(password) = req.password.as_deref() {
            self.store_password(&mut *tx, &org, &user, "password", password)
                .await?;
        }
        if !tx
            .accept_invitation(org.id, invitation.id, now, user.id)
            .await?
        {
            // Someone else accepted it in the meantime; this transaction rolls back.
            return Err(invalid_invitation());
        }
        let inviter = tx
            .get_user(org.id, invitation.invited_by)
            .await?
            .map_or_else(|| invitation.invited_by.to_string(), |u| u.user_name);
        self.grant_by_invitation(&mut *tx, (invitation.invited_by, &inviter), &role, user.id)
            .await?;
        self.audit(
            &mut *tx,
            None,
            org.id,
            "invitation.accept",
            "invitation",
            invitation.id,
            Some(&invitation),
            Some(&json!({ "user_id": user.id })),
        )
        .await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::INVITATION_ACCEPTED,
            Some(user.id),
            None,
            client,
            json!({
                "invitation_id": invitation.id,
                "role": role.name,
                "password_set": req.password.is_some(),
            }),
        )
        .await?;
        tx.commit().await?;
        let method = if req.password.is_some() {
            SignInMethod::Password
        } else {
            SignInMethod::Invitation
        };
        let session = self.open_session(&org, &user, method, client).await?;
        Ok(InvitationAccepted { user, session })
    }
}
