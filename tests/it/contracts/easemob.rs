//! Easemob (seed 003): the app token, conferences, and errors by HTTP status.

use roomsd::backend::easemob::Easemob;
use roomsd::backend::easemob::EasemobConfig;
use roomsd::backend::{
    Backend, Health, HealthTracker, JoinRequest, Joined, Media, RoomRole, Session, StartRequest,
};
use roomsd::config::Config;
use roomsd::modules::meeting::StartKind;
use roomsd::modules::meeting_control::ControlAction;
use roomsd::wire::ErrorCode;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TOKEN: &str = "/org1/app1/token";
const CONFERENCES: &str = "/org1/app1/conferences";
const CONF_ID: &str = "IM3SKW51SKH4TB80LV45000C7";
/// Easemob's app tokens live 60 days.
const LONG_LIFE: u64 = 5_184_000;

fn adapter(base: &str) -> (Easemob, watch::Receiver<Health>) {
    let mut config = Config::default();
    config.room.name = "Room 101".into();
    config.services.edit::<EasemobConfig>().base_url = format!("{base}/");
    config.services.edit::<EasemobConfig>().org = "org1".into();
    config.services.edit::<EasemobConfig>().app = "app1".into();
    config.services.edit::<EasemobConfig>().client_id = "YXA6client".into();
    config.services.edit::<EasemobConfig>().client_secret = "YXA6secret".into();
    config.services.edit::<EasemobConfig>().username = "room101".into();
    let (tracker, health) = HealthTracker::new(Health::unknown());
    let (events, _) = mpsc::channel(16);
    (Easemob::new(&config, events, tracker), health)
}

/// The token endpoint, answering `token` that lives `expires_in` seconds.
fn token_mock(token: &str, expires_in: u64) -> Mock {
    Mock::given(method("POST"))
        .and(path(TOKEN))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "grant_type": "client_credentials",
            "client_id": "YXA6client",
            "client_secret": "YXA6secret",
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token,
            "expires_in": expires_in,
            "application": "8be024f0-e978-11e8-b697-5d598d5f8402",
        })))
}

/// The seed's answer to GET and POST of a conference.
fn conference(password: &str) -> Value {
    json!({
        "error": 0,
        "id": CONF_ID,
        "type": 10,
        "mixed": false,
        "password": password,
        "audienceLimit": 600,
        "talkerLimit": 6,
        "expireDate": "2019-06-14 15:41:58",
        "allowAudienceTalk": true,
    })
}

fn get_conference(token: &str) -> wiremock::MockBuilder {
    Mock::given(method("GET"))
        .and(path(format!("{CONFERENCES}/{CONF_ID}")))
        .and(header("authorization", format!("Bearer {token}").as_str()))
}

fn join(code: &str, password: &str) -> JoinRequest {
    JoinRequest {
        session: Session(2),
        code: code.into(),
        password: password.into(),
        media: Media {
            mic_on: true,
            camera_on: true,
        },
    }
}

fn start(kind: StartKind) -> StartRequest {
    StartRequest {
        session: Session(1),
        kind,
        media: Media {
            mic_on: true,
            camera_on: true,
        },
    }
}

async fn token_requests(server: &MockServer) -> usize {
    let requests = server.received_requests().await.unwrap();
    requests.iter().filter(|r| r.url.path() == TOKEN).count()
}

#[tokio::test]
async fn start_creates_a_conference_with_the_room_as_its_creator() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CONFERENCES))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "confrType": 10,
            "password": "",
            "confrDelayMillis": 150_000,
            "memDefaultRole": 3,
            "allowAudienceTalk": true,
            "creator": "room101",
            "rec": false,
            "recMerge": false,
        })))
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("0.378")))
        .expect(1)
        .mount(&server)
        .await;
    let (easemob, health) = adapter(&server.uri());

    let details = easemob.start(start(StartKind::Instant)).await.unwrap();
    assert_eq!(details.code, CONF_ID);
    assert_eq!(details.meeting_id, CONF_ID);
    assert_eq!(details.password, "0.378");
    assert_eq!(details.title, format!("Easemob conference {CONF_ID}"));
    assert_eq!(details.room_role, RoomRole::Host);
    assert!(details.room_is_creator);
    assert_eq!(details.creator_name, "room101");
    assert!(health.borrow().connected);
    assert_eq!(health.borrow().last_error, "");
    server.verify().await;
}

#[tokio::test]
async fn the_token_is_fetched_once_and_reused() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE)
        .expect(1)
        .mount(&server)
        .await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
        .expect(2)
        .mount(&server)
        .await;
    let (easemob, _health) = adapter(&server.uri());
    easemob.join(join(CONF_ID, "")).await.unwrap();
    easemob.join(join(CONF_ID, "")).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_token_at_its_expiry_is_replaced_before_it_is_used() {
    let server = MockServer::start().await;
    // A lifetime of 1 s: replaced a tenth of it before it ends.
    token_mock("tok-1", 1).expect(2).mount(&server).await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
        .expect(2)
        .mount(&server)
        .await;
    let (easemob, _health) = adapter(&server.uri());
    easemob.join(join(CONF_ID, "")).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    easemob.join(join(CONF_ID, "")).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn a_token_without_a_lifetime_is_kept_not_fetched_per_request() {
    for expires_in in [json!(null), json!(0)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(TOKEN))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "access_token": "tok-1",
                "expires_in": expires_in,
            })))
            .expect(1)
            .mount(&server)
            .await;
        get_conference("tok-1")
            .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
            .expect(3)
            .mount(&server)
            .await;
        let (easemob, _health) = adapter(&server.uri());
        for _ in 0..3 {
            easemob.join(join(CONF_ID, "")).await.unwrap();
        }
        server.verify().await;
    }
}

#[tokio::test]
async fn an_error_in_a_2xx_body_is_a_failure_naming_it() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE).mount(&server).await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "error": "service_resource_not_found",
            "error_description": "conference is closing",
        })))
        .mount(&server)
        .await;
    let (easemob, health) = adapter(&server.uri());
    let refusal = easemob.join(join(CONF_ID, "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::FAIL);
    assert_eq!(
        refusal.message,
        "easemob error service_resource_not_found: conference is closing"
    );
    assert!(health.borrow().connected, "it answered");
}

#[tokio::test]
async fn a_401_refreshes_the_token_once_and_retries_once() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE)
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    token_mock("tok-2", LONG_LIFE)
        .expect(1)
        .mount(&server)
        .await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized",
            "error_description": "Unable to authenticate due to expired access token",
        })))
        .expect(1)
        .mount(&server)
        .await;
    get_conference("tok-2")
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
        .expect(2)
        .mount(&server)
        .await;
    let (easemob, _health) = adapter(&server.uri());
    assert!(matches!(
        easemob.join(join(CONF_ID, "")).await.unwrap(),
        Joined::InMeeting(_)
    ));
    // The refreshed token is kept.
    easemob.join(join(CONF_ID, "")).await.unwrap();
    assert_eq!(token_requests(&server).await, 2);
    server.verify().await;
}

#[tokio::test]
async fn a_second_401_is_authentication_failed_without_fetching_again() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE)
        .expect(2)
        .mount(&server)
        .await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "error": "unauthorized",
            "error_description": "Unable to authenticate (OAuth)",
        })))
        .expect(2)
        .mount(&server)
        .await;
    let (easemob, health) = adapter(&server.uri());
    let refusal = easemob.join(join(CONF_ID, "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::AUTH_FAILED);
    assert_eq!(
        refusal.message,
        "easemob error 401: Unable to authenticate (OAuth)"
    );
    assert!(health.borrow().connected, "it answered");
    assert_eq!(health.borrow().last_error, refusal.message);
    server.verify().await;
}

#[tokio::test]
async fn join_checks_the_conference_and_its_password() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE).mount(&server).await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("1234")))
        .expect(3)
        .mount(&server)
        .await;
    let (easemob, health) = adapter(&server.uri());

    let refusal = easemob.join(join(CONF_ID, "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::PASSWORD_REQUIRED);
    assert!(refusal.message.contains("needs a password"), "{refusal}");
    let refusal = easemob.join(join(CONF_ID, "9999")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::WRONG_PASSWORD);
    assert!(refusal.message.contains("wrong password"), "{refusal}");

    let Joined::InMeeting(details) = easemob.join(join(CONF_ID, "1234")).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert_eq!(details.code, CONF_ID);
    assert_eq!(details.title, format!("Easemob conference {CONF_ID}"));
    assert_eq!(details.room_role, RoomRole::Attendee);
    assert!(!details.room_is_creator);
    assert!(health.borrow().connected);
    server.verify().await;
}

#[tokio::test]
async fn service_errors_map_by_http_status_and_name_easemobs_text() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE).mount(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{CONFERENCES}/404404")))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "error": "resource_not_found",
            "error_description": "conference 404404 does not exist",
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{CONFERENCES}/403403")))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{CONFERENCES}/500500")))
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .expect(1)
        .mount(&server)
        .await;
    let (easemob, health) = adapter(&server.uri());

    let refusal = easemob.join(join("404404", "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NO_SUCH_MEETING);
    assert_eq!(
        refusal.message,
        "easemob error 404: conference 404404 does not exist"
    );
    assert!(health.borrow().connected);
    assert_eq!(health.borrow().last_error, refusal.message);

    let refusal = easemob.join(join("403403", "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NO_ENTERPRISE_PERMISSION);
    assert_eq!(refusal.message, "easemob error 403: Forbidden");

    let refusal = easemob.join(join("500500", "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::FAIL);
    assert_eq!(refusal.message, "easemob error 500: Internal Server Error");
    server.verify().await;
}

#[tokio::test]
async fn dissolve_and_remove_member_act_on_the_rooms_conference() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE)
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(CONFERENCES))
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{CONFERENCES}/{CONF_ID}/alice")))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{CONFERENCES}/{CONF_ID}")))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    let (easemob, _health) = adapter(&server.uri());
    let session = start(StartKind::Instant).session;
    easemob.start(start(StartKind::Instant)).await.unwrap();

    let remove = ControlAction::RemoveMember {
        user_id: "alice".into(),
        allow_join: true,
    };
    easemob.control(session, remove).await.unwrap();
    easemob.dissolve(session).await.unwrap();
    let refusal = easemob.dissolve(session).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NOT_IN_MEETING, "{refusal}");
    server.verify().await;
}

#[tokio::test]
async fn dissolving_a_conference_easemob_already_ended_succeeds() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE).mount(&server).await;
    get_conference("tok-1")
        .respond_with(ResponseTemplate::new(200).set_body_json(conference("")))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{CONFERENCES}/{CONF_ID}")))
        .respond_with(ResponseTemplate::new(404))
        .expect(1)
        .mount(&server)
        .await;
    let (easemob, _health) = adapter(&server.uri());
    let request = join(CONF_ID, "");
    let session = request.session;
    easemob.join(request).await.unwrap();
    easemob.dissolve(session).await.unwrap();
    server.verify().await;
}

#[tokio::test]
async fn what_easemobs_rest_api_cannot_do_is_unsupported_and_sends_nothing() {
    let server = MockServer::start().await;
    token_mock("tok-1", LONG_LIFE).mount(&server).await;
    let (easemob, _health) = adapter(&server.uri());
    let named = |refusal: &roomsd::wire::Refusal| {
        assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
        assert!(
            refusal
                .message
                .starts_with("the meeting service (easemob) cannot "),
            "{refusal}"
        );
    };
    for action in [
        ControlAction::MuteAll {
            allow_unmute_by_self: true,
        },
        ControlAction::MuteMember {
            user_id: "alice".into(),
        },
        ControlAction::StopVideo {
            user_id: "alice".into(),
        },
        ControlAction::RequestRecord,
        ControlAction::StartRecord {
            mobile_address: String::new(),
        },
    ] {
        named(&easemob.control(Session(1), action).await.unwrap_err());
    }
    // The media and leaving are the client SDK's; there is no schedule.
    let media = Media {
        mic_on: false,
        camera_on: false,
    };
    named(&easemob.set_media(Session(1), media).await.unwrap_err());
    named(&easemob.meeting_list().await.unwrap_err());
    easemob.leave(Session(1)).await.unwrap();
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests.iter().all(|r| r.url.path() == TOKEN),
        "only the first contact's token: {requests:?}"
    );
}

#[tokio::test]
async fn an_unreachable_service_is_code_12_naming_easemob() {
    let (easemob, health) = adapter(&super::dead_url());
    let refusal = easemob.join(join(CONF_ID, "")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NETWORK);
    assert!(
        refusal.message.starts_with("easemob: cannot connect"),
        "{refusal}"
    );
    assert!(!health.borrow().connected);
    assert_eq!(health.borrow().last_error, refusal.message);
}
