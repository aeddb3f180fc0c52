//! Use cases. Each public function authorises the caller, validates its input, consults
//! the engine where a rule needs the entitlement graph, writes through the store in one
//! transaction together with its audit entry and revision bump, and returns typed errors.
//! REST handlers, the CLI (through REST) and later the console all call these functions,
//! so authorisation lives here and only here.

mod access;
mod approvals;
mod assertion;
mod audit;
mod bootstrap;
mod bulk;
mod bulk_fast;
mod check;
mod engines;
mod error;
mod grants;
mod groups;
mod history;
mod import;
mod invitations;
mod list;
pub mod mail;
mod metadata;
mod pages;
mod passkeys;
mod preview;
mod principal;
mod reviews;
mod revision;
mod roles;
mod rules;
mod schedule;
mod secrets;
mod security_charts;
mod sign_in;
mod sign_in_cache;
mod sod;
mod systems;
mod tokens;
mod totp;
mod users;
mod validate;
mod workspaces;

use std::sync::Arc;

use latchkey_model::{Clock, IdGenerator, NewAuditEntry, OrgId};
use latchkey_store::{Store, Tx};
use serde::Serialize;
use time::OffsetDateTime;

pub use approvals::{ApprovalFilter, ApprovalNames, MAX_COMMENT};
pub use bootstrap::{BOOTSTRAP_LINK_HOURS, Bootstrapped};
pub use bulk::{BULK_BATCH, MAX_LINE};
pub use check::MAX_BATCH;
pub use engines::{OrgEngine, OrgState};
pub use error::{ServiceError, ServiceResult};
pub use history::{DEFAULT_MEMBERS_LIMIT, MAX_MEMBERS_LIMIT};
pub use import::ImportKind;
pub use list::{
    AuditFilter, GrantFilter, GroupFilter, ListParams, MAX_LIMIT, MembershipFilter, RoleFilter,
    SecurityAlertFilter, SecurityEventFilter, SystemFilter, UserFilter,
};
pub use pages::{
    GRANTED_OF_MAX, GrantThen, GroupGrantsThen, GroupManager, GroupManagers, HOLDERS_PAGE_MAX,
    HolderPage, HolderRow,
};
pub use passkeys::PasskeySettings;
pub use principal::{Credential, PendingAction, Principal, Scope};
pub use reviews::{AccessReviewFilter, ReviewItemFilter};
pub use revision::{MAX_REVISION_WAIT, observe_revisions};
pub use rules::{DEFAULT_PREVIEW_LIMIT, RULE_PAGE};
pub use secrets::{MasterKey, SecretsError};
pub use security_charts::{CHART_DAYS, CHART_ROLES, DaySignIns, RoleHolderCount, SecurityCharts};
pub use sign_in::{
    ClientInfo, MAGIC_LINK_PREFIX, SESSION_PREFIX, SignInSettings, events as security_events,
};
pub use sod::{PREVIEW_LIMIT, SOD_ALERT, SodRuleFilter};
pub use tokens::{csrf_token, hash_token, random_secret, seal};
pub use workspaces::{DocumentFilter, WORKSPACE_INVITATION_PREFIX, WORKSPACE_KEY_PREFIX};

/// The use cases over one store.
#[derive(Clone)]
pub struct Services {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    engines: engines::EngineCache,
    auth_cache: tokens::AuthCache,
    sign_in_cache: sign_in_cache::SignInCache,
    passwords: Arc<sign_in::Passwords>,
    /// Set once by `use_mailer`; without it mails cannot be sent.
    mail: std::sync::OnceLock<MailSettings>,
    /// Set once by `use_passkeys`, else the development relying party (`localhost`).
    webauthn: std::sync::OnceLock<passkeys::PasskeyParty>,
    /// Set once by `use_master_key`; without it no secret can be sealed or opened.
    master_key: std::sync::OnceLock<secrets::MasterKey>,
    /// Seals passkey ceremonies when no master key is set (one process only).
    ephemeral_key: std::sync::OnceLock<secrets::MasterKey>,
}

/// Where mails go, who they are from and the address links in them start with.
#[derive(Clone)]
pub struct MailSettings {
    pub mailer: Arc<dyn mail::Mailer>,
    pub from: String,
    /// The server's public base URL, e.g. `https://iam.example.com`.
    pub public_url: String,
}

impl Services {
    /// Services with the default sign-in settings.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, ids: Arc<dyn IdGenerator>) -> Self {
        let passwords = sign_in::Passwords::new(SignInSettings::default())
            .unwrap_or_else(|e| unreachable!("the default sign-in settings are valid: {e}"));
        Self::assemble(store, clock, ids, passwords)
    }

    /// Services with `settings`; `Err` names what is wrong with them.
    pub fn with_sign_in(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        settings: SignInSettings,
    ) -> Result<Self, String> {
        Ok(Self::assemble(
            store,
            clock,
            ids,
            sign_in::Passwords::new(settings)?,
        ))
    }

    fn assemble(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdGenerator>,
        passwords: sign_in::Passwords,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                ids,
                engines: engines::EngineCache::default(),
                auth_cache: tokens::AuthCache::default(),
                sign_in_cache: sign_in_cache::SignInCache::default(),
                passwords: Arc::new(passwords),
                mail: std::sync::OnceLock::new(),
                webauthn: std::sync::OnceLock::new(),
                master_key: std::sync::OnceLock::new(),
                ephemeral_key: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Sets how mail is sent; only the first call counts.
    pub fn use_mailer(&self, settings: MailSettings) {
        let _ = self.inner.mail.set(settings);
    }

    /// Sets the key secrets at rest are sealed under; only the first call counts.
    pub fn use_master_key(&self, key: MasterKey) {
        let _ = self.inner.master_key.set(key);
    }

    /// Sends `mail` (a `what`, for the log) off the runtime's threads; the outcome is
    /// logged, never answered: a request's answer must not depend on the mail server.
    pub(crate) async fn send_mail(&self, settings: MailSettings, mail: mail::Mail, what: &str) {
        let id = self.uuid();
        let sent =
            tokio::task::spawn_blocking(move || settings.mailer.send(&settings.from, &mail, id))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r);
        match sent {
            Ok(to) => tracing::info!(mail = %id, to = %to, what, "mail sent"),
            Err(e) => tracing::error!(mail = %id, error = %e, what, "mail not sent"),
        }
    }

    pub(crate) fn mail_settings(&self) -> MailSettings {
        self.inner
            .mail
            .get()
            .cloned()
            .unwrap_or_else(|| MailSettings {
                mailer: Arc::new(mail::NoMailer),
                from: "latchkey@localhost".to_owned(),
                public_url: "http://localhost".to_owned(),
            })
    }

    pub fn store(&self) -> &dyn Store {
        &*self.inner.store
    }

    pub fn now(&self) -> OffsetDateTime {
        // Microsecond precision: what the store keeps, so values read back compare equal.
        let now = self.inner.clock.now();
        let micros = now.nanosecond() / 1_000 * 1_000;
        now.replace_nanosecond(micros).unwrap_or(now)
    }

    fn uuid(&self) -> uuid::Uuid {
        self.inner.ids.new_uuid()
    }

    /// The organisation's engine at its current revision.
    pub async fn engine(&self, org: OrgId) -> ServiceResult<Arc<OrgEngine>> {
        let engine = self
            .inner
            .engines
            .get(&*self.inner.store, org, self.now())
            .await?;
        revision::saw(engine.revision());
        Ok(engine)
    }

    /// Brings the organisation's live engine up to the store (the change log).
    /// The organisation's engine with every user's facts loaded (what rule expressions
    /// read), current.
    pub(crate) async fn user_facts(&self, org: OrgId) -> ServiceResult<Arc<OrgEngine>> {
        self.inner
            .engines
            .user_facts(&*self.inner.store, org, self.now())
            .await
    }

    /// `catch_up`, taking the grants `grants` says the write at `revision` made as written
    /// rather than reading them back (see `EngineCache::catch_up_knowing`).
    pub(crate) async fn catch_up_knowing(
        &self,
        org: OrgId,
        revision: i64,
        grants: std::collections::HashMap<uuid::Uuid, Option<latchkey_model::Grant>>,
    ) -> ServiceResult<()> {
        let known = engines::Known { revision, grants };
        self.inner
            .engines
            .catch_up_knowing(&*self.inner.store, org, self.now(), &known)
            .await
    }

    pub async fn catch_up(&self, org: OrgId) -> ServiceResult<()> {
        self.inner
            .engines
            .catch_up(&*self.inner.store, org, self.now())
            .await
    }

    /// Keeps every live engine current with writes of other processes: woken by the
    /// store's change feed where it has one (PostgreSQL), and polling every `poll` in case
    /// a notification was lost; also moves caches past window boundaries. Runs until the
    /// returned task is aborted.
    pub fn spawn_sync(&self, poll: std::time::Duration) -> tokio::task::JoinHandle<()> {
        let services = self.clone();
        tokio::spawn(async move {
            let mut feed = None;
            let mut ticker = tokio::time::interval(poll);
            loop {
                if feed.is_none() {
                    match services.inner.store.change_feed().await {
                        Ok(f) => feed = f.map(Some),
                        Err(e) => tracing::warn!(error = %e, "change feed unavailable; polling"),
                    }
                }
                let woke = match feed.as_mut().and_then(|f| f.as_mut()) {
                    Some(f) => tokio::select! {
                        next = f.next() => Some(next),
                        _ = ticker.tick() => None,
                    },
                    None => {
                        ticker.tick().await;
                        None
                    }
                };
                match woke {
                    Some(Ok((org, _revision))) => {
                        if let Err(e) = services.catch_up(org).await {
                            tracing::warn!(error = %e, %org, "catching up failed");
                        }
                    }
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "change feed lost; reconnecting");
                        feed = None;
                    }
                    None => {
                        for org in services.inner.engines.organisations() {
                            if let Err(e) = services.catch_up(org).await {
                                tracing::warn!(error = %e, %org, "catching up failed");
                            }
                        }
                        services.inner.engines.advance_all(services.now());
                        if let Err(e) = services.run_schedule().await {
                            tracing::warn!(error = %e, "the scheduler failed; it retries on the next tick");
                        }
                    }
                }
            }
        })
    }

    /// Starts a write in `org`: a transaction whose first statement bumps the revision
    /// (serialising writers of the organisation). Its `commit` brings the engine up to
    /// date before returning, so the writer's next read sees the write.
    async fn begin(&self, org: OrgId) -> ServiceResult<WriteTx<'_>> {
        let mut tx = self.inner.store.begin().await?;
        let revision = tx.bump_revision(org, self.now()).await?;
        // Seen only once committed; a failed write answers an error anyway.
        revision::saw(revision);
        Ok(WriteTx {
            tx,
            services: self,
            org,
            revision,
        })
    }

    async fn read(&self) -> ServiceResult<Box<dyn Tx>> {
        Ok(self.inner.store.read().await?)
    }

    /// Reads that need no snapshot (see `Store::lookup`).
    async fn lookup(&self) -> ServiceResult<Box<dyn Tx>> {
        Ok(self.inner.store.lookup().await?)
    }

    /// Records a change in the same transaction as the change itself.
    #[expect(
        clippy::too_many_arguments,
        reason = "an audit entry has this many parts"
    )]
    async fn audit<B: Serialize + Sync, A: Serialize + Sync>(
        &self,
        tx: &mut dyn Tx,
        p: Option<&Principal>,
        org: OrgId,
        action: &str,
        object_type: &str,
        object_id: impl ToString,
        before: Option<&B>,
        after: Option<&A>,
    ) -> ServiceResult<()> {
        let to_json = |v: &dyn erased::Ser| v.to_json();
        let entry = self.audit_entry(
            p,
            org,
            action,
            object_type,
            object_id,
            before.map(|b| to_json(b)),
            after.map(|a| to_json(a)),
        );
        tx.append_audit(&entry).await?;
        Ok(())
    }

    /// An audit entry stamped now, with the principal's id and request id; `audit` appends
    /// one, bulk loads collect them and append them together.
    #[expect(
        clippy::too_many_arguments,
        reason = "an audit entry has this many parts"
    )]
    fn audit_entry(
        &self,
        p: Option<&Principal>,
        org: OrgId,
        action: &str,
        object_type: &str,
        object_id: impl ToString,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            id: latchkey_model::AuditId::from_uuid(self.uuid()),
            org_id: org,
            at: self.now(),
            actor_id: p.map(|p| p.user_id),
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id: object_id.to_string(),
            before,
            after,
            request_id: p.and_then(|p| p.request_id.clone()),
        }
    }
}

/// A write transaction of one organisation. It reads as a `Tx`; `commit` also catches the
/// organisation's engine up.
pub(crate) struct WriteTx<'a> {
    tx: Box<dyn Tx>,
    services: &'a Services,
    org: OrgId,
    /// The revision this transaction commits as; every earlier one is committed (the
    /// organisation's revision is bumped under its write lock).
    revision: i64,
}

impl WriteTx<'_> {
    pub(crate) fn revision(&self) -> i64 {
        self.revision
    }

    pub(crate) async fn commit(self) -> ServiceResult<()> {
        self.commit_knowing(std::collections::HashMap::new()).await
    }

    /// `commit`, catching the engine up with the grants `grants` says this transaction
    /// wrote taken as written rather than read back.
    pub(crate) async fn commit_knowing(
        self,
        grants: std::collections::HashMap<uuid::Uuid, Option<latchkey_model::Grant>>,
    ) -> ServiceResult<()> {
        self.tx.commit().await?;
        self.services
            .catch_up_knowing(self.org, self.revision, grants)
            .await
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = dyn Tx;
    fn deref(&self) -> &Self::Target {
        &*self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut *self.tx
    }
}

mod erased {
    //! Lets `audit` take any serialisable before/after without naming their types twice.
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }

    impl<T: serde::Serialize> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

/// Checks `If-Match` against the stored version.
fn check_version(expected: Option<i64>, actual: i64, what: &str) -> ServiceResult<()> {
    match expected {
        Some(v) if v != actual => Err(ServiceError::PreconditionFailed(format!(
            "the {what} changed since it was read (version {v}, now {actual}); read it again and retry"
        ))),
        _ => Ok(()),
    }
}
