//! A stateful fake of HiAR's session invite (seed 001), over real HTTP.
//!
//! It enforces the document: POST `/session/invite` with JSON `{collaborationID, sessionID,
//! userID, members[]}` where each member has a `userID`, a `confirmState` and a
//! `memberSessionState` of the documented values; answers `{code, message, data}` with HTTP
//! 200, code 0 for success and 1001 (`INVALID_PARAM`, the one published code) for a broken
//! request. A session that does not exist in the collaboration answers code 2004
//! `SESSION_NOT_FOUND`, a code the fake makes up (none is published). Every request carries
//! the four `X-HIAR-OPENAPI-*` headers; the seed publishes no signature algorithm, so the fake
//! checks the one the adapter uses by default (HiAR's access guide) and answers HTTP 401 when
//! it does not match. The invite path answers other methods 405.

use roomsd::backend::hiar::{SignInput, openapi_signature};
use serde_json::{Value, json};

use super::fake_http::{FakeHttp, Reply, Request, reply};

pub const APP_ID: &str = "hiar1d98ncv515f5e1";
pub const APP_SECRET: &str = "IkcyCWpRxjCztzvOjHdLKKfgTpzmCqQ1";
pub const COLLABORATION: &str = "collab-1";
pub const INVITE: &str = "/session/invite";

const CONFIRM: &[&str] = &["CONFIRM_ACCEPT", "CONFIRM_REJECT"];
const MEMBER_STATES: &[&str] = &[
    "MEMBER_CALLING",
    "MEMBER_TALKING",
    "MEMBER_LEFT",
    "MEMBER_TIMEOUT",
    "MEMBER_BUSY",
    "MEMBER_OFFLINE",
    "MEMBER_KICKOUT",
    "MEMBER_DECLINE",
];

#[derive(Default)]
pub struct State {
    /// Live sessions of the collaboration.
    pub sessions: Vec<String>,
    /// (sessionID, inviter, invited userIDs) of every accepted invite.
    pub invites: Vec<(String, String, Vec<String>)>,
}

pub type FakeHiar = FakeHttp<State>;

pub async fn start() -> FakeHiar {
    FakeHttp::start(State::default(), handle).await
}

fn answer(code: i64, reason: &str, message: &str) -> Reply {
    let data = if code == 0 {
        json!({"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}})
    } else {
        Value::Null
    };
    reply(
        200,
        json!({"code": code, "reason": reason, "message": message, "data": data}),
    )
}

fn signed(req: &Request) -> bool {
    let date = req.header("x-hiar-openapi-date");
    let nonce = req.header("x-hiar-openapi-nonce");
    if req.header("x-hiar-openapi-appid") != APP_ID || date.is_empty() || nonce.is_empty() {
        return false;
    }
    let expected = openapi_signature(&SignInput {
        method: &req.method,
        path: &req.path,
        query: "",
        app_id: APP_ID,
        app_secret: APP_SECRET,
        date,
        nonce,
        body: &req.body,
    });
    req.header("x-hiar-openapi-signature") == expected
}

fn handle(st: &mut State, req: &Request) -> Reply {
    if !signed(req) {
        return reply(
            401,
            json!({"code": 401, "reason": "UNAUTHORIZED", "message": "bad signature"}),
        );
    }
    if req.path != INVITE {
        return reply(404, Value::Null);
    }
    if req.method != "POST" {
        return reply(405, Value::Null);
    }
    let invalid = |what: &str| answer(1001, "INVALID_PARAM", what);
    let Some(body) = req.json() else {
        return invalid("the body must be JSON");
    };
    let text = |key: &str| body[key].as_str().filter(|s| !s.is_empty());
    let (Some(collaboration), Some(session), Some(inviter)) =
        (text("collaborationID"), text("sessionID"), text("userID"))
    else {
        return invalid("collaborationID, sessionID and userID are required");
    };
    let Some(members) = body["members"].as_array().filter(|m| !m.is_empty()) else {
        return invalid("members is required");
    };
    let mut invited = Vec::new();
    for m in members {
        let ok = m["userID"].as_str().is_some_and(|s| !s.is_empty())
            && m["confirmState"]
                .as_str()
                .is_some_and(|s| CONFIRM.contains(&s))
            && m["memberSessionState"]
                .as_str()
                .is_some_and(|s| MEMBER_STATES.contains(&s));
        if !ok {
            return invalid("a member needs userID, confirmState and memberSessionState");
        }
        invited.push(m["userID"].as_str().unwrap().to_owned());
    }
    if collaboration != COLLABORATION || !st.sessions.iter().any(|s| s == session) {
        return answer(
            2004,
            "SESSION_NOT_FOUND",
            "no such session in the collaboration",
        );
    }
    st.invites
        .push((session.to_owned(), inviter.to_owned(), invited));
    answer(0, "", "")
}

pub trait Controls {
    fn add_session(&self, id: &str);
    fn invites(&self) -> Vec<(String, String, Vec<String>)>;
}

impl Controls for FakeHiar {
    fn add_session(&self, id: &str) {
        self.state().sessions.push(id.into());
    }

    fn invites(&self) -> Vec<(String, String, Vec<String>)> {
        self.state().invites.clone()
    }
}
