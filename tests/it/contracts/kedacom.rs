//! The Kedacom adapter's requests, exactly: form bodies with `account_token` and `params=<JSON>`
//! (DELETE included), the token in GET query strings, the SSO cookie and `API-Level: 3` on
//! every call, and the login it repeats when the platform has forgotten the session.

use roomsd::backend::kedacom::KedacomConfig;
use std::collections::HashMap;
use std::time::Duration;

use roomsd::backend::kedacom::Kedacom;
use roomsd::backend::{Backend, Health, HealthTracker, JoinRequest, Joined, Media, Session};
use roomsd::config::Config;
use roomsd::wire::ErrorCode;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

mod document;

const ROOM: &str = "1234567";

fn config(server: &MockServer) -> Config {
    let mut config = Config::default();
    config.backend.kind = "kedacom".into();
    config.backend.timeout_ms.0 = 5000;
    let k = config.services.edit::<KedacomConfig>();
    k.base_url = server.uri();
    k.oauth_consumer_key = "key".into();
    k.oauth_consumer_secret = "secret".into();
    k.username = "room101".into();
    k.password = "pw".into();
    k.account = ROOM.into();
    k.heartbeat_secs.0 = 3600;
    k.poll_ms.0 = 50;
    config
}

fn adapter(
    config: &Config,
) -> (
    Kedacom,
    watch::Receiver<Health>,
    mpsc::Receiver<roomsd::backend::BackendEvent>,
) {
    let (tracker, health) = HealthTracker::new(Health::unknown());
    let (events, reports) = mpsc::channel(16);
    (Kedacom::new(config, events, tracker), health, reports)
}

/// A form-encoded body equal to these fields; `params` compared as JSON.
struct Form(Vec<(&'static str, Value)>);

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let is_form = request
            .headers
            .get("content-type")
            .is_some_and(|v| v.to_str().unwrap_or("") == "application/x-www-form-urlencoded");
        let got = form_fields(&request.body);
        is_form
            && got.len() == self.0.len()
            && self.0.iter().all(|(key, want)| {
                got.get(*key).is_some_and(|value| match want {
                    Value::String(s) => value == s,
                    json => serde_json::from_str::<Value>(value).ok().as_ref() == Some(json),
                })
            })
    }
}

fn form_fields(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

fn ok(body: Value) -> ResponseTemplate {
    let mut body = body;
    body["success"] = json!(1);
    ResponseTemplate::new(200).set_body_json(body)
}

fn refused(code: i64, description: &str) -> ResponseTemplate {
    ResponseTemplate::new(200)
        .set_body_json(json!({"success": 0, "error_code": code, "description": description}))
}

/// Token `tok-1` and cookie `sso-1`, fetched `tokens` times and logged in with `logins` times.
async fn expect_logins(server: &MockServer, tokens: u64, logins: u64) {
    Mock::given(method("POST"))
        .and(path("/api/v1/system/token"))
        .and(header("API-Level", "3"))
        .and(Form(vec![
            ("oauth_consumer_key", json!("key")),
            ("oauth_consumer_secret", json!("secret")),
        ]))
        .respond_with(ok(json!({"account_token": "tok-1"})))
        .expect(tokens)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/system/login"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            ("username", json!("room101")),
            ("password", json!("pw")),
        ]))
        .respond_with(
            ok(json!({"username": "room101"}))
                .insert_header("Set-Cookie", "SSO_COOKIE_KEY=sso-1; Path=/; HttpOnly"),
        )
        .expect(logins)
        .mount(server)
        .await;
}

async fn live_conference(server: &MockServer, online: i64) {
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000001"))
        .and(query_param("account_token", "tok-1"))
        .and(header("Cookie", "SSO_COOKIE_KEY=sso-1"))
        .respond_with(ok(json!({
            "name": "Design review", "conf_id": "7000001", "need_password": 0,
            "start_time": "2026-11-30T10:00:00+08:00", "end_time": "2026-11-30T11:00:00+08:00",
            "creator": {"name": "Alice", "account": "7000100"}
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000001/mts"))
        .and(query_param("account_token", "tok-1"))
        .respond_with(ok(json!({"mts": [
            {"mt_id": "1", "alias": "Alice", "e164": "7000100", "online": 1, "mute": 0},
            {"mt_id": "9", "alias": "Room 101", "e164": ROOM, "online": online, "mute": 0},
        ]})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000001/chairman"))
        .respond_with(ok(json!({"mt_id": "1"})))
        .mount(server)
        .await;
}

fn join_request() -> JoinRequest {
    JoinRequest {
        session: Session(1),
        code: "7000001".into(),
        password: String::new(),
        media: Media {
            mic_on: true,
            camera_on: true,
        },
    }
}

#[tokio::test]
async fn join_adds_dials_and_waits_for_the_terminal_then_leave_hangs_up() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    live_conference(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/mts"))
        .and(header("Cookie", "SSO_COOKIE_KEY=sso-1"))
        .and(header("API-Level", "3"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            (
                "params",
                json!({"mts": [{"account": ROOM, "account_type": 5, "bitrate": 2048, "protocol": 0, "forced_call": 0}]}),
            ),
        ]))
        .respond_with(ok(json!({"mts": [{"account": ROOM, "mt_id": "9"}]})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/vc/confs/7000001/online_mts"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            ("params", json!({"mts": [{"mt_id": "9"}]})),
        ]))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/vc/confs/7000001/online_mts"))
        .and(header("Cookie", "SSO_COOKIE_KEY=sso-1"))
        .and(Form(vec![
            ("account_token", json!("tok-1")),
            ("params", json!({"mts": [{"mt_id": "9"}]})),
        ]))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;

    let (kedacom, health, _reports) = adapter(&config(&server));
    let Joined::InMeeting(meeting) = kedacom.join(join_request()).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert_eq!(meeting.code, "7000001");
    assert_eq!(meeting.title, "Design review");
    assert_eq!(meeting.creator_name, "Alice");
    assert_eq!(meeting.begin_time, 1_796_004_000);
    assert_eq!(meeting.room_user_id, "9");
    assert_eq!(meeting.participants.len(), 1);
    assert!(meeting.participants[0].host, "Alice's terminal chairs");
    assert!(health.borrow().connected);
    kedacom.leave(Session(1)).await.unwrap();
}

#[tokio::test]
async fn an_expired_session_is_renewed_and_the_request_retried_once() {
    let server = MockServer::start().await;
    // One token; a login at start, then again with the same token after the platform says
    // "not logged in".
    expect_logins(&server, 1, 2).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/booked_confs"))
        .and(query_param("account_token", "tok-1"))
        .and(query_param("start", "0"))
        .and(query_param("count", "20"))
        .respond_with(refused(10102, "not logged in"))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/meetings"))
        .respond_with(ok(json!({"total": 0, "meetings": []})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/booked_confs"))
        .respond_with(ok(json!({"total": 1, "booked_confs": [{
            "name": "Weekly", "conf_id": "7000002", "meeting_id": "m2",
            "start_time": "2026-12-01T09:00:00+08:00", "end_time": "2026-12-01T10:00:00+08:00",
            "creator": {"name": "Bob"}
        }]})))
        .mount(&server)
        .await;
    let (kedacom, _health, _reports) = adapter(&config(&server));
    let list = kedacom.meeting_list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(
        (
            list[0].code.as_str(),
            list[0].title.as_str(),
            list[0].creator_name.as_str()
        ),
        ("7000002", "Weekly", "Bob")
    );
}

#[tokio::test]
async fn dissolve_ends_the_conference_with_a_form_body_on_delete() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    live_conference(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/mc/confs"))
        .and(FormParams(document::instant_params("Room 101的快速会议")))
        .respond_with(ok(json!({"conf_id": "7000001", "meeting_id": "m1"})))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/api/v1/mc/confs/7000001"))
        .and(header("Cookie", "SSO_COOKIE_KEY=sso-1"))
        .and(Form(vec![("account_token", json!("tok-1"))]))
        .respond_with(ok(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.room.name = "Room 101".into();
    let (kedacom, _health, _reports) = adapter(&config);
    let request = roomsd::backend::StartRequest {
        session: Session(1),
        kind: roomsd::modules::meeting::StartKind::Instant,
        media: Media {
            mic_on: true,
            camera_on: true,
        },
    };
    let meeting = kedacom.start(request).await.unwrap();
    assert_eq!(
        (meeting.code.as_str(), meeting.meeting_id.as_str()),
        ("7000001", "m1")
    );
    assert!(meeting.room_is_creator);
    kedacom.dissolve(Session(1)).await.unwrap();
}

/// The form's `params` field equals this JSON.
struct FormParams(Value);

impl Match for FormParams {
    fn matches(&self, request: &Request) -> bool {
        form_fields(&request.body)
            .get("params")
            .and_then(|p| serde_json::from_str::<Value>(p).ok())
            .is_some_and(|p| p == self.0)
    }
}

#[tokio::test]
async fn platform_errors_are_translated_and_name_the_platform_code() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/vc/confs/7000404"))
        .respond_with(refused(12103, "conference not found"))
        .mount(&server)
        .await;
    // Nor is it a booking that could be started early.
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/booked_confs/7000404"))
        .respond_with(refused(12103, "conference not found"))
        .expect(1)
        .mount(&server)
        .await;
    let (kedacom, health, _reports) = adapter(&config(&server));
    let mut request = join_request();
    request.code = "7000404".into();
    let refusal = kedacom.join(request).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NO_SUCH_MEETING);
    assert_eq!(refusal.message, "kedacom error 12103: conference not found");
    assert!(
        health.borrow().connected,
        "an answer, even a refusal, means it is there"
    );
    assert_eq!(health.borrow().last_error, refusal.message);
}

#[tokio::test]
async fn a_platform_that_is_not_there_is_error_12_and_disconnected() {
    let server = MockServer::start().await;
    let mut config = config(&server);
    config.services.edit::<KedacomConfig>().base_url = super::dead_url();
    let (kedacom, health, _reports) = adapter(&config);
    let refusal = kedacom.join(join_request()).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NETWORK);
    assert!(
        refusal.message.starts_with("kedacom: cannot connect"),
        "{}",
        refusal.message
    );
    assert!(!health.borrow().connected);
}

#[tokio::test]
async fn heartbeats_keep_the_token_and_the_login_alive() {
    let server = MockServer::start().await;
    expect_logins(&server, 1, 1).await;
    Mock::given(method("GET"))
        .and(path("/api/v1/mc/booked_confs"))
        .respond_with(ok(json!({"booked_confs": []})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/system/token/tok-1/heartbeat"))
        .and(header("Cookie", "SSO_COOKIE_KEY=sso-1"))
        .and(Form(vec![("account_token", json!("tok-1"))]))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/system/heartbeat"))
        .and(Form(vec![("account_token", json!("tok-1"))]))
        .respond_with(ok(json!({})))
        .mount(&server)
        .await;
    let mut config = config(&server);
    config.services.edit::<KedacomConfig>().heartbeat_secs.0 = 1;
    let (_kedacom, _health, _reports) = adapter(&config);
    let beats = async {
        loop {
            let requests = server.received_requests().await.unwrap_or_default();
            let user_beats = requests
                .iter()
                .filter(|r| r.url.path() == "/api/v1/system/heartbeat")
                .count();
            if user_beats >= 2 {
                return requests;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let requests = tokio::time::timeout(Duration::from_secs(10), beats)
        .await
        .expect("two rounds of heartbeats");
    let token_beats = requests
        .iter()
        .filter(|r| r.url.path() == "/api/v1/system/token/tok-1/heartbeat")
        .count();
    assert!(token_beats >= 2, "the token is kept alive too");
}
