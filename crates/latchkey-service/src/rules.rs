//! Role assignment rules. A rule's expression (CEL over the user, checked when saved by
//! `latchkey_engine::rules`) decides whether the user should hold the rule's roles; the
//! roles it gives are grants of origin `rule` carrying the rule's id, which nobody revokes
//! or changes by hand.
//!
//! - **Preview** evaluates the rule for every user and answers the exact diff: who gains
//!   which role, who loses it, whose data made the expression fail. It reads nothing from
//!   the store but the rule: users' facts, memberships and rule grants come from the live
//!   engine's state (`OrgState::user_facts`, loaded once and kept by the change log).
//! - **Apply** starts a run: a background task that walks the users in id order, a page per
//!   write transaction, and records its progress in the run's row as it commits each page.
//!   A page is evaluated from the engine's state only when that state is exactly what the
//!   transaction sees (the engine holds the revision just before the transaction's own), so
//!   the diff it writes is never stale; otherwise the page's users, memberships and rule
//!   grants are read inside the transaction.
//! - **Re-run on change**: every write to a user or to a user's memberships re-evaluates
//!   every rule for that user in the same transaction.
//!
//! Rules grant only roles that need no scope value and carry no product permission: what a
//! rule hands out automatically must not be a way around `roles.grant`'s rule that nobody
//! gives permissions they do not hold. The roles a rule names are checked when it is saved;
//! those its role-name expression gives are checked at each evaluation and reported.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use latchkey_api::{
    AssignmentRuleView, CheckExpression, CreateAssignmentRule, RuleChange, RuleDiff, RuleError,
    RuleRefusal, UpdateAssignmentRule,
};
use latchkey_engine::in_window;
use latchkey_engine::rules::{AttrType, AttrValue, Expression, Output, RuleSchema, UserFacts};
use latchkey_model::{
    AssignmentRule, AssignmentRuleId, AttributeType, FieldError, Grant, GrantId, GrantOrigin,
    GrantStatus, Grantee, GroupId, Name, NewAuditEntry, ObjectType, OrgId, Permission, Risk,
    RoleId, RuleRun, RuleRunId, RunStatus, Stamps, User, UserId, ValidationErrors,
};
use latchkey_store::{MembershipHead, RuleGrant, Tx};
use serde_json::json;
use time::OffsetDateTime;

use crate::engines::OrgState;
use crate::{Principal, ServiceError, ServiceResult, Services, check_version, validate};

/// Users evaluated (and, when applying, written) per transaction.
pub const RULE_PAGE: u32 = 5_000;
/// Entries per list in a preview, unless asked otherwise.
pub const DEFAULT_PREVIEW_LIMIT: usize = 1_000;
/// Runs kept visible per rule in its view.
const RUNS_SHOWN: u32 = 1;

/// A rule ready to evaluate.
struct Compiled {
    rule: AssignmentRule,
    matcher: Expression,
    names: Option<Expression>,
}

/// What evaluation needs of the organisation: group names, and which roles rules may
/// grant under which names.
struct Catalogue {
    groups: HashMap<GroupId, String>,
    /// `name` → roles of that name (in any system); `name@system` → the role.
    by_name: HashMap<String, Vec<RoleId>>,
    /// Roles a rule may grant: no scope value, no product permission.
    grantable: HashSet<RoleId>,
    /// Role → (role name, system name).
    names: HashMap<RoleId, (String, String)>,
    /// Roles with non-mandatory granted roles (their grants make further grants).
    optional_parents: HashSet<RoleId>,
}

/// A user as rule expressions see them.
struct Subject {
    id: UserId,
    facts: UserFacts,
}

/// The grants rules made, by user and rule.
type Held = HashMap<(UserId, AssignmentRuleId), Vec<RuleGrant>>;

/// Times a run's page waits for the engine to reach the transaction's revision before it
/// reads the page from the store instead.
const CURRENT_ATTEMPTS: u32 = 3;

/// What evaluating the rules means for one user.
#[derive(Default)]
struct Outcome {
    user_id: Option<UserId>,
    user_name: String,
    matching: bool,
    gains: Vec<(AssignmentRuleId, RoleId)>,
    losses: Vec<RuleGrant>,
    errors: Vec<(AssignmentRuleId, String)>,
    /// Gains withheld: they would give a forbidden combination of roles (rule, role, why).
    refused: Vec<(AssignmentRuleId, RoleId, String)>,
}

/// Counts of what a page's changes did.
#[derive(Default)]
struct Written {
    granted: i64,
    revoked: i64,
    /// The grants inserted (as written) and deleted, by id, for the engine to take.
    rows: HashMap<uuid::Uuid, Option<Grant>>,
}

/// How grants made and revoked by rules are audited.
#[derive(Clone, Copy)]
enum AuditGrants {
    /// One entry per grant (a user's change re-evaluated, a rule deleted).
    Each,
    /// One `rule.apply.page` entry for a page of a run, on the rule, listing every grant
    /// the page made and revoked (grant, user, role). A run writes up to one grant per
    /// user, and an entry for each took a sixth of its time. Each grant's own record, with its rule
    /// and who started the run, is in the grants' history.
    Page {
        rule: AssignmentRuleId,
        run: RuleRunId,
    },
}

impl Services {
    pub async fn create_assignment_rule(
        &self,
        p: &Principal,
        req: CreateAssignmentRule,
    ) -> ServiceResult<AssignmentRuleView> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let mut rule = self.new_rule(p, req);
        self.validate_rule(&mut *tx, p, &mut rule).await?;
        tx.insert_rule(&rule).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "rule.create",
            "assignment_rule",
            rule.id,
            None::<&()>,
            Some(&rule),
        )
        .await?;
        tx.commit().await?;
        Ok(AssignmentRuleView {
            rule,
            last_run: None,
        })
    }

    pub async fn update_assignment_rule(
        &self,
        p: &Principal,
        id: AssignmentRuleId,
        req: UpdateAssignmentRule,
        if_match: Option<i64>,
    ) -> ServiceResult<AssignmentRuleView> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_rule(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role assignment rule", id))?;
        check_version(if_match, before.stamps.version, "role assignment rule")?;
        let mut rule = before.clone();
        if let Some(name) = req.name {
            rule.name = name;
        }
        if let Some(d) = req.description {
            rule.description = d;
        }
        if let Some(e) = req.expression {
            rule.expression = e;
        }
        if let Some(e) = req.roles_expression {
            rule.roles_expression = e;
        }
        if let Some(r) = req.role_ids {
            rule.role_ids = r;
        }
        if let Some(e) = req.enabled {
            rule.enabled = e;
        }
        self.validate_rule(&mut *tx, p, &mut rule).await?;
        let last_run = tx.list_rule_runs(p.org_id, id, RUNS_SHOWN).await?.pop();
        if rule == before {
            return Ok(AssignmentRuleView {
                rule: before,
                last_run,
            });
        }
        rule.stamps.touch(self.now(), Some(p.user_id));
        tx.update_rule(&rule).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "rule.update",
            "assignment_rule",
            id,
            Some(&before),
            Some(&rule),
        )
        .await?;
        tx.commit().await?;
        Ok(AssignmentRuleView { rule, last_run })
    }

    /// Deletes a rule and revokes every grant it made, in one transaction.
    pub async fn delete_assignment_rule(
        &self,
        p: &Principal,
        id: AssignmentRuleId,
    ) -> ServiceResult<()> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let rule = tx
            .get_rule(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role assignment rule", id))?;
        let grants = tx.rule_grants(p.org_id, Some(id), None).await?;
        let catalogue = self.catalogue(&mut *tx, p.org_id).await?;
        let outcome = Outcome {
            losses: grants,
            ..Outcome::default()
        };
        self.write_outcomes(
            &mut *tx,
            Some(p),
            p.org_id,
            &catalogue,
            vec![outcome],
            AuditGrants::Each,
        )
        .await?;
        tx.delete_rule(p.org_id, id).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "rule.delete",
            "assignment_rule",
            id,
            Some(&rule),
            None::<&()>,
        )
        .await?;
        tx.commit().await
    }

    /// Rules are read by holders of `rules.manage` or of `systems.view` everywhere.
    pub async fn get_assignment_rule(
        &self,
        p: &Principal,
        id: AssignmentRuleId,
    ) -> ServiceResult<AssignmentRuleView> {
        require_reader(p)?;
        let mut tx = self.read().await?;
        let rule = tx
            .get_rule(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role assignment rule", id))?;
        let last_run = tx.list_rule_runs(p.org_id, id, RUNS_SHOWN).await?.pop();
        Ok(AssignmentRuleView { rule, last_run })
    }

    pub async fn list_assignment_rules(
        &self,
        p: &Principal,
    ) -> ServiceResult<Vec<AssignmentRuleView>> {
        require_reader(p)?;
        let mut tx = self.read().await?;
        let rules = tx.list_rules(p.org_id).await?;
        let mut out = Vec::with_capacity(rules.len());
        for rule in rules {
            let last_run = tx
                .list_rule_runs(p.org_id, rule.id, RUNS_SHOWN)
                .await?
                .pop();
            out.push(AssignmentRuleView { rule, last_run });
        }
        Ok(out)
    }

    /// Checks expressions against the organisation's attributes without saving anything.
    pub async fn check_rule_expression(
        &self,
        p: &Principal,
        req: CheckExpression,
    ) -> ServiceResult<()> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.read().await?;
        let schema = self.rule_schema(&mut *tx, p.org_id).await?;
        let mut errors = ValidationErrors::new();
        compile_into(
            &req.expression,
            req.roles_expression.as_deref(),
            &schema,
            &mut errors,
        );
        Ok(errors.finish()?)
    }

    /// Exactly what applying the saved rule now would change, without writing.
    pub async fn preview_assignment_rule(
        &self,
        p: &Principal,
        id: AssignmentRuleId,
        limit: Option<usize>,
    ) -> ServiceResult<RuleDiff> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.read().await?;
        let rule = tx
            .get_rule(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role assignment rule", id))?;
        self.preview_in(&mut *tx, p.org_id, rule, limit).await
    }

    /// The diff of a rule that is not saved (a new one, or an edit of `id`'s).
    pub async fn preview_draft_rule(
        &self,
        p: &Principal,
        req: CreateAssignmentRule,
        limit: Option<usize>,
    ) -> ServiceResult<RuleDiff> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.read().await?;
        let mut rule = self.new_rule(p, req);
        self.validate_rule(&mut *tx, p, &mut rule).await?;
        self.preview_in(&mut *tx, p.org_id, rule, limit).await
    }

    async fn preview_in(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rule: AssignmentRule,
        limit: Option<usize>,
    ) -> ServiceResult<RuleDiff> {
        let limit = limit.unwrap_or(DEFAULT_PREVIEW_LIMIT).min(100_000);
        let schema = self.rule_schema(tx, org).await?;
        let compiled = [compile(rule, &schema)?];
        let catalogue = self.catalogue(tx, org).await?;
        let now = self.now();
        let mut diff = RuleDiff {
            rule_id: compiled[0].rule.id,
            users: 0,
            matching: 0,
            gains_total: 0,
            losses_total: 0,
            refused_total: 0,
            errors_total: 0,
            gains: Vec::new(),
            losses: Vec::new(),
            refused: Vec::new(),
            errors: Vec::new(),
            truncated: false,
        };
        let engine = self.user_facts(org).await?;
        let (subjects, held) = {
            let state = engine.read();
            subjects_from_engine(&state, Some(diff.rule_id), None, usize::MAX, now)
        };
        let mut outcomes = decide(&compiled, &catalogue, subjects, held);
        self.screen_sod(tx, org, &compiled, &mut outcomes, false)
            .await?;
        {
            for o in outcomes {
                let Some(user_id) = o.user_id else { continue };
                diff.users += 1;
                diff.matching += u64::from(o.matching);
                let change = |role: RoleId| {
                    let (role_name, system_name) = catalogue.role_names(role);
                    RuleChange {
                        user_id,
                        user_name: o.user_name.clone(),
                        role_id: role,
                        role_name,
                        system_name,
                    }
                };
                diff.gains_total += o.gains.len() as u64;
                diff.losses_total += o.losses.len() as u64;
                diff.errors_total += o.errors.len() as u64;
                diff.refused_total += o.refused.len() as u64;
                for (_, role, reason) in &o.refused {
                    let (role_name, _) = catalogue.role_names(*role);
                    let r = RuleRefusal {
                        user_id,
                        user_name: o.user_name.clone(),
                        role_id: *role,
                        role_name,
                        reason: reason.clone(),
                    };
                    push_limited(&mut diff.refused, r, limit, &mut diff.truncated);
                }
                for (_, role) in &o.gains {
                    push_limited(&mut diff.gains, change(*role), limit, &mut diff.truncated);
                }
                for g in &o.losses {
                    push_limited(
                        &mut diff.losses,
                        change(g.role_id),
                        limit,
                        &mut diff.truncated,
                    );
                }
                for (_, message) in &o.errors {
                    let e = RuleError {
                        user_id,
                        user_name: o.user_name.clone(),
                        message: message.clone(),
                    };
                    push_limited(&mut diff.errors, e, limit, &mut diff.truncated);
                }
            }
        }
        Ok(diff)
    }

    /// Starts applying the rule to every user; answers the run, whose progress
    /// `get_rule_run` follows. One run of a rule at a time.
    pub async fn apply_assignment_rule(
        &self,
        p: &Principal,
        id: AssignmentRuleId,
    ) -> ServiceResult<RuleRun> {
        require_global(p, Permission::RulesManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let rule = tx
            .get_rule(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("role assignment rule", id))?;
        if let Some(running) = tx
            .list_rule_runs(p.org_id, id, 1)
            .await?
            .into_iter()
            .find(|r| r.status == RunStatus::Running)
        {
            return Err(ServiceError::conflict(
                "run_in_progress",
                format!(
                    "rule `{}` is already being applied (run {}, {} of {} users done)",
                    rule.name, running.id, running.done, running.total
                ),
            ));
        }
        let total = self.engine(p.org_id).await?.read().engine.user_count();
        let run = RuleRun {
            id: RuleRunId::from_uuid(self.uuid()),
            org_id: p.org_id,
            rule_id: id,
            status: RunStatus::Running,
            total: i64::try_from(total).unwrap_or(i64::MAX),
            done: 0,
            granted: 0,
            revoked: 0,
            refused: 0,
            errors: 0,
            message: None,
            started_by: Some(p.user_id),
            started_at: self.now(),
            finished_at: None,
        };
        tx.insert_rule_run(&run).await?;
        tx.commit().await?;
        let services = self.clone();
        let principal = p.clone();
        let started = run.clone();
        tokio::spawn(async move {
            services.run_rule(principal, started).await;
        });
        Ok(run)
    }

    pub async fn get_rule_run(
        &self,
        p: &Principal,
        rule: AssignmentRuleId,
        id: RuleRunId,
    ) -> ServiceResult<RuleRun> {
        require_reader(p)?;
        let mut tx = self.read().await?;
        tx.get_rule_run(p.org_id, id)
            .await?
            .filter(|r| r.rule_id == rule)
            .ok_or_else(|| ServiceError::not_found("rule run", id))
    }

    pub async fn list_rule_runs(
        &self,
        p: &Principal,
        rule: AssignmentRuleId,
    ) -> ServiceResult<Vec<RuleRun>> {
        require_reader(p)?;
        let mut tx = self.read().await?;
        if tx.get_rule(p.org_id, rule).await?.is_none() {
            return Err(ServiceError::not_found("role assignment rule", rule));
        }
        Ok(tx.list_rule_runs(p.org_id, rule, 50).await?)
    }

    /// The body of a run: pages of users, each evaluated and written in its own write
    /// transaction together with the run's progress; then the run's end.
    async fn run_rule(&self, p: Principal, mut run: RuleRun) {
        let outcome = self.run_pages(&p, &mut run).await;
        run.finished_at = Some(self.now());
        match outcome {
            Ok(()) => run.status = RunStatus::Succeeded,
            Err(e) => {
                tracing::warn!(error = %e, run = %run.id, "applying a rule failed");
                run.status = RunStatus::Failed;
                run.message = Some(e.to_string());
            }
        }
        let finish = async {
            let mut tx = self.begin(run.org_id).await?;
            tx.update_rule_run(&run).await?;
            self.audit(
                &mut *tx,
                Some(&p),
                run.org_id,
                "rule.apply",
                "assignment_rule",
                run.rule_id,
                None::<&()>,
                Some(&run),
            )
            .await?;
            tx.commit().await
        };
        if let Err(e) = finish.await {
            tracing::error!(error = %e, run = %run.id, "recording the end of a rule run failed");
        }
    }

    async fn run_pages(&self, p: &Principal, run: &mut RuleRun) -> ServiceResult<()> {
        let org = run.org_id;
        let mut after = None;
        // Role and group names as the run starts (a role deleted meanwhile is no longer
        // granted: its grants are refused by the store).
        let catalogue = {
            let mut tx = self.read().await?;
            self.catalogue(&mut *tx, org).await?
        };
        loop {
            let now = self.now();
            // The page from the engine's state when it is exactly what the transaction
            // sees: every revision before the transaction's own applied.
            let mut attempts = 0;
            let (mut tx, from_engine) = loop {
                let engine = self.user_facts(org).await?;
                let tx = self.begin(org).await?;
                let page = {
                    let state = engine.read();
                    (state.revision == tx.revision() - 1).then(|| {
                        subjects_from_engine(
                            &state,
                            Some(run.rule_id),
                            after,
                            RULE_PAGE as usize,
                            now,
                        )
                    })
                };
                attempts += 1;
                if page.is_some() || attempts >= CURRENT_ATTEMPTS {
                    break (tx, page);
                }
                // Another write landed first: roll back, catch up and try again.
                drop(tx);
                self.catch_up(org).await?;
            };
            // Read again in every page: an edit while the run goes on applies from the
            // next page, and a deleted rule stops the run.
            let rule = tx
                .get_rule(org, run.rule_id)
                .await?
                .ok_or_else(|| ServiceError::not_found("role assignment rule", run.rule_id))?;
            let schema = self.rule_schema(&mut *tx, org).await?;
            let compiled = [compile(rule, &schema)?];
            let (subjects, held) = match from_engine {
                Some(page) => page,
                None => {
                    let users = tx.users_after(org, after, RULE_PAGE).await?;
                    self.subjects_from_store(&mut *tx, org, &compiled, &catalogue, &users, now)
                        .await?
                }
            };
            let Some(last) = subjects.last() else {
                return Ok(());
            };
            after = Some(last.id);
            let page_users = subjects.len() as i64;
            let mut outcomes = decide(&compiled, &catalogue, subjects, held);
            self.screen_sod(&mut *tx, org, &compiled, &mut outcomes, true)
                .await?;
            run.errors += outcomes.iter().map(|o| o.errors.len() as i64).sum::<i64>();
            run.refused += outcomes.iter().map(|o| o.refused.len() as i64).sum::<i64>();
            let written = self
                .write_outcomes(
                    &mut *tx,
                    Some(p),
                    org,
                    &catalogue,
                    outcomes,
                    AuditGrants::Page {
                        rule: run.rule_id,
                        run: run.id,
                    },
                )
                .await?;
            run.done += page_users;
            run.total = run.total.max(run.done);
            run.granted += written.granted;
            run.revoked += written.revoked;
            tx.update_rule_run(run).await?;
            tx.commit_knowing(written.rows).await?;
        }
    }

    /// Re-evaluates every rule for `users` inside the caller's write transaction: called
    /// by every write to a user or to their memberships.
    pub(crate) async fn reapply_rules(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        org: OrgId,
        users: &[UserId],
    ) -> ServiceResult<()> {
        let rules = tx.list_rules(org).await?;
        if rules.is_empty() || users.is_empty() {
            return Ok(());
        }
        let schema = self.rule_schema(tx, org).await?;
        let mut compiled = Vec::with_capacity(rules.len());
        for rule in rules {
            match compile(rule, &schema) {
                Ok(c) => compiled.push(c),
                // Saved rules compile; one that no longer does (its attribute was removed
                // since) is skipped until it is fixed, not applied half-understood.
                Err(e) => tracing::warn!(error = %e, "a saved assignment rule no longer compiles"),
            }
        }
        let catalogue = self.catalogue(tx, org).await?;
        let found = tx.get_users(org, users).await?;
        let mut outcomes = self
            .evaluate(tx, org, &compiled, &catalogue, &found, self.now())
            .await?;
        self.screen_sod(tx, org, &compiled, &mut outcomes, true)
            .await?;
        self.write_outcomes(tx, p, org, &catalogue, outcomes, AuditGrants::Each)
            .await?;
        Ok(())
    }

    /// Every saved rule still compiles against the organisation's attributes as `tx` sees
    /// them (after `attribute` is removed); else 409 `in_use` naming the first that does not.
    pub(crate) async fn rules_still_compile(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        attribute: &str,
    ) -> ServiceResult<()> {
        let schema = self.rule_schema(tx, org).await?;
        for rule in tx.list_rules(org).await? {
            let name = rule.name.clone();
            if compile(rule, &schema).is_err() {
                return Err(ServiceError::conflict(
                    "in_use",
                    format!(
                        "the role assignment rule `{name}` reads the attribute `{attribute}`; change the rule first"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// The answer to a hand revoke or change of a rule's grant: 409 `rule_granted`
    /// naming the rule.
    pub(crate) async fn rule_granted(
        &self,
        tx: &mut dyn Tx,
        grant: &Grant,
        what: &str,
    ) -> ServiceResult<ServiceError> {
        let rule = match grant.rule_id {
            Some(id) => tx.get_rule(grant.org_id, id).await?,
            None => None,
        };
        let named = rule.map_or_else(
            || "a role assignment rule".to_owned(),
            |r| format!("the role assignment rule `{}` ({})", r.name, r.id),
        );
        Ok(ServiceError::conflict(
            "rule_granted",
            format!(
                "this grant comes from {named} and cannot be {what} by hand; change the rule or the user instead"
            ),
        ))
    }

    /// Withholds the gains that would give a user a combination of roles a
    /// segregation-of-duties rule forbids: all of that user's gains in this evaluation move
    /// to `refused`, naming the rule and the roles. With `alert`, each user so refused raises
    /// a Security Center alert instead of being granted silently.
    async fn screen_sod(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rules: &[Compiled],
        outcomes: &mut [Outcome],
        alert: bool,
    ) -> ServiceResult<()> {
        if outcomes.iter().all(|o| o.gains.is_empty()) {
            return Ok(());
        }
        let sod = self.sod_rules(tx, org).await?;
        if sod.index.is_empty() {
            return Ok(());
        }
        for o in outcomes.iter_mut() {
            let Some(user) = o.user_id else { continue };
            if o.gains.is_empty() {
                continue;
            }
            let gained: Vec<RoleId> = o.gains.iter().map(|(_, r)| *r).collect();
            let forbidden: Vec<_> = self
                .sod_violations(org, &sod, user, &gained)
                .await?
                .into_iter()
                .filter(|v| v.risk == Risk::Forbidden)
                .collect();
            let Some(first) = forbidden.first() else {
                continue;
            };
            let reason = format!(
                "the segregation-of-duties rule `{}` forbids this combination",
                Self::sod_rule_name(&sod, first.rule_id)
            );
            if alert {
                let names: Vec<String> = o
                    .gains
                    .iter()
                    .filter_map(|(id, _)| rules.iter().find(|c| c.rule.id == *id))
                    .map(|c| format!("`{}`", c.rule.name))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let cause = format!("the assignment rule {}", names.join(", "));
                self.sod_violation_alert(tx, org, user, first, &cause)
                    .await?;
            }
            for (rule, role) in o.gains.drain(..) {
                o.refused.push((rule, role, reason.clone()));
            }
        }
        Ok(())
    }

    /// Evaluates `rules` for `users` against their rule grants now, as `tx` sees them: one
    /// outcome per user.
    async fn evaluate(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rules: &[Compiled],
        catalogue: &Catalogue,
        users: &[User],
        now: OffsetDateTime,
    ) -> ServiceResult<Vec<Outcome>> {
        let (subjects, held) = self
            .subjects_from_store(tx, org, rules, catalogue, users, now)
            .await?;
        Ok(decide(rules, catalogue, subjects, held))
    }

    /// `users` as rule expressions see them and the grants `rules` made them, as `tx`
    /// sees them.
    async fn subjects_from_store(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rules: &[Compiled],
        catalogue: &Catalogue,
        users: &[User],
        now: OffsetDateTime,
    ) -> ServiceResult<(Vec<Subject>, Held)> {
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let memberships = tx.memberships_of(org, &ids).await?;
        let mut groups_of: HashMap<UserId, Vec<&MembershipHead>> = HashMap::new();
        for m in &memberships {
            if in_window(m.starts_at, m.ends_at, now) {
                groups_of.entry(m.user_id).or_default().push(m);
            }
        }
        let only = match rules {
            [one] => Some(one.rule.id),
            _ => None,
        };
        let mut held = Held::new();
        for g in tx.rule_grants(org, only, Some(&ids)).await? {
            held.entry((g.user_id, g.rule_id)).or_default().push(g);
        }
        let mut missing_groups = BTreeSet::new();
        for u in users {
            if !catalogue.groups.contains_key(&u.primary_group_id) {
                missing_groups.insert(u.primary_group_id);
            }
        }
        let mut extra_groups = HashMap::new();
        for g in missing_groups {
            if let Some(group) = tx.get_group(org, g).await? {
                extra_groups.insert(g, group.name);
            }
        }
        let group_name = |g: GroupId| {
            catalogue
                .groups
                .get(&g)
                .or_else(|| extra_groups.get(&g))
                .cloned()
                .unwrap_or_default()
        };
        let subjects = users
            .iter()
            .map(|u| {
                let mut facts = own_facts(u);
                facts.primary_group = group_name(u.primary_group_id);
                facts.groups = groups_of
                    .get(&u.id)
                    .map(|ms| ms.iter().map(|m| group_name(m.group_id)).collect())
                    .unwrap_or_default();
                Subject { id: u.id, facts }
            })
            .collect();
        Ok((subjects, held))
    }

    /// Writes outcomes: the grants gained (origin `rule`) and the grants lost, audited as
    /// `audit` says. Answers what was done.
    async fn write_outcomes(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        org: OrgId,
        catalogue: &Catalogue,
        outcomes: Vec<Outcome>,
        audit: AuditGrants,
    ) -> ServiceResult<Written> {
        let now = self.now();
        let actor = p.map(|p| p.user_id);
        let mut written = Written::default();
        let mut new_grants = Vec::new();
        let mut audits: Vec<NewAuditEntry> = Vec::new();
        let mut plain_losses = Vec::new();
        let mut with_children = Vec::new();
        // The page's entry lists (`AuditGrants::Page`).
        let (mut made, mut lost) = (Vec::new(), Vec::new());
        let each = matches!(audit, AuditGrants::Each);
        for o in outcomes {
            for (rule, role) in o.gains {
                let Some(user) = o.user_id else { continue };
                let grant = Grant {
                    id: GrantId::from_uuid(self.uuid()),
                    org_id: org,
                    role_id: role,
                    grantee: Grantee::User(user),
                    scope: None,
                    starts_at: None,
                    ends_at: None,
                    status: GrantStatus::Active,
                    origin: GrantOrigin::Rule,
                    parent_grant_id: None,
                    rule_id: Some(rule),
                    last_recertified_at: None,
                    stamps: Stamps::new(now, actor),
                };
                if each {
                    audits.push(self.audit_entry(
                        p,
                        org,
                        "grant.create",
                        "grant",
                        grant.id,
                        None,
                        serde_json::to_value(&grant).ok(),
                    ));
                } else {
                    made.push(json!({ "grant_id": grant.id, "user_id": user, "role_id": role }));
                }
                new_grants.push(grant);
            }
            for g in o.losses {
                if catalogue.optional_parents.contains(&g.role_id) {
                    with_children.push(g.grant_id);
                } else {
                    if !each {
                        lost.push(json!({
                            "grant_id": g.grant_id,
                            "user_id": o.user_id,
                            "role_id": g.role_id,
                        }));
                    }
                    plain_losses.push(g.grant_id);
                }
            }
        }
        written.granted = new_grants.len() as i64;
        if !plain_losses.is_empty() {
            if each {
                for g in tx.get_grants(org, &plain_losses).await? {
                    audits.push(self.audit_entry(
                        p,
                        org,
                        "grant.revoke",
                        "grant",
                        g.id,
                        serde_json::to_value(&g).ok(),
                        None,
                    ));
                }
            }
            tx.delete_grants(org, &plain_losses).await?;
            written.revoked += plain_losses.len() as i64;
            written
                .rows
                .extend(plain_losses.iter().map(|id| (id.as_uuid(), None)));
        }
        for id in with_children {
            if let Some(g) = tx.get_grant(org, id).await? {
                self.revoke_with_children(tx, p, org, g, "grant.revoke")
                    .await?;
                written.revoked += 1;
            }
        }
        if !new_grants.is_empty() {
            tx.insert_grants(&new_grants).await?;
        }
        if let AuditGrants::Page { rule, run } = audit
            && (!made.is_empty() || !lost.is_empty())
        {
            audits.push(self.audit_entry(
                p,
                org,
                "rule.apply.page",
                "assignment_rule",
                rule,
                None,
                Some(json!({ "run_id": run, "granted": made, "revoked": lost })),
            ));
        }
        if !audits.is_empty() {
            tx.append_audits(&audits).await?;
        }
        for g in new_grants
            .iter()
            .filter(|g| catalogue.optional_parents.contains(&g.role_id))
        {
            self.materialise_optional_children(tx, p, g).await?;
        }
        written
            .rows
            .extend(new_grants.into_iter().map(|g| (g.id.as_uuid(), Some(g))));
        Ok(written)
    }

    /// A rule as `req` describes it, not yet checked.
    fn new_rule(&self, p: &Principal, req: CreateAssignmentRule) -> AssignmentRule {
        AssignmentRule {
            id: AssignmentRuleId::from_uuid(self.uuid()),
            org_id: p.org_id,
            name: req.name,
            description: req.description,
            expression: req.expression,
            roles_expression: req.roles_expression,
            role_ids: req.role_ids,
            enabled: req.enabled.unwrap_or(true),
            stamps: Stamps::new(self.now(), Some(p.user_id)),
        }
    }

    /// Checks and normalises a rule before it is saved: name, texts, both expressions
    /// against the organisation's attributes, and roles a rule may grant.
    async fn validate_rule(
        &self,
        tx: &mut dyn Tx,
        p: &Principal,
        rule: &mut AssignmentRule,
    ) -> ServiceResult<()> {
        let mut errors = ValidationErrors::new();
        if let Some(name) = errors.check(Name::parse("name", &rule.name)) {
            rule.name = name.to_string();
        }
        rule.description = validate::text(
            "description",
            rule.description.as_deref(),
            4000,
            &mut errors,
        );
        rule.roles_expression = rule
            .roles_expression
            .take()
            .filter(|e| !e.trim().is_empty());
        let schema = self.rule_schema(tx, p.org_id).await?;
        compile_into(
            &rule.expression,
            rule.roles_expression.as_deref(),
            &schema,
            &mut errors,
        );
        if rule.role_ids.is_empty() && rule.roles_expression.is_none() {
            errors.push(FieldError::new(
                "role_ids",
                "required",
                "a rule grants at least one role: give `role_ids` or a `roles_expression`",
            ));
        }
        let mut seen = HashSet::new();
        rule.role_ids.retain(|r| seen.insert(*r));
        for id in &rule.role_ids {
            match tx.get_role(p.org_id, *id).await? {
                None => errors.push(FieldError::new(
                    "role_ids",
                    "exists",
                    format!("role `{id}` does not exist"),
                )),
                Some(role) if role.domain.is_scoped() => errors.push(FieldError::new(
                    "role_ids",
                    "unscoped",
                    format!(
                        "`{}` needs a scope value with each grant; a rule can only grant roles without one",
                        role.name
                    ),
                )),
                Some(role) if !role.permissions.is_empty() => errors.push(FieldError::new(
                    "role_ids",
                    "no_permissions",
                    format!(
                        "`{}` carries product permissions; grant it by hand (`roles.grant`), not by a rule",
                        role.name
                    ),
                )),
                Some(_) => {}
            }
        }
        Ok(errors.finish()?)
    }

    /// The organisation's custom user attributes, as expressions see them.
    async fn rule_schema(&self, tx: &mut dyn Tx, org: OrgId) -> ServiceResult<RuleSchema> {
        let defs = tx.list_attributes(org, Some(ObjectType::User)).await?;
        Ok(RuleSchema {
            attributes: defs
                .into_iter()
                .map(|d| {
                    let ty = match d.data_type {
                        AttributeType::Number => AttrType::Number,
                        AttributeType::Boolean => AttrType::Bool,
                        AttributeType::String
                        | AttributeType::Date
                        | AttributeType::Email
                        | AttributeType::Reference => AttrType::String,
                    };
                    (d.name, ty)
                })
                .collect(),
        })
    }

    /// Group and role names from the live engine, and which roles rules may grant.
    async fn catalogue(&self, tx: &mut dyn Tx, org: OrgId) -> ServiceResult<Catalogue> {
        let optional_parents = tx
            .all_inheritance(org)
            .await?
            .into_iter()
            .filter(|e| !e.mandatory)
            .map(|e| e.parent_role_id)
            .collect();
        let engine = self.engine(org).await?;
        let state = engine.read();
        let mut by_name: HashMap<String, Vec<RoleId>> = HashMap::new();
        let mut names = HashMap::with_capacity(state.roles.len());
        let mut grantable = HashSet::new();
        for (id, (name, system)) in &state.roles {
            let system_name = state.system_name(*system);
            by_name.entry(name.clone()).or_default().push(*id);
            by_name
                .entry(format!("{name}@{system_name}"))
                .or_default()
                .push(*id);
            if !state.scoped_roles.contains(id) && !state.permissions_of.contains_key(id) {
                grantable.insert(*id);
            }
            names.insert(*id, (name.clone(), system_name));
        }
        Ok(Catalogue {
            groups: state.groups.clone(),
            by_name,
            grantable,
            names,
            optional_parents,
        })
    }
}

impl Catalogue {
    fn role_names(&self, role: RoleId) -> (String, String) {
        self.names
            .get(&role)
            .cloned()
            .unwrap_or_else(|| (role.to_string(), String::new()))
    }
}

/// Evaluates `rules` for `subjects` against the grants they made them (`held`): one
/// outcome per subject, in the subjects' order.
fn decide(
    rules: &[Compiled],
    catalogue: &Catalogue,
    subjects: Vec<Subject>,
    mut held: Held,
) -> Vec<Outcome> {
    let mut out = Vec::with_capacity(subjects.len());
    for Subject { id, facts } in subjects {
        let mut o = Outcome {
            user_id: Some(id),
            user_name: facts.user_name.clone(),
            ..Outcome::default()
        };
        for c in rules {
            let (wanted, matched) = wanted_roles(c, &facts, catalogue, &mut o.errors);
            o.matching |= matched;
            let have = held.remove(&(id, c.rule.id)).unwrap_or_default();
            let have_roles: BTreeSet<RoleId> = have.iter().map(|g| g.role_id).collect();
            for role in &wanted {
                if !have_roles.contains(role) {
                    o.gains.push((c.rule.id, *role));
                }
            }
            let mut kept = BTreeSet::new();
            for g in have {
                // A second grant of one role by one rule (never made by Latchkey) goes.
                if wanted.contains(&g.role_id) && kept.insert(g.role_id) {
                    continue;
                }
                o.losses.push(g);
            }
        }
        out.push(o);
    }
    out
}

/// Up to `limit` users after `after` in id order as rule expressions see them at `now`,
/// and the grants `rule` (every rule when `None`) made them, from the live engine's state;
/// the state must hold the users' facts (`EngineCache::user_facts`).
fn subjects_from_engine(
    state: &OrgState,
    rule: Option<AssignmentRuleId>,
    after: Option<UserId>,
    limit: usize,
    now: OffsetDateTime,
) -> (Vec<Subject>, Held) {
    let Some(facts) = state.user_facts.as_ref() else {
        return (Vec::new(), Held::new());
    };
    let from = after.map_or(Bound::Unbounded, Bound::Excluded);
    let group_name = |g: GroupId| state.groups.get(&g).cloned().unwrap_or_default();
    let mut subjects = Vec::new();
    for (id, own) in facts.range((from, Bound::Unbounded)) {
        if subjects.len() >= limit {
            break;
        }
        // A user the graph does not have (yet, or any more) is not evaluated.
        let Some(standing) = state.engine.user_groups(*id, now) else {
            continue;
        };
        let mut facts = own.clone();
        facts.primary_group = standing.primary.map(group_name).unwrap_or_default();
        facts.groups = standing.secondary.into_iter().map(group_name).collect();
        subjects.push(Subject { id: *id, facts });
    }
    let mut held = Held::new();
    if let (Some(first), Some(last)) = (subjects.first(), subjects.last()) {
        let (first, last) = (first.id, last.id);
        for g in state.rule_grants.values() {
            if rule.is_none_or(|r| r == g.rule_id) && (first..=last).contains(&g.user_id) {
                held.entry((g.user_id, g.rule_id)).or_default().push(*g);
            }
        }
        // In grant order, as the store answers them.
        for grants in held.values_mut() {
            grants.sort_by_key(|g| g.grant_id);
        }
    }
    (subjects, held)
}

/// What rule expressions read of a user's row: names, type, custom attributes and
/// `active`. Groups are where the user stands at the instant of evaluation, filled in by
/// the caller.
pub(crate) fn own_facts(u: &User) -> UserFacts {
    UserFacts {
        user_name: u.user_name.clone(),
        first_name: u.first_name.clone(),
        last_name: u.last_name.clone(),
        full_name: u.full_name.clone(),
        email: u.email.clone(),
        user_type: u.user_type.clone(),
        active: u.enabled,
        primary_group: String::new(),
        groups: Vec::new(),
        attributes: attribute_values(&u.attributes),
    }
}

/// The roles rule `c` wants `user` to hold, and whether its expression matched; problems
/// with the user's data or the names the role-name expression gave are added to `errors`.
fn wanted_roles(
    c: &Compiled,
    user: &UserFacts,
    catalogue: &Catalogue,
    errors: &mut Vec<(AssignmentRuleId, String)>,
) -> (BTreeSet<RoleId>, bool) {
    let mut wanted = BTreeSet::new();
    if !c.rule.enabled {
        return (wanted, false);
    }
    match c.matcher.matches(user) {
        Ok(true) => {}
        Ok(false) => return (wanted, false),
        Err(e) => {
            errors.push((c.rule.id, format!("the expression failed: {e}")));
            return (wanted, false);
        }
    }
    wanted.extend(c.rule.role_ids.iter().copied());
    if let Some(names) = &c.names {
        match names.role_names(user) {
            Ok(list) => {
                for name in list {
                    match catalogue.by_name.get(&name).map(Vec::as_slice) {
                        Some([one]) if catalogue.grantable.contains(one) => {
                            wanted.insert(*one);
                        }
                        Some([one]) => errors.push((
                            c.rule.id,
                            format!(
                                "role `{name}` ({one}) needs a scope value or carries product permissions; a rule cannot grant it"
                            ),
                        )),
                        Some([]) | None => errors.push((
                            c.rule.id,
                            format!("the role-name expression gave `{name}`, which names no role"),
                        )),
                        Some(_) => errors.push((
                            c.rule.id,
                            format!(
                                "`{name}` names roles in several systems; write it as `{name}@system`"
                            ),
                        )),
                    }
                }
            }
            Err(e) => errors.push((c.rule.id, format!("the role-name expression failed: {e}"))),
        }
    }
    (wanted, true)
}

/// Custom attribute values as expressions see them; values of other JSON types are left
/// out (they read as `null`).
fn attribute_values(attributes: &latchkey_model::Attributes) -> BTreeMap<String, AttrValue> {
    attributes
        .iter()
        .filter_map(|(k, v)| {
            let value = match v {
                serde_json::Value::String(s) => AttrValue::String(s.clone()),
                serde_json::Value::Number(n) => AttrValue::Number(n.as_f64()?),
                serde_json::Value::Bool(b) => AttrValue::Bool(*b),
                _ => return None,
            };
            Some((k.clone(), value))
        })
        .collect()
}

/// Compiles a saved (or about to be saved) rule.
fn compile(rule: AssignmentRule, schema: &RuleSchema) -> ServiceResult<Compiled> {
    let mut errors = ValidationErrors::new();
    let (matcher, names) = compile_into(
        &rule.expression,
        rule.roles_expression.as_deref(),
        schema,
        &mut errors,
    );
    errors.finish()?;
    match matcher {
        Some(matcher) => Ok(Compiled {
            rule,
            matcher,
            names,
        }),
        None => Err(ServiceError::Internal(
            "a checked expression did not compile".to_owned(),
        )),
    }
}

/// Compiles both expressions, adding their problems (with line and column) to `errors`;
/// an expression is `None` when absent or refused.
fn compile_into(
    expression: &str,
    roles_expression: Option<&str>,
    schema: &RuleSchema,
    errors: &mut ValidationErrors,
) -> (Option<Expression>, Option<Expression>) {
    let matcher = match Expression::compile(expression, schema, Output::Bool) {
        Ok(e) => Some(e),
        Err(problem) => {
            errors.push(FieldError::new(
                "expression",
                "expression",
                format!("`expression` {problem}"),
            ));
            None
        }
    };
    let names = match roles_expression {
        None => None,
        Some(src) => match Expression::compile(src, schema, Output::RoleNames) {
            Ok(e) => Some(e),
            Err(problem) => {
                errors.push(FieldError::new(
                    "roles_expression",
                    "expression",
                    format!("`roles_expression` {problem}"),
                ));
                None
            }
        },
    };
    (matcher, names)
}

fn push_limited<T>(list: &mut Vec<T>, item: T, limit: usize, truncated: &mut bool) {
    if list.len() < limit {
        list.push(item);
    } else {
        *truncated = true;
    }
}

/// Managing rules needs the permission for the whole organisation: a rule acts on every
/// user.
fn require_global(p: &Principal, permission: Permission) -> ServiceResult<()> {
    if p.require(permission)?.is_global() {
        Ok(())
    } else {
        Err(ServiceError::Forbidden {
            permission: Some(permission),
            message: format!(
                "`{permission}` must be held for the whole organisation: a rule acts on every user"
            ),
        })
    }
}

/// Reading rules: `rules.manage`, or `systems.view` for the whole organisation.
fn require_reader(p: &Principal) -> ServiceResult<()> {
    if p.permissions().has_unscoped(Permission::RulesManage)
        || p.permissions().has_unscoped(Permission::SystemsView)
    {
        Ok(())
    } else {
        Err(ServiceError::forbidden(Permission::RulesManage))
    }
}
