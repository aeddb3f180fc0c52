//! API tokens: `lk_` followed by 32 random bytes in base64url. Only the SHA-256 of a token is
//! stored (a random 256-bit secret needs no slow hash), so a stolen database yields no usable
//! token. Authentication turns a token into a `Principal`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use latchkey_api::{CreateToken, TokenCreated};
use latchkey_model::{ApiToken, Name, OrgId, Permission, TokenId, UserId};
use rand::Rng as _;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{Credential, Principal, ServiceError, ServiceResult, Services};

pub const TOKEN_PREFIX: &str = "lk_";

/// The stored form of a token.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The CSRF token that goes with a session secret held in a cookie: derived from the
/// secret, so it needs no storage, and unknowable to a page that cannot read the cookie.
pub fn csrf_token(session_secret: &str) -> String {
    let digest = Sha256::digest(format!("latchkey-csrf:{session_secret}").as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// A seal over `data` for `purpose`, keyed by a session secret: a page can carry data
/// between two steps of a form (the console's CSV import) and the server checks, when the
/// data comes back, that it is what this session was shown. Pages cannot read the secret
/// (an HttpOnly cookie), so they cannot seal anything else.
///
/// An HMAC-SHA-256 keyed by the secret, over the length-prefixed purpose and the data: a
/// plain hash of secret and data would let anyone holding one seal extend the data and
/// compute the seal of the longer text without the secret.
pub fn seal(session_secret: &str, purpose: &str, data: &str) -> String {
    let mut message = Vec::with_capacity(purpose.len() + data.len() + 24);
    for part in ["latchkey-seal", purpose] {
        message.extend_from_slice(&part.len().to_le_bytes());
        message.extend_from_slice(part.as_bytes());
    }
    message.extend_from_slice(data.as_bytes());
    URL_SAFE_NO_PAD.encode(hmac_sha256(session_secret.as_bytes(), &message))
}

/// HMAC (RFC 2104) over SHA-256.
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(k.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(k.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// `prefix` and 32 random bytes in base64url.
pub fn random_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl Services {
    pub(crate) fn make_token(
        &self,
        org: OrgId,
        user: UserId,
        name: &str,
        expires_at: Option<OffsetDateTime>,
    ) -> (ApiToken, String) {
        let secret = random_secret(TOKEN_PREFIX);
        let token = ApiToken {
            id: TokenId::from_uuid(self.uuid()),
            org_id: org,
            user_id: user,
            name: name.to_owned(),
            token_hash: hash_token(&secret),
            created_at: self.now(),
            expires_at,
            revoked_at: None,
        };
        (token, secret)
    }

    /// Resolves a bearer token. Every failure reads the same, so that a caller cannot tell
    /// an unknown token from a revoked one or one of a disabled user.
    ///
    /// A resolved token is remembered while its organisation's revision stays the same
    /// (revoking a token, disabling a user or changing a grant is a write, which moves it)
    /// and for at most `AUTH_CACHE_TTL`, so that checks at high rates do not read the store.
    pub async fn authenticate(&self, secret: &str) -> ServiceResult<Principal> {
        let denied = || {
            ServiceError::Unauthenticated(
                "the token is missing, invalid, expired or revoked".to_owned(),
            )
        };
        let is_session = secret.starts_with(crate::sign_in::SESSION_PREFIX);
        if !(is_session || secret.starts_with(TOKEN_PREFIX)) || secret.len() > 200 {
            return Err(denied());
        }
        let now = self.now();
        let hash = hash_token(secret);
        if let Some(p) = self.inner.auth_cache.get(&hash, now) {
            crate::revision::saw(p.engine.revision());
            return Ok(p);
        }
        let mut tx = self.lookup().await?;
        let (org_id, user_id, credential, expires_at, session) = if is_session {
            let s = tx.find_session_by_hash(&hash).await?.ok_or_else(denied)?;
            if s.revoked_at.is_some() || s.expires_at <= now {
                return Err(denied());
            }
            (
                s.org_id,
                s.user_id,
                Credential::Session(s.id),
                Some(s.expires_at),
                Some(s),
            )
        } else {
            let token = tx.find_token_by_hash(&hash).await?.ok_or_else(denied)?;
            if token.revoked_at.is_some() || token.expires_at.is_some_and(|e| e <= now) {
                return Err(denied());
            }
            (
                token.org_id,
                token.user_id,
                Credential::Token(token.id),
                token.expires_at,
                None,
            )
        };
        let user = tx.get_user(org_id, user_id).await?.ok_or_else(denied)?;
        if !user.enabled {
            return Err(denied());
        }
        let org = self.known_org(&mut *tx, org_id).await?.ok_or_else(denied)?;
        // The roles' policy, checked whenever the session is resolved from the store: at
        // least every `AUTH_CACHE_TTL`, and after any write (a policy change, a passkey
        // registered).
        let (idle_minutes, pending) = match &session {
            Some(s) => {
                let (policy, _) = self
                    .effective_security_policy(&mut *tx, org_id, user_id, now)
                    .await?;
                let passkeys = Self::passkeys_asked(&mut *tx, org_id, user_id, &policy).await?;
                (
                    policy.idle_timeout_minutes,
                    crate::principal::PendingAction::of(&policy, s, passkeys),
                )
            }
            None => (None, None),
        };
        drop(tx);
        if let Some(session) = &session {
            if let Some(minutes) = idle_minutes
                && self.end_if_idle(session, minutes, now).await?
            {
                return Err(ServiceError::Unauthenticated(
                    "the session ended after being idle longer than your roles allow; sign in again"
                        .to_owned(),
                ));
            }
            // `last_seen_at` is kept to the minute: a busy session writes once a minute.
            if now - session.last_seen_at >= time::Duration::MINUTE {
                self.touch_session(org.id, session.id, now).await;
            }
        }
        let engine = self.engine(org.id).await?;
        let (permissions, revision) = {
            let state = engine.read();
            (state.engine.permissions(user.id, now), state.revision)
        };
        let principal = Principal {
            org_id: org.id,
            org_slug: org.slug.into(),
            user_id: user.id,
            user_name: user.user_name.into(),
            installation_admin: user.installation_admin,
            credential,
            request_id: None,
            pending,
            idle_timeout_minutes: idle_minutes,
            permissions: std::sync::Arc::new(permissions),
            engine,
        };
        self.inner
            .auth_cache
            .put(hash, principal.clone(), expires_at, revision, now);
        Ok(principal)
    }

    /// Creates a personal API token for the caller; the secret is returned once.
    pub async fn create_token(
        &self,
        p: &Principal,
        req: CreateToken,
    ) -> ServiceResult<TokenCreated> {
        let name = Name::parse("name", &req.name)?;
        if let Some(e) = req.expires_at
            && e <= self.now()
        {
            return Err(ServiceError::invalid(
                "expires_at",
                "future",
                "`expires_at` must be in the future",
            ));
        }
        let (token, secret) = self.make_token(p.org_id, p.user_id, name.as_str(), req.expires_at);
        let mut tx = self.begin(p.org_id).await?;
        tx.insert_token(&token).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "token.create",
            "api_token",
            token.id,
            None::<&()>,
            Some(&token),
        )
        .await?;
        tx.commit().await?;
        Ok(TokenCreated {
            id: token.id,
            name: token.name,
            token: secret,
            expires_at: token.expires_at,
        })
    }

    pub async fn list_tokens(&self, p: &Principal) -> ServiceResult<Vec<ApiToken>> {
        let mut tx = self.read().await?;
        Ok(tx.list_tokens(p.org_id, p.user_id).await?)
    }

    /// Revokes one of the caller's own tokens.
    pub async fn revoke_token(&self, p: &Principal, id: TokenId) -> ServiceResult<()> {
        let mut tx = self.begin(p.org_id).await?;
        let mine = tx.list_tokens(p.org_id, p.user_id).await?;
        let Some(token) = mine.into_iter().find(|t| t.id == id) else {
            return Err(ServiceError::not_found("api token", id));
        };
        tx.revoke_token(p.org_id, id, self.now()).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "token.revoke",
            "api_token",
            id,
            Some(&token),
            None::<&()>,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Issues a token for another user (a service account, or a user who cannot sign in
    /// yet). Needs `users.manage` over the user, and, because the token acts as that user,
    /// every permission the user holds must be held everywhere by the caller.
    pub async fn issue_token_for(
        &self,
        p: &Principal,
        user: UserId,
        req: CreateToken,
    ) -> ServiceResult<TokenCreated> {
        let scope = p.require(Permission::UsersManage)?;
        let name = Name::parse("name", &req.name)?;
        if let Some(e) = req.expires_at
            && e <= self.now()
        {
            return Err(ServiceError::invalid(
                "expires_at",
                "future",
                "`expires_at` must be in the future",
            ));
        }
        let mut tx = self.begin(p.org_id).await?;
        let target = Self::user_in_scope(&mut *tx, p.org_id, &scope, user).await?;
        if !target.enabled {
            return Err(ServiceError::conflict(
                "disabled",
                format!("`{}` is disabled", target.user_name),
            ));
        }
        self.may_act_as(p, &target)?;
        let (token, secret) = self.make_token(p.org_id, user, name.as_str(), req.expires_at);
        tx.insert_token(&token).await?;
        self.audit(
            &mut *tx,
            Some(p),
            p.org_id,
            "token.issue",
            "api_token",
            token.id,
            None::<&()>,
            Some(&token),
        )
        .await?;
        tx.commit().await?;
        Ok(TokenCreated {
            id: token.id,
            name: token.name,
            token: secret,
            expires_at: token.expires_at,
        })
    }
}

impl Services {
    /// Refuses unless the caller holds, everywhere, every permission `target` holds: a
    /// token for them, or their password, lets the caller act as them.
    pub(crate) fn may_act_as(
        &self,
        p: &Principal,
        target: &latchkey_model::User,
    ) -> ServiceResult<()> {
        let theirs = p.engine.read().engine.permissions(target.id, self.now());
        let mut missing: Vec<&str> = theirs
            .unscoped
            .iter()
            .chain(theirs.scoped.keys())
            .filter(|perm| !p.permissions().has_unscoped(**perm))
            .map(|perm| perm.as_str())
            .collect();
        missing.sort_unstable();
        missing.dedup();
        if missing.is_empty() {
            return Ok(());
        }
        Err(ServiceError::Forbidden {
            permission: None,
            message: format!(
                "`{}` holds {} which you do not hold everywhere; you cannot act as them",
                target.user_name,
                missing.join(", ")
            ),
        })
    }
}

/// How long a resolved token may be reused without reading the store, at most.
pub const AUTH_CACHE_TTL: time::Duration = time::Duration::seconds(5);

/// Entries the authentication cache holds before it starts over.
const AUTH_CACHE_MAX: usize = 100_000;

struct CachedAuth {
    principal: Principal,
    expires_at: Option<OffsetDateTime>,
    revision: i64,
    /// By the services' clock, so that a test moving the clock moves the cache too.
    cached: OffsetDateTime,
}

/// Resolved tokens by hash. Never holds a secret.
#[derive(Default)]
pub(crate) struct AuthCache {
    entries: std::sync::RwLock<std::collections::HashMap<String, CachedAuth>>,
}

impl AuthCache {
    fn get(&self, hash: &str, now: OffsetDateTime) -> Option<Principal> {
        let entries = self.entries.read().ok()?;
        let e = entries.get(hash)?;
        let fresh = now - e.cached < AUTH_CACHE_TTL
            && e.expires_at.is_none_or(|x| now < x)
            && e.principal.engine.revision() == e.revision;
        fresh.then(|| e.principal.clone())
    }

    fn put(
        &self,
        hash: String,
        principal: Principal,
        expires_at: Option<OffsetDateTime>,
        revision: i64,
        now: OffsetDateTime,
    ) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= AUTH_CACHE_MAX {
                entries.clear();
            }
            entries.insert(
                hash,
                CachedAuth {
                    principal,
                    expires_at,
                    revision,
                    cached: now,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::seal;

    #[test]
    fn a_seal_depends_on_the_session_the_purpose_and_the_data() {
        let s = seal("session-a", "import", "user_name\nana\n");
        assert_eq!(s, seal("session-a", "import", "user_name\nana\n"));
        assert_ne!(s, seal("session-b", "import", "user_name\nana\n"));
        assert_ne!(s, seal("session-a", "export", "user_name\nana\n"));
        assert_ne!(s, seal("session-a", "import", "user_name\nbob\n"));
        // The parts are length-prefixed: moving a boundary changes the seal.
        assert_ne!(seal("ab", "c", ""), seal("a", "bc", ""));
    }

    #[test]
    fn the_seal_is_an_hmac_sha256() {
        // RFC 4231, test cases 2 (a short key) and 6 (a key longer than a block).
        assert_eq!(
            hex::encode(super::hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex::encode(super::hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }
}
