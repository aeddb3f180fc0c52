//! Conformance story of sign-in rows: passwords and their trimmed history, failure counts
//! that lift an expired lock, sessions found by hash across organisations but listed and
//! revoked only within their own, policies, events and alerts scoped to their organisation.

use latchkey_model::{
    AlertStatus, PasswordPolicy, SecurityAlert, SecurityAlertId, SecurityEvent, SecurityEventId,
    Session, SessionId, SignInMethod, StoredPasswordPolicy, UserId,
};
use serde_json::json;

use super::{at, begin, commit, ok, org_with_group, read, user_value, uuid};
use crate::{SecurityAlertQuery, SecurityEventQuery, Store};

fn session_value(org: latchkey_model::OrgId, user: UserId, hash: &str) -> Session {
    Session {
        id: SessionId::from_uuid(uuid()),
        org_id: org,
        user_id: user,
        method: SignInMethod::Password,
        token_hash: hash.to_owned(),
        created_at: at(0),
        last_seen_at: at(0),
        expires_at: at(3600),
        revoked_at: None,
        ip: Some("192.0.2.7".to_owned()),
        user_agent: None,
        passkey_verified_at: Some(at(0)),
    }
}

pub async fn sign_in_rows(store: &dyn Store) {
    let (a, ga) = org_with_group(store).await;
    let (b, gb) = org_with_group(store).await;
    let ua = user_value(a.id, "signer", ga.id);
    let ub = user_value(b.id, "signer", gb.id);
    let mut tx = begin(store).await;
    ok(tx.insert_user(&ua).await, "insert user a");
    ok(tx.insert_user(&ub).await, "insert user b");
    commit(tx).await;

    // Passwords: the newest `keep` stay in the history.
    let mut tx = begin(store).await;
    for (i, h) in ["h1", "h2", "h3", "h4"].iter().enumerate() {
        ok(
            tx.set_password(a.id, ua.id, h, at(i as i64), 2).await,
            "set password",
        );
    }
    commit(tx).await;
    let mut tx = read(store).await;
    let current = ok(tx.password(a.id, ua.id).await, "password").expect("a password");
    assert_eq!((current.hash.as_str(), current.set_at), ("h4", at(3)));
    assert_eq!(
        ok(tx.password_history(a.id, ua.id, 10).await, "history"),
        vec!["h4".to_owned(), "h3".to_owned()],
        "two kept, newest first"
    );
    assert_eq!(ok(tx.password(b.id, ua.id).await, "other org"), None);
    drop(tx);

    // Failures: counted atomically; a lock that ran out is lifted and counting restarts.
    let mut tx = begin(store).await;
    for n in 1..=3 {
        let f = ok(tx.record_sign_in_failure(a.id, ua.id, at(10)).await, "fail");
        assert_eq!(f.count, n);
    }
    ok(tx.lock_sign_in(a.id, ua.id, at(100)).await, "lock");
    let f = ok(
        tx.record_sign_in_failure(a.id, ua.id, at(50)).await,
        "fail locked",
    );
    assert_eq!((f.count, f.locked_until), (4, Some(at(100))));
    let f = ok(
        tx.record_sign_in_failure(a.id, ua.id, at(100)).await,
        "fail after",
    );
    assert_eq!((f.count, f.locked_until), (1, None), "the lock ran out");
    assert_eq!(
        ok(tx.sign_in_failures(b.id, ub.id).await, "other org").count,
        0
    );
    ok(tx.clear_sign_in_failures(a.id, ua.id).await, "clear");
    assert_eq!(
        ok(tx.sign_in_failures(a.id, ua.id).await, "cleared").count,
        0
    );
    commit(tx).await;

    // Sessions.
    let sa = session_value(a.id, ua.id, "hash-a");
    let sb = session_value(b.id, ub.id, "hash-b");
    let mut tx = begin(store).await;
    ok(tx.insert_session(&sa).await, "insert session a");
    let opened = SecurityEvent {
        id: SecurityEventId::from_uuid(uuid()),
        org_id: b.id,
        at: at(0),
        kind: "session.opened".to_owned(),
        user_id: Some(ub.id),
        actor_id: None,
        ip: Some("127.0.0.1".to_owned()),
        detail: json!({ "session_id": sb.id }),
    };
    ok(
        tx.insert_session_with_event(&sb, &opened).await,
        "insert session b with its event",
    );
    commit(tx).await;
    let mut tx = begin(store).await;
    assert_eq!(
        ok(tx.find_session_by_hash("hash-b").await, "by hash"),
        Some(sb.clone()),
        "found across organisations: the secret names its organisation"
    );
    let sessions_opened = SecurityEventQuery {
        limit: 10,
        kind: Some("session.".to_owned()),
        ..SecurityEventQuery::default()
    };
    assert_eq!(
        ok(
            tx.list_security_events(b.id, &sessions_opened).await,
            "opened"
        )
        .items,
        vec![opened],
        "the session's event is written with it"
    );
    assert_eq!(ok(tx.get_session(b.id, sa.id).await, "get other"), None);
    assert!(
        !ok(tx.revoke_session(b.id, sa.id, at(5)).await, "revoke other"),
        "organisation b cannot end a's session"
    );
    assert_eq!(
        ok(tx.live_sessions(a.id, ua.id, at(5)).await, "live"),
        vec![sa.clone()]
    );
    assert!(ok(tx.live_sessions(a.id, ua.id, at(3600)).await, "expired").is_empty());
    ok(tx.touch_session(a.id, sa.id, at(30)).await, "touch");
    ok(tx.touch_session(a.id, sa.id, at(20)).await, "touch older");
    assert!(ok(tx.revoke_session(a.id, sa.id, at(40)).await, "revoke"));
    let read_back = ok(tx.get_session(a.id, sa.id).await, "get").expect("session");
    assert_eq!(read_back.last_seen_at, at(30), "last seen never moves back");
    assert_eq!(read_back.revoked_at, Some(at(40)));
    assert!(ok(tx.live_sessions(a.id, ua.id, at(41)).await, "revoked").is_empty());
    commit(tx).await;

    // Password policies: the organisation's default, replaced whole; b sees none.
    let strict = PasswordPolicy {
        min_length: 14,
        require_digit: true,
        expiry_days: Some(90),
        ..PasswordPolicy::default()
    };
    let mut tx = begin(store).await;
    for policy in [PasswordPolicy::default(), strict.clone()] {
        ok(
            tx.put_password_policy(&StoredPasswordPolicy {
                org_id: a.id,
                user_type_id: None,
                policy,
            })
            .await,
            "put policy",
        );
    }
    assert_eq!(
        ok(tx.password_policy(a.id, None).await, "policy"),
        Some(strict)
    );
    assert_eq!(ok(tx.password_policy(b.id, None).await, "b policy"), None);
    commit(tx).await;

    // Events and alerts, listed per organisation, newest first.
    let event = |org, kind: &str, secs| SecurityEvent {
        id: SecurityEventId::from_uuid(uuid()),
        org_id: org,
        at: at(secs),
        kind: kind.to_owned(),
        user_id: None,
        actor_id: None,
        ip: None,
        detail: json!({ "n": secs }),
    };
    let e1 = event(a.id, "sign_in.failed", 1);
    let e2 = event(a.id, "sign_in.locked", 2);
    let e3 = event(b.id, "sign_in.failed", 3);
    let mut tx = begin(store).await;
    for e in [&e1, &e2, &e3] {
        ok(tx.insert_security_event(e).await, "insert event");
    }
    let alert = SecurityAlert {
        id: SecurityAlertId::from_uuid(uuid()),
        org_id: a.id,
        raised_at: at(2),
        rule: "repeated_failures".to_owned(),
        severity: "high".to_owned(),
        summary: "locked".to_owned(),
        user_id: Some(ua.id),
        event_id: e2.id,
        status: AlertStatus::Open,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        note: None,
    };
    ok(tx.insert_security_alert(&alert).await, "insert alert");
    commit(tx).await;
    let mut tx = begin(store).await;
    let newest_first = SecurityEventQuery {
        limit: 10,
        descending: true,
        ..SecurityEventQuery::default()
    };
    let listed = ok(tx.list_security_events(a.id, &newest_first).await, "events");
    assert_eq!(listed.items, vec![e2.clone(), e1.clone()]);
    let prefix = SecurityEventQuery {
        kind: Some("sign_in.".to_owned()),
        ..newest_first.clone()
    };
    assert_eq!(
        ok(tx.list_security_events(b.id, &prefix).await, "b events").items,
        vec![e3]
    );
    let paged = SecurityEventQuery {
        limit: 1,
        after: Some(e2.id.as_uuid()),
        ..newest_first
    };
    let page = ok(tx.list_security_events(a.id, &paged).await, "page");
    assert_eq!((page.items, page.has_more), (vec![e1], false));
    let mut resolved = alert.clone();
    resolved.status = AlertStatus::Resolved;
    resolved.resolved_at = Some(at(9));
    resolved.resolved_by = Some(ua.id);
    resolved.note = Some("done".to_owned());
    ok(tx.update_security_alert(&resolved).await, "update alert");
    assert_eq!(
        ok(tx.get_security_alert(a.id, alert.id).await, "get alert"),
        Some(resolved.clone())
    );
    assert_eq!(
        ok(tx.get_security_alert(b.id, alert.id).await, "b alert"),
        None
    );
    let open = SecurityAlertQuery {
        limit: 10,
        status: Some(AlertStatus::Open),
        ..SecurityAlertQuery::default()
    };
    assert!(
        ok(tx.list_security_alerts(a.id, &open).await, "open")
            .items
            .is_empty()
    );
    commit(tx).await;
}
