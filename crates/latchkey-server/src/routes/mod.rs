//! The REST API under `/api/v1`. Handlers hold no SQL and no policy: they extract, call one
//! service function and shape the answer. The table here is also the OpenAPI document.

mod admin;
mod approvals;
mod bulk;
mod catalog;
mod directory;
mod history;
pub(crate) mod invitations;
mod passkeys;
mod preview;
mod reviews;
mod rules;
mod settings;
pub(crate) mod sign_in;
mod sod;
mod totp;
pub(crate) mod workspaces;

use crate::openapi::ApiRouter;

pub fn api(r: ApiRouter) -> ApiRouter {
    let r = admin::routes(r);
    let r = bulk::routes(r);
    let r = directory::routes(r);
    let r = catalog::routes(r);
    let r = settings::routes(r);
    let r = invitations::routes(r);
    let r = passkeys::routes(r);
    let r = totp::routes(r);
    let r = workspaces::routes(r);
    let r = rules::routes(r);
    let r = sod::routes(r);
    let r = history::routes(r);
    let r = preview::routes(r);
    let r = approvals::routes(r);
    let r = reviews::routes(r);
    sign_in::routes(r)
}

/// Pages for CSV downloads are as large as allowed: fewer round trips to the store.
pub(crate) fn csv_page(format: crate::extract::Format, list: &mut latchkey_service::ListParams) {
    if format == crate::extract::Format::Csv {
        list.limit = Some(latchkey_service::MAX_LIMIT.to_string());
    }
}
