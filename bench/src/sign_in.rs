//! `latchkey-bench sign-in`: what signing in costs beyond hashing the password, and what a
//! session costs each request. It runs the real services over a real SQLite store in a
//! temporary folder, in process (HTTP is measured by `http`):
//! - the bare argon2id verification with the server's default parameters, one core;
//! - `sign_in_password` end to end (user lookup, lockout state, verification on the
//!   blocking pool, session insert, security event), one at a time, so one core hashes;
//! - `authenticate` of a session secret: the first time (a store read) and then from the
//!   authentication cache, as every request after the first does;
//! - passkey sign-ins by user name: `begin_passkey_sign_in` (the user's passkeys read, the
//!   ceremony sealed) and `finish_passkey_sign_in` (ceremony opened, ES256 verification,
//!   ceremony finished, counter, session and event written in one transaction), one at a
//!   time, by a user with no live session to end; the software authenticator's signing
//!   between them is not counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use latchkey_api::{PasswordSignIn, SetPassword};
use latchkey_model::{SystemClock, UuidV7Generator};
use latchkey_service::{ClientInfo, Services, SignInSettings};
use latchkey_store_sqlite::SqliteStore;

use crate::{fmt_dur, fmt_ns, percentile};

const PASSWORD: &str = "a benchmark password of decent length";
const SIGN_INS: usize = 60;
const VALIDATIONS: usize = 200_000;
const PASSKEY_SIGN_INS: usize = 2_000;

/// CPU time used by every thread of this process so far (the runtime's, the blocking
/// pool's and SQLite's connection threads), from `getrusage`. "Per core" figures divide by
/// this, not by the wall clock: a sign-in waits on thread hand-offs during which no core
/// works for it, and other threads work while the wall clock says nothing of it.
fn process_cpu() -> Duration {
    use nix::sys::resource::{UsageWho, getrusage};
    match getrusage(UsageWho::RUSAGE_SELF) {
        Ok(u) => {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
            };
            tv(u.user_time()) + tv(u.system_time())
        }
        Err(_) => Duration::ZERO,
    }
}

/// Confines this process, and every thread it starts from now on (the blocking pool,
/// SQLite's connection threads), to one core: the last one it may use. Returns that core.
///
/// The figures are per core, so they are measured on one. Spread over two, a sign-in
/// asked one at a time pays a cross-core wake-up at each of its hand-offs to SQLite's
/// connection thread (about twenty), and the same binary's figure moves by ±15% from run to
/// run with where the scheduler happened to put the threads. `--all-cores` measures that.
fn pin_to_one_core() -> Result<usize, String> {
    use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
    use nix::unistd::Pid;
    let allowed = sched_getaffinity(Pid::from_raw(0)).map_err(|e| format!("affinity: {e}"))?;
    let core = (0..CpuSet::count())
        .rev()
        .find(|&c| allowed.is_set(c).unwrap_or(false))
        .ok_or("this process may run on no core")?;
    let mut one = CpuSet::new();
    one.set(core).map_err(|e| format!("affinity: {e}"))?;
    sched_setaffinity(Pid::from_raw(0), &one).map_err(|e| format!("affinity: {e}"))?;
    Ok(core)
}

pub fn run(all_cores: bool) -> Result<(), String> {
    let cores = if all_cores {
        "on every core".to_owned()
    } else {
        format!("on one core (cpu {})", pin_to_one_core()?)
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("no runtime: {e}"))?;
    let dir = std::env::temp_dir().join(format!("latchkey-bench-sign-in-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = rt.block_on(measure(&dir, &cores));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn measure(dir: &std::path::Path, cores: &str) -> Result<(), String> {
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
    let single = password_rounds(&services, &argon, &hash, &request, &client).await?;
    let (mut bare, mut sign_ins, tokens, bare_cpu, sign_in_cpu) = (
        single.bare.clone(),
        single.sign_ins.clone(),
        single.tokens.clone(),
        single.bare_cpu,
        single.sign_in_cpu,
    );

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

    // Passkeys: a user with no live session to end (multi-session here; a single-session
    // user's earlier session would be ended, a write that moves the revision).
    let group = services
        .get_user(&admin, admin.user_id)
        .await
        .map_err(|e| e.to_string())?
        .primary_group_id;
    let holder = services
        .create_user(
            &admin,
            latchkey_api::CreateUser {
                user_name: "passkey.holder".to_owned(),
                first_name: "Passkey".to_owned(),
                middle_name: None,
                last_name: "Holder".to_owned(),
                email: None,
                mail_aliases: Vec::new(),
                user_type: None,
                primary_group_id: group,
                enabled: Some(true),
                multi_session: Some(true),
                comments: None,
                attributes: Default::default(),
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let holder_token = services
        .issue_token_for(
            &admin,
            holder.id,
            latchkey_api::CreateToken {
                name: "bench".to_owned(),
                expires_at: None,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let holder_principal = services
        .authenticate(&holder_token.token)
        .await
        .map_err(|e| e.to_string())?;
    let (passkey_begin, passkey_finish, passkey_total, passkey_cpu) =
        passkey_sign_ins(&services, &holder_principal, &holder.user_name, &client).await?;
    services
        .set_password(
            &admin,
            holder.id,
            &SetPassword {
                password: PASSWORD.to_owned(),
            },
            &client,
        )
        .await
        .map_err(|e| e.to_string())?;
    let holder_request = PasswordSignIn {
        user_name: holder.user_name.clone(),
        ..request.clone()
    };
    let multi = password_rounds(&services, &argon, &hash, &holder_request, &client).await?;

    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let bare_median = median(&mut bare);
    let sign_in_median = median(&mut sign_ins);
    let first_median = median(&mut first);
    let overhead = (sign_in_median.as_secs_f64() / bare_median.as_secs_f64() - 1.0) * 100.0;
    println!(
        "sign-in, argon2id m={} KiB t={} p={}, {SIGN_INS} sign-ins one at a time (SQLite, in process, {cores})",
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
        "sign-in overhead over the bare hash (wall clock)",
        format!("{overhead:.1}%"),
        "",
    );
    let (added, cpu_overhead) = single.added();
    row(
        "CPU a sign-in adds to its hash, median (paired)",
        fmt_dur(added),
        "",
    );
    row(
        "password sign-ins per CPU-second",
        format!("{:.1}", SIGN_INS as f64 / sign_in_cpu.as_secs_f64()),
        "",
    );
    row(
        "bare verifications per CPU-second",
        format!("{:.1}", SIGN_INS as f64 / bare_cpu.as_secs_f64()),
        "",
    );
    row(
        "sign-in overhead over the bare hash (CPU)",
        format!("{cpu_overhead:.1}%"),
        "≤ 5%",
    );
    let mut multi_walls = multi.sign_ins.clone();
    let multi_median = median(&mut multi_walls);
    let mut multi_bare = multi.bare.clone();
    let multi_bare_median = median(&mut multi_bare);
    row(
        "… with no session to end: sign-in, median",
        fmt_dur(multi_median),
        "",
    );
    row(
        "… overhead over the bare hash (wall clock)",
        format!(
            "{:.1}%",
            (multi_median.as_secs_f64() / multi_bare_median.as_secs_f64() - 1.0) * 100.0
        ),
        "",
    );
    let (multi_added, multi_overhead) = multi.added();
    row(
        "… CPU a sign-in adds to its hash, median (paired)",
        fmt_dur(multi_added),
        "",
    );
    row(
        "… overhead over the bare hash (CPU)",
        format!("{multi_overhead:.1}%"),
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
    let passkey_median = Duration::from_nanos(percentile(&passkey_total, 0.5));
    row(
        "passkey sign-in: begin, median",
        fmt_ns(percentile(&passkey_begin, 0.5) as f64),
        "",
    );
    row(
        "passkey sign-in: finish, median",
        fmt_ns(percentile(&passkey_finish, 0.5) as f64),
        "",
    );
    row(
        "passkey sign-in end to end (server), p99",
        fmt_ns(percentile(&passkey_total, 0.99) as f64),
        "",
    );
    row(
        "passkey sign-ins per second, one at a time",
        format!("{:.0}", 1.0 / passkey_median.as_secs_f64()),
        "",
    );
    row(
        "passkey sign-ins per CPU-second (server)",
        format!("{:.0}", PASSKEY_SIGN_INS as f64 / passkey_cpu.as_secs_f64()),
        "≥ 2,000",
    );
    Ok(())
}

/// Bare verifications and sign-ins of one user, alternated so that whatever else the
/// machine does weighs on both alike.
struct Rounds {
    bare: Vec<Duration>,
    sign_ins: Vec<Duration>,
    tokens: Vec<String>,
    bare_cpu: Duration,
    sign_in_cpu: Duration,
    /// Per round, the sign-in's CPU time less the bare hash's next to it (nanoseconds):
    /// paired, so that the machine's drift between rounds cancels out.
    added_cpu: Vec<i64>,
    /// Per round, the bare hash's CPU time (nanoseconds).
    round_bare_cpu: Vec<i64>,
}

impl Rounds {
    /// The median CPU a sign-in adds to its hash, and that as a share of the median hash.
    fn added(&self) -> (Duration, f64) {
        let mut added = self.added_cpu.clone();
        added.sort_unstable();
        let mut bare = self.round_bare_cpu.clone();
        bare.sort_unstable();
        let (a, b) = (added[added.len() / 2], bare[bare.len() / 2]);
        (
            Duration::from_nanos(a.max(0) as u64),
            a as f64 / b.max(1) as f64 * 100.0,
        )
    }
}

async fn password_rounds(
    services: &Services,
    argon: &Argon2<'_>,
    hash: &str,
    request: &PasswordSignIn,
    client: &ClientInfo,
) -> Result<Rounds, String> {
    let mut r = Rounds {
        bare: Vec::with_capacity(SIGN_INS),
        sign_ins: Vec::with_capacity(SIGN_INS),
        tokens: Vec::with_capacity(SIGN_INS),
        bare_cpu: Duration::ZERO,
        sign_in_cpu: Duration::ZERO,
        added_cpu: Vec::with_capacity(SIGN_INS),
        round_bare_cpu: Vec::with_capacity(SIGN_INS),
    };
    for _ in 0..SIGN_INS {
        let c = process_cpu();
        let t = Instant::now();
        argon
            .verify_password(PASSWORD.as_bytes(), hash)
            .map_err(|e| e.to_string())?;
        r.bare.push(t.elapsed());
        let c2 = process_cpu();
        r.bare_cpu += c2 - c;
        let bare_ns = (c2 - c).as_nanos() as i64;
        let t = Instant::now();
        let signed = services
            .sign_in_password(request, client)
            .await
            .map_err(|e| e.to_string())?;
        r.sign_ins.push(t.elapsed());
        let spent = process_cpu() - c2;
        r.sign_in_cpu += spent;
        r.added_cpu.push(spent.as_nanos() as i64 - bare_ns);
        r.round_bare_cpu.push(bare_ns);
        r.tokens.push(signed.token);
    }
    Ok(r)
}

/// `PASSKEY_SIGN_INS` passkey sign-ins by user name; the server's time of each (begin,
/// finish, both), sorted, in nanoseconds, and the CPU time the server used for them all
/// (the process's, less the software authenticator's signing, which is not the server's).
async fn passkey_sign_ins(
    services: &Services,
    admin: &latchkey_service::Principal,
    user_name: &str,
    client: &ClientInfo,
) -> Result<(Vec<u64>, Vec<u64>, Vec<u64>, Duration), String> {
    use webauthn_authenticator_rs::WebauthnAuthenticator as _;
    use webauthn_authenticator_rs::softpasskey::SoftPasskey;
    use webauthn_rs::prelude::{CreationChallengeResponse, RequestChallengeResponse, Url};

    let origin = Url::parse("http://localhost:8080").map_err(|e| e.to_string())?;
    let mut device = SoftPasskey::new(true);
    let begin = services
        .begin_passkey_registration(admin)
        .await
        .map_err(|e| e.to_string())?;
    let options: CreationChallengeResponse =
        serde_json::from_value(begin.options).map_err(|e| e.to_string())?;
    let answer = device
        .do_registration(origin.clone(), options)
        .map_err(|e| format!("{e:?}"))?;
    services
        .finish_passkey_registration(
            admin,
            &latchkey_api::FinishPasskeyRegistration {
                ceremony: begin.ceremony,
                name: "bench".to_owned(),
                credential: serde_json::to_value(answer).map_err(|e| e.to_string())?,
            },
            client,
        )
        .await
        .map_err(|e| e.to_string())?;
    let request = latchkey_api::BeginPasskeySignIn {
        organisation: None,
        user_name: Some(user_name.to_owned()),
    };
    let (mut begins, mut finishes, mut totals) = (
        Vec::with_capacity(PASSKEY_SIGN_INS),
        Vec::with_capacity(PASSKEY_SIGN_INS),
        Vec::with_capacity(PASSKEY_SIGN_INS),
    );
    let mut cpu = Duration::ZERO;
    for _ in 0..PASSKEY_SIGN_INS {
        let c = process_cpu();
        let t = Instant::now();
        let challenge = services
            .begin_passkey_sign_in(&request, client)
            .await
            .map_err(|e| e.to_string())?;
        let began = t.elapsed();
        cpu += process_cpu() - c;
        let options: RequestChallengeResponse =
            serde_json::from_value(challenge.options).map_err(|e| e.to_string())?;
        let assertion = device
            .do_authentication(origin.clone(), options)
            .map_err(|e| format!("{e:?}"))?;
        let finish = latchkey_api::FinishPasskeyAssertion {
            ceremony: challenge.ceremony,
            credential: serde_json::to_value(assertion).map_err(|e| e.to_string())?,
        };
        let c = process_cpu();
        let t = Instant::now();
        let signed = services
            .finish_passkey_sign_in(&finish, client)
            .await
            .map_err(|e| e.to_string())?;
        let finished = t.elapsed();
        cpu += process_cpu() - c;
        std::hint::black_box(signed);
        begins.push(began.as_nanos() as u64);
        finishes.push(finished.as_nanos() as u64);
        totals.push((began + finished).as_nanos() as u64);
    }
    begins.sort_unstable();
    finishes.sort_unstable();
    totals.sort_unstable();
    Ok((begins, finishes, totals, cpu))
}
