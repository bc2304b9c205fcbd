//! Keeping the platform session alive: log in at start (retrying while the platform is away),
//! send the token and user heartbeats every `heartbeat_secs`, and log in again after three
//! failed heartbeats. The booked meetings are refreshed every minute on the way, so the
//! panel's meeting list follows the platform's schedule.

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::backend::health::FAILURES_BEFORE_DISCONNECTED;
use crate::backend::{BackendEvent, Happening};

/// How often the booked meetings are fetched again.
const MEETING_LIST_EVERY: Duration = Duration::from_secs(60);
/// The longest wait between two login attempts while the platform is away.
const RETRY_AT_MOST: Duration = Duration::from_secs(30);

pub async fn run(inner: Arc<Inner>) {
    let beat = Duration::from_secs(inner.config.heartbeat_secs.0);
    let mut retry = Duration::from_secs(1);
    let mut failures = 0;
    // The room fetches the list itself at start and whenever the platform comes back; this
    // only follows changes to the schedule in between.
    let mut list_due = tokio::time::Instant::now() + MEETING_LIST_EVERY;
    loop {
        let wait = match inner.api.logged_in().await {
            Err(refusal) => {
                tracing::warn!(%refusal, "kedacom: cannot log in; trying again in {retry:?}");
                let wait = retry;
                retry = (retry * 2)
                    .min(RETRY_AT_MOST)
                    .min(beat.max(Duration::from_secs(1)));
                wait
            }
            Ok(login) => {
                retry = Duration::from_secs(1);
                if tokio::time::Instant::now() >= list_due {
                    refresh_meeting_list(&inner).await;
                    list_due = tokio::time::Instant::now() + MEETING_LIST_EVERY;
                }
                tokio::select! {
                    () = inner.stop.cancelled() => return,
                    () = tokio::time::sleep(beat) => {}
                }
                match inner.api.heartbeat(&login).await {
                    Ok(()) => failures = 0,
                    Err(refusal) => {
                        failures += 1;
                        tracing::warn!(%refusal, failures, "kedacom: heartbeat failed");
                        if failures >= FAILURES_BEFORE_DISCONNECTED {
                            failures = 0;
                            inner.api.forget().await;
                            inner.api.health().disconnected(&format!(
                                "kedacom: {FAILURES_BEFORE_DISCONNECTED} heartbeats failed, last: {}",
                                refusal.message
                            ));
                        }
                    }
                }
                Duration::ZERO
            }
        };
        tokio::select! {
            () = inner.stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
    }
}

async fn refresh_meeting_list(inner: &Arc<Inner>) {
    match inner.clone().meeting_list().await {
        Ok(list) => {
            let report = BackendEvent {
                session: None,
                happening: Happening::MeetingList(list),
            };
            let _ = inner.events.send(report).await;
        }
        Err(refusal) => tracing::warn!(%refusal, "kedacom: cannot fetch the booked meetings"),
    }
}
