//! Conformance story of TOTP devices: exact round trips of the sealed bytes, a name unique
//! per user (not per organisation), a step accepted once and never an earlier one, failure
//! counts cleared by an accepted step, devices scoped to their organisation and gone with
//! their user.

use latchkey_model::{OrgId, TotpDevice, TotpDeviceId, UserId};

use super::{at, begin, commit, conflict, ok, org_with_group, read, user_value, uuid};
use crate::Store;

fn device_value(org: OrgId, user: UserId, name: &str) -> TotpDevice {
    TotpDevice {
        id: TotpDeviceId::from_uuid(uuid()),
        org_id: org,
        user_id: user,
        name: name.to_owned(),
        // Every byte value, zeros included, must come back as it went in.
        sealed_secret: (0..=255u8).rev().chain(0..=255u8).collect(),
        created_at: at(0),
        verified_at: None,
        last_used_step: None,
        failed_attempts: 0,
        last_failure_at: None,
    }
}

pub async fn totp_devices(store: &dyn Store) {
    let (a, ga) = org_with_group(store).await;
    let (b, gb) = org_with_group(store).await;
    let ua = user_value(a.id, "holder", ga.id);
    let ua2 = user_value(a.id, "other", ga.id);
    let ub = user_value(b.id, "holder", gb.id);
    let mut tx = begin(store).await;
    for u in [&ua, &ua2, &ub] {
        ok(tx.insert_user(u).await, "insert user");
    }
    commit(tx).await;

    let phone = device_value(a.id, ua.id, "phone");
    let laptop = device_value(a.id, ua.id, "laptop");
    let mut tx = begin(store).await;
    ok(tx.insert_totp_device(&phone).await, "insert phone");
    ok(tx.insert_totp_device(&laptop).await, "insert laptop");
    // Another user, and another organisation, may use the same name.
    ok(
        tx.insert_totp_device(&device_value(a.id, ua2.id, "phone"))
            .await,
        "same name, other user",
    );
    ok(
        tx.insert_totp_device(&device_value(b.id, ub.id, "phone"))
            .await,
        "same name, other organisation",
    );
    commit(tx).await;
    let mut tx = begin(store).await;
    conflict(
        tx.insert_totp_device(&device_value(a.id, ua.id, "phone"))
            .await,
        "totp_devices.name",
        "a user's names are unique",
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_totp_device(a.id, phone.id).await, "get"),
        Some(phone.clone()),
        "exact round trip"
    );
    assert_eq!(
        ok(tx.totp_devices(a.id, ua.id).await, "list"),
        vec![phone.clone(), laptop.clone()],
        "oldest first"
    );
    assert_eq!(
        ok(tx.get_totp_device(b.id, phone.id).await, "other org"),
        None
    );
    assert!(ok(tx.totp_devices(b.id, ua.id).await, "other org list").is_empty());
    drop(tx);

    // Failures count up; an accepted step clears them, marks the device verified once,
    // and refuses that step and every earlier one afterwards.
    let mut tx = begin(store).await;
    assert_eq!(
        ok(tx.record_totp_failure(a.id, phone.id, at(5)).await, "fail"),
        1
    );
    assert_eq!(
        ok(tx.record_totp_failure(a.id, phone.id, at(6)).await, "fail"),
        2
    );
    assert_eq!(
        ok(
            tx.record_totp_failure(b.id, phone.id, at(6)).await,
            "other org"
        ),
        0,
        "another organisation's device is not counted"
    );
    commit(tx).await;
    let mut tx = read(store).await;
    let d = ok(tx.get_totp_device(a.id, phone.id).await, "get").expect("phone");
    assert_eq!((d.failed_attempts, d.last_failure_at), (2, Some(at(6))));
    drop(tx);

    let mut tx = begin(store).await;
    assert!(!ok(
        tx.accept_totp_step(b.id, phone.id, 100, at(10)).await,
        "other org"
    ));
    assert!(ok(
        tx.accept_totp_step(a.id, phone.id, 100, at(10)).await,
        "accept"
    ));
    assert!(
        !ok(
            tx.accept_totp_step(a.id, phone.id, 100, at(11)).await,
            "same step"
        ),
        "a replay is refused"
    );
    assert!(!ok(
        tx.accept_totp_step(a.id, phone.id, 99, at(11)).await,
        "earlier step"
    ));
    assert!(ok(
        tx.accept_totp_step(a.id, phone.id, 101, at(40)).await,
        "next step"
    ));
    commit(tx).await;
    let mut tx = read(store).await;
    let d = ok(tx.get_totp_device(a.id, phone.id).await, "get").expect("phone");
    assert_eq!(
        d.verified_at,
        Some(at(10)),
        "verified once, at the first step"
    );
    assert_eq!(d.last_used_step, Some(101));
    assert_eq!(d.failed_attempts, 0, "cleared by an accepted code");
    drop(tx);

    // Deleting is scoped to the organisation; a user's devices go with the user.
    let mut tx = begin(store).await;
    assert!(!ok(
        tx.delete_totp_device(b.id, laptop.id).await,
        "other org"
    ));
    assert!(ok(tx.delete_totp_device(a.id, laptop.id).await, "delete"));
    assert!(!ok(tx.delete_totp_device(a.id, laptop.id).await, "again"));
    ok(tx.delete_user(a.id, ua.id).await, "delete user");
    commit(tx).await;
    let mut tx = read(store).await;
    assert_eq!(
        ok(tx.get_totp_device(a.id, phone.id).await, "cascade"),
        None
    );
    assert_eq!(
        ok(tx.totp_devices(a.id, ua2.id).await, "other user").len(),
        1
    );
}
