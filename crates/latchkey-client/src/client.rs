//! The HTTP core of [`Client`]: building authenticated requests against the base URL, turning
//! answers into values or [`ClientError`]s, and the generic helpers every endpoint method is
//! written with. Lists accept both a `ListResponse` page and a bare JSON array, so that a
//! small collection served unpaged decodes the same way.

use std::fmt;

use latchkey_api::{ImportReport, ListResponse};
use reqwest::header::{ACCEPT, CONTENT_TYPE, IF_MATCH};
use reqwest::{Method, RequestBuilder, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::endpoints::ImportKind;
use crate::error::ClientError;
use crate::query::Page;

/// A client of one Latchkey server, authenticated by one API token. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: String,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The token is a secret: never print it.
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client of the server at `base_url` (`http://127.0.0.1:8080`, with or without a final
    /// slash) sending `Authorization: Bearer <token>`; an empty token sends no header.
    pub fn new(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self::with_http_client(reqwest::Client::new(), base_url, token)
    }

    /// As [`Client::new`], with a `reqwest` client configured by the caller (timeouts, ...).
    pub fn with_http_client(
        http: reqwest::Client,
        base_url: impl Into<String>,
        token: impl Into<String>,
    ) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        Self {
            http,
            base_url,
            token: token.into(),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The absolute URL of `path` (`/api/v1/users`, leading slash optional).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}/{path}", self.base_url)
        }
    }

    pub(crate) fn request(&self, method: Method, path: &str) -> (RequestBuilder, String) {
        let url = self.url(path);
        let mut builder = self.http.request(method, &url);
        if !self.token.is_empty() {
            builder = builder.bearer_auth(&self.token);
        }
        (builder, url)
    }

    /// Sends the request; a non-2xx answer becomes [`ClientError::Api`].
    pub(crate) async fn send(
        &self,
        builder: RequestBuilder,
        url: &str,
    ) -> Result<Response, ClientError> {
        let response = builder.send().await.map_err(|e| transport_error(url, &e))?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        Err(ClientError::from_response(status.as_u16(), &body))
    }

    pub(crate) async fn read_json<T: DeserializeOwned>(
        response: Response,
        url: &str,
    ) -> Result<T, ClientError> {
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(url, &e))?;
        serde_json::from_slice(&bytes).map_err(|e| decode_error(url, &e))
    }

    /// `GET path` decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.get_with_query(path, &crate::NoFilter {}).await
    }

    /// `GET path?query` decoded as `T`.
    pub async fn get_with_query<T, Q>(&self, path: &str, query: &Q) -> Result<T, ClientError>
    where
        T: DeserializeOwned,
        Q: Serialize + ?Sized,
    {
        let (builder, url) = self.request(Method::GET, path);
        let response = self.send(builder.query(query), &url).await?;
        Self::read_json(response, &url).await
    }

    /// One page of the list at `path`, with the collection's `filter`.
    pub async fn list<T, Q>(
        &self,
        path: &str,
        filter: &Q,
        page: &Page,
    ) -> Result<ListResponse<T>, ClientError>
    where
        T: DeserializeOwned,
        Q: Serialize + ?Sized,
    {
        let (builder, url) = self.request(Method::GET, path);
        let response = self.send(builder.query(filter).query(page), &url).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| transport_error(&url, &e))?;
        decode_list(&bytes).map_err(|e| decode_error(&url, &e))
    }

    /// Every item of the list at `path`, following `next_cursor` from `page` (whose `limit`
    /// is then the page size) until the last page.
    pub async fn list_all<T, Q>(
        &self,
        path: &str,
        filter: &Q,
        page: &Page,
    ) -> Result<Vec<T>, ClientError>
    where
        T: DeserializeOwned,
        Q: Serialize + ?Sized,
    {
        let mut page = page.clone();
        let mut items = Vec::new();
        loop {
            let answer = self.list::<T, Q>(path, filter, &page).await?;
            items.extend(answer.items);
            match answer.next_cursor {
                // A cursor that does not move would loop forever: stop there.
                Some(next) if page.cursor.as_ref() != Some(&next) => page.cursor = Some(next),
                _ => return Ok(items),
            }
        }
    }

    /// `POST path` with a JSON body, decoding the created entity.
    pub async fn create<B, T>(&self, path: &str, body: &B) -> Result<T, ClientError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let (builder, url) = self.request(Method::POST, path);
        let response = self.send(builder.json(body), &url).await?;
        Self::read_json(response, &url).await
    }

    /// `PATCH path` with an `Update*` body; `if_match` sends `If-Match: "<version>"` so that
    /// the update is refused when someone else changed the entity meanwhile.
    pub async fn update<B, T>(
        &self,
        path: &str,
        body: &B,
        if_match: Option<i64>,
    ) -> Result<T, ClientError>
    where
        B: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let (mut builder, url) = self.request(Method::PATCH, path);
        if let Some(version) = if_match {
            builder = builder.header(IF_MATCH, format!("\"{version}\""));
        }
        let response = self.send(builder.json(body), &url).await?;
        Self::read_json(response, &url).await
    }

    /// `POST path` with a JSON body, expecting no content back.
    pub async fn post_no_content<B>(&self, path: &str, body: &B) -> Result<(), ClientError>
    where
        B: Serialize + ?Sized,
    {
        let (builder, url) = self.request(Method::POST, path);
        self.send(builder.json(body), &url).await.map(drop)
    }

    /// `PUT path` with a JSON body, expecting no content back.
    pub async fn put_no_content<B>(&self, path: &str, body: &B) -> Result<(), ClientError>
    where
        B: Serialize + ?Sized,
    {
        let (builder, url) = self.request(Method::PUT, path);
        self.send(builder.json(body), &url).await.map(drop)
    }

    /// `DELETE path`, decoding what the server answers about the deleted thing.
    pub async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let (builder, url) = self.request(Method::DELETE, path);
        let response = self.send(builder, &url).await?;
        Self::read_json(response, &url).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Result<(), ClientError> {
        let (builder, url) = self.request(Method::DELETE, path);
        self.send(builder, &url).await.map(drop)
    }

    /// `DELETE path` with a JSON body (a proof the deletion asks for).
    pub async fn delete_with_body<B>(&self, path: &str, body: &B) -> Result<(), ClientError>
    where
        B: Serialize + ?Sized,
    {
        let (builder, url) = self.request(Method::DELETE, path);
        self.send(builder.json(body), &url).await.map(drop)
    }

    /// The CSV the server streams for `path_and_query` (`/api/v1/users?format=csv`).
    pub async fn export_csv(&self, path_and_query: &str) -> Result<String, ClientError> {
        let (builder, url) = self.request(Method::GET, path_and_query);
        let response = self.send(builder.header(ACCEPT, "text/csv"), &url).await?;
        response.text().await.map_err(|e| transport_error(&url, &e))
    }

    /// Posts a CSV document to `/api/v1/import/{kind}`. A report with failing rows is still
    /// `Ok`: look at `ImportReport::ok`.
    pub async fn import_csv(
        &self,
        kind: ImportKind,
        body: impl Into<String>,
        dry_run: bool,
    ) -> Result<ImportReport, ClientError> {
        let path = format!("/api/v1/import/{kind}");
        let (builder, url) = self.request(Method::POST, &path);
        let builder = builder
            .query(&[("dry_run", dry_run)])
            .header(CONTENT_TYPE, "text/csv")
            .body(body.into());
        let response = self.send(builder, &url).await?;
        Self::read_json(response, &url).await
    }
}

impl Client {
    /// `POST /api/v1/bulk` with NDJSON records; calls `on_line` with each answer line as it
    /// arrives (created records, errors, progress, and the summary last).
    pub async fn bulk(
        &self,
        body: Vec<u8>,
        mut on_line: impl FnMut(serde_json::Value),
    ) -> Result<(), ClientError> {
        let (builder, url) = self.request(Method::POST, "/api/v1/bulk");
        let builder = builder
            .header(CONTENT_TYPE, "application/x-ndjson")
            .body(body);
        let mut response = self.send(builder, &url).await?;
        let mut pending: Vec<u8> = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&url, &e))?
        {
            pending.extend_from_slice(&chunk);
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                on_line(serde_json::from_slice(&line).map_err(|e| decode_error(&url, &e))?);
            }
        }
        if !pending.iter().all(u8::is_ascii_whitespace) {
            on_line(serde_json::from_slice(&pending).map_err(|e| decode_error(&url, &e))?);
        }
        Ok(())
    }
}

fn decode_list<T: DeserializeOwned>(bytes: &[u8]) -> Result<ListResponse<T>, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes)?;
    if value.is_array() {
        Ok(ListResponse {
            items: serde_json::from_value(value)?,
            next_cursor: None,
        })
    } else {
        serde_json::from_value(value)
    }
}

fn transport_error(url: &str, err: &reqwest::Error) -> ClientError {
    let mut message = format!("could not reach `{url}`");
    // reqwest's own message repeats the URL; its causes say what went wrong.
    let mut cause = std::error::Error::source(err);
    if cause.is_none() {
        message.push_str(&format!(": {err}"));
    }
    while let Some(c) = cause {
        message.push_str(&format!(": {c}"));
        cause = c.source();
    }
    ClientError::Transport(message)
}

fn decode_error(url: &str, err: &serde_json::Error) -> ClientError {
    ClientError::Decode(format!("could not read the answer of `{url}`: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_join_the_base_and_the_path() {
        let client = Client::new("http://127.0.0.1:8080/", "lk_x");
        assert_eq!(client.base_url(), "http://127.0.0.1:8080");
        assert_eq!(client.url("/api/v1/me"), "http://127.0.0.1:8080/api/v1/me");
        assert_eq!(client.url("api/v1/me"), "http://127.0.0.1:8080/api/v1/me");
    }

    #[test]
    fn debug_hides_the_token() {
        let client = Client::new("http://h", "lk_secret");
        assert!(!format!("{client:?}").contains("lk_secret"));
    }

    #[test]
    fn lists_decode_from_pages_and_arrays() {
        let page: ListResponse<u32> = decode_list(br#"{"items":[1,2],"next_cursor":"c"}"#).unwrap();
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(page.next_cursor.as_deref(), Some("c"));
        let bare: ListResponse<u32> = decode_list(b"[3]").unwrap();
        assert_eq!(bare.items, vec![3]);
        assert_eq!(bare.next_cursor, None);
    }
}
