//! One typed method per REST endpoint, in the order of the API: identity, organisations, the
//! directory (users, groups, memberships), access (systems, domains, roles, grants), settings
//! (metadata, mail domains), audit, tokens and CSV import. Each is a thin call of a generic
//! helper of [`Client`] with the path and the wire types fixed.

use std::fmt;
use std::str::FromStr;

use latchkey_api::{
    AuditVerification, CreateAttribute, CreateDomain, CreateGrant, CreateGrantedRole, CreateGroup,
    CreateMailDomain, CreateMembership, CreateOrganisation, CreateRole, CreateSystem, CreateToken,
    CreateUser, CreateUserType, EffectiveRoles, ListResponse, OrganisationCreated, PermissionInfo,
    RoleHolders, TokenCreated, UpdateAttribute, UpdateDomain, UpdateGrant, UpdateGroup,
    UpdateMailDomain, UpdateMembership, UpdateRole, UpdateSystem, UpdateUser, UpdateUserType,
    WhoAmI,
};
use latchkey_model::{
    AttributeDefinition, AttributeId, AuditEntry, Domain, DomainId, Grant, GrantId, Group, GroupId,
    InheritanceId, MailDomain, MailDomainId, Membership, MembershipId, OrgId, Organisation, Role,
    RoleId, RoleInheritance, System, SystemId, TokenId, User, UserId, UserType, UserTypeId,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::query::{
    AttributeFilter, AuditFilter, GrantFilter, GroupFilter, MembershipFilter, NoFilter, Page,
    RoleFilter, SecurityAlertFilter, SecurityEventFilter, SystemFilter, UserFilter,
};
use crate::{Client, ClientError};

type Result<T> = std::result::Result<T, ClientError>;

/// An API token as listed: everything but the secret, which is shown once at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiTokenView {
    pub id: TokenId,
    #[serde(default)]
    pub org_id: Option<OrgId>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    pub name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
}

/// What a CSV import creates or updates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Users,
    Groups,
    Memberships,
    Roles,
    Grants,
}

impl ImportKind {
    pub const ALL: &'static [ImportKind] = &[
        Self::Users,
        Self::Groups,
        Self::Memberships,
        Self::Roles,
        Self::Grants,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Users => "users",
            Self::Groups => "groups",
            Self::Memberships => "memberships",
            Self::Roles => "roles",
            Self::Grants => "grants",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportKind {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Self::ALL.iter().copied().find(|k| k.as_str() == s).ok_or_else(|| {
            format!("unknown import kind `{s}`, expected users, groups, memberships, roles or grants")
        })
    }
}

/// The `?at=` query of point-in-time views.
#[derive(Serialize)]
struct At {
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<String>,
}

fn at_query(at: Option<OffsetDateTime>) -> At {
    At {
        at: at.and_then(|t| t.format(&Rfc3339).ok()),
    }
}

impl Client {
    // ----- identity -----

    /// `GET /api/v1/me`: who the token belongs to and what it may do.
    pub async fn me(&self) -> Result<WhoAmI> {
        self.get("/api/v1/me").await
    }

    /// `GET /api/v1/permissions`: the product permissions.
    pub async fn permissions(&self) -> Result<Vec<PermissionInfo>> {
        Ok(self
            .list::<PermissionInfo, _>("/api/v1/permissions", &NoFilter {}, &Page::default())
            .await?
            .items)
    }

    // ----- organisations -----

    pub async fn list_organisations(&self, page: &Page) -> Result<ListResponse<Organisation>> {
        self.list("/api/v1/organisations", &NoFilter {}, page).await
    }

    pub async fn list_all_organisations(&self, page: &Page) -> Result<Vec<Organisation>> {
        self.list_all("/api/v1/organisations", &NoFilter {}, page)
            .await
    }

    pub async fn create_organisation(
        &self,
        body: &CreateOrganisation,
    ) -> Result<OrganisationCreated> {
        self.create("/api/v1/organisations", body).await
    }

    // ----- users -----

    pub async fn list_users(&self, filter: &UserFilter, page: &Page) -> Result<ListResponse<User>> {
        self.list("/api/v1/users", filter, page).await
    }

    pub async fn list_all_users(&self, filter: &UserFilter, page: &Page) -> Result<Vec<User>> {
        self.list_all("/api/v1/users", filter, page).await
    }

    pub async fn get_user(&self, id: UserId) -> Result<User> {
        self.get(&format!("/api/v1/users/{id}")).await
    }

    pub async fn create_user(&self, body: &CreateUser) -> Result<User> {
        self.create("/api/v1/users", body).await
    }

    pub async fn update_user(
        &self,
        id: UserId,
        body: &UpdateUser,
        if_match: Option<i64>,
    ) -> Result<User> {
        self.update(&format!("/api/v1/users/{id}"), body, if_match)
            .await
    }

    pub async fn delete_user(&self, id: UserId) -> Result<()> {
        self.delete(&format!("/api/v1/users/{id}")).await
    }

    /// The roles the user holds at `at` (now when `None`), each with the paths that give it.
    pub async fn effective_roles(
        &self,
        id: UserId,
        at: Option<OffsetDateTime>,
    ) -> Result<EffectiveRoles> {
        self.get_with_query(
            &format!("/api/v1/users/{id}/effective-roles"),
            &at_query(at),
        )
        .await
    }

    /// `POST /api/v1/check`: may this user do this?
    pub async fn check(
        &self,
        request: &latchkey_api::CheckRequest,
    ) -> Result<latchkey_api::CheckResponse> {
        self.create("/api/v1/check", request).await
    }

    // ----- groups -----

    pub async fn list_groups(
        &self,
        filter: &GroupFilter,
        page: &Page,
    ) -> Result<ListResponse<Group>> {
        self.list("/api/v1/groups", filter, page).await
    }

    pub async fn list_all_groups(&self, filter: &GroupFilter, page: &Page) -> Result<Vec<Group>> {
        self.list_all("/api/v1/groups", filter, page).await
    }

    pub async fn get_group(&self, id: GroupId) -> Result<Group> {
        self.get(&format!("/api/v1/groups/{id}")).await
    }

    pub async fn create_group(&self, body: &CreateGroup) -> Result<Group> {
        self.create("/api/v1/groups", body).await
    }

    pub async fn update_group(
        &self,
        id: GroupId,
        body: &UpdateGroup,
        if_match: Option<i64>,
    ) -> Result<Group> {
        self.update(&format!("/api/v1/groups/{id}"), body, if_match)
            .await
    }

    pub async fn delete_group(&self, id: GroupId) -> Result<()> {
        self.delete(&format!("/api/v1/groups/{id}")).await
    }

    // ----- memberships -----

    pub async fn list_memberships(
        &self,
        filter: &MembershipFilter,
        page: &Page,
    ) -> Result<ListResponse<Membership>> {
        self.list("/api/v1/memberships", filter, page).await
    }

    pub async fn list_all_memberships(
        &self,
        filter: &MembershipFilter,
        page: &Page,
    ) -> Result<Vec<Membership>> {
        self.list_all("/api/v1/memberships", filter, page).await
    }

    pub async fn get_membership(&self, id: MembershipId) -> Result<Membership> {
        self.get(&format!("/api/v1/memberships/{id}")).await
    }

    pub async fn create_membership(&self, body: &CreateMembership) -> Result<Membership> {
        self.create("/api/v1/memberships", body).await
    }

    pub async fn update_membership(
        &self,
        id: MembershipId,
        body: &UpdateMembership,
        if_match: Option<i64>,
    ) -> Result<Membership> {
        self.update(&format!("/api/v1/memberships/{id}"), body, if_match)
            .await
    }

    pub async fn delete_membership(&self, id: MembershipId) -> Result<()> {
        self.delete(&format!("/api/v1/memberships/{id}")).await
    }

    // ----- information systems and their domains -----

    pub async fn list_systems(
        &self,
        filter: &SystemFilter,
        page: &Page,
    ) -> Result<ListResponse<System>> {
        self.list("/api/v1/systems", filter, page).await
    }

    pub async fn list_all_systems(
        &self,
        filter: &SystemFilter,
        page: &Page,
    ) -> Result<Vec<System>> {
        self.list_all("/api/v1/systems", filter, page).await
    }

    pub async fn get_system(&self, id: SystemId) -> Result<System> {
        self.get(&format!("/api/v1/systems/{id}")).await
    }

    pub async fn create_system(&self, body: &CreateSystem) -> Result<System> {
        self.create("/api/v1/systems", body).await
    }

    pub async fn update_system(
        &self,
        id: SystemId,
        body: &UpdateSystem,
        if_match: Option<i64>,
    ) -> Result<System> {
        self.update(&format!("/api/v1/systems/{id}"), body, if_match)
            .await
    }

    pub async fn delete_system(&self, id: SystemId) -> Result<()> {
        self.delete(&format!("/api/v1/systems/{id}")).await
    }

    /// Every custom domain of the system.
    pub async fn list_domains(&self, system_id: SystemId) -> Result<Vec<Domain>> {
        self.list_all(
            &format!("/api/v1/systems/{system_id}/domains"),
            &NoFilter {},
            &Page::default(),
        )
        .await
    }

    pub async fn create_domain(&self, system_id: SystemId, body: &CreateDomain) -> Result<Domain> {
        self.create(&format!("/api/v1/systems/{system_id}/domains"), body)
            .await
    }

    pub async fn get_domain(&self, id: DomainId) -> Result<Domain> {
        self.get(&format!("/api/v1/domains/{id}")).await
    }

    pub async fn update_domain(
        &self,
        id: DomainId,
        body: &UpdateDomain,
        if_match: Option<i64>,
    ) -> Result<Domain> {
        self.update(&format!("/api/v1/domains/{id}"), body, if_match)
            .await
    }

    pub async fn delete_domain(&self, id: DomainId) -> Result<()> {
        self.delete(&format!("/api/v1/domains/{id}")).await
    }

    // ----- roles -----

    pub async fn list_roles(&self, filter: &RoleFilter, page: &Page) -> Result<ListResponse<Role>> {
        self.list("/api/v1/roles", filter, page).await
    }

    pub async fn list_all_roles(&self, filter: &RoleFilter, page: &Page) -> Result<Vec<Role>> {
        self.list_all("/api/v1/roles", filter, page).await
    }

    pub async fn get_role(&self, id: RoleId) -> Result<Role> {
        self.get(&format!("/api/v1/roles/{id}")).await
    }

    pub async fn create_role(&self, body: &CreateRole) -> Result<Role> {
        self.create("/api/v1/roles", body).await
    }

    pub async fn update_role(
        &self,
        id: RoleId,
        body: &UpdateRole,
        if_match: Option<i64>,
    ) -> Result<Role> {
        self.update(&format!("/api/v1/roles/{id}"), body, if_match)
            .await
    }

    pub async fn delete_role(&self, id: RoleId) -> Result<()> {
        self.delete(&format!("/api/v1/roles/{id}")).await
    }

    /// The roles that holders of `parent` also receive.
    pub async fn granted_roles(&self, parent: RoleId) -> Result<Vec<RoleInheritance>> {
        self.list_all(
            &format!("/api/v1/roles/{parent}/granted-roles"),
            &NoFilter {},
            &Page::default(),
        )
        .await
    }

    pub async fn grant_role(
        &self,
        parent: RoleId,
        body: &CreateGrantedRole,
    ) -> Result<RoleInheritance> {
        self.create(&format!("/api/v1/roles/{parent}/granted-roles"), body)
            .await
    }

    pub async fn remove_granted_role(&self, parent: RoleId, edge: InheritanceId) -> Result<()> {
        self.delete(&format!("/api/v1/roles/{parent}/granted-roles/{edge}"))
            .await
    }

    /// Who holds the role at `at` (now when `None`), each with the paths that give it.
    pub async fn role_holders(
        &self,
        id: RoleId,
        at: Option<OffsetDateTime>,
    ) -> Result<RoleHolders> {
        self.get_with_query(&format!("/api/v1/roles/{id}/holders"), &at_query(at))
            .await
    }

    // ----- grants -----

    pub async fn list_grants(
        &self,
        filter: &GrantFilter,
        page: &Page,
    ) -> Result<ListResponse<Grant>> {
        self.list("/api/v1/grants", filter, page).await
    }

    pub async fn list_all_grants(&self, filter: &GrantFilter, page: &Page) -> Result<Vec<Grant>> {
        self.list_all("/api/v1/grants", filter, page).await
    }

    pub async fn get_grant(&self, id: GrantId) -> Result<Grant> {
        self.get(&format!("/api/v1/grants/{id}")).await
    }

    pub async fn create_grant(&self, body: &CreateGrant) -> Result<Grant> {
        self.create("/api/v1/grants", body).await
    }

    pub async fn update_grant(
        &self,
        id: GrantId,
        body: &UpdateGrant,
        if_match: Option<i64>,
    ) -> Result<Grant> {
        self.update(&format!("/api/v1/grants/{id}"), body, if_match)
            .await
    }

    /// Revokes the grant (`DELETE /api/v1/grants/{id}`).
    pub async fn revoke_grant(&self, id: GrantId) -> Result<()> {
        self.delete(&format!("/api/v1/grants/{id}")).await
    }

    // ----- metadata: attribute definitions and user types -----

    pub async fn list_attributes(
        &self,
        filter: &AttributeFilter,
        page: &Page,
    ) -> Result<ListResponse<AttributeDefinition>> {
        self.list("/api/v1/metadata/attributes", filter, page).await
    }

    pub async fn list_all_attributes(
        &self,
        filter: &AttributeFilter,
        page: &Page,
    ) -> Result<Vec<AttributeDefinition>> {
        self.list_all("/api/v1/metadata/attributes", filter, page)
            .await
    }

    pub async fn get_attribute(&self, id: AttributeId) -> Result<AttributeDefinition> {
        self.get(&format!("/api/v1/metadata/attributes/{id}")).await
    }

    pub async fn create_attribute(&self, body: &CreateAttribute) -> Result<AttributeDefinition> {
        self.create("/api/v1/metadata/attributes", body).await
    }

    pub async fn update_attribute(
        &self,
        id: AttributeId,
        body: &UpdateAttribute,
        if_match: Option<i64>,
    ) -> Result<AttributeDefinition> {
        self.update(&format!("/api/v1/metadata/attributes/{id}"), body, if_match)
            .await
    }

    pub async fn delete_attribute(&self, id: AttributeId) -> Result<()> {
        self.delete(&format!("/api/v1/metadata/attributes/{id}"))
            .await
    }

    pub async fn list_user_types(&self, page: &Page) -> Result<ListResponse<UserType>> {
        self.list("/api/v1/metadata/user-types", &NoFilter {}, page)
            .await
    }

    pub async fn list_all_user_types(&self, page: &Page) -> Result<Vec<UserType>> {
        self.list_all("/api/v1/metadata/user-types", &NoFilter {}, page)
            .await
    }

    pub async fn create_user_type(&self, body: &CreateUserType) -> Result<UserType> {
        self.create("/api/v1/metadata/user-types", body).await
    }

    pub async fn update_user_type(
        &self,
        id: UserTypeId,
        body: &UpdateUserType,
        if_match: Option<i64>,
    ) -> Result<UserType> {
        self.update(&format!("/api/v1/metadata/user-types/{id}"), body, if_match)
            .await
    }

    pub async fn delete_user_type(&self, id: UserTypeId) -> Result<()> {
        self.delete(&format!("/api/v1/metadata/user-types/{id}"))
            .await
    }

    // ----- mail domains -----

    pub async fn list_mail_domains(&self, page: &Page) -> Result<ListResponse<MailDomain>> {
        self.list("/api/v1/mail-domains", &NoFilter {}, page).await
    }

    pub async fn list_all_mail_domains(&self, page: &Page) -> Result<Vec<MailDomain>> {
        self.list_all("/api/v1/mail-domains", &NoFilter {}, page)
            .await
    }

    pub async fn get_mail_domain(&self, id: MailDomainId) -> Result<MailDomain> {
        self.get(&format!("/api/v1/mail-domains/{id}")).await
    }

    pub async fn create_mail_domain(&self, body: &CreateMailDomain) -> Result<MailDomain> {
        self.create("/api/v1/mail-domains", body).await
    }

    pub async fn update_mail_domain(
        &self,
        id: MailDomainId,
        body: &UpdateMailDomain,
        if_match: Option<i64>,
    ) -> Result<MailDomain> {
        self.update(&format!("/api/v1/mail-domains/{id}"), body, if_match)
            .await
    }

    pub async fn delete_mail_domain(&self, id: MailDomainId) -> Result<()> {
        self.delete(&format!("/api/v1/mail-domains/{id}")).await
    }

    // ----- audit -----

    pub async fn list_audit(
        &self,
        filter: &AuditFilter,
        page: &Page,
    ) -> Result<ListResponse<AuditEntry>> {
        self.list("/api/v1/audit", filter, page).await
    }

    pub async fn list_all_audit(
        &self,
        filter: &AuditFilter,
        page: &Page,
    ) -> Result<Vec<AuditEntry>> {
        self.list_all("/api/v1/audit", filter, page).await
    }

    /// Recomputes the organisation's audit hash chain on the server.
    pub async fn verify_audit(&self) -> Result<AuditVerification> {
        self.get("/api/v1/audit/verify").await
    }

    // ----- API tokens (the caller's own) -----

    pub async fn list_tokens(&self, page: &Page) -> Result<ListResponse<ApiTokenView>> {
        self.list("/api/v1/tokens", &NoFilter {}, page).await
    }

    pub async fn list_all_tokens(&self, page: &Page) -> Result<Vec<ApiTokenView>> {
        self.list_all("/api/v1/tokens", &NoFilter {}, page).await
    }

    pub async fn create_token(&self, body: &CreateToken) -> Result<TokenCreated> {
        self.create("/api/v1/tokens", body).await
    }

    pub async fn revoke_token(&self, id: TokenId) -> Result<()> {
        self.delete(&format!("/api/v1/tokens/{id}")).await
    }
}

impl Client {
    // ----- sign-in, sessions, Security Center -----

    /// `POST /api/v1/auth/password`: a new session (send no token).
    pub async fn sign_in_password(
        &self,
        body: &latchkey_api::PasswordSignIn,
    ) -> Result<latchkey_api::SignedIn> {
        self.create("/api/v1/auth/password", body).await
    }

    /// `POST /api/v1/auth/sign-out`: ends the session the client holds.
    pub async fn sign_out(&self) -> Result<()> {
        self.post_no_content("/api/v1/auth/sign-out", &serde_json::json!({}))
            .await
    }

    pub async fn list_sessions(&self) -> Result<Vec<latchkey_api::SessionView>> {
        self.get("/api/v1/sessions").await
    }

    pub async fn revoke_session(&self, id: latchkey_model::SessionId) -> Result<()> {
        self.delete(&format!("/api/v1/sessions/{id}")).await
    }

    /// `PUT /api/v1/users/{id}/password`: set (reset) a user's password.
    pub async fn set_password(&self, id: UserId, body: &latchkey_api::SetPassword) -> Result<()> {
        self.put_no_content(&format!("/api/v1/users/{id}/password"), body)
            .await
    }

    pub async fn list_security_events(
        &self,
        filter: &SecurityEventFilter,
        page: &Page,
    ) -> Result<ListResponse<latchkey_model::SecurityEvent>> {
        self.list("/api/v1/security/events", filter, page).await
    }

    pub async fn list_security_alerts(
        &self,
        filter: &SecurityAlertFilter,
        page: &Page,
    ) -> Result<ListResponse<latchkey_model::SecurityAlert>> {
        self.list("/api/v1/security/alerts", filter, page).await
    }

    /// `POST /api/v1/security/alerts/{id}/acknowledge` or `.../resolve`.
    pub async fn move_alert(
        &self,
        id: latchkey_model::SecurityAlertId,
        to: &str,
        body: &latchkey_api::AlertAction,
    ) -> Result<latchkey_model::SecurityAlert> {
        self.create(&format!("/api/v1/security/alerts/{id}/{to}"), body)
            .await
    }
}

/// `GET /api/v1/invitations` filters.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InvitationFilter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

impl Client {
    // ----- invitations -----

    /// `POST /api/v1/invitations`: a new invitation, or the existing user it updated.
    pub async fn invite(&self, body: &latchkey_api::Invite) -> Result<latchkey_api::InviteOutcome> {
        self.create("/api/v1/invitations", body).await
    }

    pub async fn list_invitations(
        &self,
        filter: &InvitationFilter,
    ) -> Result<Vec<latchkey_api::InvitationView>> {
        self.get_with_query("/api/v1/invitations", filter).await
    }

    /// `DELETE /api/v1/invitations/{id}`: revokes a pending invitation.
    pub async fn revoke_invitation(
        &self,
        id: latchkey_model::InvitationId,
    ) -> Result<latchkey_api::InvitationView> {
        self.delete_json(&format!("/api/v1/invitations/{id}")).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_kinds_round_trip() {
        for kind in ImportKind::ALL {
            assert_eq!(kind.as_str().parse::<ImportKind>(), Ok(*kind));
        }
        assert!("systems".parse::<ImportKind>().is_err());
    }

    #[test]
    fn token_view_reads_a_listed_token() {
        let json = r#"{"id":"0190a4b2-0000-7000-8000-000000000001","org_id":"0190a4b2-0000-7000-8000-000000000002",
            "user_id":"0190a4b2-0000-7000-8000-000000000003","name":"ci","created_at":"2026-01-01T00:00:00Z",
            "expires_at":null,"revoked_at":null}"#;
        let token: ApiTokenView = serde_json::from_str(json).unwrap();
        assert_eq!(token.name, "ci");
        assert_eq!(token.expires_at, None);
    }
}
