//! Access reviews (recertification): campaigns over a selection of grants, each grant an
//! item that its reviewers confirm or revoke before the due date.
//!
//! Who may do what: creating, closing and seeing every campaign and item needs
//! `reviews.manage` for the whole organisation (a scoped holding does not count: a
//! campaign's selection may reach anywhere). A reviewer without it sees the campaigns and
//! items they review (others answer 404) and their queue (`reviewer=me`). Deciding an item
//! needs to be one of its reviewers or to hold `reviews.manage` (who acts for an absent
//! reviewer); anyone else gets 403.
//!
//! A campaign takes its items when it is created, in the same transaction: one per grant
//! of the selection in force at that instant. Grants of assignment rules are listed as
//! `not_reviewable` (they follow their rule; revoking one by hand is refused). Reviewers are
//! resolved then and kept on the item; nobody reviews their own grant; an item without a
//! reviewer goes to the campaign's owner (its creator) and says so (`reviewer_fallback`).
//!
//! Deciding: `confirm` sets the grant's `last_recertified_at`; `revoke` takes the grant
//! away through the same path as `DELETE /grants/{id}` once the right to is established
//! (`Services::revoke_granted`), so whatever refuses a revocation there refuses it here and
//! the item stays pending.

use std::collections::{BTreeSet, HashMap};

use latchkey_api::{
    AccessReviewView, CreateAccessReview, DecideReviewItem, ListResponse, ReviewCountsView,
    ReviewItemView, ReviewSelectionInput,
};
use latchkey_model::{
    AccessReview, AccessReviewId, FieldError, Grant, Grantee, GroupId, Name, OrgId, Permission,
    ReviewDecision, ReviewItem, ReviewItemId, ReviewSelection, ReviewStatus, ReviewerKind, Role,
    RoleId, Stamps, SystemId, UserId, ValidationErrors,
};
use latchkey_store::{After, Page, ReviewCounts, ReviewItemQuery, SortValue, Tx};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::list::respond;
use crate::{ListParams, Principal, ServiceError, ServiceResult, Services, validate};

/// Longest comment on a decision.
const MAX_COMMENT: usize = 4000;

/// `GET /api/v1/access-reviews`: in creation order.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct AccessReviewFilter {
    #[serde(flatten)]
    pub list: ListParams,
}

/// `GET /api/v1/access-reviews/{id}/items` and `GET /api/v1/access-reviews/items`.
/// Values are strings: flattened query parameters reach serde as strings.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ReviewItemFilter {
    #[serde(flatten)]
    pub list: ListParams,
    /// `pending`, `confirmed`, `revoked` or `not_reviewable`.
    pub decision: Option<String>,
    /// `true`: pending items of open campaigns past their due date.
    pub overdue: Option<String>,
    /// `me`, or a user id (`reviews.manage` only).
    pub reviewer: Option<String>,
}

/// Fails with 403 unless `reviews.manage` is held for the whole organisation.
fn require_manage(p: &Principal) -> ServiceResult<()> {
    if manages(p) {
        Ok(())
    } else {
        Err(manage_forbidden())
    }
}

fn manage_forbidden() -> ServiceError {
    ServiceError::Forbidden {
        permission: Some(Permission::ReviewsManage),
        message: "this requires the `reviews.manage` permission for the whole organisation"
            .to_owned(),
    }
}

fn manages(p: &Principal) -> bool {
    p.permissions().has_unscoped(Permission::ReviewsManage)
}

fn view(campaign: AccessReview, counts: ReviewCounts, now: OffsetDateTime) -> AccessReviewView {
    let overdue = if campaign.status == ReviewStatus::Open && campaign.due_at < now {
        counts.pending
    } else {
        0
    };
    AccessReviewView {
        campaign,
        counts: ReviewCountsView {
            total: counts.pending + counts.confirmed + counts.revoked + counts.not_reviewable,
            pending: counts.pending,
            confirmed: counts.confirmed,
            revoked: counts.revoked,
            not_reviewable: counts.not_reviewable,
            overdue,
        },
    }
}

fn item_view(item: ReviewItem, campaign: &AccessReview, now: OffsetDateTime) -> ReviewItemView {
    let overdue = item.decision == ReviewDecision::Pending
        && campaign.status == ReviewStatus::Open
        && campaign.due_at < now;
    ReviewItemView {
        item,
        campaign_name: campaign.name.clone(),
        due_at: campaign.due_at,
        overdue,
    }
}

/// The one selection a request names.
fn selection(
    input: &ReviewSelectionInput,
    errors: &mut ValidationErrors,
) -> Option<ReviewSelection> {
    let mut given = Vec::new();
    if let Some(system_id) = input.system_id {
        given.push(ReviewSelection::System { system_id });
    }
    if let Some(role_id) = input.role_id {
        given.push(ReviewSelection::Role { role_id });
    }
    if let Some(group_id) = input.group_id {
        given.push(ReviewSelection::Group { group_id });
    }
    if input.privileged == Some(true) {
        given.push(ReviewSelection::Privileged);
    }
    if given.len() == 1 {
        given.pop()
    } else {
        errors.push(FieldError::new(
            "selection",
            "one_of",
            "give exactly one of `system_id`, `role_id`, `group_id` and `privileged: true`",
        ));
        None
    }
}

/// What creating a campaign needs to know of the organisation, read once.
struct Catalogue {
    roles: HashMap<RoleId, Role>,
    system_owners: HashMap<SystemId, Option<UserId>>,
    /// Users holding a `users.manage` role scoped to each group.
    managers: HashMap<GroupId, BTreeSet<UserId>>,
}

impl Services {
    pub async fn create_access_review(
        &self,
        p: &Principal,
        req: CreateAccessReview,
    ) -> ServiceResult<AccessReviewView> {
        require_manage(p)?;
        let now = self.now();
        let mut errors = ValidationErrors::new();
        let name = errors
            .check(Name::parse("name", &req.name))
            .map(Name::into_string)
            .unwrap_or_default();
        let description =
            validate::text("description", req.description.as_deref(), 4000, &mut errors);
        let reviewer = ReviewerKind::parse(req.reviewer.trim());
        if reviewer.is_none() {
            errors.push(FieldError::new(
                "reviewer",
                "one_of",
                format!(
                    "`reviewer` must be one of {}, not `{}`",
                    ReviewerKind::names(),
                    req.reviewer
                ),
            ));
        }
        if req.due_at <= now {
            errors.push(FieldError::new(
                "due_at",
                "future",
                "`due_at` must be in the future",
            ));
        }
        let chosen = selection(&req.selection, &mut errors);
        let mut tx = self.begin(p.org_id).await?;
        if let Some(chosen) = chosen {
            let (field, exists) = match chosen {
                ReviewSelection::System { system_id } => (
                    "selection.system_id",
                    tx.get_system(p.org_id, system_id).await?.is_some(),
                ),
                ReviewSelection::Role { role_id } => (
                    "selection.role_id",
                    tx.get_role(p.org_id, role_id).await?.is_some(),
                ),
                ReviewSelection::Group { group_id } => (
                    "selection.group_id",
                    tx.get_group(p.org_id, group_id).await?.is_some(),
                ),
                ReviewSelection::Privileged => ("", true),
            };
            if !exists {
                errors.push(FieldError::new(
                    field,
                    "exists",
                    format!("`{field}` names nothing in this organisation"),
                ));
            }
        }
        errors.finish()?;
        let (Some(chosen), Some(reviewer)) = (chosen, reviewer) else {
            return Err(ServiceError::Internal(
                "validated fields missing".to_owned(),
            ));
        };

        let campaign = AccessReview {
            id: AccessReviewId::from_uuid(self.uuid()),
            org_id: p.org_id,
            name,
            description,
            selection: chosen,
            reviewer,
            due_at: req.due_at,
            status: ReviewStatus::Open,
            owner_id: p.user_id,
            closed_at: None,
            closed_by: None,
            stamps: Stamps::new(now, Some(p.user_id)),
        };
        let catalogue = self.review_catalogue(&mut *tx, p.org_id, now).await?;
        let grants = self
            .selected_grants(&mut *tx, p.org_id, chosen, &catalogue, now)
            .await?;
        let mut items = Vec::with_capacity(grants.len());
        let mut primary_groups: HashMap<UserId, (String, GroupId)> = HashMap::new();
        for g in grants {
            let Some(role) = catalogue.roles.get(&g.role_id) else {
                continue;
            };
            let (grantee_name, home) = match g.grantee {
                Grantee::User(u) => match primary_groups.get(&u) {
                    Some(known) => known.clone(),
                    None => {
                        let Some(user) = tx.get_user(p.org_id, u).await? else {
                            continue;
                        };
                        let known = (user.user_name, user.primary_group_id);
                        primary_groups.insert(u, known.clone());
                        known
                    }
                },
                Grantee::Group(grp) => {
                    let name = self.engine(p.org_id).await?.read().group_name(grp);
                    (name, grp)
                }
            };
            let mut reviewers: BTreeSet<UserId> = match reviewer {
                ReviewerKind::RoleOwner => role.owner_id.into_iter().collect(),
                ReviewerKind::SystemOwner => catalogue
                    .system_owners
                    .get(&role.system_id)
                    .copied()
                    .flatten()
                    .into_iter()
                    .collect(),
                ReviewerKind::Manager => {
                    self.managers_of(p.org_id, home, g.grantee, &catalogue)
                        .await?
                }
            };
            if let Grantee::User(u) = g.grantee {
                reviewers.remove(&u);
            }
            let fallback = reviewers.is_empty();
            if fallback {
                reviewers.insert(campaign.owner_id);
            }
            let decision = if g.origin == latchkey_model::GrantOrigin::Rule {
                ReviewDecision::NotReviewable
            } else {
                ReviewDecision::Pending
            };
            items.push(ReviewItem {
                id: ReviewItemId::from_uuid(self.uuid()),
                org_id: p.org_id,
                campaign_id: campaign.id,
                grant_id: g.id,
                role_id: role.id,
                role_name: role.name.clone(),
                grantee: g.grantee,
                grantee_name,
                scope: g.scope.clone(),
                reviewer_ids: reviewers.into_iter().collect(),
                reviewer_fallback: fallback,
                decision,
                decided_at: None,
                decided_by: None,
                comment: None,
                created_at: now,
            });
        }
        tx.insert_access_review(&campaign).await?;
        tx.insert_review_items(&items).await?;
        let mut counts = ReviewCounts::default();
        for i in &items {
            match i.decision {
                ReviewDecision::NotReviewable => counts.not_reviewable += 1,
                _ => counts.pending += 1,
            }
        }
        let out = view(campaign, counts, now);
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "access_review.create",
            "access_review",
            out.campaign.id,
            None::<&()>,
            Some(&out),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Roles, system owners and group managers, as of `now`.
    async fn review_catalogue(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        now: OffsetDateTime,
    ) -> ServiceResult<Catalogue> {
        let roles: HashMap<RoleId, Role> = tx
            .all_roles(org)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut system_owners = HashMap::new();
        let systems: BTreeSet<SystemId> = roles.values().map(|r| r.system_id).collect();
        for s in systems {
            let owner = tx.get_system(org, s).await?.and_then(|s| s.owner_id);
            system_owners.insert(s, owner);
        }
        // The Managers of a group: holders of a role carrying `users.manage` whose scope
        // value is the group (groups-domain scope values are group ids).
        let mut managers: HashMap<GroupId, BTreeSet<UserId>> = HashMap::new();
        let engine = self.engine(org).await?;
        {
            let state = engine.read();
            for (role, perms) in &state.permissions_of {
                if !perms.contains(&Permission::UsersManage) || !state.scoped_roles.contains(role) {
                    continue;
                }
                for holder in state.engine.holders(*role, now) {
                    let Some(group) = holder
                        .scope
                        .as_deref()
                        .and_then(|s| s.parse::<uuid::Uuid>().ok())
                        .map(GroupId::from_uuid)
                    else {
                        continue;
                    };
                    managers.entry(group).or_default().insert(holder.user);
                }
            }
        }
        Ok(Catalogue {
            roles,
            system_owners,
            managers,
        })
    }

    /// The managers nearest `home` (the grantee's primary group, or the granted group):
    /// those of the group itself, else of its parent, and so on; never the grantee.
    async fn managers_of(
        &self,
        org: OrgId,
        home: GroupId,
        grantee: Grantee,
        catalogue: &Catalogue,
    ) -> ServiceResult<BTreeSet<UserId>> {
        let ancestors = self.engine(org).await?.read().engine.group_ancestors(home);
        for g in ancestors {
            let Some(found) = catalogue.managers.get(&g) else {
                continue;
            };
            let found: BTreeSet<UserId> = found
                .iter()
                .copied()
                .filter(|u| grantee != Grantee::User(*u))
                .collect();
            if !found.is_empty() {
                return Ok(found);
            }
        }
        Ok(BTreeSet::new())
    }

    /// The grants a selection covers that are in force at `now`, by id.
    async fn selected_grants(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        selection: ReviewSelection,
        catalogue: &Catalogue,
        now: OffsetDateTime,
    ) -> ServiceResult<Vec<Grant>> {
        let grants = match selection {
            ReviewSelection::System { system_id } => {
                let systems: BTreeSet<SystemId> = self
                    .engine(org)
                    .await?
                    .read()
                    .engine
                    .system_subtree(system_id)
                    .into_iter()
                    .collect();
                let roles: Vec<RoleId> = catalogue
                    .roles
                    .values()
                    .filter(|r| systems.contains(&r.system_id))
                    .map(|r| r.id)
                    .collect();
                tx.grants_of_roles(org, &roles).await?
            }
            ReviewSelection::Role { role_id } => tx.grants_of_roles(org, &[role_id]).await?,
            ReviewSelection::Privileged => {
                let roles: Vec<RoleId> = catalogue
                    .roles
                    .values()
                    .filter(|r| r.privileged)
                    .map(|r| r.id)
                    .collect();
                tx.grants_of_roles(org, &roles).await?
            }
            ReviewSelection::Group { group_id } => {
                let (groups, users) = {
                    let engine = self.engine(org).await?;
                    let state = engine.read();
                    (
                        state.engine.group_subtree(group_id),
                        state.engine.subtree_members(group_id, now),
                    )
                };
                tx.grants_to(org, &users, &groups).await?
            }
        };
        Ok(grants.into_iter().filter(|g| g.in_force_at(now)).collect())
    }

    pub async fn list_access_reviews(
        &self,
        p: &Principal,
        f: &AccessReviewFilter,
    ) -> ServiceResult<ListResponse<AccessReviewView>> {
        let paging = f.list.paging()?;
        let reviewer = (!manages(p)).then_some(p.user_id);
        let mut tx = self.read().await?;
        let page = tx.list_access_reviews(p.org_id, &paging, reviewer).await?;
        let ids: Vec<AccessReviewId> = page.items.iter().map(|c| c.id).collect();
        let counts: HashMap<AccessReviewId, ReviewCounts> = tx
            .count_review_items(p.org_id, &ids)
            .await?
            .into_iter()
            .collect();
        let now = self.now();
        let views = page
            .items
            .into_iter()
            .map(|c| {
                let n = counts.get(&c.id).copied().unwrap_or_default();
                view(c, n, now)
            })
            .collect();
        Ok(respond(
            Page {
                items: views,
                has_more: page.has_more,
            },
            |v: &AccessReviewView| After {
                key: SortValue::None,
                id: v.campaign.id.as_uuid(),
            },
        ))
    }

    pub async fn get_access_review(
        &self,
        p: &Principal,
        id: AccessReviewId,
    ) -> ServiceResult<AccessReviewView> {
        let mut tx = self.read().await?;
        let campaign = self.visible_campaign(&mut *tx, p, id).await?;
        self.campaign_view(&mut *tx, campaign).await
    }

    async fn campaign_view(
        &self,
        tx: &mut dyn Tx,
        campaign: AccessReview,
    ) -> ServiceResult<AccessReviewView> {
        let counts = tx
            .count_review_items(campaign.org_id, &[campaign.id])
            .await?
            .into_iter()
            .next()
            .map(|(_, c)| c)
            .unwrap_or_default();
        Ok(view(campaign, counts, self.now()))
    }

    /// A campaign the caller may see: any with `reviews.manage`, else one where they
    /// review an item.
    async fn visible_campaign(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        id: AccessReviewId,
    ) -> ServiceResult<AccessReview> {
        let campaign = tx
            .get_access_review(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("access review", id))?;
        if manages(p) {
            return Ok(campaign);
        }
        let mine = tx
            .list_review_items(
                p.org_id,
                &ReviewItemQuery {
                    campaign: Some(id),
                    reviewer: Some(p.user_id),
                    paging: latchkey_store::Paging {
                        limit: 1,
                        ..Default::default()
                    },
                    ..Default::default()
                },
            )
            .await?;
        if mine.items.is_empty() {
            Err(ServiceError::not_found("access review", id))
        } else {
            Ok(campaign)
        }
    }

    /// Items of one campaign (`campaign`), or across campaigns. Without `reviews.manage`
    /// a caller sees only the items they review.
    pub async fn list_review_items(
        &self,
        p: &Principal,
        campaign: Option<AccessReviewId>,
        f: &ReviewItemFilter,
    ) -> ServiceResult<ListResponse<ReviewItemView>> {
        let paging = f.list.paging()?;
        let decision = match f.decision.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(d) => Some(ReviewDecision::parse(d).ok_or_else(|| {
                ServiceError::invalid(
                    "decision",
                    "one_of",
                    format!(
                        "`decision` must be `pending`, `confirmed`, `revoked` or `not_reviewable`, not `{d}`"
                    ),
                )
            })?),
        };
        let overdue = match f.overdue.as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("true") => true,
            Some(o) => {
                return Err(ServiceError::invalid(
                    "overdue",
                    "boolean",
                    format!("`overdue` must be `true` or `false`, not `{o}`"),
                ));
            }
        };
        let asked = match f.reviewer.as_deref().map(str::trim) {
            None | Some("") => None,
            Some("me") => Some(p.user_id),
            Some(raw) => Some(raw.parse::<UserId>().map_err(|_| {
                ServiceError::invalid(
                    "reviewer",
                    "user",
                    format!("`reviewer` must be `me` or a user id, not `{raw}`"),
                )
            })?),
        };
        let manager = manages(p);
        let reviewer = match (asked, manager) {
            (Some(u), false) if u != p.user_id => return Err(manage_forbidden()),
            (None, false) if campaign.is_none() => return Err(manage_forbidden()),
            (None, false) => Some(p.user_id),
            (asked, _) => asked,
        };
        let now = self.now();
        let mut tx = self.read().await?;
        let mut campaigns: HashMap<AccessReviewId, AccessReview> = HashMap::new();
        if let Some(id) = campaign {
            let c = self.visible_campaign(&mut *tx, p, id).await?;
            campaigns.insert(id, c);
        }
        let query = ReviewItemQuery {
            paging,
            campaign,
            reviewer,
            decision,
            overdue_at: overdue.then_some(now),
        };
        let page = tx.list_review_items(p.org_id, &query).await?;
        let mut views = Vec::with_capacity(page.items.len());
        for item in page.items {
            if !campaigns.contains_key(&item.campaign_id) {
                let Some(c) = tx.get_access_review(p.org_id, item.campaign_id).await? else {
                    continue;
                };
                campaigns.insert(c.id, c);
            }
            if let Some(c) = campaigns.get(&item.campaign_id) {
                views.push(item_view(item, c, now));
            }
        }
        Ok(respond(
            Page {
                items: views,
                has_more: page.has_more,
            },
            |v: &ReviewItemView| After {
                key: SortValue::None,
                id: v.item.id.as_uuid(),
            },
        ))
    }

    /// One item of a campaign, for its reviewers and holders of `reviews.manage` (anyone
    /// else: not found, as for the campaign). The console's revoke confirmation shows it.
    pub async fn get_review_item(
        &self,
        p: &Principal,
        campaign_id: AccessReviewId,
        item_id: ReviewItemId,
    ) -> ServiceResult<ReviewItemView> {
        let mut tx = self.read().await?;
        let campaign = self.visible_campaign(&mut *tx, p, campaign_id).await?;
        let item = tx
            .get_review_item(p.org_id, item_id)
            .await?
            .filter(|i| i.campaign_id == campaign_id)
            .filter(|i| manages(p) || i.reviewer_ids.contains(&p.user_id))
            .ok_or_else(|| ServiceError::not_found("access review item", item_id))?;
        Ok(item_view(item, &campaign, self.now()))
    }

    pub async fn decide_review_item(
        &self,
        p: &Principal,
        campaign_id: AccessReviewId,
        item_id: ReviewItemId,
        req: DecideReviewItem,
    ) -> ServiceResult<ReviewItemView> {
        let mut errors = ValidationErrors::new();
        let decision = match req.decision.trim() {
            "confirm" => Some(ReviewDecision::Confirmed),
            "revoke" => Some(ReviewDecision::Revoked),
            other => {
                errors.push(FieldError::new(
                    "decision",
                    "one_of",
                    format!("`decision` must be `confirm` or `revoke`, not `{other}`"),
                ));
                None
            }
        };
        let comment = validate::text("comment", req.comment.as_deref(), MAX_COMMENT, &mut errors);
        errors.finish()?;
        let Some(decision) = decision else {
            return Err(ServiceError::Internal(
                "validated decision missing".to_owned(),
            ));
        };
        let now = self.now();
        let mut tx = self.begin(p.org_id).await?;
        let campaign = tx
            .get_access_review(p.org_id, campaign_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("access review", campaign_id))?;
        let before = tx
            .get_review_item(p.org_id, item_id)
            .await?
            .filter(|i| i.campaign_id == campaign_id)
            .ok_or_else(|| ServiceError::not_found("access review item", item_id))?;
        if !before.reviewer_ids.contains(&p.user_id) && !manages(p) {
            return Err(ServiceError::Forbidden {
                permission: Some(Permission::ReviewsManage),
                message:
                    "only a reviewer of this item, or a holder of `reviews.manage`, may decide it"
                        .to_owned(),
            });
        }
        if campaign.status == ReviewStatus::Closed {
            return Err(ServiceError::conflict(
                "campaign_closed",
                format!("the access review `{}` is closed", campaign.name),
            ));
        }
        let grant = tx.get_grant(p.org_id, before.grant_id).await?;
        match before.decision {
            ReviewDecision::Pending => {}
            ReviewDecision::NotReviewable => {
                return Err(match &grant {
                    Some(g) => {
                        self.rule_granted(&mut *tx, g, "revoked or confirmed")
                            .await?
                    }
                    None => ServiceError::conflict(
                        "rule_granted",
                        "this grant came from a role assignment rule and is not reviewed by hand",
                    ),
                });
            }
            done => {
                return Err(ServiceError::conflict(
                    "already_decided",
                    format!("this item was already decided: {}", done.as_str()),
                ));
            }
        }
        match (decision, grant) {
            (ReviewDecision::Confirmed, Some(g)) => {
                let mut after = g.clone();
                after.last_recertified_at = Some(now);
                after.stamps.touch(now, Some(p.user_id));
                tx.update_grant(&after).await?;
                self.audit(
                    &mut *tx,
                    Some(p),
                    p.org_id,
                    "grant.recertify",
                    "grant",
                    g.id,
                    Some(&g),
                    Some(&after),
                )
                .await?;
            }
            (ReviewDecision::Confirmed, None) => {
                return Err(ServiceError::conflict(
                    "grant_gone",
                    "the grant no longer exists, so it cannot be confirmed; revoke the item to record that",
                ));
            }
            (_, Some(g)) => {
                // On a system with an approval process the revoke waits for its approver.
                self.revoke_granted(&mut *tx, p, g).await?;
            }
            // Already gone: the access the item asked about is revoked either way.
            (_, None) => {}
        }
        let mut item = before.clone();
        item.decision = decision;
        item.decided_at = Some(now);
        item.decided_by = Some(p.user_id);
        item.comment = comment;
        tx.decide_review_item(&item).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "access_review.decide",
            "access_review_item",
            item.id,
            Some(&before),
            Some(&item),
        )
        .await?;
        tx.commit().await?;
        Ok(item_view(item, &campaign, now))
    }

    /// Closes a campaign; its undecided items stay pending and are counted in the answer.
    pub async fn close_access_review(
        &self,
        p: &Principal,
        id: AccessReviewId,
    ) -> ServiceResult<AccessReviewView> {
        require_manage(p)?;
        let now = self.now();
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_access_review(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("access review", id))?;
        if before.status == ReviewStatus::Closed {
            return Err(ServiceError::conflict(
                "already_closed",
                format!("the access review `{}` is already closed", before.name),
            ));
        }
        let mut campaign = before.clone();
        campaign.status = ReviewStatus::Closed;
        campaign.closed_at = Some(now);
        campaign.closed_by = Some(p.user_id);
        campaign.stamps.touch(now, Some(p.user_id));
        tx.update_access_review(&campaign).await?;
        let out = self.campaign_view(&mut *tx, campaign).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "access_review.close",
            "access_review",
            id,
            Some(&before),
            Some(&out),
        )
        .await?;
        tx.commit().await?;
        Ok(out)
    }
}
