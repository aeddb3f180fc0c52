//! `TestApp`: the whole HTTP application over a fresh store, with a bootstrapped
//! organisation, and terse helpers to call it as a given token.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use latchkey_testkit::{Backend, TestStore};
use serde_json::{Value, json};
use tower::ServiceExt as _;

fn mail_to(outbox: &latchkey_testkit::TempDir) -> latchkey_service::MailSettings {
    latchkey_service::MailSettings {
        mailer: std::sync::Arc::new(latchkey_service::mail::Outbox::new(outbox.path())),
        from: "latchkey@localhost".to_owned(),
        public_url: "http://localhost:8080".to_owned(),
    }
}

/// A pseudo-header for `call`: the client's address, as `serve` would see it.
pub const PEER: &str = "x-test-peer";

pub struct TestApp {
    pub app: Router,
    pub admin: String,
    /// The secret of the first administrator's bootstrap sign-in link.
    pub sign_in_secret: String,
    /// Kept for its lifetime: dropping it removes the database.
    _store: TestStore,
    /// Where mails go (an outbox folder).
    pub outbox: latchkey_testkit::TempDir,
    pub services: latchkey_service::Services,
}

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Answer {
    pub fn id(&self) -> String {
        self.body["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
            .to_owned()
    }

    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: StatusCode) -> Self {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts a problem with this status and code, and returns it.
    #[track_caller]
    pub fn problem(self, status: StatusCode, code: &str) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        assert_eq!(
            self.headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok()),
            Some("application/problem+json"),
            "problems are problem+json"
        );
        assert_eq!(
            self.body["code"], code,
            "unexpected code; body: {}",
            self.text
        );
        self.body
    }

    /// The field errors as (field, rule) pairs.
    pub fn fields(&self) -> Vec<(String, String)> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or("").to_owned(),
                            e["rule"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl TestApp {
    pub async fn new(backend: Backend) -> Self {
        Self::with_clock(backend, std::sync::Arc::new(latchkey_model::SystemClock)).await
    }

    /// The application over a clock the test moves.
    pub async fn with_clock(
        backend: Backend,
        clock: std::sync::Arc<dyn latchkey_model::Clock>,
    ) -> Self {
        Self::with_clock_and_mailer(backend, clock, None).await
    }

    /// The application sending mail with `mailer` (else into its outbox folder).
    pub async fn with_clock_and_mailer(
        backend: Backend,
        clock: std::sync::Arc<dyn latchkey_model::Clock>,
        mailer: Option<std::sync::Arc<dyn latchkey_service::mail::Mailer>>,
    ) -> Self {
        let store = TestStore::new(backend).await.expect("store");
        let services = store.services_with_clock(clock);
        let boot = services
            .bootstrap()
            .await
            .expect("bootstrap")
            .expect("first bootstrap creates the organisation");
        let outbox = latchkey_testkit::TempDir::new("latchkey-outbox").expect("outbox");
        match mailer {
            Some(mailer) => services.use_mailer(latchkey_service::MailSettings {
                mailer,
                from: "latchkey@localhost".to_owned(),
                public_url: "http://localhost:8080".to_owned(),
            }),
            None => services.use_mailer(mail_to(&outbox)),
        }
        let app = latchkey_server::build_app(services.clone(), 16 * 1024 * 1024);
        Self {
            app,
            admin: boot.token,
            sign_in_secret: boot.sign_in_secret,
            _store: store,
            outbox,
            services,
        }
    }

    /// The same store served with other sign-in settings, as after a restart with a changed
    /// configuration.
    pub fn restarted_with(self, settings: latchkey_service::SignInSettings) -> Self {
        let services = self
            ._store
            .services_with_sign_in(settings)
            .expect("settings");
        services.use_mailer(mail_to(&self.outbox));
        Self {
            app: latchkey_server::build_app(services.clone(), 16 * 1024 * 1024),
            admin: self.admin,
            sign_in_secret: self.sign_in_secret,
            _store: self._store,
            outbox: self.outbox,
            services,
        }
    }

    pub async fn call(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        for (k, v) in headers {
            if *k == PEER {
                // What `serve` learns from the socket.
                let addr: std::net::SocketAddr = format!("{v}:40000").parse().unwrap();
                req = req.extension(axum::extract::ConnectInfo(addr));
            } else {
                req = req.header(*k, *v);
            }
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn raw(
        &self,
        token: &str,
        method: Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Answer {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap();
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, token: &str, path: &str) -> Answer {
        self.call(Some(token), Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Some(token), Method::POST, path, Some(body), &[])
            .await
    }

    pub async fn patch(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Some(token), Method::PATCH, path, Some(body), &[])
            .await
    }

    pub async fn put(&self, token: &str, path: &str, body: Value) -> Answer {
        self.call(Some(token), Method::PUT, path, Some(body), &[])
            .await
    }

    /// `POST` without credentials.
    pub async fn post_public(&self, path: &str, body: Value) -> Answer {
        self.call(None, Method::POST, path, Some(body), &[]).await
    }

    pub async fn delete(&self, token: &str, path: &str) -> Answer {
        self.call(Some(token), Method::DELETE, path, None, &[])
            .await
    }

    // ---- fixtures ----

    pub async fn group(&self, token: &str, name: &str, parent: Option<&str>) -> String {
        let mut body = json!({ "name": name });
        if let Some(p) = parent {
            body["parent_id"] = json!(p);
        }
        self.post(token, "/api/v1/groups", body)
            .await
            .expect(StatusCode::CREATED)
            .id()
    }

    pub async fn user(&self, token: &str, user_name: &str, group: &str) -> String {
        self.post(
            token,
            "/api/v1/users",
            json!({ "user_name": user_name, "first_name": user_name, "last_name": "Test", "primary_group_id": group }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id()
    }

    pub async fn system(&self, token: &str, name: &str) -> String {
        self.post(token, "/api/v1/systems", json!({ "name": name }))
            .await
            .expect(StatusCode::CREATED)
            .id()
    }

    pub async fn role(&self, token: &str, system: &str, name: &str) -> String {
        self.post(
            token,
            "/api/v1/roles",
            json!({ "name": name, "system_id": system }),
        )
        .await
        .expect(StatusCode::CREATED)
        .id()
    }

    /// The id of a seeded role of the `latchkey` system.
    pub async fn system_role(&self, name: &str) -> String {
        let roles = self
            .get(
                &self.admin,
                &format!("/api/v1/roles?q={}", name.replace(' ', "%20")),
            )
            .await
            .expect(StatusCode::OK);
        roles.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name && r["system_role"] == true)
            .unwrap_or_else(|| panic!("no system role {name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn grant_user(
        &self,
        token: &str,
        role: &str,
        user: &str,
        scope: Option<&str>,
    ) -> Answer {
        let mut body = json!({ "role_id": role, "user_id": user });
        if let Some(s) = scope {
            body["scope"] = json!(s);
        }
        self.post(token, "/api/v1/grants", body).await
    }

    /// A token acting as `user`, issued by the administrator.
    pub async fn token_for(&self, user: &str) -> String {
        self.post(
            &self.admin,
            &format!("/api/v1/users/{user}/tokens"),
            json!({ "name": "test" }),
        )
        .await
        .expect(StatusCode::CREATED)
        .body["token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}
