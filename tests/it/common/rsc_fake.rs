//! A stateful fake of RSC's session join (seed 000), over real HTTP.
//!
//! It enforces the document: `Authorization: Bearer` with the room's token (401 otherwise) and
//! an `x-endpoint-id` header on every request; the join is a POST of JSON whose `endpointInfo`
//! has a non-empty string `deviceId` (the one field the seed does not mark nullable) and an
//! `accessType` of the documented values, `returnEndpointSize` within 0..=1000, and `mediaOpts`
//! booleans or null. The seed documents only the 201 answer; failures here are 400 (a broken
//! request), 403 (wrong password) and 404 (no such session), with `{code, message}` bodies,
//! which is what the adapter expects of RSC and is not verified. The join path answers other
//! methods 405.

use serde_json::{Value, json};

use super::fake_http::{FakeHttp, Reply, Request, reply};

pub const TOKEN: &str = "rsc-token";
pub const ENDPOINT: &str = "ep-7";
pub const JOIN: &str = "/rsc/api/v2/user/sessions/actions/join";

#[derive(Debug, Clone)]
pub struct RscSession {
    pub code: String,
    pub meeting_id: String,
    pub password: String,
    /// The endpoint that is the session's host.
    pub master: String,
}

#[derive(Default)]
pub struct State {
    pub sessions: Vec<RscSession>,
    /// The bodies of the joins it accepted.
    pub joins: Vec<Value>,
}

pub type FakeRsc = FakeHttp<State>;

pub async fn start() -> FakeRsc {
    FakeHttp::start(State::default(), handle).await
}

fn error(status: u16, code: &str, message: &str) -> Reply {
    reply(status, json!({"code": code, "message": message}))
}

fn nullable_bool(v: &Value) -> bool {
    v.is_null() || v.is_boolean()
}

fn handle(st: &mut State, req: &Request) -> Reply {
    if req.bearer() != TOKEN {
        return error(401, "UNAUTHORIZED", "token missing or expired");
    }
    if req.header("x-endpoint-id").is_empty() {
        return error(400, "BAD_REQUEST", "x-endpoint-id is required");
    }
    if req.path != JOIN {
        return error(404, "NOT_FOUND", "no such resource");
    }
    if req.method != "POST" {
        return reply(405, Value::Null);
    }
    let Some(body) = req.json() else {
        return error(400, "BAD_REQUEST", "the body must be JSON");
    };
    let endpoint = &body["endpointInfo"];
    let device_ok = endpoint["deviceId"].as_str().is_some_and(|s| !s.is_empty());
    if !device_ok {
        return error(400, "BAD_REQUEST", "endpointInfo.deviceId is required");
    }
    let access = endpoint["accessType"].as_str().unwrap_or("SVC");
    if !["SVC", "H.323", "SIP"].contains(&access) {
        return error(
            400,
            "BAD_REQUEST",
            "endpointInfo.accessType is not one of its values",
        );
    }
    let size = body
        .get("returnEndpointSize")
        .map_or(Some(20), Value::as_u64);
    if size.is_none_or(|n| n > 1000) {
        return error(400, "BAD_REQUEST", "returnEndpointSize must be 0 to 1000");
    }
    let media = &body["mediaOpts"];
    if !nullable_bool(&media["isVideoMute"]) || !nullable_bool(&media["isAudioMute"]) {
        return error(400, "BAD_REQUEST", "mediaOpts flags are booleans");
    }
    let code = body["sessionInfo"]["code"].as_str().unwrap_or_default();
    let Some(session) = st.sessions.iter().find(|s| s.code == code).cloned() else {
        return error(404, "SESSION_NOT_FOUND", "no session with this code");
    };
    let password = body["sessionInfo"]["password"].as_str().unwrap_or_default();
    if session.password != password {
        return error(403, "PASSWORD_ERROR", "wrong session password");
    }
    let endpoint_id = req.header("x-endpoint-id").to_owned();
    st.joins.push(body.clone());
    reply(
        201,
        json!({
            "meetingId": session.meeting_id,
            "sdp": format!("v=0\r\no=rsc 1 1 IN IP4 10.0.0.1\r\ns={}\r\n", session.meeting_id),
            "endpoint": {
                "nickname": endpoint["nickname"],
                "isMaster": session.master == endpoint_id,
                "isAudioMute": media["isAudioMute"],
                "isVideoMute": media["isVideoMute"],
                "id": endpoint_id,
                "userId": "u-room",
                "deviceId": endpoint["deviceId"],
            },
        }),
    )
}

pub trait Controls {
    fn add_session(&self, code: &str, password: &str, master: &str);
    fn joins(&self) -> Vec<Value>;
}

impl Controls for FakeRsc {
    fn add_session(&self, code: &str, password: &str, master: &str) {
        self.state().sessions.push(RscSession {
            code: code.into(),
            meeting_id: format!("m-{code}"),
            password: password.into(),
            master: master.into(),
        });
    }

    fn joins(&self) -> Vec<Value> {
        self.state().joins.clone()
    }
}
