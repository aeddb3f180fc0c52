//! The console's pages in process, as a browser would use them: cookies, HTML forms with
//! their CSRF field, redirects. Sign-in is required, forms without the session's token are
//! refused, pages are authorised by the services, values are escaped, a refused form keeps
//! what was typed and shows the message next to the field, the effective-access tab draws
//! the provenance tree, a session whose roles first ask for a passkey is told so, and
//! hostile ids, queries and forms get pages, never server errors.

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use latchkey_testkit::Backend;
use serde_json::json;
use tower::ServiceExt as _;

use crate::both;
use crate::harness::TestApp;
use crate::sign_in::{root_group, set_password, sign_in, user_with};

/// A browser's answer: status, headers, the page.
pub(crate) struct Html {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Html {
    pub(crate) fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value a `Set-Cookie` header gives `name`.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_owned())
    }

    /// The value of the first hidden `csrf` field.
    pub(crate) fn csrf(&self) -> String {
        self.hidden("csrf")
    }

    /// The value of the first hidden field called `name`.
    pub(crate) fn hidden(&self, name: &str) -> String {
        let needle = format!("name=\"{name}\" value=\"");
        let at = self
            .body
            .find(&needle)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.body));
        let rest = &self.body[at + needle.len()..];
        rest.split('"').next().unwrap().to_owned()
    }

    /// The text between `start` and the next `end` after it.
    pub(crate) fn between(&self, start: &str, end: &str) -> String {
        let at = self
            .body
            .find(start)
            .unwrap_or_else(|| panic!("no {start} in {}", self.body));
        let rest = &self.body[at + start.len()..];
        rest.split(end).next().unwrap().to_owned()
    }

    #[track_caller]
    pub(crate) fn expect(self, status: StatusCode) -> Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }

    #[track_caller]
    pub(crate) fn has(&self, text: &str) -> &Self {
        assert!(self.body.contains(text), "{text:?} not in {}", self.body);
        self
    }
}

/// Sends a request as a browser: `cookies` as the `Cookie` header, `form` urlencoded.
pub(crate) async fn browse(
    t: &TestApp,
    method: Method,
    path: &str,
    cookies: &str,
    form: Option<&[(&str, &str)]>,
) -> Html {
    let mut req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, "localhost");
    if !cookies.is_empty() {
        req = req.header(header::COOKIE, cookies);
    }
    let req = match form {
        Some(pairs) => {
            let body = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(body))
        }
        None => req.body(Body::empty()),
    }
    .unwrap();
    let res = t.app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Html {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A signed-in browser: its session secret, cookie and the CSRF token its pages carry.
pub(crate) struct Browser {
    pub(crate) session: String,
    pub(crate) cookies: String,
    pub(crate) csrf: String,
}

impl Browser {
    /// The browser signed in with the session `token`.
    pub(crate) fn with_session(token: String) -> Self {
        Self {
            cookies: format!("latchkey_session={token}"),
            csrf: latchkey_service::csrf_token(&token),
            session: token,
        }
    }

    pub(crate) async fn get(&self, t: &TestApp, path: &str) -> Html {
        browse(t, Method::GET, path, &self.cookies, None).await
    }

    /// Posts `form` with this session's CSRF token.
    pub(crate) async fn post(&self, t: &TestApp, path: &str, form: &[(&str, &str)]) -> Html {
        let mut pairs = vec![("csrf", self.csrf.as_str())];
        pairs.extend_from_slice(form);
        browse(t, Method::POST, path, &self.cookies, Some(&pairs)).await
    }
}

/// Signs `user_name` in through the REST API and returns the browser's cookies.
pub(crate) async fn signed_in(t: &TestApp, user_name: &str, password: &str) -> Browser {
    let signed = sign_in(t, user_name, password)
        .await
        .expect(StatusCode::OK)
        .body;
    Browser::with_session(signed["token"].as_str().unwrap().to_owned())
}

/// The administrator, with a password, signed in.
pub(crate) async fn admin_browser(t: &TestApp) -> Browser {
    let me = t.get(&t.admin, "/api/v1/me").await.expect(StatusCode::OK);
    let admin = me.body["user_id"].as_str().unwrap().to_owned();
    set_password(t, &admin, "correct horse battery staple").await;
    signed_in(t, "admin", "correct horse battery staple").await
}

async fn pages_require_sign_in_and_the_bootstrap_link_opens_the_console(backend: Backend) {
    let t = TestApp::new(backend).await;
    for path in ["/users", "/users/new", "/groups", "/roles"] {
        let page = browse(&t, Method::GET, path, "", None).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(page.location(), "/", "{path}");
    }
    // A session that no longer exists is no better.
    let page = browse(&t, Method::GET, "/users", "latchkey_session=lks_gone", None).await;
    assert_eq!(page.location(), "/");

    let home = browse(&t, Method::GET, "/", "", None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Sign in to Latchkey"), "{}", home.body);
    assert!(home.body.contains("Email me a sign-in link"));
    assert_eq!(home.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");
    assert!(
        home.cookie("latchkey_pre").is_some(),
        "the sign-in forms' token"
    );

    // The bootstrap link: its page posts the token, which signs in once.
    let link = format!("/auth/magic-link?token={}", t.sign_in_secret);
    let landing = browse(&t, Method::GET, &link, "", None).await;
    assert_eq!(landing.status, StatusCode::OK);
    assert!(landing.body.contains(&t.sign_in_secret), "{}", landing.body);
    assert_eq!(
        landing.headers.get(header::REFERRER_POLICY).unwrap(),
        "no-referrer",
        "the token stays out of Referer headers"
    );
    let form = [("token", t.sign_in_secret.as_str())];
    let signed = browse(&t, Method::POST, "/auth/magic-link", "", Some(&form)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert_eq!(signed.location(), "/");
    let session = signed.cookie("latchkey_session").expect("a session cookie");
    let cookies = format!("latchkey_session={session}");
    let home = browse(&t, Method::GET, "/", &cookies, None).await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("Welcome, admin"), "{}", home.body);
    assert!(home.body.contains("href=\"/users\""));
    let again = browse(&t, Method::POST, "/auth/magic-link", "", Some(&form)).await;
    assert_eq!(
        again.status,
        StatusCode::UNAUTHORIZED,
        "the link works once"
    );
    assert!(
        again.body.contains("This link does not work"),
        "{}",
        again.body
    );

    // Signing out ends the session.
    let csrf = home.csrf();
    let out = browse(
        &t,
        Method::POST,
        "/sign-out",
        &cookies,
        Some(&[("csrf", &csrf)]),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let page = browse(&t, Method::GET, "/users", &cookies, None).await;
    assert_eq!(page.location(), "/");
}
both!(pages_require_sign_in_and_the_bootstrap_link_opens_the_console);

async fn console_posts_need_the_csrf_token(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let form = [("name", "Finance")];
    let refused = browse(&t, Method::POST, "/groups", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("security token"), "{}", refused.body);
    let wrong = [("name", "Finance"), ("csrf", "not-the-token")];
    let refused = browse(&t, Method::POST, "/groups", &b.cookies, Some(&wrong)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let groups = t
        .get(&t.admin, "/api/v1/groups?q=Finance")
        .await
        .expect(StatusCode::OK);
    assert_eq!(groups.body["items"].as_array().unwrap().len(), 0);

    let form = [("name", "Finance"), ("csrf", b.csrf.as_str())];
    let created = browse(&t, Method::POST, "/groups", &b.cookies, Some(&form)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert!(created.location().starts_with("/groups/"));
    let groups = t
        .get(&t.admin, "/api/v1/groups?q=Finance")
        .await
        .expect(StatusCode::OK);
    assert_eq!(groups.body["items"][0]["name"], "Finance");

    // The sign-in form repeats the token of its own cookie.
    let page = browse(&t, Method::GET, "/", "", None).await;
    let pre = page.cookie("latchkey_pre").unwrap();
    let creds = [
        ("user_name", "admin"),
        ("password", "correct horse battery staple"),
    ];
    let refused = browse(&t, Method::POST, "/sign-in", "", Some(&creds)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let with_token = [
        ("user_name", "admin"),
        ("password", "correct horse battery staple"),
        ("csrf", pre.as_str()),
    ];
    let cookies = format!("latchkey_pre={pre}");
    let signed = browse(&t, Method::POST, "/sign-in", &cookies, Some(&with_token)).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    assert!(signed.cookie("latchkey_session").is_some());
    // A wrong password shows the sign-in page again with the message and the user name.
    let wrong = [
        ("user_name", "admin"),
        ("password", "wrong horse"),
        ("csrf", pre.as_str()),
    ];
    let failed = browse(&t, Method::POST, "/sign-in", &cookies, Some(&wrong)).await;
    assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    assert!(failed.body.contains("role=\"alert\""), "{}", failed.body);
    assert!(failed.body.contains("value=\"admin\""), "{}", failed.body);
    assert!(
        !failed.body.contains("wrong horse"),
        "passwords are never echoed"
    );
}
both!(console_posts_need_the_csrf_token);

async fn pages_are_authorised_by_the_services(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let mo = user_with(
        &t,
        json!({ "user_name": "mo", "first_name": "Mo", "last_name": "Member", "primary_group_id": g }),
    )
    .await;
    set_password(&t, &mo, "correct horse battery staple").await;
    let b = signed_in(&t, "mo", "correct horse battery staple").await;
    let home = browse(&t, Method::GET, "/", &b.cookies, None).await;
    assert_eq!(home.status, StatusCode::OK);
    let users = browse(&t, Method::GET, "/users", &b.cookies, None).await;
    assert_eq!(users.status, StatusCode::FORBIDDEN, "{}", users.body);
    assert!(users.body.contains("users.view"), "{}", users.body);
    let page = browse(&t, Method::GET, &format!("/users/{mo}"), &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    let form = [("name", "Mine"), ("csrf", b.csrf.as_str())];
    let refused = browse(&t, Method::POST, "/groups", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    // An unknown id is not found, as in the REST API.
    let admin = admin_browser(&t).await;
    let missing = browse(
        &t,
        Method::GET,
        "/users/0190a4b2-0000-7000-8000-00000000dead",
        &admin.cookies,
        None,
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
both!(pages_are_authorised_by_the_services);

async fn user_names_are_escaped(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let id = user_with(
        &t,
        json!({ "user_name": "eve", "first_name": "<script>alert(1)</script>", "last_name": "<b>x</b>", "primary_group_id": g }),
    )
    .await;
    let b = admin_browser(&t).await;
    for path in ["/users".to_owned(), format!("/users/{id}")] {
        let page = browse(&t, Method::GET, &path, &b.cookies, None).await;
        assert_eq!(page.status, StatusCode::OK, "{path}: {}", page.body);
        assert!(
            page.body
                .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
                || page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}: {}",
            page.body
        );
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(!page.body.contains("<b>x</b>"), "{path}");
    }
}
both!(user_names_are_escaped);

async fn a_refused_form_keeps_what_was_typed(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let b = admin_browser(&t).await;
    let form = [
        ("csrf", b.csrf.as_str()),
        ("user_name", "ana"),
        ("first_name", "Ana"),
        ("last_name", "Diaz"),
        ("email", "ana-at-example"),
        ("primary_group_id", g.as_str()),
        ("enabled", "on"),
    ];
    let page = browse(&t, Method::POST, "/users", &b.cookies, Some(&form)).await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    // The message sits under the email field, tied to it.
    let field = page
        .body
        .find("id=\"user-email\"")
        .expect("the email field");
    let message = page
        .body
        .find("id=\"user-email-error\"")
        .expect("the email message");
    assert!(message > field, "{}", page.body);
    assert!(page.body.contains("aria-describedby=\"user-email-error\""));
    assert!(
        page.body.contains("value=\"ana-at-example\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"ana\""));
    assert!(page.body.contains("value=\"Diaz\""));
    // The chosen group stays chosen.
    assert!(
        page.body
            .contains(&format!("<option value=\"{g}\" selected>")),
        "{}",
        page.body
    );
    // Nothing was created.
    let users = t
        .get(&t.admin, "/api/v1/users?user_name=ana")
        .await
        .expect(StatusCode::OK);
    assert_eq!(users.body["items"].as_array().unwrap().len(), 0);

    // Corrected, it creates the user and opens the page.
    let mut fixed = form.to_vec();
    fixed.retain(|(k, _)| *k != "email");
    let created = browse(&t, Method::POST, "/users", &b.cookies, Some(&fixed)).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let page = browse(&t, Method::GET, created.location(), &b.cookies, None).await;
    assert!(page.body.contains("Ana Diaz"), "{}", page.body);

    // The details tab lists custom attributes.
    t.post(
        &t.admin,
        "/api/v1/metadata/attributes",
        json!({ "object_type": "user", "name": "site", "data_type": "string" }),
    )
    .await
    .expect(StatusCode::CREATED);
    let user = created.location().trim_start_matches("/users/").to_owned();
    t.patch(
        &t.admin,
        &format!("/api/v1/users/{user}"),
        json!({ "attributes": { "site": "Barcelona" } }),
    )
    .await
    .expect(StatusCode::OK);
    let page = browse(&t, Method::GET, created.location(), &b.cookies, None).await;
    assert!(
        page.body
            .contains("<tr><th scope=\"row\">site</th><td>Barcelona</td></tr>"),
        "{}",
        page.body
    );
}
both!(a_refused_form_keeps_what_was_typed);

async fn the_user_page_draws_provenance_refuses_forbidden_grants_and_shows_risks(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let finance = t.group(&t.admin, "Finance", None).await;
    let accounts = t.group(&t.admin, "Accounts", Some(&finance)).await;
    let ana = t.user(&t.admin, "ana", &accounts).await;
    let payments = t.system(&t.admin, "Payments").await;
    let approver = t.role(&t.admin, &payments, "Approver").await;
    let clerk = t.role(&t.admin, &payments, "Clerk").await;
    let auditor = t.role(&t.admin, &payments, "Auditor").await;
    // Through the console's forms: the inheritance and the group grant.
    let inherit = [
        ("csrf", b.csrf.as_str()),
        ("parent_id", approver.as_str()),
        ("role_id", clerk.as_str()),
        ("mandatory", "on"),
        ("confirm", "yes"),
    ];
    let done = browse(
        &t,
        Method::POST,
        "/roles/inheritance",
        &b.cookies,
        Some(&inherit),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let grant = [
        ("csrf", b.csrf.as_str()),
        ("role_id", approver.as_str()),
        ("confirm", "yes"),
    ];
    let done = browse(
        &t,
        Method::POST,
        &format!("/groups/{finance}/grants"),
        &b.cookies,
        Some(&grant),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);

    let page = browse(
        &t,
        Method::GET,
        &format!("/users/{ana}?tab=access"),
        &b.cookies,
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Payments / Clerk"), "{}", page.body);
    assert!(page.body.contains("via role Approver"), "{}", page.body);
    assert!(
        page.body.contains("via group Finance (granted to it; the user is a primary member of its subgroup Accounts)"),
        "{}",
        page.body
    );

    t.post(
        &t.admin,
        "/api/v1/sod-rules",
        json!({ "name": "Approvers do not audit", "system_id": payments, "kind": "all",
                "risk": "forbidden", "role_ids": [approver, auditor] }),
    )
    .await
    .expect(StatusCode::CREATED);
    let grant = [("csrf", b.csrf.as_str()), ("role_id", auditor.as_str())];
    let refused = browse(
        &t,
        Method::POST,
        &format!("/users/{ana}/grants"),
        &b.cookies,
        Some(&grant),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("Approvers do not audit"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("role=\"alert\""));
    // The role chosen stays chosen.
    assert!(
        refused
            .body
            .contains(&format!("<option value=\"{auditor}\" selected>")),
        "{}",
        refused.body
    );

    // A combination with a high risk is granted, and the roles tab shows the risk.
    let reporter = t.role(&t.admin, &payments, "Reporter").await;
    t.post(
        &t.admin,
        "/api/v1/sod-rules",
        json!({ "name": "Clerks rarely report", "system_id": payments, "kind": "all",
                "risk": "high", "role_ids": [clerk, reporter] }),
    )
    .await
    .expect(StatusCode::CREATED);
    let grant = [("csrf", b.csrf.as_str()), ("role_id", reporter.as_str())];
    let granted = browse(
        &t,
        Method::POST,
        &format!("/users/{ana}/grants"),
        &b.cookies,
        Some(&grant),
    )
    .await;
    assert_eq!(granted.status, StatusCode::SEE_OTHER, "{}", granted.body);
    assert_eq!(granted.location(), format!("/users/{ana}?tab=roles"));
    let roles = browse(&t, Method::GET, granted.location(), &b.cookies, None).await;
    let row = roles
        .body
        .split("<tr>")
        .find(|row| row.contains("<th scope=\"row\">Reporter</th>"))
        .unwrap_or_else(|| panic!("no Reporter row in {}", roles.body));
    assert!(row.contains("risk-high"), "{row}");
    assert!(row.contains("Clerks rarely report"), "{row}");
}
both!(the_user_page_draws_provenance_refuses_forbidden_grants_and_shows_risks);

async fn a_session_whose_roles_ask_for_a_passkey_is_told_so(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let fay = user_with(
        &t,
        json!({ "user_name": "fay", "first_name": "Fay", "last_name": "Strict", "primary_group_id": g }),
    )
    .await;
    set_password(&t, &fay, "correct horse battery staple").await;
    let system = t.system(&t.admin, "Vault").await;
    let strict = t.role(&t.admin, &system, "Keeper").await;
    t.grant_user(&t.admin, &strict, &fay, None)
        .await
        .expect(StatusCode::CREATED);
    t.put(
        &t.admin,
        &format!("/api/v1/roles/{strict}/security-policy"),
        json!({ "require_passkey": true, "passkey_after_magic_link": false, "idle_timeout_minutes": null }),
    )
    .await
    .expect(StatusCode::OK);
    let b = signed_in(&t, "fay", "correct horse battery staple").await;
    for path in ["/", "/groups"] {
        let page = browse(&t, Method::GET, path, &b.cookies, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(
            page.body.contains("Register a passkey first"),
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("/api/v1/me/passkeys/register/begin"));
    }
    // Nothing else, but signing out works.
    let form = [("name", "Mine"), ("csrf", b.csrf.as_str())];
    let refused = browse(&t, Method::POST, "/groups", &b.cookies, Some(&form)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let out = browse(
        &t,
        Method::POST,
        "/sign-out",
        &b.cookies,
        Some(&[("csrf", b.csrf.as_str())]),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER, "{}", out.body);
    let home = browse(&t, Method::GET, "/", &b.cookies, None).await;
    assert!(home.body.contains("Sign in to Latchkey"), "{}", home.body);
}
both!(a_session_whose_roles_ask_for_a_passkey_is_told_so);

async fn hostile_requests_get_pages_not_server_errors(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let g = root_group(&t).await;
    let u = t.user(&t.admin, "real", &g).await;
    let gets = [
        "/users?cursor=%ZZ&order=sideways&sort=nope&enabled=2&group=nope&col=nope".to_owned(),
        "/users?cursor=not-a-cursor".to_owned(),
        "/users?group=00000000-0000-0000-0000-000000000000".to_owned(),
        "/users/not-an-id".to_owned(),
        format!("/users/{u}?tab=nope"),
        format!("/users/{g}"),
        "/groups/not-an-id".to_owned(),
        "/groups/not-an-id/children".to_owned(),
        format!("/groups/{u}/children"),
        "/roles?cursor=%00".to_owned(),
    ];
    for path in &gets {
        let page = browse(&t, Method::GET, path, &b.cookies, None).await;
        assert!(
            page.status.is_client_error() || page.status.is_success(),
            "GET {path} answered {}: {}",
            page.status,
            page.body
        );
        assert_eq!(
            page.headers.get(header::CONTENT_TYPE).unwrap(),
            "text/html; charset=utf-8",
            "GET {path}"
        );
    }
    let posts = [
        "/users".to_owned(),
        format!("/users/{u}/grants"),
        "/users/not-an-id/grants".to_owned(),
        "/groups".to_owned(),
        format!("/groups/{g}/grants"),
        "/roles".to_owned(),
        "/roles/inheritance".to_owned(),
        "/systems".to_owned(),
    ];
    let forms: [&[(&str, &str)]; 3] = [
        &[("csrf", b.csrf.as_str())],
        &[
            ("csrf", b.csrf.as_str()),
            ("role_id", "nope"),
            ("parent_id", "nope"),
            ("system_id", "nope"),
            ("primary_group_id", "nope"),
            ("name", "\u{0}"),
        ],
        &[
            ("csrf", b.csrf.as_str()),
            ("role_id", &g),
            ("parent_id", &u),
            ("system_id", &g),
            ("primary_group_id", &u),
            ("name", &"x".repeat(5000)),
        ],
    ];
    for path in &posts {
        for form in forms {
            let page = browse(&t, Method::POST, path, &b.cookies, Some(form)).await;
            assert!(
                page.status.is_client_error(),
                "POST {path} with {form:?} answered {}: {}",
                page.status,
                page.body
            );
        }
    }
}
both!(hostile_requests_get_pages_not_server_errors);

/// The session token a browser carries, usable as a bearer token too.
fn session_token(b: &Browser) -> &str {
    b.cookies.trim_start_matches("latchkey_session=")
}

/// The `href` of the first link whose text is `text`.
fn href_of(page: &Html, text: &str) -> String {
    let end = page
        .body
        .find(&format!("\" download>{text}"))
        .unwrap_or_else(|| panic!("no link `{text}` in {}", page.body));
    let start = page.body[..end].rfind("href=\"").unwrap() + "href=\"".len();
    page.body[start..end]
        .replace("&amp;", "&")
        .replace("&#x2f;", "/")
}

async fn the_audit_page_filters_and_downloads_the_same_list(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    t.post(&t.admin, "/api/v1/groups", json!({ "name": "Finance" }))
        .await
        .expect(StatusCode::CREATED);
    let mo = t.user(&t.admin, "mo", &g).await;
    let b = admin_browser(&t).await;

    let all = browse(&t, Method::GET, "/audit", &b.cookies, None).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert!(all.body.contains("row\">group.create</th>"), "{}", all.body);
    assert!(all.body.contains("row\">user.create</th>"), "{}", all.body);
    assert!(all.body.contains(&format!("href=\"/users/{mo}\"")));

    let path = "/audit?action=group.create&from=2000-01-01";
    let narrowed = browse(&t, Method::GET, path, &b.cookies, None).await;
    assert_eq!(narrowed.status, StatusCode::OK, "{}", narrowed.body);
    assert!(
        narrowed.body.contains("row\">group.create</th>"),
        "{}",
        narrowed.body
    );
    assert!(
        !narrowed.body.contains("row\">user.create</th>"),
        "{}",
        narrowed.body
    );
    assert!(
        narrowed.body.contains("value=\"group.create\""),
        "the filter stays shown"
    );
    let to_past = browse(&t, Method::GET, "/audit?to=2000-01-01", &b.cookies, None).await;
    assert!(
        to_past.body.contains("No entries match"),
        "{}",
        to_past.body
    );

    // The CSV link downloads what the page shows, through the REST API and the same cookie.
    let csv = href_of(&narrowed, "Download these entries as CSV");
    assert!(
        csv.starts_with("/api/v1/audit?format=csv&action=group.create"),
        "{csv}"
    );
    let download = browse(&t, Method::GET, &csv, &b.cookies, None).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert!(
        download.headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(download.body.contains("group.create"), "{}", download.body);
    assert!(!download.body.contains("user.create"), "{}", download.body);

    // A date that is not one is said next to its field, and nothing is listed.
    let bad = browse(&t, Method::GET, "/audit?from=yesterday", &b.cookies, None).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("id=\"audit-from-error\""), "{}", bad.body);
    assert!(bad.body.contains("YYYY-MM-DD"), "{}", bad.body);
    assert!(!bad.body.contains("group.create</th>"), "{}", bad.body);

    // A member without `audit.view` is refused, as by the REST API.
    set_password(&t, &mo, "correct horse battery staple").await;
    let member = signed_in(&t, "mo", "correct horse battery staple").await;
    let refused = browse(&t, Method::GET, "/audit", &member.cookies, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("audit.view"), "{}", refused.body);
}
both!(the_audit_page_filters_and_downloads_the_same_list);

async fn the_security_center_needs_security_view_and_acts_on_alerts(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    let mo = t.user(&t.admin, "mo", &g).await;
    set_password(&t, &mo, "correct horse battery staple").await;
    let member = signed_in(&t, "mo", "correct horse battery staple").await;
    for path in ["/security", "/security/alerts", "/security/snapshots"] {
        let page = browse(&t, Method::GET, path, &member.cookies, None).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
        assert!(page.body.contains("security.view"), "{path}: {}", page.body);
    }
    let form = [("csrf", member.csrf.as_str()), ("name", "mine")];
    let refused = browse(
        &t,
        Method::POST,
        "/security/snapshots",
        &member.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);

    // Weakening the password policy raises an alert; a wrong password, an event.
    t.put(
        &t.admin,
        "/api/v1/password-policy",
        json!({ "min_length": 8, "require_lowercase": false, "require_uppercase": false, "require_digit": false, "require_symbol": false, "history": 5, "expiry_days": null }),
    )
    .await
    .expect(StatusCode::OK);
    sign_in(&t, "mo", "a wrong guess").await;
    let b = admin_browser(&t).await;
    let events = browse(&t, Method::GET, "/security?kind=sign_in.", &b.cookies, None).await;
    assert_eq!(events.status, StatusCode::OK, "{}", events.body);
    assert!(
        events.body.contains("row\">sign_in.failed</th>"),
        "{}",
        events.body
    );
    assert!(
        href_of(&events, "Download this list as CSV")
            .starts_with("/api/v1/security/events?format=csv&kind=sign_in.")
    );
    let none = browse(&t, Method::GET, "/security?kind=session.", &b.cookies, None).await;
    assert!(
        !none.body.contains("row\">sign_in.failed</th>"),
        "{}",
        none.body
    );

    let alerts = t
        .get(&t.admin, "/api/v1/security/alerts?rule=policy_weakened")
        .await
        .expect(StatusCode::OK);
    let id = alerts.body["items"][0]["id"].as_str().unwrap().to_owned();
    let page = browse(&t, Method::GET, "/security/alerts", &b.cookies, None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("/security/alerts/{id}/acknowledge")),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("it stays listed until resolved"),
        "{}",
        page.body
    );

    // Without the session's token nothing changes.
    let ack = format!("/security/alerts/{id}/acknowledge");
    let no_csrf = browse(&t, Method::POST, &ack, &b.cookies, Some(&[("note", "x")])).await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    let alert = t
        .get(&t.admin, "/api/v1/security/alerts?rule=policy_weakened")
        .await;
    assert_eq!(alert.body["items"][0]["status"], "open");

    let hostile = "<script>alert(1)</script>";
    let form = [("csrf", b.csrf.as_str()), ("note", hostile)];
    let done = browse(&t, Method::POST, &ack, &b.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/security/alerts?done=acknowledged");
    let alert = t
        .get(&t.admin, "/api/v1/security/alerts?rule=policy_weakened")
        .await;
    assert_eq!(alert.body["items"][0]["status"], "acknowledged");
    assert_eq!(alert.body["items"][0]["note"], hostile);
    let page = browse(
        &t,
        Method::GET,
        "/security/alerts?done=acknowledged",
        &b.cookies,
        None,
    )
    .await;
    assert!(page.body.contains("Alert acknowledged"), "{}", page.body);
    assert!(
        page.body.contains("&lt;script&gt;alert(1)"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("<script>alert"), "{}", page.body);
    assert!(
        !page.body.contains(&ack),
        "an acknowledged alert is not acknowledged again"
    );

    let form = [("csrf", b.csrf.as_str()), ("note", "policy restored")];
    let resolve = format!("/security/alerts/{id}/resolve");
    let done = browse(&t, Method::POST, &resolve, &b.cookies, Some(&form)).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let alert = t
        .get(&t.admin, "/api/v1/security/alerts?rule=policy_weakened")
        .await;
    assert_eq!(alert.body["items"][0]["status"], "resolved");
    // Resolving twice is refused with the service's reason, on the alerts page.
    let again = browse(&t, Method::POST, &resolve, &b.cookies, Some(&form)).await;
    assert!(
        again.status.is_client_error(),
        "{}: {}",
        again.status,
        again.body
    );
    assert!(again.body.contains("role=\"alert\""), "{}", again.body);

    // Snapshots: a hostile name is escaped, and its CSV downloads with the same cookie.
    let form = [("csrf", b.csrf.as_str()), ("name", "<b>Q3</b>"), ("at", "")];
    let made = browse(
        &t,
        Method::POST,
        "/security/snapshots",
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.body);
    let list = browse(
        &t,
        Method::GET,
        "/security/snapshots?done=snapshot",
        &b.cookies,
        None,
    )
    .await;
    assert!(list.body.contains("&lt;b&gt;Q3&lt;"), "{}", list.body);
    assert!(!list.body.contains("<b>Q3</b>"), "{}", list.body);
    let snaps = t.get(&t.admin, "/api/v1/security/access-snapshots").await;
    let snap = snaps.body[0]["id"].as_str().unwrap().to_owned();
    let csv_path = format!("/api/v1/security/access-snapshots/{snap}/csv");
    assert!(list.body.contains(&csv_path), "{}", list.body);
    let csv = browse(&t, Method::GET, &csv_path, &b.cookies, None).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(
        csv.body.starts_with("user_id,user_name,role_id"),
        "{}",
        csv.body
    );
    let form = [("csrf", b.csrf.as_str()), ("name", "later"), ("at", "soon")];
    let bad = browse(
        &t,
        Method::POST,
        "/security/snapshots",
        &b.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        bad.body.contains("id=\"snapshot-at-error\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("value=\"later\""), "{}", bad.body);
}
both!(the_security_center_needs_security_view_and_acts_on_alerts);

async fn an_account_token_is_shown_once_and_works_until_revoked(backend: Backend) {
    let t = TestApp::new(backend).await;
    let b = admin_browser(&t).await;
    let no_csrf = browse(
        &t,
        Method::POST,
        "/account/tokens",
        &b.cookies,
        Some(&[("name", "ci")]),
    )
    .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);

    let form = [
        ("csrf", b.csrf.as_str()),
        ("name", "<i>ci</i>"),
        ("expires", ""),
    ];
    let created = browse(&t, Method::POST, "/account/tokens", &b.cookies, Some(&form)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(
        created.body.contains("shown only this once"),
        "{}",
        created.body
    );
    assert!(created.body.contains("&lt;i&gt;ci&lt;"), "{}", created.body);
    assert!(!created.body.contains("<i>ci</i>"), "{}", created.body);
    let at = created.body.find("id=\"token-secret\"").unwrap();
    let rest = &created.body[at..];
    let start = rest.find("value=\"").unwrap() + "value=\"".len();
    let secret = rest[start..].split('"').next().unwrap().to_owned();
    assert!(secret.len() > 20, "{secret}");

    let me = t.get(&secret, "/api/v1/me").await.expect(StatusCode::OK);
    assert_eq!(me.body["user_name"], "admin");
    let account = browse(&t, Method::GET, "/account", &b.cookies, None).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.body);
    assert!(account.body.contains("&lt;i&gt;ci&lt;"), "{}", account.body);
    assert!(!account.body.contains(&secret), "the secret is shown once");
    assert!(account.body.contains("refused at once"), "{}", account.body);

    let tokens = t
        .get(&secret, "/api/v1/tokens")
        .await
        .expect(StatusCode::OK);
    let id = tokens
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "<i>ci</i>")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [("csrf", b.csrf.as_str())];
    let path = format!("/account/tokens/{id}/revoke");
    let revoked = browse(&t, Method::POST, &path, &b.cookies, Some(&form)).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(revoked.location(), "/account?done=token");
    t.get(&secret, "/api/v1/me")
        .await
        .expect(StatusCode::UNAUTHORIZED);

    // A blank name is said next to its field.
    let form = [("csrf", b.csrf.as_str()), ("name", " ")];
    let refused = browse(&t, Method::POST, "/account/tokens", &b.cookies, Some(&form)).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("id=\"token-name-error\""),
        "{}",
        refused.body
    );
}
both!(an_account_token_is_shown_once_and_works_until_revoked);

async fn the_account_page_ends_sessions_and_changes_the_password(backend: Backend) {
    let t = TestApp::new(backend).await;
    let g = root_group(&t).await;
    // Signing in again ends a single-session user's earlier sessions: mo has several.
    let mo = user_with(
        &t,
        json!({ "user_name": "mo", "first_name": "Mo", "last_name": "Member", "primary_group_id": g, "multi_session": true }),
    )
    .await;
    set_password(&t, &mo, "correct horse battery staple").await;
    let laptop = signed_in(&t, "mo", "correct horse battery staple").await;
    let phone = signed_in(&t, "mo", "correct horse battery staple").await;

    let account = browse(&t, Method::GET, "/account", &laptop.cookies, None).await;
    assert_eq!(account.status, StatusCode::OK, "{}", account.location());
    assert_eq!(
        account.body.matches("/revoke\">").count(),
        2,
        "{}",
        account.body
    );
    assert_eq!(account.body.matches("this session</span>").count(), 1);
    assert!(account.body.contains("End this session and sign out"));

    let phones = t
        .get(session_token(&phone), "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    let phone_id = phones
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/account/sessions/{phone_id}/revoke");
    let form = [("csrf", laptop.csrf.as_str())];
    let ended = browse(&t, Method::POST, &path, &laptop.cookies, Some(&form)).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.body);
    assert_eq!(ended.location(), "/account?done=session");
    let gone = browse(&t, Method::GET, "/account", &phone.cookies, None).await;
    assert_eq!(gone.location(), "/", "the phone is signed out");
    let still = browse(
        &t,
        Method::GET,
        "/account?done=session",
        &laptop.cookies,
        None,
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);
    assert!(still.body.contains("Session ended"), "{}", still.body);

    // Someone else's session is not mine to end from here.
    let admin = admin_browser(&t).await;
    let admins = t
        .get(session_token(&admin), "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    let admin_id = admins.body[0]["id"].as_str().unwrap().to_owned();
    let path = format!("/account/sessions/{admin_id}/revoke");
    let refused = browse(&t, Method::POST, &path, &laptop.cookies, Some(&form)).await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    t.get(session_token(&admin), "/api/v1/me")
        .await
        .expect(StatusCode::OK);

    // The password: errors next to the fields, never an echo of what was typed.
    let wrong = [
        ("csrf", laptop.csrf.as_str()),
        ("current_password", "not my password"),
        ("new_password", "a brand new long password"),
        ("confirm_password", "a brand new long password"),
    ];
    let page = browse(
        &t,
        Method::POST,
        "/account/password",
        &laptop.cookies,
        Some(&wrong),
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("id=\"password-current_password-error\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("the current password is wrong"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("not my password"));
    let differ = [
        ("csrf", laptop.csrf.as_str()),
        ("current_password", "correct horse battery staple"),
        ("new_password", "a brand new long password"),
        ("confirm_password", "a brand new long passwort"),
    ];
    let page = browse(
        &t,
        Method::POST,
        "/account/password",
        &laptop.cookies,
        Some(&differ),
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.body.contains("id=\"password-confirm_password-error\""),
        "{}",
        page.body
    );
    let right = [
        ("csrf", laptop.csrf.as_str()),
        ("current_password", "correct horse battery staple"),
        ("new_password", "a brand new long password"),
        ("confirm_password", "a brand new long password"),
    ];
    let done = browse(
        &t,
        Method::POST,
        "/account/password",
        &laptop.cookies,
        Some(&right),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    sign_in(&t, "mo", "a brand new long password")
        .await
        .expect(StatusCode::OK);

    // Ending the current session signs this browser out.
    let fresh = signed_in(&t, "mo", "a brand new long password").await;
    let mine = t
        .get(session_token(&fresh), "/api/v1/sessions")
        .await
        .expect(StatusCode::OK);
    let id = mine
        .body
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == true)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let form = [("csrf", fresh.csrf.as_str())];
    let out = browse(
        &t,
        Method::POST,
        &format!("/account/sessions/{id}/revoke"),
        &fresh.cookies,
        Some(&form),
    )
    .await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/");
    assert_eq!(out.cookie("latchkey_session").as_deref(), Some(""));
    let gone = browse(&t, Method::GET, "/account", &fresh.cookies, None).await;
    assert_eq!(gone.location(), "/");
}
both!(the_account_page_ends_sessions_and_changes_the_password);
