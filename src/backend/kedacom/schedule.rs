//! The room's meeting list: the conferences going on (`GET /api/v1/mc/meetings?state=2`,
//! seed 004) and the booked ones (`GET /api/v1/mc/booked_confs`), each read page by page to the
//! end, a meeting listed once.

use std::collections::HashSet;
use std::sync::Arc;

use super::Inner;
use super::model::{Booked, MeetingPage};
use crate::backend::{BackendResult, ScheduledMeeting};

/// Items asked for per page.
const PAGE: usize = 20;
/// Pages read at most per list, in case a platform never says it is done.
const MAX_PAGES: usize = 50;
/// `meetings` state: started.
const STARTED: &str = "2";

impl Inner {
    pub(super) async fn meeting_list(self: Arc<Self>) -> BackendResult<Vec<ScheduledMeeting>> {
        let ongoing = self
            .all_pages("/api/v1/mc/meetings", &[("state", STARTED)])
            .await?;
        let booked = self.all_pages("/api/v1/mc/booked_confs", &[]).await?;
        let zone = self.config.time_zone.0;
        let mut seen = HashSet::new();
        Ok(ongoing
            .iter()
            .chain(&booked)
            .filter(|m| {
                let key = if m.conf_id.is_empty() {
                    &m.meeting_id
                } else {
                    &m.conf_id
                };
                seen.insert(key.clone())
            })
            .map(|m| m.scheduled(zone))
            .collect())
    }

    /// Every item of a paged list.
    async fn all_pages(&self, path: &str, filter: &[(&str, &str)]) -> BackendResult<Vec<Booked>> {
        let mut all = Vec::new();
        let count = PAGE.to_string();
        for page in 0..MAX_PAGES {
            let start = (page * PAGE).to_string();
            let mut query = vec![
                ("start", start.as_str()),
                ("count", count.as_str()),
                ("order", "0"),
            ];
            query.extend_from_slice(filter);
            let got: MeetingPage = self.api.get(path, &query).await?;
            let mut items = got.booked_confs;
            items.extend(got.meetings);
            let last = items.len() < PAGE;
            all.extend(items);
            if last || got.total.is_some_and(|total| all.len() >= total) {
                break;
            }
        }
        Ok(all)
    }
}
