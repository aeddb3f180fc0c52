//! Role assignment rules at scale: the benchmark organisation of the engine benchmark
//! (100,000 users, 10,000 groups, 2,000 roles, their memberships and grants, generated from
//! the seed) loaded through the bulk NDJSON service in process into a scratch SQLite store,
//! then a rule matching 30% of the users — `user.user_name.matches("[0-2]$")`, the users
//! whose number ends in 0, 1 or 2 — previewed and applied through the real services:
//!
//! - **preview**: `Services::preview_assignment_rule`, timed call to answer (three runs);
//! - **apply**: `Services::apply_assignment_rule` until its run reports `succeeded`, polled
//!   every millisecond, then until a check in the engine sees the last grant;
//! - **apply again** (nothing to change) and **revoke** (the rule edited to match nobody,
//!   applied: every grant it made goes).
//!
//! Every figure is checked: the diff holds exactly the 30,000 users the generator named,
//! the run made exactly that many grants, and the engine answers accordingly.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use latchkey_api::{CreateAssignmentRule, CreateRole, CreateSystem, UpdateAssignmentRule};
use latchkey_model::{AssignmentRuleId, RunStatus, SystemClock, UuidV7Generator};
use latchkey_service::{Principal, Services};
use latchkey_store_sqlite::SqliteStore;
use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;

use crate::org::Org;
use crate::{fmt_dur, ndjson};

pub fn run(seed: u64, keep: bool) -> Result<(), String> {
    let dir = scratch(keep)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(err)?;
    let out = runtime.block_on(measure(&dir, seed));
    if keep {
        eprintln!("kept the store in {}", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    out
}

fn scratch(_keep: bool) -> Result<std::path::PathBuf, String> {
    let now = latchkey_model::Clock::now(&SystemClock).unix_timestamp_nanos();
    let dir = std::env::temp_dir().join(format!("latchkey-bench-rules-{now}"));
    std::fs::create_dir_all(&dir).map_err(err)?;
    Ok(dir)
}

async fn measure(dir: &Path, seed: u64) -> Result<(), String> {
    let org = Org::generate(seed);
    let file = dir.join("org.ndjson");
    let written = ndjson::write(&org, &file).map_err(err)?;
    let store = Arc::new(
        SqliteStore::open(&dir.join("latchkey.db"))
            .await
            .map_err(|e| format!("cannot open the store: {e}"))?,
    );
    let services = Services::new(store, Arc::new(SystemClock), Arc::new(UuidV7Generator));
    let boot = services
        .bootstrap()
        .await
        .map_err(err)?
        .ok_or("the store was not empty")?;
    let admin = services.authenticate(&boot.token).await.map_err(err)?;

    let started = Instant::now();
    load(&services, &admin, &file).await?;
    eprintln!(
        "loaded {} records ({} users) in {}",
        written.lines,
        org.users.len(),
        fmt_dur(started.elapsed())
    );

    let system = services
        .create_system(
            &admin,
            CreateSystem {
                name: "Rules".to_owned(),
                ..CreateSystem::default()
            },
        )
        .await
        .map_err(err)?;
    let role = services
        .create_role(
            &admin,
            CreateRole {
                name: "Digit reader".to_owned(),
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
    let rule = services
        .create_assignment_rule(
            &admin,
            CreateAssignmentRule {
                name: "Thirty percent".to_owned(),
                expression: r#"user.user_name.matches("[0-2]$")"#.to_owned(),
                role_ids: vec![role.id],
                ..CreateAssignmentRule::default()
            },
        )
        .await
        .map_err(err)?;
    let id = rule.rule.id;
    let expected = org.users.len() * 3 / 10;

    let mut previews = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let diff = services
            .preview_assignment_rule(&admin, id, Some(10))
            .await
            .map_err(err)?;
        previews.push(t.elapsed());
        if diff.gains_total != expected as u64 || diff.losses_total != 0 {
            return Err(format!(
                "the preview gives {} gains and {} losses, not {expected} and 0",
                diff.gains_total, diff.losses_total
            ));
        }
    }

    let (applied, seen) = apply(&services, &admin, id, expected as i64, 0).await?;
    let org_id = admin.org_id;
    // user000002 ends in 2: the rule gives it the role.
    let user = {
        let mut tx = services.store().read().await.map_err(err)?;
        tx.get_user_by_name(org_id, "user000002")
            .await
            .map_err(err)?
            .ok_or("user000002 was not loaded")?
            .id
    };
    if !holds(&services, org_id, user, role.id).await? {
        return Err("the engine does not see the rule's grant".to_owned());
    }
    let (again, _) = apply(&services, &admin, id, 0, 0).await?;
    let t = Instant::now();
    let diff = services
        .preview_assignment_rule(&admin, id, Some(10))
        .await
        .map_err(err)?;
    let preview_nothing = t.elapsed();
    if diff.gains_total != 0 || diff.losses_total != 0 {
        return Err("a second preview still finds changes".to_owned());
    }
    services
        .update_assignment_rule(
            &admin,
            id,
            UpdateAssignmentRule {
                expression: Some("false".to_owned()),
                ..UpdateAssignmentRule::default()
            },
            None,
        )
        .await
        .map_err(err)?;
    let (revoked, _) = apply(&services, &admin, id, 0, expected as i64).await?;
    if holds(&services, org_id, user, role.id).await? {
        return Err("the engine still sees a revoked grant".to_owned());
    }

    let users = org.users.len() + 1;
    println!(
        "\nRole assignment rules, SQLite, {users} users, a rule matching {expected} ({:.0}%)",
        expected as f64 * 100.0 / users as f64
    );
    println!("| figure | time | target |");
    println!("| --- | --- | --- |");
    previews.sort();
    println!(
        "| preview (gains {expected}), median of 3 (min / max) | {} ({} / {}) | ≤ 2 s |",
        fmt_dur(previews[1]),
        fmt_dur(previews[0]),
        fmt_dur(previews[2])
    );
    println!(
        "| apply: {expected} grants until the run succeeded | {} | ≤ 2 s |",
        fmt_dur(applied)
    );
    println!(
        "| apply: until the engine answered the last grant | {} | |",
        fmt_dur(seen)
    );
    println!(
        "| preview with nothing to change | {} | |",
        fmt_dur(preview_nothing)
    );
    println!("| apply with nothing to change | {} | |", fmt_dur(again));
    println!(
        "| apply revoking {expected} grants | {} | |",
        fmt_dur(revoked)
    );
    Ok(())
}

/// Applies the rule and waits for its run; checks its counts; answers the time to the
/// run's success and to the engine having caught up with it.
async fn apply(
    services: &Services,
    admin: &Principal,
    id: AssignmentRuleId,
    granted: i64,
    revoked: i64,
) -> Result<(Duration, Duration), String> {
    let t = Instant::now();
    let run = services
        .apply_assignment_rule(admin, id)
        .await
        .map_err(err)?;
    loop {
        let now = services
            .get_rule_run(admin, id, run.id)
            .await
            .map_err(err)?;
        match now.status {
            RunStatus::Running => tokio::time::sleep(Duration::from_millis(1)).await,
            RunStatus::Failed => return Err(format!("the run failed: {:?}", now.message)),
            RunStatus::Succeeded => {
                let done = t.elapsed();
                if now.granted != granted || now.revoked != revoked {
                    return Err(format!(
                        "the run granted {} and revoked {}, not {granted} and {revoked}",
                        now.granted, now.revoked
                    ));
                }
                services.catch_up(admin.org_id).await.map_err(err)?;
                return Ok((done, t.elapsed()));
            }
        }
    }
}

/// Streams the NDJSON file into `Services::bulk_load`, draining its answers.
pub(crate) async fn load(
    services: &Services,
    admin: &Principal,
    file: &Path,
) -> Result<(), String> {
    let (lines, input) = tokio::sync::mpsc::channel(4_096);
    let (output, mut answers) = tokio::sync::mpsc::channel::<Value>(4_096);
    let path = file.to_owned();
    let feeder = tokio::spawn(async move {
        let f = tokio::fs::File::open(&path).await.map_err(err)?;
        let mut reader = tokio::io::BufReader::new(f).lines();
        while let Some(line) = reader.next_line().await.map_err(err)? {
            if lines.send(Ok(line)).await.is_err() {
                break;
            }
        }
        Ok::<(), String>(())
    });
    let drain = tokio::spawn(async move {
        let mut errors = Vec::new();
        while let Some(answer) = answers.recv().await {
            if let Some(e) = answer.get("error")
                && errors.len() < 5
            {
                errors.push(e.to_string());
            }
        }
        errors
    });
    services
        .bulk_load(admin, input, output)
        .await
        .map_err(err)?;
    feeder.await.map_err(err)??;
    let errors = drain.await.map_err(err)?;
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the bulk load refused records: {}",
            errors.join("; ")
        ))
    }
}

/// Whether the engine, now, gives `role` to `user`.
async fn holds(
    services: &Services,
    org: latchkey_model::OrgId,
    user: latchkey_model::UserId,
    role: latchkey_model::RoleId,
) -> Result<bool, String> {
    let engine = services.engine(org).await.map_err(err)?;
    let state = engine.read();
    Ok(state.engine.holds(user, role, None, now()))
}

fn now() -> time::OffsetDateTime {
    latchkey_model::Clock::now(&SystemClock)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
