//! Segregation of duties: the rules (CRUD and preview) and their enforcement.
//!
//! Managing rules needs `sod.manage` covering the rule's information system; reading them
//! needs `sod.manage` or `systems.view` over that system (a rule is part of the catalogue
//! of the system it is filed under). A preview names users, so it lists only those the
//! caller may see with `users.view`; its `total` counts all.
//!
//! Enforcement: every write that can give a user roles asks [`Services::sod_guard`] before
//! writing, describing what it would do as a [`SodChange`]. The guard loads the
//! organisation's rules (inside the write's transaction, so it sees exactly what the write
//! sees), asks the live engine what each user concerned holds now and would hold after
//! the change, and refuses with 409 `sod_forbidden` when the change would make a
//! `forbidden` combination. Low and high risks are allowed; they show on the user's
//! effective roles. Combinations a user held before a rule existed are not the change's
//! doing and never block an unrelated write.
//!
//! Code that gives roles on its own (assignment rules) calls [`Services::sod_violations`]
//! for the user and the roles it would give, and for a forbidden violation raises an alert
//! with [`Services::sod_violation_alert`] instead of granting.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use latchkey_api::{
    CreateSodRule, ListResponse, NamedRef, SodAffectedUser, SodPairInput, SodPreview, SodRiskView,
    SodRuleSaved, UpdateSodRule,
};
use latchkey_engine::{RoleSet, SodIndex, WhatIf};
use latchkey_model::{
    FieldError, Grantee, GroupId, Name, OrgId, Permission, Risk, RoleId, SodKind, SodPair, SodRule,
    SodRuleId, SodViolation, Stamps, SystemId, UserId, ValidationErrors,
};
use latchkey_store::{After, SodRuleQuery, SortValue, Tx};
use serde::Deserialize;
use time::OffsetDateTime;

use crate::list::respond;
use crate::{
    ListParams, OrgState, Principal, Scope, ServiceError, ServiceResult, Services, check_version,
    validate,
};

/// The Security Center alert (and security event) of a forbidden combination that was not
/// refused: one made by an automatic path, or one older than the rule that forbids it.
pub const SOD_ALERT: &str = "sod.violation";

/// Most roles a rule may name.
const MAX_ROLES: usize = 100;

/// Most users a preview lists.
pub const PREVIEW_LIMIT: usize = 1000;

/// `GET /api/v1/sod-rules`: by name; `system_id` and `role_id` filter.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SodRuleFilter {
    #[serde(flatten)]
    pub list: ListParams,
    pub system_id: Option<SystemId>,
    pub role_id: Option<RoleId>,
}

/// What a write would do to users' roles, for [`Services::sod_guard`].
#[derive(Debug, Clone)]
pub(crate) enum SodChange<'a> {
    /// `user` is granted `roles` (each brings its mandatory closure).
    UserGrant { user: UserId, roles: Vec<RoleId> },
    /// `group` is granted `roles`: every user its grants reach gains them.
    GroupGrant { group: GroupId, roles: &'a [RoleId] },
    /// A mandatory edge `parent -> child`: every holder of `parent` gains `child`'s closure.
    MandatoryEdge { parent: RoleId, child: RoleId },
    /// `user` becomes a (secondary) member of `group`.
    Join { user: UserId, group: GroupId },
    /// `user`'s primary group becomes `group`.
    Primary { user: UserId, group: GroupId },
    /// `group` moves under `parent` (`None`: to the top).
    Move {
        group: GroupId,
        parent: Option<GroupId>,
    },
    /// `group` becomes active (enabled again, or its dates now include the present).
    Activate { group: GroupId },
}

/// An organisation's rules, by id and indexed.
pub(crate) struct SodRules {
    pub(crate) index: SodIndex,
    pub(crate) by_id: HashMap<SodRuleId, SodRule>,
}

impl SodRules {
    fn new(rules: Vec<SodRule>) -> Self {
        Self {
            index: SodIndex::build(&rules),
            by_id: rules.into_iter().map(|r| (r.id, r)).collect(),
        }
    }

    fn name(&self, id: SodRuleId) -> String {
        self.by_id
            .get(&id)
            .map(|r| r.name.clone())
            .unwrap_or_else(|| id.to_string())
    }
}

/// The fields of a rule before validation (a create, or an update merged into a rule).
struct Draft {
    name: String,
    system_id: SystemId,
    description: Option<String>,
    kind: String,
    risk: Option<String>,
    role_ids: Vec<RoleId>,
    threshold: Option<u32>,
    matrix: Option<Vec<SodPairInput>>,
}

impl From<CreateSodRule> for Draft {
    fn from(r: CreateSodRule) -> Self {
        Self {
            name: r.name,
            system_id: r.system_id,
            description: r.description,
            kind: r.kind,
            risk: r.risk,
            role_ids: r.role_ids,
            threshold: r.threshold,
            matrix: r.matrix,
        }
    }
}

impl Draft {
    /// `rule` with `req` applied. A new kind drops what belonged to the old one (its
    /// threshold or matrix) unless the request gives it again; a matrix rule's stored risk
    /// is derived, so it is not carried over.
    fn merged(rule: &SodRule, req: UpdateSodRule) -> Self {
        let kind_changed = req.kind.as_deref().is_some_and(|k| k != rule.kind.as_str());
        let matrix_was = (!kind_changed && rule.kind == SodKind::Matrix).then(|| {
            rule.matrix
                .iter()
                .map(|p| SodPairInput {
                    a: p.a,
                    b: p.b,
                    risk: p.risk.as_str().to_owned(),
                })
                .collect()
        });
        // A matrix rule's risk is derived from its pairs: never carried into one.
        let to_matrix = req.kind.as_deref().unwrap_or(rule.kind.as_str()) == "matrix";
        let risk_was = (!to_matrix).then(|| rule.risk.as_str().to_owned());
        Self {
            name: req.name.unwrap_or_else(|| rule.name.clone()),
            system_id: req.system_id.unwrap_or(rule.system_id),
            description: req.description.unwrap_or_else(|| rule.description.clone()),
            kind: req.kind.unwrap_or_else(|| rule.kind.as_str().to_owned()),
            risk: req.risk.or(risk_was),
            role_ids: req.role_ids.unwrap_or_else(|| rule.role_ids.clone()),
            threshold: match req.threshold {
                Some(t) => t,
                None if kind_changed => None,
                None => rule.threshold,
            },
            matrix: req.matrix.or(matrix_was),
        }
    }
}

impl Services {
    // ---- rules ----

    pub async fn create_sod_rule(
        &self,
        p: &Principal,
        req: CreateSodRule,
    ) -> ServiceResult<SodRuleSaved> {
        let scope = p.require(Permission::SodManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let id = SodRuleId::from_uuid(self.uuid());
        let stamps = Stamps::new(self.now(), Some(p.user_id));
        let rule = self
            .validate_sod_rule(&mut *tx, p.org_id, &scope, Draft::from(req), id, stamps)
            .await?;
        tx.insert_sod_rule(&rule).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "sod_rule.create",
            "sod_rule",
            rule.id,
            None::<&()>,
            Some(&rule),
        )
        .await?;
        let saved = self.report_standing(&mut *tx, p, rule, "created").await?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn get_sod_rule(&self, p: &Principal, id: SodRuleId) -> ServiceResult<SodRule> {
        let scope = read_scope(p)?;
        let mut tx = self.read().await?;
        rule_in_scope(&mut *tx, p.org_id, &scope, id).await
    }

    pub async fn list_sod_rules(
        &self,
        p: &Principal,
        f: &SodRuleFilter,
    ) -> ServiceResult<ListResponse<SodRule>> {
        let scope = read_scope(p)?;
        if let Some(system) = f.system_id
            && !scope.covers_system(system)
        {
            return Err(ServiceError::not_found("information system", system));
        }
        let query = SodRuleQuery {
            paging: f.list.paging()?,
            system: f.system_id,
            role: f.role_id,
        };
        let mut tx = self.read().await?;
        let page = tx.list_sod_rules(p.org_id, &query).await?;
        // The cursor follows the store's order, whatever the scope keeps.
        let mut out = respond(page, cursor);
        out.items.retain(|r| scope.covers_system(r.system_id));
        Ok(out)
    }

    pub async fn update_sod_rule(
        &self,
        p: &Principal,
        id: SodRuleId,
        req: UpdateSodRule,
        if_match: Option<i64>,
    ) -> ServiceResult<SodRuleSaved> {
        let scope = p.require(Permission::SodManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = rule_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(
            if_match,
            before.stamps.version,
            "segregation-of-duties rule",
        )?;
        let draft = Draft::merged(&before, req);
        let mut rule = self
            .validate_sod_rule(&mut *tx, p.org_id, &scope, draft, id, before.stamps.clone())
            .await?;
        if rule == before {
            let saved = self.report_standing(&mut *tx, p, rule, "").await?;
            return Ok(saved);
        }
        rule.stamps.touch(self.now(), Some(p.user_id));
        tx.update_sod_rule(&rule).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "sod_rule.update",
            "sod_rule",
            id,
            Some(&before),
            Some(&rule),
        )
        .await?;
        let saved = self.report_standing(&mut *tx, p, rule, "changed").await?;
        tx.commit().await?;
        Ok(saved)
    }

    pub async fn delete_sod_rule(
        &self,
        p: &Principal,
        id: SodRuleId,
        if_match: Option<i64>,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::SodManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let rule = rule_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        check_version(if_match, rule.stamps.version, "segregation-of-duties rule")?;
        tx.delete_sod_rule(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "sod_rule.delete",
            "sod_rule",
            id,
            Some(&rule),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The users a rule not yet saved would affect now.
    pub async fn preview_sod_rule(
        &self,
        p: &Principal,
        req: CreateSodRule,
    ) -> ServiceResult<SodPreview> {
        let scope = p.require(Permission::SodManage)?;
        let mut tx = self.read().await?;
        let id = SodRuleId::from_uuid(self.uuid());
        let stamps = Stamps::new(self.now(), Some(p.user_id));
        let rule = self
            .validate_sod_rule(&mut *tx, p.org_id, &scope, Draft::from(req), id, stamps)
            .await?;
        self.preview(&mut *tx, p, rule).await
    }

    /// The users a saved rule, with the changes of `req` if any (not saved), affects now.
    pub async fn preview_saved_sod_rule(
        &self,
        p: &Principal,
        id: SodRuleId,
        req: UpdateSodRule,
    ) -> ServiceResult<SodPreview> {
        let scope = p.require(Permission::SodManage)?;
        let mut tx = self.read().await?;
        let before = rule_in_scope(&mut *tx, p.org_id, &scope, id).await?;
        let draft = Draft::merged(&before, req);
        let rule = self
            .validate_sod_rule(&mut *tx, p.org_id, &scope, draft, id, before.stamps.clone())
            .await?;
        self.preview(&mut *tx, p, rule).await
    }

    async fn preview(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        rule: SodRule,
    ) -> ServiceResult<SodPreview> {
        let affected = self.affected_by(p.org_id, &rule).await?;
        let total = affected.len() as u64;
        let users_scope = p.require(Permission::UsersView).ok();
        let ids: Vec<UserId> = affected.keys().copied().collect();
        let mut users = Vec::new();
        for chunk in ids.chunks(500) {
            for u in tx.get_users(p.org_id, chunk).await? {
                if !users_scope
                    .as_ref()
                    .is_some_and(|s| s.covers_group(u.primary_group_id))
                {
                    continue;
                }
                let Some(v) = affected.get(&u.id) else {
                    continue;
                };
                users.push(SodAffectedUser {
                    user_id: u.id,
                    user_name: u.user_name,
                    risk: v.risk,
                    roles: role_refs(&mut *tx, p.org_id, &v.role_ids).await?,
                });
            }
        }
        users.sort_by(|a, b| a.user_name.cmp(&b.user_name));
        users.truncate(PREVIEW_LIMIT);
        Ok(SodPreview { rule, total, users })
    }

    /// Every user who holds a combination `rule` triggers now, with the combination.
    async fn affected_by(
        &self,
        org: OrgId,
        rule: &SodRule,
    ) -> ServiceResult<BTreeMap<UserId, SodViolation>> {
        let index = SodIndex::build(std::slice::from_ref(rule));
        let now = self.now();
        let engine = self.engine(org).await?;
        let state = engine.read();
        let mut candidates = BTreeSet::new();
        for &role in &rule.role_ids {
            candidates.extend(state.engine.holders(role, now).into_iter().map(|h| h.user));
        }
        let mut out = BTreeMap::new();
        for user in candidates {
            let held = state.engine.held_roles(user, now);
            if let Some(v) = index.standing(&held).into_iter().next() {
                out.insert(user, v);
            }
        }
        Ok(out)
    }

    /// The rule as saved, with the count of users already holding a combination it
    /// triggers; for a rule with forbidden combinations held, one Security Center alert.
    async fn report_standing(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        rule: SodRule,
        done: &str,
    ) -> ServiceResult<SodRuleSaved> {
        let affected = self.affected_by(p.org_id, &rule).await?;
        let forbidden = affected
            .values()
            .filter(|v| v.risk == Risk::Forbidden)
            .count();
        if forbidden > 0 && !done.is_empty() {
            let event = self
                .security_event(
                    tx,
                    p.org_id,
                    SOD_ALERT,
                    None,
                    Some(p.user_id),
                    &crate::ClientInfo::default(),
                    serde_json::json!({
                        "rule_id": rule.id,
                        "rule": rule.name,
                        "users": forbidden,
                    }),
                )
                .await?;
            self.raise_alert(
                tx,
                p.org_id,
                SOD_ALERT,
                "high",
                format!(
                    "`{}` {done} the segregation-of-duties rule `{}`, which {forbidden} user{} already break{}: review their roles",
                    p.user_name,
                    rule.name,
                    if forbidden == 1 { "" } else { "s" },
                    if forbidden == 1 { "s" } else { "" },
                ),
                None,
                event,
            )
            .await?;
        }
        Ok(SodRuleSaved {
            rule,
            violating_users: affected.len() as u64,
        })
    }

    /// Checks `draft` field by field (422 with every field at fault) and returns the rule
    /// it makes.
    async fn validate_sod_rule(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        scope: &Scope,
        draft: Draft,
        id: SodRuleId,
        stamps: Stamps,
    ) -> ServiceResult<SodRule> {
        let mut errors = ValidationErrors::new();
        let name = errors
            .check(Name::parse("name", &draft.name))
            .map(Name::into_string)
            .unwrap_or_default();
        let description = validate::text(
            "description",
            draft.description.as_deref(),
            4000,
            &mut errors,
        );
        match tx.get_system(org, draft.system_id).await? {
            Some(s) if scope.covers_system(s.id) => {}
            _ => errors.push(FieldError::new(
                "system_id",
                "exists",
                format!(
                    "information system `{}` does not exist or is outside your scope",
                    draft.system_id
                ),
            )),
        }
        let kind = SodKind::parse(draft.kind.trim());
        if kind.is_none() {
            errors.push(FieldError::new(
                "kind",
                "one_of",
                format!(
                    "`kind` must be one of {}, not `{}`",
                    SodKind::names(),
                    draft.kind
                ),
            ));
        }
        let risk = match draft.risk.as_deref().map(str::trim) {
            None => None,
            Some(raw) => {
                let r = Risk::parse(raw);
                if r.is_none() {
                    errors.push(FieldError::new(
                        "risk",
                        "one_of",
                        format!("`risk` must be one of {}, not `{raw}`", Risk::names()),
                    ));
                }
                r
            }
        };
        // Roles: at least two, distinct, each a role of the organisation.
        let mut role_ids: Vec<RoleId> = Vec::with_capacity(draft.role_ids.len());
        for &r in &draft.role_ids {
            if role_ids.contains(&r) {
                errors.push(FieldError::new(
                    "role_ids",
                    "unique",
                    format!("role `{r}` is listed twice"),
                ));
            } else {
                role_ids.push(r);
            }
        }
        if role_ids.len() < 2 {
            errors.push(FieldError::new(
                "role_ids",
                "min_items",
                "a rule needs at least two distinct roles",
            ));
        }
        if role_ids.len() > MAX_ROLES {
            errors.push(FieldError::new(
                "role_ids",
                "max_items",
                format!("a rule names at most {MAX_ROLES} roles"),
            ));
        }
        for &r in role_ids.iter().take(MAX_ROLES) {
            if tx.get_role(org, r).await?.is_none() {
                errors.push(FieldError::new(
                    "role_ids",
                    "exists",
                    format!("role `{r}` does not exist"),
                ));
            }
        }
        let n = role_ids.len();
        let threshold = match (kind, draft.threshold) {
            (Some(SodKind::Some), None) => {
                errors.push(FieldError::new(
                    "threshold",
                    "required",
                    "a `some` rule needs a `threshold`: how many of its roles one user may hold",
                ));
                None
            }
            (Some(SodKind::Some), Some(t)) => {
                if t < 1 || t as usize >= n.max(2) {
                    errors.push(FieldError::new(
                        "threshold",
                        "range",
                        format!(
                            "`threshold` must be at least 1 and less than the number of roles ({n}), not {t}"
                        ),
                    ));
                }
                Some(t)
            }
            (_, Some(_)) => {
                errors.push(FieldError::new(
                    "threshold",
                    "not_allowed",
                    "`threshold` goes with kind `some` only",
                ));
                None
            }
            (_, None) => None,
        };
        let mut matrix: Vec<SodPair> = Vec::new();
        match (kind, draft.matrix) {
            (Some(SodKind::Matrix), None) => errors.push(FieldError::new(
                "matrix",
                "required",
                "a `matrix` rule needs its pairs of roles and their risks",
            )),
            (Some(SodKind::Matrix), Some(cells)) => {
                if cells.is_empty() {
                    errors.push(FieldError::new(
                        "matrix",
                        "required",
                        "a `matrix` rule needs at least one pair",
                    ));
                }
                for (i, cell) in cells.iter().enumerate() {
                    let field = format!("matrix[{i}]");
                    let Some(risk) = Risk::parse(cell.risk.trim()) else {
                        errors.push(FieldError::new(
                            &field,
                            "one_of",
                            format!(
                                "the risk must be one of {}, not `{}`",
                                Risk::names(),
                                cell.risk
                            ),
                        ));
                        continue;
                    };
                    if cell.a == cell.b {
                        errors.push(FieldError::new(
                            &field,
                            "distinct",
                            "a pair names two different roles",
                        ));
                        continue;
                    }
                    if !role_ids.contains(&cell.a) || !role_ids.contains(&cell.b) {
                        errors.push(FieldError::new(
                            &field,
                            "in_roles",
                            "both roles of a pair must be in `role_ids`",
                        ));
                        continue;
                    }
                    if matrix
                        .iter()
                        .any(|p| (p.a, p.b) == (cell.a, cell.b) || (p.a, p.b) == (cell.b, cell.a))
                    {
                        errors.push(FieldError::new(
                            &field,
                            "unique",
                            "this pair is already in the matrix",
                        ));
                        continue;
                    }
                    matrix.push(SodPair {
                        a: cell.a,
                        b: cell.b,
                        risk,
                    });
                }
            }
            (_, Some(cells)) if !cells.is_empty() => errors.push(FieldError::new(
                "matrix",
                "not_allowed",
                "`matrix` goes with kind `matrix` only",
            )),
            (_, _) => {}
        }
        let risk = match kind {
            Some(SodKind::Matrix) => {
                let derived = matrix.iter().map(|p| p.risk).max().unwrap_or(Risk::None);
                if let Some(r) = risk
                    && r != derived
                    && !matrix.is_empty()
                {
                    errors.push(FieldError::new(
                        "risk",
                        "matrix_derived",
                        format!(
                            "a matrix rule's risk is its highest pair risk (`{derived}`): leave `risk` out or give `{derived}`"
                        ),
                    ));
                }
                derived
            }
            Some(_) => match risk {
                Some(r) => r,
                None => {
                    if draft.risk.is_none() {
                        errors.push(FieldError::required("risk"));
                    }
                    Risk::None
                }
            },
            None => risk.unwrap_or_default(),
        };
        errors.finish()?;
        Ok(SodRule {
            id,
            org_id: org,
            system_id: draft.system_id,
            name,
            description,
            kind: kind.unwrap_or(SodKind::All),
            risk,
            role_ids,
            threshold,
            matrix,
            stamps,
        })
    }

    // ---- enforcement ----

    /// The organisation's rules, read in `tx` (a write sees the rules its transaction sees).
    pub(crate) async fn sod_rules(&self, tx: &mut dyn Tx, org: OrgId) -> ServiceResult<SodRules> {
        Ok(SodRules::new(tx.all_sod_rules(org).await?))
    }

    /// Refuses (409 `sod_forbidden`) a write that would give some user a combination of
    /// roles a rule forbids; the message names the rule, the roles and a user (and how many
    /// others). Lower risks pass.
    pub(crate) async fn sod_guard(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        change: SodChange<'_>,
    ) -> ServiceResult<()> {
        let rules = self.sod_rules(tx, org).await?;
        self.sod_guard_with(tx, org, &rules, change).await
    }

    /// [`Services::sod_guard`] with the rules in hand.
    async fn sod_guard_with(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rules: &SodRules,
        change: SodChange<'_>,
    ) -> ServiceResult<()> {
        if rules.index.is_empty() {
            return Ok(());
        }
        let found = self.sod_evaluate(org, &rules.index, &change).await?;
        let forbidden: Vec<(UserId, SodViolation)> = found
            .into_iter()
            .filter(|(_, v)| v.risk == Risk::Forbidden)
            .collect();
        let Some((user, first)) = forbidden.first() else {
            return Ok(());
        };
        let mut users: Vec<UserId> = forbidden.iter().map(|(u, _)| *u).collect();
        users.sort_unstable();
        users.dedup();
        let others = users.len() - 1;
        let user_name = match tx.get_user(org, *user).await? {
            Some(u) => format!("`{}`", u.user_name),
            None => format!("{user}"),
        };
        let roles = role_refs(tx, org, &first.role_ids).await?;
        Err(ServiceError::conflict(
            "sod_forbidden",
            format!(
                "the segregation-of-duties rule `{}` forbids holding {} together: user {user_name}{} would hold them",
                rules.name(first.rule_id),
                quoted(&roles),
                match others {
                    0 => String::new(),
                    1 => " (and 1 other user)".to_owned(),
                    n => format!(" (and {n} other users)"),
                }
            ),
        ))
    }

    /// Refuses a grant of `role` to `grantee` that would make a forbidden combination:
    /// the role, the roles non-mandatory inheritance would grant with it, and everything
    /// those bring through mandatory inheritance.
    pub(crate) async fn sod_guard_grant(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        grantee: Grantee,
        role: RoleId,
    ) -> ServiceResult<()> {
        let rules = self.sod_rules(tx, org).await?;
        if rules.index.is_empty() {
            return Ok(());
        }
        let roles = granted_with(tx, org, role).await?;
        let change = match grantee {
            Grantee::User(user) => SodChange::UserGrant {
                user,
                roles: roles.clone(),
            },
            Grantee::Group(group) => SodChange::GroupGrant {
                group,
                roles: &roles,
            },
        };
        self.sod_guard_with(tx, org, &rules, change).await
    }

    /// The combinations `user` would make by gaining `gained_roles` (each with what it
    /// brings through mandatory inheritance), at every risk above `none`, against what the
    /// user holds now, with the organisation's `rules` in hand (read them once with
    /// [`Services::sod_rules`]). For code that gives roles on its own (assignment rules): a
    /// `forbidden` one must not be granted; raise [`Services::sod_violation_alert`] instead.
    pub(crate) async fn sod_violations(
        &self,
        org: OrgId,
        rules: &SodRules,
        user: UserId,
        gained_roles: &[RoleId],
    ) -> ServiceResult<Vec<SodViolation>> {
        if rules.index.is_empty() {
            return Ok(Vec::new());
        }
        let change = SodChange::UserGrant {
            user,
            roles: gained_roles.to_vec(),
        };
        Ok(self
            .sod_evaluate(org, &rules.index, &change)
            .await?
            .into_iter()
            .map(|(_, v)| v)
            .collect())
    }

    /// The name of rule `id` (its id when unknown).
    pub(crate) fn sod_rule_name(rules: &SodRules, id: SodRuleId) -> String {
        rules.name(id)
    }

    /// Raises a Security Center alert (rule `sod.violation`, severity high, from a security
    /// event of the same kind) for `violation` of `user`; `cause` says what would have made
    /// it, e.g. "the assignment rule `Finance staff`".
    pub(crate) async fn sod_violation_alert(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
        violation: &SodViolation,
        cause: &str,
    ) -> ServiceResult<()> {
        let rule = tx.get_sod_rule(org, violation.rule_id).await?;
        let rule_name = rule
            .map(|r| r.name)
            .unwrap_or_else(|| violation.rule_id.to_string());
        let user_name = tx
            .get_user(org, user)
            .await?
            .map(|u| u.user_name)
            .unwrap_or_else(|| user.to_string());
        let roles = role_refs(tx, org, &violation.role_ids).await?;
        let event = self
            .security_event(
                tx,
                org,
                SOD_ALERT,
                Some(user),
                None,
                &crate::ClientInfo::default(),
                serde_json::json!({
                    "rule_id": violation.rule_id,
                    "rule": rule_name,
                    "risk": violation.risk,
                    "role_ids": violation.role_ids,
                    "cause": cause,
                }),
            )
            .await?;
        self.raise_alert(
            tx,
            org,
            SOD_ALERT,
            "high",
            format!(
                "{cause} would give `{user_name}` {} together, which the segregation-of-duties rule `{rule_name}` forbids ({}); not granted",
                quoted(&roles),
                violation.risk
            ),
            Some(user),
            event,
        )
        .await
    }

    /// Every (user, violation) `change` would make, at every risk, from the live engine.
    async fn sod_evaluate(
        &self,
        org: OrgId,
        index: &SodIndex,
        change: &SodChange<'_>,
    ) -> ServiceResult<Vec<(UserId, SodViolation)>> {
        let now = self.now();
        let engine = self.engine(org).await?;
        let state = engine.read();
        Ok(evaluate(&state, index, change, now))
    }

    /// The risk each of `roles` (a user's effective roles) carries: the highest risk among
    /// the combinations of the user's roles it takes part in (a `forbidden` one is older
    /// than its rule), and the rules making them.
    pub(crate) async fn sod_risks(
        &self,
        org: OrgId,
        held: &RoleSet,
    ) -> ServiceResult<HashMap<RoleId, SodRiskView>> {
        let rules = {
            let mut tx = self.read().await?;
            self.sod_rules(&mut *tx, org).await?
        };
        let mut out: HashMap<RoleId, SodRiskView> = HashMap::new();
        for v in rules.index.standing(held) {
            for &role in &v.role_ids {
                let entry = out.entry(role).or_insert_with(|| SodRiskView {
                    risk: v.risk,
                    rules: Vec::new(),
                });
                entry.risk = entry.risk.max(v.risk);
                entry.rules.push(NamedRef {
                    id: v.rule_id,
                    name: rules.name(v.rule_id),
                });
            }
        }
        Ok(out)
    }
}

/// What `change` would make, user by user, judged on `state` at `at`. Users none of whose
/// gained roles any rule names are skipped before anything is computed for them.
fn evaluate(
    state: &OrgState,
    index: &SodIndex,
    change: &SodChange<'_>,
    at: OffsetDateTime,
) -> Vec<(UserId, SodViolation)> {
    let e = &state.engine;
    let mut out: Vec<(UserId, SodViolation)> = Vec::new();
    let mut push = |user: UserId, found: Vec<SodViolation>| {
        out.extend(found.into_iter().map(|v| (user, v)));
    };
    let closure = |roles: &[RoleId]| -> Vec<RoleId> {
        let mut all = Vec::new();
        for &r in roles {
            let c = e.mandatory_closure(r);
            if c.is_empty() {
                // A role the engine has not seen yet brings itself.
                all.push(r);
            } else {
                all.extend(c);
            }
        }
        all
    };
    // Users' roles before and after a change that may also take roles away.
    let what_if = |users: Vec<UserId>,
                   what_if: WhatIf<'_>,
                   push: &mut dyn FnMut(UserId, Vec<SodViolation>)| {
        for u in users {
            let before = e.held_roles(u, at);
            let after = e.held_roles_if(u, at, &what_if);
            let gained = before.missing_from(&after);
            if gained.iter().any(|r| index.names(*r)) {
                push(u, index.violations(&before, &gained));
            }
        }
    };
    match change {
        SodChange::UserGrant { user, roles } => {
            let gained = closure(roles);
            if gained.iter().any(|r| index.names(*r)) {
                let held = e.held_role_bits(*user, at);
                push(*user, index.violations_of(|r| held.contains(r), &gained));
            }
        }
        SodChange::GroupGrant { group, roles } => {
            if closure(roles).iter().any(|r| index.names(*r)) {
                let users = e.subtree_members(*group, at);
                let change = WhatIf {
                    group_grant: Some((*group, roles)),
                    ..WhatIf::default()
                };
                what_if(users, change, &mut push);
            }
        }
        SodChange::MandatoryEdge { parent, child } => {
            let gained = closure(&[*child]);
            if gained.iter().any(|r| index.names(*r)) {
                let mut users: Vec<UserId> =
                    e.holders(*parent, at).into_iter().map(|h| h.user).collect();
                users.dedup();
                for u in users {
                    let held = e.held_role_bits(u, at);
                    push(u, index.violations_of(|r| held.contains(r), &gained));
                }
            }
        }
        SodChange::Join { user, group } => {
            let change = WhatIf {
                join: Some(*group),
                ..WhatIf::default()
            };
            what_if(vec![*user], change, &mut push);
        }
        SodChange::Primary { user, group } => {
            let change = WhatIf {
                primary: Some(*group),
                ..WhatIf::default()
            };
            what_if(vec![*user], change, &mut push);
        }
        SodChange::Move { group, parent } => {
            let users = e.subtree_members(*group, at);
            let change = WhatIf {
                moved: Some((*group, *parent)),
                ..WhatIf::default()
            };
            what_if(users, change, &mut push);
        }
        SodChange::Activate { group } => {
            let users = e.subtree_members(*group, at);
            let change = WhatIf {
                activated: Some(*group),
                ..WhatIf::default()
            };
            what_if(users, change, &mut push);
        }
    }
    out
}

/// `role` and the roles non-mandatory inheritance grants with it, down the graph, as
/// `materialise_optional_children` will make them (each role once).
async fn granted_with(tx: &mut dyn Tx, org: OrgId, role: RoleId) -> ServiceResult<Vec<RoleId>> {
    let mut out = vec![role];
    let mut i = 0;
    while let Some(&parent) = out.get(i) {
        for e in tx.list_inheritance(org, parent, true).await? {
            if !e.mandatory && !out.contains(&e.child_role_id) {
                out.push(e.child_role_id);
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Roles with their names (as stored), in the order given.
async fn role_refs(
    tx: &mut dyn Tx,
    org: OrgId,
    roles: &[RoleId],
) -> ServiceResult<Vec<NamedRef<RoleId>>> {
    let mut out = Vec::with_capacity(roles.len());
    for &id in roles {
        let name = tx
            .get_role(org, id)
            .await?
            .map(|r| r.name)
            .unwrap_or_else(|| id.to_string());
        out.push(NamedRef { id, name });
    }
    Ok(out)
}

/// "`a`, `b` and `c`".
fn quoted(roles: &[NamedRef<RoleId>]) -> String {
    let names: Vec<String> = roles.iter().map(|r| format!("`{}`", r.name)).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

fn cursor(r: &SodRule) -> After {
    After {
        key: SortValue::Text(r.name.clone()),
        id: r.id.as_uuid(),
    }
}

/// Reading rules: `sod.manage`, else `systems.view`.
fn read_scope(p: &Principal) -> ServiceResult<Scope> {
    p.require(Permission::SodManage)
        .or_else(|_| p.require(Permission::SystemsView))
        .map_err(|_| ServiceError::forbidden(Permission::SodManage))
}

/// A rule of the organisation within `scope` (404 otherwise).
async fn rule_in_scope(
    tx: &mut dyn Tx,
    org: OrgId,
    scope: &Scope,
    id: SodRuleId,
) -> ServiceResult<SodRule> {
    match tx.get_sod_rule(org, id).await? {
        Some(r) if scope.covers_system(r.system_id) => Ok(r),
        _ => Err(ServiceError::not_found("segregation-of-duties rule", id)),
    }
}
