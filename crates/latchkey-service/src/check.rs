//! Access checks for applications: "may this user do this here?", answered from the
//! organisation's engine without touching the store. Needs `access.check`, except that
//! anyone may ask about themselves. A disabled user is never allowed.
//!
//! A role check asks for the role with exactly the given scope value. A permission check
//! is allowed when the permission is held unscoped, or held for the given scope value or,
//! for group and system scopes, for an ancestor of it (a permission for Sales covers Sales
//! East).

use latchkey_api::{CheckBatchRequest, CheckBatchResponse, CheckRequest, CheckResponse};
use latchkey_model::{FieldError, GroupId, Permission, SystemId, ValidationErrors};

use crate::access::render_path;
use crate::{OrgState, Principal, ServiceError, ServiceResult, Services};

/// Most checks one batch may hold.
pub const MAX_BATCH: usize = 1000;

impl Services {
    pub async fn check(&self, p: &Principal, req: &CheckRequest) -> ServiceResult<CheckResponse> {
        // Asked before the read guard is taken: the principal reads the same engine, and a
        // second read lock on one thread can deadlock behind a waiting writer.
        let others = p.holds(Permission::AccessCheck);
        let engine = self.engine(p.org_id).await?;
        let state = engine.read();
        self.check_with(p, others, &state, req, "")
    }

    pub async fn check_batch(
        &self,
        p: &Principal,
        req: &CheckBatchRequest,
    ) -> ServiceResult<CheckBatchResponse> {
        if req.checks.len() > MAX_BATCH {
            return Err(ServiceError::invalid(
                "checks",
                "max_items",
                format!(
                    "a batch holds at most {MAX_BATCH} checks, not {}",
                    req.checks.len()
                ),
            ));
        }
        let others = p.holds(Permission::AccessCheck);
        let engine = self.engine(p.org_id).await?;
        let engine = engine.read();
        let mut results = Vec::with_capacity(req.checks.len());
        let mut errors = ValidationErrors::new();
        for (i, check) in req.checks.iter().enumerate() {
            match self.check_with(p, others, &engine, check, &format!("checks[{i}].")) {
                Ok(r) => results.push(r),
                Err(ServiceError::Validation(e)) => {
                    e.into_errors().into_iter().for_each(|f| errors.push(f))
                }
                Err(other) => return Err(other),
            }
        }
        errors.finish()?;
        Ok(CheckBatchResponse {
            results,
            revision: engine.revision,
        })
    }

    fn check_with(
        &self,
        p: &Principal,
        may_ask_about_others: bool,
        engine: &OrgState,
        req: &CheckRequest,
        prefix: &str,
    ) -> ServiceResult<CheckResponse> {
        if req.user != p.user_id && !may_ask_about_others {
            return Err(ServiceError::forbidden(Permission::AccessCheck));
        }
        let field = |name: &str| format!("{prefix}{name}");
        let mut errors = ValidationErrors::new();
        let enabled = engine.engine.user_enabled(req.user);
        if enabled.is_none() {
            errors.push(FieldError::new(
                field("user"),
                "exists",
                format!("user `{}` does not exist", req.user),
            ));
        }
        let at = req.at.unwrap_or_else(|| self.now());
        let scope = req
            .scope
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        enum What {
            Role(latchkey_model::RoleId),
            Permission(Permission),
        }
        let what = match (req.role, req.permission.as_deref()) {
            (Some(role), None) => match engine.roles.get(&role) {
                Some(_) => {
                    let scoped = engine.scoped_roles.contains(&role);
                    match (scoped, scope) {
                        (false, Some(_)) => {
                            errors.push(FieldError::new(
                                field("scope"),
                                "unscoped_role",
                                format!(
                                    "`{}` is not a scoped role: leave `scope` out",
                                    engine.role_name(role)
                                ),
                            ));
                        }
                        (true, None) => {
                            errors.push(FieldError::new(
                                field("scope"),
                                "required",
                                format!(
                                    "`{}` is scoped: give a `scope` value",
                                    engine.role_name(role)
                                ),
                            ));
                        }
                        _ => {}
                    }
                    Some(What::Role(role))
                }
                None => {
                    errors.push(FieldError::new(
                        field("role"),
                        "exists",
                        format!("role `{role}` does not exist"),
                    ));
                    None
                }
            },
            (None, Some(name)) => match name.parse::<Permission>() {
                Ok(perm) => Some(What::Permission(perm)),
                Err(e) => {
                    errors.push(FieldError::new(
                        field("permission"),
                        "one_of",
                        e.to_string(),
                    ));
                    None
                }
            },
            _ => {
                errors.push(FieldError::new(
                    field("role"),
                    "one_of",
                    "give exactly one of `role` and `permission`",
                ));
                None
            }
        };
        errors.finish()?;
        let (Some(enabled), Some(what)) = (enabled, what) else {
            return Err(ServiceError::Internal(
                "validated check fields missing".to_owned(),
            ));
        };
        if !enabled {
            return Ok(CheckResponse {
                allowed: false,
                reason: Some("the user is disabled".to_owned()),
                paths: req.explain.then(Vec::new),
                revision: engine.revision,
            });
        }
        match what {
            What::Role(role) => {
                if req.explain {
                    let explained = engine.engine.explain(req.user, role, scope, at);
                    let paths: Vec<_> = explained
                        .iter()
                        .flat_map(|e| e.paths.iter().map(|path| render_path(engine, path)))
                        .collect();
                    Ok(CheckResponse {
                        allowed: explained.is_some(),
                        reason: None,
                        paths: Some(paths),
                        revision: engine.revision,
                    })
                } else {
                    let allowed = engine.engine.check(req.user, role, scope, at);
                    Ok(CheckResponse {
                        allowed,
                        reason: None,
                        paths: None,
                        revision: engine.revision,
                    })
                }
            }
            What::Permission(perm) => {
                let held = engine.engine.permissions(req.user, at);
                let allowed = held.has_unscoped(perm)
                    || match (held.scopes(perm), scope) {
                        (Some(values), Some(s)) => {
                            values.iter().any(|v| scope_covers(engine, v, s))
                        }
                        _ => false,
                    };
                let paths = if req.explain {
                    // The roles carrying the permission that the user holds, with their paths.
                    let mut out = Vec::new();
                    for r in engine.engine.effective_roles(req.user, at) {
                        let carries = engine
                            .permissions_of
                            .get(&r.role)
                            .is_some_and(|ps| ps.contains(&perm));
                        let fits = r.scope.is_none()
                            || scope.is_some_and(|s| {
                                r.scope
                                    .as_deref()
                                    .is_some_and(|v| scope_covers(engine, v, s))
                            });
                        if carries && fits {
                            out.extend(r.paths.iter().map(|path| render_path(engine, path)));
                        }
                    }
                    Some(out)
                } else {
                    None
                };
                Ok(CheckResponse {
                    allowed,
                    reason: None,
                    paths,
                    revision: engine.revision,
                })
            }
        }
    }
}

/// Whether a permission held for scope value `held` covers the asked value `asked`:
/// the same value, or for groups and systems an ancestor of it.
fn scope_covers(engine: &OrgState, held: &str, asked: &str) -> bool {
    if held == asked {
        return true;
    }
    let (Ok(h), Ok(a)) = (held.parse::<uuid::Uuid>(), asked.parse::<uuid::Uuid>()) else {
        return false;
    };
    let (hg, ag) = (GroupId::from_uuid(h), GroupId::from_uuid(a));
    if engine.groups.contains_key(&hg) && engine.groups.contains_key(&ag) {
        return engine.engine.group_in_subtree(ag, hg);
    }
    let (hs, as_) = (SystemId::from_uuid(h), SystemId::from_uuid(a));
    engine.systems.contains_key(&hs)
        && engine.systems.contains_key(&as_)
        && engine.engine.system_in_subtree(as_, hs)
}
