//! HiAR sessions (seed 001, BACKENDS.md "HiAR sessions").
//!
//! HiAR's server API, as far as the seeds go, has one call: inviting members into a session of
//! a collaboration that is under way, POST `/session/invite` `{collaborationID, sessionID,
//! userID (the inviter), members (the invited)}`. The room is one HiAR user (`hiar.user_id`) in
//! one collaboration (`hiar.collaboration_id`), so **join(code)** has the room invite itself:
//! `sessionID` is the typed code, the inviter and the only member are the room's user, sent
//! already accepting (`CONFIRM_ACCEPT`) and being called (`MEMBER_CALLING`), its media and
//! tools left to its client (empty). A code-0 answer puts the room in the meeting as an
//! attendee. HiAR sessions have no password: one given is ignored.
//!
//! What stays unknown about that join: whether HiAR lets a user invite itself, whether the
//! inviter must already be in the session, and what form session ids take (they are the
//! service's; the code rule accepts identifiers). The invite answer carries nothing about the
//! session, and no call lists its members or says it ended, so the room cannot follow either;
//! no call leaves or ends a session. Everything but join is refused with 9 ([`PROFILE`]).
//!
//! The service is checked at start and every `backend.check_ms` by a signed GET on the invite
//! path, which only takes POST ([`http::probed`]).
//!
//! Every request is signed (headers `X-HIAR-OPENAPI-APPID`, `-Nonce`, `-DATE`, `-SIGNATURE`).
//! The seed lists those headers as optional, with placeholder values, and publishes no
//! algorithm. The default ([`openapi_signature`]) is the scheme of HiAR's OpenAPI access guide,
//! checked against that guide's worked example; it does not cover the body. Not verified
//! against a live gateway: whether the invite API uses that scheme at all, whether it covers
//! the body, and which date form and time zone it expects. The signature is pluggable
//! ([`Signer`], [`Hiar::with_signer`]) for when that is known. Answers are `{code, message,
//! data}` (plus `reason`), code 0 for success.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use futures_util::future::BoxFuture;
use hmac::{Hmac, KeyInit, Mac};
use rand::Rng;
use reqwest::{RequestBuilder, header};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::mpsc;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::contact::{self, Pace};
use super::health::unix_now;
use super::http::{self, ErrorTable};
use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    MeetingDetails, Profile, RoomRole, Service,
};
use crate::config::{Config, Section, SectionSpec};
use crate::wire::{ErrorCode, Refusal};

/// HiAR sessions (seed 001).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HiarConfig {
    pub base_url: String,
    pub app_id: String,
    pub app_secret: String,
    pub collaboration_id: String,
    pub user_id: String,
}

impl Section for HiarConfig {
    const NAME: &'static str = "hiar";
    const DEFAULTS: &'static str = r##"
[hiar]
base_url = ""
app_id = ""
app_secret = ""
collaboration_id = ""
user_id = ""
"##;

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("base_url", &self.base_url),
            ("app_id", &self.app_id),
            ("app_secret", &self.app_secret),
            ("collaboration_id", &self.collaboration_id),
            ("user_id", &self.user_id),
        ]
    }
}

/// The service's name: its section's.
const NAME: &str = HiarConfig::NAME;

/// What hiar lets the room do (`backend::Profile`).
pub const PROFILE: Profile = Profile {
    service: NAME,
    capabilities: &[Capability::Join],
    code_rule: CodeRule::Identifier,
};

/// HiAR as `backend::SERVICES` lists it.
pub const SERVICE: Service = Service {
    profile: PROFILE,
    section: SectionSpec::of::<HiarConfig>(),
    build: |config, events, health| Arc::new(Hiar::new(config, events, health)),
};

/// HiAR's own codes. The access guide publishes one, 1001 `INVALID_PARAM`; join is the only
/// call, so any other is "join failed".
const ERRORS: ErrorTable = ErrorTable {
    service: NAME,
    codes: &[(1001, ErrorCode::PARAMETER)],
    otherwise: ErrorCode::JOIN_FAILED,
};

/// HTTP failures without a HiAR code: the gateway refusing the app id or signature is 401/403.
const HTTP_ERRORS: ErrorTable = ErrorTable {
    service: "hiar HTTP",
    codes: &[(401, ErrorCode::AUTH_FAILED), (403, ErrorCode::AUTH_FAILED)],
    otherwise: ErrorCode::FAIL,
};

/// What a request's signature covers. Every part is given, so that another scheme can be
/// plugged in without changing the adapter.
#[derive(Debug, Clone, Copy)]
pub struct SignInput<'a> {
    /// `POST`.
    pub method: &'a str,
    /// The URL's path as the server sees it, starting with `/`, without the query.
    pub path: &'a str,
    /// The canonical query string (`""`: there is none).
    pub query: &'a str,
    pub app_id: &'a str,
    pub app_secret: &'a str,
    /// `X-HIAR-OPENAPI-DATE`: RFC 3339.
    pub date: &'a str,
    /// `X-HIAR-OPENAPI-Nonce`: a random UUID.
    pub nonce: &'a str,
    /// The JSON body, exactly as sent.
    pub body: &'a [u8],
}

/// Computes `X-HIAR-OPENAPI-SIGNATURE`.
pub type Signer = Arc<dyn Fn(&SignInput<'_>) -> String + Send + Sync>;

/// The signing string of HiAR's OpenAPI access guide, one field per line, each ending in `\n`:
///
/// ```text
/// lowercase(method) \n path \n canonical_query \n app_id \n date \n nonce \n
/// ```
///
/// The method is lower case because the guide's worked example is (`get`), and its published
/// signature only comes out that way. The body is not covered.
pub fn signing_string(input: &SignInput<'_>) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}\n",
        input.method.to_ascii_lowercase(),
        input.path,
        input.query,
        input.app_id,
        input.date,
        input.nonce
    )
}

/// The default signature: `base64(HMAC-SHA256(app_secret, signing_string(input)))`, standard
/// alphabet with padding (see [`signing_string`]).
pub fn openapi_signature(input: &SignInput<'_>) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(input.app_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(signing_string(input).as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// HiAR sessions as a [`Backend`]. Dropping it stops its checks.
#[derive(Clone)]
pub struct Hiar {
    inner: Arc<Inner>,
    _stop: Arc<DropGuard>,
}

struct Inner {
    client: reqwest::Client,
    invite_url: String,
    app_id: String,
    app_secret: String,
    collaboration_id: String,
    user_id: String,
    signer: Signer,
    health: HealthTracker,
}

impl Hiar {
    /// HiAR with the default signature ([`openapi_signature`]).
    pub fn new(config: &Config, events: mpsc::Sender<BackendEvent>, health: HealthTracker) -> Self {
        Self::with_signer(config, events, health, Arc::new(openapi_signature))
    }

    /// HiAR with another signature scheme. HiAR's server API publishes no reports, so
    /// `_events` stays unused.
    pub fn with_signer(
        config: &Config,
        _events: mpsc::Sender<BackendEvent>,
        health: HealthTracker,
        signer: Signer,
    ) -> Self {
        let h = &config.services.get::<HiarConfig>();
        let inner = Arc::new(Inner {
            client: http::client(Duration::from_millis(config.backend.timeout_ms.0)),
            invite_url: format!("{}/session/invite", http::base(&h.base_url)),
            app_id: h.app_id.trim().to_owned(),
            app_secret: h.app_secret.clone(),
            collaboration_id: h.collaboration_id.clone(),
            user_id: h.user_id.clone(),
            signer,
            health,
        });
        let stop = CancellationToken::new();
        contact::keep(
            NAME,
            Pace::of(&config.backend),
            stop.clone(),
            &inner,
            |inner| async move { inner.probe().await },
        );
        Self {
            inner,
            _stop: Arc::new(stop.drop_guard()),
        }
    }
}

impl Inner {
    fn invite_body(&self, session_id: &str) -> Value {
        json!({
            "collaborationID": self.collaboration_id,
            "sessionID": session_id,
            "userID": self.user_id,
            "members": [{
                "userID": self.user_id,
                "confirmState": "CONFIRM_ACCEPT",
                "memberSessionState": "MEMBER_CALLING",
                "medias": [],
                "tools": [],
                "roles": [],
                "deviceType": 0,
                "seqID": 0,
                "extra": "",
            }],
        })
    }

    /// A request to `url` with `body` (`""`: none), signed.
    fn signed(&self, method: &str, url: &str, body: String) -> BackendResult<RequestBuilder> {
        // The signature covers the path as the server sees it, base path included.
        let path = reqwest::Url::parse(url)
            .map(|u| u.path().to_owned())
            .map_err(|e| {
                let refusal = Refusal::new(ErrorCode::NETWORK, format!("{NAME}: {url}: {e}"));
                self.health.unreachable(&refusal.message);
                refusal
            })?;
        let date = rfc3339(unix_now());
        let nonce = uuid_v4();
        let signature = (self.signer)(&SignInput {
            method,
            path: &path,
            query: "",
            app_id: &self.app_id,
            app_secret: &self.app_secret,
            date: &date,
            nonce: &nonce,
            body: body.as_bytes(),
        });
        let method =
            reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::POST);
        let mut request = self
            .client
            .request(method, url)
            .header("X-HIAR-OPENAPI-APPID", &self.app_id)
            .header("X-HIAR-OPENAPI-Nonce", &nonce)
            .header("X-HIAR-OPENAPI-DATE", &date)
            .header("X-HIAR-OPENAPI-SIGNATURE", &signature)
            .header(header::ACCEPT, "application/json");
        if !body.is_empty() {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        Ok(request)
    }

    /// The contact check: a signed GET on the invite path, which only takes POST. It proves
    /// the service is there and, when its gateway checks signatures first, the credentials.
    async fn probe(&self) -> BackendResult<()> {
        let request = self.signed("GET", &self.invite_url, String::new())?;
        let answer = http::exchange_behind_gateway(NAME, &self.health, request).await?;
        let code = answer
            .json()
            .and_then(|r| r.get("code").and_then(Value::as_i64).map(|c| (c, r)));
        match code {
            // HiAR's own refusal of the request (its signature, its app id): recorded.
            Some((code, reply)) if code != 0 && !matches!(answer.status.as_u16(), 404 | 405) => {
                let refusal = ERRORS.refusal(code, &describe(Some(&reply)));
                Err(answer.refused(&self.health, refusal))
            }
            _ => http::probed(NAME, &self.health, &answer),
        }
    }

    /// POSTs `body` to `url`, signed; Ok when HiAR answers code 0.
    async fn post(&self, url: &str, body: &Value) -> BackendResult<()> {
        let request = self.signed("POST", url, body.to_string())?;
        let answer = http::exchange_behind_gateway(NAME, &self.health, request).await?;
        let status = answer.status;
        let reply = answer.json();
        let code = reply
            .as_ref()
            .and_then(|r| r.get("code"))
            .and_then(Value::as_i64);
        let refusal = match code {
            Some(0) if status.is_success() => {
                self.health.answered(answer.latency);
                return Ok(());
            }
            Some(code) => ERRORS.refusal(code, &describe(reply.as_ref())),
            None if status.is_success() => {
                let what = "answered without a code: not its API";
                return Err(http::not_its_api(NAME, &self.health, what));
            }
            None => HTTP_ERRORS.refusal(
                i64::from(status.as_u16()),
                status.canonical_reason().unwrap_or_default(),
            ),
        };
        Err(answer.refused(&self.health, refusal))
    }
}

/// HiAR's error text: `reason` (its symbolic code) and `message`, as far as they are given.
fn describe(reply: Option<&Value>) -> String {
    let field = |key: &str| {
        reply
            .and_then(|r| r.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    match (field("reason"), field("message")) {
        (Some(reason), Some(message)) => format!("{reason} {message}"),
        (one, other) => one.or(other).unwrap_or_default().to_owned(),
    }
}

/// A random (version 4) UUID, the nonce HiAR's guide asks for.
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Unix seconds as RFC 3339 in UTC (`2022-06-27T08:34:04+00:00`), the guide's date form.
fn rfc3339(unix: i64) -> String {
    let timestamp = jiff::Timestamp::from_second(unix).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    timestamp.strftime("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

impl Backend for Hiar {
    fn profile(&self) -> Profile {
        PROFILE
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let body = inner.invite_body(&request.code);
            inner.post(&inner.invite_url, &body).await?;
            Ok(Joined::InMeeting(MeetingDetails {
                code: request.code.clone(),
                meeting_id: request.code.clone(),
                // An invite answer carries nothing about the session.
                title: format!("HiAR session {}", request.code),
                password: String::new(),
                meeting_type: 0,
                creator_name: String::new(),
                begin_time: 0,
                end_time: 0,
                url: String::new(),
                room_user_id: inner.user_id.clone(),
                room_role: RoomRole::Attendee,
                room_is_creator: false,
                participants: Vec::new(),
                waiting: Vec::new(),
                recording_allowed: false,
                recording: false,
            }))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_signature_matches_the_access_guides_worked_example() {
        let input = SignInput {
            method: "GET",
            path: "/account/v1/user",
            query: "page=1&limit=10",
            app_id: "hiar1d98ncv515f5e1",
            app_secret: "IkcyCWpRxjCztzvOjHdLKKfgTpzmCqQ1",
            date: "2022-07-05T17:46:33+08:00",
            nonce: "5a71e2ec-fc47-11ec-81db-acde48001122",
            body: b"",
        };
        assert_eq!(
            openapi_signature(&input),
            "+TfnNKz8XTvZJNpFSrnlLk+3m1swS+jhRuKxemo7YLQ="
        );
    }

    #[test]
    fn dates_are_rfc3339_and_nonces_uuids() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00+00:00");
        assert_eq!(rfc3339(1_656_347_644), "2022-06-27T16:34:04+00:00");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00+00:00");
        let nonce = uuid_v4();
        assert_eq!(nonce.len(), 36);
        assert_eq!(&nonce[14..15], "4");
    }
}
