//! The console's pages at scale: the benchmark organisation of the engine benchmark
//! (100,000 users, 10,000 groups, 2,000 roles, their memberships and grants, generated from
//! the seed) loaded through the bulk NDJSON service in process into a scratch SQLite store,
//! then every main console page rendered by the real application (`latchkey_server`'s
//! router, called in process, so the figure is server time: routing, authentication, the
//! services, the template and the whole body, without a socket), signed in as the first
//! administrator. Each page is asked 3 times to warm up, then 30 times; the table gives
//! the median and the slowest. Every answer must be 200 with a page that names what it
//! shows, so a page that fails fast is never counted as fast.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use latchkey_model::{SystemClock, UuidV7Generator};
use latchkey_service::Services;
use latchkey_store_sqlite::SqliteStore;
use tower::ServiceExt as _;

use crate::org::Org;
use crate::{fmt_dur, ndjson};

const WARM_UP: usize = 3;
const RUNS: usize = 30;
/// Request bodies are not sent; the limit only has to be valid.
const MAX_BODY: usize = 1 << 20;

pub fn run(seed: u64) -> Result<(), String> {
    let now = latchkey_model::Clock::now(&SystemClock).unix_timestamp_nanos();
    let dir = std::env::temp_dir().join(format!("latchkey-bench-console-{now}"));
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
    crate::rules::load(&services, &admin, &file).await?;
    eprintln!(
        "loaded {} records ({} users) in {}",
        written.lines,
        org.users.len(),
        fmt_dur(started.elapsed())
    );

    let (user, group) = {
        let mut tx = services.store().read().await.map_err(err)?;
        let user = tx
            .get_user_by_name(admin.org_id, "user000002")
            .await
            .map_err(err)?
            .ok_or("user000002 was not loaded")?;
        (user.id, user.primary_group_id)
    };
    // An instant after the load, for the pages that show the past.
    std::thread::sleep(Duration::from_millis(20));
    let past = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(err)?;
    std::thread::sleep(Duration::from_millis(20));
    // The role with the most holders, and its system: the heaviest role page.
    let (role, system, most) = {
        let engine = services.engine(admin.org_id).await.map_err(err)?;
        let state = engine.read();
        let now = time::OffsetDateTime::now_utc();
        let (role, (_, system)) = state
            .roles
            .iter()
            .max_by_key(|(r, _)| state.engine.holders(**r, now).len())
            .ok_or("no role")?;
        (*role, *system, state.engine.holders(*role, now).len())
    };
    // The role's page must count every holder the engine has.
    let holders_shown = format!("{most} effective holders");
    let app = latchkey_server::build_app(services.clone(), MAX_BODY);
    let bearer = format!("Bearer {}", boot.token);
    let pages: Vec<(String, String, &str)> = vec![
        ("users list".into(), "/users".into(), "user0"),
        (
            "users list, searched".into(),
            "/users?q=user04217".into(),
            "user04217",
        ),
        (
            "user page, details".into(),
            format!("/users/{user}"),
            "user000002",
        ),
        (
            "user page, groups".into(),
            format!("/users/{user}?tab=groups"),
            "user000002",
        ),
        (
            "user page, roles".into(),
            format!("/users/{user}?tab=roles"),
            "user000002",
        ),
        (
            "user page, effective access tree".into(),
            format!("/users/{user}?tab=access"),
            "via",
        ),
        ("groups tree".into(), "/groups".into(), "Groups"),
        (
            "a group's subgroups (htmx)".into(),
            format!("/groups/{group}/children"),
            "",
        ),
        (
            "a group's page".into(),
            format!("/groups/{group}"),
            "Members",
        ),
        ("roles".into(), "/roles".into(), "Roles"),
        (
            "systems tree".into(),
            "/systems".into(),
            "Information systems",
        ),
        (
            "a system's page".into(),
            format!("/systems/{system}"),
            "Domains",
        ),
        (
            format!("the role with the most holders ({most})"),
            format!("/roles/{role}"),
            holders_shown.as_str(),
        ),
        (
            "the same role, holders' second page".into(),
            format!("/roles/{role}?hoffset=50"),
            holders_shown.as_str(),
        ),
        (
            "a group as of a past instant".into(),
            format!("/groups/{group}?at={past}"),
            "Past state",
        ),
        ("audit trail".into(), "/audit".into(), "Audit"),
        ("security center".into(), "/security".into(), "Security"),
        ("my account".into(), "/account".into(), "account"),
        (
            "user page, sessions".into(),
            format!("/users/{user}?tab=sessions"),
            "user000002",
        ),
        (
            "user page, security events".into(),
            format!("/users/{user}?tab=security"),
            "user000002",
        ),
        (
            "user page, audit".into(),
            format!("/users/{user}?tab=activity"),
            "user000002",
        ),
        (
            "delete a user: ownership review".into(),
            format!("/users/{user}/delete"),
            "user000002",
        ),
        (
            "disable a user: confirmation".into(),
            format!("/users/{user}/disable"),
            "user000002",
        ),
        (
            "invite form".into(),
            "/users/invite".into(),
            "Invite someone",
        ),
        (
            "CSV import form".into(),
            "/users/import".into(),
            "Import users",
        ),
        ("workspaces".into(), "/workspaces".into(), "Workspaces"),
        ("rules".into(), "/rules".into(), "Role assignment rules"),
        (
            "new rule form".into(),
            "/rules/new".into(),
            "New role assignment rule",
        ),
        ("SoD rules".into(), "/sod".into(), "Segregation of duties"),
        (
            "new SoD rule form".into(),
            "/sod/new".into(),
            "New segregation-of-duties rule",
        ),
        ("approvals queue".into(), "/approvals".into(), "Approvals"),
        (
            "approvals, every request".into(),
            "/approvals?queue=all".into(),
            "Approvals",
        ),
        ("access reviews".into(), "/reviews".into(), "Access reviews"),
        (
            "new review form".into(),
            "/reviews/new".into(),
            "New access review campaign",
        ),
        (
            "overdue review items".into(),
            "/reviews/items?overdue=on".into(),
            "Overdue review items",
        ),
        (
            "security center charts".into(),
            "/security/charts".into(),
            "Charts",
        ),
    ];
    println!(
        "\nConsole pages, SQLite, {} users: server time in process, {RUNS} runs after {WARM_UP}",
        org.users.len()
    );
    println!("| page | path | median | slowest | size | target |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (name, path, needle) in &pages {
        let mut times = Vec::with_capacity(RUNS);
        let mut size = 0;
        for i in 0..WARM_UP + RUNS {
            let request = Request::get(path.as_str())
                .header(header::AUTHORIZATION, &bearer)
                .body(Body::empty())
                .map_err(err)?;
            let t = Instant::now();
            let response = app.clone().oneshot(request).await.map_err(err)?;
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .map_err(err)?;
            let took = t.elapsed();
            if status != StatusCode::OK {
                return Err(format!(
                    "{path} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                ));
            }
            let text = String::from_utf8_lossy(&body);
            if !text.contains(needle) {
                return Err(format!("{path} does not show `{needle}`"));
            }
            size = body.len();
            if i >= WARM_UP {
                times.push(took);
            }
        }
        times.sort();
        let median = times[times.len() / 2];
        let slowest = times.last().copied().unwrap_or(Duration::ZERO);
        println!(
            "| {name} | `{path}` | {} | {} | {} KiB | ≤ 100 ms |",
            fmt_dur(median),
            fmt_dur(slowest),
            size / 1024
        );
    }
    Ok(())
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}
