//! RSC sessions (seed 000, BACKENDS.md "RSC sessions").
//!
//! RSC documents one operation: joining a session (POST
//! `/rsc/api/v2/user/sessions/actions/join`) as the configured endpoint, with the microphone and
//! camera state given at join (`mediaOpts`). The answer says whether the endpoint is the host
//! (`endpoint.isMaster`). So the adapter joins, and:
//! - leaving is local: no leave call is documented, and a failing leave would keep the room in
//!   the meeting for ever;
//! - the schedule is empty: none is documented;
//! - starting, dissolving, member control and media changes after the join are answered with
//!   code 9, naming RSC.
//!
//! Errors: the seed documents only the 201 answer, so failures are mapped by HTTP status, and
//! the message carries whatever code and text the body has (`code`, `message` / `msg` /
//! `error`).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::http::{self, ErrorTable};
use super::{
    Backend, BackendEvent, BackendResult, Capability, CodeRule, HealthTracker, JoinRequest, Joined,
    MeetingDetails, Profile, RoomRole,
};
use crate::config::Config;
use crate::wire::ErrorCode;

const SERVICE: &str = "rsc";

/// What rsc lets the room do (`backend::Profile`).
pub const PROFILE: Profile = Profile {
    service: SERVICE,
    capabilities: &[Capability::Join],
    code_rule: CodeRule::Identifier,
};

const JOIN_PATH: &str = "/rsc/api/v2/user/sessions/actions/join";

/// How many endpoints the join answer lists: the seed's default, as RSC's own clients ask.
const RETURN_ENDPOINT_SIZE: u32 = 20;

/// Keyed by HTTP status; join is the only call, so an unknown failure is "join failed".
const ERRORS: ErrorTable = ErrorTable {
    service: SERVICE,
    codes: &[
        (400, ErrorCode::PARAMETER),
        // The Bearer token.
        (401, ErrorCode::AUTH_FAILED),
        (403, ErrorCode::NO_PERMISSION_TO_JOIN),
        (404, ErrorCode::NO_SUCH_MEETING),
    ],
    otherwise: ErrorCode::JOIN_FAILED,
};

/// RSC sessions as a [`Backend`].
#[derive(Clone)]
pub struct Rsc {
    inner: Arc<Inner>,
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
}

impl Rsc {
    /// RSC's API documents no reports, so `_events` stays unused.
    pub fn new(
        config: &Config,
        _events: mpsc::Sender<BackendEvent>,
        health: HealthTracker,
    ) -> Self {
        let r = &config.rsc;
        Self {
            inner: Arc::new(Inner {
                client: http::client(Duration::from_millis(config.backend.timeout_ms.0)),
                join_url: format!("{}{JOIN_PATH}", http::base(&r.base_url)),
                token: r.token.trim().to_owned(),
                endpoint_id: r.endpoint_id.trim().to_owned(),
                device_id: r.device_id.clone(),
                device_sn: r.device_sn.clone(),
                room_name: config.room.name.clone(),
                health,
            }),
        }
    }
}

impl Inner {
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
        let answer = http::exchange(SERVICE, &self.health, request).await?;
        let json = answer.json();
        if !answer.status.is_success() {
            let code = i64::from(answer.status.as_u16());
            let refusal = ERRORS.refusal(code, &describe(answer.status, &json));
            return Err(answer.refused(&self.health, refusal));
        }
        let Some(json) = json.filter(Value::is_object) else {
            let what = "the join answer is not a JSON object";
            return Err(http::not_its_api(SERVICE, &self.health, what));
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
    fn kind(&self) -> &'static str {
        SERVICE
    }

    fn join(&self, request: JoinRequest) -> BoxFuture<'static, BackendResult<Joined>> {
        let inner = self.inner.clone();
        Box::pin(async move {
            let reply = inner.join(&request).await?;
            Ok(Joined::InMeeting(inner.details(&request, &reply)))
        })
    }
}
