//! RSC (seed 000): joining a session is the one documented call.

use roomsd::backend::rsc::Rsc;
use roomsd::backend::rsc::RscConfig;
use roomsd::backend::{
    Backend, Health, HealthTracker, JoinRequest, Joined, Media, RoomRole, Session, StartRequest,
};
use roomsd::config::Config;
use roomsd::modules::meeting::StartKind;
use roomsd::modules::meeting_control::ControlAction;
use roomsd::wire::ErrorCode;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const JOIN: &str = "/rsc/api/v2/user/sessions/actions/join";

fn adapter(base: &str, device_sn: &str) -> (Rsc, watch::Receiver<Health>) {
    let mut config = Config::default();
    config.room.name = "Room 101".into();
    config.services.edit::<RscConfig>().base_url = base.into();
    config.services.edit::<RscConfig>().token = "rsc-token".into();
    config.services.edit::<RscConfig>().endpoint_id = "ep-7".into();
    config.services.edit::<RscConfig>().device_id = "dev-1".into();
    config.services.edit::<RscConfig>().device_sn = device_sn.into();
    let (tracker, health) = HealthTracker::new(Health::unknown());
    let (events, _) = mpsc::channel(16);
    (Rsc::new(&config, events, tracker), health)
}

fn join(code: &str, password: &str, media: Media) -> JoinRequest {
    JoinRequest {
        session: Session(3),
        code: code.into(),
        password: password.into(),
        media,
    }
}

const MIC_ONLY: Media = Media {
    mic_on: true,
    camera_on: false,
};

/// The join endpoint with the headers every request must carry.
fn join_endpoint() -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(JOIN))
        .and(header("authorization", "Bearer rsc-token"))
        .and(header("x-endpoint-id", "ep-7"))
        .and(header("content-type", "application/json"))
}

#[tokio::test]
async fn join_sends_the_session_media_and_endpoint_and_reads_the_host_flag() {
    let server = MockServer::start().await;
    join_endpoint()
        .and(body_json(json!({
            "sessionInfo": {"topic": "", "code": "123456789", "password": "1234"},
            "mediaOpts": {"isVideoMute": true, "isAudioMute": false},
            "endpointInfo": {
                "nickname": "Room 101",
                "deviceSn": "SN-42",
                "deviceId": "dev-1",
                "accessType": "SVC",
            },
            "returnEndpointSize": 20,
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "meetingId": "m-1001",
            "sdp": "v=0",
            "endpoint": {
                "nickname": "Room 101",
                "isMaster": true,
                "isAudioMute": false,
                "isVideoMute": true,
                "id": "ep-7",
                "userId": "u-9",
                "deviceId": "dev-1",
            },
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (rsc, health) = adapter(&server.uri(), "SN-42");

    let Joined::InMeeting(details) = rsc.join(join("123456789", "1234", MIC_ONLY)).await.unwrap()
    else {
        panic!("not in the meeting");
    };
    assert_eq!(details.code, "123456789");
    assert_eq!(details.meeting_id, "m-1001");
    assert_eq!(details.room_role, RoomRole::Host);
    assert_eq!(details.room_user_id, "ep-7");
    assert!(health.borrow().connected);
    assert_eq!(health.borrow().last_error, "");
    server.verify().await;
}

#[tokio::test]
async fn an_unconfigured_serial_number_is_left_to_rsc_and_a_non_master_attends() {
    let server = MockServer::start().await;
    join_endpoint()
        .and(body_json(json!({
            "sessionInfo": {"topic": "", "code": "555", "password": ""},
            "mediaOpts": {"isVideoMute": false, "isAudioMute": true},
            "endpointInfo": {
                "nickname": "Room 101",
                "deviceSn": null,
                "deviceId": "dev-1",
                "accessType": "SVC",
            },
            "returnEndpointSize": 20,
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "meetingId": null,
            "endpoint": {"isMaster": false, "id": "ep-7"},
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (rsc, _health) = adapter(&server.uri(), "");
    let media = Media {
        mic_on: false,
        camera_on: true,
    };
    let Joined::InMeeting(details) = rsc.join(join("555", "", media)).await.unwrap() else {
        panic!("not in the meeting");
    };
    assert_eq!(details.room_role, RoomRole::Attendee);
    assert_eq!(
        details.meeting_id, "555",
        "no meetingId: the code stands in"
    );
    server.verify().await;
}

#[tokio::test]
async fn errors_map_by_http_status_and_keep_rscs_code_and_text() {
    let server = MockServer::start().await;
    for (code, status, body) in [
        (
            "404",
            404,
            json!({"code": 40401, "message": "meeting does not exist"}),
        ),
        ("401", 401, json!({"msg": "token expired"})),
        ("403", 403, json!({})),
        ("500", 500, json!(null)),
    ] {
        join_endpoint()
            .and(wiremock::matchers::body_partial_json(
                json!({"sessionInfo": {"code": code}}),
            ))
            .respond_with(ResponseTemplate::new(status).set_body_json(body))
            .expect(1)
            .mount(&server)
            .await;
    }
    let (rsc, health) = adapter(&server.uri(), "SN-42");

    let refusal = rsc.join(join("404", "", MIC_ONLY)).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NO_SUCH_MEETING);
    assert_eq!(
        refusal.message,
        "rsc error 404: 40401 meeting does not exist"
    );
    assert!(health.borrow().connected, "it answered");
    assert_eq!(health.borrow().last_error, refusal.message);

    let refusal = rsc.join(join("401", "", MIC_ONLY)).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::AUTH_FAILED);
    assert_eq!(refusal.message, "rsc error 401: token expired");

    let refusal = rsc.join(join("403", "", MIC_ONLY)).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NO_PERMISSION_TO_JOIN);
    assert_eq!(refusal.message, "rsc error 403: Forbidden");

    let refusal = rsc.join(join("500", "", MIC_ONLY)).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::JOIN_FAILED);
    assert_eq!(refusal.message, "rsc error 500: Internal Server Error");
    server.verify().await;
}

#[tokio::test]
async fn an_unreachable_service_is_code_12_naming_rsc() {
    let (rsc, health) = adapter(&super::dead_url(), "SN-42");
    let refusal = rsc.join(join("123", "", MIC_ONLY)).await.unwrap_err();
    assert_eq!(refusal.code, ErrorCode::NETWORK);
    assert!(
        refusal.message.starts_with("rsc: cannot connect"),
        "{refusal}"
    );
    assert!(!health.borrow().connected);
    assert_eq!(health.borrow().last_error, refusal.message);
}

#[tokio::test]
async fn everything_but_join_is_unsupported_or_local_and_sends_nothing() {
    let server = MockServer::start().await;
    let (rsc, _health) = adapter(&server.uri(), "SN-42");
    let start = StartRequest {
        session: Session(1),
        kind: StartKind::Instant,
        media: MIC_ONLY,
    };
    let refusals = [
        rsc.start(start).await.unwrap_err(),
        rsc.dissolve(Session(1)).await.unwrap_err(),
        rsc.set_media(Session(1), MIC_ONLY).await.unwrap_err(),
        rsc.control(Session(1), ControlAction::RequestRecord)
            .await
            .unwrap_err(),
        rsc.control(
            Session(1),
            ControlAction::RemoveMember {
                user_id: "u-1".into(),
                allow_join: false,
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
                .starts_with("the meeting service (rsc) cannot "),
            "{refusal}"
        );
    }
    // No leave call: the room leaves on its own. No schedule: refused like the rest.
    rsc.leave(Session(1)).await.unwrap();
    let list = rsc.meeting_list().await.unwrap_err();
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

#[tokio::test]
async fn the_media_description_is_kept_with_the_meeting_and_a_device_id_is_always_sent() {
    let server = MockServer::start().await;
    join_endpoint()
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "meetingId": "m-1",
            "sdp": "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n",
            "endpoint": {"isMaster": false, "id": "ep-7"},
        })))
        .mount(&server)
        .await;
    let mut config = Config::default();
    config.services.edit::<RscConfig>().base_url = server.uri();
    config.services.edit::<RscConfig>().token = "rsc-token".into();
    config.services.edit::<RscConfig>().endpoint_id = "ep-7".into();
    let (tracker, _health) = HealthTracker::new(Health::unknown());
    let (events, _) = mpsc::channel(16);
    let rsc = Rsc::new(&config, events, tracker);
    rsc.join(join("123456789", "", MIC_ONLY)).await.unwrap();
    assert_eq!(
        rsc.sdp(Session(3)).as_deref(),
        Some("v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n")
    );
    rsc.leave(Session(3)).await.unwrap();
    assert_eq!(rsc.sdp(Session(3)), None, "forgotten with the meeting");

    // No device id configured: one made from the endpoint, the same every time.
    let sent: Vec<String> = posts(&server)
        .await
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
            body["endpointInfo"]["deviceId"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let (tracker, _health) = HealthTracker::new(Health::unknown());
    let (events, _) = mpsc::channel(16);
    Rsc::new(&config, events, tracker)
        .join(join("123456789", "", MIC_ONLY))
        .await
        .unwrap();
    let again = posts(&server).await;
    let body: serde_json::Value = serde_json::from_slice(&again[1].body).unwrap();
    assert!(sent[0].starts_with("roomsd-"), "{sent:?}");
    assert_eq!(body["endpointInfo"]["deviceId"], sent[0].as_str());
}
