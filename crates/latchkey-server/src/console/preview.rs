//! Changes previewed before they are made: an edit that changes who holds what (a group
//! moved, a role granted to a group, a role granting another or no longer granting it)
//! first shows who would gain and who would lose which effective role, from the same
//! `preview_change` as `POST /api/v1/access-preview`, with a form repeating what was
//! submitted plus `confirm=yes`; only that second submit makes the change. Nothing is
//! written by the first.

use latchkey_api::{AccessPreview, ChangeToPreview};
use serde_json::json;

use super::view::{Console, Form, Page, Problem};
use crate::app::AppState;

/// Entries listed per side on a preview page; the totals say how many more there are.
const SHOWN: u32 = 200;

/// Whether this submit is the confirmation of a previewed change.
pub(super) fn confirmed(form: &Form) -> bool {
    form.get("confirm") == "yes"
}

/// What the change would do, or why it would be refused (the same checks as the write).
pub(super) async fn judge(
    s: &AppState,
    c: &Console,
    change: ChangeToPreview,
) -> Result<AccessPreview, Problem> {
    s.services
        .preview_change(&c.p, change, Some(SHOWN))
        .await
        .map_err(Problem::from)
}

/// The preview page: `what` says the change in words, `action` is where the confirming
/// form posts (with every field of `form` repeated), `back` where Cancel leads.
pub(super) fn page(
    c: &Console,
    section: &str,
    what: &str,
    action: &str,
    back: &str,
    form: &Form,
    preview: &AccessPreview,
) -> Page {
    let fields: Vec<_> = form
        .values()
        .into_iter()
        .filter(|(k, _)| *k != "confirm")
        .map(|(k, v)| json!({ "name": k, "value": v }))
        .collect();
    Page::signed_in("change_preview.html", c, section)
        .set("what", what)
        .set("action", action)
        .set("back", back)
        .set("fields", fields)
        .set("preview", preview)
}
