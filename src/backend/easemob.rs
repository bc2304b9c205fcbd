//! Easemob conferences (seed 003, BACKENDS.md "Easemob conferences").
//!
//! Easemob's REST API manages conferences; the media runs through its client SDK, outside the
//! daemon. So the adapter can:
//! - start an instant conference (POST `/{org}/{app}/conferences`), with the room as creator and
//!   therefore its administrator;
//! - "join" by fetching the conference (GET `…/conferences/{id}`) and checking its password,
//!   which is all a REST client can check before the SDK dials in;
//! - dissolve the conference (DELETE `…/conferences/{id}`) and remove a member
//!   (DELETE `…/conferences/{id}/{userName}`).
//!
//! It cannot: start a personal meeting room (Easemob has none), mute, stop video or record
//! through REST (code 9), list scheduled meetings (it has no schedule: the list is empty), or
//! hear what happens in a conference (those events go to the SDK), so it reports nothing
//! unasked. Leaving and media changes are the SDK's business: they succeed locally.
//!
//! Authentication is an app token (client credentials), cached and refreshed shortly before it
//! expires, or once when a request is answered 401. Easemob bans accounts that fetch tokens too
//! often, so no path fetches more than one token per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{Method, StatusCode, header};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::health::unix_now;
use super::http::{self, ErrorTable};
use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    Media, MeetingDetails, Profile, RoomRole, ScheduledMeeting, Session, StartRequest,
};
use crate::config::Config;
use crate::modules::meeting::StartKind;
use crate::modules::meeting_control::ControlAction;
use crate::wire::{ErrorCode, Refusal};

const SERVICE: &str = "easemob";

/// What easemob lets the room do (`backend::Profile`).
pub const PROFILE: Profile = Profile {
    service: SERVICE,
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

/// Easemob answers errors by HTTP status, so the table is keyed by status. 403: the
/// audio/video service is not enabled for the app.
const ERRORS: ErrorTable = ErrorTable {
    service: SERVICE,
    codes: &[
        (401, ErrorCode::AUTH_FAILED),
        (403, ErrorCode::NO_ENTERPRISE_PERMISSION),
        (404, ErrorCode::NO_SUCH_MEETING),
    ],
    otherwise: ErrorCode::FAIL,
};

/// Characters escaped in a path segment: conference ids and user names are the caller's text.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How long before its expiry a token is replaced: a minute, or a tenth of its lifetime when
/// that is shorter, so that a short-lived token is still used at all.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The longest lifetime believed, so that a wild `expires_in` cannot overflow the clock.
const MAX_LIFETIME: Duration = Duration::from_secs(365 * 24 * 3600);

/// How long a created conference waits for its first member before Easemob dissolves it: the
/// service's own default (150 s), stated so the room does not depend on the server's setting.
const CONFERENCE_DELAY_MS: u64 = 150_000;

/// Easemob conferences as a [`Backend`].
#[derive(Clone)]
pub struct Easemob {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    /// `{base_url}/{org}/{app}`.
    app_url: String,
    client_id: String,
    client_secret: String,
    room_name: String,
    health: HealthTracker,
    /// Held while a token is fetched, so that concurrent requests wait for one fetch.
    token: tokio::sync::Mutex<Option<Token>>,
    /// The conference each meeting attempt is in.
    conferences: Mutex<HashMap<Session, String>>,
}

struct Token {
    value: String,
    refresh_at: Instant,
}

impl Easemob {
    /// Easemob pushes nothing a REST client can hear, so `_events` stays unused.
    pub fn new(
        config: &Config,
        _events: mpsc::Sender<BackendEvent>,
        health: HealthTracker,
    ) -> Self {
        let e = &config.easemob;
        let app_url = format!(
            "{}/{}/{}",
            http::base(&e.base_url),
            utf8_percent_encode(e.org.trim(), SEGMENT),
            utf8_percent_encode(e.app.trim(), SEGMENT)
        );
        Self {
            inner: Arc::new(Inner {
                client: http::client(Duration::from_millis(config.backend.timeout_ms.0)),
                app_url,
                client_id: e.client_id.clone(),
                client_secret: e.client_secret.clone(),
                room_name: config.room.name.clone(),
                health,
                token: tokio::sync::Mutex::new(None),
                conferences: Mutex::new(HashMap::new()),
            }),
        }
    }
}

impl Inner {
    fn url(&self, segments: &[&str]) -> String {
        let mut url = self.app_url.clone();
        for segment in segments {
            url.push('/');
            url.extend(utf8_percent_encode(segment, SEGMENT));
        }
        url
    }

    /// One HTTP exchange, recorded in the health. Ok: the 2xx body (`null` if empty).
    async fn exchange(
        &self,
        method: Method,
        url: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> BackendResult<Value> {
        let mut request = self
            .client
            .request(method, url)
            .header(header::ACCEPT, "application/json");
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string());
        }
        let answer = http::exchange(SERVICE, &self.health, request).await?;
        let json = answer.json();
        if !answer.status.is_success() {
            let code = i64::from(answer.status.as_u16());
            let refusal = ERRORS.refusal(code, &describe(answer.status, &json));
            return Err(answer.refused(&self.health, refusal));
        }
        // Easemob says errors by status; a 2xx body that is not JSON is not its API.
        if !answer.body.is_empty() && json.is_none() {
            let what = "answered something that is not JSON";
            return Err(http::not_its_api(SERVICE, &self.health, what));
        }
        self.health.answered(answer.latency);
        Ok(json.unwrap_or(Value::Null))
    }

    /// The cached token, or a fresh one when it is due or was just `rejected` (answered 401).
    async fn token(&self, rejected: Option<&str>) -> BackendResult<String> {
        let mut cached = self.token.lock().await;
        if let Some(token) = cached.as_ref() {
            let due = Instant::now() >= token.refresh_at;
            // Another request may have replaced the rejected token already: use that one.
            if !due && rejected != Some(token.value.as_str()) {
                return Ok(token.value.clone());
            }
        }
        *cached = None;
        let body = json!({
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        });
        let reply = self
            .exchange(Method::POST, &self.url(&["token"]), None, Some(&body))
            .await?;
        let Some(value) = reply.get("access_token").and_then(Value::as_str) else {
            return Err(Refusal::new(
                ErrorCode::AUTH_FAILED,
                format!("{SERVICE}: the token answer has no access_token"),
            ));
        };
        let seconds = reply
            .get("expires_in")
            .and_then(|v| v.as_u64().or_else(|| v.as_f64().map(|f| f.max(0.0) as u64)))
            .unwrap_or(0);
        let lifetime = Duration::from_secs(seconds).min(MAX_LIFETIME);
        let margin = REFRESH_MARGIN.min(lifetime / 10);
        *cached = Some(Token {
            value: value.to_owned(),
            refresh_at: Instant::now() + (lifetime - margin),
        });
        Ok(value.to_owned())
    }

    /// A request with the app token; a 401 refreshes the token once and retries once.
    async fn call(&self, method: Method, url: &str, body: Option<&Value>) -> BackendResult<Value> {
        let token = self.token(None).await?;
        match self.exchange(method.clone(), url, Some(&token), body).await {
            Err(refusal) if refusal.code == ErrorCode::AUTH_FAILED => {
                let token = self.token(Some(&token)).await?;
                self.exchange(method, url, Some(&token), body).await
            }
            other => other,
        }
    }

    /// Keeps `session`'s conference, or forgets it (`None`).
    fn remember(&self, session: Session, conference: Option<String>) {
        let mut conferences = self.conferences.lock().expect("conferences lock");
        match conference {
            Some(id) => conferences.insert(session, id),
            None => conferences.remove(&session),
        };
    }

    fn conference_of(&self, session: Session) -> BackendResult<String> {
        let conferences = self.conferences.lock().expect("conferences lock");
        conferences.get(&session).cloned().ok_or_else(|| {
            Refusal::new(
                ErrorCode::NOT_IN_MEETING,
                format!("{SERVICE}: the room is in no conference for this meeting"),
            )
        })
    }

    fn details(&self, reply: &Value, code: &str, role: RoomRole) -> MeetingDetails {
        let text = |key: &str| reply.get(key).and_then(Value::as_str).unwrap_or_default();
        let id = match text("id") {
            "" => code.to_owned(),
            id => id.to_owned(),
        };
        let host = role == RoomRole::Host;
        // The creator is known, and the start time, only when the room created it.
        let (creator_name, begin_time) = if host {
            (self.room_name.clone(), unix_now())
        } else {
            (String::new(), 0)
        };
        MeetingDetails {
            code: id.clone(),
            meeting_id: id.clone(),
            // Easemob conferences have no title.
            title: format!("Easemob conference {id}"),
            password: text("password").to_owned(),
            meeting_type: 0,
            creator_name,
            begin_time,
            end_time: 0,
            url: String::new(),
            room_user_id: self.room_name.clone(),
            room_role: role,
            room_is_creator: host,
            participants: Vec::new(),
            waiting: Vec::new(),
            recording_allowed: false,
            recording: false,
        }
    }
}

/// The error text of an answer: Easemob's `error_description` or `error`, else the status.
fn describe(status: StatusCode, json: &Option<Value>) -> String {
    let field = |key: &str| {
        json.as_ref()
            .and_then(|j| j.get(key))
            .and_then(Value::as_str)
            .filter(|s| !s.trim().is_empty())
    };
    field("error_description")
        .or_else(|| field("error"))
        .or_else(|| field("message"))
        .map_or_else(
            || status.canonical_reason().unwrap_or("error").to_owned(),
            str::to_owned,
        )
}

fn unsupported(what: &str) -> Refusal {
    Refusal::new(ErrorCode::UNSUPPORTED, format!("{SERVICE} cannot {what}"))
}

impl Backend for Easemob {
    fn kind(&self) -> &'static str {
        SERVICE
    }

    fn start(&self, request: StartRequest) -> BoxFuture<'static, BackendResult<MeetingDetails>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            if request.kind == StartKind::Pmi {
                return Err(unsupported(
                    "start a personal meeting: easemob has no personal meeting rooms",
                ));
            }
            // Talkers by default and audience may talk: a room meeting, not a broadcast.
            let body = json!({
                "confrType": 10,
                "password": "",
                "confrDelayMillis": CONFERENCE_DELAY_MS,
                "memDefaultRole": 3,
                "allowAudienceTalk": true,
                "creator": inner.room_name,
                "rec": false,
                "recMerge": false,
            });
            let url = inner.url(&["conferences"]);
            let reply = inner.call(Method::POST, &url, Some(&body)).await?;
            let details = inner.details(&reply, "", RoomRole::Host);
            if details.code.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::FAIL,
                    format!("{SERVICE}: the created conference has no id"),
                ));
            }
            inner.remember(request.session, Some(details.code.clone()));
            Ok(details)
        })
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let url = inner.url(&["conferences", &request.code]);
            let reply = inner.call(Method::GET, &url, None).await?;
            let password = reply.get("password").and_then(Value::as_str).unwrap_or("");
            if !password.is_empty() && request.password.is_empty() {
                return Err(Refusal::new(
                    ErrorCode::PASSWORD_REQUIRED,
                    format!("{SERVICE}: conference {} needs a password", request.code),
                ));
            }
            if !password.is_empty() && request.password != password {
                return Err(Refusal::new(
                    ErrorCode::WRONG_PASSWORD,
                    format!("{SERVICE}: wrong password for conference {}", request.code),
                ));
            }
            let details = inner.details(&reply, &request.code, RoomRole::Attendee);
            inner.remember(request.session, Some(details.code.clone()));
            Ok(Joined::InMeeting(details))
        })
    }

    fn leave(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        // The SDK hangs up the media; the REST API has nothing to tell.
        let inner = self.inner.clone();
        Box::pin(async move {
            inner.remember(session, None);
            Ok(())
        })
    }

    fn dissolve(&self, session: Session) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let id = inner.conference_of(session)?;
            match inner
                .call(Method::DELETE, &inner.url(&["conferences", &id]), None)
                .await
            {
                // Easemob destroys a conference when its last member leaves: gone is ended.
                Ok(_) => {}
                Err(refusal) if refusal.code == ErrorCode::NO_SUCH_MEETING => {}
                Err(refusal) => return Err(refusal),
            }
            inner.remember(session, None);
            Ok(())
        })
    }

    fn meeting_list(&self) -> BoxFuture<'static, BackendResult<Vec<ScheduledMeeting>>> {
        // Easemob has no schedule of meetings.
        Box::pin(async { Ok(Vec::new()) })
    }

    fn set_media(&self, _session: Session, _media: Media) -> BoxFuture<'static, BackendResult<()>> {
        // The microphone and camera are the SDK's, outside the daemon and Easemob's REST API.
        Box::pin(async { Ok(()) })
    }

    fn control(
        &self,
        session: Session,
        action: ControlAction,
    ) -> BoxFuture<'static, BackendResult<()>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let ControlAction::RemoveMember { user_id, .. } = action else {
                return Err(unsupported(&format!(
                    "{}: its REST API only removes members",
                    action.name()
                )));
            };
            let id = inner.conference_of(session)?;
            let url = inner.url(&["conferences", &id, &user_id]);
            inner.call(Method::DELETE, &url, None).await.map(drop)
        })
    }
}
