//! What the room publishes: `status`, `info` and `state/<Module>` (retained, all again after every
//! connect, then each module when it changes) and `event/<Module>`.
//!
//! The publisher is a subscriber of the room like any panel: it follows the snapshot's `watch`
//! (so a burst of changes is one publish, the newest) and the events' `broadcast` (it never
//! holds up the owner; when it falls behind, events are skipped and counted). Everything goes
//! through the MQTT client's bounded queue with `try_publish`: when the broker is slow or away,
//! events are dropped and state waits, to be published (newest) once there is room.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::v5::AsyncClient;
use rumqttc::v5::mqttbytes::QoS;
use serde::Deserialize;
use serde_json::value::RawValue;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::Link;
use super::redact::blank_passwords;
use super::topics::Topics;
use crate::modules::MODULES;
use crate::room::owner::{EventFrame, RoomHandle};
use crate::room::snapshot::PreparedMembers;

/// How often state that did not fit in the queue is tried again.
const RETRY: Duration = Duration::from_millis(100);
/// Dropped events are logged at most this often.
const DROP_LOG_EVERY: Duration = Duration::from_secs(10);

pub struct Publisher {
    pub client: AsyncClient,
    pub topics: Topics,
    pub room: RoomHandle,
    /// The `info` document.
    pub info: String,
    /// Retained documents published after every connect besides the room's own (Home
    /// Assistant discovery): topic and payload.
    pub extra: Vec<(String, String)>,
    pub events_qos: QoS,
}

/// What has been handed to the client since the last connect.
#[derive(Default)]
struct Sent {
    /// Per module, a hash of the state last queued: a copy would double a large member list.
    state: HashMap<&'static str, u64>,
    /// The member list last queued as `state/Members`. Held, so that `Arc::ptr_eq` with a
    /// later snapshot's means unchanged (the room copies a list that is shared before changing
    /// it): a change elsewhere then costs no rendering of a large meeting's list.
    members: Option<Arc<PreparedMembers>>,
    /// `info`, the extra documents and `online` are queued.
    announced: bool,
    /// Something did not fit in the queue: try again.
    behind: bool,
    dropped: u64,
    dropped_logged: Option<Instant>,
}

impl Publisher {
    pub async fn run(self, mut link: watch::Receiver<Link>, shutdown: CancellationToken) {
        let mut snapshots = self.room.watch_snapshot();
        let mut events = self.room.subscribe_events();
        let mut sent = Sent::default();
        let mut generation = 0;
        let mut retry = tokio::time::interval(RETRY);
        retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let up = link.borrow().up;
            tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                changed = link.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let now = *link.borrow_and_update();
                    if now.up && now.generation != generation {
                        // A new session: the broker may have lost everything (a restart
                        // without persistence), so all of it again.
                        generation = now.generation;
                        sent = Sent { dropped: sent.dropped, ..Sent::default() };
                        snapshots.mark_unchanged();
                        self.flush(&mut sent);
                    }
                }
                changed = snapshots.changed(), if up => {
                    if changed.is_err() {
                        return;
                    }
                    snapshots.mark_unchanged();
                    self.flush(&mut sent);
                }
                event = events.recv() => match event {
                    Ok(frame) if up => self.event(&frame, &mut sent),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(n)) => self.dropped(&mut sent, n),
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = retry.tick(), if up && sent.behind => self.flush(&mut sent),
            }
        }
    }

    /// Queues every module whose state differs from what was queued last, and after a connect
    /// first `info` and the extra documents, and `online` after the state (whoever sees
    /// `online` finds the state there).
    fn flush(&self, sent: &mut Sent) {
        sent.behind = false;
        if !sent.announced {
            let mut all = self.try_send(
                self.topics.info(),
                self.info.clone(),
                QoS::AtLeastOnce,
                true,
            );
            for (topic, payload) in &self.extra {
                all &= self.try_send(topic.clone(), payload.clone(), QoS::AtLeastOnce, true);
            }
            if !all {
                sent.behind = true;
                return;
            }
        }
        let snapshot = self.room.snapshot();
        for module in MODULES {
            let members = (module.key == "members").then(|| snapshot.members());
            if let (Some(now), Some(queued)) = (members, &sent.members)
                && Arc::ptr_eq(now, queued)
            {
                continue;
            }
            let Some(fragment) = snapshot.fragment_at(module.key) else {
                continue;
            };
            let payload = blank_passwords(fragment);
            let hash = hash(&payload);
            if sent.state.get(module.name) == Some(&hash) {
                continue;
            }
            let topic = self.topics.state(module.name);
            if self.try_send(topic, payload.into_owned(), QoS::AtLeastOnce, true) {
                sent.state.insert(module.name, hash);
                if let Some(now) = members {
                    sent.members = Some(Arc::clone(now));
                }
            } else {
                sent.behind = true;
            }
        }
        if !sent.announced && !sent.behind {
            let online = self.try_send(
                self.topics.status(),
                "online".into(),
                QoS::AtLeastOnce,
                true,
            );
            sent.announced = online;
            sent.behind = !online;
        }
    }

    /// `event/<Module>`: the event's `params`, passwords blanked. Dropped when the queue is full.
    fn event(&self, frame: &EventFrame, sent: &mut Sent) {
        #[derive(Deserialize)]
        struct Frame<'a> {
            #[serde(borrow)]
            params: &'a RawValue,
        }
        let Ok(parsed) = serde_json::from_str::<Frame>(&frame.text) else {
            return;
        };
        let payload = blank_passwords(parsed.params.get()).into_owned();
        if !self.try_send(
            self.topics.event(frame.module),
            payload,
            self.events_qos,
            false,
        ) {
            self.dropped(sent, 1);
        }
    }

    fn dropped(&self, sent: &mut Sent, n: u64) {
        sent.dropped += n;
        if sent
            .dropped_logged
            .is_none_or(|at| at.elapsed() >= DROP_LOG_EVERY)
        {
            sent.dropped_logged = Some(Instant::now());
            tracing::warn!(
                dropped = sent.dropped,
                "fleet: events not published, the broker is not keeping up ({} so far)",
                sent.dropped
            );
        }
    }

    fn try_send(&self, topic: String, payload: String, qos: QoS, retain: bool) -> bool {
        self.client.try_publish(topic, qos, retain, payload).is_ok()
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}
