//! End-to-end tests of the REST API, in process (`tower::ServiceExt::oneshot`) against a
//! real store. Every scenario runs once on SQLite and once on PostgreSQL.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail by panicking"
)]

mod access;
mod admin;
mod approvals;
mod bulk;
mod console;
mod console_governance;
mod console_security;
mod console_structure;
mod console_users;
mod directory;
mod harness;
mod history;
mod invitations;
mod passkeys;
mod preview;
mod reviews;
mod robustness;
mod rules;
mod schedule;
mod sign_in;
mod sod;
mod totp;
mod validation;
mod workspace_isolation;
mod workspaces;

/// Declares `name_sqlite` and `name_postgres` tests running `scenario(backend)`.
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(latchkey_testkit::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(latchkey_testkit::Backend::Postgres).await;
            }
        }
    };
}
