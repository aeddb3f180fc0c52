//! Bulk loading: NDJSON records (groups, users with their secondary groups, memberships,
//! systems, roles, granted roles, grants) read as a stream, each validated and authorised by
//! the same use case as a single REST write, committed in batches. Later lines point at
//! earlier records by the `ref` the client gave them (or by id). The answer is a stream too:
//! one line per created record or error, a progress line per committed batch, then a
//! summary with the counts and the final revision.
//!
//! A record that fails is reported and skipped; the batch goes on. If the database itself
//! fails, the batch is rolled back, every record of it is reported as not loaded, and
//! loading goes on with the next batch. This is how large organisations migrate in.

use std::collections::{BTreeMap, HashMap, HashSet};

use latchkey_api::{
    CreateGrant, CreateGrantedRole, CreateGroup, CreateMembership, CreateRole, CreateSystem,
    CreateUser,
};
use latchkey_model::{Attributes, Grantee, GroupId, RoleId, SystemId, UserId};
use serde::Deserialize;
use serde_json::{Value, json};
use time::OffsetDateTime;
use tokio::sync::mpsc::{Receiver, Sender};

use crate::bulk_fast::{FastRecord, FastUser, Learned, LoadCache, Pending};
use crate::{Principal, ServiceError, ServiceResult, Services};

/// Records per transaction.
pub const BULK_BATCH: usize = 1000;

/// Longest line accepted, in bytes.
pub const MAX_LINE: usize = 1 << 20;

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Record {
    Group {
        #[serde(rename = "ref")]
        reference: Option<String>,
        name: String,
        parent: Option<String>,
        description: Option<String>,
        group_type: Option<String>,
        disabled: Option<bool>,
        #[serde(default)]
        attributes: Attributes,
    },
    User {
        #[serde(rename = "ref")]
        reference: Option<String>,
        user_name: String,
        first_name: String,
        middle_name: Option<String>,
        last_name: String,
        email: Option<String>,
        user_type: Option<String>,
        primary_group: String,
        /// Secondary groups (refs or ids), made memberships without dates.
        #[serde(default)]
        groups: Vec<String>,
        enabled: Option<bool>,
        #[serde(default)]
        attributes: Attributes,
    },
    Membership {
        #[serde(rename = "ref")]
        reference: Option<String>,
        user: String,
        group: String,
        #[serde(default, with = "time::serde::rfc3339::option")]
        starts_at: Option<OffsetDateTime>,
        #[serde(default, with = "time::serde::rfc3339::option")]
        ends_at: Option<OffsetDateTime>,
    },
    System {
        #[serde(rename = "ref")]
        reference: Option<String>,
        name: String,
        parent: Option<String>,
        description: Option<String>,
        single_role: Option<bool>,
        approval_process: Option<bool>,
    },
    Role {
        #[serde(rename = "ref")]
        reference: Option<String>,
        system: String,
        name: String,
        description: Option<String>,
        domain_type: Option<String>,
        #[serde(default)]
        permissions: Vec<String>,
    },
    Inherit {
        #[serde(rename = "ref")]
        reference: Option<String>,
        parent: String,
        child: String,
        #[serde(default)]
        mandatory: bool,
        scope_mode: Option<String>,
        scope_value: Option<String>,
    },
    Grant {
        #[serde(rename = "ref")]
        reference: Option<String>,
        role: String,
        user: Option<String>,
        group: Option<String>,
        scope: Option<String>,
        #[serde(default, with = "time::serde::rfc3339::option")]
        starts_at: Option<OffsetDateTime>,
        #[serde(default, with = "time::serde::rfc3339::option")]
        ends_at: Option<OffsetDateTime>,
    },
}

impl Record {
    fn reference(&self) -> Option<&str> {
        match self {
            Record::Group { reference, .. }
            | Record::User { reference, .. }
            | Record::Membership { reference, .. }
            | Record::System { reference, .. }
            | Record::Role { reference, .. }
            | Record::Inherit { reference, .. }
            | Record::Grant { reference, .. } => reference.as_deref(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Record::Group { .. } => "group",
            Record::User { .. } => "user",
            Record::Membership { .. } => "membership",
            Record::System { .. } => "system",
            Record::Role { .. } => "role",
            Record::Inherit { .. } => "inherit",
            Record::Grant { .. } => "grant",
        }
    }
}

/// The refs given so far: committed ones, and those of the batch in progress.
#[derive(Default)]
struct Refs {
    committed: HashMap<String, uuid::Uuid>,
    pending: HashMap<String, uuid::Uuid>,
}

impl Refs {
    /// A ref given earlier, or an id.
    fn resolve(&self, field: &str, raw: &str) -> Result<uuid::Uuid, ServiceError> {
        if let Some(id) = self.pending.get(raw).or_else(|| self.committed.get(raw)) {
            return Ok(*id);
        }
        raw.parse::<uuid::Uuid>().map_err(|_| {
            ServiceError::invalid(
                field,
                "ref",
                format!("`{raw}` is neither the ref of an earlier record nor an id"),
            )
        })
    }

    /// A user record's primary group and secondary `groups`.
    fn user_groups(
        &self,
        primary: &str,
        groups: &[String],
    ) -> Result<(GroupId, Vec<GroupId>), ServiceError> {
        let primary = GroupId::from_uuid(self.resolve("primary_group", primary)?);
        let secondary = groups
            .iter()
            .map(|g| self.resolve("groups", g).map(GroupId::from_uuid))
            .collect::<Result<_, _>>()?;
        Ok((primary, secondary))
    }
}

/// A line's error as the answer shows it.
fn error_line(line: u64, reference: Option<&str>, e: &ServiceError) -> Value {
    let (code, fields) = match e {
        ServiceError::Validation(errors) => ("validation_failed", errors.errors().to_vec()),
        ServiceError::Conflict {
            code,
            field,
            message,
        } => (
            *code,
            field
                .iter()
                .map(|f| latchkey_model::FieldError::new(f, *code, message.clone()))
                .collect(),
        ),
        ServiceError::NotFound { .. } => ("not_found", Vec::new()),
        ServiceError::Forbidden { .. } => ("forbidden", Vec::new()),
        ServiceError::Internal(_) | ServiceError::Unavailable(_) => ("internal", Vec::new()),
        _ => ("failed", Vec::new()),
    };
    let detail = match e {
        ServiceError::Internal(_) => "an internal error occurred; it has been logged".to_owned(),
        other => other.to_string(),
    };
    let mut out =
        json!({ "line": line, "error": { "code": code, "detail": detail, "errors": fields } });
    if let Some(r) = reference {
        out["ref"] = json!(r);
    }
    out
}

/// The lane's form of `record`, when it can take it: `None` sends it to the single write,
/// `Some(Err)` is the record's own error (an unknown ref).
fn fast_record(
    refs: &Refs,
    cache: &LoadCache,
    record: &Record,
) -> Option<Result<FastRecord, ServiceError>> {
    let fast = match record {
        Record::User {
            user_name,
            first_name,
            middle_name,
            last_name,
            email,
            user_type,
            primary_group,
            groups,
            enabled,
            attributes,
            ..
        } if attributes.is_empty() => {
            refs.user_groups(primary_group, groups)
                .map(|(primary_group, secondary)| {
                    FastRecord::User(FastUser {
                        user_name: user_name.clone(),
                        first_name: first_name.clone(),
                        middle_name: middle_name.clone(),
                        last_name: last_name.clone(),
                        email: email.clone(),
                        user_type: user_type.clone(),
                        primary_group,
                        secondary,
                        enabled: *enabled,
                    })
                })
        }
        Record::Grant {
            role,
            user,
            group,
            scope,
            starts_at,
            ends_at,
            ..
        } => {
            let grantee = match (user, group) {
                (Some(u), None) => refs
                    .resolve("user", u)
                    .map(|u| Grantee::User(UserId::from_uuid(u))),
                (None, Some(g)) => refs
                    .resolve("group", g)
                    .map(|g| Grantee::Group(GroupId::from_uuid(g))),
                _ => return None,
            };
            (|| {
                Ok(FastRecord::Grant {
                    role: RoleId::from_uuid(refs.resolve("role", role)?),
                    grantee: grantee?,
                    scope: scope.clone(),
                    starts_at: *starts_at,
                    ends_at: *ends_at,
                })
            })()
        }
        _ => return None,
    };
    match fast {
        Ok(f) if cache.covers(&f) => Some(Ok(f)),
        Ok(_) => None,
        Err(e) => Some(Err(e)),
    }
}

struct Outcome {
    created: BTreeMap<&'static str, u64>,
    /// Records created, by kind, when the store last refreshed its statistics.
    analysed_at: BTreeMap<&'static str, u64>,
    errors: u64,
    lines: u64,
}

impl Services {
    /// Loads NDJSON lines from `input`, writing answer lines to `output`. Returns when the
    /// input ends (or the reader of `output` goes away).
    pub async fn bulk_load(
        &self,
        p: &Principal,
        mut input: Receiver<Result<String, String>>,
        output: Sender<Value>,
    ) -> ServiceResult<()> {
        let mut refs = Refs::default();
        let mut cache = LoadCache::default();
        let mut outcome = Outcome {
            created: BTreeMap::new(),
            analysed_at: BTreeMap::new(),
            errors: 0,
            lines: 0,
        };
        let mut batch: Vec<(u64, String)> = Vec::with_capacity(BULK_BATCH);
        let mut revision = 0;
        loop {
            let next = input.recv().await;
            let done = next.is_none();
            match next {
                Some(Ok(text)) => {
                    outcome.lines += 1;
                    if !text.trim().is_empty() {
                        batch.push((outcome.lines, text));
                    }
                }
                Some(Err(message)) => {
                    outcome.lines += 1;
                    outcome.errors += 1;
                    let e = ServiceError::invalid("body", "line", message);
                    if output
                        .send(error_line(outcome.lines, None, &e))
                        .await
                        .is_err()
                    {
                        return Ok(());
                    }
                }
                None => {}
            }
            if batch.len() >= BULK_BATCH || (done && !batch.is_empty()) {
                let events = self
                    .bulk_batch(
                        p,
                        &mut refs,
                        &mut cache,
                        &mut outcome,
                        std::mem::take(&mut batch),
                        &mut revision,
                    )
                    .await?;
                for e in events {
                    if output.send(e).await.is_err() {
                        return Ok(());
                    }
                }
                let progress = json!({ "progress": { "lines": outcome.lines, "created": outcome.created.values().sum::<u64>(), "errors": outcome.errors, "revision": revision } });
                if output.send(progress).await.is_err() {
                    return Ok(());
                }
            }
            if done {
                break;
            }
        }
        let summary = json!({ "summary": { "lines": outcome.lines, "created": outcome.created, "errors": outcome.errors, "revision": revision } });
        let _ = output.send(summary).await;
        Ok(())
    }

    async fn bulk_batch(
        &self,
        p: &Principal,
        refs: &mut Refs,
        cache: &mut LoadCache,
        outcome: &mut Outcome,
        batch: Vec<(u64, String)>,
        revision: &mut i64,
    ) -> ServiceResult<Vec<Value>> {
        let mut tx = self.inner.store.begin().await?;
        let rev = tx.bump_revision(p.org_id, self.now()).await?;
        // The store's statistics, refreshed each time the load has doubled the records of
        // some kind it wrote (a few times per kind in all).
        let grown = outcome.created.iter().any(|(kind, n)| {
            *n >= (2 * outcome.analysed_at.get(kind).copied().unwrap_or_default())
                .max(BULK_BATCH as u64)
        });
        if grown {
            tx.refresh_statistics().await?;
            outcome.analysed_at = outcome.created.clone();
        }
        cache.begin_batch(rev);
        let mut events = Vec::with_capacity(batch.len());
        let mut created: Vec<(&'static str, u64)> = Vec::new();
        let mut failed_store: Option<ServiceError> = None;
        refs.pending.clear();
        let mut records = Vec::with_capacity(batch.len());
        for (line, text) in &batch {
            match serde_json::from_str::<Record>(text) {
                Ok(r) => records.push((*line, r)),
                Err(e) => {
                    outcome.errors += 1;
                    events.push(error_line(
                        *line,
                        None,
                        &ServiceError::invalid(
                            "body",
                            "record",
                            format!("line {line} is not a record: {e}"),
                        ),
                    ));
                }
            }
        }
        let lane = self.bulk_lane(&mut *tx, p, cache, &records).await;
        let (mut taken_names, mut taken_emails) = match lane {
            Ok(taken) => taken,
            Err(e) => {
                failed_store = Some(e);
                Default::default()
            }
        };
        let mut pending = Pending::default();
        let mut written = HashMap::new();
        for (line, record) in records {
            if failed_store.is_some() {
                break;
            }
            let line = &line;
            let kind = record.kind();
            let reference = record.reference().map(str::to_owned);
            let result = match fast_record(refs, cache, &record) {
                Some(Ok(fast)) => {
                    self.bulk_fast(
                        &mut *tx,
                        p,
                        cache,
                        &mut pending,
                        &mut taken_names,
                        &mut taken_emails,
                        fast,
                    )
                    .await
                }
                Some(Err(e)) => Err(e),
                None => {
                    let user_name = match &record {
                        Record::User { user_name, .. } => Some(user_name.clone()),
                        _ => None,
                    };
                    let flushed = if pending.is_empty() {
                        Ok(())
                    } else {
                        self.bulk_flush(&mut *tx, &mut pending, &mut written).await
                    };
                    match flushed {
                        Ok(()) => self.bulk_record(&mut *tx, p, refs, record).await.map(
                            |(id, learned)| {
                                cache.learn(learned);
                                if let Some(n) = user_name {
                                    taken_names.insert(n);
                                }
                                id
                            },
                        ),
                        Err(e) => Err(e),
                    }
                }
            };
            match result {
                Ok(id) => {
                    if let Some(r) = &reference {
                        refs.pending.insert(r.clone(), id);
                    }
                    created.push((kind, *line));
                    let mut ev = json!({ "line": line, "kind": kind, "id": id });
                    if let Some(r) = &reference {
                        ev["ref"] = json!(r);
                    }
                    events.push(ev);
                }
                Err(e @ (ServiceError::Internal(_) | ServiceError::Unavailable(_))) => {
                    failed_store = Some(e);
                    break;
                }
                Err(e) => {
                    outcome.errors += 1;
                    events.push(error_line(*line, reference.as_deref(), &e));
                }
            }
        }
        if failed_store.is_none()
            && let Err(e) = self.bulk_flush(&mut *tx, &mut pending, &mut written).await
        {
            failed_store = Some(e);
        }
        if let Some(e) = failed_store {
            tracing::error!(request_id = p.request_id.as_deref().unwrap_or("-"), error = %e, "bulk batch rolled back");
            cache.forget();
            drop(tx);
            refs.pending.clear();
            let first = batch.first().map(|(l, _)| *l).unwrap_or_default();
            let last = batch.last().map(|(l, _)| *l).unwrap_or_default();
            outcome.errors += batch.len() as u64;
            return Ok(vec![json!({
                "lines": [first, last],
                "error": { "code": "batch_failed", "detail": format!("lines {first} to {last} were not loaded: the database failed; load them again"), "errors": [] }
            })]);
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "bulk.batch",
            "bulk",
            rev,
            None::<&()>,
            Some(&json!({ "lines": batch.len(), "created": created.len() })),
        )
        .await?;
        tx.commit().await?;
        cache.committed(rev);
        // The lane's grants are taken as written rather than read back.
        self.catch_up_knowing(p.org_id, rev, written).await?;
        crate::revision::saw(rev);
        *revision = rev;
        let pending = std::mem::take(&mut refs.pending);
        refs.committed.extend(pending);
        for (kind, _) in created {
            *outcome.created.entry(kind).or_default() += 1;
        }
        // Unreadable lines were answered first; the answer goes in line order.
        events.sort_by_key(|e| e["line"].as_u64());
        Ok(events)
    }

    /// Reads what the lane needs for this batch: the load's cache (when it is cold) and
    /// which of the batch's user names and emails are taken already.
    async fn bulk_lane(
        &self,
        tx: &mut dyn latchkey_store::Tx,
        p: &Principal,
        cache: &mut LoadCache,
        records: &[(u64, Record)],
    ) -> ServiceResult<(HashSet<String>, HashSet<String>)> {
        let mut names = Vec::new();
        let mut emails = Vec::new();
        for (_, r) in records {
            if let Record::User {
                user_name, email, ..
            } = r
            {
                if let Ok(n) = latchkey_model::UserName::parse("user_name", user_name) {
                    names.push(n.as_str().to_owned());
                }
                if let Some(Ok(e)) = email
                    .as_deref()
                    .map(|e| latchkey_model::Email::parse("email", e.trim()))
                {
                    emails.push(e.as_str().to_lowercase());
                }
            }
        }
        cache.load(&mut *tx, p).await?;
        let taken_names = if names.is_empty() {
            HashSet::new()
        } else {
            tx.taken_user_names(p.org_id, &names)
                .await?
                .into_iter()
                .collect()
        };
        let taken_emails = if emails.is_empty() {
            HashSet::new()
        } else {
            tx.taken_emails(p.org_id, &emails)
                .await?
                .into_iter()
                .collect()
        };
        Ok((taken_names, taken_emails))
    }

    async fn bulk_record(
        &self,
        tx: &mut dyn latchkey_store::Tx,
        p: &Principal,
        refs: &Refs,
        record: Record,
    ) -> ServiceResult<(uuid::Uuid, Learned)> {
        Ok(match record {
            Record::Group {
                name,
                parent,
                description,
                group_type,
                disabled,
                attributes,
                ..
            } => {
                let parent_id = parent
                    .map(|r| refs.resolve("parent", &r).map(GroupId::from_uuid))
                    .transpose()?;
                let req = CreateGroup {
                    name,
                    description,
                    group_type,
                    parent_id,
                    disabled,
                    active_since: None,
                    active_until: None,
                    attributes,
                };
                let g = self.create_group_in(tx, p, req).await?;
                (g.id.as_uuid(), Learned::Group(g.id, g.name))
            }
            Record::User {
                user_name,
                first_name,
                middle_name,
                last_name,
                email,
                user_type,
                primary_group,
                groups,
                enabled,
                attributes,
                ..
            } => {
                let (primary_group_id, secondary) = refs.user_groups(&primary_group, &groups)?;
                // Checked before the user is written, so that a bad group cannot leave a
                // user without the memberships the line asked for.
                for (i, g) in secondary.iter().enumerate() {
                    if tx.get_group(p.org_id, *g).await?.is_none() {
                        return Err(ServiceError::invalid(
                            &format!("groups[{i}]"),
                            "exists",
                            format!("group `{g}` does not exist"),
                        ));
                    }
                }
                let req = CreateUser {
                    user_name,
                    first_name,
                    middle_name,
                    last_name,
                    email,
                    mail_aliases: Vec::new(),
                    user_type,
                    primary_group_id,
                    enabled,
                    multi_session: None,
                    comments: None,
                    attributes,
                };
                let user = self.create_user_in(tx, p, req).await?;
                let mut seen = HashSet::new();
                for group_id in secondary
                    .into_iter()
                    .filter(|g| *g != primary_group_id && seen.insert(*g))
                {
                    let m = CreateMembership {
                        user_id: user.id,
                        group_id,
                        starts_at: None,
                        ends_at: None,
                        comments: None,
                        attributes: Attributes::new(),
                    };
                    self.create_membership_in(tx, p, m).await?;
                }
                (user.id.as_uuid(), Learned::User(user.id, primary_group_id))
            }
            Record::Membership {
                user,
                group,
                starts_at,
                ends_at,
                ..
            } => {
                let req = CreateMembership {
                    user_id: UserId::from_uuid(refs.resolve("user", &user)?),
                    group_id: GroupId::from_uuid(refs.resolve("group", &group)?),
                    starts_at,
                    ends_at,
                    comments: None,
                    attributes: Attributes::new(),
                };
                let m = self.create_membership_in(tx, p, req).await?;
                (m.id.as_uuid(), Learned::Nothing)
            }
            Record::System {
                name,
                parent,
                description,
                single_role,
                approval_process,
                ..
            } => {
                let parent_id = parent
                    .map(|r| refs.resolve("parent", &r).map(SystemId::from_uuid))
                    .transpose()?;
                let req = CreateSystem {
                    name,
                    description,
                    system_type: None,
                    parent_id,
                    owner_id: None,
                    notification_emails: Vec::new(),
                    approval_process,
                    single_role,
                    approver_role_id: None,
                };
                let s = self.create_system_in(tx, p, req).await?;
                (s.id.as_uuid(), Learned::System(s.id, s.name, s.single_role))
            }
            Record::Role {
                system,
                name,
                description,
                domain_type,
                permissions,
                ..
            } => {
                let req = CreateRole {
                    name,
                    system_id: SystemId::from_uuid(refs.resolve("system", &system)?),
                    description,
                    category: None,
                    domain_type,
                    domain_id: None,
                    external_id: None,
                    owner_id: None,
                    privileged: None,
                    permissions,
                };
                let r = self.create_role_in(tx, p, req).await?;
                (r.id.as_uuid(), Learned::Role(Box::new(r)))
            }
            Record::Inherit {
                parent,
                child,
                mandatory,
                scope_mode,
                scope_value,
                ..
            } => {
                let parent = RoleId::from_uuid(refs.resolve("parent", &parent)?);
                let req = CreateGrantedRole {
                    role_id: RoleId::from_uuid(refs.resolve("child", &child)?),
                    mandatory,
                    scope_mode,
                    scope_value,
                };
                let e = self.add_granted_role_in(tx, p, parent, req).await?;
                (e.id.as_uuid(), Learned::Edge(Box::new(e)))
            }
            Record::Grant {
                role,
                user,
                group,
                scope,
                starts_at,
                ends_at,
                ..
            } => {
                let req = CreateGrant {
                    role_id: RoleId::from_uuid(refs.resolve("role", &role)?),
                    user_id: user
                        .map(|u| refs.resolve("user", &u).map(UserId::from_uuid))
                        .transpose()?,
                    group_id: group
                        .map(|g| refs.resolve("group", &g).map(GroupId::from_uuid))
                        .transpose()?,
                    scope,
                    starts_at,
                    ends_at,
                };
                let g = self
                    .create_grant_as(tx, p, req, crate::approvals::Approval::Bypass)
                    .await?;
                (g.id.as_uuid(), Learned::Grant(Box::new(g)))
            }
        })
    }
}
