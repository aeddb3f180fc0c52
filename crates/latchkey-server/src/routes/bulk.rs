//! `POST /api/v1/bulk`: NDJSON in, NDJSON out, both streamed. The body is cut into lines as
//! it arrives and handed to the service, which answers line by line; neither side holds the
//! whole load in memory.

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt as _;
use latchkey_service::MAX_LINE;
use tokio::sync::mpsc;

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::openapi::{ApiRouter, doc};

pub fn routes(r: ApiRouter) -> ApiRouter {
    r.post(
        "/bulk",
        bulk,
        doc("import", "Load NDJSON records (groups, users, memberships, systems, roles, inherit, grants) as a stream")
            .perm("the permissions each record needs")
            .ndjson(),
    )
}

async fn bulk(State(s): State<AppState>, Auth(p): Auth, req: Request) -> ApiResult<Response> {
    let ndjson = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/x-ndjson") || v.starts_with("application/jsonl")
        });
    if !ndjson {
        return Err(ApiError::BadRequest {
            status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
            code: "unsupported_media_type",
            detail:
                "send the records as `Content-Type: application/x-ndjson`, one JSON object a line"
                    .to_owned(),
            fields: vec![],
        });
    }
    let (line_tx, line_rx) = mpsc::channel::<Result<String, String>>(1024);
    let (out_tx, out_rx) = mpsc::channel::<serde_json::Value>(1024);
    let mut body = req.into_body().into_data_stream();
    // Reader: the body into lines.
    tokio::spawn(async move {
        let mut pending: Vec<u8> = Vec::new();
        let mut too_long = false;
        while let Some(chunk) = body.next().await {
            let Ok(chunk) = chunk else {
                let _ = line_tx
                    .send(Err("the request body was cut off".to_owned()))
                    .await;
                return;
            };
            for piece in chunk.split_inclusive(|b| *b == b'\n') {
                if !too_long {
                    pending.extend_from_slice(piece);
                }
                if pending.len() > MAX_LINE {
                    too_long = true;
                    pending.clear();
                }
                if piece.ends_with(b"\n") {
                    let line = if too_long {
                        Err(format!("the line is longer than {MAX_LINE} bytes"))
                    } else {
                        String::from_utf8(std::mem::take(&mut pending))
                            .map(|l| l.trim_end_matches(['\n', '\r']).to_owned())
                            .map_err(|_| "the line is not UTF-8".to_owned())
                    };
                    too_long = false;
                    if line_tx.send(line).await.is_err() {
                        return;
                    }
                }
            }
        }
        if too_long {
            let _ = line_tx
                .send(Err(format!("the line is longer than {MAX_LINE} bytes")))
                .await;
        } else if !pending.is_empty() {
            let line = String::from_utf8(pending).map_err(|_| "the line is not UTF-8".to_owned());
            let _ = line_tx.send(line).await;
        }
    });
    // Loader: the service, answering into `out_tx`.
    let services = s.services.clone();
    tokio::spawn(async move {
        if let Err(e) = services.bulk_load(&p, line_rx, out_tx.clone()).await {
            tracing::error!(request_id = p.request_id.as_deref().unwrap_or("-"), error = %e, "bulk load stopped");
            let detail = match &e {
                latchkey_service::ServiceError::Internal(_) => {
                    "an internal error stopped the load; it has been logged".to_owned()
                }
                other => other.to_string(),
            };
            let _ = out_tx
                .send(serde_json::json!({ "error": { "code": "stopped", "detail": detail } }))
                .await;
        }
    });
    let stream = futures_util::stream::unfold(out_rx, |mut rx| async move {
        let value = rx.recv().await?;
        let mut line = serde_json::to_vec(&value).unwrap_or_default();
        line.push(b'\n');
        Some((Ok::<_, Infallible>(Bytes::from(line)), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(stream),
    )
        .into_response())
}
