//! Two `latchkey serve` processes on one PostgreSQL, as an installation grows past one
//! machine: a write through one is seen by a check through the other (at once with
//! `Latchkey-Min-Revision`, and within milliseconds through LISTEN/NOTIFY without it); a
//! replica killed and restarted catches up; a writer killed in the middle of a bulk load
//! loses nothing it committed and leaves no half batch.

use std::time::{Duration, Instant};

use latchkey_testkit::TempDir;
use serde_json::{Value, json};

use crate::process::{ScratchDb, Server, bootstrap_token};

struct Api {
    http: reqwest::Client,
    token: String,
}

#[expect(
    clippy::unwrap_used,
    reason = "test helpers: a failed request fails the test"
)]
impl Api {
    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<Value>,
        min_revision: Option<i64>,
    ) -> (u16, Option<i64>, Value) {
        let mut req = self.http.request(method, url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        if let Some(r) = min_revision {
            req = req.header("latchkey-min-revision", r.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let revision = res
            .headers()
            .get("latchkey-revision")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let body = res.json().await.unwrap_or(Value::Null);
        (status, revision, body)
    }

    async fn post(&self, server: &Server, path: &str, body: Value) -> (Value, i64) {
        let (status, revision, body) = self
            .send(
                reqwest::Method::POST,
                &format!("{}{path}", server.url),
                Some(body),
                None,
            )
            .await;
        assert!(
            status == 200 || status == 201,
            "POST {path}: {status} {body}"
        );
        (body, revision.unwrap())
    }

    async fn check(
        &self,
        server: &Server,
        user: &str,
        role: &str,
        min_revision: Option<i64>,
    ) -> bool {
        let (status, _, body) = self
            .send(
                reqwest::Method::POST,
                &format!("{}/api/v1/check", server.url),
                Some(json!({ "user": user, "role": role })),
                min_revision,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["allowed"].as_bool().unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_on_one_postgres_stay_consistent() {
    let db = ScratchDb::new().await;
    let dir_a = TempDir::new("latchkey-replica-a").unwrap();
    let dir_b = TempDir::new("latchkey-replica-b").unwrap();
    let mut a = Server::start(dir_a.path(), &["--database-url", &db.url], &[]).await;
    let token = bootstrap_token(&a.stdout.text()).unwrap();
    let mut b = Server::start(dir_b.path(), &["--database-url", &db.url], &[]).await;
    assert!(
        bootstrap_token(&b.stdout.text()).is_none(),
        "the second server finds the organisation"
    );
    let api = Api {
        http: reqwest::Client::new(),
        token,
    };

    let (group, _) = api
        .post(&a, "/api/v1/groups", json!({ "name": "Replicated" }))
        .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let (user, _) = api.post(&a, "/api/v1/users", json!({ "user_name": "rita", "first_name": "R", "last_name": "T", "primary_group_id": group })).await;
    let user = user["id"].as_str().unwrap().to_owned();
    let (system, _) = api
        .post(&a, "/api/v1/systems", json!({ "name": "Ledger" }))
        .await;
    let system = system["id"].as_str().unwrap().to_owned();
    let mut roles = Vec::new();
    for name in ["reader", "writer", "closer"] {
        let (role, _) = api
            .post(
                &a,
                "/api/v1/roles",
                json!({ "name": name, "system_id": system }),
            )
            .await;
        roles.push(role["id"].as_str().unwrap().to_owned());
    }

    // Read-your-writes across replicas: the revision of a write through A, asked of B.
    let (_, revision) = api
        .post(
            &a,
            "/api/v1/grants",
            json!({ "role_id": roles[0], "group_id": group }),
        )
        .await;
    assert!(
        api.check(&b, &user, &roles[0], Some(revision)).await,
        "B answers at A's revision"
    );

    // Without the header: B learns through LISTEN/NOTIFY. Measure how long it takes.
    let mut lags = Vec::new();
    for round in 0..5 {
        let (grant, _) = api
            .post(
                &a,
                "/api/v1/grants",
                json!({ "role_id": roles[1], "user_id": user }),
            )
            .await;
        let written = Instant::now();
        while !api.check(&b, &user, &roles[1], None).await {
            assert!(
                written.elapsed() < Duration::from_secs(5),
                "round {round}: B did not see the grant within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags.push(written.elapsed());
        let (status, _, _) = api
            .send(
                reqwest::Method::DELETE,
                &format!("{}/api/v1/grants/{}", a.url, grant["id"].as_str().unwrap()),
                None,
                None,
            )
            .await;
        assert_eq!(status, 204);
        let revoked = Instant::now();
        while api.check(&b, &user, &roles[1], None).await {
            assert!(
                revoked.elapsed() < Duration::from_secs(5),
                "round {round}: B did not see the revocation within 5 s"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lags.push(revoked.elapsed());
    }
    lags.sort();
    eprintln!(
        "replica B saw writes through A after: median {:?}, max {:?}",
        lags[lags.len() / 2],
        lags[lags.len() - 1]
    );

    // A replica killed and restarted catches up with what was written meanwhile.
    b.kill().await;
    let (_, revision) = api
        .post(
            &a,
            "/api/v1/grants",
            json!({ "role_id": roles[2], "user_id": user }),
        )
        .await;
    let b2 = Server::start(dir_b.path(), &["--database-url", &db.url], &[]).await;
    assert!(
        api.check(&b2, &user, &roles[2], None).await,
        "a restarted replica starts from the store"
    );
    assert!(api.check(&b2, &user, &roles[2], Some(revision)).await);

    // The writer killed mid-load: whole batches, each either committed and visible through
    // B, or not at all.
    let lines: String = (0..5000)
        .map(|i| {
            format!(
                "{}\n",
                json!({ "kind": "group", "name": format!("Bulk {i:05}"), "parent": group })
            )
        })
        .collect();
    let mut res = api
        .http
        .post(format!("{}/api/v1/bulk", a.url))
        .bearer_auth(&api.token)
        .header("content-type", "application/x-ndjson")
        .body(lines)
        .send()
        .await
        .unwrap();
    let mut committed_revision = None;
    let mut buffer = Vec::new();
    while committed_revision.is_none() {
        let chunk = res
            .chunk()
            .await
            .unwrap()
            .expect("the load answers progress before it ends");
        buffer.extend_from_slice(&chunk);
        for line in String::from_utf8_lossy(&buffer).lines() {
            if let Ok(v) = serde_json::from_str::<Value>(line)
                && let Some(r) = v["progress"]["revision"].as_i64()
            {
                committed_revision = Some(r);
            }
        }
    }
    a.kill().await;
    let committed_revision = committed_revision.unwrap();
    let (status, _, page) = api
        .send(
            reqwest::Method::GET,
            &format!("{}/api/v1/groups?q=Bulk&limit=1000", b2.url),
            None,
            Some(committed_revision),
        )
        .await;
    assert_eq!(status, 200, "{page}");
    let mut count = page["items"].as_array().unwrap().len();
    let mut cursor = page["next_cursor"].as_str().map(str::to_owned);
    while let Some(c) = cursor {
        let (_, _, page) = api
            .send(
                reqwest::Method::GET,
                &format!("{}/api/v1/groups?q=Bulk&limit=1000&cursor={c}", b2.url),
                None,
                None,
            )
            .await;
        count += page["items"].as_array().unwrap().len();
        cursor = page["next_cursor"].as_str().map(str::to_owned);
    }
    assert!(
        count >= 1000,
        "the first committed batch survives the writer's death ({count})"
    );
    assert_eq!(
        count % 1000,
        0,
        "only whole batches are committed ({count})"
    );
    eprintln!("writer killed mid-load: {count} of 5000 groups committed, in whole batches");

    // The writer comes back and agrees with the replica.
    let a2 = Server::start(dir_a.path(), &["--database-url", &db.url], &[]).await;
    for role in &roles {
        assert_eq!(
            api.check(&a2, &user, role, None).await,
            api.check(&b2, &user, role, None).await,
            "replicas agree on {role}"
        );
    }
    drop((a2, b2));
}
