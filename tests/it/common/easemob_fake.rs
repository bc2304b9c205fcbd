//! A stateful fake of Easemob's conference REST API (seed 003), over real HTTP.
//!
//! It enforces the document: the token comes from POST `/{org}/{app}/token` with the client
//! credentials as JSON; every other request needs `Authorization: Bearer` with a token it gave
//! out (401 otherwise, with Easemob's `error` / `error_description`); bodies are JSON; a
//! conference is created with a `confrType` of 10, 11 or 12; a conference or app that does not
//! exist is 404. Answers carry `error: 0` as the seed's examples do.
//!
//! Members: the seed documents no member list in the conference answer. The fake answers one
//! as `members: [{memName: "{org}#{app}_{user}", role}]` (role 7 the administrator, 3 a
//! talker), the form the adapter reads; this is the assumption the adapter documents.

use serde_json::{Value, json};

use super::fake_http::{FakeHttp, Request, reply};

pub const ORG: &str = "org1";
pub const APP: &str = "app1";
pub const CLIENT_ID: &str = "YXA6client";
pub const CLIENT_SECRET: &str = "YXA6secret";

#[derive(Debug, Clone)]
pub struct Conference {
    pub id: String,
    pub password: String,
    pub creator: String,
    /// (user name, role)
    pub members: Vec<(String, i64)>,
}

#[derive(Default)]
pub struct State {
    tokens: Vec<String>,
    /// The `expires_in` of tokens given out; `None`: the field is left out.
    pub expires_in: Option<u64>,
    pub conferences: Vec<Conference>,
    next: u32,
}

pub type FakeEasemob = FakeHttp<State>;

pub async fn start() -> FakeEasemob {
    let state = State {
        expires_in: Some(5_184_000),
        ..State::default()
    };
    FakeHttp::start(state, handle).await
}

fn unauthorized() -> super::fake_http::Reply {
    reply(
        401,
        json!({"error": "unauthorized", "error_description": "Unable to authenticate due to expired access token"}),
    )
}

fn not_found(what: &str) -> super::fake_http::Reply {
    reply(
        404,
        json!({"error": "service_resource_not_found", "error_description": what}),
    )
}

fn bad_request(what: &str) -> super::fake_http::Reply {
    reply(
        400,
        json!({"error": "illegal_argument", "error_description": what}),
    )
}

fn conference_json(c: &Conference) -> Value {
    json!({
        "error": 0,
        "id": c.id,
        "type": 10,
        "mixed": false,
        "password": c.password,
        "audienceLimit": 600,
        "talkerLimit": 6,
        "expireDate": "2030-06-14 15:41:58",
        "allowAudienceTalk": true,
        "members": c.members.iter().map(|(name, role)| json!({
            "memName": format!("{ORG}#{APP}_{name}"),
            "role": role,
        })).collect::<Vec<_>>(),
    })
}

fn handle(st: &mut State, req: &Request) -> super::fake_http::Reply {
    let prefix = format!("/{ORG}/{APP}/");
    let Some(rest) = req.path.strip_prefix(&prefix) else {
        return not_found("no such org or app");
    };
    let segments: Vec<&str> = rest.split('/').collect();
    if segments == ["token"] {
        if req.method != "POST" {
            return reply(405, Value::Null);
        }
        let Some(body) = req.json() else {
            return bad_request("the body must be JSON");
        };
        let ok = body["grant_type"] == "client_credentials"
            && body["client_id"] == CLIENT_ID
            && body["client_secret"] == CLIENT_SECRET;
        if !ok {
            return reply(
                401,
                json!({"error": "invalid_grant", "error_description": "client credentials are wrong"}),
            );
        }
        st.next += 1;
        let token = format!("YWMt-token-{}", st.next);
        st.tokens.push(token.clone());
        let mut answer = json!({"access_token": token, "application": "8be024f0"});
        if let Some(expires_in) = st.expires_in {
            answer["expires_in"] = json!(expires_in);
        }
        return reply(200, answer);
    }
    if !st.tokens.iter().any(|t| t == req.bearer()) {
        return unauthorized();
    }
    match (req.method.as_str(), segments.as_slice()) {
        ("POST", ["conferences"]) => {
            let Some(body) = req.json() else {
                return bad_request("the body must be JSON");
            };
            if !matches!(body["confrType"].as_i64(), Some(10..=12)) {
                return bad_request("confrType must be 10, 11 or 12");
            }
            st.next += 1;
            let id = format!("TURN{:05}AIYAVxASW7PL1Q00C", st.next);
            let password = match body["password"].as_str() {
                Some(p) if !p.is_empty() => p.to_owned(),
                _ => format!("0.{}", 37_898_245 + st.next),
            };
            let conference = Conference {
                id,
                password,
                creator: body["creator"].as_str().unwrap_or_default().to_owned(),
                members: Vec::new(),
            };
            let answer = conference_json(&conference);
            st.conferences.push(conference);
            reply(200, answer)
        }
        ("GET", ["conferences", id]) => match st.conferences.iter().find(|c| c.id == *id) {
            Some(c) => reply(200, conference_json(c)),
            None => not_found("conference not found"),
        },
        ("DELETE", ["conferences", id]) => {
            let before = st.conferences.len();
            st.conferences.retain(|c| c.id != *id);
            if st.conferences.len() == before {
                return not_found("conference not found");
            }
            reply(200, json!({"error": 0}))
        }
        ("DELETE", ["conferences", id, user]) => {
            let Some(c) = st.conferences.iter_mut().find(|c| c.id == *id) else {
                return not_found("conference not found");
            };
            c.members.retain(|(name, _)| name != user);
            reply(200, json!({"error": 0}))
        }
        _ => not_found("no such resource"),
    }
}

/// Test controls.
pub trait Controls {
    fn add_conference(&self, id: &str, password: &str, members: &[(&str, i64)]);
    fn join_member(&self, id: &str, name: &str);
    fn end_conference(&self, id: &str);
    fn conference(&self, id: &str) -> Option<Conference>;
    fn tokens_given(&self) -> usize;
}

impl Controls for FakeEasemob {
    fn add_conference(&self, id: &str, password: &str, members: &[(&str, i64)]) {
        self.state().conferences.push(Conference {
            id: id.into(),
            password: password.into(),
            creator: String::new(),
            members: members.iter().map(|(n, r)| ((*n).into(), *r)).collect(),
        });
    }

    fn join_member(&self, id: &str, name: &str) {
        let mut st = self.state();
        if let Some(c) = st.conferences.iter_mut().find(|c| c.id == id) {
            c.members.push((name.into(), 3));
        }
    }

    /// The conference ends on the service (its administrator dissolved it).
    fn end_conference(&self, id: &str) {
        self.state().conferences.retain(|c| c.id != id);
    }

    fn conference(&self, id: &str) -> Option<Conference> {
        self.state()
            .conferences
            .iter()
            .find(|c| c.id == id)
            .cloned()
    }

    fn tokens_given(&self) -> usize {
        self.state().tokens.len()
    }
}
