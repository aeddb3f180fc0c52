//! Conformance story of invitations, passkeys and finished WebAuthn ceremonies:
//! invitations found by hash across organisations but read within their own, revoked or
//! accepted once; passkeys unique by credential id, renamed, used and deleted within their
//! organisation; a ceremony finished once.

use latchkey_model::{CeremonyId, Invitation, InvitationId, PasskeyId, PasskeyRecord};

use super::{
    at, begin, commit, ok, org_with_group, read, role_value, system_value, user_value, uuid,
};
use crate::Store;

pub async fn credential_rows(store: &dyn Store) {
    let (a, ga) = org_with_group(store).await;
    let (b, gb) = org_with_group(store).await;
    let ua = user_value(a.id, "holder", ga.id);
    let ub = user_value(b.id, "holder", gb.id);
    let sys = system_value(a.id, "Wiki", None);
    let role = role_value(a.id, sys.id, "Reader");
    let mut tx = begin(store).await;
    ok(tx.insert_user(&ua).await, "insert user a");
    ok(tx.insert_user(&ub).await, "insert user b");
    ok(tx.insert_system(&sys).await, "insert system");
    ok(tx.insert_role(&role).await, "insert role");
    commit(tx).await;

    // Invitations.
    let invitation = |email: &str, hash: &str| Invitation {
        id: InvitationId::from_uuid(uuid()),
        org_id: a.id,
        email: email.to_owned(),
        role_id: role.id,
        group_id: Some(ga.id),
        token_hash: hash.to_owned(),
        invited_by: ua.id,
        created_at: at(0),
        expires_at: at(600),
        accepted_at: None,
        user_id: None,
        revoked_at: None,
        revoked_by: None,
    };
    let first = invitation("New@Example.com", "hash-1");
    let second = invitation("other@example.com", "hash-2");
    let mut tx = begin(store).await;
    ok(tx.insert_invitation(&first).await, "insert invitation");
    ok(tx.insert_invitation(&second).await, "insert invitation");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.find_invitation_by_hash("hash-1").await, "by hash"),
        Some(first.clone())
    );
    assert_eq!(
        ok(tx.get_invitation(b.id, first.id).await, "other org"),
        None
    );
    let to_new = ok(
        tx.list_invitations(a.id, Some("new@example.COM")).await,
        "by email",
    );
    assert_eq!(to_new, vec![first.clone()], "emails compare without case");
    assert_eq!(ok(tx.list_invitations(a.id, None).await, "all").len(), 2);
    assert!(ok(tx.list_invitations(b.id, None).await, "b").is_empty());
    drop(tx);
    let mut tx = begin(store).await;
    assert!(
        !ok(
            tx.accept_invitation(a.id, first.id, at(700), ua.id).await,
            "late"
        ),
        "an expired invitation is not accepted"
    );
    assert!(ok(
        tx.accept_invitation(a.id, first.id, at(10), ua.id).await,
        "accept"
    ));
    assert!(
        !ok(
            tx.accept_invitation(a.id, first.id, at(11), ua.id).await,
            "again"
        ),
        "accepted once"
    );
    assert!(
        !ok(
            tx.revoke_invitation(a.id, first.id, at(12), ua.id).await,
            "revoke accepted"
        ),
        "an accepted invitation is not revoked"
    );
    assert!(!ok(
        tx.revoke_invitation(b.id, second.id, at(12), ub.id).await,
        "other org"
    ));
    assert!(ok(
        tx.revoke_invitation(a.id, second.id, at(12), ua.id).await,
        "revoke"
    ));
    assert!(
        !ok(
            tx.accept_invitation(a.id, second.id, at(13), ua.id).await,
            "revoked"
        ),
        "a revoked invitation is not accepted"
    );
    commit(tx).await;
    let mut tx = read(store).await;
    let accepted = ok(tx.get_invitation(a.id, first.id).await, "get").expect("exists");
    assert_eq!(
        (accepted.accepted_at, accepted.user_id),
        (Some(at(10)), Some(ua.id))
    );
    drop(tx);

    // Passkeys.
    let passkey = |org, user, name: &str, credential_id: &str| PasskeyRecord {
        id: PasskeyId::from_uuid(uuid()),
        org_id: org,
        user_id: user,
        name: name.to_owned(),
        credential_id: credential_id.to_owned(),
        credential: "{\"counter\":0}".to_owned(),
        created_at: at(0),
        last_used_at: None,
    };
    let laptop = passkey(a.id, ua.id, "laptop", "cred-1");
    let phone = passkey(a.id, ua.id, "phone", "cred-2");
    let mut tx = begin(store).await;
    ok(tx.insert_passkey(&laptop).await, "insert passkey");
    ok(tx.insert_passkey(&phone).await, "insert passkey");
    commit(tx).await;
    let mut tx = begin(store).await;
    assert!(
        tx.insert_passkey(&passkey(b.id, ub.id, "copy", "cred-1"))
            .await
            .is_err(),
        "a credential id is unique across the installation"
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert_eq!(ok(tx.count_passkeys(a.id, ua.id).await, "count"), 2);
    assert_eq!(ok(tx.count_passkeys(b.id, ua.id).await, "count b"), 0);
    assert!(ok(
        tx.rename_passkey(a.id, phone.id, "old phone").await,
        "rename"
    ));
    assert!(!ok(
        tx.rename_passkey(b.id, phone.id, "x").await,
        "rename other org"
    ));
    ok(
        tx.use_passkey(a.id, laptop.id, "{\"counter\":5}", at(20))
            .await,
        "use",
    );
    ok(tx.touch_passkey(a.id, phone.id, at(21)).await, "touch");
    assert!(!ok(
        tx.delete_passkey(b.id, laptop.id).await,
        "delete other org"
    ));
    commit(tx).await;
    let mut tx = read(store).await;
    let found = ok(tx.find_passkey_by_credential("cred-1").await, "find").expect("found");
    assert_eq!(
        (found.credential.as_str(), found.last_used_at),
        ("{\"counter\":5}", Some(at(20)))
    );
    let listed = ok(tx.list_passkeys(a.id, ua.id).await, "list");
    assert_eq!(
        listed
            .iter()
            .map(|k| (k.name.as_str(), k.last_used_at))
            .collect::<Vec<_>>(),
        vec![("laptop", Some(at(20))), ("old phone", Some(at(21)))]
    );
    assert!(ok(tx.list_passkeys(b.id, ua.id).await, "list other org").is_empty());
    let (found, owner) = ok(tx.find_passkey_with_user("cred-1").await, "find with user")
        .expect("found with its user");
    assert_eq!(
        (found.id, found.last_used_at, owner.id, owner.org_id),
        (laptop.id, Some(at(20)), ua.id, a.id)
    );
    assert!(ok(tx.find_passkey_with_user("cred-9").await, "unknown").is_none());
    let (id, keys) =
        ok(tx.passkeys_by_user_name(a.id, "holder").await, "by name").expect("the holder of a");
    assert_eq!(
        (id, keys.iter().map(|k| k.name.as_str()).collect::<Vec<_>>()),
        (ua.id, vec!["laptop", "old phone"])
    );
    let (id, keys) = ok(
        tx.passkeys_by_user_name(b.id, "holder").await,
        "by name in b",
    )
    .expect("the holder of b, with no passkey");
    assert_eq!((id, keys.len()), (ub.id, 0));
    assert!(
        ok(tx.passkeys_by_user_name(a.id, "nobody").await, "nobody").is_none(),
        "no user of that name"
    );
    drop(tx);
    let mut tx = begin(store).await;
    assert!(ok(tx.delete_passkey(a.id, laptop.id).await, "delete"));
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.find_passkey_by_credential("cred-1").await, "gone"),
        None
    );
    drop(tx);
    // A lookup (no transaction) reads what is committed, across organisations too.
    let mut look = ok(store.lookup().await, "lookup");
    assert_eq!(ok(look.count_passkeys(a.id, ua.id).await, "count"), 1);
    let (found, owner) =
        ok(look.find_passkey_with_user("cred-2").await, "find").expect("the phone is still there");
    assert_eq!((found.name.as_str(), owner.id), ("old phone", ua.id));
    drop(look);

    // Ceremonies finish once; purging forgets only expired ones.
    let (old, live) = (CeremonyId::from_uuid(uuid()), CeremonyId::from_uuid(uuid()));
    let mut tx = begin(store).await;
    assert!(ok(tx.finish_ceremony(old, at(100)).await, "finish"));
    assert!(
        !ok(tx.finish_ceremony(old, at(100)).await, "again"),
        "finished once"
    );
    assert!(ok(tx.finish_ceremony(live, at(900)).await, "finish live"));
    ok(tx.purge_ceremonies(at(500)).await, "purge");
    assert!(
        ok(tx.finish_ceremony(old, at(100)).await, "after purge"),
        "an expired ceremony is forgotten (its seal refuses it anyway)"
    );
    assert!(
        !ok(tx.finish_ceremony(live, at(900)).await, "live"),
        "a live one is kept"
    );
    commit(tx).await;

    // A sign-in's use of a passkey and the end of its ceremony, in one round trip.
    let signed = CeremonyId::from_uuid(uuid());
    let mut tx = begin(store).await;
    assert!(ok(
        tx.use_passkey_finishing(
            a.id,
            phone.id,
            Some("{\"counter\":9}"),
            at(30),
            signed,
            at(900)
        )
        .await,
        "use, finishing"
    ));
    commit(tx).await;
    let mut tx = begin(store).await;
    assert!(
        !ok(
            tx.use_passkey_finishing(a.id, phone.id, None, at(31), signed, at(900))
                .await,
            "again"
        ),
        "the ceremony finishes once"
    );
    // The replay's caller rolls back.
    drop(tx);
    let mut tx = begin(store).await;
    assert!(
        !ok(
            tx.use_passkey_finishing(a.id, phone.id, None, at(32), live, at(900))
                .await,
            "a live ceremony"
        ),
        "a ceremony finished by finish_ceremony is finished here too"
    );
    drop(tx);
    let mut tx = read(store).await;
    let phone_now = ok(tx.get_passkey(a.id, phone.id).await, "get").expect("phone");
    assert_eq!(
        (phone_now.credential.as_str(), phone_now.last_used_at),
        ("{\"counter\":9}", Some(at(30))),
        "the first use's credential and time; no credential keeps the stored one"
    );
    drop(tx);
    let untouched = CeremonyId::from_uuid(uuid());
    let mut tx = begin(store).await;
    assert!(ok(
        tx.use_passkey_finishing(a.id, phone.id, None, at(40), untouched, at(900))
            .await,
        "touch, finishing"
    ));
    let phone_now = ok(tx.get_passkey(a.id, phone.id).await, "get").expect("phone");
    assert_eq!(
        (phone_now.credential.as_str(), phone_now.last_used_at),
        ("{\"counter\":9}", Some(at(40)))
    );
    commit(tx).await;
}
