//! The Security Center's charts (`security.view`, like its other tabs): sign-ins and failed
//! sign-ins per day over the last 30 days, open alerts by rule, and holders per privileged
//! role. Drawn on the server as inline SVG (no chart library, no script), each with a
//! `<title>` and `<desc>`, and with its numbers in a table beside it.

use axum::extract::State;
use axum::response::Response;
use latchkey_service::SecurityCharts;
use serde_json::{Value, json};

use super::view::{Console, Page, Problem};
use crate::app::AppState;

/// The day chart's drawing area, in SVG units.
const DAY_WIDTH: u32 = 600;
const DAY_HEIGHT: u32 = 160;
/// The longest bar of a horizontal chart.
const BAR_WIDTH: u32 = 360;

/// `value` out of `max`, scaled to `length` (at least 1 for a value above zero, so that it
/// shows).
fn scaled(value: i64, max: i64, length: u32) -> u32 {
    if value <= 0 || max <= 0 {
        return 0;
    }
    let v = u64::try_from(value).unwrap_or(0);
    let m = u64::try_from(max).unwrap_or(1);
    let out = (v * u64::from(length)).div_ceil(m);
    u32::try_from(out).unwrap_or(length).clamp(1, length)
}

/// The figures as the template draws them.
fn drawn(c: &SecurityCharts) -> Value {
    let max = c
        .days
        .iter()
        .map(|d| d.succeeded.max(d.failed))
        .max()
        .unwrap_or(0);
    let slot = DAY_WIDTH / u32::try_from(c.days.len().max(1)).unwrap_or(1);
    let bar = (slot.saturating_sub(2) / 2).max(1);
    let days: Vec<_> = c
        .days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = u32::try_from(i).unwrap_or(0) * slot;
            let ok = scaled(d.succeeded, max, DAY_HEIGHT);
            let failed = scaled(d.failed, max, DAY_HEIGHT);
            json!({
                "day": d.day.to_string(),
                "short": format!("{:02}/{:02}", d.day.day(), u8::from(d.day.month())),
                "succeeded": d.succeeded,
                "failed": d.failed,
                "x_ok": x + 1,
                "x_failed": x + 1 + bar,
                "w": bar,
                "h_ok": ok,
                "y_ok": DAY_HEIGHT - ok,
                "h_failed": failed,
                "y_failed": DAY_HEIGHT - failed,
                "label": i % 5 == 0,
                "x_label": x + slot / 2,
            })
        })
        .collect();
    let total_ok: i64 = c.days.iter().map(|d| d.succeeded).sum();
    let total_failed: i64 = c.days.iter().map(|d| d.failed).sum();

    let alert_max = c.open_alerts.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let alerts: Vec<_> = c
        .open_alerts
        .iter()
        .enumerate()
        .map(|(i, (rule, n))| {
            json!({ "label": rule, "value": n, "w": scaled(*n, alert_max, BAR_WIDTH), "y": i * 28 })
        })
        .collect();
    let role_max = c
        .privileged_roles
        .iter()
        .map(|r| i64::try_from(r.holders).unwrap_or(i64::MAX))
        .max()
        .unwrap_or(0);
    let roles: Vec<_> = c
        .privileged_roles
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = i64::try_from(r.holders).unwrap_or(i64::MAX);
            json!({ "label": r.name, "value": n, "w": scaled(n, role_max, BAR_WIDTH), "y": i * 28 })
        })
        .collect();
    json!({
        "days": days,
        "day_width": DAY_WIDTH,
        "day_height": DAY_HEIGHT,
        "max": max,
        "total_ok": total_ok,
        "total_failed": total_failed,
        "first": c.days.first().map(|d| d.day.to_string()),
        "last": c.days.last().map(|d| d.day.to_string()),
        "alerts": alerts,
        "alerts_total": c.open_alerts.iter().map(|(_, n)| n).sum::<i64>(),
        "alerts_height": c.open_alerts.len() * 28,
        "roles": roles,
        "roles_height": c.privileged_roles.len() * 28,
        "more_roles": c.more_roles,
        "bar_width": BAR_WIDTH,
    })
}

/// `GET /security/charts`.
pub(super) async fn show(State(s): State<AppState>, c: Console) -> Response {
    match s.services.security_charts(&c.p).await {
        Ok(charts) => Page::signed_in("security.html", &c, "security")
            .set("tab", "charts")
            .set("charts", drawn(&charts))
            .render(),
        Err(e) => Problem::from(e).page(&c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_small_ones_still_show() {
        assert_eq!(scaled(0, 10, 100), 0);
        assert_eq!(scaled(10, 10, 100), 100);
        assert_eq!(scaled(5, 10, 100), 50);
        assert_eq!(scaled(1, 1000, 100), 1);
        assert_eq!(scaled(3, 0, 100), 0);
    }
}
