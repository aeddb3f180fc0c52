//! Access as of a past date at scale: the benchmark organisation (100,000 users) loaded
//! through the bulk service in process into a scratch SQLite store on 1 January, then a
//! year of daily changes made through the real services with the clock moved a day at a
//! time — every day grants made to and revoked from 50 probe users, memberships of theirs
//! added and removed, and a group grant moved — and then, a year later:
//!
//! - **one year back**: `Services::effective_roles(user, at)` for each probe user at noon on
//!   2 January (five times each), answered from the history;
//! - **six months back**, the same at noon on 2 July;
//! - **now**, the same from the live engine, for comparison.
//!
//! Every answer one year back is checked against what the live engine answered for the
//! same user on 2 January itself.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_api::{CreateGrant, CreateMembership, CreateRole, CreateSystem};
use latchkey_model::{FixedClock, GrantId, GroupId, MembershipId, RoleId, UserId, UuidV7Generator};
use latchkey_service::{Principal, Services};
use latchkey_store_sqlite::SqliteStore;

use crate::fmt_dur;
use crate::org::{Org, Rng};

const PROBES: usize = 50;
const DAYS: i64 = 365;
const DAY_ROLES: usize = 20;

pub fn run(seed: u64) -> Result<(), String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    let dir = std::env::temp_dir().join(format!("latchkey-bench-history-{now}"));
    std::fs::create_dir_all(&dir).map_err(err)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(err)?;
    let out = runtime.block_on(measure(&dir, seed));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

type Held = BTreeSet<(RoleId, Option<String>)>;

async fn held(
    services: &Services,
    admin: &Principal,
    user: UserId,
    at: Option<time::OffsetDateTime>,
) -> Result<(Held, Duration), String> {
    let t = Instant::now();
    let answer = services
        .effective_roles(admin, user, at)
        .await
        .map_err(err)?;
    let took = t.elapsed();
    Ok((
        answer
            .roles
            .into_iter()
            .map(|r| (r.role_id, r.scope))
            .collect(),
        took,
    ))
}

async fn measure(dir: &Path, seed: u64) -> Result<(), String> {
    let org = Org::generate(seed);
    let start = org.now;
    let clock = Arc::new(FixedClock::new(start));
    let file = dir.join("org.ndjson");
    let written = crate::ndjson::write(&org, &file).map_err(err)?;
    let store = Arc::new(
        SqliteStore::open(&dir.join("latchkey.db"))
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?,
    );
    let services = Services::new(store, clock.clone(), Arc::new(UuidV7Generator));
    let boot = services
        .bootstrap()
        .await
        .map_err(err)?
        .ok_or("the store was not empty")?;
    let admin = services.authenticate(&boot.token).await.map_err(err)?;
    let t = Instant::now();
    crate::rules::load(&services, &admin, &file).await?;
    eprintln!(
        "loaded {} records ({} users) in {}",
        written.lines,
        org.users.len(),
        fmt_dur(t.elapsed())
    );

    let system = services
        .create_system(
            &admin,
            CreateSystem {
                name: "History".to_owned(),
                ..CreateSystem::default()
            },
        )
        .await
        .map_err(err)?;
    let mut day_roles = Vec::new();
    for k in 0..DAY_ROLES {
        let role = services
            .create_role(
                &admin,
                CreateRole {
                    name: format!("Day role {k}"),
                    system_id: system.id,
                    description: None,
                    category: None,
                    domain_type: None,
                    domain_id: None,
                    external_id: None,
                    owner_id: None,
                    privileged: None,
                    permissions: Vec::new(),
                },
            )
            .await
            .map_err(err)?;
        day_roles.push(role.id);
    }
    let mut rng = Rng::new(seed ^ 0x4849_5354);
    let mut probes: Vec<UserId> = Vec::new();
    {
        let mut tx = services.store().read().await.map_err(err)?;
        while probes.len() < PROBES {
            let i = rng.below(org.users.len());
            let name = format!("user{i:06}");
            if let Some(u) = tx
                .get_user_by_name(admin.org_id, &name)
                .await
                .map_err(err)?
                && !probes.contains(&u.id)
            {
                probes.push(u.id);
            }
        }
    }
    let groups: Vec<GroupId> = org.groups.clone();

    // A year of days. Each: ten grants and five revocations among the probes, five
    // memberships added and five removed, one group grant moved.
    let mut grants: Vec<(UserId, GrantId)> = Vec::new();
    let mut memberships: Vec<MembershipId> = Vec::new();
    let mut group_grant: Option<GrantId> = None;
    let mut writes = 0u64;
    let mut day_one: Vec<Held> = Vec::new();
    let t = Instant::now();
    for day in 1..=DAYS {
        clock.set(start + time::Duration::days(day) + time::Duration::hours(9));
        for k in 0..10 {
            let user = probes[rng.below(PROBES)];
            let role = day_roles[(day as usize + k) % DAY_ROLES];
            let made = services
                .create_grant(
                    &admin,
                    CreateGrant {
                        role_id: role,
                        user_id: Some(user),
                        group_id: None,
                        scope: None,
                        starts_at: None,
                        ends_at: None,
                    },
                )
                .await;
            writes += 1;
            if let Ok(g) = made {
                grants.push((user, g.id));
            }
        }
        for _ in 0..5 {
            if grants.is_empty() {
                break;
            }
            let (_, id) = grants.remove(rng.below(grants.len()));
            services.revoke_grant(&admin, id).await.map_err(err)?;
            writes += 1;
        }
        for _ in 0..5 {
            let user = probes[rng.below(PROBES)];
            let group = groups[rng.below(groups.len())];
            let made = services
                .create_membership(
                    &admin,
                    CreateMembership {
                        user_id: user,
                        group_id: group,
                        starts_at: None,
                        ends_at: None,
                        comments: None,
                        attributes: Default::default(),
                    },
                )
                .await;
            writes += 1;
            if let Ok(m) = made {
                memberships.push(m.id);
            }
        }
        for _ in 0..5 {
            if memberships.len() < 10 {
                break;
            }
            let id = memberships.remove(rng.below(memberships.len()));
            services.delete_membership(&admin, id).await.map_err(err)?;
            writes += 1;
        }
        if let Some(id) = group_grant.take() {
            services.revoke_grant(&admin, id).await.map_err(err)?;
            writes += 1;
        }
        let group = groups[rng.below(groups.len())];
        if let Ok(g) = services
            .create_grant(
                &admin,
                CreateGrant {
                    role_id: day_roles[day as usize % DAY_ROLES],
                    user_id: None,
                    group_id: Some(group),
                    scope: None,
                    starts_at: None,
                    ends_at: None,
                },
            )
            .await
        {
            group_grant = Some(g.id);
        }
        writes += 1;
        if day == 1 {
            // What the live engine says at noon on 2 January, to check the history by.
            clock.set(start + time::Duration::days(1) + time::Duration::hours(12));
            for &u in &probes {
                day_one.push(held(&services, &admin, u, None).await?.0);
            }
        }
    }
    let year = t.elapsed();
    clock.set(start + time::Duration::days(DAYS) + time::Duration::hours(12));

    let one_year_back = start + time::Duration::days(1) + time::Duration::hours(12);
    let six_months_back = start + time::Duration::days(182) + time::Duration::hours(12);
    let mut back_year = Vec::new();
    let mut back_half = Vec::new();
    let mut live = Vec::new();
    for round in 0..5 {
        for (i, &u) in probes.iter().enumerate() {
            let (roles, took) = held(&services, &admin, u, Some(one_year_back)).await?;
            if round == 0 && roles != day_one[i] {
                return Err(format!(
                    "user {u} one year back: the history answers {} roles, the engine then {}",
                    roles.len(),
                    day_one[i].len()
                ));
            }
            back_year.push(took);
            back_half.push(held(&services, &admin, u, Some(six_months_back)).await?.1);
            live.push(held(&services, &admin, u, None).await?.1);
        }
    }
    let revisions = {
        let mut tx = services.store().read().await.map_err(err)?;
        tx.revision(admin.org_id)
            .await
            .map_err(err)?
            .unwrap_or_default()
    };

    println!(
        "\nAccess history, SQLite, {} users, {DAYS} days of changes ({writes} writes, revision {revisions}) made in {}",
        org.users.len() + 1,
        fmt_dur(year)
    );
    println!("| effective roles of one user | p50 | p99 | max | target |");
    println!("| --- | --- | --- | --- | --- |");
    for (label, samples, target) in [
        (
            "one year back (`?at=`, from the history)",
            &mut back_year,
            "≤ 50 ms",
        ),
        ("six months back", &mut back_half, ""),
        ("now (the live engine)", &mut live, ""),
    ] {
        samples.sort();
        let pick = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize];
        println!(
            "| {label} | {} | {} | {} | {target} |",
            fmt_dur(pick(0.5)),
            fmt_dur(pick(0.99)),
            fmt_dur(pick(1.0))
        );
    }
    println!(
        "({} probe users × 5; every answer one year back equals the engine's answer then)",
        PROBES
    );
    Ok(())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
