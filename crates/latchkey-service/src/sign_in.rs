//! Signing in with a password, the sessions it opens, password policies, and the security
//! events all of it records.
//!
//! Passwords are hashed with argon2id (parameters from `SignInSettings`, stored in each PHC
//! string, so changing them leaves existing hashes verifiable). A sign-in for a user that
//! does not exist, is disabled or has no password verifies against a dummy hash made with
//! the same parameters, so it costs what a real one costs. After `lockout_attempts`
//! failures in a row the account refuses sign-ins (423) for `lockout_minutes`.
//!
//! Sessions are `lks_` and 32 random bytes; only the SHA-256 is stored. A user without
//! multi-session keeps one session: signing in ends the others.
//!
//! Sign-in bookkeeping (failure counters, new sessions, `last_seen_at`, security events)
//! changes no entitlement, so it is written without moving the organisation's revision;
//! ending a session does move it, which is what drops the session from every server's
//! authentication cache.

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use latchkey_api::{
    AlertAction, ChangePassword, EffectiveSecurityPolicy, ExpiredPasswordChange, ListResponse,
    PasswordPolicyView, PasswordSignIn, SessionView, SetPassword, SignedIn,
};
use latchkey_model::{
    AlertStatus, OrgId, Organisation, PasswordPolicy, Permission, RoleSecurityPolicy,
    SecurityAlert, SecurityAlertId, SecurityEvent, SecurityEventId, Session, SessionId,
    SignInMethod, StoredPasswordPolicy, StoredRoleSecurityPolicy, User, UserId, UserTypeId,
};
use latchkey_store::{SecurityAlertQuery, SecurityEventQuery, Tx};
use serde_json::json;
use time::OffsetDateTime;

use crate::list::{SecurityAlertFilter, SecurityEventFilter};
use crate::tokens::{hash_token, random_secret};
use crate::{Credential, Principal, ServiceError, ServiceResult, Services};

pub const SESSION_PREFIX: &str = "lks_";

/// How sign-in behaves; `serve` reads it from the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInSettings {
    /// argon2id memory cost in KiB.
    pub argon2_memory_kib: u32,
    /// argon2id passes over the memory.
    pub argon2_iterations: u32,
    /// argon2id lanes.
    pub argon2_parallelism: u32,
    /// Failed sign-ins in a row that lock the account.
    pub lockout_attempts: u32,
    /// How long a locked account stays locked.
    pub lockout_minutes: u32,
    /// How long a session lasts at most.
    pub session_hours: u32,
    /// Sign-in attempts one address may make in a minute, whoever they are for.
    pub attempts_per_address_per_minute: u32,
}

impl Default for SignInSettings {
    /// OWASP's first argon2id recommendation (19 MiB, 2 passes, 1 lane); five failures lock
    /// for five minutes; sessions last twelve hours at most.
    fn default() -> Self {
        Self {
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            argon2_parallelism: 1,
            lockout_attempts: 5,
            lockout_minutes: 5,
            session_hours: 12,
            attempts_per_address_per_minute: 30,
        }
    }
}

/// The hasher made from the settings, and the dummy hash that unknown users verify against.
pub(crate) struct Passwords {
    settings: SignInSettings,
    argon: Argon2<'static>,
    dummy: String,
    /// Attempts per address in the current minute: (minute, count).
    attempts: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

/// Addresses the rate limiter remembers before it forgets those of past minutes.
const MAX_TRACKED_ADDRESSES: usize = 100_000;

impl Passwords {
    pub(crate) fn new(settings: SignInSettings) -> Result<Self, String> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| format!("invalid argon2 parameters: {e}"))?;
        if settings.lockout_attempts == 0 || settings.lockout_minutes == 0 {
            return Err("lockout_attempts and lockout_minutes must be at least 1".to_owned());
        }
        if settings.session_hours == 0 {
            return Err("session_hours must be at least 1".to_owned());
        }
        if settings.attempts_per_address_per_minute == 0 {
            return Err("attempts_per_address_per_minute must be at least 1".to_owned());
        }
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let dummy = argon
            .hash_password(b"not a password anyone has")
            .map_err(|e| format!("argon2 cannot hash: {e}"))?
            .to_string();
        Ok(Self {
            settings,
            argon,
            dummy,
            attempts: std::sync::Mutex::default(),
        })
    }

    /// Counts an attempt from `ip` at `now`; when the address has used up its minute,
    /// `Err((seconds to wait, whether this is the minute's first refusal))`. Windows are fixed minutes per address, kept in memory (per
    /// server: behind a load balancer each server counts its own share).
    pub(crate) fn admit(&self, ip: &str, now: OffsetDateTime) -> Result<(), (u64, bool)> {
        let limit = self.settings.attempts_per_address_per_minute;
        let minute = now.unix_timestamp().div_euclid(60);
        let Ok(mut attempts) = self.attempts.lock() else {
            return Ok(());
        };
        if attempts.len() >= MAX_TRACKED_ADDRESSES {
            attempts.retain(|_, (m, _)| *m == minute);
        }
        let entry = attempts.entry(ip.to_owned()).or_insert((minute, 0));
        if entry.0 != minute {
            *entry = (minute, 0);
        }
        if entry.1 >= limit {
            let first = entry.1 == limit;
            entry.1 = entry.1.saturating_add(1);
            let next = (minute + 1) * 60;
            let wait = u64::try_from(next - now.unix_timestamp())
                .unwrap_or(60)
                .max(1);
            return Err((wait, first));
        }
        entry.1 += 1;
        Ok(())
    }

    pub(crate) fn settings(&self) -> &SignInSettings {
        &self.settings
    }

    /// The PHC string of `password`.
    pub(crate) fn hash(&self, password: &str) -> ServiceResult<String> {
        self.argon
            .hash_password(password.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| ServiceError::Internal(format!("argon2 failed: {e}")))
    }

    /// Whether `hash` was made with other parameters than the configured ones (or another
    /// algorithm): after a successful sign-in it is replaced.
    pub(crate) fn outdated(&self, hash: &str) -> bool {
        let Ok(phc) = argon2::PasswordHash::new(hash) else {
            return false;
        };
        let Ok(params) = Params::try_from(&phc) else {
            return true;
        };
        let current = self.argon.params();
        phc.algorithm != argon2::ARGON2ID_IDENT
            || params.m_cost() != current.m_cost()
            || params.t_cost() != current.t_cost()
            || params.p_cost() != current.p_cost()
    }

    /// Whether `password` matches `hash` (or, with no hash, the dummy: always false, at
    /// the same cost).
    pub(crate) fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let ok = self
            .argon
            .verify_password(password.as_bytes(), hash.unwrap_or(&self.dummy))
            .is_ok();
        ok && hash.is_some()
    }
}

/// Where a request came from, for sessions and events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The kinds of security events, as stored and filtered on.
pub mod events {
    pub const SIGN_IN_SUCCEEDED: &str = "sign_in.succeeded";
    pub const SIGN_IN_FAILED: &str = "sign_in.failed";
    pub const SIGN_IN_LOCKED: &str = "sign_in.locked";
    pub const SIGN_IN_RATE_LIMITED: &str = "sign_in.rate_limited";
    pub const MAGIC_LINK_SENT: &str = "magic_link.sent";
    pub const MAGIC_LINK_USED: &str = "magic_link.used";
    pub const SESSION_REVOKED: &str = "session.revoked";
    pub const PASSWORD_CHANGED: &str = "password.changed";
    pub const PASSWORD_RESET: &str = "recovery.password_reset";
    pub const TOTP_ENROLLED: &str = "totp.enrolled";
    pub const TOTP_VERIFIED: &str = "totp.verified";
    /// A wrong or replayed code while verifying or disabling a device.
    pub const TOTP_REFUSED: &str = "totp.refused";
    pub const TOTP_DISABLED: &str = "totp.disabled";
    pub const TOTP_RESET: &str = "recovery.totp_reset";
    /// Reasons of `sign_in.failed` at the second factor.
    pub const REASON_TOTP_REQUIRED: &str = "totp_required";
    pub const REASON_TOTP_MALFORMED: &str = "totp_malformed";
    pub const REASON_TOTP_WRONG: &str = "totp_wrong";
    pub const REASON_TOTP_REPLAYED: &str = "totp_replayed";
    pub const PASSWORD_POLICY_CHANGED: &str = "policy.password_changed";
    pub const PRIVILEGED_ROLE_GRANTED: &str = "role.privileged_granted";
    pub const ALERT_ACKNOWLEDGED: &str = "alert.acknowledged";
    pub const ALERT_RESOLVED: &str = "alert.resolved";
    pub const ROLE_POLICY_CHANGED: &str = "policy.role_security_changed";
    pub const INVITATION_SENT: &str = "invitation.sent";
    pub const INVITATION_REVOKED: &str = "invitation.revoked";
    pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
    pub const INVITATION_FAILED: &str = "invitation.failed";
    pub const PASSKEY_ADDED: &str = "passkey.added";
    pub const PASSKEY_REMOVED: &str = "passkey.removed";
    pub const PASSKEY_REJECTED: &str = "passkey.rejected";
    pub const PASSKEY_VERIFIED: &str = "passkey.verified";
    pub const PASSKEY_RESET: &str = "recovery.passkey_reset";
}

/// A password found right, and what the sign-in needs next (read with it).
struct PasswordChecked {
    org: Organisation,
    user: User,
    policy: PasswordPolicy,
    set_at: OffsetDateTime,
    totp: Vec<latchkey_model::TotpDevice>,
    context: SessionContext,
    /// The failure count still to clear, once the second factor is given.
    clear_failures: bool,
}

/// What opening a session needs to know about its user.
pub(crate) struct SessionContext {
    /// Live sessions of a single-session user, which the new one ends.
    pub(crate) earlier: Vec<Session>,
    pub(crate) policy: RoleSecurityPolicy,
    /// The user's passkeys, counted only when `policy` asks for one.
    pub(crate) passkeys: u32,
}

/// More to write with a new session.
#[derive(Default)]
pub(crate) struct SessionExtras {
    /// The passkey signed in with and the ceremony it answered.
    pub(crate) passkey: Option<PasskeyUse>,
    /// Clear the user's failed sign-ins (the second factor was given).
    pub(crate) clear_failures: bool,
}

/// A passkey sign-in's writes: the passkey's use and the end of its ceremony.
pub(crate) struct PasskeyUse {
    pub(crate) id: latchkey_model::PasskeyId,
    /// The credential to store when its counter or backup state moved.
    pub(crate) credential: Option<String>,
    /// The ceremony to finish (once), and its expiry.
    pub(crate) ceremony: latchkey_model::CeremonyId,
    pub(crate) expires_at: OffsetDateTime,
}

/// The rules that raise alerts.
pub mod alerts {
    /// An account was locked by failed sign-ins.
    pub const REPEATED_FAILURES: &str = "repeated_failures";
    /// A privileged role was granted.
    pub const PRIVILEGED_GRANT: &str = "privileged_grant";
    /// A password policy asks less than before.
    pub const POLICY_WEAKENED: &str = "policy_weakened";
}

/// An instant as RFC 3339, for messages.
fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// The organisation a sign-in names by slug or, when the installation has one, that one.
/// `None` when the slug names none (the caller answers as for a wrong password).
impl Services {
    /// The organisation a sign-in names by its slug, or else the installation's only one
    /// (`None` when there is none of that slug); read through the sign-in cache.
    pub(crate) async fn sign_in_org(
        &self,
        tx: &mut dyn Tx,
        organisation: Option<&str>,
    ) -> ServiceResult<Option<Organisation>> {
        let cache = &self.inner.sign_in_cache;
        match organisation.map(str::trim).filter(|s| !s.is_empty()) {
            Some(slug) => match cache.org_by_slug(slug) {
                Some(o) => Ok(Some(o)),
                None => Ok(cache.remembered(tx.get_org_by_slug(slug).await?)),
            },
            None => {
                let now = self.now();
                let mut orgs = match cache.listed(now) {
                    Some(orgs) => orgs,
                    None => {
                        let orgs = tx.list_orgs().await?;
                        cache.remember_list(&orgs, now);
                        orgs
                    }
                };
                if orgs.len() > 1 {
                    return Err(ServiceError::invalid(
                        "organisation",
                        "required",
                        "this installation has several organisations: give `organisation` (its slug)",
                    ));
                }
                Ok(orgs.pop())
            }
        }
    }

    /// An organisation by id, read through the sign-in cache.
    pub(crate) async fn known_org(
        &self,
        tx: &mut dyn Tx,
        id: OrgId,
    ) -> ServiceResult<Option<Organisation>> {
        let cache = &self.inner.sign_in_cache;
        match cache.org(id) {
            Some(o) => Ok(Some(o)),
            None => Ok(cache.remembered(tx.get_org(id).await?)),
        }
    }
}

fn rate_limited(retry_after: u64) -> ServiceError {
    ServiceError::RateLimited {
        message: format!("too many sign-in attempts from this address: retry in {retry_after} s"),
        retry_after,
    }
}

/// The Security Center is read and handled with `security.view` for the whole
/// organisation.
pub(crate) fn require_security_center(p: &Principal) -> ServiceResult<()> {
    if p.require(Permission::SecurityView)?.is_global() {
        Ok(())
    } else {
        Err(ServiceError::forbidden(Permission::SecurityView))
    }
}

fn wrong_credentials() -> ServiceError {
    ServiceError::Unauthenticated("the user name or the password is wrong".to_owned())
}

impl Services {
    /// Signs in with a user name and a password; answers a new session.
    pub async fn sign_in_password(
        &self,
        req: &PasswordSignIn,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let checked = self
            .verify_password_of(
                req.organisation.as_deref(),
                &req.user_name,
                &req.password,
                client,
            )
            .await?;
        let (org, user) = (&checked.org, &checked.user);
        self.second_factor_with(org, user, checked.totp, req.totp_code.as_deref(), client)
            .await?;
        self.open_session_in(
            org,
            user,
            SignInMethod::Password,
            client,
            checked.context,
            SessionExtras {
                clear_failures: checked.clear_failures,
                ..SessionExtras::default()
            },
        )
        .await
    }

    /// Checks a user name and password as a sign-in does (lockout, events), and that the
    /// password has not expired, without opening a session.
    async fn verify_password_of(
        &self,
        organisation: Option<&str>,
        user_name: &str,
        password: &str,
        client: &ClientInfo,
    ) -> ServiceResult<PasswordChecked> {
        let checked = self
            .check_password_reading(organisation, user_name, password, client)
            .await?;
        let (org, user) = (&checked.org, &checked.user);
        if let Some(days) = checked.policy.expiry_days {
            let expires = checked.set_at + time::Duration::days(i64::from(days));
            if expires <= self.now() {
                self.record_failure_event(org, Some(user), "password_expired", client)
                    .await?;
                return Err(ServiceError::PasswordExpired(format!(
                    "the password expired on {}; choose a new one with POST /api/v1/auth/password/change",
                    expires.date()
                )));
            }
        }
        Ok(checked)
    }

    /// The password check shared by sign-in and the change of an expired password.
    async fn check_password(
        &self,
        organisation: Option<&str>,
        user_name: &str,
        password: &str,
        client: &ClientInfo,
    ) -> ServiceResult<(Organisation, User)> {
        let checked = self
            .check_password_reading(organisation, user_name, password, client)
            .await?;
        if checked.clear_failures {
            let mut tx = self.inner.store.begin().await?;
            tx.clear_sign_in_failures(checked.org.id, checked.user.id)
                .await?;
            tx.commit().await?;
        }
        Ok((checked.org, checked.user))
    }

    /// Checks a password (lockout, events) and answers, read in the same transaction as
    /// the password, what a sign-in goes on to need: the password policy and the
    /// password's age, the verified TOTP devices, and the context of a new session.
    async fn check_password_reading(
        &self,
        organisation: Option<&str>,
        user_name: &str,
        password: &str,
        client: &ClientInfo,
    ) -> ServiceResult<PasswordChecked> {
        if password.len() > latchkey_model::sign_in::MAX_PASSWORD {
            return Err(ServiceError::invalid(
                "password",
                "max_length",
                format!(
                    "a password has at most {} bytes",
                    latchkey_model::sign_in::MAX_PASSWORD
                ),
            ));
        }
        let now = self.now();
        let mut tx = self.lookup().await?;
        let org = self.sign_in_org(&mut *tx, organisation).await?;
        let user = match &org {
            Some(o) => tx.get_user_by_name(o.id, user_name.trim()).await?,
            None => None,
        };
        let (record, failures, later) = match (&org, &user) {
            (Some(o), Some(u)) => {
                let record = tx.password(o.id, u.id).await?;
                let failures = tx.sign_in_failures(o.id, u.id).await?;
                let type_id = Self::user_type_id(&mut *tx, o.id, u).await?;
                let policy = self
                    .sign_in_password_policy(&mut *tx, o.id, type_id)
                    .await?;
                let totp = tx.totp_devices(o.id, u.id).await?;
                let context = self.session_context(&mut *tx, o.id, u, now).await?;
                (record, failures, Some((policy, totp, context)))
            }
            _ => (None, Default::default(), None),
        };
        drop(tx);
        let set_at = record
            .as_ref()
            .map_or(OffsetDateTime::UNIX_EPOCH, |r| r.set_at);
        let hash = record.map(|r| r.hash);
        if let Some(ip) = &client.ip
            && let Err((retry_after, first)) = self.inner.passwords.admit(ip, now)
        {
            // One event per address and minute, however many attempts follow.
            if first && let Some(o) = &org {
                let mut tx = self.inner.store.begin().await?;
                self.security_event(
                    &mut *tx,
                    o.id,
                    events::SIGN_IN_RATE_LIMITED,
                    user.as_ref().map(|u| u.id),
                    None,
                    client,
                    json!({ "method": "password", "retry_after": retry_after }),
                )
                .await?;
                tx.commit().await?;
            }
            return Err(rate_limited(retry_after));
        }
        if let (Some(o), Some(u), Some(until)) = (&org, &user, failures.locked_until)
            && until > now
        {
            self.record_failure_event(o, Some(u), "locked", client)
                .await?;
            return Err(ServiceError::Locked(format!(
                "too many failed sign-ins: the account is locked until {}",
                rfc3339(until)
            )));
        }
        let known_org = org.clone();
        let stored_hash = hash.clone();
        let verified = {
            let passwords = std::sync::Arc::clone(&self.inner.passwords);
            let password = password.to_owned();
            tokio::task::spawn_blocking(move || passwords.verify(&password, hash.as_deref()))
                .await
                .map_err(|e| ServiceError::Internal(format!("password check failed: {e}")))?
        };
        let (Some(org), Some(user)) = (org, user) else {
            if let Some(o) = &known_org {
                self.record_failure_event(o, None, "unknown_user", client)
                    .await?;
            }
            return Err(wrong_credentials());
        };
        if verified && user.enabled {
            // A hash made with earlier parameters is replaced now that the password is
            // known; its age and the history stay as they are.
            let rehashed = match &stored_hash {
                Some(h) if self.inner.passwords.outdated(h) => {
                    let passwords = std::sync::Arc::clone(&self.inner.passwords);
                    let password = password.to_owned();
                    Some(
                        tokio::task::spawn_blocking(move || passwords.hash(&password))
                            .await
                            .map_err(|e| {
                                ServiceError::Internal(format!("password hashing failed: {e}"))
                            })??,
                    )
                }
                _ => None,
            };
            // With a second factor to come, the failures are cleared only once it is
            // given: wrong codes after the right password still count towards the lockout.
            let second_factor = later
                .as_ref()
                .is_some_and(|(_, totp, _)| totp.iter().any(|d| d.verified_at.is_some()));
            let clear_now = failures.count > 0 && !second_factor;
            if clear_now || rehashed.is_some() {
                let mut tx = self.inner.store.begin().await?;
                if clear_now {
                    tx.clear_sign_in_failures(org.id, user.id).await?;
                }
                if let Some(h) = &rehashed {
                    tx.rehash_password(org.id, user.id, h).await?;
                }
                tx.commit().await?;
            }
            let Some((policy, totp, context)) = later else {
                return Err(ServiceError::Internal(
                    "a known user's sign-in context is missing".to_owned(),
                ));
            };
            return Ok(PasswordChecked {
                org,
                user,
                policy,
                set_at,
                totp,
                context,
                clear_failures: failures.count > 0 && second_factor,
            });
        }
        let reason = if !user.enabled {
            "disabled"
        } else {
            "wrong_password"
        };
        let settings = self.inner.passwords.settings();
        let mut tx = self.inner.store.begin().await?;
        let counted = tx.record_sign_in_failure(org.id, user.id, now).await?;
        self.security_event(
            &mut *tx,
            org.id,
            crate::sign_in::events::SIGN_IN_FAILED,
            Some(user.id),
            None,
            client,
            json!({ "method": "password", "reason": reason, "failures": counted.count }),
        )
        .await?;
        let locks = counted.count >= settings.lockout_attempts && counted.locked_until.is_none();
        if locks {
            let until = now + time::Duration::minutes(i64::from(settings.lockout_minutes));
            tx.lock_sign_in(org.id, user.id, until).await?;
            let event = self
                .security_event(
                    &mut *tx,
                    org.id,
                    events::SIGN_IN_LOCKED,
                    Some(user.id),
                    None,
                    client,
                    json!({ "failures": counted.count, "locked_until": rfc3339(until) }),
                )
                .await?;
            self.raise_alert(
                &mut *tx,
                org.id,
                alerts::REPEATED_FAILURES,
                "high",
                format!(
                    "`{}` was locked out after {} failed sign-ins in a row",
                    user.user_name, counted.count
                ),
                Some(user.id),
                event,
            )
            .await?;
            tx.commit().await?;
            return Err(ServiceError::Locked(format!(
                "too many failed sign-ins: the account is locked until {}",
                rfc3339(until)
            )));
        }
        tx.commit().await?;
        Err(wrong_credentials())
    }

    async fn record_failure_event(
        &self,
        org: &Organisation,
        user: Option<&User>,
        reason: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.inner.store.begin().await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::SIGN_IN_FAILED,
            user.map(|u| u.id),
            None,
            client,
            json!({ "method": "password", "reason": reason }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Counts an attempt from the client's address (sign-ins, magic links, invitations
    /// accepted, passkey ceremonies begun); 429 once the address has used up its minute.
    pub(crate) fn admit_address(&self, client: &ClientInfo) -> ServiceResult<()> {
        match &client.ip {
            Some(ip) => self
                .inner
                .passwords
                .admit(ip, self.now())
                .map_err(|(retry_after, _)| rate_limited(retry_after)),
            None => Ok(()),
        }
    }

    /// Opens a session for a verified user, ending the others of a user without
    /// multi-session.
    pub(crate) async fn open_session(
        &self,
        org: &Organisation,
        user: &User,
        method: SignInMethod,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let mut tx = self.lookup().await?;
        let context = self
            .session_context(&mut *tx, org.id, user, self.now())
            .await?;
        drop(tx);
        self.open_session_in(org, user, method, client, context, SessionExtras::default())
            .await
    }

    /// What opening a session for `user` needs to know, read in the caller's transaction.
    pub(crate) async fn session_context(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user: &User,
        now: OffsetDateTime,
    ) -> ServiceResult<SessionContext> {
        let earlier = if user.multi_session {
            Vec::new()
        } else {
            tx.live_sessions(org, user.id, now).await?
        };
        let (policy, _) = self
            .effective_security_policy(tx, org, user.id, now)
            .await?;
        let passkeys = Self::passkeys_asked(tx, org, user.id, &policy).await?;
        Ok(SessionContext {
            earlier,
            policy,
            passkeys,
        })
    }

    /// The user's passkeys, counted only when `policy` asks for one (else 0: nobody looks).
    pub(crate) async fn passkeys_asked(
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
        policy: &RoleSecurityPolicy,
    ) -> ServiceResult<u32> {
        Ok(
            if policy.require_passkey || policy.passkey_after_magic_link {
                tx.count_passkeys(org, user).await?
            } else {
                0
            },
        )
    }

    /// Writes a new session (ending the earlier ones of a single-session user) and what
    /// `extras` ask in the same transaction.
    pub(crate) async fn open_session_in(
        &self,
        org: &Organisation,
        user: &User,
        method: SignInMethod,
        client: &ClientInfo,
        context: SessionContext,
        extras: SessionExtras,
    ) -> ServiceResult<SignedIn> {
        let now = self.now();
        let secret = random_secret(SESSION_PREFIX);
        let hours = self.inner.passwords.settings().session_hours;
        let session = Session {
            id: SessionId::from_uuid(self.uuid()),
            org_id: org.id,
            user_id: user.id,
            method,
            token_hash: hash_token(&secret),
            created_at: now,
            last_seen_at: now,
            expires_at: now + time::Duration::hours(i64::from(hours)),
            revoked_at: None,
            ip: client.ip.clone(),
            user_agent: client.user_agent.clone(),
            passkey_verified_at: (method == SignInMethod::Passkey).then_some(now),
        };
        let required_action =
            crate::principal::PendingAction::of(&context.policy, &session, context.passkeys);
        let extras_in = async |tx: &mut dyn Tx| -> ServiceResult<()> {
            if extras.clear_failures {
                tx.clear_sign_in_failures(org.id, user.id).await?;
            }
            // A replay: the caller's transaction is rolled back, the passkey's use with it.
            if let Some(u) = &extras.passkey
                && !tx
                    .use_passkey_finishing(
                        org.id,
                        u.id,
                        u.credential.as_deref(),
                        now,
                        u.ceremony,
                        u.expires_at,
                    )
                    .await?
            {
                return Err(crate::passkeys::replayed());
            }
            Ok(())
        };
        let mut ended = 0u32;
        if context.earlier.is_empty() {
            let mut tx = self.inner.store.begin().await?;
            extras_in(&mut *tx).await?;
            self.write_session(&mut *tx, &session, 0, client).await?;
            tx.commit().await?;
        } else {
            // Ending sessions moves the revision, so that every server forgets them.
            let mut tx = self.begin(org.id).await?;
            extras_in(&mut *tx).await?;
            for s in &context.earlier {
                if tx.revoke_session(org.id, s.id, now).await? {
                    ended += 1;
                    self.security_event(
                        &mut *tx,
                        org.id,
                        events::SESSION_REVOKED,
                        Some(user.id),
                        None,
                        client,
                        json!({ "session_id": s.id, "reason": "single_session" }),
                    )
                    .await?;
                }
            }
            self.write_session(&mut *tx, &session, ended, client)
                .await?;
            tx.commit().await?;
        }
        Ok(SignedIn {
            session_id: session.id,
            token: secret,
            user_id: user.id,
            organisation: org.slug.clone(),
            expires_at: session.expires_at,
            ended_sessions: ended,
            required_action: required_action.map(|a| a.as_str().to_owned()),
        })
    }

    /// Inserts the session with its `sign_in.succeeded` event.
    async fn write_session(
        &self,
        tx: &mut dyn Tx,
        session: &Session,
        ended: u32,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let event = self.new_security_event(
            session.org_id,
            events::SIGN_IN_SUCCEEDED,
            Some(session.user_id),
            None,
            client,
            json!({
                "method": session.method.as_str(),
                "session_id": session.id,
                "ended_sessions": ended,
            }),
        );
        Ok(tx.insert_session_with_event(session, &event).await?)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "a security event has this many parts"
    )]
    pub(crate) async fn security_event(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        kind: &str,
        user: Option<UserId>,
        actor: Option<UserId>,
        client: &ClientInfo,
        detail: serde_json::Value,
    ) -> ServiceResult<SecurityEventId> {
        let event = self.new_security_event(org, kind, user, actor, client, detail);
        tx.insert_security_event(&event).await?;
        Ok(event.id)
    }

    fn new_security_event(
        &self,
        org: OrgId,
        kind: &str,
        user: Option<UserId>,
        actor: Option<UserId>,
        client: &ClientInfo,
        detail: serde_json::Value,
    ) -> SecurityEvent {
        SecurityEvent {
            id: SecurityEventId::from_uuid(self.uuid()),
            org_id: org,
            at: self.now(),
            kind: kind.to_owned(),
            user_id: user,
            actor_id: actor,
            ip: client.ip.clone(),
            detail,
        }
    }

    /// Raises a Security Center alert from the event `event`.
    #[expect(clippy::too_many_arguments, reason = "an alert has this many parts")]
    pub(crate) async fn raise_alert(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        rule: &str,
        severity: &str,
        summary: String,
        user: Option<UserId>,
        event: SecurityEventId,
    ) -> ServiceResult<()> {
        let alert = SecurityAlert {
            id: SecurityAlertId::from_uuid(self.uuid()),
            org_id: org,
            raised_at: self.now(),
            rule: rule.to_owned(),
            severity: severity.to_owned(),
            summary,
            user_id: user,
            event_id: event,
            status: AlertStatus::Open,
            acknowledged_at: None,
            acknowledged_by: None,
            resolved_at: None,
            resolved_by: None,
            note: None,
        };
        tx.insert_security_alert(&alert).await?;
        Ok(())
    }

    /// Moves a session's `last_seen_at`; a failure is logged, never shown to the request
    /// it happened under.
    pub(crate) async fn touch_session(&self, org: OrgId, id: SessionId, at: OffsetDateTime) {
        let touched = async {
            let mut tx = self.inner.store.begin().await?;
            tx.touch_session(org, id, at).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = touched {
            tracing::warn!(error = %e, "could not record a session's last use");
        }
    }

    /// The caller's live sessions.
    pub async fn list_own_sessions(&self, p: &Principal) -> ServiceResult<Vec<SessionView>> {
        self.sessions_of(p, p.user_id).await
    }

    /// A user's live sessions; someone else's need `users.manage` over them.
    pub async fn list_user_sessions(
        &self,
        p: &Principal,
        user: UserId,
    ) -> ServiceResult<Vec<SessionView>> {
        if user != p.user_id {
            let scope = p.require(Permission::UsersManage)?;
            let mut tx = self.read().await?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        }
        self.sessions_of(p, user).await
    }

    async fn sessions_of(&self, p: &Principal, user: UserId) -> ServiceResult<Vec<SessionView>> {
        let mut tx = self.read().await?;
        let sessions = tx.live_sessions(p.org_id, user, self.now()).await?;
        Ok(sessions
            .into_iter()
            .map(|s| SessionView {
                current: p.credential == Credential::Session(s.id),
                session: s,
            })
            .collect())
    }

    /// Ends a session: one's own, or with `users.manage` over its user, anyone's.
    pub async fn revoke_session(
        &self,
        p: &Principal,
        id: SessionId,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let session = tx
            .get_session(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("session", id))?;
        if session.user_id != p.user_id {
            // Someone else's session is as hidden as the user outside one's scope.
            let scope = p
                .require(Permission::UsersManage)
                .map_err(|_| ServiceError::not_found("session", id))?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, session.user_id)
                .await
                .map_err(|_| ServiceError::not_found("session", id))?;
        }
        if session.revoked_at.is_some() {
            return Ok(());
        }
        tx.revoke_session(p.org_id, id, self.now()).await?;
        let by = if session.user_id == p.user_id {
            "self"
        } else {
            "administrator"
        };
        self.security_event(
            &mut *tx,
            p.org_id,
            events::SESSION_REVOKED,
            Some(session.user_id),
            Some(p.user_id),
            client,
            json!({ "session_id": id, "reason": by }),
        )
        .await?;
        tx.commit().await
    }

    /// Ends the session the request came with (signing out).
    pub async fn sign_out(&self, p: &Principal, client: &ClientInfo) -> ServiceResult<()> {
        match p.credential {
            Credential::Session(id) => self.revoke_session(p, id, client).await,
            Credential::Token(_) => Err(ServiceError::conflict(
                "not_a_session",
                "this request came with an API token, not a session; revoke the token instead",
            )),
        }
    }

    async fn user_type_id(
        tx: &mut dyn Tx,
        org: OrgId,
        user: &User,
    ) -> ServiceResult<Option<UserTypeId>> {
        Ok(match &user.user_type {
            Some(code) => tx.get_user_type_by_code(org, code).await?.map(|t| t.id),
            None => None,
        })
    }

    /// [`Self::effective_policy`] for a sign-in, through the sign-in cache: a change to a
    /// password policy or a user type is a write, which moves the engine's revision.
    async fn sign_in_password_policy(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user_type: Option<UserTypeId>,
    ) -> ServiceResult<PasswordPolicy> {
        let revision = self.engine(org).await?.revision();
        let cache = &self.inner.sign_in_cache;
        if let Some(p) = cache.password_policy(org, user_type, revision) {
            return Ok(p);
        }
        let (policy, _) = Self::effective_policy(tx, org, user_type).await?;
        cache.remember_password_policy(org, user_type, revision, &policy);
        Ok(policy)
    }

    async fn effective_policy(
        tx: &mut dyn Tx,
        org: OrgId,
        user_type: Option<UserTypeId>,
    ) -> ServiceResult<(PasswordPolicy, &'static str)> {
        if let Some(t) = user_type
            && let Some(p) = tx.password_policy(org, Some(t)).await?
        {
            return Ok((p, "user_type"));
        }
        Ok(match tx.password_policy(org, None).await? {
            Some(p) => (p, "organisation"),
            None => (PasswordPolicy::default(), "built_in"),
        })
    }

    /// Checks `password` against the user's policy and history, hashes it and stores it.
    pub(crate) async fn store_password(
        &self,
        tx: &mut dyn Tx,
        org: &Organisation,
        user: &User,
        field: &str,
        password: &str,
    ) -> ServiceResult<()> {
        let type_id = Self::user_type_id(tx, org.id, user).await?;
        let (policy, _) = Self::effective_policy(tx, org.id, type_id).await?;
        policy.check(field, password).finish()?;
        let history = tx.password_history(org.id, user.id, policy.history).await?;
        let passwords = std::sync::Arc::clone(&self.inner.passwords);
        let candidate = password.to_owned();
        let (reused, hash) = tokio::task::spawn_blocking(move || {
            let reused = history
                .iter()
                .any(|h| passwords.verify(&candidate, Some(h)));
            (reused, passwords.hash(&candidate))
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("password hashing failed: {e}")))?;
        if reused {
            return Err(ServiceError::invalid(
                field,
                "history",
                format!(
                    "the password was used recently: choose one that differs from the last {}",
                    policy.history
                ),
            ));
        }
        tx.set_password(org.id, user.id, &hash?, self.now(), policy.history)
            .await?;
        Ok(())
    }

    /// Changes the caller's own password, proven by the current one.
    pub async fn change_own_password(
        &self,
        p: &Principal,
        req: &ChangePassword,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let (org, user) = self
            .check_password(
                Some(&p.org_slug),
                &p.user_name,
                &req.current_password,
                client,
            )
            .await
            .map_err(|e| match e {
                ServiceError::Unauthenticated(_) => ServiceError::invalid(
                    "current_password",
                    "matches",
                    "the current password is wrong",
                ),
                other => other,
            })?;
        self.replace_password(&org, &user, &req.new_password, client)
            .await
    }

    /// Changes an expired (or any) password without a session, proven by the current one.
    pub async fn change_expired_password(
        &self,
        req: &ExpiredPasswordChange,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let (org, user) = self
            .check_password(
                req.organisation.as_deref(),
                &req.user_name,
                &req.current_password,
                client,
            )
            .await?;
        self.replace_password(&org, &user, &req.new_password, client)
            .await
    }

    async fn replace_password(
        &self,
        org: &Organisation,
        user: &User,
        new_password: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.inner.store.begin().await?;
        self.store_password(&mut *tx, org, user, "new_password", new_password)
            .await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::PASSWORD_CHANGED,
            Some(user.id),
            Some(user.id),
            client,
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets another user's password (a reset). Needs `users.manage` over the user and,
    /// because whoever knows the password can act as the user, every permission the user
    /// holds. Ends the user's sessions.
    pub async fn set_password(
        &self,
        p: &Principal,
        user: UserId,
        req: &SetPassword,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let target = Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        self.may_act_as(p, &target)?;
        let org = tx.get_org(p.org_id).await?.ok_or_else(|| {
            ServiceError::Internal("the caller's organisation is gone".to_owned())
        })?;
        self.store_password(&mut *tx, &org, &target, "password", &req.password)
            .await?;
        let now = self.now();
        let mut ended = 0;
        for s in tx.live_sessions(p.org_id, user, now).await? {
            if tx.revoke_session(p.org_id, s.id, now).await? {
                ended += 1;
            }
        }
        tx.clear_sign_in_failures(p.org_id, user).await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::PASSWORD_RESET,
            Some(user),
            Some(p.user_id),
            client,
            json!({ "ended_sessions": ended }),
        )
        .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "user.password_reset",
            "user",
            user,
            None::<&()>,
            None::<&()>,
        )
        .await?;
        tx.commit().await
    }

    /// The policy for a user type (`None`: the organisation's default) and its source.
    pub async fn password_policy(
        &self,
        p: &Principal,
        user_type: Option<UserTypeId>,
    ) -> ServiceResult<PasswordPolicyView> {
        let mut tx = self.read().await?;
        if let Some(t) = user_type {
            Self::require_user_type(&mut *tx, p.org_id, t).await?;
        }
        let (policy, source) = Self::effective_policy(&mut *tx, p.org_id, user_type).await?;
        Ok(PasswordPolicyView {
            policy,
            source: source.to_owned(),
        })
    }

    /// Sets the policy of a user type (`None`: the organisation's default). Needs
    /// `org.settings`. A weaker policy than before raises a flag in its security event.
    pub async fn put_password_policy(
        &self,
        p: &Principal,
        user_type: Option<UserTypeId>,
        policy: PasswordPolicy,
        client: &ClientInfo,
    ) -> ServiceResult<PasswordPolicyView> {
        p.require(Permission::OrgSettings)?;
        policy.validate()?;
        let mut tx = self.begin(p.org_id).await?;
        if let Some(t) = user_type {
            Self::require_user_type(&mut *tx, p.org_id, t).await?;
        }
        let (before, _) = Self::effective_policy(&mut *tx, p.org_id, user_type).await?;
        tx.put_password_policy(&StoredPasswordPolicy {
            org_id: p.org_id,
            user_type_id: user_type,
            policy: policy.clone(),
        })
        .await?;
        let weakened = before.weakened_by(&policy);
        let event = self
            .security_event(
                &mut *tx,
                p.org_id,
                events::PASSWORD_POLICY_CHANGED,
                None,
                Some(p.user_id),
                client,
                json!({
                    "user_type_id": user_type,
                    "before": before,
                    "after": policy,
                    "weakened": weakened,
                }),
            )
            .await?;
        if weakened {
            let of = match user_type {
                Some(t) => match tx.get_user_type(p.org_id, t).await? {
                    Some(t) => format!("user type `{}`", t.code),
                    None => "a user type".to_owned(),
                },
                None => "the organisation".to_owned(),
            };
            self.raise_alert(
                &mut *tx,
                p.org_id,
                alerts::POLICY_WEAKENED,
                "medium",
                format!("`{}` weakened the password policy of {of}", p.user_name),
                None,
                event,
            )
            .await?;
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "password_policy.update",
            "password_policy",
            user_type.map_or_else(|| "organisation".to_owned(), |t| t.to_string()),
            Some(&before),
            Some(&policy),
        )
        .await?;
        tx.commit().await?;
        Ok(PasswordPolicyView {
            policy,
            source: if user_type.is_some() {
                "user_type"
            } else {
                "organisation"
            }
            .to_owned(),
        })
    }

    async fn require_user_type(tx: &mut dyn Tx, org: OrgId, id: UserTypeId) -> ServiceResult<()> {
        match tx.get_user_type(org, id).await? {
            Some(_) => Ok(()),
            None => Err(ServiceError::not_found("user type", id)),
        }
    }

    /// The Security Center's events, newest first unless `order=asc`. Needs
    /// `security.view` everywhere.
    pub async fn list_security_events(
        &self,
        p: &Principal,
        f: &SecurityEventFilter,
    ) -> ServiceResult<ListResponse<SecurityEvent>> {
        require_security_center(p)?;
        let paging = f.list.paging()?;
        let query = SecurityEventQuery {
            limit: paging.limit,
            after: paging.after.map(|a| a.id),
            descending: f.list.order.as_deref() != Some("asc"),
            kind: f.kind.clone().filter(|k| !k.is_empty()),
            user: f.user_id,
            from: f.from,
            to: f.to,
        };
        let mut tx = self.read().await?;
        let page = tx.list_security_events(p.org_id, &query).await?;
        Ok(crate::list::respond(page, |e: &SecurityEvent| {
            latchkey_store::After {
                key: latchkey_store::SortValue::None,
                id: e.id.as_uuid(),
            }
        }))
    }

    /// The Security Center's alerts, newest first unless `order=asc`. Needs
    /// `security.view` everywhere.
    pub async fn list_security_alerts(
        &self,
        p: &Principal,
        f: &SecurityAlertFilter,
    ) -> ServiceResult<ListResponse<SecurityAlert>> {
        require_security_center(p)?;
        let paging = f.list.paging()?;
        let status = match f.status.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s) => Some(AlertStatus::parse(s).ok_or_else(|| {
                ServiceError::invalid(
                    "status",
                    "one_of",
                    format!("`status` is `open`, `acknowledged` or `resolved`, not `{s}`"),
                )
            })?),
        };
        let query = SecurityAlertQuery {
            limit: paging.limit,
            after: paging.after.map(|a| a.id),
            descending: f.list.order.as_deref() != Some("asc"),
            status,
            rule: f.rule.clone().filter(|r| !r.is_empty()),
            user: f.user_id,
        };
        let mut tx = self.read().await?;
        let page = tx.list_security_alerts(p.org_id, &query).await?;
        Ok(crate::list::respond(page, |a: &SecurityAlert| {
            latchkey_store::After {
                key: latchkey_store::SortValue::None,
                id: a.id.as_uuid(),
            }
        }))
    }

    /// Marks an open alert as seen. Needs `security.view` everywhere.
    pub async fn acknowledge_alert(
        &self,
        p: &Principal,
        id: SecurityAlertId,
        req: &AlertAction,
        client: &ClientInfo,
    ) -> ServiceResult<SecurityAlert> {
        self.move_alert(p, id, req, client, AlertStatus::Acknowledged)
            .await
    }

    /// Closes an open or acknowledged alert. Needs `security.view` everywhere.
    pub async fn resolve_alert(
        &self,
        p: &Principal,
        id: SecurityAlertId,
        req: &AlertAction,
        client: &ClientInfo,
    ) -> ServiceResult<SecurityAlert> {
        self.move_alert(p, id, req, client, AlertStatus::Resolved)
            .await
    }

    async fn move_alert(
        &self,
        p: &Principal,
        id: SecurityAlertId,
        req: &AlertAction,
        client: &ClientInfo,
        to: AlertStatus,
    ) -> ServiceResult<SecurityAlert> {
        require_security_center(p)?;
        let note = req
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        if note.as_ref().is_some_and(|n| n.chars().count() > 2000) {
            return Err(ServiceError::invalid(
                "note",
                "max_length",
                "`note` has at most 2,000 characters",
            ));
        }
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_security_alert(p.org_id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("security alert", id))?;
        let allowed = matches!(
            (before.status, to),
            (AlertStatus::Open, _) | (AlertStatus::Acknowledged, AlertStatus::Resolved)
        );
        if !allowed {
            return Err(ServiceError::conflict(
                "alert_status",
                format!(
                    "the alert is {}: it cannot be {} now",
                    before.status.as_str(),
                    to.as_str()
                ),
            ));
        }
        let now = self.now();
        let mut alert = before.clone();
        alert.status = to;
        if note.is_some() {
            alert.note = note;
        }
        let (kind, action) = match to {
            AlertStatus::Resolved => {
                alert.resolved_at = Some(now);
                alert.resolved_by = Some(p.user_id);
                (events::ALERT_RESOLVED, "security_alert.resolve")
            }
            _ => {
                alert.acknowledged_at = Some(now);
                alert.acknowledged_by = Some(p.user_id);
                (events::ALERT_ACKNOWLEDGED, "security_alert.acknowledge")
            }
        };
        tx.update_security_alert(&alert).await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            kind,
            alert.user_id,
            Some(p.user_id),
            client,
            json!({ "alert_id": alert.id, "rule": alert.rule }),
        )
        .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            action,
            "security_alert",
            alert.id,
            Some(&before),
            Some(&alert),
        )
        .await?;
        tx.commit().await?;
        Ok(alert)
    }
}

/// Role security policies: what holding a role asks of sign-ins, and the strictest
/// combination a user's roles ask.
impl Services {
    /// A role's policy (all off when none was set). Needs `systems.view` over its system.
    pub async fn role_security_policy(
        &self,
        p: &Principal,
        role: latchkey_model::RoleId,
    ) -> ServiceResult<RoleSecurityPolicy> {
        let scope = p.require(Permission::SystemsView)?;
        let mut tx = self.read().await?;
        Self::role_in_scope(&mut *tx, p.org_id, &scope, role).await?;
        Ok(tx
            .role_security_policies(p.org_id)
            .await?
            .into_iter()
            .find(|s| s.role_id == role)
            .map(|s| s.policy)
            .unwrap_or_default())
    }

    /// Sets a role's policy (system roles included). Needs `roles.manage` over its system.
    /// It applies to live sessions at their next request; a loosened policy raises an
    /// alert.
    pub async fn put_role_security_policy(
        &self,
        p: &Principal,
        role: latchkey_model::RoleId,
        policy: RoleSecurityPolicy,
        client: &ClientInfo,
    ) -> ServiceResult<RoleSecurityPolicy> {
        let scope = p.require(Permission::RolesManage)?;
        policy.validate()?;
        // A write moves the revision: every server drops its cached sessions and applies
        // the new policy at their next request.
        let mut tx = self.begin(p.org_id).await?;
        let r = Self::role_in_scope(&mut *tx, p.org_id, &scope, role).await?;
        let before = tx
            .role_security_policies(p.org_id)
            .await?
            .into_iter()
            .find(|s| s.role_id == role)
            .map(|s| s.policy)
            .unwrap_or_default();
        tx.put_role_security_policy(&StoredRoleSecurityPolicy {
            org_id: p.org_id,
            role_id: role,
            policy,
        })
        .await?;
        let weakened = before.strictest(policy) != policy;
        let event = self
            .security_event(
                &mut *tx,
                p.org_id,
                events::ROLE_POLICY_CHANGED,
                None,
                Some(p.user_id),
                client,
                json!({
                    "role_id": role,
                    "role": r.name,
                    "before": before,
                    "after": policy,
                    "weakened": weakened,
                }),
            )
            .await?;
        if weakened {
            self.raise_alert(
                &mut *tx,
                p.org_id,
                alerts::POLICY_WEAKENED,
                "medium",
                format!(
                    "`{}` weakened the security policy of role `{}`",
                    p.user_name, r.name
                ),
                None,
                event,
            )
            .await?;
        }
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "role.security_policy",
            "role",
            role,
            Some(&before),
            Some(&policy),
        )
        .await?;
        tx.commit().await?;
        Ok(policy)
    }

    /// The strictest combination of the policies of every role `user` holds at `at`, and
    /// those roles.
    pub(crate) async fn effective_security_policy(
        &self,
        tx: &mut dyn Tx,
        org: OrgId,
        user: UserId,
        at: OffsetDateTime,
    ) -> ServiceResult<(RoleSecurityPolicy, Vec<latchkey_model::RoleId>)> {
        let engine = self.engine(org).await?;
        // The revision first: the policies read after it are at least that recent.
        let revision = engine.revision();
        let cache = &self.inner.sign_in_cache;
        let policies = match cache.policies(org, revision) {
            Some(p) => p,
            None => {
                let p = std::sync::Arc::new(tx.role_security_policies(org).await?);
                cache.remember_policies(org, revision, std::sync::Arc::clone(&p));
                p
            }
        };
        if policies.is_empty() {
            return Ok((RoleSecurityPolicy::default(), Vec::new()));
        }
        let held: std::collections::HashSet<latchkey_model::RoleId> = engine
            .read()
            .engine
            .effective_roles(user, at)
            .into_iter()
            .map(|r| r.role)
            .collect();
        let mut combined = RoleSecurityPolicy::default();
        let mut from = Vec::new();
        for s in policies.iter().filter(|s| held.contains(&s.role_id)) {
            combined = combined.strictest(s.policy);
            from.push(s.role_id);
        }
        from.sort_unstable();
        Ok((combined, from))
    }

    /// What the caller's roles ask of their sign-ins.
    pub async fn my_security_policy(
        &self,
        p: &Principal,
    ) -> ServiceResult<EffectiveSecurityPolicy> {
        let mut tx = self.read().await?;
        let (policy, roles) = self
            .effective_security_policy(&mut *tx, p.org_id, p.user_id, self.now())
            .await?;
        Ok(EffectiveSecurityPolicy { policy, roles })
    }

    /// Ends a session idle for longer than `minutes` (its user's roles' timeout); `true`
    /// when it did.
    pub(crate) async fn end_if_idle(
        &self,
        session: &Session,
        minutes: u32,
        now: OffsetDateTime,
    ) -> ServiceResult<bool> {
        let idle = now - session.last_seen_at;
        if idle <= time::Duration::minutes(i64::from(minutes)) {
            return Ok(false);
        }
        let mut tx = self.begin(session.org_id).await?;
        if tx.revoke_session(session.org_id, session.id, now).await? {
            self.security_event(
                &mut *tx,
                session.org_id,
                events::SESSION_REVOKED,
                Some(session.user_id),
                None,
                &ClientInfo::default(),
                json!({
                    "session_id": session.id,
                    "reason": "idle_timeout",
                    "idle_timeout_minutes": minutes,
                }),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// The prefix of a magic link's secret.
pub const MAGIC_LINK_PREFIX: &str = "lkm_";
/// How long a magic link stays valid.
const MAGIC_LINK_MINUTES: i64 = 15;

/// Magic links: a single-use link, valid fifteen minutes, mailed to a user's address.
impl Services {
    /// Mails a sign-in link to the user with this address, if there is one. Answers the
    /// same whatever the address, so that nobody learns who has an account.
    pub async fn request_magic_link(
        &self,
        req: &latchkey_api::MagicLinkRequest,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let now = self.now();
        self.admit_address(client)?;
        let email = latchkey_model::Email::parse("email", &req.email)?;
        let email = email.as_str();
        let mut tx = self.lookup().await?;
        let org = self
            .sign_in_org(&mut *tx, req.organisation.as_deref())
            .await?;
        let Some(org) = org else {
            return Ok(());
        };
        let Some(user) = tx.get_user_by_email(org.id, email).await? else {
            return Ok(());
        };
        drop(tx);
        if !user.enabled {
            return Ok(());
        }
        let secret = random_secret(MAGIC_LINK_PREFIX);
        let link = latchkey_model::MagicLink {
            id: latchkey_model::MagicLinkId::from_uuid(self.uuid()),
            org_id: org.id,
            user_id: user.id,
            token_hash: hash_token(&secret),
            created_at: now,
            expires_at: now + time::Duration::minutes(MAGIC_LINK_MINUTES),
            used_at: None,
            ip: client.ip.clone(),
        };
        let mut tx = self.inner.store.begin().await?;
        tx.insert_magic_link(&link).await?;
        self.security_event(
            &mut *tx,
            org.id,
            events::MAGIC_LINK_SENT,
            Some(user.id),
            None,
            client,
            json!({ "link_id": link.id, "expires_at": rfc3339(link.expires_at) }),
        )
        .await?;
        tx.commit().await?;
        let settings = self.mail_settings();
        let url = format!(
            "{}/auth/magic-link?token={secret}",
            settings.public_url.trim_end_matches('/')
        );
        let mail = crate::mail::Mail {
            // The address on record, not as typed: a mailbox's local part may be
            // case-sensitive.
            to: user.email.clone().unwrap_or_else(|| email.to_owned()),
            subject: format!("Sign in to {}", org.name),
            text: format!(
                "Hello {},\n\nOpen this link within {MAGIC_LINK_MINUTES} minutes to sign in to {}:\n\n{url}\n\nIt works once. If you did not ask for it, ignore this mail.\n",
                user.first_name, org.name
            ),
        };
        // Whatever happens to the mail, the answer stays the same: it must not tell
        // whether the address exists.
        self.send_mail(settings, mail, "magic link").await;
        Ok(())
    }

    /// Signs in with a magic link's secret; the link works once, for fifteen minutes.
    pub async fn sign_in_magic_link(
        &self,
        secret: &str,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let invalid = || {
            ServiceError::Unauthenticated(
                "the sign-in link is invalid, expired or already used; ask for a new one"
                    .to_owned(),
            )
        };
        if !secret.starts_with(MAGIC_LINK_PREFIX) || secret.len() > 200 {
            return Err(invalid());
        }
        let now = self.now();
        let mut tx = self.read().await?;
        let link = tx
            .find_magic_link_by_hash(&hash_token(secret))
            .await?
            .ok_or_else(invalid)?;
        let org = tx.get_org(link.org_id).await?.ok_or_else(invalid)?;
        let user = tx
            .get_user(link.org_id, link.user_id)
            .await?
            .ok_or_else(invalid)?;
        drop(tx);
        let reason = if link.used_at.is_some() {
            Some("magic_link_used")
        } else if link.expires_at <= now {
            Some("magic_link_expired")
        } else if !user.enabled {
            Some("disabled")
        } else {
            None
        };
        let mut tx = self.inner.store.begin().await?;
        let used = reason.is_none() && tx.use_magic_link(org.id, link.id, now).await?;
        if !used {
            self.security_event(
                &mut *tx,
                org.id,
                events::SIGN_IN_FAILED,
                Some(user.id),
                None,
                client,
                json!({
                    "method": "magic_link",
                    "reason": reason.unwrap_or("magic_link_used"),
                    "link_id": link.id,
                }),
            )
            .await?;
            tx.commit().await?;
            return Err(invalid());
        }
        self.security_event(
            &mut *tx,
            org.id,
            events::MAGIC_LINK_USED,
            Some(user.id),
            None,
            client,
            json!({ "link_id": link.id }),
        )
        .await?;
        tx.commit().await?;
        self.open_session(&org, &user, SignInMethod::MagicLink, client)
            .await
    }
}
