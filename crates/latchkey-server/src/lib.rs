//! The HTTP server: the REST API under `/api/v1` (with its OpenAPI document), the admin
//! console under `/`, health, readiness and metrics endpoints, configuration and `serve`.
//! Handlers and pages convert between the wire and the service layer; they hold no SQL and
//! no policy.

mod app;
mod config;
mod console;
mod error;
mod extract;
mod master_key;
mod metrics;
mod openapi;
mod respond;
mod routes;
mod serve;

pub use app::build as build_app;
pub use config::{Config, SecretText, ServeOptions};
pub use serve::{open_store, serve};
