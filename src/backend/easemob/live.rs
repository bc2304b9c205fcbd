//! Following the conference the room is in: GET `…/conferences/{id}` every `easemob.poll_ms`.
//! Who is in it becomes the member list ([`Happening::Participants`]); the conference gone
//! (404) means it ended on the service ([`Happening::HostEnded`]: Easemob destroys a conference
//! when its administrator dissolves it or its last member leaves); the room's own user seen in
//! it and then gone means it was removed ([`Happening::Removed`]).
//!
//! The seed documents the conference's settings in the answer but no member list. The adapter
//! reads `members` when the answer has it: an array of user names, or of objects naming the
//! user in `memName` (Easemob's `{org}#{app}_{user}` form is cut to the user), `userName`,
//! `username` or `name`, with `role` 7 (administrator) read as the host. This field is an
//! assumption, not verified against a live service; without it the list holds only the room.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::Inner;
use crate::backend::{BackendEvent, Happening, Participant, Session};
use crate::wire::ErrorCode;

/// Easemob's administrator role (`memDefaultRole` 7).
const ADMIN: i64 = 7;

/// The conference the adapter follows, for one meeting of the room.
pub(super) struct Follow {
    pub session: Session,
    pub conference: String,
    /// The room created it (a start): abandoning the attempt dissolves it.
    pub created: bool,
    /// Which poller this is, so that a replaced one does not report.
    pub generation: u64,
    pub stop: CancellationToken,
    pub poke: Arc<Notify>,
}

/// One person in a conference, as the answer lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Member {
    pub name: String,
    pub admin: bool,
}

/// The members a conference answer lists; `None` when it has no member list.
pub(super) fn members(reply: &Value, app_prefix: &str) -> Option<Vec<Member>> {
    let list = reply.get("members")?.as_array()?;
    let text = |item: &Value, key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let members = list
        .iter()
        .filter_map(|item| {
            let name = match item {
                Value::String(s) => Some(s.trim().to_owned()),
                _ => ["memName", "userName", "username", "name"]
                    .iter()
                    .find_map(|key| text(item, key)),
            }?;
            let name = name
                .strip_prefix(app_prefix)
                .map_or(name.clone(), str::to_owned);
            let admin = item.get("role").and_then(Value::as_i64) == Some(ADMIN);
            Some(Member { name, admin })
        })
        .collect();
    Some(members)
}

/// The other participants: everyone but the room's own user.
pub(super) fn participants(members: &[Member], room: &str) -> Vec<Participant> {
    members
        .iter()
        .filter(|m| m.name != room)
        .map(|m| Participant {
            user_id: m.name.clone(),
            nickname: m.name.clone(),
            host: m.admin,
            co_host: false,
            audio_on: true,
            video_on: true,
        })
        .collect()
}

impl Inner {
    /// Follows `conference` for `session` from now on (ending any earlier follow), starting
    /// from what the answer the room was given (`reply`) says of its members.
    pub(super) fn follow(
        self: &Arc<Self>,
        session: Session,
        conference: &str,
        created: bool,
        reply: &Value,
    ) {
        let members = members(reply, &self.app_prefix).unwrap_or_default();
        let room_seen = members.iter().any(|m| m.name == self.username);
        let known = participants(&members, &self.username);
        let stop = self.stop.child_token();
        let poke = Arc::new(Notify::new());
        let generation = {
            let mut following = self.following.lock().expect("following lock");
            let generation = following.as_ref().map_or(0, |f| f.generation + 1);
            if let Some(previous) = following.replace(Follow {
                session,
                conference: conference.to_owned(),
                created,
                generation,
                stop: stop.clone(),
                poke: poke.clone(),
            }) {
                previous.stop.cancel();
            }
            generation
        };
        let inner = self.clone();
        let conference = conference.to_owned();
        tokio::spawn(async move {
            tokio::select! {
                () = stop.cancelled() => {}
                () = inner.poll(generation, &conference, &poke, known, room_seen) => {}
            }
        });
    }

    /// Stops following `session`'s conference; what was followed, if anything.
    pub(super) fn unfollow(&self, session: Session) -> Option<Follow> {
        let mut following = self.following.lock().expect("following lock");
        if following.as_ref().is_none_or(|f| f.session != session) {
            return None;
        }
        let follow = following.take()?;
        follow.stop.cancel();
        Some(follow)
    }

    /// Polls the conference until it is gone or the follow ends.
    async fn poll(
        &self,
        generation: u64,
        conference: &str,
        poke: &Notify,
        mut known: Vec<Participant>,
        mut room_seen: bool,
    ) {
        let every = Duration::from_millis(self.poll_ms);
        let url = self.api.url(&["conferences", conference]);
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = poke.notified() => {}
            }
            let over = match self.api.call(Method::GET, &url, None).await {
                Ok(reply) => {
                    let Some(members) = members(&reply, &self.app_prefix) else {
                        continue;
                    };
                    let room_there = members.iter().any(|m| m.name == self.username);
                    room_seen |= room_there;
                    if room_seen && !room_there {
                        Some(Happening::Removed)
                    } else {
                        let people = participants(&members, &self.username);
                        if people != known {
                            known = people.clone();
                            self.report(generation, Happening::Participants(people))
                                .await;
                        }
                        None
                    }
                }
                Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {
                    tracing::info!(conference, "easemob: the conference is over");
                    Some(Happening::HostEnded)
                }
                // Recorded in the health: three in a row and the room lets the meeting go.
                Err(_) => None,
            };
            if let Some(happening) = over {
                let session = self.report(generation, happening).await;
                if let Some(session) = session {
                    self.unfollow(session);
                }
                return;
            }
        }
    }

    /// Reports `happening` about the followed meeting, if `generation` is still followed; the
    /// session it was reported for.
    async fn report(&self, generation: u64, happening: Happening) -> Option<Session> {
        let session = {
            let following = self.following.lock().expect("following lock");
            following
                .as_ref()
                .filter(|f| f.generation == generation)
                .map(|f| f.session)
        }?;
        let event = BackendEvent {
            session: Some(session),
            happening,
        };
        // Gone only when the daemon is shutting down.
        let _ = self.events.send(event).await;
        Some(session)
    }

    /// Polls the followed conference of `session` now rather than at the next interval.
    pub(super) fn poke(&self, session: Session) {
        let following = self.following.lock().expect("following lock");
        if let Some(f) = following.as_ref().filter(|f| f.session == session) {
            f.poke.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_read_in_every_documented_shape_and_the_app_prefix_is_cut() {
        let reply = json!({"members": [
            {"memName": "org1#app1_alice", "role": 7},
            {"userName": "bob", "role": 3},
            "carol",
            {"nothing": 1},
        ]});
        let got = members(&reply, "org1#app1_").unwrap();
        let names: Vec<_> = got.iter().map(|m| (m.name.as_str(), m.admin)).collect();
        assert_eq!(names, [("alice", true), ("bob", false), ("carol", false)]);
        assert_eq!(members(&json!({"id": "x"}), "org1#app1_"), None);
        let others = participants(&got, "bob");
        assert_eq!(others.len(), 2);
        assert!(others[0].host);
    }
}
