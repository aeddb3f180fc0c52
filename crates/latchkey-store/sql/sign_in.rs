//! Sign-in rows: passwords and their history, failed-attempt counters, sessions, password
//! policies and security events. `find_session_by_hash` is, like `find_token_by_hash`,
//! the one cross-organisation read: a session's secret names its organisation.

use async_trait::async_trait;
use latchkey_model::{
    AlertStatus, MagicLink, MagicLinkId, OrgId, PasswordPolicy, PasswordRecord, RoleId,
    RoleSecurityPolicy, SecurityAlert, SecurityAlertId, SecurityEvent, SecurityEventId, Session,
    SessionId, SignInFailures, SignInMethod, StoredPasswordPolicy, StoredRoleSecurityPolicy,
    UserId, UserTypeId,
};
use latchkey_store::{
    Page, Paging, SecurityAlertQuery, SecurityEventQuery, SignInStore, SortValue, StoreError,
    StoreResult,
};
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::convert::{Cols, DbRow, Query, micros, opt_micros, to_json};
use super::paging::{SortKey, push_page};
use super::{SqlTx, map_err};
use crate::backend::Db;

macro_rules! session_cols {
    () => {
        "id, org_id, user_id, method, token_hash, created_at, last_seen_at, expires_at, revoked_at, ip, user_agent, passkey_verified_at"
    };
}

macro_rules! event_cols {
    () => {
        "id, org_id, at, kind, user_id, actor_id, ip, detail"
    };
}

fn session(row: &DbRow) -> StoreResult<Session> {
    let c = Cols(row);
    let method = c.text("method")?;
    Ok(Session {
        id: SessionId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        user_id: UserId::from_uuid(c.uuid("user_id")?),
        method: SignInMethod::parse(&method)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown sign-in method `{method}`")))?,
        token_hash: c.text("token_hash")?,
        created_at: c.instant("created_at")?,
        last_seen_at: c.instant("last_seen_at")?,
        expires_at: c.instant("expires_at")?,
        revoked_at: c.opt_instant("revoked_at")?,
        ip: c.opt_text("ip")?,
        user_agent: c.opt_text("user_agent")?,
        passkey_verified_at: c.opt_instant("passkey_verified_at")?,
    })
}

fn event(row: &DbRow) -> StoreResult<SecurityEvent> {
    let c = Cols(row);
    Ok(SecurityEvent {
        id: SecurityEventId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        at: c.instant("at")?,
        kind: c.text("kind")?,
        user_id: c.opt_uuid("user_id")?.map(UserId::from_uuid),
        actor_id: c.opt_uuid("actor_id")?.map(UserId::from_uuid),
        ip: c.opt_text("ip")?,
        detail: c.json("detail")?,
    })
}

macro_rules! alert_cols {
    () => {
        "id, org_id, raised_at, rule, severity, summary, user_id, event_id, status, acknowledged_at, acknowledged_by, resolved_at, resolved_by, note"
    };
}

fn alert(row: &DbRow) -> StoreResult<SecurityAlert> {
    let c = Cols(row);
    let status = c.text("status")?;
    Ok(SecurityAlert {
        id: SecurityAlertId::from_uuid(c.uuid("id")?),
        org_id: OrgId::from_uuid(c.uuid("org_id")?),
        raised_at: c.instant("raised_at")?,
        rule: c.text("rule")?,
        severity: c.text("severity")?,
        summary: c.text("summary")?,
        user_id: c.opt_uuid("user_id")?.map(UserId::from_uuid),
        event_id: SecurityEventId::from_uuid(c.uuid("event_id")?),
        status: AlertStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown alert status `{status}`")))?,
        acknowledged_at: c.opt_instant("acknowledged_at")?,
        acknowledged_by: c.opt_uuid("acknowledged_by")?.map(UserId::from_uuid),
        resolved_at: c.opt_instant("resolved_at")?,
        resolved_by: c.opt_uuid("resolved_by")?.map(UserId::from_uuid),
        note: c.opt_text("note")?,
    })
}

fn count(c: &Cols<'_>, col: &str) -> StoreResult<u32> {
    u32::try_from(c.int(col)?)
        .map_err(|_| StoreError::Corrupt(format!("column `{col}` out of range")))
}

fn opt_count(c: &Cols<'_>, col: &str) -> StoreResult<Option<u32>> {
    c.get::<Option<i64>>(col)?
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| StoreError::Corrupt(format!("column `{col}` out of range")))
        })
        .transpose()
}

/// ` AND user_type_id = …`, or `IS NULL` for the organisation's default policy.
fn push_user_type(qb: &mut QueryBuilder<Db>, user_type: Option<UserTypeId>) {
    match user_type {
        Some(t) => {
            qb.push(" AND user_type_id = ");
            qb.push_bind(t.as_uuid());
        }
        None => {
            qb.push(" AND user_type_id IS NULL");
        }
    }
}

fn policy(row: &DbRow) -> StoreResult<PasswordPolicy> {
    let c = Cols(row);
    Ok(PasswordPolicy {
        min_length: count(&c, "min_length")?,
        require_lowercase: c.flag("require_lowercase")?,
        require_uppercase: c.flag("require_uppercase")?,
        require_digit: c.flag("require_digit")?,
        require_symbol: c.flag("require_symbol")?,
        history: count(&c, "history")?,
        expiry_days: opt_count(&c, "expiry_days")?,
    })
}

/// Binds a session's columns in `session_cols!` order.
fn bind_session<'q>(q: Query<'q>, s: &'q Session) -> Query<'q> {
    q.bind(s.id.as_uuid())
        .bind(s.org_id.as_uuid())
        .bind(s.user_id.as_uuid())
        .bind(s.method.as_str())
        .bind(&s.token_hash)
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(micros(s.expires_at))
        .bind(opt_micros(s.revoked_at))
        .bind(s.ip.as_deref())
        .bind(s.user_agent.as_deref())
        .bind(opt_micros(s.passkey_verified_at))
}

/// Binds a security event's columns in `event_cols!` order.
fn bind_event<'q>(q: Query<'q>, e: &'q SecurityEvent) -> StoreResult<Query<'q>> {
    Ok(q.bind(e.id.as_uuid())
        .bind(e.org_id.as_uuid())
        .bind(micros(e.at))
        .bind(&e.kind)
        .bind(e.user_id.map(|u| u.as_uuid()))
        .bind(e.actor_id.map(|u| u.as_uuid()))
        .bind(e.ip.as_deref())
        .bind(to_json(&e.detail)?))
}

#[async_trait]
impl SignInStore for SqlTx {
    async fn password(&mut self, org: OrgId, user: UserId) -> StoreResult<Option<PasswordRecord>> {
        let row =
            sqlx::query("SELECT hash, set_at FROM passwords WHERE org_id = $1 AND user_id = $2")
                .bind(org.as_uuid())
                .bind(user.as_uuid())
                .fetch_optional(self.conn())
                .await
                .map_err(map_err)?;
        row.map(|r| {
            let c = Cols(&r);
            Ok(PasswordRecord {
                hash: c.text("hash")?,
                set_at: c.instant("set_at")?,
            })
        })
        .transpose()
    }

    async fn set_password(
        &mut self,
        org: OrgId,
        user: UserId,
        hash: &str,
        at: OffsetDateTime,
        keep_history: u32,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO passwords (org_id, user_id, hash, set_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, user_id) DO UPDATE SET hash = excluded.hash, set_at = excluded.set_at",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(hash)
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        sqlx::query(
            "INSERT INTO password_history (org_id, user_id, hash, set_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(hash)
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        // Keep the newest `keep_history`: delete what is older than the oldest kept one.
        sqlx::query(
            "DELETE FROM password_history WHERE org_id = $1 AND user_id = $2 AND set_at < \
             (SELECT set_at FROM password_history WHERE org_id = $1 AND user_id = $2 \
              ORDER BY set_at DESC LIMIT 1 OFFSET $3)",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(i64::from(keep_history.max(1)) - 1)
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn rehash_password(&mut self, org: OrgId, user: UserId, hash: &str) -> StoreResult<()> {
        sqlx::query("UPDATE passwords SET hash = $3 WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .bind(hash)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn password_history(
        &mut self,
        org: OrgId,
        user: UserId,
        limit: u32,
    ) -> StoreResult<Vec<String>> {
        let rows = sqlx::query(
            "SELECT hash FROM password_history WHERE org_id = $1 AND user_id = $2 \
             ORDER BY set_at DESC LIMIT $3",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter().map(|r| Cols(r).text("hash")).collect()
    }

    async fn sign_in_failures(&mut self, org: OrgId, user: UserId) -> StoreResult<SignInFailures> {
        let row = sqlx::query(
            "SELECT failures, locked_until FROM sign_in_failures WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        match row {
            None => Ok(SignInFailures::default()),
            Some(r) => {
                let c = Cols(&r);
                Ok(SignInFailures {
                    count: count(&c, "failures")?,
                    locked_until: c.opt_instant("locked_until")?,
                })
            }
        }
    }

    async fn record_sign_in_failure(
        &mut self,
        org: OrgId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<SignInFailures> {
        let row = sqlx::query(
            "INSERT INTO sign_in_failures (org_id, user_id, failures, locked_until) VALUES ($1, $2, 1, NULL) \
             ON CONFLICT (org_id, user_id) DO UPDATE SET \
             failures = CASE WHEN sign_in_failures.locked_until <= $3 THEN 1 ELSE sign_in_failures.failures + 1 END, \
             locked_until = CASE WHEN sign_in_failures.locked_until <= $3 THEN NULL ELSE sign_in_failures.locked_until END \
             RETURNING failures, locked_until",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(now))
        .fetch_one(self.conn())
        .await
        .map_err(map_err)?;
        let c = Cols(&row);
        Ok(SignInFailures {
            count: count(&c, "failures")?,
            locked_until: c.opt_instant("locked_until")?,
        })
    }

    async fn lock_sign_in(
        &mut self,
        org: OrgId,
        user: UserId,
        until: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sign_in_failures SET locked_until = $3 WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org.as_uuid())
        .bind(user.as_uuid())
        .bind(micros(until))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn clear_sign_in_failures(&mut self, org: OrgId, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sign_in_failures WHERE org_id = $1 AND user_id = $2")
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_magic_link(&mut self, l: &MagicLink) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO magic_links (id, org_id, user_id, token_hash, created_at, expires_at, used_at, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(l.id.as_uuid())
        .bind(l.org_id.as_uuid())
        .bind(l.user_id.as_uuid())
        .bind(&l.token_hash)
        .bind(micros(l.created_at))
        .bind(micros(l.expires_at))
        .bind(opt_micros(l.used_at))
        .bind(l.ip.as_deref())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn find_magic_link_by_hash(
        &mut self,
        token_hash: &str,
    ) -> StoreResult<Option<MagicLink>> {
        let row = sqlx::query(
            "SELECT id, org_id, user_id, token_hash, created_at, expires_at, used_at, ip \
             FROM magic_links WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(self.conn())
        .await
        .map_err(map_err)?;
        row.map(|r| {
            let c = Cols(&r);
            Ok(MagicLink {
                id: MagicLinkId::from_uuid(c.uuid("id")?),
                org_id: OrgId::from_uuid(c.uuid("org_id")?),
                user_id: UserId::from_uuid(c.uuid("user_id")?),
                token_hash: c.text("token_hash")?,
                created_at: c.instant("created_at")?,
                expires_at: c.instant("expires_at")?,
                used_at: c.opt_instant("used_at")?,
                ip: c.opt_text("ip")?,
            })
        })
        .transpose()
    }

    async fn use_magic_link(
        &mut self,
        org: OrgId,
        id: MagicLinkId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE magic_links SET used_at = $3 WHERE org_id = $1 AND id = $2 AND used_at IS NULL",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn insert_session(&mut self, s: &Session) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO sessions (",
            session_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        bind_session(sqlx::query(sql), s)
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_session_with_event(
        &mut self,
        s: &Session,
        e: &SecurityEvent,
    ) -> StoreResult<()> {
        let sql = crate::backend::both(
            concat!(
                "INSERT INTO sessions (",
                session_cols!(),
                ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            ),
            concat!(
                "INSERT INTO security_events (",
                event_cols!(),
                ") VALUES ($13, $14, $15, $16, $17, $18, $19, $20)"
            ),
        );
        bind_event(bind_session(sqlx::query(sqlx::AssertSqlSafe(sql)), s), e)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn find_session_by_hash(&mut self, token_hash: &str) -> StoreResult<Option<Session>> {
        let sql = concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE token_hash = $1"
        );
        let row = sqlx::query(sql)
            .bind(token_hash)
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn get_session(&mut self, org: OrgId, id: SessionId) -> StoreResult<Option<Session>> {
        let sql = concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(session).transpose()
    }

    async fn live_sessions(
        &mut self,
        org: OrgId,
        user: UserId,
        now: OffsetDateTime,
    ) -> StoreResult<Vec<Session>> {
        let sql = concat!(
            "SELECT ",
            session_cols!(),
            " FROM sessions WHERE org_id = $1 AND user_id = $2 AND revoked_at IS NULL \
             AND expires_at > $3 ORDER BY id"
        );
        let rows = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(user.as_uuid())
            .bind(micros(now))
            .fetch_all(self.conn())
            .await
            .map_err(map_err)?;
        rows.iter().map(session).collect()
    }

    async fn revoke_session(
        &mut self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $3) WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(done.rows_affected() > 0)
    }

    async fn touch_session(
        &mut self,
        org: OrgId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $3 WHERE org_id = $1 AND id = $2 AND last_seen_at < $3",
        )
        .bind(org.as_uuid())
        .bind(id.as_uuid())
        .bind(micros(at))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn password_policy(
        &mut self,
        org: OrgId,
        user_type: Option<UserTypeId>,
    ) -> StoreResult<Option<PasswordPolicy>> {
        let cols = "SELECT min_length, require_lowercase, require_uppercase, require_digit, \
                    require_symbol, history, expiry_days FROM password_policies WHERE org_id = ";
        let mut qb = QueryBuilder::<Db>::new(cols);
        qb.push_bind(org.as_uuid());
        push_user_type(&mut qb, user_type);
        let row = qb
            .build()
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(policy).transpose()
    }

    async fn put_password_policy(&mut self, p: &StoredPasswordPolicy) -> StoreResult<()> {
        let mut qb = QueryBuilder::<Db>::new("DELETE FROM password_policies WHERE org_id = ");
        qb.push_bind(p.org_id.as_uuid());
        push_user_type(&mut qb, p.user_type_id);
        qb.build().execute(self.conn()).await.map_err(map_err)?;
        let q = &p.policy;
        sqlx::query(
            "INSERT INTO password_policies (org_id, user_type_id, min_length, require_lowercase, \
             require_uppercase, require_digit, require_symbol, history, expiry_days) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(p.org_id.as_uuid())
        .bind(p.user_type_id.map(|t| t.as_uuid()))
        .bind(i64::from(q.min_length))
        .bind(q.require_lowercase)
        .bind(q.require_uppercase)
        .bind(q.require_digit)
        .bind(q.require_symbol)
        .bind(i64::from(q.history))
        .bind(q.expiry_days.map(i64::from))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn insert_security_event(&mut self, e: &SecurityEvent) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO security_events (",
            event_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        );
        bind_event(sqlx::query(sql), e)?
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn insert_security_alert(&mut self, a: &SecurityAlert) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO security_alerts (",
            alert_cols!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        sqlx::query(sql)
            .bind(a.id.as_uuid())
            .bind(a.org_id.as_uuid())
            .bind(micros(a.raised_at))
            .bind(&a.rule)
            .bind(&a.severity)
            .bind(&a.summary)
            .bind(a.user_id.map(|u| u.as_uuid()))
            .bind(a.event_id.as_uuid())
            .bind(a.status.as_str())
            .bind(opt_micros(a.acknowledged_at))
            .bind(a.acknowledged_by.map(|u| u.as_uuid()))
            .bind(opt_micros(a.resolved_at))
            .bind(a.resolved_by.map(|u| u.as_uuid()))
            .bind(a.note.as_deref())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn role_security_policies(
        &mut self,
        org: OrgId,
    ) -> StoreResult<Vec<StoredRoleSecurityPolicy>> {
        let rows = sqlx::query(
            "SELECT role_id, require_passkey, passkey_after_magic_link, idle_timeout_minutes \
             FROM role_security_policies WHERE org_id = $1",
        )
        .bind(org.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let c = Cols(r);
                Ok(StoredRoleSecurityPolicy {
                    org_id: org,
                    role_id: RoleId::from_uuid(c.uuid("role_id")?),
                    policy: RoleSecurityPolicy {
                        require_passkey: c.flag("require_passkey")?,
                        passkey_after_magic_link: c.flag("passkey_after_magic_link")?,
                        idle_timeout_minutes: opt_count(&c, "idle_timeout_minutes")?,
                    },
                })
            })
            .collect()
    }

    async fn put_role_security_policy(&mut self, p: &StoredRoleSecurityPolicy) -> StoreResult<()> {
        sqlx::query("DELETE FROM role_security_policies WHERE org_id = $1 AND role_id = $2")
            .bind(p.org_id.as_uuid())
            .bind(p.role_id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(map_err)?;
        if p.policy == RoleSecurityPolicy::default() {
            return Ok(());
        }
        sqlx::query(
            "INSERT INTO role_security_policies (org_id, role_id, require_passkey, \
             passkey_after_magic_link, idle_timeout_minutes) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.org_id.as_uuid())
        .bind(p.role_id.as_uuid())
        .bind(p.policy.require_passkey)
        .bind(p.policy.passkey_after_magic_link)
        .bind(p.policy.idle_timeout_minutes.map(i64::from))
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn get_security_alert(
        &mut self,
        org: OrgId,
        id: SecurityAlertId,
    ) -> StoreResult<Option<SecurityAlert>> {
        let sql = concat!(
            "SELECT ",
            alert_cols!(),
            " FROM security_alerts WHERE org_id = $1 AND id = $2"
        );
        let row = sqlx::query(sql)
            .bind(org.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(self.conn())
            .await
            .map_err(map_err)?;
        row.as_ref().map(alert).transpose()
    }

    async fn update_security_alert(&mut self, a: &SecurityAlert) -> StoreResult<()> {
        sqlx::query(
            "UPDATE security_alerts SET status = $3, acknowledged_at = $4, acknowledged_by = $5, \
             resolved_at = $6, resolved_by = $7, note = $8 WHERE org_id = $1 AND id = $2",
        )
        .bind(a.org_id.as_uuid())
        .bind(a.id.as_uuid())
        .bind(a.status.as_str())
        .bind(opt_micros(a.acknowledged_at))
        .bind(a.acknowledged_by.map(|u| u.as_uuid()))
        .bind(opt_micros(a.resolved_at))
        .bind(a.resolved_by.map(|u| u.as_uuid()))
        .bind(a.note.as_deref())
        .execute(self.conn())
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn list_security_alerts(
        &mut self,
        org: OrgId,
        query: &SecurityAlertQuery,
    ) -> StoreResult<Page<SecurityAlert>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            alert_cols!(),
            " FROM security_alerts WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(status) = query.status {
            qb.push(" AND status = ");
            qb.push_bind(status.as_str());
        }
        if let Some(rule) = &query.rule {
            qb.push(" AND rule = ");
            qb.push_bind(rule.clone());
        }
        if let Some(user) = query.user {
            qb.push(" AND user_id = ");
            qb.push_bind(user.as_uuid());
        }
        let paging = Paging {
            limit: query.limit,
            after: query.after.map(|id| latchkey_store::After {
                key: SortValue::None,
                id,
            }),
            descending: query.descending,
        };
        push_page(&mut qb, SortKey::Id, "id", &paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        super::paging::page(rows, query.limit, alert)
    }

    async fn list_security_events(
        &mut self,
        org: OrgId,
        query: &SecurityEventQuery,
    ) -> StoreResult<Page<SecurityEvent>> {
        let mut qb = QueryBuilder::<Db>::new(concat!(
            "SELECT ",
            event_cols!(),
            " FROM security_events WHERE org_id = "
        ));
        qb.push_bind(org.as_uuid());
        if let Some(kind) = &query.kind {
            if let Some(prefix) = kind.strip_suffix('.') {
                // A prefix compared with `substr`, so the `_` of kinds needs no escaping as
                // it would in `LIKE`.
                qb.push(" AND substr(kind, 1, ");
                qb.push_bind(i32::try_from(prefix.len() + 1).unwrap_or(i32::MAX));
                qb.push(") = ");
                qb.push_bind(kind.clone());
            } else {
                qb.push(" AND kind = ");
                qb.push_bind(kind.clone());
            }
        }
        if let Some(user) = query.user {
            qb.push(" AND user_id = ");
            qb.push_bind(user.as_uuid());
        }
        if let Some(from) = query.from {
            qb.push(" AND at >= ");
            qb.push_bind(micros(from));
        }
        if let Some(to) = query.to {
            qb.push(" AND at < ");
            qb.push_bind(micros(to));
        }
        let paging = Paging {
            limit: query.limit,
            after: query.after.map(|id| latchkey_store::After {
                key: SortValue::None,
                id,
            }),
            descending: query.descending,
        };
        push_page(&mut qb, SortKey::Id, "id", &paging)?;
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        super::paging::page(rows, query.limit, event)
    }

    async fn count_security_events_by_day(
        &mut self,
        org: OrgId,
        kinds: &[&str],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> StoreResult<Vec<(i64, String, i64)>> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        // `at` is in microseconds: integer division by a day's worth gives the UTC day, in
        // SQLite and PostgreSQL alike. The database counts; only the totals come back.
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT at / 86400000000 AS day, kind, COUNT(*) AS n FROM security_events WHERE org_id = ",
        );
        qb.push_bind(org.as_uuid());
        qb.push(" AND kind IN (");
        let mut list = qb.separated(", ");
        for kind in kinds {
            list.push_bind((*kind).to_owned());
        }
        qb.push(") AND at >= ");
        qb.push_bind(micros(from));
        qb.push(" AND at < ");
        qb.push_bind(micros(to));
        qb.push(" GROUP BY at / 86400000000, kind ORDER BY day, kind");
        let rows = qb.build().fetch_all(self.conn()).await.map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let c = Cols(r);
                Ok((c.int("day")?, c.text("kind")?, c.int("n")?))
            })
            .collect()
    }

    async fn count_security_alerts_by_rule(
        &mut self,
        org: OrgId,
        status: AlertStatus,
    ) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT rule, COUNT(*) AS n FROM security_alerts WHERE org_id = $1 AND status = $2 GROUP BY rule ORDER BY n DESC, rule",
        )
        .bind(org.as_uuid())
        .bind(status.as_str())
        .fetch_all(self.conn())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let c = Cols(r);
                Ok((c.text("rule")?, c.int("n")?))
            })
            .collect()
    }
}
