//! HiAR (seed 001): a join is the room inviting its own user into a session; every request is
//! signed.

use roomsd::backend::hiar::HiarConfig;
use std::sync::Arc;

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use roomsd::backend::hiar::{Hiar, SignInput, Signer};
use roomsd::backend::{
    Backend, Health, HealthTracker, JoinRequest, Joined, Media, RoomRole, Session, StartRequest,
};
use roomsd::config::Config;
use roomsd::modules::meeting::StartKind;
use roomsd::modules::meeting_control::ControlAction;
use roomsd::wire::ErrorCode;
use serde_json::json;
use sha2::Sha256;
use tokio::sync::{mpsc, watch};
use wiremock::matchers::{body_json, header, header_exists, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "IkcyCWpRxjCztzvOjHdLKKfgTpzmCqQ1";

fn config(base: &str) -> Config {
    let mut config = Config::default();
    config.services.edit::<HiarConfig>().base_url = base.into();
    config.services.edit::<HiarConfig>().app_id = "hiar1d98ncv515f5e1".into();
    config.services.edit::<HiarConfig>().app_secret = SECRET.into();
    config.services.edit::<HiarConfig>().collaboration_id = "collab-1".into();
    config.services.edit::<HiarConfig>().user_id = "room-user".into();
    config
}

fn adapter(base: &str, signer: Option<Signer>) -> (Hiar, watch::Receiver<Health>) {
    let (tracker, health) = HealthTracker::new(Health::unknown());
    let (events, _) = mpsc::channel(16);
    let hiar = match signer {
        Some(signer) => Hiar::with_signer(&config(base), events, tracker, signer),
        None => Hiar::new(&config(base), events, tracker),
    };
    (hiar, health)
}

fn join(code: &str) -> JoinRequest {
    JoinRequest {
        session: Session(4),
        code: code.into(),
        password: String::new(),
        media: Media {
            mic_on: true,
            camera_on: true,
        },
    }
}

/// The seed's success answer.
fn ok() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "code": 0,
        "message": "",
        "data": {"@type": "type.googleapis.com/google.protobuf.Empty", "value": {}},
    }))
}

fn invite(invite_path: &str) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(invite_path))
        .and(header("content-type", "application/json"))
        .and(header("x-hiar-openapi-appid", "hiar1d98ncv515f5e1"))
        .and(header_exists("x-hiar-openapi-nonce"))
        .and(header_exists("x-hiar-openapi-date"))
        .and(header_exists("x-hiar-openapi-signature"))
}

fn header_of<'a>(request: &'a wiremock::Request, name: &str) -> &'a str {
    request.headers.get(name).unwrap().to_str().unwrap()
}

#[tokio::test]
async fn join_invites_the_rooms_user_into_the_session_with_a_verifiable_signature() {
    let server = MockServer::start().await;
    invite("/session/invite")
        .and(body_json(json!({
            "collaborationID": "collab-1",
            "sessionID": "20240601",
            "userID": "room-user",
            "members": [{
                "userID": "room-user",
                "confirmState": "CONFIRM_ACCEPT",
                "memberSessionState": "MEMBER_CALLING",
                "medias": [],
                "tools": [],
                "roles": [],
                "deviceType": 0,
                "seqID": 0,
                "extra": "",
            }],
        })))
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let (hiar, health) = adapter(&server.uri(), None);

    let Joined::InMeeting(details) = hiar.join(join("20240601")).await.unwrap() else {
        panic!("not in the session");
    };
    assert_eq!(details.code, "20240601");
    assert_eq!(details.room_user_id, "room-user");
    assert_eq!(details.room_role, RoomRole::Attendee);
    assert!(health.borrow().connected);
    assert_eq!(health.borrow().last_error, "");

    // Recompute the signature from what arrived: HMAC-SHA256 over the guide's signing string.
    let requests = posts(&server).await;
    let request = &requests[0];
    let (date, nonce) = (
        header_of(request, "x-hiar-openapi-date"),
        header_of(request, "x-hiar-openapi-nonce"),
    );
    let signing = format!("post\n/session/invite\n\nhiar1d98ncv515f5e1\n{date}\n{nonce}\n");
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(signing.as_bytes());
    let expected = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert_eq!(header_of(request, "x-hiar-openapi-signature"), expected);
    // RFC 3339 date and a UUID nonce.
    assert_eq!(date.len(), 25, "{date}");
    assert!(date.ends_with("+00:00") && &date[10..11] == "T", "{date}");
    assert_eq!(nonce.len(), 36, "{nonce}");
    assert_eq!(nonce.matches('-').count(), 4, "{nonce}");
    server.verify().await;
}

#[tokio::test]
async fn the_signature_covers_the_path_under_a_base_url_with_a_path() {
    let server = MockServer::start().await;
    invite("/leliaRTC/session/invite")
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let (hiar, _health) = adapter(&format!("{}/leliaRTC/", server.uri()), None);
    hiar.join(join("77")).await.unwrap();

    let requests = posts(&server).await;
    let request = &requests[0];
    let input = SignInput {
        method: "POST",
        path: "/leliaRTC/session/invite",
        query: "",
        app_id: "hiar1d98ncv515f5e1",
        app_secret: SECRET,
        date: header_of(request, "x-hiar-openapi-date"),
        nonce: header_of(request, "x-hiar-openapi-nonce"),
        body: &request.body,
    };
    assert_eq!(
        header_of(request, "x-hiar-openapi-signature"),
        roomsd::backend::hiar::openapi_signature(&input)
    );
    server.verify().await;
}

#[tokio::test]
async fn a_custom_signer_replaces_the_default() {
    let server = MockServer::start().await;
    invite("/session/invite")
        .respond_with(ok())
        .expect(1)
        .mount(&server)
        .await;
    let signer: Signer = Arc::new(|input: &SignInput<'_>| {
        format!(
            "custom {} {} {} bytes",
            input.method,
            input.path,
            input.body.len()
        )
    });
    let (hiar, _health) = adapter(&server.uri(), Some(signer));
    hiar.join(join("77")).await.unwrap();

    let requests = posts(&server).await;
    let request = &requests[0];
    assert_eq!(
        header_of(request, "x-hiar-openapi-signature"),
        format!("custom POST /session/invite {} bytes", request.body.len())
    );
    server.verify().await;
}

#[tokio::test]
async fn hiar_codes_map_through_the_table_and_keep_its_reason_and_message() {
    let server = MockServer::start().await;
    for (session, status, body) in [
        (
            "1001",
            200,
            json!({"code": 1001, "reason": "INVALID_PARAM", "message": "参数错误"}),
        ),
        (
            "5002",
            200,
            json!({"code": 5002, "message": "session is over", "data": null}),
        ),
        ("401", 401, json!(null)),
    ] {
        invite("/session/invite")
            .and(wiremock::matchers::body_partial_json(
                json!({"sessionID": session}),
            ))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let (hiar, health) = adapter(&server.uri(), None);

    let refusal = hiar.join(join("1001")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::PARAMETER);
    assert_eq!(refusal.message, "hiar error 1001: INVALID_PARAM 参数错误");
    assert!(health.borrow().connected, "it answered");
    assert_eq!(health.borrow().last_error, refusal.message);

    let refusal = hiar.join(join("5002")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::JOIN_FAILED);
    assert_eq!(refusal.message, "hiar error 5002: session is over");

    let refusal = hiar.join(join("401")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::AUTH_FAILED);
    assert_eq!(refusal.message, "hiar HTTP error 401: Unauthorized");
    server.verify().await;
}

#[tokio::test]
async fn an_unreachable_service_is_code_12_naming_hiar() {
    let (hiar, health) = adapter(&super::dead_url(), None);
    let refusal = hiar.join(join("77")).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NETWORK);
    assert!(
        refusal.message.starts_with("hiar: cannot connect"),
        "{refusal}"
    );
    assert!(!health.borrow().connected);
    assert_eq!(health.borrow().last_error, refusal.message);
}

#[tokio::test]
async fn everything_but_join_is_unsupported_or_local_and_sends_nothing() {
    let server = MockServer::start().await;
    let (hiar, _health) = adapter(&server.uri(), None);
    let media = Media {
        mic_on: false,
        camera_on: true,
    };
    let start = StartRequest {
        session: Session(1),
        kind: StartKind::Instant,
        media,
    };
    let refusals = [
        hiar.start(start).await.unwrap_err(),
        hiar.dissolve(Session(1)).await.unwrap_err(),
        hiar.set_media(Session(1), media).await.unwrap_err(),
        hiar.control(
            Session(1),
            ControlAction::MuteMember {
                user_id: "u-2".into(),
            },
        )
        .await
        .unwrap_err(),
    ];
    for refusal in refusals {
        assert_eq!(refusal.code, ErrorCode::UNSUPPORTED);
        assert!(
            refusal
                .message
                .starts_with("the meeting service (hiar) cannot "),
            "{refusal}"
        );
    }
    // No leave call: the room leaves on its own. No schedule: refused like the rest.
    hiar.leave(Session(1)).await.unwrap();
    let list = hiar.meeting_list().await.unwrap_err();
    assert_eq!(list.code, ErrorCode::UNSUPPORTED);
    assert!(
        posts(&server).await.is_empty(),
        "only the contact check's GETs"
    );
}

/// What the adapter POSTed: the requests of the meeting operations, without the contact
/// check's GETs.
async fn posts(server: &MockServer) -> Vec<wiremock::Request> {
    let requests = server.received_requests().await.unwrap();
    requests
        .into_iter()
        .filter(|r| r.method == wiremock::http::Method::POST)
        .collect()
}
