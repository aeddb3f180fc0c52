//! The Security Center's overview: sign-ins and failed sign-ins per day over the last 30
//! days, open alerts by rule, and how many users hold each privileged role. Every figure is
//! counted by the store or the engine and only the totals leave it: the cost depends on the
//! window and on the number of privileged roles, never on the whole history of events.

use latchkey_model::AlertStatus;
use latchkey_store::{Paging, RoleQuery};
use time::{Date, Duration};

use crate::sign_in::{events, require_security_center};
use crate::{Principal, ServiceResult, Services};

/// Days the sign-in chart covers, today included.
pub const CHART_DAYS: u16 = 30;
/// Privileged roles the holders chart shows, by name.
pub const CHART_ROLES: u32 = 20;

/// Sign-ins of one UTC day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaySignIns {
    pub day: Date,
    /// `sign_in.succeeded` events.
    pub succeeded: i64,
    /// `sign_in.failed` and `sign_in.locked` events.
    pub failed: i64,
}

/// How many users hold a privileged role now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleHolderCount {
    pub role_id: latchkey_model::RoleId,
    pub name: String,
    pub holders: usize,
}

/// The overview's figures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityCharts {
    /// One entry per day, oldest first, the days without any event included.
    pub days: Vec<DaySignIns>,
    /// Open alerts by rule, the most frequent first.
    pub open_alerts: Vec<(String, i64)>,
    /// Privileged roles (the first [`CHART_ROLES`] by name) and their holders.
    pub privileged_roles: Vec<RoleHolderCount>,
    /// More privileged roles exist than are shown.
    pub more_roles: bool,
}

/// Days since 1970-01-01 of `day`.
fn day_number(day: Date) -> i64 {
    i64::from(day.to_julian_day() - time::macros::date!(1970 - 01 - 01).to_julian_day())
}

impl Services {
    /// The Security Center's overview. Needs `security.view` everywhere, like its lists.
    pub async fn security_charts(&self, p: &Principal) -> ServiceResult<SecurityCharts> {
        require_security_center(p)?;
        let now = self.now();
        let today = now.date();
        let first = today - Duration::days(i64::from(CHART_DAYS) - 1);
        let from = first.midnight().assume_utc();
        let to = (today + Duration::days(1)).midnight().assume_utc();
        let mut tx = self.read().await?;
        let counted = tx
            .count_security_events_by_day(
                p.org_id,
                &[
                    events::SIGN_IN_SUCCEEDED,
                    events::SIGN_IN_FAILED,
                    events::SIGN_IN_LOCKED,
                ],
                from,
                to,
            )
            .await?;
        let open_alerts = tx
            .count_security_alerts_by_rule(p.org_id, AlertStatus::Open)
            .await?;
        let roles = tx
            .list_roles(
                p.org_id,
                &RoleQuery {
                    paging: Paging {
                        limit: CHART_ROLES,
                        ..Paging::default()
                    },
                    privileged: Some(true),
                    ..RoleQuery::default()
                },
            )
            .await?;
        drop(tx);

        let base = day_number(first);
        let mut days: Vec<DaySignIns> = (0..CHART_DAYS)
            .map(|i| DaySignIns {
                day: first + Duration::days(i64::from(i)),
                succeeded: 0,
                failed: 0,
            })
            .collect();
        for (day, kind, n) in counted {
            let Some(entry) = usize::try_from(day - base)
                .ok()
                .and_then(|i| days.get_mut(i))
            else {
                continue;
            };
            if kind == events::SIGN_IN_SUCCEEDED {
                entry.succeeded += n;
            } else {
                entry.failed += n;
            }
        }

        let engine = self.engine(p.org_id).await?;
        let privileged_roles = {
            let state = engine.read();
            roles
                .items
                .iter()
                .map(|r| {
                    // Counted, not explained: the keys alone (sorted by user), no paths.
                    let mut users: Vec<_> = state
                        .engine
                        .holder_keys(r.id, now)
                        .into_iter()
                        .map(|(user, _)| user)
                        .collect();
                    users.dedup();
                    RoleHolderCount {
                        role_id: r.id,
                        name: r.name.clone(),
                        holders: users.len(),
                    }
                })
                .collect()
        };
        Ok(SecurityCharts {
            days,
            open_alerts,
            privileged_roles,
            more_roles: roles.has_more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_count_from_the_epoch() {
        assert_eq!(day_number(time::macros::date!(1970 - 01 - 01)), 0);
        assert_eq!(day_number(time::macros::date!(1970 - 01 - 02)), 1);
        // 2026-03-05T00:00:00Z is 1772668800 seconds after the epoch.
        assert_eq!(
            day_number(time::macros::date!(2026 - 03 - 05)),
            1_772_668_800 / 86_400
        );
    }
}
