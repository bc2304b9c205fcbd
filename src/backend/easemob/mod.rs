//! Easemob conferences (seed 003, BACKENDS.md "Easemob conferences").
//!
//! Easemob's REST API manages conferences; the media runs through its client SDK, outside the
//! daemon, logged in as the room's own Easemob user (`easemob.username`). So the adapter can:
//! - start an instant conference (POST `/{org}/{app}/conferences`) with the room's user as
//!   `creator`, and therefore its administrator;
//! - join by conference id (the letters-and-digits id Easemob gives out): fetch the conference
//!   (GET `…/conferences/{id}`) and check its password (10018 none given, 10020 wrong), which is
//!   all a REST client can check before the SDK dials in;
//! - follow the conference while the room is in it ([`live`]): its members, and its end;
//! - dissolve it (DELETE `…/conferences/{id}`) and remove a member
//!   (DELETE `…/conferences/{id}/{userName}`).
//!
//! It cannot (the room refuses with 9, from [`PROFILE`]): start a personal meeting room, mute,
//! stop video or record through REST, list scheduled meetings (Easemob has none), or tell the
//! service that the room leaves or changed its microphone (the SDK does).
//!
//! Authentication is an app token (client credentials), cached and refreshed shortly before it
//! expires, or once when a request is answered 401 ([`api`]). At start the adapter fetches one
//! (its first contact, retried while the service is away); between meetings it checks again
//! only after an outage was recorded, so no path fetches tokens repeatedly: Easemob bans
//! accounts that do.

mod api;
mod config;
mod live;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::contact::{self, Pace};
use super::health::unix_now;
use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    MeetingDetails, Profile, RoomRole, Service, Session, StartRequest,
};
use crate::config::{Config, Section, SectionSpec};

use crate::domain::ControlAction;
use crate::wire::{ErrorCode, Refusal};
use api::Api;
pub use config::EasemobConfig;
use live::Follow;

/// The service's name: its section's.
const NAME: &str = EasemobConfig::NAME;

/// What Easemob lets the room do (`backend::Profile`), and its conference ids as codes.
pub const PROFILE: Profile = Profile {
    service: NAME,
    capabilities: &[
        Capability::StartInstant,
        Capability::Join,
        Capability::Dissolve,
        Capability::MemberList,
        Capability::RemoveMember,
        Capability::EndDetection,
    ],
    code_rule: CodeRule::Alphanumeric,
};

/// Easemob as `backend::SERVICES` lists it.
pub const SERVICE: Service = Service {
    profile: PROFILE,
    section: SectionSpec::of::<EasemobConfig>(),
    build: |config, events, health| Arc::new(Easemob::new(config, events, health)),
};

/// How long a created conference waits for its first member before Easemob dissolves it: the
/// service's own default (150 s), stated so the room does not depend on the server's setting.
const CONFERENCE_DELAY_MS: u64 = 150_000;

/// Easemob conferences as a [`Backend`]. Dropping it stops its checks and polls.
#[derive(Clone)]
pub struct Easemob {
    inner: Arc<Inner>,
    _stop: Arc<DropGuard>,
}

struct Inner {
    api: Api,
    /// The room's own Easemob user.
    username: String,
    /// `{org}#{app}_`: how Easemob prefixes user names in a conference (its app key).
    app_prefix: String,
    poll_ms: u64,
    pace: Pace,
    events: mpsc::Sender<BackendEvent>,
    /// The conference the room is in, or was in when the service went away.
    following: Mutex<Option<Follow>>,
    stop: CancellationToken,
}

impl Easemob {
    /// The adapter; it reaches for a token at once, in the background. Must be called inside a
    /// Tokio runtime.
    pub fn new(config: &Config, events: mpsc::Sender<BackendEvent>, health: HealthTracker) -> Self {
        let e = &config.services.get::<EasemobConfig>();
        let timeout = Duration::from_millis(config.backend.timeout_ms.0);
        let stop = CancellationToken::new();
        let inner = Arc::new(Inner {
            api: Api::new(e, timeout, health),
            username: e.username.trim().to_owned(),
            app_prefix: format!("{}#{}_", e.org.trim(), e.app.trim()),
            poll_ms: e.poll_ms.0,
            pace: Pace::of(&config.backend),
            events,
            following: Mutex::new(None),
            stop: stop.clone(),
        });
        contact::keep(NAME, inner.pace, stop.clone(), &inner, |inner| async move {
            inner.first_contact().await
        });
        Self {
            inner,
            _stop: Arc::new(stop.drop_guard()),
        }
    }
}

impl Inner {
    /// A token at start; later, a fresh one only when an outage was recorded and no poll is
    /// under way to notice the service back (a cached token proves nothing about the service,
    /// and fetching one per check would get the account banned).
    async fn first_contact(&self) -> BackendResult<()> {
        if !self.api.has_token().await {
            return self.api.token(None, false).await.map(drop);
        }
        let away = !self.api.health.current().connected;
        let polling = self.following.lock().expect("following lock").is_some();
        if away && !polling {
            return self.api.token(None, true).await.map(drop);
        }
        Ok(())
    }

    fn conference_of(&self, session: Session) -> BackendResult<String> {
        let following = self.following.lock().expect("following lock");
        following
            .as_ref()
            .filter(|f| f.session == session)
            .map(|f| f.conference.clone())
            .ok_or_else(|| {
                Refusal::new(
                    ErrorCode::NOT_IN_MEETING,
                    format!("{NAME}: the room is in no conference for this meeting"),
                )
            })
    }

    fn details(&self, reply: &Value, code: &str, created: bool) -> MeetingDetails {
        let text = |key: &str| reply.get(key).and_then(Value::as_str).unwrap_or_default();
        let id = match text("id") {
            "" => code.to_owned(),
            id => id.to_owned(),
        };
        // The answer does not document its creator; when it names one, it is believed.
        let creator = match text("creator") {
            "" if created => self.username.clone(),
            creator => creator.to_owned(),
        };
        let host = created || creator == self.username;
        let members = live::members(reply, &self.app_prefix).unwrap_or_default();
        MeetingDetails {
            code: id.clone(),
            meeting_id: id.clone(),
            // Easemob conferences have no title.
            title: format!("Easemob conference {id}"),
            password: text("password").to_owned(),
            meeting_type: 0,
            creator_name: creator,
            // The start time is known only when the room created it.
            begin_time: if created { unix_now() } else { 0 },
            end_time: 0,
            url: String::new(),
            room_user_id: self.username.clone(),
            room_role: if host {
                RoomRole::Host
            } else {
                RoomRole::Attendee
            },
            room_is_creator: created,
            participants: live::participants(&members, &self.username),
            waiting: Vec::new(),
            recording_allowed: false,
            recording: false,
        }
    }

    /// Dissolves `conference`, retrying while the service cannot be reached; gone is done.
    async fn dissolve_until_done(&self, conference: &str) {
        let url = self.api.url(&["conferences", conference]);
        let mut retry = self.pace.retry;
        loop {
            match self.api.call(Method::DELETE, &url, None).await {
                Err(refusal) if refusal.code == ErrorCode::NETWORK => {
                    tokio::select! {
                        () = self.stop.cancelled() => return,
                        () = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(self.pace.check);
                }
                Err(refusal) if refusal.code != ErrorCode::NO_SUCH_MEETING => {
                    tracing::warn!(%refusal, conference, "easemob: cannot dissolve an abandoned conference");
                    return;
                }
                _ => return,
            }
        }
    }
}

impl Backend for Easemob {
    fn profile(&self) -> Profile {
        PROFILE
    }

    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            // Talkers by default and audience may talk: a room meeting, not a broadcast.
            let body = json!({
                "confrType": 10,
                "password": "",
                "confrDelayMillis": CONFERENCE_DELAY_MS,
                "memDefaultRole": 3,
                "allowAudienceTalk": true,
                "creator": inner.username,
                "rec": false,
                "recMerge": false,
            });
            let url = inner.api.url(&["conferences"]);
            let reply = inner.api.call(Method::POST, &url, Some(&body)).await?;
            let details = inner.details(&reply, "", true);
            if details.code.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::FAIL,
                    format!("{NAME}: the created conference has no id"),
                ));
            }
            inner.follow(request.session, &details.code, true, &reply);
            Ok(details)
        })
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let url = inner.api.url(&["conferences", &request.code]);
            let reply = inner.api.call(Method::GET, &url, None).await?;
            let password = reply.get("password").and_then(Value::as_str).unwrap_or("");
            if !password.is_empty() && request.password.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::PASSWORD_REQUIRED,
                    format!("{NAME}: conference {} needs a password", request.code),
                ));
            }
            if !password.is_empty() && request.password != password {
                return Err(Refusal::new(
                    ErrorCode::WRONG_PASSWORD,
                    format!("{NAME}: wrong password for conference {}", request.code),
                ));
            }
            let details = inner.details(&reply, &request.code, false);
            inner.follow(request.session, &details.code, false, &reply);
            Ok(Joined::InMeeting(details))
        })
    }

    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let id = inner.conference_of(session)?;
            // Not followed meanwhile: the conference going away is the room's doing, not the
            // host's.
            let follow = inner.unfollow(session);
            let url = inner.api.url(&["conferences", &id]);
            match inner.api.call(Method::DELETE, &url, None).await {
                // Easemob destroys a conference when its last member leaves: gone is ended.
                Ok(_) => Ok(()),
                Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => Ok(()),
                Err(refusal) => {
                    // Still in it: follow it again.
                    if let Some(f) = follow {
                        inner.follow(session, &f.conference, f.created, &Value::Null);
                    }
                    Err(refusal)
                }
            }
        })
    }

    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let ControlAction::RemoveMember { user_id, .. } = action else {
                return Err(super::cannot(NAME, Profile::capability_of(&action)));
            };
            let id = inner.conference_of(session)?;
            let url = inner.api.url(&["conferences", &id, &user_id]);
            inner.api.call(Method::DELETE, &url, None).await?;
            // Show the change without waiting for the next poll.
            inner.poke(session);
            Ok(())
        })
    }

    fn forget(&self, session: Session) {
        self.inner.unfollow(session);
    }

    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        let inner = self.inner.clone();
        Box::pin(async move {
            // A conference the attempt created is dissolved; one it joined is only let go.
            if let Some(follow) = inner.unfollow(session).filter(|f| f.created) {
                inner.dissolve_until_done(&follow.conference).await;
            }
        })
    }

    /// The conference the room was following when the service went away, if it still exists:
    /// the room's call may have carried on through the outage.
    fn reconcile(
        &self,
        session: Session,
    ) -> BoxFuture<'static, BackendResult<Option<MeetingDetails>>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let followed = {
                let following = inner.following.lock().expect("following lock");
                following
                    .as_ref()
                    .filter(|f| f.session != session)
                    .map(|f| (f.session, f.conference.clone(), f.created))
            };
            let Some((earlier, conference, created)) = followed else {
                return Ok(None);
            };
            let url = inner.api.url(&["conferences", &conference]);
            match inner.api.call(Method::GET, &url, None).await {
                Ok(reply) => {
                    let details = inner.details(&reply, &conference, created);
                    inner.unfollow(earlier);
                    inner.follow(session, &conference, created, &reply);
                    Ok(Some(details))
                }
                Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {
                    inner.unfollow(earlier);
                    Ok(None)
                }
                Err(refusal) => Err(refusal),
            }
        })
    }
}
