//! Revisions the caller can see. Every committed write bumps its organisation's revision;
//! a response tells the client which revision it reflects (`Latchkey-Revision`), and a
//! request may ask to be answered only once the engine has caught up with a revision it
//! saw elsewhere (`Latchkey-Min-Revision`), which gives read-your-writes across replicas.
//!
//! The revision a request saw is kept in a task-local cell that the server opens around
//! each request (`observe_revisions`); services record into it when they read an engine
//! or commit a write.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use latchkey_model::OrgId;

use crate::{ServiceError, ServiceResult, Services};

tokio::task_local! {
    static SEEN: Cell<i64>;
}

/// Runs `fut` recording the highest revision it observes; returns it with the output.
pub async fn observe_revisions<F: Future>(fut: F) -> (F::Output, i64) {
    SEEN.scope(Cell::new(0), async move {
        let out = fut.await;
        (out, SEEN.try_with(Cell::get).unwrap_or(0))
    })
    .await
}

/// Records that the current request reflects `revision`.
pub(crate) fn saw(revision: i64) {
    let _ = SEEN.try_with(|c| c.set(c.get().max(revision)));
}

/// How long a request waits for the engine to reach a revision before answering 503.
pub const MAX_REVISION_WAIT: Duration = Duration::from_secs(5);

impl Services {
    /// Waits until the organisation's engine has applied `revision`, at most
    /// `MAX_REVISION_WAIT`.
    pub async fn wait_for_revision(&self, org: OrgId, revision: i64) -> ServiceResult<()> {
        let deadline = tokio::time::Instant::now() + MAX_REVISION_WAIT;
        loop {
            let engine = self.engine(org).await?;
            if engine.revision() >= revision {
                return Ok(());
            }
            // Another process may have written it: read the change log now rather than
            // wait for its notification.
            self.catch_up(org).await?;
            if engine.revision() >= revision {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(ServiceError::RevisionNotReached(format!(
                    "this server has applied revision {} and did not reach revision {revision} within {} seconds; retry, or ask another replica",
                    engine.revision(),
                    MAX_REVISION_WAIT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
