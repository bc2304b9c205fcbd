//! RSC sessions (seed 000, BACKENDS.md "RSC sessions").
//!
//! RSC documents one operation: joining a session (POST
//! `/rsc/api/v2/user/sessions/actions/join`) as the configured endpoint, with the microphone and
//! camera state given at join (`mediaOpts`). The answer says whether the endpoint is the host
//! (`endpoint.isMaster`) and carries `sdp`, the media description the endpoint's media stack
//! would use to set up its audio and video with RSC. roomsd has no media path: the SDP is kept
//! with the meeting ([`Rsc::sdp`]) and logged, for the room's media client to take.
//!
//! Nothing else is documented, so the room refuses everything else with 9 ([`PROFILE`]), and
//! cannot notice a meeting ending or who is in it: no call lists either. Leaving tells RSC
//! nothing (no call is documented). The service is checked at start and every
//! `backend.check_ms` by a GET on the join path, which costs nothing and proves the service and
//! its token: a 405 is an answer, a 401 a refused token ([`http::probed`]).
//!
//! Open points: `deviceId` is the one `endpointInfo` field the seed does not mark nullable, so
//! it is always sent: `rsc.device_id`, or a stable id made from the endpoint id. `accessType`
//! is sent as `"SVC"`, the seed's default, whose spelling on the wire (`{value: SVC}` in the
//! seed's example) is not verified.
//!
//! Errors: the seed documents only the 201 answer, so failures are mapped by HTTP status, and
//! the message carries whatever code and text the body has (`code`, `message` / `msg` /
//! `error`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio_util::sync::{CancellationToken, DropGuard};

use futures_util::future::BoxFuture;
use reqwest::header;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::contact::{self, Pace};
use super::http::{self, ErrorTable};
use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    MeetingDetails, Profile, RoomRole, Service, Session,
};
use crate::config::{Config, Section, SectionSpec};
use crate::wire::ErrorCode;

/// RSC sessions (seed 000).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RscConfig {
    pub base_url: String,
    pub token: String,
    pub endpoint_id: String,
    pub device_id: String,
    pub device_sn: String,
}

impl Section for RscConfig {
    const NAME: &'static str = "rsc";
    const DEFAULTS: &'static str = r##"
[rsc]
base_url = ""
token = ""                 # the Bearer token
endpoint_id = ""           # x-endpoint-id
device_id = ""
device_sn = ""
"##;

    fn required(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("base_url", &self.base_url),
            ("token", &self.token),
            ("endpoint_id", &self.endpoint_id),
        ]
    }
}

/// The service's name: its section's.
const NAME: &str = RscConfig::NAME;

/// What rsc lets the room do (`backend::Profile`).
pub const PROFILE: Profile = Profile {
    service: NAME,
    capabilities: &[Capability::Join],
    code_rule: CodeRule::Identifier,
};

/// RSC as `backend::SERVICES` lists it.
pub const SERVICE: Service = Service {
    profile: PROFILE,
    section: SectionSpec::of::<RscConfig>(),
    build: |config, events, health| Arc::new(Rsc::new(config, events, health)),
};

const JOIN_PATH: &str = "/rsc/api/v2/user/sessions/actions/join";

/// How many endpoints the join answer lists: the seed's default, as RSC's own clients ask.
const RETURN_ENDPOINT_SIZE: u32 = 20;

/// Keyed by HTTP status; join is the only call, so an unknown failure is "join failed".
const ERRORS: ErrorTable = ErrorTable {
    service: NAME,
    codes: &[
        (400, ErrorCode::PARAMETER),
        // The Bearer token.
        (401, ErrorCode::AUTH_FAILED),
        (403, ErrorCode::NO_PERMISSION_TO_JOIN),
        (404, ErrorCode::NO_SUCH_MEETING),
    ],
    otherwise: ErrorCode::JOIN_FAILED,
};

/// RSC sessions as a [`Backend`]. Dropping it stops its checks.
#[derive(Clone)]
pub struct Rsc {
    inner: Arc<Inner>,
    _stop: Arc<DropGuard>,
}

struct Inner {
    client: reqwest::Client,
    join_url: String,
    token: String,
    endpoint_id: String,
    device_id: String,
    device_sn: String,
    room_name: String,
    health: HealthTracker,
    /// The media description each meeting's join answered with.
    sdp: Mutex<HashMap<Session, String>>,
}

impl Rsc {
    /// RSC's API documents no reports, so `_events` stays unused. Must be called inside a Tokio
    /// runtime: the first contact starts at once.
    pub fn new(
        config: &Config,
        _events: mpsc::Sender<BackendEvent>,
        health: HealthTracker,
    ) -> Self {
        let r = &config.services.get::<RscConfig>();
        let endpoint_id = r.endpoint_id.trim().to_owned();
        let device_id = match r.device_id.trim() {
            "" => generated_device_id(&endpoint_id),
            id => id.to_owned(),
        };
        let inner = Arc::new(Inner {
            client: http::client(Duration::from_millis(config.backend.timeout_ms.0)),
            join_url: format!("{}{JOIN_PATH}", http::base(&r.base_url)),
            token: r.token.trim().to_owned(),
            endpoint_id,
            device_id,
            device_sn: r.device_sn.clone(),
            room_name: config.room.name.clone(),
            health,
            sdp: Mutex::new(HashMap::new()),
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

    /// The media description RSC answered `session`'s join with, while the room is in it.
    pub fn sdp(&self, session: Session) -> Option<String> {
        self.inner
            .sdp
            .lock()
            .expect("sdp lock")
            .get(&session)
            .cloned()
    }
}

/// A device id that stays the same across restarts for the same endpoint, when none is
/// configured.
fn generated_device_id(endpoint_id: &str) -> String {
    let digest = Sha256::digest(format!("roomsd rsc device {endpoint_id}").as_bytes());
    format!("roomsd-{}", hex::encode(&digest[..8]))
}

impl Inner {
    /// The contact check: a GET on the join path, with the token.
    async fn probe(&self) -> BackendResult<()> {
        let request = self
            .client
            .get(&self.join_url)
            .bearer_auth(&self.token)
            .header("x-endpoint-id", &self.endpoint_id)
            .header(header::ACCEPT, "application/json");
        let answer = http::exchange_behind_gateway(NAME, &self.health, request).await?;
        http::probed(NAME, &self.health, &answer)
    }

    fn join_body(&self, request: &JoinRequest) -> Value {
        // An empty serial number is left to RSC, which makes one up (the seed's default).
        let device_sn = (!self.device_sn.trim().is_empty()).then(|| self.device_sn.clone());
        json!({
            "sessionInfo": {
                "topic": "",
                "code": request.code,
                "password": request.password,
            },
            // RSC's flags say "muted", the room's say "on".
            "mediaOpts": {
                "isVideoMute": !request.media.camera_on,
                "isAudioMute": !request.media.mic_on,
            },
            "endpointInfo": {
                "nickname": self.room_name,
                "deviceSn": device_sn,
                "deviceId": self.device_id,
                "accessType": "SVC",
            },
            "returnEndpointSize": RETURN_ENDPOINT_SIZE,
        })
    }

    async fn join(&self, request: &JoinRequest) -> BackendResult<Value> {
        let request = self
            .client
            .post(&self.join_url)
            .bearer_auth(&self.token)
            .header("x-endpoint-id", &self.endpoint_id)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .body(self.join_body(request).to_string());
        let answer = http::exchange_behind_gateway(NAME, &self.health, request).await?;
        let json = answer.json();
        if !answer.status.is_success() {
            let code = i64::from(answer.status.as_u16());
            let refusal = ERRORS.refusal(code, &describe(answer.status, &json));
            return Err(answer.refused(&self.health, refusal));
        }
        let Some(json) = json.filter(Value::is_object) else {
            let what = "the join answer is not a JSON object";
            return Err(http::not_its_api(NAME, &self.health, what));
        };
        self.health.answered(answer.latency);
        Ok(json)
    }

    fn details(&self, request: &JoinRequest, reply: &Value) -> MeetingDetails {
        let text = |value: Option<&Value>| {
            value
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let endpoint = reply.get("endpoint");
        let field = |key: &str| endpoint.and_then(|e| e.get(key));
        let host = field("isMaster").and_then(Value::as_bool).unwrap_or(false);
        MeetingDetails {
            code: request.code.clone(),
            meeting_id: text(reply.get("meetingId")).unwrap_or_else(|| request.code.clone()),
            // The join answer carries no topic.
            title: format!("RSC meeting {}", request.code),
            password: request.password.clone(),
            meeting_type: 0,
            creator_name: String::new(),
            begin_time: 0,
            end_time: 0,
            url: String::new(),
            room_user_id: text(field("id")).unwrap_or_else(|| self.endpoint_id.clone()),
            room_role: if host {
                RoomRole::Host
            } else {
                RoomRole::Attendee
            },
            room_is_creator: false,
            participants: Vec::new(),
            waiting: Vec::new(),
            recording_allowed: false,
            recording: false,
        }
    }
}

/// The error an answer names: its `code` and text when the body has them, else the status.
fn describe(status: reqwest::StatusCode, json: &Option<Value>) -> String {
    let field = |key: &str| json.as_ref().and_then(|j| j.get(key));
    let text = ["message", "msg", "error", "detail"]
        .iter()
        .find_map(|key| {
            field(key)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        })
        .map_or_else(
            || status.canonical_reason().unwrap_or("error").to_owned(),
            str::to_owned,
        );
    match field("code").filter(|c| c.is_number() || c.is_string()) {
        Some(Value::String(code)) => format!("{code} {text}"),
        Some(code) => format!("{code} {text}"),
        None => text,
    }
}

impl Backend for Rsc {
    fn profile(&self) -> Profile {
        PROFILE
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let reply = inner.join(&request).await?;
            let details = inner.details(&request, &reply);
            match reply
                .get("sdp")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
            {
                Some(sdp) => {
                    tracing::info!(
                        meeting = %details.meeting_id,
                        sdp_bytes = sdp.len(),
                        "rsc: joined; its media description is kept for the media client"
                    );
                    tracing::debug!(sdp, "rsc: media description");
                    let mut kept = inner.sdp.lock().expect("sdp lock");
                    kept.insert(request.session, sdp.to_owned());
                }
                None => tracing::info!(
                    meeting = %details.meeting_id,
                    "rsc: joined; the answer carries no media description"
                ),
            }
            Ok(Joined::InMeeting(details))
        })
    }

    fn forget(&self, session: Session) {
        self.inner.sdp.lock().expect("sdp lock").remove(&session);
    }

    fn abandon(&self, session: Session) -> BoxFuture<'static, ()> {
        // No leave call is documented: nothing to undo on the service.
        self.forget(session);
        Box::pin(async {})
    }
}
