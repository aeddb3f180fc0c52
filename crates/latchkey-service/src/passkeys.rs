//! Passkeys (WebAuthn, through webauthn-rs): registering several per user, naming, listing
//! and removing them, signing in with one (by user name, or discoverable: the authenticator
//! names the user), and proving one within a session when a role policy asks for it after
//! a magic-link sign-in. webauthn-rs registers passkeys and writes a sign-in's options;
//! `assertion` checks the answers.
//!
//! A ceremony's server half travels to the client sealed (XChaCha20-Poly1305 under the
//! master key) and comes back with the answer, valid five minutes: beginning writes
//! nothing, and any replica sharing the key can finish what another began. Finishing
//! records the ceremony's id in the same transaction as its effect, so each is finished
//! once and an assertion cannot be replayed. The user handle of every passkey is the
//! user's id.

use base64::Engine as _;
use latchkey_api::{
    BeginPasskeySignIn, FinishPasskeyAssertion, FinishPasskeyRegistration, PasskeyChallenge,
    SignedIn,
};
use latchkey_model::{
    Ceremony, CeremonyId, CeremonyPurpose, Name, OrgId, Organisation, PasskeyId, PasskeyRecord,
    Permission, SignInMethod, User, UserId,
};
use serde_json::json;
use webauthn_rs::prelude::{
    Passkey, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Webauthn, WebauthnBuilder,
};

use crate::assertion::{self, RelyingParty};
use crate::sign_in::{ClientInfo, events};
use crate::{Credential, Principal, ServiceError, ServiceResult, Services};

/// How long a ceremony may take, from options to answer.
const CEREMONY_MINUTES: i64 = 5;
/// The prefix of a sealed ceremony.
const CEREMONY_PREFIX: &str = "lkc_";
/// What a sealed ceremony is, bound into its seal.
const CEREMONY_AAD: &[u8] = b"latchkey webauthn ceremony";

/// The relying party passkeys are bound to: its id (a host name, `localhost` in
/// development) and the origins browsers may use it from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeySettings {
    pub rp_id: String,
    pub origins: Vec<String>,
}

impl Default for PasskeySettings {
    fn default() -> Self {
        Self {
            rp_id: "localhost".to_owned(),
            origins: vec!["http://localhost:8080".to_owned()],
        }
    }
}

impl PasskeySettings {
    /// `Err` naming what is wrong with the settings.
    pub fn build_check(&self) -> Result<(), String> {
        self.build().map(drop)
    }

    pub(crate) fn build(&self) -> Result<PasskeyParty, String> {
        let origins = self
            .origins
            .iter()
            .map(|o| Url::parse(o).map_err(|e| format!("invalid passkey origin `{o}`: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let (first, rest) = origins
            .split_first()
            .ok_or_else(|| "passkeys need at least one origin".to_owned())?;
        let mut builder = WebauthnBuilder::new(&self.rp_id, first)
            .map_err(|e| format!("invalid passkey relying party `{}`: {e}", self.rp_id))?
            .rp_name("Latchkey");
        for origin in rest {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder
            .build()
            .map_err(|e| format!("invalid passkey settings: {e}"))?;
        Ok(PasskeyParty {
            webauthn,
            checks: RelyingParty::new(&self.rp_id, origins),
        })
    }
}

/// The relying party built from the settings: webauthn-rs for registering and for the
/// options of a sign-in, and what `assertion::verify` checks answers against.
#[derive(Debug)]
pub(crate) struct PasskeyParty {
    webauthn: Webauthn,
    checks: RelyingParty,
}

/// The server half of a sign-in or verification ceremony: the challenge its options
/// carried (the user it is for is the ceremony's).
#[derive(serde::Serialize, serde::Deserialize)]
struct AssertionState {
    challenge: Vec<u8>,
}

impl AssertionState {
    fn asked_by(options: &RequestChallengeResponse) -> Self {
        Self {
            challenge: options.public_key.challenge.clone(),
        }
    }
}

/// A verified assertion: whose passkey it was, and what the sign-in needs next.
struct Verified {
    org: Organisation,
    record: PasskeyRecord,
    user: User,
    /// The credential to store when its counter or backup state moved.
    updated: Option<String>,
    /// What opening a session for the user needs (sign-ins only).
    context: Option<crate::sign_in::SessionContext>,
}

/// The base64url form of a credential id, as stored and as authenticators send it.
fn credential_key(raw: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn bad_credential(e: impl std::fmt::Display) -> ServiceError {
    ServiceError::invalid(
        "credential",
        "webauthn",
        format!("`credential` is not a WebAuthn answer this server can read: {e}"),
    )
}

fn failed_sign_in() -> ServiceError {
    ServiceError::Unauthenticated(
        "the passkey sign-in failed: start again with POST /api/v1/auth/passkey/begin".to_owned(),
    )
}

/// A ceremony finished twice: the second is refused like any failed sign-in.
pub(crate) fn replayed() -> ServiceError {
    failed_sign_in()
}

fn expired_ceremony() -> ServiceError {
    ServiceError::invalid(
        "ceremony",
        "exists",
        "the ceremony is unknown, expired or already finished: begin again",
    )
}

fn passkey_name(raw: &str) -> ServiceResult<String> {
    let name = Name::parse("name", raw)?;
    if name.as_str().chars().count() > 64 {
        return Err(ServiceError::invalid(
            "name",
            "max_length",
            "a passkey's name has at most 64 characters",
        ));
    }
    Ok(name.into_string())
}

fn to_json<T: serde::Serialize>(value: &T) -> ServiceResult<String> {
    serde_json::to_string(value)
        .map_err(|e| ServiceError::Internal(format!("cannot encode WebAuthn state: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> ServiceResult<T> {
    serde_json::from_str(text)
        .map_err(|e| ServiceError::Internal(format!("cannot read stored WebAuthn state: {e}")))
}

impl Services {
    fn passkey_party(&self) -> ServiceResult<&PasskeyParty> {
        if let Some(w) = self.inner.webauthn.get() {
            return Ok(w);
        }
        let built = PasskeySettings::default()
            .build()
            .map_err(ServiceError::Internal)?;
        Ok(self.inner.webauthn.get_or_init(|| built))
    }

    fn webauthn(&self) -> ServiceResult<&Webauthn> {
        Ok(&self.passkey_party()?.webauthn)
    }

    /// Binds passkeys to a relying party; `serve` calls it once, before serving.
    pub fn use_passkeys(&self, settings: &PasskeySettings) -> Result<(), String> {
        let webauthn = settings.build()?;
        self.inner
            .webauthn
            .set(webauthn)
            .map_err(|_| "passkeys are already configured".to_owned())
    }

    /// The key ceremonies are sealed under: the master key, or (a server without one, such
    /// as a test) a key made for this process.
    fn ceremony_key(&self) -> &crate::secrets::MasterKey {
        match self.inner.master_key.get() {
            Some(k) => k,
            None => self
                .inner
                .ephemeral_key
                .get_or_init(crate::secrets::MasterKey::generate),
        }
    }

    /// Seals a new ceremony's server half for the client to bring back.
    fn store_ceremony(
        &self,
        purpose: CeremonyPurpose,
        org: Option<OrgId>,
        user: Option<UserId>,
        p: Option<&Principal>,
        state: &impl serde::Serialize,
        options: &impl serde::Serialize,
    ) -> ServiceResult<PasskeyChallenge> {
        let (state, options) = (
            to_json(state)?,
            serde_json::to_value(options).map_err(|e| ServiceError::Internal(e.to_string()))?,
        );
        let ceremony = Ceremony {
            id: CeremonyId::from_uuid(self.uuid()),
            org_id: org,
            user_id: user,
            session_id: p.and_then(|p| match p.credential {
                Credential::Session(s) => Some(s),
                Credential::Token(_) => None,
            }),
            purpose,
            state,
            expires_at: self.now() + time::Duration::minutes(CEREMONY_MINUTES),
        };
        let sealed = self
            .ceremony_key()
            .seal(CEREMONY_AAD, to_json(&ceremony)?.as_bytes())
            .map_err(|e| ServiceError::Internal(format!("cannot seal a ceremony: {e}")))?;
        Ok(PasskeyChallenge {
            ceremony: format!(
                "{CEREMONY_PREFIX}{}",
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sealed)
            ),
            options,
            expires_at: ceremony.expires_at,
        })
    }

    /// The ceremony a client brought back, if this server sealed it, it is for one of
    /// `purposes` and it has not expired. Whether it was already finished is the store's
    /// to say, in the transaction that finishes it.
    fn open_ceremony(&self, token: &str, purposes: &[CeremonyPurpose]) -> Option<Ceremony> {
        let raw = token.strip_prefix(CEREMONY_PREFIX)?;
        if raw.len() > 64 * 1024 {
            return None;
        }
        let sealed = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw)
            .ok()?;
        let plain = self.ceremony_key().open(CEREMONY_AAD, &sealed).ok()?;
        let ceremony: Ceremony = serde_json::from_slice(&plain).ok()?;
        (purposes.contains(&ceremony.purpose) && ceremony.expires_at > self.now())
            .then_some(ceremony)
    }

    /// Options asking for an assertion by one of `records`, and the state to check it by.
    fn start_authentication(
        &self,
        records: &[PasskeyRecord],
    ) -> ServiceResult<(RequestChallengeResponse, AssertionState)> {
        let keys = records
            .iter()
            .map(|r| from_json::<Passkey>(&r.credential))
            .collect::<ServiceResult<Vec<_>>>()?;
        let (options, _) = self
            .webauthn()?
            .start_passkey_authentication(&keys)
            .map_err(|e| ServiceError::Internal(format!("cannot ask for a passkey: {e}")))?;
        let state = AssertionState::asked_by(&options);
        Ok((options, state))
    }

    /// Starts registering a passkey for the caller.
    pub async fn begin_passkey_registration(
        &self,
        p: &Principal,
    ) -> ServiceResult<PasskeyChallenge> {
        let mut tx = self.read().await?;
        let user = tx
            .get_user(p.org_id, p.user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user", p.user_id))?;
        let existing = tx.list_passkeys(p.org_id, p.user_id).await?;
        drop(tx);
        let exclude = existing
            .iter()
            .map(|r| from_json::<Passkey>(&r.credential).map(|k| k.cred_id().clone()))
            .collect::<ServiceResult<Vec<_>>>()?;
        let (options, state) = self
            .webauthn()?
            .start_passkey_registration(
                user.id.as_uuid(),
                &user.user_name,
                &user.full_name,
                Some(exclude),
            )
            .map_err(|e| ServiceError::Internal(format!("cannot start a registration: {e}")))?;
        let mut challenge = self.store_ceremony(
            CeremonyPurpose::Register,
            Some(p.org_id),
            Some(p.user_id),
            Some(p),
            &state,
            &options,
        )?;
        // Signing in without a user name needs the passkey kept on the authenticator (a
        // discoverable credential); webauthn-rs discourages that by default, and does not
        // check it when the registration finishes. Ask for one where the device can.
        if let Some(selection) = challenge
            .options
            .pointer_mut("/publicKey/authenticatorSelection")
            .and_then(serde_json::Value::as_object_mut)
        {
            selection.insert("residentKey".to_owned(), json!("preferred"));
        }
        Ok(challenge)
    }

    /// Finishes registering a passkey: verifies the authenticator's answer and stores the
    /// passkey. It also counts as proving a passkey in the current session.
    pub async fn finish_passkey_registration(
        &self,
        p: &Principal,
        req: &FinishPasskeyRegistration,
        client: &ClientInfo,
    ) -> ServiceResult<PasskeyRecord> {
        let name = passkey_name(&req.name)?;
        let credential: RegisterPublicKeyCredential =
            serde_json::from_value(req.credential.clone()).map_err(bad_credential)?;
        let ceremony = self
            .open_ceremony(&req.ceremony, &[CeremonyPurpose::Register])
            .filter(|c| c.org_id == Some(p.org_id) && c.user_id == Some(p.user_id))
            .ok_or_else(expired_ceremony)?;
        let state: PasskeyRegistration = from_json(&ceremony.state)?;
        let passkey = match self
            .webauthn()?
            .finish_passkey_registration(&credential, &state)
        {
            Ok(k) => k,
            Err(e) => {
                let mut tx = self.inner.store.begin().await?;
                self.security_event(
                    &mut *tx,
                    p.org_id,
                    events::PASSKEY_REJECTED,
                    Some(p.user_id),
                    Some(p.user_id),
                    client,
                    json!({ "step": "register", "reason": e.to_string() }),
                )
                .await?;
                tx.commit().await?;
                return Err(ServiceError::invalid(
                    "credential",
                    "webauthn",
                    format!("the authenticator's answer was refused: {e}"),
                ));
            }
        };
        let now = self.now();
        let record = PasskeyRecord {
            id: PasskeyId::from_uuid(self.uuid()),
            org_id: p.org_id,
            user_id: p.user_id,
            name,
            credential_id: credential_key(passkey.cred_id().as_ref()),
            credential: to_json(&passkey)?,
            created_at: now,
            last_used_at: None,
        };
        // A new passkey changes what the user's sessions may do: the write moves the
        // revision, so every server resolves them again.
        let mut tx = self.begin(p.org_id).await?;
        if !tx.finish_ceremony(ceremony.id, ceremony.expires_at).await? {
            return Err(expired_ceremony());
        }
        if tx
            .find_passkey_by_credential(&record.credential_id)
            .await?
            .is_some()
        {
            return Err(ServiceError::field_conflict(
                "already_exists",
                "credential",
                "this passkey is already registered",
            ));
        }
        tx.insert_passkey(&record).await?;
        if let Credential::Session(s) = p.credential {
            tx.verify_session_passkey(p.org_id, s, now).await?;
        }
        self.security_event(
            &mut *tx,
            p.org_id,
            events::PASSKEY_ADDED,
            Some(p.user_id),
            Some(p.user_id),
            client,
            json!({ "passkey_id": record.id, "name": record.name }),
        )
        .await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "passkey.create",
            "passkey",
            record.id,
            None::<&()>,
            Some(&record),
        )
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// The caller's passkeys.
    pub async fn list_own_passkeys(&self, p: &Principal) -> ServiceResult<Vec<PasskeyRecord>> {
        let mut tx = self.read().await?;
        Ok(tx.list_passkeys(p.org_id, p.user_id).await?)
    }

    /// A user's passkeys: one's own, or with `users.manage` over them.
    pub async fn list_user_passkeys(
        &self,
        p: &Principal,
        user: UserId,
    ) -> ServiceResult<Vec<PasskeyRecord>> {
        let mut tx = self.read().await?;
        if user != p.user_id {
            let scope = p.require(Permission::UsersManage)?;
            Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        }
        Ok(tx.list_passkeys(p.org_id, user).await?)
    }

    pub async fn rename_own_passkey(
        &self,
        p: &Principal,
        id: PasskeyId,
        name: &str,
    ) -> ServiceResult<PasskeyRecord> {
        let name = passkey_name(name)?;
        let mut tx = self.begin(p.org_id).await?;
        let before = tx
            .get_passkey(p.org_id, id)
            .await?
            .filter(|k| k.user_id == p.user_id)
            .ok_or_else(|| ServiceError::not_found("passkey", id))?;
        tx.rename_passkey(p.org_id, id, &name).await?;
        let after = PasskeyRecord {
            name,
            ..before.clone()
        };
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "passkey.rename",
            "passkey",
            id,
            Some(&before),
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Removes one of the caller's passkeys. The last one stays while the caller's roles
    /// require a passkey.
    pub async fn remove_own_passkey(
        &self,
        p: &Principal,
        id: PasskeyId,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let passkey = tx
            .get_passkey(p.org_id, id)
            .await?
            .filter(|k| k.user_id == p.user_id)
            .ok_or_else(|| ServiceError::not_found("passkey", id))?;
        if tx.count_passkeys(p.org_id, p.user_id).await? <= 1 {
            let (policy, _) = self
                .effective_security_policy(&mut *tx, p.org_id, p.user_id, self.now())
                .await?;
            if policy.require_passkey {
                return Err(ServiceError::conflict(
                    "passkey_required",
                    "your roles require a passkey: register another before removing the last one",
                ));
            }
        }
        self.delete_passkey_in(&mut *tx, p, &passkey, events::PASSKEY_REMOVED, client)
            .await?;
        tx.commit().await
    }

    /// Deletes `passkey`, with its security event (`kind`) and audit entry.
    async fn delete_passkey_in(
        &self,
        tx: &mut dyn latchkey_store::Tx,
        p: &Principal,
        passkey: &PasskeyRecord,
        kind: &str,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        tx.delete_passkey(p.org_id, passkey.id).await?;
        self.security_event(
            tx,
            p.org_id,
            kind,
            Some(passkey.user_id),
            Some(p.user_id),
            client,
            json!({ "passkey_id": passkey.id, "name": passkey.name }),
        )
        .await?;
        let action = if kind == events::PASSKEY_RESET {
            "passkey.reset"
        } else {
            "passkey.delete"
        };
        self.audit(
            tx,
            Some(p),
            p.org_id,
            action,
            "passkey",
            passkey.id,
            Some(passkey),
            None::<&()>,
        )
        .await
    }

    /// Removes a user's passkey for them (recovery: a lost device). Needs `users.manage`
    /// over the user and every permission they hold, as a password reset does.
    pub async fn reset_user_passkey(
        &self,
        p: &Principal,
        user: UserId,
        id: PasskeyId,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let scope = p.require(Permission::UsersManage)?;
        let mut tx = self.begin(p.org_id).await?;
        let target = Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        self.may_act_as(p, &target)?;
        let passkey = tx
            .get_passkey(p.org_id, id)
            .await?
            .filter(|k| k.user_id == user)
            .ok_or_else(|| ServiceError::not_found("passkey", id))?;
        self.delete_passkey_in(&mut *tx, p, &passkey, events::PASSKEY_RESET, client)
            .await?;
        tx.commit().await
    }

    /// Starts a passkey sign-in. With a user name, the options list that user's passkeys;
    /// without one (or for a name nobody has), the authenticator picks a discoverable one.
    pub async fn begin_passkey_sign_in(
        &self,
        req: &BeginPasskeySignIn,
        client: &ClientInfo,
    ) -> ServiceResult<PasskeyChallenge> {
        self.admit_address(client)?;
        let mut tx = self.lookup().await?;
        let org = self
            .sign_in_org(&mut *tx, req.organisation.as_deref())
            .await?;
        let named = match (&org, req.user_name.as_deref().map(str::trim)) {
            (Some(o), Some(name)) if !name.is_empty() => tx
                .passkeys_by_user_name(o.id, name)
                .await?
                .filter(|(_, keys)| !keys.is_empty()),
            _ => None,
        };
        drop(tx);
        let webauthn = self.webauthn()?;
        let org_id = org.map(|o| o.id);
        match named {
            Some((user, records)) => {
                let (options, state) = self.start_authentication(&records)?;
                self.store_ceremony(
                    CeremonyPurpose::SignIn,
                    org_id,
                    Some(user),
                    None,
                    &state,
                    &options,
                )
            }
            None => {
                let (options, _) = webauthn
                    .start_discoverable_authentication()
                    .map_err(|e| ServiceError::Internal(format!("cannot start a sign-in: {e}")))?;
                let state = AssertionState::asked_by(&options);
                self.store_ceremony(
                    CeremonyPurpose::DiscoverableSignIn,
                    org_id,
                    None,
                    None,
                    &state,
                    &options,
                )
            }
        }
    }

    /// Verifies an assertion against a ceremony; answers the passkey used, its user, the
    /// credential to store when its counter or backup state moved, and (when `for_session`)
    /// what opening a session for the user needs, all read through one lookup. Failures
    /// are security events.
    async fn verify_assertion(
        &self,
        ceremony: &Ceremony,
        credential: &PublicKeyCredential,
        client: &ClientInfo,
        for_session: bool,
    ) -> ServiceResult<Verified> {
        let credential_id = credential_key(credential.get_credential_id());
        let mut tx = self.lookup().await?;
        let (record, user) = match tx.find_passkey_with_user(&credential_id).await? {
            Some((r, u)) => (Some(r), Some(u)),
            None => (None, None),
        };
        let org = match &record {
            Some(r) => self.known_org(&mut *tx, r.org_id).await?,
            None => None,
        };
        let context = match (&user, for_session) {
            (Some(u), true) => Some(
                self.session_context(&mut *tx, u.org_id, u, self.now())
                    .await?,
            ),
            _ => None,
        };
        drop(tx);
        let party = self.passkey_party()?;
        let outcome = match (&record, &user) {
            (None, _) | (_, None) => Err("unknown_passkey".to_owned()),
            (Some(r), Some(u)) => {
                if ceremony.org_id.is_some_and(|o| o != r.org_id)
                    || ceremony.user_id.is_some_and(|w| w != r.user_id)
                {
                    Err("other_user".to_owned())
                } else if !u.enabled {
                    Err("disabled".to_owned())
                } else {
                    let passkey: Passkey = from_json(&r.credential)?;
                    let state: AssertionState = from_json(&ceremony.state)?;
                    let discoverable = ceremony.purpose == CeremonyPurpose::DiscoverableSignIn;
                    let handle = u.id.as_uuid();
                    let expected = assertion::Expected {
                        challenge: &state.challenge,
                        user_handle: handle.as_bytes(),
                        user_handle_required: discoverable,
                        allow_backup_eligible_upgrade: !discoverable,
                    };
                    match assertion::verify(&party.checks, &expected, credential, &passkey) {
                        Ok(moved) => Ok(moved.as_ref().map(to_json).transpose()?),
                        Err(reason) => Err(reason),
                    }
                }
            }
        };
        match outcome {
            Ok(updated) => match (org, record, user) {
                (Some(org), Some(record), Some(user)) => Ok(Verified {
                    org,
                    record,
                    user,
                    updated,
                    context,
                }),
                _ => Err(failed_sign_in()),
            },
            Err(reason) => {
                let org = record.as_ref().map(|r| r.org_id).or(ceremony.org_id);
                if let Some(org) = org {
                    let mut tx = self.inner.store.begin().await?;
                    self.security_event(
                        &mut *tx,
                        org,
                        events::SIGN_IN_FAILED,
                        record.as_ref().map(|r| r.user_id),
                        None,
                        client,
                        json!({
                            "method": "passkey",
                            "reason": reason.split(':').next().unwrap_or("invalid"),
                            "detail": reason,
                            "step": ceremony.purpose.as_str(),
                        }),
                    )
                    .await?;
                    tx.commit().await?;
                }
                Err(failed_sign_in())
            }
        }
    }

    /// Records a sign-in refused after its assertion verified because its ceremony had
    /// been finished already (a replay).
    async fn ceremony_replayed(
        &self,
        org: OrgId,
        user: UserId,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let mut tx = self.inner.store.begin().await?;
        self.security_event(
            &mut *tx,
            org,
            events::SIGN_IN_FAILED,
            Some(user),
            None,
            client,
            json!({ "method": "passkey", "reason": "replayed" }),
        )
        .await?;
        Ok(tx.commit().await?)
    }

    /// Finishes a passkey sign-in and opens a session.
    pub async fn finish_passkey_sign_in(
        &self,
        req: &FinishPasskeyAssertion,
        client: &ClientInfo,
    ) -> ServiceResult<SignedIn> {
        let credential: PublicKeyCredential =
            serde_json::from_value(req.credential.clone()).map_err(bad_credential)?;
        let ceremony = self
            .open_ceremony(
                &req.ceremony,
                &[CeremonyPurpose::SignIn, CeremonyPurpose::DiscoverableSignIn],
            )
            .ok_or_else(failed_sign_in)?;
        let v = self
            .verify_assertion(&ceremony, &credential, client, true)
            .await?;
        let context = v.context.ok_or_else(failed_sign_in)?;
        let opened = self
            .open_session_in(
                &v.org,
                &v.user,
                SignInMethod::Passkey,
                client,
                context,
                crate::sign_in::SessionExtras {
                    passkey: Some(crate::sign_in::PasskeyUse {
                        id: v.record.id,
                        credential: v.updated.clone(),
                        ceremony: ceremony.id,
                        expires_at: ceremony.expires_at,
                    }),
                    clear_failures: false,
                },
            )
            .await;
        if let Err(ServiceError::Unauthenticated(_)) = &opened {
            self.ceremony_replayed(v.org.id, v.user.id, client).await?;
        }
        opened
    }

    /// Starts proving a passkey within the caller's session.
    pub async fn begin_passkey_verification(
        &self,
        p: &Principal,
    ) -> ServiceResult<PasskeyChallenge> {
        let Credential::Session(_) = p.credential else {
            return Err(ServiceError::conflict(
                "not_a_session",
                "only a signed-in session proves a passkey; API tokens need none",
            ));
        };
        let mut tx = self.lookup().await?;
        let records = tx.list_passkeys(p.org_id, p.user_id).await?;
        drop(tx);
        if records.is_empty() {
            return Err(ServiceError::conflict(
                "no_passkey",
                "you have no passkey yet: register one at POST /api/v1/me/passkeys/register/begin",
            ));
        }
        let (options, state) = self.start_authentication(&records)?;
        self.store_ceremony(
            CeremonyPurpose::Verify,
            Some(p.org_id),
            Some(p.user_id),
            Some(p),
            &state,
            &options,
        )
    }

    /// Finishes proving a passkey: the session may then do what its roles allow.
    pub async fn finish_passkey_verification(
        &self,
        p: &Principal,
        req: &FinishPasskeyAssertion,
        client: &ClientInfo,
    ) -> ServiceResult<()> {
        let credential: PublicKeyCredential =
            serde_json::from_value(req.credential.clone()).map_err(bad_credential)?;
        let Credential::Session(session) = p.credential else {
            return Err(expired_ceremony());
        };
        let ceremony = self
            .open_ceremony(&req.ceremony, &[CeremonyPurpose::Verify])
            .filter(|c| c.session_id == Some(session) && c.user_id == Some(p.user_id))
            .ok_or_else(expired_ceremony)?;
        let Verified {
            record, updated, ..
        } = self
            .verify_assertion(&ceremony, &credential, client, false)
            .await?;
        let now = self.now();
        let mut tx = self.begin(p.org_id).await?;
        if !tx.finish_ceremony(ceremony.id, ceremony.expires_at).await? {
            return Err(expired_ceremony());
        }
        if let Some(c) = &updated {
            tx.use_passkey(p.org_id, record.id, c, now).await?;
        }
        tx.verify_session_passkey(p.org_id, session, now).await?;
        self.security_event(
            &mut *tx,
            p.org_id,
            events::PASSKEY_VERIFIED,
            Some(p.user_id),
            None,
            client,
            json!({ "passkey_id": record.id, "session_id": session }),
        )
        .await?;
        tx.commit().await
    }
}
