//! `latchkey-bench sign-in`: what signing in costs beyond hashing the password, and what a
//! session costs each request. It runs the real services over a real SQLite store in a
//! temporary folder, in process (HTTP is measured by `http`):
//! - the bare argon2id verification with the server's default parameters, one core;
//! - `sign_in_password` end to end (user lookup, lockout state, verification on the
//!   blocking pool, session insert, security event), one at a time, so one core hashes;
//! - `authenticate` of a session secret: the first time (a store read) and then from the
//!   authentication cache, as every request after the first does.

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use latchkey_api::{PasswordSignIn, SetPassword};
use latchkey_model::{SystemClock, UuidV7Generator};
use latchkey_service::{ClientInfo, Services, SignInSettings};
use latchkey_store_sqlite::SqliteStore;

use crate::{fmt_dur, fmt_ns, percentile};

const PASSWORD: &str = "a benchmark password of decent length";
const SIGN_INS: usize = 40;
const VALIDATIONS: usize = 200_000;

pub fn run() -> Result<(), String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    let dir = std::env::temp_dir().join(format!("latchkey-bench-sign-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = rt.block_on(measure(&dir));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &std::path::Path) -> Result<(), String> {
    let settings = SignInSettings::default();
    let store = SqliteStore::open(&dir.join("latchkey.db"))
        .await
        .map_err(|e| format!("cannot open the store: {e}"))?;
    let services = Services::with_sign_in(
        Arc::new(store),
        Arc::new(SystemClock),
        Arc::new(UuidV7Generator),
        settings.clone(),
    )?;
    let boot = services
        .bootstrap()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the store was not empty")?;
    let admin = services
        .authenticate(&boot.token)
        .await
        .map_err(|e| e.to_string())?;
    let client = ClientInfo::default();
    services
        .set_password(
            &admin,
            admin.user_id,
            &SetPassword {
                password: PASSWORD.to_owned(),
            },
            &client,
        )
        .await
        .map_err(|e| e.to_string())?;

    // The bare cost: the same parameters, the same password, no service around it.
    let params = Params::new(
        settings.argon2_memory_kib,
        settings.argon2_iterations,
        settings.argon2_parallelism,
        None,
    )
    .map_err(|e| e.to_string())?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = argon
        .hash_password(PASSWORD.as_bytes())
        .map_err(|e| e.to_string())?
        .to_string();
    let request = PasswordSignIn {
        organisation: None,
        user_name: boot.admin_user_name.clone(),
        password: PASSWORD.to_owned(),
        totp_code: None,
    };
    // Alternated, so that whatever else the machine does weighs on both alike.
    let mut bare = Vec::with_capacity(SIGN_INS);
    let mut sign_ins = Vec::with_capacity(SIGN_INS);
    let mut tokens = Vec::with_capacity(SIGN_INS);
    for _ in 0..SIGN_INS {
        let t = Instant::now();
        argon
            .verify_password(PASSWORD.as_bytes(), hash.as_str())
            .map_err(|e| e.to_string())?;
        bare.push(t.elapsed());
        let t = Instant::now();
        let signed = services
            .sign_in_password(&request, &client)
            .await
            .map_err(|e| e.to_string())?;
        sign_ins.push(t.elapsed());
        tokens.push(signed.token);
    }

    // A session's first request reads the store; later ones hit the cache.
    let mut first = Vec::with_capacity(tokens.len());
    for token in &tokens {
        let t = Instant::now();
        services
            .authenticate(token)
            .await
            .map_err(|e| e.to_string())?;
        first.push(t.elapsed());
    }
    let token = tokens.last().ok_or("no session")?;
    let mut cached = Vec::with_capacity(VALIDATIONS);
    for _ in 0..VALIDATIONS {
        let t = Instant::now();
        let p = services
            .authenticate(token)
            .await
            .map_err(|e| e.to_string())?;
        cached.push(t.elapsed().as_nanos() as u64);
        std::hint::black_box(&p);
    }
    cached.sort_unstable();

    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let bare_median = median(&mut bare);
    let sign_in_median = median(&mut sign_ins);
    let first_median = median(&mut first);
    let overhead = (sign_in_median.as_secs_f64() / bare_median.as_secs_f64() - 1.0) * 100.0;
    println!(
        "sign-in, argon2id m={} KiB t={} p={}, {SIGN_INS} sign-ins one at a time (SQLite, in process)",
        settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism
    );
    println!("| figure                                          |     measured | target       |");
    println!("|-------------------------------------------------|--------------|--------------|");
    let row = |name: &str, value: String, target: &str| {
        println!("| {name:<47} | {value:>12} | {target:<12} |");
    };
    row(
        "bare argon2id verification, median",
        fmt_dur(bare_median),
        "",
    );
    row(
        "bare verifications per second, one core",
        format!("{:.1}", 1.0 / bare_median.as_secs_f64()),
        "",
    );
    row(
        "password sign-in end to end, median",
        fmt_dur(sign_in_median),
        "",
    );
    row(
        "password sign-ins per second, one core",
        format!("{:.1}", 1.0 / sign_in_median.as_secs_f64()),
        "",
    );
    row(
        "sign-in overhead over the bare hash",
        format!("{overhead:.1}%"),
        "≤ 5%",
    );
    row(
        "session validation, first request (store)",
        fmt_dur(first_median),
        "",
    );
    row(
        "session validation from cache, p50",
        fmt_ns(percentile(&cached, 0.5) as f64),
        "≤ 5 µs",
    );
    row(
        "session validation from cache, p99",
        fmt_ns(percentile(&cached, 0.99) as f64),
        "",
    );
    Ok(())
}
